#!/usr/bin/env bats
# Tamper evidence (SIGN_WITH, VERIFY_WITH): signed manifests and a signed
# catalog, and the restore that refuses what the host's key did not sign
# or the catalog does not list; without signatures, the live database's
# BackupLog.  Real keys made by the test (ssh-keygen), the real nightly,
# rclone's local backend as the remote, age for the encrypted chain.

# shellcheck disable=SC2154 # bats' run --separate-stderr sets $stderr
bats_require_minimum_version 1.5.0
load helpers

setup() {
	vb_setup
	export RCLONE_CONFIG=$T/rclone.conf	# none: nothing of the machine's
	mkdb app.db wal 500
	filldb app.db 2
	ssh-keygen -q -t ed25519 -N '' -C vb-test -f "$T/signing-key"
	# The verify key as it would live off the host.
	mkdir "$T/off"
	mv "$T/signing-key.pub" "$T/off/vb.pub"
}

# conf [MORE LINES]: the nightly, signed, offsite to $T/remote.
conf() {
	{
		printf 'DB_PATH=%s\nBACKUP_DIR=%s\n' "$T/app.db" "$T/b"
		printf 'OFFSITE=%s\nSIGN_WITH=%s\n' "$T/remote" "$T/signing-key"
		printf 'DRILL_EVERY=0\n'
		printf '%s\n' "$@"
	} >"$VB_CONF"
}

# nights N: N nightly runs, each after the application wrote some rows.
nights() {
	local k
	for k in $(seq "$1"); do
		filldb app.db 1
		vb_backup 2>/dev/null || return 1
		sleep 0.01
	done
}

# newest [DIR]: the newest backup archive's name in DIR (default b).
newest() {
	find "${1:-b}" -name 'backup-*.tar*' -printf '%f\n' | sort | tail -n1
}

# forge ARCHIVE: the archive's database with one more admin, its
# MANIFEST rebuilt to match (size, SHA-256), no signature: what someone
# who can write to the bucket makes.
forge() {
	local a=$1 x stem
	x=$(mktemp -d "$T/forge.XXXX")
	stem=$(basename "${a%%.tar*}")
	tar -xf "$a" -C "$x"
	sqlite3 "$x/$stem.db" "CREATE TABLE IF NOT EXISTS admins(name);
	    INSERT INTO admins VALUES ('mallory')"
	sed -i -e "s/^db-bytes: .*/db-bytes: $(stat -c %s "$x/$stem.db")/" \
	    -e "s/^db-sha256: .*/db-sha256: $(sha256sum "$x/$stem.db" |
	    cut -d' ' -f1)/" "$x/MANIFEST"
	tar --zstd -cf "$a" -C "$x" MANIFEST "$stem.db"
	rm -rf "$x"
}

# restore_from_remote NAME: the remote's NAME into r.db, as someone
# with the verify key restores it.
restore_from_remote() {
	vb-restore --offsite --verify-with off/vb.pub --to "$T/r.db" "$1"
}

# allowed: ssh-keygen's allowed signers file for the verify key, as the
# README writes it.
allowed() {
	printf 'vb namespaces="vb" %s\n' "$(cat "$T/off/vb.pub")" >"$T/allowed"
}

