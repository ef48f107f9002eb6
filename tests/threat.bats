#!/usr/bin/env bats
# The threat model (docs/DESIGN.md, "Threat model"), one test per promise,
# each playing the attacker: a local user without privileges (nobody, by
# setpriv) who owns the metrics directory or the application's files,
# and someone who holds the remote's write key (rclone's local backend as
# the bucket).  Every attack here once worked; each must now be refused
# with nothing changed on the host.

# shellcheck disable=SC2154 # bats' run --separate-stderr sets $stderr
bats_require_minimum_version 1.5.0
load helpers

setup() {
	vb_setup
	export RCLONE_CONFIG=$T/rclone.conf	# none: nothing of the machine's
	chmod 755 "$T"
	mkdb app.db wal 200
	filldb app.db 2
	mkdir -m 700 b
}

# conf [MORE LINES]: the nightly of app.db into b, no drill.
conf() {
	{
		printf 'DB_PATH=%s\nBACKUP_DIR=%s\nDRILL_EVERY=0\n' "$T/app.db" \
		    "$T/b"
		printf '%s\n' "$@"
	} >"$VB_CONF"
}

# as_attacker CMD...: CMD as nobody.
as_attacker() {
	setpriv --reuid=nobody --regid=nogroup --clear-groups "$@"
}

# forge ARCHIVE: its database given an admin and its MANIFEST rebuilt to
# match, no signature: what the bucket's write key makes.
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

# newest: the newest backup archive's name in b.
newest() {
	find b -name 'backup-*.tar*' -printf '%f\n' | sort | tail -n1
}

# ---- a local user without privileges ----

@test "threat: links planted in the metrics directory (the exporter's) are replaced, never followed; nothing of the old file is carried over" {
	slow
	mkdir -m 755 prom
	chown nobody prom
	printf 'root only\n' >secret
	chmod 600 secret
	conf "METRICS_FILE=$T/prom/vb.prom"
	# Links for the PIDs the job may take, and for the file itself.
	pid=$(cat /proc/sys/kernel/ns_last_pid)
	for i in $(seq 1 200); do
		as_attacker ln -s "$T/secret" "prom/.vb.prom.$((pid + i)).tmp"
	done
	as_attacker ln -s "$T/secret" prom/vb.prom.old
	# shellcheck disable=SC2016 # the attacker's text, never expanded
	printf 'vb_backup_last_success_timestamp_seconds{db="x"} BASH_VERSINFO[$(touch %s/pwned)]\n' \
	    "$T" | as_attacker tee prom/vb.prom >/dev/null
	run --separate-stderr vb_backup
	[ "$status" -eq 0 ]
	[ "$(cat secret)" = "root only" ]
	[ "$(stat -c %a secret)" = 600 ]
	[ ! -L prom/vb.prom ]
	[ "$(stat -c '%a %U' prom/vb.prom)" = "644 root" ]
	run ! grep -q BASH_VERSINFO prom/vb.prom
	grep -q '^vb_backup_last_run_success{' prom/vb.prom
	# The file itself a link to a root file: replaced, target intact.
	rm -f prom/vb.prom
	as_attacker ln -s "$T/secret" prom/vb.prom
	run --separate-stderr vb_backup
	[ "$status" -eq 0 ]
	[ "$(cat secret)" = "root only" ]
	[ ! -L prom/vb.prom ]
	[ ! -e pwned ]
	# A directory anyone may write, without the sticky bit: refused.
	chmod 777 prom
	run --separate-stderr vb_backup
	[[ $stderr == *"anyone may write it and replace what vb writes there"* ]]
}

@test "threat: vb-backup --check evaluates nothing read from the metrics file (the arithmetic payload)" {
	mkdir -m 755 prom
	chown nobody prom
	conf "METRICS_FILE=$T/prom/vb.prom"
	# No successful backup in BackupLog: the path that read the file.
	for m in last_success_timestamp_seconds last_run_end_timestamp_seconds \
	    last_verified_restore_timestamp_seconds; do
		# shellcheck disable=SC2016 # the attacker's text
		printf 'vb_backup_%s{db="x"} BASH_VERSINFO[$(touch %s/pwned)]\n' \
		    "$m" "$T"
	done | as_attacker tee prom/vb.prom >/dev/null
	run --separate-stderr vb_backup --check
	[ ! -e pwned ]
	[[ $output == *"no successful backup recorded (BackupLog)"* ]]
	run --separate-stderr vb_backup --drill
	[ ! -e pwned ]
}

