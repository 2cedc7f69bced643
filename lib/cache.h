/* cache: the fleet cache, an SQLite file of EC2 facts (never rendered
 * output), replaced whole by each refresh. The only user of SQLite. */
#ifndef CACHE_H
#define CACHE_H

#include <stddef.h>
#include <sys/types.h>
#include <time.h>

#include "awsxml.h"
#include "err.h"
#include "instance.h"
#include "lookup.h"

#define CACHE_SCHEMA 3

/* ---- reading */

struct cache;

/* Opens path read-only (the file is never changed in place, so no
 * locking is needed). ERR_NOTFOUND when there is no file; ERR_UNAVAILABLE
 * with e saying why when it cannot be used (not SQLite, corrupt, another
 * schema version). *out is freed with cache_close. */
int cache_open(const char *path, struct cache **out, struct err *e);
void cache_close(struct cache *c);

/* When the cache was refreshed (Unix time: that of its oldest source),
 * the regions it holds (','-joined) and the scope (aws.profiles and
 * aws.filters) it was built with. */
time_t cache_refreshed(const struct cache *c);
const char *cache_regions(const struct cache *c);
const char *cache_scope(const struct cache *c);

/* lookup_source_fn over the cache (src is the struct cache). */
int cache_match(void *src, enum lookup_strategy s, const char *const *vals,
    size_t nv, awsxml_instance_fn fn, void *ctx, struct err *e);

/* Calls fn for every running instance of region whose tag env_tag is
 * env, and with untagged set, every one without that tag. With
 * tag_keys, the instances carry only those tags. Read for peers, they also carry only instance_id, state,
 * private_dns, private_ip, availability_zone and region, and security
 * groups only when untagged ones are wanted (and exist). */
int cache_each_in_env(struct cache *c, const char *region,
    const char *env_tag, const char *env, int untagged,
    const char *const *tag_keys, size_t ntag_keys, awsxml_instance_fn fn,
    void *ctx, struct err *e);

/* Calls fn for every instance of source (profile, region), in the
 * refresh's order; with profile NULL, for every instance that is not
 * terminated, of every source, in instance-id order. */
int cache_each(struct cache *c, const char *profile, const char *region,
    awsxml_instance_fn fn, void *ctx, struct err *e);

/* When source (profile, region) was refreshed; 0 when the cache does
 * not hold it. */
time_t cache_source_refreshed(struct cache *c, const char *profile,
    const char *region);

/* ---- writing */

struct cache_writer;

/* Takes PATH.lock (ERR_FAIL naming it when another refresh holds it),
 * removes what killed refreshes left (PATH.new-*), and starts a new
 * database PATH.new-XXXXXX with the given mode, in one transaction. */
int cache_writer_begin(const char *path, mode_t mode,
    struct cache_writer **out, struct err *e);

/* Instances are added per source (profile "" for the default
 * credentials): cache_writer_source starts one; cache_writer_source_end
 * records its refresh time (the previous cache's one for instances kept
 * from it); cache_writer_source_drop removes what was added of it since
 * it started (a read that failed half way). */
int cache_writer_source(struct cache_writer *w, const char *profile,
    const char *region, struct err *e);
int cache_writer_source_end(struct cache_writer *w, time_t refreshed,
    struct err *e);
int cache_writer_source_drop(struct cache_writer *w, struct err *e);

/* Adds one instance to the current source (an awsxml_instance_fn: ctx
 * is the writer). */
int cache_writer_add(const struct instance *in, void *ctx, struct err *e);

/* Writes the metadata (refreshed: the oldest source's time) and the
 * indexes, commits, syncs the file and renames it over PATH, then syncs
 * the directory. The writer is freed (and the lock released) whatever
 * the result; on failure PATH is untouched and the new file removed. */
int cache_writer_commit(struct cache_writer *w, const char *regions,
    const char *scope, struct err *e);

/* Drops the new file and releases the lock; w may be NULL. */
void cache_writer_abort(struct cache_writer *w);

#endif
