#!/usr/bin/env bats
# vb-offsite, vb-prune --offsite, vb-restore --offsite and the nightly job
# with OFFSITE: real rclone, against its local backend and against a real
# SFTP server (sshd on 127.0.0.1, keys made here).

# shellcheck disable=SC2154 # bats' run --separate-stderr sets $stderr
# shellcheck disable=SC2030,SC2031 # BG_PIDS: teardown runs in the test's shell
bats_require_minimum_version 1.5.0
load helpers

setup() {
	vb_setup
	export RCLONE_CONFIG=$T/rclone.conf	# none: nothing of the machine's
	export OFFSITE_RETRIES=1
	mkdb app.db wal
	sqlite3 app.db "INSERT INTO ledger(account, amount, note)
	    VALUES (1, 0, 'MARKER-offsite-4711')"
}

teardown() {
	[ -z "${SSHD_PID:-}" ] || kill "$SSHD_PID" 2>/dev/null || true
	vb_teardown
}

conf() {	# conf OFFSITE [MORE LINES]
	printf 'DB_PATH=%s\nBACKUP_DIR=%s\nOFFSITE=%s\nMETRICS_FILE=%s\n' \
	    "$T/app.db" "$T/backups" "$1" "$T/vb.prom" >"$VB_CONF"
	shift
	printf '%s\n' "$@" >>"$VB_CONF"
}

