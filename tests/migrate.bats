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
		[ "${lines[*]}" = "SUCCESS snapshot SUCCESS compress SUCCESS prune SUCCESS backup" ]
		[ "$(sqlite3 app.db "SELECT size FROM BackupLog WHERE message LIKE 'compress:%'")" = \
		    "$(stat -c %s backups/backup-*.tar.zst)" ]
		[ ! -e backups/backup-2023-10-01T18-30-00-000Z.db ]
		# --show reads it back with the same mapping.
		run --separate-stderr vb-log --show app.db
		assert_record "${lines[0]}" backup ok
		assert_record "${lines[3]}" snapshot ok
		# The first night's snapshot gets the weekly integrity_check,
		# run by vb-compress beside its compression.
		[ "$(field 8 "${lines[3]}" | cut -d' ' -f1)" = integrity=deferred ]
		[[ $(field 8 "${lines[2]}") == *"snapshot's integrity_check ok"* ]]
		[ "${#lines[@]}" -eq 6 ]
		assert_record "${lines[4]}" backup failed
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
