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

# sh WORD...: the command as a shell reads it back when pasted (printf
# %q: a word that needs it quoted, a control byte as $'\ooo', never raw).
sh() {
	local out
	printf -v out '%q ' "$@"
	printf '%s' "${out% }"
}

# show_plan: the commands of a run, this script's own, then what each
# tool owns in its finished rows (--plan): the configuration and the
# preflight (vb-snapshot), the drill (vb-log, given the command a due
# drill would run) and retention, what it would delete now (vb-prune).
show_plan() {
	local log_rows
	commands
	drill_cmd
	log_rows=$(sh vb-log -q "$DB_PATH")
	echo "dry run: nothing is written, locked or deleted"
	if [ -n "$OFFSITE" ]; then
		row "would run" "$(sh "${snapshot[@]}") |" \
		    "$(sh "${compress[@]}") | $(sh "${offsite[@]}") |" \
		    "$(sh "${log[@]}")"
		row "then" "$(sh "${prune[@]}") | $log_rows"
		row "and" "$(sh "${prune_offsite[@]}") | $log_rows"
	else
		row "would run" "$(sh "${snapshot[@]}") |" \
		    "$(sh "${compress[@]}") | $(sh "${log[@]}")"
		row "then" "$(sh "${prune[@]}") | $log_rows"
	fi
	"${preflight[@]}" --plan
	vb-log --plan "$(sh "${drill[@]}") | $log_rows" "$DB_PATH"
	"${prune[@]}" --plan
}

# ---- --encrypt-existing ----------------------------------------------

# encrypt_existing: what was written before ENCRYPT_TO was set, encrypted
# in place under the lock: raw snapshots archived and encrypted, archives
# and set-aside snapshots each read back, checked and encrypted (the
# plaintext removed once the encrypted file is in place), then the
# remote's plaintext archives replaced by verified encrypted copies.
# Every file gets a record in BackupLog; exit 1 if any failed, or if
# BackupLog refused a record.
encrypt_existing() {
	local rc=0 n
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
	inventory "$BACKUP_DIR" | pick inventory encrypted=0 -- path \
	    >"$work/plain"
	n=$(wc -l <"$work/plain")
	[ "$n" -eq 0 ] || logged encrypt "the encryption's" \
	    vb-compress -q --encrypt <"$work/plain" || rc=1
	say "$n unencrypted file(s) in $BACKUP_DIR$([ "$rc" -eq 0 ] ||
	    echo ': some could not be encrypted (see above)')"
	say_failed -
	if [ -n "$OFFSITE" ] && ! logged offsite "the remote's encryption" \
	    vb-offsite -q --encrypt -d "$BACKUP_DIR"; then
		rc=1
		say "some archives on $OFFSITE could not be encrypted" \
		    "(see above)"
	fi
	say_failed -
	# The archives have new names: the signed catalog says so, here and
	# there (SIGN_WITH; the remote's copied last).
	if [ -n "$SIGN_WITH" ]; then
		logged catalog "the catalog's" vb-prune --catalog \
		    -d "$BACKUP_DIR" || rc=1
		say_failed -
		[ -z "$OFFSITE" ] || logged catalog "the remote catalog's" \
		    vb-prune --catalog --offsite "$OFFSITE" || rc=1
		say_failed -
	fi
	# BackupLog refused a record (vb-log said which).
	[ -z "$fail_stage" ] || { say "$fail_reason"; rc=1; }
	[ "$rc" -ne 0 ] || say "done: nothing unencrypted is left in" \
	    "$BACKUP_DIR${OFFSITE:+ or on $OFFSITE}"
	exit "$rc"
}
