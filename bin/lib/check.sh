# shellcheck shell=bash
# check.sh - vb-backup --check: the old service's troubleshooting list as
# a command, and the truth about the backups.  One line per check, ok,
# warn, or FAIL with what to do; exit 0 only when none fails.  Checks run
# as the job runs: as its user (when this runs as root), and, for the
# remote, in cron's empty environment.  What the tools know they answer
# in fields (vb-restore --list --fields and --sums, vb-log --show, the
# records' status), never in words this file matches.  Sourced by
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
# WHAT TAB TEXT, vb_check_line), each one of ours, FAIL-job through
# fail_as; a tool that answered nothing, or could not run to the end,
# is a FAIL of WHAT with its own words.
verdicts() {
	local what=$1 v w text n=0 rc=0
	shift
	"$@" >"$work/verdicts" 2>"$work/verr" || rc=$?
	while IFS=$'\t' read -r v w text; do
		n=$((n + 1))
		case $v in
		ok | warn | FAIL) line "$v" "$w" "$text" ;;
		FAIL-job) fail_as "$w" "$text" ;;
		esac
	done <"$work/verdicts"
	[ "$rc" -ge 2 ] || [ "$n" -eq 0 ] || return 0
	read -r text <"$work/verr" || text="exit $rc"
	line FAIL "$what" "not checked: ${text#"$1: "}"
}

run_checks() {
	if ! check_config; then
		# The tools would refuse the file too; what did parse is passed
		# to them, so that each other problem still shows.
		export VB_CONF=/dev/null
	fi
	check_schedule
	check_user
	if [ -n "$DB_PATH" ] && [ -n "$BACKUP_DIR" ]; then
		check_database
		check_directory
		check_keys
		check_backups
		check_set_aside
		check_plaintext
		check_offsite
		read_history
		check_last_run
		check_last_backup
		check_drill
		check_holds
		check_lock
	else
		line FAIL "the rest" "not checked: DB_PATH and BACKUP_DIR are" \
		    "needed"
	fi
	[ "$nfail" -eq 0 ] && exit 0
	echo "$nfail check(s) failed"
	exit 1
}

# ---- the set-up ------------------------------------------------------

check_config() {
	local e
	if load_config 2>"$work/conferr"; then
		line ok configuration "$conf$([ -r "$conf" ] ||
		    echo ' (absent: the environment only)'):" \
		    "DB_PATH=$DB_PATH BACKUP_DIR=$BACKUP_DIR"
		return 0
	fi
	while IFS= read -r e; do
		line FAIL configuration "${e#"$prog: "}; fix $conf (or VB_CONF)"
	done <"$work/conferr"
	return 1
}

# The user the schedule runs the job as (check_schedule), the one the
# checks run as (check_user), and how to run a command as the latter.
job_user='' check_as=''
as_job() {
	if [ "$check_as" = "$(id -un)" ]; then
		"$@"
	else
		setpriv --reuid="$check_as" --regid="$(id -g "$check_as")" \
		    --init-groups -- "$@"
	fi
}

# check_user: the checks run as the job's user when they can (as root);
# run by another user, they run as that one, and say so once.
check_user() {
	local me
	me=$(id -un)
	check_as=${job_user:-$me}
	if [ "$check_as" != "$me" ] && [ "$(id -u)" -ne 0 ]; then
		line warn user "the job runs as $check_as, this check as $me:" \
		    "what needs $check_as's rights is checked as $me below," \
		    "and a failure there is a warning; run vb-backup --check" \
		    "as root$([ "$check_as" = root ] ||
		    echo " (or as $check_as)") for the job's own view"
		check_as=$me
	fi
}

# fail_as WHAT TEXT...: a failure of a check that needs the job's rights:
# a warning when this check runs as another user (check_user said so).
fail_as() {
	local what=$1
	shift
	if [ -n "$job_user" ] && [ "$check_as" != "$job_user" ]; then
		line warn "$what" "$* (checked as $check_as, not as the job's" \
		    "$job_user)"
	else
		line FAIL "$what" "$*"
	fi
}

