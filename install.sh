#!/bin/sh
# install.sh - sets vb up on a Debian machine, as root: the runtime
# dependencies, the tools, the man pages, /etc/vb.conf, the backup
# directory and the 01:00 cron job.  Running it twice changes nothing.
#
#   ./install.sh                 all that; the compiler and headers it needs
#                                to build the tools are removed again after
#   ./install.sh --dev           the same, keeping the build, test and
#                                analysis tools (a developer's or CI machine)
#   ./install.sh --deps          only the dependencies (with --dev: those for
#                                building and testing too)
#   ./install.sh --no-cron       everything but the cron entry
#   ./install.sh --schedule 'M H * * *'
#                                when the job runs (default '0 1 * * *':
#                                01:00 daily; also 'M * * * *' hourly and
#                                'M H * * D' weekly), for cron and the timer
#   ./install.sh --prefix DIR    install under DIR (default /usr/local)
#   ./install.sh --destdir DIR   stage the install under DIR (packaging)
#   ./install.sh --uninstall     remove what it installed; never the
#                                backups or /etc/vb.conf
set -eu

prefix=/usr/local
destdir=
deps_only=0
dev=0
cron=1
uninstall=0
schedule='0 1 * * *'

usage() {
	sed -n '2,20s/^# \{0,1\}//p' "$0"
	exit "${1:-2}"
}

while [ $# -gt 0 ]; do
	case $1 in
	--deps) deps_only=1 ;;
	--dev) dev=1 ;;
	--no-cron) cron=0 ;;
	--schedule) [ $# -ge 2 ] || usage; schedule=$2; shift ;;
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

# shellcheck disable=SC2086 # the schedule's five fields, unglobbed
if ! calendar=$(set -f; oncalendar $schedule); then
	echo "install.sh: --schedule '$schedule' is not one vb can run: give" \
	    "'M H * * *' (daily at H:M), 'M * * * *' (hourly) or" \
	    "'M H * * D' (weekly, D 0-7)" >&2
	exit 2
fi

# What the tools need to run: the libraries, cron for the schedule, and
# the commands vb-backup uses (flock, setpriv, logger, pgrep, timeout).
RUNTIME="libsqlite3-0 libarchive13 libnettle8 cron util-linux bsdutils
procps coreutils findutils sed mawk rclone age"
# What building them needs, and no more.
BUILD="gcc make pkg-config libc6-dev libsqlite3-dev libarchive-dev
nettle-dev"
# What the tests, the benchmarks and make lint need besides (--dev).
DEV="libcmocka-dev bats sqlite3 zstd xz-utils gzip tar time shellcheck
groff-base mandoc jq cppcheck python3 python3-prometheus-client clang
clang-tidy valgrind openssh-server openssh-client sqlite3-tools"

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

if [ "$uninstall" -eq 1 ]; then
	# The list make install kept of what it installed.
	list=$destdir$prefix/share/doc/vb/installed
	if [ ! -f "$list" ]; then
		echo "install.sh: no $list: nothing of vb's to remove" >&2
		exit 0
	fi
	while IFS= read -r f; do
		rm -f "$destdir$f"
	done <"$list"
	rm -f "$list"
	rmdir "$destdir$prefix/share/doc/vb" "$destdir$prefix/lib/vb" \
	    2>/dev/null || true
	echo "install.sh: removed vb; kept /etc/vb.conf and the backups"
	exit 0
fi

# shellcheck disable=SC2086 # the lists are words
apt_install $RUNTIME
if [ "$dev" -eq 1 ]; then
	# shellcheck disable=SC2086
	apt_install $BUILD $DEV
	dev_s3
fi
[ "$deps_only" -eq 1 ] && exit 0

# The build: with the compiler and headers installed for it only, and
# removed again after (exactly the packages that came with them), so the
# production host keeps runtime dependencies alone.
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
installed_packages >"$work/before"
# shellcheck disable=SC2086
apt_install $BUILD
added=$(installed_packages | comm -13 "$work/before" -)
# A plain build, whatever make may be running us (its flags would leak).
env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -s SANITIZE=
env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -s install SANITIZE= \
    PREFIX="$prefix" DESTDIR="$destdir" CRON="$cron" \
    SCHEDULE="$schedule" ONCALENDAR="$calendar" >"$work/make"
sed -n "s/^'[^']*' -> '\(.*\)'$/install.sh: installed \1/p" "$work/make"
if [ -n "$added" ]; then
	echo "install.sh: removing the build tools again:" \
	    "$(echo "$added" | tr '\n' ' ')"
	# shellcheck disable=SC2086 # one word per package
	apt-get purge -y -qq $added >/dev/null
fi

# The backup directory the configuration names, 0700, read the way every
# vb tool reads it (nothing in the file is run).
backup_dir=$(VB_CONF="$destdir/etc/vb.conf" "$destdir$prefix/bin/vb-snapshot" \
    --print-config | sed -n 's/^BACKUP_DIR=//p') || {
	echo "install.sh: $destdir/etc/vb.conf has errors (above); fix them," \
	    "then check with: vb-backup --check" >&2
	backup_dir=
}
if [ -n "$backup_dir" ] && [ ! -d "$destdir$backup_dir" ]; then
	mkdir -p "$destdir$backup_dir"
	chmod 0700 "$destdir$backup_dir"
	echo "install.sh: created $destdir$backup_dir (0700)"
fi

if [ "$cron" -eq 1 ]; then
	echo "install.sh: the job runs at '$schedule' from" \
	    "$destdir/etc/cron.d/vb-backup (or use vb-backup.timer instead:" \
	    "systemctl enable --now vb-backup.timer)"
fi
echo "install.sh: done; configure $destdir/etc/vb.conf, then:" \
    "$prefix/bin/vb-backup --check"
