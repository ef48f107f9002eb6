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

# run_checks: each check as the tool that owns it judges it, in the
# job's user's rights where they matter (as_job).  What each judges is in
# its man page: vb-snapshot(1) --check-setup and --verdicts, vb-restore(1)
# --check, vb-offsite(1) --check-job, vb-log(1) --check-runs.
run_checks() {
	verdicts configuration vb-snapshot --check-setup=config
	# The tools would refuse a broken file; what did parse is passed
	# to them, so that each other problem still shows.
	load_config check 2>/dev/null || export VB_CONF=/dev/null
	# The environment and the schedule, of the file this check read.
	VB_CONF=$conf verdicts schedule vb-snapshot --check-setup=schedule
	check_user
	if [ -z "$DB_PATH" ] || [ -z "$BACKUP_DIR" ]; then
		line FAIL "the rest" "not checked: DB_PATH and BACKUP_DIR are" \
		    "needed"
	else
		# The database takes BackupLog's rows and the directory a
		# snapshot of it.
		verdicts "backup directory" as_job vb-snapshot "$DB_PATH" \
		    -d "$BACKUP_DIR" -q -n --verdicts
		# ENCRYPT_TO and SIGN_WITH (or OFFSITE without it), age and
		# ssh-keygen run as the job's user.
		[ -z "$ENCRYPT_TO$SIGN_WITH$OFFSITE" ] || VB_CONF=$conf \
		    verdicts keys as_job vb-snapshot --check-setup=keys
		# Every backup file read again, plaintext, holds, the lock.
		verdicts backups as_job vb-restore --check -d "$BACKUP_DIR"
		# The remote as the job reaches it, in cron's environment.
		[ -z "$OFFSITE" ] ||
		    verdicts offsite as_job vb-offsite --check-job
		# The last run, backup and drill as BackupLog says.
		verdicts history vb-log --check-runs "$DB_PATH"
	fi
	[ "$nfail" -eq 0 ] && exit 0
	echo "$nfail check(s) failed"
	exit 1
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
