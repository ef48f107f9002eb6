# shellcheck shell=bash
# shellcheck disable=SC2154 # set by bin/vb-backup, which sources this
# report.sh - how a vb-backup run reports itself besides its records:
# METRICS_FILE (Prometheus text format, for node_exporter's textfile
# collector), rewritten after every run that got past its arguments, and
# the operator's hooks, ON_SUCCESS and ON_FAILURE, run once the lock is
# released.  Sourced by bin/vb-backup; uses its variables (the run's
# stages, the archive, the configuration).

# Prometheus text format: a label value escapes \ " and newline.
prom_label() {
	local v=${1//\\/\\\\}
	v=${v//\"/\\\"}
	printf '%s' "${v//$'\n'/\\n}"
}

# prev NAME: the value NAME had in the last metrics file, or empty.
prev() {
	[ -r "$METRICS_FILE" ] || return 0
	awk -v n="$1" '$1 ~ "^" n "({|$)" { v = $NF } END { print v }' \
	    "$METRICS_FILE"
}

# m NAME VALUE HELP...: one gauge with its HELP and TYPE, labelled db.
m() {
	local name=$1 value=$2
	shift 2
	echo "# HELP $name $*"
	echo "# TYPE $name gauge"
	echo "$name{db=\"$db\"} $value"
}

# stages NAME WHAT HELP STAGE...: one gauge per stage that ran, labelled
# stage: WHAT is "ok" (1 if it succeeded), "status" (its exit status) or
# "seconds" (how long it took).
stages() {
	local name=$1 what=$2 s v
	echo "# HELP $name $3"
	echo "# TYPE $name gauge"
	shift 3
	for s in "$@"; do
		case $what in
		ok) [ -n "${stage_st[$s]:-}" ] || continue
		    v=$([ "${stage_st[$s]}" -eq 0 ] && echo 1 || echo 0) ;;
		status) [ -n "${stage_st[$s]:-}" ] || continue
		    v=${stage_st[$s]} ;;
		seconds) [ -n "${stage_ms[$s]:-}" ] || continue
		    v=$(awk -v ms="${stage_ms[$s]}" \
			'BEGIN { printf "%.3f", ms / 1000 }') ;;
		esac
		echo "$name{db=\"$db\",stage=\"$s\"} $v"
	done
}

# offsite_metrics CODE END: the remote's, with OFFSITE.
offsite_metrics() {
	local ok b
	[ -n "$OFFSITE" ] || return 0
	if [ "$1" -eq 0 ]; then
		ok=$2 b=$offsite_bytes
	else
		ok=$(prev vb_backup_offsite_last_success_timestamp_seconds)
		b=$(prev vb_backup_offsite_last_bytes)
	fi
	[ -z "$ok" ] || m vb_backup_offsite_last_success_timestamp_seconds \
	    "$ok" "When the last run whose offsite copies all verified" \
	    "ended (Unix time)."
	[ -z "$b" ] || m vb_backup_offsite_last_bytes "$b" \
	    "Bytes copied offsite and verified by the last successful run."
	[ -z "$remote_kept" ] || m vb_backup_offsite_backups_kept \
	    "$remote_kept" "Backups on the offsite remote after the run's" \
	    "retention."
}

# metrics CODE END: the whole file's text.
metrics() {
	local code=$1 end=$2 last_ok arch_b db_b all h
	last_ok=$(prev vb_backup_last_success_timestamp_seconds)
	arch_b=$(prev vb_backup_last_archive_bytes)
	db_b=$(prev vb_backup_last_database_bytes)
	if [ "$code" -eq 0 ]; then
		last_ok=$end arch_b=$archive_bytes db_b=$db_bytes
	fi
	m vb_backup_last_run_start_timestamp_seconds "$start" \
	    "When the last vb-backup run started (Unix time)."
	m vb_backup_last_run_end_timestamp_seconds "$end" \
	    "When the last vb-backup run ended (Unix time)."
	m vb_backup_last_run_duration_seconds "$(awk -v a="$start" \
	    -v b="$end" 'BEGIN { printf "%.3f", b - a }')" \
	    "How long the last vb-backup run took."
	m vb_backup_last_run_exit_status "$code" \
	    "The last run's exit status (0 ok, 1 failed, 2 configuration)."
	m vb_backup_last_run_success "$([ "$code" -eq 0 ] && echo 1 ||
	    echo 0)" "1 if the last run succeeded, else 0."
	[ -z "$last_ok" ] || m vb_backup_last_success_timestamp_seconds \
	    "$last_ok" "When the last successful run ended (Unix time)."
	[ -z "$arch_b" ] || m vb_backup_last_archive_bytes "$arch_b" \
	    "Size of the last successful backup's archive."
	[ -z "$db_b" ] || m vb_backup_last_database_bytes "$db_b" \
	    "Size of the database in the last successful backup."
	m vb_backup_backups_kept "$kept" \
	    "Backups in the backup directory after the run."
	offsite_metrics "$code" "$end"
	proof_metrics
	all="snapshot compress offsite log prune prune_offsite drill"
	h="1 if the stage succeeded in the last run, 0 if it failed; absent"
	# shellcheck disable=SC2086 # the stages are words
	stages vb_backup_stage_success ok "$h if it did not run." $all
	h="Exit status of the stage's tool in the last run."
	# shellcheck disable=SC2086
	stages vb_backup_stage_exit_status status "$h" $all
	stages vb_backup_stage_duration_seconds seconds \
	    "How long the stage took in the last run." snapshot compress \
	    offsite prune drill
}

