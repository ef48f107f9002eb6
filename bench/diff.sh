#!/bin/bash
# bench/diff.sh - vb-restore --diff-table against sqldiff --table (Debian's
# sqlite3-tools), in the same run, on the same pair: the generated
# database (bench/common.sh) with a 100 MB table added, backed up, then
# 1 % of that table's rows changed.  vb-restore also verifies and
# restores the archive first (timed alone too); sqldiff is given both
# files ready.  Then vb-restore --table of that table against restoring
# the whole database (--db), on copies of the live one.  One run, as
# the issue asks.  A benchmark, not a test.
#
#   make bench                     (or VB_BIN=build bench/diff.sh)
set -euo pipefail

# shellcheck source=bench/common.sh
. "$(dirname "$0")/common.sh"
command -v sqldiff >/dev/null || {
	echo "bench/diff.sh: needs sqldiff (apt-get install sqlite3-tools)"
	exit 1
}
ddir=$out/diff

make_db
rm -rf "$ddir"
mkdir -p "$ddir/b"
live=$ddir/live.db
cp "$db" "$live"
sqlite3 "$live" "CREATE TABLE t100(id INTEGER PRIMARY KEY, k TEXT, v TEXT);
    WITH RECURSIVE i(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM i
    WHERE x < 400000) INSERT INTO t100 SELECT x, 'key' || x,
    hex(randomblob(110)) FROM i"
VB_CONF=/dev/null vb-snapshot "$live" -d "$ddir/b" -q |
    VB_CONF=/dev/null vb-compress -q >/dev/null
arc=$(find "$ddir/b" -name 'backup-*.tar.zst')
VB_CONF=/dev/null vb-restore -q --to "$ddir/backup.db" "$arc" >/dev/null
sqlite3 "$live" "UPDATE t100 SET v = 'changed' WHERE id % 100 = 0"
mb=$(sqlite3 "$live" "SELECT sum(pgsize) / 1048576 FROM dbstat
    WHERE name = 't100'")
echo "vb diff benchmark, $(date -u +%Y-%m-%dT%H:%M:%SZ), $(nproc) cores"
echo "database: $(($(stat -c %s "$live") / 1048576)) MiB; table t100:" \
    "$mb MiB, 1 % of its rows changed; one run"
echo
RUNS=1
tsq=$(run_median sqldiff --table t100 "$ddir/backup.db" "$live")
tto=$(run_median env VB_CONF=/dev/null vb-restore -q --to "$ddir/r.db" \
    "$arc")
rm -f "$ddir/r.db"
tvt=$(run_median env VB_CONF=/dev/null vb-restore -q -d "$ddir/b" \
    --db "$live" --diff-table t100 "$arc")
tva=$(run_median env VB_CONF=/dev/null vb-restore -q -d "$ddir/b" \
    --db "$live" --diff "$arc")
n=$(VB_CONF=/dev/null vb-restore -q -d "$ddir/b" --db "$live" \
    --diff-table t100 "$arc" | grep -c '^UPDATE')
m=$(sqldiff --table t100 "$ddir/backup.db" "$live" | grep -c '^UPDATE')
rss=$(rss_kib env VB_CONF=/dev/null vb-restore -q -d "$ddir/b" \
    --db "$live" --diff-table t100 "$arc")
cp "$live" "$ddir/l1.db"
cp "$live" "$ddir/l2.db"
ttab=$(run_median env VB_CONF=/dev/null vb-restore -q -d "$ddir/b" \
    --table t100 --db "$ddir/l1.db" "$arc")
twhole=$(run_median env VB_CONF=/dev/null vb-restore -q -d "$ddir/b" \
    --force --db "$ddir/l2.db" "$arc")
awk -v tsq="$tsq" -v tto="$tto" -v tvt="$tvt" -v tva="$tva" -v n="$n" \
    -v m="$m" -v rss="$rss" -v ttab="$ttab" -v twhole="$twhole" 'BEGIN {
	f = "%-40s %7.2f s"
	printf f "   (%d UPDATEs)\n", "sqldiff --table t100 (files ready)",
	    tsq, m
	printf f "\n", "vb-restore --to (verify + restore)", tto
	printf f "   (%d UPDATEs; %.2f x sqldiff, the restore included)\n",
	    "vb-restore --diff-table t100", tvt, n, tvt / tsq
	printf f "\n", "vb-restore --diff (every table)", tva
	printf f "   (pre-restore copy included)\n",
	    "vb-restore --table t100 --db", ttab
	printf f "   (%.2f x --table)\n", "vb-restore --db (the whole database)",
	    twhole, twhole / ttab
	printf "peak RSS of --diff-table: %d KiB\n", rss }'
rm -rf "$ddir"
