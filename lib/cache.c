/* cache: SQLite in, instances out; a new file per refresh, renamed in. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sqlite3.h>

#include "buf.h"
#include "cache.h"
#include "util.h"

#define NOMEM(e) err_set((e), ERR_FAIL, "out of memory")

/* The column of instances (from 0) holding the first instance_fields
 * entry; the tags blob follows the last one, then the sgs blob. The
 * writer's INSERT numbers its parameters the same way (?1 is src, n is
 * NULL). */
#define FIELD0 2

/* instances has the key n, its source src, one column per
 * instance_fields entry, in that order, then the instance's tags and its
 * security groups, each as one blob of pairs (pairs_put): an instance is
 * read whole from one row. tags holds the tags again for the index
 * tags_kv, which serves the lookups by Name and by environment. A
 * source is one (profile, region) read by the refresh, with its own
 * refresh time (older than the others when its instances were kept from
 * the previous cache). */
static const char schema_tail[] =
    "CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT) WITHOUT ROWID;"
    "CREATE TABLE sources(src INTEGER PRIMARY KEY, profile TEXT,"
    " region TEXT, refreshed INTEGER, instances INTEGER,"
    " UNIQUE(profile, region));"
    "CREATE TABLE tags(n INTEGER, key TEXT, value TEXT);"
    "CREATE TABLE tag_keys(key TEXT PRIMARY KEY, n INTEGER) WITHOUT ROWID;";

/* Built after the rows: one index per lookup strategy, one for peers,
 * and the per-key tag counts peers use to skip the untagged scan. */
static const char indexes[] =
    "CREATE INDEX instances_id ON instances(instance_id);"
    "CREATE INDEX instances_dns ON instances(private_dns);"
    "CREATE INDEX instances_ip ON instances(private_ip);"
    "CREATE INDEX instances_region ON instances(region, state);"
    "CREATE INDEX tags_kv ON tags(key, value, n);"
    /* how many instances carry each key */
    "INSERT INTO tag_keys SELECT key, count(DISTINCT n) FROM tags "
    "GROUP BY key;";

struct cache {
	sqlite3 *db;
	char *path;
	time_t refreshed;
	char *regions, *scope;
};

static int
db_err(struct err *e, enum err_code code, const char *path, sqlite3 *db)
{
	return err_set(e, code, "cache %s: %s", path,
	    db ? sqlite3_errmsg(db) : "cannot open");
}

/* Before the first connection: one thread uses SQLite, so no mutexes,
 * and no allocation statistics (each malloc took a lock for them). Once
 * SQLite is initialised sqlite3_config() refuses, harmlessly. */
static void
sqlite_setup(void)
{
	static int done;

	if (done)
		return;
	done = 1;
	(void)sqlite3_config(SQLITE_CONFIG_SINGLETHREAD);
	(void)sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
}

/* "file:PATH?immutable=1" with the URI's special characters escaped. */
static char *
uri_of(const char *path)
{
	struct buf b;
	const char *p;

	buf_init(&b, 0);
	(void)buf_puts(&b, "file:");
	for (p = path; *p; p++) {
		if (*p == '%' || *p == '?' || *p == '#')
			(void)buf_printf(&b, "%%%02X", (unsigned char)*p);
		else
			(void)buf_putc(&b, *p);
	}
	if (buf_puts(&b, "?immutable=1") == -1) {
		buf_free(&b);
		return NULL;
	}
	return buf_steal(&b);
}

