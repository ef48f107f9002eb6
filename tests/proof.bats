#!/usr/bin/env bats
# What --check, --list and the metrics say is measured, not remembered
# (issue 36): every archive hashed again each time, whatever its kind; a
# file put back whole is good again at once; a failed drill stays a
# failure until a drill proves the backup or it is gone; a dry run
# changes nothing; the configuration the scheduled job reads is the one
# checked; DRILL_SQL speaks of the backup's own time; a release is
# recorded and seen at once.  Real parts: the nightly job, real
# databases and archives, age.

# shellcheck disable=SC2154 # bats' run --separate-stderr sets $stderr
bats_require_minimum_version 1.5.0
load helpers

setup() {
	vb_setup
	mkdir -m 1777 "$T/out"
	mkdb app.db wal 400
	export VB_CRON_FILE=$T/cron.d/vb-backup
	mkdir -p "$T/cron.d"
	printf '0 1 * * * root VB_CONF=%s vb-backup\n' "$VB_CONF" \
	    >"$VB_CRON_FILE"
}

# conf [MORE LINES]: the nightly with metrics, no drill unless asked.
conf() {
	{
		printf 'DB_PATH=%s\nBACKUP_DIR=%s\n' "$T/app.db" "$T/b"
		printf 'METRICS_FILE=%s\n' "$T/out/vb.prom"
		printf '%s\n' "$@"
	} >"$VB_CONF"
}

metric() {
	awk -v n="$1" '$1 ~ "^" n "{" { print $2 }' "$T/out/vb.prom"
}

# nights N: N nightly runs, the application writing between them.
nights() {
	local _
	for _ in $(seq "$1"); do
		vb-testwriter --count 20 app.db >/dev/null
		vb_backup 2>/dev/null || return 1
		sleep 0.01
	done
}

# archives: the backup archives in b, newest first.
archives() {
	find b -name 'backup-*.tar*' -printf '%f\n' | sort -r
}

# check_fails_on FILE: --check is a FAIL naming FILE (and only then 1).
check_fails_on() {
	run --separate-stderr vb_backup --check
	[ "$status" -eq 1 ] || { echo "$output"; return 1; }
	grep -q "^FAIL  backups  *$T/b/$1: " <<<"$output" ||
	    { echo "no FAIL for $1 in: $output"; return 1; }
}

# check_ok: --check's backups line is ok, and no FAIL says backups.
check_ok() {
	run --separate-stderr vb_backup --check
	grep -q '^ok    backups ' <<<"$output" ||
	    { echo "$output"; return 1; }
	! grep -q '^FAIL  backups ' <<<"$output"
}

@test "proof: --check and --list --sums hash every archive again: a full one without FULL_EVERY, a delta, an encrypted one, one whose page index is gone; a good copy put back is good at once" {
	slow
	# A full archive, no FULL_EVERY (--check checked none before).
	conf DRILL_EVERY=0
	nights 2
	old=$(archives | tail -n1)
	cp -p "b/$old" good
	check_ok
	[[ $output == *"2 hashed now, or read whole, and found as made"* ]]
	flip_byte "b/$old" 4000
	check_fails_on "$old"
	[[ $output == *"does not hash to the SHA-256 recorded when it was made"* ]]
	run --separate-stderr vb-restore --list --sums b
	[ "$status" -eq 1 ]
	[[ $(grep "$old" <<<"$output" | cut -f2,3) == "verify	failed" ]]
	[[ $output == *"health=damaged"* ]]
	# Its size and mtime unchanged: no cache is fooled.
	touch -r good "b/$old"
	check_fails_on "$old"
	# Put back whole: good again at once, no record left to clear.
	cp -p good "b/$old"
	check_ok
	run vb-restore --list --sums b
	[ "$status" -eq 0 ]

	# Deltas (FULL_EVERY), their page indexes removed: BackupLog's seal.
	rm -rf b
	conf DRILL_EVERY=0 FULL_EVERY=7d
	nights 3
	mapfile -t all < <(archives)
	[[ ${all[1]} == *.delta.tar.zst ]]
	rm -f b/.vb-index-*
	flip_byte "b/${all[1]}" 300
	check_fails_on "${all[1]}"
	# The newer delta on it cannot be restored either.
	check_fails_on "${all[0]}"

	# Encrypted archives: the file as written, hashed, no identity.
	rm -rf b
	age-keygen -o id.txt 2>/dev/null
	age-keygen -y id.txt >recipients.txt
	conf DRILL_EVERY=0 "ENCRYPT_TO=$T/recipients.txt"
	nights 2
	enc=$(archives | tail -n1)
	[[ $enc == *.age ]]
	flip_byte "b/$enc" 2000
	check_fails_on "$enc"
}

