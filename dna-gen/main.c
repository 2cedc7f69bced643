/* dna-gen: chef-solo attributes (dna.json), roles and autoscaling dna. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "app.h"
#include "chef.h"
#include "jsonio.h"
#include "outfile.h"
#include "tool.h"

#define PROG "dna-gen"
#define SYNOPSIS "dna-gen [options] [-o FILE] [INSTANCE-ID|CERTNAME] | " \
	"--role GROUP | --roles-dir DIR | --group GROUP | --describe [ID] | " \
	"--refresh"

enum { OPT_ROLE = 300, OPT_ROLES_DIR, OPT_GROUP };

static void __attribute__((noreturn))
usage(int code)
{
	if (code != 0) {
		fprintf(stderr, "%s: usage: %s; see %s --help\n", PROG,
		    SYNOPSIS, PROG);
		exit(code);
	}
	fputs("usage: dna-gen [options] [-o FILE] [INSTANCE-ID|CERTNAME]\n"
	    "       dna-gen [options] [-o FILE] --role GROUP | --group GROUP\n"
	    "       dna-gen [options] --roles-dir DIR\n"
	    "       dna-gen [options] [-o FILE] --describe [INSTANCE-ID|CERTNAME]\n"
	    "       dna-gen [options] --refresh\n"
	    "Prints the chef-solo attributes (run_list, default attributes, ec2\n"
	    "facts, tags, roles, environment, peers) of the EC2 instance; with\n"
	    "no id, of the instance it runs on (asked from the metadata service).\n"
	    "options:\n"
	    APP_HELP
	    "  -o, --output FILE   write FILE atomically (mode 0644) instead of "
	    "stdout\n"
	    "  --role GROUP        the Chef role JSON of a config group\n"
	    "  --roles-dir DIR     write DIR/role-GROUP.json for every group\n"
	    "  --group GROUP       the autoscaling group's dna: run_list "
	    "role[role-GROUP]\n"
	    "  --describe          print the instance as read from EC2, as JSON\n"
	    "exit: 0 done, 1 no such node, 2 usage or config, "
	    "3 EC2 or IMDS unavailable, 4 other\n", stdout);
	exit(0);
}

/* The node's dna: find (or ask IMDS who we are), classify, peers. */
static int
dna(struct app *a, const char *certname, struct buf *out, struct err *e)
{
	struct classify_result r = { 0 };
	struct instance *in = NULL;
	struct value *peers = NULL, *doc = NULL;
	char *self = NULL;
	int rc = 0;

	if (certname == NULL && (rc = app_self(a, &self, e)) == 0)
		certname = self;
	if (rc == 0)
		rc = app_find(a, certname, &in, e);
	if (rc == ERR_NOTFOUND && a->cfg->unknown != NULL)
		rc = classify_unknown(a->cfg, &r, e);
	else if (rc == 0)
		rc = classify_instance(a->cfg, in, &r, e);
	if (rc == 0 && a->cfg->peers_dna)
		rc = app_peers(a, r.environment->s, in, &peers, e);
	if (rc == 0)
		rc = chef_dna(a->cfg, &r, in, peers, &doc, e);
	if (rc == 0)
		rc = jsonio_emit(doc, out, e);
	value_free(doc);
	value_free(peers);
	classify_result_cleanup(&r);
	instance_free(in);
	free(self);
	return rc;
}

/* DIR/role-GROUP.json for every group, each replaced atomically. */
static int
roles_dir(struct app *a, const char *dir, struct err *e)
{
	struct value *doc;
	struct buf b;
	char *path;
	size_t i;
	int rc = 0;

	for (i = 0; rc == 0 && i < a->cfg->ngroups; i++) {
		buf_init(&b, 0);
		path = NULL;
		if ((rc = chef_role(a->cfg, a->cfg->groups[i].name, &doc,
		    e)) == 0 && (rc = jsonio_emit(doc, &b, e)) == 0) {
			if (asprintf(&path, "%s/" CHEF_ROLE_PREFIX "%s.json",
			    dir, a->cfg->groups[i].name) == -1) {
				path = NULL;
				rc = err_set(e, ERR_FAIL, "out of memory");
			} else
				rc = outfile_write(path, b.data, b.len,
				    TOOL_FILE_MODE, e);
		}
		free(path);
		value_free(doc);
		buf_free(&b);
	}
	return rc;
}