int
cache_open(const char *path, struct cache **out, struct err *e)
{
	struct cache *c;
	sqlite3_stmt *st = NULL;
	struct stat sb;
	char *uri, *schema = NULL;
	int rc;

	*out = NULL;
	if (stat(path, &sb) == -1) {
		if (errno == ENOENT)
			return err_set(e, ERR_NOTFOUND, "no cache at %s", path);
		return err_set(e, ERR_UNAVAILABLE, "cache %s: %s", path,
		    strerror(errno));
	}
	if ((c = calloc(1, sizeof(*c))) == NULL ||
	    (c->path = strdup(path)) == NULL || (uri = uri_of(path)) == NULL) {
		cache_close(c);
		return NOMEM(e);
	}
	sqlite_setup();
	rc = sqlite3_open_v2(uri, &c->db, SQLITE_OPEN_READONLY |
	    SQLITE_OPEN_URI | SQLITE_OPEN_NOMUTEX, NULL);
	free(uri);
	/* the file never changes once renamed in: map it rather than copy
	 * its pages into a cache */
	if (rc == SQLITE_OK)
		(void)sqlite3_exec(c->db, "PRAGMA mmap_size = 1073741824; "
		    "PRAGMA temp_store = MEMORY", NULL, NULL, NULL);
	if (rc != SQLITE_OK ||
	    sqlite3_prepare_v2(c->db, "SELECT key, value FROM meta", -1, &st,
	    NULL) != SQLITE_OK) {
		rc = db_err(e, ERR_UNAVAILABLE, path, c->db);
		goto fail;
	}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *k = (const char *)sqlite3_column_text(st, 0);
		const char *v = (const char *)sqlite3_column_text(st, 1);
		char **slot = NULL;

		if (k == NULL || v == NULL)
			continue;
		if (strcmp(k, "schema") == 0)
			slot = &schema;
		else if (strcmp(k, "regions") == 0)
			slot = &c->regions;
		else if (strcmp(k, "scope") == 0)
			slot = &c->scope;
		else if (strcmp(k, "refreshed") == 0)
			c->refreshed = (time_t)strtoll(v, NULL, 10);
		if (slot != NULL && *slot == NULL && (*slot = strdup(v)) == NULL) {
			rc = NOMEM(e);
			goto fail;
		}
	}
	if (rc != SQLITE_DONE) {
		rc = db_err(e, ERR_UNAVAILABLE, path, c->db);
		goto fail;
	}
	if (schema == NULL || atoi(schema) != CACHE_SCHEMA) {
		rc = err_set(e, ERR_UNAVAILABLE, "cache %s has schema version "
		    "%s; this program reads version %d", path,
		    schema ? schema : "(none)", CACHE_SCHEMA);
		goto fail;
	}
	if (c->regions == NULL || c->scope == NULL || c->refreshed <= 0) {
		rc = err_set(e, ERR_UNAVAILABLE, "cache %s: incomplete metadata "
		    "(regions, scope or refresh time missing)", path);
		goto fail;
	}
	sqlite3_finalize(st);
	free(schema);
	*out = c;
	return 0;
fail:
	sqlite3_finalize(st);
	free(schema);
	cache_close(c);
	return rc;
}

void
cache_close(struct cache *c)
{
	if (c == NULL)
		return;
	sqlite3_close(c->db);
	free(c->path);
	free(c->regions);
	free(c->scope);
	free(c);
}

time_t
cache_refreshed(const struct cache *c)
{
	return c->refreshed;
}

const char *
cache_regions(const struct cache *c)
{
	return c->regions;
}

const char *
cache_scope(const struct cache *c)
{
	return c->scope;
}

/* One query's parameters: texts for ?1.., then an optional integer. */
struct binds {
	const char *const *texts;
	int ntexts;
	int flag;		/* bound after the texts when >= 0 */
};

static sqlite3_stmt *
prepare(sqlite3 *db, const char *sql, const struct binds *b)
{
	sqlite3_stmt *st = NULL;
	int i, n;

	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		return NULL;
	n = sqlite3_bind_parameter_count(st);
	for (i = 0; i < b->ntexts && i < n; i++)
		sqlite3_bind_text(st, i + 1, b->texts[i], -1, SQLITE_STATIC);
	if (b->flag >= 0 && b->ntexts < n)
		sqlite3_bind_int(st, b->ntexts + 1, b->flag);
	return st;
}

