#!/bin/sh
# Stage 2, pid 1 in the host tree: delegate a cgroup subtree to the test user the way systemd does
# for user@UID.service, run the checks script (as root; it uses the helpers of lib.sh), power off.
. /run/vm/env
. /run/vm/lib.sh
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin

exec 3>/dev/ttyS1   # the results channel: a second serial port written to a file on the host
say() { printf '%s\n' "$*" >&3; }
say "@@VM-READY uptime=$(cut -d' ' -f1 /proc/uptime)@@"

vm_delegate_setup >&3 2>&3 || say "@@VM-SETUP-FAILED@@"
cd /
sh /run/vm/checks.sh >&3 2>&3
say "@@VM-DONE rc=$? uptime=$(cut -d' ' -f1 /proc/uptime)@@"
exec 3>&-
sync
echo o > /proc/sysrq-trigger
busybox poweroff -f
