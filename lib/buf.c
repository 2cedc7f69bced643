/* buf: growable byte buffers with a cap, for anything the outside world sizes. */
#include <stdarg.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "util.h"

void
buf_init(struct buf *b, size_t cap)
{
	b->data = NULL;
	b->len = b->size = 0;
	b->cap = cap ? cap : SIZE_MAX / 2;
	b->secret = 0;
}

void
buf_init_secret(struct buf *b, size_t cap)
{
	buf_init(b, cap);
	b->secret = 1;
}

void
buf_free(struct buf *b)
{
	if (b == NULL)
		return;
	free(b->data);
	b->data = NULL;
	b->len = b->size = 0;
}

void
buf_wipe(struct buf *b)
{
	if (b == NULL)
		return;
	if (b->data != NULL)
		util_wipe(b->data, b->size);
	buf_free(b);
}

void
buf_reset(struct buf *b)
{
	b->len = 0;
	if (b->data != NULL)
		b->data[0] = '\0';
}

static int
reserve(struct buf *b, size_t n)
{
	size_t want, nsize;
	char *p;

	if (n > b->cap || b->len > b->cap - n)
		return -1;
	want = b->len + n + 1;
	if (want <= b->size)
		return 0;
	nsize = b->size ? b->size : 64;
	while (nsize < want)
		nsize *= 2;
	if (b->secret) {
		if ((p = malloc(nsize)) == NULL)
			return -1;
		if (b->data != NULL) {
			memcpy(p, b->data, b->size);
			util_wipe(b->data, b->size);
			free(b->data);
		}
	} else if ((p = realloc(b->data, nsize)) == NULL)
		return -1;
	b->data = p;
	b->size = nsize;
	return 0;
}

int
buf_append(struct buf *b, const void *p, size_t n)
{
	if (reserve(b, n) == -1)
		return -1;
	if (n > 0)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
	return 0;
}

int
buf_puts(struct buf *b, const char *s)
{
	return buf_append(b, s, strlen(s));
}

int
buf_putc(struct buf *b, char c)
{
	return buf_append(b, &c, 1);
}

int
buf_printf(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || reserve(b, (size_t)n) == -1)
		return -1;
	va_start(ap, fmt);
	n = vsnprintf(b->data + b->len, b->size - b->len, fmt, ap);
	va_end(ap);
	if (n < 0)
		return -1;
	b->len += (size_t)n;
	return 0;
}

char *
buf_steal(struct buf *b)
{
	char *p;

	if (b->data == NULL) {
		if (reserve(b, 0) == -1)
			return NULL;
		b->data[0] = '\0';	/* reserve does not terminate */
	}
	p = b->data;
	b->data = NULL;
	b->len = b->size = 0;
	return p;
}
