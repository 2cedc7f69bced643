/* fuzz_describe_xml: awsxml_describe_instances (the SAX2 DescribeInstances
 * page parser) over arbitrary bytes, checking its contract. */
#include <string.h>

#include "awsxml.h"
#include "fuzz.h"

#define REGION "us-east-1"

struct seen {
	size_t calls;
};

/* Checks every instance handed out; a tag "fuzz-stop" makes the callback
 * fail, so the path that frees the rest of the page runs too. */
static int
on_instance(const struct instance *in, void *arg, struct err *e)
{
	struct seen *s = arg;
	size_t i;

	s->calls++;
	for (i = 0; i < instance_nfields; i++)
		FUZZ_CHECK(INSTANCE_FIELD(in, &instance_fields[i]) != NULL);
	FUZZ_CHECK(in->id[0] != '\0');
	FUZZ_CHECK(strcmp(in->region, REGION) == 0);
	FUZZ_CHECK(in->ngroups == 0 || in->groups != NULL);
	for (i = 0; i < in->ngroups; i++)
		FUZZ_CHECK(in->groups[i].id != NULL &&
		    in->groups[i].name != NULL);
	for (i = 0; i < in->ntags; i++) {
		FUZZ_CHECK(in->tags[i].key != NULL &&
		    in->tags[i].value != NULL);
		if (strcmp(in->tags[i].key, "fuzz-stop") == 0)
			return err_set(e, ERR_FAIL, "stopped by the fuzzer");
	}
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct seen s = { 0 };
	struct err e = { 0 };
	char *token = (char *)"unset";
	size_t count = (size_t)-1;
	int rc;

	rc = awsxml_describe_instances((const char *)data, size,
	    REGION, on_instance, &s, &token, &count, &e);
	if (rc != 0) {
		FUZZ_CHECK(token == NULL);
		FUZZ_CHECK(e.code == (enum err_code)rc && e.msg[0] != '\0');
		FUZZ_CHECK(rc == ERR_UNAVAILABLE || rc == ERR_FAIL);
		return 0;
	}
	FUZZ_CHECK(count == s.calls);
	FUZZ_CHECK(token == NULL || token[0] != '\0');
	free(token);
	return 0;
}