/* The instance fields peers read, as bits by instance_fields index. */
static unsigned long
peer_fields(void)
{
	static const char *const names[] = { "instance_id", "state",
	    "private_dns", "private_ip", "availability_zone", "region" };
	static unsigned long mask;
	size_t i, k;

	if (mask == 0)
		for (i = 0; i < instance_nfields; i++)
			for (k = 0; k < sizeof(names) / sizeof(names[0]); k++)
				if (strcmp(instance_fields[i].name, names[k]) == 0)
					mask |= 1UL << i;
	return mask;
}

static const char *
col(sqlite3_stmt *st, int i)
{
	const char *s = (const char *)sqlite3_column_text(st, i);

	return s ? s : "";
}

/* A list of pairs (tags, security groups) in one column: "a\0b\0" for
 * each pair, in EC2's order. */
static int
pairs_put(struct buf *b, const char *a, const char *v)
{
	if (buf_append(b, a, strlen(a) + 1) == -1 ||
	    buf_append(b, v, strlen(v) + 1) == -1)
		return -1;
	return 0;
}

/* What the tags of the instances read are kept for. */
struct tag_filter {
	const char *const *keys;	/* NULL: every tag */
	size_t n;
};

static int
wanted(const struct tag_filter *f, const char *key)
{
	size_t i;

	if (f == NULL || f->keys == NULL)
		return 1;
	for (i = 0; i < f->n; i++)
		if (strcmp(f->keys[i], key) == 0)
			return 1;
	return 0;
}

/* Adds the pairs of column i to in with add, those of f only. 0, -1 (out
 * of memory) or 1 (not pairs: a damaged file). */
static int
pairs_get(sqlite3_stmt *st, int i, struct instance *in,
    int (*add)(struct instance *, const char *, const char *),
    const struct tag_filter *f)
{
	const char *p = sqlite3_column_blob(st, i), *a, *v, *end;
	int len = sqlite3_column_bytes(st, i);

	if (len == 0)
		return 0;
	if (p == NULL)
		return -1;
	for (end = p + len; p < end; p++) {
		a = p;
		if ((p = memchr(p, '\0', (size_t)(end - p))) == NULL ||
		    ++p == end)
			return 1;
		v = p;
		if ((p = memchr(p, '\0', (size_t)(end - p))) == NULL)
			return 1;
		if (wanted(f, a) && add(in, a, v) == -1)
			return -1;
	}
	return 0;
}

/* Calls fn for every instance where selects (a condition on i.*, the
 * instances table), in the order of order (on i.*). light reads only
 * what peers use (no security groups when light > 1), and the tags of f
 * only. One statement: fn may read the cache again (peers while listing
 * the fleet). */
static int
each(struct cache *c, const char *where, const char *order, int light,
    const struct tag_filter *f, const struct binds *b,
    awsxml_instance_fn fn, void *ctx, struct err *e)
{
	sqlite3_stmt *st;
	struct instance *in = NULL;
	struct buf sql;
	size_t i;
	int rs, rc = 0, ntags = FIELD0 + (int)instance_nfields;
	unsigned long fields;

	buf_init(&sql, 0);
	/* i.*: n, src, then from FIELD0 the fields, tags and sgs */
	if (buf_printf(&sql, "SELECT i.* FROM instances i WHERE %s ORDER BY %s",
	    where, order) == -1)
		return NOMEM(e);
	st = prepare(c->db, sql.data, b);
	buf_free(&sql);
	if (st == NULL)
		return db_err(e, ERR_UNAVAILABLE, c->path, c->db);
	fields = light ? peer_fields() : ~0UL;
	while ((rs = sqlite3_step(st)) == SQLITE_ROW) {
		if ((in = instance_new()) == NULL)
			goto nomem;
		for (i = 0; i < instance_nfields; i++)
			if ((fields & (1UL << i)) != 0 &&
			    instance_set(&INSTANCE_FIELD(in, &instance_fields[i]),
			    col(st, FIELD0 + (int)i)) == -1)
				goto nomem;
		if ((rc = pairs_get(st, ntags, in, instance_add_tag, f)) == 0 &&
		    light < 2)
			rc = pairs_get(st, ntags + 1, in, instance_add_group,
			    NULL);
		if (rc == -1)
			goto nomem;
		if (rc == 1) {
			rc = err_set(e, ERR_UNAVAILABLE, "cache %s: damaged "
			    "tags or security groups of %s", c->path, in->id);
			goto done;
		}
		rc = fn(in, ctx, e);
		instance_free(in);
		in = NULL;
		if (rc != 0)
			goto done;
	}
	if (rs != SQLITE_DONE)
		rc = db_err(e, ERR_UNAVAILABLE, c->path, c->db);
	goto done;
nomem:
	rc = NOMEM(e);
done:
	instance_free(in);
	sqlite3_finalize(st);
	return rc;
}

