/* gojson.h — JSON syntax errors worded like Go's encoding/json, whose text a 1.20 apiserver puts
 * into the messages of undecodable request bodies ("invalid character 'n' looking for beginning
 * of object key string", "unexpected end of JSON input"). The body is parsed by jansson; this
 * only finds the first syntax error the way Go's scanner (checkValid) does. Pure. */
#ifndef LAHAR_LC_GOJSON_H
#define LAHAR_LC_GOJSON_H

#include <stddef.h>

/* 0 when buf[0..len) is one syntactically valid JSON value (surrounding blanks allowed), else -1
 * with Go's error text in msg. */
int lc_gojson_check(const char *buf, size_t len, char *msg, size_t msgsz);

#endif
