#!/usr/bin/env bats
# The threat model's local user (docs/DESIGN.md, "Threat model"): the
# application's account, nobody here (by setpriv), owns the application's
# directory and database and writes BackupLog; the job runs as root.
# Each test plays one attack that once worked: a link planted in a path
# root opens (the database, the backup directory, the metrics file's
# directory, the configuration), control characters for root's
# terminal, a configuration or key file that user may change.  Each must
# be refused, named, with nothing changed.

# shellcheck disable=SC2154 # bats' run --separate-stderr sets $stderr
bats_require_minimum_version 1.5.0
load helpers

setup() {
	vb_setup
	export RCLONE_CONFIG=$T/rclone.conf	# none: nothing of the machine's
	chmod 755 "$T"
	# The application's directory and database, its account's.
	mkdir -m 755 app
	mkdb app/app.db wal 200
	chown -R nobody app
	mkdir -m 700 b
	# What root keeps from that account.
	mkdir -m 700 root-only
	sqlite3 root-only/secret.db "CREATE TABLE secret(x);
	    INSERT INTO secret VALUES ('root only')"
	chmod 600 root-only/secret.db
}

# conf [MORE LINES]: the nightly of app/app.db into b, no drill.
conf() {
	{
		printf 'DB_PATH=%s\nBACKUP_DIR=%s\nDRILL_EVERY=0\n' \
		    "$T/app/app.db" "$T/b"
		printf '%s\n' "$@"
	} >"$VB_CONF"
}

# as_attacker CMD...: CMD as the application's account.
as_attacker() {
	setpriv --reuid=nobody --regid=nogroup --clear-groups "$@"
}

# archives DIR: how many backup archives DIR holds.
archives() {
	find "$1" -maxdepth 1 -name 'backup-*.tar*' | wc -l
}

# no_secret DIR: no file under DIR holds the root-only database's row.
no_secret() {
	! grep -rqa 'root only' "$1"
}

# no_controls TEXT: TEXT holds nothing a terminal acts on but TAB, CR and
# newline (ESC, BEL, DEL, a C1 control in UTF-8).
no_controls() {
	! printf '%s' "$1" |
	    LC_ALL=C grep -qP '[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]|\xc2[\x80-\x9f]'
}

@test "threat-local: a link planted at DB_PATH or in its directory is followed by no tool: no snapshot, no restore, no row" {
	conf
	vb_backup 2>/dev/null
	a=$(find b -name 'backup-*.tar.zst' -printf '%f\n')
	sum=$(sha256sum root-only/secret.db)
	as_attacker mv app/app.db app/app.db.real
	as_attacker ln -s "$T/root-only/secret.db" app/app.db
	# The nightly: refused at the snapshot, nothing shipped.
	run --separate-stderr vb_backup
	[ "$status" -eq 1 ]
	[ "$(archives b)" -eq 1 ]
	no_secret b
	[[ $stderr == *"$T/app/app.db is a symbolic link made by uid 65534 (nobody): vb follows no link another user made"* ]]
	# Each tool that opens it.
	run --separate-stderr vb-snapshot -d b app/app.db
	[ "$status" -eq 1 ]
	[[ $stderr == *"symbolic link made by uid 65534 (nobody)"* ]]
	run --separate-stderr vb-log app/app.db \
	    <<<"$(printf -- '-\tsnapshot\tfailed\t-\t-\t7\t2026-11-27T01:00:03.412Z\tx')"
	[ "$status" -eq 1 ]
	[[ $stderr == *"symbolic link made by uid 65534 (nobody)"* ]]
	run --separate-stderr vb-log --show app/app.db
	[ "$status" -eq 1 ]
	[[ $output != *"root only"* ]]
	run --separate-stderr vb-restore --force --db app/app.db "b/$a"
	[ "$status" -eq 1 ]
	[ "$(sha256sum root-only/secret.db)" = "$sum" ]
	# A link in a directory above it: the same.
	as_attacker rm app/app.db
	as_attacker mv app/app.db.real app/app.db
	cp root-only/secret.db root-only/app.db
	as_attacker ln -s "$T/root-only" app/data
	conf
	sed -i "s|^DB_PATH=.*|DB_PATH=$T/app/data/app.db|" "$VB_CONF"
	run --separate-stderr vb_backup
	[ "$status" -eq 1 ]
	[[ $stderr == *"$T/app/data is a symbolic link made by uid 65534 (nobody)"* ]]
	[ "$(archives b)" -eq 1 ]
	no_secret b
	# --to through it: nothing written into root's directory.
	conf
	run --separate-stderr vb-restore --to app/data/new.db "b/$a"
	[ "$status" -eq 1 ]
	[[ $stderr == *"$T/app/data is a symbolic link made by uid 65534 (nobody)"* ]]
	[ ! -e root-only/new.db ]
	# A link root made is followed (an operator's /var/run -> /run).
	ln -s "$T/app/app.db" "$T/root-link.db"
	run --separate-stderr vb-snapshot -d b "$T/root-link.db"
	[ "$status" -eq 0 ]
	assert_record "$output" snapshot ok
}