int
cache_match(void *src, enum lookup_strategy s, const char *const *vals,
    size_t nv, awsxml_instance_fn fn, void *ctx, struct err *e)
{
	const char *v[2] = { vals[0], nv > 1 ? vals[1] : NULL };
	struct binds b = { v, 2, -1 };
	const char *where = NULL;

	switch (s) {
	case LOOKUP_INSTANCE_ID:
		where = "i.instance_id IN (?1, ?2)";
		break;
	case LOOKUP_PRIVATE_DNS:
		where = "i.private_dns IN (?1, ?2)";
		break;
	case LOOKUP_PRIVATE_IP:
		where = "i.private_ip IN (?1, ?2)";
		break;
	case LOOKUP_TAG_NAME:
		where = "i.n IN (SELECT n FROM tags WHERE key = 'Name' AND "
		    "value IN (?1, ?2))";
		break;
	}
	return each(src, where, "i.n", 0, NULL, &b, fn, ctx, e);
}

/* Whether some instance lacks tag key (1) or none does (0), from the
 * per-key counts the refresh stored; -1 with e filled on error. */
static int
some_untagged(struct cache *c, const char *key, struct err *e)
{
	sqlite3_stmt *st;
	long long n = -1;

	if (sqlite3_prepare_v2(c->db, "SELECT (SELECT CAST(value AS INTEGER) "
	    "FROM meta WHERE key = 'instances') - coalesce((SELECT n FROM "
	    "tag_keys WHERE key = ?1), 0)", -1, &st, NULL) != SQLITE_OK) {
		db_err(e, ERR_UNAVAILABLE, c->path, c->db);
		return -1;
	}
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	if (n < 0) {
		db_err(e, ERR_UNAVAILABLE, c->path, c->db);
		return -1;
	}
	return n > 0;
}

int
cache_each_in_env(struct cache *c, const char *region, const char *env_tag,
    const char *env, int untagged, const char *const *tag_keys,
    size_t ntag_keys, awsxml_instance_fn fn, void *ctx, struct err *e)
{
	const char *v[3] = { env_tag, env, region };
	struct binds b = { v, 3, untagged != 0 };
	struct tag_filter f = { ntag_keys > 0 ? tag_keys : NULL, ntag_keys };
	int rc;

	/* the untagged half scans every instance: skip it when all have the
	 * tag */
	if (untagged && (rc = some_untagged(c, env_tag, e)) <= 0) {
		if (rc < 0)
			return e->code;
		b.flag = 0;
	}
	/* ?4 is the flag; "+": seek each selected instance by n, not through
	 * instances_region and back to the row */
	return each(c, "i.n IN (SELECT n FROM tags WHERE key = ?1 AND "
	    "value = ?2 UNION SELECT n FROM instances WHERE ?4 AND n NOT IN "
	    "(SELECT n FROM tags WHERE key = ?1)) AND +i.region = ?3 AND "
	    "+i.state = 'running'", "i.n", b.flag ? 1 : 2, &f, &b, fn, ctx, e);
}

