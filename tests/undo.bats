#!/usr/bin/env bats
# A partial restore changes only the rows it was asked for, or nothing,
# and its undo reverses exactly what it did: each defect users found
# (issue 34) as a case of its own, on small databases of the shapes that
# found them.  tests/model.bats draws many more at random.

# shellcheck disable=SC2154 # bats' run --separate-stderr sets $stderr
bats_require_minimum_version 1.5.0
load helpers
load ventry

# rows T [DB]: T's rows, sorted.
rows() {
	sqlite3 "${2:-app.db}" "SELECT * FROM \"$1\"" | sort | tr '\n' ' '
}

# state: the live database's bytes (and its WAL's).
state() {
	cat app.db app.db-wal 2>/dev/null | sha256sum
}

# copies_beyond N: more than N pre-restore copies in b.
copies_beyond() {
	[ "$(find b -name 'pre-restore-*' | wc -l)" -gt "$1" ]
}

# undo_of OUTPUT: the undo file a restore's record names.
undo_of() {
	field 8 "$1" | sed -n 's/.*; undo=//p'
}

@test "undo: letter case: --table ORDERS is Orders, and a foreign key whose REFERENCES says orders is checked" {
	sqlite3 app.db "PRAGMA journal_mode=wal;
	    CREATE TABLE Orders(id INTEGER PRIMARY KEY, who TEXT);
	    CREATE TABLE order_items(id INTEGER PRIMARY KEY,
		oid INTEGER REFERENCES orders(id) ON DELETE CASCADE, sku TEXT);
	    INSERT INTO Orders VALUES (1, 'a'), (2, 'b');
	    INSERT INTO order_items VALUES (1, 1, 'x'), (2, 2, 'y');" >/dev/null
	backup
	# Orders written since the backup, with their items.
	sqlite3 app.db "INSERT INTO Orders VALUES (3, 'c');
	    INSERT INTO order_items VALUES (3, 3, 'z')"
	before=$(state)
	for t in ORDERS orders Orders; do
		run --separate-stderr vb-restore --table "$t" --db app.db "$A"
		[ "$status" -eq 1 ]
		[[ $stderr == *"foreign keys would be broken: row 3 of order_items refers to a orders row that would not exist"* ]]
		[ "$(state)" = "$before" ]
	done
	# The same name twice, in two cases, is refused too.
	run --separate-stderr vb-restore --table orders --table ORDERS \
	    --db app.db "$A"
	[ "$status" -eq 1 ]
	[[ $stderr == *"Orders: named twice"* ]]
	# Both tables together break nothing: the new order goes with its
	# items, as asked, and nothing cascades.
	run --separate-stderr vb-restore --table ORDERS --table ORDER_ITEMS \
	    --db app.db "$A"
	[ "$status" -eq 0 ]
	[ "$(rows Orders)" = "1|a 2|b " ]
	[ "$(rows order_items)" = "1|1|x 2|2|y " ]
}

@test "undo: a foreign key check that cannot run refuses the restore" {
	sqlite3 app.db "PRAGMA journal_mode=wal;
	    CREATE TABLE parent(code TEXT, n);
	    CREATE TABLE child(id INTEGER PRIMARY KEY,
		code TEXT REFERENCES parent(code));
	    INSERT INTO parent VALUES ('a', 1); INSERT INTO child VALUES (1, 'a');" \
	    >/dev/null
	backup
	sqlite3 app.db "DELETE FROM child"
	before=$(state)
	# parent.code is no key: SQLite calls the foreign key a mismatch.
	run --separate-stderr vb-restore --table child --db app.db "$A"
	[ "$status" -eq 1 ]
	[[ $stderr == *"checking the foreign keys of child: foreign key mismatch"* ]]
	[ "$(state)" = "$before" ]
	[ -z "$(find b -name 'pre-restore-*' -o -name 'undo-*')" ]
}

