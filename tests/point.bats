#!/usr/bin/env bats
# Points in time (issue 38): between nightlies, vb-compress --point
# archives the pages changed since the nightly (or the hour's point),
# read in one read transaction and never copied whole; vb-restore --at
# restores the newest backup at or before a time; retention drops a point
# only when none leans on it.  A day passes in seconds: each backup is
# taken at the time libfaketime gives it (faketime -f @TIME), while the
# application's writer (vb-testwriter) commits in real time throughout.

# shellcheck disable=SC2154 # bats' run --separate-stderr sets $stderr
# shellcheck disable=SC2030,SC2031 # each test reads what its own point set
# shellcheck disable=SC2034 # BG_PIDS is teardown's (helpers.bash)
bats_require_minimum_version 1.5.0
load helpers

setup() {
	vb_setup
	export RCLONE_CONFIG=$T/rclone.conf	# none: nothing of the machine's
	export TZ=UTC
	mkdir -m 700 b
	mkdb app.db wal 2000
	filldb app.db 2
	conf
}

# conf [MORE LINES]: points every 5 minutes into b/, no drill.
conf() {
	{
		printf 'DB_PATH=%s\nBACKUP_DIR=%s\n' "$T/app.db" "$T/b"
		printf 'BACKUP_INTERVAL=300000\nDRILL_EVERY=0\n'
		printf '%s\n' "$@"
	} >"$VB_CONF"
}

# at TIME COMMAND...: COMMAND with the clock starting at TIME (UTC,
# "2026-11-02 14:05:00") and running on from there.
at() {
	local t=$1
	shift
	FAKETIME_DONT_FAKE_MONOTONIC=1 \
	    ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0" \
	    faketime -m -f "@$t" "$@"
}

# nightly TIME [vb-compress options]: the nightly's two stages at TIME.
nightly() {
	local t=$1
	shift
	at "$t" bash -c 'vb-snapshot -q app.db | vb-compress -q "$@"' _ "$@" |
	    tail -n1
}

# point TIME [options]: a point at TIME; its compress record in $rec.
point() {
	local t=$1
	shift
	rec=$(at "$t" vb-compress -q --point "$@" app.db)
}

