#!/usr/bin/env bats
# vb-restore --diff: what changed since a backup, table by table, and the
# SQL that puts one table back; on ventry-like databases in WAL and
# rollback mode, with every shape of table (composite keys, WITHOUT
# ROWID, rowid only, BLOBs, NULLs), from plain, encrypted, delta and
# offsite backups.  The live database is never changed.

# shellcheck disable=SC2154 # bats' run --separate-stderr sets $stderr
bats_require_minimum_version 1.5.0
load helpers
load ventry

# row TABLE: the fields line --diff printed for TABLE (TAB-separated).
row() {
	grep "^$1	" <<<"$output" | cut -f2-7
}

dumps() {
	sqlite3 app.db ".dump users orders kv events" | sha256sum
}

@test "diff: rows only in the backup, only live and changed, for every shape of table, in WAL and rollback mode; the live database unchanged" {
	for mode in wal delete; do
		rm -rf app.db* b
		app "$mode"
		backup
		change
		before=$(dumps)
		sum=$(sha256sum app.db)
		run --separate-stderr vb-restore --diff "$A"
		[ "$status" -eq 0 ]
		[ "$(row users)" = "differs	200	181	20	1	3" ]
		[ "$(row orders)" = "differs	300	268	33	1	4" ]
		[ "$(row kv)" = "differs	3	3	1	1	1" ]
		# events has no key: a multiset, whose changed row is one
		# copy only in the backup and one only live.
		[ "$(row events)" = "differs	50	49	3	2	0" ]
		# BackupLog is vb's: never compared.
		! grep -qi '^backuplog' <<<"$output"
		[ "$(dumps)" = "$before" ]
		[ "$(sha256sum app.db)" = "$sum" ]
		no_temporaries b
		[ -z "$(find b -name '.vb-tmp-*')" ]
	done
}

@test "diff: --json, and a table on a terminal" {
	app wal
	backup
	change
	run --separate-stderr vb-restore --diff --json "$A"
	[ "$status" -eq 0 ]
	[ "$(jq -r '.[] | select(.table == "users") | "\(.only_backup) \(.only_live) \(.changed)"' <<<"$output")" = "20 1 3" ]
	[ "$(jq length <<<"$output")" -eq 4 ]
	command -v script >/dev/null || skip "no script(1)"
	run script -qec "VB_CONF=$VB_CONF vb-restore -q --diff $A" /dev/null
	[[ ${lines[0]} == table*state*"only backup"*"only live"*changed* ]]
	[[ ${lines[4]} == users*differs*200*181*20*1*3* ]]
}

@test "diff: --diff-table --json gives the rows themselves: each change, the backup's and the live row, BLOBs as hex; a table without a key as copies" {
	app wal
	backup
	change
	run --separate-stderr vb-restore --diff-table users --json "$A"
	[ "$status" -eq 0 ]
	[ "$(jq length <<<"$output")" -eq 24 ]
	[ "$(jq '[.[] | select(.change == "only-backup")] | length' <<<"$output")" -eq 20 ]
	[ "$(jq -r '.[] | select(.change == "changed" and .backup.id == 60) | "\(.backup.email) \(.live.email)"' <<<"$output")" = "u60@ventry null" ]
	[ "$(jq -r '.[] | select(.change == "changed" and .backup.id == 50) | .live.avatar.hex' <<<"$output")" = 01 ]
	run --separate-stderr vb-restore --diff-table events --json "$A"
	[ "$status" -eq 0 ]
	[ "$(jq -r '[.[] | select(.change == "only-live") | .live.what] | sort | join(" ")' <<<"$output")" = "e10 late" ]
	[ "$(jq -r '[.[] | select(.change == "only-backup") | .backup.what] | sort | join(" ")' <<<"$output")" = "e10 e3 e4" ]
	[ "$(jq '[.[] | select(.change == "changed")] | length' <<<"$output")" -eq 0 ]
}