# proof_metrics: the drill's and the holds' gauges, from the history
# and the backup directory (so every run writes them, drilled or not).
proof_metrics() {
	local last held every=0
	[ "$DRILL_EVERY" = 0 ] ||
	    every=$(($(date -u +%s) - $(period_ago "$DRILL_EVERY")))
	m vb_backup_drill_interval_seconds "$every" "DRILL_EVERY in" \
	    "seconds (0: no drills): a verified restore is due within it."
	last=$(last_drill)
	[ -z "$last" ] || m vb_backup_last_verified_restore_timestamp_seconds \
	    "$last" "When a restore drill last proved a backup (Unix time)."
	[ -z "${stage_st[drill]:-}" ] || m vb_backup_last_drill_success \
	    "$([ "${stage_st[drill]}" -eq 0 ] && echo 1 || echo 0)" \
	    "1 if the last drill proved every backup it restored, else 0."
	held=$(vb-prune --holds -d "$BACKUP_DIR" 2>/dev/null | wc -l)
	m vb_backup_held_backups "$held" "Backups held after a sudden loss" \
	    "of rows, until released (vb-prune --release)."
}

# drill_metrics: the last metrics file, its proof gauges made anew (a
# drill alone is no backup run: the rest stays).
drill_metrics() {
	[ ! -r "$METRICS_FILE" ] || awk '
	    BEGIN { p = "vb_backup_(last_verified_restore_timestamp_seconds" \
		"|last_drill_success|held_backups|drill_interval_seconds)" }
	    $0 ~ "^# (HELP|TYPE) " p " " || $0 ~ "^" p "[{ ]" { next }
	    { print }' "$METRICS_FILE"
	proof_metrics
}

# write_metrics CODE: METRICS_FILE replaced by a file written beside it.
write_metrics() {
	local tmp db
	[ -n "$METRICS_FILE" ] || return 0
	db=$(prom_label "$DB_PATH")
	tmp="$(dirname "$METRICS_FILE")/.$(basename "$METRICS_FILE").$$.tmp"
	if ! { if [ "$1" = drill ]; then drill_metrics; else
	    metrics "$1" "$(date +%s.%N)"; fi; } >"$tmp" 2>/dev/null ||
	    ! chmod 0644 "$tmp" 2>/dev/null ||
	    ! mv -f "$tmp" "$METRICS_FILE" 2>/dev/null; then
		rm -f "$tmp"
		summary "could not write the metrics file $METRICS_FILE"
	fi
}

# run_hook CMD CODE TEXT [STATUS]: the operator's command, bounded in
# time; its output goes where ours goes; its failure is logged, not ours.
# VB_STATUS: STATUS, else success or failure as CODE says.
run_hook() {
	local rc
	[ -n "$1" ] || return 0
	VB_STATUS=${4:-$([ "$2" -eq 0 ] && echo success || echo failure)} \
	VB_EXIT_STATUS=$2 VB_SUMMARY=$3 VB_DB_PATH=$DB_PATH \
	VB_BACKUP_DIR=$BACKUP_DIR VB_FAILED_STAGES="${failed_stages[*]}" \
	VB_ARCHIVE=$archive VB_ARCHIVE_BYTES=$archive_bytes \
	VB_DB_BYTES=$db_bytes VB_BACKUPS_KEPT=${kept:-} VB_WARNING=$warning \
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
