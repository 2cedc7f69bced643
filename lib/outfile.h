/* outfile: replacing a file atomically. */
#ifndef OUTFILE_H
#define OUTFILE_H

#include <stddef.h>
#include <sys/types.h>

#include "err.h"

/* Writes len bytes of data to path so that readers see either the old
 * file or the whole new one: a temporary file beside path, written,
 * given mode, fsync'd, renamed over path, then the directory fsync'd.
 * SIGINT, SIGTERM and SIGHUP are held off while the temporary file
 * exists, so it is always removed on failure. Returns 0, or ERR_FAIL
 * with e filled and path untouched. */
int outfile_write(const char *path, const char *data, size_t len, mode_t mode,
    struct err *e);

#endif
