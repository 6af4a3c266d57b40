#!/usr/bin/env bash
# Builds the Debian package dptrack_VERSION_ARCH.deb from this tree with
# debhelper (debian/), VERSION being meson's project version, and checks
# it with lintian: an error fails the build, warnings are shown.
#
# The tree is copied first (with git: the files git tracks or would track,
# local changes included; else everything but build directories), so the
# build leaves nothing in it; debian/changelog, which dpkg takes the
# version from, is written into the copy from meson.build. As root, what
# the build needs and is missing is installed from Debian's archive; as
# another user, dpkg-checkbuilddeps names it.
#
# Usage: scripts/deb.sh [-o DIR]
#   -o DIR  where the .deb (and its -dbgsym, .buildinfo, .changes) go;
#           default build-deb/ in the tree. Prints the .deb's path last.
set -euo pipefail
DPTRACK_SCRIPT=$(realpath "$0")
cd "$(dirname "$DPTRACK_SCRIPT")/.."
. scripts/lib.sh
top=$PWD

out=$top/build-deb
while getopts "o:h" opt; do
	case $opt in
	o) out=$OPTARG ;;
	h)
		sed -n '2,/^$/s/^# \{0,1\}//p' "$DPTRACK_SCRIPT"
		exit 0
		;;
	*) die "usage: scripts/deb.sh [-o DIR]" ;;
	esac
done
shift $((OPTIND - 1))
[ $# -eq 0 ] || die "usage: scripts/deb.sh [-o DIR]"
mkdir -p "$out"
out=$(realpath "$out")

# dpkg-dev reads debian/control; lintian checks the result. The rest of
# what the build needs, debian/control's Build-Depends, comes below.
if [ "$(id -u)" -eq 0 ]; then
	install_deps dpkg-dev lintian
else
	for tool in dpkg-buildpackage dpkg-checkbuilddeps lintian; do
		command -v "$tool" >/dev/null ||
			die "$tool is missing: run this as root to install it, or apt-get install dpkg-dev lintian"
	done
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
stage=$work/dptrack
mkdir "$stage"

# The tree as git sees it, else everything but build output.
if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
	git ls-files -z --cached --others --exclude-standard |
		while IFS= read -r -d '' f; do [ -e "$f" ] && printf '%s\0' "$f"; done |
		tar --null -T - -cf - | tar -xf - -C "$stage"
	commit=$(git rev-parse --short HEAD)
	if [ -z "$(git status --porcelain)" ]; then
		from="git commit $commit"
		date=$(git log -1 --format=%cD)
	else
		from="git commit $commit with local changes"
		date=$(date -R)
	fi
else
	tar --exclude='./build*' --exclude=./.git -cf - . | tar -xf - -C "$stage"
	from="a tree git could not read (not a checkout, or no git)"
	date=$(date -R)
fi

# Build-Depends, meson among them, before meson is asked for the version.
cd "$stage"
if ! dpkg-checkbuilddeps 2>"$work/deps"; then
	[ "$(id -u)" -eq 0 ] || die "$(cat "$work/deps")"
	echo "dptrack: installing the build dependencies of debian/control"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -q || die "apt-get update failed"
	apt-get build-dep -y -q --no-install-recommends "$stage" ||
		die "apt-get build-dep failed"
fi

version=$(meson introspect --projectinfo meson.build |
	python3 -c 'import json, sys; print(json.load(sys.stdin)["version"])') ||
	die "meson introspect could not read the project version from meson.build"
arch=$(dpkg --print-architecture)

# A native package: the version is meson's, with no Debian revision.
maint=$(sed -n 's/^Maintainer: //p' debian/control)
cat >debian/changelog <<EOF
dptrack ($version) unstable; urgency=medium

  * Built by scripts/deb.sh from $from.

 -- $maint  $date
EOF

# -b: binary packages only; -us -uc: unsigned (no key here); parallel=2
# unless DEB_BUILD_OPTIONS says otherwise.
DEB_BUILD_OPTIONS=${DEB_BUILD_OPTIONS:-parallel=2} \
	dpkg-buildpackage -b -us -uc >"$work/build.log" 2>&1 || {
	tail -n 40 "$work/build.log" >&2
	die "dpkg-buildpackage failed (the last 40 lines of its log are above)"
}
cd "$top"

deb=dptrack_${version}_${arch}.deb
changes=dptrack_${version}_${arch}.changes
[ -f "$work/$deb" ] || die "dpkg-buildpackage made no $deb"
for f in "$work"/*.deb "$work"/*.buildinfo "$work/$changes"; do
	mv "$f" "$out/"
done

# --fail-on error: warnings are reported, not fatal; each tag left is
# explained in docs/OPERATIONS.md ("Installing the package").
echo "dptrack: lintian $changes"
lintian --fail-on error "$out/$changes" || die "lintian found errors in $out/$changes"
echo "$out/$deb"