# check_schedule: the environment and the schedule, as vb-snapshot
# judges them (--check-setup=schedule), and the user the schedule runs
# the job as (--print-job-user), for check_user.  Of the configuration
# file this check read, even when only part of it parsed.
check_schedule() {
	VB_CONF=$conf verdicts schedule vb-snapshot --check-setup=schedule
	read -r job_user < <(VB_CONF=$conf vb-snapshot --print-job-user \
	    2>/dev/null) || job_user=''
}

check_database() {
	local out
	if out=$(as_job vb-log --check "$DB_PATH" 2>&1); then
		line ok database "$out (as $check_as)"
		return 0
	fi
	fail_as database "${out#vb-log: }; DB_PATH must name the" \
	    "application's database, readable and writable by $check_as"
	return 1
}

check_directory() {
	local rec err
	commands
	if rec=$(as_job "${preflight[@]}" 2>"$work/preerr"); then
		line ok "backup directory" "$(field 8 "$rec") (as $check_as)"
		return 0
	fi
	err=$(field 8 "$rec")
	[ -n "$err" ] || err=$(head -n1 "$work/preerr")
	fail_as "backup directory" "$err"
	return 1
}

# check_keys: ENCRYPT_TO and SIGN_WITH (or OFFSITE without it) as the
# job's user finds them (vb-snapshot --check-setup=keys runs age and
# ssh-keygen), then the archives made before SIGN_WITH.
check_keys() {
	[ -n "$ENCRYPT_TO$SIGN_WITH$OFFSITE" ] || return 0
	VB_CONF=$conf verdicts keys as_job vb-snapshot --check-setup=keys
	[ -z "$SIGN_WITH" ] || check_unsigned
}

# check_unsigned: with SIGN_WITH, the archives made without a signature
# (before it was set), as BackupLog says (vb-restore --list's signed
# field): a restore with --verify-with refuses them, and the catalog
# does not list them.
check_unsigned() {
	local files
	[ -d "$BACKUP_DIR" ] || return 0
	files=$(inventory "$BACKUP_DIR" | awk -F'\t' '$13 == "unsigned" {
	    print $1 }')
	[ -n "$files" ] || return 0
	line warn signatures "$(grep -c . <<<"$files") archive(s) were made" \
	    "before SIGN_WITH and are not signed ($(head -n1 <<<"$files")" \
	    "...): vb-restore --verify-with refuses them and the signed" \
	    "catalog does not list them; they restore without" \
	    "--verify-with, and retention ages them out"
}

# ---- the backups -----------------------------------------------------

# check_backups: the backups as they are (vb-restore --list --sums):
# every archive hashed again now and compared with the SHA-256 recorded
# when it was made, every chain's links, the damage vb recorded, the
# last drill of each; a FAIL line for each backup file that cannot be
# restored from here (its health= field says why).
check_backups() {
	local path op st msg n=0 sums=0 bad=0 every='' fix
	[ -d "$BACKUP_DIR" ] || return 0
	while IFS=$'\t' read -r path op st _ _ _ _ msg; do
		[ -n "$path" ] || continue
		n=$((n + 1))
		# A raw snapshot has no archive hash to check: counted as one.
		[ "$op" != verify ] && [[ $msg != *" raw; "* ]] ||
		    sums=$((sums + 1))
		[ "$st" = failed ] || continue
		bad=$((bad + 1))
		case $msg in
		*'; health=drill-failed'*)
			fix="find why (vb-log --show --failures $DB_PATH), then"
			fix+=" prove it again: vb-backup --drill ${path##*/};"
			fix+=" until a drill proves it, retention"
			fix+=" keeps it and counts it as no restorable point" ;;
		*)
			fix="it is kept, never pruned: put a good copy in its"
			fix+=" place (vb-restore --offsite uses the remote's"
			fix+=" meanwhile), or, if no copy exists, remove it"
			fix+=" (rm $path)" ;;
		esac
		line FAIL backups "$path: ${msg%%; health=*}; $fix"
	done < <(as_job vb-restore --list --sums "$BACKUP_DIR" 2>/dev/null)
	[ -z "${cfg[FULL_EVERY]:-}" ] ||
	    every="; FULL_EVERY=${cfg[FULL_EVERY]}: every chain whole"
	if [ "$n" -eq 0 ]; then
		line FAIL backups "no backup in $BACKUP_DIR: nothing to" \
		    "restore from here; run vb-backup now"
	elif [ "$sums" -lt "$n" ]; then
		# Never "ok" for what was not measured.
		line warn backups "$((n - sums)) of the $n file(s) in" \
		    "$BACKUP_DIR could not be checked: no SHA-256 recorded" \
		    "for them (BackupLog lost their rows?) and encrypted (no" \
		    "identity here to read them whole); vb-restore --list" \
		    "--verify -i KEY-FILE reads them"
	fi
	[ "$bad" -gt 0 ] || [ "$n" -eq 0 ] || line ok backups "$n file(s) in" \
	    "$BACKUP_DIR, none known damaged, none failed its last drill;" \
	    "$sums hashed now, or read whole, and found as made$every"
}

