#!/usr/bin/env bats
# Encryption with age (ENCRYPT_TO, vb-compress -e, vb-restore -i): the
# real age binary, keys made here.  COMPRESSION=none in most tests: a tar
# holds the database's bytes as they are, so a marker string in the
# database shows wherever plaintext is left (the control test proves it).

# shellcheck disable=SC2154 # bats' run --separate-stderr sets $stderr
bats_require_minimum_version 1.5.0
load helpers

MARK=MARKER-plaintext-5150

setup() {
	vb_setup
	mkdb app.db wal
	sqlite3 app.db "INSERT INTO ledger(account, amount, note)
	    VALUES (1, 0, '$MARK')"
	age-keygen -o key.txt 2>/dev/null
	{
		echo "# the backup recipients"
		age-keygen -y key.txt
	} >recipients.txt
}

conf() {	# conf [MORE LINES]
	printf 'DB_PATH=%s\nBACKUP_DIR=%s\nCOMPRESSION=none\nENCRYPT_TO=%s\n' \
	    "$T/app.db" "$T/backups" "$T/recipients.txt" >"$VB_CONF"
	printf '%s\n' "$@" >>"$VB_CONF"
}

# plaintext_in DIR...: the marker is somewhere under DIR.
plaintext_in() {
	grep -raq -- "$MARK" "$@"
}

# no_plaintext DIR...: nowhere.
no_plaintext() {
	! plaintext_in "$@"
}

@test "encrypt: the control: without ENCRYPT_TO the marker shows in the archive" {
	conf
	sed -i '/^ENCRYPT_TO=/d' "$VB_CONF"
	vb_backup
	plaintext_in backups || { ls -la backups; false; }
}

@test "encrypt: the nightly writes <stem>.tar.age only; restored with the identity" {
	conf
	run --separate-stderr vb_backup
	[ "$status" -eq 0 ]
	[ "$(find backups -type f -name 'backup-*' | wc -l)" -eq 1 ]
	a=$(find backups -name 'backup-*Z.tar.age')
	[ -n "$a" ]
	[ "$(head -c 22 "$a")" = "age-encryption.org/v1" ]
	no_plaintext backups
	# The record's SHA-256 and size are the encrypted file's.
	row=$(vb-log --show -n 5 app.db | grep '	compress	ok	')
	[ "$(cut -f4 <<<"$row")" -eq "$(stat -c %s "$a")" ]
	[ "$(cut -f5 <<<"$row")" = "$(sha256sum <"$a" | cut -d' ' -f1)" ]
	[[ $(cut -f8 <<<"$row") == *"encrypted with age to 1 recipient"* ]]
	# --list shows it encrypted without any key.
	run --separate-stderr vb-restore --list backups
	[[ $output == *"backup none+age;"* ]]
	run --separate-stderr vb-restore -i key.txt --to "$T/out.db" "$a"
	[ "$status" -eq 0 ]
	[ "$(sqlite3 out.db "SELECT note FROM ledger WHERE note = '$MARK'")" = "$MARK" ]
	run --separate-stderr vb-restore -i key.txt --verify-only "$a"
	[ "$status" -eq 0 ]
	[ "$(cut -f5 <<<"$output")" = "$(sha256sum <"$a" | cut -d' ' -f1)" ]
}

@test "encrypt: without the identity, or with the wrong one: refused, nothing changed" {
	conf
	vb_backup
	a=$(find backups -name 'backup-*.age')
	before=$(sha256sum <app.db)
	run --separate-stderr vb-restore --to "$T/out.db" "$a"
	[ "$status" -eq 1 ]
	[[ $stderr == *"is encrypted with age: give the identity"*"-i FILE"* ]]
	[ ! -e out.db ]
	age-keygen -o other.txt 2>/dev/null
	run --separate-stderr vb-restore -i other.txt --db "$T/app.db" "$a"
	[ "$status" -eq 1 ]
	[[ $stderr == *"no identity matched"* ]]
	[ "$(sha256sum <app.db)" = "$before" ]
	[ -z "$(find backups -name 'pre-restore-*')" ]
	[ -z "$(find backups -name '.vb-tmp-*')" ]
	run --separate-stderr vb-restore -i "$T/missing.txt" --to "$T/out.db" "$a"
	[ "$status" -eq 1 ]
	[ ! -e out.db ]
}

@test "encrypt: restorable without vb: age -d | tar -x, as the README says" {
	sed -i '/^COMPRESSION=/d' "$VB_CONF" 2>/dev/null || true
	conf
	sed -i 's/^COMPRESSION=none$/COMPRESSION=zstd/' "$VB_CONF"
	vb_backup
	a=$(find "$T/backups" -name 'backup-*.tar.zst.age')
	mkdir plain && cd plain
	age -d -i ../key.txt "$a" | tar --zstd -xf -
	[ -f MANIFEST ]
	db=$(ls backup-*.db)
	[ "$(sqlite3 "$db" "SELECT note FROM ledger WHERE note = '$MARK'")" = "$MARK" ]
	grep -q "^db-sha256: $(sha256sum <"$db" | cut -d' ' -f1)$" MANIFEST
}

