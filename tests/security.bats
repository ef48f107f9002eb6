#!/usr/bin/env bats
# security.bats - the security properties of vb in one place: what the
# files' modes are under any umask, which paths are refused, and that no
# input (pipe line or archive) ever crashes a tool or names a file.
# (Hostile archive shapes, one by one: restore.bats; refused backup
# directories: snapshot.bats.)

load helpers
bats_require_minimum_version 1.5.0

nl=$'\n'
tab=$'\t'

@test "security: backups 0600 and directories 0700 under umask 000 and 022" {
	slow
	mkdb app.db wal
	for u in 000 022 002; do
		rm -rf "b$u" r
		mkdir r
		# shellcheck disable=SC2016 # expanded by the inner shell
		run --separate-stderr sh -c 'umask $1; vb-snapshot -d "b$1/x" app.db |
		    vb-compress -k | tail -n 1 | cut -f1' sh "$u"
		[ "$status" -eq 0 ]
		[ "${#lines[@]}" -eq 1 ]
		a=${lines[0]}
		[ "$(mode_of "b$u")" = 700 ]
		[ "$(mode_of "b$u/x")" = 700 ]
		for f in "b$u"/x/*; do
			[ "$(mode_of "$f")" = 600 ] || { echo "$f: $(mode_of "$f")"; false; }
		done
		# What a restore writes: the copy and the pre-restore archive.
		# shellcheck disable=SC2016
		run --separate-stderr sh -c 'umask $1; vb-restore -q --to r/new.db "$2"' \
		    sh "$u" "$a"
		[ "$status" -eq 0 ]
		[ "$(mode_of r/new.db)" = 600 ]
		cp app.db live.db	# a copy under another name: --force
		# shellcheck disable=SC2016
		run --separate-stderr sh -c 'umask $1; vb-restore -q --quick-check -d "b$1/pre" --force --db live.db "$2"' \
		    sh "$u" "$a"
		[ "$status" -eq 0 ]
		[ "$(mode_of "b$u/pre")" = 700 ]
		for f in "b$u"/pre/*; do
			[ "$(mode_of "$f")" = 600 ]
		done
	done
	# The nightly job, whose directory it creates itself.
	# shellcheck disable=SC2016
	run --separate-stderr sh -c 'umask 000; DB_PATH=app.db BACKUP_DIR=nightly/b exec "$1/../bin/vb-backup"' sh "$BATS_TEST_DIRNAME"
	[ "$status" -eq 0 ]
	[ "$(mode_of nightly)" = 700 ]
	[ "$(mode_of nightly/b)" = 700 ]
	[ "$(mode_of nightly/b/.vb.lock)" = 600 ]
	for f in nightly/b/backup-*; do
		[ "$(mode_of "$f")" = 600 ]
	done
}

@test "security: a path with a newline, TAB or CR is refused by every tool" {
	slow
	mkdb app.db wal
	mkdb "bad${nl}name.db" wal
	mkdb "bad${tab}name.db" wal
	vb-snapshot -d b app.db | vb-compress >rec
	a=$(cut -f1 rec)
	for bad in "bad${nl}name.db" "bad${tab}name.db"; do
		run --separate-stderr vb-snapshot -d b "$bad"
		[ "$status" -eq 2 ]
		# shellcheck disable=SC2154 # run --separate-stderr sets it
		[[ $stderr == *"may not be empty or hold TAB, CR or newline"* ]]
		run --separate-stderr vb-snapshot -d "b${nl}x" app.db
		[ "$status" -eq 2 ]
		run --separate-stderr vb-compress "$bad"
		[ "$status" -ne 0 ]
		run --separate-stderr vb-log "$bad" </dev/null
		[ "$status" -eq 2 ]
		run --separate-stderr vb-prune -d "b${tab}x" --keep 1
		[ "$status" -eq 2 ]
		run --separate-stderr vb-restore --to "$bad" "$a"
		[ "$status" -eq 2 ]
		run --separate-stderr vb-restore --db "$bad" "$a"
		[ "$status" -eq 2 ]
		run --separate-stderr vb-restore -d "b${nl}x" --db app.db "$a"
		[ "$status" -eq 2 ]
		DB_PATH=$bad BACKUP_DIR=b run --separate-stderr vb_backup
		[ "$status" -eq 2 ]
		[[ $stderr == *"DB_PATH holds a TAB, CR or newline"* ]]
		DB_PATH=app.db BACKUP_DIR="b${nl}x" run --separate-stderr vb_backup
		[ "$status" -eq 2 ]
	done
	# Nothing was created for any of them, and the databases are unchanged.
	[ ! -e "b${nl}x" ] && [ ! -e "b${tab}x" ]
	[ "$(find . -maxdepth 1 -name 'bad*' -printf x)" = xx ]
	# (the archive, and the row counts kept beside it)
	[ "$(find b -mindepth 1 ! -name .vb-rows | wc -l)" -eq 1 ]
}

@test "security: a record line carrying a CR path is not acted on" {
	mkdb app.db wal
	vb-snapshot -d b app.db >rec
	p=$(cut -f1 rec)
	# The same record with a CR in the path, as a CRLF file would give.
	sed "s|^$p|$p$(printf '\r')|" rec >crrec
	# Passed on with a warning, as any line that is not a record is, and
	# never opened, archived or removed.
	run --separate-stderr vb-compress <crrec
	[ "$status" -eq 0 ]
	[[ $stderr == *"passing on a line that is not a record"* ]]
	[ "$output" = "$(cat crrec)" ]
	[ -f "$p" ]
	[ "$(count_files b)" -eq 1 ]
}

@test "security: vb-log --finish's fuzz corpus replays cleanly" {
	here=$BATS_TEST_DIRNAME/fuzz
	mkdir -p "$here/regress/finish"
	run --separate-stderr find "$here/corpus/finish" "$here/regress/finish" \
	    -type f -exec fuzz-finish {} +
	[ "$status" -eq 0 ]
	[[ $output == *" inputs" ]]
	[ "$(count_files "$here/corpus/finish")" -ge 3 ]
}

@test "security: the fuzz corpus and every input that once crashed replay cleanly" {
	here=$BATS_TEST_DIRNAME/fuzz
	run --separate-stderr find "$here/corpus/archive" \
	    "$here/regress/archive" -type f -exec fuzz-archive {} +
	[ "$status" -eq 0 ]
	[[ $output == *" inputs" ]]
	run --separate-stderr find "$here/corpus/record" \
	    "$here/regress/record" -type f -exec fuzz-record {} +
	[ "$status" -eq 0 ]
	[[ $output == *" inputs" ]]
	[ "$(count_files "$here/regress/record")" -ge 1 ]
	run --separate-stderr find "$here/corpus/config" \
	    "$here/regress/config" -type f -exec fuzz-config {} +
	[ "$status" -eq 0 ]
	[[ $output == *" inputs" ]]
	run --separate-stderr find "$here/corpus/catalog" \
	    "$here/regress/catalog" -type f -exec fuzz-catalog {} +
	[ "$status" -eq 0 ]
	[[ $output == *" inputs" ]]
	[ "$(count_files "$here/regress/catalog")" -ge 1 ]
	mkdir -p "$here/regress/undo"
	run --separate-stderr find "$here/corpus/undo" "$here/regress/undo" \
	    -type f -exec fuzz-undo {} +
	[ "$status" -eq 0 ]
	[[ $output == *" inputs" ]]
}