@test "proof: a held backup, the only copy of what a DROP removed, damaged: --check FAILs it, --list marks it held" {
	slow
	conf DRILL_EVERY=0 MAX_BACKUPS=1 KEEP_DAILY=0
	nights 1
	before=$(archives | head -n1)
	sqlite3 app.db "DELETE FROM ledger WHERE id > 10"
	nights 1
	flip_byte "b/$before" 3000
	check_fails_on "$before"
	run vb-restore --list --sums b
	[[ $(grep "$before" <<<"$output") == *"; held=yes; health=damaged" ]]
	run vb-restore --list --fields b
	[ "$(grep "$before" <<<"$output" | cut -f15)" = held ]
}

@test "proof: a failed drill stays a failure: --check FAIL, --list FAILED, the gauge 0 on the quiet nights after, retention counts it for nothing; a drill that proves it clears it" {
	slow
	conf DRILL_EVERY=0 MAX_BACKUPS=3 KEEP_DAILY=0
	nights 3
	mapfile -t all < <(archives)
	new=${all[0]}
	cp -p "b/$new" good
	flip_byte "b/$new" $(($(stat -c %s "b/$new") / 2))
	run --separate-stderr vb_backup --drill "$new"
	[ "$status" -eq 1 ]
	[ "$(metric vb_backup_last_drill_success)" = 0 ]
	# The good copy back: it hashes right, but its last drill failed.
	cp -p good "b/$new"
	check_fails_on "$new"
	[[ $output == *"$new failed its last restore drill"* ]]
	[[ $output == *"vb-backup --drill $new"* ]]
	run vb-restore --list --fields b
	[ "$(grep "$new" <<<"$output" | cut -f16)" = drill-failed ]
	[ "$(grep "$new" <<<"$output" | cut -f7)" = unsafe ]
	# A quiet night (no drill): the gauge stays 0; retention keeps the
	# failed one and counts it for nothing: two kept besides it.
	conf DRILL_EVERY=0 MAX_BACKUPS=2 KEEP_DAILY=0
	nights 1
	[ "$(metric vb_backup_last_drill_success)" = 0 ]
	[ -f "b/$new" ]
	[ -f "b/${all[1]}" ]
	[ ! -e "b/${all[2]}" ]
	# A drill that proves it: a restorable point again, counted (and
	# so aged out by the next night like any other).
	run --separate-stderr vb_backup --drill "$T/b/$new"
	[ "$status" -eq 0 ]
	[ "$(metric vb_backup_last_drill_success)" = 1 ]
	check_ok
	nights 1
	[ ! -e "b/$new" ]
	[ ! -e "b/${all[1]}" ]
}

@test "proof: a failed drill of a backup that is then gone no longer counts; the table marks FAILED in the proven column" {
	slow
	conf DRILL_EVERY=0
	nights 2
	new=$(archives | head -n1)
	flip_byte "b/$new" 2500
	run vb_backup --drill "$new"
	[ "$status" -eq 1 ]
	# The table: FAILED as verified and as proven.
	run script -qec "VB_CONF=$VB_CONF vb-restore --list b" /dev/null
	[[ $(grep "$new" <<<"$output") == *" FAILED "*" FAILED "* ]]
	rm "b/$new"
	nights 1
	[ "$(metric vb_backup_last_drill_success)" = 1 ]
}

