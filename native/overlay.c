/* Overlays (bwrap's --overlay, --tmp-overlay, --ro-overlay): overlayfs in the sandbox's user namespace; see
 * overlay.h. */
#include "overlay.h"
#include "inroot.h"
#include "util.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static int open_dir(const char *path) {
  return open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
}

void overlay_open(const struct op *o, struct overlay_layers *l) {
  size_t n_lower = (size_t)o->v[F_OVERLAY_LOWER].n;
  const char *upper = o->v[F_OVERLAY_UPPER].s;
  l->n = n_lower + (upper ? 2 : 0);
  l->fds = calloc(l->n, sizeof *l->fds);
  if (!l->fds) die(125, "out of memory");
  const char *p = o->v[F_OVERLAY_LOWER].s; /* the layers one after another, each NUL-terminated (plan.c) */
  for (size_t i = 0; i < l->n; i++) {
    if (i == n_lower) p = upper;
    else if (i == n_lower + 1) p = o->v[F_OVERLAY_WORK].s;
    l->fds[i] = open_dir(p);
    if (l->fds[i] < 0) die_errno(125, "%s: %s", o->origin, p);
    if (i < n_lower) p += strlen(p) + 1;
  }
}

static void set_string(int fs, const char *key, const char *value, const char *origin) {
  if (sys_fsconfig(fs, FSCONFIG_SET_STRING, key, value, 0) < 0) die_errno(125, "%s: overlay %s", origin, key);
}

void overlay_mount(const struct op *o, struct overlay_layers *l, int dstfd, const char *scratch) {
  size_t n_lower = (size_t)o->v[F_OVERLAY_LOWER].n;
  enum { OVERLAY_RW, OVERLAY_TMP, OVERLAY_RO } kind = o->v[F_OVERLAY_UPPER].s ? OVERLAY_RW : o->v[F_OVERLAY_READ_ONLY].n ? OVERLAY_RO : OVERLAY_TMP;
  int fs = sys_fsopen("overlay", FSOPEN_CLOEXEC);
  if (fs < 0) die_errno(125, "%s: overlayfs%s", o->origin, errno == ENODEV ? " (not in this kernel)" : "");
  /* the kernel's lowerdir lists the top layer first; bubblewrap's order is the bottom first */
  size_t cap = n_lower * 32 + 1;
  char *lower = malloc(cap);
  if (!lower) die(125, "out of memory");
  size_t used = 0;
  for (size_t i = n_lower; i-- > 0;)
    used += (size_t)snprintf(lower + used, cap - used, "%s/proc/self/fd/%d", used ? ":" : "", l->fds[i]);
  set_string(fs, "lowerdir", lower, o->origin);
  free(lower);
  char up[PATH_MAX], wk[PATH_MAX];
  if (kind == OVERLAY_RW) {
    snprintf(up, sizeof up, "/proc/self/fd/%d", l->fds[n_lower]);
    snprintf(wk, sizeof wk, "/proc/self/fd/%d", l->fds[n_lower + 1]);
  } else if (kind == OVERLAY_TMP) {
    snprintf(up, sizeof up, "%s/upper", scratch);
    snprintf(wk, sizeof wk, "%s/work", scratch);
    if (mkdir(scratch, 0700) < 0 || mkdir(up, 0755) < 0 || mkdir(wk, 0700) < 0) die_errno(125, "%s: make the overlay's upper directory", o->origin);
  }
  if (kind != OVERLAY_RO) {
    set_string(fs, "upperdir", up, o->origin);
    set_string(fs, "workdir", wk, o->origin);
  }
  if (sys_fsconfig(fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0) die_errno(125, "%s: create the overlay", o->origin);
  unsigned attrs = MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | (kind == OVERLAY_RO ? MOUNT_ATTR_RDONLY : 0);
  int mnt = sys_fsmount(fs, FSMOUNT_CLOEXEC, attrs);
  if (mnt < 0) die_errno(125, "%s: mount the overlay", o->origin);
  close(fs);
  if (sys_move_mount(mnt, "", dstfd, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
    die_errno(125, "%s: mount on %s", o->origin, o->v[F_OVERLAY_DST].s);
  newroot_forget();
  close(mnt);
  for (size_t i = 0; i < l->n; i++) close(l->fds[i]);
  free(l->fds);
  l->fds = NULL;
}