@test "threat: a backup directory others may write, or another user's, is refused; a planted lock link is not followed; a future-dated backup stops no retention" {
	mkdir -m 777 open
	conf
	sed -i "s|^BACKUP_DIR=.*|BACKUP_DIR=$T/open|" "$VB_CONF"
	run --separate-stderr vb_backup
	[ "$status" -eq 1 ]
	[[ $stderr == *"writable by its group or by others (mode 777)"* ]]
	[ -z "$(ls -A open)" ]
	# A lock link left from the days the directory was open.
	conf
	printf 'root only\n' >secret
	chmod 600 secret
	ln -s "$T/secret" b/.vb.lock
	run --separate-stderr vb_backup
	[ "$status" -eq 1 ]
	[[ $stderr == *"cannot open the lock file $T/b/.vb.lock: it is a symbolic link (remove it)"* ]]
	[ "$(cat secret)" = "root only" ]
	rm b/.vb.lock
	# backup-2099-...: retention goes on around it.
	conf MAX_BACKUPS=1 KEEP_DAILY=0
	echo planted >b/backup-2099-01-01T01-00-00-000Z.tar.zst
	for _ in 1 2 3; do
		vb_backup 2>/dev/null
		sleep 0.01
	done
	[ "$(find b -name 'backup-20[0-8]*' | wc -l)" -eq 1 ]
	[ -f b/backup-2099-01-01T01-00-00-000Z.tar.zst ]
}

@test "threat: an application database swapped for a link to a root-only one is never written through" {
	mkdir -m 700 root-only
	sqlite3 root-only/secret.db "CREATE TABLE t(x); INSERT INTO t VALUES (1)"
	sum=$(sha256sum root-only/secret.db)
	mkdir -m 755 appdir
	chown nobody appdir
	cp app.db appdir/app.db
	chown nobody appdir/app.db
	conf
	sed -i "s|^DB_PATH=.*|DB_PATH=$T/appdir/app.db|" "$VB_CONF"
	vb_backup 2>/dev/null
	a=$(newest)
	as_attacker rm -f appdir/app.db
	as_attacker ln -s "$T/root-only/secret.db" appdir/app.db
	run --separate-stderr vb_backup
	[ "$(sha256sum root-only/secret.db)" = "$sum" ]
	run --separate-stderr vb-restore --force --db appdir/app.db "b/$a"
	[ "$status" -eq 1 ]
	[[ $stderr == *"symbolic link made by uid 65534"* ]]
	[ "$(sha256sum root-only/secret.db)" = "$sum" ]
}

@test "threat: root's environment chooses neither the programs vb runs nor the checks it skips" {
	ssh-keygen -q -t ed25519 -N '' -f "$T/k"
	mkdir off
	mv "$T/k.pub" off/vb.pub
	conf "SIGN_WITH=$T/k"
	vb_backup 2>/dev/null
	a=$(newest)
	forge "b/$a"
	before=$(sqlite3 app.db 'SELECT count(*) FROM ledger')
	for v in VB_SSH_KEYGEN VB_AGE VB_RCLONE; do
		run --separate-stderr env "$v=/bin/true" vb-restore \
		    --verify-with off/vb.pub --db app.db "b/$a"
		[ "$status" -eq 1 ]
		[ "$(sqlite3 app.db 'SELECT count(*) FROM ledger')" = "$before" ]
	done
	[ -z "$(sqlite3 app.db "SELECT name FROM sqlite_master WHERE name = 'admins'")" ]
}

# ---- whoever holds the remote's write key ----

