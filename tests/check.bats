#!/usr/bin/env bats
# vb-backup --check: the old service's troubleshooting list as a command.
# A healthy set-up passes every check; each broken precondition fails its
# own check, says what to do, and makes the exit status 1.

# shellcheck disable=SC2154 # bats' run --separate-stderr sets $stderr
bats_require_minimum_version 1.5.0
load helpers

setup() {
	vb_setup
	app_db_for_all
	mkdir -m 700 "$T/backups"
	printf 'DB_PATH=%s\nBACKUP_DIR=%s\n' "$DB" "$T/backups" >"$VB_CONF"
	chmod 644 "$VB_CONF"
	export VB_CRON_FILE="$T/cron.d/vb-backup"
	cron_entry root
}

teardown() {
	if [ -n "${CRON_PID:-}" ]; then
		kill "$CRON_PID" 2>/dev/null || true
		wait "$CRON_PID" 2>/dev/null || true
	fi
	vb_teardown
}

# cron_entry USER: the shipped cron entry, running the job as USER,
# with this test's configuration (as install.sh names one outside /etc).
cron_entry() {
	mkdir -p "$T/cron.d"
	sed "s| root | $1 |; s|^MAILTO=.*|&\nVB_CONF=$VB_CONF|" \
	    "$BATS_TEST_DIRNAME/../cron/vb-backup" >"$VB_CRON_FILE"
}

# cron_runs: a real cron daemon runs (started here if need be).
cron_runs() {
	pgrep -x 'cron|crond' >/dev/null && return 0
	command -v cron >/dev/null || skip "no cron daemon on this machine"
	# In the foreground, so that its PID is ours to stop.
	cron -f </dev/null >/dev/null 2>&1 &
	CRON_PID=$!
	wait_for pgrep -x cron >/dev/null
}

# check_line WHAT STATUS [TEXT]: --check printed STATUS for WHAT (with TEXT).
check_line() {
	grep -q "^$2 *$1 .*${3:-}" <<<"$output" ||
	    { echo "no '$2 $1 ${3:-}' in: $output"; return 1; }
}

@test "check: a healthy set-up passes every check" {
	slow
	cron_runs
	vb_backup 2>/dev/null
	run --separate-stderr vb_backup --check
	echo "$output"
	[ "$status" -eq 0 ]
	check_line configuration ok "$VB_CONF: DB_PATH=$DB BACKUP_DIR=$T/backups"
	check_line schedule ok "$VB_CRON_FILE: 0 1 \* \* \* as root; cron runs"
	check_line database ok "BackupLog can be written"
	check_line "backup directory" ok "$T/backups can take its copy"
	check_line "last backup" ok "0 h 0 min ago"
	check_line lock ok "is free"
	[ "$(grep -c '^FAIL' <<<"$output")" -eq 0 ]
	# Points asked for (BACKUP_INTERVAL below a day) but a daily cron
	# line: no point would ever be taken, a FAIL naming the line wanted.
	echo BACKUP_INTERVAL=3600000 >>"$VB_CONF"
	run --separate-stderr vb_backup --check
	[ "$status" -eq 1 ]
	check_line schedule FAIL "BACKUP_INTERVAL=3600000 ms and NIGHTLY_AT ask for the cron line '0 \* \* \* \*', but $VB_CRON_FILE runs '0 1 \* \* \*'"
	# The line install.sh --schedule writes: no complaint.
	sed -i 's/^0 1 \* \* \* /0 * * * * /' "$VB_CRON_FILE"
	run --separate-stderr vb_backup --check
	[ "$status" -eq 0 ]
	[[ $output != *"ask for the cron line"* ]]
	sed -i 's/^0 \* \* \* \* /0 1 * * * /' "$VB_CRON_FILE"
	# A day or more, a cron line of another cadence: a warning only.
	sed -i 's/^BACKUP_INTERVAL=.*/BACKUP_INTERVAL=172800000/' "$VB_CONF"
	run --separate-stderr vb_backup --check
	[ "$status" -eq 0 ]
	check_line schedule warn "BACKUP_INTERVAL=172800000 ms, but the cron line runs once a day"
	# Agreeing with a weekly line: no warning.
	sed -i 's/^0 1 \* \* \* /0 1 * * 0 /' "$VB_CONF" "$VB_CRON_FILE"
	sed -i 's/^BACKUP_INTERVAL=.*/BACKUP_INTERVAL=604800000/' "$VB_CONF"
	run --separate-stderr vb_backup --check
	[ "$status" -eq 0 ]
	[[ $output != *warn* ]]
}