@test "undo: --where never overwrites a live row that does not match: a key reused since is a collision, refused with its keys" {
	sqlite3 app.db "PRAGMA journal_mode=wal;
	    CREATE TABLE notes(body TEXT, created TEXT);
	    CREATE TABLE tickets(id INTEGER PRIMARY KEY, body TEXT, created TEXT);
	    INSERT INTO notes VALUES ('old1', '2026-01-05'), ('old2', '2026-01-06');
	    INSERT INTO tickets VALUES (1, 'old1', '2026-01-05'),
		(2, 'old2', '2026-01-06');" >/dev/null
	backup
	# DELETE without WHERE, then two new rows that reuse rowids 1, 2.
	sqlite3 app.db "DELETE FROM notes; DELETE FROM tickets;
	    INSERT INTO notes VALUES ('new1', '2026-03-01'), ('new2', '2026-03-02');
	    INSERT INTO tickets VALUES (1, 'new1', '2026-03-01'),
		(2, 'new2', '2026-03-02');"
	before=$(state)
	run --separate-stderr vb-restore --table tickets \
	    --where "created < '2026-02-01'" --db app.db "$A"
	[ "$status" -eq 1 ]
	[[ $stderr == *"tickets: 2 of the backup's rows matching --where have their key held by a live row that does not match it"*"(1) (2)"*"nothing changed"* ]]
	[ "$(state)" = "$before" ]
	# notes has no key: its rows are matched whole, so the old ones
	# come back beside the new ones, which stay.
	run --separate-stderr vb-restore --table notes \
	    --where "created < '2026-02-01'" --db app.db "$A"
	[ "$status" -eq 0 ]
	[[ $(field 8 "$output") == "notes: 2 put back, 0 deleted, 0 reset where created < '2026-02-01' from"* ]]
	[ "$(rows notes)" = "new1|2026-03-01 new2|2026-03-02 old1|2026-01-05 old2|2026-01-06 " ]
}

@test "undo: a table without a key after VACUUM: rows matched whole, never by rowid; nothing unrelated touched" {
	sqlite3 app.db "PRAGMA journal_mode=wal; CREATE TABLE log(msg TEXT, n INT);
	    WITH RECURSIVE i(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM i
		WHERE x < 40) INSERT INTO log SELECT 'm' || x, x FROM i;" >/dev/null
	backup
	# Twenty rows gone, VACUUM renumbers the rest, a duplicate added.
	sqlite3 app.db "DELETE FROM log WHERE n % 2 = 0; VACUUM;
	    INSERT INTO log VALUES ('m1', 1), ('late', 99)"
	today=$(rows log)
	run --separate-stderr vb-restore --diff --db app.db "$A"
	[[ $(grep '^log	' <<<"$output" | cut -f2-7) == "differs	40	22	20	2	0" ]]
	run --separate-stderr vb-restore --table log --where 'n <= 10' \
	    --db app.db "$A"
	[ "$status" -eq 0 ]
	[[ $(field 8 "$output") == "log: 5 put back, 0 deleted, 0 reset"* ]]
	[ "$(sqlite3 app.db "SELECT count(*) FROM log WHERE n <= 10")" -eq 11 ]
	[ "$(sqlite3 app.db "SELECT count(*) FROM log WHERE msg = 'm1'")" -eq 2 ]
	[ "$(sqlite3 app.db "SELECT count(*) FROM log WHERE n > 10")" -eq 16 ]
	# Undone: exactly today's rows again.
	run --separate-stderr vb-restore --undo "$(undo_of "$output")" \
	    --db app.db
	[ "$status" -eq 0 ]
	[ "$(rows log)" = "$today" ]
	# Whole: the backup's multiset, the duplicate and the late row gone.
	run --separate-stderr vb-restore --table log --db app.db "$A"
	[ "$status" -eq 0 ]
	[[ $(field 8 "$output") == "log: 20 put back, 2 deleted, 0 reset"* ]]
	[ "$(rows log)" = "$(rows log "$(vb-restore -q --to back.db "$A" >/dev/null &&
	    echo back.db)")" ]
}

@test "undo: a NULL in a TEXT PRIMARY KEY matches NULL: --diff says same, --where does not duplicate it" {
	sqlite3 app.db "PRAGMA journal_mode=wal;
	    CREATE TABLE kv(k TEXT PRIMARY KEY, v);
	    INSERT INTO kv VALUES (NULL, 'none'), ('a', 1), ('b', 2);" >/dev/null
	backup
	run --separate-stderr vb-restore --diff --db app.db "$A"
	[ "$(grep '^kv	' <<<"$output" | cut -f2)" = same ]
	sqlite3 app.db "UPDATE kv SET v = 'changed' WHERE k IS NULL"
	run --separate-stderr vb-restore --diff --db app.db "$A"
	[ "$(grep '^kv	' <<<"$output" | cut -f2-7)" = "differs	3	3	0	0	1" ]
	run --separate-stderr vb-restore --table kv --where 'k IS NULL' \
	    --db app.db "$A"
	[ "$status" -eq 0 ]
	[[ $(field 8 "$output") == "kv: 0 put back, 0 deleted, 1 reset"* ]]
	[ "$(sqlite3 app.db "SELECT count(*) FROM kv")" -eq 3 ]
	[ "$(sqlite3 app.db "SELECT v FROM kv WHERE k IS NULL")" = none ]
	run --separate-stderr vb-restore --undo "$(undo_of "$output")" \
	    --db app.db
	[ "$status" -eq 0 ]
	[ "$(sqlite3 app.db "SELECT v FROM kv WHERE k IS NULL")" = changed ]
}

