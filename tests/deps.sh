#!/bin/sh
# Installs the Debian packages amishare's build and test suite need, and
# nothing else. Idempotent: packages already present are skipped, and
# `apt-get update` runs only when something is missing. Works as root or
# through sudo.
set -eu

packages="
make gcc pkg-config git ca-certificates openssl curl
libcurl4-openssl-dev libssl-dev libxml2-dev libgit2-dev libcjson-dev
python3 python3-botocore python3-boto3 awscli packer
clang clang-format clang-tidy cppcheck valgrind
"

missing=""
for p in $packages; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null |
		grep -q "install ok installed"; then
		missing="$missing $p"
	fi
done
if [ -z "$missing" ]; then
	echo "deps: all packages present"
	exit 0
fi

if [ "$(id -u)" -eq 0 ]; then
	sudo=""
elif command -v sudo >/dev/null 2>&1; then
	sudo="sudo"
else
	echo "deps: missing:$missing; run as root or install sudo" >&2
	exit 1
fi
echo "deps: installing:$missing"
$sudo env DEBIAN_FRONTEND=noninteractive apt-get update -q
# shellcheck disable=SC2086
$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
	--no-install-recommends $missing
