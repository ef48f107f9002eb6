#!/usr/bin/env bats
# vb-prune: retention by count, age and calendar, touching only vb's files.

bats_require_minimum_version 1.5.0
load helpers

# nightly DIR FIRST COUNT [EXT...]: COUNT nightly backups at 01:00 UTC
# from the day FIRST (YYYY-MM-DD), one file per extension (default .tar.zst).
nightly() {
	local dir=$1 first=$2 count=$3 i day ext
	shift 3
	mkdir -p "$dir"
	for i in $(seq 0 $((count - 1))); do
		day=$(date -u -d "$first + $i days" +%Y-%m-%d)
		for ext in "${@:-.tar.zst}"; do
			echo "$day" >"$dir/backup-${day}T01-00-00-000Z$ext"
		done
	done
}

# days_left DIR: the dates of the backups left, one per line, sorted.
days_left() {
	find "$1" -maxdepth 1 -type f -printf '%f\n' |
	    grep -E '^backup-[0-9-]{10}T[0-9-]{12}Z\.(db|tar|tar\.(zst|gz|xz))$' |
	    cut -c8-17 | sort -u
}

@test "prune: --help, --version, nonsensical options exit 2" {
	run --separate-stderr vb-prune --help
	[ "$status" -eq 0 ]
	[[ $output == usage:\ vb-prune* ]]
	run --separate-stderr vb-prune --version
	[ "$status" -eq 0 ]
	mkdir b
	for bad in "--keep 0" "--keep -1" "--keep x" "--keep-daily -2" \
	    "--keep-within 7x" "--keep-within d" "--keep-within 7" \
	    "--keep 0 --keep-daily 0" "--bogus" "extra"; do
		# shellcheck disable=SC2086 # the options are words
		run --separate-stderr vb-prune -d b $bad
		[ "$status" -eq 2 ]
		[[ $stderr == *usage:\ vb-prune* ]]
		[ -z "$output" ]
	done
	run --separate-stderr vb-prune --keep 3
	[ "$status" -eq 2 ]
	[[ $stderr == *"no backup directory"* ]]
}

@test "prune: --policy says the rules in words, vb.conf's or the ones given, and deletes nothing" {
	nightly b 2026-11-01 3
	MAX_BACKUPS=2 KEEP_DAILY=0 KEEP_HOURLY=24 KEEP_WITHIN=2w \
	    run --separate-stderr vb-prune --policy -d b
	[ "$status" -eq 0 ]
	[ "$output" = "keep the newest 2 backups, the newest of each of the last 24 hours, every backup within 2w of the newest (any rule keeps a backup); never the newest one" ]
	run --separate-stderr vb-prune --policy -d b --keep 1 --keep-monthly 6
	[ "$status" -eq 0 ]
	[ "$output" = "keep the newest 1 backups, the newest of each of the last 6 months (any rule keeps a backup); never the newest one" ]
	[ "$(days_left b | wc -l)" -eq 3 ]
	# One mode at a time.
	run --separate-stderr vb-prune --policy --holds -d b
	[ "$status" -eq 2 ]
	[[ $stderr == *"go alone"* ]]
	run --separate-stderr vb-prune --policy -n -d b
	[ "$status" -eq 2 ]
}

@test "prune: a missing or unreadable directory is exit 1 with a record" {
	run --separate-stderr vb-prune -d "$T/nope" --keep 3
	[ "$status" -eq 1 ]
	assert_record "$output" prune failed
	[[ $stderr == *"$T/nope: No such file or directory; deleting nothing"* ]]
	chmod 755 "$T"
	nightly b 2026-01-01 5
	chmod 700 b
	run --separate-stderr as_nobody vb-prune -d "$T/b" --keep 1
	[ "$status" -eq 1 ]
	[[ $stderr == *"Permission denied"* ]]
	[ "$(days_left b | wc -l)" -eq 5 ]
}