@test "threat: without signatures, an archive planted on the remote under a newer name is marked unrecorded and refused; --force waives no tamper check" {
	conf "OFFSITE=$T/remote"
	vb_backup 2>/dev/null
	a=$(newest)
	# The forger's copy, a name newer than any night.
	p=backup-2030-01-01T01-00-00-000Z.tar.zst
	cp "b/$a" "$T/$p.x"
	forge "$T/$p.x"
	cp "$T/$p.x" "remote/$p"
	run --separate-stderr vb-restore --list --offsite --fields
	[ "$status" -eq 1 ]
	[[ $(grep "/$p	" <<<"$output" | cut -f14) == unrecorded ]]
	run --separate-stderr vb-restore --list --offsite
	[[ $output$stderr == *"UNRECORDED"* ]]
	before=$(sqlite3 app.db 'SELECT count(*) FROM ledger')
	for f in "" --force; do
		run --separate-stderr vb-restore $f --offsite --db app.db "$p"
		[ "$status" -eq 1 ]
		[[ $stderr == *"never recorded a backup of that name"* ]]
	done
	[ -z "$(sqlite3 app.db "SELECT name FROM sqlite_master WHERE name = 'admins'")" ]
	[ "$(sqlite3 app.db 'SELECT count(*) FROM ledger')" = "$before" ]
	# Nothing fetched was kept, so retention is not frozen.
	[ ! -e "b/$p" ]
	# Knowingly: --unrecorded; a manifest of unknown source still needs
	# --force to go over the database.
	run --separate-stderr vb-restore --unrecorded --offsite --to "$T/r.db" "$p"
	[ "$status" -eq 0 ]
	[ "$(sqlite3 r.db 'SELECT name FROM admins')" = mallory ]
}

@test "threat: with signatures, the catalog keeps the remote's history when the local backups (and catalog) are lost" {
	slow
	ssh-keygen -q -t ed25519 -N '' -f "$T/k"
	mkdir off
	mv "$T/k.pub" off/vb.pub
	conf "OFFSITE=$T/remote" "SIGN_WITH=$T/k"
	vb_backup 2>/dev/null
	old=$(newest)
	sleep 0.01
	filldb app.db 1
	vb_backup 2>/dev/null
	# The disk is lost: backups, catalog, all; the next night runs.
	rm -rf b
	mkdir -m 700 b
	sleep 0.01
	vb_backup 2>/dev/null
	run --separate-stderr vb-restore --offsite --verify-with off/vb.pub \
	    --to "$T/r.db" "$old"
	echo "$stderr"
	[ "$status" -eq 0 ]
	grep -q "backup: $old " remote/vb-catalog
}

@test "threat: a catalog rolled back on the remote is refused on the signing host itself; a new host is shown an old catalog's age" {
	slow
	ssh-keygen -q -t ed25519 -N '' -f "$T/k"
	mkdir off
	mv "$T/k.pub" off/vb.pub
	conf "OFFSITE=$T/remote" "SIGN_WITH=$T/k"
	vb_backup 2>/dev/null
	cp remote/vb-catalog remote/vb-catalog.sig "$T/"
	sleep 0.01
	filldb app.db 1
	vb_backup 2>/dev/null
	new=$(newest)
	# The bucket's key puts the older catalog back.
	cp "$T/vb-catalog" "$T/vb-catalog.sig" remote/
	run --separate-stderr vb-restore --offsite --verify-with off/vb.pub \
	    --to "$T/r.db" "$new"
	[ "$status" -eq 1 ]
	[[ $stderr == *"older than"*"which this host has seen"*"a rollback"* ]]
	# A new host: no floor, but the catalog's age is said (one signed
	# three days ago, as the signer would have).
	old=$(date -u -d '3 days ago' +%Y-%m-%dT%H:%M:%S.000Z)
	sed -i "s/^written: .*/written: $old/" remote/vb-catalog
	rm -f remote/vb-catalog.sig
	ssh-keygen -q -Y sign -n vb -f "$T/k" remote/vb-catalog
	mkdir -m 700 newhost
	run --separate-stderr env BACKUP_DIR="$T/newhost" vb-restore --list \
	    --offsite --verify-with off/vb.pub
	[[ $stderr == *"signed catalog (sequence "*") was written $old, 7"[0-9]" h ago: older than two nights"* ]]
}

