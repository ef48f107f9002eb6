#!/bin/bash
# bench/trace-nightly.sh - what one nightly runs and opens (issue 37,
# item 5): every stage on (SIGN_WITH, ENCRYPT_TO, OFFSITE through
# rclone's local backend, DRILL_SQL and a drill due), on a small database
# of the test writer's schema, one warm-up nightly, then one traced with
# strace.  Prints the programs executed (total and per program), each
# ssh-keygen run with its arguments and the program that ran it, and
# each process that opened the live database (openat of DB_PATH itself,
# not its -wal or -shm; a connection is two: vb's header read, SQLite's).
# A measurement, not a test: tests/once.bats asserts the bounds.
#
#   VB_BIN=build bench/trace-nightly.sh
#   ROWS=2000 BENCH_DIR=/tmp/vb-bench bench/trace-nightly.sh
set -euo pipefail

# shellcheck source=bench/common.sh
. "$(dirname "$0")/common.sh"
ROWS=${ROWS:-2000}
w=$out/trace-nightly

# setup: the database, the keys, the configuration, in $w.
setup() {
	rm -rf "$w"
	mkdir -p "$w/trace"
	vb-testwriter --setup --mode wal "$w/app.db" >/dev/null
	vb-testwriter --count "$ROWS" "$w/app.db" >/dev/null
	ssh-keygen -q -t ed25519 -N '' -C vb-bench -f "$w/signing-key"
	age-keygen -o "$w/age.key" 2>/dev/null
	age-keygen -y "$w/age.key" >"$w/recipients.txt"
	: >"$w/rclone.conf"	# nothing of the machine's
	{
		printf 'DB_PATH=%s\nBACKUP_DIR=%s\n' "$w/app.db" "$w/b"
		printf 'OFFSITE=%s\nSIGN_WITH=%s\n' "$w/remote" "$w/signing-key"
		printf 'ENCRYPT_TO=%s\n' "$w/recipients.txt"
		printf 'DRILL_IDENTITY=%s\n' "$w/age.key"
		# Due every night (an hour's slack): the traced one drills.
		printf 'DRILL_EVERY=1h\n'
		printf "DRILL_SQL='SELECT 1 FROM ledger LIMIT 1'\n"
		printf 'METRICS_FILE=%s\n' "$w/vb.prom"
	} >"$w/vb.conf"
}

nightly() {
	VB_CONF=$w/vb.conf RCLONE_CONFIG=$w/rclone.conf "$@" \
	    "$here/../bin/vb-backup"
}

# report DB TRACE...: the counts, from strace -ff's files (one a process).
report() {
	awk -v db="$1" -v w="$w" '
	# s with every w in it written $W (the arguments, shorter).
	function short(s,   i, out) {
		out = ""
		while ((i = index(s, w)) > 0) {
			out = out substr(s, 1, i - 1) "$W"
			s = substr(s, i + length(w))
		}
		return out s
	}
	# The quoted string starting at s[i] (strace escapes \" inside).
	function str(s, i,   j, c, out) {
		out = ""
		for (j = i + 1; j <= length(s); j++) {
			c = substr(s, j, 1)
			if (c == "\\") { out = out substr(s, j, 2); j++; continue }
			if (c == "\"") break
			out = out c
		}
		return out
	}
	FNR == 1 { pid = FILENAME; sub(/.*\./, "", pid)
		if (!(pid in prog)) prog[pid] = "(fork)" }
	/^execve\(/ && / = 0$/ {
		path = str($0, index($0, "\""))
		n = split(path, parts, "/")
		prog[pid] = parts[n]
		args = substr($0, index($0, "[") + 1)
		args = substr(args, 1, index(args, "], 0x") - 1)
		gsub(/"/, "", args); gsub(/, /, " ", args)
		argv[pid] = short(args)
		execs++; per[prog[pid]]++
		if (prog[pid] == "ssh-keygen") keygen[pid] = argv[pid]
	}
	/^(clone3?|vfork|fork)\(/ && / = [0-9]+$/ {
		kid = $NF; parent[kid] = pid
	}
	/^openat\(/ && / = [0-9]+$/ {
		p = substr($0, index($0, "\""))
		if (str(p, 1) == db) opens[pid]++
	}
	END {
		printf "execs: %d\n", execs
		for (p in per) printf "  %4d %s\n", per[p], p | "sort -k1,1nr -k2"
		close("sort -k1,1nr -k2")
		nk = 0
		for (k in keygen) {
			nk++
			by = (k in parent) ? argv[parent[k]] : "?"
			sk[keygen[k] "  (by " substr(by, 1, 40) ")"]++
		}
		printf "ssh-keygen runs: %d\n", nk
		for (s in sk) printf "  %4d %s\n", sk[s], s | "sort -k1,1nr"
		close("sort -k1,1nr")
		no = 0; np = 0
		for (p in opens) { no += opens[p]; np++ }
		printf "live database opens: %d, in %d processes\n", no, np
		cmd = "sort -k2"
		for (p in opens)
			printf "  %4d %s\n", opens[p],
			    substr(argv[p], 1, 72) | cmd
		close(cmd)
	}' "${@:2}"
	echo "(\$W: $w)"
}

setup
echo "vb nightly trace, $(date -u +%Y-%m-%dT%H:%M:%SZ)," \
    "database $(($(stat -c %s "$w/app.db") / 1024)) KiB"
nightly >/dev/null 2>&1	# warm-up: a backup, a catalog, a drill before
sleep 1
vb-testwriter --count 100 "$w/app.db" >/dev/null
nightly strace -f -ff -qq -s 512 \
    -e trace=execve,openat,clone,clone3,vfork,fork -o "$w/trace/t" \
    2>"$w/stderr" || { cat "$w/stderr" >&2; exit 1; }
report "$w/app.db" "$w/trace"/t.*
