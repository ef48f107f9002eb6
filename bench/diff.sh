#!/bin/bash
# bench/diff.sh - vb-restore --diff-table against sqldiff --table (Debian's
# sqlite3-tools), in the same run, on the same pair: the generated
# database (bench/common.sh) with a 100 MB table added, backed up, then
# 1 % of that table's rows changed.  vb-restore also verifies and
# restores the archive first (timed alone too); sqldiff is given both
# files ready.  Then vb-restore --table of that table against restoring
# the whole database (--db), on copies of the live one, with the peak
# RSS of each, and the same after every row of the table was deleted
# (400,000 rows put back, each written to the undo file).  Last, the
# memory of the session extension's diff (sqlite3session_diff, built
# here from bench/session-diff.c) beside --diff-table's, on the 1 % and
# on a table every row of which changed.  One run, as the issue asks.  A
# benchmark, not a test.
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
cp "$live" "$ddir/l1.db"
cp "$live" "$ddir/l2.db"
rtab=$(rss_kib env VB_CONF=/dev/null vb-restore -q -d "$ddir/b" \
    --table t100 --db "$ddir/l1.db" "$arc")
rwhole=$(rss_kib env VB_CONF=/dev/null vb-restore -q -d "$ddir/b" \
    --force --db "$ddir/l2.db" "$arc")
# Every row of t100 gone: all 400,000 put back through the undo file.
sqlite3 "$ddir/l1.db" "DELETE FROM t100"
tall=$(secs env VB_CONF=/dev/null vb-restore -q -d "$ddir/b" \
    --table t100 --db "$ddir/l1.db" "$arc")
sqlite3 "$ddir/l1.db" "DELETE FROM t100"
rall=$(rss_kib env VB_CONF=/dev/null vb-restore -q -d "$ddir/b" \
    --table t100 --db "$ddir/l1.db" "$arc")
undo=$(find "$ddir/b" -name 'undo-*' -printf '%s\n' | sort -n | tail -1)
# The session extension's diff of the same pair, and of t100 changed
# whole.
cc -O2 -DSQLITE_ENABLE_SESSION -DSQLITE_ENABLE_PREUPDATE_HOOK \
    -o "$ddir/session-diff" "$here/session-diff.c" -lsqlite3
read -r s1 srss1 < <("$ddir/session-diff" "$ddir/backup.db" "$live" t100)
cp "$live" "$ddir/l2.db"
sqlite3 "$ddir/l2.db" "UPDATE t100 SET v = 'all changed'"
read -r s2 srss2 < <("$ddir/session-diff" "$ddir/backup.db" "$ddir/l2.db" \
    t100)
rvt2=$(rss_kib env VB_CONF=/dev/null vb-restore -q -d "$ddir/b" \
    --db "$ddir/l2.db" --diff-table t100 "$arc")
awk -v tsq="$tsq" -v tto="$tto" -v tvt="$tvt" -v tva="$tva" -v n="$n" \
    -v m="$m" -v rss="$rss" -v ttab="$ttab" -v twhole="$twhole" \
    -v rtab="$rtab" -v rwhole="$rwhole" -v tall="$tall" -v rall="$rall" \
    -v undo="$undo" -v s1="$s1" -v srss1="$srss1" -v s2="$s2" \
    -v srss2="$srss2" -v rvt2="$rvt2" 'BEGIN {
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
	printf "peak RSS of --diff-table: %d KiB\n", rss
	printf "--table t100 against the whole restore: %.2f x its time; " \
	    "peak RSS %d KiB against %d KiB\n", ttab / twhole, rtab, rwhole
	printf "--table t100 after DELETE FROM t100 (400,000 rows back): " \
	    "%.2f s, %.2f x the whole restore; peak RSS %d KiB; undo file " \
	    "%d bytes\n", tall, tall / twhole, rall, undo
	printf "sqlite3session_diff, 1 %% changed: changeset %d bytes, " \
	    "peak RSS %d KiB (--diff-table: %d KiB)\n", s1, srss1, rss
	printf "sqlite3session_diff, every row changed: changeset %d " \
	    "bytes, peak RSS %d KiB (--diff-table: %d KiB)\n", s2, srss2,
	    rvt2 }'
rm -rf "$ddir"
