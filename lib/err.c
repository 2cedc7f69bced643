/* err: filling the caller's error buffer. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "err.h"

static void
oneline(char *s)
{
	for (; *s; s++)
		if (*s == '\n' || *s == '\r' || *s == '\t')
			*s = ' ';
}

int
err_set(struct err *e, enum err_code code, const char *fmt, ...)
{
	va_list ap;

	if (e == NULL)
		return code;
	e->code = code;
	va_start(ap, fmt);
	(void)vsnprintf(e->msg, sizeof(e->msg), fmt, ap);	/* truncation is fine */
	va_end(ap);
	oneline(e->msg);
	return code;
}

int
err_prefix(struct err *e, const char *fmt, ...)
{
	char msg[ERR_MSG_MAX];
	va_list ap;
	int n;
	size_t oldlen;

	if (e == NULL)
		return ERR_FAIL;
	va_start(ap, fmt);
	n = vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (n < 0)
		return e->code;
	/* msg = prefix ": " old, truncated to fit */
	if ((size_t)n > sizeof(msg) - 3)
		n = (int)(sizeof(msg) - 3);
	memcpy(msg + n, ": ", 3);
	oldlen = strlen(e->msg);
	if (oldlen > sizeof(msg) - (size_t)n - 3)
		oldlen = sizeof(msg) - (size_t)n - 3;
	memcpy(msg + n + 2, e->msg, oldlen);
	msg[n + 2 + oldlen] = '\0';
	memcpy(e->msg, msg, sizeof(msg));
	oneline(e->msg);
	return e->code;
}

void
err_clear(struct err *e)
{
	if (e == NULL)
		return;
	e->code = ERR_OK;
	e->msg[0] = '\0';
}
