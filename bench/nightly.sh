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

# The same nightly with SIGN_WITH (manifest and catalog signed), and its
# restore with --verify-with (the signature and the catalog checked).
vb_backup_signed() {
	VB_CONF=$n/vb.conf SIGN_WITH=$n/signing-key \
	    "$here/../bin/vb-backup" 2>/dev/null
}

vb_restore_verified() {
	rm -f "$n/out.db"
	vb-restore -q --verify-with "$n/signing-key.pub" --to "$n/out.db" \
	    "$(newest)"
}

vb_restore_age() {
	rm -f "$n/out.db"
	vb-restore -q -i "$n/key.txt" --to "$n/out.db" \
	    "$(find "$n/backups" -name 'backup-*.tar.zst.age' | sort | tail -1)"
}

# The stages alone, each beside its reference: vb-snapshot as the
# nightly runs it (--defer-check) and sqlite3 .backup; vb-compress as
# the nightly runs it (-T, every core) of a kept snapshot, and zstd -3
# -T1 of the same file.
snap_alone() {
	rm -rf "$n/s"
	vb-snapshot -q --defer-check -d "$n/s" "$live"
}

backup_alone() {
	rm -f "$n/ref.db"
	sqlite3 "$live" ".backup '$n/ref.db'"
}

compress_alone() {	# THREADS
	rm -f "$n"/c/backup-*.tar.zst "$n"/c/.vb-rows
	vb-compress -q -k -T "$1" "$n"/c/backup-*.db
}

zstd_alone() {		# THREADS
	zstd -q -3 -T"$1" -f -o "$n/c/ref.zst" "$n"/c/backup-*.db
}

# writer WITH: the p99 and worst commit latency of a WAL writer at about
# 500 small commits a second, over the whole of WITH (none, the nightly
# vb-backup, which runs itself at nice 10 and best-effort I/O priority 7
# as cron and vb-backup.service do, or the recipe, run the same way).
writer() {
	local w=$n/w/app.db secs=$((${tvb%.*} + 4)) res
	rm -rf "$n/w"
	mkdir -p "$n/w/backups"
	cp "$live" "$w"
	sqlite3 "$w" "PRAGMA journal_mode=WAL" >/dev/null
	printf 'DB_PATH=%s\nBACKUP_DIR=%s\n' "$w" "$n/w/backups" \
	    >"$n/w/vb.conf"
	sync
	vb-testwriter --rate 500 --seconds "$secs" "$w" >"$n/w/out" &
	sleep 1
	case $1 in
	vb-backup) vb_backup "$n/w" ;;
	recipe) nice -n 10 ionice -c 2 -n 7 bash -c \
	    "$(declare -f backup_zstd); backup_zstd '$w' '$n/w'" ;;
	esac
	wait
	res=$(cat "$n/w/out")
	printf '%-44s %s\n' "  writer p99, $1" "$res"
}

make_db
rm -rf "$n"
mkdir -p "$n/pre"
cp "$db" "$live"
conf
threads=$(nproc)
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
rm -f "$n/signing-key" "$n/signing-key.pub"
ssh-keygen -q -t ed25519 -N '' -f "$n/signing-key"
tsig=$(run_median vb_backup_signed)
tsigr=$(run_median vb_restore_verified)
tsnap=$(run_median snap_alone)
tbk=$(run_median backup_alone)
mkdir -p "$n/c"
vb-snapshot -q --defer-check -d "$n/c" "$live" >/dev/null
tcomp=$(run_median compress_alone "$threads")
tcomp1=$(run_median compress_alone 1)
tzstd=$(run_median zstd_alone 1)
rm -f "$n"/c/backup-*.tar.zst "$n"/c/.vb-rows
rss_cn=$(rss_kib vb-compress -q -k -T "$threads" "$n"/c/backup-*.db)
rss_zn=$(rss_kib zstd -q -3 -T"$threads" -f -o "$n/c/ref.zst" \
    "$n"/c/backup-*.db)
rss_s=$(rss_kib vb-snapshot -q -d "$n/rss" "$live")
rss_c=$(rss_kib vb-compress -q "$n"/rss/backup-*.db)
rm -f "$n/out.db"
rss_r=$(rss_kib vb-restore -q --to "$n/out.db" "$(newest)")
rss_l=$(vb-log --show "$live" | rss_kib vb-log -q "$live")
rss_p=$(rss_kib vb-prune -n -d "$n/backups")
awk -v tvb="$tvb" -v tref="$tref" -v tweek="$tweek" -v tto="$tto" \
    -v tq="$tq" -v tun="$tun" -v tdb="$tdb" -v tage="$tage" \
    -v tagr="$tagr" -v tsnap="$tsnap" -v tbk="$tbk" -v tcomp="$tcomp" \
    -v tcomp1="$tcomp1" -v tzstd="$tzstd" -v th="$threads" \
    -v tsig="$tsig" -v tsigr="$tsigr" 'BEGIN {
	printf "%-44s %8s %8s %8s\n", "", "vb s", "ref s", "vb/ref"
	printf "%-44s %8.2f %8.2f %8.2f  (target <= 0.8)\n",
	    "nightly: vb-backup | .backup + zstd -3 -T1", tvb, tref, tvb / tref
	printf "%-44s %8.2f %8.2f %8.2f  (target <= 1.2)\n",
	    "vb-snapshot --defer-check | .backup", tsnap, tbk, tsnap / tbk
	printf "%-44s %8.2f %8.2f %8.2f  (target <= 1.0)\n",
	    "vb-compress -T" th " | zstd -3 -T1", tcomp, tzstd, tcomp / tzstd
	printf "%-44s %8.2f %8.2f %8.2f\n",
	    "  vb-compress -T1 | zstd -3 -T1", tcomp1, tzstd, tcomp1 / tzstd
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
	printf "%-44s %8.2f %8.2f %8.2f\n",
	    "signed nightly (SIGN_WITH) | the same, plain", tsig, tvb,
	    tsig / tvb
	printf "%-44s %8.2f %8.2f %8.2f\n",
	    "restore --verify-with --to | plain --to", tsigr, tto, tsigr / tto
}'
echo
echo "a WAL writer at 500 commits/s (commits, worst, mean and p99 in us;"
echo "target: p99 <= 10 ms over the whole nightly):"
writer none
writer vb-backup
writer recipe
echo
echo "peak RSS (KiB): vb-compress -T$threads $rss_cn, zstd -3 -T$threads" \
    "$rss_zn: $(awk -v a="$rss_cn" -v b="$rss_zn" \
    'BEGIN { printf "%.2f", a / b }')x (target <= 1.25);"
echo "at default settings: vb-snapshot $rss_s, vb-compress $rss_c," \
    "vb-restore $rss_r, vb-log $rss_l, vb-prune $rss_p"
rm -rf "$n"
