#!/bin/sh
# install.sh - sets vb up on a Debian machine, as root.
#
#   ./install.sh                 dependencies, build, install the tools
#   ./install.sh --deps          only the Debian build and test dependencies
#   ./install.sh --prefix DIR    install under DIR (default /usr/local)
#   ./install.sh --destdir DIR   stage the install under DIR (packaging)
#
# Running it twice changes nothing the second time.  The nightly job
# (bin/vb-backup and its cron entry) is installed here once it exists.
set -eu

prefix=/usr/local
destdir=
deps_only=0

usage() {
	sed -n '2,10s/^# \{0,1\}//p' "$0"
	exit "${1:-2}"
}

while [ $# -gt 0 ]; do
	case $1 in
	--deps) deps_only=1 ;;
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
nettle-dev libcmocka-dev bats sqlite3 zstd xz-utils util-linux time
shellcheck"

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

cd "$(dirname "$0")"
install_deps
[ "$deps_only" -eq 1 ] && exit 0

make
make install PREFIX="$prefix" DESTDIR="$destdir"
echo "install.sh: tools installed in $destdir$prefix/bin"
