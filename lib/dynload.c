/* dynload: dlopen, dlsym, and a clear error; each library's global cleanup
 * at exit. */
#include <dlfcn.h>
#include <stdlib.h>
#include <string.h>

#include "dynload.h"

#define DYNLOAD_MAX 8

static void (*finis[DYNLOAD_MAX])(void);
static size_t nfinis;
static int cleanup_registered;

/* At exit, last loaded first: each library's own global cleanup, so none
 * leaves its state behind for a leak checker. The libraries stay mapped:
 * a dlclose() here crashes LeakSanitizer's tracer in the ASan build (its
 * leak check runs after the atexit handlers), and libcrypto, linked
 * -z nodelete, would stay anyway. */
static void
cleanup_all(void)
{
	while (nfinis > 0)
		finis[--nfinis]();
}

int
dynload(const char *soname, const char *pkg, const struct dynload_sym *syms,
    size_t n, void *table, void (*fini)(void), struct err *e)
{
	void *dl, *f;
	size_t i;

	if (fini != NULL && nfinis == DYNLOAD_MAX)
		return err_set(e, ERR_FAIL, "cannot load %s: more than %d "
		    "libraries", soname, DYNLOAD_MAX);
	if (fini != NULL && !cleanup_registered)
		cleanup_registered = atexit(cleanup_all) == 0;
	if ((dl = dlopen(soname, RTLD_NOW | RTLD_LOCAL)) == NULL)
		return err_set(e, ERR_FAIL, "cannot load %s (install Debian's %s): "
		    "%s", soname, pkg, dlerror());
	for (i = 0; i < n; i++) {
		if ((f = dlsym(dl, syms[i].name)) == NULL) {
			(void)dlclose(dl);
			return err_set(e, ERR_FAIL, "%s has no %s", soname,
			    syms[i].name);
		}
		/* POSIX: a function's address comes back as a void * */
		memcpy((char *)table + syms[i].offset, &f, sizeof(f));
	}
	if (fini != NULL)
		finis[nfinis++] = fini;
	return 0;
}