@test "proof: a dry run changes nothing, records included; a damage record goes when the file hashes right again" {
	slow
	conf DRILL_EVERY=0 FULL_EVERY=7d
	nights 2
	full=$(archives | tail -n1)
	cp -p "b/$full" good
	flip_byte "b/$full" 500
	# The next night finds the damaged link, records it, fails.
	run vb_backup
	[ "$status" -eq 1 ]
	mark=$(find b -name '.vb-damaged-*')
	[ -n "$mark" ]
	cp -p good "b/$full"
	# Good again at once, though the record is still there.
	run vb-restore --list b
	[[ $(grep "$full" <<<"$output") != *"health="* ]]
	before=$(find b -printf '%f %s %T@\n' | sort)
	run vb-prune -n -d b
	[ "$status" -eq 0 ]
	[ "$(find b -printf '%f %s %T@\n' | sort)" = "$before" ]
	[ -f "$mark" ]
	# A real prune removes the record of damage that is no more.
	vb-prune -d b >/dev/null
	[ ! -e "$mark" ]
}

@test "proof: --check fails when the cron line gives the job another configuration, or none; a VB_CONF pasted in the line or set as its variable is read as data" {
	slow
	conf DRILL_EVERY=0
	nights 1
	run --separate-stderr vb_backup --check
	[[ $output != *"checked a configuration the nightly does not use"* ]]
	# The job reads /etc/vb.conf: no VB_CONF in its line.
	echo "0 1 * * * root vb-backup" >"$VB_CRON_FILE"
	run --separate-stderr vb_backup --check
	[ "$status" -eq 1 ]
	[[ $output == *"FAIL  schedule          the job ($VB_CRON_FILE) reads /etc/vb.conf (no VB_CONF there), but this check read $VB_CONF"* ]]
	# As a variable of the file (install.sh's way): the same one.
	printf 'VB_CONF=%s\n0 1 * * * root vb-backup\n' "$VB_CONF" \
	    >"$VB_CRON_FILE"
	run --separate-stderr vb_backup --check
	[[ $output != *"checked a configuration the nightly does not use"* ]]
	# The same file by another path (a link) is the same file.
	ln -s "$T" "$T/alias"
	printf 'VB_CONF=%s\n0 1 * * * root vb-backup\n' \
	    "$T/alias/${VB_CONF##*/}" >"$VB_CRON_FILE"
	run --separate-stderr vb_backup --check
	[[ $output != *"checked a configuration the nightly does not use"* ]]
	# Another file: FAIL. A value holding a command is never run.
	# shellcheck disable=SC2016 # a value holding a command, never run
	printf 'VB_CONF="/srv/$(touch %s/pwned)/vb.conf"\n0 1 * * * root vb-backup\n' \
	    "$T" >"$VB_CRON_FILE"
	run --separate-stderr vb_backup --check
	[ "$status" -eq 1 ]
	[[ $output == *"reads /srv/\$(touch $T/pwned)/vb.conf"* ]]
	[ ! -e "$T/pwned" ]
}

@test "proof: DRILL_SQL's vb_backup_time() is the backup's own time (not now), accepted when the configuration is read" {
	slow
	conf DRILL_EVERY=0 "DRILL_SQL=\"SELECT 1 FROM ledger WHERE vb_backup_time() < datetime('now', '-2 seconds') AND vb_backup_time() > datetime('now', '-1 hour')\""
	nights 1
	new=$(archives | head -n1)
	# Now, seconds after: the backup's time is over 2 s ago.
	sleep 3
	run --separate-stderr vb_backup --drill "$new"
	[ "$status" -eq 0 ] || { echo "$stderr"; return 1; }
	# The same query with now in its place fails the drill.
	conf DRILL_EVERY=0 "DRILL_SQL=\"SELECT 1 FROM ledger WHERE datetime('now') < datetime('now', '-2 seconds')\""
	run --separate-stderr vb_backup --drill "$new"
	[ "$status" -eq 1 ]
	[[ $stderr == *"DRILL_SQL returned no row"* ]]
	# Its form is datetime()'s: comparable as text.
	conf DRILL_EVERY=0 "DRILL_SQL=\"SELECT 1 WHERE vb_backup_time() = datetime(vb_backup_time()) AND length(vb_backup_time()) = 19\""
	run --separate-stderr vb_backup --drill "$new"
	[ "$status" -eq 0 ] || { echo "$stderr"; return 1; }
	run --separate-stderr vb_backup --check
	[[ $output != *"DRILL_SQL must be"* ]]
}

