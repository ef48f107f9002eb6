# ventry.bash - a ventry-like application database for the partial
# restore tests (diff.bats, partial.bats), and its bad afternoon.
# shellcheck shell=bash
# shellcheck disable=SC2034 # A is the tests'

# setup: each test's directory, and no rclone configuration of the host.
setup() {
	vb_setup
	export RCLONE_CONFIG=$T/rclone.conf
}

# backup [MORE CONF]: one nightly backup of app.db into b/; its archive
# in $A.
backup() {
	printf 'DB_PATH=%s\nBACKUP_DIR=%s\nDRILL_EVERY=0\n' "$T/app.db" "$T/b" \
	    >"$VB_CONF"
	printf '%s\n' "$@" >>"$VB_CONF"
	vb_backup 2>/dev/null
	A=$T/b/$(find b -name 'backup-*' -printf '%f\n' | sort | tail -n1)
}


# app MODE: the application's database: users (INTEGER PRIMARY KEY, a
# BLOB), orders (composite key), kv (WITHOUT ROWID), events (rowid only).
app() {
	sqlite3 app.db "PRAGMA journal_mode=$1;
	CREATE TABLE users(id INTEGER PRIMARY KEY, email TEXT, avatar BLOB);
	CREATE TABLE orders(shop TEXT, n INTEGER, total INTEGER, note TEXT,
	    PRIMARY KEY(shop, n));
	CREATE TABLE kv(k TEXT PRIMARY KEY, v) WITHOUT ROWID;
	CREATE TABLE events(what TEXT, at TEXT);
	WITH RECURSIVE i(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM i
	    WHERE x < 200)
	INSERT INTO users SELECT x, 'u' || x || '@ventry', randomblob(16)
	    FROM i;
	WITH RECURSIVE i(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM i
	    WHERE x < 300)
	INSERT INTO orders SELECT 'shop' || (x % 3), x, x * 10,
	    CASE WHEN x % 7 = 0 THEN NULL ELSE 'n' || x END FROM i;
	INSERT INTO kv VALUES ('a', 1), ('b', NULL), ('c', x'00ff');
	WITH RECURSIVE i(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM i
	    WHERE x < 50)
	INSERT INTO events SELECT 'e' || x, datetime(x, 'unixepoch') FROM i;
	" >/dev/null
}

# change: the bad afternoon: rows deleted, changed (NULLs and BLOBs
# too) and added in every table.
change() {
	sqlite3 app.db "
	DELETE FROM users WHERE id <= 20;
	UPDATE users SET avatar = x'01' WHERE id IN (50, 51);
	UPDATE users SET email = NULL WHERE id = 60;
	INSERT INTO users(email) VALUES ('new@ventry');
	DELETE FROM orders WHERE shop = 'shop1' AND n < 100;
	UPDATE orders SET note = 'fixed' WHERE note IS NULL AND n < 50;
	INSERT INTO orders VALUES ('shop9', 1, 0, NULL);
	UPDATE kv SET v = 2 WHERE k = 'b';
	DELETE FROM kv WHERE k = 'c';
	INSERT INTO kv VALUES ('d', 'x');
	DELETE FROM events WHERE rowid IN (3, 4);
	UPDATE events SET at = NULL WHERE rowid = 10;
	INSERT INTO events VALUES ('late', NULL);"
}


# chain_night: two encrypted nights (a full backup, then a delta) copied
# to $T/remote, then the bad afternoon; the identity in key.txt.
chain_night() {
	app wal
	age-keygen -o key.txt 2>/dev/null
	age-keygen -y key.txt >recipients.txt
	backup "ENCRYPT_TO=$T/recipients.txt" FULL_EVERY=7d "OFFSITE=$T/remote"
	sqlite3 app.db "UPDATE users SET email = 'second' WHERE id = 1"
	sleep 0.01
	backup "ENCRYPT_TO=$T/recipients.txt" FULL_EVERY=7d "OFFSITE=$T/remote"
	[[ $A == *.delta.tar.zst.age ]] || return 1
	change
}
