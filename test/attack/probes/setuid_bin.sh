#!/bin/sh
# setuid-root programs bound in: the host's su and mount, and a setuid-root copy the test made ($1).
su -c 'id -u' root </dev/null >/tmp/su.out 2>&1
echo "su_status $?"
echo "su_became_root $(grep -qx 0 /tmp/su.out && echo yes || echo no)"
mount -t tmpfs none /tmp >/dev/null 2>&1
echo "mount_status $?"
echo "suid_bit_visible $(test -u "$1" && echo yes || echo no)"
"$1"
