# shellcheck shell=bash
# shellcheck disable=SC2154 # set by bin/vb-backup, which sources this
# report.sh - how a vb-backup run reports itself besides its records
# and METRICS_FILE (vb-log --finish writes both): the operator's hooks,
# ON_SUCCESS and ON_FAILURE, run once the lock is released.  Sourced by
# bin/vb-backup; uses its variables (the run's stages, vb-log --finish's
# answer, the configuration).

# run_hook CMD CODE TEXT [STATUS]: the operator's command, bounded in
# time; its output goes where ours goes; its failure is logged, not ours.
# VB_STATUS: STATUS, else success or failure as CODE says.
run_hook() {
	local rc
	[ -n "$1" ] || return 0
	# The run's check vouches for its own tools, not the hook's.
	unset VB_CONF_CHECKED
	VB_STATUS=${4:-$([ "$2" -eq 0 ] && echo success || echo failure)} \
	VB_EXIT_STATUS=$2 VB_SUMMARY=$3 VB_DB_PATH=$DB_PATH \
	VB_BACKUP_DIR=$BACKUP_DIR \
	VB_FAILED_STAGES=${fin[FAILED_STAGES]-${failed_stages[*]}} \
	VB_ARCHIVE=${fin[ARCHIVE]:-} VB_ARCHIVE_BYTES=${fin[ARCHIVE_BYTES]:-} \
	VB_DB_BYTES=${fin[DB_BYTES]:-} VB_BACKUPS_KEPT=${fin[KEPT]:-} \
	VB_WARNING=${fin[WARNING]:-} \
	VB_DURATION_SECONDS=$(($(ms_since "$start") / 1000)) \
	    timeout -k 10 "$HOOK_TIMEOUT" sh -c "$1" </dev/null 9>&-
	rc=$?
	case $rc in
	0) ;;
	124 | 137) summary "hook timed out after ${HOOK_TIMEOUT}s and was" \
	    "killed: $1" ;;
	*) summary "hook exited $rc: $1" ;;
	esac
}
