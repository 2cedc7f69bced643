/* fuzz_error_xml: awsxml_error (the AWS error document parser) over
 * arbitrary bytes, checking its contract. */
#include "awsxml.h"
#include "fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *code = (char *)"unset", *message = (char *)"unset";
	int rc;

	rc = awsxml_error((const char *)data, size, &code, &message);
	if (rc != 0) {
		FUZZ_CHECK(rc == -1);
		FUZZ_CHECK(code == NULL && message == NULL);
		return 0;
	}
	FUZZ_CHECK(code != NULL && code[0] != '\0');
	FUZZ_CHECK(message != NULL);
	free(code);
	free(message);
	return 0;
}
