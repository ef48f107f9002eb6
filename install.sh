#!/bin/sh
# install.sh - sets vb up on a Debian machine, as root: it builds vb's
# Debian package (make deb) and installs it with apt, which brings the
# runtime dependencies; the package installs the tools, the man pages,
# /etc/vb.conf (a conffile), the backup directory (0700) and the 01:00
# cron job, with the systemd units installed but not enabled.  The
# compiler and headers the build needs are removed again after, so a
# production host keeps runtime dependencies only.  Running it twice
# changes nothing.
#
#   ./install.sh                 all that
#   ./install.sh --dev           the same, keeping the build, test and
#                                analysis tools (a developer's or CI machine)
#   ./install.sh --deps          only the dependencies (with --dev: those for
#                                building and testing too)
#   ./install.sh --no-cron       the cron entry's job line turned off
#   ./install.sh --schedule 'M H * * *'
#                                when the job runs (default '0 1 * * *':
#                                01:00 daily; also 'M * * * *' hourly and
#                                'M H * * D' weekly), for cron and the timer
#   ./install.sh --schedule [interval]
#                                the schedule vb.conf asks for: every
#                                BACKUP_INTERVAL through NIGHTLY_AT (the
#                                nightly, then a point every interval), as
#                                vb-snapshot --print-schedule derives it
#   ./install.sh --prefix DIR    no package: make install under DIR, for
#   ./install.sh --destdir DIR   systems without dpkg or a staged install;
#                                outside /usr and /usr/local, or with
#                                --destdir, nothing is written outside
#                                DESTDIR/PREFIX (see make install)
#   ./install.sh --uninstall     remove vb (apt-get remove, or what make
#                                install listed); never the backups or
#                                /etc/vb.conf
set -eu

prefix=
destdir=
deps_only=0
dev=0
cron=1
uninstall=0
schedule='0 1 * * *'

usage() {
	sed -n '2,/^set -eu/s/^# \{0,1\}//p' "$0"
	exit "${1:-2}"
}

while [ $# -gt 0 ]; do
	case $1 in
	--deps) deps_only=1 ;;
	--dev) dev=1 ;;
	--no-cron) cron=0 ;;
	--schedule)
		# Alone, or before another option: the interval's.
		case ${2:--} in
		-*) schedule=interval ;;
		*) schedule=$2; shift ;;
		esac ;;
	--schedule=*) schedule=${1#--schedule=} ;;
	--uninstall) uninstall=1 ;;
	--prefix) [ $# -ge 2 ] || usage; prefix=$2; shift ;;
	--prefix=*) prefix=${1#--prefix=} ;;
	--destdir) [ $# -ge 2 ] || usage; destdir=$2; shift ;;
	--destdir=*) destdir=${1#--destdir=} ;;
	-h | --help) usage 0 ;;
	*) echo "install.sh: unknown option: $1" >&2; usage ;;
	esac
	shift
done

# oncalendar M H DOM MON DOW: the cron schedule as systemd's OnCalendar,
# for the forms vb supports; nothing (and status 1) for any other.
oncalendar() {
	[ $# -eq 5 ] && [ "$3 $4" = '* *' ] && in_range "$1" 59 || return 1
	if [ "$2" = '*' ] && [ "$5" = '*' ]; then
		printf '*-*-* *:%02d:00\n' "$1"
		return 0
	fi
	in_range "$2" 23 || return 1
	case $5 in
	'*') printf '*-*-* %02d:%02d:00\n' "$2" "$1" ;;
	[0-7]) printf '%s *-*-* %02d:%02d:00\n' "$(echo Sun Mon Tue Wed Thu \
	    Fri Sat Sun | cut -d' ' -f$(($5 + 1)))" "$2" "$1" ;;
	*) return 1 ;;
	esac
}

# in_range N MAX: N is a number from 0 to MAX.
in_range() {
	echo "$1" | grep -Eq '^[0-9]{1,2}$' && [ "$1" -le "$2" ]
}

