#!/usr/bin/env bats
# Nothing fails silently: every way the nightly job can fail ends with a
# message naming the cause, exit 1 (2: configuration; 75 only for a lock
# that is really held), a failed `backup` row in BackupLog when the
# database takes one, ON_FAILURE run and METRICS_FILE rewritten.

# shellcheck disable=SC2154,SC2031 # bats' run --separate-stderr sets $stderr
# shellcheck disable=SC2034 # BG_PIDS is teardown's
bats_require_minimum_version 1.5.0
load helpers

# conf DIR [MORE...]: a vb.conf for $T/app.db into DIR, with a hook that
# leaves a marker and a metrics file, both where nobody may write.
conf() {
	local dir=$1
	shift
	[ -d "$T/out" ] || mkdir -m 1777 "$T/out"
	{
		printf 'DB_PATH=%s\nBACKUP_DIR=%s\n' "$DB" "$dir"
		printf 'METRICS_FILE=%s\n' "$T/out/vb.prom"
		# shellcheck disable=SC2016 # for the hook's shell
		printf 'ON_FAILURE='\''echo "$VB_STATUS $VB_EXIT_STATUS $VB_FAILED_STAGES: $VB_SUMMARY" >%s'\''\n' "$T/out/hook"
		printf '%s\n' "$@"
	} >"$VB_CONF"
	chmod 644 "$VB_CONF"
}

setup() {
	vb_setup
	app_db_for_all
}

# metric NAME: its value in the metrics file.
metric() {
	awk -v n="$1" '$1 ~ "^" n "{" { print $2 }' "$T/out/vb.prom"
}

