#!/usr/bin/env bats
# vb-restore: verify before trusting, restore to a file or over a live
# database, --list; and every hostile archive refused with nothing changed.

# shellcheck disable=SC2154 # bats' run --separate-stderr sets $stderr
bats_require_minimum_version 1.5.0
load helpers

# backup: app.db (WAL, with data), its archive in b/; sets A and STEM, and
# keeps the dump of the database as backed up in at-backup.sql.
backup() {
	mkdb app.db "${1:-wal}" 300
	vb-snapshot -q -d b app.db | vb-compress -q >/dev/null
	A=$(find b -name 'backup-*.tar.zst')
	STEM=$(basename "$A" .tar.zst)
	dump app.db >at-backup.sql
	sqlite3 app.db 'SELECT count(*) FROM ledger' >at-backup.count
}

# dump DB: the database as SQL, BackupLog aside.
dump() {
	sqlite3 "$1" .dump | grep -v -i -e backuplog -e sqlite_sequence
}

@test "restore: --help, --version, bad usage" {
	run --separate-stderr vb-restore --help
	[ "$status" -eq 0 ]
	[[ $output == usage:\ vb-restore* ]]
	run --separate-stderr vb-restore --version
	[ "$status" -eq 0 ]
	for bad in "x.tar.zst" "--to a --db b x.tar.zst" "--force --verify-only x.tar.zst" \
	    "--verify x.tar.zst" "--list --to a" "--verify-only" "--bogus"; do
		# shellcheck disable=SC2086 # the options are words
		run --separate-stderr vb-restore $bad
		[ "$status" -eq 2 ]
		[[ $stderr == *usage:\ vb-restore* ]]
	done
}

@test "restore: one mode a run: --list, --check, --drill, --diff, --table and --undo go alone" {
	for bad in "--list --drill" "--check --list" "--diff --table t x" \
	    "--drill --undo f" "--diff-table t --drill x" "--check --at 2026-12-01" \
	    "--diff-table a --diff-table b x"; do
		# shellcheck disable=SC2086 # the options are words
		run --separate-stderr vb-restore $bad
		[ "$status" -eq 2 ]
		[[ $stderr == *usage:\ vb-restore* ]]
	done
	run --separate-stderr vb-restore --list --drill
	[[ $stderr == *"go alone"* ]]
	# --table again is the same mode: two tables, one restore (its own
	# usage: no --db).
	run --separate-stderr vb-restore -d . --table a --table b x
	[ "$status" -eq 2 ]
	[[ $stderr == *"--db DB"* ]]
}

@test "restore: --to round trip gives back the database as backed up" {
	backup
	vb-testwriter --count 50 app.db >/dev/null
	run --separate-stderr vb-restore --to "$T/new.db" "$A"
	[ "$status" -eq 0 ]
	assert_record "$output" restore ok
	[ "$(field 1 "$output")" = "$T/new.db" ]
	[ "$(mode_of new.db)" = 600 ]
	[ "$(dump new.db)" = "$(cat at-backup.sql)" ]
	[ "$(sqlite3 new.db 'PRAGMA journal_mode')" = wal ]
	[ "$(sqlite3 new.db "SELECT operation, status FROM BackupLog")" = "restore|success" ]
	no_temporaries .
}

@test "restore: --to an existing file needs --force, never over a live one" {
	backup
	echo precious >new.db
	run --separate-stderr vb-restore --to new.db "$A"
	[ "$status" -eq 1 ]
	assert_record "$output" restore failed
	[[ $stderr == *"new.db exists; --force replaces it"* ]]
	[ "$(cat new.db)" = precious ]
	run --separate-stderr vb-restore --to new.db --force "$A"
	[ "$status" -eq 0 ]
	[ "$(dump new.db)" = "$(cat at-backup.sql)" ]
	: >new.db-wal
	run --separate-stderr vb-restore --to new.db --force "$A"
	[ "$status" -eq 1 ]
	[[ $stderr == *"restore over it with --db"* ]]
}