# wait_port PORT PID: 0 once 127.0.0.1:PORT takes connections, 1 if PID
# (the server) ends first or 10 s pass.
wait_port() {
	for _ in $(seq 100); do
		(exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
		kill -0 "$2" 2>/dev/null || return 1
		sleep 0.1
	done
	return 1
}

# start_sshd: an SFTP server on a free port of 127.0.0.1 that takes the
# client key made here, and the rclone remote "vbsftp:" for it (in the
# environment, as an operator may define one).  Sets SSH_PORT.
start_sshd() {
	local s=$T/ssh
	mkdir -p "$s" /run/sshd
	ssh-keygen -q -t ed25519 -N '' -f "$s/host_key"
	ssh-keygen -q -t ed25519 -N "${KEY_PASS:-}" -f "$s/client_key"
	cp "$s/client_key.pub" "$s/authorized_keys"
	for _ in 1 2 3 4 5; do
		SSH_PORT=$((20000 + RANDOM % 20000))
		cat >"$s/sshd_config" <<-EOF
		Port $SSH_PORT
		ListenAddress 127.0.0.1
		HostKey $s/host_key
		AuthorizedKeysFile $s/authorized_keys
		PasswordAuthentication no
		KbdInteractiveAuthentication no
		PermitRootLogin prohibit-password
		StrictModes no
		UsePAM no
		PidFile $s/sshd.pid
		Subsystem sftp internal-sftp
		EOF
		/usr/sbin/sshd -D -f "$s/sshd_config" -E "$s/log" &
		SSHD_PID=$!
		wait_port "$SSH_PORT" "$SSHD_PID" && break
		kill "$SSHD_PID" 2>/dev/null || true
		SSHD_PID=
	done
	[ -n "$SSHD_PID" ]
	echo "[127.0.0.1]:$SSH_PORT $(cut -d' ' -f1,2 "$s/host_key.pub")" \
	    >"$s/known_hosts"
	export RCLONE_CONFIG_VBSFTP_TYPE=sftp
	export RCLONE_CONFIG_VBSFTP_HOST=127.0.0.1
	export RCLONE_CONFIG_VBSFTP_PORT=$SSH_PORT
	export RCLONE_CONFIG_VBSFTP_USER=root
	export RCLONE_CONFIG_VBSFTP_KEY_FILE=$s/client_key
	export RCLONE_CONFIG_VBSFTP_KNOWN_HOSTS_FILE=$s/known_hosts
	if [ -n "${KEY_PASS:-}" ]; then
		RCLONE_CONFIG_VBSFTP_KEY_FILE_PASS=$(rclone obscure "$KEY_PASS")
		export RCLONE_CONFIG_VBSFTP_KEY_FILE_PASS
	fi
}

stop_sshd() {
	kill "$SSHD_PID"
	wait "$SSHD_PID" 2>/dev/null || true
	SSHD_PID=
}

# absent TEXT FILE...: TEXT is in none of the files.
absent() {
	! grep -rq -- "$@"
}

# archives DIR: the vb archive names in DIR, sorted.
archives() {
	find "$1" -maxdepth 1 -type f -name 'backup-*Z.tar*' -printf '%f\n' | sort
}

@test "offsite: each new archive copied under its own name, verified; records pass on" {
	vb-snapshot app.db -d backups -q | vb-compress -q >recs
	run --separate-stderr vb-offsite -q -r "$T/remote" <recs
	[ "$status" -eq 0 ]
	# Every record read passes on, unchanged and first.
	[ "$(head -n 2 <<<"$output")" = "$(cat recs)" ]
	off=$(sed -n 3p <<<"$output")
	name=$(archives backups)
	[ "$(archives remote)" = "$name" ]
	[ "$(cut -f1 <<<"$off")" = "$T/remote/$name" ]
	[ "$(cut -f2,3 <<<"$off")" = "offsite	ok" ]
	[ "$(cut -f4 <<<"$off")" -eq "$(stat -c %s "backups/$name")" ]
	[ "$(cut -f5 <<<"$off")" = "$(sha256sum <"backups/$name" | cut -d' ' -f1)" ]
	[ "$(cut -f5 <<<"$off")" = "$(sha256sum <"remote/$name" | cut -d' ' -f1)" ]
	[[ $(cut -f8 <<<"$off") == *"SHA-256 verified (SHA-256 by the remote)"* ]]
	# Nothing else, no temporary, on the remote.
	[ "$(find remote -mindepth 1 | wc -l)" -eq 1 ]
	# A failed compress record passes on and is not copied.
	printf '%s\tcompress\tfailed\t-\t-\t1\t2026-11-27T01:00:00.000Z\tno\n' \
	    "$T/backups/x.tar.zst" | vb-offsite -r "$T/remote"
}

@test "offsite: a line holding only a path back-fills; what is not an archive is refused" {
	for _ in 1 2; do
		vb-snapshot app.db -d backups -q | vb-compress -q >/dev/null
		sleep 0.01
	done
	run --separate-stderr bash -c "ls backups/*.tar.zst | vb-offsite -r $T/remote"
	[ "$status" -eq 0 ]
	[ "$(grep -c '	offsite	ok	' <<<"$output")" -eq 2 ]
	[ "$(archives remote)" = "$(archives backups)" ]
	vb-snapshot app.db -d backups -q >/dev/null
	echo x >notes.txt
	run --separate-stderr vb-offsite -r "$T/remote" backups/backup-*.db notes.txt
	[ "$status" -eq 1 ]
	[ "$(grep -c '	offsite	failed	' <<<"$output")" -eq 2 ]
	[[ $stderr == *"not a vb archive"* ]]
	[ "$(archives remote | wc -l)" -eq 2 ]
	# Usage: a remote with credentials inline is refused, never echoed.
	run --separate-stderr vb-offsite -r ':sftp,host=h,pass=SeCrEt9:/x'
	[ "$status" -eq 2 ]
	[[ $stderr == *"rclone's configuration"* ]]
	[[ $stderr != *SeCrEt9* ]]
	run --separate-stderr vb-offsite -r relative/dir
	[ "$status" -eq 2 ]
	run --separate-stderr vb-offsite
	[ "$status" -eq 2 ]
	[[ $stderr == *"no remote"* ]]
}

@test "offsite: a copy that arrives different is caught, removed, and the record fails" {
	# The real rclone, then one byte of what it wrote flipped: what a
	# bad disk or network would do between the upload and the check.
	mkdir -p bin
	cat >bin/rclone <<-'EOF'
	#!/bin/bash
	/usr/bin/rclone "$@" || exit
	for a; do last=$a; done
	case " $* " in
	*" copyto "*) printf 'X' | dd of="$last" bs=1 seek=200 conv=notrunc 2>/dev/null ;;
	esac
	EOF
	chmod +x bin/rclone
	vb-snapshot app.db -d backups -q | vb-compress -q >recs
	PATH=$T/bin:$PATH run --separate-stderr vb-offsite -r "$T/remote" <recs
	[ "$status" -eq 1 ]
	rec=$(grep '	offsite	' <<<"$output")
	[ "$(cut -f3 <<<"$rec")" = failed ]
	[[ $(cut -f8 <<<"$rec") == *"not the archive's $(cut -f5 <recs | tail -n1): removed it"* ]]
	[[ $stderr == *"removed it"* ]]
	# Nothing on the remote, not even the temporary; the archive stays.
	[ "$(find remote -type f | wc -l)" -eq 0 ]
	[ "$(archives backups | wc -l)" -eq 1 ]
}