@test "signatures: every manifest is signed (full, delta, pre-restore) and so is the catalog; ssh-keygen -Y verify checks them as the README says" {
	slow
	conf FULL_EVERY=7d
	nights 3
	allowed
	mkdir x
	for a in "b/$(find b -name 'backup-*Z.tar.zst' -printf '%f\n' | head -n1)" \
	    "b/$(newest)"; do
		tar -xf "$a" -C x MANIFEST MANIFEST.sig
		ssh-keygen -Y verify -f allowed -I vb -n vb -s x/MANIFEST.sig \
		    <x/MANIFEST
		grep -qx "name: $(basename "${a%%.*}")" x/MANIFEST
		# MANIFEST first, the database (or a delta's entries) next.
		[ "$(tar -tf "$a" | head -n1)" = MANIFEST ]
		[ "$(tar -tf "$a" | tail -n1)" = MANIFEST.sig ]
	done
	[[ $(newest) == *.delta.tar.zst ]]
	# The catalog lists every archive, here and on the remote.
	ssh-keygen -Y verify -f allowed -I vb -n vb -s b/vb-catalog.sig \
	    <b/vb-catalog
	[ "$(grep -c '^backup: ' b/vb-catalog)" -eq 3 ]
	cmp b/vb-catalog remote/vb-catalog
	cmp b/vb-catalog.sig remote/vb-catalog.sig
	# A pre-restore copy is signed too.
	run --separate-stderr vb-restore --db app.db "b/$(newest)"
	[ "$status" -eq 0 ]
	p=$(find b -name 'pre-restore-*.tar.zst')
	tar -xf "$p" -C x MANIFEST MANIFEST.sig
	ssh-keygen -Y verify -f allowed -I vb -n vb -s x/MANIFEST.sig <x/MANIFEST
	# And each restores with the verify key.
	run --separate-stderr vb-restore --verify-with off/vb.pub \
	    --to "$T/r.db" "b/$(newest)"
	[ "$status" -eq 0 ]
}

@test "signatures: a forged archive on the remote (its manifest rebuilt), restored on a new host, is refused; so is one that kept the old signature" {
	slow
	conf
	nights 2
	name=$(newest)
	rm -rf b			# the host is lost
	forge "remote/$name"
	run --separate-stderr restore_from_remote "$name"
	[ "$status" -eq 1 ]
	# Refused before it is read: not the SHA-256 the catalog lists (its
	# signature is checked too, when the catalog is not there: below).
	[[ $stderr == *"is not the archive the signed catalog lists"*"refused, nothing read"* ]]
	[ ! -e r.db ]
	run --separate-stderr vb-restore --verify-with off/vb.pub --unrecorded \
	    --to "$T/r.db" "remote/$name"
	[ "$status" -eq 1 ]
	[[ $stderr == *"$name is not signed (no MANIFEST.sig)"*"refused"* ]]
	[ ! -e r.db ]
	# The genuine signature beside the forged database: not its.
	rm -rf b
	vb_backup 2>/dev/null
	name=$(newest)
	mkdir x
	tar -xf "remote/$name" -C x MANIFEST.sig
	forge "remote/$name"
	stem=${name%%.*}
	mkdir y
	tar -xf "remote/$name" -C y
	cp x/MANIFEST.sig y/
	tar --zstd -cf "remote/$name" -C y MANIFEST "$stem.db" MANIFEST.sig
	rm -rf b
	run --separate-stderr restore_from_remote "$name"
	[ "$status" -eq 1 ]
	[[ $stderr == *"is not the archive the signed catalog lists"* || $stderr == *"is larger than the "*" bytes the signed catalog"* ]]
	run --separate-stderr vb-restore --verify-with off/vb.pub --unrecorded \
	    --to "$T/r.db" "remote/$name"
	echo "$stderr"
	[ "$status" -eq 1 ]
	[[ $stderr == *"$name: not signed by off/vb.pub (ssh-keygen failed"*"incorrect signature): forged or altered; refused"* ]]
	[ ! -e r.db ]
}

@test "signatures: an old genuine archive renamed as the newest is refused, its entries renamed too" {
	slow
	conf
	nights 2
	old=$(find remote -name 'backup-*' -printf '%f\n' | sort | head -n1)
	new=$(newest remote)
	# Renamed as it is: its database entry names the old backup.
	cp "remote/$old" "remote/$new"
	rm -rf b
	run --separate-stderr restore_from_remote "$new"
	[ "$status" -eq 1 ]
	[ ! -e r.db ]
	# Renamed inside too, its genuine signed manifest kept: the signed
	# name and time are the old backup's.
	mkdir x
	tar -xf "remote/$old" -C x
	mv "x/${old%%.*}.db" "x/${new%%.*}.db"
	tar --zstd -cf "remote/$new" -C x MANIFEST "${new%%.*}.db" MANIFEST.sig
	run --separate-stderr restore_from_remote "$new"
	[ "$status" -eq 1 ]
	[[ $stderr == *"is not the archive the signed catalog lists"* ]]
	run --separate-stderr vb-restore --verify-with off/vb.pub --unrecorded \
	    --to "$T/r.db" "remote/$new"
	[ "$status" -eq 1 ]
	[[ $stderr == *"$new: its signed manifest is of ${old%%.*}"*"an older backup renamed as this one; refused"* ]]
	[ ! -e r.db ]
}

