#!/bin/sh
# Stage 2 under systemd (vm-checks.service, root): start the test user's manager as linger would
# (user@UID.service), run the checks script (lib.sh's helpers; as_login runs as the user from a
# login-like environment), power off.
mkdir -p /run/vm && cp /etc/sandbox-vm/* /run/vm/
. /run/vm/env
. /run/vm/lib.sh
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin

exec 3>/dev/ttyS1   # the results channel: a second serial port written to a file on the host
say() { printf '%s\n' "$*" >&3; }
say "@@VM-READY uptime=$(cut -d' ' -f1 /proc/uptime)@@"

t0=$(cut -d' ' -f1 /proc/uptime)
if systemctl start "user@$VM_UID.service" >&3 2>&3; then
  say "@@VM-USER-MANAGER uptime=$(cut -d' ' -f1 /proc/uptime) started=$t0@@"
else
  systemctl status "user@$VM_UID.service" >&3 2>&3
  say "@@VM-SETUP-FAILED@@"
fi
cd /
sh /run/vm/checks.sh >&3 2>&3
say "@@VM-DONE rc=$? uptime=$(cut -d' ' -f1 /proc/uptime)@@"
exec 3>&-
sync
echo o > /proc/sysrq-trigger
