#!/usr/bin/env bats
# One configuration grammar: vb.conf read by the same C code in every tool
# and in vb-backup; nothing in it executed or expanded; errors name the
# file and line, and a broken configuration is a failed, reported run.

# shellcheck disable=SC2154 # bats' run --separate-stderr sets $stderr
bats_require_minimum_version 1.5.0
load helpers

setup() {
	vb_setup
	mkdb app.db wal
	mkdir -m 700 out
}

# metric NAME: its value in $T/out/vb.prom.
metric() {
	awk -v n="$1" '$1 ~ "^" n "{" { print $2 }' "$T/out/vb.prom"
}

@test "config: \$(...) and backquotes in the file run nothing, in any tool" {
	# shellcheck disable=SC2016 # the file's text, unexpanded
	for line in 'BACKUP_DIR=$(touch '"$T"'/pwned)/b' \
	    'BACKUP_DIR="'"$T"'/$(touch '"$T"'/pwned)"' \
	    'BACKUP_DIR=`touch '"$T"'/pwned`' \
	    'DB_PATH='"$T"'/app.db; touch '"$T"'/pwned' \
	    'MAX_BACKUPS=7 && touch '"$T"'/pwned'; do
		printf 'DB_PATH=%s\n%s\n' "$T/app.db" "$line" >"$VB_CONF"
		run --separate-stderr vb_backup
		[ "$status" -eq 2 ]
		[[ $stderr == *"$VB_CONF:2: "* ]]
		for t in vb-snapshot vb-prune vb-log vb-compress; do
			run --separate-stderr "$t" --print-config
			[ "$status" -eq 2 ]
			[[ $stderr == *"$t: $VB_CONF:2: "* ]]
		done
		run --separate-stderr vb-restore --list
		[ "$status" -eq 2 ]
		[[ $stderr == *"vb-restore: $VB_CONF:2: "* ]]
		[ ! -e "$T/pwned" ]
	done
	# In a hook, $ is the hook's: kept as written, expanded when it runs.
	# shellcheck disable=SC2016
	printf 'ON_SUCCESS='\''echo "$VB_STATUS" >%s/out/hook'\''\n' "$T" >"$VB_CONF"
	[ "$(vb-prune --print-config | grep ^ON_SUCCESS=)" = \
	    "ON_SUCCESS=echo \"\$VB_STATUS\" >$T/out/hook" ]
}

@test "config: unknown key, relative path, bad number: exit 2 naming the line, with hook, metrics and a row" {
	n=0
	for bad in 'MAX_BACKUP=5' 'BACKUP_DIR=backups' 'MAX_BACKUPS=abc' \
	    'HOOK_TIMEOUT=soon' 'COMPRESSION=lz4' 'OFFSITE=relative/dir'; do
		n=$((n + 1))
		{
			echo "# vb.conf"
			printf 'DB_PATH=%s\nBACKUP_DIR=%s\n' "$T/app.db" "$T/backups"
			printf 'METRICS_FILE=%s\n' "$T/out/vb.prom"
			# shellcheck disable=SC2016
			printf 'ON_FAILURE='\''echo "$VB_EXIT_STATUS $VB_SUMMARY" >%s/out/hook'\''\n' "$T"
			echo "$bad"
		} >"$VB_CONF"
		rm -f out/hook
		run --separate-stderr vb_backup
		[ "$status" -eq 2 ]
		[[ $stderr == *"vb-backup: $VB_CONF:6: "* ]]
		grep -q "^2 FAILED after .* at config: $VB_CONF:6: " out/hook
		[ "$(metric vb_backup_last_run_success)" = 0 ]
		[ "$(metric vb_backup_last_run_exit_status)" = 2 ]
		[ "$(sqlite3 app.db "SELECT count(*) FROM BackupLog WHERE operation = 'backup'
		    AND status = 'failure' AND message LIKE 'failed at config: $VB_CONF:6: %'")" -eq "$n" ]
		[ ! -e backups ]
	done
	# A typo in DB_PATH's key: the closing hint is a command that works.
	printf 'DB_PAHT=%s\nBACKUP_DIR=%s\n' "$T/app.db" "$T/backups" >"$VB_CONF"
	run --separate-stderr vb_backup
	[ "$status" -eq 2 ]
	[[ $stderr == *"unknown key DB_PAHT (did you mean DB_PATH?)"* ]]
	[[ $stderr == *"vb-backup: see: vb-backup --check"* ]]
	[[ $stderr != *"--failures ,"* ]]
	# Each error names its fix.
	printf 'MAX_BACKUP=5\nBACKUP_DIR=backups\n' >"$VB_CONF"
	run --separate-stderr vb-prune --print-config
	[ "$status" -eq 2 ]
	[[ $stderr == *":1: unknown key MAX_BACKUP (did you mean MAX_BACKUPS?)"* ]]
	[[ $stderr == *":2: BACKUP_DIR=backups is a relative path; give an absolute one"* ]]
}

