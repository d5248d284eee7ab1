/* steps.c — parser of the conformance step file (see conformance.h and tests/conformance/steps.txt).
 *
 * Format: one step per logical line; a line ending in a backslash continues on the next one;
 * blank lines and lines starting with '#' are ignored.
 *   NAME METHOD PATH [key=value ...] [-- BODY]
 * Words are separated by blanks; the body is everything after " -- " verbatim (so inline JSON may
 * contain blanks). Option values cannot contain blanks. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conformance.h"

#define LINE_CAP (1u << 20)

static void step_free(cf_step *s) {
  free(s->name);
  free(s->method);
  free(s->path);
  free(s->body);
  for (int i = 0; i < s->nopts; i++) {
    free(s->opts[i].key);
    free(s->opts[i].value);
  }
  memset(s, 0, sizeof *s);
}

void cf_steps_free(cf_step *steps, int n) {
  if (!steps) return;
  for (int i = 0; i < n; i++) step_free(&steps[i]);
  free(steps);
}

const char *cf_step_opt(const cf_step *s, const char *key) {
  for (int i = 0; i < s->nopts; i++)
    if (strcmp(s->opts[i].key, key) == 0) return s->opts[i].value;
  return NULL;
}

/* Returns the next blank-separated word of *p (advancing *p), or NULL at the end. */
static char *next_word(char **p) {
  char *s = *p;
  while (*s && isspace((unsigned char)*s)) s++;
  if (!*s) {
    *p = s;
    return NULL;
  }
  char *start = s;
  while (*s && !isspace((unsigned char)*s)) s++;
  if (*s) *s++ = '\0';
  *p = s;
  return start;
}

/* Parses one logical line into s. Returns 0 or -1 with why set. */
static int parse_line(char *line, cf_step *s, const char **why) {
  char *body = strstr(line, " -- ");
  if (body) {
    *body = '\0';
    body += 4;
    while (*body && isspace((unsigned char)*body)) body++;
  }
  char *p = line;
  char *name = next_word(&p), *method = next_word(&p), *path = next_word(&p);
  if (!name || !method || !path) {
    *why = "a step needs NAME METHOD PATH";
    return -1;
  }
  s->name = strdup(name);
  s->method = strdup(method);
  s->path = strdup(path);
  s->body = body ? strdup(body) : NULL;
  char *w;
  while ((w = next_word(&p)) != NULL) {
    char *eq = strchr(w, '=');
    if (!eq || eq == w) {
      *why = "options are key=value";
      return -1;
    }
    if (s->nopts == CF_MAX_OPTS) {
      *why = "too many options";
      return -1;
    }
    *eq = '\0';
    s->opts[s->nopts].key = strdup(w);
    s->opts[s->nopts].value = strdup(eq + 1);
    s->nopts++;
  }
  static const char *methods[] = {"GET", "POST", "PUT", "PATCH", "DELETE", "WATCH", "WS", "WAIT", "SET", NULL};
  for (int i = 0; methods[i]; i++)
    if (strcmp(s->method, methods[i]) == 0) return 0;
  *why = "unknown METHOD (GET POST PUT PATCH DELETE WATCH WS WAIT SET)";
  return -1;
}

int cf_steps_load(const char *path, cf_step **out, int *n) {
  FILE *f = fopen(path, "r");
  if (!f) {
    fprintf(stderr, "%s: %s\n", path, strerror(errno));
    return -1;
  }
  cf_step *steps = NULL;
  int count = 0, alloc = 0, lineno = 0, start_line = 0, rc = 0;
  lh_buf logical;
  lh_buf_init(&logical, LINE_CAP);
  char *line = NULL;
  size_t cap = 0;
  ssize_t len;
  while ((len = getline(&line, &cap, f)) >= 0) {
    lineno++;
    while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r')) line[--len] = '\0';
    if (logical.len == 0) {
      char *t = line;
      while (*t && isspace((unsigned char)*t)) t++;
      if (*t == '\0' || *t == '#') continue;
      start_line = lineno;
    }
    int cont = len > 0 && line[len - 1] == '\\';
    if (cont) line[--len] = '\0';
    if (lh_buf_add(&logical, line, (size_t)len) != LH_BUF_OK) {
      fprintf(stderr, "%s:%d: step too long\n", path, start_line);
      rc = -1;
      break;
    }
    if (cont) continue;
    if (count == alloc) {
      alloc = alloc ? alloc * 2 : 64;
      cf_step *grown = realloc(steps, (size_t)alloc * sizeof *steps);
      if (!grown) {
        fprintf(stderr, "out of memory\n");
        rc = -1;
        break;
      }
      steps = grown;
    }
    cf_step *s = &steps[count];
    memset(s, 0, sizeof *s);
    s->line = start_line;
    const char *why = NULL;
    char *text = lh_buf_take(&logical);
    int prc = parse_line(text, s, &why);
    free(text);
    count++;
    if (prc != 0) {
      fprintf(stderr, "%s:%d: %s\n", path, start_line, why);
      rc = -1;
      break;
    }
    for (int i = 0; i < count - 1; i++)
      if (strcmp(steps[i].name, s->name) == 0) {
        fprintf(stderr, "%s:%d: step name %s used twice\n", path, start_line, s->name);
        rc = -1;
        break;
      }
    if (rc) break;
  }
  if (rc == 0 && logical.len) {
    fprintf(stderr, "%s:%d: file ends inside a continued line\n", path, start_line);
    rc = -1;
  }
  free(line);
  lh_buf_free(&logical);
  fclose(f);
  if (rc) {
    cf_steps_free(steps, count);
    return -1;
  }
  *out = steps;
  *n = count;
  return 0;
}
