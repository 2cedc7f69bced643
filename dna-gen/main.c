/* dna-gen: chef-solo attributes (dna.json), roles and autoscaling dna. */
#include <dirent.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "app.h"
#include "chef.h"
#include "jsonio.h"
#include "outfile.h"
#include "tool.h"

#define PROG "dna-gen"
#define SYNOPSIS "dna-gen [options] [-o FILE] [INSTANCE-ID|CERTNAME] | " \
	"--role GROUP | --roles-dir DIR | --group GROUP | --describe [ID] | " \
	"--all -o DIR | --refresh"

enum { OPT_ROLE = 300, OPT_ROLES_DIR, OPT_GROUP, OPT_ALL };

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
	    "       dna-gen [options] --roles-dir DIR | --all -o DIR | --refresh\n"
	    "       dna-gen [options] [-o FILE] --describe [INSTANCE-ID|CERTNAME]\n"
	    "The chef-solo attributes (dna.json) of an EC2 instance; with no id, "
	    "of the\ninstance it runs on (asked from the metadata service).\n"
	    "options:\n"
	    APP_HELP
	    "  -o, --output FILE   write FILE atomically (mode 0644), not stdout\n"
	    "  --role GROUP        the Chef role JSON of a config group\n"
	    "  --roles-dir DIR     write DIR/role-GROUP.json for every group\n"
	    "  --group GROUP       the autoscaling group's dna: run_list "
	    "role[role-GROUP]\n"
	    "  --all -o DIR        write DIR/INSTANCE-ID.json for every instance\n"
	    "  --describe          print the instance as read from EC2, as JSON\n"
	    "exit: 0 done, 1 no such node, 2 usage/config, "
	    "3 EC2/IMDS unavailable, 4 other\n", stdout);
	exit(0);
}

/* Appends the dna of in (NULL: not in EC2, classified by the config's
 * unknown section) to out. */
static int
dna_of(struct app *a, const struct instance *in, struct buf *out,
    struct err *e)
{
	struct classify_result r = { 0 };
	struct value *peers = NULL, *doc = NULL;
	int rc;

	rc = in == NULL ? classify_unknown(a->cfg, &r, e) :
	    classify_instance(a->cfg, in, &r, e);
	if (rc == 0 && a->cfg->peers_dna)
		rc = app_peers(a, r.environment->s, in, &peers, e);
	if (rc == 0)
		rc = chef_dna(a->cfg, &r, in, peers, &doc, e);
	if (rc == 0)
		rc = jsonio_emit(doc, out, e);
	value_free(doc);
	value_free(peers);
	classify_result_cleanup(&r);
	return rc;
}

/* The node's dna: find (or ask IMDS who we are), then dna_of. */
static int
dna(struct app *a, const char *certname, struct buf *out, struct err *e)
{
	struct instance *in = NULL;
	char *self = NULL;
	int rc = 0;

	if (certname == NULL && (rc = app_self(a, &self, e)) == 0)
		certname = self;
	if (rc == 0)
		rc = app_find(a, certname, &in, e);
	if (rc == 0 || (rc == ERR_NOTFOUND && a->cfg->unknown != NULL))
		rc = dna_of(a, in, out, e);
	instance_free(in);
	free(self);
	return rc;
}

/* --all -o DIR: the fleet's ids (in order, from app_each), and how many
 * files were written and left out. */
struct all {
	struct app *a;
	const char *dir;
	char **ids;
	size_t n, cap;
	long written, skipped;
};

