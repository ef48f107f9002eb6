#!/usr/bin/env bats
# A drop-in for the old Node service: its BackupLog table written as it
# writes it, its raw backup-*.db files listed, pruned and restored, its
# "7 days", and history that survives a restore.

# shellcheck disable=SC2154 # bats' run --separate-stderr sets $stderr
bats_require_minimum_version 1.5.0
load helpers

# The Node service's table, as its migration created it.
NODE_TABLE="CREATE TABLE BackupLog (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  filename TEXT,
  size INTEGER,
  status TEXT CHECK(status IN ('SUCCESS', 'FAILED')),
  message TEXT,
  createdAt TEXT NOT NULL)"

# node_db CHECK: app.db with the Node table (without its CHECK unless
# CHECK is 1) and two rows the old service wrote.
node_db() {
	mkdb app.db wal
	if [ "$1" -eq 1 ]; then
		sqlite3 app.db "$NODE_TABLE"
	else
		sqlite3 app.db "${NODE_TABLE/ CHECK(status IN (\'SUCCESS\', \'FAILED\'))/}"
	fi
	sqlite3 app.db "INSERT INTO BackupLog (filename, size, status, message,
	    createdAt) VALUES ('backup-2023-10-02T18-30-00-000Z.db', 1024,
	    'SUCCESS', 'Backup created successfully', '2023-10-02T18:30:00.000Z'),
	    ('backup-2023-10-03T18-30-00-000Z.db', NULL, 'FAILED',
	    'SQLITE_BUSY: database is locked', '2023-10-03T18:30:00.000Z')"
	sqlite3 app.db "SELECT sql FROM sqlite_master WHERE name = 'BackupLog'" >schema.before
	sqlite3 app.db "SELECT * FROM BackupLog" >rows.before
}

conf() {
	printf 'DB_PATH=%s\nBACKUP_DIR=%s\n' "$T/app.db" "$T/backups" >"$VB_CONF"
	printf '%s\n' "$@" >>"$VB_CONF"
}

@test "migrate: the Node service's BackupLog gets a row per operation in its own words; its rows and schema untouched" {
	slow
	for check in 1 0; do
		rm -rf app.db* backups
		node_db "$check"
		mkdir -m 700 backups
		# An old backup that retention will delete.
		: >backups/backup-2023-10-01T18-30-00-000Z.db
		conf MAX_BACKUPS=1 KEEP_DAILY=0
		run --separate-stderr vb_backup
		[ "$status" -eq 0 ]
		[ "$(sqlite3 app.db "SELECT sql FROM sqlite_master WHERE name = 'BackupLog'")" = "$(cat schema.before)" ]
		[ "$(sqlite3 app.db 'SELECT * FROM BackupLog WHERE id <= 2')" = "$(cat rows.before)" ]
		run sqlite3 app.db "SELECT status || ' ' || substr(message, 1,
		    instr(message, ':') - 1) FROM BackupLog WHERE id > 2 ORDER BY id"
		[ "${lines[*]}" = "SUCCESS snapshot SUCCESS compress SUCCESS prune SUCCESS verify SUCCESS backup" ]
		[ "$(sqlite3 app.db "SELECT size FROM BackupLog WHERE message LIKE 'compress:%'")" = \
		    "$(stat -c %s backups/backup-*.tar.zst)" ]
		[ ! -e backups/backup-2023-10-01T18-30-00-000Z.db ]
		# --show reads it back with the same mapping.
		run --separate-stderr vb-log --show app.db
		assert_record "${lines[0]}" backup ok
		# The first night's drill (the weekly integrity_check, on the
		# restored copy), then the snapshot's quick_check, run by
		# vb-compress beside its compression.
		assert_record "${lines[1]}" verify ok
		[[ $(field 8 "${lines[1]}") == "drill: restored and proven: integrity_check ok"* ]]
		assert_record "${lines[4]}" snapshot ok
		[ "$(field 8 "${lines[4]}" | cut -d' ' -f1)" = quick_check=deferred ]
		[[ $(field 8 "${lines[3]}") == *"snapshot's quick_check ok"* ]]
		[ "${#lines[@]}" -eq 7 ]
		assert_record "${lines[5]}" backup failed
		run --separate-stderr vb-log --show --failures app.db
		[ "${#lines[@]}" -eq 1 ]
		[[ ${lines[0]} == *"SQLITE_BUSY: database is locked" ]]
	done
}

