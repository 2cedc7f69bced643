/* fuzz_assume_role_xml: awsxml_assume_role (the STS AssumeRoleResponse
 * parser) over arbitrary bytes, checking its contract. */
#include <string.h>

#include "awsxml.h"
#include "fuzz.h"
#include "util.h"

/* Trimmed: no ASCII blank at either end. */
static int
trimmed(const char *s)
{
	size_t n = strlen(s);

	return n > 0 && strchr(" \t\r\n", s[0]) == NULL &&
	    strchr(" \t\r\n", s[n - 1]) == NULL;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *v[4] = { (char *)"unset", (char *)"unset", (char *)"unset",
	    (char *)"unset" };
	struct err e = { 0 };
	size_t i;
	int rc;

	rc = awsxml_assume_role((const char *)data, size, &v[0], &v[1],
	    &v[2], &v[3], &e);
	if (rc != 0) {
		FUZZ_CHECK(rc == ERR_UNAVAILABLE || rc == ERR_FAIL);
		FUZZ_CHECK(e.code == (enum err_code)rc && e.msg[0] != '\0');
		for (i = 0; i < 4; i++)
			FUZZ_CHECK(v[i] == NULL);
		return 0;
	}
	for (i = 0; i < 4; i++) {
		FUZZ_CHECK(v[i] != NULL && trimmed(v[i]));
		util_free_secret(v[i]);
	}
	return 0;
}
