/* config: the classification config file (YAML or JSON), validated. */
#ifndef CONFIG_H
#define CONFIG_H

#include <stddef.h>

#include "ec2.h"
#include "err.h"
#include "lookup.h"
#include "value.h"

#define CONFIG_DEFAULT_PATH "/etc/ec2-classify/config.yaml"
#define CONFIG_MAX_FILE (4 * 1024 * 1024)
#define CONFIG_NAME_MAX 255	/* longest group (Chef role) name */

struct config_group {
	const char *name;
	const struct value *body;	/* a hash, or NULL for an empty group */
};

/* Every pointer borrows from root; all of it lives until config_free. */
struct config {
	char *path;
	struct value *root;
	const char *region, *profile, *endpoint;	/* NULL: unset */
	const char **regions;			/* aws.regions, or none */
	size_t nregions;
	const char **profiles;			/* aws.profiles, or none */
	size_t nprofiles;
	struct ec2_filter *filters;
	size_t nfilters;
	const char *cache_path;
	long max_age, stale_max_age;
	int cache_mode;				/* default 0640 */
	enum lookup_strategy lookup[4];
	size_t nlookup;
	const char *tag_environment, *tag_roles, *tag_group, *param_prefix;
	int peers_enc, peers_dna;
	const char *peers_attribute;		/* NULL: under "ec2" */
	const struct value *base;		/* __base__, or NULL */
	struct config_group *groups;		/* in file order, no __base__ */
	size_t ngroups;
	const struct value *unknown;		/* NULL: unknown nodes exit 1 */
};

/* Reads and validates a config file. Errors are "FILE:LINE:COLUMN:
 * problem" (or "FILE: problem") with code ERR_USAGE. *out is freed with
 * config_free. */
int config_load(const char *path, struct config **out, struct err *e);

/* The same from memory; name is used in messages. */
int config_parse(const char *text, size_t len, const char *name,
    struct config **out, struct err *e);

void config_free(struct config *c);

/* Validators shared with the classifier (non-zero: valid). */
int config_valid_class(const char *s);
int config_valid_environment(const char *s);
int config_valid_param(const char *s);	/* also refuses reserved names */
int config_valid_run_list_item(const char *s);
int config_valid_role_name(const char *s);

#endif
