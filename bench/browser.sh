#!/usr/bin/env bash
# Desktop launch cost: `sandbox run --profile browser -- true` against firejail's firefox profile and a
# bubblewrap of a similar shape, and the time to the first frame of Firefox ESR (a served page of one colour
# covering the screen) in each of them and bare, on X servers as they ship (abstract socket on): Xvfb (its
# frame buffer polled every 20 ms) and, where the xwayland package is installed, Xwayland on headless weston
# (weston-screenshooter polled). A variant or server whose program is missing is left out and named.
# Run by hand, as root (firejail refuses uid 65534 here unless it is listed in /etc/firejail/firejail.users,
# so firejail runs as root and every other variant as uid 65534, env -i):
#   bash bench/browser.sh [LAUNCH_ROUNDS] [FRAME_ROUNDS]
set -euo pipefail
cd "$(dirname "$0")/.."
[ "$(id -u)" = 0 ] || { echo "run as root (the other variants drop to uid 65534 themselves)" >&2; exit 2; }
exec node bench/browser.js "${1:-30}" "${2:-5}"
