# shellcheck shell=bash
# check.sh - vb-backup --check: the old service's troubleshooting list as
# a command, and the truth about the backups.  One line per check, ok,
# warn, or FAIL with what to do; exit 0 only when none fails.  Checks run
# as the job runs: as its user (when this runs as root), and, for the
# remote, in cron's empty environment.  What the tools know they answer
# in fields (the verdicts of vb-restore --check and vb-log --check-runs,
# the records' status), never in words this file matches.  Sourced by
# bin/vb-backup; uses its configuration, commands and helpers.
# shellcheck disable=SC2154 # set by bin/vb-backup, which sources this

nfail=0
# line STATUS WHAT TEXT...: one check's line.
line() {
	local status=$1 what=$2
	shift 2
	printf '%-4s  %-17s %s\n' "$status" "$what" "$*"
	[ "$status" != FAIL ] || nfail=$((nfail + 1))
}

# verdicts WHAT CMD...: the verdict lines a C tool answers (VERDICT TAB
# WHAT TAB TEXT, vb_check_line), each one of ours (a FAIL-job is judged
# by the tool: VB_CHECK_JOB_USER, check_user); a tool that answered
# nothing, or could not run to the end, is a FAIL of WHAT with its own
# words.
verdicts() {
	local what=$1 v w text n=0 rc=0
	shift
	"$@" >"$work/verdicts" 2>"$work/verr" || rc=$?
	while IFS=$'\t' read -r v w text; do
		n=$((n + 1))
		case $v in
		ok | warn | FAIL | FAIL-job) line "${v%-job}" "$w" "$text" ;;
		esac
	done <"$work/verdicts"
	[ "$rc" -ge 2 ] || [ "$n" -eq 0 ] || return 0
	read -r text <"$work/verr" || text="exit $rc"
	line FAIL "$what" "not checked: $text"
}

run_checks() {
	# The configuration as vb-snapshot judges it (--check-setup=config).
	verdicts configuration vb-snapshot --check-setup=config
	# The tools would refuse a broken file; what did parse is passed
	# to them, so that each other problem still shows.
	load_config check 2>/dev/null || export VB_CONF=/dev/null
	check_schedule
	check_user
	if [ -n "$DB_PATH" ] && [ -n "$BACKUP_DIR" ]; then
		check_place
		check_keys
		check_backups
		check_offsite
		check_runs
	else
		line FAIL "the rest" "not checked: DB_PATH and BACKUP_DIR are" \
		    "needed"
	fi
	[ "$nfail" -eq 0 ] && exit 0
	echo "$nfail check(s) failed"
	exit 1
}

# ---- the set-up ------------------------------------------------------

# check_schedule: the environment and the schedule, as vb-snapshot
# judges them (--check-setup=schedule), of the configuration file this
# check read, even when only part of it parsed.
check_schedule() {
	VB_CONF=$conf verdicts schedule vb-snapshot --check-setup=schedule
}

# check_user: the checks run as the job's user when they can (as root);
# run by another user, as that one, said once (vb-snapshot
# --check-setup=user, whose last line is "as TAB the job's user TAB the
# user to become").  Each tool then judges its FAIL-job by the job's user
# (VB_CHECK_JOB_USER): a warning when it runs as another.
run_as=''
check_user() {
	local as job=''
	verdicts user vb-snapshot --check-setup=user
	IFS=$'\t' read -r as job run_as < <(tail -n 1 "$work/verdicts")
	[ "$as" = as ] || run_as='' job=''
	export VB_CHECK_JOB_USER=$job
}

# as_job CMD...: CMD as the user check_user chose.
as_job() {
	if [ -z "$run_as" ]; then
		"$@"
	else
		setpriv --reuid="$run_as" --regid="$(id -g "$run_as")" \
		    --init-groups -- "$@"
	fi
}

# check_place: the database takes BackupLog's rows and the backup
# directory a snapshot of it, as the job's user (vb-snapshot -n
# --verdicts: database, backup directory).
check_place() {
	verdicts "backup directory" as_job vb-snapshot "$DB_PATH" \
	    -d "$BACKUP_DIR" -q -n --verdicts
}

# check_keys: ENCRYPT_TO and SIGN_WITH (or OFFSITE without it) as the
# job's user finds them (vb-snapshot --check-setup=keys runs age and
# ssh-keygen); the archives made before SIGN_WITH are vb-restore
# --check's (check_backups).
check_keys() {
	[ -n "$ENCRYPT_TO$SIGN_WITH$OFFSITE" ] || return 0
	VB_CONF=$conf verdicts keys as_job vb-snapshot --check-setup=keys
}

# ---- the backups -----------------------------------------------------

# check_backups: the backups as files, as vb-restore --check judges them
# as the job's user: the archives made before SIGN_WITH (not signed),
# every file hashed again or read whole (a FAIL for each that cannot be
# restored from here, and what to do), the snapshot a failed check set
# aside, with ENCRYPT_TO the files left unencrypted (here and on
# OFFSITE), the backups held after a sudden loss of rows, the run's lock.
check_backups() {
	verdicts backups as_job vb-restore --check -d "$BACKUP_DIR"
}

# check_offsite: the remote answers and takes a file as the job would
# reach it (its user, vb.conf with RCLONE_CONFIG there, cron's empty
# environment) and, if that fails, from this shell, to tell them apart:
# vb-offsite --check-job, which re-executes itself for the job's view.
check_offsite() {
	[ -z "$OFFSITE" ] || verdicts offsite as_job vb-offsite --check-job
}

# ---- the runs --------------------------------------------------------

# check_runs: the last run (a failure says when, at which stage and why),
# the age of the last successful backup (and that its file is there),
# and the drills (the newest one's failure on the remote's copy; a proof
# within twice DRILL_EVERY), as BackupLog says: vb-log --check-runs.  A
# BackupLog that cannot be read is a FAIL of its own, never taken for
# "no backup" or "no drill".
check_runs() {
	verdicts history vb-log --check-runs "$DB_PATH"
}
