#!/usr/bin/env bash
# Installs Debian's PostgreSQL server (and openssl) when missing: the tests run the store and the
# ledger against a real server (started by scripts/pg.sh, never as a system service).
set -euo pipefail

# openssl makes the test server's TLS certificates (scripts/pg.sh).
if ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 && command -v openssl >/dev/null; then
  exit 0
fi
sudo=""
if [ "$(id -u)" != 0 ]; then
  command -v sudo >/dev/null || { echo "install-postgres: need root (or sudo) to apt-get install postgresql" >&2; exit 1; }
  sudo=sudo
fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq postgresql openssl >/dev/null
# The downloaded .deb files are not needed once installed; small CI disks need the room.
$sudo apt-get clean
ls /usr/lib/postgresql/*/bin/initdb >/dev/null
