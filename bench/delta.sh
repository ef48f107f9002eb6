#!/bin/bash
# bench/delta.sh - incremental nightlies (FULL_EVERY) on the generated
# database (bench/common.sh), whose application changes PCT % of its
# pages a day (1 and 10 by default): a week of vb-backup runs, a full
# then six deltas, each beside its reference in the same run.
#
#   the delta nightly        | sqlite3 .backup + zstd -3 -T1 (target <= 0.3)
#   7 days of archives       | one full archive (target <= 1.3 at 1 %)
#                            | and 7 full archives, what the week cost before
#   restore --to of the 7th  | restore --to of the full (target <= 1.5)
#   peak RSS of vb-compress and vb-restore on a delta (target <= 32 MiB)
#
#   VB_BIN=build bench/delta.sh     BENCH_MB=256 PCTS="1 10" bench/delta.sh
set -euo pipefail

RUNS=${RUNS:-3}
PCTS=${PCTS:-1 10}
# shellcheck source=bench/common.sh
. "$(dirname "$0")/common.sh"
n=$out/delta
live=$n/live.db

# change PCT: rewrites the note of random orders, one for each PCT % of
# the database's pages (scattered: about that share of pages changed).
change() {
	local pages rows
	pages=$(sqlite3 "$live" 'PRAGMA page_count')
	rows=$((pages * $1 / 100))
	sqlite3 "$live" "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL
	    SELECT i + 1 FROM n WHERE i < $rows)
	    UPDATE orders SET note = hex(randomblob(20)) WHERE id IN
	    (SELECT 1 + abs(random()) % (SELECT max(id) FROM orders) FROM n)"
}

# time_rss CMD...: "seconds peak-RSS-KiB" of CMD.
time_rss() {
	/usr/bin/time -f '%e %M' "$@" 2>&1 >/dev/null | tail -1
}

restore_to() {	# ARCHIVE
	rm -f "$n/out.db"
	vb-restore -q --to "$n/out.db" "$1"
}

archives() {
	find "$n/backups" -name 'backup-*.tar.zst' | sort
}

make_db
echo "vb incremental benchmark, $(date -u +%Y-%m-%dT%H:%M:%SZ)," \
    "$(nproc) cores; database $BENCH_MB MiB; FULL_EVERY=7d"
mkdir -p "$n"
cp "$db" "$live"
tref=$(run_median backup_zstd "$live" "$n")
rm -f "$n/ref.db.zst"
printf '%-40s %8s %8s %8s\n' "" "vb" "ref" "vb/ref"
for pct in $PCTS; do
	rm -rf "$n/backups" "$n/pre"
	cp "$db" "$live"
	printf 'DB_PATH=%s\nBACKUP_DIR=%s\nFULL_EVERY=7d\n' "$live" \
	    "$n/backups" >"$n/vb.conf"
	tfull=$(secs vb_backup "$n")
	times=()
	for _ in 1 2 3 4 5 6; do
		change "$pct"
		sync
		times+=("$(secs vb_backup "$n")")
	done
	tdelta=$(printf '%s\n' "${times[@]}" | median)
	full=$(archives | head -n1)
	last=$(archives | tail -n1)
	case $last in *.delta.tar.zst) ;; *)
		echo "the last night is not a delta: $last" >&2; exit 1 ;;
	esac
	fbytes=$(stat -c %s "$full")
	wbytes=$(archives | xargs stat -c %s | awk '{ s += $1 } END { print s }')
	trf=$(run_median restore_to "$full")
	trd=$(run_median restore_to "$last")
	# The peak RSS of a delta night's compression and of the chain's
	# restore.
	# Where a delta night's time goes: the two stages alone.
	change "$pct"
	sync
	sleep 1
	snap=$n/backups/$(date -u +backup-%Y-%m-%dT%H-%M-%S-000Z.db)
	read -r ts _ < <(time_rss vb-snapshot -q --defer-check -o "$snap" \
	    "$live")
	read -r tc rss_c < <(time_rss vb-compress -q --full-every 7d "$snap")
	rm -f "$n/out.db"
	read -r _ rss_r < <(time_rss vb-restore -q --to "$n/out.db" \
	    "$(archives | tail -n1)")
	awk -v p="$pct" -v td="$tdelta" -v tf="$tfull" -v tr="$tref" \
	    -v fb="$fbytes" -v wb="$wbytes" -v trf="$trf" -v trd="$trd" 'BEGIN {
		printf "%d %% of pages a day:\n", p
		printf "  %-38s %8.2f %8.2f %8.2f  (target <= 0.3)\n",
		    "delta nightly s | .backup + zstd -3", td, tr, td / tr
		printf "  %-38s %8.2f %8.2f %8.2f\n",
		    "  (the full night s | the same)", tf, tr, tf / tr
		printf "  %-38s %8.1f %8.1f %8.2f  (target <= 1.3 at 1 %%)\n",
		    "7 days MB | one full archive", wb / 1e6, fb / 1e6,
		    wb / fb
		printf "  %-38s %8.1f %8.1f %8.2f\n",
		    "7 days MB | 7 full archives", wb / 1e6, 7 * fb / 1e6,
		    wb / (7 * fb)
		printf "  %-38s %8.2f %8.2f %8.2f  (target <= 1.5)\n",
		    "restore --to of the 7th s | of the full", trd, trf,
		    trd / trf
	}'
	echo "  a delta night's stages: vb-snapshot --defer-check $ts s," \
	    "vb-compress (hash, check, delta) $tc s"
	echo "  peak RSS KiB (target <= 32768): vb-compress (delta) $rss_c," \
	    "vb-restore (chain of 8) $rss_r"
done
rm -rf "$n"
