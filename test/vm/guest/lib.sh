# Helpers for the checks script run inside the VM (sourced; POSIX sh).
. /run/vm/env
# VM_UID/VM_GID: the test user. VM_DELEGATED: its delegated cgroup (like user@UID.service, with a
# user-owned app.slice below). VM_UNDELEGATED: a root-owned cgroup with every controller, where the
# user can create nothing (like a login session scope or a SLURM job cgroup).
#   check NAME CMD...          run CMD as root, output and exit code between markers
#   as_user CMD...             CMD as the test user in a fresh scope under app.slice (delegated)
#   as_user_undelegated CMD... CMD as the test user in VM_UNDELEGATED

vm_write() { printf '%s\n' "$2" > "$1" || { echo "vm: write $1 failed"; return 1; }; }

vm_delegate_setup() {
  cg=/sys/fs/cgroup
  ctrls=$(cat $cg/cgroup.controllers)
  enable=""; for c in $ctrls; do case $c in cpu|memory|pids|io) enable="$enable +$c";; esac; done
  vm_write $cg/cgroup.subtree_control "${enable# }" || return 1
  mkdir -p $cg/user.slice/user-$VM_UID.slice/user@$VM_UID.service $cg/system.slice/undelegated.scope || return 1
  vm_write $cg/user.slice/cgroup.subtree_control "${enable# }" || return 1
  vm_write $cg/user.slice/user-$VM_UID.slice/cgroup.subtree_control "${enable# }" || return 1
  vm_write $cg/system.slice/cgroup.subtree_control "${enable# }" || return 1
  d=$cg/user.slice/user-$VM_UID.slice/user@$VM_UID.service
  chown $VM_UID:$VM_GID $d $d/cgroup.procs $d/cgroup.subtree_control $d/cgroup.threads || return 1
  # As the user manager would: its own services and scopes live in app.slice, owned by the user.
  mkdir -p $d/app.slice && vm_write $d/cgroup.subtree_control "${enable# }" && vm_write $d/app.slice/cgroup.subtree_control "${enable# }" || return 1
  chown -R $VM_UID:$VM_GID $d/app.slice || return 1
  mkdir -p /home/vmuser /run/user/$VM_UID
  chown $VM_UID:$VM_GID /home/vmuser /run/user/$VM_UID
  chmod 700 /run/user/$VM_UID
}
VM_DELEGATED=/sys/fs/cgroup/user.slice/user-$VM_UID.slice/user@$VM_UID.service
VM_UNDELEGATED=/sys/fs/cgroup/system.slice/undelegated.scope

# vm_in_cgroup DIR CMD...: run CMD as the test user, born in cgroup DIR.
vm_in_cgroup() {
  _cg=$1; shift
  sh -c 'echo $$ > "$0/cgroup.procs" && exec "$@"' "$_cg" \
    setpriv --reuid="$VM_UID" --regid="$VM_GID" --clear-groups \
    env -i HOME=/home/vmuser USER=vmuser LOGNAME=vmuser XDG_RUNTIME_DIR=/run/user/$VM_UID \
      PATH=/usr/local/bin:/usr/bin:/bin TERM=dumb "$@"
}
# as_user CMD...: in a fresh user-owned scope under the delegated subtree, as `systemd-run --user --scope` would put it.
VM_SCOPE_N=0
as_user() {
  VM_SCOPE_N=$((VM_SCOPE_N + 1))
  _s=$VM_DELEGATED/app.slice/run-$$-$VM_SCOPE_N.scope
  mkdir "$_s" && chown -R "$VM_UID:$VM_GID" "$_s" || return 125
  vm_in_cgroup "$_s" "$@"
}
as_user_undelegated() { vm_in_cgroup "$VM_UNDELEGATED" "$@"; }

# check NAME CMD...: run CMD (a time limit of VM_CHECK_TIMEOUT s), its output between markers.
check() {
  _name=$1; shift
  echo "@@VM-CHECK-BEGIN $_name@@"
  timeout -k 5 "${VM_CHECK_TIMEOUT:-60}" sh -c '. /run/vm/lib.sh; "$@"' check "$@" 2>&1 < /dev/null
  _rc=$?
  echo "@@VM-CHECK-END $_name rc=$_rc@@"
}

# as_login CMD...: (systemd guest) CMD as the test user with a login's environment, its user manager's
# runtime directory and bus, in the checks service's root-owned cgroup as an ssh login's session scope is.
as_login() {
  cd /home/sbvm && setpriv --reuid="$VM_UID" --regid="$VM_GID" --init-groups \
    env -i HOME=/home/sbvm USER=sbvm LOGNAME=sbvm XDG_RUNTIME_DIR=/run/user/$VM_UID \
      DBUS_SESSION_BUS_ADDRESS=unix:path=/run/user/$VM_UID/bus \
      PATH=/usr/local/bin:/usr/bin:/bin TERM=dumb "$@"
}
