#!/usr/bin/env bats
# faults.bats - injected I/O faults: every write, fsync, rename and unlink
# of a full run made to fail in turn (and every write cut short), for
# vb-snapshot, vb-compress and vb-restore (--to and --db).  The sweep and
# what it checks after each fault: tests/fault-sweep; the shim:
# tests/vb-faultfs.c.  Each test prints how many faulted runs it made and
# which faults left the result whole (TAP comments).

bats_require_minimum_version 1.5.0
load helpers

# The faults are injected, not real: run on a tmpfs where one can be
# mounted, so that hundreds of runs do not each wait for real fsyncs.
setup() {
	vb_setup
	# shellcheck disable=SC2034 # helpers.bash's teardown removes it
	T_TOP=$T
	MNT="$T/mnt"
	mkdir "$MNT"
	if mount -t tmpfs -o size=256m,mode=0700 tmpfs "$MNT" 2>/dev/null; then
		T=$MNT
	else
		MNT=
	fi
	cd "$T" || return 1
}

# sweep TOOL MIN: runs the sweep, which must make at least MIN runs.
sweep() {
	run --separate-stderr "$BATS_TEST_DIRNAME/fault-sweep" "$@"
	printf '# %s\n' "${lines[@]}" | cut -c1-300 >&3
	# shellcheck disable=SC2154 # run --separate-stderr sets it
	[ "$status" -eq 0 ] || { echo "$stderr"; return 1; }
	[[ ${lines[0]} =~ ^$1:\ ([0-9]+)\ faulted\ runs$ ]]
	[ "${BASH_REMATCH[1]}" -ge "$2" ]
}

@test "faults: vb-snapshot under every injected write/fsync/rename/unlink fault" {
	slow
	sweep snapshot 50
}

@test "faults: vb-compress under every injected fault keeps the snapshot or a whole archive" {
	slow
	# The archive is written in blocks of 1 MiB: a few writes to fault.
	ROWS=1000 sweep compress 10
}

@test "faults: vb-restore --to under every injected fault: no file, or the whole archive's" {
	slow
	sweep restore-to 60
}

@test "faults: vb-restore --db under every injected fault: as before or as the archive, never between" {
	slow
	sweep restore-db 150
}
