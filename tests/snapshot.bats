#!/usr/bin/env bats
# vb-snapshot: command-line tests on real databases.

bats_require_minimum_version 1.5.0
load helpers

name_re='^backup-[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}-[0-9]{2}-[0-9]{2}-[0-9]{3}Z\.db$'

# check_snapshot RECORD SOURCE: the record describes a good copy of SOURCE.
check_snapshot() {
	local path
	assert_record "$1" snapshot ok
	path=$(field 1 "$1")
	[ -f "$path" ]
	[[ $(basename "$path") =~ $name_re ]]
	[ "$(field 4 "$1")" = "$(stat -c %s "$path")" ]
	[ "$(field 5 "$1")" = "$(sha256sum "$path" | cut -d' ' -f1)" ]
	[ "$(mode_of "$path")" = 600 ]
	[ "$(sqlite3 "$path" 'PRAGMA integrity_check')" = ok ]
	[ "$(vb-testwriter --check "$path")" = ok ]
	# Self-contained: a rollback-journal file that needs no -wal.
	[ "$(od -An -tu1 -j18 -N2 "$path" | tr -s ' ')" = " 1 1" ]
	if [ -n "${2:-}" ]; then
		[ "$(sqlite3 "$path" 'SELECT count(*), sum(amount) FROM ledger')" = \
		  "$(sqlite3 "$2" 'SELECT count(*), sum(amount) FROM ledger')" ]
	fi
}

@test "snapshot: --help prints usage on stdout and exits 0" {
	run --separate-stderr vb-snapshot --help
	[ "$status" -eq 0 ]
	[[ $output == usage:\ vb-snapshot* ]]
	[ -z "$stderr" ]
	run vb-snapshot -h
	[ "$status" -eq 0 ]
}

@test "snapshot: --version names the program and version" {
	run --separate-stderr vb-snapshot --version
	[ "$status" -eq 0 ]
	[[ $output =~ ^vb-snapshot\ [0-9]+\.[0-9]+\.[0-9]+ ]]
}

@test "snapshot: bad usage exits 2 with a message on stderr, no record" {
	run --separate-stderr vb-snapshot --no-such-option app.db
	[ "$status" -eq 2 ]
	[ -z "$output" ]
	[[ $stderr == *usage:\ vb-snapshot* ]]
	run --separate-stderr vb-snapshot
	[ "$status" -eq 2 ]
	[[ $stderr == "vb-snapshot: no database given"* ]]
	run --separate-stderr vb-snapshot a.db b.db
	[ "$status" -eq 2 ]
	run --separate-stderr vb-snapshot -d x -o y a.db
	[ "$status" -eq 2 ]
	[[ $stderr == *exclusive* ]]
	run --separate-stderr vb-snapshot -d "$T/a	b" a.db
	[ "$status" -eq 2 ]
	run --separate-stderr vb-snapshot $'new\nline.db'
	[ "$status" -eq 2 ]
	[ ! -e backups ]
}

@test "snapshot: WAL database, happy path" {
	mkdb app.db wal
	run --separate-stderr vb-snapshot -d "$T/backups" app.db
	[ "$status" -eq 0 ]
	[ -z "$stderr" ]
	check_snapshot "$output" app.db
	[[ $(field 8 "$output") == *journal=wal* ]]
	[[ $(field 8 "$output") == *quick_check=ok* ]]
	[[ $(field 8 "$output") == *source=app.db ]]
	[ "$(mode_of backups)" = 700 ]
	no_temporaries backups
	[ "$(count_files backups)" -eq 1 ]
}

@test "snapshot: rollback-journal (DELETE) database, happy path" {
	mkdb app.db delete
	run --separate-stderr vb-snapshot -d "$T/backups" app.db
	[ "$status" -eq 0 ]
	check_snapshot "$output" app.db
	[[ $(field 8 "$output") == *journal=delete* ]]
	no_temporaries backups
}

@test "snapshot: --full-check runs integrity_check" {
	mkdb app.db wal
	run --separate-stderr vb-snapshot --full-check -d backups app.db
	[ "$status" -eq 0 ]
	[[ $(field 8 "$output") == integrity=ok* ]]
}