@test "check: --help names VB_CONF and every check" {
	run --separate-stderr vb_backup --help
	[ "$status" -eq 0 ]
	for w in VB_CONF configuration schedule database BackupLog "backup directory" \
	    encryption "damaged archives" "broken chains" "failed their check" \
	    plaintext offsite "last run" "last successful backup" lock \
	    --encrypt-existing "cron's empty environment"; do
		[[ $(tr -s ' \n' '  ' <<<"$output") == *"$w"* ]] ||
		    { echo "--help lacks: $w"; return 1; }
	done
}

@test "check: the configuration, the database, the schedule" {
	slow
	cron_runs
	vb_backup 2>/dev/null
	# A broken configuration: every error, with its line.
	printf 'MAX_BACKUP=3\nCOMPRESSION=lz4\n' >>"$VB_CONF"
	run --separate-stderr vb_backup --check
	[ "$status" -eq 1 ]
	check_line configuration FAIL "$VB_CONF:3: unknown key MAX_BACKUP (did you mean MAX_BACKUPS?)"
	check_line configuration FAIL "$VB_CONF:4: COMPRESSION must be zstd"
	# DB_PATH and BACKUP_DIR parsed, so the rest is still checked.
	check_line database ok
	[ "$(tail -1 <<<"$output")" = "2 check(s) failed" ]
	sed -i '3,4d' "$VB_CONF"

	# The database: missing, or one the job's user may not write.
	mv "$DB" "$T/app/moved.db"
	run --separate-stderr vb_backup --check
	[ "$status" -eq 1 ]
	check_line database FAIL "$DB: No such file or directory; DB_PATH must name the application's database"
	mv "$T/app/moved.db" "$DB"
	chmod 644 "$DB"
	cron_entry nobody
	run --separate-stderr vb_backup --check
	[ "$status" -eq 1 ]
	check_line database FAIL "cannot write BackupLog there"
	check_line schedule ok "as nobody"
	chmod 666 "$DB"

	# No schedule at all.
	rm "$VB_CRON_FILE"
	run --separate-stderr vb_backup --check
	[ "$status" -eq 1 ]
	check_line schedule FAIL "no $VB_CRON_FILE and no enabled vb-backup.timer: run install.sh"
}

@test "check: the cron daemon not running" {
	pgrep -x 'cron|crond' >/dev/null && skip "a cron daemon of this machine's runs"
	run --separate-stderr vb_backup --check
	[ "$status" -eq 1 ]
	check_line schedule FAIL "is installed but no cron daemon runs: start it"
}

@test "check: the backup directory, as the user the job runs as, and its room" {
	slow
	cron_runs
	# Owned by root, the job runs as nobody.
	cron_entry nobody
	run --separate-stderr vb_backup --check
	[ "$status" -eq 1 ]
	check_line "backup directory" FAIL "$T/backups: not writable by nobody (uid [0-9]*): Permission denied; make it the job user's (chown)"
	# No room for one more backup of the database's size.
	cron_entry root
	filldb "$DB" 3
	small_fs 2m
	printf 'DB_PATH=%s\nBACKUP_DIR=%s\n' "$DB" "$MNT" >"$VB_CONF"
	run --separate-stderr vb_backup --check
	[ "$status" -eq 1 ]
	check_line "backup directory" FAIL "not enough space in $MNT: a backup (snapshot and archive) needs"
	[ "$(count_files "$MNT")" -eq 0 ]
}

