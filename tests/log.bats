#!/usr/bin/env bats
# vb-log: BackupLog in the application's own database, and --show.

bats_require_minimum_version 1.5.0
load helpers

ts=2026-11-27T01:00:03.412Z
sha=ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad

rec_ok() {
	printf 'b/backup-x.tar.zst\tcompress\tok\t1234\t%s\t56\t%s\tzstd level 3\n' "$sha" "${1:-$ts}"
}

rec_failed() {
	printf -- '-\tsnapshot\tfailed\t-\t-\t7\t%s\tapp.db: No such file or directory\n' "${1:-$ts}"
}

@test "log: --help, --version, bad usage" {
	run --separate-stderr vb-log --help
	[ "$status" -eq 0 ]
	[[ $output == usage:\ vb-log* ]]
	run --separate-stderr vb-log --version
	[ "$status" -eq 0 ]
	for bad in "" "a.db b.db" "--failures a.db" "-n 3 a.db" "--show -n 0 a.db" \
	    "--show --since yesterday a.db" "--show -q a.db" "--bogus a.db"; do
		# shellcheck disable=SC2086 # the options are words
		run --separate-stderr vb-log $bad </dev/null
		[ "$status" -eq 2 ]
		[[ $stderr == *usage:\ vb-log* ]]
	done
}

@test "log: creates BackupLog, writes one row per record, passes lines on" {
	mkdb app.db wal
	input=$(rec_ok; rec_failed)
	run --separate-stderr vb-log app.db <<<"$input"
	[ "$status" -eq 0 ]
	[ "$output" = "$input" ]
	[ -z "$stderr" ]
	run sqlite3 -separator '|' app.db "SELECT createdAt, operation, status,
	    filename, sizeBytes, sha256, durationMs, message FROM BackupLog ORDER BY id"
	[ "${lines[0]}" = "$ts|compress|success|b/backup-x.tar.zst|1234|$sha|56|zstd level 3" ]
	[ "${lines[1]}" = "$ts|snapshot|failure||||7|app.db: No such file or directory" ]
	[ "$(sqlite3 app.db "SELECT count(*) FROM sqlite_schema WHERE name = 'BackupLog_createdAt'")" -eq 1 ]
	# -q passes nothing on.
	run --separate-stderr vb-log -q app.db <<<"$(rec_ok)"
	[ "$status" -eq 0 ]
	[ -z "$output" ]
	[ "$(sqlite3 app.db 'SELECT count(*) FROM BackupLog')" -eq 3 ]
}

@test "log: an application's own BackupLog is written, never altered" {
	mkdb app.db delete
	sqlite3 app.db "CREATE TABLE BackupLog (id INTEGER PRIMARY KEY,
	    filename TEXT, size INTEGER, status TEXT, message TEXT,
	    createdAt TEXT NOT NULL, operation TEXT NOT NULL,
	    note TEXT DEFAULT 'app')"
	before=$(sqlite3 app.db "SELECT sql FROM sqlite_schema WHERE tbl_name = 'BackupLog'")
	run --separate-stderr vb-log app.db <<<"$(rec_ok)"
	[ "$status" -eq 0 ]
	[ "$(sqlite3 app.db "SELECT sql FROM sqlite_schema WHERE tbl_name = 'BackupLog'")" = "$before" ]
	[ "$(sqlite3 -separator '|' app.db 'SELECT filename, size, status, note FROM BackupLog')" = \
	    "b/backup-x.tar.zst|1234|success|app" ]
	# --show reads it too.
	run --separate-stderr vb-log --show app.db
	[ "$status" -eq 0 ]
	assert_record "$output" compress ok
	[ "$(field 4 "$output")" = 1234 ]
}

@test "log: unparsable lines pass on and are reported, not logged" {
	mkdb app.db wal
	input=$(printf 'just/a/path.db\nnot\ta\trecord\n%s' "$(rec_ok)")
	run --separate-stderr vb-log app.db <<<"$input"
	[ "$status" -eq 0 ]
	[ "$output" = "$input" ]
	[[ $stderr == *"not a record, not logged: just/a/path.db"* ]]
	[ "$(sqlite3 app.db 'SELECT count(*) FROM BackupLog')" -eq 1 ]
}

