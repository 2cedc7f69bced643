/* enc: the Puppet External Node Classifier for EC2 instances. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "app.h"
#include "tool.h"

#define PROG "enc"
#define SYNOPSIS "enc [options] CERTNAME | --describe ID|CERTNAME"

static void __attribute__((noreturn))
usage(int code)
{
	if (code != 0) {
		fprintf(stderr, "%s: usage: %s; see %s --help\n", PROG,
		    SYNOPSIS, PROG);
		exit(code);
	}
	fprintf(stdout,
	    "usage: enc [options] CERTNAME\n"
	    "       enc [options] --describe ID|CERTNAME\n"
	    "options:\n"
	    "  --region REGION     AWS region (else AWS_REGION, profile, IMDS)\n"
	    "  --profile NAME      profile in the AWS shared files\n"
	    "  --endpoint URL      EC2 endpoint (else AWS_ENDPOINT_URL_EC2)\n"
	    "  --timeout SECONDS   per-request timeout (default 20)\n"
	    "  --describe WHAT     print the instance as read from EC2, as JSON\n"
	    "  -v, --verbose       trace requests on stderr\n"
	    "  -h, --help          this help\n"
	    "  -V, --version       print the version\n"
	    "exit: 0 classified, 1 no such node, 2 usage or config, "
	    "3 EC2 unavailable, 4 other\n");
	exit(code);
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "region", required_argument, NULL, APP_OPT_REGION },
		{ "profile", required_argument, NULL, APP_OPT_PROFILE },
		{ "endpoint", required_argument, NULL, APP_OPT_ENDPOINT },
		{ "timeout", required_argument, NULL, APP_OPT_TIMEOUT },
		{ "describe", required_argument, NULL, APP_OPT_DESCRIBE },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 }
	};
	struct app_opts o = { 0 };
	struct app a;
	struct err e = { 0 };
	struct buf out;
	const char *describe = NULL;
	int ch, rc;

	tool_init("enc");
	while ((ch = getopt_long(argc, argv, "vhV", longopts, NULL)) != -1) {
		if ((rc = app_option(&o, ch, optarg, &e)) == -1)
			return tool_fail(&e);
		if (rc == 1)
			continue;
		switch (ch) {
		case APP_OPT_DESCRIBE:
			describe = optarg;
			break;
		case 'v':
			o.log = tool_log;
			break;
		case 'h':
			usage(0);
		case 'V':
			printf("enc %s\n", VERSION);
			return 0;
		default:
			usage(ERR_USAGE);
		}
	}
	argc -= optind;
	argv += optind;
	if ((describe == NULL) == (argc == 0) || argc > 1)
		usage(ERR_USAGE);
	if (describe == NULL) {
		err_set(&e, ERR_FAIL, "classifying '%s' needs the group "
		    "configuration, which this version does not have yet; "
		    "use --describe", argv[0]);
		return tool_fail(&e);
	}

	buf_init(&out, 0);
	if ((rc = app_init(&a, &o, getenv, &e)) == 0)
		rc = app_describe(&a, describe, &out, &e);
	app_cleanup(&a);
	if (rc == 0)
		rc = tool_emit(&out);
	else
		rc = tool_fail(&e);
	buf_free(&out);
	return rc;
}
