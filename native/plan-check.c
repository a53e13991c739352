/* A test tool, not installed: reads a plan (wire form) on stdin with the stage's own reader and prints what the
 * stage would hold, one line each, so tests can hold the TypeScript writer and the C reader together. With a
 * compiled plan's env-launch, it also prints the environment the stage would build from its own (NUL-separated,
 * after a line "env"). Exit 125 with the reader's message for a plan the stage refuses. */
#include "plan.h"
#include "compiled.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(void) {
  size_t cap = 1 << 16, len = 0;
  unsigned char *buf = malloc(cap);
  for (size_t n; buf && (n = fread(buf + len, 1, cap - len, stdin)) > 0;)
    if ((len += n) == cap && !(buf = realloc(buf, cap *= 2))) break;
  if (!buf) die(125, "out of memory");
  struct plan p;
  char err[512];
  if (plan_parse(buf, len, &p, err, sizeof err) < 0) die(125, "%s", err);
  for (size_t i = 0; i < p.n_ops; i++) {
    const struct op *o = &p.ops[i];
    const struct plan_record_spec *spec = plan_record_of_mount(o->kind);
    printf("op %s", spec->keyword);
    for (unsigned f = 0; f < spec->n_fields; f++) {
      if (spec->fields[f].type == PF_NUMBER) printf(" %llu", (unsigned long long)o->v[f].n);
      else if (spec->fields[f].type == PF_PATHS) { /* each path, unescaped, in brackets */
        const char *s = o->v[f].s;
        for (uint64_t k = 0; k < o->v[f].n; k++, s += strlen(s) + 1) printf("%s%s", k ? " " : " [", s);
        printf("]");
      } else printf(" %s", o->v[f].s ? o->v[f].s : "-");
    }
    printf("\n");
  }
  for (size_t i = 0; i < p.n_landlock_fs; i++) printf("landlock-fs %u %llu\n", p.landlock_fs[i].abi, (unsigned long long)p.landlock_fs[i].rights);
  for (size_t i = 0; i < p.n_landlock_paths; i++)
    printf("landlock-path %s %llu %llu\n", p.landlock_paths[i].path, (unsigned long long)p.landlock_paths[i].dir_rights, (unsigned long long)p.landlock_paths[i].file_rights);
  for (size_t i = 0; i < p.n_input_files; i++) printf("input-file %s %llu %llu %llu\n", p.input_files[i].path, (unsigned long long)p.input_files[i].mtime_s, (unsigned long long)p.input_files[i].mtime_ns, (unsigned long long)p.input_files[i].size);
  for (size_t i = 0; i < p.n_input_paths; i++) printf("input-path %s %d %d\n", p.input_paths[i].path, p.input_paths[i].directory, p.input_paths[i].optional);
  for (size_t i = 0; i < p.n_input_nodes; i++) printf("input-node %s %llu %llu\n", p.input_nodes[i].path, (unsigned long long)p.input_nodes[i].dev, (unsigned long long)p.input_nodes[i].ino);
  if (p.env_launch) {
    const char **env = build_env(&p);
    printf("env\n");
    for (size_t i = 0; env[i]; i++) fwrite(env[i], 1, strlen(env[i]) + 1, stdout);
  }
  return 0;
}
