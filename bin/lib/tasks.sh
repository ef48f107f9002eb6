# shellcheck shell=bash
# shellcheck disable=SC2154 # set by bin/vb-backup, which sources this
# tasks.sh - what vb-backup does for an operator besides the nightly:
# --dry-run (the plan, from the very commands a run uses, doing none of
# it) and --encrypt-existing (what was written before ENCRYPT_TO, made
# unreadable without the identity).  Sourced by bin/vb-backup; uses its
# configuration, commands and helpers.

# ---- --dry-run -------------------------------------------------------

# row LABEL TEXT...: one line of the plan, its text aligned as the
# tools align theirs.
row() {
	local label=$1
	shift
	printf '%-14s %s\n' "$label:" "$*"
}

# show_plan: the commands of a run, this script's own, then what each
# tool owns in its finished rows (--plan): the configuration and the
# preflight (vb-snapshot), the drill (vb-log, given the command a due
# drill would run) and retention, what it would delete now (vb-prune).
show_plan() {
	commands
	echo "dry run: nothing is written, locked or deleted"
	if [ -n "$OFFSITE" ]; then
		row "would run" "${snapshot[*]} | ${compress[*]} |" \
		    "${offsite[*]} | ${log[*]}"
		row "then" "${prune[*]} | vb-log -q $DB_PATH"
		row "and" "${prune_offsite[*]} | vb-log -q $DB_PATH"
	else
		row "would run" "${snapshot[*]} | ${compress[*]} | ${log[*]}"
		row "then" "${prune[*]} | vb-log -q $DB_PATH"
	fi
	"${preflight[@]}" --plan
	drill_cmd
	vb-log --plan "${drill[*]} | vb-log -q $DB_PATH" "$DB_PATH"
	"${prune[@]}" --plan
}

# ---- --encrypt-existing ----------------------------------------------

# encrypt_existing: what was written before ENCRYPT_TO was set, encrypted
# in place under the lock: raw snapshots archived and encrypted, archives
# and set-aside snapshots each read back, checked and encrypted (the
# plaintext removed once the encrypted file is in place), then the
# remote's plaintext archives replaced by verified encrypted copies.
# Every file gets a record in BackupLog; exit 1 if any failed.
encrypt_existing() {
	local files rc=0 n
	if [ -z "$ENCRYPT_TO" ]; then
		say "ENCRYPT_TO is not set: set it in $conf to the recipients" \
		    "file first"
		exit 2
	fi
	if [ ! -d "$BACKUP_DIR" ]; then
		say "$BACKUP_DIR is not a directory: nothing to encrypt there"
		exit 1
	fi
	{ ready_dir && take_lock; } || exit 1
	# The plaintext files, every kind: vb-restore's encrypted field.
	files=$(inventory "$BACKUP_DIR" | pick inventory encrypted=0 -- path)
	n=$(grep -c . <<<"$files")
	if [ "$n" -gt 0 ]; then
		printf '%s\n' "$files" | vb-compress -q --encrypt |
		    vb-log -q "$DB_PATH"
		[ "${PIPESTATUS[1]}" -eq 0 ] || rc=1
	fi
	say "$n unencrypted file(s) in $BACKUP_DIR$([ "$rc" -eq 0 ] ||
	    echo ': some could not be encrypted (see above)')"
	if [ -n "$OFFSITE" ]; then
		vb-offsite -q --encrypt -d "$BACKUP_DIR" | vb-log -q "$DB_PATH"
		if [ "${PIPESTATUS[0]}" -ne 0 ]; then
			rc=1
			say "some archives on $OFFSITE could not be encrypted" \
			    "(see above)"
		fi
	fi
	# The archives have new names: the signed catalog says so, here and
	# there (SIGN_WITH; the remote's copied last).
	if [ -n "$SIGN_WITH" ]; then
		vb-prune --catalog -d "$BACKUP_DIR" | vb-log -q "$DB_PATH"
		[ "${PIPESTATUS[0]}" -eq 0 ] || rc=1
		if [ -n "$OFFSITE" ]; then
			vb-prune --catalog --offsite "$OFFSITE" |
			    vb-log -q "$DB_PATH"
			[ "${PIPESTATUS[0]}" -eq 0 ] || rc=1
		fi
	fi
	[ "$rc" -ne 0 ] || say "done: nothing unencrypted is left in" \
	    "$BACKUP_DIR${OFFSITE:+ or on $OFFSITE}"
	exit "$rc"
}