@test "log: a missing database is not created; records still pass on" {
	run --separate-stderr vb-log "$T/missing.db" <<<"$(rec_ok)"
	[ "$status" -eq 1 ]
	[ "$output" = "$(rec_ok)" ]
	[[ $stderr == *"missing.db: No such file or directory"* ]]
	[[ $stderr == *"not logged: b/backup-x.tar.zst"* ]]
	[ ! -e "$T/missing.db" ]
}

@test "log: a database locked past the timeout loses nothing silently" {
	mkdb app.db delete
	vb-log -q app.db </dev/null
	# An exclusive lock held for longer than vb's 30 s wait would take
	# too long here; a read-only file gives the same failure at once.
	chmod 755 "$T"
	chmod 444 app.db
	run --separate-stderr as_nobody vb-log "$T/app.db" <<<"$(rec_ok)"
	[ "$status" -eq 1 ]
	[ "$output" = "$(rec_ok)" ]
	[[ $stderr == *"cannot write BackupLog"* ]]
	[[ $stderr == *"not logged: b/backup-x.tar.zst"* ]]
	[ "$(sqlite3 app.db 'SELECT count(*) FROM BackupLog')" -eq 0 ]
}

@test "log: logs while the application writes, and never blocks it for long" {
	mkdb app.db wal
	vb-testwriter app.db >writer.out &
	BG_PIDS=$!
	sleep 0.3
	for i in $(seq 20); do
		rec_ok "2026-11-27T01:00:$(printf %02d "$i").000Z"
	done | vb-log -q app.db
	kill -TERM "$BG_PIDS"
	wait "$BG_PIDS"
	BG_PIDS=
	[ "$(sqlite3 app.db 'SELECT count(*) FROM BackupLog')" -eq 20 ]
	[ "$(vb-testwriter --check app.db)" = ok ]
}

@test "log: --show newest first, --failures, -n, --since; records when piped" {
	mkdb app.db wal
	{
		rec_ok 2026-11-25T01:00:00.000Z
		rec_failed 2026-11-26T01:00:00.000Z
		rec_ok 2026-11-27T01:00:00.000Z
	} | vb-log -q app.db
	run --separate-stderr vb-log --show app.db
	[ "$status" -eq 0 ]
	[ "${#lines[@]}" -eq 3 ]
	[ "$(field 7 "${lines[0]}")" = 2026-11-27T01:00:00.000Z ]
	[ "$(field 7 "${lines[2]}")" = 2026-11-25T01:00:00.000Z ]
	for l in "${lines[@]}"; do
		assert_record "$l" "$(field 2 "$l")" "$(field 3 "$l")"
	done
	run --separate-stderr vb-log --show --failures app.db
	[ "${#lines[@]}" -eq 1 ]
	assert_record "${lines[0]}" snapshot failed
	run --separate-stderr vb-log --show -n 1 app.db
	[ "${#lines[@]}" -eq 1 ]
	run --separate-stderr vb-log --show --since 2026-11-26 app.db
	[ "${#lines[@]}" -eq 2 ]
	# The history pipes back into vb-log unchanged.
	vb-log --show app.db | vb-log -q app.db
	[ "$(sqlite3 app.db 'SELECT count(*) FROM BackupLog')" -eq 6 ]
}

@test "log: --show on a terminal prints aligned columns" {
	mkdb app.db wal
	rec_ok | vb-log -q app.db
	command -v script >/dev/null || skip "no script(1) for a pseudo-terminal"
	run script -qec "vb-log --show $T/app.db" /dev/null
	[ "$status" -eq 0 ]
	[[ ${lines[0]} == createdAt* ]]
	[[ ${lines[1]} == "$ts  compress   success"* ]]
}

@test "log: --show without a BackupLog says so" {
	mkdb app.db wal
	run --separate-stderr vb-log --show app.db
	[ "$status" -eq 1 ]
	[[ $stderr == *"no BackupLog table"* ]]
}