@test "threat: fetches are bounded before they start: an oversized catalog, a larger archive than listed, a forged one refused before it is decompressed" {
	ssh-keygen -q -t ed25519 -N '' -f "$T/k"
	mkdir off
	mv "$T/k.pub" off/vb.pub
	conf "OFFSITE=$T/remote" "SIGN_WITH=$T/k"
	vb_backup 2>/dev/null
	a=$(newest)
	cp remote/vb-catalog "$T/cat.keep"
	# A catalog of 120 MiB: refused at its limit, never whole.
	head -c $((120 * 1024 * 1024)) /dev/zero >remote/vb-catalog
	run --separate-stderr vb-restore --offsite --verify-with off/vb.pub \
	    --to "$T/r.db" "$a"
	[ "$status" -eq 1 ]
	[[ $stderr == *"larger than the"* ]]
	[ -z "$(find b -name '.vb-tmp-*')" ]
	cp "$T/cat.keep" remote/vb-catalog
	# The archive replaced by a bomb: its SHA-256 is not the catalog's,
	# refused before a byte is decompressed, nothing kept.
	x=$(mktemp -d "$T/bomb.XXXX")
	stem=${a%%.tar*}
	tar -xf "remote/$a" -C "$x" MANIFEST
	head -c $((150 * 1024 * 1024)) /dev/zero >"$x/$stem.db"
	tar --zstd -cf "remote/$a" -C "$x" MANIFEST "$stem.db"
	rm -rf "$x"
	rm -f "b/$a"
	run --separate-stderr vb-restore --offsite --verify-with off/vb.pub \
	    --to "$T/r.db" "$a"
	[ "$status" -eq 1 ]
	[[ $stderr == *"is not the archive the signed catalog lists"*"nothing read, nothing kept"* ]]
	[ ! -e r.db ]
	[ -z "$(find b -name '.vb-tmp-*' -o -name "$a")" ]
}

@test "threat: a manifest that claims more than the free space is refused before a byte is written" {
	conf
	vb_backup 2>/dev/null
	a=$(newest)
	x=$(mktemp -d "$T/big.XXXX")
	stem=${a%%.tar*}
	tar -xf "b/$a" -C "$x"
	truncate -s 64M "$x/$stem.db"
	sed -i -e "s/^db-bytes: .*/db-bytes: $(stat -c %s "$x/$stem.db")/" \
	    -e "s/^db-sha256: .*/db-sha256: $(sha256sum "$x/$stem.db" |
	    cut -d' ' -f1)/" "$x/MANIFEST"
	tar --zstd -cf "$T/$a" -C "$x" MANIFEST "$stem.db"
	small_fs 8m
	run --separate-stderr env VB_CONF=/dev/null vb-restore \
	    --to "$MNT/r.db" "$T/$a"
	[ "$status" -eq 1 ]
	[[ $stderr == *"more than the"*"free where it would be restored: refused before a byte is written"* ]]
	[ "$(count_files "$MNT")" -eq 0 ]
}

@test "threat: the drill proves nothing the key did not sign: a forged remote copy fails it" {
	ssh-keygen -q -t ed25519 -N '' -f "$T/k"
	mkdir off
	mv "$T/k.pub" off/vb.pub
	conf "OFFSITE=$T/remote" "SIGN_WITH=$T/k" "VERIFY_WITH=$T/off/vb.pub"
	vb_backup 2>/dev/null
	a=$(newest)
	forge "remote/$a"
	run --separate-stderr vb-restore --drill --offsite "$a"
	[ "$status" -eq 1 ]
	[[ $output == *"	verify	failed	"* ]]
	[ "$(sqlite3 app.db "SELECT count(*) FROM BackupLog WHERE
	    operation = 'verify' AND status = 'success'")" -eq 0 ]
	# Without signatures, BackupLog vouches the same way.
	sed -i '/^VERIFY_WITH=/d; /^SIGN_WITH=/d' "$VB_CONF"
	run --separate-stderr vb-restore --drill --offsite "$a"
	[ "$status" -eq 1 ]
}

@test "threat: a crafted local catalog cannot overflow its sequence; a crafted seen file is not a number" {
	ssh-keygen -q -t ed25519 -N '' -f "$T/k"
	conf "SIGN_WITH=$T/k"
	vb_backup 2>/dev/null
	sed -i 's/^sequence: .*/sequence: 9223372036854775807/' b/vb-catalog
	run --separate-stderr vb-prune --catalog -d b
	[ "$status" -eq 1 ]
	[[ $stderr == *"sequence cannot grow"* ]]
	grep -q '^sequence: 9223372036854775807$' b/vb-catalog
}

# ---- an emergency restore, on a host without the signing key ----

