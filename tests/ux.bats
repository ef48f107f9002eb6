#!/usr/bin/env bats
# ux.bats - what an operator sees: progress on a terminal (and nothing
# extra under cron or in pipes), the Prometheus metrics file, and the
# ON_SUCCESS/ON_FAILURE hooks of vb-backup.
# Each test sets the configuration in its own environment, on purpose;
# run --separate-stderr sets stderr and stderr_lines.
# shellcheck disable=SC2030,SC2031,SC2154

bats_require_minimum_version 1.5.0
load helpers

esc=$'\033'
cr=$'\r'

# A database big enough that each stage runs for a while.
progress_db() {
	mkdb app.db wal 10
	filldb app.db 40
}

# on_tty COMMAND: runs the shell COMMAND with a pseudo-terminal for its
# stdin/stdout/stderr (script(1)); the terminal's bytes go to tty.out.
on_tty() {
	command -v script >/dev/null || skip "no script(1) for a pseudo-terminal"
	script -qfec "$1" /dev/null >tty.out </dev/null
}

@test "progress: on a terminal, one updating line per stage with percent, rate and ETA" {
	slow
	progress_db
	on_tty "vb-snapshot -d b app.db | vb-compress -l 12 >recs"
	out=$(cat tty.out)
	# Updated in place: carriage return and erase-line, not new lines.
	[[ $out == *"$cr${esc}[Kvb-snapshot: copying app.db  "*" in "*" s  "*"/s"* ]]
	[[ $out == *"$cr${esc}[Kvb-snapshot: quick_check of the copy  done in "* ]]
	[[ $out == *"$cr${esc}[Kvb-compress: compressing backup-"*".db  "*" MiB / "*" MiB  "*"%  "*"/s  ETA "* ]]
	# The finished line stays: the whole size, the time, the rate.
	size=$(stat -c %s b/backup-*.tar.zst)
	[ "$size" -gt 0 ]
	[[ $out =~ vb-compress:\ compressing\ backup-[^\ ]*\.db\ \ [0-9.]+\ MiB\ in\ [0-9]+\.[0-9]\ s ]]
	[ "$(cut -f3 recs | tr '\n' ' ')" = "ok ok " ]
	a=$(tail -n 1 recs | cut -f1)
	on_tty "vb-restore --quick-check --to new.db $a >/dev/null"
	out=$(cat tty.out)
	[[ $out == *"vb-restore: reading $(basename "$a")  "* ]]
	[[ $out == *"vb-restore: quick_check of the copy  done in "* ]]
}

@test "progress: silent under cron and in pipes; -q silences a terminal; --progress forces" {
	progress_db
	# stderr to a file, as under cron: no progress, no control bytes.
	vb-snapshot -d b app.db 2>snap.err | vb-compress 2>comp.err >recs
	a=$(tail -n 1 recs | cut -f1)
	vb-restore --quick-check --to new.db "$a" >/dev/null 2>rest.err
	for f in snap.err comp.err rest.err; do
		[ ! -s "$f" ] || { echo "$f: $(cat -v "$f")"; false; }
	done
	# -q on a terminal: nothing.
	on_tty "vb-snapshot -q -d b app.db >/dev/null"
	[ ! -s tty.out ] || { cat -v tty.out; false; }
	# --progress into a file: there, as asked.
	vb-snapshot --progress -d b app.db 2>forced.err >/dev/null
	grep -q "vb-snapshot: copying app.db  " forced.err
	rm -f new.db
	vb-restore --progress --quick-check --to new.db "$a" 2>forced.err >/dev/null
	grep -q "vb-restore: reading " forced.err
	# And vb-backup under cron prints its one summary line, nothing else.
	run --separate-stderr env DB_PATH="$T/app.db" BACKUP_DIR="$T/nightly" \
	    "$BATS_TEST_DIRNAME/../bin/vb-backup"
	[ "$status" -eq 0 ]
	[ -z "$output" ]
	[ "${#stderr_lines[@]}" -eq 1 ]
	[[ $stderr == "vb-backup: ok: "* ]]
}