@test "undo: exact: rows the application wrote after the restore survive; a row changed since is a conflict, --force leaves it; the undo's undo redoes" {
	app wal
	backup
	change
	run --separate-stderr vb-restore --table users --db app.db "$A"
	[ "$status" -eq 0 ]
	undo=$(undo_of "$output")
	[[ $undo == "$T/b/undo-"*.changeset ]]
	[[ $stderr == *"to undo: vb-restore -d $T/b --undo $undo --db app.db"* ]]
	restored=$(rows users)
	# The application goes on: a new user, and one restored row changed.
	sqlite3 app.db "INSERT INTO users(id, email) VALUES (500, 'after');"
	sqlite3 app.db "UPDATE users SET email = 'again' WHERE id = 5"
	before=$(state)
	run --separate-stderr vb-restore --undo "$undo" --db app.db
	[ "$status" -eq 1 ]
	[[ $stderr == *"1 rows changed since the restore: users (5): changed since the restore"* ]]
	[ "$(state)" = "$before" ]
	run --separate-stderr vb-restore --undo "$undo" --force --db app.db
	[ "$status" -eq 0 ]
	redo=$(undo_of "$output")
	[ "$(sqlite3 app.db "SELECT email FROM users WHERE id = 500")" = after ]
	[ "$(sqlite3 app.db "SELECT email FROM users WHERE id = 5")" = again ]
	# Undone: the 19 other rows put back are gone again, the three reset
	# rows and the deleted one are today's again.
	[ "$(sqlite3 app.db "SELECT count(*) FROM users WHERE id <= 20")" -eq 1 ]
	[ "$(sqlite3 app.db "SELECT count(*) FROM users WHERE email = 'new@ventry'")" -eq 1 ]
	[ "$(sqlite3 app.db "SELECT hex(avatar) FROM users WHERE id = 50")" = 01 ]
	# The undo's undo puts the restore back (row 5 as it is now).
	run --separate-stderr vb-restore --undo "$redo" --db app.db
	[ "$status" -eq 0 ]
	[ "$(sqlite3 app.db "SELECT count(*) FROM users WHERE id <= 20")" -eq 20 ]
	[ "$(rows users | sed 's/5|again|/5|u5@ventry|/; s/500|after| //')" != "" ]
	[ "$(sqlite3 app.db "SELECT count(*) FROM users")" -eq 201 ]
	[ "$(sqlite3 app.db 'PRAGMA integrity_check')" = ok ]
	# Every step is a restore row in BackupLog.
	[ "$(sqlite3 app.db "SELECT count(*) FROM BackupLog WHERE
	    operation = 'restore' AND message LIKE '%undo=%'")" -eq 3 ]
	[ -n "$restored" ]
}

@test "undo: each --where belongs to its --table; one before any --table, or two for one, is a usage error" {
	app wal
	backup
	change
	before=$(state)
	run --separate-stderr vb-restore --where 'id < 5' --table users \
	    --db app.db "$A"
	[ "$status" -eq 2 ]
	[[ $stderr == *"--where goes after the --table it filters"* ]]
	run --separate-stderr vb-restore --table users --where 'id < 5' \
	    --where 'id > 1' --db app.db "$A"
	[ "$status" -eq 2 ]
	[[ $stderr == *"one --where per --table"* ]]
	[ "$(state)" = "$before" ]
	# users filtered, orders whole: 299 users are never reset.
	run --separate-stderr vb-restore --dry-run --table users \
	    --where 'id <= 5' --table orders --db app.db "$A"
	[ "$status" -eq 0 ]
	[[ $output == "dry run, nothing changed: users: 5 put back, 0 deleted, 0 reset where id <= 5; orders: 33 put back, 1 deleted, 4 reset from"* ]]
	[ "$(state)" = "$before" ]
}

