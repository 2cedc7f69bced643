/* http: the project's only user of libcurl, loaded at the first request
 * (see dynload.h). */
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "dynload.h"
#include "http.h"
#include "util.h"

struct http {
	CURL *curl;
	struct http_opts o;
	char *ca_bundle;
};

/* The libcurl functions this file calls. */
struct curl_api {
	CURLcode (*global_init)(long);
	void (*global_cleanup)(void);
	CURL *(*easy_init)(void);
	void (*easy_cleanup)(CURL *);
	void (*easy_reset)(CURL *);
	CURLcode (*easy_setopt)(CURL *, CURLoption, ...);
	CURLcode (*easy_perform)(CURL *);
	CURLcode (*easy_getinfo)(CURL *, CURLINFO, ...);
	const char *(*easy_strerror)(CURLcode);
	struct curl_slist *(*slist_append)(struct curl_slist *, const char *);
	void (*slist_free_all)(struct curl_slist *);
	CURLU *(*url)(void);
	void (*url_cleanup)(CURLU *);
	CURLUcode (*url_set)(CURLU *, CURLUPart, const char *, unsigned int);
	CURLUcode (*url_get)(const CURLU *, CURLUPart, char **, unsigned int);
	void (*free)(void *);
};
static struct curl_api api;
static int api_ready;

/* At exit (see dynload.h) */
static void
cleanup_curl(void)
{
	if (api_ready)
		api.global_cleanup();
	api_ready = 0;
}

static int
load_curl(struct err *e)
{
#define S(field, name) DYNLOAD_SYM(struct curl_api, field, name)
	static const struct dynload_sym syms[] = {
		S(global_init, "curl_global_init"),
		S(global_cleanup, "curl_global_cleanup"),
		S(easy_init, "curl_easy_init"),
		S(easy_cleanup, "curl_easy_cleanup"),
		S(easy_reset, "curl_easy_reset"),
		S(easy_setopt, "curl_easy_setopt"),
		S(easy_perform, "curl_easy_perform"),
		S(easy_getinfo, "curl_easy_getinfo"),
		S(easy_strerror, "curl_easy_strerror"),
		S(slist_append, "curl_slist_append"),
		S(slist_free_all, "curl_slist_free_all"),
		S(url, "curl_url"),
		S(url_cleanup, "curl_url_cleanup"),
		S(url_set, "curl_url_set"),
		S(url_get, "curl_url_get"),
		S(free, "curl_free"),
	};
#undef S

	if (api_ready)
		return 0;
	if (dynload("libcurl.so.4", "libcurl4", syms,
	    sizeof(syms) / sizeof(syms[0]), &api, cleanup_curl, e) != 0)
		return -1;
	if (api.global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		return err_set(e, ERR_FAIL, "cannot initialise libcurl");
	api_ready = 1;
	return 0;
}

struct http *
http_new(const struct http_opts *o, struct err *e)
{
	struct http *h;

	if ((h = calloc(1, sizeof(*h))) == NULL) {
		err_set(e, ERR_FAIL, "out of memory");
		return NULL;
	}
	h->o = *o;
	if (h->o.connect_timeout_ms <= 0)
		h->o.connect_timeout_ms = 5000;
	if (h->o.timeout_ms <= 0)
		h->o.timeout_ms = 20000;
	if (h->o.max_body == 0)
		h->o.max_body = HTTP_MAX_BODY;
	h->ca_bundle = util_strdup(o->ca_bundle);
	h->o.ca_bundle = h->ca_bundle;
	if (o->ca_bundle != NULL && h->ca_bundle == NULL) {
		err_set(e, ERR_FAIL, "out of memory");
		http_free(h);
		return NULL;
	}
	return h;	/* libcurl is loaded by the first request */
}

void
http_free(struct http *h)
{
	if (h == NULL)
		return;
	if (h->curl != NULL)
		api.easy_cleanup(h->curl);
	free(h->ca_bundle);
	free(h);
}

void
http_response_init(struct http_response *r, size_t cap)
{
	r->status = 0;
	buf_init(&r->body, cap);
}

void
http_response_free(struct http_response *r)
{
	if (r == NULL)
		return;
	buf_free(&r->body);
}

struct sink {
	struct buf *body;
	int over_cap;
};

static size_t
on_data(char *p, size_t size, size_t n, void *arg)
{
	struct sink *s = arg;

	if (buf_append(s->body, p, size * n) == -1) {
		s->over_cap = 1;
		return 0;	/* makes curl fail with CURLE_WRITE_ERROR */
	}
	return size * n;
}

enum http_status
http_request(struct http *h, const char *method, const char *url,
    const struct http_header *hdrs, size_t nhdrs, const void *body,
    size_t body_len, struct http_response *resp, struct err *e)
{
	struct curl_slist *list = NULL, *l;
	struct buf line;
	struct sink sink;
	CURL *c;
	CURLcode rc;
	enum http_status st = HTTP_PERMANENT;
	size_t i;

	if (load_curl(e) != 0)
		return HTTP_PERMANENT;	/* ERR_FAIL: retrying cannot help */
	if (h->curl == NULL && (h->curl = api.easy_init()) == NULL) {
		err_set(e, ERR_FAIL, "cannot initialise libcurl");
		return HTTP_PERMANENT;
	}
	c = h->curl;
	buf_init(&line, 0);
	buf_reset(&resp->body);
	if (resp->body.cap > h->o.max_body)
		resp->body.cap = h->o.max_body;
	resp->status = 0;
	sink.body = &resp->body;
	sink.over_cap = 0;
	/* curl adds Accept and Expect on its own: suppress them so only
	 * headers we chose (and signed) go out. */
	if ((l = api.slist_append(list, "Accept:")) == NULL)
		goto nomem;
	list = l;
	if ((l = api.slist_append(list, "Expect:")) == NULL)
		goto nomem;
	list = l;
	for (i = 0; i < nhdrs; i++) {
		buf_reset(&line);
		if (buf_printf(&line, "%s: %s", hdrs[i].name,
		    hdrs[i].value) == -1 ||
		    (l = api.slist_append(list, line.data)) == NULL)
			goto nomem;
		list = l;
	}
	api.easy_reset(c);
	api.easy_setopt(c, CURLOPT_URL, url);
	api.easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	api.easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	api.easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
	api.easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, h->o.connect_timeout_ms);
	api.easy_setopt(c, CURLOPT_TIMEOUT_MS, h->o.timeout_ms);
	api.easy_setopt(c, CURLOPT_HTTPHEADER, list);
	api.easy_setopt(c, CURLOPT_USERAGENT, "ec2-classify/" VERSION);
	api.easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
	api.easy_setopt(c, CURLOPT_WRITEDATA, &sink);
	api.easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
	api.easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
	if (h->o.ca_bundle != NULL)
		api.easy_setopt(c, CURLOPT_CAINFO, h->o.ca_bundle);
	if (strcmp(method, "POST") == 0) {
		api.easy_setopt(c, CURLOPT_POST, 1L);
		api.easy_setopt(c, CURLOPT_POSTFIELDS, body ? body : "");
		api.easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE,
		    (curl_off_t)body_len);
	} else if (strcmp(method, "GET") != 0)
		api.easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	rc = api.easy_perform(c);
	if (rc == CURLE_OK) {
		api.easy_getinfo(c, CURLINFO_RESPONSE_CODE, &resp->status);
		st = HTTP_OK;
		goto out;
	}
	switch (rc) {
	case CURLE_WRITE_ERROR:
		if (sink.over_cap) {
			err_set(e, ERR_UNAVAILABLE, "%s: response body larger "
			    "than %zu bytes", url, resp->body.cap);
			break;
		}
		/* FALLTHROUGH */
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_RESOLVE_PROXY:
	case CURLE_COULDNT_CONNECT:
	case CURLE_OPERATION_TIMEDOUT:
	case CURLE_PARTIAL_FILE:
	case CURLE_RECV_ERROR:
	case CURLE_SEND_ERROR:
	case CURLE_GOT_NOTHING:
	case CURLE_SSL_CONNECT_ERROR:
		st = HTTP_TRANSIENT;
		err_set(e, ERR_UNAVAILABLE, "%s: %s", url,
		    api.easy_strerror(rc));
		break;
	default:
		err_set(e, ERR_UNAVAILABLE, "%s: %s", url,
		    api.easy_strerror(rc));
		break;
	}
	goto out;
