#!/usr/bin/env bats
# Validate once (issue 37, item 5): a nightly checks its configuration
# once, at its start (vb-snapshot --print-config=run: ssh-keygen on the
# keys, DRILL_SQL prepared on the live database), and its tools trust
# that check by its stamp (VB_CONF_CHECKED) instead of making it again;
# a tool run alone, or given a stamp of other settings or of a key file
# since replaced, checks for itself.  Counted with strace: every program
# executed and every open of the live database, per process.

# shellcheck disable=SC2154 # bats' run --separate-stderr sets $stderr
bats_require_minimum_version 1.5.0
load helpers

setup() {
	vb_setup
	command -v strace >/dev/null || skip "no strace"
	export RCLONE_CONFIG=$T/rclone.conf	# none: nothing of the machine's
	mkdb app.db wal 400
	ssh-keygen -q -t ed25519 -N '' -C vb-test -f "$T/signing-key"
	age-keygen -o "$T/age.key" 2>/dev/null
	age-keygen -y "$T/age.key" >"$T/recipients.txt"
	# Every stage on; the drill due every night (an hour's slack).
	{
		printf 'DB_PATH=%s\nBACKUP_DIR=%s\n' "$T/app.db" "$T/b"
		printf 'OFFSITE=%s\nSIGN_WITH=%s\n' "$T/remote" "$T/signing-key"
		printf 'VERIFY_WITH=%s\n' "$T/signing-key.pub"
		printf 'ENCRYPT_TO=%s\nDRILL_IDENTITY=%s\n' "$T/recipients.txt" \
		    "$T/age.key"
		printf "DRILL_EVERY=1h\nDRILL_SQL='SELECT 1 FROM ledger LIMIT 1'\n"
		printf 'METRICS_FILE=%s\n' "$T/vb.prom"
	} >"$VB_CONF"
}