# iso PATH: the UTC time a backup's name says, as --at takes it.
iso() {
	local s=${1##*/backup-}
	s=${s%%.*}
	echo "${s:0:10}T${s:11:2}:${s:14:2}:${s:17:2}.${s:20:3}Z"
}

# rows DB: the application's tables, hashed (not BackupLog).
rows() {
	sqlite3 "$1" ".dump accounts ledger" | sha256sum | cut -d' ' -f1
}

# restored_at TIME: vb-restore --at TIME --to r.db; the record in $out.
restored_at() {
	rm -f r.db r.db-wal r.db-shm
	out=$(vb-restore -q --at "$1" --to r.db) ||
		{ echo "--at $1: $out"; return 1; }
	vb-testwriter --check r.db >/dev/null
}

# maxid DB: the writer's last committed row.
maxid() {
	sqlite3 "$1" "SELECT max(id) FROM ledger"
}

@test "point: a day of points under a writer: each one, --at its time, is the database as it was then" {
	slow
	local t n=0 pid stem m0 m1 m2 prev='' times=() want=() lo=() hi=()
	# Larger, and a writer slow enough that a sanitized build's points
	# (many times slower) never see a quarter of the pages change.
	filldb app.db 6
	nightly "2026-11-02 01:00:00" >/dev/null
	vb-testwriter --rate 100 --seconds 900 app.db >/dev/null &
	pid=$!
	BG_PIDS=$pid
	# Every half hour, and every 5 minutes in the 14:00 hour (seconds
	# after 2026-11-02 00:00 UTC).
	for t in $({ seq 5400 1800 84600; seq 50700 300 53700; } | sort -nu); do
		t=$(date -u -d "@$((1793577600 + t))" '+%F %T')
		n=$((n + 1))
		if ((n % 4 == 0)); then
			# The writer held still: the database exactly as then.
			kill -STOP "$pid"
			m0=$(rows app.db)
			point "$t"
			kill -CONT "$pid"
			want+=("$m0") lo+=(-) hi+=(-)
		else
			m1=$(maxid app.db)
			point "$t"
			m2=$(maxid app.db)
			want+=(-) lo+=("$m1") hi+=("$m2")
		fi
		assert_record "$rec" compress ok
		times+=("$(iso "$(field 1 "$rec")")")
	done
	kill -TERM "$pid"
	wait "$pid" || true
	BG_PIDS=
	[ "$(find b -name '*.delta.tar.zst' | wc -l)" -eq "$n" ]
	for ((i = 0; i < n; i++)); do
		restored_at "${times[i]}"
		[[ $(field 8 "$out") == *"backup-"*"chain of "[23]" archives"* ]]
		[[ $(field 8 "$out") == *"$(date -u -d "${times[i]}" +%FT%H-%M-%S)"* ]]
		if [ "${want[i]}" != - ]; then
			[ "$(rows r.db)" = "${want[i]}" ]
		else
			m0=$(maxid r.db)
			[ "$m0" -ge "${lo[i]}" ] && [ "$m0" -le "${hi[i]}" ]
			[ "$(sqlite3 r.db 'SELECT count(*) FROM ledger')" -eq "$m0" ]
		fi
		# A millisecond before it: the point before (or the nightly).
		stem=$(date -u -d "${times[i]} - 0.001 seconds" +%FT%T.%3NZ)
		restored_at "$stem"
		[[ $(field 8 "$out") != *"$(date -u -d "${times[i]}" +%FT%H-%M-%S)"* ]]
		prev=${times[i]}
	done
	# Local time, without the Z: the same moment.
	out=$(TZ=America/New_York vb-restore -q --at "$(TZ=America/New_York \
	    date -d "$prev" +%FT%T.%3N)" --to r2.db)
	[ "$(field 5 "$out")" = "$(field 5 "$(vb-restore -q --at "$prev" \
	    --to r3.db)")" ]
	# A point's page 1 says rollback journal (bytes 18 and 19): the
	# database it rebuilds needs no -wal; --to gives back the source's.
	stem=$(basename "${rec%%.delta*}")
	[ "$(tar --zstd -xOf "$(field 1 "$rec")" "$stem.pages" |
	    od -An -tu1 -j22 -N2 | tr -s ' ')" = " 1 1" ]
	[ "$(sqlite3 r3.db 'PRAGMA journal_mode')" = wal ]
	[ "$(sqlite3 r3.db 'PRAGMA integrity_check')" = ok ]
	no_temporaries b
}

@test "point: it leans on the nightly or the hour's point; --list says point; vb-restore checks the chain" {
	local n1 h p
	n1=$(field 1 "$(nightly "2026-11-02 01:00:00")")
	filldb app.db 1
	point "2026-11-02 14:05:00"
	h=$(field 1 "$rec")
	[[ $(field 8 "$rec") == *"point of $(basename "${n1%%.tar*}"):"* ]]
	[[ $(field 8 "$rec") == *"db "*" bytes, not copied; read back ok, proven on"* ]]
	filldb app.db 1
	point "2026-11-02 14:35:00"
	p=$(field 1 "$rec")
	[[ $(field 8 "$rec") == *"point of $(basename "${h%%.delta*}"):"* ]]
	point "2026-11-02 15:00:00"
	[[ $(field 8 "$rec") == *"point of $(basename "${n1%%.tar*}"):"* ]]
	run --separate-stderr vb-restore --list --fields "$T/b"
	[ "$status" -eq 0 ]
	[ "$(awk -F'\t' '$4 == "point"' <<<"$output" | wc -l)" -eq 3 ]
	[ "$(awk -F'\t' -v p="$p" '$1 == p { print $8 }' <<<"$output")" = \
	    "$(basename "${h%%.delta*}")" ]
	run vb-restore --list --json b
	[ "$(jq -r '[.[] | select(.type == "point")] | length' <<<"$output")" -eq 3 ]
	# Restored alone: a chain of three archives, verified as any.
	run --separate-stderr vb-restore --verify-only "$p"
	[ "$status" -eq 0 ]
	[[ $(field 8 "$output") == *"chain of 3 archives"* ]]
	[[ $(field 8 "$output") == *"a point: not checked when taken"* ]]
	# The hour's point gone: the point on it cannot be restored, said.
	mv "$h" "$T/aside"
	run --separate-stderr vb-restore --to r.db "$p"
	[ "$status" -eq 1 ]
	[[ $stderr == *"which is missing"* ]]
	[ ! -e r.db ]
	mv "$T/aside" "$h"
	# A point's manifest: kind point, its parent, what it leans on.
	tar --zstd -xOf "$p" MANIFEST >manifest
	grep -qx 'kind: point' manifest
	grep -qx "parent: $(basename "${h%%.delta*}")" manifest
	grep -qx 'integrity: unchecked' manifest
	[ "$(tar --zstd -tf "$p" | tr '\n' ' ')" = "MANIFEST $(basename "${p%%.delta*}").pages " ]
}

@test "point: never a copy of the database: it fits where a snapshot cannot" {
	slow
	local a
	filldb app.db 16
	a=$(field 1 "$(nightly "2026-11-02 01:00:00")")
	small_fs 16M
	mkdir -m 700 "$MNT/b"
	mv "$a" b/.vb-index-* b/.vb-rows "$MNT/b/"
	# The archive fills most of it; a copy of the database would not fit.
	[ "$(stat -c %s app.db)" -gt "$(df -B1 --output=avail "$MNT" | tail -n1)" ]
	sqlite3 app.db "UPDATE ledger SET note = 'changed' WHERE id % 997 = 0"
	rec=$(at "2026-11-02 14:05:00" vb-compress -q --point -d "$MNT/b" app.db)
	assert_record "$rec" compress ok
	[ "$(field 4 "$rec")" -lt $(($(stat -c %s app.db) / 20)) ]
	run --separate-stderr vb-snapshot -q -d "$MNT/b" app.db
	[ "$status" -eq 1 ]
	[[ $stderr == *"not enough space"* ]]
	vb-restore -q --to r.db "$(field 1 "$rec")" >/dev/null
	[ "$(rows r.db)" = "$(rows app.db)" ]
	no_temporaries "$MNT/b"
}

@test "point: a rollback-journal database under a writer: one consistent state, the writer waits for the read only" {
	slow
	local pid
	rm -f app.db
	mkdb app.db delete 2000
	filldb app.db 2
	nightly "2026-11-02 01:00:00" >/dev/null
	vb-testwriter --seconds 30 app.db >/dev/null &
	pid=$!
	BG_PIDS=$pid
	point "2026-11-02 14:05:00"
	assert_record "$rec" compress ok
	point "2026-11-02 14:10:00"
	assert_record "$rec" compress ok
	kill -TERM "$pid"
	wait "$pid" || true
	BG_PIDS=
	vb-restore -q --to r.db "$(field 1 "$rec")" >/dev/null
	vb-testwriter --check r.db
	[ "$(sqlite3 r.db 'PRAGMA journal_mode')" = delete ]
}

@test "point: refused, said, nothing left: no nightly, no page index, a clock gone back, too many pages (the nightly asked for)" {
	slow
	run --separate-stderr at "2026-11-02 14:05:00" vb-compress --point app.db
	[ "$status" -eq 1 ]
	assert_record "$output" compress failed
	[[ $stderr == *"no point can be made: no nightly archive to lean on"* ]]
	[[ $(field 8 "$output") == *"vb-backup --nightly"* ]]
	[ "$(at "2026-11-02 14:05:00" vb-compress --due -q)" = nightly ]
	# A nightly made before points were configured has no page index.
	BACKUP_INTERVAL=86400000 nightly "2026-11-02 01:00:00" >/dev/null
	[ -z "$(find b -name '.vb-index-*')" ]
	run --separate-stderr at "2026-11-02 14:05:00" vb-compress --point app.db
	[ "$status" -eq 1 ]
	[[ $stderr == *"has no page index"* ]]
	[ "$(at "2026-11-02 14:05:00" vb-compress --due -q)" = nightly ]
	nightly "2026-11-02 14:10:00" >/dev/null
	[ "$(at "2026-11-02 14:15:00" vb-compress --due -q)" = point ]
	# A point older than the nightly: a clock gone back.
	run --separate-stderr at "2026-11-02 14:00:00" vb-compress --point app.db
	[ "$status" -eq 1 ]
	[[ $stderr == *"is not older than this point"* ]]
	# Most pages rewritten: no point, the nightly asked for.
	sqlite3 app.db "UPDATE ledger SET note = hex(randomblob(1900))"
	run --separate-stderr at "2026-11-02 14:20:00" vb-compress --point app.db
	[ "$status" -eq 1 ]
	[[ $stderr == *"pages changed since"*"more than a point holds"*"takes the nightly"* ]]
	[ "$(at "2026-11-02 14:25:00" vb-compress --due -q)" = nightly ]
	[ "$(find b -name '*.delta.*' | wc -l)" -eq 0 ]
	no_temporaries b
	# The database missing: said, not created.
	run --separate-stderr vb-compress --point "$T/none.db"
	[ "$status" -eq 1 ]
	[ ! -e "$T/none.db" ]
	run vb-compress --point
	[ "$status" -eq 2 ]
	run vb-compress --point -k app.db
	[ "$status" -eq 2 ]
	run vb-compress --due app.db
	[ "$status" -eq 2 ]
}

@test "point: retention drops a point only when no kept point leans on it (KEEP_HOURLY, MAX_BACKUPS)" {
	slow
	local t k stem par
	nightly "2026-11-02 01:00:00" >/dev/null
	for t in $(seq 0 600 14400); do
		sqlite3 app.db "UPDATE ledger SET note = 'p$t' WHERE id % 89 = 0"
		point "$(date -u -d "@$((1793581200 + 300 + t))" '+%F %T')"
	done
	run --separate-stderr vb-prune -d b --keep 2 --keep-hourly 3
	[ "$status" -eq 0 ]
	[ -n "$output" ]
	# What is left restores, every point of it: nothing leans on a gone one.
	for k in b/backup-*.delta.tar.zst; do
		vb-restore -q --verify-only "$k" >/dev/null ||
			{ echo "$k: does not restore"; return 1; }
	done
	# The newest 2 (05:05, 04:55) and the newest of each of the last 3
	# hours (05:05, 04:55, 03:55), the hour's points they lean on
	# (04:05, 03:05; 05:05 is its hour's), and the nightly.
	[ "$(find b -name 'backup-*' | wc -l)" -eq 6 ]
	# A point nothing leans on went alone.
	[ -z "$(ls b/backup-2026-11-02T04-25-00-*.delta.tar.zst 2>/dev/null)" ]
	[ -n "$(ls b/backup-2026-11-02T04-05-00-*.delta.tar.zst)" ]
	# Its page index went with it; the kept ones' stayed.
	for k in b/.vb-index-*; do
		stem=${k#b/.vb-index-}
		ls b/"$stem".* >/dev/null
	done
	# KEEP_WITHIN keeps every point of the span.
	run --separate-stderr vb-prune -d b --keep-within 1d
	[ "$status" -eq 0 ]
	[ -z "$output" ]
	# The parents named by the indexes: each kept point's is there.
	while IFS=$'\t' read -r _ stem _ t _ _ _ par _; do
		[ "$t" = point ] || continue
		[ -n "$(ls b/"$par".* 2>/dev/null)" ] ||
			{ echo "$stem leans on $par, gone"; return 1; }
	done < <(vb-restore --list --fields b)
}

@test "point: a damaged link of a point's chain: reported, never built on, restored from the remote's copy" {
	local h p
	conf "OFFSITE=$T/remote"
	nightly "2026-11-02 01:00:00" | vb-offsite -q >/dev/null
	filldb app.db 1
	point "2026-11-02 14:05:00"
	h=$(field 1 "$rec")
	printf '%s\n' "$rec" | vb-offsite -q >/dev/null
	sqlite3 app.db "UPDATE ledger SET note = 'late' WHERE id % 50 = 0"
	point "2026-11-02 14:10:00"
	p=$(field 1 "$rec")
	printf '%s\n' "$rec" | vb-offsite -q >/dev/null
	[ -f "remote/$(basename "$p")" ] && [ -f "remote/$(basename "$h")" ]
	flip_byte "$h" 200
	# Here: the chain cannot be rebuilt, nothing left.
	run --separate-stderr vb-restore -q --to r.db "$p"
	[ "$status" -eq 1 ]
	[ ! -e r.db ]
	# From the remote: its good copy of the damaged link.
	run --separate-stderr vb-restore --offsite --to r.db "$(basename "$p")"
	[ "$status" -eq 0 ]
	[[ $stderr == *"failed its checks"*"used the copy on $T/remote"* ]]
	[ "$(rows r.db)" = "$(rows app.db)" ]
	# The next point finds the damage: refused, recorded, and the one
	# after leans on the nightly, never on the damaged point.
	run --separate-stderr at "2026-11-02 14:15:00" vb-compress --point app.db
	[ "$status" -eq 1 ]
	[[ $stderr == *"$(basename "$h") is damaged"* ]]
	[ -f "b/.vb-damaged-$(basename "${h%%.delta*}")" ]
	point "2026-11-02 14:20:00"
	[[ $(field 8 "$rec") == *"point of backup-2026-11-02T01-00-00-"* ]]
	# Retention keeps the damaged one (for the operator), counts it not.
	run --separate-stderr vb-prune -d b --keep 1
	[ -f "$h" ]
}

@test "point: encrypted (age) and signed (SIGN_WITH): restored with the identity, its signature checked" {
	local p
	age-keygen -o key.txt 2>/dev/null
	age-keygen -y key.txt >recipients.txt
	ssh-keygen -q -t ed25519 -N '' -C vb-test -f "$T/signing-key"
	conf "ENCRYPT_TO=$T/recipients.txt" "SIGN_WITH=$T/signing-key"
	# Recorded in BackupLog as the job records them: the signed catalog
	# lists only archives BackupLog (or the last catalog) knows.
	nightly "2026-11-02 01:00:00" | vb-log -q app.db
	filldb app.db 1
	point "2026-11-02 14:05:00"
	printf '%s\n' "$rec" | vb-log -q app.db
	p=$(field 1 "$rec")
	[[ $p == *.delta.tar.zst.age ]]
	[ "$(field 5 "$rec")" = "$(sha256sum <"$p" | cut -d' ' -f1)" ]
	[[ $(field 8 "$rec") == *"encrypted with age to 1 recipient"* ]]
	# Nothing in the clear: not the archive, no spool left.
	run grep -qa 'SQLite format 3' "$p"
	[ "$status" -eq 1 ]
	no_temporaries b
	run --separate-stderr vb-restore -q --to r.db "$p"
	[ "$status" -eq 1 ]
	[[ $stderr == *"is encrypted with age"* ]]
	vb-prune -d b --keep 5
	vb-restore -q -i key.txt --verify-with "$T/signing-key.pub" --to r.db \
	    "$p" >/dev/null
	[ "$(rows r.db)" = "$(rows app.db)" ]
	# The manifest's signature, checked with plain tools.
	age -d -i key.txt "$p" | tar --zstd -xf - MANIFEST MANIFEST.sig
	printf 'vb namespaces="vb" %s\n' "$(cat "$T/signing-key.pub")" >allowed
	ssh-keygen -q -Y verify -f allowed -I vb -n vb -s MANIFEST.sig <MANIFEST
	# The signed catalog lists it.
	grep -q "^backup: $(basename "$p") " b/vb-catalog
}

@test "point: vb-backup takes the nightly first, then points; --nightly and --point; the rows say kind=point" {
	slow
	local when job lp want
	job=$BATS_TEST_DIRNAME/../bin/vb-backup
	echo "METRICS_FILE=$T/vb.prom" >>"$VB_CONF"
	at "2026-11-02 00:30:00" "$job" 2>/dev/null
	at "2026-11-02 00:35:00" "$job" 2>/dev/null
	at "2026-11-02 01:05:00" "$job" 2>/dev/null
	at "2026-11-02 01:10:00" "$job" 2>/dev/null
	at "2026-11-02 01:15:00" "$job" --nightly 2>/dev/null
	at "2026-11-02 01:20:00" "$job" --point 2>/dev/null
	[ "$(vb-restore --list --fields b | awk -F'\t' '{ print $4 }' |
	    tr '\n' ' ')" = "point full point full point full " ]
	run vb-log --show app.db
	# The runs' rows, shown if what follows fails.
	awk -F'\t' '$2 == "backup"' <<<"$output"
	[ "$(awk -F'\t' '$2 == "backup" && $8 ~ /^kind=point; ok: point/' \
	    <<<"$output" | wc -l)" -eq 3 ]
	[ "$(awk -F'\t' '$2 == "backup" && $3 == "ok"' <<<"$output" |
	    wc -l)" -eq 6 ]
	when=$(vb-log --last-point app.db)
	[[ $when == 2026-11-02T01:20:0* ]]
	# The metrics say it too (VbNoRecentPoint reads them).
	grep -q '^vb_backup_point_interval_seconds{.*} 300$' vb.prom
	lp=$(awk '/^vb_backup_last_point_timestamp_seconds/ { print int($NF) }' vb.prom)
	want=$(date -u -d "2026-11-02 01:20:00" +%s)
	[ "$lp" -ge "$want" ] && [ "$lp" -lt $((want + 10)) ]
	# A point that cannot be made fails the run like any stage.
	rm -f b/.vb-index-*
	run --separate-stderr at "2026-11-02 01:25:00" "$job" --point
	[ "$status" -eq 1 ]
	[[ $(vb-log --show app.db | awk -F'\t' '$2 == "backup" { print $8; exit }') == \
	    "kind=point; failed at compress: no point can be made"* ]]
}

@test "point: --diff, --table, --at and the drill take a point like any backup" {
	local p
	nightly "2026-11-02 01:00:00" >/dev/null
	sqlite3 app.db "DELETE FROM ledger WHERE id % 10 = 0"
	point "2026-11-02 14:05:00"
	p=$(field 1 "$rec")
	sqlite3 app.db "DELETE FROM ledger WHERE id % 7 = 0"
	run --separate-stderr vb-restore --diff --json --at 2026-11-02T14:06Z \
	    --db app.db -d b
	[ "$status" -eq 0 ]
	[ "$(jq -r '.[] | select(.table == "ledger") | .only_backup' <<<"$output")" -gt 0 ]
	run --separate-stderr vb-restore -q --table ledger --db app.db \
	    --at 2026-11-02T14:05:30Z -d b
	[ "$status" -eq 0 ]
	[ "$(sqlite3 app.db 'SELECT count(*) FROM ledger WHERE id % 7 = 0 AND id % 10 != 0')" -gt 0 ]
	[ "$(sqlite3 app.db 'SELECT count(*) FROM ledger WHERE id % 10 = 0')" -eq 0 ]
	run --separate-stderr vb-restore --drill -d b "$(basename "$p")"
	[ "$status" -eq 0 ]
	[[ $(field 8 "$output") == "drill: restored and proven (a chain of 2 archives)"* ]]
	run --separate-stderr vb-restore --at 2026-11-02T14:06 --list
	[ "$status" -eq 2 ]
	run --separate-stderr vb-restore --at yesterday --to r.db
	[ "$status" -eq 1 ]
	[[ $stderr == *"not a time vb reads"* ]]
}

@test "point: the schedule BACKUP_INTERVAL and NIGHTLY_AT ask for, and their checks" {
	conf NIGHTLY_AT=02:30
	[ "$(vb-snapshot --print-schedule)" = $'0-59/5 * * * *\t*-*-* *:00/5:00' ]
	conf BACKUP_INTERVAL=3600000 NIGHTLY_AT=02:30
	sed -i '/^BACKUP_INTERVAL=300000/d' "$VB_CONF"
	[ "$(vb-snapshot --print-schedule)" = $'30 * * * *\t*-*-* *:30:00' ]
	sed -i 's/^BACKUP_INTERVAL=.*/BACKUP_INTERVAL=21600000/' "$VB_CONF"
	[ "$(vb-snapshot --print-schedule)" = $'30 2-23/6 * * *\t*-*-* 02/6:30:00' ]
	sed -i 's/^BACKUP_INTERVAL=.*/BACKUP_INTERVAL=86400000/' "$VB_CONF"
	[ "$(vb-snapshot --print-schedule)" = $'30 2 * * *\t*-*-* 02:30:00' ]
	sed -i 's/^BACKUP_INTERVAL=.*/BACKUP_INTERVAL=700000/' "$VB_CONF"
	run --separate-stderr vb-snapshot --print-schedule
	[ "$status" -eq 2 ]
	[[ $stderr == *"not an interval cron can keep"* ]]
	sed -i 's/^BACKUP_INTERVAL=.*/BACKUP_INTERVAL=60000/' "$VB_CONF"
	run --separate-stderr vb-snapshot --print-config
	[ "$status" -eq 2 ]
	[[ $stderr == *"BACKUP_INTERVAL must be a whole number of milliseconds, 300000 (5 minutes) or more"* ]]
	conf NIGHTLY_AT=25:00 KEEP_HOURLY=many
	run --separate-stderr vb-snapshot --print-config
	[ "$status" -eq 2 ]
	[[ $stderr == *"NIGHTLY_AT must be a time of day"* ]]
	[[ $stderr == *"KEEP_HOURLY must be a whole number"* ]]
	conf KEEP_HOURLY=24 COMPRESSION_THREADS=2
	vb-snapshot --print-config | grep -qx 'KEEP_HOURLY=24'
	vb-snapshot --print-config | grep -qx 'NIGHTLY_AT=01:00'
}

@test "point: a name planted on the remote (its write key) freezes no retention there: counted by no rule, holding no chain, named (review of issue 38)" {
	slow
	local job=$BATS_TEST_DIRNAME/../bin/vb-backup t
	mkdir remote
	conf "OFFSITE=$T/remote" MAX_BACKUPS=2 KEEP_DAILY=0
	run_at() {
		sqlite3 app.db "UPDATE accounts SET balance = balance + 1 WHERE id % 97 = 0"
		at "2026-11-02 $1:00" "$job" >/dev/null 2>&1
	}
	for t in 01:00 02:00 02:05; do run_at "$t"; done
	# A point's name less than a day ahead, random bytes, written by
	# someone who is not root (the remote's key, not the host).
	chmod 755 "$T"
	chown nobody remote
	setpriv --reuid=nobody --regid=nogroup --clear-groups sh -c \
	    'head -c 4096 /dev/urandom >remote/backup-2026-11-03T01-00-00-000Z.delta.tar.zst'
	for t in 02:10 02:15 02:20 03:00 03:05 03:10; do run_at "$t"; done
	# The remote pruned as the directory is, the planted name left.
	[ "$(find remote -name 'backup-*' | wc -l)" -eq \
	    "$(( $(find b -name 'backup-*' | wc -l) + 1 ))" ]
	[ -f remote/backup-2026-11-03T01-00-00-000Z.delta.tar.zst ]
	run --separate-stderr vb-prune -n --offsite "$T/remote"
	[[ $stderr == *"backup-2026-11-03T01-00-00-000Z: kept, counted by no rule: UNRECORDED: BackupLog never named it (planted?)"* ]]
	[[ $stderr != *"because backup-2026-11-03T01-00-00-000Z is built on it"* ]]
}