@test "snapshot: directory from BACKUP_DIR, then vb.conf, then ./backups" {
	mkdb app.db wal
	run --separate-stderr env BACKUP_DIR="$T/env-dir" vb-snapshot app.db
	[ "$status" -eq 0 ]
	[[ $(field 1 "$output") == "$T/env-dir/backup-"* ]]
	printf 'BACKUP_DIR=%s/conf-dir\n' "$T" >"$VB_CONF"
	run --separate-stderr vb-snapshot app.db
	[ "$status" -eq 0 ]
	[[ $(field 1 "$output") == "$T/conf-dir/backup-"* ]]
	run --separate-stderr env BACKUP_DIR="$T/env-dir2" vb-snapshot app.db
	[[ $(field 1 "$output") == "$T/env-dir2/backup-"* ]]
	: >"$VB_CONF"
	run --separate-stderr vb-snapshot app.db
	[ "$status" -eq 0 ]
	[[ $(field 1 "$output") == ./backups/backup-* ]]
}

@test "snapshot: -o writes exactly that file and never overwrites one" {
	mkdb app.db wal
	run --separate-stderr vb-snapshot -o "$T/copy.db" app.db
	[ "$status" -eq 0 ]
	[ "$(field 1 "$output")" = "$T/copy.db" ]
	[ "$(mode_of copy.db)" = 600 ]
	echo precious >other.db
	run --separate-stderr vb-snapshot -o other.db app.db
	[ "$status" -eq 1 ]
	assert_record "$output" snapshot failed
	[[ $stderr == *"other.db: file exists"* ]]
	[ "$(cat other.db)" = precious ]
	no_temporaries .
}

@test "snapshot: a missing database is an error and is not created" {
	run --separate-stderr vb-snapshot -d "$T/backups" "$T/missing.db"
	[ "$status" -eq 1 ]
	assert_record "$output" snapshot failed
	[ "$(field 1 "$output")" = - ]
	[[ $stderr == "vb-snapshot: $T/missing.db: No such file or directory" ]]
	[ ! -e "$T/missing.db" ]
	[ ! -e "$T/backups" ]
}

@test "snapshot: a file that is not SQLite is refused" {
	printf 'SQLite format 2, honest\n%.0s' $(seq 10) >text.db
	: >empty.db
	mkdir dir.db
	for f in text.db empty.db dir.db; do
		cp -a "$f" "$f.orig"
		run --separate-stderr vb-snapshot -d "$T/backups" "$f"
		[ "$status" -eq 1 ]
		assert_record "$output" snapshot failed
		[[ $stderr == "vb-snapshot: $f: "* ]]
		[[ $stderr == *"not a SQLite database"* || $stderr == *"not a regular file"* ]]
		diff -r "$f" "$f.orig"
	done
	[ ! -e "$T/backups" ]
}

@test "snapshot: mode 0600 and directory 0700 under umask 000" {
	mkdb app.db wal
	# shellcheck disable=SC2016 # expanded by the inner shell
	run --separate-stderr sh -c 'umask 000; exec vb-snapshot -d "$1/a/b" "$1/app.db"' sh "$T"
	[ "$status" -eq 0 ]
	[ "$(mode_of "$(field 1 "$output")")" = 600 ]
	[ "$(mode_of a)" = 700 ]
	[ "$(mode_of a/b)" = 700 ]
}

@test "snapshot: a directory it cannot create: one diagnostic, the same words in the record" {
	mkdb app.db delete
	run --separate-stderr vb-snapshot -d /proc/nope/x app.db
	[ "$status" -eq 1 ]
	assert_record "$output" snapshot failed
	[ "$stderr" = "vb-snapshot: cannot create directory /proc/nope: No such file or directory" ]
	[ "$(field 8 "$output")" = "cannot create directory /proc/nope: No such file or directory" ]
}

