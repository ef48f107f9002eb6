#!/usr/bin/env bats
# The backups never lie, where features meet: incremental chains with a
# damaged link, offsite copies beside a damaged local one, encryption
# turned on over archives made before it, and vb-backup --check on each
# broken state, as root, as another user and in cron's empty environment.
# Real parts throughout: the nightly job, rclone's local backend, age.

# shellcheck disable=SC2154 # bats' run --separate-stderr sets $stderr
# shellcheck disable=SC2030,SC2031 # check_line reads what its test's run set
bats_require_minimum_version 1.5.0
load helpers

MARK=MARKER-truth-6021

setup() {
	vb_setup
	export RCLONE_CONFIG=$T/rclone.conf	# none: nothing of the machine's
	mkdir -m 1777 "$T/out"
	mkdb app.db wal 2000
	filldb app.db 2
	sqlite3 app.db "INSERT INTO ledger(account, amount, note)
	    VALUES (1, 0, '$MARK')"
}

# conf [MORE LINES]: the nightly with FULL_EVERY, offsite to $T/remote, a
# failure hook and metrics.
conf() {
	{
		printf 'DB_PATH=%s\nBACKUP_DIR=%s\n' "$T/app.db" "$T/b"
		printf 'OFFSITE=%s\nMETRICS_FILE=%s\n' "$T/remote" "$T/out/vb.prom"
		# shellcheck disable=SC2016 # for the hook's shell
		printf 'ON_FAILURE='\''echo "$VB_STATUS $VB_EXIT_STATUS $VB_FAILED_STAGES" >>%s'\''\n' "$T/out/hook"
		printf '%s\n' "$@"
	} >"$VB_CONF"
}

# metric NAME: its value in the metrics file.
metric() {
	awk -v n="$1" '$1 ~ "^" n "{" { print $2 }' "$T/out/vb.prom"
}

# nights N: N nightly runs, each after the application changed some rows;
# night k's rows hashed into rows.k, its archive's name into night.k.
nights() {
	local k
	for k in $(seq "$1"); do
		sqlite3 app.db "UPDATE ledger SET note = hex(randomblob(60))
		    WHERE abs(random()) % 100 < 2 AND note <> '$MARK'"
		vb_backup 2>/dev/null || return 1
		rows app.db >"rows.$k"
		find b -name 'backup-*' -printf '%f\n' | sort | tail -n1 >"night.$k"
		sleep 0.01
	done
}

# rows DB: the application's tables, hashed.
rows() {
	sqlite3 "$1" ".dump accounts ledger" | sha256sum | cut -d' ' -f1
}

# newest: the newest backup file's name.
newest() {
	find b -name 'backup-*' -printf '%f\n' | sort | tail -n1
}

