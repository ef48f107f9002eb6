#!/bin/bash
# bench/drill.sh - the restore drill's cost, in the same run: one backup
# drilled (vb-restore --drill: the restore, integrity_check, the row
# counts) beside a plain vb-restore --to and zstd -d + cp; and the week's
# total, now (seven nightlies with quick_check and row counts, one drill
# of two backups) against before the drill (six nightlies with
# quick_check, one with integrity_check of the snapshot).  A benchmark,
# not a test.
#
#   make bench                     (or VB_BIN=build bench/drill.sh)
#   BENCH_MB=1024 RUNS=3 bench/drill.sh
set -euo pipefail

RUNS=${RUNS:-3}
# shellcheck source=bench/common.sh
. "$(dirname "$0")/common.sh"
ddir=$out/drill
name=backup-2026-01-02T01-00-00-000Z.tar.zst
older=backup-2026-01-01T01-00-00-000Z.tar.zst

zstd_cp() {
	rm -f "$ddir/out.db" "$ddir/tmp.db"
	zstd -q -d -T1 -c "$ddir/raw.zst" >"$ddir/tmp.db"
	cp "$ddir/tmp.db" "$ddir/out.db"
}

vb_to() {
	rm -f "$ddir/out.db"
	vb-restore -q --to "$ddir/out.db" "$ddir/b/$name"
}

vb_drill() {
	VB_CONF=/dev/null vb-restore --drill -q -d "$ddir/b" "$name"
}

# The nightly's drill: the newest and the older one, the second's
# restore beside the first's integrity_check.
vb_drill2() {
	VB_CONF=/dev/null vb-restore --drill -q -d "$ddir/b"
}

# nightly [--full-check]: the pipeline of one night, as vb-backup runs it.
nightly() {
	rm -rf "$ddir/n"
	mkdir -p "$ddir/n"
	vb-snapshot "$db" -d "$ddir/n" -q --defer-check "$@" | vb-compress -q
}

make_db
rm -rf "$ddir"
mkdir -p "$ddir/b"
for a in "$older" "$name"; do
	vb-snapshot -q -o "$ddir/b/${a%.tar.zst}.db" "$db" | vb-compress -q \
	    >/dev/null
done
zstd -d -q -c "$ddir/b/$name" | tar -xOf - "${name%.tar.zst}.db" |
    zstd -q -3 -T1 -o "$ddir/raw.zst"
echo "vb drill benchmark, $(date -u +%Y-%m-%dT%H:%M:%SZ), $(nproc) cores"
echo "database: $(($(stat -c %s "$db") / 1048576)) MiB; median of $RUNS runs"
echo
tz=$(run_median zstd_cp)
tto=$(run_median vb_to)
tdr=$(run_median vb_drill)
td2=$(run_median vb_drill2)
tq=$(run_median nightly)
tf=$(RUNS=1 run_median nightly --full-check)
rss=$(rss_kib vb-restore --drill -q -d "$ddir/b")
awk -v tz="$tz" -v tto="$tto" -v tdr="$tdr" -v tq="$tq" -v tf="$tf" \
    -v td2="$td2" \
    -v rss="$rss" 'BEGIN {
	f = "%-38s %7.2f s"
	printf f "\n", "zstd -d + cp", tz
	printf f "   (%.2f x zstd+cp)\n", "vb-restore --to", tto, tto / tz
	printf f "   (%.2f x --to, %.2f x zstd+cp)\n",
	    "vb-restore --drill, one backup", tdr, tdr / tto, tdr / tz
	printf f "   (%.2f x one)\n", "vb-restore --drill, two (as nightly)",
	    td2, td2 / tdr
	printf f "\n", "nightly, quick_check (+ row counts)", tq
	printf f "\n", "nightly, integrity_check (old weekly)", tf
	before = 6 * tq + tf; now = 7 * tq + td2
	printf f "   (6 quick + 1 integrity_check nightly)\n",
	    "week before the drill", before
	printf f "   (7 quick nightlies + a drill of 2; %.2f x before)\n",
	    "week now", now, now / before
	printf "peak RSS of the drill: %d KiB\n", rss }'
rm -rf "$ddir"
