#!/usr/bin/env bats
# The partial restore's model-based test: tests/model/partial_model.py puts
# random schemas (quoted and mixed-case names, no key, INTEGER, TEXT and
# composite keys, WITHOUT ROWID, foreign keys, triggers), random histories
# and random --table/--where, --undo, --diff and --diff-table commands to
# vb-restore, and compares every table and exit status with an oracle
# written from docs/DESIGN.md ("Restoring part of a database").  A mismatch
# prints its seed, its case and a reproduction.  VB_MODEL_SEED fixes the
# third test's seed, VB_MODEL_CASES and VB_MODEL_RANDOM_CASES their numbers
# of cases (make sanitize runs fewer: a process under ASan starts slowly).

bats_require_minimum_version 1.5.0
load helpers

# model ARGS...: the model's driver on the tools of $VB_BIN, its work
# directories in $T (removed with it).
model() {
	python3 "$BATS_TEST_DIRNAME/model/partial_model.py" --tmpdir "$T" "$@"
}

@test "model: the known defects, each a fixed case (a-h)" {
	slow
	run model --fixed
	printf '%s\n' "$output"
	[ "$status" -eq 0 ]
	[ "${lines[${#lines[@]} - 1]%% (*}" = "8 cases, 0 mismatches" ]
}

@test "model: random cases, a fixed seed" {
	slow
	cases=${VB_MODEL_CASES:-300}
	run model --seed 20261206 --cases "$cases"
	printf '%s\n' "$output"
	[ "$status" -eq 0 ]
	[ "${lines[${#lines[@]} - 1]%% (*}" = "$cases cases, 0 mismatches" ]
}

@test "model: random cases, the seed VB_MODEL_SEED (else a random one)" {
	slow
	seed=${VB_MODEL_SEED:-$RANDOM$RANDOM}
	echo "# model seed $seed (VB_MODEL_SEED=$seed repeats it)" >&3
	cases=${VB_MODEL_RANDOM_CASES:-100}
	run model --seed "$seed" --cases "$cases"
	printf '%s\n' "$output"
	[ "$status" -eq 0 ]
	[ "${lines[${#lines[@]} - 1]%% (*}" = "$cases cases, 0 mismatches" ]
}