@test "snapshot: an unwritable backup directory is a clear error" {
	chmod 755 "$T"
	mkdb app.db delete
	chmod 644 app.db
	mkdir -m 755 backups
	run --separate-stderr as_nobody vb-snapshot -d "$T/backups" "$T/app.db"
	[ "$status" -eq 1 ]
	assert_record "$output" snapshot failed
	[[ $stderr == *"vb-snapshot: $T/backups: not writable by nobody (uid "*"): Permission denied; make it the job user's (chown)"* ]]
	[ -z "$(ls -A backups)" ]
	# A directory it may not create at all.
	run --separate-stderr as_nobody vb-snapshot -d "$T/backups/sub" "$T/app.db"
	[ "$status" -eq 1 ]
	[[ $stderr == *"cannot create directory $T/backups/sub: Permission denied"* ]]
}

@test "snapshot: WAL database in a directory it may not write says why" {
	chmod 755 "$T"
	mkdir -m 755 ro
	mkdb ro/app.db wal
	rm -f ro/app.db-wal ro/app.db-shm
	chmod 644 ro/app.db
	mkdir -m 700 backups
	chown nobody backups
	run --separate-stderr as_nobody vb-snapshot -d "$T/backups" "$T/ro/app.db"
	[ "$status" -eq 1 ]
	assert_record "$output" snapshot failed
	[[ $stderr == *"cannot open WAL database"*"app.db-shm"*"not writable"* ]]
	[ -z "$(ls -A backups)" ]
}

@test "snapshot: not enough room fails at once and leaves nothing" {
	small_fs 512k
	bigdb app.db 2
	run --separate-stderr vb-snapshot -d "$MNT/backups" app.db
	[ "$status" -eq 1 ]
	assert_record "$output" snapshot failed
	[[ $stderr == *"not enough space in $MNT/backups"* ]]
	[ -z "$(ls -A "$MNT/backups")" ]
}

@test "snapshot: a write that fails midway leaves no file and says so" {
	bigdb app.db 4
	# RLIMIT_FSIZE: the copy fails with EFBIG after 1 MiB.
	run --separate-stderr bash -c 'trap "" XFSZ; ulimit -f 1024; exec vb-snapshot -d backups app.db'
	[ "$status" -eq 1 ]
	assert_record "$output" snapshot failed
	[[ $stderr == *"copy failed"* ]]
	[ -z "$(ls -A backups)" ]
}

@test "snapshot: a WAL writer committing without pause is neither blocked nor seen half-done" {
	mkdb app.db wal
	vb-testwriter app.db >writer.out &
	BG_PIDS=$!
	sleep 0.5
	for i in 1 2 3; do
		run --separate-stderr vb-snapshot -d backups app.db
		[ "$status" -eq 0 ]
		check_snapshot "$output"
	done
	before=$(sqlite3 app.db 'SELECT count(*) FROM ledger')
	sleep 0.3
	[ "$(sqlite3 app.db 'SELECT count(*) FROM ledger')" -gt "$before" ]
	kill -TERM "$BG_PIDS"
	wait "$BG_PIDS"
	BG_PIDS=
	[[ $(cat writer.out) == commits=* ]]
	[ "$(vb-testwriter --check app.db)" = ok ]
	[ "$(count_files backups)" -eq 3 ]
}

@test "snapshot: a rollback-journal writer waits, then carries on" {
	mkdb app.db delete
	vb-testwriter app.db >writer.out &
	BG_PIDS=$!
	sleep 0.5
	for i in 1 2 3; do
		run --separate-stderr vb-snapshot -d backups app.db
		[ "$status" -eq 0 ]
		check_snapshot "$output"
		last=$(field 1 "$output")
	done
	sleep 0.3
	kill -TERM "$BG_PIDS"
	wait "$BG_PIDS"
	BG_PIDS=
	[ "$(vb-testwriter --check app.db)" = ok ]
	# The writer went on committing after the last snapshot.
	[ "$(sqlite3 app.db 'SELECT count(*) FROM ledger')" -gt \
	  "$(sqlite3 "$last" 'SELECT count(*) FROM ledger')" ]
}