# assert_seen STATUS WHAT: the run failed with STATUS, said WHAT on stderr,
# left the failure row (unless "norow"), ran the hook and wrote metrics.
assert_seen() {
	[ "$status" -eq "$1" ] || { echo "status $status, not $1"; return 1; }
	[[ $stderr == *"$2"* ]] || { echo "stderr lacks: $2"; return 1; }
	grep -q "^failure $1 " "$T/out/hook" || { echo "hook: $(cat "$T/out/hook")"; return 1; }
	[ "$(metric vb_backup_last_run_success)" = 0 ] || return 1
	[ "$(metric vb_backup_last_run_exit_status)" = "$1" ] || return 1
	if [ "${3:-}" != norow ]; then
		row=$(sqlite3 "$DB" "SELECT operation || ' ' || status || ': ' || message
		    FROM BackupLog ORDER BY createdAt DESC, id DESC LIMIT 1")
		[[ $row == "backup failure: failed at "*"$2"* ]] ||
		    { echo "row: $row"; return 1; }
	fi
}

@test "failures: a backup directory on a read-only file system" {
	small_fs 1m
	mount -o remount,ro "$MNT"
	conf "$MNT"
	run --separate-stderr vb_backup
	assert_seen 1 "$MNT: read-only file system; remount it read-write"
	[ "$(count_files "$MNT")" -eq 0 ]
	# The nightly never said "another run holds the lock".
	[[ $stderr != *"another run"* ]]
}

@test "failures: a backup directory owned by root, the job run as nobody" {
	mkdir -m 700 "$T/backups"
	conf "$T/backups"
	run --separate-stderr as_nobody "$BATS_TEST_DIRNAME/../bin/vb-backup"
	assert_seen 1 "$T/backups: not writable by nobody"
	[[ $stderr != *"another run"* ]]
	[ "$(count_files "$T/backups")" -eq 0 ]
	# A directory nobody may not create either.
	conf "$T/backups/sub"
	rm -f "$T/out/hook"
	chmod 755 "$T/backups"
	run --separate-stderr as_nobody "$BATS_TEST_DIRNAME/../bin/vb-backup"
	assert_seen 1 "cannot create the backup directory $T/backups/sub: Permission denied"
}

@test "failures: a backup directory that is a file, a symbolic link, writable by others, or another user's" {
	echo x >"$T/file"
	conf "$T/file"
	run --separate-stderr vb_backup
	assert_seen 1 "$T/file exists and is not a directory"
	mkdir -m 700 "$T/real"
	ln -s real "$T/link"
	conf "$T/link"
	run --separate-stderr vb_backup
	assert_seen 1 "the backup directory is a symbolic link"
	[ "$(count_files "$T/real")" -eq 0 ]
	mkdir -m 777 "$T/open"
	chown nobody "$T/open"
	conf "$T/open"
	run --separate-stderr vb_backup
	assert_seen 1 "the backup directory is writable by its group or by others (mode 777)"
	[ ! -e "$T/open/.vb.lock" ]
	# Root's own, but writable by a group: refused the same.
	mkdir -m 770 "$T/group"
	conf "$T/group"
	run --separate-stderr vb_backup
	assert_seen 1 "writable by its group or by others (mode 770)"
	[ ! -e "$T/group/.vb.lock" ]
	# Another user's, 0700: its owner could plant links root follows.
	mkdir -m 700 "$T/theirs"
	chown nobody "$T/theirs"
	conf "$T/theirs"
	run --separate-stderr vb_backup
	assert_seen 1 "the backup directory is owned by uid 65534, not by this user (uid 0) nor root"
	[ "$(count_files "$T/theirs")" -eq 0 ]
}

@test "failures: a lock file the job may not open" {
	# Root ran it once by hand; the job runs as nobody.
	mkdir -m 700 "$T/backups"
	chown nobody "$T/backups"
	install -m 600 /dev/null "$T/backups/.vb.lock"
	conf "$T/backups"
	run --separate-stderr as_nobody "$BATS_TEST_DIRNAME/../bin/vb-backup"
	assert_seen 1 "cannot open the lock file $T/backups/.vb.lock: Permission denied"
	[[ $stderr != *"another run"* ]]
	[ -z "$(find "$T/backups" -name 'backup-*')" ]
}

@test "failures: the database missing, not SQLite, or unreadable" {
	mkdir -m 700 "$T/backups"
	conf "$T/backups"
	# Missing: no row can be written; everything else still happens.
	mv "$DB" "$T/app/moved.db"
	run --separate-stderr vb_backup
	assert_seen 1 "$DB: No such file or directory" norow
	[ ! -e "$DB" ]
	# Not an SQLite database.
	echo "not a database" >"$DB"
	run --separate-stderr vb_backup
	assert_seen 1 "$DB: not a SQLite database" norow
	[ "$(cat "$DB")" = "not a database" ]
	# Unreadable by the job's user.
	mv -f "$T/app/moved.db" "$DB"
	chmod 600 "$DB"
	run --separate-stderr as_nobody "$BATS_TEST_DIRNAME/../bin/vb-backup"
	assert_seen 1 "$DB" norow
	[ -z "$(find "$T/backups" -name 'backup-*')" ]
}

# handed_over JOB: the job's snapshot is an intermediate in $T/backups and
# its vb-snapshot is gone.
handed_over() {
	compgen -G "$T/backups/.vb-tmp-*-backup-*.db" >/dev/null &&
	    ! kill_below 0 "$1" '(^|/)vb-snapshot( |$)'
}

@test "failures: a stage killed by a signal leaves its row and the run's" {
	filldb "$DB" 60
	mkdir -m 700 "$T/backups"
	conf "$T/backups" MAX_BACKUPS=1
	for d in 01 02; do
		: >"$T/backups/backup-2026-01-${d}T01-00-00-000Z.tar.zst"
	done
	vb_backup 2>"$T/stderr" &
	job=$!
	# Killed while it compresses: once the snapshot is handed over (an
	# intermediate, vb-snapshot gone).
	WAIT_S=600 wait_for handed_over "$job" >/dev/null 2>&1
	# By its command line: under make valgrind the process is valgrind's.
	WAIT_S=600 wait_for kill_below KILL "$job" '(^|/)vb-compress( |$)'
	wait "$job" && status=0 || status=$?
	# shellcheck disable=SC2030 # assert_seen reads it, in this test
	stderr=$(cat "$T/stderr")
	assert_seen 1 "compress: vb-compress was killed by SIGKILL"
	[ "$(sqlite3 "$DB" "SELECT message FROM BackupLog WHERE operation = 'compress' AND status = 'failure'")" = \
	    "vb-compress was killed by SIGKILL" ]
	# Nothing pruned after a failed backup; the snapshot is kept.
	[ "$(find "$T/backups" -name 'backup-2026-01-*' | wc -l)" -eq 2 ]
	[ "$(find "$T/backups" -name 'backup-*.db' | wc -l)" -eq 1 ]
	[[ $stderr == *"the snapshot is kept as $T/backups/backup-"*.db* ]]
	sqlite3 "$(find "$T/backups" -name 'backup-*.db')" \
	    "PRAGMA integrity_check" | grep -qx ok
	[ -z "$(find "$T/backups" -name '.vb-tmp-*.db')" ]
	[ "$(sqlite3 "$DB" "SELECT count(*) FROM BackupLog WHERE operation = 'prune'")" -eq 0 ]
	grep -q 'stage="compress"} 137' "$T/out/vb.prom"
}

@test "failures: a BackupLog that refuses rows is reported, and retention still runs" {
	sqlite3 "$DB" "CREATE TABLE BackupLog (id INTEGER PRIMARY KEY,
	    createdAt TEXT NOT NULL, operation TEXT NOT NULL, status TEXT NOT NULL,
	    filename TEXT, sizeBytes INTEGER, sha256 TEXT, durationMs INTEGER,
	    message TEXT, CHECK (createdAt < '2000'))"
	mkdir -m 700 "$T/backups"
	for d in 01 02 03; do
		: >"$T/backups/backup-2026-01-${d}T01-00-00-000Z.tar.zst"
	done
	conf "$T/backups" MAX_BACKUPS=1 KEEP_DAILY=0
	run --separate-stderr vb_backup
	assert_seen 1 "could not take" norow
	[[ $stderr == *"not logged: "*"	snapshot	ok	"* ]]
	[[ $stderr == *"not logged: "*"	backup	ok	"* ]]
	# The archive was made and verified, so retention ran.
	[ -z "$(find "$T/backups" -name 'backup-2026-01-*')" ]
	[ "$(find "$T/backups" -name 'backup-*.tar.zst' | wc -l)" -eq 1 ]
	grep -q 'vb_backup_stage_success{db="[^"]*",stage="prune"} 1' "$T/out/vb.prom"
	grep -q 'vb_backup_stage_success{db="[^"]*",stage="log"} 0' "$T/out/vb.prom"
	[ "$(sqlite3 "$DB" 'SELECT count(*) FROM BackupLog')" -eq 0 ]
}

