#!/bin/busybox sh
# Stage 1, pid 1 of the initramfs: load the virtio and 9p modules, mount the host's root read-only
# over 9p with fresh tmpfs where the guest must write, then switch_root into it (a chroot would make
# the kernel refuse new user namespaces) and run stage 2 from the host tree.
B=/bin/busybox
die() { echo "vm-init: $*"; $B sleep 1; echo o > /proc/sysrq-trigger; $B poweroff -f; }

$B mkdir -p /proc /sys /dev /host
$B mount -t proc proc /proc
$B mount -t sysfs sysfs /sys
$B mount -t devtmpfs devtmpfs /dev
echo 1 > /proc/sys/kernel/printk

for m in $($B cat /vm/modules.order); do
  [ -f "/vm/modules/$m.ko" ] || continue
  $B insmod "/vm/modules/$m.ko" || die "insmod $m failed"
done

$B mount -t 9p -o trans=virtio,version=9p2000.L,ro,msize=262144,cache=loose host /host || die "mount 9p host failed"
. /vm/env
[ -n "$VM_SYSTEMD" ] && { . /vm/systemd-init.sh; exit 1; }
$B mkdir -p /hostro
$B mount --bind /host /hostro || die "bind of the host root failed"
for d in tmp run home var/tmp; do
  [ -d "/host/$d" ] && { $B mount -t tmpfs -o mode=1777 tmpfs "/host/$d" || die "tmpfs /$d failed"; }
done
# a checkout under one of those (CI may clone into /tmp) is bound back from the host, read-only
case "$VM_KEEP" in
  /tmp/*|/run/*|/home/*|/var/tmp/*)
    $B mkdir -p "/host$VM_KEEP" && $B mount --bind "/hostro$VM_KEEP" "/host$VM_KEEP" || die "bind of $VM_KEEP failed";;
esac
$B umount /hostro
$B chmod 755 /host/run /host/home
$B mount --move /proc /host/proc
$B mount --move /sys /host/sys
$B mount --move /dev /host/dev
$B mkdir -p /host/dev/pts /host/dev/shm
$B mount -t devpts -o newinstance,ptmxmode=0666 devpts /host/dev/pts
$B mount -t tmpfs -o mode=1777 tmpfs /host/dev/shm
$B mount -t cgroup2 -o nsdelegate cgroup2 /host/sys/fs/cgroup || die "mount cgroup2 failed"
$B mkdir -p /host/run/vm
$B cp /vm/stage2.sh /vm/lib.sh /vm/checks.sh /vm/env /host/run/vm/ || die "copy of the guest scripts failed"
exec $B switch_root /host /bin/sh /run/vm/stage2.sh