@test "restore: --verify-only checks and reports, changing nothing" {
	backup
	before=$(find . | sort)
	run --separate-stderr vb-restore --verify-only "$A"
	[ "$status" -eq 0 ]
	assert_record "$output" verify ok
	[ "$(field 4 "$output")" = "$(stat -c %s "$A")" ]
	[ "$(field 5 "$output")" = "$(sha256sum "$A" | cut -d' ' -f1)" ]
	[ "$(find . | sort)" = "$before" ]
	run --separate-stderr vb-restore --verify-only --quick-check "$A"
	[ "$status" -eq 0 ]
	[[ $(field 8 "$output") == *"SHA-256 and quick_check ok" ]]
	[ "$(find . | sort)" = "$before" ]
}

@test "restore: a raw snapshot is accepted too" {
	mkdb app.db delete
	raw=$(field 1 "$(vb-snapshot -q -d b app.db)")
	run --separate-stderr vb-restore --to new.db "$raw"
	[ "$status" -eq 0 ]
	[ "$(dump new.db)" = "$(dump app.db)" ]
}

@test "restore: --db over a live database that another process has open" {
	backup wal
	vb-testwriter --count 200 app.db >/dev/null
	dump app.db >before-restore.sql
	mkfifo cmds
	sqlite3 app.db <cmds >reader.out &
	BG_PIDS=$!
	exec 5>cmds
	echo "SELECT 'before', count(*) FROM ledger;" >&5
	wait_for grep -q before reader.out
	run --separate-stderr vb-restore -d b --db app.db "$A"
	[ "$status" -eq 0 ]
	assert_record "$output" restore ok
	[[ $stderr == *"to undo: vb-restore --db app.db b/pre-restore-"* ]]
	echo "SELECT 'after', count(*) FROM ledger;" >&5
	exec 5>&-
	wait "$BG_PIDS"
	BG_PIDS=
	# The open connection sees the restored data.
	[ "$(grep after reader.out)" = "after|$(cat at-backup.count)" ]
	[ "$(grep before reader.out)" != "before|$(cat at-backup.count)" ]
	[ "$(dump app.db)" = "$(cat at-backup.sql)" ]
	[ "$(sqlite3 app.db 'PRAGMA integrity_check')" = ok ]
	[ "$(sqlite3 app.db "SELECT operation FROM BackupLog")" = restore ]
	# The pre-restore archive holds the database as it was, and restores.
	pre=$(find b -name 'pre-restore-*.tar.zst')
	[ -n "$pre" ]
	[ "$(mode_of "$pre")" = 600 ]
	run --separate-stderr vb-restore --to "$T/undo.db" "$pre"
	[ "$status" -eq 0 ]
	[ "$(dump undo.db)" = "$(cat before-restore.sql)" ]
	no_temporaries .
	no_temporaries b
}

@test "restore: --db while the application holds its lock: nothing changes" {
	slow
	backup delete
	sum=$(sha256sum app.db | cut -d' ' -f1)
	vb-testwriter --hold 5 app.db >hold.out &
	BG_PIDS=$!
	wait_for grep -q holding hold.out
	run --separate-stderr env VB_BUSY_MS=500 vb-restore -d b --db app.db "$A"
	[ "$status" -eq 1 ]
	assert_record "$output" restore failed
	[[ $stderr == *"held its lock for more than 500 ms; nothing changed"* ]]
	wait "$BG_PIDS"
	BG_PIDS=
	[ "$(sha256sum app.db | cut -d' ' -f1)" = "$sum" ]
	[ "$(find b -name 'pre-restore-*' | wc -l)" -eq 0 ]
	no_temporaries .
	no_temporaries b
}