@test "migrate: the old service's raw backup-*.db files are listed, pruned and restored as they are" {
	mkdb app.db wal 50
	mkdir -m 700 backups
	sqlite3 app.db "VACUUM INTO '$T/backups/backup-2023-10-02T18-30-00-000Z.db'"
	run --separate-stderr vb-restore --list backups
	[ "$status" -eq 0 ]
	[[ ${lines[0]} == "$T/backups/backup-2023-10-02T18-30-00-000Z.db	list	ok	"* ]] ||
	    [[ ${lines[0]} == "backups/backup-2023-10-02T18-30-00-000Z.db	list	ok	"* ]]
	run --separate-stderr vb-restore --quick-check --to old.db \
	    backups/backup-2023-10-02T18-30-00-000Z.db
	[ "$status" -eq 0 ]
	[ "$(sqlite3 old.db 'SELECT count(*) FROM ledger')" -eq 50 ]
	# Counted by retention like any backup: the nightly keeps it today,
	# within 7 days of it... and prunes it once newer ones are enough.
	conf MAX_BACKUPS=1 KEEP_DAILY=1
	run --separate-stderr vb_backup
	[ "$status" -eq 0 ]
	[ ! -e backups/backup-2023-10-02T18-30-00-000Z.db ]
	[ "$(sqlite3 app.db "SELECT count(*) FROM BackupLog WHERE operation = 'prune'
	    AND filename LIKE '%backup-2023-10-02T18-30-00-000Z.db'")" -eq 1 ]
}

@test "migrate: BACKUP_INTERVAL is accepted, and only a warning when it disagrees with cron" {
	mkdb app.db wal
	conf BACKUP_INTERVAL=86400000
	run --separate-stderr vb_backup --dry-run
	[ "$status" -eq 0 ]
	conf BACKUP_INTERVAL=3600000
	run --separate-stderr vb_backup
	[ "$status" -eq 0 ]
	conf BACKUP_INTERVAL=soon
	run --separate-stderr vb_backup
	[ "$status" -eq 2 ]
	[[ $stderr == *"BACKUP_INTERVAL must be a whole number of milliseconds"* ]]
}

# The stricter tables a Node application may have: NOT NULL filename, a
# CHECK on the status words, updatedAt NOT NULL, createdAt as Unix
# milliseconds (Date.now()); as Sequelize's DATETIME text; as Unix
# seconds.  Each with the rows the old service left.
STRICT_MS="CREATE TABLE BackupLog (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  filename TEXT NOT NULL,
  size INTEGER,
  status TEXT NOT NULL CHECK(status IN ('SUCCESS', 'FAILED')),
  message TEXT,
  createdAt INTEGER NOT NULL,
  updatedAt INTEGER NOT NULL);
INSERT INTO BackupLog (filename, size, status, message, createdAt, updatedAt)
  VALUES ('backup-2023-10-02T18-30-00-000Z.db', 1024, 'SUCCESS', 'old',
  1696271400000, 1696271400000)"
STRICT_TEXT="CREATE TABLE BackupLog (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  filename VARCHAR(255) NOT NULL,
  size INTEGER,
  status VARCHAR(255) NOT NULL CHECK(status IN ('SUCCESS', 'FAILED')),
  message TEXT,
  createdAt DATETIME NOT NULL,
  updatedAt DATETIME NOT NULL);
INSERT INTO BackupLog (filename, size, status, message, createdAt, updatedAt)
  VALUES ('backup-2023-10-02T18-30-00-000Z.db', 1024, 'SUCCESS', 'old',
  '2023-10-02 18:30:00.000 +00:00', '2023-10-02 18:30:00.000 +00:00')"
STRICT_S="CREATE TABLE BackupLog (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  filename TEXT NOT NULL,
  size INTEGER NOT NULL,
  status TEXT NOT NULL CHECK(status IN ('SUCCESS', 'FAILED')),
  message TEXT NOT NULL,
  createdAt INTEGER NOT NULL);
INSERT INTO BackupLog (filename, size, status, message, createdAt)
  VALUES ('backup-2023-10-02T18-30-00-000Z.db', 1024, 'SUCCESS', 'old',
  1696271400)"

