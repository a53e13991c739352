/* The plan as the C stage holds it: one struct per mount operation, process settings, argv.
 * Parsed from the wire form described in PLAN.md; the parser validates every field and never decides policy. */
#ifndef SANDBOX_PLAN_H
#define SANDBOX_PLAN_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define PLAN_MAX_SIZE (64u << 20)
#define PLAN_MAX_ITEMS 65536

/* How a record's fields are read (the table itself is generated: plan-records.h). */
enum plan_field_type { PF_NUMBER, PF_STRING, PF_PATH, PF_PATHS, PF_ASSIGNMENT, PF_BYTES };
#define PF_ONE_LINE 1u
#define PF_OR_NONE 2u         /* a path that may be empty: none (s is NULL then) */
struct plan_field_spec {
  const char *name;
  enum plan_field_type type;
  unsigned flags;       /* PF_ONE_LINE */
  uint64_t min, max;    /* number: its range; string: length range (min 1: non-empty); paths: count; bytes: units */
  unsigned unit;        /* bytes: the size of one unit */
};
#include "plan-records.h"
struct plan_record_spec {
  const char *keyword;
  int repeat;
  int mount;            /* its enum mount_kind; -1: not a mount operation */
  unsigned n_fields;
  struct plan_field_spec fields[PLAN_MAX_FIELDS];
};

/* One field's value, as read and checked: numbers and flags in n, strings and paths in s, bytes in bytes/len;
 * paths: s holds them one after another, each NUL-terminated, and n their count. */
struct plan_value { const char *s; uint64_t n; const unsigned char *bytes; size_t len; };

/* A mount operation: its record's fields as read, by the generated indices (v[F_BIND_SRC].s, v[F_TMPFS_MODE].n). */
struct op {
  enum mount_kind kind;
  const char *origin; /* "--bind /data" or "profile.json5:12:5": prefixes every error (field 0 of every mount record) */
  struct plan_value v[PLAN_MAX_FIELDS];
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
  struct landlock_fs { unsigned abi; uint64_t rights; } *landlock_fs; size_t n_landlock_fs; /* handled, by ABI */
  struct landlock_path { const char *origin, *path; uint64_t dir_rights, file_rights; } *landlock_paths; size_t n_landlock_paths;
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
  /* `registry DIR NAME ENTER`: the running sandbox's entry NAME.json in DIR (registry.c removes it at the end);
   * ENTER 1: the monitor listens on DIR/NAME.sock and the init serves `enter` (enter.c) */
  const char *registry_dir; const char *registry_name; int registry_enter;
  /* bwrap mode (native/bwrap.c carries these out); each descriptor -1 when not asked */
  struct bwrap_plan {
    const char *argv0;     /* NULL: the command as given */
    int info_fd, json_status_fd, sync_fd, block_fd;
    int userns_block_fd;   /* --userns-block-fd: no maps written by us; the child waits on it */
    int userns_fd;         /* --userns: built in this user namespace, its maps as they are */
    int userns2_fd;        /* --userns2: the init enters it before the program runs */
    int pidns_fd;          /* --pidns: the sandbox runs in this pid namespace */
    const char **lock_files; size_t n_lock_files;
    struct bwrap_filter { const char *origin; const unsigned char *bpf; size_t len; } *filters; size_t n_filters;
    const char *diagnostic_prefix; /* "bwrap", or "<3>bwrap" with --level-prefix; NULL: "sandbox" */
  } bw;
  /* a compiled plan (sandbox compile): the environment is built at launch from these rules, and its inputs
   * are checked before anything starts */
  int env_launch;       /* 1: build env from environ with the rules below instead of `env` records alone */
  int env_clear;
  struct env_pattern { const char *text, *kinds; } *env_keep, *env_unset; size_t n_env_keep, n_env_unset;
  const char **env_default; size_t n_env_default;
  struct input_file { const char *path; uint64_t mtime_s, mtime_ns, size; } *input_files; size_t n_input_files;
  struct input_path { const char *path; int directory, optional; } *input_paths; size_t n_input_paths;
  struct input_node { const char *path; uint64_t dev, ino; } *input_nodes; size_t n_input_nodes;
  const char *boot_id;  /* the boot the plan was compiled in: its input-node records hold only in that boot */
  const char *join_key_origin, *join_key_text, *join_key_kinds; /* join-key: the join directory is the launch's */
  /* launch-var, launch-guard, launch-op, launch-cwd: paths taken at each launch (native/launch-vars.c applies them) */
  struct launch_var { const char *origin, *name, *planned; } *launch_vars; size_t n_launch_vars;
  struct launch_guard { const char *name; char relation; const char *path; } *launch_guards; size_t n_launch_guards;
  struct launch_op { const char *name; size_t index; int dst; } *launch_ops; size_t n_launch_ops;
  const char *launch_cwd;
  char *storage;        /* owns every string above */
};

/* Parse len bytes (copied); on error returns -1 and writes a one-line reason to err. */
int plan_parse(const unsigned char *buf, size_t len, struct plan *plan, char *err, size_t errlen);
void plan_free(struct plan *plan);
/* The table's entry for a mount kind, and a record's keyword (for the plans the stage writes itself). */
const struct plan_record_spec *plan_record_of_mount(enum mount_kind kind);
const char *plan_keyword(enum plan_record id);

#endif
