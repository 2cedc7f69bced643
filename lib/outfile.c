/* outfile: temporary file, fsync, rename, fsync of the directory. */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "outfile.h"
#include "util.h"

static int
write_all(int fd, const char *p, size_t n)
{
	ssize_t w;

	while (n > 0) {
		if ((w = write(fd, p, n)) == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

int
outfile_write(const char *path, const char *data, size_t len, mode_t mode,
    struct err *e)
{
	char dir[PATH_MAX], tmp[PATH_MAX];
	const char *base, *what;
	sigset_t hold, old;
	int fd = -1, saved;

	if (*path == '\0' || path[strlen(path) - 1] == '/')
		return err_set(e, ERR_FAIL, "cannot write '%s': not a file "
		    "name", path);
	base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
	util_dir_of(path, dir, sizeof(dir));
	if ((size_t)snprintf(tmp, sizeof(tmp), "%s/.%s.XXXXXX", dir, base) >=
	    sizeof(tmp))
		return err_set(e, ERR_FAIL, "cannot write '%s': name too long",
		    path);
	sigemptyset(&hold);
	sigaddset(&hold, SIGINT);
	sigaddset(&hold, SIGTERM);
	sigaddset(&hold, SIGHUP);
	sigprocmask(SIG_BLOCK, &hold, &old);
	what = "create a temporary file in";
	if ((fd = mkstemp(tmp)) == -1) {
		saved = errno;
		sigprocmask(SIG_SETMASK, &old, NULL);
		return err_set(e, ERR_FAIL, "cannot %s %s: %s", what, dir,
		    strerror(saved));
	}
	what = "write";
	if (write_all(fd, data, len) == -1)
		goto fail;
	what = "set the mode of";
	if (fchmod(fd, mode) == -1)
		goto fail;
	what = "sync";
	if (fsync(fd) == -1)
		goto fail;
	what = "close";
	saved = close(fd);
	fd = -1;
	if (saved == -1)
		goto fail;
	what = "rename over";
	if (rename(tmp, path) == -1)
		goto fail;
	util_sync_dir_of(path);	/* makes the rename durable */
	sigprocmask(SIG_SETMASK, &old, NULL);
	return 0;
fail:
	saved = errno;
	if (fd != -1)
		(void)close(fd);
	(void)unlink(tmp);
	sigprocmask(SIG_SETMASK, &old, NULL);
	return err_set(e, ERR_FAIL, "cannot %s %s: %s", what, path,
	    strerror(saved));
}
