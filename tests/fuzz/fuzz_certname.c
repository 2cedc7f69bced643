/* fuzz_certname: the certname parser (lookup_certname_check,
 * lookup_values for every strategy, lookup_find over a fake source) over
 * arbitrary bytes. */
#include <string.h>

#include "fuzz.h"
#include "lookup.h"

static const enum lookup_strategy all[] = { LOOKUP_INSTANCE_ID,
    LOOKUP_PRIVATE_DNS, LOOKUP_PRIVATE_IP, LOOKUP_TAG_NAME };
#define NALL (sizeof(all) / sizeof(all[0]))

/* What a strategy's filter values must look like. */
static void
check_values(enum lookup_strategy s, const char *c,
    char vals[2][LOOKUP_CERTNAME_MAX + 1], size_t nv)
{
	size_t i;

	FUZZ_CHECK(nv <= 2);
	for (i = 0; i < nv; i++) {
		FUZZ_CHECK(memchr(vals[i], '\0', LOOKUP_CERTNAME_MAX + 1) !=
		    NULL);
		FUZZ_CHECK(vals[i][0] != '\0');
	}
	switch (s) {
	case LOOKUP_INSTANCE_ID:
		FUZZ_CHECK(nv == 0 || (nv == 1 &&
		    strncmp(vals[0], "i-", 2) == 0 &&
		    strncmp(c, vals[0], strlen(vals[0])) == 0));
		break;
	case LOOKUP_PRIVATE_DNS:
		FUZZ_CHECK(nv == 1 && strcmp(vals[0], c) == 0);
		break;
	case LOOKUP_PRIVATE_IP:
		FUZZ_CHECK(nv <= 1);
		if (nv == 1)
			FUZZ_CHECK(strlen(vals[0]) >= 7 &&
			    strlen(vals[0]) <= 15 &&
			    strspn(vals[0], "0123456789.") == strlen(vals[0]));
		break;
	case LOOKUP_TAG_NAME:
		FUZZ_CHECK(nv >= 1 && strcmp(vals[0], c) == 0);
		FUZZ_CHECK(nv == 1 || strncmp(c, vals[1], strlen(vals[1])) == 0);
		break;
	}
}

/* A source that finds, for the Name strategy only, one instance per '.'
 * in the certname: none, exactly one, or an ambiguous handful. */
static int
source(void *src, enum lookup_strategy s, const char *const *vals,
    size_t nv, awsxml_instance_fn fn, void *ctx, struct err *e)
{
	const char *c = src, *p;
	struct instance *in;
	char id[32];
	int rc = 0, k = 0;

	FUZZ_CHECK(nv >= 1 && nv <= 2 && vals[0] != NULL);
	if (s != LOOKUP_TAG_NAME)
		return 0;
	for (p = strchr(c, '.'); p != NULL && rc == 0 && k < 8;
	    p = strchr(p + 1, '.')) {
		if ((in = instance_new()) == NULL)
			return err_set(e, ERR_FAIL, "out of memory");
		(void)snprintf(id, sizeof(id), "i-%08x", (unsigned)k++);
		if (instance_set(&in->id, id) == -1)
			rc = err_set(e, ERR_FAIL, "out of memory");
		else
			rc = fn(in, ctx, e);
		instance_free(in);
	}
	return rc;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char vals[2][LOOKUP_CERTNAME_MAX + 1];
	struct instance *in = (struct instance *)1;
	struct err e = { 0 };
	char *c;
	size_t i, nv;
	int rc;

	/* a certname comes from argv: a C string */
	if (memchr(data, '\0', size) != NULL || (c = fuzz_cstr(data, size)) ==
	    NULL)
		return 0;
	if (lookup_certname_check(c, &e) != 0) {
		FUZZ_CHECK(e.code == ERR_USAGE && e.msg[0] != '\0');
		goto out;
	}
	FUZZ_CHECK(size >= 1 && size <= LOOKUP_CERTNAME_MAX);
	for (i = 0; i < NALL; i++) {
		memset(vals, 0x5a, sizeof(vals));
		nv = lookup_values(all[i], c, vals);
		check_values(all[i], c, vals, nv);
	}
	rc = lookup_find(source, c, all, NALL, c, &in, &e);
	if (rc == 0) {
		FUZZ_CHECK(in != NULL && strcmp(in->id, "i-00000000") == 0);
		instance_free(in);
	} else {
		FUZZ_CHECK(in == NULL);
		FUZZ_CHECK(rc == ERR_NOTFOUND || rc == ERR_FAIL);
		FUZZ_CHECK(e.code == (enum err_code)rc && e.msg[0] != '\0');
	}
out:
	free(c);
	return 0;
}
