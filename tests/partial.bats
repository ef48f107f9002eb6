#!/usr/bin/env bats
# vb-restore --table [--where]: tables or rows put back from a verified
# backup into the live database, in one transaction, the rest of the live
# data left as it is; on ventry-like databases in WAL and rollback mode
# with an application connection held open across the restore.

# shellcheck disable=SC2154 # bats' run --separate-stderr sets $stderr
bats_require_minimum_version 1.5.0
load helpers
load ventry

# table T [DB]: T's rows, sorted, hashed.
table() {
	sqlite3 "${2:-app.db}" "SELECT * FROM \"$1\"" | sort | sha256sum
}

# state: the live database's bytes (and its WAL's).
state() {
	cat app.db app.db-wal 2>/dev/null | sha256sum
}

# holder: an application connection, held open (python3's sqlite3): it
# reads users' count now and once $T/go exists, into $T/seen.
holder() {
	python3 - "$T/app.db" "$T" <<'PY' &
import os, sqlite3, sys, time
db = sqlite3.connect(sys.argv[1], isolation_level=None)
out = open(sys.argv[2] + "/seen", "w")
out.write("%d\n" % db.execute("SELECT count(*) FROM users").fetchone()[0])
out.flush()
while not os.path.exists(sys.argv[2] + "/go"):
    time.sleep(0.05)
out.write("%d\n" % db.execute("SELECT count(*) FROM users").fetchone()[0])
out.close()
PY
	BG_PIDS="$BG_PIDS $!"
	wait_for test -s "$T/seen"
}

# seen_twice: the holder read twice.
seen_twice() {
	[ "$(wc -l <seen)" -eq 2 ]
}

