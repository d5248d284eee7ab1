/* buf.h — a growable byte buffer with a hard size cap (after curl's dynbuf).
 *
 * Every buffer that holds external input has a cap, so no peer can make lahar allocate without
 * bound. The contents are always NUL-terminated (the NUL is not counted in len).
 * Ownership: the buffer owns its memory; lh_buf_take() hands it to the caller and resets the buffer. */
#ifndef LAHAR_UTIL_BUF_H
#define LAHAR_UTIL_BUF_H

#include <stdarg.h>
#include <stddef.h>

typedef struct lh_buf {
  char *data;   /* NUL-terminated contents, NULL while empty */
  size_t len;   /* bytes used, excluding the NUL */
  size_t alloc; /* bytes allocated */
  size_t cap;   /* the most len may ever be */
} lh_buf;

#define LH_BUF_OK 0
#define LH_BUF_TOOBIG -1 /* appending would pass cap: the buffer is left as it was */
#define LH_BUF_NOMEM -2  /* allocation failed: the buffer is left as it was */

/* Initialises an empty buffer that may grow to cap bytes. Cannot fail. */
void lh_buf_init(lh_buf *b, size_t cap);
void lh_buf_free(lh_buf *b);
void lh_buf_reset(lh_buf *b); /* len = 0, memory kept */
int lh_buf_add(lh_buf *b, const void *data, size_t len);
int lh_buf_adds(lh_buf *b, const char *s);
int lh_buf_addf(lh_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int lh_buf_vaddf(lh_buf *b, const char *fmt, va_list ap);
/* Returns the contents (never NULL: "" when empty) and resets b; the caller frees the result. */
char *lh_buf_take(lh_buf *b);
static inline const char *lh_buf_str(const lh_buf *b) { return b->data ? b->data : ""; }

#endif
