/* sigv4: AWS Signature Version 4, staged as in AWS's documentation. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>

#include "dynload.h"
#include "sigv4.h"
#include "util.h"

#define SIGV4_ALGORITHM "AWS4-HMAC-SHA256"

/* The libcrypto functions used, loaded by sigv4_init (see dynload.h). */
struct crypto_api {
	unsigned char *(*sha256)(const unsigned char *, size_t,
	    unsigned char *);
	unsigned char *(*hmac)(const EVP_MD *, const void *, int,
	    const unsigned char *, size_t, unsigned char *, unsigned int *);
	const EVP_MD *(*evp_sha256)(void);
};
static struct crypto_api api;
static int api_ready;

int
sigv4_init(struct err *e)
{
#define S(field, name) DYNLOAD_SYM(struct crypto_api, field, name)
	static const struct dynload_sym syms[] = {
		S(sha256, "SHA256"),
		S(hmac, "HMAC"),
		S(evp_sha256, "EVP_sha256"),
	};
#undef S

	if (api_ready)
		return 0;
	if (dynload("libcrypto.so.3", "libssl3", syms,
	    sizeof(syms) / sizeof(syms[0]), &api, NULL, e) != 0)
		return e->code;
	api_ready = 1;
	return 0;
}

void
sigv4_sha256_hex(const void *data, size_t len, char out[65])
{
	unsigned char md[SHA256_DIGEST_LENGTH];

	api.sha256(data, len, md);
	util_hex(md, sizeof(md), out);
}

void
sigv4_amz_date(time_t t, char out[17])
{
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(out, 17, "%Y%m%dT%H%M%SZ", &tm);
}

static int
unreserved(unsigned char c)
{
	return isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~';
}

int
sigv4_uri_encode(struct buf *out, const char *s, size_t n, int keep_slash)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t i;
	unsigned char c;
	char esc[3];

	for (i = 0; i < n; i++) {
		c = (unsigned char)s[i];
		if (unreserved(c) || (keep_slash && c == '/')) {
			if (buf_putc(out, (char)c) == -1)
				return -1;
			continue;
		}
		esc[0] = '%';
		esc[1] = hex[c >> 4];
		esc[2] = hex[c & 0xf];
		if (buf_append(out, esc, 3) == -1)
			return -1;
	}
	return 0;
}

