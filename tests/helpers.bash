# helpers.bash - shared setup for the command-line tests (bats); the test
# scripts they call (fault-sweep, kill-soak) source it for its helpers.
#
# Every test gets a fresh directory $T (removed afterwards), the built
# tools first on PATH, and no configuration from the machine it runs on.

setup() {
	vb_setup
}

# vb_setup: what setup does, for a file that adds to it.
vb_setup() {
	: "${VB_BIN:?VB_BIN must name the build directory}"
	PATH="$VB_BIN:$VB_BIN/tests:$PATH"
	T=$(mktemp -d "${TMPDIR:-/tmp}/vb-test.XXXXXX")
	# Empty: nothing of the machine's (a file VB_CONF names must exist).
	export VB_CONF="$T/no-vb.conf"
	: >"$VB_CONF"
	unset DB_PATH BACKUP_DIR MAX_BACKUPS COMPRESSION
	cd "$T" || return 1
}

teardown() {
	vb_teardown
}

# vb_teardown: what teardown does, for a file that adds to it.
vb_teardown() {
	local pid
	for pid in ${BG_PIDS:-}; do
		kill -9 "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	done
	cd /
	if [ -n "${MNT:-}" ]; then
		umount "$MNT" 2>/dev/null || true
	fi
	rm -rf "${T_TOP:-$T}"
}

# slow: this test is of the slow tier, which make check-slow (and CI)
# runs with the rest: the kill -9 soak, the package, a real cron daemon,
# the fault sweep, the model's random cases, and each test that took
# over 4 s in a timed run of the suite on 2 busy cores (bats --timing).
# make check (VB_TIER=fast) skips it, saying so, and stays under 5
# minutes on 2 cores.
slow() {
	[ "${VB_TIER:-all}" != fast ] || skip "slow tier: make check-slow runs it"
}

# vb_backup ARGS...: the nightly job of this checkout.
vb_backup() {
	"$BATS_TEST_DIRNAME/../bin/vb-backup" "$@"
}

# mkdb PATH MODE [ROWS]: a small database with the test writer's schema
# (accounts and ledger) in journal MODE (wal or delete).
mkdb() {
	vb-testwriter --setup --mode "$2" "$1" >/dev/null
	vb-testwriter --count "${3:-200}" "$1" >/dev/null
}

# app_db_for_all: $DB, a WAL database in $T/app that every user may
# write (the directory too: a WAL database needs its -shm there), so the
# tests that run the job as nobody can still see its BackupLog rows.
app_db_for_all() {
	chmod 755 "$T"
	mkdir -m 777 "$T/app"
	DB=$T/app/app.db
	mkdb "$DB" wal
	chmod 666 "$DB"
}

# bigdb PATH MB: a database of about MB megabytes, in DELETE mode.
bigdb() {
	mkdb "$1" delete 10
	sqlite3 "$1" "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1
	    FROM n WHERE i < $2 * 256) INSERT INTO ledger(account, amount, note)
	    SELECT 1 + i % 16, 0, randomblob(3900) FROM n;"
}

# filldb PATH MB: adds about MB megabytes of half-compressible ledger rows
# (hex text) to a mkdb database, in whatever journal mode it has.
filldb() {
	sqlite3 "$1" "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1
	    FROM n WHERE i < $2 * 256) INSERT INTO ledger(account, amount, note)
	    SELECT 1 + i % 16, 0, hex(randomblob(1950)) FROM n;"
}

# backup_whole FILE [PRAGMA]: a file under a backup name is whole: a raw
# snapshot passes PRAGMA (default integrity_check), an archive verifies.
backup_whole() {
	case $1 in
	*.db)
		[ "$(sqlite3 "file:$1?immutable=1" "PRAGMA ${2:-integrity_check}")" = ok ] ;;
	*)
		vb-restore -q --quick-check --verify-only "$1" >/dev/null 2>&1 ;;
	esac
}