@test "truth: a flipped byte in the full, a middle delta or the newest delta: --check names it, the next night is a full one and fails loudly, --offsite restores from the good remote copy" {
	slow
	conf FULL_EVERY=7d MAX_BACKUPS=2 KEEP_DAILY=0
	nights 7
	cp -a b good
	[ "$(find b -name 'backup-*.delta.tar.zst' | wc -l)" -eq 6 ]
	for pos in 1 4 7; do
		rm -rf b remote "$T/out/hook" "$T/out/vb.prom"
		cp -a good b
		cp -a good remote
		rm -f remote/.vb-index-*
		bad=b/$(cat "night.$pos")
		flip_byte "$bad" $(($(stat -c %s "$bad") / 2))
		# --check: the damaged file, and every delta built on it.
		run --separate-stderr vb_backup --check
		[ "$status" -eq 1 ]
		[[ $output == *"FAIL  backups           $T/$bad: "*"is damaged"* ]]
		[ "$(grep -c '^FAIL  backups ' <<<"$output")" -eq $((8 - pos)) ]
		run --separate-stderr cron_check
		[[ $output == *"FAIL  backups           $T/$bad: "*"is damaged"* ]]
		# The next night: a full backup, and a failure said everywhere.
		run --separate-stderr vb_backup
		[ "$status" -eq 1 ]
		[[ $stderr == *"$T/$bad is damaged: its SHA-256 is "*"tonight's backup is a full one"* ]]
		[[ $(newest) == *Z.tar.zst ]]
		grep -q '^failure 1 compress' "$T/out/hook"
		[ "$(metric vb_backup_last_run_success)" = 0 ]
		[ "$(sqlite3 app.db "SELECT count(*) FROM BackupLog WHERE
		    operation = 'verify' AND status = 'failure' AND
		    filename = '$T/$bad'")" -eq 1 ]
		[[ $(sqlite3 app.db "SELECT status || ' ' || message FROM BackupLog
		    WHERE operation = 'backup' ORDER BY id DESC LIMIT 1") == \
		    "failure failed at compress: $T/$bad is damaged"* ]]
		# Nothing was pruned, the damaged file least of all.
		[ -f "$bad" ] && [ -f "b/.vb-damaged-$(basename "${bad%%.*}")" ]
		[ "$(find b -name 'backup-*' | wc -l)" -eq 8 ]
		# The new full restores on its own.
		rm -f r.db
		run --separate-stderr vb-restore -q --to r.db "b/$(newest)"
		[ "$status" -eq 0 ]
		[[ $output != *"rebuilt from a chain"* ]]
		[ "$(rows r.db)" = "$(rows app.db)" ]
		# Night 7 from the remote's good copy of the damaged link.
		rm -f r.db
		run --separate-stderr vb-restore --offsite --to r.db "$(cat night.7)"
		[ "$status" -eq 0 ]
		[[ $stderr == *"used the copy on $T/remote"* ]] ||
		    [[ $stderr == *"failed verification"* ]]
		[ "$(rows r.db)" = "$(cat rows.7)" ]
		# The next night is whole again; retention keeps the damaged
		# chain (counted by no rule), and --check still names it.
		run --separate-stderr vb_backup
		[ "$status" -eq 0 ]
		[[ $stderr == *"kept, counted by no rule: "*"is damaged"* ]]
		[ -f "$bad" ] && [ -f "remote/${bad#b/}" ]
		run --separate-stderr vb_backup --check
		[ "$status" -eq 1 ]
		[[ $output == *"FAIL  backups           $T/$bad: "* ]]
		# A good copy put back: the record goes, retention resumes,
		# and --check is clean.
		cp "remote/${bad#b/}" "$bad"
		vb_backup 2>/dev/null
		[ ! -e "b/.vb-damaged-$(basename "${bad%%.*}")" ]
		run --separate-stderr vb_backup --check
		[[ $output == *"ok    backups "* ]]
		[[ $output != *"FAIL  backups"* ]]
	done
}

@test "truth: a link gone from the backup directory: the next night is a full one and a failure naming it; --check names the deltas it breaks" {
	slow
	conf FULL_EVERY=7d
	nights 4
	gone=b/$(cat night.2)
	mv "$gone" "$T/aside"
	run --separate-stderr vb_backup --check
	[ "$status" -eq 1 ]
	[ "$(grep -c '^FAIL  backups ' <<<"$output")" -eq 2 ]
	check_line FAIL backups "$T/b/$(cat night.3): .*which is missing: the chain is broken"
	run --separate-stderr vb_backup
	[ "$status" -eq 1 ]
	[[ $stderr == *"$T/$gone, a link of the chain (a page index says so), is missing: the 2 backups built on it cannot be restored from here"* ]]
	[[ $(newest) == *Z.tar.zst ]]
	grep -q '^failure 1 compress' "$T/out/hook"
	[ "$(sqlite3 app.db "SELECT count(*) FROM BackupLog WHERE
	    operation = 'verify' AND status = 'failure' AND
	    filename = '$T/$gone'")" -eq 1 ]
	# Nothing that cannot be restored from here was pruned.
	[ -f "b/$(cat night.3)" ] && [ -f "b/$(cat night.4)" ]
	# The chain comes back whole from the remote.
	rm -f r.db
	vb-restore -q --offsite --to r.db "$(cat night.4)" >/dev/null
	[ "$(rows r.db)" = "$(cat rows.4)" ]
}

# corrupt_live: the application's database damaged (its ledger index), as
# a failing disk would leave it: every snapshot of it fails its check.
corrupt_live() {
	sqlite3 app.db "PRAGMA wal_checkpoint(TRUNCATE)" >/dev/null
	page=$(sqlite3 app.db "SELECT rootpage FROM sqlite_master
	    WHERE name = 'ledger_account'")
	printf '\377\377\377\377\377\377\377\377' |
	    dd of=app.db bs=1 seek=$((4096 * (page - 1) + 8)) conv=notrunc \
	    2>/dev/null
}

# check_line STATUS WHAT [TEXT]: --check printed STATUS for WHAT (with TEXT).
check_line() {
	grep -q "^$1 *$2 .*${3:-}" <<<"$output" ||
	    { echo "no '$1 $2 ${3:-}' in: $output"; return 1; }
}

# cron_check: vb-backup --check as cron would run it: an empty
# environment but for PATH and the configuration's name.
cron_check() {
	env -i PATH="$VB_BIN:/usr/bin:/bin" VB_CONF="$VB_CONF" \
	    VB_CRON_FILE="$T/cron.d/vb-backup" \
	    "$BATS_TEST_DIRNAME/../bin/vb-backup" --check
}

@test "truth: --check after three failed nights on a damaged database: the last run, the set-aside snapshot; as root, in cron's environment, and as another user" {
	slow
	conf
	mkdir -p "$T/cron.d"
	echo "0 1 * * * root VB_CONF=$VB_CONF $BATS_TEST_DIRNAME/../bin/vb-backup" \
	    >"$T/cron.d/vb-backup"
	export VB_CRON_FILE=$T/cron.d/vb-backup
	vb_backup 2>/dev/null
	corrupt_live
	for _ in 1 2 3; do
		run --separate-stderr vb_backup
		[ "$status" -eq 1 ]
		sleep 0.01
	done
	# Only the newest set-aside snapshot is kept.
	[ "$(find b -name '*.failed-check' | wc -l)" -eq 1 ]
	aside=$(find b -name '*.failed-check')
	[[ $stderr == *"the older "*".failed-check is removed (only the newest is kept)"* ]]
	for how in vb_backup cron_check; do
		if [ "$how" = vb_backup ]; then
			run --separate-stderr vb_backup --check
		else
			run --separate-stderr cron_check
		fi
		[ "$status" -eq 1 ]
		check_line FAIL "last run" "failed at compress: "
		check_line FAIL "last run" "failed quick_check"
		check_line FAIL "failed check" "$T/$aside: a snapshot that failed its integrity check"
		check_line ok "last backup"
		# The environment warns only where it is the shell's own.
		if [ "$how" = cron_check ]; then
			[[ $output != *"warn  environment"* ]]
		else
			check_line warn environment "RCLONE_CONFIG=$T/rclone.conf is set in this shell"
		fi
	done
	# As nobody while the job runs as root: said once, every line there.
	chmod 755 "$T" b
	run --separate-stderr as_nobody env VB_CONF="$VB_CONF" \
	    VB_CRON_FILE="$VB_CRON_FILE" PATH="$PATH" \
	    "$BATS_TEST_DIRNAME/../bin/vb-backup" --check
	[ "$status" -eq 1 ]
	check_line warn user "the job runs as root, this check as nobody"
	[ "$(grep -c '^warn  user' <<<"$output")" -eq 1 ]
	check_line warn "backup directory" "not writable by nobody.*(checked as nobody, not as the job's root)"
	check_line warn database "(checked as nobody, not as the job's root)"
	check_line FAIL "last run" "failed at compress"
	[[ $output != *"as root or as root"* ]]
}

@test "truth: an rclone remote only the operator's shell defines: --check says the job cannot reach it; RCLONE_CONFIG in vb.conf fixes it" {
	slow
	mkdir remote2
	conf
	sed -i "s|^OFFSITE=.*|OFFSITE=vbenv:$T/remote2|" "$VB_CONF"
	export RCLONE_CONFIG_VBENV_TYPE=local
	run --separate-stderr vb_backup
	[ "$status" -eq 0 ]
	[ -n "$(find remote2 -name 'backup-*')" ]
	run --separate-stderr vb_backup --check
	check_line FAIL offsite "vbenv:$T/remote2 answers from this shell but not as the job runs"
	check_line FAIL offsite "RCLONE_CONFIG"
	# The remote in a file vb.conf names: the job's own view.
	printf '[vbenv]\ntype = local\n' >"$T/job-rclone.conf"
	echo "RCLONE_CONFIG=$T/job-rclone.conf" >>"$VB_CONF"
	unset RCLONE_CONFIG_VBENV_TYPE RCLONE_CONFIG
	run --separate-stderr vb_backup --check
	check_line ok offsite "in cron's empty environment"
	[[ $output != *"FAIL  offsite"* ]]
	run --separate-stderr env -i PATH="$VB_BIN:/usr/bin:/bin" \
	    VB_CONF="$VB_CONF" "$BATS_TEST_DIRNAME/../bin/vb-backup"
	[ "$status" -eq 0 ]
}

@test "truth: encryption turned on over old archives: --check names the plaintext here and offsite; --encrypt-existing encrypts it all in place, verified; no marker left anywhere" {
	slow
	age-keygen -o key.txt 2>/dev/null
	age-keygen -y key.txt >recipients.txt
	conf FULL_EVERY=7d COMPRESSION=none
	nights 3
	# A pre-restore copy, the old service's raw backup, a snapshot set
	# aside by a failed check: all plaintext too.
	vb-restore -q --db app.db "b/$(cat night.3)" >/dev/null 2>&1
	cp app.db b/backup-2023-10-02T18-30-00-000Z.db
	cp app.db b/backup-2023-10-03T18-30-00-000Z.db.failed-check
	grep -raq -- "$MARK" b remote	# the control: plaintext is there
	echo "ENCRYPT_TO=$T/recipients.txt" >>"$VB_CONF"
	run --separate-stderr vb_backup --check
	[ "$status" -eq 1 ]
	check_line FAIL encryption "ENCRYPT_TO is set, but 6 file(s) in $T/b and 3 on $T/remote are not encrypted (made before it was): encrypt them in place, each verified: vb-backup --encrypt-existing"
	run --separate-stderr cron_check
	check_line FAIL encryption "ENCRYPT_TO is set, but 6 file(s) in $T/b"
	run --separate-stderr vb_backup --encrypt-existing
	echo "$stderr"
	[ "$status" -eq 0 ]
	[[ $stderr == *"done: nothing unencrypted is left in $T/b or on $T/remote"* ]]
	# Nothing readable without the identity, here or there.
	run grep -raq -- "$MARK" b remote
	[ "$status" -eq 1 ]
	for f in b/*-* remote/*; do
		[[ $f == *.age ]] || { echo "not encrypted: $f"; return 1; }
		[ "$(head -c 21 "$f")" = "age-encryption.org/v1" ]
	done
	no_temporaries b
	[ -z "$(find remote -name '.vb-tmp-*')" ]
	# Every one still restores, with the identity; the chain too, here
	# and from the remote.
	run --separate-stderr vb-restore --list --verify -i key.txt b
	[ "$status" -eq 0 ]
	rm -f r.db
	vb-restore -q -i key.txt --to r.db "b/$(cat night.3).age" >/dev/null
	[ "$(rows r.db)" = "$(cat rows.3)" ]
	rm -rf b2 r.db
	mkdir -m 700 b2
	vb-restore -q -i key.txt -d "$T/b2" --offsite --to r.db \
	    "$(cat night.3).age" >/dev/null
	[ "$(rows r.db)" = "$(cat rows.3)" ]
	# Each is in BackupLog; --check is content; the next night builds a
	# delta on the encrypted chain, whose indexes were told.
	[ "$(sqlite3 app.db "SELECT count(*) FROM BackupLog WHERE
	    operation = 'compress' AND message LIKE 'encrypted in place%'")" -ge 4 ]
	run --separate-stderr vb_backup --check
	[[ $output != *"FAIL  encryption"* ]]
	[[ $output != *"FAIL  backups"* ]]
	check_line ok backups "hashed now, or read whole, and found as made"
	run --separate-stderr vb_backup
	[ "$status" -eq 0 ]
	[[ $(newest) == *.delta.tar.age ]]
}

@test "truth: the old service's raw backups go offsite, archived first; one that cannot be archived fails the run" {
	slow
	conf
	mkdir -m 700 b
	old=backup-2023-10-02T18-30-00-000Z
	cp app.db "b/$old.db"
	run --separate-stderr vb_backup
	[ "$status" -eq 0 ]
	[ -f "b/$old.tar.zst" ] && [ ! -e "b/$old.db" ]
	[ -f "remote/$old.tar.zst" ]
	cmp "b/$old.tar.zst" "remote/$old.tar.zst"
	rm -rf b
	run --separate-stderr vb-restore -q --offsite -d "$T/b" --to r.db \
	    "$old.tar.zst"
	[ "$status" -eq 0 ]
	[ "$(rows r.db)" = "$(rows app.db)" ]
	# A raw backup that is no database: said, a failure, every night
	# until the operator acts.
	echo "not a database" >"b/backup-2023-10-03T18-30-00-000Z.db"
	run --separate-stderr vb_backup
	[ "$status" -eq 1 ]
	[[ $stderr == *"FAILED after "*" at leftovers: a raw snapshot could not be archived: "*"backup-2023-10-03T18-30-00-000Z.db"* ]]
	grep -q '^failure 1 leftovers' "$T/out/hook"
	# Tonight's backup was still made and sent.
	[ "$(find remote -name 'backup-2026-*' -o -name "backup-$(date -u +%Y)-*" | wc -l)" -ge 2 ]
}
