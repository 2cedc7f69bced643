/* yamlio: YAML (and so JSON) text to a value tree, with positions; the
 * only reader of libyaml. */
#ifndef YAMLIO_H
#define YAMLIO_H

#include <stddef.h>

#include "buf.h"
#include "err.h"
#include "value.h"

#define YAMLIO_MAX_DEPTH 64
#define YAMLIO_MAX_NODES 200000	/* alias expansions included */

/* Parses one YAML document. Plain scalars resolve as YAML 1.2's core
 * schema (null, true/false, integers, floats); scalars YAML 1.1 would read
 * differently (yes/no/on/off/y/n, 012, 1_000, 1:30) are refused as
 * ambiguous, so they must be quoted. Duplicate keys, non-scalar keys,
 * nesting deeper than YAMLIO_MAX_DEPTH and more than YAMLIO_MAX_NODES
 * nodes are errors. Errors are "NAME:LINE:COLUMN: problem" with code
 * ERR_USAGE. An empty document gives a VAL_NULL. */
int yamlio_parse(const char *text, size_t len, const char *name,
    struct value **out, struct err *e);

/* Appends doc as one YAML document ("---" first) to out. Strings are
 * written plain only when every YAML 1.1 and 1.2 reader takes them back
 * as the same string; otherwise double-quoted, so `no`, `1e3`, `~`,
 * `2024-01-01`, `*x` or a leading space reach Puppet unchanged. Floats
 * always carry a '.' or an exponent. Returns 0 or ERR_FAIL. */
int yamlio_emit(const struct value *doc, struct buf *out, struct err *e);

/* Nonzero when s may be written as a plain scalar (see yamlio_emit). */
int yamlio_plain_safe(const char *s);

#endif