@test "restore: every hostile archive is refused, the live database untouched" {
	slow
	backup delete
	mkdir x
	tar -xf "$A" -C x
	db=x/$STEM.db
	man=x/MANIFEST
	echo "not a database at all, but long enough to be read" >text
	sha_text=$(sha256sum text | cut -d' ' -f1)
	sed "s/^db-bytes: .*/db-bytes: $(stat -c %s text)/; s/^db-sha256: .*/db-sha256: $sha_text/" \
	    "$man" >man-text
	# A different first digit, whatever the real one is.
	first=$(sed -n 's/^db-sha256: \(.\).*/\1/p' "$man")
	other=$([ "$first" = 0 ] && echo 1 || echo 0)
	sed "s/^db-sha256: ./db-sha256: $other/" "$man" >man-badsha
	run ! cmp -s "$man" man-badsha
	sed 's/^db-bytes: .*/db-bytes: 4096/' "$man" >man-small
	size=$(stat -c %s "$A")
	h=hostile
	mkdir $h
	head -c $((size / 2)) "$A" >"$h/backup-2026-01-01T00-00-01-000Z.tar.zst"
	cp "$A" "$h/backup-2026-01-01T00-00-02-000Z.tar.zst"
	flip_byte "$h/backup-2026-01-01T00-00-02-000Z.tar.zst" $((size / 2))
	: >"$h/backup-2026-01-01T00-00-03-000Z.tar.zst"
	echo "not an archive" >"$h/backup-2026-01-01T00-00-04-000Z.tar.zst"
	mk() {	# N SPEC...: a hostile archive named for second N
		local s=backup-2026-01-01T00-00-$1-000Z
		shift
		vb-mkarchive "$h/$s.tar.zst" "$@"
	}
	mk 05 "file:MANIFEST=$man" "file:../$STEM.db=$db"
	mk 06 "file:MANIFEST=$man" "file:/tmp/$STEM.db=$db"
	mk 07 "file:MANIFEST=$man" "symlink:$STEM.db=/etc/passwd"
	mk 08 "file:MANIFEST=$man" "hardlink:$STEM.db=MANIFEST"
	mk 09 "file:MANIFEST=$man" "file:$STEM.db=$db" "text:extra=hello"
	mk 10 "file:MANIFEST=man-text" "file:$STEM.db=text"
	mk 11 "file:MANIFEST=man-badsha" "file:$STEM.db=$db"
	mk 12 "file:MANIFEST=man-small" "file:$STEM.db=$db"
	mk 13 "file:$STEM.db=$db" "file:MANIFEST=$man"
	mk 14 "file:MANIFEST=$man" "dir:$STEM.db"
	mk 15 "file:MANIFEST=$man"
	mk 16 "text:MANIFEST=format: 2" "file:$STEM.db=$db"
	# Why each must fail, once named for the real stem.
	declare -A why=([01]="Truncated" [02]="does not match the manifest"
	    [03]="Unrecognized archive format" [04]="Unrecognized archive format"
	    [05]="second entry \"../" [06]="second entry \"/tmp/"
	    [07]="not a regular file" [08]="not a regular file"
	    [09]="unexpected third entry" [10]="file is not a database"
	    [11]="does not match the manifest" [12]="the manifest says 4096"
	    [13]="first entry is" [14]="is not $STEM.db"
	    [15]="holds no database" [16]="format 2 is not one this vb reads")
	# The hostile archives name their own stem, so each also fails the
	# name check; copies named for the real stem test the content checks.
	sum=$(sha256sum app.db | cut -d' ' -f1)
	before=$(find . -path ./hostile -prune -o -print | sort)
	for f in "$h"/*.tar.zst; do
		for mode in verify db; do
			if [ "$mode" = db ]; then
				run --separate-stderr vb-restore -d b --db app.db "$f"
			else
				run --separate-stderr vb-restore --verify-only "$f"
			fi
			echo "$f $mode: $stderr"
			[ "$status" -eq 1 ]
			[[ $stderr == vb-restore:\ * ]]
			assert_record "$output" "$([ $mode = db ] && echo restore || echo verify)" failed
		done
		# The same bytes under the real stem's name.
		cp "$f" "b/$STEM-copy.tar.zst"
		cp "$f" "x/$STEM.tar.zst"
		run --separate-stderr vb-restore -d b --db app.db "x/$STEM.tar.zst"
		echo "$f as $STEM: $stderr"
		[ "$status" -eq 1 ]
		n=${f##*T00-00-}
		[[ $stderr == *"${why[${n%%-*}]}"* ]]
		rm -f "b/$STEM-copy.tar.zst" "x/$STEM.tar.zst"
	done
	[ "$(sha256sum app.db | cut -d' ' -f1)" = "$sum" ]
	[ "$(find . -path ./hostile -prune -o -print | sort)" = "$before" ]
	[ ! -e "/tmp/$STEM.db" ]
	[ ! -e "$T/$STEM.db" ]
	[ "$(find b -name 'pre-restore-*' | wc -l)" -eq 0 ]
}

@test "restore: --list shows the backups newest first; --verify checks each" {
	backup
	vb-snapshot -q -d b app.db >/dev/null
	run --separate-stderr vb-restore --list b
	[ "$status" -eq 0 ]
	[ "${#lines[@]}" -eq 2 ]
	[[ $(field 1 "${lines[0]}") == b/backup-*.db ]]
	[ "$(field 1 "${lines[1]}")" = "$A" ]
	[ "$(field 4 "${lines[1]}")" = "$(stat -c %s "$A")" ]
	assert_record "${lines[1]}" list ok
	run --separate-stderr vb-restore --list --verify b
	[ "$status" -eq 0 ]
	assert_record "${lines[1]}" verify ok
	run --separate-stderr vb-restore --list --verify --full-check b
	[ "$status" -eq 0 ]
	assert_record "${lines[1]}" verify ok
	flip_byte "$A" $(($(stat -c %s "$A") / 2))
	run --separate-stderr vb-restore --list --verify b
	[ "$status" -eq 1 ]
	assert_record "${lines[1]}" verify failed
	run --separate-stderr vb-restore --list --json --verify b
	[ "$status" -eq 1 ]
	[ "$(jq length <<<"$output")" -eq 2 ]
	[ "$(jq -r '.[1].path' <<<"$output")" = "$A" ]
	[ "$(jq '.[1].verified' <<<"$output")" = false ]
	[ "$(jq '.[0].verified' <<<"$output")" = true ]
	[ "$(jq -r '.[1].compression' <<<"$output")" = zstd ]
	run --separate-stderr env BACKUP_DIR="$T/b" vb-restore --list
	[ "${#lines[@]}" -eq 2 ]
	command -v script >/dev/null || skip "no script(1)"
	run script -qec "vb-restore --list $T/b" /dev/null
	[[ ${lines[0]} == time* ]]
	[[ ${lines[2]} == *zstd* ]]
}

@test "restore: history survives a restore over --db: the later backups' rows are carried over" {
	slow
	mkdb app.db wal 100
	printf 'DB_PATH=%s\nBACKUP_DIR=%s\n' "$T/app.db" "$T/b" >"$VB_CONF"
	vb_backup 2>/dev/null
	first=$(find b -name 'backup-*.tar.zst')
	for n in 1 2; do
		vb-testwriter --count 10 app.db >/dev/null
		sleep 0.01
		vb_backup 2>/dev/null
	done
	history=$(sqlite3 app.db 'SELECT * FROM BackupLog ORDER BY id')
	# Three runs of three rows and the first night's drill, none of
	# them inside the first backup.
	[ "$(wc -l <<<"$history")" -eq 10 ]
	run --separate-stderr vb-restore -q --quick-check --db app.db "$first"
	[ "$status" -eq 0 ]
	[[ $(field 8 "$output") == *"; 10 later BackupLog rows carried over; archive="* ]]
	[ "$(sqlite3 app.db 'SELECT count(*) FROM ledger')" -eq 100 ]
	# Every row is still there, ids and all, and the restore's row last.
	[ "$(sqlite3 app.db 'SELECT * FROM BackupLog WHERE id <= 10 ORDER BY id')" = "$history" ]
	[ "$(sqlite3 app.db 'SELECT id || operation FROM BackupLog ORDER BY id DESC LIMIT 1')" = 11restore ]
	for a in b/backup-*.tar.zst; do
		[ "$(sqlite3 app.db "SELECT count(*) FROM BackupLog WHERE
		    operation = 'compress' AND filename = '$T/$a'")" -eq 1 ]
	done
	# A second restore of the same backup carries the first's rows too.
	run --separate-stderr vb-restore -q --quick-check --db app.db "$first"
	[ "$status" -eq 0 ]
	[[ $(field 8 "$output") == *"; 11 later BackupLog rows carried over; archive="* ]]
}

@test "restore: another database's backup is refused over --db without --force" {
	backup
	mkdb other.db wal 20
	before=$(sha256sum other.db)
	run --separate-stderr vb-restore -q --quick-check --db other.db "$A"
	[ "$status" -eq 1 ]
	assert_record "$output" restore failed
	[[ $stderr == *"this backup is of app.db on $(hostname), not of $T/other.db on $(hostname)"*"--force does it anyway"* ]]
	[ "$(sha256sum other.db)" = "$before" ]
	[ -z "$(find b -name 'pre-restore-*')" ]
	run --separate-stderr vb-restore -q --quick-check --force --db other.db "$A"
	[ "$status" -eq 0 ]
	[ "$(sqlite3 other.db 'SELECT count(*) FROM ledger')" = "$(cat at-backup.count)" ]
}

@test "restore: exit 0 when it happened (a warning if its row could not be written), 1 only when nothing changed" {
	# A BackupLog that refuses every row vb writes.
	mkdb app.db wal 30
	sqlite3 app.db "CREATE TABLE BackupLog (createdAt TEXT, operation TEXT,
	    status TEXT, message TEXT, CHECK (createdAt < '2000'))"
	vb-snapshot -q -d b app.db | vb-compress -q >/dev/null
	a=$(find b -name 'backup-*.tar.zst')
	run --separate-stderr vb-restore -q --quick-check --to new.db "$a"
	[ "$status" -eq 0 ]
	assert_record "$output" restore ok
	[[ $stderr == *"restored, but not recorded: "*"CHECK constraint failed"* ]]
	[ "$(sqlite3 new.db 'SELECT count(*) FROM ledger')" -eq 30 ]
	# A page size a WAL database cannot take: both sizes, the way out.
	sqlite3 big.db "PRAGMA page_size = 8192; PRAGMA journal_mode = WAL;
	    CREATE TABLE t (x); INSERT INTO t VALUES (1)" >/dev/null
	before=$(sha256sum big.db)
	run --separate-stderr vb-restore -q --quick-check --force --db big.db "$a"
	[ "$status" -eq 1 ]
	[[ $stderr == *"big.db is a WAL database of page size 8192 and the backup's page size is 4096"*"Restore it with --to NEW.db, stop the application"* ]]
	[ "$(sha256sum big.db)" = "$before" ]
}

@test "restore: the .db a snapshot row names points at the archive vb-compress made of it" {
	backup
	run --separate-stderr vb-restore -q --verify-only "b/$STEM.db"
	[ "$status" -eq 1 ]
	[[ $stderr == *"b/$STEM.db: No such file or directory; it was archived as b/$STEM.tar.zst"*"restore that" ]]
}

@test "restore: the default proves the bytes and lets SQLite read them; --full-check goes further" {
	# A database whose index no longer matches its table: quick_check
	# passes it, integrity_check does not.
	sqlite3 ic.db "CREATE TABLE t (a); CREATE INDEX i ON t (a);
	    WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n
	    WHERE x < 500) INSERT INTO t SELECT x FROM n;
	    PRAGMA writable_schema = ON; UPDATE sqlite_master SET
	    sql = 'CREATE INDEX i ON t (a DESC)' WHERE name = 'i'"
	[ "$(sqlite3 ic.db 'PRAGMA quick_check')" = ok ]
	mkdir -m 700 b
	cp ic.db b/backup-2026-01-01T00-00-00-000Z.db
	vb-compress -q b/backup-2026-01-01T00-00-00-000Z.db >/dev/null
	a=b/backup-2026-01-01T00-00-00-000Z.tar.zst
	run --separate-stderr vb-restore --verify-only "$a"
	[ "$status" -eq 0 ]
	[[ $(field 8 "$output") == *"SHA-256 and schema read ok; its quick_check at backup time ok" ]]
	run --separate-stderr vb-restore --full-check --verify-only "$a"
	[ "$status" -eq 1 ]
	[[ $stderr == *"fails integrity_check: row 1 missing from index i"* ]]
	run --separate-stderr vb-restore --quick-check --full-check --verify-only "$a"
	[ "$status" -eq 2 ]
	# The nightly's weekly integrity_check would have refused it.
	run --separate-stderr vb-snapshot -q --full-check -d b ic.db
	[ "$status" -eq 1 ]
	[[ $stderr == *"the copy failed integrity_check"* ]]
	# As the nightly runs it: the check in vb-compress, and no archive.
	run --separate-stderr bash -c 'vb-snapshot -q --full-check --defer-check -d b ic.db | vb-compress -q'
	[ "$status" -eq 1 ]
	[[ $stderr == *"failed integrity_check: row 1 missing from index i"* ]]
	[ "$(find b -name 'backup-*' | wc -l)" -eq 2 ]
	[ "$(find b -name 'backup-*.db.failed-check' | wc -l)" -eq 1 ]
}

@test "restore: --db over a damaged live database works; the pre-restore copy keeps it as found" {
	sqlite3 app.db "CREATE TABLE t (x); WITH RECURSIVE n(i) AS (SELECT 1
	    UNION ALL SELECT i + 1 FROM n WHERE i < 2000) INSERT INTO t
	    SELECT randomblob(200) FROM n"
	vb-snapshot -q -d b app.db | vb-compress -q >/dev/null
	a=$(find b -name 'backup-*.tar.zst')
	# The live database's b-tree damaged: the reason for many restores.
	printf '\377\377\377\377\377\377\377\377' |
	    dd of=app.db bs=1 seek=$((4096 * 2 + 8)) conv=notrunc 2>/dev/null
	[ "$(sqlite3 app.db 'PRAGMA quick_check' | head -n1)" != ok ]
	run --separate-stderr vb-restore -d b --db "$T/app.db" "$a"
	[ "$status" -eq 0 ]
	[[ $stderr == *"fails quick_check:"*"archived as it is"* ]]
	[ "$(sqlite3 app.db 'PRAGMA quick_check')" = ok ]
	saved=$(find b -name 'pre-restore-*.tar.zst')
	tar --zstd -xOf "$saved" MANIFEST | grep -q '^integrity: \*\*\* in database main'
	run --separate-stderr vb-restore --verify-only "$saved"
	[ "$status" -eq 0 ]
	[[ $(field 8 "$output") == *"at backup time FAILED (saved as found)" ]]
	[[ $stderr == *"failed its quick_check when it was taken"* ]]
	[ -z "$(find b -name '*.failed-check' -o -name '.vb-tmp-*' -o -name '*.db')" ]
}

@test "restore: --db of a database that does not exist yet says how to make it, and that command works pasted" {
	backup
	run --separate-stderr vb-restore --db "$T/new.db" "$A"
	[ "$status" -eq 1 ]
	assert_record "$output" restore failed
	[[ $stderr == *"$T/new.db does not exist: --db replaces a live database"* ]]
	[ ! -e new.db ]
	cmd=${stderr##*started): }
	[ "$cmd" = "vb-restore --to $T/new.db $A" ]
	# shellcheck disable=SC2086 # the command as printed, pasted
	run --separate-stderr $cmd
	[ "$status" -eq 0 ]
	[ "$(dump new.db)" = "$(cat at-backup.sql)" ]
}

@test "restore: --check answers vb-backup --check's verdicts in fields" {
	backup
	run --separate-stderr vb-restore --check -d b
	[ "$status" -eq 0 ]
	# VERDICT TAB WHAT TAB TEXT, nothing else on stdout.
	[ -z "$(awk -F'\t' 'NF != 3 || $1 !~ /^(ok|warn|FAIL|FAIL-job)$/' <<<"$output")" ]
	grep -qx "ok	backups	1 file(s) in b, none known damaged, none failed its last drill; 1 hashed now, or read whole, and found as made" <<<"$output"
	grep -qx "ok	lock	no lock file yet (the first run makes it)" <<<"$output"
	# A damaged archive: a FAIL naming it and what to do; status 1.
	printf 'x' | dd of="$A" bs=1 seek=700 conv=notrunc 2>/dev/null
	run --separate-stderr vb-restore --check -d b
	[ "$status" -eq 1 ]
	grep -q "^FAIL	backups	$A: .*; it is kept, never pruned: .*(rm $A)\$" <<<"$output"
	[ "$(grep -c "^ok	backups" <<<"$output")" -eq 0 ]
	# With something else: bad usage, and nothing judged.
	for bad in "--check --list" "--check x" "--check --verify-only"; do
		# shellcheck disable=SC2086 # the options are words
		run --separate-stderr vb-restore $bad -d b
		[ "$status" -eq 2 ]
		[ -z "$output" ]
	done
}

@test "restore: --check never passes without a backup directory, quotes the paths of its fixes, and takes only vb-backup for a run" {
	# A backup directory that is not there (a disk not mounted, a
	# changed BACKUP_DIR): a FAIL, never an exit 0.
	run --separate-stderr vb-restore --check -d "$T/nowhere/b"
	[ "$status" -eq 1 ]
	grep -q "^FAIL	backups	$T/nowhere/b does not exist: no backup" <<<"$output"
	: >"$T/file"
	run --separate-stderr vb-restore --check -d "$T/file"
	[ "$status" -eq 1 ]
	grep -q "^FAIL	backups	$T/file is not a directory" <<<"$output"
	# A damaged archive in a directory whose name a shell would split:
	# the printed rm, pasted, removes that file and nothing else.
	mkdir -m 700 "$T/app.db backups"
	backup
	cp "$A" "$T/app.db backups/"
	: >"$T/app.db"
	f="$T/app.db backups/${A##*/}"
	printf 'x' | dd of="$f" bs=1 seek=700 conv=notrunc 2>/dev/null
	run --separate-stderr vb-restore --check -d "$T/app.db backups"
	[ "$status" -eq 1 ]
	cmd=$(sed -n 's/^FAIL	backups	.*(\(rm .*\))$/\1/p' <<<"$output")
	[ "$cmd" = "rm '$f'" ]
	bash -c "$cmd"
	[ ! -e "$f" ]
	[ -e "$T/app.db" ]
	# A program that is not vb-backup holds the lock, its command line
	# naming vb-backup (the directory's name): not a run.
	mkdir -m 700 "$T/vb-backup"
	: >"$T/vb-backup/.vb.lock"
	flock -o "$T/vb-backup/.vb.lock" sleep 60 &
	holder=$!
	WAIT_S=10 wait_for sh -c "! flock -n \"$T/vb-backup/.vb.lock\" true"
	# Both stopped by the teardown, by PID: flock and its sleep.
	# shellcheck disable=SC2031 # this test's own
	BG_PIDS="$holder $(pgrep -P "$holder")"
	run --separate-stderr vb-restore --check -d "$T/vb-backup"
	grep -q "^FAIL	lock	$T/vb-backup/.vb.lock is held by PID [0-9]* (.*), not a vb-backup run" <<<"$output"
}
