/* tool: stderr diagnostics and the single stdout write. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "outfile.h"
#include "tool.h"

static const char *progname = "ec2-classify";

void
tool_init(const char *prog)
{
	progname = prog;
	/* getopt's own message would be a second stderr line before the
	 * mains' usage line */
	opterr = 0;
	/* a write past RLIMIT_FSIZE fails with EFBIG and is reported, instead
	 * of killing the process halfway through a file */
	signal(SIGXFSZ, SIG_IGN);
}

/* Length of the valid UTF-8 sequence at s (1 to 4), or 0 when s does not
 * start one (stray, overlong, surrogate, past U+10FFFF, cut short). */
static int
utf8_len(const unsigned char *s)
{
	unsigned char lo = 0x80, hi = 0xbf;
	int i, n;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		n = 2;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		n = 3;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		n = 4;
	else
		return 0;
	if (s[0] == 0xe0)
		lo = 0xa0;
	else if (s[0] == 0xed)
		hi = 0x9f;
	else if (s[0] == 0xf0)
		lo = 0x90;
	else if (s[0] == 0xf4)
		hi = 0x8f;
	for (i = 1; i < n; i++, lo = 0x80, hi = 0xbf)
		if (s[i] < lo || s[i] > hi)
			return 0;
	return n;
}

/* "prog: line" on stderr, as one line of valid UTF-8 that cannot drive
 * the terminal: messages quote config text, tag values and file names,
 * so control characters (C0, DEL, C1), U+2028/U+2029 and bytes that are
 * not UTF-8 are written as \xNN or \uNNNN. */
static void
say(const char *line)
{
	const unsigned char *s = (const unsigned char *)line;
	int n;

	fprintf(stderr, "%s: ", progname);
	for (; *s != '\0'; s += n) {
		n = utf8_len(s);
		if (n == 0 || *s < 0x20 || *s == 0x7f) {
			fprintf(stderr, "\\x%02x", *s);
			n = 1;
		} else if (n == 2 && s[0] == 0xc2 && s[1] < 0xa0)
			fprintf(stderr, "\\u%04x", s[1]);
		else if (n == 3 && s[0] == 0xe2 && s[1] == 0x80 &&
		    (s[2] == 0xa8 || s[2] == 0xa9))
			fprintf(stderr, "\\u%04x", 0x2000 | (s[2] & 0x3f));
		else
			fwrite(s, 1, (size_t)n, stderr);
	}
	fputc('\n', stderr);
}

void
tool_log(void *ctx, const char *line)
{
	(void)ctx;
	say(line);
}

int
tool_fail(const struct err *e)
{
	int code = e->code == ERR_OK ? ERR_FAIL : (int)e->code;

	say(e->msg[0] ? e->msg : "unknown error");
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
