#!/bin/bash
# bench/compress.sh - vb-compress against the zstd command, in the same
# run, on a snapshot of the generated database (bench/common.sh): time and
# size at levels 1, 3 and 9 single-threaded, at level 3 with two threads,
# vb-compress's peak RSS, and the nightly pair vb-snapshot | vb-compress
# against sqlite3 .backup followed by zstd.  A benchmark, not a test.
#
#   make bench                     (or VB_BIN=build bench/compress.sh)
#   BENCH_MB=1024 RUNS=3 bench/compress.sh
set -euo pipefail

RUNS=${RUNS:-3}
# shellcheck source=bench/common.sh
. "$(dirname "$0")/common.sh"
snapdir=$out/snap
raw=$snapdir/backup-2026-01-01T01-00-00-000Z.db

# As in the nightly pipe: the snapshot's record on stdin.
vb_compress() {	# LEVEL THREADS
	rm -f "$snapdir"/*.tar.zst
	vb-compress -q -k -l "$1" -T "$2" <<<"$rec"
}

zstd_cli() {	# LEVEL THREADS
	rm -f "$out/raw.zst"
	zstd -q -"$1" -T"$2" -o "$out/raw.zst" "$raw"
}

vb_pair() {
	rm -rf "$out/pair"
	# As the nightly runs them: the snapshot's check in vb-compress.
	vb-snapshot -q --defer-check -d "$out/pair" "$db" |
	    vb-compress -q >/dev/null
}

make_db
rm -rf "$snapdir"
mkdir -p "$snapdir"
rec=$(vb-snapshot -q -o "$raw" "$db")
size=$(stat -c %s "$raw")
echo "vb compress benchmark, $(date -u +%Y-%m-%dT%H:%M:%SZ), $(nproc) cores"
echo "snapshot: $((size / 1048576)) MiB of $db; median of $RUNS runs"
echo "vb-compress also writes a tar with a manifest, reads the archive back"
echo "(decompress + SHA-256) and fsyncs it; zstd does none of that"
echo
printf '%-6s %-8s %9s %9s %11s %11s %8s %8s\n' level threads vb-s zstd-s \
    vb-bytes zstd-bytes time-x size-x
for lt in "1 1" "3 1" "9 1" "3 2"; do
	read -r l th <<<"$lt"
	tv=$(run_median vb_compress "$l" "$th")
	tz=$(run_median zstd_cli "$l" "$th")
	bv=$(stat -c %s "$snapdir"/*.tar.zst)
	bz=$(stat -c %s "$out/raw.zst")
	awk -v l="$l" -v th="$th" -v tv="$tv" -v tz="$tz" -v bv="$bv" \
	    -v bz="$bz" -v s="$size" 'BEGIN {
		printf "%-6s %-8s %9.2f %9.2f %11d %11d %8.2f %8.4f\n",
		    l, th, tv, tz, bv, bz, tv / tz, bv / bz }'
done
echo "(time-x, size-x: vb-compress / zstd; ratio to the db at level 3:" \
    "$(awk -v b="$(stat -c %s "$out/raw.zst")" -v s="$size" \
    'BEGIN { printf "%.1f%%", 100 * b / s }'))"
echo
rm -f "$snapdir"/*.tar.zst
r1=$(rss_kib vb-compress -q -k -l 3 -T 1 <<<"$rec")
rm -f "$snapdir"/*.tar.zst
r2=$(rss_kib vb-compress -q -k -l 3 -T 2 <<<"$rec")
rm -f "$out/raw.zst"
rz=$(rss_kib zstd -q -3 -T1 -o "$out/raw.zst" "$raw")
echo "peak RSS: vb-compress -l 3 -T 1: $r1 KiB; -T 2: $r2 KiB;" \
    "zstd -3 -T1: $rz KiB"
echo
tp=$(run_median vb_pair)
tb=$(run_median backup_zstd "$db" "$out")
awk -v a="$tp" -v b="$tb" 'BEGIN {
	printf "nightly pair: vb-snapshot | vb-compress %.2f s; " \
	    "sqlite3 .backup && zstd -3 %.2f s; ratio %.2f\n", a, b, a / b }'
rm -rf "$snapdir" "$out/pair" "$out/ref.db.zst" "$out/raw.zst"
