#!/usr/bin/env bats
# bin/vb-backup, the nightly job, and install.sh.

# shellcheck disable=SC2154 # bats' run --separate-stderr sets $stderr
bats_require_minimum_version 1.5.0
load helpers

conf() {
	printf 'DB_PATH=%s\nBACKUP_DIR=%s\nMAX_BACKUPS=%s\n' "$T/app.db" \
	    "${1:-$T/backups}" "${2:-7}" >"$VB_CONF"
}

@test "backup: --help, --version, bad arguments and configuration" {
	run --separate-stderr vb_backup --help
	[ "$status" -eq 0 ]
	[[ $output == usage:\ vb-backup* ]]
	run --separate-stderr vb_backup --version
	[ "$status" -eq 0 ]
	run --separate-stderr vb_backup --bogus
	[ "$status" -eq 2 ]
	run --separate-stderr vb_backup
	[ "$status" -eq 2 ]
	[[ $stderr == *"DB_PATH and BACKUP_DIR must be set"* ]]
	mkdb app.db wal
	conf "$T/backups" 0
	run --separate-stderr vb_backup
	[ "$status" -eq 2 ]
	[[ $stderr == *"MAX_BACKUPS must be"* ]]
	[ ! -e backups ]
}

@test "backup: the nightly run: archive, BackupLog rows, summary" {
	mkdb app.db wal
	conf
	run --separate-stderr vb_backup
	[ "$status" -eq 0 ]
	[ -z "$output" ]
	[[ $stderr == "vb-backup: ok: $T/app.db backed up to $T/backups in "* ]]
	[ "$(find backups -name 'backup-*.tar.zst' | wc -l)" -eq 1 ]
	[ "$(find backups -name 'backup-*.db' | wc -l)" -eq 0 ]
	[ "$(mode_of backups)" = 700 ]
	[ -e backups/.vb.lock ]
	run sqlite3 app.db "SELECT operation || ' ' || status FROM BackupLog ORDER BY id"
	[ "${lines[0]}" = "snapshot success" ]
	[ "${lines[1]}" = "compress success" ]
	no_temporaries backups
}

@test "backup: --dry-run shows the plan and what retention would delete" {
	mkdb app.db wal
	conf "$T/backups" 2
	echo KEEP_DAILY=1 >>"$VB_CONF"
	mkdir -m 700 backups
	for d in 01 02 03; do
		: >"backups/backup-2026-11-${d}T01-00-00-000Z.tar.zst"
	done
	# SQLite's own -wal and -shm may appear, as for any reader.
	before=$(find . ! -name 'app.db-*' | sort)
	run --separate-stderr vb_backup --dry-run
	[ "$status" -eq 0 ]
	[[ $output == *"database:      $T/app.db ("*" bytes)"* ]]
	[[ $output == *"would run:     vb-snapshot $T/app.db -d $T/backups"* ]]
	[[ $output == *"retention:     keep the newest 2 backups, the newest of each of the last 1 days (any rule keeps a backup); never the newest one"* ]]
	[[ $output == *"  $T/backups/backup-2026-11-01T01-00-00-000Z.tar.zst  (0 bytes)"* ]]
	[[ $output != *"2026-11-02"* ]]
	[[ $output == *"snapshot:      $T/app.db ("*"wal) can be read; $T/backups can take its copy"* ]]
	[ "$(find . ! -name 'app.db-*' | sort)" = "$before" ]
	[ ! -e backups/.vb.lock ]
}

@test "backup: --dry-run's rows are the tools' answers (--plan): a preflight that would fail is said, not a failure; --plan's usage" {
	conf "$T/backups"
	# No database: the rows say so, and the dry run still answers.
	run --separate-stderr vb_backup --dry-run
	[ "$status" -eq 0 ]
	[[ $output == *"database:      $T/app.db (MISSING)"* ]]
	[[ $output == *"snapshot:      WOULD FAIL: "* ]]
	[[ $output == *"backup dir:    $T/backups (would be created, 0700)"* ]]
	[[ $output != *"retention would delete now"* ]]
	[ ! -e backups ]
	# Each tool's own rows.
	run --separate-stderr vb-snapshot -n --plan -d "$T/backups" "$T/app.db"
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "configuration: $VB_CONF" ]
	[ "${lines[${#lines[@]} - 1]%%WOULD FAIL:*}" = "snapshot:      " ]
	run --separate-stderr vb-log --plan "the drill | vb-log -q db" \
	    "$T/app.db"
	[ "$status" -eq 0 ]
	[ "$output" = "drill:         due tonight, after retention: the drill | vb-log -q db" ]
	mkdir -m 700 backups
	run --separate-stderr vb-prune --plan -d "$T/backups"
	[ "$status" -eq 0 ]
	[ "${lines[1]}" = "retention would delete now (before tonight's backup):" ]
	[ "${lines[2]}" = "  nothing" ]
	# --plan goes alone, and with -n only where -n means a dry run.
	run --separate-stderr vb-snapshot --plan "$T/app.db"
	[ "$status" -eq 2 ]
	run --separate-stderr vb-prune --plan -n
	[ "$status" -eq 2 ]
	run --separate-stderr vb-prune --plan --policy
	[ "$status" -eq 2 ]
	run --separate-stderr vb-log --plan x --due "$T/app.db"
	[ "$status" -eq 2 ]
}

