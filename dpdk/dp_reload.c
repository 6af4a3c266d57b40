/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * dp_reload.c - SIGHUP: the whole configuration read again (contract in
 * dp_app.h).
 *
 * A thread of its own ("dpt-reload") reads what a reload needs from disk:
 * the configuration (the same file and search order as at start, the same
 * DPTRACK_* overrides), the access list it names, the HTTP path's static
 * pages; a file with an error makes the whole reload fail, so nothing
 * changes. The control tick polls it and applies the result without
 * waiting for anything: new values go to the threads as relaxed stores
 * (tracker parameters, table limits) or as one pointer each, published with
 * a release store (the access list, the HTTP path's live set), whose old
 * target is freed after an RCU grace period. A changed key that only a
 * restart can apply (ports, EAL arguments, the table's size past what it
 * was made for, ...) is logged and keeps its value.
 */
#include <errno.h>
#include <inttypes.h>
#include <libgen.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_cycles.h>
#include <rte_log.h>

#include "core/acl.h"
#include "core/limits.h"
#include "core/ptab.h"
#include "dp_app.h"
#include "kernel-http/kh_server.h"

/* ---- the loader thread --------------------------------------------------- */

/* The directory of a snapshot path must be writable, as at start. */
static int snapshot_dir_ok(const char *path, char *err, size_t errlen)
{
	char copy[CFG_PATH_MAX];

	if (path[0] == '\0')
		return 0;
	snprintf(copy, sizeof(copy), "%s", path);
	const char *dir = dirname(copy);
	if (access(dir, W_OK | X_OK) != 0) {
		snprintf(err, errlen, "tracker.snapshot.path %s: its directory %s: %s", path, dir,
			 strerror(errno));
		return -1;
	}
	return 0;
}

/* Reads everything the reload needs; sets job.ok, or job.err. */
static void *load_main(void *arg)
{
	struct dp_app *app = arg;
	struct dp_reload_state *r = &app->reload;
	const struct cfg *c = &r->job.cfg;

	r->job.ok = false;
	r->job.acl_failed = false;
	if (cfg_load(&r->job.cfg, r->path, r->envp, r->job.err, sizeof(r->job.err)) != 0)
		goto done;
	r->job.cfg_loaded = true;
	if (snapshot_dir_ok(c->tracker.snapshot_path, r->job.err, sizeof(r->job.err)) != 0)
		goto done;
	if (c->tracker.access_list_mode != CFG_ACL_OFF) {
		r->job.acl = acl_load(c->tracker.access_list_path,
				      (enum acl_mode)c->tracker.access_list_mode, ACL_MAX_ENTRIES,
				      r->job.err, sizeof(r->job.err));
		r->job.acl_failed = r->job.acl == NULL;
		if (r->job.acl == NULL)
			goto done;
	}
	if (app->kh != NULL) {
		struct tr_cidr trusted[CFG_MAX_CIDRS], allow[CFG_MAX_CIDRS];
		struct kh_live_params lp = dp_http_live_params(c, trusted, allow);

		r->job.live = kh_live_new(&lp, r->job.err, sizeof(r->job.err));
		if (r->job.live == NULL)
			goto done;
	}
	r->job.ok = true;
done:
	__atomic_store_n(&r->job.done, 1, __ATOMIC_RELEASE);
	return NULL;
}

/* Frees what the job read and did not hand over. */
static void job_clear(struct dp_reload_state *r)
{
	acl_free(r->job.acl);
	r->job.acl = NULL;
	kh_live_free(r->job.live);
	r->job.live = NULL;
	if (r->job.cfg_loaded)
		cfg_fini(&r->job.cfg);
	r->job.cfg_loaded = false;
}

static void start_load(struct dp_app *app)
{
	struct dp_reload_state *r = &app->reload;

	r->job.done = 0;
	r->job.t0 = rte_rdtsc();
	r->job.err[0] = '\0';
	int ret = dp_ctrl_thread(&r->job.thread, "dpt-reload", load_main, app);
	if (ret != 0) {
		r->failures++;
		DP_LOG(ERR, "reload: no thread (%s); nothing changed\n", strerror(ret));
		return;
	}
	r->job.running = true;
	dp_notify(app, "RELOADING=1");
}

/* ---- what a key change does ------------------------------------------------ */

/* Keys a reload applies while serving; every other needs a restart. Some of
 * these may still need one for a given value (live_ok). */
static const char *const live_keys[] = {
    "log.level",
    "tracker.announce_interval",
    "tracker.announce_jitter",
    "tracker.min_interval",
    "tracker.peer_timeout",
    "tracker.swarm_retention",
    "tracker.snapshot.path",
    "tracker.snapshot.interval",
    "tracker.access_list.mode",
    "tracker.access_list.path",
    "tracker.numwant_default",
    "tracker.numwant_max",
    "tracker.max_swarms",
    "tracker.max_peers_per_swarm",
    "tracker.memory_mb",
    "udp.connection_id_ttl",
    "http.idle_timeout",
    "http.trusted_proxies",
    "http.trust_ip_params",
    "http.static_dir",
    "stats.allow",
};

struct diff {
	struct dp_app *app;
	const struct cfg *now;
	bool limits_ok[3]; /* max_swarms, memory_mb, peer_timeout within ptab_reach */
	unsigned live, restart;
};

static bool is_live(const char *key)
{
	for (size_t i = 0; i < RTE_DIM(live_keys); i++)
		if (strcmp(live_keys[i], key) == 0)
			return true;
	return false;
}

/* Whether key's new value can go in while serving (the table's reach). */
static bool live_ok(const struct diff *d, const char *key)
{
	if (strcmp(key, "tracker.max_swarms") == 0)
		return d->limits_ok[0];
	if (strcmp(key, "tracker.memory_mb") == 0)
		return d->limits_ok[1];
	if (strcmp(key, "tracker.peer_timeout") == 0)
		return d->limits_ok[2];
	return is_live(key);
}

static void on_change(void *arg, const char *key, const char *was, const char *now)
{
	struct diff *d = arg;

	if (live_ok(d, key)) {
		d->live++;
		DP_LOG(INFO, "reload: %s: %s -> %s\n", key, was, now);
		return;
	}
	d->restart++;
	DP_LOG(WARNING, "reload: %s: %s -> %s needs a restart; %s stays in force\n", key, was, now,
	       was);
}

/* Which table limits of n fit the table as it was made. */
static void limits_check(const struct dp_app *app, const struct cfg *n, struct diff *d)
{
	struct ptab_limits most;

	ptab_reach(app->ptab, &most);
	d->limits_ok[0] = n->tracker.max_swarms <= most.max_swarms;
	d->limits_ok[1] = ((uint64_t)n->tracker.memory_mb << 20) >= most.memory_bytes;
	d->limits_ok[2] = n->tracker.peer_timeout <= most.peer_timeout;
}

/* Copies the live keys of n into the configuration in force, keeping the
 * ones whose new value needs a restart, and hands them to the threads. */
static void apply_values(struct dp_app *app, const struct cfg *n, const struct diff *d)
{
	struct cfg *c = app->cfg;
	struct tr_params *p = &app->tr.p;

	(void)d;
	memcpy(c->source, n->source, sizeof(c->source)); /* the search order may find another */
	c->log.level = n->log.level;
	rte_log_set_level_pattern("dptrack*", dp_log_level(c->log.level));
	c->tracker.announce_interval = n->tracker.announce_interval;
	c->tracker.announce_jitter = n->tracker.announce_jitter;
	c->tracker.min_interval = n->tracker.min_interval;
	c->tracker.swarm_retention = n->tracker.swarm_retention;
	c->tracker.numwant_default = n->tracker.numwant_default;
	c->tracker.numwant_max = n->tracker.numwant_max;
	c->tracker.max_peers_per_swarm = n->tracker.max_peers_per_swarm;
	if (d->limits_ok[0])
		c->tracker.max_swarms = n->tracker.max_swarms;
	if (d->limits_ok[1])
		c->tracker.memory_mb = n->tracker.memory_mb;
	if (d->limits_ok[2])
		c->tracker.peer_timeout = n->tracker.peer_timeout;
	c->udp.connection_id_ttl = n->udp.connection_id_ttl;
	c->http.idle_timeout = n->http.idle_timeout;
	c->http.trust_ip_params = n->http.trust_ip_params;
	memcpy(c->http.trusted_proxies, n->http.trusted_proxies, sizeof(c->http.trusted_proxies));
	c->http.n_trusted_proxies = n->http.n_trusted_proxies;
	memcpy(c->http.static_dir, n->http.static_dir, sizeof(c->http.static_dir));
	memcpy(c->stats.allow, n->stats.allow, sizeof(c->stats.allow));
	c->stats.n_allow = n->stats.n_allow;
	c->tracker.access_list_mode = n->tracker.access_list_mode;
	memcpy(c->tracker.access_list_path, n->tracker.access_list_path,
	       sizeof(c->tracker.access_list_path));
	pthread_mutex_lock(&app->reload.lock); /* the snapshot thread reads these */
	memcpy(c->tracker.snapshot_path, n->tracker.snapshot_path,
	       sizeof(c->tracker.snapshot_path));
	c->tracker.snapshot_interval = n->tracker.snapshot_interval;
	pthread_mutex_unlock(&app->reload.lock);

	/* Each read alone by the threads (TR_P): no order among them. */
	__atomic_store_n(&p->announce_interval, c->tracker.announce_interval, __ATOMIC_RELAXED);
	__atomic_store_n(&p->announce_jitter, c->tracker.announce_jitter, __ATOMIC_RELAXED);
	__atomic_store_n(&p->min_interval, c->tracker.min_interval, __ATOMIC_RELAXED);
	__atomic_store_n(&p->numwant_default, c->tracker.numwant_default, __ATOMIC_RELAXED);
	__atomic_store_n(&p->numwant_max, c->tracker.numwant_max, __ATOMIC_RELAXED);
	__atomic_store_n(&p->connid_ttl, c->udp.connection_id_ttl, __ATOMIC_RELAXED);
	__atomic_store_n(&p->http_trust_ip_params, c->http.trust_ip_params, __ATOMIC_RELAXED);
	__atomic_store_n(&p->peer_timeout, c->tracker.peer_timeout, __ATOMIC_RELAXED);
	ptab_set_limits(app->ptab, &(struct ptab_limits){
				       .max_swarms = c->tracker.max_swarms,
				       .max_peers_per_swarm = c->tracker.max_peers_per_swarm,
				       .memory_bytes = (uint64_t)c->tracker.memory_mb << 20,
				       .peer_timeout = c->tracker.peer_timeout,
				       .swarm_retention = c->tracker.swarm_retention,
				   });
}

/* Applies a finished read: logs and counts it either way. */
static void apply(struct dp_app *app)
{
	struct dp_reload_state *r = &app->reload;
	uint64_t ms = (rte_rdtsc() - r->job.t0) * 1000 / app->tsc_hz;
	struct diff d = {.app = app, .now = &r->job.cfg};

	if (!r->job.ok) {
		r->failures++;
		if (r->job.acl_failed) {
			const struct acl *cur = app->tr.acl; /* only this thread writes it */

			app->acl.failures++;
			DP_LOG(ERR,
			       "access list reload failed: %s; keeping the old list (%zu hashes)\n",
			       r->job.err, cur != NULL ? acl_count(cur) : 0);
		}
		DP_LOG(ERR, "reload refused: %s; nothing changed\n", r->job.err);
		return;
	}
	limits_check(app, &r->job.cfg, &d);
	if (cfg_diff(app->cfg, &r->job.cfg, on_change, &d) < 0) {
		r->failures++;
		DP_LOG(ERR, "reload refused: out of memory comparing the configurations\n");
		return;
	}
	apply_values(app, &r->job.cfg, &d);
	/* The list is read again on every reload, as SIGHUP always did. */
	if (r->job.acl != NULL)
		DP_LOG(INFO, "access list reloaded: %zu hashes (%s)\n", acl_count(r->job.acl),
		       acl_mode_name(acl_mode_of(r->job.acl)));
	dp_acl_replace(app, r->job.acl);
	r->job.acl = NULL;
	if (r->job.live != NULL) {
		r->retired_live = kh_live_swap(app->kh, r->job.live);
		r->retired_token = ptab_grace_start(app->ptab);
		r->job.live = NULL;
	}
	if (app->cfg->tracker.snapshot_path[0] != '\0' && !app->snap.running)
		dp_snap_start(app); /* snapshots turned on */
	r->reloads++;
	r->restart_keys += d.restart;
	DP_LOG(INFO,
	       "reload of %s done in %" PRIu64 " ms: %u keys changed, %u of them need a restart; "
	       "access list %zu hashes\n",
	       app->cfg->source, ms, d.live + d.restart, d.restart,
	       (size_t)__atomic_load_n(&app->acl.hashes, __ATOMIC_RELAXED));
}

void dp_reload_tick(struct dp_app *app)
{
	struct dp_reload_state *r = &app->reload;

	dp_acl_tick(app);
	if (r->retired_live != NULL && ptab_grace_done(app->ptab, r->retired_token)) {
		kh_live_free(r->retired_live);
		r->retired_live = NULL;
	}
	if (r->job.running) {
		if (!__atomic_load_n(&r->job.done, __ATOMIC_ACQUIRE))
			return;
		pthread_join(r->job.thread, NULL);
		r->job.running = false;
		apply(app);
		job_clear(r);
		dp_notify(app, "READY=1");
		return;
	}
	/* One at a time: a reload waits until what the last one replaced is
	 * freed (a grace period: milliseconds). */
	if (r->requested && !dp_acl_busy(app) && r->retired_live == NULL) {
		r->requested = 0; /* before: a SIGHUP during the load counts */
		start_load(app);
	}
}

void dp_reload_fini(struct dp_app *app)
{
	struct dp_reload_state *r = &app->reload;

	if (r->job.running) {
		pthread_join(r->job.thread, NULL);
		r->job.running = false;
	}
	job_clear(r);
	kh_live_free(r->retired_live); /* every reader has stopped */
	r->retired_live = NULL;
}