@test "signatures: the newest backups deleted from the remote are reported by --list --offsite --verify-with; a catalog replaced by an older genuine one is refused" {
	slow
	conf
	nights 2
	cp remote/vb-catalog old-catalog
	cp remote/vb-catalog.sig old-catalog.sig
	nights 1
	run --separate-stderr vb-restore --list --offsite --verify-with \
	    off/vb.pub --fields
	[ "$status" -eq 0 ]
	[ "$(cut -f12 <<<"$output" | grep -c '^listed$')" -eq 3 ]
	# The newest deleted: missing, named.
	gone=$(newest remote)
	rm "remote/$gone"
	run --separate-stderr vb-restore --list --offsite --verify-with off/vb.pub
	[ "$status" -eq 1 ]
	[[ $stderr == *"$T/remote/$gone: MISSING: the signed catalog"*"lists it, $T/remote does not hold it"* ]]
	[[ $output == *"$gone"$'\t'list$'\t'failed*"MISSING"* ]]
	# An older genuine catalog hides it: a rollback this host has seen.
	cp old-catalog remote/vb-catalog
	cp old-catalog.sig remote/vb-catalog.sig
	name=$(newest remote)
	run --separate-stderr restore_from_remote "$name"
	[ "$status" -eq 1 ]
	[[ $stderr == *"older than"*"which this host has seen"*"a rollback"* ]]
	[ ! -e r.db ]
	# An archive the catalog does not list (planted), refused.
	cp "remote/$name" "remote/backup-2030-01-01T01-00-00-000Z.tar.zst"
	mkdir x
	tar -xf "remote/$name" -C x
	run --separate-stderr vb-restore --offsite --verify-with off/vb.pub \
	    --verify-only backup-2030-01-01T01-00-00-000Z.tar.zst
	[ "$status" -eq 1 ]
}

@test "signatures: a flipped byte in a signature is refused; a truncated or oversized MANIFEST.sig is refused as such" {
	slow
	conf
	nights 1
	name=$(newest)
	stem=${name%%.*}
	mkdir x
	tar -xf "b/$name" -C x
	cp x/MANIFEST.sig good.sig
	# One character of the signature changed for another.
	c=$(cut -c 10 <<<"$(sed -n 3p good.sig)")
	sed "3s/^\(.\{9\}\)./\1$([ "$c" = A ] && echo B || echo A)/" \
	    good.sig >x/MANIFEST.sig
	run ! cmp -s good.sig x/MANIFEST.sig
	tar --zstd -cf "b/$name" -C x MANIFEST "$stem.db" MANIFEST.sig
	run --separate-stderr vb-restore --verify-with off/vb.pub \
	    --verify-only "b/$name"
	[ "$status" -eq 1 ]
	[[ $stderr == *"$name: not signed by off/vb.pub"*"forged or altered"* ]]
	# A byte flipped out of the armour's alphabet: not a signature.
	cp good.sig x/MANIFEST.sig
	flip_byte x/MANIFEST.sig 100
	tar --zstd -cf "b/$name" -C x MANIFEST "$stem.db" MANIFEST.sig
	run --separate-stderr vb-restore --verify-only "b/$name"
	[ "$status" -eq 1 ]
	[[ $stderr == *"MANIFEST.sig: the signature is not text"* ]]
	head -c 120 good.sig >x/MANIFEST.sig
	tar --zstd -cf "b/$name" -C x MANIFEST "$stem.db" MANIFEST.sig
	run --separate-stderr vb-restore --verify-only "b/$name"
	[ "$status" -eq 1 ]
	[[ $stderr == *"MANIFEST.sig: the signature is truncated or not an SSH signature"* ]]
	head -c 5000 /dev/zero | tr '\0' A >x/MANIFEST.sig
	tar --zstd -cf "b/$name" -C x MANIFEST "$stem.db" MANIFEST.sig
	run --separate-stderr vb-restore --verify-only "b/$name"
	[ "$status" -eq 1 ]
	[[ $stderr == *"MANIFEST.sig is oversized (5000 bytes"*"refused"* ]]
}