@test "backup: the environment wins over vb.conf" {
	mkdb app.db delete
	conf "$T/conf-dir"
	run --separate-stderr env BACKUP_DIR="$T/env-dir" COMPRESSION=gzip \
	    "$BATS_TEST_DIRNAME/../bin/vb-backup"
	[ "$status" -eq 0 ]
	[ "$(find env-dir -name 'backup-*.tar.gz' | wc -l)" -eq 1 ]
	[ ! -e conf-dir ]
}

@test "backup: while the application writes" {
	mkdb app.db wal
	conf
	vb-testwriter app.db >writer.out &
	BG_PIDS=$!
	sleep 0.3
	run --separate-stderr vb_backup
	[ "$status" -eq 0 ]
	kill -TERM "$BG_PIDS"
	wait "$BG_PIDS"
	BG_PIDS=
	[ "$(vb-testwriter --check app.db)" = ok ]
	# The first night also drills (its verify row, before the run's).
	[ "$(sqlite3 app.db "SELECT group_concat(operation, ' ') FROM BackupLog WHERE status = 'success'")" = \
	    "snapshot compress verify backup" ]
}

@test "backup: a failed stage fails the run and leaves a failure row" {
	mkdb app.db wal
	echo file >notadir
	conf "$T/notadir/backups"
	run --separate-stderr vb_backup
	[ "$status" -eq 1 ]
	[[ $stderr == *"cannot create the backup directory $T/notadir/backups: Not a directory"* ]]
	[ "$(sqlite3 app.db "SELECT operation || ': ' || message FROM BackupLog WHERE status = 'failure'")" = \
	    "backup: failed at directory: cannot create the backup directory $T/notadir/backups: Not a directory; create it, owned by the user the job runs as (root), or set BACKUP_DIR" ]
	# A stage that fails: its record, then the run's backup row on top.
	conf
	run --separate-stderr damaged_reads "$BATS_TEST_DIRNAME/../bin/vb-backup"
	[ "$status" -eq 1 ]
	[[ $stderr == *"FAILED after "*"s at compress: "*"read-back check failed"* ]]
	run sqlite3 app.db "SELECT operation || ' ' || status FROM BackupLog ORDER BY createdAt DESC LIMIT 3"
	[ "${lines[0]}" = "backup failure" ]
	[ "${lines[1]}" = "compress failure" ]
	[ "${lines[2]}" = "snapshot success" ]
	# The snapshot it could not compress is kept; nothing was pruned.
	[ "$(find backups -name 'backup-*.db' | wc -l)" -eq 1 ]
	[ "$(sqlite3 app.db "SELECT count(*) FROM BackupLog WHERE operation = 'prune'")" -eq 0 ]
}

@test "backup: another run holding the lock: exit 75, nothing done" {
	mkdb app.db wal
	conf
	mkdir -m 700 backups
	flock backups/.vb.lock sleep 10 &
	BG_PIDS=$!
	wait_for sh -c '! flock -n backups/.vb.lock true'
	run --separate-stderr vb_backup
	[ "$status" -eq 75 ]
	[[ $stderr == *"another run holds $T/backups/.vb.lock"* ]]
	[ "$(find backups -name 'backup-*' | wc -l)" -eq 0 ]
}