int
cache_each(struct cache *c, const char *profile, const char *region,
    awsxml_instance_fn fn, void *ctx, struct err *e)
{
	const char *v[2] = { profile, region };
	struct binds b = { v, 2, -1 };

	if (profile != NULL)
		return each(c, "i.src = (SELECT src FROM sources WHERE "
		    "profile = ?1 AND region = ?2)", "i.n", 0, NULL, &b, fn, ctx,
		    e);
	return each(c, "i.state <> 'terminated'", "i.instance_id, i.n", 0,
	    NULL, &b, fn, ctx, e);
}

time_t
cache_source_refreshed(struct cache *c, const char *profile,
    const char *region)
{
	sqlite3_stmt *st;
	time_t t = 0;

	if (sqlite3_prepare_v2(c->db, "SELECT refreshed FROM sources WHERE "
	    "profile = ?1 AND region = ?2", -1, &st, NULL) != SQLITE_OK)
		return 0;
	sqlite3_bind_text(st, 1, profile, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, region, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW)
		t = (time_t)sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return t;
}

/* ---- writing */

struct cache_writer {
	char *path, *tmp;
	int fd, lock;
	sqlite3 *db;
	sqlite3_stmt *ins, *tag;
	struct buf tags, sgs;	/* the pairs of the instance being added */
	long count;		/* instances in the file */
	sqlite3_int64 src;	/* the source being added (0: none yet) */
	sqlite3_int64 first;	/* its first instance number */
	long src_count;		/* its instances */
};

/* Removes PATH.new-* (left by refreshes that were killed); the caller
 * holds the lock, so none of them is being written. */
static void
remove_leftovers(const char *path)
{
	char dir[PATH_MAX], prefix[NAME_MAX + 8], full[PATH_MAX];
	const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
	struct dirent *de;
	DIR *d;

	util_dir_of(path, dir, sizeof(dir));
	(void)snprintf(prefix, sizeof(prefix), "%s.new-", base);
	if ((d = opendir(dir)) == NULL)
		return;
	while ((de = readdir(d)) != NULL)
		if (strncmp(de->d_name, prefix, strlen(prefix)) == 0 &&
		    (size_t)snprintf(full, sizeof(full), "%s/%s", dir,
		    de->d_name) < sizeof(full))
			(void)unlink(full);
	closedir(d);
}

void
cache_writer_abort(struct cache_writer *w)
{
	if (w == NULL)
		return;
	sqlite3_finalize(w->ins);
	sqlite3_finalize(w->tag);
	sqlite3_close(w->db);
	buf_free(&w->tags);
	buf_free(&w->sgs);
	if (w->fd != -1)
		(void)close(w->fd);
	if (w->tmp != NULL)
		(void)unlink(w->tmp);
	if (w->lock != -1)
		(void)close(w->lock);	/* releases the flock */
	free(w->path);
	free(w->tmp);
	free(w);
}

static int
exec(struct cache_writer *w, const char *sql, struct err *e)
{
	if (sqlite3_exec(w->db, sql, NULL, NULL, NULL) != SQLITE_OK)
		return db_err(e, ERR_FAIL, w->tmp, w->db);
	return 0;
}

int
cache_writer_begin(const char *path, mode_t mode, struct cache_writer **out,
    struct err *e)
{
	struct cache_writer *w;
	struct buf sql, lock;
	size_t i;
	int rc;

