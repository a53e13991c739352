/* The plan as the C stage holds it: one struct per mount operation, process settings, argv.
 * Parsed from the wire form described in PLAN.md; the parser validates every field and never decides policy. */
#ifndef SANDBOX_PLAN_H
#define SANDBOX_PLAN_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "bwrap.h" /* bwrap mode (issue 17): struct bwrap_plan */

#define PLAN_VERSION 1
#define PLAN_MAX_SIZE (64u << 20)
#define PLAN_MAX_ITEMS 65536

enum op_kind { OP_BIND, OP_TMPFS, OP_PROC, OP_DEV, OP_MQUEUE, OP_DIR, OP_SYMLINK, OP_DATA, OP_CHMOD, OP_REMOUNT_RO,
               OP_OVERLAY /* overlays (native/overlay.c) */ };

#define BIND_RO 1u
#define BIND_DEV 2u
#define BIND_TRY 4u
#define BIND_NOFOLLOW 8u /* the source may contain no symlink at all (it was resolved when planned) */
#define DATA_MOUNT 1u
#define DATA_RO 2u
#define DATA_PERMS 4u /* the mode came from --perms: parents made on the way follow it (bwrap(1)) */

struct op_bind { const char *src, *dst; unsigned flags; };
struct op_tmpfs { const char *dst; uint64_t size; unsigned mode; };
struct op_path { const char *dst; };                 /* proc, dev, mqueue, remount-ro */
struct op_dir { const char *dst; unsigned mode; };
struct op_symlink { const char *target, *dst; };
struct op_data { int fd; const char *dst; unsigned mode; unsigned flags; };
struct op_chmod { const char *path; unsigned mode; };
#define OVERLAY_RW 0u  /* writes go to upper, with work beside it */
#define OVERLAY_TMP 1u /* writes go to a throw-away tmpfs */
#define OVERLAY_RO 2u
struct op_overlay { const char *dst; unsigned kind; const char **lower; size_t n_lower; const char *upper, *work; }; /* lower[0]: bottom */

struct op {
  enum op_kind kind;
  const char *origin; /* "--bind /data" or "profile.json5:12:5": prefixes every error */
  union {
    struct op_bind bind;
    struct op_tmpfs tmpfs;
    struct op_path path;
    struct op_dir dir;
    struct op_symlink symlink;
    struct op_data data;
    struct op_chmod chmod;
    struct op_overlay overlay;
  } u;
};

struct plan {
  int share_net;
  int share_pid;        /* no new pid namespace: /proc is the host's (bound), the init is a subreaper */
  uid_t uid;
  gid_t gid;
  const char *hostname;
  const char *cwd;
  int cwd_fallback;     /* chdir("/") when cwd is not visible inside */
  int new_session;
  int die_with_parent;
  pid_t parent_pid;     /* 0: unknown */
  int as_pid1;
  int terminal_node;    /* the caller's controlling terminal at its host path, /dev/pts/K, in a dev at /dev */
  uint64_t caps;        /* bit mask of capability numbers kept */
  unsigned landlock_scopes; /* LANDLOCK_SCOPE_* bits wanted; applied where the kernel's ABI has them */
  struct landlock_path { const char *origin, *path; int write; } *landlock_paths; size_t n_landlock_paths;
  int verbose;          /* say what the kernel could not give (older Landlock ABI) */
  int *keep_fds; size_t n_keep_fds;
  const char **env; size_t n_env;      /* NULL-terminated */
  const char **argv; size_t n_argv;    /* NULL-terminated */
  struct op *ops; size_t n_ops;
  const unsigned char *bpf; size_t bpf_len;
  const char *seccomp_origin;
  const char *join_dir;  /* --join KEY: the key's state directory; NULL: no joining */
  const char *join_policy; /* what a joiner can't apply itself, "k=v ...": joiners must match the first member's */
  const char *cgroup_leaf;
  const char *cgroup_memory_label;
  const char *cgroup_pids_label;
  const char **cgroup_remove; size_t n_cgroup_remove;
  /* a compiled plan (sandbox compile): the environment is built at launch from these rules, and its inputs
   * are checked before anything starts */
  int env_rules;        /* 1: build env from environ with the rules below instead of `env` records alone */
  int env_clear;
  const char **env_keep; size_t n_env_keep;
  const char **env_unset; size_t n_env_unset;
  struct plan_input { const char *path; int kind; uint64_t a, b, c; } *inputs; size_t n_inputs;
  const char *boot_id;  /* the boot the plan was compiled in: its input-node records hold only in that boot */
  struct bwrap_plan bw; /* bwrap mode: argv0, info/status/sync/block descriptors, lock files, extra filters */
  char *storage;        /* owns every string above */
};

/* Parse len bytes (copied); on error returns -1 and writes a one-line reason to err. */
int plan_parse(const unsigned char *buf, size_t len, struct plan *plan, char *err, size_t errlen);
void plan_free(struct plan *plan);

#endif
