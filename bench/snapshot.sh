#!/bin/bash
# bench/snapshot.sh - vb-snapshot against sqlite3 .backup, VACUUM INTO and
# cp, in the same run, on a generated database with a realistic schema
# (users, products, orders, with indexes).  Prints times, ratios, peak RSS,
# and the application's worst commit latency with and without a snapshot
# running, in WAL and in DELETE mode.  A benchmark, not a test: it asserts
# nothing and the figures depend on the machine.
#
#   make bench                     (or VB_BIN=build bench/snapshot.sh)
#   BENCH_MB=1024 RUNS=5 WRITER_SECONDS=12 BACKUP_LIMIT=60 bench/snapshot.sh
set -euo pipefail

# shellcheck source=bench/common.sh
. "$(dirname "$0")/common.sh"
WRITER_SECONDS=${WRITER_SECONDS:-12}
BACKUP_LIMIT=${BACKUP_LIMIT:-60}
work=$out/work.db

backup_sync() {
	sqlite3 "$1" ".backup '$2'" && sync "$2"
}

cp_sync() {
	cp "$1" "$2" && sync "$2"
}

# time_method NAME: RUNS timings of one copy method, the median printed.
time_method() {
	local _
	for _ in $(seq "$RUNS"); do
		rm -rf "$out/copy" "$out/copy.db"
		mkdir -p "$out/copy"
		# Start each run with no dirty pages left by the one before.
		sync
		case $1 in
		vb-snapshot) secs vb-snapshot -q -d "$out/copy" "$db" ;;
		# The nightly's: its check left to vb-compress.
		vb-deferred) secs vb-snapshot -q --defer-check -d "$out/copy" \
		    "$db" ;;
		sqlite3-backup) secs sqlite3 "$db" ".backup '$out/copy.db'" ;;
		backup+sync) secs backup_sync "$db" "$out/copy.db" ;;
		vacuum-into) secs sqlite3 "$db" "VACUUM INTO '$out/copy.db'" ;;
		cp) secs cp "$db" "$out/copy.db" ;;
		cp+sync) secs cp_sync "$db" "$out/copy.db" ;;
		esac
	done | median
	rm -rf "$out/copy" "$out/copy.db"
}

# fresh_work MODE: a copy of the database, in MODE, for a writer to change.
fresh_work() {
	rm -f "$work" "$work-wal" "$work-shm" "$work-journal"
	cp "$db" "$work"
	sqlite3 "$work" "PRAGMA journal_mode=$1" >/dev/null
	sync
}

# latency MODE WITH: the writer's commits over WRITER_SECONDS at ~500
# small transactions a second (a busy application), with WITH (none,
# vb-snapshot or sqlite3-backup) copying the database in the middle.
latency() {
	local w snap=- result
	fresh_work "$1"
	vb-testwriter --rate 500 --seconds "$WRITER_SECONDS" "$work" \
	    >"$out/writer.out" &
	w=$!
	sleep 1
	rm -rf "$out/copy" "$out/copy.db"
	case $2 in
	vb-snapshot) snap=$(secs vb-snapshot -q -d "$out/copy" "$work") ;;
	sqlite3-backup)
		snap=$(secs timeout "$BACKUP_LIMIT" sqlite3 "$work" \
		    ".backup '$out/copy.db'") ;;
	esac
	wait "$w"
	result=$(cat "$out/writer.out")
	rm -rf "$out/copy" "$out/copy.db"
	printf '%-7s %-15s %-10s %s\n' "$1" "$2" "${snap:0:6}" "$result"
}

# under_writer METHOD: can METHOD finish while a WAL writer never pauses?
under_writer() {
	local w t0 t1 rc=0
	fresh_work wal
	vb-testwriter "$work" >/dev/null &
	w=$!
	sleep 1
	rm -rf "$out/copy" "$out/copy.db"
	mkdir -p "$out/copy"
	t0=$(date +%s.%N)
	case $1 in
	vb-snapshot) timeout "$BACKUP_LIMIT" vb-snapshot -q -d "$out/copy" \
	    "$work" >/dev/null || rc=$? ;;
	sqlite3-backup) timeout "$BACKUP_LIMIT" sqlite3 "$work" \
	    ".backup '$out/copy.db'" || rc=$? ;;
	esac
	t1=$(date +%s.%N)
	kill -TERM "$w"
	wait "$w" || true
	rm -rf "$out/copy" "$out/copy.db"
	if [ "$rc" -eq 124 ]; then
		printf '%-16s did not finish within %s s\n' "$1" "$BACKUP_LIMIT"
	else
		awk -v m="$1" -v a="$t0" -v b="$t1" -v rc="$rc" \
		    'BEGIN { printf "%-16s %.2f s (exit %s)\n", m, b - a, rc }'
	fi
}

make_db
size=$(stat -c %s "$db")
echo "vb snapshot benchmark, $(date -u +%Y-%m-%dT%H:%M:%SZ), $(nproc) cores"
echo "database: $db, $((size / 1048576)) MiB, SQLite $(sqlite3 --version | cut -d' ' -f1)"
echo "page cache warm, sync before each run; median of $RUNS runs"
echo "vb-snapshot also checks (quick_check), hashes and fsyncs its copy"
echo "(vb-deferred: --defer-check, the nightly's, hashes and fsyncs only);"
echo "the +sync rows add the fsync that .backup and cp leave out"
echo
declare -A t
methods="vb-snapshot vb-deferred sqlite3-backup backup+sync vacuum-into cp cp+sync"
for m in $methods; do
	t[$m]=$(time_method "$m")
done
printf '%-16s %8s %8s %16s\n' method seconds MiB/s vb-snapshot/this
for m in $methods; do
	awk -v m="$m" -v t="${t[$m]}" -v v="${t[vb-snapshot]}" -v s="$size" \
	    'BEGIN { printf "%-16s %8.2f %8.0f %16.2f\n", m, t, s / 1048576 / t, v / t }'
done

rm -rf "$out/copy"
rss=$(rss_kib vb-snapshot -q -d "$out/copy" "$db")
rm -rf "$out/copy"
echo
echo "vb-snapshot peak RSS: $rss KiB"

echo
echo "writer (vb-testwriter --rate 500: small transactions) over ${WRITER_SECONDS} s,"
echo "a copy started after 1 s (p99 target for WAL: <= 10 ms, no worse than .backup):"
printf '%-7s %-15s %-10s %s\n' mode copy copy-s writer
for mode in wal delete; do
	for with in none vb-snapshot sqlite3-backup; do
		latency "$mode" "$with"
	done
done

echo
echo "a full copy while a WAL writer commits without pause (limit ${BACKUP_LIMIT} s):"
under_writer vb-snapshot
under_writer sqlite3-backup
rm -f "$work" "$work-wal" "$work-shm" "$work-journal"