@test "snapshot: an open write transaction is not in the copy" {
	slow
	for mode in wal delete; do
		rm -rf app.db* backups
		mkdb app.db "$mode"
		vb-testwriter --hold 3 app.db >hold.out &
		BG_PIDS=$!
		wait_for grep -q holding hold.out
		run --separate-stderr vb-snapshot -d backups app.db
		[ "$status" -eq 0 ]
		check_snapshot "$output"
		[ "$(sqlite3 "$(field 1 "$output")" \
		    'SELECT count(*) FROM ledger WHERE amount = 999999')" -eq 0 ]
		wait "$BG_PIDS"
		BG_PIDS=
	done
}

@test "snapshot: stale temporaries of dead writers go, live ones stay" {
	mkdb app.db wal
	mkdir -m 700 backups
	sh -c 'exit 0' &
	dead=$!
	wait "$dead"
	sleep 60 &
	BG_PIDS=$!
	: >"backups/.vb-tmp-$dead-backup-2026-01-01T01-00-00-000Z.db"
	: >"backups/.vb-tmp-$BG_PIDS-backup-2026-01-02T01-00-00-000Z.db"
	: >backups/notes.txt
	: >backups/.vb-tmp-junk
	run --separate-stderr vb-snapshot -d backups app.db
	[ "$status" -eq 0 ]
	[[ $stderr == *"removed stale temporary backups/.vb-tmp-$dead-"* ]]
	[ ! -e "backups/.vb-tmp-$dead-backup-2026-01-01T01-00-00-000Z.db" ]
	[ -e "backups/.vb-tmp-$BG_PIDS-backup-2026-01-02T01-00-00-000Z.db" ]
	[ -e backups/notes.txt ]
	[ -e backups/.vb-tmp-junk ]
	# -q: the same cleaning, without the notice.
	: >"backups/.vb-tmp-$dead-backup-2026-01-01T01-00-00-000Z.db"
	run --separate-stderr vb-snapshot -q -d backups app.db
	[ "$status" -eq 0 ]
	[ -z "$stderr" ]
	[ ! -e "backups/.vb-tmp-$dead-backup-2026-01-01T01-00-00-000Z.db" ]
}

@test "snapshot: kill -9 midway leaves no file under a final name" {
	bigdb app.db 150
	for i in 1 2 3; do
		vb-snapshot -d backups app.db >/dev/null 2>&1 &
		pid=$!
		sleep "0.$((i * 2))"
		kill -9 "$pid" 2>/dev/null || true
		wait "$pid" || true
		for f in backups/backup-*; do
			[ -e "$f" ] || continue
			# Only a finished copy may carry a final name.
			[ "$(sqlite3 "$f" 'PRAGMA quick_check')" = ok ]
		done
	done
	run --separate-stderr vb-snapshot -q -d backups app.db
	[ "$status" -eq 0 ]
	no_temporaries backups
}

@test "snapshot: SIGTERM midway removes its temporary at once" {
	bigdb app.db 150
	caught=0
	for i in 1 2 3; do
		vb-snapshot --full-check -d backups app.db >/dev/null 2>&1 &
		pid=$!
		wait_for sh -c 'ls -A backups 2>/dev/null | grep -q vb-tmp' || true
		kill -TERM "$pid"
		status=0
		wait "$pid" || status=$?
		no_temporaries backups
		if [ "$status" -eq 143 ]; then
			caught=1
			[ -z "$(ls -A backups)" ]
			break
		fi
		echo "attempt $i: status $status"
		# It finished first: then it is whole.
		[ "$status" -eq 0 ]
		rm -f backups/backup-*
	done
	[ "$caught" -eq 1 ]
}