@test "proof: vb-prune --release takes a stem, a file name or a path; it is a BackupLog row and the held gauge drops at once; --list marks held backups" {
	slow
	conf DRILL_EVERY=0 MAX_BACKUPS=1 KEEP_DAILY=0
	for how in stem file path; do
		rm -rf b
		nights 1
		before=$(archives | head -n1)
		sqlite3 app.db "DELETE FROM ledger WHERE id > 10"
		nights 1
		[ "$(metric vb_backup_held_backups)" = 1 ]
		run vb-restore --list b
		[[ $(grep "$before" <<<"$output") == *"held=yes"* ]]
		run script -qec "VB_CONF=$VB_CONF vb-restore --list b" /dev/null
		[[ $output == *"HELD after a sudden loss"* ]]
		case $how in
		stem) name=${before%%.*} ;;
		file) name=$before ;;
		path) name=$T/b/$before ;;
		esac
		run --separate-stderr vb-prune -d b --release "$name"
		[ "$status" -eq 0 ] || { echo "$stderr"; return 1; }
		[[ $stderr == *"released ${before%%.*}"*"recorded in BackupLog"* ]]
		[ "$(metric vb_backup_held_backups)" = 0 ]
		[ "$(sqlite3 app.db "SELECT count(*) FROM BackupLog WHERE
		    operation = 'prune' AND message LIKE 'released: %' AND
		    filename = '$T/b/${before%%.*}'")" -ge 1 ]
		# Not held any more: a second release says so.
		run --separate-stderr vb-prune -d b --release "$name"
		[ "$status" -eq 1 ]
		[[ $stderr == *"is not held"* ]]
		# Refill for the next round's loss.
		vb-testwriter --count 400 app.db >/dev/null
	done
	# A path outside the directory is refused.
	run --separate-stderr vb-prune -d b --release /etc/passwd
	[ "$status" -eq 1 ]
	[[ $stderr == *"not in b"* ]]
}

@test "proof: vb-backup --drill before the first backup says there is none; --dry-run says a drill proven minutes ago is not due" {
	slow
	conf
	run --separate-stderr vb_backup --drill
	[ "$status" -eq 1 ]
	[[ $stderr == *"nothing to drill: no backup yet"* ]]
	[[ $stderr != *lock* ]]
	[ ! -e b ]
	nights 1
	run --separate-stderr vb_backup --dry-run
	[[ $output == *"drill:"*"last proof "*"not due tonight"* ]]
	[[ $output != *"DUE"* ]]
	# Encrypted and no identity: not due, and no "DUE ... NOT RUN".
	age-keygen -o id.txt 2>/dev/null
	age-keygen -y id.txt >recipients.txt
	conf "ENCRYPT_TO=$T/recipients.txt"
	run --separate-stderr vb_backup --dry-run
	[[ $output == *"not due tonight (when due, the nightly cannot run it"* ]]
	[[ $output != *"DUE TONIGHT"* ]]
}

# ---- the review's findings (issue 36) ----

