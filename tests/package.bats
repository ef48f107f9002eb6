#!/usr/bin/env bats
# Installing: a trial make install that stays where it is told, the
# Debian package (make deb, lintian), and the Prometheus alert rules.
# The package tried in a fresh Debian 12 is tests/deb-chroot (.ci/run).

# shellcheck disable=SC2154 # bats' run --separate-stderr sets $stderr
bats_require_minimum_version 1.5.0
load helpers

repo() {
	cd "$BATS_TEST_DIRNAME/.." && pwd
}

# etc_state: every file under /etc with its size and modification time,
# and the hash of those where a nightly job is wired (so a file rewritten
# with the same time still shows).
etc_state() {
	find /etc -xdev \( -type f -o -type l \) -printf '%p %s %T@\n' \
	    2>/dev/null | sort
	find /etc/cron.d /etc/systemd/system -xdev -type f -exec sha256sum {} + \
	    2>/dev/null | sort
	sha256sum /etc/vb.conf 2>/dev/null || true
}

@test "install: a trial make install under a temporary PREFIX, or with DESTDIR, writes nothing outside it; /etc untouched" {
	slow
	r=$(repo)
	etc_state >before
	p=$T/trial/p
	run make -s -C "$r" B="$T/build" install PREFIX="$p"
	[ "$status" -eq 0 ]
	[[ $output == *"vb: installed under $p, nothing outside it"* ]]
	[[ $output == *"copy $p/etc/cron.d/vb-backup to /etc/cron.d/"* ]]
	# Everything under the prefix, the job's files pointing at it.
	[ -z "$(find "$T/trial" -mindepth 1 ! -path "$p" ! -path "$p/*")" ]
	[ -x "$p/bin/vb-backup" ] && [ -f "$p/share/man/man5/vb.conf.5" ]
	grep -q "^0 1 \* \* \* root $p/bin/vb-backup " "$p/etc/cron.d/vb-backup"
	grep -qx "VB_CONF=$p/etc/vb.conf" "$p/etc/cron.d/vb-backup"
	grep -qx "ExecStart=$p/bin/vb-backup" \
	    "$p/etc/systemd/system/vb-backup.service"
	grep -qx "Environment=VB_CONF=$p/etc/vb.conf" \
	    "$p/etc/systemd/system/vb-backup.service"
	[ -f "$p/etc/vb.conf" ]
	# The installed job reads the configuration beside it.
	printf 'DB_PATH=%s\nBACKUP_DIR=%s\n' "$T/app.db" "$T/b" \
	    >"$p/etc/vb.conf"
	mkdb app.db wal
	c=$(sed -n 's/^VB_CONF=//p' "$p/etc/cron.d/vb-backup")
	VB_CONF=$c "$p/bin/vb-backup" 2>/dev/null
	[ -n "$(find "$T/b" -name 'backup-*.tar.zst')" ]
	# With DESTDIR, even PREFIX=/usr stays under DESTDIR/usr.
	d=$T/stage
	make -s -C "$r" B="$T/build" install DESTDIR="$d" PREFIX=/usr \
	    >/dev/null
	[ -z "$(find "$d" -mindepth 1 ! -path "$d/usr" ! -path "$d/usr/*")" ]
	grep -q '^0 1 \* \* \* root /usr/bin/vb-backup ' \
	    "$d/usr/etc/cron.d/vb-backup"
	# Uninstall removes what it listed, and only that.
	make -s -C "$r" B="$T/build" uninstall PREFIX="$p" >/dev/null
	[ ! -e "$p/bin/vb-backup" ] && [ ! -e "$p/etc/cron.d/vb-backup" ]
	[ -f "$p/etc/vb.conf" ]
	etc_state >after
	diff before after
}

@test "deb: make deb builds vb_<version>_<arch>.deb, lintian clean; /usr/bin, conffiles, units disabled, shlibs and Recommends, hardened" {
	slow
	command -v dpkg-buildpackage >/dev/null && command -v lintian \
	    >/dev/null || skip "no dpkg-buildpackage or lintian: ./install.sh --deps --dev"
	r=$(repo)
	v=$(sed -n 's/^#define VB_VERSION[^"]*"\(.*\)"/\1/p' "$r/src/lib/vb.h")
	# One version: the header, the job and the changelog.
	[ "$("$r/bin/vb-backup" --version)" = "vb-backup $v" ]
	[ "$(cd "$r" && dpkg-parsechangelog -S Version)" = "$v" ]
	run make -s -C "$r" B="$T/build" deb
	[ "$status" -eq 0 ]
	deb=$T/build/deb/vb_${v}_$(dpkg --print-architecture).deb
	[ -f "$deb" ]
	# lintian ran inside make deb (warnings fail it): nothing to say.
	run ! grep -E '^[EW]: ' <<<"$output"
	dpkg-deb -c "$deb" | awk '{ print $6 }' >files
	for f in ./usr/bin/vb-snapshot ./usr/bin/vb-backup ./usr/lib/vb/report.sh \
	    ./usr/share/man/man1/vb-restore.1.gz ./usr/share/man/man5/vb.conf.5.gz \
	    ./etc/vb.conf ./etc/cron.d/vb-backup \
	    ./lib/systemd/system/vb-backup.timer \
	    ./lib/systemd/system/vb-backup.service \
	    ./usr/share/doc/vb/copyright ./usr/share/doc/vb/changelog.gz \
	    ./usr/share/doc/vb/examples/vb.rules.yml; do
		grep -qx "$f" files || { echo "missing $f"; return 1; }
	done
	run ! grep -E '^\./usr/local|installed$|^\./etc/systemd' files
	dpkg-deb -e "$deb" ctl
	sort ctl/conffiles | tr '\n' ' ' | grep -qx '/etc/cron.d/vb-backup /etc/vb.conf '
	dep=$(dpkg-deb -f "$deb" Depends)
	for p in libsqlite3-0 libarchive13 libnettle8 libc6 'cron | cron-daemon'; do
		[[ $dep == *"$p"* ]] || { echo "Depends: $dep"; return 1; }
	done
	[ "$(dpkg-deb -f "$deb" Recommends)" = "rclone, age, openssh-client" ]
	# The units installed, not enabled; the backup directory 0700.
	# (enabled again only where the operator had enabled it)
	[ "$(grep -c 'deb-systemd-helper enable' ctl/postinst)" -eq \
	    "$(grep -c 'deb-systemd-helper --quiet was-enabled' ctl/postinst)" ]
	grep -q "was-enabled 'vb-backup.timer'" ctl/postinst
	run ! grep -q 'deb-systemd-invoke start' ctl/postinst
	# shellcheck disable=SC2016 # the script's own words
	grep -q 'chmod 0700 "$dir"' ctl/postinst
	# The cron line names the installed job.
	dpkg-deb --fsys-tarfile "$deb" | tar -xOf - ./etc/cron.d/vb-backup |
	    grep -q '^0 1 \* \* \* root /usr/bin/vb-backup '
	# Debian's hardening flags: full RELRO, BIND_NOW, PIE, fortified
	# calls and the stack protector.
	dpkg-deb -x "$deb" x
	readelf -d x/usr/bin/vb-snapshot | grep -q 'BIND_NOW'
	readelf -l x/usr/bin/vb-snapshot | grep -q 'GNU_RELRO'
	readelf -h x/usr/bin/vb-snapshot | grep -q 'DYN (Position-Independent'
	nm -D x/usr/bin/vb-restore | grep -q '__stack_chk_fail'
	nm -D x/usr/bin/vb-restore | grep -Eq '__[a-z]+_chk@'
}

@test "monitoring: the alert rules pass promtool check and test rules; every metric they use is one a real run writes" {
	slow
	command -v promtool >/dev/null ||
	    skip "no promtool: ./install.sh --deps --dev installs prometheus"
	rules=$BATS_TEST_DIRNAME/../contrib/prometheus
	run promtool check rules "$rules/vb.rules.yml"
	[ "$status" -eq 0 ]
	[[ $output == *"SUCCESS: 9 rules found"* ]]
	run promtool test rules "$rules/vb.rules.test.yml"
	[ "$status" -eq 0 ]
	[[ $output == *SUCCESS* ]]
	# A real nightly with offsite copies and the drill writes each one.
	mkdb app.db wal
	# BACKUP_INTERVAL below a day: the points' gauges are written too.
	printf 'DB_PATH=%s\nBACKUP_DIR=%s\nOFFSITE=%s\nMETRICS_FILE=%s\n' \
	    "$T/app.db" "$T/b" "$T/remote" "$T/vb.prom" >"$VB_CONF"
	echo BACKUP_INTERVAL=300000 >>"$VB_CONF"
	mkdir remote
	vb_backup 2>/dev/null
	grep -o 'vb_backup_[a-z][a-z_]*' "$rules/vb.rules.yml" | sort -u >names
	[ "$(wc -l <names)" -eq 10 ]
	while IFS= read -r name; do
		grep -q "^$name{" vb.prom || { echo "not written: $name"; return 1; }
	done <names
	# Those real values: a healthy run fires nothing; after a failed
	# run, VbBackupFailed fires, and only it.
	promtest healthy "" vb.prom
	touch file
	printf 'DB_PATH=%s\nBACKUP_DIR=%s\nMETRICS_FILE=%s\n' "$T/app.db" \
	    "$T/file" "$T/vb.prom" >"$VB_CONF"
	run vb_backup
	[ "$status" -ne 0 ]
	promtest failed VbBackupFailed vb.prom
}

@test "monitoring: a host that never backed up, one never drilled, one whose drill failed then stayed quiet: each one's alert fires from the metrics a real run writes (issue 36)" {
	slow
	command -v promtool >/dev/null ||
	    skip "no promtool: ./install.sh --deps --dev installs prometheus"
	mkdb app.db wal
	# Never backed up: the first run fails (the directory is a file).
	touch file
	printf 'DB_PATH=%s\nBACKUP_DIR=%s\nMETRICS_FILE=%s\n' "$T/app.db" \
	    "$T/file" "$T/vb.prom" >"$VB_CONF"
	run vb_backup
	[ "$status" -ne 0 ]
	grep -q '^vb_backup_last_success_timestamp_seconds{.*} 0.000$' vb.prom
	grep -q '^vb_backup_last_verified_restore_timestamp_seconds{.*} 0.000$' vb.prom
	promtest never "VbBackupFailed VbNoRecentBackup VbNoVerifiedRestore" \
	    vb.prom
	# Never drilled: encrypted, and no DRILL_IDENTITY (the README's).
	age-keygen -o id.txt 2>/dev/null
	age-keygen -y id.txt >recipients.txt
	printf 'DB_PATH=%s\nBACKUP_DIR=%s\nMETRICS_FILE=%s\nENCRYPT_TO=%s\n' \
	    "$T/app.db" "$T/b" "$T/vb.prom" "$T/recipients.txt" >"$VB_CONF"
	vb_backup 2>/dev/null
	vb_backup 2>/dev/null
	promtest undrilled VbNoVerifiedRestore vb.prom
	# A drill that failed, then a quiet night (no drill due): still 0.
	printf 'DB_PATH=%s\nBACKUP_DIR=%s\nMETRICS_FILE=%s\n' "$T/app.db" \
	    "$T/c" "$T/vb.prom" >"$VB_CONF"
	vb_backup 2>/dev/null
	vb_backup 2>/dev/null
	bad=$(find c -name 'backup-*.tar.zst' | sort | tail -n1)
	flip_byte "$bad" $(($(stat -c %s "$bad") / 2))
	run vb_backup --drill "$bad"
	[ "$status" -eq 1 ]
	grep -q '^vb_backup_last_drill_success{.*} 0$' vb.prom
	vb-testwriter --count 10 app.db >/dev/null
	vb_backup 2>/dev/null
	grep -q '^vb_backup_last_drill_success{.*} 0$' vb.prom
	promtest quiet "VbRestoreDrillFailed VbBackupsUnrestorable" vb.prom
	# The failed backup gone (removed by the operator), a drill proves
	# the others: quiet.
	rm "$bad"
	vb_backup --drill 2>/dev/null
	grep -q '^vb_backup_last_drill_success{.*} 1$' vb.prom
	promtest proven "" vb.prom
}

# promtest NAME ALERTS FILE: promtool test rules, the metrics in FILE as
# constant series, evaluated just after they were written; ALERTS
# (space-separated, or none) are the alerts that fire, and only they.
# The rules' annotations are left out: what is tested here is each
# expression against what a real run wrote (vb.rules.test.yml tests the
# annotations).
promtest() {
	local rules=$BATS_TEST_DIRNAME/../contrib/prometheus a sev
	now=$(date +%s)
	awk '/^ *annotations:/ { skip = 1; next }
	    /^ *- alert:/ { skip = 0 } !skip' "$rules/vb.rules.yml" \
	    >"$1.rules.yml"
	{
		echo "rule_files: [$1.rules.yml]"
		echo "tests:"
		echo "  - interval: 1m"
		echo "    input_series:"
		# Time starts at 0 in promtool: timestamps made relative to now.
		awk -v now="$now" '/^vb_backup_/ {
		    v = $NF; n = $1
		    if (n ~ /timestamp_seconds/) v = v - now
		    gsub(/"/, "\\\"", n)
		    printf "      - series: \"%s\"\n        values: \"%s %s\"\n",
			n, v, v }' "$3"
		echo "    alert_rule_test:"
		for a in VbBackupFailed VbNoRecentBackup VbOffsiteStale \
		    VbNoVerifiedRestore VbRestoreDrillFailed VbSuddenLossOfRows \
		    VbNoMetrics VbBackupsUnrestorable VbNoRecentPoint; do
			echo "      - eval_time: 1m"
			echo "        alertname: $a"
			if [[ " $2 " != *" $a "* ]]; then
				echo "        exp_alerts: []"
				continue
			fi
			sev=$(awk -v a="$a" '$0 ~ "alert: " a "$" { f = 1 }
			    f && /severity:/ { print $2; exit }' "$rules/vb.rules.yml")
			echo "        exp_alerts:"
			echo "          - exp_labels: {severity: $sev, db: \"$T/app.db\"}"
		done
	} >"$1.test.yml"
	promtool test rules "$1.test.yml"
}