@test "snapshot: a symlinked or foreign world-writable backup directory is refused" {
	mkdb app.db wal
	mkdir -m 700 real
	ln -s real link
	run --separate-stderr vb-snapshot -d link app.db
	[ "$status" -eq 1 ]
	assert_record "$output" snapshot failed
	[[ $stderr == *"link: the backup directory is a symbolic link"* ]]
	run --separate-stderr vb-snapshot -d link/ app.db
	[ "$status" -eq 1 ]
	[ -z "$(ls -A real)" ]
	mkdir -m 777 open
	chown nobody open
	run --separate-stderr vb-snapshot -d open app.db
	[ "$status" -eq 1 ]
	[[ $stderr == *"open: the backup directory is writable by its group or by others (mode 777)"* ]]
	[ -z "$(ls -A open)" ]
	# The same, as prune and compress see it.
	run --separate-stderr vb-prune -d link --keep 1
	[ "$status" -eq 1 ]
	[[ $stderr == *"symbolic link"* ]]
	# World-writable, even this user's own: refused (anyone there could
	# plant a backup or a link), and so is a group's.
	mkdir -m 777 mine
	run --separate-stderr vb-snapshot -d mine app.db
	[ "$status" -eq 1 ]
	[ -z "$(ls -A mine)" ]
	mkdir -m 770 ours
	run --separate-stderr vb-snapshot -d ours app.db
	[ "$status" -eq 1 ]
	# Another user's, even 0700.
	mkdir -m 700 theirs
	chown nobody theirs
	run --separate-stderr vb-snapshot -d theirs app.db
	[ "$status" -eq 1 ]
	[[ $stderr == *"owned by uid 65534, not by this user"* ]]
}

@test "snapshot: -n --verdicts: the database and the backup directory as vb-backup --check's verdict lines, as this user" {
	mkdb app.db wal
	run --separate-stderr vb-snapshot -q -n --verdicts -d b app.db
	[ "$status" -eq 0 ]
	[ "$(wc -l <<<"$output")" -eq 2 ]
	[[ $(sed -n 1p <<<"$output") == "ok	database	app.db: "*"(as $(id -un))" ]]
	[[ $(sed -n 2p <<<"$output") == "ok	backup directory	"*"(a dry run: nothing was copied) (as $(id -un))" ]]
	[ ! -e b ] || [ -z "$(ls -A b)" ]
	# Not the job's rights: each a FAIL-job, said in the tool's words.
	chmod 755 "$T"
	mkdir -m 700 b
	run --separate-stderr as_nobody vb-snapshot -q -n --verdicts -d b \
	    "$T/app.db"
	[ "$status" -eq 1 ]
	[[ $(sed -n 1p <<<"$output") == "FAIL-job	database	"*"writable by nobody" ]]
	[[ $(sed -n 2p <<<"$output") == "FAIL-job	backup directory	"* ]]
	[[ $output != *vb-snapshot:* ]]
	run --separate-stderr vb-snapshot --verdicts -d b app.db
	[ "$status" -eq 2 ]
}

@test "snapshot: --check-setup=config and =user: vb-backup --check's set-up as verdict lines; a FAIL-job judged by VB_CHECK_JOB_USER" {
	mkdb app.db wal
	printf 'DB_PATH=%s\nBACKUP_DIR=%s\n' "$T/app.db" "$T/b" >"$VB_CONF"
	run --separate-stderr vb-snapshot --check-setup=config
	[ "$status" -eq 0 ]
	[ "$output" = "$(printf 'ok\tconfiguration\t%s: DB_PATH=%s BACKUP_DIR=%s' "$VB_CONF" "$T/app.db" "$T/b")" ]
	echo 'COMPRESSION=lz4' >>"$VB_CONF"
	run --separate-stderr vb-snapshot --check-setup=config
	[ "$status" -eq 1 ]
	[[ $output == "FAIL	configuration	$VB_CONF:3: COMPRESSION must be "*"; fix $VB_CONF (or VB_CONF)" ]]
	[ -z "$stderr" ]
	sed -i '$d' "$VB_CONF"
	# The job's user, from a cron file of root's: root becomes it.
	mkdir -m 755 cron.d
	echo "0 1 * * * nobody vb-backup" >cron.d/vb-backup
	export VB_CRON_FILE=$T/cron.d/vb-backup
	run --separate-stderr vb-snapshot --check-setup=user
	[ "$status" -eq 0 ]
	[ "$output" = "$(printf 'as\tnobody\tnobody')" ]
	# Run by another user: the warning, and no one to become.
	chmod 755 "$T"
	sed -i 's/ nobody / root /' cron.d/vb-backup
	run --separate-stderr as_nobody vb-snapshot --check-setup=user
	[ "$status" -eq 0 ]
	[[ $(sed -n 1p <<<"$output") == "warn	user	the job runs as root, this check as nobody: "*"run vb-backup --check as root for the job's own view" ]]
	[ "$(sed -n 2p <<<"$output")" = "$(printf 'as\troot\t')" ]
	# Its FAIL-job lines: a warning as another user, a FAIL as the job's.
	mkdir -m 700 b
	VB_CHECK_JOB_USER=root run --separate-stderr as_nobody vb-snapshot \
	    -q -n --verdicts -d b "$T/app.db"
	[[ $(sed -n 2p <<<"$output") == "warn	backup directory	"*" (checked as nobody, not as the job's root)" ]]
	VB_CHECK_JOB_USER=nobody run --separate-stderr as_nobody vb-snapshot \
	    -q -n --verdicts -d b "$T/app.db"
	[[ $(sed -n 2p <<<"$output") == "FAIL	backup directory	"* ]]
	[[ $output != *"checked as"* ]]
}