@test "failures: the backup row after a success and after a failure" {
	mkdir -m 700 "$T/backups"
	conf "$T/backups"
	run --separate-stderr vb_backup
	[ "$status" -eq 0 ]
	a=$(find "$T/backups" -name 'backup-*.tar.zst')
	IFS='|' read -r op st file size sha ms msg < <(sqlite3 "$DB" \
	    "SELECT operation, status, filename, sizeBytes, sha256, durationMs, message
	    FROM BackupLog ORDER BY createdAt DESC, id DESC LIMIT 1")
	[ "$op $st" = "backup success" ]
	[ "$file" = "$a" ]
	[ "$size" -eq "$(stat -c %s "$a")" ]
	[ "$sha" = "$(sha256sum "$a" | cut -d' ' -f1)" ]
	# The whole run: at least the snapshot and compress stages.
	[ "$ms" -ge "$(sqlite3 "$DB" "SELECT sum(durationMs) FROM BackupLog WHERE operation IN ('snapshot', 'compress')")" ]
	[[ $msg == "ok: snapshot "*" ms, compress and read-back "*" ms; retention ok; 1 backups kept; drill: 1 backup(s) restored and proven" ]]
	[ ! -e "$T/out/hook" ]
	[ "$(metric vb_backup_last_run_success)" = 1 ]

	sleep 0.01
	run --separate-stderr damaged_reads "$BATS_TEST_DIRNAME/../bin/vb-backup"
	assert_seen 1 "read-back check failed"
	IFS='|' read -r op st file size < <(sqlite3 "$DB" \
	    "SELECT operation, status, ifnull(filename, 'NULL'), ifnull(sizeBytes, 'NULL')
	    FROM BackupLog ORDER BY createdAt DESC, id DESC LIMIT 1")
	[ "$op $st $file $size" = "backup failure NULL NULL" ]
	# One backup row per run, on top of that run's own rows.
	[ "$(sqlite3 "$DB" "SELECT count(*) FROM BackupLog WHERE operation = 'backup'")" -eq 2 ]
}

@test "failures: exit 75 only when another process holds the lock; metrics left alone" {
	mkdir -m 700 "$T/backups"
	conf "$T/backups"
	run --separate-stderr vb_backup
	[ "$status" -eq 0 ]
	before=$(cat "$T/out/vb.prom")
	flock "$T/backups/.vb.lock" sleep 10 &
	BG_PIDS=$!
	wait_for sh -c "! flock -n '$T/backups/.vb.lock' true"
	run --separate-stderr vb_backup
	[ "$status" -eq 75 ]
	[[ $stderr == *"another run holds $T/backups/.vb.lock"* ]]
	[ "$(cat "$T/out/vb.prom")" = "$before" ]
	[ ! -e "$T/out/hook" ]
}
