#!/usr/bin/env bats
# Incremental nightlies (FULL_EVERY, vb-compress --full-every): delta
# archives of the changed pages, chains rebuilt and checked link by link
# on restore, kept whole by retention.  Nights are given their own times
# with vb-snapshot -o b/backup-<time>.db, so a week passes in a second.

# shellcheck disable=SC2154 # bats' run --separate-stderr sets $stderr
# shellcheck disable=SC2030,SC2031 # refused() reads what its own run set
bats_require_minimum_version 1.5.0
load helpers

setup() {
	vb_setup
	mkdir -m 700 b
}

# stamp N: the name time of night N (from 2026-11-01, 01:00 UTC).
stamp() {
	date -u -d "2026-11-01 01:00 UTC + $(($1 - 1)) days" +%Y-%m-%dT%H-%M-%S-000Z
}

# night N [vb-compress options]: the nightly's two stages for night N,
# FULL_EVERY 7d; its snapshot record's SHA-256 kept in sha.N, the
# database's rows in rows.N, the compress record in $rec.
night() {
	local n=$1 out
	shift
	out=$(vb-snapshot -q --defer-check -o "b/backup-$(stamp "$n").db" \
	    app.db | vb-compress -q --full-every 7d "$@") || return 1
	field 5 "$(head -n1 <<<"$out")" >"sha.$n"
	rows app.db >"rows.$n"
	rec=$(tail -n1 <<<"$out")
}

# appdb MODE: app.db of about 4.5 MiB (1145 pages), so that a few per
# cent of its rows changed is a few per cent of its pages.
appdb() {
	mkdb app.db "$1" 2000
	filldb app.db 4
}

# rows DB: the .dump of the application's tables (not BackupLog, which
# a restore adds its row to), hashed.
rows() {
	sqlite3 "$1" ".dump accounts ledger" | sha256sum | cut -d' ' -f1
}

# archive N: the archive of night N, full or delta.
archive() {
	local f
	for f in b/backup-"$(stamp "$1")".*; do
		[ -e "$f" ] && echo "$f"
	done
}

# change PERCENT: the application rewrites about PERCENT % of its rows.
change() {
	sqlite3 app.db "UPDATE ledger SET note = hex(randomblob(60))
	    WHERE abs(random()) % 100 < $1"
}

# restores_to N: the newest archive of night N restores (--to) to night
# N's database: its rows, and the SHA-256 vb-snapshot recorded.
restores_to() {
	local out
	rm -f "r$1.db"
	out=$(vb-restore -q "$(archive "$1")" --to "r$1.db") ||
		{ echo "night $1: $out"; return 1; }
	[ "$(field 5 "$out")" = "$(cat "sha.$1")" ] ||
		{ echo "night $1: SHA-256 $(field 5 "$out")"; return 1; }
	[ "$(rows "r$1.db")" = "$(cat "rows.$1")" ] ||
		{ echo "night $1: rows differ"; return 1; }
	[ "$(sqlite3 "r$1.db" 'PRAGMA integrity_check')" = ok ]
}