@test "log: --show --json is valid JSON whatever the rows hold" {
	mkdb app.db wal
	rec_ok | vb-log -q app.db
	# An application's own rows may hold anything.
	sqlite3 app.db "INSERT INTO BackupLog(createdAt, operation, status,
	    filename, message) VALUES ('2026-11-28T00:00:00.000Z', 'note',
	    'success', 'caf\u00e9 \"quoted\" \\back', 'tab' || char(9) ||
	    'nl' || char(10) || 'ctl' || char(1) || ' 日本 ' || CAST(x'ff' AS TEXT))"
	run --separate-stderr vb-log --show --json app.db
	[ "$status" -eq 0 ]
	[ "$(jq length <<<"$output")" -eq 2 ]
	[ "$(jq -r '.[0].message' <<<"$output")" = "$(printf 'tab\tnl\nctl\001 日本 \357\277\275')" ]
	[ "$(jq -r '.[0].filename' <<<"$output")" = 'caf\u00e9 "quoted" \back' ]
	[ "$(jq '.[1].sizeBytes' <<<"$output")" -eq 1234 ]
	[ "$(jq '.[0].sizeBytes' <<<"$output")" = null ]
	run --separate-stderr vb-log --show --json --failures app.db
	[ "$output" = "[]" ]
}

@test "log: --show copies the whole history when piped; a terminal says what it left out" {
	mkdb app.db wal
	for i in $(seq 85); do
		rec_ok "$(date -u -d "2026-11-01 + $i minutes" +%Y-%m-%dT%H:%M:%S.000Z)"
	done | vb-log -q app.db
	mkdb other.db wal
	vb-log --show app.db | vb-log -q other.db
	[ "$(sqlite3 other.db 'SELECT count(*) FROM BackupLog')" -eq 85 ]
	[ "$(vb-log --show --json app.db | jq length)" -eq 85 ]
	[ "$(vb-log --show -n 10 app.db | wc -l)" -eq 10 ]
	command -v script >/dev/null || skip "no script(1)"
	run script -qec "vb-log --show $T/app.db" /dev/null
	[ "${#lines[@]}" -eq 52 ]	# the header, 50 rows, the note
	[[ ${lines[51]} == "... and 35 more rows (vb-log --show -n 85 shows them all"* ]]
}

@test "log: --show on a terminal: '-' for no duration, columns aligned whatever the table's words and times, -n says how many more" {
	mkdb app.db wal
	# The Node service's table: no duration column, SUCCESS/FAILED,
	# createdAt in Unix milliseconds.
	sqlite3 app.db "CREATE TABLE BackupLog (id INTEGER PRIMARY KEY,
	    filename TEXT NOT NULL, size INTEGER, status TEXT NOT NULL
	    CHECK(status IN ('SUCCESS', 'FAILED')), message TEXT,
	    createdAt INTEGER NOT NULL)"
	for i in 1 2 3 4 5; do
		rec_ok "2026-11-0${i}T01:00:00.000Z"
	done | vb-log -q app.db
	printf -- '-\tbackup\tfailed\t-\t-\t-\t2026-11-06T01:00:00.000Z\tfailed at config: x\n' |
	    vb-log -q app.db
	command -v script >/dev/null || skip "no script(1) for a pseudo-terminal"
	run script -qec "vb-log --show -n 3 $T/app.db" /dev/null
	[ "$status" -eq 0 ]
	[ "${#lines[@]}" -eq 5 ]	# the header, 3 rows, the note
	[[ ${lines[1]} == "2026-11-06T01:00:00.000Z  backup     FAILED            -           -  -  failed at config: x"* ]]
	[[ ${lines[2]} == "2026-11-05T01:00:00.000Z  compress   SUCCESS     1.2 KiB           -  b/"* ]]
	[[ ${lines[0]} != *" ms"* ]] && [[ ${lines[2]} != *" 0 ms"* ]]
	[[ ${lines[4]} == "... and 3 more rows (vb-log --show -n 6 shows them all)"* ]]
	# Every row's file column starts where the header says.
	col=$(awk '{ print index($0, "file  message"); exit }' <<<"${lines[0]}")
	for i in 1 2 3; do
		[ "${lines[$i]:$((col - 3)):2}" = "  " ] ||
		    { echo "misaligned: ${lines[$i]}"; return 1; }
		[ "${lines[$i]:$((col - 1)):1}" != " " ]
	done
}

# rec OP STATUS FILE MESSAGE: a record of now.
rec() {
	printf '%s\t%s\t%s\t-\t-\t1\t%s\t%s\n' "$3" "$1" "$2" \
	    "$(date -u +%FT%T.000Z)" "$4"
}

