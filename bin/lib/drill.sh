# shellcheck shell=bash
# shellcheck disable=SC2154 # set by bin/vb-backup, which sources this
# shellcheck disable=SC2034 # read by bin/vb-backup and report.sh
# drill.sh - the restore drill and the sudden loss, as vb-backup runs
# them.  Every DRILL_EVERY (default 7d; 0: never) the nightly job, after
# its backup, restores the newest backup and one older one picked at
# random exactly as an operator would (vb-restore --drill; with OFFSITE,
# from the remote's copies) and proves them; a failed drill fails the
# run.  The drill takes the weekly integrity_check's slot: the snapshot's
# integrity_check comes back only when no drill can run (DRILL_EVERY=0,
# or encrypted archives and no DRILL_IDENTITY).  A table that lost over
# half its rows since the last backup makes tonight's run warn
# (vb-compress holds the backup before; vb-log --finish finds the hold
# and says the warning; vb-prune --holds lists it).
# Sourced by bin/vb-backup; uses its configuration and helpers.

# due: what tonight's run is due, as vb-log --due answers it (vb-log(1)),
# asked once a run (nothing the run does before its drill changes it),
# into due_drill (off, due, not-due), can_drill (yes; no: the archives
# are encrypted and DRILL_IDENTITY is not set), full_check (yes: the
# snapshot gets integrity_check) and last_proof (UTC; -).
due_drill=''
due() {
	[ -z "$due_drill" ] || return 0
	can_drill='' full_check='' last_proof=''
	IFS=$'\t' read -r due_drill can_drill full_check last_proof \
	    < <(vb-log --due "$DB_PATH" 2>/dev/null)
}
drill_possible() { due; [ "$can_drill" = yes ]; }
drill_due() { due; [ "$due_drill" = due ]; }

# drill_cmd: the command, into the array drill (the backups named to
# vb-backup --drill, if any; else vb-restore picks them).
drill_names=()
drill_cmd() {
	drill=(vb-restore --drill -q -d "$BACKUP_DIR")
	[ -z "$DRILL_IDENTITY" ] || drill+=(-i "$DRILL_IDENTITY")
	[ -z "$OFFSITE" ] || drill+=(--offsite)
	[ "${#drill_names[@]}" -eq 0 ] || drill+=(-- "${drill_names[@]}")
}

# run_drill: the drill, its verify records kept for vb-log --finish,
# which writes them into BackupLog, counts the backups proven and fails
# the run with why when one could not be.
run_drill() {
	local t
	if ! drill_possible; then
		summary "restore drill due but not run: the archives are" \
		    "encrypted (ENCRYPT_TO) and DRILL_IDENTITY is not set;" \
		    "run it where the identity is: DRILL_IDENTITY=KEY" \
		    "vb-backup --drill"
		return 0
	fi
	drill_cmd
	t=$(date +%s.%N)
	"${drill[@]}" >"$work/drill"
	stage_st[drill]=$?
	stage_ms[drill]=$(ms_since "$t")
}

# drill_now: vb-backup --drill: the drill now, due or not, under the
# lock; its end (metrics, summary, ON_FAILURE) finish's, vb-log --finish
# --drill-only's.  Exits.
drill_now() {
	if ! drill_possible; then
		say "the archives are encrypted (ENCRYPT_TO): give the" \
		    "identity: DRILL_IDENTITY=KEY-FILE vb-backup --drill"
		exit 2
	fi
	# No backup yet (postinst makes the directory): said, no row, no
	# metric: a drill of nothing is not a failed drill.
	if [ -z "$OFFSITE" ] && { [ ! -d "$BACKUP_DIR" ] ||
	    [ -z "$(inventory "$BACKUP_DIR" | pick inventory kind=backup \
	    type!=raw | head -n1)" ]; }; then
		say "nothing to drill: no backup yet in $BACKUP_DIR (the" \
		    "first nightly makes one: vb-backup)"
		exit 1
	fi
	{ ready_dir && take_lock; } || exit 1
	run_drill
	finish 0
}
