/* The checks of a launch's value for a path the plan builder took from a variable (launch-paths.h). The builder
 * (lib/plan/launch-vars.ts) decided which paths the value must stand to as the planned one did; this only compares. */
#include "launch-paths.h"

#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int under(const char *x, const char *s) {
  size_t n = strlen(s);
  if (!strcmp(s, "/")) return strcmp(x, "/") != 0;
  return !strncmp(x, s, n) && x[n] == '/';
}

char launch_relation(const char *x, const char *s) {
  if (!strcmp(x, s)) return 'e';
  if (under(x, s)) return 'b';
  if (under(s, x)) return 'a';
  return 'd';
}

int launch_relation_allowed(char rel, char guard) {
  return guard == 'n' ? rel == 'b' || rel == 'd' : rel == guard;
}

const char *launch_value_problem(const char *value) {
  size_t n = strlen(value);
  if (value[0] != '/') return "not an absolute path";
  if (!strcmp(value, "/")) return "the whole file system";
  if (value[n - 1] == '/' || strstr(value, "//") || strstr(value, "/./") || strstr(value, "/../") || (n >= 2 && !strcmp(value + n - 2, "/.")) ||
      (n >= 3 && !strcmp(value + n - 3, "/..")))
    return "not a normalised path";
  char real[PATH_MAX];
  if (!realpath(value, real)) return "not there";
  if (strcmp(real, value)) return "a path through a symlink";
  struct stat st;
  if (stat(value, &st) < 0 || !S_ISDIR(st.st_mode)) return "not a directory";
  return NULL;
}

/* A JSON string's text from just after its opening quote, decoded (\uXXXX below 0x80 only; any other escape
 * fails): 0, or -1 when it is not one this reader takes. */
static int json_string(const char *p, char *out, size_t len) {
  size_t o = 0;
  for (; *p && *p != '"'; p++) {
    char c = *p;
    if (c == '\\') {
      p++;
      switch (*p) {
      case '"': case '\\': case '/': c = *p; break;
      case 'n': c = '\n'; break;
      case 't': c = '\t'; break;
      case 'r': c = '\r'; break;
      case 'b': c = '\b'; break;
      case 'f': c = '\f'; break;
      case 'u': {
        unsigned v;
        if (sscanf(p + 1, "%4x", &v) != 1 || v == 0 || v >= 0x80) return -1;
        c = (char)v;
        p += 4;
        break;
      }
      default: return -1;
      }
    }
    if (o + 1 >= len) return -1;
    out[o++] = c;
  }
  if (*p != '"') return -1;
  out[o] = 0;
  return 0;
}

/* The list of compiled plans, whole and NUL-terminated; NULL when there is none or it is not one this reader takes (a
 * regular file of at most 4 MiB). */
static char *read_list(const char *list) {
  int fd = open(list, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) return NULL;
  struct stat st;
  if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size > (1 << 22)) { close(fd); return NULL; }
  char *text = malloc((size_t)st.st_size + 1);
  ssize_t got = text ? read(fd, text, (size_t)st.st_size) : -1;
  close(fd);
  if (got < 0) { free(text); return NULL; }
  text[got] = 0;
  return text;
}

/* Each line of the list with the plan it names (one JSON object a line, {"plan":"PATH",...}), in order: the line is
 * NUL-terminated while f looks at it. Stops at the first f that returns nonzero, and returns that. */
static int each_listed(char *text, int (*f)(const char *line, const char *plan, void *arg), void *arg) {
  int r = 0;
  for (char *line = text; line && *line && !r;) {
    char *eol = strchr(line, '\n');
    if (eol) *eol = 0;
    const char *key = strstr(line, "\"plan\":\"");
    char plan[PATH_MAX];
    if (key && json_string(key + 8, plan, sizeof plan) == 0) r = f(line, plan, arg);
    if (eol) *eol = '\n';
    line = eol ? eol + 1 : NULL;
  }
  return r;
}

struct under_arg { const char *value; char *found; size_t len; };

static int plan_under(const char *line, const char *plan, void *arg) {
  struct under_arg *u = arg;
  /* the list holds real paths; the value is one (no symlink on it) */
  if (!under(plan, u->value)) return 0;
  snprintf(u->found, u->len, "%s", plan);
  return 1;
}

int launch_list_names_plan_under(const char *list, const char *value, char *found, size_t len) {
  char *text = read_list(list);
  struct under_arg u = { value, found, len };
  int hit = text ? each_listed(text, plan_under, &u) : 0;
  free(text);
  return hit;
}

struct digest_arg { const char *path; char *hex; int hit; };

static int digest_of(const char *line, const char *plan, void *arg) {
  struct digest_arg *d = arg;
  const char *at = strstr(line, "\"digest\":\"");
  /* the last line for a path wins, as the plan builder reads the list */
  if (at && !strcmp(plan, d->path) && strspn(at + 10, "0123456789abcdef") == 64 && at[74] == '"') {
    memcpy(d->hex, at + 10, 64);
    d->hex[64] = 0;
    d->hit = 1;
  }
  return 0;
}

int launch_list_digest_of(const char *list, const char *path, char hex[65]) {
  char *text = read_list(list);
  struct digest_arg d = { path, hex, 0 };
  if (text) each_listed(text, digest_of, &d);
  free(text);
  return d.hit;
}

const char *launch_value(const char *name, char *buf, size_t len) {
  const char *v;
  if (!strcmp(name, "CWD")) {
    if (!getcwd(buf, len)) return NULL;
    return buf;
  }
  v = getenv(name);
  if (!v || !*v || strlen(v) >= len) return NULL;
  snprintf(buf, len, "%s", v);
  size_t n = strlen(buf);
  while (n > 1 && buf[n - 1] == '/') buf[--n] = 0;
  return buf;
}
