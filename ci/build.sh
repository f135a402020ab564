#!/usr/bin/env bash
# Builds amishare from a source tree for the CI integrations and prints
# the path of the binary on stdout (everything else goes to stderr).
#
#   ci/build.sh [SOURCE_DIR [BUILD_DIR]]
#
# SOURCE_DIR defaults to the tree this script is in, BUILD_DIR to
# SOURCE_DIR/build. When the Debian build dependencies are missing they
# are installed with apt-get (through sudo when not root), unless
# AMISHARE_INSTALL_DEPS=false.
set -euo pipefail

src=${1:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}
build=${2:-$src/build}
pcs="libcurl libcrypto libxml-2.0 libgit2 libcjson"
debs="make gcc libc6-dev pkg-config libcurl4-openssl-dev libssl-dev
libxml2-dev libgit2-dev libcjson-dev"

# shellcheck disable=SC2086
have_deps() {
	command -v make && command -v cc && command -v pkg-config &&
		pkg-config --exists $pcs
}

if ! have_deps >/dev/null 2>&1; then
	if [ "${AMISHARE_INSTALL_DEPS:-true}" = false ]; then
		echo "amishare: build dependencies missing: ${debs//$'\n'/ }" >&2
		exit 1
	fi
	sudo=""
	[ "$(id -u)" -eq 0 ] || sudo=sudo
	echo "amishare: installing build dependencies" >&2
	$sudo env DEBIAN_FRONTEND=noninteractive apt-get update -q >&2
	# shellcheck disable=SC2086
	$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
		--no-install-recommends $debs >&2
fi

jobs=$(getconf _NPROCESSORS_ONLN 2>/dev/null || echo 2)
make -C "$src" BUILD="$build" RELEASE=1 -j"$jobs" all >&2
"$build/amishare" --version >&2
echo "$build/amishare"
