/* buf: a growable, length-tracked byte buffer with a hard cap. */
#ifndef BUF_H
#define BUF_H

#include <stddef.h>

struct buf {
	char *data;	/* always NUL-terminated when non-NULL */
	size_t len;
	size_t size;
	size_t cap;	/* 0: no cap beyond SIZE_MAX/2 */
	int secret;	/* growing wipes the old storage (buf_init_secret) */
};

/* Initialises an empty buffer that refuses to grow past cap bytes. */
void buf_init(struct buf *b, size_t cap);
/* The same for a buffer that will hold secrets: growing it copies and
 * wipes instead of realloc()ing, so no stale copy is left in freed memory
 * (free it with buf_wipe). */
void buf_init_secret(struct buf *b, size_t cap);
/* Frees the storage; b may be NULL. The buffer may be reused after buf_init. */
void buf_free(struct buf *b);
/* Securely wipes then frees (for buffers that held secrets). */
void buf_wipe(struct buf *b);
void buf_reset(struct buf *b);

/* Append; return 0 on success, -1 when out of memory or over the cap
 * (the buffer is unchanged then). */
int buf_append(struct buf *b, const void *p, size_t n);
int buf_puts(struct buf *b, const char *s);
int buf_putc(struct buf *b, char c);
int buf_printf(struct buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Hands the storage to the caller (never NULL on success: "" for empty);
 * the buffer is left empty. Returns NULL when out of memory. */
char *buf_steal(struct buf *b);

#endif