@test "cron: the shipped cron/vb-backup is a valid cron.d file as it stands: 01:00, root, /usr/local/bin/vb-backup" {
	f=$BATS_TEST_DIRNAME/../cron/vb-backup
	run ! grep -q @ "$f"
	# Every line a comment, an environment setting or a job of six
	# fields and a command; one job.
	run awk '/^[[:space:]]*(#|$)/ { next }
	    /^[A-Z_]+=/ { next }
	    NF >= 7 && $1 ~ /^[0-9*,\/-]+$/ && $2 ~ /^[0-9*,\/-]+$/ &&
		$3 ~ /^[0-9*,\/-]+$/ && $4 ~ /^[0-9*,\/a-z-]+$/ &&
		$5 ~ /^[0-7*,\/a-z-]+$/ && $6 ~ /^[a-z_][a-z0-9_-]*$/ {
		jobs++; print $1, $2, $3, $4, $5, $6, $7; next }
	    { bad = $0 }
	    END { if (bad != "" || jobs != 1) exit 1 }' "$f"
	[ "$status" -eq 0 ]
	[ "$output" = "0 1 * * * root /usr/local/bin/vb-backup" ]
	# make install (its cronfiles) rewrites the time and the prefix,
	# names a configuration outside /etc, and nothing else.
	make -s -C "$BATS_TEST_DIRNAME/.." B="$T/build" PREFIX=/opt/vb \
	    SCHEDULE='30 2 * * 1' cronfiles >/dev/null
	diff <(grep -v '^0 1 \|^PATH=' "$f") \
	    <(grep -v '^30 2 \|^PATH=\|^VB_CONF=' "$T/build/cron/vb-backup")
	grep -q '^30 2 \* \* 1 root /opt/vb/bin/vb-backup 2>&1 | logger -t vb-backup$' \
	    "$T/build/cron/vb-backup"
	grep -q '^PATH=/opt/vb/bin:/usr/local/sbin:' "$T/build/cron/vb-backup"
	grep -qx 'VB_CONF=/opt/vb/etc/vb.conf' "$T/build/cron/vb-backup"
	# The package's: /usr/bin, the configuration in /etc.
	make -s -C "$BATS_TEST_DIRNAME/.." B="$T/build" PREFIX=/usr \
	    SYSCONFDIR=/etc cronfiles >/dev/null
	diff <(grep -v '^0 1 \|^PATH=' "$f") \
	    <(grep -v '^0 1 \|^PATH=' "$T/build/cron/vb-backup")
	grep -q '^0 1 \* \* \* root /usr/bin/vb-backup ' "$T/build/cron/vb-backup"
	run ! grep -q Environment "$T/build/cron/vb-backup.service"
}

