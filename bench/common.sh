# bench/common.sh - what the benchmarks share: where things are, the
# generated database, and timing helpers.  Sourced, not run.
# shellcheck shell=bash

here=$(cd "$(dirname "$0")" && pwd)
: "${VB_BIN:=$here/../build}"
VB_BIN=$(cd "$VB_BIN" && pwd)
PATH="$VB_BIN:$VB_BIN/tests:$PATH"
BENCH_MB=${BENCH_MB:-1024}
RUNS=${RUNS:-5}
out=${BENCH_DIR:-$here/out}
db=$out/bench-${BENCH_MB}mb.db
mkdir -p "$out"

# make_db: users, products, orders (about BENCH_MB MiB), built once.
make_db() {
	[ -s "$db" ] && return 0
	echo "generating $db (about $BENCH_MB MiB) ..."
	local orders=$((BENCH_MB * 1024 * 1024 / 150))
	local users=$((orders / 20 + 1)) products=$((orders / 200 + 1))
	rm -f "$db.tmp"
	sqlite3 "$db.tmp" >/dev/null <<-SQL
	PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF;
	CREATE TABLE users(id INTEGER PRIMARY KEY, email TEXT NOT NULL UNIQUE,
	  name TEXT NOT NULL, created_at TEXT NOT NULL);
	CREATE TABLE products(id INTEGER PRIMARY KEY, sku TEXT NOT NULL UNIQUE,
	  name TEXT NOT NULL, price_cents INTEGER NOT NULL, description TEXT);
	CREATE TABLE orders(id INTEGER PRIMARY KEY, user_id INTEGER NOT NULL
	  REFERENCES users, product_id INTEGER NOT NULL REFERENCES products,
	  quantity INTEGER NOT NULL, total_cents INTEGER NOT NULL,
	  status TEXT NOT NULL, created_at TEXT NOT NULL, note TEXT);
	WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n
	  WHERE i < $users)
	INSERT INTO users SELECT i, 'user' || i || '@example.com',
	  'User ' || hex(randomblob(6)), datetime(1600000000 + i * 60,
	  'unixepoch') FROM n;
	WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n
	  WHERE i < $products)
	INSERT INTO products SELECT i, 'SKU-' || i, 'Product ' || i,
	  100 + abs(random() % 100000), hex(randomblob(60)) FROM n;
	WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n
	  WHERE i < $orders)
	INSERT INTO orders SELECT i, 1 + abs(random() % $users),
	  1 + abs(random() % $products), 1 + abs(random() % 5),
	  abs(random() % 500000), CASE abs(random() % 3) WHEN 0 THEN 'paid'
	  WHEN 1 THEN 'shipped' ELSE 'delivered' END,
	  datetime(1600000000 + i * 5, 'unixepoch'), hex(randomblob(20)) FROM n;
	CREATE INDEX orders_user ON orders(user_id);
	CREATE INDEX orders_created ON orders(created_at);
	CREATE INDEX orders_product ON orders(product_id);
	SQL
	vb-testwriter --setup --mode delete "$db.tmp"
	mv "$db.tmp" "$db"
}

# secs CMD...: runs CMD (output discarded), prints its wall time in seconds.
secs() {
	local t0 t1
	t0=$(date +%s.%N)
	"$@" >/dev/null
	t1=$(date +%s.%N)
	awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f\n", b - a }'
}

# run_median CMD...: RUNS timings of CMD, each after a sync; the median.
run_median() {
	local _
	for _ in $(seq "$RUNS"); do
		sync
		secs "$@"
	done | median
}

# median of the numbers on stdin
median() {
	sort -g | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'
}

# rss_kib CMD...: the peak RSS of CMD in KiB.
rss_kib() {
	/usr/bin/time -f %M "$@" 2>&1 >/dev/null | tail -1
}

# vb_backup DIR: the nightly job with the configuration in DIR/vb.conf.
vb_backup() {
	VB_CONF=$1/vb.conf "$here/../bin/vb-backup" 2>/dev/null
}

# backup_zstd DB DIR: the reference nightly, a copy then zstd, which
# checks nothing, into DIR/ref.db.zst.
backup_zstd() {
	rm -f "$2/ref.db" "$2/ref.db.zst"
	sqlite3 "$1" ".backup '$2/ref.db'"
	zstd -q -3 -T1 --rm "$2/ref.db"
}