@test "proof: the old service's BackupLog (no sha256 column), or one whose compress rows went: every archive is still hashed against a record; an unreadable BackupLog is a failure, never ok" {
	slow
	sqlite3 app.db "CREATE TABLE BackupLog(id INTEGER PRIMARY KEY
	    AUTOINCREMENT, filename TEXT, size INTEGER, status TEXT
	    CHECK(status IN ('SUCCESS','FAILED')), message TEXT,
	    createdAt TEXT)"
	conf DRILL_EVERY=0
	nights 2
	old=$(archives | tail -n1)
	flip_byte "b/$old" 3000
	check_fails_on "$old"
	# A table whose compress rows were trimmed: the backup row's hash.
	rm -rf b
	sqlite3 app.db "DROP TABLE BackupLog"
	nights 2
	old=$(archives | tail -n1)
	sqlite3 app.db "DELETE FROM BackupLog WHERE operation = 'compress'"
	flip_byte "b/$old" 3000
	check_fails_on "$old"
	# BackupLog that cannot be read (by this user): the listing fails.
	chmod 755 "$T" b
	chmod 644 b/backup-*
	chmod 600 app.db
	run --separate-stderr as_nobody vb-restore --list --sums "$T/b"
	[ "$status" -eq 1 ]
	[[ $stderr == *"BackupLog in $T/app.db cannot be read"* ]]
}

@test "proof: no backup at all, or the last one gone, is a FAIL, never ok" {
	slow
	conf DRILL_EVERY=0
	nights 1
	new=$(archives | head -n1)
	mkdir away
	mv b/backup-* away/
	run --separate-stderr vb_backup --check
	[ "$status" -eq 1 ]
	[[ $output == *"FAIL  backups           no backup in $T/b"* ]]
	[[ $output == *"FAIL  last backup       the last successful backup BackupLog records"*"is $T/b/$new, and it is not there"* ]]
}

@test "proof: a failed drill survives encryption in place (the same backup under a new name); a proof does too" {
	slow
	conf DRILL_EVERY=0
	nights 2
	mapfile -t all < <(archives)
	cp -p "b/${all[0]}" good
	flip_byte "b/${all[0]}" 2000
	run vb_backup --drill "${all[0]}"
	[ "$status" -eq 1 ]
	cp -p good "b/${all[0]}"
	run vb_backup --drill "${all[1]}"
	[ "$status" -eq 0 ]
	age-keygen -o id.txt 2>/dev/null
	age-keygen -y id.txt >recipients.txt
	conf DRILL_EVERY=0 "ENCRYPT_TO=$T/recipients.txt"
	run --separate-stderr vb_backup --encrypt-existing
	[ "$status" -eq 0 ]
	run vb-restore --list --fields b
	[ "$(grep "${all[0]}.age" <<<"$output" | cut -f16)" = drill-failed ]
	[[ $(grep "${all[1]}.age" <<<"$output" | cut -f11) =~ ^20 ]]
	check_fails_on "${all[0]}.age"
}

@test "proof: a delta whose full archive and page indexes are gone is a broken chain, not 'every chain whole'" {
	slow
	conf DRILL_EVERY=0 FULL_EVERY=7d
	nights 3
	full=$(archives | tail -n1)
	rm "b/$full" b/.vb-index-*
	run --separate-stderr vb_backup --check
	[ "$status" -eq 1 ]
	[[ $output == *"a delta with no older backup here to rest on: the chain is broken"* ]]
	[[ $output != *"every chain whole"* ]]
}

@test "proof: a pre-restore copy is hashed against the record its restore wrote" {
	slow
	conf DRILL_EVERY=0
	nights 1
	run --separate-stderr vb-restore --db app.db "b/$(archives | head -n1)"
	[ "$status" -eq 0 ]
	p=$(find b -name 'pre-restore-*' -printf '%f\n')
	flip_byte "b/$p" 2000
	check_fails_on "$p"
}

@test "proof: a drill that failed on the remote's copy, or had no room, marks no local backup unsafe, and --check says the last drill failed" {
	slow
	conf DRILL_EVERY=0 "OFFSITE=$T/remote"
	nights 2
	new=$(archives | head -n1)
	flip_byte "remote/$new" 2000
	rm "b/$new"
	cp -p "remote/$new" "$T/keep"
	run --separate-stderr vb_backup --drill "$new"
	[ "$status" -eq 1 ]
	run --separate-stderr vb_backup --check
	[[ $output == *"FAIL  drill             the last drill"*"failed: $T/remote/$new"* ]]
	old=$(archives | head -n1)
	run vb-restore --list --fields b
	[ "$(grep "$old" <<<"$output" | cut -f16)" = - ]
	# No room to restore into: drill=error, the backup not blamed.
	conf DRILL_EVERY=0
	small_fs 1M
	cp "b/$old" "$MNT/"
	avail=$(df --output=avail -B1 "$MNT" | tail -n1)
	head -c $((avail - 8192)) /dev/zero >"$MNT/filler"
	run --separate-stderr env VB_CONF=/dev/null vb-restore --drill \
	    -d "$MNT" "$old"
	[ "$status" -eq 1 ]
	[[ $output == *"; drill=error" ]]
}

