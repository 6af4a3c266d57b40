/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * dp_acl.c - tracker.access_list in the dptrack process: the list loaded at
 * start, and reloaded on SIGHUP by the control tick.
 *
 * A reload builds the new list beside the old one, publishes it with one
 * atomic store into app->tr.acl (readers load it once per request), and
 * frees the old one once every RCU reader of the peer table (the lcores, the
 * HTTP threads) has reported a quiescent state since: a grace-period token
 * (ptab_grace_start) polled from later ticks, so the control thread never waits on readers
 * (with one lcore it is itself one). The file is read and sorted on a
 * thread of its own ("dpt-acl"; about 0.5 s per million hashes), which the
 * tick polls, so neither control work nor a lone lcore's packet loop waits
 * for it. One load at a time; a request that arrives while one runs, or
 * while an old list awaits its grace period, waits its turn: at most one
 * list retired. The peer table is not touched.
 */
#define _GNU_SOURCE /* pthread_setname_np */
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>

#include <rte_cycles.h>
#include <rte_log.h>

#include "core/acl.h"
#include "core/limits.h"
#include "core/ptab.h"
#include "dp_app.h"

_Static_assert((int)CFG_ACL_OFF == (int)ACL_OFF && (int)CFG_ACL_ALLOW == (int)ACL_ALLOW &&
		   (int)CFG_ACL_DENY == (int)ACL_DENY,
	       "config and core number the access list modes alike");

int dp_acl_load(struct dp_app *app, const struct cfg *cfg, FILE *report, char *err, size_t errlen)
{
	const char *path = cfg->tracker.access_list_path;
	enum acl_mode mode = (enum acl_mode)cfg->tracker.access_list_mode;
	struct acl *a;

	if (mode == ACL_OFF)
		return 0;
	a = acl_load(path, mode, ACL_MAX_ENTRIES, err, errlen);
	if (a == NULL)
		return -1;
	app->tr.acl = a;
	app->acl.hashes = acl_count(a);
	if (report != NULL)
		fprintf(report, "dptrack: access list %s: %zu hashes (%s)\n", path, acl_count(a),
			acl_mode_name(mode));
	return 0;
}

/* The loader thread's job (app->acl.job): in and out, one at a time. The
 * control thread sets it up before pthread_create and reads it after done
 * is seen set. */
static void *load_main(void *arg)
{
	struct dp_acl_state *a = arg;

	a->job.list = acl_load(a->job.path, (enum acl_mode)a->job.mode, ACL_MAX_ENTRIES, a->job.err,
			       sizeof(a->job.err));
	__atomic_store_n(&a->job.done, 1, __ATOMIC_RELEASE);
	return NULL;
}

/* Puts the job's list in force, or logs why not. */
static void publish(struct dp_app *app)
{
	struct dp_acl_state *a = &app->acl;
	struct acl *old = app->tr.acl; /* only this thread writes it */
	uint64_t ms = (rte_rdtsc() - a->job.t0) * 1000 / app->tsc_hz;

	if (a->job.list == NULL) {
		a->failures++;
		DP_LOG(ERR, "access list reload failed: %s; keeping the old list (%zu hashes)\n",
		       a->job.err, old != NULL ? acl_count(old) : 0);
		return;
	}
	__atomic_store_n(&app->tr.acl, a->job.list, __ATOMIC_RELEASE);
	a->retired = old; /* NULL before: no load starts while one is retired */
	a->retired_token = ptab_grace_start(app->ptab);
	a->reloads++;
	__atomic_store_n(&a->hashes, acl_count(a->job.list), __ATOMIC_RELAXED);
	DP_LOG(INFO, "access list reloaded: %zu hashes (%s) in %" PRIu64 " ms\n",
	       acl_count(a->job.list), acl_mode_name((enum acl_mode)a->job.mode), ms);
	a->job.list = NULL;
}

/* Starts reading the file on a thread of its own, so a long list never
 * holds up the control work (or, with one lcore, the packet loop); reads
 * it here if no thread can be made. */
static void start_load(struct dp_app *app)
{
	struct dp_acl_state *a = &app->acl;
	const struct cfg *c = app->cfg;

	if (c->tracker.access_list_mode == CFG_ACL_OFF) {
		DP_LOG(INFO, "SIGHUP: tracker.access_list.mode is off, no list to reload\n");
		return;
	}
	a->job.path = c->tracker.access_list_path;
	a->job.mode = c->tracker.access_list_mode;
	a->job.list = NULL;
	a->job.done = 0;
	a->job.t0 = rte_rdtsc();
	if (pthread_create(&a->job.thread, NULL, load_main, a) != 0) {
		load_main(a);
		publish(app);
		return;
	}
	pthread_setname_np(a->job.thread, "dpt-acl");
	a->job.running = true;
}

void dp_acl_tick(struct dp_app *app)
{
	struct dp_acl_state *a = &app->acl;
	if (a->retired != NULL) {
		if (!ptab_grace_done(app->ptab, a->retired_token))
			return;
		acl_free(a->retired);
		a->retired = NULL;
	}
	if (a->job.running) {
		if (!__atomic_load_n(&a->job.done, __ATOMIC_ACQUIRE))
			return;
		pthread_join(a->job.thread, NULL);
		a->job.running = false;
		publish(app);
		return;
	}
	if (a->requested) {
		a->requested = 0; /* before: a SIGHUP during the load counts */
		start_load(app);
	}
}

void dp_acl_fini(struct dp_app *app)
{
	struct dp_acl_state *a = &app->acl;
	if (a->job.running) {
		pthread_join(a->job.thread, NULL);
		a->job.running = false;
		acl_free(a->job.list);
		a->job.list = NULL;
	}
	acl_free(a->retired);
	a->retired = NULL;
	acl_free(app->tr.acl);
	app->tr.acl = NULL;
}