nomem:
	err_set(e, ERR_FAIL, "out of memory");
out:
	api.slist_free_all(list);
	buf_free(&line);
	return st;
}

int
http_url_parts(const char *url, char **host, char **path, struct err *e)
{
	CURLU *u = NULL;
	char *scheme = NULL, *hn = NULL, *port = NULL, *p = NULL;
	struct buf hb;
	int rc = -1;

	*host = *path = NULL;
	if (load_curl(e) != 0)
		return -1;
	buf_init(&hb, 0);
	if ((u = api.url()) == NULL)
		goto bad;
	if (api.url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
	    api.url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
	    (strcmp(scheme, "http") != 0 && strcmp(scheme, "https") != 0) ||
	    api.url_get(u, CURLUPART_HOST, &hn, 0) != CURLUE_OK ||
	    api.url_get(u, CURLUPART_PATH, &p, 0) != CURLUE_OK)
		goto bad;
	if (api.url_get(u, CURLUPART_PORT, &port, 0) != CURLUE_OK)
		port = NULL;
	if (buf_puts(&hb, hn) == -1 ||
	    (port != NULL && buf_printf(&hb, ":%s", port) == -1) ||
	    (*path = util_strdup(*p ? p : "/")) == NULL) {
		err_set(e, ERR_FAIL, "out of memory");
		goto out;
	}
	*host = buf_steal(&hb);
	rc = 0;
	goto out;
bad:
	err_set(e, ERR_USAGE, "invalid endpoint URL '%s' (want "
	    "http(s)://host[:port])", url);
out:
	api.free(scheme);
	api.free(hn);
	api.free(port);
	api.free(p);
	api.url_cleanup(u);
	buf_free(&hb);
	if (rc == -1) {
		free(*path);
		*path = NULL;
	}
	return rc;
}