# traced NAME ARGS...: ARGS run under strace, one file a process, in
# $T/NAME; then $T/NAME.procs: a line a process that executed something,
# its command line, its opens of the live database (openat of app.db
# itself), the command line of the process that started it, TAB apart.
traced() {
	local name=$1 rc=0
	shift
	mkdir "$T/$name"
	# LeakSanitizer cannot run under ptrace (make sanitize): the rest of
	# ASan and UBSan still do.
	ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" \
	    strace -f -ff -qq -s 512 \
	    -e trace=execve,openat,clone,clone3,vfork,fork \
	    -o "$T/$name/t" "$@" || rc=$?
	awk -v db="$T/app.db" '
	FNR == 1 { pid = FILENAME; sub(/.*\./, "", pid) }
	/^execve\(/ && / = 0$/ {
		a = substr($0, index($0, "[") + 1)
		a = substr(a, 1, index(a, "], 0x") - 1)
		gsub(/"/, "", a); gsub(/, /, " ", a)
		argv[pid] = a
	}
	/^(clone3?|vfork|fork)\(/ && / = [0-9]+$/ { parent[$NF] = pid }
	/^openat\(/ && index($0, "\"" db "\",") { opens[pid]++ }
	END {
		for (p in argv)
			printf "%s\t%d\t%s\n", argv[p], opens[p],
			    argv[parent[p]]
	}' "$T/$name"/t.* >"$T/$name.procs"
	return "$rc"
}

# procs NAME ERE: the processes of trace NAME whose command line
# matches ERE (awk's), one line each.
procs() {
	awk -F'\t' -v re="$2" '$1 ~ re' "$T/$1.procs"
}

# opens NAME ERE: the live database's opens by those processes, summed.
opens() {
	procs "$1" "$2" | awk -F'\t' '{ n += $2 } END { print n + 0 }'
}

@test "once: a nightly runs ssh-keygen -y and -l once each, at its start; its tools open the live database only for their jobs" {
	slow
	local drill
	vb_backup 2>/dev/null	# the first: a catalog, a drill, offsite
	sleep 1
	vb-testwriter --count 20 app.db >/dev/null
	traced night "$BATS_TEST_DIRNAME/../bin/vb-backup"
	# Every stage ran: two signatures, an encryption, a copy, a drill.
	[ "$(procs night '^ssh-keygen -Y sign ' | wc -l)" -eq 2 ]
	[ "$(procs night '^age ' | wc -l)" -ge 2 ]
	[ "$(procs night '^vb-offsite ' | wc -l)" -eq 1 ]
	[ "$(procs night '^vb-restore --drill ' | wc -l)" -eq 1 ]
	[ "$(sqlite3 app.db "SELECT count(*) FROM BackupLog WHERE
	    operation = 'verify' AND message LIKE '%drill=proven'")" -ge 3 ]
	# The keys read by ssh-keygen once, by the check at the start.
	procs night '^ssh-keygen -(y|l) ' >"$T/keygen"
	[ "$(grep -c $'^ssh-keygen -y .*\tvb-snapshot --print-config=run$' \
	    "$T/keygen")" -eq 1 ]
	[ "$(grep -c $'^ssh-keygen -l .*\tvb-snapshot --print-config=run$' \
	    "$T/keygen")" -eq 1 ]
	[ "$(wc -l <"$T/keygen")" -eq 2 ] || { cat "$T/keygen"; false; }
	# DRILL_SQL prepared on the live database by that check: one
	# connection (vb's header read, then SQLite's open).
	[ "$(opens night '^vb-snapshot --print-config=run$')" -eq 2 ]
	# What needs no BackupLog and no live page opens nothing.
	[ "$(procs night '^vb-compress -q -T ' | wc -l)" -eq 1 ]
	[ "$(opens night '^vb-compress -q -T ')" -eq 0 ]
	[ "$(opens night '^vb-offsite ')" -eq 0 ]
	[ "$(opens night '^vb-snapshot --prepare ')" -eq 0 ]
	[ "$(opens night '^vb-prune --holds ')" -eq 0 ]
	# The drill prepares DRILL_SQL itself, stamp or not (the live
	# schema may change within a run): as many opens as run alone.
	drill=$(procs night '^vb-restore --drill ' | cut -f1)
	# shellcheck disable=SC2086 # its words, as the job gave them
	traced alone $drill >/dev/null
	[ "$(opens night '^vb-restore --drill ')" -eq \
	    "$(opens alone '^vb-restore --drill ')" ]
}

@test "once: a tool given the stamp of these settings trusts the check; given another, or none, it checks for itself" {
	local stamp
	stamp=$(vb-snapshot --print-config=run | sed -n 's/^VB_CONF_CHECKED=//p')
	[[ $stamp =~ ^7-[0-9a-f]{64}$ ]]
	# Plain --print-config (operators, --check) prints no stamp.
	[ "$(vb-snapshot --print-config | grep -c VB_CONF_CHECKED)" -eq 0 ]
	# --print-config=drill checks no signing key: its stamp says so.
	[[ $(vb-snapshot --print-config=drill | grep VB_CONF_CHECKED) == \
	    VB_CONF_CHECKED=6-* ]]
	mkdir -m 700 b
	# vb-prune checks SIGN_WITH, vb-restore VERIFY_WITH.
	traced alone vb-prune -n -d b
	traced trusting env VB_CONF_CHECKED="$stamp" vb-prune -n -d b
	[ "$(procs alone '^ssh-keygen -y ' | wc -l)" -eq 1 ]
	[ "$(procs trusting '^ssh-keygen ' | wc -l)" -eq 0 ]
	# (Both fail: no catalog yet, which VERIFY_WITH asks for.)
	traced rlone vb-restore --list b || true
	traced rtrusting env VB_CONF_CHECKED="$stamp" vb-restore --list b ||
	    true
	[ "$(procs rlone '^ssh-keygen -l ' | wc -l)" -eq 1 ]
	[ "$(procs rtrusting '^ssh-keygen ' | wc -l)" -eq 0 ]
	# A drill's stamp does not vouch for the signing key.
	traced drillstamp env VB_CONF_CHECKED="6-${stamp#7-}" vb-prune -n -d b
	[ "$(procs drillstamp '^ssh-keygen -y ' | wc -l)" -eq 1 ]
	# Another setting (the environment's), another stamp: checked.
	traced other env VB_CONF_CHECKED="$stamp" MAX_BACKUPS=3 \
	    vb-prune -n -d b
	[ "$(procs other '^ssh-keygen -y ' | wc -l)" -eq 1 ]
	# The key file replaced by a bad one under the same name: the stamp
	# no longer matches, and the tool refuses it, exit 2.
	rm "$T/signing-key"
	ssh-keygen -q -t rsa -b 2048 -N '' -f "$T/signing-key"
	run --separate-stderr env VB_CONF_CHECKED="$stamp" vb-compress -q \
	    </dev/null
	[ "$status" -eq 2 ]
	[[ $stderr == *"SIGN_WITH: $T/signing-key is a ssh-rsa key"* ]]
	run --separate-stderr env VB_CONF_CHECKED="$stamp" vb-prune -n -d b
	[ "$status" -eq 2 ]
	[[ $stderr == *"SIGN_WITH: $T/signing-key is a ssh-rsa key"* ]]
}

@test "once: DRILL_SQL changed since the stamp is checked again: one that writes is refused, exit 2" {
	local stamp drill
	vb_backup 2>/dev/null
	stamp=$(vb-snapshot --print-config=run | sed -n 's/^VB_CONF_CHECKED=//p')
	[ -n "$stamp" ]
	drill=(vb-restore --drill -q -d "$T/b" -i "$T/age.key" --offsite)
	sed -i "s/^DRILL_SQL=.*/DRILL_SQL='DELETE FROM ledger'/" "$VB_CONF"
	run --separate-stderr env VB_CONF_CHECKED="$stamp" "${drill[@]}"
	[ "$status" -eq 2 ]
	[[ $stderr == *"DRILL_SQL must be one read-only query"* ]]
	[ "$(sqlite3 app.db 'SELECT count(*) FROM ledger')" -gt 0 ]
	# And the nightly refuses it at its start.
	run --separate-stderr vb_backup
	[ "$status" -eq 2 ]
	[[ $stderr == *"DRILL_SQL must be one read-only query"* ]]
}

@test "once: --print-config= takes run or drill, and nothing else" {
	run --separate-stderr vb-snapshot --print-config=bogus
	[ "$status" -eq 2 ]
	[[ $stderr == *"--print-config=bogus: it takes run or drill, or nothing"* ]]
	[ -z "$output" ]
	run --separate-stderr vb-snapshot --print-config=drill
	[ "$status" -eq 0 ]
}

@test "once: the live schema changed since the stamp: the drill checks DRILL_SQL itself" {
	local stamp
	vb_backup 2>/dev/null
	stamp=$(vb-snapshot --print-config=run | sed -n 's/^VB_CONF_CHECKED=//p')
	[ -n "$stamp" ]
	sqlite3 app.db "ALTER TABLE ledger RENAME TO ledger_v2"
	run --separate-stderr env VB_CONF_CHECKED="$stamp" vb-restore --drill \
	    -q -d "$T/b" -i "$T/age.key"
	[ "$status" -eq 2 ]
	[[ $stderr == *"no such table: ledger"* ]]
}

@test "once: as root, a key in a directory another user may change is refused, and stamped by nobody" {
	[ "$(id -u)" -eq 0 ] || skip "needs root"
	mkdir -m 755 "$T/keys"
	cp "$T/signing-key" "$T/signing-key.pub" "$T/keys/"
	chown nobody "$T/keys"
	sed -i "s|^SIGN_WITH=.*|SIGN_WITH=$T/keys/signing-key|" "$VB_CONF"
	run --separate-stderr vb-snapshot --print-config=run
	[ "$status" -eq 2 ]
	[[ $stderr == *"$T/keys/signing-key (SIGN_WITH) is in $T/keys, owned by "*"(nobody), mode 0755: another user could put another file there"* ]]
	[[ $output != *VB_CONF_CHECKED* ]]
	run --separate-stderr vb-prune -n -d "$T"
	[ "$status" -eq 2 ]
	# Root's own, writable by a group: refused too; sticky: taken.
	chown root "$T/keys"
	chmod 775 "$T/keys"
	run --separate-stderr vb-snapshot --print-config=run
	[ "$status" -eq 2 ]
	[[ $stderr == *"is in $T/keys, owned by "*"(root), mode 0775"* ]]
	chmod 1777 "$T/keys"
	run --separate-stderr vb-snapshot --print-config=run
	[ "$status" -eq 0 ]
	[[ $output == *VB_CONF_CHECKED=7-* ]]
}
