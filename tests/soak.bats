#!/usr/bin/env bats
# soak.bats - sudden death: kill -9 of the whole nightly job at random
# moments, on a database of a few hundred MB that the application keeps
# writing (tests/kill-soak says what is checked after each round).
# VB_SOAK_ROUNDS (default 20) and VB_SOAK_MB (default 300) size it; make
# sanitize runs a shorter one, as the point there is memory errors.

bats_require_minimum_version 1.5.0
load helpers

@test "soak: kill -9 of vb-backup at random moments under a live writer, then the next run" {
	rounds=${VB_SOAK_ROUNDS:-20}
	VB_BACKUP="$BATS_TEST_DIRNAME/../bin/vb-backup" run --separate-stderr \
	    "$BATS_TEST_DIRNAME/kill-soak" "$rounds" "${VB_SOAK_MB:-300}"
	printf '# %s\n' "${lines[@]}" >&3
	# shellcheck disable=SC2154 # run --separate-stderr sets it
	[ "$status" -eq 0 ] || { echo "$stderr"; false; }
	[ "${lines[-1]}" = "$rounds rounds: live database ok, every final name whole, every next run ok" ]
}