@test "config: one grammar: quotes, spaces and comments mean the same to vb-backup, vb-prune and vb-restore" {
	cat >"$VB_CONF" <<-EOF
	# A file written for the shell, as operators do.
	export DB_PATH='$T/app.db'
	BACKUP_DIR = "$T/my backups"   # spaces, quotes, a comment
	MAX_BACKUPS = 2
	KEEP_DAILY=0
	DRILL_EVERY=0  # the empty "backups" below would fail a drill
	EOF
	mkdir -m 700 "my backups"
	for d in 01 02 03 04; do
		: >"my backups/backup-2026-01-${d}T01-00-00-000Z.tar.zst"
	done
	run --separate-stderr vb_backup
	[ "$status" -eq 0 ]
	a=$(find "$T/my backups" -name 'backup-*.tar.zst' ! -name 'backup-2026-01-*')
	[ -n "$a" ]
	# "MAX_BACKUPS = 2", spaces and all: the new one and the newest old.
	[ "$(find "$T/my backups" -name 'backup-*' | wc -l)" -eq 2 ]
	# vb-prune and vb-restore, run by hand, find the same directory.
	run --separate-stderr vb-prune -n
	[ "$status" -eq 0 ]
	[ -z "$output" ]
	# (The old ones are empty files BackupLog never named: listed, and
	# marked unrecorded, which makes the listing's status 1.)
	run --separate-stderr vb-restore --list
	[ "$status" -eq 1 ]
	[[ $output == "$a	list	ok	"* ]]
	[[ ${lines[1]} == *"UNRECORDED"* ]]
	[ "${#lines[@]}" -eq 2 ]
	# And every tool prints the same configuration.
	want=$(vb-snapshot --print-config)
	[[ $want == *"BACKUP_DIR=$T/my backups"* ]]
	[[ $want == *"MAX_BACKUPS=2"* ]]
	for t in vb-compress vb-log vb-prune vb-restore; do
		[ "$($t --print-config)" = "$want" ]
	done
	# The environment wins, and is checked like the file.
	[ "$(MAX_BACKUPS=3 vb-prune --print-config | grep ^MAX_BACKUPS=)" = MAX_BACKUPS=3 ]
	run --separate-stderr env MAX_BACKUPS=many vb-prune -n
	[ "$status" -eq 2 ]
	[[ $stderr == *"environment: MAX_BACKUPS must be a whole number"* ]]
}

@test "config: a file the job's user cannot read is an error, not an empty configuration" {
	chmod 755 "$T"
	printf 'DB_PATH=%s\nBACKUP_DIR=%s\n' "$T/app.db" "$T/backups" >"$VB_CONF"
	chmod 600 "$VB_CONF"
	run --separate-stderr as_nobody vb-prune -n
	[ "$status" -eq 2 ]
	[[ $stderr == *"$VB_CONF: cannot read: Permission denied"* ]]
	run --separate-stderr as_nobody "$BATS_TEST_DIRNAME/../bin/vb-backup"
	[ "$status" -eq 2 ]
	[[ $stderr == *"$VB_CONF: cannot read: Permission denied"* ]]
	# A file VB_CONF names that is not there is said to be missing,
	# by the job and by every tool (issue 36: a typo read as "nothing
	# set"); an empty one is no configuration: the environment alone.
	rm "$VB_CONF"
	for cmd in "vb-snapshot app.db" vb-compress "vb-prune -n" \
	    "vb-restore --list" "vb-log app.db" "vb-offsite --check" \
	    "$BATS_TEST_DIRNAME/../bin/vb-backup"; do
		# shellcheck disable=SC2086 # the command and its words
		run --separate-stderr env DB_PATH="$T/app.db" \
		    BACKUP_DIR="$T/backups" $cmd </dev/null
		[ "$status" -eq 2 ] || { echo "$cmd: $status"; return 1; }
		[[ $stderr == *"VB_CONF=$VB_CONF: no such file"* ]] ||
		    { echo "$cmd: $stderr"; return 1; }
	done
	run --separate-stderr env VB_CONF=/mistyped/path \
	    "$BATS_TEST_DIRNAME/../bin/vb-backup" --check
	[ "$status" -eq 1 ]
	[[ $output == *"FAIL  configuration     VB_CONF=/mistyped/path: no such file"* ]]
	[[ $output != *"must be set"* ]]
	: >"$VB_CONF"
	run --separate-stderr env DB_PATH="$T/app.db" BACKUP_DIR="$T/backups" \
	    "$BATS_TEST_DIRNAME/../bin/vb-backup"
	[ "$status" -eq 0 ]
}

@test "config: --print-config=run, =drill or =check without DB_PATH or BACKUP_DIR is an error field, exit 2, no stamp" {
	local what
	for what in run drill check; do
		run --separate-stderr env VB_CONF=/dev/null DB_PATH= \
		    BACKUP_DIR="$T/b" vb-snapshot --print-config=$what
		[ "$status" -eq 2 ]
		grep -qx 'VB_CONF_ERROR=DB_PATH and BACKUP_DIR must be set, in /dev/null or the environment' <<<"$output"
		[[ $output != *VB_CONF_CHECKED* ]]
	done
	# Both set: no such error; the plain listing (--check's) never has it.
	run --separate-stderr env VB_CONF=/dev/null DB_PATH="$T/app.db" \
	    BACKUP_DIR="$T/b" vb-snapshot --print-config=run
	[ "$status" -eq 0 ]
	[[ $output == *VB_CONF_CHECKED=* ]]
	run --separate-stderr env VB_CONF=/dev/null DB_PATH="$T/app.db" \
	    BACKUP_DIR="$T/b" vb-snapshot --print-config=check
	[ "$status" -eq 0 ]
	[[ $output != *VB_CONF_CHECKED=* ]]
	# Another error first: that one alone (what was unset may be in it).
	run --separate-stderr env VB_CONF=/dev/null DB_PATH= KEEP_DAILY=x \
	    vb-snapshot --print-config=run
	[ "$status" -eq 2 ]
	[[ $output == *VB_CONF_ERROR=*KEEP_DAILY* ]]
	[[ $output != *"must be set"* ]]
	run --separate-stderr env VB_CONF=/dev/null DB_PATH= vb-snapshot \
	    --print-config
	[ "$status" -eq 0 ]
	[[ $output != *VB_CONF_ERROR* ]]
}
