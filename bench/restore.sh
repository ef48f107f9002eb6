#!/bin/bash
# bench/restore.sh - vb-restore against zstd -d + cp, in the same run, on
# an archive of the generated database (bench/common.sh): --to a new file,
# --verify-only, --db over a live copy, and vb-restore's peak RSS.  A
# benchmark, not a test.
#
#   make bench                     (or VB_BIN=build bench/restore.sh)
#   BENCH_MB=1024 RUNS=3 bench/restore.sh
set -euo pipefail

RUNS=${RUNS:-3}
# shellcheck source=bench/common.sh
. "$(dirname "$0")/common.sh"
rdir=$out/restore
raw=$rdir/backup-2026-01-01T01-00-00-000Z.db
arc=${raw%.db}.tar.zst

vb_to() {
	rm -f "$rdir/out.db" "$rdir/tmp.db"
	vb-restore -q --to "$rdir/out.db" "$arc"
}

vb_to_full() {
	rm -f "$rdir/out.db" "$rdir/tmp.db"
	vb-restore -q --full-check --to "$rdir/out.db" "$arc"
}

vb_to_quick() {
	rm -f "$rdir/out.db" "$rdir/tmp.db"
	vb-restore -q --quick-check --to "$rdir/out.db" "$arc"
}

zstd_cp() {
	rm -f "$rdir/out.db" "$rdir/tmp.db"
	zstd -q -d -T1 -c "$rdir/raw.zst" >"$rdir/tmp.db"
	cp "$rdir/tmp.db" "$rdir/out.db"
}

zstd_cp_sync() {
	zstd_cp
	sync "$rdir/out.db"
}

vb_db() {
	rm -f "$rdir"/pre-restore-*
	vb-restore -q --force -d "$rdir" --db "$rdir/live.db" "$arc"
}

make_db
rm -rf "$rdir"
mkdir -p "$rdir"
vb-snapshot -q -o "$raw" "$db" | vb-compress -q -k >/dev/null
zstd -q -3 -T1 -o "$rdir/raw.zst" "$raw"
cp "$db" "$rdir/live.db"
size=$(stat -c %s "$raw")
echo "vb restore benchmark, $(date -u +%Y-%m-%dT%H:%M:%SZ), $(nproc) cores"
echo "database: $((size / 1048576)) MiB; median of $RUNS runs"
echo "vb-restore also checks the entries and the SHA-256 and has SQLite"
echo "read the copy (--quick-check, --full-check: more), and fsyncs;"
echo "zstd -d + cp does none of that"
echo
tz=$(run_median zstd_cp)
tzs=$(run_median zstd_cp_sync)
tto=$(run_median vb_to)
tq=$(run_median vb_to_quick)
tdb=$(run_median vb_db)
# integrity_check is slow on large databases: one run is enough.
tv=$(RUNS=1 run_median vb_to_full)
rm -f "$rdir/out.db"
rss=$(rss_kib vb-restore -q --to "$rdir/out.db" "$arc")
rm -f "$rdir/out.db"
rssf=$(rss_kib vb-restore -q --full-check --to "$rdir/out.db" "$arc")
awk -v tz="$tz" -v tzs="$tzs" -v tv="$tv" -v tq="$tq" -v tdb="$tdb" -v tto="$tto" \
    -v rss="$rss" -v rssf="$rssf" 'BEGIN {
	printf "zstd -d + cp                          %7.2f s\n", tz
	printf "zstd -d + cp + sync                   %7.2f s\n", tzs
	printf "vb-restore --to                       %7.2f s   (%.2f x zstd+cp, %.2f x +sync)\n", tto, tto / tz, tto / tzs
	printf "vb-restore --quick-check --to         %7.2f s   (%.2f x zstd+cp, %.2f x +sync)\n", tq, tq / tz, tq / tzs
	printf "vb-restore --full-check --to          %7.2f s   (%.2f x zstd+cp)\n", tv, tv / tz
	printf "vb-restore --db (live)                %7.2f s   (with the pre-restore snapshot + archive)\n", tdb
	printf "peak RSS: --to %d KiB, --full-check --to %d KiB\n", rss, rssf }'
rm -rf "$rdir"
