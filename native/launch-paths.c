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

int launch_list_names_plan_under(const char *list, const char *value, char *found, size_t len) {
  int fd = open(list, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) return 0;
  struct stat st;
  /* the user's own list, as the plan builder reads it; a list that can't be read as one names no plan here */
  if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size > (1 << 22)) { close(fd); return 0; }
  char *text = malloc((size_t)st.st_size + 1);
  ssize_t got = text ? read(fd, text, (size_t)st.st_size) : -1;
  close(fd);
  if (got < 0) { free(text); return 0; }
  text[got] = 0;
  int hit = 0;
  for (char *line = text; line && *line && !hit; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL) {
    const char *key = strstr(line, "\"plan\":\"");
    const char *eol = strchr(line, '\n');
    if (!key || (eol && key > eol)) continue;
    char plan[PATH_MAX];
    if (json_string(key + 8, plan, sizeof plan) < 0) continue;
    /* the list holds real paths; the value is one (no symlink on it) */
    if (under(plan, value)) {
      snprintf(found, len, "%s", plan);
      hit = 1;
    }
  }
  free(text);
  return hit;
}

int launch_list_digest_of(const char *list, const char *path, char hex[65]) {
  int fd = open(list, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) return 0;
  struct stat st;
  if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size > (1 << 22)) { close(fd); return 0; }
  char *text = malloc((size_t)st.st_size + 1);
  ssize_t got = text ? read(fd, text, (size_t)st.st_size) : -1;
  close(fd);
  if (got < 0) { free(text); return 0; }
  text[got] = 0;
  int hit = 0;
  for (char *line = text; line && *line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL) {
    char *eol = strchr(line, '\n');
    if (eol) *eol = 0;
    const char *key = strstr(line, "\"plan\":\"");
    const char *d = strstr(line, "\"digest\":\"");
    char plan[PATH_MAX];
    /* the last line for a path wins, as the plan builder reads the list */
    if (key && d && json_string(key + 8, plan, sizeof plan) == 0 && !strcmp(plan, path) && strspn(d + 10, "0123456789abcdef") == 64 && d[74] == '"') {
      memcpy(hex, d + 10, 64);
      hex[64] = 0;
      hit = 1;
    }
    if (eol) *eol = '\n';
  }
  free(text);
  return hit;
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