# check_set_aside: a snapshot that failed its check (vb-compress kept it
# aside, the newest only) means the database itself may be damaged.
check_set_aside() {
	local f
	f=$(inventory "$BACKUP_DIR" | awk -F'\t' '$3 == "set-aside" {
	    print $1 }' | sort | tail -n1)
	[ -n "$f" ] || return 0
	line FAIL "failed check" "$f: a snapshot that failed its integrity" \
	    "check, kept to look at: the database itself may be damaged;" \
	    "check it (sqlite3 $DB_PATH 'PRAGMA integrity_check'), compare" \
	    "with the last good backup (vb-restore --to), then remove it" \
	    "(rm $f)"
}

# check_plaintext: with ENCRYPT_TO, nothing readable without the
# identity is left, here or offsite: what was made before it was set.
check_plaintext() {
	local here remote='' on=''
	[ -n "$ENCRYPT_TO" ] || return 0
	here=$(as_job vb-restore --list --fields "$BACKUP_DIR" 2>/dev/null |
	    awk -F'\t' '$6 == 0' | wc -l)
	[ -z "$OFFSITE" ] || remote=$(as_job vb-restore --list --offsite \
	    --fields 2>/dev/null | awk -F'\t' '$6 == 0' | wc -l)
	[ "${remote:-0}" -eq 0 ] || on=" and $remote on $OFFSITE"
	if [ "$here" -gt 0 ] || [ "${remote:-0}" -gt 0 ]; then
		line FAIL encryption "ENCRYPT_TO is set, but $here file(s) in" \
		    "$BACKUP_DIR$on are not encrypted (made before it was):" \
		    "encrypt them in place, each verified:" \
		    "vb-backup --encrypt-existing"
	fi
}