@test "install: install.sh --destdir stages under DESTDIR/PREFIX only; idempotent, config kept, uninstall keeps backups" {
	slow
	root=$T/root
	repo=$BATS_TEST_DIRNAME/..
	e=$root/usr/local/etc
	run "$repo/install.sh" --destdir "$root" --prefix /usr/local
	[ "$status" -eq 0 ]
	[[ $output == *"nothing outside it"* ]]
	for t in vb-snapshot vb-compress vb-log vb-backup; do
		[ -x "$root/usr/local/bin/$t" ]
	done
	# Nothing outside DESTDIR/PREFIX: no /etc, no backup directory.
	[ -z "$(find "$root" -mindepth 1 ! -path "$root/usr" \
	    ! -path "$root/usr/local" ! -path "$root/usr/local/*")" ]
	grep -q '^0 1 \* \* \* root /usr/local/bin/vb-backup' "$e/cron.d/vb-backup"
	grep -qx 'VB_CONF=/usr/local/etc/vb.conf' "$e/cron.d/vb-backup"
	grep -q '^OnCalendar=\*-\*-\* 01:00:00' "$e/systemd/system/vb-backup.timer"
	grep -q '^Persistent=true' "$e/systemd/system/vb-backup.timer"
	grep -q '^ExecStart=/usr/local/bin/vb-backup' "$e/systemd/system/vb-backup.service"
	[ -f "$e/vb.conf" ]
	# Twice: nothing changes.
	echo "MAX_BACKUPS=9 # mine" >>"$e/vb.conf"
	run "$repo/install.sh" --destdir "$root" --prefix /usr/local
	[ "$status" -eq 0 ]
	[[ $output != *"install.sh: installed"* ]]
	grep -q "MAX_BACKUPS=9 # mine" "$e/vb.conf"
	# --no-cron leaves no cron entry behind in a fresh root.
	run "$repo/install.sh" --destdir "$T/root2" --no-cron
	[ "$status" -eq 0 ]
	[ ! -e "$T/root2/usr/local/etc/cron.d/vb-backup" ]
	# Another time: the cron line and the timer both move; a schedule
	# vb could not give the timer is refused, nothing changed.
	run "$repo/install.sh" --destdir "$root" --schedule '30 2 * * *'
	[ "$status" -eq 0 ]
	grep -q '^30 2 \* \* \* root /usr/local/bin/vb-backup' "$e/cron.d/vb-backup"
	grep -q '^OnCalendar=\*-\*-\* 02:30:00$' "$e/systemd/system/vb-backup.timer"
	run "$repo/install.sh" --destdir "$root" --schedule '*/5 * * * *'
	[ "$status" -eq 2 ]
	[[ $output == *"is not one vb can run"* ]]
	grep -q '^30 2 \* \* \* root' "$e/cron.d/vb-backup"
	run "$repo/install.sh" --destdir "$root" --uninstall
	[ "$status" -eq 0 ]
	[ ! -e "$root/usr/local/bin/vb-snapshot" ]
	[ ! -e "$e/cron.d/vb-backup" ]
	[ -f "$e/vb.conf" ]
}

@test "backup: the job runs at nice 10 and best-effort I/O priority 7, as cron and the unit run it, and compresses on every core; a nicer start is kept" {
	mkdb app.db wal
	conf
	# shellcheck disable=SC2016 # expanded by the hook's shell
	printf "ON_SUCCESS='%s'\n" \
	    'nice >"$VB_BACKUP_DIR/../nice"; ionice >"$VB_BACKUP_DIR/../io"' \
	    >>"$VB_CONF"
	run --separate-stderr vb_backup --dry-run
	[[ $output == *"| vb-compress -q -T $(nproc) |"* ]]
	base=$(nice)
	vb_backup 2>/dev/null
	[ "$(cat nice)" -eq "$((base > 10 ? base : 10))" ]
	[ "$(cat io)" = "best-effort: prio 7" ]
	nice -n 5 "$BATS_TEST_DIRNAME/../bin/vb-backup" 2>/dev/null
	[ "$(cat nice)" -eq "$((base + 5 > 19 ? 19 : base + 5 > 10 ? base + 5 : 10))" ]
	nice -n 15 "$BATS_TEST_DIRNAME/../bin/vb-backup" 2>/dev/null
	[ "$(cat nice)" -eq "$((base + 15 > 19 ? 19 : base + 15))" ]
	[ "$(find backups -name 'backup-*.tar.zst' | wc -l)" -eq 3 ]
}

@test "backup: integrity_check once a week on the snapshot, quick_check the other nights (with no restore drill; the drill takes that slot)" {
	mkdb app.db wal
	conf
	# The default drill replaces the weekly check: quick_check only.
	run --separate-stderr vb_backup --dry-run
	[[ $output == *"-q --defer-check --intermediate |"* ]]
	echo DRILL_EVERY=0 >>"$VB_CONF"
	vb_backup 2>/dev/null
	vb_backup 2>/dev/null
	run sqlite3 app.db "SELECT substr(message, 1, instr(message, '=') - 1)
	    FROM BackupLog WHERE operation = 'snapshot' ORDER BY id"
	[ "${lines[*]}" = "integrity quick_check" ]
	# The check itself ran in vb-compress, beside the compression.
	run sqlite3 app.db "SELECT message FROM BackupLog
	    WHERE operation = 'compress' ORDER BY id"
	[[ ${lines[0]} == *"snapshot's integrity_check ok"* ]]
	[[ ${lines[1]} == *"snapshot's quick_check ok"* ]]
	run --separate-stderr vb_backup --dry-run
	[[ $output == *"would run:     vb-snapshot $T/app.db -d $T/backups -q --defer-check --intermediate |"* ]]
	# Eight days later, it is due again.
	sqlite3 app.db "UPDATE BackupLog SET createdAt =
	    strftime('%Y-%m-%dT%H:%M:%fZ', createdAt, '-8 days')"
	run --separate-stderr vb_backup --dry-run
	[[ $output == *"would run:     vb-snapshot $T/app.db -d $T/backups -q --defer-check --intermediate --full-check |"* ]]
	vb_backup 2>/dev/null
	[ "$(sqlite3 app.db "SELECT message FROM BackupLog WHERE operation = 'snapshot' ORDER BY id DESC LIMIT 1" | cut -d= -f1)" = integrity ]
}

@test "backup: --dry-run's commands paste back as the very words a run uses: a path with ; or a space is quoted, an escape is never raw" {
	mkdb app.db wal
	local dir="$T/b x;touch $T/PWNED;#" esc=$'\e]0;pwned\a'
	printf "DB_PATH=%s\nBACKUP_DIR='%s'\n" "$T/app.db" "$dir" >"$VB_CONF"
	run --separate-stderr vb_backup --dry-run
	[ "$status" -eq 0 ]
	local row
	row=$(sed -n 's/^then: *//p' <<<"$output")
	# The row read back by a shell: vb-prune -d DIR, DIR whole.
	eval "set -- ${row%% | *}"
	[ "$#" -eq 3 ] && [ "$1" = vb-prune ] && [ "$3" = "$dir" ]
	[ ! -e "$T/PWNED" ]
	# The pasted row runs as the run would: nothing else.
	(eval "$row") 2>/dev/null || true
	[ ! -e "$T/PWNED" ]
	# A control byte reaches no terminal, in any row.
	printf "DB_PATH=%s\nBACKUP_DIR='%s'\n" "$T/app.db" "$T/e$esc" \
	    >"$VB_CONF"
	run --separate-stderr vb_backup --dry-run
	[ "$status" -eq 0 ]
	[[ $output != *$'\e'* ]] && [[ $output != *$'\a'* ]]
	[[ $output == *"-d \$'$T/e\\E]0;pwned\\a'"* ]]
}
