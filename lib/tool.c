/* tool: stderr diagnostics and the single stdout write. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "tool.h"

static const char *progname = "ec2-classify";

void
tool_init(const char *prog)
{
	progname = prog;
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
