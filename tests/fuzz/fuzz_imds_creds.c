/* fuzz_imds_creds: the instance-profile credentials document (jansson
 * through jsonio, then the Code/keys/Expiration checks of creds.c) over
 * arbitrary bytes. imds_get is replaced here, so creds.c reads the input
 * as the metadata service's answer. */
#include <string.h>

#include "creds.h"
#include "fuzz.h"

static const uint8_t *doc;
static size_t doclen;

/* Stands in for lib/imds.c (not linked): the role listing, then the input
 * as the role's credentials. */
int
imds_get(struct imds *m, const char *path, char **out, struct err *e)
{
	(void)m;
	if (strcmp(path, "meta-data/iam/security-credentials/") == 0)
		*out = strdup("fuzz-role\n");
	else {
		FUZZ_CHECK(strcmp(path, "meta-data/iam/security-credentials/"
		    "fuzz-role") == 0);
		*out = fuzz_cstr(doc, doclen);
	}
	if (*out == NULL)
		return err_set(e, ERR_FAIL, "out of memory");
	return 0;
}

static int
get(struct creds_chain *c, time_t now)
{
	const struct creds *cr = (const struct creds *)1;
	struct err e = { 0 };
	int rc;

	rc = creds_get(c, now, NULL, &cr, &e);
	if (rc != 0) {
		FUZZ_CHECK(cr == NULL);
		FUZZ_CHECK(rc == ERR_UNAVAILABLE || rc == ERR_FAIL);
		FUZZ_CHECK(e.code == (enum err_code)rc && e.msg[0] != '\0');
		return -1;
	}
	FUZZ_CHECK(cr != NULL && cr->access_key != NULL &&
	    cr->secret_key != NULL);
	FUZZ_CHECK(strcmp(cr->source, "instance profile") == 0);
	FUZZ_CHECK(cr->expiration != -1);
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct settings s;
	struct creds_chain *c;
	struct err e = { 0 };
	char dummy;

	doc = data;
	doclen = size;
	memset(&s, 0, sizeof(s));
	s.profile = (char *)"default";
	c = creds_chain_new(&s, (struct imds *)(void *)&dummy, &e);
	FUZZ_CHECK(c != NULL);
	/* then again at the expiration: the refresh replaces what it read */
	if (get(c, 0) == 0)
		(void)get(c, 4102444800);	/* 2100-01-01 */
	creds_chain_free(c);
	return 0;
}
