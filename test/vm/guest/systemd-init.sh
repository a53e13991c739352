# Sourced by init.sh when the VM boots systemd: the host root (9p, read-only) becomes the lower layer
# of an overlayfs with a tmpfs on top, so systemd can write where it must (/etc, /var) without
# touching the host; the test's units, the test user and the masks go into the upper layer, then
# systemd starts as PID 1 from the host's own packages.
$B mkdir -p /ovl /newroot
$B mount -t tmpfs -o mode=755 tmpfs /ovl || die "tmpfs for the overlay failed"
$B mkdir -p /ovl/upper /ovl/work
$B mount -t overlay -o lowerdir=/host,upperdir=/ovl/upper,workdir=/ovl/work overlay /newroot || die "overlay mount failed"
R=/newroot
# the host may be a container: its marker files would make systemd believe it runs in one (and then
# read its options from its argv only, skip mounts, start console-getty)
$B rm -f "$R/.dockerenv" "$R/run/.containerenv"
for u in $($B cat /vm/system-mask); do $B ln -sf /dev/null "$R/etc/systemd/system/$u"; done
$B mkdir -p "$R/etc/systemd/user"
for u in $($B cat /vm/user-mask); do $B ln -sf /dev/null "$R/etc/systemd/user/$u"; done
$B cp /vm/systemd/* "$R/etc/systemd/system/"
# the host's image may lack the PAM stack user@.service names (PAMName=systemd-user)
[ -f "$R/etc/pam.d/systemd-user" ] || printf 'account required pam_permit.so\nsession required pam_permit.so\nsession optional pam_systemd.so\n' > "$R/etc/pam.d/systemd-user"
# the test user, with a home of its own (the overlay makes /etc writable)
if ! $B grep -q "^[^:]*:[^:]*:$VM_UID:" "$R/etc/passwd"; then
  echo "sbvm:x:$VM_UID:$VM_GID:sandbox VM user:/home/sbvm:/bin/sh" >> "$R/etc/passwd"
  $B grep -q "^[^:]*:[^:]*:$VM_GID:" "$R/etc/group" || echo "sbvm:x:$VM_GID:" >> "$R/etc/group"
fi
$B mkdir -p "$R/home/sbvm" && $B chown "$VM_UID:$VM_GID" "$R/home/sbvm"
$B mkdir -p "$R/etc/sandbox-vm"
$B cp /vm/stage2.sh /vm/lib.sh /vm/checks.sh /vm/env /vm/systemd-stage2.sh "$R/etc/sandbox-vm/" || die "copy of the guest scripts failed"
$B mount --move /proc "$R/proc"
$B mount --move /sys "$R/sys"
$B mount --move /dev "$R/dev"
# the options of the kernel command line again as arguments, which systemd reads in any case
exec $B switch_root "$R" /lib/systemd/systemd --system --unit=vm.target --show-status=1 --log-target=console