@test "table: each shape of table put back whole, in WAL and rollback mode; the others keep today's rows; an open connection sees the rows back" {
	slow
	for mode in wal delete; do
		rm -rf app.db* b seen go
		app "$mode"
		backup
		change
		vb-restore -q --to back.db "$A" >/dev/null
		holder
		kv_today=$(table kv)
		run --separate-stderr vb-restore --table users --table orders \
		    --table events --db app.db "$A"
		[ "$status" -eq 0 ]
		assert_record "$output" restore ok
		# events has no key: its changed row is a copy put back and
		# one deleted, never "reset".
		[[ $(field 8 "$output") == "users: 20 put back, 1 deleted, 3 reset; orders: 33 put back, 1 deleted, 4 reset; events: 3 put back, 2 deleted, 0 reset from $A; pre-restore copy: "*"; undo=$T/b/undo-"*.changeset ]]
		for t in users orders events; do
			[ "$(table "$t")" = "$(table "$t" back.db)" ]
		done
		# kv was not named: today's rows stay.
		[ "$(table kv)" = "$kv_today" ]
		touch go
		wait_for seen_twice
		[ "$(sed -n 2p seen)" -eq 200 ]
		[ "$(sed -n 1p seen)" -eq 181 ]
		[ "$(sqlite3 app.db 'PRAGMA integrity_check')" = ok ]
		# The row in BackupLog names the tables and counts.
		[[ $(sqlite3 app.db "SELECT message FROM BackupLog WHERE
		    operation = 'restore'") == "users: 20 put back"* ]]
		rm -f back.db
	done
}

@test "table --where: only the backup's rows that match come back (deleted ones inserted, changed ones reset), every other row untouched, for each shape" {
	app wal
	backup
	change
	vb-restore -q --to back.db "$A" >/dev/null
	q() {	# q DB SQL
		sqlite3 "$1" "$2"
	}
	run --separate-stderr vb-restore --table users --where 'id <= 5 OR id = 50' \
	    --db app.db "$A"
	[ "$status" -eq 0 ]
	[[ $(field 8 "$output") == "users: 5 put back, 0 deleted, 1 reset where id <= 5 OR id = 50 from $A;"* ]]
	[ "$(q app.db 'SELECT count(*) FROM users WHERE id <= 20')" -eq 5 ]
	[ "$(q app.db "SELECT hex(avatar) FROM users WHERE id = 50")" = \
	    "$(q back.db "SELECT hex(avatar) FROM users WHERE id = 50")" ]
	[ "$(q app.db "SELECT hex(avatar) FROM users WHERE id = 51")" = 01 ]
	[ "$(q app.db "SELECT count(*) FROM users WHERE email = 'new@ventry'")" -eq 1 ]
	run --separate-stderr vb-restore --table orders \
	    --where "shop = 'shop1' AND n < 10" --db app.db "$A"
	[ "$status" -eq 0 ]
	[ "$(q app.db "SELECT count(*) FROM orders WHERE shop = 'shop1' AND n < 100")" -eq 3 ]
	run --separate-stderr vb-restore --table kv --where "k = 'c'" --db app.db "$A"
	[ "$status" -eq 0 ]
	[ "$(q app.db "SELECT hex(v) FROM kv WHERE k = 'c'")" = 00FF ]
	[ "$(q app.db "SELECT v FROM kv WHERE k = 'b'")" -eq 2 ]
	run --separate-stderr vb-restore --table events \
	    --where "what IN ('e3', 'e10')" --db app.db "$A"
	[ "$status" -eq 0 ]
	[ "$(q app.db "SELECT count(*) FROM events WHERE what = 'e3'")" -eq 1 ]
	# No key: the backup's e10 comes back beside today's, which is
	# not the backup's row (nothing tells it was that row once).
	[ "$(q app.db "SELECT count(*) FROM events WHERE what = 'e10'")" -eq 2 ]
	[ "$(q app.db "SELECT count(*) FROM events WHERE what = 'e10' AND
	    at IS NULL")" -eq 1 ]
	[ "$(q app.db "SELECT count(*) FROM events WHERE what = 'e10' AND at =
	    '$(q back.db "SELECT at FROM events WHERE what = 'e10'")'")" -eq 1 ]
	[ "$(q app.db "SELECT count(*) FROM events WHERE what = 'e4'")" -eq 0 ]
}

@test "table: refusals change nothing, byte for byte: a schema change, a table only one side has, BackupLog, a --where that is not one condition on the table" {
	slow
	app wal
	backup
	change
	sqlite3 app.db "ALTER TABLE events ADD COLUMN source"
	before=$(state)
	for t in events nosuch BackupLog; do
		run --separate-stderr vb-restore --table "$t" --db app.db "$A"
		[ "$status" -eq 1 ]
		[ "$(state)" = "$before" ]
	done
	for w in "1; DROP TABLE users" "(SELECT count(*) FROM orders) > 0" \
	    "id IN (DELETE FROM orders RETURNING n)" "1) OR (1"; do
		run --separate-stderr vb-restore --table users --where "$w" \
		    --db app.db "$A"
		[ "$status" -eq 1 ]
		[[ $stderr == *"--where must be one condition on the columns of users"* ]]
		[ "$(state)" = "$before" ]
	done
	run --separate-stderr vb-restore --table events --db app.db "$A"
	[[ $stderr == *"events: its columns differ between the backup and the live database"* ]]
	run --separate-stderr vb-restore --table BackupLog --db app.db "$A"
	[[ $stderr == *"BackupLog is vb's history"* ]]
	run --separate-stderr vb-restore --table users --where "1; DROP TABLE users" --db app.db "$A"
	[[ $stderr == *"--where must be one condition on the columns of users"* ]]
	run --separate-stderr vb-restore --table users --where "(SELECT count(*) FROM orders) > 0" --db app.db "$A"
	[[ $stderr == *"--where must be one condition on the columns of users"*"not authorized"* ]]
	[ -z "$(find b -name 'pre-restore-*')" ]
	[ "$(state)" = "$before" ]
	# --dry-run: the counts, and nothing changed.
	run --separate-stderr vb-restore --table users --dry-run --db app.db "$A"
	[ "$status" -eq 0 ]
	[ "$output" = "dry run, nothing changed: users: 20 put back, 1 deleted, 3 reset from $A" ]
	[ "$(state)" = "$before" ]
	[ -z "$(find b -name 'pre-restore-*')" ]
}

@test "table: a foreign key the restore would break is refused, then forced; triggers do not fire" {
	sqlite3 app.db "PRAGMA journal_mode=wal;
	    CREATE TABLE parent(id INTEGER PRIMARY KEY);
	    CREATE TABLE child(id INTEGER PRIMARY KEY,
		pid INTEGER REFERENCES parent(id));
	    CREATE TABLE audit(what);
	    CREATE TRIGGER child_in AFTER INSERT ON child
		BEGIN INSERT INTO audit VALUES ('insert'); END;
	    INSERT INTO parent VALUES (1), (2), (3);
	    INSERT INTO child VALUES (1, 1), (2, 2), (3, 3);" >/dev/null
	backup
	sqlite3 app.db "DELETE FROM child WHERE pid = 3;
	    DELETE FROM parent WHERE id = 3; DELETE FROM audit"
	before=$(state)
	run --separate-stderr vb-restore --table child --db app.db "$A"
	[ "$status" -eq 1 ]
	[[ $stderr == *"foreign keys would be broken: row 3 of child refers to a parent row that would not exist"*"--force"* ]]
	[ "$(state)" = "$before" ]
	# Refused: no safety copy of an unchanged database is left either.
	[ -z "$(find b -name 'pre-restore-*')" ]
	run --separate-stderr vb-restore --force --table child --db app.db "$A"
	[ "$status" -eq 0 ]
	[[ $(field 8 "$output") == *"1 foreign key violations kept (--force)"* ]]
	[ "$(sqlite3 app.db 'SELECT count(*) FROM child')" -eq 3 ]
	[ "$(sqlite3 app.db 'SELECT count(*) FROM audit')" -eq 0 ]
	# Both tables together break nothing.
	sqlite3 app.db "DELETE FROM child WHERE id = 3"
	run --separate-stderr vb-restore --table parent --table child --db app.db "$A"
	[ "$status" -eq 0 ]
	[ -z "$(sqlite3 app.db 'PRAGMA foreign_key_check')" ]
}

@test "table: from an encrypted backup, a delta's chain and the remote's copy; the printed undo undoes it" {
	slow
	chain_night
	today=$(table users)
	name=$(basename "$A")
	rm -f b/backup-*
	run --separate-stderr vb-restore -i key.txt --offsite --table users \
	    --db app.db "$name"
	[ "$status" -eq 0 ]
	[ "$(sqlite3 app.db "SELECT email FROM users WHERE id = 1")" = second ]
	[ "$(sqlite3 app.db 'SELECT count(*) FROM users')" -eq 200 ]
	undo=$(sed -n 's/.*to undo: //p' <<<"$stderr")
	[[ $undo == "vb-restore -i IDENTITY-FILE -d $T/b --undo $T/b/undo-"*".changeset.age --db app.db" ]]
	# shellcheck disable=SC2086 # the command as printed, split as typed
	run --separate-stderr ${undo/IDENTITY-FILE/key.txt}
	[ "$status" -eq 0 ]
	[ "$(table users)" = "$today" ]
}

@test "table: kill -9 mid-restore leaves the live database as it was or wholly restored, never half" {
	slow
	app wal
	sqlite3 app.db "WITH RECURSIVE i(x) AS (SELECT 1 UNION ALL SELECT x + 1
	    FROM i WHERE x < 60000) INSERT INTO events SELECT hex(randomblob(40)),
	    NULL FROM i"
	backup
	sqlite3 app.db "DELETE FROM events WHERE rowid % 3 = 0;
	    UPDATE events SET at = 'x' WHERE rowid % 5 = 0"
	after=$(table events "$(vb-restore -q --to back.db "$A" >/dev/null &&
	    echo back.db)")
	for delay in 0.05 0.15 0.3 0.5 0.8; do
		before=$(table events)
		vb-restore -q --table events --db app.db "$A" >/dev/null 2>&1 &
		pid=$!
		sleep "$delay"
		kill -9 "$pid" 2>/dev/null || true
		wait "$pid" || true
		now=$(table events)
		[ "$now" = "$before" ] || [ "$now" = "$after" ]
		[ "$(sqlite3 app.db 'PRAGMA integrity_check')" = ok ]
	done
	vb-restore -q --table events --db app.db "$A" >/dev/null
	[ "$(table events)" = "$after" ]
	# The killed runs' work directories are gone with the next run.
	[ -z "$(find b -name '.vb-tmp-*')" ]
}