@test "threat-local: a link in an intermediate component of BACKUP_DIR or of METRICS_FILE's directory is not followed" {
	# Another application's backups, root's, that retention must not see.
	mkdir -m 700 other other/vb other/vb/backups
	printf 'DB_PATH=%s\nBACKUP_DIR=%s\nDRILL_EVERY=0\n' "$T/app/app.db" \
	    "$T/other/vb/backups" >"$VB_CONF"
	for _ in 1 2 3; do
		vb_backup 2>/dev/null
		sleep 0.01
	done
	[ "$(archives other/vb/backups)" -eq 3 ]
	# This one's backup directory, under the application's directory.
	mkdir -m 700 app/vb app/vb/backups
	conf MAX_BACKUPS=1 KEEP_DAILY=0
	sed -i "s|^BACKUP_DIR=.*|BACKUP_DIR=$T/app/vb/backups|" "$VB_CONF"
	vb_backup 2>/dev/null
	as_attacker mv app/vb app/vb.old
	as_attacker ln -s "$T/other/vb" app/vb
	run --separate-stderr vb_backup
	[ "$status" -eq 1 ]
	[[ $stderr == *"$T/app/vb is a symbolic link made by uid 65534 (nobody)"* ]]
	[ "$(archives other/vb/backups)" -eq 3 ]
	run --separate-stderr vb-prune -d "$T/app/vb/backups" --keep 1
	[ "$status" -eq 1 ]
	[ "$(archives other/vb/backups)" -eq 3 ]
	as_attacker rm app/vb
	as_attacker mv app/vb.old app/vb
	# The metrics file's directory, through a link of that user's.
	mkdir -m 700 root-metrics
	mkdir -m 755 root-metrics/prom
	as_attacker ln -s "$T/root-metrics" app/m
	conf MAX_BACKUPS=1 KEEP_DAILY=0 "METRICS_FILE=$T/app/m/prom/vb.prom"
	sed -i "s|^BACKUP_DIR=.*|BACKUP_DIR=$T/app/vb/backups|" "$VB_CONF"
	run --separate-stderr vb_backup
	[[ $stderr == *"$T/app/m is a symbolic link made by uid 65534 (nobody)"* ]]
	[ ! -e root-metrics/prom/vb.prom ]
	# Root's own link is followed, the last component too.
	ln -s "$T/root-metrics/prom" "$T/prom-link"
	conf MAX_BACKUPS=1 KEEP_DAILY=0 "METRICS_FILE=$T/prom-link/vb.prom"
	sed -i "s|^BACKUP_DIR=.*|BACKUP_DIR=$T/app/vb/backups|" "$VB_CONF"
	run --separate-stderr vb_backup
	[ "$status" -eq 0 ]
	grep -q '^vb_backup_last_run_success{' root-metrics/prom/vb.prom
}

@test "threat-local: control characters written into BackupLog reach no terminal: vb-backup --check and vb-log --show print '?'" {
	conf
	vb_backup 2>/dev/null
	# ESC ] (OSC: the window title), BEL, ESC [2J (clear), a C1 CSI
	# (U+009B), DEL, and a TAB and a newline to break the fields.
	as_attacker sqlite3 app/app.db "INSERT INTO BackupLog (createdAt,
	    operation, status, filename, message) VALUES
	    (strftime('%Y-%m-%dT%H:%M:%fZ', 'now', '+1 minute'), 'backup',
	    'failure', 'b/x' || char(27) || '[1m', 'boom' || char(27) ||
	    ']0;owned' || char(7) || char(27) || '[2J' || char(155) ||
	    '31m' || char(127) || char(9) || 'ok' || char(10) || 'FAIL')"
	for cmd in "vb_backup --check" "vb-log --show app/app.db" \
	    "vb-log --show --failures app/app.db"; do
		# shellcheck disable=SC2086 # the command and its words
		run --separate-stderr $cmd
		no_controls "$output$stderr" || { echo "$cmd: $output"; return 1; }
	done
	run --separate-stderr vb_backup --check
	[[ $output == *"FAIL  last run"*"boom?]0;owned??[2J?31m??ok?FAIL; see vb-log"* ]]
	# Piped: one record a row, eight fields.
	run --separate-stderr vb-log --show -n 1 app/app.db
	assert_record "$output" backup failed
	[ "$(field 8 "$output")" = "boom?]0;owned??[2J?31m??ok?FAIL" ]
	[ "$(field 1 "$output")" = "b/x?[1m" ]
	# On a terminal.
	command -v script >/dev/null || skip "no script(1) for a pseudo-terminal"
	run script -qec "vb-log --show $T/app/app.db" /dev/null
	[[ $output == *"boom?]0;owned??[2J?31m??ok?FAIL"* ]]
	no_controls "$output"
	# JSON keeps the value, every control escaped.
	run --separate-stderr vb-log --show --json -n 1 app/app.db
	[[ $output == *'boom\u001b]0;owned\u0007\u001b[2J\u009b31m\u007f\tok\nFAIL'* ]]
}