/* --role GROUP or --group GROUP. */
static int
group_doc(struct app *a, const char *group, int role, struct buf *out,
    struct err *e)
{
	struct value *doc = NULL;
	int rc;

	rc = role ? chef_role(a->cfg, group, &doc, e) :
	    chef_group_dna(a->cfg, group, &doc, e);
	if (rc == 0)
		rc = jsonio_emit(doc, out, e);
	value_free(doc);
	return rc;
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		APP_LONGOPTS,
		{ "describe", no_argument, NULL, APP_OPT_DESCRIBE },
		{ "output", required_argument, NULL, 'o' },
		{ "role", required_argument, NULL, OPT_ROLE },
		{ "roles-dir", required_argument, NULL, OPT_ROLES_DIR },
		{ "group", required_argument, NULL, OPT_GROUP },
		{ NULL, 0, NULL, 0 }
	};
	struct app_opts o = { 0 };
	struct app a;
	struct err e = { 0 };
	struct buf out;
	const char *output = NULL, *role = NULL, *rdir = NULL, *group = NULL;
	char *id = NULL;
	struct app_refresh_stats st;
	int ch, rc, describe = 0, refresh = 0, modes;

	tool_init(PROG);
	o.warn = tool_log;
	o.progress = isatty(STDERR_FILENO) ? tool_log : NULL;
	while ((ch = getopt_long(argc, argv, "c:o:vhV", longopts, NULL)) !=
	    -1) {
		if ((rc = app_option(&o, ch, optarg, &e)) == -1)
			return tool_fail(&e);
		if (rc == 1)
			continue;
		switch (ch) {
		case APP_OPT_DESCRIBE:
			describe = 1;
			break;
		case 'o':
			output = optarg;
			break;
		case OPT_ROLE:
			role = optarg;
			break;
		case OPT_ROLES_DIR:
			rdir = optarg;
			break;
		case OPT_GROUP:
			group = optarg;
			break;
		case APP_OPT_REFRESH:
			refresh = 1;
			break;
		case 'v':
			o.log = tool_log;
			break;
		case 'h':
			usage(0);
		case 'V':
			printf("%s %s\n", PROG, VERSION);
			return 0;
		default:
			usage(ERR_USAGE);
		}
	}
	argc -= optind;
	argv += optind;
	modes = describe + (role != NULL) + (rdir != NULL) + (group != NULL) +
	    refresh;
	if (argc > 1 || modes > 1 || (argc == 1 && modes > describe) ||
	    ((rdir != NULL || refresh) && output != NULL))
		usage(ERR_USAGE);

	buf_init(&out, 0);
	if ((rc = app_init(&a, &o, !describe, getenv, &e)) == 0) {
		if (refresh)
			rc = app_refresh(&a, &st, &e);
		else if (describe && argc == 1)
			rc = app_describe(&a, argv[0], &out, &e);
		else if (describe) {
			if ((rc = app_self(&a, &id, &e)) == 0)
				rc = app_describe(&a, id, &out, &e);
		} else if (role != NULL || group != NULL)
			rc = group_doc(&a, role ? role : group, role != NULL,
			    &out, &e);
		else if (rdir != NULL)
			rc = roles_dir(&a, rdir, &e);
		else
			rc = dna(&a, argc == 1 ? argv[0] : NULL, &out, &e);
	}
	free(id);
	app_cleanup(&a);
	if (rc != 0)
		rc = tool_fail(&e);
	else if (rdir == NULL && !refresh)
		rc = tool_emit_to(&out, output);
	buf_free(&out);
	return rc;
}
