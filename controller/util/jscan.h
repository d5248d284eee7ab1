/* jscan.h — a strict, allocation-free JSON scanner over a byte range.
 *
 * Why: jansson builds a tree of small allocations for every value; for a 6 MB page of 5,000 pods
 * of which lahar keeps a few dozen fields per pod that costs ~38 µs per pod. jansson has no
 * streaming API, so lahar validates the bytes once here and then navigates them in place: item
 * byte ranges of a list, object members, array elements, strings decoded only when kept.
 *
 * Two phases:
 *   lh_js_validate  checks a whole document against RFC 8259 with jansson's json_loadb rules
 *                   (flags 0): an object or array at the top (unless allow_scalar), UTF-8 only,
 *                   no \u0000, paired surrogates, integers within int64, reals that do not
 *                   overflow a double, at most LH_JS_MAX_DEPTH nested containers, only
 *                   whitespace after the value. Duplicate keys are accepted (as jansson does);
 *                   callers that care detect them (lh_js_obj_get counts matches).
 *   navigation      lh_js_value / lh_js_obj_next / lh_js_arr_next / lh_js_obj_get read text
 *                   that passed lh_js_validate. They never read outside [p, end) even if misused,
 *                   but only validated text gives meaningful results.
 * Nothing here allocates; lh_js_val points into the caller's bytes. */
#ifndef LAHAR_UTIL_JSCAN_H
#define LAHAR_UTIL_JSCAN_H

#include <stddef.h>
#include <stdint.h>

#define LH_JS_MAX_DEPTH 2048 /* jansson's JSON_PARSER_MAX_DEPTH */

typedef enum {
  LH_JS_NONE = 0, LH_JS_OBJECT, LH_JS_ARRAY, LH_JS_STRING, LH_JS_INTEGER, LH_JS_REAL,
  LH_JS_TRUE, LH_JS_FALSE, LH_JS_NULL
} lh_js_type;

/* One value in place. Strings: p/n cover the contents between the quotes (escapes undecoded)
 * and esc says whether any backslash occurs. Containers: p/n cover '{'..'}' / '['..']'.
 * Scalars: the literal's text. */
typedef struct lh_js_val {
  const char *p;
  size_t n;
  lh_js_type type;
  int esc;
} lh_js_val;

typedef struct lh_js_err {
  size_t offset;   /* byte offset of the problem */
  const char *msg; /* static description */
} lh_js_err;

/* Validates p[0..n). Returns 0, or -1 with err (may be NULL) filled. */
int lh_js_validate(const char *p, size_t n, int allow_scalar, lh_js_err *err);

/* Reads the value of validated text p[0..n) that holds exactly one value (whitespace around it
 * allowed: a document, or an item's range from lh_js_arr_next). Returns 0 or -1 (nothing there). */
int lh_js_value(const char *p, size_t n, lh_js_val *out);

/* Iteration over a container value. */
typedef struct lh_js_iter {
  const char *p, *end;
} lh_js_iter;
/* it over the members/elements of v; an iterator over a non-container yields nothing. */
void lh_js_iter_init(lh_js_iter *it, const lh_js_val *v);
/* Next member of an object: 1 with key (a string value) and val set, 0 at the end. */
int lh_js_obj_next(lh_js_iter *it, lh_js_val *key, lh_js_val *val);
/* Next element of an array: 1 with val set, 0 at the end. */
int lh_js_arr_next(lh_js_iter *it, lh_js_val *val);

/* Looks key (NUL-terminated, compared against the decoded member name) up in object obj. Sets
 * *out to the LAST matching member's value (jansson keeps the last of duplicates) and returns
 * how many members matched (0: absent, out->type = LH_JS_NONE). A non-object gives 0. */
int lh_js_obj_get(const lh_js_val *obj, const char *key, lh_js_val *out);

/* One pass over object obj for n (<= 32; more are ignored) names: out[i] is the LAST member named keys[i] (LH_JS_NONE
 * when absent). Returns 1 if one of the names occurs more than once, else 0. Use it instead of
 * n lookups: each lookup is a scan of the whole object. */
int lh_js_obj_pick(const lh_js_val *obj, const char *const *keys, size_t n, lh_js_val *out);

/* 1 if obj is an object of at most max members whose keys have no escapes and no duplicates
 * (so raw key bytes can stand for decoded names and any member order is jansson's order). */
int lh_js_obj_simple(const lh_js_val *obj, size_t max);

/* Compares string value s, decoded, with the NUL-terminated lit. 1 if equal. */
int lh_js_str_eq(const lh_js_val *s, const char *lit);
/* Decoded length of string value s (escapes resolved to UTF-8). */
size_t lh_js_str_len(const lh_js_val *s);
/* Decodes string value s into out (cap bytes, NUL-terminated). Returns the decoded length, or
 * -1 if it needs cap bytes or more (out is then untouched beyond out[0] = 0). */
long lh_js_str_decode(const lh_js_val *s, char *out, size_t cap);
/* Integer value (LH_JS_INTEGER only). Returns 0 or -1 (not an integer / out of int64). */
int lh_js_int(const lh_js_val *v, int64_t *out);

#endif