@test "delta: ten nights under changes, growth and a shrink: fulls every 7 days, every night restores to itself" {
	slow
	appdb wal
	# Pages freed at the end are given back at each commit (a shrink
	# that is still a delta).
	sqlite3 app.db "PRAGMA auto_vacuum = FULL; VACUUM"
	night 1
	[[ $(field 8 "$rec") == *"full (no earlier backup)"* ]]
	for n in 2 3 4 5 6 7 8 9 10; do
		case $n in
		4) filldb app.db 1 ;;			# growth
		6) sqlite3 app.db "DELETE FROM ledger WHERE id >
		       (SELECT max(id) - 400 FROM ledger)" ;;	# shrink
		9) sqlite3 app.db "DELETE FROM ledger WHERE id % 5 = 0;
		       VACUUM" ;;			# every page rewritten
		*) change 2 ;;
		esac
		pages[n]=$(sqlite3 app.db 'PRAGMA page_count')
		night "$n"
		assert_record "$rec" compress ok
	done
	[ "${pages[6]}" -lt "${pages[5]}" ]
	# Night 8 is 7 days after night 1's full: a full again.
	for n in 1 8; do
		[[ $(archive $n) == *"$(stamp $n)".tar.zst ]]
	done
	for n in 2 3 4 5 6 7; do
		[[ $(archive $n) == *"$(stamp $n)".delta.tar.zst ]]
	done
	# Small: a delta of 2 % of the rows is a fraction of a full.
	[ "$(stat -c %s "$(archive 3)")" -lt $(($(stat -c %s "$(archive 1)") / 4)) ]
	for n in 1 2 3 4 5 6 7 8 9 10; do
		restores_to "$n"
	done
	# The manifests say what they are and what they rest on.
	tar --zstd -xOf "$(archive 3)" MANIFEST >m3
	grep -qx 'kind: delta' m3
	grep -qx "parent: backup-$(stamp 2)" m3
	grep -qx "parent-db-sha256: $(cat sha.2)" m3
	grep -qx "db-sha256: $(cat sha.3)" m3
	tar --zstd -xOf "$(archive 1)" MANIFEST | grep -qx 'kind: full'
	[ "$(tar --zstd -tf "$(archive 3)" | tr '\n' ' ')" = \
	    "MANIFEST backup-$(stamp 3).index backup-$(stamp 3).pages " ]
	# --list: the kind of each and the parent of a delta.
	run --separate-stderr vb-restore --list --json b
	[ "$(jq -r ".[] | select(.path == \"$(archive 3)\") | .type" <<<"$output")" = delta ]
	[ "$(jq -r ".[] | select(.path == \"$(archive 3)\") | .parent" <<<"$output")" = "backup-$(stamp 2)" ]
	[ "$(jq -r ".[] | select(.path == \"$(archive 8)\") | .type" <<<"$output")" = full ]
	run --separate-stderr vb-restore --list --verify b
	[ "$status" -eq 0 ]
	[ "${#lines[@]}" -eq 10 ]
	no_temporaries b
}

@test "delta: a page-size change, a lost or damaged page index, --full: a full archive, saying why" {
	slow
	appdb delete
	night 1
	change 2
	night 2
	[[ $(archive 2) == *.delta.tar.zst ]]
	sqlite3 app.db "PRAGMA page_size = 8192; VACUUM"
	night 3
	[[ $(archive 3) == *"$(stamp 3)".tar.zst ]]
	[[ $(field 8 "$rec") == *"page size changed from 4096 to 8192"* ]]
	restores_to 3
	change 2
	night 4
	[[ $(archive 4) == *.delta.tar.zst ]]
	rm "b/.vb-index-backup-$(stamp 4)"
	change 2
	night 5
	[[ $(field 8 "$rec") == *"page index cannot be used"* ]]
	[[ $(archive 5) == *"$(stamp 5)".tar.zst ]]
	change 2
	night 6
	[[ $(archive 6) == *.delta.tar.zst ]]
	# A byte of its hashes (before the 64 hex digits of its SHA-256).
	flip_byte "b/.vb-index-backup-$(stamp 6)" \
	    "$(($(stat -c %s "b/.vb-index-backup-$(stamp 6)") - 100))"
	change 2
	night 7
	[[ $(field 8 "$rec") == *"damaged"* ]]
	[[ $(archive 7) == *"$(stamp 7)".tar.zst ]]
	change 1
	night 8 --full
	[[ $(archive 8) == *"$(stamp 8)".tar.zst ]]
	change 1
	night 9
	[[ $(archive 9) == *.delta.tar.zst ]]
	for n in 3 4 5 6 7 8 9; do
		restores_to "$n"
	done
	# More than half the pages changed: a full is smaller than a delta.
	sqlite3 app.db "UPDATE ledger SET note = hex(randomblob(60))"
	night 10
	[[ $(field 8 "$rec") == *"pages changed since"* ]]
	[[ $(archive 10) == *"$(stamp 10)".tar.zst ]]
}

# chain4: a full and three deltas; the live database is night 4's plus
# later changes (what a restore over --db replaces).
chain4() {
	appdb wal
	night 1
	for n in 2 3 4; do
		change 2
		night "$n"
	done
	change 2
	live=$(sha256sum <app.db)
}

# refused WORDS: restoring night 4 over the live database fails, its
# message holding WORDS, and changes nothing at all.
refused() {
	run --separate-stderr vb-restore -q --db app.db "$(archive 4)"
	[ "$status" -eq 1 ] || { echo "status $status: $output"; return 1; }
	assert_record "$output" restore failed
	[[ $stderr == *"$1"* ]] || { echo "stderr: $stderr"; return 1; }
	[ "$(sha256sum <app.db)" = "$live" ]
	[ -z "$(find b -name 'pre-restore-*')" ]
	no_temporaries b
}

@test "delta: every broken link is refused, naming it, with nothing changed" {
	slow
	chain4
	d3=$(archive 3)
	# A missing parent.
	mv "$d3" saved
	refused "is a delta of backup-$(stamp 3), which is missing"
	mv saved "$d3"
	# A flipped byte in a link.
	cp "$d3" saved
	flip_byte "$d3" $(($(stat -c %s "$d3") / 2))
	refused "$(basename "$d3") (link 3 of 4 of the chain)"
	mv saved "$d3"
	# A truncated delta (the target itself).
	d4=$(archive 4)
	cp "$d4" saved
	truncate -s $(($(stat -c %s "$d4") - 100)) "$d4"
	refused "$(basename "$d4")"
	mv saved "$d4"
	# A parent that is not the database the delta was made on: another
	# full archive under the full's name.
	f1=$(archive 1)
	mv "$f1" saved
	mkdb other.db wal 1000
	vb-snapshot -q -o "b/backup-$(stamp 1).db" other.db | vb-compress -q >/dev/null
	refused "the chain is broken"
	rm "$f1"
	mv saved "$f1"
	# A delta under a full archive's name: its pages are no database.
	# Renamed, its entries give it away; re-made with entries of the new
	# name, its manifest does.
	s9=backup-$(stamp 9)
	cp "$(archive 4)" "b/$s9.tar.zst"
	run --separate-stderr vb-restore -q --to x.db "b/$s9.tar.zst"
	[ "$status" -eq 1 ]
	[[ $stderr == *"is not $s9.index"* ]]
	mkdir x
	tar --zstd -xf "$(archive 4)" -C x
	mv x/backup-*.index "x/$s9.index"
	mv x/backup-*.pages "x/$s9.pages"
	tar --zstd -cf "b/$s9.tar.zst" -C x MANIFEST "$s9.index" "$s9.pages"
	run --separate-stderr vb-restore -q --to x.db "b/$s9.tar.zst"
	[ "$status" -eq 1 ]
	[[ $stderr == *"its manifest says it is a delta but its name does not"* ]]
	[ ! -e x.db ]
	rm "b/$s9.tar.zst"
	# Whole again: it restores, and the pre-restore copy is kept.
	run --separate-stderr vb-restore -q --db app.db "$(archive 4)"
	[ "$status" -eq 0 ]
	[[ $output == *"rebuilt from a chain of 4 archives"* ]]
	[ "$(rows app.db)" = "$(cat rows.4)" ]
	[ -n "$(find b -name 'pre-restore-*')" ]
}

@test "delta: retention keeps chains whole, whatever the policy" {
	slow
	appdb wal
	night 1
	for n in 2 3 4 5 6 7 8 9 10; do
		change 2
		night "$n"
	done
	cp -a b all
	# The newest two are deltas of night 8's full: it stays.
	run --separate-stderr vb-prune -n -d b --keep 2
	[ "$status" -eq 0 ]
	[[ $stderr == *"backup-$(stamp 8): a full backup, kept because backup-$(stamp 9) is built on it"* ]]
	run --separate-stderr vb-prune -d b --keep 2
	[ "$status" -eq 0 ]
	[ "$(find b -name 'backup-*' | wc -l)" -eq 3 ] || { ls -la b; echo "$stderr"; false; }
	for n in 8 9 10; do
		restores_to "$n"
	done
	# The page indexes of deleted backups went with them.
	[ "$(find b -name '.vb-index-*' | wc -l)" -eq 3 ]
	# Policies of every kind, each on the whole ten nights: whatever is
	# kept restores.
	for policy in "--keep 1" "--keep 3" "--keep 5" "--keep-within 2d" \
	    "--keep 1 --keep-weekly 2" "--keep-daily 4" "--keep 9"; do
		rm -rf b
		cp -a all b
		# shellcheck disable=SC2086 # the policy is words
		vb-prune -d b $policy >/dev/null
		for n in 1 2 3 4 5 6 7 8 9 10; do
			[ -z "$(archive "$n")" ] || restores_to "$n" ||
				{ echo "after $policy"; return 1; }
		done
	done
	# The newest delta kept alone still has its chain.
	rm -rf b
	cp -a all b
	rm b/.vb-index-*	# no index: the backup before is the parent
	vb-prune -d b --keep 1 >/dev/null
	[ "$(find b -name 'backup-*' | wc -l)" -eq 3 ] || { ls -la b; echo "$stderr"; false; }
	restores_to 10
}

@test "delta: kill -9 mid-delta leaves nothing under a final name; the next night is right" {
	slow
	bigdb app.db 48
	night 1
	for i in 1 2 3; do
		change 2
		vb-snapshot -q --defer-check -o "b/backup-$(stamp $((i + 1))).db" \
		    app.db >/dev/null
		rows app.db >"rows.$((i + 1))"
		vb-compress -q --full-every 7d "b/backup-$(stamp $((i + 1))).db" \
		    >/dev/null &
		pid=$!
		sleep "0.0$((i * 3))"
		kill -9 "$pid" 2>/dev/null || true
		wait "$pid" || true
		for f in b/backup-*; do
			backup_whole "$f" quick_check ||
				{ echo "not whole: $f"; return 1; }
		done
		# The next run finishes what the killed one left, or redoes it.
		if [ -e "b/backup-$(stamp $((i + 1))).db" ]; then
			vb-compress -q --full-every 7d \
			    "b/backup-$(stamp $((i + 1))).db" >/dev/null
		fi
	done
	no_temporaries b
	change 2
	night 5
	[[ $(archive 5) == *.delta.tar.zst ]]
	for n in 2 3 4 5; do
		[ -n "$(archive "$n")" ]
		rm -f "r$n.db"
		vb-restore -q "$(archive "$n")" --to "r$n.db" >/dev/null
		[ "$(rows "r$n.db")" = "$(cat "rows.$n")" ]
	done
}

@test "delta: encrypted deltas round-trip; the host needs no identity to make them" {
	age-keygen -o key.txt 2>/dev/null
	age-keygen -y key.txt >recipients.txt
	appdb wal
	night 1 -e "$T/recipients.txt"
	for n in 2 3; do
		change 2
		night "$n" -e "$T/recipients.txt"
	done
	[[ $(archive 1) == *"$(stamp 1)".tar.zst.age ]]
	[[ $(archive 3) == *"$(stamp 3)".delta.tar.zst.age ]]
	run --separate-stderr vb-restore -q "$(archive 3)" --to r.db
	[ "$status" -eq 1 ]
	[[ $stderr == *"encrypted with age"* ]]
	[ ! -e r.db ]
	rm -f r.db
	out=$(vb-restore -q -i key.txt "$(archive 3)" --to r3.db)
	[ "$(field 5 "$out")" = "$(cat sha.3)" ]
	[ "$(rows r3.db)" = "$(cat rows.3)" ]
	no_temporaries b
}

@test "delta: vb-backup with FULL_EVERY, offsite: the chain comes back from the remote" {
	slow
	appdb wal
	printf 'DB_PATH=%s\nBACKUP_DIR=%s\nFULL_EVERY=7d\nOFFSITE=%s\n' \
	    "$T/app.db" "$T/b" "$T/remote" >"$VB_CONF"
	run --separate-stderr vb_backup --dry-run
	[[ $output == *"incremental:   a delta of the last backup each night"* ]]
	for n in 1 2 3; do
		change 2
		vb_backup 2>/dev/null
		rows app.db >"rows.$n"
		sleep 0.01
	done
	[ "$(find b -name 'backup-*.delta.tar.zst' | wc -l)" -eq 2 ]
	[ "$(find remote -name 'backup-*.delta.tar.zst' | wc -l)" -eq 2 ]
	[ -z "$(find remote -name '.vb-index-*')" ]
	# BackupLog says which night was what.
	[ "$(sqlite3 app.db "SELECT count(*) FROM BackupLog WHERE operation =
	    'compress' AND message LIKE '%delta of backup-%'")" -eq 2 ]
	newest=$(find b -name 'backup-*.delta.tar.zst' -printf '%f\n' | sort | tail -n1)
	# --check: every link as recorded; then one missing.
	run --separate-stderr vb_backup --check
	[[ $output == *"ok    backups           3 file(s) in $T/b, none known damaged, none failed its last drill; 3 hashed now, or read whole, and found as made; FULL_EVERY=7d: every chain whole"* ]]
	first=$(find b -name 'backup-*.delta.tar.zst' | sort | head -n1)
	mv "$first" .
	run --separate-stderr vb_backup --check
	[ "$status" -ne 0 ]
	[[ $output == *"FAIL  backups           $T/b/$newest: "*"a delta of $(basename "${first%.delta.tar.zst}"), which is missing: the chain is broken"* ]]
	rm -rf b
	run --separate-stderr vb-restore --offsite "$newest" --to r.db
	[ "$status" -eq 0 ]
	[ "$(rows r.db)" = "$(cat rows.3)" ]
	# The links fetched to rebuild it are not kept (docs/DESIGN.md,
	# threat model), nor the delta without them: no broken chain here.
	[ "$(find b -name 'backup-*' | wc -l)" -eq 0 ] || { ls -la b; false; }
	[[ $stderr == *"not kept: a delta, whose chain is not here"* ]]
	no_temporaries b
}
