#!/usr/bin/env bash
# Debian's Chromium, which the tests use headless to load the HTML report.
set -euo pipefail
command -v chromium >/dev/null && exit 0
sudo=""
if [ "$(id -u)" != 0 ]; then
  command -v sudo >/dev/null || { echo "install-chromium: need root (or sudo) to apt-get install chromium" >&2; exit 1; }
  sudo=sudo
fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get install -y -qq chromium >/dev/null 2>&1 || { $sudo apt-get update -qq && $sudo apt-get install -y -qq chromium >/dev/null; }
# The downloaded .deb files are not needed once installed; small CI disks need the room.
$sudo apt-get clean
command -v chromium >/dev/null
