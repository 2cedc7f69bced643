/* tool: the user-facing half the two mains share; the only file in lib/
 * that writes to stdout or stderr. */
#ifndef TOOL_H
#define TOOL_H

#include "buf.h"
#include "err.h"

/* Sets the program name used as the prefix of every stderr line, and
 * ignores SIGXFSZ. */
void tool_init(const char *prog);

/* ec2_log_fn for -v: "prog: line" on stderr. */
void tool_log(void *ctx, const char *line);

/* Prints "prog: message" for e on stderr; returns the exit code. */
int tool_fail(const struct err *e);

/* Writes the finished document to stdout in one go; returns 0, or
 * ERR_FAIL (after saying why) when stdout cannot take it. */
int tool_emit(const struct buf *out);

/* tool_emit, or with path set, an atomic replacement of that file (mode
 * TOOL_FILE_MODE; see outfile_write). */
#define TOOL_FILE_MODE 0644
int tool_emit_to(const struct buf *out, const char *path);

#endif