@test "check: the last successful backup, from BackupLog only (never the metrics file another account may write)" {
	slow
	cron_runs
	run --separate-stderr vb_backup --check
	[ "$status" -eq 1 ]
	check_line "last backup" FAIL "no successful backup recorded (BackupLog): run vb-backup once by hand"
	vb_backup 2>/dev/null
	# Two days ago: too old.
	sqlite3 "$DB" "UPDATE BackupLog SET createdAt =
	    strftime('%Y-%m-%dT%H:%M:%fZ', createdAt, '-2 days')"
	run --separate-stderr vb_backup --check
	[ "$status" -eq 1 ]
	check_line "last backup" FAIL "the last successful backup is 4[78] h old"
	# Failed runs since do not count.
	damaged_reads vb_backup 2>/dev/null || true
	run --separate-stderr vb_backup --check
	check_line "last backup" FAIL "the last successful backup is 4[78] h old"
	# Without BackupLog rows, nothing says there was one: the metrics
	# file is written for the exporter, never read back.
	# (No drill: the backups whose rows went are unrecorded now, and a
	# drill refuses them.)
	sqlite3 "$DB" "DELETE FROM BackupLog"
	printf 'METRICS_FILE=%s\nDRILL_EVERY=0\n' "$T/vb.prom" >>"$VB_CONF"
	vb_backup 2>/dev/null
	sqlite3 "$DB" "DELETE FROM BackupLog"
	run --separate-stderr vb_backup --check
	[ "$status" -eq 1 ]
	check_line "last backup" FAIL "no successful backup recorded (BackupLog)"
}

@test "check: the lock: free, held by a run, held by something else" {
	slow
	cron_runs
	vb_backup 2>/dev/null
	run --separate-stderr vb_backup --check
	check_line lock ok "is free"
	flock "$T/backups/.vb.lock" sleep 30 &
	BG_PIDS=$!
	wait_for sh -c "! flock -n '$T/backups/.vb.lock' true"
	run --separate-stderr vb_backup --check
	[ "$status" -eq 1 ]
	check_line lock FAIL "is held by PID [0-9]* (flock $T/backups/.vb.lock sleep 30), not a vb-backup run: the nightly job will not start"
	kill "$BG_PIDS"
	wait "$BG_PIDS" || true
	# A lock file the job's user may not open.
	cron_entry nobody
	chown nobody "$T/backups"
	run --separate-stderr vb_backup --check
	check_line lock FAIL "$T/backups/.vb.lock is not readable by nobody"
}

@test "check: vb-snapshot --check-setup answers verdict fields, --print-job-user one field" {
	[ -d /run/systemd/system ] && skip "systemd runs here: its timer may answer too"
	# The job's user: the cron entry's, or none at all.
	cron_entry nobody
	[ "$(vb-snapshot --print-job-user)" = nobody ]
	VB_CRON_FILE=$T/none run --separate-stderr vb-snapshot --print-job-user
	[ "$status" -eq 0 ]
	[ "$output" = "" ]
	# No schedule: one FAIL, three TAB-separated fields, exit 1.
	VB_CRON_FILE=$T/none run --separate-stderr vb-snapshot --check-setup=schedule
	[ "$status" -eq 1 ]
	[ "$(wc -l <<<"$output")" -eq 1 ]
	IFS=$'\t' read -r v w text <<<"$output"
	[ "$v" = FAIL ] && [ "$w" = schedule ]
	[ "$text" = "no $T/none and no enabled vb-backup.timer: run install.sh, or systemctl enable --now vb-backup.timer" ]
	# The environment's values are warned of, their control characters
	# cleaned; a cron file over 64 KiB is refused, never half read.
	head -c 70000 /dev/zero | tr '\0' '#' >>"$VB_CRON_FILE"
	VB_BUSY_MS=$'5\e[2J' run --separate-stderr vb-snapshot --check-setup=schedule
	[ "$status" -eq 1 ]
	[[ $output == *$'warn\tenvironment\tVB_BUSY_MS=5?[2J is set in this shell'* ]]
	[[ $output != *$'\e'* ]]
	[[ $output == *$'FAIL\tschedule\t'"$VB_CRON_FILE cannot be read: over 64 KiB"* ]]
	# The keys: nothing set, nothing said; a key others read, a FAIL.
	run --separate-stderr vb-snapshot --check-setup=keys
	[ "$status" -eq 0 ]
	[ -z "$output" ]
	ssh-keygen -q -t ed25519 -N '' -f "$T/sk"
	chmod 644 "$T/sk"
	SIGN_WITH=$T/sk run --separate-stderr vb-snapshot --check-setup=keys
	[ "$status" -eq 1 ]
	[ "$output" = "$(printf 'FAIL\tsignatures\tSIGN_WITH %s can be read by others (mode 644): anyone who reads it can sign forgeries; chmod 600 %s' "$T/sk" "$T/sk")" ]
	run --separate-stderr vb-snapshot --check-setup=other
	[ "$status" -eq 2 ]
}
