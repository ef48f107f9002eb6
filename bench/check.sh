#!/bin/bash
# bench/check.sh - what vb-backup --check costs on a week of backups
# (issue 36: it hashes every archive again, every time), in the same
# run: seven nightlies of the generated database (BENCH_MB, default
# 1 GiB), then vb-backup --check and vb-restore --list --sums, beside
# sha256sum and cat of the same archives (the floor: reading and hashing
# the bytes once).  Warm page cache (the archives were just written).
# A benchmark, not a test.
#
#   make bench                     (or VB_BIN=build bench/check.sh)
#   BENCH_MB=1024 RUNS=3 bench/check.sh
set -euo pipefail

RUNS=${RUNS:-3}
# shellcheck source=bench/common.sh
. "$(dirname "$0")/common.sh"
cdir=$out/check

make_db
rm -rf "$cdir"
mkdir -p "$cdir/b"
chmod 700 "$cdir/b"
cp "$db" "$cdir/app.db"
printf 'DB_PATH=%s\nBACKUP_DIR=%s\nDRILL_EVERY=0\nMAX_BACKUPS=7\n' \
    "$cdir/app.db" "$cdir/b" >"$cdir/vb.conf"
echo "vb --check benchmark, $(date -u +%Y-%m-%dT%H:%M:%SZ), $(nproc) cores"
echo "database: $(($(stat -c %s "$db") / 1048576)) MiB; a week of nightlies ..."
for i in 1 2 3 4 5 6 7; do
	sqlite3 "$cdir/app.db" "UPDATE orders SET note = hex(randomblob(20))
	    WHERE id % 97 = $i"
	vb_backup "$cdir"
done
mapfile -t arcs < <(find "$cdir/b" -name 'backup-*.tar*')
bytes=$(cat "${arcs[@]}" | wc -c)
echo "${#arcs[@]} archives, $((bytes / 1048576)) MiB; median of $RUNS runs"
echo

check() {
	VB_CONF=$cdir/vb.conf VB_CRON_FILE=/nonexistent \
	    "$here/../bin/vb-backup" --check || true
}
sums() {
	VB_CONF=$cdir/vb.conf vb-restore --list --sums "$cdir/b"
}

tcat=$(run_median cat "${arcs[@]}")
tsha=$(run_median sha256sum "${arcs[@]}")
tsums=$(run_median sums)
tcheck=$(run_median check)
rcheck=$(rss_kib env VB_CONF="$cdir/vb.conf" vb-restore --list --sums \
    "$cdir/b")

ratio() {
	awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2fx", a / b }'
}
printf '%-40s %8s s  %s\n' "cat (read only)" "$tcat" "$(ratio "$tcat" "$tsha")"
printf '%-40s %8s s  %s\n' "sha256sum" "$tsha" "1.00x"
printf '%-40s %8s s  %s  (RSS %d MiB)\n' "vb-restore --list --sums" "$tsums" \
    "$(ratio "$tsums" "$tsha")" $((rcheck / 1024))
printf '%-40s %8s s  %s\n' "vb-backup --check (all checks)" "$tcheck" \
    "$(ratio "$tcheck" "$tsha")"
awk -v b="$bytes" -v t="$tsums" 'BEGIN { printf "\n--list --sums: %.0f MiB/s; a week of 1 GiB archives (7 GiB) at that rate: %.0f s\n", b / 1048576 / t, 7 * 1024 / (b / 1048576 / t) }'