@test "log: --check-runs judges the last run, the last backup and the drills in verdict lines" {
	mkdb app.db wal
	mkdir b
	export BACKUP_DIR=$T/b
	: >b/backup-x.tar.zst
	{
		rec backup ok "$T/b/backup-x.tar.zst" "backup ok"
		rec verify ok "$T/b/backup-x.tar.zst" "drill: restored and proven; drill=proven"
	} | vb-log -q app.db
	run --separate-stderr vb-log --check-runs app.db
	[ "$status" -eq 0 ]
	[ "$(cut -f1,2 <<<"$output")" = $'ok\tlast run\nok\tlast backup\nok\tdrill' ]
	[[ $(sed -n 2p <<<"$output" | cut -f3) == *", 0 h 0 min ago ($T/b/backup-x.tar.zst)" ]]
	[[ $(sed -n 3p <<<"$output" | cut -f3) == "last verified restore "*"Z (DRILL_EVERY=7d)" ]]
	# A failed run: its line FAILs, the status says so; the backup
	# before it still counts, until its file is gone.
	rec backup failed - "snapshot: disk full" | vb-log -q app.db
	rm b/backup-x.tar.zst
	run --separate-stderr vb-log --check-runs app.db
	[ "$status" -eq 1 ]
	[ "$(cut -f1,2 <<<"$output")" = $'FAIL\tlast run\nFAIL\tlast backup\nok\tdrill' ]
	[[ $(sed -n 1p <<<"$output" | cut -f3) == *": snapshot: disk full; see vb-log --show --failures app.db" ]]
	[[ $(sed -n 2p <<<"$output" | cut -f3) == *"and it is not there (deleted or moved?)"* ]]
	# A history that cannot be read is a FAIL of its own, first.
	run --separate-stderr vb-log --check-runs none.db
	[ "$status" -eq 1 ]
	[[ $(head -n1 <<<"$output") == $'FAIL\thistory\tBackupLog in none.db cannot be read ('* ]]
	[ ! -e none.db ]
}

@test "log: --due answers what tonight is due in four fields" {
	mkdb app.db wal
	run --separate-stderr vb-log --due app.db
	[ "$status" -eq 0 ]
	[ "$output" = $'due\tyes\tno\t-' ]
	DRILL_EVERY=0 run --separate-stderr vb-log --due app.db
	[ "$output" = $'off\tyes\tyes\t-' ]
	rec verify ok b/backup-x.tar.zst "drill: restored and proven; drill=proven" |
	    vb-log -q app.db
	run --separate-stderr vb-log --due app.db
	[ "$status" -eq 0 ]
	local t=$'\t' when='[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z'
	[[ $output =~ ^not-due${t}yes${t}no${t}${when}$ ]]
	DRILL_EVERY=1h run --separate-stderr vb-log --due app.db
	[[ $output == due$'\t'* ]]
	# Unreadable: said, status 1, and everything due, never "not due".
	run --separate-stderr vb-log --due none.db
	[ "$status" -eq 1 ]
	[ "$output" = $'due\tyes\tno\t-' ]
	[[ $stderr == "vb-log: "* ]]
	run --separate-stderr vb-log --due --show app.db
	[ "$status" -eq 2 ]
}

