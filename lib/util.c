/* util: small string and memory helpers. */
#include <fcntl.h>
#include <limits.h>
#include <regex.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util.h"

char *
util_strdup(const char *s)
{
	return s == NULL ? NULL : strdup(s);
}

char *
util_strndup(const char *s, size_t n)
{
	char *p;

	if ((p = malloc(n + 1)) == NULL)
		return NULL;
	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

size_t
util_list_cap(size_t n)
{
	size_t cap = 4;

	while (cap <= n && cap <= SIZE_MAX / 2)
		cap *= 2;
	return cap;
}

void *
util_list_room(void *list, size_t n, size_t size)
{
	size_t cap;

	if (n != 0 && (n < 4 || (n & (n - 1)) != 0))
		return list;	/* not full */
	cap = util_list_cap(n);
	return cap > SIZE_MAX / size ? NULL : realloc(list, cap * size);
}

void (*util_wipe_hook)(const void *p, size_t n);

void
util_wipe(void *p, size_t n)
{
	if (p == NULL || n == 0)
		return;
	explicit_bzero(p, n);
	if (util_wipe_hook != NULL)
		util_wipe_hook(p, n);
}

void
util_free_secret(char *s)
{
	if (s == NULL)
		return;
	util_wipe(s, strlen(s));
	free(s);
}

char *
util_trim(char *s)
{
	char *e;

	while (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n')
		memmove(s, s + 1, strlen(s));
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r' ||
	    e[-1] == '\n'))
		*--e = '\0';
	return s;
}

void
util_hex(const unsigned char *in, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < n; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 0xf];
	}
	out[2 * n] = '\0';
}

/* Length of the valid UTF-8 sequence at s[0..n), or 0 when it is not one
 * (no overlongs, no surrogates, nothing past U+10FFFF). */
static size_t
utf8_seq(const unsigned char *s, size_t n)
{
	size_t k, len;
	unsigned long cp;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		len = 2;
		cp = s[0] & 0x1f;
	} else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		len = 3;
		cp = s[0] & 0x0f;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		len = 4;
		cp = s[0] & 0x07;
	} else
		return 0;
	if (n < len)
		return 0;
	for (k = 1; k < len; k++) {
		if ((s[k] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[k] & 0x3f);
	}
	if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
	    cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return len;
}

int
util_utf8_valid(const char *str, size_t n)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t i = 0, len;

	while (i < n) {
		if ((len = utf8_seq(s + i, n - i)) == 0)
			return 0;
		i += len;
	}
	return 1;
}

char *
util_utf8_repair(const char *str)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t n = strlen(str), i = 0, o = 0, len;
	char *out;

	/* each bad byte becomes 3: at most 3n + 1 */
	if (n > (SIZE_MAX - 1) / 3 || (out = malloc(3 * n + 1)) == NULL)
		return NULL;
	while (i < n) {
		if ((len = utf8_seq(s + i, n - i)) == 0) {
			memcpy(out + o, "\xef\xbf\xbd", 3);
			o += 3;
			i++;
			continue;
		}
		memcpy(out + o, s + i, len);
		o += len;
		i += len;
	}
	out[o] = '\0';
	return out;
}

static struct {
	const char *pattern;
	regex_t re;
	int ok;
} cache[UTIL_MAX_PATTERNS];
static size_t ncache;
static int cleanup_registered;

/* At exit: the compiled patterns go, so a leak checker sees no block left
 * (regexec also caches its DFA states in them). */
static void
match_free(void)
{
	size_t i;

	for (i = 0; i < ncache; i++)
		if (cache[i].ok)
			regfree(&cache[i].re);
	ncache = 0;
}

int
util_match(const char *pattern, const char *s)
{
	size_t i, n = ncache;

	for (i = 0; i < n; i++)
		if (cache[i].pattern == pattern)
			break;
	if (i == n) {
		if (n == UTIL_MAX_PATTERNS)
			return 0;
		if (!cleanup_registered)
			cleanup_registered = atexit(match_free) == 0;
		cache[n].pattern = pattern;
		cache[n].ok = regcomp(&cache[n].re, pattern,
		    REG_EXTENDED | REG_NOSUB) == 0;
		ncache = n + 1;
	}
	return cache[i].ok && regexec(&cache[i].re, s, 0, NULL, 0) == 0;
}

void
util_dir_of(const char *path, char *dir, size_t size)
{
	const char *slash = strrchr(path, '/');

	if (slash == NULL)
		(void)snprintf(dir, size, ".");
	else if (slash == path)
		(void)snprintf(dir, size, "/");
	else
		(void)snprintf(dir, size, "%.*s", (int)(slash - path), path);
}

void
util_sync_dir_of(const char *path)
{
	char dir[PATH_MAX];
	int fd;

	util_dir_of(path, dir, sizeof(dir));
	if ((fd = open(dir, O_RDONLY | O_DIRECTORY)) != -1) {
		(void)fsync(fd);
		(void)close(fd);
	}
}