@test "offsite: retention on the remote is the local policy, vb's names only" {
	slow
	conf "$T/remote" MAX_BACKUPS=2 KEEP_DAILY=0
	for _ in 1 2 3 4; do
		vb_backup
		sleep 1.1
	done
	[ "$(archives backups | wc -l)" -eq 2 ]
	[ "$(archives remote)" = "$(archives backups)" ]
	# Foreign files and names vb does not make are never touched.
	echo keep >remote/notes.txt
	echo keep >remote/backup-latest.tar.zst
	cp "remote/$(archives remote | tail -n1)" remote/backup-2020-01-01T00-00-00-000Z.tar.zst
	run --separate-stderr vb-prune --offsite "$T/remote" -n
	[ "$status" -eq 0 ]
	[ "$(cut -f1,2,3,8 <<<"$output")" = "$T/remote/backup-2020-01-01T00-00-00-000Z.tar.zst	prune	ok	dry-run" ]
	[ -e remote/backup-2020-01-01T00-00-00-000Z.tar.zst ]
	run --separate-stderr vb-offsite --prune -r "$T/remote"
	[ "$status" -eq 0 ]
	[[ $output == *"deleted offsite"* ]]
	[ "$(archives remote)" = "$(archives backups)" ]
	[ -e remote/notes.txt ] && [ -e remote/backup-latest.tar.zst ]
	# The prune rows reached BackupLog.
	vb-log --show -n 100 app.db | grep -q "	prune	ok	.*deleted offsite"
	grep -q '^vb_backup_offsite_backups_kept{.*} 2$' vb.prom
	# The remote's retention is timed like the local one.
	grep -Eq '^vb_backup_stage_duration_seconds\{.*stage="prune_offsite"\} [0-9]+\.[0-9]{3}$' \
	    vb.prom
}