@test "diff: --diff-table prints SQL that makes the live table equal the backup's, for each shape of table" {
	app wal
	backup
	change
	for t in users orders kv events; do
		run --separate-stderr vb-restore --diff-table "$t" "$A"
		[ "$status" -eq 0 ]
		[[ ${lines[0]} == "-- vb-restore --diff-table: "* ]]
		[[ $output == *"fire the table's triggers"* ]]
		grep -qx 'BEGIN;' <<<"$output"
		printf '%s\n' "$output" | sqlite3 app.db
		run --separate-stderr vb-restore --diff "$A"
		[ "$(row "$t" | cut -f1)" = same ]
	done
	# The whole database is the backup's again (rows put back may sit
	# in another order on disk).
	vb-restore -q --to back.db "$A" >/dev/null
	[ "$(sqlite3 app.db ".dump users orders kv events" | sort)" = \
	    "$(sqlite3 back.db ".dump users orders kv events" | sort)" ]
}

@test "diff: a table whose columns changed, or that only one side has, is named; --diff-table refuses it" {
	app delete
	backup
	sqlite3 app.db "ALTER TABLE events ADD COLUMN source TEXT;
	    DROP TABLE kv; CREATE TABLE audit(x)"
	run --separate-stderr vb-restore --diff "$A"
	[ "$status" -eq 0 ]
	[[ $(row events) == "schema	50	50	"* ]]
	[[ $(row kv) == "only-backup	3	-1	"* ]]
	[[ $(row audit) == "only-live	-1	0	"* ]]
	run --separate-stderr vb-restore --diff-table events "$A"
	[ "$status" -eq 1 ]
	[[ $stderr == *"events: its columns differ between the backup and the live database: only live: source"* ]]
	run --separate-stderr vb-restore --diff-table nosuch "$A"
	[ "$status" -eq 1 ]
	[[ $stderr == *"no table nosuch in the backup or the live database"* ]]
}

@test "diff: from an encrypted backup (with its identity), a delta's chain, and the remote's copy" {
	slow
	chain_night
	run --separate-stderr vb-restore --diff "$A"
	[ "$status" -eq 1 ]
	[[ $stderr == *"give the identity"* ]]
	run --separate-stderr vb-restore -i key.txt --diff "$A"
	[ "$status" -eq 0 ]
	[ "$(row users)" = "differs	200	181	20	1	3" ]
	# The remote's copy, the local ones gone.
	name=$(basename "$A")
	rm -f b/backup-*
	run --separate-stderr vb-restore -i key.txt --offsite --diff "$name"
	[ "$status" -eq 0 ]
	[ "$(row users)" = "differs	200	181	20	1	3" ]
	[ -z "$(find b -name '.vb-tmp-*')" ]
}

@test "diff: bad input: no archive, a damaged one, no live database, no --db nor DB_PATH, --diff with --to" {
	app delete
	backup
	run --separate-stderr vb-restore --diff "$T/b/backup-2026-01-01T01-00-00-000Z.tar.zst"
	[ "$status" -eq 1 ]
	[[ $stderr == *"No such file"* ]]
	cp "$A" "$T/b/backup-2026-01-02T01-00-00-000Z.tar.zst"
	flip_byte "$T/b/backup-2026-01-02T01-00-00-000Z.tar.zst" 300
	run --separate-stderr vb-restore --diff "$T/b/backup-2026-01-02T01-00-00-000Z.tar.zst"
	[ "$status" -eq 1 ]
	run --separate-stderr vb-restore --diff --db "$T/none.db" "$A"
	[ "$status" -eq 1 ]
	[[ $stderr == *"$T/none.db"* ]]
	[ ! -e "$T/none.db" ]
	run --separate-stderr env VB_CONF=/dev/null vb-restore -d b --diff "$A"
	[ "$status" -eq 2 ]
	[[ $stderr == *"--diff compares one archive with --db DB (or DB_PATH)"* ]]
	run --separate-stderr vb-restore --diff --to x.db "$A"
	[ "$status" -eq 2 ]
	[ -z "$(find b -name '.vb-tmp-*')" ]
}