@test "log: --finish ends a run: a record for the stage that died, the backup row last, the answer in fields" {
	mkdb app.db wal
	# The snapshot was made; vb-compress was killed, the snapshot then
	# died of SIGPIPE: the cause is the run's failure.
	printf 'backups/backup-x.db\tsnapshot\tok\t8192\t-\t12\t%s\tm\n' \
	    "$ts" >recs
	run --separate-stderr vb-log --finish "$(date +%s.%N),0" \
	    --stage snapshot=141 --stage compress=137 --stage log=0 \
	    --failed leftovers="a raw snapshot could not be archived: x" \
	    "$T/app.db" <recs
	[ "$status" -eq 0 ]
	[[ $output == EXIT=1$'\n'* ]]
	[[ $output == *$'\nSTATUS=failure\n'* ]]
	[[ $output == *$'\nFAILED_STAGES=leftovers compress snapshot\n'* ]]
	[[ $output == *$'\nSEE=see: vb-log --show --failures '"$T/app.db"$', and vb-backup --check\n'* ]]
	[[ $output == *$'\nDB_BYTES=8192\n'* ]]
	[[ $output == *$'\nKEPT=0' ]]
	[[ ${lines[1]} == "SUMMARY=FAILED after "*"s at leftovers: a raw snapshot could not be archived: x" ]]
	run sqlite3 app.db "SELECT operation || ' ' || status || ' ' || message
	    FROM BackupLog ORDER BY id DESC"
	[ "${lines[0]}" = "backup failure failed at leftovers: a raw snapshot could not be archived: x" ]
	[ "${lines[1]}" = "snapshot failure vb-snapshot was killed by SIGPIPE" ]
	[ "${lines[2]}" = "compress failure vb-compress was killed by SIGKILL" ]
	[ "${#lines[@]}" -eq 3 ]
	# A stage of the pipeline is derived, never told; a database that
	# never parsed takes no row, and the run says so.
	run --separate-stderr vb-log --finish 1,0 --failed compress=x "$T/app.db"
	[ "$status" -eq 2 ]
	run --separate-stderr vb-log --finish "$(date +%s),2" \
	    --failed config="DB_PATH and BACKUP_DIR must be set" "" </dev/null
	[ "$status" -eq 0 ]
	[[ $output == *"; BackupLog could not take the backup row"* ]]
	[[ $output == *$'\nSEE=see: vb-backup --check\n'* ]]
	[[ $output == EXIT=2$'\n'* ]]
}

@test "log: --finish --drill-only ends a drill alone: its rows from --drill-records, no backup row, the summary, why it failed" {
	mkdb app.db wal
	{
		rec verify ok "$T/b/backup-x.tar.zst" "drill: restored and proven; drill=proven"
		rec verify failed "$T/b/backup-y.tar.zst" "drill: broken; drill=failed"
	} >drill
	run --separate-stderr vb-log --finish "$(date +%s),0" --drill-only \
	    --stage drill=1:40 --drill-records drill --metrics m.prom "$T/app.db" </dev/null
	[ "$status" -eq 0 ]
	[[ $output == EXIT=1$'\n'"SUMMARY=drill FAILED: $T/b/backup-y.tar.zst: drill: broken; drill=failed"$'\nSEE=\nSTATUS=failure\nWARNING=\nFAILED_STAGES=drill\n'* ]]
	[[ $output == *$'\nKEPT=' ]]
	[ "$(sqlite3 app.db "SELECT group_concat(operation || ' ' || status, ',')
	    FROM BackupLog")" = "verify success,verify failure" ]
	grep -q '^vb_backup_last_drill_success.* 0$' m.prom
	# Proven: the count of the records that are.
	rec verify ok "$T/b/backup-x.tar.zst" "drill: restored and proven; drill=proven" >drill
	run --separate-stderr vb-log --finish "$(date +%s),0" --drill-only \
	    --stage drill=0:40 --drill-records drill "$T/app.db" </dev/null
	[[ ${lines[1]} == "SUMMARY=drill: 1 backup(s) restored and proven" ]]
	[ "$(sqlite3 app.db "SELECT count(*) FROM BackupLog
	    WHERE operation = 'backup'")" -eq 0 ]
}

@test "log: --finish answers no byte a terminal would act on, whatever the records hold" {
	printf 'x\tcompress\tfailed\t-\t-\t-\t2026-12-07T01:00:00.000Z\tboom\033]0;owned\007 \033[31mred\n' |
	    vb-log --finish 1733600000,0 --stage snapshot=0 --stage compress=1 \
	    --stage log=0 "" >answer
	grep -q '^SUMMARY=FAILED after .* at compress: boom?\]0;owned? ?\[31mred' answer
	run ! env LC_ALL=C grep -q $'[\x01-\x08\x0b-\x1f\x7f]' answer
}

@test "log: --finish's SEE names the database as a shell reads it back (a space, a quote)" {
	local d="$T/my app's"
	mkdir "$d"
	mkdb "$d/app.db" wal
	run --separate-stderr vb-log --finish "$(date +%s.%N),1" \
	    --failed lock="cannot lock" "$d/app.db" </dev/null
	[ "$status" -eq 0 ]
	local see
	see=$(sed -n 's/^SEE=see: vb-log --show --failures \(.*\), and vb-backup --check$/\1/p' <<<"$output")
	[ -n "$see" ]
	eval "set -- $see"
	[ "$#" -eq 1 ] && [ "$1" = "$d/app.db" ]
}