# newest_row: the old service's own query, its first row: what an
# operator sees first.  (A table that keeps whole seconds cannot order
# the rows of one second: there, id breaks the tie.)
newest_row() {
	sqlite3 app.db "SELECT status || '|' || filename || '|' || message
	    FROM BackupLog ORDER BY createdAt DESC${TIE:-} LIMIT 1"
}

@test "migrate: stricter BackupLog tables get a row for a good run and for every kind of failed one, in their own time representation" {
	slow
	for table in "$STRICT_MS" "$STRICT_TEXT" "$STRICT_S"; do
		TIE=
		[ "$table" != "$STRICT_S" ] || TIE=", id DESC"
		rm -rf app.db* backups mnt
		mkdb app.db wal
		sqlite3 app.db "$table"
		run --separate-stderr vb-log --check app.db
		[ "$status" -eq 0 ]
		[[ $output == *"takes success and failure rows"* ]]
		# A good night.
		conf
		run --separate-stderr vb_backup
		[ "$status" -eq 0 ]
		[[ $(newest_row) == "SUCCESS|$T/backups/backup-"*".tar.zst|backup: ok: "* ]]
		n=$(sqlite3 app.db "SELECT count(*) FROM BackupLog")
		# A typo in vb.conf: exit 2, and still a row on top.
		conf MAX_BACKUP=3
		run --separate-stderr vb_backup
		[ "$status" -eq 2 ]
		[[ $(newest_row) == "FAILED||backup: failed at config: "*"unknown key MAX_BACKUP"* ]]
		# The backup directory a file, then on a read-only file system,
		# then on a full one.
		echo x >"$T/file"
		printf 'DB_PATH=%s\nBACKUP_DIR=%s\n' "$T/app.db" "$T/file" >"$VB_CONF"
		run --separate-stderr vb_backup
		[ "$status" -eq 1 ]
		[[ $(newest_row) == "FAILED||backup: failed at directory: "* ]]
		small_fs 64k
		mount -o remount,ro "$MNT"
		printf 'DB_PATH=%s\nBACKUP_DIR=%s\n' "$T/app.db" "$MNT" >"$VB_CONF"
		run --separate-stderr vb_backup
		[ "$status" -eq 1 ]
		[[ $(newest_row) == "FAILED||backup: failed at "*"read-only file system"* ]]
		mount -o remount,rw "$MNT"
		run --separate-stderr vb_backup
		[ "$status" -eq 1 ]
		[[ $(newest_row) == "FAILED||backup: failed at preflight: "* ]]
		umount "$MNT"
		MNT=
		# The application's database damaged: the snapshot fails its
		# check in vb-compress.
		conf
		sqlite3 app.db "PRAGMA wal_checkpoint(TRUNCATE)" >/dev/null
		page=$(sqlite3 app.db "SELECT rootpage FROM sqlite_master
		    WHERE name = 'ledger_account'")
		printf '\377\377\377\377\377\377\377\377' | dd of=app.db bs=1 \
		    seek=$((4096 * (page - 1) + 8)) conv=notrunc 2>/dev/null
		run --separate-stderr vb_backup
		[ "$status" -eq 1 ]
		[[ $(newest_row) == "FAILED||backup: failed at compress: "*"failed "*"_check"* ]]
		# Every run left its rows: the failures on top of the success.
		[ "$(sqlite3 app.db "SELECT count(*) FROM BackupLog")" -eq $((n + 7)) ]
		run --separate-stderr vb-log --show --failures app.db
		[ "${#lines[@]}" -eq 6 ]
		assert_record "${lines[0]}" backup failed
		[[ $(field 7 "${lines[0]}") == "$(date -u +%Y-%m-%d)T"* ]]
		# Times read back as times, whatever the table keeps.
		run --separate-stderr vb-log --show -n 6 app.db
		[[ $(field 7 "${lines[5]}") == 20* ]]
		[ "$(field 7 "$(tail -n1 <<<"$(vb-log --show app.db)")")" = \
		    "2023-10-02T18:30:00.000Z" ]
		# The old service's last row is still its own, untouched.
		[ "$(sqlite3 app.db "SELECT message FROM BackupLog WHERE id = 1")" = old ]
	done
}