	*out = NULL;
	if ((w = calloc(1, sizeof(*w))) == NULL)
		return NOMEM(e);
	w->fd = w->lock = -1;
	buf_init(&w->tags, 0);
	buf_init(&w->sgs, 0);
	buf_init(&lock, 0);
	if ((w->path = strdup(path)) == NULL ||
	    buf_printf(&lock, "%s.lock", path) == -1 ||
	    asprintf(&w->tmp, "%s.new-XXXXXX", path) == -1) {
		w->tmp = NULL;
		buf_free(&lock);
		cache_writer_abort(w);
		return NOMEM(e);
	}
	w->lock = open(lock.data, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (w->lock == -1 || flock(w->lock, LOCK_EX | LOCK_NB) == -1) {
		rc = errno == EWOULDBLOCK ?
		    err_set(e, ERR_FAIL, "another refresh of %s is running "
		    "(%s is locked); not starting a second one", path,
		    lock.data) :
		    err_set(e, ERR_FAIL, "cannot lock %s: %s", lock.data,
		    strerror(errno));
		buf_free(&lock);
		free(w->tmp);
		w->tmp = NULL;	/* nothing of ours to remove */
		cache_writer_abort(w);
		return rc;
	}
	buf_free(&lock);
	remove_leftovers(path);
	if ((w->fd = mkstemp(w->tmp)) == -1) {
		rc = err_set(e, ERR_FAIL, "cannot create %s: %s", w->tmp,
		    strerror(errno));
		free(w->tmp);
		w->tmp = NULL;
		cache_writer_abort(w);
		return rc;
	}
	if (fchmod(w->fd, mode) == -1) {
		rc = err_set(e, ERR_FAIL, "cannot set the mode of %s: %s",
		    w->tmp, strerror(errno));
		cache_writer_abort(w);
		return rc;
	}
	sqlite_setup();
	if (sqlite3_open_v2(w->tmp, &w->db, SQLITE_OPEN_READWRITE |
	    SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
		rc = db_err(e, ERR_FAIL, w->tmp, w->db);
		cache_writer_abort(w);
		return rc;
	}
	/* the file only counts once renamed: no journal, no syncs until then */
	buf_init(&sql, 0);
	(void)buf_puts(&sql, "PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF;"
	    " PRAGMA locking_mode=EXCLUSIVE;"
	    " CREATE TABLE instances(n INTEGER PRIMARY KEY, src INTEGER");
	for (i = 0; i < instance_nfields; i++)
		(void)buf_printf(&sql, ", %s TEXT", instance_fields[i].name);
	(void)buf_printf(&sql, ", tags BLOB, sgs BLOB); %s BEGIN;",
	    schema_tail);
	rc = sql.data == NULL ? NOMEM(e) : exec(w, sql.data, e);
	if (rc != 0) {
		buf_free(&sql);
		cache_writer_abort(w);
		return rc;
	}
	buf_reset(&sql);
	(void)buf_puts(&sql, "INSERT INTO instances VALUES (NULL, ?");
	for (i = 0; i < instance_nfields; i++)
		(void)buf_puts(&sql, ", ?");
	(void)buf_puts(&sql, ", ?, ?)");
	if (sql.data == NULL ||
	    sqlite3_prepare_v2(w->db, sql.data, -1, &w->ins, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(w->db, "INSERT INTO tags VALUES (?, ?, ?)", -1,
	    &w->tag, NULL) != SQLITE_OK) {
		rc = db_err(e, ERR_FAIL, w->tmp, w->db);
		buf_free(&sql);
		cache_writer_abort(w);
		return rc;
	}
	buf_free(&sql);
	*out = w;
	return 0;
}

static int
step(struct cache_writer *w, sqlite3_stmt *st, struct err *e)
{
	int rc = sqlite3_step(st);

	sqlite3_reset(st);
	return rc == SQLITE_DONE ? 0 : db_err(e, ERR_FAIL, w->tmp, w->db);
}

int
cache_writer_add(const struct instance *in, void *ctx, struct err *e)
{
	struct cache_writer *w = ctx;
	sqlite3_int64 n;
	size_t i;
	int rc;

	if (w->src == 0)
		return err_set(e, ERR_FAIL, "cache_writer_add before "
		    "cache_writer_source");
	buf_reset(&w->tags);
	buf_reset(&w->sgs);
	for (i = 0; i < in->ntags; i++)
		if (pairs_put(&w->tags, in->tags[i].key, in->tags[i].value) == -1)
			return NOMEM(e);
	for (i = 0; i < in->ngroups; i++)
		if (pairs_put(&w->sgs, in->groups[i].id, in->groups[i].name) ==
		    -1)
			return NOMEM(e);
	sqlite3_bind_int64(w->ins, 1, w->src);
	for (i = 0; i < instance_nfields; i++)
		sqlite3_bind_text(w->ins, FIELD0 + (int)i,
		    INSTANCE_FIELD(in, &instance_fields[i]), -1, SQLITE_STATIC);
	i = FIELD0 + instance_nfields;
	sqlite3_bind_blob(w->ins, (int)i, w->tags.data, (int)w->tags.len,
	    SQLITE_STATIC);
	sqlite3_bind_blob(w->ins, (int)i + 1, w->sgs.data, (int)w->sgs.len,
	    SQLITE_STATIC);
	if ((rc = step(w, w->ins, e)) != 0)
		return rc;
	n = sqlite3_last_insert_rowid(w->db);
	if (w->src_count == 0)
		w->first = n;
	for (i = 0; i < in->ntags; i++) {
		sqlite3_bind_int64(w->tag, 1, n);
		sqlite3_bind_text(w->tag, 2, in->tags[i].key, -1, SQLITE_STATIC);
		sqlite3_bind_text(w->tag, 3, in->tags[i].value, -1,
		    SQLITE_STATIC);
		if ((rc = step(w, w->tag, e)) != 0)
			return rc;
	}
	w->count++;
	w->src_count++;
	return 0;
}

/* Runs sql with the integers a and b as ?1 and ?2. */
static int
exec2(struct cache_writer *w, const char *sql, sqlite3_int64 a,
    sqlite3_int64 b, struct err *e)
{
	sqlite3_stmt *st;
	int rc;

	if (sqlite3_prepare_v2(w->db, sql, -1, &st, NULL) != SQLITE_OK)
		return db_err(e, ERR_FAIL, w->tmp, w->db);
	sqlite3_bind_int64(st, 1, a);
	sqlite3_bind_int64(st, 2, b);
	rc = sqlite3_step(st) == SQLITE_DONE ? 0 :
	    db_err(e, ERR_FAIL, w->tmp, w->db);
	sqlite3_finalize(st);
	return rc;
}

int
cache_writer_source(struct cache_writer *w, const char *profile,
    const char *region, struct err *e)
{
	sqlite3_stmt *st;
	int rc;

	if (sqlite3_prepare_v2(w->db, "INSERT INTO sources(profile, region) "
	    "VALUES (?1, ?2)", -1, &st, NULL) != SQLITE_OK)
		return db_err(e, ERR_FAIL, w->tmp, w->db);
	sqlite3_bind_text(st, 1, profile, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, region, -1, SQLITE_STATIC);
	rc = sqlite3_step(st) == SQLITE_DONE ? 0 :
	    db_err(e, ERR_FAIL, w->tmp, w->db);
	sqlite3_finalize(st);
	if (rc == 0) {
		w->src = sqlite3_last_insert_rowid(w->db);
		w->src_count = 0;
	}
	return rc;
}

int
cache_writer_source_end(struct cache_writer *w, time_t refreshed,
    struct err *e)
{
	int rc = exec2(w, "UPDATE sources SET refreshed = ?2, instances = "
	    "(SELECT count(*) FROM instances WHERE src = ?1) WHERE src = ?1",
	    w->src, (sqlite3_int64)refreshed, e);

	w->src = 0;
	return rc;
}

int
cache_writer_source_drop(struct cache_writer *w, struct err *e)
{
	int rc = 0;

	/* no journal, so no rollback: the source's rows are the last ones */
	if (w->src_count > 0 &&
	    ((rc = exec2(w, "DELETE FROM tags WHERE n >= ?1", w->first, 0,
	    e)) != 0 ||
	    (rc = exec2(w, "DELETE FROM instances WHERE n >= ?1", w->first, 0,
	    e)) != 0))
		return rc;
	w->count -= w->src_count;
	w->src_count = 0;
	if (w->src != 0 && (rc = exec2(w, "DELETE FROM sources WHERE src = ?1",
	    w->src, 0, e)) != 0)
		return rc;
	w->src = 0;
	return 0;
}

/* The oldest source's refresh time: the cache is as old as that. */
static time_t
oldest_source(struct cache_writer *w)
{
	sqlite3_stmt *st;
	time_t t = 0;

	if (sqlite3_prepare_v2(w->db, "SELECT min(refreshed) FROM sources", -1,
	    &st, NULL) != SQLITE_OK)
		return 0;
	if (sqlite3_step(st) == SQLITE_ROW)
		t = (time_t)sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return t;
}

int
cache_writer_commit(struct cache_writer *w, const char *regions,
    const char *scope, struct err *e)
{
	time_t refreshed = oldest_source(w);
	char when[32], schema[16], count[32];
	const char *keys[] = { "schema", "refreshed", "regions", "scope",
	    "instances" };
	const char *vals[5];
	sqlite3_stmt *meta = NULL;
	size_t i;
	int rc;

	snprintf(when, sizeof(when), "%lld", (long long)refreshed);
	snprintf(schema, sizeof(schema), "%d", CACHE_SCHEMA);
	snprintf(count, sizeof(count), "%ld", w->count);
	vals[0] = schema;
	vals[1] = when;
	vals[2] = regions;
	vals[3] = scope;
	vals[4] = count;
	if (refreshed <= 0) {
		rc = err_set(e, ERR_FAIL, "%s: no source was refreshed", w->tmp);
		goto fail;
	}
	if ((rc = exec(w, indexes, e)) != 0)
		goto fail;
	if (sqlite3_prepare_v2(w->db, "INSERT INTO meta VALUES (?, ?)", -1,
	    &meta, NULL) != SQLITE_OK) {
		rc = db_err(e, ERR_FAIL, w->tmp, w->db);
		goto fail;
	}
	for (i = 0; i < 5; i++) {
		sqlite3_bind_text(meta, 1, keys[i], -1, SQLITE_STATIC);
		sqlite3_bind_text(meta, 2, vals[i], -1, SQLITE_STATIC);
		if ((rc = step(w, meta, e)) != 0)
			goto fail;
	}
	sqlite3_finalize(meta);
	meta = NULL;
	if ((rc = exec(w, "COMMIT", e)) != 0)
		goto fail;
	sqlite3_finalize(w->ins);
	sqlite3_finalize(w->tag);
	w->ins = w->tag = NULL;
	if (sqlite3_close(w->db) != SQLITE_OK) {
		rc = db_err(e, ERR_FAIL, w->tmp, w->db);
		goto fail;
	}
	w->db = NULL;
	if (fsync(w->fd) == -1 || close(w->fd) == -1) {
		w->fd = -1;
		rc = err_set(e, ERR_FAIL, "cannot write %s: %s", w->tmp,
		    strerror(errno));
		goto fail;
	}
	w->fd = -1;
	if (rename(w->tmp, w->path) == -1) {
		rc = err_set(e, ERR_FAIL, "cannot rename %s over %s: %s",
		    w->tmp, w->path, strerror(errno));
		goto fail;
	}
	free(w->tmp);
	w->tmp = NULL;
	util_sync_dir_of(w->path);	/* makes the rename durable */
	cache_writer_abort(w);	/* nothing left to remove: releases the lock */
	return 0;
fail:
	sqlite3_finalize(meta);
	cache_writer_abort(w);
	return rc;
}
