/* util: small string and memory helpers shared by the library. */
#ifndef UTIL_H
#define UTIL_H

#include <stddef.h>

/* strdup that accepts NULL (returns NULL) */
char *util_strdup(const char *s);
char *util_strndup(const char *s, size_t n);
/* Overwrites n bytes with zeros in a way the compiler cannot drop
 * (explicit_bzero), then calls util_wipe_hook when it is set. */
void util_wipe(void *p, size_t n);
/* Test hook: sees every region util_wipe zeroed (and so every secret that
 * util_free_secret and buf_wipe free), before it is freed. NULL outside
 * the unit tests. */
extern void (*util_wipe_hook)(const void *p, size_t n);
/* Wipes a NUL-terminated secret and frees it; s may be NULL. */
void util_free_secret(char *s);
/* Trims ASCII blanks in place at both ends; returns s. */
char *util_trim(char *s);
/* Lowercase hex of n bytes into out (2n+1 bytes). */
void util_hex(const unsigned char *in, size_t n, char *out);
/* Nonzero when s is a valid UTF-8 string (no overlongs, no surrogates). */
int util_utf8_valid(const char *s, size_t n);
/* A copy of s with every byte that does not start a valid UTF-8 sequence
 * replaced by U+FFFD, or NULL when out of memory. */
char *util_utf8_repair(const char *s);

/* Lists that keep no size: a list of n items holds util_list_cap(n) (4,
 * 8, 16, ...), so growing one item at a time costs O(n) copying.
 * util_list_room returns list with room for item n (reallocated when n
 * fills it; items of size bytes), or NULL when out of memory (list is
 * then unchanged). */
size_t util_list_cap(size_t n);
void *util_list_room(void *list, size_t n, size_t size);

/* The directory part of path ("." when there is none) into dir. */
void util_dir_of(const char *path, char *dir, size_t size);
/* fsyncs the directory holding path (after a rename into it); best
 * effort: a directory that cannot be opened is left as it is. */
void util_sync_dir_of(const char *path);

/* Nonzero when s matches the POSIX extended regex `pattern`, which must
 * be a string literal (compiled once and kept for the process, freed by
 * an atexit handler; at most UTIL_MAX_PATTERNS distinct patterns). */
int util_match(const char *pattern, const char *s);
#define UTIL_MAX_PATTERNS 32

#endif
