/* jsonio: the project's only user of jansson (JSON in and out). */
#ifndef JSONIO_H
#define JSONIO_H

#include <stddef.h>

#include "buf.h"
#include "err.h"
#include "instance.h"
#include "value.h"

/* Parses a JSON object and copies the string members named in keys[0..n)
 * into vals (malloc'd; NULL when absent or not a string). Returns 0, or
 * ERR_UNAVAILABLE with e filled when text is not a JSON object. */
int jsonio_get_strings(const char *text, size_t len, const char *const *keys,
    char **vals, size_t n, struct err *e);

/* Appends the instance as one pretty-printed JSON object and a newline. */
int jsonio_instance(const struct instance *in, struct buf *out,
    struct err *e);

/* Reads an instance back from what jsonio_instance writes (unknown keys
 * are refused; absent scalars are ""). *out is new. Returns 0 or
 * ERR_USAGE with e filled. */
int jsonio_instance_parse(const char *text, size_t len, struct instance **out,
    struct err *e);

/* Appends v as one pretty-printed JSON document (2-space indent, map
 * order kept) and a newline. Strings that are not valid UTF-8 are
 * repaired with U+FFFD. A NaN or infinite float is ERR_USAGE. */
int jsonio_emit(const struct value *v, struct buf *out, struct err *e);

#endif
