/* gojson.c — Go encoding/json's scanner errors (see gojson.h). A transcription of the scanner's
 * state machine (encoding/json/scanner.go): one state per position, a stack of open objects
 * and arrays, and the same error contexts. */
#include "localcluster/gojson.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_NEST 10000

enum { P_OBJKEY, P_OBJVAL, P_ARR }; /* parse stack entries */

enum {
  S_BEGIN_VALUE, S_BEGIN_VALUE_OR_EMPTY, S_BEGIN_STRING_OR_EMPTY, S_BEGIN_STRING, S_END_VALUE, S_END_TOP,
  S_STR, S_STR_ESC, S_STR_U1, S_STR_U2, S_STR_U3, S_STR_U4, S_NEG, S_1, S_0, S_DOT, S_DOT0, S_E, S_ESIGN,
  S_E0, S_LIT
};

/* Go's quoteChar: 'x', '\'' , '"', '\n', '\x00' ... */
static void quote_char(unsigned char c, char *out, size_t sz) {
  if (c == '\'') snprintf(out, sz, "'\\''");
  else if (c == '"') snprintf(out, sz, "'\"'");
  else if (c == '\n') snprintf(out, sz, "'\\n'");
  else if (c == '\r') snprintf(out, sz, "'\\r'");
  else if (c == '\t') snprintf(out, sz, "'\\t'");
  else if (c == '\a') snprintf(out, sz, "'\\a'");
  else if (c == '\b') snprintf(out, sz, "'\\b'");
  else if (c == '\f') snprintf(out, sz, "'\\f'");
  else if (c == '\v') snprintf(out, sz, "'\\v'");
  else if (c == '\\') snprintf(out, sz, "'\\\\'");
  else if (c < 0x20 || c == 0x7f) snprintf(out, sz, "'\\x%02x'", c);
  else if (c >= 0x80 && c < 0xa0) snprintf(out, sz, "'\\u%04x'", c);
  else if (c >= 0x80) snprintf(out, sz, "'%c%c'", 0xc0 | (c >> 6), 0x80 | (c & 0x3f)); /* rune U+00XX */
  else snprintf(out, sz, "'%c'", c);
}

