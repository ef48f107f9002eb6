#!/usr/bin/env bats
# The man pages: they render without warnings, and every option --help
# names is documented.

bats_require_minimum_version 1.5.0
load helpers

man_dir() {
	echo "$BATS_TEST_DIRNAME/../man"
}

@test "man: every page renders without warnings (mandoc -Tlint, groff -ww)" {
	for f in "$(man_dir)"/*.[15]; do
		run groff -ww -z -mandoc "$f"
		echo "$f: $output"
		[ "$status" -eq 0 ]
		[ -z "$output" ]
		if command -v mandoc >/dev/null; then
			run mandoc -Tlint -W warning "$f"
			[ "$status" -eq 0 ]
			[ -z "$output" ]
		fi
	done
}

@test "man: every option in --help is in the man page, and each tool has one" {
	for t in vb-snapshot vb-compress vb-log vb-prune vb-restore vb-offsite vb-backup; do
		page=$(man_dir)/$t.1
		[ -f "$page" ]
		if [ "$t" = vb-backup ]; then
			help=$("$BATS_TEST_DIRNAME/../bin/vb-backup" --help)
		else
			help=$("$t" --help)
		fi
		while read -r opt; do
			grep -q "Fl \\\\${opt#-}" "$page" || {
				echo "$t: $opt is not in $page"
				return 1
			}
		done < <(grep -o -e '--[a-z][a-z-]*' <<<"$help" | sort -u)
		# The synopsis line of --help names the same options as SYNOPSIS.
		for opt in $(head -1 <<<"$help" | grep -o -e ' -[a-zA-Z]' | tr -d ' -'); do
			grep -q "Fl.*$opt" "$page" || {
				echo "$t: -$opt is not in $page"
				return 1
			}
		done
	done
	[ -f "$(man_dir)/vb.conf.5" ]
}

@test "man: rendered, no quote is nested in another and no parenthesis left open" {
	for f in "$(man_dir)"/*.[15]; do
		out=$(MANWIDTH=1000 man -l "$f" 2>/dev/null)
		[ -n "$out" ]
		# ‘7d, ‘2w, ‘36h’’’: quote macros nested on one line.
		! grep -n "’’\|‘[^’]*‘" <<<"$out" || { echo "$f"; return 1; }
		# Each paragraph's parentheses balance (one line each here).
		while IFS= read -r l; do
			o=${l//[^(]/} c=${l//[^)]/}
			[ "${#o}" -eq "${#c}" ] || { echo "$f: $l"; return 1; }
		done <<<"$out"
	done
	# vb.conf(5) says FULL_EVERY's examples plainly.
	MANWIDTH=1000 man -l "$(man_dir)/vb.conf.5" 2>/dev/null |
	    grep -q "a duration such as ‘7d’, ‘2w’ or ‘36h’"
}