@test "threat: a missing or readable SIGN_WITH key blocks no restore and no listing; a renamed encrypted archive names its entry, not the key" {
	ssh-keygen -q -t ed25519 -N '' -f "$T/k"
	age-keygen -o key.txt 2>/dev/null
	age-keygen -y key.txt >recipients.txt
	conf "SIGN_WITH=$T/k" "ENCRYPT_TO=$T/recipients.txt"
	vb_backup 2>/dev/null
	sleep 0.01
	filldb app.db 1
	vb_backup 2>/dev/null
	a=$(newest)
	chmod 644 "$T/k"
	run --separate-stderr vb-restore --list
	[ "$status" -eq 0 ]
	rm "$T/k"
	run --separate-stderr vb-restore -i key.txt --to "$T/r.db" "b/$a"
	[ "$status" -eq 0 ]
	run --separate-stderr vb-restore -i key.txt --db app.db "b/$a"
	[ "$status" -eq 0 ]
	[[ $stderr == *"the pre-restore copy is not signed"* ]]
	# The older archive renamed as the newest.
	older=$(find b -name 'backup-*.tar.zst.age' -printf '%f\n' | sort |
	    head -n1)
	cp "b/$older" "$T/backup-2030-01-01T00-00-00-000Z.tar.zst.age"
	run --separate-stderr env VB_CONF=/dev/null vb-restore -i key.txt \
	    --to "$T/r2.db" "$T/backup-2030-01-01T00-00-00-000Z.tar.zst.age"
	[ "$status" -eq 1 ]
	[[ $stderr != *"killed by signal"* ]]
	[[ $stderr == *"not backup-2030-01-01T00-00-00-000Z"* ]]
}

# ---- the review's findings (issue 35, second round) ----

@test "threat: --encrypt-existing encrypts only what BackupLog recorded: a planted plaintext archive on the remote is left as it is, never recorded, never restorable" {
	slow
	conf "OFFSITE=$T/remote"
	vb_backup 2>/dev/null
	a=$(newest)
	p=backup-2030-01-01T01-00-00-000Z.tar.zst
	cp "b/$a" "$T/$p.x"
	forge "$T/$p.x"
	cp "$T/$p.x" "remote/$p"
	age-keygen -o id.txt 2>/dev/null
	age-keygen -y id.txt >recipients.txt
	conf "OFFSITE=$T/remote" "ENCRYPT_TO=$T/recipients.txt"
	run --separate-stderr vb_backup --encrypt-existing
	[ "$status" -eq 1 ]
	[[ $stderr == *"$p: not encrypted: BackupLog in $T/app.db never recorded it: not one this job made (planted?)"* ]]
	# The real one encrypted; the planted one left, not vouched for.
	[ -f "remote/$a.age" ] && [ ! -e "remote/$a" ]
	[ -f "remote/$p" ] && [ ! -e "remote/$p.age" ]
	[ "$(sqlite3 app.db "SELECT count(*) FROM BackupLog WHERE status =
	    'success' AND filename LIKE '%$p%'")" -eq 0 ]
	run --separate-stderr vb-restore --offsite -i id.txt --to "$T/r.db" "$p"
	[ "$status" -eq 1 ]
	[ ! -e r.db ] && [ ! -e "b/$p" ]
	# A recorded name whose remote copy was replaced: not encrypted.
	vb_backup 2>/dev/null
	conf "OFFSITE=$T/remote"
	vb_backup 2>/dev/null
	n=$(find b -name 'backup-*.tar.zst' -printf '%f\n' | sort | tail -n1)
	cp "b/$n" "$T/n.x"
	forge "$T/n.x"
	cp "$T/n.x" "remote/$n"
	rm "b/$n"
	conf "OFFSITE=$T/remote" "ENCRYPT_TO=$T/recipients.txt"
	run --separate-stderr vb_backup --encrypt-existing
	[ "$status" -eq 1 ]
	[[ $stderr == *"$n is not the archive that was made: BackupLog recorded SHA-256"* ]]
	[ ! -e "remote/$n.age" ]
}