@test "undo: a dropped table is made again from the backup's schema, with its index, and its rows put back" {
	sqlite3 app.db "PRAGMA journal_mode=wal;
	    CREATE TABLE \"Line Items\"(id INTEGER PRIMARY KEY, sku TEXT);
	    CREATE INDEX \"by sku\" ON \"Line Items\"(sku);
	    INSERT INTO \"Line Items\" VALUES (1, 'a'), (2, 'b');" >/dev/null
	backup
	sqlite3 app.db 'DROP TABLE "Line Items"'
	run --separate-stderr vb-restore --table 'line items' --db app.db "$A"
	[ "$status" -eq 0 ]
	[[ $(field 8 "$output") == "Line Items: 2 put back, 0 deleted, 0 reset (the table made again) from"* ]]
	[ "$(rows 'Line Items')" = "1|a 2|b " ]
	[ "$(sqlite3 app.db "SELECT name FROM sqlite_schema WHERE type = 'index' AND tbl_name = 'Line Items'")" = "by sku" ]
	# Its undo takes the rows out again (a changeset holds rows only:
	# the table stays, empty).
	run --separate-stderr vb-restore --undo "$(undo_of "$output")" \
	    --db app.db
	[ "$status" -eq 0 ]
	[ "$(sqlite3 app.db 'SELECT count(*) FROM "Line Items"')" -eq 0 ]
}

@test "undo: --diff-table SQL holds for any name (quotes, spaces, case), and prints nothing when it fails" {
	sqlite3 app.db "PRAGMA journal_mode=wal;
	    CREATE TABLE \"Bob's \"\"Orders\"\"\"(\"it's\" INTEGER PRIMARY KEY,
		\"a \"\"b\"\"\" TEXT, \"c'\" BLOB);
	    INSERT INTO \"Bob's \"\"Orders\"\"\" VALUES (1, 'x''y', x'00'),
		(2, NULL, NULL);" >/dev/null
	backup
	sqlite3 app.db "DELETE FROM \"Bob's \"\"Orders\"\"\" WHERE \"it's\" = 1;
	    UPDATE \"Bob's \"\"Orders\"\"\" SET \"a \"\"b\"\"\" = 'q' WHERE \"it's\" = 2;
	    INSERT INTO \"Bob's \"\"Orders\"\"\" VALUES (3, 'new', NULL)"
	run --separate-stderr vb-restore --diff-table "bob's \"orders\"" \
	    --db app.db "$A"
	[ "$status" -eq 0 ]
	[[ $output == *"fire the table's triggers"*"vb-restore --table"* ]]
	[ "$(grep -c '^INSERT\|^UPDATE\|^DELETE' <<<"$output")" -eq 3 ]
	printf '%s\n' "$output" | sqlite3 app.db
	run --separate-stderr vb-restore --diff --db app.db "$A"
	[[ $output == "Bob's \"Orders\""*"	same	"* ]]
	# A failure: a message, and nothing at all on stdout.
	run --separate-stderr vb-restore --diff-table nosuch --db app.db "$A"
	[ "$status" -eq 1 ]
	[ -z "$output" ]
	run --separate-stderr vb-restore --diff-table BackupLog --db app.db "$A"
	[ "$status" -eq 1 ]
	[ -z "$output" ]
}

@test "undo: an encrypted undo file, retention keeping it with its pre-restore copy, and a damaged one refused" {
	app wal
	age-keygen -o key.txt 2>/dev/null
	age-keygen -y key.txt >recipients.txt
	backup "ENCRYPT_TO=$T/recipients.txt"
	change
	run --separate-stderr vb-restore -i key.txt --table users --db app.db "$A"
	[ "$status" -eq 0 ]
	undo=$(undo_of "$output")
	[[ $undo == "$T/b/undo-"*.changeset.age ]]
	[[ $stderr == *"to undo: vb-restore -i IDENTITY-FILE -d $T/b --undo $undo --db app.db"* ]]
	run ! grep -q 'u5@ventry' "$undo"
	run --separate-stderr vb-restore --undo "$undo" --db app.db
	[ "$status" -eq 1 ]
	[[ $stderr == *"is encrypted: give the age identity"* ]]
	# Damaged: age refuses it whole, nothing changes.
	cp "$undo" bad.age
	mv bad.age "$T/b/undo-2020-01-01T00-00-00-000Z.changeset.age"
	flip_byte "$T/b/undo-2020-01-01T00-00-00-000Z.changeset.age" 300
	before=$(state)
	run --separate-stderr vb-restore -i key.txt --undo \
	    "$T/b/undo-2020-01-01T00-00-00-000Z.changeset.age" --db app.db
	[ "$status" -eq 1 ]
	[ "$(state)" = "$before" ]
	# Retention: the undo goes with its pre-restore copy, not before.
	run vb-prune -d b --keep-pre-restore 1
	[ -f "$undo" ]
	[ ! -f "$T/b/undo-2020-01-01T00-00-00-000Z.changeset.age" ]
	run vb-prune -d b --keep-pre-restore 0
	[ ! -f "$undo" ]
	[ -z "$(find b -name 'pre-restore-*')" ]
}

