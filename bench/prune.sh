#!/bin/bash
# bench/prune.sh - vb-prune on a directory of 10,000 backups (plus as many
# foreign files): time and peak RSS of a dry run and of the real run, each
# against a plain `ls` of the same directory in the same run.  A benchmark,
# not a test.
#
#   make bench                     (or VB_BIN=build bench/prune.sh)
#   NBACKUPS=10000 bench/prune.sh
set -euo pipefail

# shellcheck source=bench/common.sh
. "$(dirname "$0")/common.sh"
NBACKUPS=${NBACKUPS:-10000}
dir=$out/prune

fill() {
	rm -rf "$dir"
	mkdir -p "$dir"
	awk -v n="$NBACKUPS" 'BEGIN {
		for (i = 0; i < n; i++) {
			t = 1600000000 + i * 3600
			print strftime("backup-%Y-%m-%dT%H-%M-%S-000Z.tar.zst", t, 1)
			print "foreign-" i ".txt"
		}
	}' | (cd "$dir" && xargs touch)
}

ls_dir() {
	ls -f "$dir" >/dev/null
}

fill
echo "vb prune benchmark, $(date -u +%Y-%m-%dT%H:%M:%SZ), $(nproc) cores"
echo "$NBACKUPS backups and $NBACKUPS foreign files; median of $RUNS runs"
tl=$(for _ in $(seq "$RUNS"); do secs ls_dir; done | median)
td=$(for _ in $(seq "$RUNS"); do secs vb-prune -n -d "$dir" --keep 7; done | median)
rd=$(rss_kib vb-prune -n -d "$dir" --keep 7)
# The nightly case: one backup more than the policy keeps.
tn=$(for _ in $(seq "$RUNS"); do fill; secs vb-prune -d "$dir" --keep $((NBACKUPS - 1)); done | median)
tr=$(for _ in $(seq "$RUNS"); do fill; secs vb-prune -d "$dir" --keep-daily 7 --keep-weekly 4 --keep-monthly 12; done | median)
fill
rr=$(rss_kib vb-prune -d "$dir" --keep 7)
left=$(find "$dir" -name 'backup-*' | wc -l)
awk -v tl="$tl" -v td="$td" -v tr="$tr" -v tn="$tn" -v rd="$rd" -v rr="$rr" 'BEGIN {
	printf "ls -f                                       %7.1f ms\n", tl * 1000
	printf "vb-prune --keep N-1 (deletes 1: the nightly) %6.1f ms  (%.1f x ls)\n", tn * 1000, tn / tl
	printf "vb-prune -n --keep 7 (lists 9993)           %7.1f ms, peak RSS %d KiB\n", td * 1000, rd
	printf "vb-prune daily 7/weekly 4/monthly 12 (deletes) %4.1f ms\n", tr * 1000
	printf "vb-prune --keep 7 (deletes 9993)            peak RSS %d KiB\n", rr }'
echo "left after --keep 7: $left backups"
rm -rf "$dir"