@test "threat: without a catalog, a fetch is bounded by what BackupLog recorded, and by the free space: the disk is never filled from the remote" {
	conf "OFFSITE=$T/remote"
	vb_backup 2>/dev/null
	a=$(newest)
	size=$(stat -c %s "b/$a")
	# The remote copy replaced by a bigger file, the local one gone.
	head -c $((40 * 1024 * 1024)) /dev/urandom >"remote/$a"
	rm "b/$a"
	run --separate-stderr vb-restore --offsite --to "$T/r.db" "$a"
	[ "$status" -eq 1 ]
	[[ $stderr == *"larger than the $size bytes"* ]]
	[ -z "$(find b -name '.vb-tmp-*' -o -name "$a")" ]
	# A new host (no BackupLog yet): the listing's size is the bound,
	# and it must fit in the free space, leaving some.
	small_fs 4M
	head -c $((8 * 1024 * 1024)) /dev/zero >"remote/$a"
	run --separate-stderr env VB_CONF=/dev/null OFFSITE="$T/remote" \
	    vb-restore -d "$MNT" --offsite --to "$T/r.db" "$a"
	[ "$status" -eq 1 ]
	[[ $stderr == *"more than $MNT can take and keep"*"refused before a byte was fetched"* ]]
	[ "$(count_files "$MNT")" -eq 0 ]
}

@test "threat: a name planted on the remote is never picked by the drill; the real newest backup is proven" {
	conf "OFFSITE=$T/remote"
	vb_backup 2>/dev/null
	a=$(newest)
	p=backup-2030-01-01T01-00-00-000Z.tar.zst
	cp "b/$a" "$T/$p.x"
	forge "$T/$p.x"
	cp "$T/$p.x" "remote/$p"
	run --separate-stderr vb_backup --drill
	[ "$status" -eq 0 ]
	[ "$(sqlite3 app.db "SELECT count(*) FROM BackupLog WHERE operation =
	    'verify' AND status = 'success' AND filename LIKE '%/$a'")" -ge 1 ]
	[ "$(sqlite3 app.db "SELECT count(*) FROM BackupLog WHERE
	    filename LIKE '%$p%'")" -eq 0 ]
}

@test "threat: BackupLog rows dated in the future (the application's account writing them) are read by nothing, and --check says so" {
	conf "METRICS_FILE=$T/vb.prom"
	vb_backup 2>/dev/null
	a=$(newest)
	chmod 666 app.db app.db-wal app.db-shm 2>/dev/null || chmod 666 app.db
	as_attacker sqlite3 app.db "INSERT INTO BackupLog(createdAt, operation,
	    status, filename, message) VALUES
	    ('2099-01-01T00:00:00.000Z', 'backup', 'success', '$T/b/$a', 'ok'),
	    ('2099-01-01T00:00:00.000Z', 'verify', 'success', '$T/b/$a',
	    'drill: restored and proven; drill=proven')"
	run --separate-stderr vb_backup --check
	[ "$status" -eq 1 ]
	[[ $output == *"BackupLog holds 2 row(s) dated in the future (the newest 2099-01-01T00:00:00.000Z)"* ]]
	[ -z "$(vb-log --last-drill app.db)" ]
	# The next run: the drill is due (no proof yet), the metrics true.
	conf "METRICS_FILE=$T/vb.prom" DRILL_EVERY=1h
	vb_backup 2>/dev/null
	[ "$(sqlite3 app.db "SELECT count(*) FROM BackupLog WHERE operation =
	    'verify' AND createdAt < '2099' AND message LIKE '%drill=proven'")" -ge 1 ]
	t=$(awk '$1 ~ /^vb_backup_last_success_timestamp_seconds/ {
	    printf "%d", $2 }' vb.prom)
	[ "$t" -gt 0 ] && [ "$t" -lt 4000000000 ]
}

@test "threat: a -wal or -journal put beside the --to target is refused, not applied to the restored copy" {
	conf
	vb_backup 2>/dev/null
	a=$(newest)
	for side in -wal -journal; do
		printf 'not a wal' >"$T/out.db$side"
		run --separate-stderr vb-restore --to "$T/out.db" "b/$a"
		[ "$status" -eq 1 ]
		[[ $stderr == *"$T/out.db$side is there: SQLite would apply it"* ]]
		[ ! -e "$T/out.db" ]
		rm "$T/out.db$side"
	done
	run --separate-stderr vb-restore --to "$T/out.db" "b/$a"
	[ "$status" -eq 0 ]
}