@test "encrypt: the pre-restore copy of a live restore is encrypted too" {
	conf
	vb_backup
	a=$(find backups -name 'backup-*.age')
	sqlite3 app.db "INSERT INTO ledger(account, amount, note) VALUES (2, 0, 'later')"
	run --separate-stderr vb-restore -i key.txt --db "$T/app.db" "$a"
	[ "$status" -eq 0 ]
	saved=$(find backups -name 'pre-restore-*')
	[[ $saved == *.tar.zst.age ]]
	no_plaintext backups
	# The undo it prints names the identity the copy needs.
	[[ $stderr == *"to undo: vb-restore -i key.txt --db $T/app.db $T/$saved"* ]]
	# And it undoes the restore, with the identity.
	run --separate-stderr vb-restore -i key.txt --db "$T/app.db" "$saved"
	[ "$status" -eq 0 ]
	[ "$(sqlite3 app.db "SELECT count(*) FROM ledger WHERE note = 'later'")" -eq 1 ]
}

@test "encrypt: a kill -9 mid-run leaves no plaintext once the next run is done" {
	slow
	local stages='/bin/vb-backup( |$)|(^|/)vb-(compress|log)( |$)'
	filldb app.db 100
	conf
	vb_backup &
	job=$!
	# Killed, the job and its stages, while it compresses: stopped
	# first, all of them, so that none finishes while the rest die.
	WAIT_S=600 wait_for sh -c "ls '$T'/backups/.vb-tmp-*.tar" >/dev/null 2>&1
	kill_below STOP "$job" "$stages" || true
	kill_below KILL "$job" "$stages" || true
	wait "$job" || true
	# What the killed run left holds the database in the clear.
	plaintext_in backups || { ls -la backups; false; }
	sleep 1.1
	run --separate-stderr vb_backup
	[ "$status" -eq 0 ]
	no_plaintext backups || { grep -ral -- "$MARK" backups; false; }
	[ -z "$(find backups -name '*.db' -o -name '.vb-tmp-*')" ]
	# The killed run's snapshot was an intermediate, never synced nor
	# named: removed with its dead owner's temporaries.
	[ "$(find backups -name 'backup-*.tar.age' | wc -l)" -eq 1 ]
	for a in backups/backup-*.age; do
		vb-restore -q -i key.txt --verify-only "$a" >/dev/null
	done
}

@test "encrypt: a run that cannot encrypt fails and leaves no plaintext" {
	conf
	echo "not a key" >recipients.txt
	run --separate-stderr vb_backup
	[ "$status" -eq 1 ]
	[[ $stderr == *"at compress"*"not an age recipient"* ]]
	no_plaintext backups
	[ -z "$(find backups -type f -name 'backup-*')" ]
	[[ $stderr == *"removed 1 unencrypted snapshot"* ]]
}

@test "encrypt: rotation: new archives to the new key; old ones still open with the old" {
	slow
	conf
	vb_backup
	old=$(find backups -name 'backup-*.age')
	age-keygen -o new.txt 2>/dev/null
	age-keygen -y new.txt >recipients.txt
	sleep 1.1
	vb_backup
	new=$(find backups -name 'backup-*.age' ! -path "$old")
	vb-restore -q -i key.txt --verify-only "$old" >/dev/null
	vb-restore -q -i new.txt --verify-only "$new" >/dev/null
	run --separate-stderr vb-restore -i key.txt --verify-only "$new"
	[ "$status" -eq 1 ]
	# Two recipients: either identity opens what is written after.
	age-keygen -y key.txt >>recipients.txt
	sleep 1.1
	vb_backup
	both=$(find backups -name 'backup-*.age' ! -path "$old" ! -path "$new")
	vb-restore -q -i key.txt --verify-only "$both" >/dev/null
	vb-restore -q -i new.txt --verify-only "$both" >/dev/null
}

@test "encrypt: vb-backup --check reports an unreadable or empty recipients file" {
	slow
	conf
	VB_CRON_FILE=/nonexistent run --separate-stderr vb_backup --check
	[[ $output == *"ok    encryption"*"1 recipient(s)"* ]]
	echo "# nobody yet" >recipients.txt
	VB_CRON_FILE=/nonexistent run --separate-stderr vb_backup --check
	[ "$status" -eq 1 ]
	[[ $output == *"FAIL  encryption"*"holds no recipient"* ]]
	rm recipients.txt
	VB_CRON_FILE=/nonexistent run --separate-stderr vb_backup --check
	[[ $output == *"FAIL  encryption"*"cannot be read"* ]]
	# And the configuration itself: an absolute path; -k is refused.
	printf 'ENCRYPT_TO=recipients.txt\n' >"$VB_CONF"
	run --separate-stderr vb-compress --print-config
	[ "$status" -eq 2 ]
	run --separate-stderr vb-compress -k -e "$T/recipients.txt" backups/x.db
	[ "$status" -eq 2 ]
}

