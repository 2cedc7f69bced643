/* dna-gen: chef-solo attributes (dna.json) for EC2 instances. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "app.h"
#include "tool.h"
#include "util.h"

#define PROG "dna-gen"
#define SYNOPSIS "dna-gen [options] --describe [INSTANCE-ID|CERTNAME]"

static void __attribute__((noreturn))
usage(int code)
{
	if (code != 0) {
		fprintf(stderr, "%s: usage: %s; see %s --help\n", PROG,
		    SYNOPSIS, PROG);
		exit(code);
	}
	fputs("usage: dna-gen [options] --describe [INSTANCE-ID|CERTNAME]\n"
	    "options:\n"
	    APP_HELP
	    "  --describe          print the instance as read from EC2, as JSON;\n"
	    "                      without an id, the instance this runs on (IMDS)\n"
	    "exit: 0 done, 1 no such node, 2 usage or config, "
	    "3 EC2 or IMDS unavailable, 4 other\n", stdout);
	exit(0);
}

/* Asks the metadata service which instance this is. */
static int
self_id(struct app *a, char **id, struct err *e)
{
	int rc;

	if (a->imds == NULL)
		return err_set(e, ERR_USAGE, "no instance id given and the "
		    "metadata service is disabled (AWS_EC2_METADATA_DISABLED)");
	if ((rc = imds_get(a->imds, "meta-data/instance-id", id, e)) != 0)
		return err_prefix(e, "no instance id given, and");
	util_trim(*id);
	return 0;
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		APP_LONGOPTS,
		{ "describe", no_argument, NULL, APP_OPT_DESCRIBE },
		{ NULL, 0, NULL, 0 }
	};
	struct app_opts o = { 0 };
	struct app a;
	struct err e = { 0 };
	struct buf out;
	char *id = NULL;
	int ch, rc, describe = 0;

	tool_init("dna-gen");
	while ((ch = getopt_long(argc, argv, "c:vhV", longopts, NULL)) != -1) {
		if ((rc = app_option(&o, ch, optarg, &e)) == -1)
			return tool_fail(&e);
		if (rc == 1)
			continue;
		switch (ch) {
		case APP_OPT_DESCRIBE:
			describe = 1;
			break;
		case 'v':
			o.log = tool_log;
			break;
		case 'h':
			usage(0);
		case 'V':
			printf("dna-gen %s\n", VERSION);
			return 0;
		default:
			usage(ERR_USAGE);
		}
	}
	argc -= optind;
	argv += optind;
	if (argc > 1)
		usage(ERR_USAGE);
	if (!describe) {
		err_set(&e, ERR_FAIL, "writing dna.json needs the group "
		    "configuration, which this version does not have yet; "
		    "use --describe");
		return tool_fail(&e);
	}

	buf_init(&out, 0);
	if ((rc = app_init(&a, &o, 0, getenv, &e)) == 0) {
		if (argc == 1)
			rc = app_describe(&a, argv[0], &out, &e);
		else if ((rc = self_id(&a, &id, &e)) == 0)
			rc = app_describe(&a, id, &out, &e);
	}
	free(id);
	app_cleanup(&a);
	if (rc == 0)
		rc = tool_emit(&out);
	else
		rc = tool_fail(&e);
	buf_free(&out);
	return rc;
}
