/* libFuzzer entry for the stage's plan parser: every input must either parse or be refused with a message,
 * never crash, leak or read out of bounds. A parsed plan is walked end to end so that ASan sees any string
 * or vector that points outside what the parser owns. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "../plan.h"

static volatile size_t sink;

static void touch(const char *s) { if (s) sink += strlen(s); }

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  struct plan p;
  char err[256];
  err[0] = 0;
  if (plan_parse(data, size, &p, err, sizeof err) < 0) {
    /* the message must be terminated and non-empty */
    if (!memchr(err, 0, sizeof err) || !err[0]) __builtin_trap();
    return 0;
  }
  touch(p.hostname); touch(p.cwd); touch(p.seccomp_origin); touch(p.cgroup_leaf);
  touch(p.cgroup_memory_label); touch(p.cgroup_pids_label);
  for (size_t i = 0; i < p.n_keep_fds; i++) sink += (size_t)p.keep_fds[i];
  for (size_t i = 0; i <= p.n_env; i++) touch(p.env[i]);    /* includes the NULL terminator */
  if (p.env[p.n_env] != NULL || p.argv[p.n_argv] != NULL || (p.n_argv == 0 && !p.env_launch)) __builtin_trap();
  for (size_t i = 0; i <= p.n_argv; i++) touch(p.argv[i]);
  touch(p.join_dir); touch(p.join_policy); touch(p.boot_id);
  for (size_t i = 0; i < p.n_landlock_paths; i++) { touch(p.landlock_paths[i].origin); touch(p.landlock_paths[i].path); }
  for (size_t i = 0; i < p.n_landlock_fs; i++) sink += p.landlock_fs[i].rights;
  for (size_t i = 0; i < p.n_env_keep; i++) { touch(p.env_keep[i].text); touch(p.env_keep[i].kinds); }
  for (size_t i = 0; i < p.n_env_unset; i++) { touch(p.env_unset[i].text); touch(p.env_unset[i].kinds); }
  for (size_t i = 0; i < p.n_env_default; i++) touch(p.env_default[i]);
  for (size_t i = 0; i < p.n_input_files; i++) touch(p.input_files[i].path);
  for (size_t i = 0; i < p.n_input_paths; i++) touch(p.input_paths[i].path);
  for (size_t i = 0; i < p.n_input_nodes; i++) touch(p.input_nodes[i].path);
  for (size_t i = 0; i < p.bpf_len; i++) sink += p.bpf[i];
  for (size_t i = 0; i < p.n_ops; i++) {
    const struct op *o = &p.ops[i];
    touch(o->origin);
    if ((unsigned)o->kind >= N_MOUNT_KINDS) __builtin_trap();
    for (unsigned f = 0; f < PLAN_MAX_FIELDS; f++) {
      touch(o->v[f].s);
      for (size_t k = 0; k < o->v[f].len; k++) sink += o->v[f].bytes[k];
    }
  }
  plan_free(&p);
  return 0;
}