@test "proof: --check reads the cron file as cron does: a VB_CONF line after the entry does not reach it; a relative one is refused; only root's live cron daemon counts" {
	slow
	conf DRILL_EVERY=0
	nights 1
	printf '0 1 * * * root vb-backup\nVB_CONF=%s\n' "$VB_CONF" \
	    >"$VB_CRON_FILE"
	run --separate-stderr vb_backup --check
	[[ $output == *"the job ($VB_CRON_FILE) reads /etc/vb.conf (no VB_CONF there)"* ]]
	printf 'VB_CONF=%s\n0 1 * * * root vb-backup\nVB_CONF=/other.conf\n' \
	    "$VB_CONF" >"$VB_CRON_FILE"
	run --separate-stderr vb_backup --check
	[[ $output != *"checked a configuration the nightly does not use"* ]]
	printf '0 1 * * * root VB_CONF=no-vb.conf vb-backup\n' >"$VB_CRON_FILE"
	run --separate-stderr vb_backup --check
	[[ $output == *"is given VB_CONF=no-vb.conf, a relative path"* ]]
	# A process of nobody's named cron is not the cron daemon.
	if ! ps -eo uid=,comm= | awk '$1 == 0 && $2 ~ /^crond?$/ { f = 1 }
	    END { exit !f }'; then
		cp /bin/sleep "$T/cron"
		as_nobody "$T/cron" 60 &
		# shellcheck disable=SC2034 # helpers.bash's teardown kills it
		BG_PIDS=$!
		printf 'VB_CONF=%s\n0 1 * * * root vb-backup\n' "$VB_CONF" \
		    >"$VB_CRON_FILE"
		run --separate-stderr vb_backup --check
		[[ $output == *"is installed but no cron daemon runs"* ]]
	fi
}

@test "proof: the unsafe-backups gauge says, night after night, that a kept backup cannot be restored" {
	slow
	conf DRILL_EVERY=0 FULL_EVERY=7d
	nights 3
	[ "$(metric vb_backup_unsafe_backups)" = 0 ]
	mapfile -t all < <(archives)
	flip_byte "b/${all[1]}" 300
	run vb_backup
	[ "$status" -eq 1 ]
	nights 1
	[ "$(metric vb_backup_last_run_success)" = 1 ]
	[ "$(metric vb_backup_unsafe_backups)" -ge 2 ]
}

@test "proof: DRILL_EVERY=0d is refused (0 turns drills off); vb-backup --drill takes a stem; a drill before any backup writes no row" {
	slow
	conf DRILL_EVERY=0d
	run --separate-stderr vb_backup
	[ "$status" -eq 2 ]
	[[ $stderr == *"DRILL_EVERY=0d is no time at all: write 0 to turn it off"* ]]
	conf
	mkdir -m 700 b
	run --separate-stderr vb_backup --drill
	[ "$status" -eq 1 ]
	[[ $stderr == *"nothing to drill: no backup yet in $T/b"* ]]
	[ "$(sqlite3 app.db "SELECT count(*) FROM sqlite_master WHERE
	    name = 'BackupLog'")" -eq 0 ] || [ "$(sqlite3 app.db "SELECT
	    count(*) FROM BackupLog WHERE operation = 'verify'")" -eq 0 ]
	nights 1
	new=$(archives | head -n1)
	run --separate-stderr vb_backup --drill "${new%%.*}"
	[ "$status" -eq 0 ] || { echo "$stderr"; return 1; }
}