# ---- what the review of the partial restore found (issue 34) ----

@test "undo: applied once only: a second run of the same file is refused, and so is a file no committed restore wrote (a crash before the commit)" {
	sqlite3 app.db "PRAGMA journal_mode=wal; CREATE TABLE pay(who, amount);
	    INSERT INTO pay VALUES ('bob', 10), ('bob', 10), ('bob', 10),
		('bob', 10);" >/dev/null
	backup
	sqlite3 app.db "DELETE FROM pay WHERE rowid IN (1, 2)"
	run --separate-stderr vb-restore --table pay --where "who = 'bob'" \
	    --db app.db "$A"
	[ "$status" -eq 0 ]
	undo=$(undo_of "$output")
	run --separate-stderr vb-restore --undo "$undo" --db app.db
	[ "$status" -eq 0 ]
	[ "$(sqlite3 app.db 'SELECT count(*) FROM pay')" -eq 2 ]
	before=$(state)
	run --separate-stderr vb-restore --undo "$undo" --db app.db
	[ "$status" -eq 1 ]
	[[ $stderr == *"was applied already, at "*"(an undo is applied once"* ]]
	[ "$(state)" = "$before" ]
	[ "$(sqlite3 app.db 'SELECT count(*) FROM pay')" -eq 2 ]
	# An undo file whose restore never committed (its row is not in
	# BackupLog): refused, nothing changed.
	cp "$undo" "$T/b/undo-2020-01-01T00-00-00-000Z.changeset"
	run --separate-stderr vb-restore --undo \
	    "$T/b/undo-2020-01-01T00-00-00-000Z.changeset" --db app.db
	[ "$status" -eq 1 ]
	[[ $stderr == *"no partial restore recorded in the BackupLog of app.db wrote it"* ]]
	[ "$(state)" = "$before" ]
}

@test "undo: a file altered, cut short, one byte, or of another database: refused at once, nothing changed" {
	app wal
	backup
	change
	run --separate-stderr vb-restore --table users --db app.db "$A"
	[ "$status" -eq 0 ]
	undo=$(undo_of "$output")
	before=$(state)
	cp "$undo" saved
	# Cut short inside a table header (SQLite's reader would spin).
	for n in 1 3 40; do
		head -c "$n" saved >"$undo"
		run --separate-stderr timeout 60 vb-restore --undo "$undo" \
		    --db app.db
		[ "$status" -eq 1 ]
		[ "$(state)" = "$before" ]
	done
	# Altered, the same length: its SHA-256 is not the one recorded.
	cp saved "$undo"
	flip_byte "$undo" 30
	run --separate-stderr vb-restore --undo "$undo" --db app.db
	[ "$status" -eq 1 ]
	[[ $stderr == *"is not the undo file the restore of"*"altered or replaced since"* ]]
	[ "$(state)" = "$before" ]
	# The right file, another database (its BackupLog never wrote it).
	cp saved "$undo"
	sqlite3 other.db "CREATE TABLE users(id INTEGER PRIMARY KEY, email TEXT,
	    avatar BLOB); CREATE TABLE BackupLog(id INTEGER PRIMARY KEY,
	    createdAt TEXT, operation TEXT, status TEXT, filename TEXT,
	    sizeBytes INTEGER, sha256 TEXT, durationMs INTEGER, message TEXT)"
	run --separate-stderr vb-restore --undo "$undo" --db other.db
	[ "$status" -eq 1 ]
	[[ $stderr == *"no partial restore recorded in the BackupLog of other.db"* ]]
	[ -z "$(sqlite3 other.db 'SELECT * FROM users')" ]
	# Intact, it still undoes.
	run --separate-stderr vb-restore --undo "$undo" --db app.db
	[ "$status" -eq 0 ]
}