static int
all_one(const struct instance *in, void *ctx, struct err *e)
{
	struct all *w = ctx;
	struct buf b;
	char *path = NULL, **nv;
	int rc;

	if (w->n == w->cap) {
		w->cap = w->cap ? 2 * w->cap : 256;
		if ((nv = realloc(w->ids, w->cap * sizeof(*nv))) == NULL)
			return err_set(e, ERR_FAIL, "out of memory");
		w->ids = nv;
	}
	if ((w->ids[w->n] = strdup(in->id)) == NULL)
		return err_set(e, ERR_FAIL, "out of memory");
	w->n++;
	buf_init(&b, 0);
	if ((rc = dna_of(w->a, in, &b, e)) == 0) {
		if (asprintf(&path, "%s/%s.json", w->dir, in->id) == -1) {
			path = NULL;
			rc = err_set(e, ERR_FAIL, "out of memory");
		} else
			rc = outfile_write(path, b.data, b.len, TOOL_FILE_MODE,
			    e);
		if (rc == 0)
			w->written++;
	} else if (rc != ERR_UNAVAILABLE && rc != ERR_USAGE) {
		/* this node's old file stays; the others go on */
		tool_log(NULL, e->msg);
		err_clear(e);
		w->skipped++;
		rc = 0;
	}
	free(path);
	buf_free(&b);
	return rc;
}

static int
cmp_str(const void *x, const void *y)
{
	return strcmp(*(char *const *)x, *(char *const *)y);
}

/* A name dna-gen --all writes: i-HEX.json (id out is its length). */
static int
dna_file(const char *name, size_t *idlen)
{
	size_t n = strlen(name), i;

	if (n < 8 || strncmp(name, "i-", 2) != 0 ||
	    strcmp(name + n - 5, ".json") != 0)
		return 0;
	for (i = 2; i < n - 5; i++)
		if (!((name[i] >= '0' && name[i] <= '9') ||
		    (name[i] >= 'a' && name[i] <= 'f')))
			return 0;
	*idlen = n - 5;
	return 1;
}

/* Removes DIR/i-*.json of instances no longer in the fleet. */
static long
sweep(struct all *w)
{
	char id[64], path[4096];
	const char *key = id;
	struct dirent *de;
	long removed = 0;
	size_t len;
	DIR *d;

	if ((d = opendir(w->dir)) == NULL)
		return 0;
	qsort(w->ids, w->n, sizeof(*w->ids), cmp_str);
	while ((de = readdir(d)) != NULL) {
		if (!dna_file(de->d_name, &len) || len >= sizeof(id))
			continue;
		memcpy(id, de->d_name, len);
		id[len] = '\0';
		if (bsearch(&key, w->ids, w->n, sizeof(*w->ids), cmp_str) !=
		    NULL)
			continue;
		if ((size_t)snprintf(path, sizeof(path), "%s/%s", w->dir,
		    de->d_name) < sizeof(path) && unlink(path) == 0)
			removed++;
	}
	closedir(d);
	return removed;
}

static int
all_dir(struct app *a, const char *dir, struct err *e)
{
	struct all w = { 0 };
	char line[512];
	long removed = 0;
	size_t i;
	int rc;

	w.a = a;
	w.dir = dir;
	if ((rc = app_each(a, all_one, &w, e)) == 0) {
		removed = sweep(&w);
		(void)snprintf(line, sizeof(line), "%s: wrote %ld dna files, "
		    "removed %ld of instances gone, left out %ld", dir,
		    w.written, removed, w.skipped);
		tool_log(NULL, line);
	}
	for (i = 0; i < w.n; i++)
		free(w.ids[i]);
	free(w.ids);
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
		{ "all", no_argument, NULL, OPT_ALL },
		{ NULL, 0, NULL, 0 }
	};
	struct app_opts o = { 0 };
	struct app a;
	struct err e = { 0 };
	struct buf out;
	const char *output = NULL, *role = NULL, *rdir = NULL, *group = NULL;
	char *id = NULL;
	struct app_refresh_stats st;
	int ch, rc, describe = 0, refresh = 0, all = 0, modes;

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
		case OPT_ALL:
			all = 1;
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
	    refresh + all;
	if (argc > 1 || modes > 1 || (argc == 1 && modes > describe) ||
	    ((rdir != NULL || refresh) && output != NULL) ||
	    (all && output == NULL))
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
		else if (all)
			rc = all_dir(&a, output, &e);
		else
			rc = dna(&a, argc == 1 ? argv[0] : NULL, &out, &e);
	}
	free(id);
	app_cleanup(&a);
	if (rc != 0)
		rc = tool_fail(&e);
	else if (rdir == NULL && !refresh && !all)
		rc = tool_emit_to(&out, output);
	buf_free(&out);
	return rc;
}