# field N LINE: the Nth TAB-separated field of a record.
field() {
	printf '%s\n' "$2" | cut -f "$1"
}

# assert_record LINE OP STATUS: the line is a well-formed record.
assert_record() {
	local n
	n=$(printf '%s\n' "$1" | awk -F'\t' '{print NF}')
	[ "$n" -eq 8 ] || { echo "record has $n fields: $1"; return 1; }
	[ "$(field 2 "$1")" = "$2" ] || { echo "op: $1"; return 1; }
	[ "$(field 3 "$1")" = "$3" ] || { echo "status: $1"; return 1; }
	[[ $(field 6 "$1") =~ ^([0-9]+|-)$ ]] || { echo "ms: $1"; return 1; }
	[[ $(field 7 "$1") =~ ^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}Z$ ]] ||
		{ echo "time: $1"; return 1; }
}

# mode_of PATH: the octal permission bits.
mode_of() {
	stat -c %a "$1"
}

# no_temporaries DIR: fails if a .vb-tmp- file is left in DIR.
no_temporaries() {
	local left
	left=$(find "$1" -maxdepth 1 -name '.vb-tmp-*' 2>/dev/null)
	[ -z "$left" ] || { echo "temporaries left: $left"; return 1; }
}

# as_nobody COMMAND...: runs COMMAND as an unprivileged user (root ignores
# file permissions, so a permission test must drop them).
as_nobody() {
	setpriv --reuid=nobody --regid=nogroup --clear-groups -- "$@"
}

# small_fs SIZE: mounts a tmpfs of SIZE at $T/mnt, or skips the test.
small_fs() {
	MNT="$T/mnt"
	mkdir -p "$MNT"
	mount -t tmpfs -o "size=$1,mode=0700" tmpfs "$MNT" 2>/dev/null ||
		skip "cannot mount a tmpfs here (not root or no permission)"
}

# wait_for COMMAND...: retries COMMAND for up to 10 s (WAIT_S seconds:
# under valgrind a stage can take minutes).
wait_for() {
	local _
	for _ in $(seq $((${WAIT_S:-10} * 10))); do
		"$@" && return 0
		sleep 0.1
	done
	return 1
}

# descendants PID: the PIDs of every process below PID (children first
# found, then theirs), never PID itself nor anything it did not start.
descendants() {
	local kid
	for kid in $(pgrep -P "$1"); do
		echo "$kid"
		descendants "$kid"
	done
}

# kill_below SIGNAL PID REGEX: sends SIGNAL to the processes below PID
# whose command line matches REGEX (extended); fails if none matched.
# Tests kill only what they started: never a process found by name.
kill_below() {
	local pid cmd hit=1
	for pid in $(descendants "$2"); do
		cmd=$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null) || continue
		if [[ $cmd =~ $3 ]]; then
			kill -"$1" "$pid" 2>/dev/null && hit=0
		fi
	done
	return "$hit"
}

# count_files DIR: how many entries DIR holds.
count_files() {
	find "$1" -mindepth 1 -maxdepth 1 | wc -l
}

# flip_byte FILE OFFSET: inverts one byte in place (always a change).
flip_byte() {
	local b
	b=$(od -An -tu1 -j "$2" -N1 "$1" | tr -d ' ')
	# shellcheck disable=SC2059 # the format is the byte
	printf "\\$(printf %03o $((b ^ 255)))" |
	    dd of="$1" bs=1 seek="$2" conv=notrunc 2>/dev/null
}

# damaged_reads COMMAND...: runs COMMAND with every read of a .tar.zst
# file returning its byte 600 flipped (the fault shim, tests/vb-faultfs.c),
# as a failing disk would: the read-back of a new archive must catch it.
damaged_reads() {
	LD_PRELOAD="$VB_BIN/tests/libvbfault.so" VB_FAULT_FLIP=".tar.zst@600" \
	    ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0" \
	    "$@"
}