@test "undo: a reset that changed only the bytes of a key that compares equal (NOCASE, 1 and 1.0) is undone, the application's row back" {
	sqlite3 app.db "PRAGMA journal_mode=wal;
	    CREATE TABLE w(a TEXT COLLATE NOCASE PRIMARY KEY, v);
	    CREATE TABLE n(k PRIMARY KEY, v) WITHOUT ROWID;
	    INSERT INTO w VALUES ('abc', 'w1'); INSERT INTO n VALUES (1, 'x');" \
	    >/dev/null
	backup
	sqlite3 app.db "UPDATE w SET a = 'ABC', v = 'app';
	    UPDATE n SET k = 1.0, v = 'app'"
	run --separate-stderr vb-restore --table w --table n --db app.db "$A"
	[ "$status" -eq 0 ]
	[[ $(field 8 "$output") == "w: 0 put back, 0 deleted, 1 reset; n: 0 put back, 0 deleted, 1 reset"* ]]
	[ "$(rows w)" = "abc|w1 " ]
	run --separate-stderr vb-restore --undo "$(undo_of "$output")" \
	    --db app.db
	[ "$status" -eq 0 ]
	[ "$(rows w)" = "ABC|app " ]
	[ "$(sqlite3 app.db "SELECT typeof(k) || ' ' || v FROM n")" = "real app" ]
}

@test "undo: another database's backup is put into --db only with --force; a --db that is a link another user made is refused" {
	sqlite3 app.db "PRAGMA journal_mode=wal; CREATE TABLE t(id INTEGER
	    PRIMARY KEY, v); INSERT INTO t VALUES (1, 'a'), (2, 'b');" >/dev/null
	# The second backup holds the first one's BackupLog rows, so the
	# restore's own row must go to staging.db's BackupLog (made now), not
	# to the backup's, attached read-only (it did, under load, in CI).
	backup
	backup
	sqlite3 staging.db "CREATE TABLE t(id INTEGER PRIMARY KEY, v);
	    INSERT INTO t VALUES (1, 'staging'), (3, 'c');"
	run --separate-stderr vb-restore --table t --db staging.db "$A"
	[ "$status" -eq 1 ]
	[[ $stderr == *"this backup is of $T/app.db on"*"not of $T/staging.db"*"--force"* ]]
	[ "$(rows t staging.db)" = "1|staging 3|c " ]
	run --separate-stderr vb-restore --force --table t --db staging.db "$A"
	[ "$status" -eq 0 ]
	[ "$(rows t staging.db)" = "1|a 2|b " ]
	# The application's user points app.db at a database root keeps.
	chmod 755 "$T"
	mkdir -m 700 root-only
	sqlite3 root-only/secret.db "CREATE TABLE t(id INTEGER PRIMARY KEY,
	    v); INSERT INTO t VALUES (9, 'root')"
	mkdir -m 777 appdir
	setpriv --reuid=nobody --regid=nogroup --clear-groups \
	    ln -s "$T/root-only/secret.db" appdir/app.db
	run --separate-stderr vb-restore --force --table t --db appdir/app.db \
	    "$A"
	[ "$status" -eq 1 ]
	[[ $stderr == *"is a symbolic link made by uid 65534 (nobody): vb follows no link another user made"* ]]
	[ "$(rows t root-only/secret.db)" = "9|root " ]
	run --separate-stderr vb-restore --force --db appdir/app.db "$A"
	[ "$status" -eq 1 ]
	[ "$(rows t root-only/secret.db)" = "9|root " ]
}

