/* dynload: a shared library opened at first use instead of at start-up.
 *
 * libcurl, OpenSSL's libcrypto and libxml2 (with the 40 libraries they
 * pull in) take longer to map and relocate than a cache hit takes to
 * answer. Their one user each (http, sigv4, awsxml) opens them only when
 * it first needs them. */
#ifndef DYNLOAD_H
#define DYNLOAD_H

#include <stddef.h>

#include "err.h"

/* One function (or variable) to resolve: its name, and where its address
 * goes, as an offset in the caller's table of pointers. */
struct dynload_sym {
	const char *name;
	size_t offset;
};
#define DYNLOAD_SYM(table_type, field, name) \
	{ name, offsetof(table_type, field) }

/* Opens soname (from Debian package pkg, named in the error) and fills
 * every symbol's slot in table. Returns 0, or ERR_FAIL with e filled; the
 * library stays loaded for the process. fini, when not NULL, is the
 * library's global cleanup (through table), which an atexit handler
 * calls, last loaded first. */
int dynload(const char *soname, const char *pkg,
    const struct dynload_sym *syms, size_t n, void *table,
    void (*fini)(void), struct err *e);

#endif
