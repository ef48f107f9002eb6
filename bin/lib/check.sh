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
	check_environment
	check_schedule
	check_user
	if [ -n "$DB_PATH" ] && [ -n "$BACKUP_DIR" ]; then
		check_database
		check_directory
		check_encryption
		check_signing
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

# check_environment: settings this shell gives that the nightly job,
# which cron starts with an empty environment, will not have.
check_environment() {
	local k
	for k in "${!cfg[@]}"; do
		printenv "$k" >/dev/null || continue
		line warn environment "$k=$(printenv "$k") is set in this" \
		    "shell and wins over $conf here; the nightly job (cron:" \
		    "an empty environment) does not see it: put it in $conf"
	done
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

check_schedule() {
	local cronf=${VB_CRON_FILE:-/etc/cron.d/vb-backup} entry timer=0 f
	if [ -d /run/systemd/system ] &&
	    systemctl is-enabled --quiet vb-backup.timer 2>/dev/null; then
		timer=1
		job_user=$(systemctl show -p User --value vb-backup.service \
		    2>/dev/null)
		job_user=${job_user:-root}
		if systemctl is-active --quiet vb-backup.timer; then
			line ok schedule "systemd timer vb-backup.timer" \
			    "enabled and active (runs as $job_user)"
		else
			line FAIL schedule "vb-backup.timer is enabled but" \
			    "not active: systemctl start vb-backup.timer"
		fi
	fi
	entry=$(grep -v '^[[:space:]]*#' "$cronf" 2>/dev/null |
	    grep -m1 'vb-backup')
	read -r -a f <<<"$entry"
	if [ -n "$entry" ] &&
	    ! [[ "${f[*]:0:5} " =~ ^([0-9*,/a-zA-Z-]+\ ){5}$ ]]; then
		line FAIL schedule "$cronf: no schedule vb can read in:" \
		    "$entry; reinstall it (./install.sh --schedule)"
	elif [ -n "$entry" ]; then
		[ "$timer" -eq 1 ] && line FAIL schedule "both $cronf and" \
		    "vb-backup.timer are on: the job would run twice; turn" \
		    "one off (install.sh --no-cron, or systemctl disable" \
		    "vb-backup.timer)"
		job_user=${f[5]:-root}
		if cron_runs; then
			line ok schedule "$cronf: ${f[*]:0:5} as $job_user;" \
			    "cron runs"
		else
			line FAIL schedule "$cronf is installed but no cron" \
			    "daemon runs: start it (systemctl enable --now" \
			    "cron, or service cron start)"
		fi
		check_interval "${f[@]:0:5}"
		check_job_conf "$cronf" "$(cron_conf "$cronf")"
	elif [ "$timer" -eq 0 ]; then
		line FAIL schedule "no $cronf and no enabled vb-backup.timer:" \
		    "run install.sh, or systemctl enable --now vb-backup.timer"
	fi
	[ "$timer" -eq 0 ] || check_job_conf vb-backup.service \
	    "$(systemctl show -p Environment --value vb-backup.service \
	    2>/dev/null | tr ' ' '\n' | sed -n 's/^VB_CONF=//p' | tail -n1)"
}

# cron_runs: a cron daemon runs: root's, and alive (not a process of
# another user that only took the name, nor a zombie).
cron_runs() {
	ps -eo stat=,uid=,comm= 2>/dev/null | awk '$2 == 0 && $1 !~ /^Z/ &&
	    ($3 == "cron" || $3 == "crond") { found = 1 } END { exit !found }'
}

# cron_conf FILE: the VB_CONF cron gives the job of FILE's vb-backup
# entry: a VB_CONF= word in the entry, else the last VB_CONF= line above
# it (cron applies a variable to the entries after it), else none.  Read
# as data: never evaluated, never globbed.
cron_conf() {
	local line v='' w ws set='^[[:space:]]*VB_CONF[[:space:]]*=[[:space:]]*'
	while IFS= read -r line; do
		[[ $line =~ ^[[:space:]]*(#|$) ]] && continue
		if [[ $line =~ $set(.*)$ ]]; then
			v=${BASH_REMATCH[1]}
			continue
		fi
		[[ $line == *vb-backup* ]] || continue
		read -r -a ws <<<"$line"
		for w in "${ws[@]}"; do
			[[ $w != VB_CONF=* ]] || v=${w#VB_CONF=}
		done
		break
	done <"$1"
	v=${v%\"} v=${v#\"} v=${v%\'} v=${v#\'}
	printf '%s\n' "$v"
}

# check_job_conf WHERE FILE: the configuration the scheduled job reads
# (FILE, from WHERE; empty: /etc/vb.conf) is the one this check read; if
# not, the check checked a set-up that never runs.
check_job_conf() {
	local job=${2:-/etc/vb.conf} a b
	if [[ $job != /* ]]; then
		line FAIL schedule "the job ($1) is given VB_CONF=$job, a" \
		    "relative path: cron resolves it in the job user's home," \
		    "not here; give the absolute path of $conf"
		return
	fi
	a=$(readlink -m -- "$job") b=$(readlink -m -- "$conf")
	[ "$a" != "$b" ] || return 0
	line FAIL schedule "the job ($1) reads $job$([ -n "$2" ] ||
	    echo ' (no VB_CONF there)'), but this check read $conf: it" \
	    "checked a configuration the nightly does not use; check the" \
	    "job's (VB_CONF=$job vb-backup --check), or give the job this" \
	    "one: a line VB_CONF=$conf in $1 (Environment= in a unit)"
}

# check_interval MIN HOUR DOM MON DOW: BACKUP_INTERVAL (the Node service's
# knob) against the cron schedule: below a day, the line vb derives
# (vb-snapshot --print-schedule) or a FAIL; a day or more, a warning.
check_interval() {
	local want=${cfg[BACKUP_INTERVAL]:-86400000} every='' words='' sched
	if [[ $want =~ ^[0-9]+$ ]] && [ "$want" -lt 86400000 ]; then
		# Points: the cron line must be the one vb derives.
		sched=$(vb-snapshot --print-schedule 2>/dev/null) || return 0
		sched=${sched%%$'\t'*}
		[ "$*" != "$sched" ] || return 0
		line FAIL schedule "BACKUP_INTERVAL=$want ms and NIGHTLY_AT" \
		    "ask for the cron line '$sched', but ${cronf:-cron}" \
		    "runs '$*': the points are not taken as configured;" \
		    "./install.sh --schedule installs the line they ask for"
		return 0
	fi
	if [ "$3 $4" = '* *' ] && [[ $1 =~ ^[0-9]+$ ]]; then
		if [[ $2 =~ ^[0-9]+$ ]] && [ "$5" = '*' ]; then
			every=86400000 words="once a day"
		elif [[ $2 =~ ^[0-9]+$ ]] && [[ $5 =~ ^[0-7]$ ]]; then
			every=604800000 words="once a week"
		elif [ "$2 $5" = '* *' ]; then
			every=3600000 words="once an hour"
		fi
	fi
	if [ -n "$every" ] && [ "$every" != "$want" ]; then
		line warn schedule "BACKUP_INTERVAL=$want ms, but the cron" \
		    "line runs $words ($every ms); the cron line decides:" \
		    "./install.sh --schedule, or set BACKUP_INTERVAL=$every"
	fi
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
		line ok "backup directory" "$(pick record -- msg <<<"$rec") (as $check_as)"
		return 0
	fi
	err=$(pick record -- msg <<<"$rec")
	[ -n "$err" ] || err=$(head -n1 "$work/preerr")
	fail_as "backup directory" "$err"
	return 1
}

# check_encryption: the recipients file can be read by the job's user,
# holds recipients, and age takes them.
check_encryption() {
	local n out
	[ -n "$ENCRYPT_TO" ] || return 0
	if ! command -v age >/dev/null; then
		line FAIL encryption "ENCRYPT_TO is set but age is not" \
		    "installed: apt-get install age"
	elif ! as_job test -r "$ENCRYPT_TO" 2>/dev/null; then
		fail_as encryption "ENCRYPT_TO $ENCRYPT_TO cannot be read by" \
		    "$check_as: the nightly job cannot encrypt (and so fails)"
	elif ! n=$(grep -cE '^(age1|ssh-)' "$ENCRYPT_TO") ||
	    [ "$n" -eq 0 ]; then
		line FAIL encryption "ENCRYPT_TO $ENCRYPT_TO holds no" \
		    "recipient: add the public key (age-keygen -y key.txt) of" \
		    "the identity that will decrypt"
	elif ! out=$(as_job age -e -R "$ENCRYPT_TO" -o /dev/null \
	    </dev/null 2>&1); then
		line FAIL encryption "age refuses the recipients in" \
		    "$ENCRYPT_TO: $(head -n1 <<<"$out")"
	else
		line ok encryption "age, to $n recipient(s) in $ENCRYPT_TO;" \
		    "keep the identity off this machine"
	fi
}

# check_signing: SIGN_WITH an Ed25519 key the job's user reads and no
# one else may (mode 0600 or 0400, the job's user's own); without it,
# an OFFSITE copy anyone with the bucket's key can replace.
check_signing() {
	local mode owner out
	if [ -z "$SIGN_WITH" ]; then
		[ -z "$OFFSITE" ] || line warn signatures "OFFSITE without" \
		    "SIGN_WITH: whoever can write to $OFFSITE can plant an" \
		    "archive that restores cleanly; sign what this host" \
		    "makes: ssh-keygen -t ed25519 -N '' -f" \
		    "/etc/vb/signing-key, then SIGN_WITH=/etc/vb/signing-key" \
		    "in $conf, and keep" \
		    "signing-key.pub off the host for vb-restore --verify-with"
		return 0
	fi
	read -r mode owner < <(stat -Lc '%a %U' -- "$SIGN_WITH" 2>/dev/null)
	[[ $mode =~ ^[0-7]+$ ]] || mode=''
	if ! command -v ssh-keygen >/dev/null; then
		line FAIL signatures "SIGN_WITH is set but ssh-keygen is not" \
		    "installed: apt-get install openssh-client"
	elif [ -z "$mode" ]; then
		line FAIL signatures "SIGN_WITH $SIGN_WITH does not exist"
	elif [ $((8#$mode & 8#077)) -ne 0 ]; then
		line FAIL signatures "SIGN_WITH $SIGN_WITH can be read by" \
		    "others (mode $mode): anyone who reads it can sign" \
		    "forgeries; chmod 600 $SIGN_WITH"
	elif [ "$owner" != "$check_as" ]; then
		fail_as signatures "SIGN_WITH $SIGN_WITH is $owner's, not the" \
		    "job's user's ($check_as): chown $check_as $SIGN_WITH"
	elif ! out=$(as_job ssh-keygen -l -f "$SIGN_WITH" 2>&1) ||
	    ! as_job ssh-keygen -y -P '' -f "$SIGN_WITH" >/dev/null 2>&1; then
		line FAIL signatures "SIGN_WITH $SIGN_WITH is not an Ed25519" \
		    "key $check_as can read without a passphrase: $out"
	else
		line ok signatures "manifests and the catalog signed with" \
		    "$SIGN_WITH ($(cut -d' ' -f2 <<<"$out")); keep its .pub" \
		    "off this host for vb-restore --verify-with"
	fi
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

# check_runs: the last run (a failure says when, at which stage and why),
# the age of the last successful backup (and that its file is there),
# and the drills (the newest one's failure on the remote's copy; a proof
# within twice DRILL_EVERY), as BackupLog says: vb-log --check-runs.  A
# BackupLog that cannot be read is a FAIL of its own, never taken for
# "no backup" or "no drill".
check_runs() {
	verdicts history vb-log --check-runs "$DB_PATH"
}