@test "prune: --keep 7 keeps the 7 newest and every foreign thing" {
	slow
	nightly b 2026-11-01 20
	echo outside >outside.db
	echo notes >b/notes.txt
	echo x >b/backup-foo.db
	echo x >b/other.tar.zst
	echo x >b/backup-2026-11-01T01-00-00-000Z.tar.zst.bak
	mkdir b/subdir b/backup-2026-10-01T01-00-00-000Z.db
	ln -s "$T/outside.db" b/backup-2026-10-02T01-00-00-000Z.db
	run --separate-stderr vb-prune -d b --keep 7
	[ "$status" -eq 0 ]
	[ -z "$stderr" ]
	[ "${#lines[@]}" -eq 13 ]
	for l in "${lines[@]}"; do
		assert_record "$l" prune ok
		[[ $(field 1 "$l") == b/backup-2026-11-*.tar.zst ]]
		[ "$(field 4 "$l")" -eq 11 ]
	done
	[ "$(days_left b | tr '\n' ' ')" = "2026-11-14 2026-11-15 2026-11-16 2026-11-17 2026-11-18 2026-11-19 2026-11-20 " ]
	[ -f b/notes.txt ] && [ -f b/backup-foo.db ] && [ -f b/other.tar.zst ]
	[ -f b/backup-2026-11-01T01-00-00-000Z.tar.zst.bak ]
	[ -d b/subdir ] && [ -d b/backup-2026-10-01T01-00-00-000Z.db ]
	[ -L b/backup-2026-10-02T01-00-00-000Z.db ]
	[ "$(cat outside.db)" = outside ]
}

@test "prune: a year of nightly backups under daily 7, weekly 4, monthly 12" {
	slow
	nightly b 2025-01-01 365
	run --separate-stderr vb-prune -d b --keep-daily 7 --keep-weekly 4 --keep-monthly 12
	[ "$status" -eq 0 ]
	[ "${#lines[@]}" -eq 345 ]
	# Written out by hand: the last 7 days; the newest of ISO weeks
	# 2026-W01 (Dec 31), 2025-W52 (Dec 28), W51 (Dec 21), W50 (Dec 14);
	# the newest of each of the 12 months.
	expected="2025-01-31 2025-02-28 2025-03-31 2025-04-30 2025-05-31 "
	expected+="2025-06-30 2025-07-31 2025-08-31 2025-09-30 2025-10-31 "
	expected+="2025-11-30 2025-12-14 2025-12-21 2025-12-25 2025-12-26 "
	expected+="2025-12-27 2025-12-28 2025-12-29 2025-12-30 2025-12-31 "
	[ "$(days_left b | tr '\n' ' ')" = "$expected" ]
}

@test "prune: --dry-run prints what would go and deletes nothing" {
	slow
	nightly b 2026-11-01 10
	run --separate-stderr vb-prune -n -d b --keep 4
	[ "$status" -eq 0 ]
	[ "${#lines[@]}" -eq 6 ]
	for l in "${lines[@]}"; do
		assert_record "$l" prune ok
		[ "$(field 8 "$l")" = dry-run ]
	done
	[ "$(days_left b | wc -l)" -eq 10 ]
}

@test "prune: a raw snapshot and its archive are one backup" {
	nightly b 2026-11-01 6 .db .tar.zst
	nightly b 2026-11-07 2 .db
	run --separate-stderr vb-prune -d b --keep 3
	[ "$status" -eq 0 ]
	[ "${#lines[@]}" -eq 10 ]
	[ "$(days_left b | tr '\n' ' ')" = "2026-11-06 2026-11-07 2026-11-08 " ]
	[ -f b/backup-2026-11-06T01-00-00-000Z.db ]
	[ -f b/backup-2026-11-06T01-00-00-000Z.tar.zst ]
}

@test "prune: --keep-within counts from the newest backup, not from now" {
	nightly b 2025-01-01 30
	run --separate-stderr vb-prune -d b --keep-within 1w
	[ "$status" -eq 0 ]
	[ "$(days_left b | tr '\n' ' ')" = "2025-01-23 2025-01-24 2025-01-25 2025-01-26 2025-01-27 2025-01-28 2025-01-29 2025-01-30 " ]
	run --separate-stderr vb-prune -d b --keep-within 1m
	[ "${#lines[@]}" -eq 0 ]
}

