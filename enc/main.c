/* enc: the Puppet External Node Classifier for EC2 instances. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "app.h"
#include "classify.h"
#include "tool.h"
#include "yamlio.h"

#define PROG "enc"
#define SYNOPSIS "enc [options] CERTNAME | --describe ID|CERTNAME | " \
	"--list | --refresh"

enum { OPT_EXPLAIN = 300, OPT_LIST };

static void __attribute__((noreturn))
usage(int code)
{
	if (code != 0) {
		fprintf(stderr, "%s: usage: %s; see %s --help\n", PROG,
		    SYNOPSIS, PROG);
		exit(code);
	}
	fputs("usage: enc [options] CERTNAME\n"
	    "       enc [options] --describe ID|CERTNAME\n"
	    "       enc [options] --list | --refresh\n"
	    "Prints the Puppet ENC YAML (classes, parameters, environment) "
	    "for the EC2\ninstance behind CERTNAME.\n"
	    "options:\n"
	    APP_HELP
	    "  --describe WHAT     print the instance as read from EC2, as JSON\n"
	    "  --list              every instance's YAML, one document each\n"
	    "  --explain           say on stderr where each class, parameter and\n"
	    "                      the environment came from\n"
	    "exit: 0 classified, 1 no such node, 2 usage/config, "
	    "3 EC2 unavailable, 4 other\n", stdout);
	exit(0);
}

static void
print_explain(const struct classify_result *r)
{
	size_t i;

	for (i = 0; i < r->explain->n; i++)
		tool_log(NULL, r->explain->items[i]->s);
}

/* peers: {enc: true}: the environment's peers as parameter ec2_peers. */
static int
add_peers(struct app *a, const struct classify_result *r,
    const struct instance *in, struct value *doc, struct err *e)
{
	struct value *peers;
	int rc;

	if ((rc = app_peers(a, r->environment->s, in, &peers, e)) != 0)
		return rc;
	if (value_map_set(value_map_get(doc, "parameters"), "ec2_peers",
	    peers) == -1)
		return err_set(e, ERR_FAIL, "out of memory");
	return 0;
}

/* Appends the YAML document of in (NULL: not in EC2, classified by the
 * config's unknown section) to out. */
static int
document(struct app *a, const struct instance *in, int explain,
    struct buf *out, struct err *e)
{
	struct classify_result r = { 0 };
	struct value *doc = NULL;
	int rc;

	rc = in == NULL ? classify_unknown(a->cfg, &r, e) :
	    classify_instance(a->cfg, in, &r, e);
	if (rc == 0)
		rc = classify_enc_document(a->cfg, &r, in, &doc, e);
	if (rc == 0 && a->cfg->peers_enc)
		rc = add_peers(a, &r, in, doc, e);
	if (rc == 0)
		rc = yamlio_emit(doc, out, e);
	if (rc == 0 && explain) {
		if (in == NULL)
			tool_log(NULL, "not in EC2: classified by 'unknown'");
		print_explain(&r);
	}
	value_free(doc);
	classify_result_cleanup(&r);
	return rc;
}

/* Classifies certname into out (YAML). */
static int
classify(struct app *a, const char *certname, int explain, struct buf *out,
    struct err *e)
{
	struct instance *in = NULL;
	int rc;

	rc = app_find(a, certname, &in, e);
	if (rc == 0 || (rc == ERR_NOTFOUND && a->cfg->unknown != NULL))
		rc = document(a, in, explain, out, e);
	instance_free(in);
	return rc;
}

struct list {
	struct app *a;
	struct buf *out;
};

/* A node that cannot be classified (an invalid environment tag, say)
 * is left out with a warning; EC2 failing stops the list. */
static int
list_one(const struct instance *in, void *ctx, struct err *e)
{
	struct list *l = ctx;
	size_t len = l->out->len;
	int rc;

	if ((rc = document(l->a, in, 0, l->out, e)) == 0 ||
	    rc == ERR_UNAVAILABLE || rc == ERR_USAGE)
		return rc;
	l->out->len = len;
	tool_log(NULL, e->msg);
	err_clear(e);
	return 0;
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		APP_LONGOPTS,
		{ "describe", required_argument, NULL, APP_OPT_DESCRIBE },
		{ "explain", no_argument, NULL, OPT_EXPLAIN },
		{ "list", no_argument, NULL, OPT_LIST },
		{ NULL, 0, NULL, 0 }
	};
	struct app_opts o = { 0 };
	struct app a;
	struct err e = { 0 };
	struct buf out;
	const char *describe = NULL;
	struct app_refresh_stats st;
	struct list l;
	int ch, rc, explain = 0, refresh = 0, list = 0;

	tool_init(PROG);
	o.warn = tool_log;
	o.progress = isatty(STDERR_FILENO) ? tool_log : NULL;
	while ((ch = getopt_long(argc, argv, "c:vhV", longopts, NULL)) != -1) {
		if ((rc = app_option(&o, ch, optarg, &e)) == -1)
			return tool_fail(&e);
		if (rc == 1)
			continue;
		switch (ch) {
		case APP_OPT_DESCRIBE:
			describe = optarg;
			break;
		case OPT_EXPLAIN:
			explain = 1;
			break;
		case APP_OPT_REFRESH:
			refresh = 1;
			break;
		case OPT_LIST:
			list = 1;
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
	if (refresh || list ? refresh + list + explain > 1 ||
	    describe != NULL || argc != 0 :
	    (describe == NULL) == (argc == 0) || argc > 1)
		usage(ERR_USAGE);

	buf_init(&out, 0);
	if ((rc = app_init(&a, &o, describe == NULL, getenv, &e)) == 0) {
		l.a = &a;
		l.out = &out;
		if (refresh)
			rc = app_refresh(&a, &st, &e);
		else if (list)
			rc = app_each(&a, list_one, &l, &e);
		else if (describe)
			rc = app_describe(&a, describe, &out, &e);
		else
			rc = classify(&a, argv[0], explain, &out, &e);
	}
	app_cleanup(&a);
	rc = rc == 0 ? tool_emit(&out) : tool_fail(&e);
	buf_free(&out);
	return rc;
}