static int is_space(unsigned char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }
static int is_hex(unsigned char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

int lc_gojson_check(const char *buf, size_t len, char *msg, size_t msgsz) {
  unsigned char *stack = malloc(MAX_NEST);
  if (!stack) {
    snprintf(msg, msgsz, "out of memory");
    return -1;
  }
  size_t sp = 0;
  int st = S_BEGIN_VALUE;
  const char *lit = NULL; /* rest of a literal being matched, and the literal itself */
  const char *litname = NULL;
  char q[16], lctx[64];
  const char *ctx = NULL;
  unsigned char bad = 0;
  for (size_t i = 0; i < len && !ctx; i++) {
    unsigned char c = (unsigned char)buf[i];
  again:
    switch (st) {
    case S_BEGIN_VALUE_OR_EMPTY:
      if (is_space(c)) break;
      if (c == ']') goto end_value_pop;
      st = S_BEGIN_VALUE;
      /* fall through */
    case S_BEGIN_VALUE:
      if (is_space(c)) break;
      switch (c) {
      case '{':
        if (sp >= MAX_NEST) { ctx = "exceeded max depth"; bad = c; break; }
        stack[sp++] = P_OBJKEY;
        st = S_BEGIN_STRING_OR_EMPTY;
        break;
      case '[':
        if (sp >= MAX_NEST) { ctx = "exceeded max depth"; bad = c; break; }
        stack[sp++] = P_ARR;
        st = S_BEGIN_VALUE_OR_EMPTY;
        break;
      case '"': st = S_STR; break;
      case '-': st = S_NEG; break;
      case '0': st = S_0; break;
      case 't': st = S_LIT; lit = "rue"; litname = "true"; break;
      case 'f': st = S_LIT; lit = "alse"; litname = "false"; break;
      case 'n': st = S_LIT; lit = "ull"; litname = "null"; break;
      default:
        if (c >= '1' && c <= '9') st = S_1;
        else { ctx = "looking for beginning of value"; bad = c; }
      }
      break;
    case S_BEGIN_STRING_OR_EMPTY:
      if (is_space(c)) break;
      if (c == '}') {
        stack[sp - 1] = P_OBJVAL;
        st = S_END_VALUE;
        goto again;
      }
      /* fall through */
    case S_BEGIN_STRING:
      if (is_space(c)) break;
      if (c == '"') st = S_STR;
      else { ctx = "looking for beginning of object key string"; bad = c; }
      break;
    case S_END_VALUE:
      if (sp == 0) { st = S_END_TOP; goto again; }
      if (is_space(c)) break;
      if (stack[sp - 1] == P_OBJKEY) {
        if (c == ':') { stack[sp - 1] = P_OBJVAL; st = S_BEGIN_VALUE; }
        else { ctx = "after object key"; bad = c; }
      } else if (stack[sp - 1] == P_OBJVAL) {
        if (c == ',') { stack[sp - 1] = P_OBJKEY; st = S_BEGIN_STRING; }
        else if (c == '}') { sp--; st = S_END_VALUE; }
        else { ctx = "after object key:value pair"; bad = c; }
      } else {
        if (c == ',') st = S_BEGIN_VALUE;
        else if (c == ']') { sp--; st = S_END_VALUE; }
        else { ctx = "after array element"; bad = c; }
      }
      break;
    end_value_pop:
      sp--;
      st = S_END_VALUE;
      break;
    case S_END_TOP:
      if (!is_space(c)) { ctx = "after top-level value"; bad = c; }
      break;
    case S_STR:
      if (c == '"') st = S_END_VALUE;
      else if (c == '\\') st = S_STR_ESC;
      else if (c < 0x20) { ctx = "in string literal"; bad = c; }
      break;
    case S_STR_ESC:
      if (strchr("bfnrt\\/\"", c) && c) st = S_STR;
      else if (c == 'u') st = S_STR_U1;
      else { ctx = "in string escape code"; bad = c; }
      break;
    case S_STR_U1: case S_STR_U2: case S_STR_U3: case S_STR_U4:
      if (!is_hex(c)) { ctx = "in \\u hexadecimal character escape"; bad = c; }
      else st = st == S_STR_U4 ? S_STR : st + 1;
      break;
    case S_NEG:
      if (c == '0') st = S_0;
      else if (c >= '1' && c <= '9') st = S_1;
      else { ctx = "in numeric literal"; bad = c; }
      break;
    case S_1:
      if (c >= '0' && c <= '9') break;
      /* fall through */
    case S_0:
      if (c == '.') st = S_DOT;
      else if (c == 'e' || c == 'E') st = S_E;
      else { st = S_END_VALUE; goto again; }
      break;
    case S_DOT:
      if (c >= '0' && c <= '9') st = S_DOT0;
      else { ctx = "after decimal point in numeric literal"; bad = c; }
      break;
    case S_DOT0:
      if (c >= '0' && c <= '9') break;
      if (c == 'e' || c == 'E') st = S_E;
      else { st = S_END_VALUE; goto again; }
      break;
    case S_E:
      if (c == '+' || c == '-') { st = S_ESIGN; break; }
      /* fall through */
    case S_ESIGN:
      if (c >= '0' && c <= '9') st = S_E0;
      else { ctx = "in exponent of numeric literal"; bad = c; }
      break;
    case S_E0:
      if (c >= '0' && c <= '9') break;
      st = S_END_VALUE;
      goto again;
    case S_LIT:
      if (c == (unsigned char)*lit) {
        lit++;
        if (!*lit) st = S_END_VALUE;
      } else {
        snprintf(lctx, sizeof lctx, "in literal %s (expecting '%c')", litname, *lit);
        ctx = lctx;
        bad = c;
      }
      break;
    }
  }
  free(stack);
  if (ctx) {
    quote_char(bad, q, sizeof q);
    snprintf(msg, msgsz, "invalid character %s %s", q, ctx);
    return -1;
  }
  /* complete only at the top level, after a value (a number may end at EOF) */
  int done = sp == 0 && (st == S_END_VALUE || st == S_END_TOP || st == S_0 || st == S_1 || st == S_DOT0 || st == S_E0);
  if (!done) {
    snprintf(msg, msgsz, "unexpected end of JSON input");
    return -1;
  }
  return 0;
}
