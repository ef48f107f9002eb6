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
