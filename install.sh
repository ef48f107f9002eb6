#!/bin/sh
# install.sh - sets vb up on a Debian machine, as root: dependencies, the
# tools, the man pages, /etc/vb.conf, the backup directory and the 01:00
# cron job.  Running it twice changes nothing the second time.
#
#   ./install.sh                 everything
#   ./install.sh --deps          only the Debian build and test dependencies
#   ./install.sh --no-cron       everything but the cron entry
#   ./install.sh --prefix DIR    install under DIR (default /usr/local)
#   ./install.sh --destdir DIR   stage the install under DIR (packaging)
#   ./install.sh --uninstall     remove what it installed; never the
#                                backups or /etc/vb.conf
set -eu

prefix=/usr/local
destdir=
deps_only=0
cron=1
uninstall=0

usage() {
	sed -n '2,14s/^# \{0,1\}//p' "$0"
	exit "${1:-2}"
}

while [ $# -gt 0 ]; do
	case $1 in
	--deps) deps_only=1 ;;
	--no-cron) cron=0 ;;
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

# What the build and the tests need, as Debian packages.
PACKAGES="gcc make pkg-config libc6-dev libsqlite3-dev libarchive-dev
nettle-dev libcmocka-dev bats sqlite3 zstd xz-utils gzip tar util-linux
time shellcheck bsdutils procps groff-base mandoc jq cppcheck cron
python3 python3-prometheus-client
clang clang-tidy valgrind"

install_deps() {
	missing=
	for p in $PACKAGES; do
		if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null |
			grep -q 'install ok installed'; then
			missing="$missing $p"
		fi
	done
	[ -n "$missing" ] || return 0
	if [ "$(id -u)" -ne 0 ]; then
		echo "install.sh: missing packages:$missing; run as root" >&2
		exit 1
	fi
	echo "install.sh: installing$missing"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	# shellcheck disable=SC2086 # one word per package
	apt-get install -y -qq --no-install-recommends $missing
}

# put SRC DEST MODE: installs SRC as DEST unless DEST already has it.
put() {
	if [ -f "$2" ] && cmp -s "$1" "$2"; then
		return 0
	fi
	mkdir -p "$(dirname "$2")"
	install -m "$3" "$1" "$2"
	echo "install.sh: installed $2"
}

# put_subst SRC DEST MODE: put, with @PREFIX@ replaced by the prefix.
put_subst() {
	tmp=$(mktemp)
	sed "s|@PREFIX@|$prefix|g" "$1" >"$tmp"
	put "$tmp" "$2" "$3"
	rm -f "$tmp"
}

cd "$(dirname "$0")"
bindir=$destdir$prefix/bin
mandir=$destdir$prefix/share/man
docdir=$destdir$prefix/share/doc/vb
etc=$destdir/etc
TOOLS="vb-snapshot vb-compress vb-log vb-prune vb-restore vb-backup"

if [ "$uninstall" -eq 1 ]; then
	for t in $TOOLS; do
		rm -f "$bindir/$t"
	done
	rm -f "$etc/cron.d/vb-backup" "$etc/systemd/system/vb-backup.service" \
	    "$etc/systemd/system/vb-backup.timer"
	rm -f "$mandir"/man1/vb-*.1 "$mandir/man5/vb.conf.5"
	rm -rf "$docdir"
	echo "install.sh: removed vb; kept /etc/vb.conf and the backups"
	exit 0
fi

install_deps
[ "$deps_only" -eq 1 ] && exit 0

# A plain build, whatever make may be running us (its flags would leak).
env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -s SANITIZE=
for f in build/vb-*; do
	[ -x "$f" ] && put "$f" "$bindir/$(basename "$f")" 0755
done
put bin/vb-backup "$bindir/vb-backup" 0755
for f in man/*.1 man/*.5; do
	[ -f "$f" ] || continue
	put "$f" "$mandir/man${f##*.}/$(basename "$f")" 0644
done
put README.md "$docdir/README.md" 0644
put docs/DESIGN.md "$docdir/DESIGN.md" 0644

# The configuration is the operator's once it exists: never overwritten.
if [ ! -e "$etc/vb.conf" ]; then
	put etc/vb.conf "$etc/vb.conf" 0644
fi
# The backup directory named there (or by the environment), 0700.
backup_dir=$(
	# shellcheck disable=SC1090,SC1091 # the operator's file
	. "$etc/vb.conf"
	echo "${BACKUP_DIR:-}"
)
if [ -n "$backup_dir" ] && [ ! -d "$destdir$backup_dir" ]; then
	mkdir -p "$destdir$backup_dir"
	chmod 0700 "$destdir$backup_dir"
	echo "install.sh: created $destdir$backup_dir (0700)"
fi

put_subst cron/vb-backup.service "$etc/systemd/system/vb-backup.service" 0644
put_subst cron/vb-backup.timer "$etc/systemd/system/vb-backup.timer" 0644
if [ "$cron" -eq 1 ]; then
	put_subst cron/vb-backup "$etc/cron.d/vb-backup" 0644
	echo "install.sh: nightly job at 01:00 in $etc/cron.d/vb-backup" \
	    "(or use vb-backup.timer instead: systemctl enable --now vb-backup.timer)"
fi
echo "install.sh: done; configure $etc/vb.conf, then try: $prefix/bin/vb-backup"