@test "prune: pre-restore copies have their own rule; --keep counts backups" {
	nightly b 2026-11-01 5
	for d in 01 02 03 04 05; do
		echo x >"b/pre-restore-2026-11-${d}T12-00-00-000Z.tar.zst"
	done
	run --separate-stderr vb-prune -d b --keep 2
	[ "$status" -eq 0 ]
	[ "$(days_left b | wc -l)" -eq 2 ]
	[ "$(find b -name 'pre-restore-*' | wc -l)" -eq 3 ]
	[ ! -e b/pre-restore-2026-11-02T12-00-00-000Z.tar.zst ]
	[ -e b/pre-restore-2026-11-03T12-00-00-000Z.tar.zst ]
	run --separate-stderr vb-prune -d b --keep 2 --keep-pre-restore 1
	[ "$(find b -name 'pre-restore-*' | wc -l)" -eq 1 ]
}

@test "prune: the default policy is the old service's 7 days: MAX_BACKUPS and KEEP_DAILY" {
	nightly b 2026-11-01 10
	# The newest 4, and the newest of each of the last 7 days: 7 left.
	run --separate-stderr env MAX_BACKUPS=4 vb-prune -d b
	[ "$status" -eq 0 ]
	[ "$(days_left b | wc -l)" -eq 7 ]
	[ "$(days_left b | head -1)" = 2026-11-04 ]
	# KEEP_DAILY=0 leaves MAX_BACKUPS alone; BACKUP_DIR names the dir.
	run --separate-stderr env BACKUP_DIR="$T/b" MAX_BACKUPS=4 KEEP_DAILY=0 \
	    vb-prune
	[ "$status" -eq 0 ]
	[ "$(days_left b | wc -l)" -eq 4 ]
	# From vb.conf, as the nightly job runs it.
	printf 'KEEP_DAILY=0\nMAX_BACKUPS=2\nKEEP_WEEKLY=0\n' >"$VB_CONF"
	run --separate-stderr vb-prune -d b
	[ "$status" -eq 0 ]
	[ "$(days_left b | wc -l)" -eq 2 ]
}

@test "prune: manual backups never push the nightly history below seven days" {
	# Nine nightly backups, then four by hand on the last day.
	nightly b 2026-11-01 9
	for h in 09 11 14 17; do
		: >"b/backup-2026-11-09T${h}-00-00-000Z.tar.zst"
	done
	run --separate-stderr env MAX_BACKUPS=3 vb-prune -d b
	[ "$status" -eq 0 ]
	# A backup for each of the last 7 days, 11-03 to 11-09.
	[ "$(days_left b | tr '\n' ' ')" = \
	    "2026-11-03 2026-11-04 2026-11-05 2026-11-06 2026-11-07 2026-11-08 2026-11-09 " ]
	# On the last day: the newest 3 (MAX_BACKUPS), all manual.
	[ "$(find b -name 'backup-2026-11-09T*' | wc -l)" -eq 3 ]
	[ ! -e b/backup-2026-11-09T01-00-00-000Z.tar.zst ]
	# Gone: the two oldest days, and two runs of the last day.
	[ "$(grep -c '	prune	ok	' <<<"$output")" -eq 4 ]
}

@test "prune: a file it may not delete is a failed record; the rest go on" {
	chmod 755 "$T"
	nightly b 2026-11-01 5
	chmod 755 b
	run --separate-stderr as_nobody vb-prune -d "$T/b" --keep 2
	[ "$status" -eq 1 ]
	[ "${#lines[@]}" -eq 3 ]
	for l in "${lines[@]}"; do
		assert_record "$l" prune failed
		[[ $(field 8 "$l") == "cannot delete: Permission denied" ]]
	done
	[ "$(days_left b | wc -l)" -eq 5 ]
}

@test "prune: a backup dated in the future (planted, or a clock gone wrong) stops nothing: kept, counted by no rule, named" {
	nightly b 2026-11-01 10
	echo x >b/backup-2099-01-01T01-00-00-000Z.tar.zst
	run --separate-stderr vb-prune -d b --keep 2
	[ "$status" -eq 0 ]
	[[ $stderr == *"backup-2099-01-01T01-00-00-000Z: kept, counted by no rule: dated in the future"* ]]
	# The two newest real nights kept, beside the future one.
	[ "$(days_left b | wc -l)" -eq 3 ]
	[ -f b/backup-2099-01-01T01-00-00-000Z.tar.zst ]
	[ -n "$(find b -name 'backup-2026-11-10T*')" ]
}