# derive_schedule VB-SNAPSHOT CONF: the schedule and the calendar CONF's
# BACKUP_INTERVAL and NIGHTLY_AT ask for (--schedule interval).
derive_schedule() {
	tab=$(printf '\t')
	if ! s=$(env -i VB_CONF="$2" "$1" --print-schedule); then
		echo "install.sh: $2: no schedule for it (above)" >&2
		exit 2
	fi
	schedule=${s%%"$tab"*}
	calendar=${s#*"$tab"}
	echo "install.sh: BACKUP_INTERVAL and NIGHTLY_AT in $2:" \
	    "'$schedule' (timer: $calendar)"
}

# shellcheck disable=SC2086 # the schedule's five fields, unglobbed
if [ "$schedule" = interval ]; then
	calendar=
elif ! calendar=$(set -f; oncalendar $schedule); then
	echo "install.sh: --schedule '$schedule' is not one vb can run: give" \
	    "'M H * * *' (daily at H:M), 'M * * * *' (hourly) or" \
	    "'M H * * D' (weekly, D 0-7)" >&2
	exit 2
fi

# What the tools need to run: the libraries, cron for the schedule, and
# the commands vb-backup uses (flock, setpriv, logger, pgrep, timeout),
# rclone (OFFSITE), age (ENCRYPT_TO) and ssh-keygen (SIGN_WITH).
RUNTIME="libsqlite3-0 libarchive13 libnettle8 cron util-linux bsdutils
procps coreutils findutils sed mawk rclone age openssh-client"
# What building them needs, and no more; and building the package.
BUILD="gcc make pkg-config libc6-dev libsqlite3-dev libarchive-dev
nettle-dev"
PKGBUILD="debhelper dpkg-dev build-essential"
# What the tests, the benchmarks and make lint need besides (--dev).
DEV="libcmocka-dev bats sqlite3 zstd xz-utils gzip tar time shellcheck
groff-base mandoc jq cppcheck python3 python3-prometheus-client clang
clang-tidy valgrind openssh-server openssh-client sqlite3-tools lintian
prometheus debootstrap faketime"

# missing PACKAGE...: those not installed.
missing() {
	for p in "$@"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null |
		    grep -q 'install ok installed' || echo "$p"
	done
}

# apt_install PACKAGE...: installs those missing.
apt_install() {
	# shellcheck disable=SC2046 # one word per package
	set -- $(missing "$@")
	[ $# -gt 0 ] || return 0
	if [ "$(id -u)" -ne 0 ]; then
		echo "install.sh: missing packages: $*; run as root" >&2
		exit 1
	fi
	echo "install.sh: installing $*"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	apt-get install -y -qq --no-install-recommends "$@"
}

# dev_s3: an S3 server for the offsite tests, from the npm registry (no
# Debian package has one): s3rver, kept outside the checkout.
S3RVER_DIR=/opt/vb-dev/s3rver
dev_s3() {
	[ -x "$S3RVER_DIR/node_modules/.bin/s3rver" ] && return 0
	command -v npm >/dev/null || apt_install nodejs npm
	echo "install.sh: installing s3rver (npm) into $S3RVER_DIR"
	mkdir -p "$S3RVER_DIR"
	npm install --silent --no-audit --no-fund --prefix "$S3RVER_DIR" \
	    s3rver@3.7.1 >/dev/null
}

installed_packages() {
	dpkg-query -W -f='${db:Status-Status} ${Package}\n' |
	    awk '$1 == "installed" { print $2 }' | sort
}

cd "$(dirname "$0")"

# No dpkg, or a prefix or a staging directory asked for: make install.
plain=0
[ -z "$prefix$destdir" ] || plain=1
command -v dpkg-query >/dev/null && command -v apt-get >/dev/null ||
    plain=1
prefix=${prefix:-/usr/local}

# remove_listed DESTDIR PREFIX: what make install listed there, removed;
# never the configuration or the backups.
remove_listed() {
	list=$1$2/share/doc/vb/installed
	if [ ! -f "$list" ]; then
		echo "install.sh: no $list: nothing of vb's to remove" >&2
		return 0
	fi
	while IFS= read -r f; do
		rm -f "$1$f"
	done <"$list"
	rm -f "$list"
	rmdir "$1$2/share/doc/vb" "$1$2/lib/vb" 2>/dev/null || true
	echo "install.sh: removed vb from $1$2; kept its configuration and" \
	    "the backups"
}

package_installed() {
	dpkg-query -W -f='${Status}' vb 2>/dev/null |
	    grep -q 'install ok installed'
}

# same_package DEB: that version is installed, every file the same.
same_package() {
	package_installed && [ "$(dpkg-query -W -f='${Version}' vb)" = \
	    "$(dpkg-deb -f "$1" Version)" ] || return 1
	dpkg-deb -I "$1" md5sums | sort >"$work/new"
	sort /var/lib/dpkg/info/vb.md5sums | cmp -s "$work/new" -
}

if [ "$uninstall" -eq 1 ]; then
	if [ "$plain" -eq 0 ] && package_installed; then
		apt-get remove -y -qq vb >/dev/null
		echo "install.sh: removed the vb package; kept /etc/vb.conf and" \
		    "the backups (apt purge vb removes the configuration)"
	else
		remove_listed "$destdir" "$prefix"
	fi
	exit 0
fi

if [ "$dev" -eq 1 ]; then
	# shellcheck disable=SC2086 # the lists are words
	apt_install $RUNTIME $BUILD $PKGBUILD $DEV
	dev_s3
elif [ "$plain" -eq 1 ] || [ "$deps_only" -eq 1 ]; then
	# shellcheck disable=SC2086
	apt_install $RUNTIME
fi
[ "$deps_only" -eq 1 ] && exit 0

# The build: with the compiler and headers installed for it only, and
# removed again after (exactly the packages that came with them), so the
# production host keeps runtime dependencies alone.  A plain build,
# whatever make may be running us (its flags would leak).
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
installed_packages >"$work/before"
[ "$plain" -eq 1 ] || BUILD="$BUILD $PKGBUILD"
# shellcheck disable=SC2086
apt_install $BUILD
added=$(installed_packages | comm -13 "$work/before" -)
mk() {
	env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -s SANITIZE= "$@"
}
built=0
if [ "$plain" -eq 1 ]; then
	mk && { [ "$schedule" != interval ] || derive_schedule \
	    build/vb-snapshot "$destdir$(mk sysconfdir PREFIX="$prefix" \
	    DESTDIR="$destdir")/vb.conf"; } &&
	    mk install PREFIX="$prefix" DESTDIR="$destdir" CRON="$cron" \
	    SCHEDULE="$schedule" ONCALENDAR="$calendar" >"$work/make" \
	    2>&1 && built=1
	sed -n "s/^'[^']*' -> '\(.*\)'$/install.sh: installed \1/p" \
	    "$work/make"
	grep -v "^'" "$work/make" || true
else
	mk deb LINTIAN="$([ "$dev" -eq 1 ] && echo lintian)" >"$work/make" \
	    2>&1 && built=1
	[ "$built" -eq 1 ] || cat "$work/make"
fi
if [ -n "$added" ]; then
	echo "install.sh: removing the build tools again:" \
	    "$(echo "$added" | tr '\n' ' ')"
	# shellcheck disable=SC2086 # one word per package
	apt-get purge -y -qq $added >/dev/null
fi
if [ "$built" -eq 0 ]; then
	echo "install.sh: the build failed (above); nothing installed" >&2
	exit 1
fi

# A plain install: the backup directory the configuration names, 0700,
# read the way every vb tool reads it (nothing in the file is run), on
# this host only (a trial or staged install writes nothing outside it).
if [ "$plain" -eq 1 ]; then
	etc=$(mk sysconfdir PREFIX="$prefix" DESTDIR="$destdir")
	if ! conf=$(env -i VB_CONF="$destdir$etc/vb.conf" \
	    "$destdir$prefix/bin/vb-snapshot" --print-config); then
		echo "install.sh: $destdir$etc/vb.conf has errors (above); fix" \
		    "them, then check with: vb-backup --check" >&2
	elif [ "$etc" = /etc ] && [ -z "$destdir" ]; then
		backup_dir=$(printf '%s\n' "$conf" |
		    sed -n 's/^BACKUP_DIR=//p')
		if [ -n "$backup_dir" ] && [ ! -d "$backup_dir" ]; then
			mkdir -p "$backup_dir"
			chmod 0700 "$backup_dir"
			echo "install.sh: created $backup_dir (0700)"
		fi
	fi
	echo "install.sh: done; configure $destdir$etc/vb.conf, then:" \
	    "$prefix/bin/vb-backup --check"
	exit 0
fi

# The package: a make install under /usr/local from before goes first
# (the package replaces it; /etc/vb.conf stays), then apt installs it,
# again only if it differs from the one installed.
deb=$(ls "$PWD"/build/deb/vb_*.deb)
if [ -f /usr/local/share/doc/vb/installed ]; then
	echo "install.sh: the package replaces the make install in /usr/local"
	remove_listed "" /usr/local
fi
if same_package "$deb"; then
	echo "install.sh: $(basename "$deb") is installed already"
else
	export DEBIAN_FRONTEND=noninteractive
	apt-get install -y -qq --reinstall "$deb" >/dev/null
	echo "install.sh: installed $(basename "$deb")"
fi

# The schedule, and the job line on or off: the conffile's time rewritten
# only where it differs; the timer's through a drop-in (apt purge
# removes it).
[ "$schedule" != interval ] || derive_schedule /usr/bin/vb-snapshot \
    /etc/vb.conf
cronf=/etc/cron.d/vb-backup
off=
[ "$cron" -eq 1 ] || off='# off (install.sh --no-cron): '
sed -E "s|^(# off \(install.sh --no-cron\): )?[^ #]+ [^ ]+ [^ ]+ [^ ]+ [^ ]+ (root /usr/bin/vb-backup)|$off$schedule \2|" \
    "$cronf" >"$work/cron"
if ! cmp -s "$cronf" "$work/cron"; then
	cat "$work/cron" >"$cronf"
	echo "install.sh: $cronf: $(grep 'root /usr/bin/vb-backup' "$cronf")"
fi
dropin=/etc/systemd/system/vb-backup.timer.d/schedule.conf
if [ "$calendar" = '*-*-* 01:00:00' ]; then
	rm -f "$dropin"
	rmdir "${dropin%/*}" 2>/dev/null || true
else
	mkdir -p "${dropin%/*}"
	printf '%s\n' "# install.sh --schedule '$schedule' (apt purge vb" \
	    "# removes this file)." "[Timer]" "OnCalendar=" \
	    "OnCalendar=$calendar" >"$dropin"
fi
[ ! -d /run/systemd/system ] || systemctl daemon-reload || true

if [ "$cron" -eq 1 ]; then
	echo "install.sh: the job runs at '$schedule' from $cronf (or use" \
	    "vb-backup.timer instead: turn the cron line off with" \
	    "install.sh --no-cron, then systemctl enable --now vb-backup.timer)"
fi
echo "install.sh: done; configure /etc/vb.conf, then: vb-backup --check"