# check_prom FILE: the Prometheus text format, by its rules and by the
# official client library's parser.
check_prom() {
	# Every sample's name is a valid metric name, announced by one HELP
	# and one TYPE line before it; values are numbers; no series twice.
	awk '
	/^# HELP / { if (help[$3]++) { print "two HELP lines: " $3; bad = 1 } next }
	/^# TYPE / { if (type[$3]++) { print "two TYPE lines: " $3; bad = 1 }
	             if ($4 != "gauge" && $4 != "counter") { print "type: " $0; bad = 1 }
	             next }
	/^#/ { next }
	{
		name = $1; sub(/\{.*/, "", name)
		if (name !~ /^[a-zA-Z_:][a-zA-Z0-9_:]*$/) { print "name: " $0; bad = 1 }
		if (!(name in help) || !(name in type)) { print "no HELP/TYPE before: " $0; bad = 1 }
		if ($NF !~ /^-?[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?$/) { print "value: " $0; bad = 1 }
		series = substr($0, 1, length($0) - length($NF) - 1)
		if (seen[series]++) { print "series twice: " series; bad = 1 }
	}
	END { exit bad }' "$1"
	if [ -x /usr/bin/python3 ] && /usr/bin/python3 -c 'import prometheus_client' 2>/dev/null; then
		/usr/bin/python3 - "$1" <<'PY'
import sys
from prometheus_client.parser import text_string_to_metric_families
n = 0
for fam in text_string_to_metric_families(open(sys.argv[1]).read()):
    assert fam.type == "gauge", fam
    n += len(fam.samples)
assert n >= 10, n
PY
	fi
}

# metric FILE NAME [STAGE]: the value of one sample.
metric() {
	if [ -n "${3:-}" ]; then
		awk -v n="$2" -v s="stage=\"$3\"" 'index($0, n "{") == 1 && index($0, s) { print $NF }' "$1"
	else
		awk -v n="$2" 'index($0, n "{") == 1 { print $NF }' "$1"
	fi
}

@test "metrics: a Prometheus textfile, atomically replaced, for success and failure" {
	slow
	mkdb 'app "one".db' wal
	mkdir prom
	export DB_PATH="$T/app \"one\".db" BACKUP_DIR="$T/backups"
	export METRICS_FILE="$T/prom/vb.prom"
	t0=$(date +%s)
	run --separate-stderr vb_backup
	[ "$status" -eq 0 ]
	check_prom prom/vb.prom
	[ "$(mode_of prom/vb.prom)" = 644 ]
	# The label escapes the quotes of the path.
	grep -q 'db="'"$T"'/app \\"one\\".db"' prom/vb.prom
	m=prom/vb.prom
	[ "$(metric $m vb_backup_last_run_exit_status)" = 0 ]
	[ "$(metric $m vb_backup_last_run_success)" = 1 ]
	start=$(metric $m vb_backup_last_run_start_timestamp_seconds)
	end=$(metric $m vb_backup_last_run_end_timestamp_seconds)
	[ "${start%.*}" -ge "$t0" ]
	[ "${end%.*}" -ge "${start%.*}" ]
	[ "$(metric $m vb_backup_last_success_timestamp_seconds)" = "$end" ]
	a=$(find backups -name 'backup-*.tar.zst')
	[ "$(metric $m vb_backup_last_archive_bytes)" = "$(stat -c %s "$a")" ]
	[ "$(metric $m vb_backup_last_database_bytes)" = "$(stat -c %s "$DB_PATH")" ] ||
	    [ "$(metric $m vb_backup_last_database_bytes)" -gt 0 ]
	[ "$(metric $m vb_backup_backups_kept)" = 1 ]
	for s in snapshot compress log prune; do
		[ "$(metric $m vb_backup_stage_success "$s")" = 1 ]
		[ "$(metric $m vb_backup_stage_exit_status "$s")" = 0 ]
	done
	for s in snapshot compress prune; do
		[[ $(metric $m vb_backup_stage_duration_seconds "$s") =~ ^[0-9]+\.[0-9]{3}$ ]]
	done
	# No temporary of the metrics file is left beside it.
	[ "$(count_files prom)" -eq 1 ]

	# A failed run: its status and the failed stage; the last success and
	# the last archive's size are still those of the run that succeeded.
	ok_end=$end
	ok_bytes=$(metric $m vb_backup_last_archive_bytes)
	sleep 1.1
	run --separate-stderr damaged_reads "$BATS_TEST_DIRNAME/../bin/vb-backup"
	[ "$status" -eq 1 ]
	check_prom prom/vb.prom
	[ "$(metric $m vb_backup_last_run_exit_status)" = 1 ]
	[ "$(metric $m vb_backup_last_run_success)" = 0 ]
	# When the run that succeeded ended (its BackupLog row, written as
	# it ended).
	awk -v a="$(metric $m vb_backup_last_success_timestamp_seconds)" \
	    -v b="$ok_end" 'BEGIN { exit !(a - b < 1 && b - a < 1) }'
	[ "$(metric $m vb_backup_last_archive_bytes)" = "$ok_bytes" ]
	[ "$(metric $m vb_backup_stage_success compress)" = 0 ]
	[ "$(metric $m vb_backup_stage_exit_status compress)" = 1 ]
	[ -z "$(metric $m vb_backup_stage_success prune)" ]
	[ "$(count_files prom)" -eq 1 ]

	# An unwritable metrics directory: logged, the backup still succeeds.
	export METRICS_FILE="$T/no/such/dir/vb.prom"
	run --separate-stderr vb_backup
	[ "$status" -eq 0 ]
	[[ $stderr == *"could not write the metrics file $T/no/such/dir/vb.prom"* ]]
}

@test "hooks: ON_SUCCESS and ON_FAILURE get the outcome; their failure is logged, not fatal" {
	mkdb app.db wal
	export DB_PATH="$T/app.db" BACKUP_DIR="$T/backups"
	# shellcheck disable=SC2016 # expanded by the hook's shell
	export ON_SUCCESS='env | grep "^VB_" | sort >"$VB_BACKUP_DIR/../ok.env"'
	# shellcheck disable=SC2016
	export ON_FAILURE='env | grep "^VB_" | sort >"$VB_BACKUP_DIR/../fail.env"; exit 3'
	run --separate-stderr vb_backup
	[ "$status" -eq 0 ]
	grep -qx 'VB_STATUS=success' ok.env
	grep -qx 'VB_EXIT_STATUS=0' ok.env
	grep -qx "VB_DB_PATH=$T/app.db" ok.env
	a=$(find "$T/backups" -name 'backup-*.tar.zst')
	grep -qx "VB_ARCHIVE=$a" ok.env
	grep -qx "VB_ARCHIVE_BYTES=$(stat -c %s "$a")" ok.env
	grep -qx 'VB_BACKUPS_KEPT=1' ok.env
	grep -q '^VB_SUMMARY=ok: ' ok.env
	[ ! -e fail.env ]

	run --separate-stderr damaged_reads "$BATS_TEST_DIRNAME/../bin/vb-backup"
	[ "$status" -eq 1 ]	# the run's status, not the hook's 3
	grep -qx 'VB_STATUS=failure' fail.env
	grep -qx 'VB_EXIT_STATUS=1' fail.env
	grep -qx 'VB_FAILED_STAGES=compress' fail.env
	grep -q '^VB_SUMMARY=FAILED after .* at compress: ' fail.env
	grep -q '^VB_SUMMARY=FAILED after ' fail.env
	[[ $stderr == *"vb-backup: hook exited 3: "* ]]
}

@test "hooks: a hung hook is killed after HOOK_TIMEOUT and never holds the lock" {
	slow
	mkdb app.db wal
	export DB_PATH="$T/app.db" BACKUP_DIR="$T/backups" HOOK_TIMEOUT=3
	# shellcheck disable=SC2016
	export ON_SUCCESS='touch "$VB_BACKUP_DIR/../hook.started"; trap "" TERM; sleep 60'
	t0=$(date +%s)
	vb_backup 2>err &
	BG_PIDS=$!
	wait_for test -e hook.started
	# While the hook hangs, the next run may start: the lock is free.
	flock -n backups/.vb.lock true
	wait "$BG_PIDS"
	st=$?
	t=$(($(date +%s) - t0))
	[ "$st" -eq 0 ]
	# TERM is ignored, so the KILL 10 s later ends it: 3 + 10 s, not 60.
	[ "$t" -lt 30 ]
	grep -q "vb-backup: hook timed out after 3s and was killed" err
	# Exactly the hook's sleep (not, say, someone's "sleep 600").
	run pgrep -fx 'sleep 60'
	[ "$status" -ne 0 ]
}

@test "hooks and metrics: --dry-run shows them, runs none" {
	mkdb app.db wal
	export DB_PATH="$T/app.db" BACKUP_DIR="$T/backups"
	# shellcheck disable=SC2016 # expanded by the hook's shell
	export METRICS_FILE="$T/vb.prom" ON_FAILURE='touch "$VB_BACKUP_DIR/ran"'
	run --separate-stderr vb_backup --dry-run
	[ "$status" -eq 0 ]
	[[ $output == *"metrics:       $T/vb.prom"* ]]
	[[ $output == *"on success:    (nothing)"* ]]
	[[ $output == *"on failure:    touch"* ]]
	[[ $output == *"hook timeout:  120 s"* ]]
	[ ! -e vb.prom ]
	[ ! -e backups ]
}