static int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = tolower(c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* Decodes %XX escapes of s[0..n) into out. */
static int
uri_decode(struct buf *out, const char *s, size_t n)
{
	size_t i;
	int hi, lo;

	for (i = 0; i < n; i++) {
		if (s[i] == '%' && i + 2 < n &&
		    (hi = hexval((unsigned char)s[i + 1])) >= 0 &&
		    (lo = hexval((unsigned char)s[i + 2])) >= 0) {
			if (buf_putc(out, (char)(hi << 4 | lo)) == -1)
				return -1;
			i += 2;
		} else if (buf_putc(out, s[i]) == -1)
			return -1;
	}
	return 0;
}

/* Removes "." and ".." segments and empty segments, keeps a trailing '/',
 * then encodes each segment. */
static int
canonical_path(struct buf *out, const char *path)
{
	const char **seg = NULL, *p, *e;
	size_t *len = NULL, nseg = 0, i, cap;
	int trailing, rc = -1;

	if (path == NULL || *path == '\0')
		path = "/";
	cap = strlen(path) / 2 + 2;
	seg = calloc(cap, sizeof(*seg));
	len = calloc(cap, sizeof(*len));
	if (seg == NULL || len == NULL)
		goto out;
	for (p = path; *p != '\0'; p = e) {
		while (*p == '/')
			p++;
		if (*p == '\0')
			break;
		for (e = p; *e != '\0' && *e != '/'; e++)
			;
		if (e - p == 1 && p[0] == '.')
			continue;
		if (e - p == 2 && p[0] == '.' && p[1] == '.') {
			if (nseg > 0)
				nseg--;
			continue;
		}
		seg[nseg] = p;
		len[nseg++] = (size_t)(e - p);
	}
	trailing = path[strlen(path) - 1] == '/' ||
	    (strlen(path) >= 2 && strcmp(path + strlen(path) - 2, "/.") == 0);
	if (nseg == 0) {
		rc = buf_putc(out, '/');
		goto out;
	}
	for (i = 0; i < nseg; i++)
		if (buf_putc(out, '/') == -1 ||
		    sigv4_uri_encode(out, seg[i], len[i], 0) == -1)
			goto out;
	if (trailing && buf_putc(out, '/') == -1)
		goto out;
	rc = 0;
out:
	free(len);
	free(seg);
	return rc;
}

struct qparam {
	char *key;
	char *value;
};

static int
qparam_cmp(const void *a, const void *b)
{
	const struct qparam *x = a, *y = b;
	int c;

	if ((c = strcmp(x->key, y->key)) != 0)
		return c;
	return strcmp(x->value, y->value);
}

/* Encodes s[0..n) after decoding any %XX escapes it carries. */
static char *
reencode(const char *s, size_t n)
{
	struct buf raw, enc;
	char *r = NULL;

	buf_init(&raw, 0);
	buf_init(&enc, 0);
	if (uri_decode(&raw, s, n) == 0 && buf_putc(&raw, '\0') == 0 &&
	    sigv4_uri_encode(&enc, raw.data, raw.len - 1, 0) == 0)
		r = buf_steal(&enc);
	buf_free(&raw);
	buf_free(&enc);
	return r;
}

static int
canonical_query(struct buf *out, const char *query)
{
	struct qparam *q = NULL;
	const char *p, *amp, *eq;
	size_t n = 0, cap = 1, i;
	int rc = -1;

	if (query == NULL || *query == '\0')
		return 0;
	for (p = query; *p; p++)
		if (*p == '&')
			cap++;
	if ((q = calloc(cap, sizeof(*q))) == NULL)
		return -1;
	for (p = query; ; p = amp + 1) {
		amp = strchr(p, '&');
		if (amp == NULL)
			amp = p + strlen(p);
		if (amp > p) {
			eq = memchr(p, '=', (size_t)(amp - p));
			if (eq == NULL)
				eq = amp;
			q[n].key = reencode(p, (size_t)(eq - p));
			q[n].value = eq < amp ?
			    reencode(eq + 1, (size_t)(amp - eq - 1)) :
			    util_strdup("");
			n++;
			if (q[n - 1].key == NULL || q[n - 1].value == NULL)
				goto out;
		}
		if (*amp == '\0')
			break;
	}
	qsort(q, n, sizeof(*q), qparam_cmp);
	for (i = 0; i < n; i++)
		if ((i > 0 && buf_putc(out, '&') == -1) ||
		    buf_printf(out, "%s=%s", q[i].key, q[i].value) == -1)
			goto out;
	rc = 0;
out:
	for (i = 0; i < n; i++) {
		free(q[i].key);
		free(q[i].value);
	}
	free(q);
	return rc;
}

struct chdr {
	char *name;	/* lowercased */
	struct buf value;
	size_t order;
};

static int
chdr_cmp(const void *a, const void *b)
{
	const struct chdr *x = a, *y = b;
	int c;

	if ((c = strcmp(x->name, y->name)) != 0)
		return c;
	return x->order < y->order ? -1 : x->order > y->order;
}

/* Appends value trimmed, with runs of blanks folded to one space. */
static int
put_trimmed(struct buf *out, const char *v)
{
	int space = 0;

	while (*v == ' ' || *v == '\t')
		v++;
	for (; *v; v++) {
		if (*v == ' ' || *v == '\t' || *v == '\n' || *v == '\r') {
			space = 1;
			continue;
		}
		if (space && buf_putc(out, ' ') == -1)
			return -1;
		space = 0;
		if (buf_putc(out, *v) == -1)
			return -1;
	}
	return 0;
}

static int
canonical_headers(struct buf *out, struct buf *signed_headers,
    const struct sigv4_header *h, size_t nh)
{
	struct chdr *c = NULL;
	size_t i, k, n = 0;
	int rc = -1;

	if (nh == 0)
		return -1;
	if ((c = calloc(nh, sizeof(*c))) == NULL)
		return -1;
	for (i = 0; i < nh; i++) {
		if (h[i].name == NULL || h[i].value == NULL)
			goto out;
		if ((c[n].name = util_strdup(h[i].name)) == NULL)
			goto out;
		for (k = 0; c[n].name[k]; k++)
			c[n].name[k] = (char)tolower((unsigned char)c[n].name[k]);
		buf_init_secret(&c[n].value, 0);
		c[n].order = i;
		if (put_trimmed(&c[n].value, h[i].value) == -1 ||
		    buf_putc(&c[n].value, '\0') == -1)
			goto out_n;
		n++;
	}
	qsort(c, n, sizeof(*c), chdr_cmp);
	for (i = 0; i < n; i++) {
		if (i == 0 || strcmp(c[i].name, c[i - 1].name) != 0) {
			if ((i > 0 && (buf_putc(out, '\n') == -1 ||
			    buf_putc(signed_headers, ';') == -1)) ||
			    buf_printf(out, "%s:", c[i].name) == -1 ||
			    buf_puts(signed_headers, c[i].name) == -1)
				goto out;
		} else if (buf_putc(out, ',') == -1)
			goto out;
		if (buf_puts(out, c[i].value.data) == -1)
			goto out;
	}
	rc = buf_putc(out, '\n');
	goto out;
out_n:
	n++;
out:
	for (i = 0; i < n; i++) {
		free(c[i].name);
		buf_wipe(&c[i].value);	/* x-amz-security-token */
	}
	free(c);
	return rc;
}

int
sigv4_canonical_request(const struct sigv4_request *req, struct buf *creq,
    struct buf *signed_headers)
{
	char hash[65];

	if (req->method == NULL)
		return -1;
	sigv4_sha256_hex(req->payload != NULL ? req->payload : "",
	    req->payload_len, hash);
	if (buf_printf(creq, "%s\n", req->method) == -1 ||
	    canonical_path(creq, req->path) == -1 ||
	    buf_putc(creq, '\n') == -1 ||
	    canonical_query(creq, req->query) == -1 ||
	    buf_putc(creq, '\n') == -1 ||
	    canonical_headers(creq, signed_headers, req->headers,
	    req->nheaders) == -1 ||
	    buf_printf(creq, "\n%s\n%s", signed_headers->data, hash) == -1)
		return -1;
	return 0;
}

static int
valid_date(const char *d)
{
	return d != NULL && strlen(d) == 16 && d[8] == 'T' && d[15] == 'Z';
}

int
sigv4_string_to_sign(const struct sigv4_scope *scope, const char *creq,
    size_t creq_len, struct buf *sts)
{
	char hash[65];

	if (!valid_date(scope->amz_date))
		return -1;
	sigv4_sha256_hex(creq, creq_len, hash);
	return buf_printf(sts, SIGV4_ALGORITHM "\n%s\n%.8s/%s/%s/aws4_request\n%s",
	    scope->amz_date, scope->amz_date, scope->region, scope->service,
	    hash);
}

static int
hmac(const void *key, size_t keylen, const void *msg, size_t msglen,
    unsigned char out[32])
{
	unsigned int outlen = 32;

	return api.hmac(api.evp_sha256(), key, (int)keylen, msg, msglen, out,
	    &outlen) == NULL ? -1 : 0;
}

int
sigv4_signature(const char *secret_key, const struct sigv4_scope *scope,
    const char *sts, size_t sts_len, char sig[65])
{
	struct buf k0;
	unsigned char k[32], mac[32];
	int rc = -1;

	if (!valid_date(scope->amz_date) || secret_key == NULL)
		return -1;
	buf_init_secret(&k0, 0);
	if (buf_printf(&k0, "AWS4%s", secret_key) == -1 ||
	    hmac(k0.data, k0.len, scope->amz_date, 8, k) == -1 ||
	    hmac(k, 32, scope->region, strlen(scope->region), k) == -1 ||
	    hmac(k, 32, scope->service, strlen(scope->service), k) == -1 ||
	    hmac(k, 32, "aws4_request", 12, k) == -1 ||
	    hmac(k, 32, sts, sts_len, mac) == -1)
		goto out;
	util_hex(mac, sizeof(mac), sig);
	rc = 0;
out:
	/* kSecret (k0), kDate..kSigning (k, derived in place), the MAC */
	util_wipe(k, sizeof(k));
	util_wipe(mac, sizeof(mac));
	buf_wipe(&k0);
	return rc;
}

int
sigv4_authorization(const char *access_key, const struct sigv4_scope *scope,
    const char *signed_headers, const char *sig, struct buf *out)
{
	if (!valid_date(scope->amz_date))
		return -1;
	return buf_printf(out, SIGV4_ALGORITHM " Credential=%s/%.8s/%s/%s/"
	    "aws4_request, SignedHeaders=%s, Signature=%s", access_key,
	    scope->amz_date, scope->region, scope->service, signed_headers,
	    sig);
}

int
sigv4_sign(const struct sigv4_request *req, const char *access_key,
    const char *secret_key, const struct sigv4_scope *scope, struct buf *authz)
{
	struct buf creq, sh, sts;
	char sig[65];
	int rc = -1;

	buf_init_secret(&creq, 0);
	buf_init(&sh, 0);
	buf_init(&sts, 0);
	if (sigv4_canonical_request(req, &creq, &sh) == -1 ||
	    sigv4_string_to_sign(scope, creq.data, creq.len, &sts) == -1 ||
	    sigv4_signature(secret_key, scope, sts.data, sts.len, sig) == -1 ||
	    sigv4_authorization(access_key, scope, sh.data, sig, authz) == -1)
		goto out;
	rc = 0;
out:
	util_wipe(sig, sizeof(sig));
	buf_wipe(&creq);	/* holds the session token */
	buf_free(&sh);
	buf_free(&sts);
	return rc;
}
