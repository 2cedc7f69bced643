/* tool: stderr diagnostics and the single stdout write. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "outfile.h"
#include "tool.h"

static const char *progname = "ec2-classify";

void
tool_init(const char *prog)
{
	progname = prog;
	/* a write past RLIMIT_FSIZE fails with EFBIG and is reported, instead
	 * of killing the process halfway through a file */
	signal(SIGXFSZ, SIG_IGN);
}

void
tool_log(void *ctx, const char *line)
{
	(void)ctx;
	fprintf(stderr, "%s: %s\n", progname, line);
}

int
tool_fail(const struct err *e)
{
	int code = e->code == ERR_OK ? ERR_FAIL : (int)e->code;

	fprintf(stderr, "%s: %s\n", progname, e->msg[0] ? e->msg :
	    "unknown error");
	return code;
}

int
tool_emit(const struct buf *out)
{
	if ((out->len > 0 && fwrite(out->data, 1, out->len, stdout) !=
	    out->len) || fflush(stdout) == EOF) {
		fprintf(stderr, "%s: cannot write to stdout: %s\n", progname,
		    strerror(errno));
		return ERR_FAIL;
	}
	return 0;
}

int
tool_emit_to(const struct buf *out, const char *path)
{
	struct err e = { 0 };

	if (path == NULL)
		return tool_emit(out);
	if (outfile_write(path, out->data ? out->data : "", out->len,
	    TOOL_FILE_MODE, &e) != 0)
		return tool_fail(&e);
	return 0;
}