@test "signatures: --table and --diff with --verify-with refuse an unsigned archive and take a signed one" {
	slow
	conf
	sed -i '/^SIGN_WITH=/d' "$VB_CONF"
	nights 1
	unsigned=$(newest)
	echo "SIGN_WITH=$T/signing-key" >>"$VB_CONF"
	nights 1
	signed=$(newest)
	run --separate-stderr vb-restore --verify-with off/vb.pub --table \
	    ledger --db app.db "b/$unsigned"
	[ "$status" -eq 1 ]
	[[ $stderr == *"$unsigned is not signed (no MANIFEST.sig)"* ]]
	run --separate-stderr vb-restore --verify-with off/vb.pub --diff \
	    --db app.db "b/$signed"
	[ "$status" -eq 0 ]
	run --separate-stderr vb-restore --verify-with off/vb.pub --table \
	    ledger --db app.db "b/$signed"
	[ "$status" -eq 0 ]
}

@test "signatures: an encrypted, signed chain of deltas comes back from the remote with both keys, and not with the wrong verify key" {
	slow
	age-keygen -o "$T/off/age.key" 2>/dev/null
	age-keygen -y "$T/off/age.key" >recipients.txt
	conf FULL_EVERY=7d "ENCRYPT_TO=$T/recipients.txt"
	nights 4
	name=$(newest)
	[[ $name == *.delta.tar.zst.age ]]
	sqlite3 app.db "SELECT count(*) FROM ledger" >want
	rm -rf b
	run --separate-stderr vb-restore --offsite -i off/age.key \
	    --verify-with off/vb.pub --to "$T/r.db" "$name"
	echo "$stderr"
	[ "$status" -eq 0 ]
	[ "$(sqlite3 r.db "SELECT count(*) FROM ledger")" = "$(cat want)" ]
	ssh-keygen -q -t ed25519 -N '' -f other
	rm -rf b r.db
	run --separate-stderr vb-restore --offsite -i off/age.key \
	    --verify-with other.pub --to "$T/r.db" "$name"
	[ "$status" -eq 1 ]
	[ ! -e r.db ]
}