# check_offsite: the remote answers and takes a file as the job would
# reach it: its user, vb.conf (RCLONE_CONFIG there) and cron's empty
# environment; and, if that fails, from this shell, to tell them apart.
check_offsite() {
	local job shell home bin
	[ -n "$OFFSITE" ] || return 0
	bin=$(command -v vb-offsite)
	home=$(getent passwd "$check_as" | cut -d: -f6)
	if job=$(as_job env -i HOME="$home" LOGNAME="$check_as" \
	    USER="$check_as" SHELL=/bin/sh PATH=/usr/bin:/bin \
	    ${VB_CONF:+VB_CONF="$VB_CONF"} "$bin" --check 2>&1); then
		line ok offsite "$job (as $check_as, in cron's empty" \
		    "environment)"
	elif shell=$(as_job vb-offsite --check 2>&1); then
		line FAIL offsite "$OFFSITE answers from this shell but not" \
		    "as the job runs (cron: an empty environment):" \
		    "${job#vb-offsite: }; this shell's environment defines" \
		    "what the job lacks (RCLONE_CONFIG or" \
		    "RCLONE_CONFIG_<NAME>_* variables): put the remote in an" \
		    "rclone configuration file (rclone config) and name it in" \
		    "$conf: RCLONE_CONFIG=/root/.config/rclone/rclone.conf"
	else
		job=${job#vb-offsite: } shell=${shell#vb-offsite: }
		[ "$shell" = "$job" ] && shell='' ||
		    shell="; from this shell: $shell"
		line FAIL offsite "$job$shell; check the remote in rclone's" \
		    "configuration (rclone config show, as $check_as) and" \
		    "that it is reachable"
	fi
}

# ---- the runs --------------------------------------------------------

# epoch TIME: a record's UTC time as Unix seconds (empty if none).
epoch() {
	[ -n "$1" ] && date -u -d "$1" +%s 2>/dev/null
}

# read_history: BackupLog's rows (vb-log --show) into $hist, read once;
# a BackupLog that cannot be read is a FAIL of its own, never taken for
# "no backup" or "no drill".
hist=''
read_history() {
	local err=''
	hist=$(vb-log --show "$DB_PATH" 2>"$work/logerr") && return 0
	hist=''
	read -r err <"$work/logerr" || true
	line FAIL history "BackupLog in $DB_PATH cannot be read" \
	    "(${err#vb-log: }):" \
	    "the last run, the last backup and the drills below are unknown"
}

# check_last_run: the last run's own record (its backup row in
# BackupLog): a failure says when, at which stage and why.
check_last_run() {
	local rec st when msg
	rec=$(awk -F'\t' '$2 == "backup" { print; exit }' <<<"$hist")
	IFS=$'\t' read -r _ _ st _ _ _ when msg <<<"$rec"
	if [ "$st" = failed ]; then
		line FAIL "last run" "$when: $msg; see vb-log --show" \
		    "--failures $DB_PATH"
	elif [ -n "$st" ]; then
		line ok "last run" "$when: ok"
	fi
}

# check_last_backup: the age of the last successful backup: the last
# run's backup row that says ok (a compress row where no vb-backup ran),
# as BackupLog says; never a file another account may write.
check_last_backup() {
	local when='' what='' age at
	when=$(awk -F'\t' '
	    $2 == "backup" { runs = 1
		if ($3 == "ok") { print $7 "\t" $1; exit } }
	    !runs && $3 == "ok" && $2 == "compress" && !c { c = $7 "\t" $1 }
	    END { if (!runs && c) print c }' <<<"$hist")
	if [ -n "$when" ]; then
		what=${when#*$'\t'}
		when=$(epoch "${when%%$'\t'*}")
	fi
	# A number date(1) made, nothing else reaches the arithmetic.
	if ! [[ $when =~ ^[0-9]+$ ]]; then
		line FAIL "last backup" "no successful backup recorded" \
		    "(BackupLog): run vb-backup once by hand"
		return
	fi
	age=$(($(date +%s) - when))
	at=$(date -u -d "@$when" +%FT%TZ)
	# Recorded is not there: the file itself must be.
	if [[ $what == "$BACKUP_DIR"/* ]] && [ ! -e "$what" ]; then
		line FAIL "last backup" "the last successful backup BackupLog" \
		    "records ($at) is $what, and it is not there (deleted or" \
		    "moved?): run vb-backup now, and find out what removed it"
	elif [ "$age" -lt $((26 * 3600)) ]; then
		line ok "last backup" "$at, $((age / 3600)) h" \
		    "$((age % 3600 / 60)) min ago ($what)"
	else
		line FAIL "last backup" "the last successful backup is" \
		    "$((age / 3600)) h old ($at, from BackupLog): see vb-log" \
		    "--show --failures $DB_PATH and the system log" \
		    "(journalctl -t vb-backup, or /var/log/syslog)"
	fi
}

# check_drill: a restore drill proved a backup within twice DRILL_EVERY.
check_drill() {
	local last at why='' file st when msg rec
	# The newest drill failed on the remote's copy, or could not run:
	# its own line (a local backup that failed its drill is one of the
	# backups' lines, until proven or gone).
	rec=$(awk -F'\t' '$2 == "verify" &&
	    $8 ~ /; drill=(proven|failed|error)$/ { print; exit }' <<<"$hist")
	IFS=$'\t' read -r file _ st _ _ _ when msg <<<"$rec"
	if [ "${st:-}" = failed ] && { [[ $file != "$BACKUP_DIR"/* ]] ||
	    [[ $msg == *"; drill=error" ]]; }; then
		line FAIL drill "the last drill ($when) failed: $file:" \
		    "${msg%; drill=*}; fix what it says, then vb-backup --drill"
	fi
	if [ "$DRILL_EVERY" = 0 ]; then
		line warn drill "DRILL_EVERY=0: no restore drill proves the" \
		    "backups (the snapshot's weekly integrity_check only);" \
		    "vb-backup --drill runs one"
		return
	fi
	last=$(last_drill)
	drill_possible || why="; the archives are encrypted and\
 DRILL_IDENTITY is not set, so the nightly cannot drill: run\
 DRILL_IDENTITY=KEY-FILE vb-backup --drill where the key is"
	if [ -z "$last" ]; then
		line FAIL drill "no backup has been restored and proven yet" \
		    "(DRILL_EVERY=$DRILL_EVERY): vb-backup --drill$why"
		return
	fi
	at=$(date -u -d "@$last" +%FT%TZ)
	if [ "$last" -lt "$(period_ago "$DRILL_EVERY" 2)" ]; then
		line FAIL drill "the last verified restore is from $at, older" \
		    "than twice DRILL_EVERY=$DRILL_EVERY: see vb-log --show" \
		    "--failures $DB_PATH; vb-backup --drill$why"
	else
		line ok drill "last verified restore $at" \
		    "(DRILL_EVERY=$DRILL_EVERY)"
	fi
}

# check_holds: a backup held after a sudden loss of rows: someone must
# look at what was lost, then release it.
check_holds() {
	local stem reason file
	while IFS=$'\t' read -r stem _ reason; do
		[ -n "$stem" ] || continue
		file=$(inventory "$BACKUP_DIR" | awk -F'\t' -v s="$stem" \
		    '$2 == s && $4 != "raw" { print $1; exit }')
		line FAIL held "$reason: was it meant? look at the" \
		    "rows before (vb-restore --to /tmp/before.db" \
		    "${file:-$stem}); retention keeps $stem until: vb-prune" \
		    "--release $stem"
	done < <(vb-prune --holds -d "$BACKUP_DIR" 2>/dev/null)
}

check_lock() {
	local lock="$BACKUP_DIR/.vb.lock" ino pid cmd secs lfd free=0
	if [ ! -e "$lock" ] && [ ! -L "$lock" ]; then
		line ok lock "no lock file yet (the first run makes it)"
		return
	fi
	# Never through a link, never made: the job's own file or nothing.
	if [ -L "$lock" ] || [ ! -f "$lock" ]; then
		line FAIL lock "$lock is not a regular file (a link or" \
		    "something planted?): remove it; the next run makes it"
		return
	fi
	if ! as_job test -r "$lock" 2>/dev/null; then
		fail_as lock "$lock is not readable by $check_as: chown" \
		    "$check_as $lock"
		return
	fi
	if { exec {lfd}<"$lock"; } 2>/dev/null; then
		! flock -n -E 75 "$lfd" 2>/dev/null || free=1
		exec {lfd}<&-
	fi
	if [ "$free" -eq 1 ]; then
		line ok lock "$lock is free"
		return
	fi
	ino=$(stat -c %i "$lock")
	pid=$(awk -v ino=":$ino" '$2 == "FLOCK" &&
	    substr($6, length($6) - length(ino) + 1) == ino {
		print $5; exit }' /proc/locks)
	cmd=$(ps -o args= -p "${pid:-0}" 2>/dev/null)
	secs=$(ps -o etimes= -p "${pid:-0}" 2>/dev/null | tr -d ' ')
	if [ -z "$cmd" ]; then
		# The taker is gone; a child of it still has the file open.
		cmd=$(holders "$lock")
		line FAIL lock "$lock is held by PID ${cmd:-?}, which" \
		    "outlived the run that took it (PID ${pid:-?}): a killed" \
		    "run's stage still running? look at it" \
		    "(ps -f -p ${cmd// /,}) and kill it if it is stuck"
	elif [[ $cmd != *vb-backup* ]]; then
		line FAIL lock "$lock is held by PID $pid ($cmd), not a" \
		    "vb-backup run: the nightly job will not start (exit 75)" \
		    "until it lets go"
	elif [ "${secs:-0}" -gt $((12 * 3600)) ]; then
		line FAIL lock "a vb-backup run (PID $pid) has held $lock for" \
		    "$((secs / 3600)) h: hung? look at it (ps -p $pid -f) and" \
		    "kill it if it is stuck"
	else
		line ok lock "a run is in progress (PID $pid, for ${secs:-?} s)"
	fi
}

# holders FILE: the PIDs that have FILE open.
holders() {
	local fd pids=''
	for fd in /proc/[0-9]*/fd/*; do
		if [ "$(readlink "$fd" 2>/dev/null)" = "$1" ]; then
			fd=${fd#/proc/}
			pids="$pids ${fd%%/*}"
		fi
	done
	echo "${pids# }"
}