@test "threat: --encrypt-existing with SIGN_WITH: the catalog lists the encrypted names, and they restore under VERIFY_WITH" {
	slow
	ssh-keygen -q -t ed25519 -N '' -f "$T/k"
	mkdir off
	mv "$T/k.pub" off/vb.pub
	conf "OFFSITE=$T/remote" "SIGN_WITH=$T/k"
	vb_backup 2>/dev/null
	a=$(newest)
	age-keygen -o id.txt 2>/dev/null
	age-keygen -y id.txt >recipients.txt
	conf "OFFSITE=$T/remote" "SIGN_WITH=$T/k" "ENCRYPT_TO=$T/recipients.txt"
	run --separate-stderr vb_backup --encrypt-existing
	[ "$status" -eq 0 ] || { echo "$stderr"; return 1; }
	grep -q "backup: $a.age " b/vb-catalog
	run ! grep -q "backup: $a " b/vb-catalog
	grep -q "backup: $a.age " remote/vb-catalog
	run --separate-stderr vb-restore --verify-with off/vb.pub -i id.txt \
	    --to "$T/r.db" "b/$a.age"
	[ "$status" -eq 0 ] || { echo "$stderr"; return 1; }
	rm "b/$a.age"
	run --separate-stderr vb-restore --offsite --verify-with off/vb.pub \
	    -i id.txt --to "$T/r2.db" "$a.age"
	[ "$status" -eq 0 ] || { echo "$stderr"; return 1; }
	run --separate-stderr vb-restore --list --offsite --verify-with \
	    off/vb.pub
	[[ $output$stderr != *MISSING* ]]
}

@test "threat: a host that restored its database from the remote restores the same newest backup again, and drills without the signing key" {
	slow
	ssh-keygen -q -t ed25519 -N '' -f "$T/k"
	mkdir off
	mv "$T/k.pub" off/vb.pub
	conf "OFFSITE=$T/remote" "SIGN_WITH=$T/k"
	vb_backup 2>/dev/null
	sleep 0.01
	vb_backup 2>/dev/null
	a=$(newest)
	# A new host: the database lost, no signing key, its catalog's key.
	rm -rf b app.db app.db-wal app.db-shm
	mkdir -m 700 b
	conf "OFFSITE=$T/remote" "SIGN_WITH=$T/no-such-key" \
	    "VERIFY_WITH=$T/off/vb.pub"
	run --separate-stderr vb-restore --offsite --to "$T/app.db" "$a"
	[ "$status" -eq 0 ] || { echo "$stderr"; return 1; }
	# Its BackupLog is from before that backup's own row: the catalog,
	# and the restore's row, vouch for it.
	for how in "--to $T/again.db" "--db $T/app.db"; do
		# shellcheck disable=SC2086 # the option and its word
		run --separate-stderr vb-restore --offsite $how "$a"
		[ "$status" -eq 0 ] || { echo "$how: $stderr"; return 1; }
	done
	run --separate-stderr vb_backup --drill
	[ "$status" -eq 0 ] || { echo "$stderr"; return 1; }
	# Without the catalog's key: the restore's own row vouches.
	conf "OFFSITE=$T/remote"
	run --separate-stderr vb-restore --to "$T/third.db" "b/$a"
	[ "$status" -eq 0 ] || { echo "$stderr"; return 1; }
	run --separate-stderr vb_backup --drill
	[ "$status" -eq 0 ] || { echo "$stderr"; return 1; }
}

@test "threat: a disaster restore from the remote with no BackupLog and no signature says that nothing vouched for the copy (review of issue 38, F3)" {
	conf "OFFSITE=$T/remote"
	vb_backup 2>/dev/null
	a=$(newest)
	rm -rf b app.db app.db-wal app.db-shm
	run --separate-stderr vb-restore --offsite --to "$T/r.db" "$a"
	[ "$status" -eq 0 ]
	[[ $stderr == *"nothing vouched for $a: no BackupLog here names a backup and no signature was checked"* ]]
	# With the database's BackupLog, it vouches: nothing said.
	run --separate-stderr vb-restore --offsite --to "$T/app.db" "$a"
	[ "$status" -eq 0 ]
	run --separate-stderr vb-restore --offsite --to "$T/again.db" "$a"
	[ "$status" -eq 0 ]
	[[ $stderr != *"nothing vouched"* ]]
}
