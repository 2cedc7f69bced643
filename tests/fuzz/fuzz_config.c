/* fuzz_config: config_parse (libyaml through yamlio, then every check of
 * the classification config) over arbitrary bytes. */
#include <string.h>

#include "config.h"
#include "fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct config *c = (struct config *)1;
	struct err e = { 0 };
	size_t i;
	int rc;

	rc = config_parse((const char *)data, size, "fuzz.yaml", &c, &e);
	if (rc != 0) {
		FUZZ_CHECK(c == NULL);
		FUZZ_CHECK(e.code == (enum err_code)rc && e.msg[0] != '\0');
		FUZZ_CHECK(rc == ERR_USAGE || rc == ERR_FAIL);
		/* positions name the file: "fuzz.yaml:LINE:COL: ..." */
		FUZZ_CHECK(rc != ERR_USAGE ||
		    strncmp(e.msg, "fuzz.yaml", 9) == 0);
		return 0;
	}
	FUZZ_CHECK(c != NULL && c->root != NULL);
	FUZZ_CHECK(c->nlookup >= 1 && c->nlookup <= 4);
	for (i = 0; i < c->ngroups; i++) {
		FUZZ_CHECK(c->groups[i].name != NULL);
		FUZZ_CHECK(config_valid_role_name(c->groups[i].name));
	}
	FUZZ_CHECK(c->tag_environment != NULL && c->tag_roles != NULL &&
	    c->tag_group != NULL && c->param_prefix != NULL);
	config_free(c);
	return 0;
}