@test "signatures: without SIGN_WITH, a forged archive is refused by the BackupLog of the live database (--db and --verify-only), --force or not" {
	slow
	conf
	sed -i '/^SIGN_WITH=/d' "$VB_CONF"
	nights 2
	name=$(newest)
	sum=$(sqlite3 app.db "SELECT sha256 FROM BackupLog WHERE
	    operation = 'compress' AND filename LIKE '%$name'")
	[ -n "$sum" ]
	forge "b/$name"
	before=$(sqlite3 app.db "SELECT count(*) FROM ledger")
	run --separate-stderr vb-restore --db app.db "b/$name"
	echo "$stderr"
	[ "$status" -eq 1 ]
	[[ $stderr == *"$name is not the archive that was made: BackupLog in app.db recorded SHA-256 $sum for it"*"replaced or altered since; refused, nothing changed"* ]]
	[ "$(sqlite3 app.db "SELECT count(*) FROM ledger")" = "$before" ]
	[ -z "$(sqlite3 app.db "SELECT name FROM sqlite_master WHERE name = 'admins'")" ]
	run --separate-stderr vb-restore --verify-only "b/$name"
	[ "$status" -eq 1 ]
	# The remote's genuine copy is fetched instead of the forged local one.
	run --separate-stderr vb-restore --offsite --to "$T/r.db" "$name"
	[ "$status" -eq 0 ]
	[[ $stderr == *"the local $T/b/$name failed verification"* ]]
	[ -z "$(sqlite3 r.db "SELECT name FROM sqlite_master WHERE name = 'admins'")" ]
	# Putting one table back from it, or comparing with it: refused too.
	run --separate-stderr vb-restore --table ledger --db app.db "b/$name"
	[ "$status" -eq 1 ]
	[[ $stderr == *"$name is not the archive that was made"* ]]
	[ "$(sqlite3 app.db "SELECT count(*) FROM ledger")" = "$before" ]
	run --separate-stderr vb-restore --diff --db app.db "b/$name"
	[ "$status" -eq 1 ]
	[[ $stderr == *"$name is not the archive that was made"* ]]
	# --force replaces a file or another database's backup; it never
	# waives a tamper check.
	run --separate-stderr vb-restore --force --db app.db "b/$name"
	[ "$status" -eq 1 ]
	[ -z "$(sqlite3 app.db "SELECT name FROM sqlite_master WHERE name = 'admins'")" ]
	# --check says the remote can be forged, and how to make a key.
	run --separate-stderr vb_backup --check
	[[ $output == *"warn  signatures"*"OFFSITE without SIGN_WITH"*"ssh-keygen -t ed25519"* ]]
}

@test "signatures: bad keys are configuration errors at --check and at the start of the run; a signing key others can read fails --check" {
	slow
	conf
	# A public key where the private one goes, a passphrase, an RSA key.
	for k in rsa pass pub; do
		case $k in
		rsa) ssh-keygen -q -t rsa -b 2048 -N '' -f "$T/k" ;;
		pass) ssh-keygen -q -t ed25519 -N 'secret' -f "$T/k" ;;
		pub) ssh-keygen -q -t ed25519 -N '' -f "$T/k"
		     cp "$T/k.pub" "$T/k" ;;
		esac
		sed -i "s|^SIGN_WITH=.*|SIGN_WITH=$T/k|" "$VB_CONF"
		run --separate-stderr vb_backup
		[ "$status" -eq 2 ]
		[[ $stderr == *"SIGN_WITH: $T/k "* ]]
		[ ! -d b ] || [ -z "$(find b -name 'backup-*')" ]
		run --separate-stderr vb_backup --check
		[ "$status" -eq 1 ]
		[[ $output == *"FAIL  configuration"*"SIGN_WITH"* ]]
		rm -f "$T/k" "$T/k.pub"
	done
	# VERIFY_WITH: a private key, or no key at all.
	sed -i "s|^SIGN_WITH=.*|SIGN_WITH=$T/signing-key|" "$VB_CONF"
	echo "VERIFY_WITH=$T/signing-key" >>"$VB_CONF"
	run --separate-stderr vb-restore --list b
	[ "$status" -eq 2 ]
	[[ $stderr == *"VERIFY_WITH: $T/signing-key is a private key: give its .pub"* ]]
	sed -i '$d' "$VB_CONF"
	echo hello >notakey.pub
	run --separate-stderr vb-restore --verify-with notakey.pub --list b
	[ "$status" -eq 2 ]
	[[ $stderr == *"notakey.pub is not an Ed25519 public key"* ]]
	# Readable by others: --check fails, and says how to fix it.
	nights 1
	chmod 644 signing-key
	run --separate-stderr vb_backup --check
	[ "$status" -eq 1 ]
	[[ $output == *"FAIL  signatures"*"$T/signing-key"*"chmod 600"* ]]
	chmod 600 signing-key
	run --separate-stderr vb_backup --check
	[[ $output == *"ok    signatures"* ]]
}

@test "signatures: a catalog with an entry listed twice, or out of order, is refused even when its signature is good" {
	slow
	conf
	nights 2
	allowed
	name=$(newest)
	cp b/vb-catalog genuine
	for how in twice order; do
		cp genuine c
		case $how in
		twice) grep '^backup: ' genuine | tail -n1 >>c ;;
		order) { head -n4 genuine
			 grep '^backup: ' genuine | sort -r; } >c ;;
		esac
		ssh-keygen -Y sign -f signing-key -n vb -q <c >c.sig
		ssh-keygen -Y verify -f allowed -I vb -n vb -s c.sig <c
		cp c b/vb-catalog
		cp c.sig b/vb-catalog.sig
		run --separate-stderr vb-restore --verify-with off/vb.pub \
		    --verify-only "b/$name"
		echo "$stderr"
		[ "$status" -eq 1 ]
		case $how in
		twice) [[ $stderr == *"is listed twice; refused"* ]] ;;
		order) [[ $stderr == *"is out of order; refused"* ]] ;;
		esac
	done
}
