#!/usr/bin/env bats
# map.bats - the map of the code cannot drift from the code: README's
# layout names every file of src/lib and no file that is not there, and
# neither it nor docs/DESIGN.md gives a size that goes stale (issue 37).

load helpers

# layout: README's "Layout" list, from its first line to bin/vb-backup's.
layout() {
	# shellcheck disable=SC2016 # backquotes are README's, not a command
	sed -n '/^Layout (docs\/DESIGN.md/,/^- `bin\/vb-backup`/p' \
	    "$BATS_TEST_DIRNAME/../README.md"
}

@test "map: README's layout names every src/lib file, and only those" {
	local src=$BATS_TEST_DIRNAME/../src/lib f missing=0
	[ -n "$(layout)" ]
	for f in "$src"/*.c; do
		f=${f##*/}
		grep -q "\`$f\`" <<<"$(layout)" ||
		    { echo "not in README's layout: $f"; missing=1; }
	done
	while IFS= read -r f; do
		[ -e "$src/$f" ] ||
		    { echo "in README's layout, not in src/lib: $f"; missing=1; }
	done < <(layout | grep -o "\`[a-z0-9_]*\\.c\`" | tr -d "\`" | sort -u)
	[ "$missing" -eq 0 ]
}

@test "map: no line count of a file in README or docs/DESIGN.md" {
	# "vb.h (about 340 lines", "It is about 400 lines": stale at once.
	# Rules ("functions stay under about 80 lines") are not counts.
	run grep -nE '(\(|is |has )about [0-9]+ lines|[a-z]\.[ch] is under [0-9]+' \
	    "$BATS_TEST_DIRNAME/../README.md" \
	    "$BATS_TEST_DIRNAME/../docs/DESIGN.md"
	[ "$status" -eq 1 ]
}

# families BIN: the src/lib files (built objects) whose functions BIN
# carries, one per line, into $T/families.BIN.
families() {
	[ -e "$T/objects" ] || nm -A "$VB_BIN"/lib/*.o |
	    awk '$2 == "T" { sub(/:.*/, "", $1); sub(/.*\//, "", $1);
		sub(/\.o$/, "", $1); print $1, $3 }' >"$T/objects"
	nm "$VB_BIN/$1" | awk '$2 == "T" { print $3 }' |
	    awk 'NR == FNR { have[$1]; next } $2 in have { print $1 }' - \
	    "$T/objects" | sort -u >"$T/families.$1"
}

# carries BIN FAMILY...: BIN links each family; lacks: none of them.
carries() {
	local b=$1 f
	shift
	families "$b"
	for f in "$@"; do
		grep -qx "$f" "$T/families.$b" ||
		    { echo "$b does not link $f.c"; return 1; }
	done
}
lacks() {
	local b=$1 f bad=0
	shift
	families "$b"
	for f in "$@"; do
		! grep -qx "$f" "$T/families.$b" ||
		    { echo "$b links $f.c, which it does not use"; bad=1; }
	done
	return "$bad"
}

@test "map: each binary links only the families it uses (nm)" {
	[ -e "$VB_BIN/lib/cli.o" ] || skip "no built objects beside $VB_BIN"
	local restore="restore diff partial undo livetx drill jobrestore"
	# shellcheck disable=SC2086 # word lists
	{
		carries vb-snapshot cli snapshot
		lacks vb-snapshot compress makepoint encrypt archive catalog \
		    prune $restore joblog jobcompress jobprune
		carries vb-log cli joblog backuplog
		lacks vb-log compress archive catalog $restore jobcompress \
		    jobprune
		carries vb-compress cli jobcompress compress makepoint
		lacks vb-compress catalog $restore joblog jobprune
		carries vb-prune cli jobprune prune
		lacks vb-prune compress $restore joblog jobcompress
		carries vb-offsite cli jobprune remote
		lacks vb-offsite compress $restore joblog jobcompress
		carries vb-restore cli jobrestore restore diff partial undo drill
		lacks vb-restore joblog jobcompress jobprune
	}
}

@test "map: vb.h declares the functions the tools call, and no other" {
	local src=$BATS_TEST_DIRNAME/../src f n=0 bad=0
	# A tool includes vb.h alone: what it calls is declared there.
	[ "$(grep -h '^#include "' "$src"/vb-*.c | sort -u)" = \
	    '#include "lib/vb.h"' ]
	while IFS= read -r f; do
		n=$((n + 1))
		grep -qw "$f" "$src"/vb-*.c ||
		    { echo "vb.h declares $f, which no tool calls"; bad=1; }
	done < <(grep -oE '^[a-z][^(]*[ *	]vb_[a-z0-9_]+\(' "$src/lib/vb.h" |
	    grep -oE 'vb_[a-z0-9_]+\($' | tr -d '(' | sort -u)
	[ "$n" -gt 40 ]
	[ "$bad" -eq 0 ]
}

@test "map: each declaration of vb.h and vblib.h sits under its file's section" {
	# A section opens "/* ---- a.c, b.c: what ---- */"; a function
	# declared there is defined (at the start of a line) in one of them.
	local src=$BATS_TEST_DIRNAME/../src/lib f
	for f in "$src"/*.c; do
		grep -o '^vb_[a-z0-9_]*(' "$f" | tr -d '(' | sed "s|\$| ${f##*/}|"
	done >"$T/definers"
	[ "$(wc -l <"$T/definers")" -gt 200 ]
	run awk 'NR == FNR { def[$1] = $2; next }
	    FNR == 1 { sec = "" }
	    /^\/\* ---- / { sec = " "; s = $0; sub(/: .*/, "", s)
		while (match(s, /[a-z0-9_]+\.c/)) {
			sec = sec substr(s, RSTART, RLENGTH) " "
			s = substr(s, RSTART + RLENGTH)
		} }
	    /^[a-z]/ && match($0, /vb_[a-z0-9_]+\(/) {
		n = substr($0, RSTART, RLENGTH - 1); seen++
		if (!(n in def))
			print FILENAME ":" FNR ": " n " is defined nowhere"
		else if (index(sec, " " def[n] " ") == 0)
			print FILENAME ":" FNR ": " n " is under" \
			    (sec == "" ? " no section " : sec) \
			    "but defined in " def[n]
	    }
	    END { if (seen < 200) print "only " seen " declarations read" }' \
	    "$T/definers" "$src/vb.h" "$src/vblib.h"
	[ "$status" -eq 0 ]
	[ -z "$output" ] || { echo "$output"; false; }
}

@test "map: every file README and docs/DESIGN.md name exists" {
	local top=$BATS_TEST_DIRNAME/.. f n=0 bad=0
	# shellcheck disable=SC2016 # backquotes are Markdown's
	while IFS= read -r f; do
		n=$((n + 1))
		case $f in
		*/*) [ -e "$top/$f" ] ;;
		*) [ -e "$top/src/lib/$f" ] || [ -e "$top/src/$f" ] ;;
		esac || { echo "named, not there: $f"; bad=1; }
	done < <(grep -ohE '`[a-z0-9_/.-]+\.[ch]`' "$top/README.md" \
	    "$top/docs/DESIGN.md" | tr -d '`' | grep -v '^src/vb-\*' | sort -u)
	[ "$n" -gt 20 ]
	[ "$bad" -eq 0 ]
}
