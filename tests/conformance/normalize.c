/* normalize.c — turns a JSON response into stable transcript lines (see conformance.h).
 *
 * Every leaf becomes one line "path = value", keys sorted, arrays indexed ("spec.containers[0].name").
 * What a server generates differently on every run is replaced by a placeholder, by key name:
 *   uid -> <uid>, resourceVersion -> <rv>, continue -> <continue>,
 *   *Timestamp / *Time / time (creationTimestamp, lastTransitionTime, ...) -> <time>;
 * managedFields is dropped entirely (server-side apply bookkeeping, not compared). Values of
 * "masked" variables (generated names, the server address) are written back as ${NAME}. The
 * presence of a generated field is still compared: only its value is hidden. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "conformance.h"

json_t *cf_path_get(json_t *v, const char *expr) {
  const char *p = expr;
  json_t *cur = v;
  while (cur && *p) {
    if (*p == '.') {
      p++;
      continue;
    }
    if (*p == '[') {
      const char *end = strchr(p, ']');
      if (!end || !json_is_array(cur)) return NULL;
      char sel[256];
      size_t n = (size_t)(end - p - 1);
      if (n >= sizeof sel) return NULL;
      memcpy(sel, p + 1, n);
      sel[n] = '\0';
      p = end + 1;
      char *eq = strchr(sel, '=');
      if (!eq) {
        char *e;
        long idx = strtol(sel, &e, 10);
        if (*e || idx < 0) return NULL;
        cur = json_array_get(cur, (size_t)idx);
        continue;
      }
      *eq = '\0';
      json_t *found = NULL, *el;
      size_t i;
      json_array_foreach(cur, i, el) {
        json_t *k = json_object_get(el, sel);
        char *t = k ? cf_scalar_text(k) : NULL;
        int match = t && strcmp(t, eq + 1) == 0;
        free(t);
        if (match) {
          found = el;
          break;
        }
      }
      cur = found;
      continue;
    }
    size_t n = strcspn(p, ".[");
    char key[256];
    if (n >= sizeof key) return NULL;
    memcpy(key, p, n);
    key[n] = '\0';
    p += n;
    cur = json_is_object(cur) ? json_object_get(cur, key) : NULL;
  }
  return cur;
}

char *cf_scalar_text(const json_t *v) {
  if (json_is_string(v)) return strdup(json_string_value(v));
  char *s = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
  return s ? s : strdup("?");
}

/* Replaces every occurrence of needle in *s by repl (in place: *s is reallocated). */
static void replace_all(char **s, const char *needle, const char *repl) {
  size_t nl = strlen(needle), rl = strlen(repl);
  if (nl == 0 || !strstr(*s, needle)) return;
  lh_buf b;
  lh_buf_init(&b, CF_BODY_CAP);
  const char *p = *s, *hit;
  while ((hit = strstr(p, needle)) != NULL) {
    lh_buf_add(&b, p, (size_t)(hit - p));
    lh_buf_add(&b, repl, rl);
    p = hit + nl;
  }
  lh_buf_adds(&b, p);
  free(*s);
  *s = lh_buf_take(&b);
}

char *cf_mask_string(const char *s, const cf_norm *nm, int is_message) {
  char *out = strdup(s);
  if (nm->vars) {
    /* Longest values first, so a value that contains another is replaced whole. */
    const cf_var *order[CF_MAX_VARS];
    int n = 0;
    for (int i = 0; i < nm->vars->n; i++)
      if (nm->vars->v[i].masked && strlen(nm->vars->v[i].value) >= 3) order[n++] = &nm->vars->v[i];
    for (int i = 1; i < n; i++)
      for (int j = i; j > 0 && strlen(order[j]->value) > strlen(order[j - 1]->value); j--) {
        const cf_var *t = order[j];
        order[j] = order[j - 1];
        order[j - 1] = t;
      }
    for (int i = 0; i < n; i++) {
      char repl[160];
      snprintf(repl, sizeof repl, "${%s}", order[i]->name);
      replace_all(&out, order[i]->value, repl);
    }
  }
  if (is_message && nm->mask_digits) {
    lh_buf b;
    lh_buf_init(&b, CF_BODY_CAP);
    for (const char *p = out; *p;) {
      if (isdigit((unsigned char)*p)) {
        while (isdigit((unsigned char)*p)) p++;
        lh_buf_adds(&b, "<n>");
      } else {
        lh_buf_add(&b, p++, 1);
      }
    }
    free(out);
    out = lh_buf_take(&b);
  }
  return out;
}