@test "offsite: over SFTP: copied, read back, listed, and restored after the local copy is lost" {
	slow
	start_sshd
	conf "vbsftp:$T/sftp-remote"
	run --separate-stderr vb_backup
	[ "$status" -eq 0 ]
	name=$(archives backups)
	[ "$(archives sftp-remote)" = "$name" ]
	cmp "backups/$name" "sftp-remote/$name"
	# SFTP has no SHA-256 of its own here: the copy was read back.
	vb-log --show -n 10 app.db | grep "	offsite	ok	" | grep -q "(read back)"
	run --separate-stderr vb-restore --list --offsite
	[ "$status" -eq 0 ]
	[[ $output == "vbsftp:$T/sftp-remote/$name	list	ok	"* ]]
	# The machine's copy is lost: the remote one is fetched, verified and
	# restored, and kept in the backup directory.
	rm -f backups/*
	run --separate-stderr vb-restore --offsite --to "$T/restored.db" "$name"
	[ "$status" -eq 0 ]
	[ "$(sqlite3 restored.db "SELECT note FROM ledger WHERE note LIKE 'MARKER%'")" = MARKER-offsite-4711 ]
	[ "$(archives backups)" = "$name" ]
	[ -z "$(find backups -name '.vb-tmp-*')" ]
	# A local copy that does not verify is passed over for the remote's.
	printf 'XXXX' | dd of="backups/$name" bs=1 seek=300 conv=notrunc 2>/dev/null
	run --separate-stderr vb-restore --offsite --to "$T/again.db" "$name"
	[ "$status" -eq 0 ]
	[[ $stderr == *"failed verification"*"fetched vbsftp:"* ]]
	[ "$(sqlite3 restored.db 'SELECT * FROM ledger')" = \
	    "$(sqlite3 again.db 'SELECT * FROM ledger')" ]
	# A name the remote does not have: refused, nothing made.
	run --separate-stderr vb-restore --offsite --to "$T/none.db" backup-2020-01-01T00-00-00-000Z.tar.zst
	[ "$status" -eq 1 ]
	[ ! -e none.db ]
	[ -z "$(find backups -name '.vb-tmp-*')" ]
	run --separate-stderr vb-offsite --check
	[ "$status" -eq 0 ]
	[[ $output == *"written, read back and deleted"* ]]
	# A new machine: no backup directory yet.
	run --separate-stderr vb-restore --offsite -d "$T/new/backups" --to "$T/new.db" "$name"
	[ "$status" -eq 0 ]
	[ "$(stat -c %a new/backups)" = 700 ]
	[ -f "new/backups/$name" ]
}

@test "offsite: an unreachable remote fails the run, prunes nothing; the next run catches up" {
	slow
	start_sshd
	conf "vbsftp:$T/sftp-remote" MAX_BACKUPS=2 KEEP_DAILY=0 \
	    "ON_FAILURE='echo \"\$VB_FAILED_STAGES\" >$T/hook'"
	vb_backup
	first=$(archives backups)
	stop_sshd		# the port is closed now
	sleep 1.1
	run --separate-stderr vb_backup
	[ "$status" -eq 1 ]
	[[ $stderr == *"FAILED"*"at offsite"*"vbsftp:"* ]]
	[ "$(cat hook)" = offsite ]
	grep -q '^vb_backup_stage_success{.*stage="offsite"} 0$' vb.prom
	vb-log --show -n 10 app.db | grep -q "	offsite	failed	"
	vb-log --show -n 1 app.db | grep -q "	backup	failed	.*failed at offsite"
	# The local backup stays; nothing was pruned, here or there.
	[ "$(archives backups | wc -l)" -eq 2 ]
	missed=$(archives backups | tail -n1)
	sleep 1.1
	run --separate-stderr vb_backup
	[ "$status" -eq 1 ]
	[ "$(archives backups | wc -l)" -eq 3 ]
	[ "$(archives sftp-remote)" = "$first" ]
	# The remote is back: tonight's archive and the two missed are sent,
	# then both sides keep the same two.
	start_sshd_again
	sleep 1.1
	run --separate-stderr vb_backup
	[ "$status" -eq 0 ]
	vb-log --show -n 20 app.db | grep "	offsite	ok	" | grep -q "$missed.*catching up"
	[ "$(archives backups | wc -l)" -eq 2 ]
	[ "$(archives sftp-remote)" = "$(archives backups)" ]
}

# start_sshd_again: the same server (keys, port) once more.
start_sshd_again() {
	/usr/sbin/sshd -D -f "$T/ssh/sshd_config" -E "$T/ssh/log" &
	SSHD_PID=$!
	wait_port "$SSH_PORT" "$SSHD_PID"
}

@test "offsite: --check names an unreachable remote; vb-backup --check shows it" {
	start_sshd
	conf "vbsftp:$T/sftp-remote"
	stop_sshd
	run --separate-stderr vb-offsite --check
	[ "$status" -eq 1 ]
	[[ $output == *"connection refused"* ]]
	VB_CRON_FILE=/nonexistent run --separate-stderr vb_backup --check
	[ "$status" -eq 1 ]
	[[ $output == *"FAIL  offsite"*"connection refused"* ]]
}

@test "offsite: a killed upload's temporary on the remote is removed by the next run" {
	slow
	conf "$T/remote"
	vb_backup
	mkdir -p remote
	stale=".vb-tmp-999999-$(archives backups)"
	echo partial >"remote/$stale"
	echo other >remote/.vb-tmp-notours
	sleep 1.1
	vb_backup
	[ ! -e "remote/$stale" ]
	[ -e remote/.vb-tmp-notours ]
}

@test "offsite: credentials never reach records, BackupLog, logs, metrics or ps" {
	slow
	KEY_PASS=Pass-word-8d1f start_sshd
	secret=$RCLONE_CONFIG_VBSFTP_KEY_FILE_PASS
	conf "vbsftp:$T/sftp-remote"
	# The command lines of vb and of the rclone it runs, sampled while
	# the job runs (the test's own set-up, `rclone obscure` and
	# ssh-keygen, holds the passphrase in its arguments: not vb's).
	( while :; do pgrep -af '(^|/)(vb-[a-z]+|rclone)( |$)' |
	    grep -v 'rclone obscure' >>ps.log || true; sleep 0.02; done ) &
	BG_PIDS=$!
	vb_backup >out.log 2>err.log
	sleep 1.1
	vb_backup >>out.log 2>>err.log
	kill "$BG_PIDS"
	[ "$(archives sftp-remote | wc -l)" -eq 2 ]
	grep -q 'rclone' ps.log
	vb-log --show -n 100 app.db >log.txt
	sqlite3 app.db .dump >dump.txt
	for s in Pass-word-8d1f "$secret"; do
		absent "$s" out.log err.log ps.log vb.prom backups log.txt dump.txt
	done
	# A wrong passphrase: the run fails, and says so without it.
	RCLONE_CONFIG_VBSFTP_KEY_FILE_PASS=$(rclone obscure Wrong-9a7c)
	sleep 1.1
	run --separate-stderr vb_backup
	echo "$status: $stderr"
	[ "$status" -eq 1 ]
	[[ $stderr == *"at offsite"* ]]
	[[ $stderr != *Wrong-9a7c* ]]
}

# start_s3: an S3 server (s3rver, installed by install.sh --dev from npm)
# on a free port of 127.0.0.1 with the bucket vbb, and the rclone remote
# "vbs3:" for it.
start_s3() {
	local bin=${VB_S3RVER:-/opt/vb-dev/s3rver/node_modules/.bin/s3rver}
	[ -x "$bin" ] || skip "no s3rver: ./install.sh --deps --dev installs it"
	mkdir -p "$T/s3data"
	for _ in 1 2 3 4 5; do
		S3_PORT=$((20000 + RANDOM % 20000))
		"$bin" -d "$T/s3data" -a 127.0.0.1 -p "$S3_PORT" \
		    --configure-bucket vbb >"$T/s3.log" 2>&1 &
		S3_PID=$!
		BG_PIDS="${BG_PIDS:-} $S3_PID"
		wait_port "$S3_PORT" "$S3_PID" && break
	done
	# A CA bundle meant for HTTPS proxies breaks rclone's plain-HTTP S3.
	unset AWS_CA_BUNDLE
	export RCLONE_CONFIG_VBS3_TYPE=s3
	export RCLONE_CONFIG_VBS3_PROVIDER=Other
	export RCLONE_CONFIG_VBS3_ENDPOINT=http://127.0.0.1:$S3_PORT
	export RCLONE_CONFIG_VBS3_ACCESS_KEY_ID=S3RVER
	export RCLONE_CONFIG_VBS3_SECRET_ACCESS_KEY=S3RVER
	export RCLONE_CONFIG_VBS3_FORCE_PATH_STYLE=true
}

@test "offsite: over S3 (s3rver): copied, read back, pruned like local, restored from the bucket" {
	slow
	start_s3
	conf vbs3:vbb/ventry MAX_BACKUPS=2 KEEP_DAILY=0
	for _ in 1 2 3; do
		run --separate-stderr vb_backup
		[ "$status" -eq 0 ]
		sleep 1.1
	done
	# S3 keeps MD5s, not SHA-256: each copy was read back.
	[ "$(vb-log --show -n 50 app.db | grep -c "	offsite	ok	.*(read back)")" -eq 3 ]
	remote=$(rclone lsf vbs3:vbb/ventry | sort)
	[ "$remote" = "$(archives backups)" ]
	name=$(archives backups | tail -n1)
	rm -f backups/*
	run --separate-stderr vb-restore --offsite --db "$T/app.db" "$name"
	[ "$status" -eq 0 ]
	[ "$(sqlite3 app.db "SELECT count(*) FROM ledger WHERE note = 'MARKER-offsite-4711'")" -eq 1 ]
	[ "$(archives backups)" = "$name" ]
	grep -q '^vb_backup_offsite_backups_kept{.*} 2$' vb.prom
}

@test "offsite: a full remote (a small tmpfs) fails the copy and leaves nothing there" {
	MNT=$T/full
	mkdir -p "$MNT"
	mount -t tmpfs -o size=256k tmpfs "$MNT" || skip "cannot mount a tmpfs here"
	bigdb big.db 2
	vb-snapshot big.db -d backups -q | vb-compress -q >recs
	run --separate-stderr vb-offsite -r "$MNT/vb" <recs
	[ "$status" -eq 1 ]
	rec=$(grep '	offsite	' <<<"$output")
	[ "$(cut -f1,3 <<<"$rec")" = "$(head -n1 <(grep '	compress	' recs | cut -f1))	failed" ]
	# rclone's words: its preallocation, or the write's ENOSPC.
	[[ $(cut -f8 <<<"$rec") == "not copied to $MNT/vb: "* ]]
	[[ $(cut -f8 <<<"$rec") =~ (remaining\ disk\ space|no\ space\ left) ]]
	[ "$(find "$MNT" -type f | wc -l)" -eq 0 ]
	[ "$(archives backups | wc -l)" -eq 1 ]
}

@test "offsite: an rclone that hangs is stopped after OFFSITE_TIMEOUT, and the run says so" {
	slow
	mkdir -p bin
	cat >bin/rclone <<-'EOF'
	#!/bin/bash
	case " $* " in
	*" copyto "*) exec sleep 61 ;;
	esac
	exec /usr/bin/rclone "$@"
	EOF
	chmod +x bin/rclone
	conf "$T/remote" OFFSITE_TIMEOUT=2
	SECONDS=0
	PATH=$T/bin:$PATH run --separate-stderr vb_backup
	[ "$status" -eq 1 ]
	[ "$SECONDS" -lt 30 ]
	[[ $stderr == *"at offsite"*"did not finish within OFFSITE_TIMEOUT=2s"* ]]
	run pgrep -f 'sleep 61$'
	[ "$status" -eq 1 ]
	[ "$(archives backups | wc -l)" -eq 1 ]
}

@test "offsite: --check-job: the remote as the job reaches it, in cron's empty environment; one only this shell defines, or one down, a FAIL that says which" {
	mkdir remote
	conf "$T/remote"
	me=$(id -un)
	run --separate-stderr vb-offsite --check-job
	[ "$status" -eq 0 ]
	[[ $output == "ok	offsite	$T/remote: "*"(as $me, in cron's empty environment)" ]]
	[ "$(wc -l <<<"$output")" -eq 1 ]
	# Defined in this shell only: the job, re-executed in cron's
	# environment, lacks it.
	export RCLONE_CONFIG_VBENV_TYPE=local
	conf "vbenv:$T/remote"
	run --separate-stderr vb-offsite --check-job
	[ "$status" -eq 1 ]
	[[ $output == "FAIL	offsite	vbenv:$T/remote answers from this shell but not as the job runs (cron: an empty environment): "*"variables): put the remote in an rclone configuration file (rclone config) and name it in $VB_CONF: RCLONE_CONFIG="* ]]
	# OFFSITE only in this shell: the job's view has no remote at all,
	# in vb-offsite's words without its prefix.
	: >"$VB_CONF"
	OFFSITE="$T/remote" run --separate-stderr vb-offsite --check-job
	[ "$status" -eq 1 ]
	[[ $output == *"not as the job runs (cron: an empty environment): no remote: "* ]]
	[[ $output != *"vb-offsite: "* ]]
	# In a file vb.conf names: the job's own view.
	printf '[vbenv]\ntype = local\n' >job-rclone.conf
	conf "vbenv:$T/remote" "RCLONE_CONFIG=$T/job-rclone.conf"
	unset RCLONE_CONFIG_VBENV_TYPE
	run --separate-stderr vb-offsite --check-job
	[ "$status" -eq 0 ]
	[[ $output == "ok	offsite	vbenv:$T/remote: "* ]]
	# Down from both: the job's words, said once.
	conf "vbnone:$T/remote"
	run --separate-stderr vb-offsite --check-job
	[ "$status" -eq 1 ]
	[[ $output == "FAIL	offsite	"*"; check the remote in rclone's configuration (rclone config show, as $me) and that it is reachable" ]]
	[[ $output != *"from this shell"* ]]
	run --separate-stderr vb-offsite --check-job extra
	[ "$status" -eq 2 ]
}
