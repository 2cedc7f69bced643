/* dynload: dlopen, dlsym, and a clear error. */
#include <dlfcn.h>
#include <string.h>

#include "dynload.h"

int
dynload(const char *soname, const char *pkg, const struct dynload_sym *syms,
    size_t n, void *table, struct err *e)
{
	void *dl, *f;
	size_t i;

	if ((dl = dlopen(soname, RTLD_NOW | RTLD_LOCAL)) == NULL)
		return err_set(e, ERR_FAIL, "cannot load %s (install Debian's %s): "
		    "%s", soname, pkg, dlerror());
	for (i = 0; i < n; i++) {
		if ((f = dlsym(dl, syms[i].name)) == NULL)
			return err_set(e, ERR_FAIL, "%s has no %s", soname,
			    syms[i].name);
		/* POSIX: a function's address comes back as a void * */
		memcpy((char *)table + syms[i].offset, &f, sizeof(f));
	}
	return 0;
}
