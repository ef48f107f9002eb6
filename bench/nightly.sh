#!/bin/bash
# bench/nightly.sh - the numbers an operator compares vb with, each beside
# its reference command in the same run, on the generated database
# (bench/common.sh): the nightly job end to end against sqlite3 .backup
# then zstd -3; a restore against zstd -d | tar -x, cp and sync of the
# same archive; a live restore against a backup plus a restore --to; and
# every tool's peak RSS.  A benchmark, not a test: it prints ratios.
#
#   make bench                       (or VB_BIN=build bench/nightly.sh)
#   BENCH_MB=256 RUNS=3 bench/nightly.sh
set -euo pipefail

RUNS=${RUNS:-3}
# shellcheck source=bench/common.sh
. "$(dirname "$0")/common.sh"
n=$out/nightly
live=$n/live.db

conf() {
	printf 'DB_PATH=%s\nBACKUP_DIR=%s\n' "$live" "$n/backups" >"$n/vb.conf"
}

newest() {
	find "$n/backups" -name 'backup-*.tar.zst' | sort | tail -1
}

vb_restore_to() {	# [CHECK]
	rm -f "$n/out.db"
	vb-restore -q ${1:+"$1"} --to "$n/out.db" "$(newest)"
}

# The reference restore of the same archive: unpack, copy, sync.
untar_cp() {
	rm -rf "$n/x" "$n/out.db"
	mkdir "$n/x"
	zstd -q -d -T1 -c "$(newest)" | tar -x -C "$n/x"
	cp "$n/x"/*.db "$n/out.db"
	sync "$n/out.db"
}

vb_restore_db() {
	vb-restore -q -d "$n/pre" --db "$live" "$(newest)"
}

# The same nightly with ENCRYPT_TO (age), and its restore with -i.
vb_backup_age() {
	VB_CONF=$n/vb.conf ENCRYPT_TO=$n/recipients.txt \
	    "$here/../bin/vb-backup" 2>/dev/null
}

vb_restore_age() {
	rm -f "$n/out.db"
	vb-restore -q -i "$n/key.txt" --to "$n/out.db" \
	    "$(find "$n/backups" -name 'backup-*.tar.zst.age' | sort | tail -1)"
}

make_db
rm -rf "$n"
mkdir -p "$n/pre"
cp "$db" "$live"
conf
size=$(stat -c %s "$live")
echo "vb nightly benchmark, $(date -u +%Y-%m-%dT%H:%M:%SZ), $(nproc) cores"
echo "database: $((size / 1048576)) MiB ($db); median of $RUNS runs;"
echo "page cache warm, sync before each run"
echo
# The first night checks everything (integrity_check): timed on its own.
tweek=$(secs vb_backup "$n")
tvb=$(run_median vb_backup "$n")
tref=$(run_median backup_zstd "$live" "$n")
tto=$(run_median vb_restore_to)
tq=$(run_median vb_restore_to --quick-check)
tun=$(run_median untar_cp)
tdb=$(run_median vb_restore_db)
age-keygen -o "$n/key.txt" 2>/dev/null
age-keygen -y "$n/key.txt" >"$n/recipients.txt"
tage=$(run_median vb_backup_age)
tagr=$(run_median vb_restore_age)
rss_s=$(rss_kib vb-snapshot -q -d "$n/rss" "$live")
rss_c=$(rss_kib vb-compress -q "$n"/rss/backup-*.db)
rm -f "$n/out.db"
rss_r=$(rss_kib vb-restore -q --to "$n/out.db" "$(newest)")
rss_l=$(vb-log --show "$live" | rss_kib vb-log -q "$live")
rss_p=$(rss_kib vb-prune -n -d "$n/backups")
awk -v tvb="$tvb" -v tref="$tref" -v tweek="$tweek" -v tto="$tto" \
    -v tq="$tq" -v tun="$tun" -v tdb="$tdb" -v tage="$tage" \
    -v tagr="$tagr" 'BEGIN {
	printf "%-44s %8s %8s %8s\n", "", "vb s", "ref s", "vb/ref"
	printf "%-44s %8.2f %8.2f %8.2f  (target <= 1.0)\n",
	    "nightly: vb-backup | .backup + zstd -3 -T1", tvb, tref, tvb / tref
	printf "%-44s %8.2f %8.2f %8.2f\n",
	    "  the weekly night (integrity_check)", tweek, tref, tweek / tref
	printf "%-44s %8.2f %8.2f %8.2f  (target <= 1.3)\n",
	    "restore --to | zstd -d | tar -x, cp, sync", tto, tun, tto / tun
	printf "%-44s %8.2f %8.2f %8.2f\n",
	    "  restore --quick-check --to", tq, tun, tq / tun
	printf "%-44s %8.2f %8.2f %8.2f  (target <= 1.5)\n",
	    "restore --db | vb-backup + restore --to", tdb, tvb + tto,
	    tdb / (tvb + tto)
	printf "%-44s %8.2f %8.2f %8.2f\n",
	    "encrypted nightly (age) | the same, plain", tage, tvb, tage / tvb
	printf "%-44s %8.2f %8.2f %8.2f\n",
	    "encrypted restore -i --to | plain --to", tagr, tto, tagr / tto
}'
echo
echo "peak RSS (KiB; target <= 32768 at default settings):"
echo "vb-snapshot $rss_s, vb-compress $rss_c, vb-restore $rss_r," \
    "vb-log $rss_l, vb-prune $rss_p"
rm -rf "$n"