static int ends_with(const char *s, const char *suffix) {
  size_t a = strlen(s), b = strlen(suffix);
  return a >= b && strcmp(s + a - b, suffix) == 0;
}

/* Returns the placeholder for a generated value under key, or NULL to print the value. */
static const char *placeholder(const char *key, const json_t *v) {
  if (!key || json_is_null(v)) return NULL;
  if (strcmp(key, "uid") == 0) return "<uid>";
  if (strcmp(key, "resourceVersion") == 0) return "<rv>";
  if (strcmp(key, "continue") == 0 && json_is_string(v) && *json_string_value(v)) return "<continue>";
  if (json_is_string(v) && (strcmp(key, "time") == 0 || ends_with(key, "Timestamp") || ends_with(key, "Time")))
    return "<time>";
  return NULL;
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(const char *const *)a, *(const char *const *)b); }

static void line(lh_buf *out, const char *indent, const char *path, const char *value) {
  lh_buf_addf(out, "%s%s%s%s\n", indent, *path ? path : ".", value ? " = " : "", value ? value : "");
}

static void dump_rec(lh_buf *out, const char *indent, lh_buf *path, const char *key, json_t *v,
                     const cf_norm *nm) {
  size_t mark = path->len;
  if (json_is_object(v)) {
    if (json_object_size(v) == 0) {
      line(out, indent, lh_buf_str(path), nm->keys_only ? NULL : "{}");
      return;
    }
    const char **keys = malloc(json_object_size(v) * sizeof *keys);
    size_t n = 0;
    const char *k;
    json_t *child;
    json_object_foreach(v, k, child) keys[n++] = k;
    qsort(keys, n, sizeof *keys, cmp_str);
    for (size_t i = 0; i < n; i++) {
      if (strcmp(keys[i], "managedFields") == 0) continue;
      if (path->len) lh_buf_adds(path, ".");
      lh_buf_adds(path, keys[i]);
      dump_rec(out, indent, path, keys[i], json_object_get(v, keys[i]), nm);
      path->len = mark;
      if (path->data) path->data[mark] = '\0';
    }
    free(keys);
    return;
  }
  if (json_is_array(v)) {
    if (json_array_size(v) == 0) {
      line(out, indent, lh_buf_str(path), nm->keys_only ? NULL : "[]");
      return;
    }
    size_t i;
    json_t *el;
    json_array_foreach(v, i, el) {
      lh_buf_addf(path, "[%zu]", i);
      dump_rec(out, indent, path, key, el, nm);
      path->len = mark;
      path->data[mark] = '\0';
    }
    return;
  }
  if (nm->keys_only) {
    line(out, indent, lh_buf_str(path), NULL);
    return;
  }
  const char *ph = placeholder(key, v);
  if (ph) {
    line(out, indent, lh_buf_str(path), ph);
    return;
  }
  if (json_is_string(v)) {
    char *masked = cf_mask_string(json_string_value(v), nm, key && strcmp(key, "message") == 0);
    json_t *js = json_string(masked);
    char *text = js ? json_dumps(js, JSON_ENCODE_ANY) : NULL;
    line(out, indent, lh_buf_str(path), text ? text : "\"?\"");
    free(text);
    json_decref(js);
    free(masked);
    return;
  }
  char *text = cf_scalar_text(v);
  line(out, indent, lh_buf_str(path), text);
  free(text);
}

void cf_dump(lh_buf *out, const char *indent, const char *prefix, json_t *v, const cf_norm *nm) {
  lh_buf path;
  lh_buf_init(&path, 1 << 16);
  lh_buf_adds(&path, prefix ? prefix : "");
  const char *key = prefix ? strrchr(prefix, '.') : NULL;
  key = key ? key + 1 : prefix;
  dump_rec(out, indent, &path, key, v, nm);
  lh_buf_free(&path);
}
