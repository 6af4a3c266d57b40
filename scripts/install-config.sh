#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
#
# meson install script: installs the default config as DIR/dptrack.yaml
# unless a file is there already, so a reinstall or upgrade never
# overwrites the operator's config. Honours DESTDIR and MESON_INSTALL_QUIET.
# Usage: install-config.sh SOURCE_YAML DIR (DIR absolute)
set -eu
src=$1
dir=${DESTDIR:-}$2
dst=$dir/dptrack.yaml
say() { [ -n "${MESON_INSTALL_QUIET:-}" ] || echo "$@"; }
if [ -e "$dst" ]; then
	say "Keeping existing $dst"
	exit 0
fi
mkdir -p "$dir"
cp "$src" "$dst.tmp.$$"
chmod 0644 "$dst.tmp.$$"
mv "$dst.tmp.$$" "$dst"
say "Installing $src to $dst"
