#!/usr/bin/env bats
# vb-compress: command-line tests on real snapshots and real archives.

bats_require_minimum_version 1.5.0
load helpers

# snap DIR [MODE]: a snapshot of a fresh app.db in DIR; prints its record.
snap() {
	[ -e app.db ] || mkdb app.db "${2:-wal}"
	vb-snapshot -q -d "$1" app.db
}

# manifest_get ARCHIVE KEY: a value from the archive's MANIFEST.
manifest_get() {
	tar -xOf "$1" MANIFEST | sed -n "s/^$2: //p"
}

# check_archive RECORD STEM: the compress record and its archive are good.
check_archive() {
	local a=$1 stem=$2
	[ -f "$a" ]
	[ "$(mode_of "$a")" = 600 ]
	[ "$(tar -tf "$a" | tr '\n' ' ')" = "MANIFEST $stem.db " ]
	rm -rf x && mkdir x && tar -xf "$a" -C x
	[ "$(sha256sum x/"$stem".db | cut -d' ' -f1)" = "$(manifest_get "$a" db-sha256)" ]
	[ "$(stat -c %s x/"$stem".db)" = "$(manifest_get "$a" db-bytes)" ]
	[ "$(sqlite3 x/"$stem".db 'PRAGMA integrity_check')" = ok ]
}

@test "compress: --help, --version, bad usage" {
	run --separate-stderr vb-compress --help
	[ "$status" -eq 0 ]
	[[ $output == usage:\ vb-compress* ]]
	run --separate-stderr vb-compress --version
	[ "$status" -eq 0 ]
	[[ $output == vb-compress\ * ]]
	for bad in "-z bzip2" "-l 0" "-l 20" "-z gzip -l 10" "-z none -l 1" \
	    "-T 0" "-T x" "--bogus"; do
		# shellcheck disable=SC2086 # the options are words
		run --separate-stderr vb-compress $bad </dev/null
		[ "$status" -eq 2 ]
		[[ $stderr == *usage:\ vb-compress* ]]
		[ -z "$output" ]
	done
	run --separate-stderr env COMPRESSION=lz4 vb-compress </dev/null
	[ "$status" -eq 2 ]
}