@test "threat-local: as root, a configuration or key file another user may change is refused, named, and runs nothing" {
	ssh-keygen -q -t ed25519 -N '' -f "$T/k"
	conf "SIGN_WITH=$T/k"
	vb_backup 2>/dev/null
	a=$(find b -name 'backup-*.tar.zst' -printf '%f\n')
	# A configuration the application's account owns (VB_CONF names
	# it), running a hook as root.
	conf "ON_SUCCESS='touch $T/pwned'" "ON_FAILURE='touch $T/pwned'"
	cp "$VB_CONF" app/vb.conf
	chown nobody app/vb.conf
	run --separate-stderr env VB_CONF="$T/app/vb.conf" \
	    "$BATS_TEST_DIRNAME/../bin/vb-backup"
	[ "$status" -eq 2 ]
	[[ $stderr == *"$T/app/vb.conf (VB_CONF) is owned by uid 65534 (nobody), mode 0644"*"chown root $T/app/vb.conf, chmod go-w $T/app/vb.conf"* ]]
	[ ! -e pwned ]
	[ "$(archives b)" -eq 1 ]
	run --separate-stderr env VB_CONF="$T/app/vb.conf" vb-prune -n
	[ "$status" -eq 2 ]
	# Root's, but anyone may write it; or through that account's link.
	chown root app/vb.conf
	chmod 666 app/vb.conf
	run --separate-stderr env VB_CONF="$T/app/vb.conf" \
	    "$BATS_TEST_DIRNAME/../bin/vb-backup"
	[ "$status" -eq 2 ]
	[[ $stderr == *"is owned by uid 0 (root), mode 0666"* ]]
	[ ! -e pwned ]
	chmod 644 app/vb.conf
	mv app/vb.conf root-only/vb.conf
	chmod 755 root-only
	as_attacker ln -s "$T/root-only/vb.conf" app/vb.conf
	run --separate-stderr env VB_CONF="$T/app/vb.conf" \
	    "$BATS_TEST_DIRNAME/../bin/vb-backup"
	[ "$status" -eq 2 ]
	[[ $stderr == *"$T/app/vb.conf is a symbolic link made by uid 65534 (nobody)"* ]]
	[ ! -e pwned ]
	# The application's account, running the tools itself, is not root:
	# its own file is its own business.
	run --separate-stderr as_attacker env VB_CONF="$T/app/vb.conf" \
	    vb-snapshot --print-config
	[ "$status" -eq 0 ]
	# A verifying key that account may replace: refused before use.
	cp "$T/k.pub" app/vb.pub
	chown nobody app/vb.pub
	conf "VERIFY_WITH=$T/app/vb.pub"
	run --separate-stderr vb-restore --verify-only "b/$a"
	[ "$status" -eq 2 ]
	[[ $stderr == *"$T/app/vb.pub (VERIFY_WITH) is owned by uid 65534 (nobody), mode 0644"* ]]
	# And the recipients, the identity, the signing key, rclone's file.
	unset RCLONE_CONFIG
	age-keygen -o key.txt 2>/dev/null
	age-keygen -y key.txt >app/recipients.txt
	cp key.txt app/key.txt
	: >app/rclone.conf
	cp "$T/k" app/k
	chown nobody app/recipients.txt app/key.txt app/rclone.conf app/k
	for kv in "ENCRYPT_TO=$T/app/recipients.txt" \
	    "DRILL_IDENTITY=$T/app/key.txt" "RCLONE_CONFIG=$T/app/rclone.conf" \
	    "SIGN_WITH=$T/app/k"; do
		conf "$kv"
		run --separate-stderr vb_backup
		[ "$status" -eq 2 ] || { echo "$kv: $status"; return 1; }
		[[ $stderr == *"$T/app/"*"(${kv%%=*}) is owned by uid 65534 (nobody)"* ]] ||
		    { echo "$kv: $stderr"; return 1; }
	done
	# Made root's, but in the directory that account owns (it may
	# rename another file in): refused, the directory named (review of
	# issue 37's validate-once, helper-11).
	chown root app/recipients.txt
	conf "ENCRYPT_TO=$T/app/recipients.txt"
	run --separate-stderr vb_backup
	[ "$status" -eq 2 ]
	[[ $stderr == *"$T/app/recipients.txt (ENCRYPT_TO) is in $T/app, owned by uid 65534 (nobody)"*"chown root $T/app, chmod go-w $T/app"* ]]
	# Root's, closed to others, in root's directory: taken.
	mv app/recipients.txt root-only/recipients.txt
	conf "ENCRYPT_TO=$T/root-only/recipients.txt"
	run --separate-stderr vb_backup
	[ "$status" -eq 0 ]
}