@test "snapshot: --check-all: vb-backup --check's tools run through PATH, their lines in columns; a tool missing, or a line too long, said" {
	run --separate-stderr vb-snapshot --check-all app.db
	[ "$status" -eq 2 ]
	[[ $stderr == "vb-snapshot: --check-all takes no other argument"* ]]
	run --separate-stderr vb-snapshot --check-all -n
	[ "$status" -eq 2 ]
	[ -z "$output" ]
	mkdb app.db wal
	mkdir -m 700 b
	printf 'DB_PATH=%s\nBACKUP_DIR=%s\n' "$T/app.db" "$T/b" >"$VB_CONF"
	# The tools but vb-log: its part is not checked, in its words.
	mkdir tools
	cp "$VB_BIN/vb-snapshot" "$VB_BIN/vb-restore" tools/
	tools=$T/tools:/usr/bin:/bin
	VB_CRON_FILE=$T/none PATH=$tools run --separate-stderr \
	    vb-snapshot --check-all
	[ "$status" -eq 1 ]
	[ -z "$stderr" ]
	[[ $(sed -n 1p <<<"$output") == \
	    "ok    configuration     $VB_CONF: DB_PATH=$T/app.db"* ]]
	miss="FAIL  history           not checked: vb-log: command not found"
	[[ $output == *$'\n'"$miss"$'\n'* ]]
	[[ $(tail -n 1 <<<"$output") == [0-9]*" check(s) failed" ]]
	# A vb-log whose line is 20 KiB long: cut, the next line read.
	printf '#!/bin/sh\nprintf "ok\\thistory\\t%%020000d\\n" 0\n%s\n' \
	    "printf 'FAIL-job\tlast run\tits text\n'" >tools/vb-log
	chmod 755 tools/vb-log
	VB_CRON_FILE=$T/none PATH=$tools run --separate-stderr \
	    vb-snapshot --check-all
	[ "$status" -eq 1 ]
	line=$(grep '^ok    history ' <<<"$output")
	[ "${#line}" -gt 8000 ] && [ "${#line}" -lt 8300 ]
	[[ $output == *$'\n'"FAIL  last run          its text"$'\n'* ]]
	[[ $output != *"not checked: vb-log"* ]]
	# A vb-log that fails (exit 1) without a FAIL line: no answer, never
	# an ok, whatever lines it printed.
	cat >tools/vb-log <<-'EOF'
	#!/bin/sh
	printf 'ok\thistory\tall fine\n'
	echo "vb-log: disk I/O error" >&2
	exit 1
	EOF
	VB_CRON_FILE=$T/none PATH=$tools run --separate-stderr \
	    vb-snapshot --check-all
	[ "$status" -eq 1 ]
	[[ $output == *$'\n'"FAIL  history           not checked: vb-log: disk I/O error"$'\n'* ]]
}
