#!/usr/bin/env bash
# Installs what paycore needs to build, run and test, from Debian's packages.
# Idempotent: apt-get runs only when a package is missing.  Needs root.
set -euo pipefail

packages=(
	make gcc
	postgresql-15 postgresql-server-dev-15 postgresql-15-pgtap
	libtap-parser-sourcehandler-pgtap-perl libipc-run-perl
	libcurl4-openssl-dev python3
)

missing=()
for p in "${packages[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
	if [ "$(id -u)" -ne 0 ]; then
		echo "paycore: missing packages (${missing[*]}); run this as root to install them" >&2
		exit 1
	fi
	echo "paycore: installing ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