@test "undo: --diff-table SQL for a table without a key compares bytes (NOCASE), names the real rowid, keeps a NUL; refuses two NULL keys" {
	sqlite3 app.db "PRAGMA journal_mode=wal;
	    CREATE TABLE s(name TEXT COLLATE NOCASE);
	    CREATE TABLE odd(rowid, oid, x);
	    CREATE TABLE z(t);
	    CREATE TABLE k2(k TEXT PRIMARY KEY, v);
	    INSERT INTO s VALUES ('widget'); INSERT INTO odd VALUES (1, 1, 'keep');
	    INSERT INTO z VALUES (CAST(X'780079' AS TEXT));
	    INSERT INTO k2 VALUES (NULL, 'a');" >/dev/null
	backup
	sqlite3 app.db "INSERT INTO s VALUES ('WIDGET');
	    INSERT INTO odd VALUES (1, 1, 'late'); DELETE FROM z;
	    INSERT INTO k2 VALUES (NULL, 'b')"
	for t in s odd z; do
		run --separate-stderr vb-restore --diff-table "$t" --db app.db \
		    "$A"
		[ "$status" -eq 0 ]
		printf '%s\n' "$output" | sqlite3 app.db
	done
	[ "$(rows s)" = "widget " ]
	[ "$(sqlite3 app.db "SELECT x FROM odd")" = keep ]
	[ "$(sqlite3 app.db "SELECT hex(t) FROM z")" = 780079 ]
	run --separate-stderr vb-restore --diff-table k2 --db app.db "$A"
	[ "$status" -eq 1 ]
	[ -z "$output" ]
	run --separate-stderr vb-restore --diff --db app.db "$A"
	[[ $(grep '^k2	' <<<"$output" | cut -f2) == ambiguous ]]
}

@test "undo: a virtual table (FTS5) is not put back as a multiset; a key whose collation changed is a schema difference" {
	sqlite3 app.db "PRAGMA journal_mode=wal;
	    CREATE VIRTUAL TABLE docs USING fts5(body);
	    INSERT INTO docs(rowid, body) VALUES (10, 'hello');
	    CREATE TABLE c(k TEXT PRIMARY KEY, v);
	    INSERT INTO c VALUES ('a', 1);" >/dev/null
	backup
	sqlite3 app.db "DELETE FROM docs; DROP TABLE c;
	    CREATE TABLE c(k TEXT COLLATE NOCASE PRIMARY KEY, v);
	    INSERT INTO c VALUES ('A', 1)"
	before=$(state)
	run --separate-stderr vb-restore --table docs --db app.db "$A"
	[ "$status" -eq 1 ]
	[[ $stderr == *"docs: a virtual table"* ]]
	[ "$(state)" = "$before" ]
	run --separate-stderr vb-restore --diff --db app.db "$A"
	[[ $(grep '^docs	' <<<"$output" | cut -f2) == virtual ]]
	[[ $(grep '^c	' <<<"$output" | cut -f2) == schema ]]
	run --separate-stderr vb-restore --table c --db app.db "$A"
	[ "$status" -eq 1 ]
	[[ $stderr == *"c: its columns differ"* ]]
}

@test "undo: SIGTERM during an undo leaves no pre-restore copy behind; --diff-table --json holds an infinity; a TAB in a name stays in its field" {
	slow
	sqlite3 app.db "PRAGMA journal_mode=wal; CREATE TABLE big(id INTEGER
	    PRIMARY KEY, v); CREATE TABLE \"a	b\"(x REAL);
	    INSERT INTO \"a	b\" VALUES (9e999);
	    WITH RECURSIVE i(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM i
		WHERE x < 300000) INSERT INTO big SELECT x, randomblob(200)
	    FROM i;" >/dev/null
	backup
	sqlite3 app.db "DELETE FROM big; DELETE FROM \"a	b\""
	run --separate-stderr vb-restore --table big --db app.db "$A"
	[ "$status" -eq 0 ]
	undo=$(undo_of "$output")
	n=$(find b -name 'pre-restore-*' | wc -l)
	vb-restore -q --undo "$undo" --db app.db >/dev/null 2>&1 &
	pid=$!
	# Once its own pre-restore copy is there, the undo is stopped.
	WAIT_S=120 wait_for copies_beyond "$n"
	kill -TERM "$pid"
	wait "$pid" || true
	[ "$(find b -name 'pre-restore-*' | wc -l)" -eq "$n" ]
	[ "$(sqlite3 app.db 'SELECT count(*) FROM big')" -eq 300000 ]
	run --separate-stderr vb-restore --diff-table "a	b" --json \
	    --db app.db "$A"
	[ "$status" -eq 0 ] || { echo "$stderr"; false; }
	[ "$(jq -r '.[0].backup.x' <<<"$output")" = Inf ]
	run --separate-stderr vb-restore --diff --db app.db "$A"
	[ "$(grep -c '^a b	differs	' <<<"$output")" -eq 1 ]
}