@test "encrypt: offsite copies are the encrypted archives; the remote holds no plaintext" {
	slow
	conf "OFFSITE=$T/remote"
	export RCLONE_CONFIG=$T/rclone.conf
	vb_backup
	sleep 1.1
	vb_backup
	[ "$(find remote -name 'backup-*.tar.age' | wc -l)" -eq 2 ]
	no_plaintext remote backups
	rm -f backups/*
	name=$(find remote -name 'backup-*.age' -printf '%f\n' | sort | tail -n1)
	run --separate-stderr vb-restore -i key.txt --offsite --to "$T/out.db" "$name"
	[ "$status" -eq 0 ]
	[ "$(sqlite3 out.db "SELECT note FROM ledger WHERE note = '$MARK'")" = "$MARK" ]
}

@test "encrypt: the scrub removes only tonight's snapshot: never a backup the run found, never after a configuration error, never through a refused directory" {
	conf
	mkdir -m 700 backups
	old1=backups/backup-2026-11-01T01-00-00-000Z.db
	old2=backups/backup-2026-11-02T01-00-00-000Z.db
	cp app.db "$old1"
	cp app.db "$old2"
	# A configuration error: no run, nothing removed.
	KEEP_DAILY=x run --separate-stderr vb_backup
	[ "$status" -eq 2 ]
	[ -f "$old1" ] && [ -f "$old2" ]
	[[ $stderr != *"removed"* ]]
	# Encryption broken: the old service's backups cannot be encrypted
	# and stay (the run fails at leftovers); tonight's snapshot goes.
	echo "not a key" >recipients.txt
	run --separate-stderr vb_backup
	[ "$status" -eq 1 ]
	[[ $stderr == *"at leftovers"* ]]
	[ -f "$old1" ] && [ -f "$old2" ]
	[[ $stderr == *"removed 1 unencrypted snapshot"* ]]
	[ "$(find backups -name 'backup-*.db' | wc -l)" -eq 2 ]
	# A backup directory another user swapped for a link: refused, and
	# nothing removed where it points.
	conf
	mkdir -m 700 victim
	cp app.db victim/backup-2026-10-01T01-00-00-000Z.db
	mkdir nob
	chown nobody:nogroup nob
	chmod 755 "$T"
	as_nobody ln -s "$T/victim" "$T/nob/bk"
	sed -i "s|^BACKUP_DIR=.*|BACKUP_DIR=$T/nob/bk|" "$VB_CONF"
	run --separate-stderr vb_backup
	[ "$status" -eq 1 ]
	[ -f victim/backup-2026-10-01T01-00-00-000Z.db ]
	[[ $stderr != *"removed"* ]]
}

@test "encrypt: a leftover archived but refused by BackupLog fails the run (an unrecorded archive reads as planted)" {
	conf
	vb_backup 2>/dev/null
	mkdir -p backups
	cp app.db backups/backup-2026-11-01T01-00-00-000Z.db
	sqlite3 app.db "CREATE TRIGGER noleft BEFORE INSERT ON BackupLog
	    WHEN NEW.filename LIKE '%2026-11-01T01-00-00%'
	    BEGIN SELECT RAISE(ABORT, 'refused'); END"
	run --separate-stderr vb_backup
	[ "$status" -eq 1 ]
	[[ $stderr == *"at log: BackupLog in $T/app.db could not take the leftovers' rows"* ]]
	# The backup itself was made and encrypted.
	[ ! -e backups/backup-2026-11-01T01-00-00-000Z.db ]
	no_plaintext backups
}

@test "encrypt: --encrypt-existing whose rows BackupLog refuses fails, and says so (an unrecorded archive reads as planted)" {
	conf
	sed -i '/^ENCRYPT_TO=/d' "$VB_CONF"
	vb_backup 2>/dev/null
	plaintext_in backups
	echo "ENCRYPT_TO=$T/recipients.txt" >>"$VB_CONF"
	sqlite3 app.db "CREATE TRIGGER noenc BEFORE INSERT ON BackupLog
	    WHEN NEW.filename LIKE '%.age'
	    BEGIN SELECT RAISE(ABORT, 'refused'); END"
	run --separate-stderr vb_backup --encrypt-existing
	[ "$status" -eq 1 ]
	[[ $stderr == *"BackupLog in $T/app.db could not take the encryption's rows"* ]]
	[[ $stderr != *"done: nothing unencrypted"* ]]
	# The file itself was encrypted all the same.
	no_plaintext backups
	# Without the trigger, nothing is left to do, and it says so.
	sqlite3 app.db "DROP TRIGGER noenc"
	run --separate-stderr vb_backup --encrypt-existing
	[ "$status" -eq 0 ]
	[[ $stderr == *"0 unencrypted file(s) in $T/backups"* ]]
	[[ $stderr == *"done: nothing unencrypted is left in $T/backups"* ]]
}