@test "compress: the pipeline round trip, byte for byte" {
	snaprec=$(snap b)
	raw=$(field 1 "$snaprec")
	stem=$(basename "$raw" .db)
	run --separate-stderr vb-compress <<<"$snaprec"
	[ "$status" -eq 0 ]
	[ -z "$stderr" ]
	[ "$(printf '%s\n' "$output" | wc -l)" -eq 2 ]
	# The snapshot record passes on unchanged, then the archive's.
	[ "$(printf '%s\n' "$output" | sed -n 1p)" = "$snaprec" ]
	rec=$(printf '%s\n' "$output" | sed -n 2p)
	assert_record "$rec" compress ok
	a=$(field 1 "$rec")
	[ "$a" = "b/$stem.tar.zst" ]
	[ "$(field 4 "$rec")" = "$(stat -c %s "$a")" ]
	[ "$(field 5 "$rec")" = "$(sha256sum "$a" | cut -d' ' -f1)" ]
	[[ $(field 8 "$rec") == "zstd level 3;"*"snapshot removed" ]]
	[ ! -e "$raw" ]
	check_archive "$a" "$stem"
	# Byte-identical to the snapshot vb-snapshot hashed.
	tar --zstd -xf "$a" -C x
	[ "$(sha256sum "x/$stem.db" | cut -d' ' -f1)" = "$(field 5 "$snaprec")" ]
	[ "$(manifest_get "$a" db-sha256)" = "$(field 5 "$snaprec")" ]
	[ "$(manifest_get "$a" format)" = 1 ]
	[ "$(manifest_get "$a" source)" = app.db ]
	[ "$(manifest_get "$a" journal-mode)" = wal ]
	[ "$(manifest_get "$a" integrity)" = ok ]
	[ "$(manifest_get "$a" host)" = "$(hostname)" ]
	[ "$(manifest_get "$a" sqlite-version)" = "$(sqlite3 --version | cut -d' ' -f1)" ]
	[ "$(manifest_get "$a" page-size)" = 4096 ]
	[ "$(manifest_get "$a" page-count)" -gt 1 ]
	stamp=${stem#backup-}
	created=$(manifest_get "$a" created)
	[ "${created//[:.]/-}" = "$stamp" ]
	no_temporaries b
}

@test "compress: vb-snapshot | vb-compress as a real pipe" {
	mkdb app.db delete
	run --separate-stderr bash -c 'set -o pipefail; vb-snapshot -d b app.db | vb-compress'
	[ "$status" -eq 0 ]
	assert_record "$(printf '%s\n' "$output" | sed -n 1p)" snapshot ok
	assert_record "$(printf '%s\n' "$output" | sed -n 2p)" compress ok
	[ "$(find b -name '*.tar.zst' | wc -l)" -eq 1 ]
	[ "$(find b -name '*.db' | wc -l)" -eq 0 ]
}

@test "compress: each compression kind, from -z, COMPRESSION and vb.conf" {
	snap b >/dev/null
	snap b >/dev/null
	snap b >/dev/null
	snap b >/dev/null
	mapfile -t raws < <(find b -name 'backup-*.db' | sort)
	run --separate-stderr vb-compress -z gzip "${raws[0]}"
	[ "$status" -eq 0 ]
	a=$(field 1 "$output")
	[[ $a == *.tar.gz ]]
	gzip -t "$a"
	check_archive "$a" "$(basename "${raws[0]}" .db)"
	run --separate-stderr env COMPRESSION=xz vb-compress "${raws[1]}"
	[ "$status" -eq 0 ]
	a=$(field 1 "$output")
	[[ $a == *.tar.xz ]]
	xz -t "$a"
	check_archive "$a" "$(basename "${raws[1]}" .db)"
	echo "COMPRESSION=none" >"$VB_CONF"
	run --separate-stderr vb-compress "${raws[2]}"
	[ "$status" -eq 0 ]
	a=$(field 1 "$output")
	[[ $a == *.tar ]]
	check_archive "$a" "$(basename "${raws[2]}" .db)"
	run --separate-stderr vb-compress -z zstd -l 9 -T 2 "${raws[3]}"
	[ "$status" -eq 0 ]
	a=$(field 1 "$output")
	zstd -t "$a"
	[[ $(field 8 "$output") == "zstd level 9;"* ]]
	check_archive "$a" "$(basename "${raws[3]}" .db)"
}

@test "compress: plain paths, from ls and as arguments; -k keeps the snapshot" {
	snap b >/dev/null
	snap b >/dev/null
	run --separate-stderr bash -c 'ls b/*.db | vb-compress -k'
	[ "$status" -eq 0 ]
	[ "$(printf '%s\n' "$output" | wc -l)" -eq 2 ]
	for line in "${lines[@]}"; do
		assert_record "$line" compress ok
		a=$(field 1 "$line")
		# What the file itself can tell, and a check of its own.
		[ "$(manifest_get "$a" source)" = unknown ]
		[ "$(manifest_get "$a" integrity)" = ok ]
		[ "$(manifest_get "$a" integrity-check)" = quick_check ]
		[ "$(manifest_get "$a" journal-mode)" = delete ]
		[[ $(field 8 "$line") == *"snapshot kept" ]]
		[ -e "${a%.tar.zst}.db" ]
	done
	rm b/*.tar.zst
	run --separate-stderr vb-compress b/*.db
	[ "$status" -eq 0 ]
	[ "$(find b -name '*.db' | wc -l)" -eq 0 ]
	[ "$(find b -name '*.tar.zst' | wc -l)" -eq 2 ]
}

@test "compress: failed and foreign records pass through untouched" {
	snap b >/dev/null
	ts=2026-11-27T01:00:03.412Z
	failed="-	snapshot	failed	-	-	3	$ts	app.db: No such file or directory"
	prune="b/x.tar.zst	prune	ok	10	-	1	$ts	"
	input=$(printf '%s\n%s\nnot a record\tat all\n' "$failed" "$prune")
	run --separate-stderr vb-compress <<<"$input"
	[ "$status" -eq 0 ]
	[ "$output" = "$input" ]
	[[ $stderr == *"not a record"* ]]
	[ "$(find b -name '*.tar.zst' | wc -l)" -eq 0 ]
}

@test "compress: missing, non-SQLite and foreign inputs fail alone; the rest go on" {
	good=$(field 1 "$(snap b)")
	echo "not sqlite" >b/backup-2026-01-01T00-00-00-000Z.db
	cp app.db b/app-copy.db
	run --separate-stderr vb-compress b/backup-2025-01-01T00-00-00-000Z.db \
	    b/backup-2026-01-01T00-00-00-000Z.db b/app-copy.db "$good"
	[ "$status" -eq 1 ]
	[ "${#lines[@]}" -eq 4 ]
	assert_record "${lines[0]}" compress failed
	[[ ${lines[0]} == *"No such file or directory" ]]
	assert_record "${lines[1]}" compress failed
	[[ ${lines[1]} == *"not a SQLite database" ]]
	assert_record "${lines[2]}" compress failed
	[[ ${lines[2]} == *"not a vb snapshot"* ]]
	assert_record "${lines[3]}" compress ok
	[[ $stderr == *"vb-compress: b/backup-2025-01-01T00-00-00-000Z.db: No such file"* ]]
	[ -e b/backup-2026-01-01T00-00-00-000Z.db ]
	[ -e b/app-copy.db ]
	no_temporaries b
}

@test "compress: an existing archive is never overwritten" {
	raw=$(field 1 "$(snap b)")
	echo precious >"${raw%.db}.tar.zst"
	run --separate-stderr vb-compress "$raw"
	[ "$status" -eq 1 ]
	[[ $stderr == *"already exists"* ]]
	[ "$(cat "${raw%.db}.tar.zst")" = precious ]
	[ -e "$raw" ]
}

@test "compress: a whole archive of this very snapshot, left by a killed run, finishes the job; another snapshot's is refused" {
	raw=$(field 1 "$(snap b)")
	cp "$raw" same.db
	vb-compress -q -k "$raw" >/dev/null
	arc=${raw%.db}.tar.zst
	sum=$(sha256sum "$arc")
	# As if killed between putting the archive in place and the removal.
	run --separate-stderr vb-compress "$raw"
	[ "$status" -eq 0 ]
	assert_record "$output" compress ok
	[ "$(field 1 "$output")" = "$arc" ]
	[[ $stderr == *"was already whole, left by a run stopped"* ]]
	[ ! -e "$raw" ]
	[ "$(sha256sum "$arc")" = "$sum" ]
	# The same name over another snapshot: never taken for it.
	vb-testwriter --count 10 app.db >/dev/null
	cp "$(field 1 "$(snap b)")" "$raw"
	run --separate-stderr vb-compress "$raw"
	[ "$status" -eq 1 ]
	[[ $stderr == *"already exists"* ]]
	[ -e "$raw" ]
	[ "$(sha256sum "$arc")" = "$sum" ]
	# A damaged one is named as such, and kept as it is.
	cp same.db "$raw"
	printf 'x' | dd of="$arc" bs=1 seek=600 conv=notrunc 2>/dev/null
	sum=$(sha256sum "$arc")
	run --separate-stderr vb-compress "$raw"
	[ "$status" -eq 1 ]
	[[ $stderr == *"already exists and does not read back"* ]]
	[ "$(sha256sum "$arc")" = "$sum" ]
	[ -e "$raw" ]
	no_temporaries b
}

@test "compress: a snapshot that changed since its record is refused" {
	rec=$(snap b)
	bad=$(printf '%s\n' "$rec" | awk -F'\t' -v OFS='\t' '{ c = substr($5, 1, 1); $5 = (c == "0" ? "1" : "0") substr($5, 2); print }')
	run --separate-stderr vb-compress <<<"$bad"
	[ "$status" -eq 1 ]
	assert_record "${lines[1]}" compress failed
	[[ $stderr == *"not the one vb-snapshot recorded"* ]]
	[ -e "$(field 1 "$rec")" ]
	no_temporaries b
	[ "$(find b -name '*.tar.zst' | wc -l)" -eq 0 ]
}

@test "compress: the read-back catches a corrupted archive" {
	rec=$(snap b)
	run --separate-stderr damaged_reads vb-compress <<<"$rec"
	[ "$status" -eq 1 ]
	assert_record "${lines[1]}" compress failed
	[[ $stderr == *"read-back check failed"* ]]
	[ -e "$(field 1 "$rec")" ]
	[ "$(find b -name '*.tar*' | wc -l)" -eq 0 ]
	no_temporaries b
}

@test "compress: a full disk leaves no temporary and keeps the snapshot" {
	small_fs 3m
	bigdb app.db 2
	rec=$(vb-snapshot -q -d "$MNT/b" app.db)
	run --separate-stderr vb-compress <<<"$rec"
	[ "$status" -eq 1 ]
	assert_record "${lines[1]}" compress failed
	[[ $stderr == *"No space left on device"* ]]
	[ -e "$(field 1 "$rec")" ]
	[ "$(find "$MNT/b" -name '*.tar*' | wc -l)" -eq 0 ]
	no_temporaries "$MNT/b"
}

@test "compress: kill -9 midway leaves no archive under a final name" {
	slow
	bigdb app.db 100
	raw=$(field 1 "$(vb-snapshot -q -d b app.db)")
	stem=$(basename "$raw" .db)
	for i in 1 2 3; do
		vb-compress -k -z xz "$raw" >/dev/null 2>&1 &
		pid=$!
		sleep "0.$((i * 3))"
		kill -9 "$pid" 2>/dev/null || true
		wait "$pid" || true
		if [ -e "b/$stem.tar.xz" ]; then
			check_archive "b/$stem.tar.xz" "$stem"
			rm "b/$stem.tar.xz"
		fi
	done
	[ -e "$raw" ]
	run --separate-stderr vb-compress "$raw"
	[ "$status" -eq 0 ]
	no_temporaries b
	check_archive "b/$stem.tar.zst" "$stem"
}

@test "compress: a deferred check runs beside the compression; a snapshot that fails it is no backup" {
	mkdb app.db delete
	run --separate-stderr vb-snapshot -q --defer-check -d backups app.db
	[ "$status" -eq 0 ]
	[[ $(field 8 "$output") == "quick_check=deferred journal=delete "* ]]
	[ "$(field 5 "$output")" = "$(sha256sum <"$(field 1 "$output")" | cut -d' ' -f1)" ]
	rec=$output
	run --separate-stderr vb-compress -q <<<"$rec"
	[ "$status" -eq 0 ]
	[[ $(field 8 "$(tail -n1 <<<"$output")") == *"snapshot's quick_check ok"* ]]
	a=$(field 1 "$(tail -n1 <<<"$output")")
	tar --zstd -xOf "$a" MANIFEST | grep -q '^integrity: ok$'
	tar --zstd -xOf "$a" MANIFEST | grep -q '^integrity-check: quick_check$'
	# A snapshot whose b-tree is damaged (as a damaged live database
	# would give): no archive, and the file set aside, not counted.
	sqlite3 big.db "CREATE TABLE t (x); WITH RECURSIVE n(i) AS (SELECT 1
	    UNION ALL SELECT i + 1 FROM n WHERE i < 2000) INSERT INTO t
	    SELECT randomblob(200) FROM n"
	run --separate-stderr vb-snapshot -q --defer-check -d backups big.db
	snap=$(field 1 "$output")
	printf '\377\377\377\377\377\377\377\377' |
	    dd of="$snap" bs=1 seek=$((4096 * 2 + 8)) conv=notrunc 2>/dev/null
	run --separate-stderr vb-compress <<<"$output"
	[ "$status" -eq 1 ]
	[ "$(field 3 "$(tail -n1 <<<"$output")")" = failed ]
	[[ $stderr == *"failed quick_check:"*"kept as $snap.failed-check, not as a backup"* ]]
	[ -f "$snap.failed-check" ] && [ ! -e "$snap" ]
	[ "$(find backups -name 'backup-*.tar.zst' | wc -l)" -eq 1 ]
	[ -z "$(find backups -name '.vb-tmp-*')" ]
	# A plain path is checked the same way.
	cp "$snap.failed-check" backups/backup-2026-01-01T00-00-00-000Z.db
	run --separate-stderr vb-compress -q backups/backup-2026-01-01T00-00-00-000Z.db
	[ "$status" -eq 1 ]
	[ ! -e backups/backup-2026-01-01T00-00-00-000Z.tar.zst ]
}

@test "compress: --orphans keeps the snapshots handed to its parent that no vb-compress finished, synced under their names; never another's, never over a file, never through a link" {
	mkdb app.db delete
	mkdir -m 700 b
	: >b/backup-2026-01-03T01-00-00-000Z.db
	ln -s /etc/passwd "b/.vb-tmp-1-backup-2026-01-04T01-00-00-000Z.db"
	# The job (this inner shell, which must not exec vb-compress) was
	# handed three, and a link; a live process of another (PID 1) a
	# link.
	# shellcheck disable=SC2016 # $$: the inner shell's
	run --separate-stderr bash -c 'for d in 01 02 03; do
		cp app.db "b/.vb-tmp-$$-backup-2026-01-${d}T01-00-00-000Z.db"
	    done; ln -s /etc/passwd "b/.vb-tmp-$$-backup-2026-01-05T01-00-00-000Z.db"
	    vb-compress --orphans -d b; exit $?'
	# The third's name is taken: removed, said, exit 1.
	[ "$status" -eq 1 ]
	[[ $stderr == *"the snapshot is kept as b/backup-2026-01-01T01-00-00-000Z.db"* ]]
	[[ $stderr == *"the snapshot is kept as b/backup-2026-01-02T01-00-00-000Z.db"* ]]
	[[ $stderr == *"the snapshot b/backup-2026-01-03T01-00-00-000Z.db is lost: "* ]]
	for d in 01 02; do
		[ "$(sqlite3 "b/backup-2026-01-${d}T01-00-00-000Z.db" \
		    'PRAGMA integrity_check')" = ok ]
	done
	[ ! -s b/backup-2026-01-03T01-00-00-000Z.db ]
	# The links are left as they are, followed by nothing.
	[ "$(find b -name '.vb-tmp-*' -type l | wc -l)" -eq 2 ]
	[ "$(find b -name '.vb-tmp-*' -type f | wc -l)" -eq 0 ]
	[ ! -e b/backup-2026-01-05T01-00-00-000Z.db ]
	# Nothing handed over: nothing said, exit 0.
	run --separate-stderr vb-compress --orphans -d b
	[ "$status" -eq 0 ]
	[ -z "$stderr" ]
	run --separate-stderr vb-compress --orphans -d b extra
	[ "$status" -eq 2 ]
}

@test "compress: an intermediate (vb-snapshot --intermediate): archived under the backup's name and removed; kept under it, synced, when the archive fails; set aside under it when its check fails" {
	mkdb app.db delete
	# As the nightly runs it: the copy handed to this shell, unsynced.
	run --separate-stderr sh -c 'vb-snapshot -q --defer-check \
	    --intermediate -d b app.db | vb-compress -q'
	[ "$status" -eq 0 ]
	inter=$(field 1 "${lines[0]}")
	[[ $(basename "$inter") == .vb-tmp-*-backup-*Z.db ]]
	stem=$(basename "$inter" .db)
	stem=backup-${stem#*-backup-}
	check_archive "b/$stem.tar.zst" "$stem"
	[ "$(manifest_get "b/$stem.tar.zst" name)" = "$stem" ]
	[ ! -e "$inter" ]
	[ -z "$(find b -name '.vb-tmp-*' -o -name '*.db')" ]
	# The archive cannot be written: the night's copy becomes a raw
	# backup under its name, whole, for the next night.
	# shellcheck disable=SC2016 # $1 and $2: the inner shell's
	run --separate-stderr sh -c 'vb-snapshot -q --defer-check \
	    --intermediate -d b app.db | VB_FAULT=write:1:ENOSPC \
	    LD_PRELOAD="$1" ASAN_OPTIONS="$2" vb-compress -q' sh \
	    "$VB_BIN/tests/libvbfault.so" \
	    "${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0"
	[ "$status" -eq 1 ]
	[ "$(field 3 "${lines[1]}")" = failed ]
	kept=$(find b -name 'backup-*.db')
	[ -n "$kept" ]
	[[ $stderr == *"the snapshot is kept as $kept"* ]]
	[ "$(sqlite3 "$kept" 'PRAGMA integrity_check')" = ok ]
	[ -z "$(find b -name '.vb-tmp-*')" ]
	rm "$kept"
	# Its check fails: set aside under the backup's name, not as one.
	sqlite3 big.db "CREATE TABLE t (x); WITH RECURSIVE n(i) AS (SELECT 1
	    UNION ALL SELECT i + 1 FROM n WHERE i < 2000) INSERT INTO t
	    SELECT randomblob(200) FROM n"
	printf '\377\377\377\377\377\377\377\377' |
	    dd of=big.db bs=1 seek=$((4096 * 2 + 8)) conv=notrunc 2>/dev/null
	run --separate-stderr sh -c 'vb-snapshot -q --defer-check \
	    --intermediate -d b big.db | vb-compress -q'
	[ "$status" -eq 1 ]
	aside=$(find b -name 'backup-*.db.failed-check')
	[ -n "$aside" ]
	[[ $stderr == *"failed quick_check:"*"kept as $aside, not as a backup"* ]]
	[ -z "$(find b -name '.vb-tmp-*' -o -name 'backup-*.db')" ]
	[ "$(find b -name 'backup-*.tar.zst' | wc -l)" -eq 1 ]
}

@test "compress: --leftovers archives the raw snapshots that have no archive; with ENCRYPT_TO every one" {
	mkdir -m 700 b
	mkdb app.db wal
	old=backup-2023-10-02T18-30-00-000Z done=backup-2023-10-03T18-30-00-000Z
	cp app.db "b/$old.db"
	cp app.db "b/$done.db"
	vb-compress -q -k "b/$done.db" >/dev/null
	# A link named like a snapshot, planted: never archived, never read.
	echo secret >victim
	ln -s "$T/victim" b/backup-2023-10-04T18-30-00-000Z.db
	run --separate-stderr vb-compress -q --leftovers -d b
	[ "$status" -eq 0 ]
	[ "$(wc -l <<<"$output")" -eq 1 ]
	assert_record "$output" compress ok
	[ "$(field 1 "$output")" = "b/$old.tar.zst" ]
	[ ! -e "b/$old.db" ] && [ -f "b/$done.db" ]
	[ -L b/backup-2023-10-04T18-30-00-000Z.db ] && [ "$(cat victim)" = secret ]
	# Nothing left to do: no record.
	run --separate-stderr vb-compress -q --leftovers -d b
	[ "$status" -eq 0 ] && [ -z "$output" ]
	# One that cannot be archived: a failed record naming it, exit 1.
	echo "not a database" >b/backup-2023-10-05T18-30-00-000Z.db
	run --separate-stderr vb-compress -q --leftovers -d b
	[ "$status" -eq 1 ]
	assert_record "$output" compress failed
	[[ $output == *backup-2023-10-05T18-30-00-000Z.db* ]]
	[[ $stderr == vb-compress:\ * ]]
	rm b/backup-2023-10-05T18-30-00-000Z.db
	# With ENCRYPT_TO, the raw one beside its archive is archived too.
	age-keygen -o key.txt 2>/dev/null
	age-keygen -y key.txt >recipients.txt
	run --separate-stderr vb-compress -q --leftovers -d b -e recipients.txt
	[ "$status" -ne 2 ]
	[ ! -e "b/$done.db" ]
	# An unreadable directory: a failed record, its reason.
	run --separate-stderr vb-compress -q --leftovers -d nowhere
	[ "$status" -eq 1 ]
	assert_record "$output" compress failed
	[[ $output == *nowhere* ]]
	run --separate-stderr vb-compress --leftovers -d b extra
	[ "$status" -eq 2 ]
}

@test "compress: --scrub removes the raw snapshots only: regular files under vb's names, never through a link, each said; a failure said and in the status" {
	mkdir -m 700 b
	mkdb app.db wal
	raw=backup-2023-10-02T18-30-00-000Z.db
	cp app.db "b/$raw"
	cp app.db b/pre-restore-2023-10-02T18-31-00-000Z.db
	# Planted by another user: a link named like a snapshot, to a file
	# that must survive; names that are no snapshot's.
	echo secret >victim
	ln -s "$T/victim" b/backup-2023-10-04T18-30-00-000Z.db
	mkdir b/backup-2023-10-05T18-30-00-000Z.db
	echo keep >"b/-rf backup-2023-10-06T18-30-00-000Z.db"
	echo keep >"b/backup-2023-10-07T18-30-00-000Z.db
x"
	echo keep >b/notes.db
	echo keep >b/backup-2023-10-01T18-30-00-000Z.tar.zst
	# Without ENCRYPT_TO (or -e) it refuses: nothing removed.
	run --separate-stderr vb-compress --scrub -d b
	[ "$status" -eq 2 ]
	[ -f "b/$raw" ]
	: >recipients.txt
	run --separate-stderr vb-compress --scrub -d b -e recipients.txt
	[ "$status" -eq 0 ]
	[ "$output" = "b/$raw
b/pre-restore-2023-10-02T18-31-00-000Z.db" ]
	[ ! -e "b/$raw" ] && [ ! -e b/pre-restore-2023-10-02T18-31-00-000Z.db ]
	[ -L b/backup-2023-10-04T18-30-00-000Z.db ] && [ "$(cat victim)" = secret ]
	[ -d b/backup-2023-10-05T18-30-00-000Z.db ]
	[ -f "b/-rf backup-2023-10-06T18-30-00-000Z.db" ]
	[ -f "b/backup-2023-10-07T18-30-00-000Z.db
x" ]
	[ -f b/notes.db ] && [ -f b/backup-2023-10-01T18-30-00-000Z.tar.zst ]
	# One it may not remove (another user's directory): said, exit 1.
	cp app.db "b/$raw"
	chmod 755 "$T" b
	run --separate-stderr as_nobody vb-compress --scrub -d b \
	    -e recipients.txt
	[ "$status" -eq 1 ]
	[ -z "$output" ]
	[[ $stderr == *"vb-compress: b/$raw: cannot remove: Permission denied"* ]]
	[ -f "b/$raw" ]
}
