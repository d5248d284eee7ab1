/* yaml_json.h — YAML documents (request bodies, test steps) decoded to JSON with libyaml,
 * YAML 1.2 core-schema scalars. Pure. */
#ifndef LAHAR_UTIL_YAML_JSON_H
#define LAHAR_UTIL_YAML_JSON_H

#include <jansson.h>
#include <stddef.h>

/* The first YAML document of text as JSON (new reference), or NULL with a message in err. */
json_t *lh_yaml_to_json(const char *text, size_t len, char *err, size_t errlen);

#endif
