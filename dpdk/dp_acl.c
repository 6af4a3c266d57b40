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

volatile sig_atomic_t dp_acl_requested; /* set by SIGHUP, taken by the control tick */
static struct acl *retired;		/* replaced, freed after its grace period */
static uint64_t retired_token;		/* ptab_grace_start() when it was replaced */

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

/* The loader thread's job: in and out, one at a time. The control thread
 * sets it up before pthread_create and reads it after done is seen set. */
static struct {
	pthread_t thread;
	bool running;
	const char *path;
	enum acl_mode mode;
	struct acl *list; /* the result; NULL = failed, see err */
	char err[CFG_PATH_MAX + 256];
	uint64_t t0;
	int done; /* set by the thread, last (release) */
} job;

static void *load_main(void *arg)
{
	(void)arg;
	job.list = acl_load(job.path, job.mode, ACL_MAX_ENTRIES, job.err, sizeof(job.err));
	__atomic_store_n(&job.done, 1, __ATOMIC_RELEASE);
	return NULL;
}

/* Puts the job's list in force, or logs why not. */
static void publish(struct dp_app *app)
{
	struct acl *old = app->tr.acl; /* only this thread writes it */
	uint64_t ms = (rte_rdtsc() - job.t0) * 1000 / app->tsc_hz;

	if (job.list == NULL) {
		app->acl.failures++;
		DP_LOG(ERR, "access list reload failed: %s; keeping the old list (%zu hashes)\n",
		       job.err, old != NULL ? acl_count(old) : 0);
		return;
	}
	__atomic_store_n(&app->tr.acl, job.list, __ATOMIC_RELEASE);
	retired = old; /* NULL before: no load starts while one is retired */
	retired_token = ptab_grace_start(app->ptab);
	app->acl.reloads++;
	__atomic_store_n(&app->acl.hashes, acl_count(job.list), __ATOMIC_RELAXED);
	DP_LOG(INFO, "access list reloaded: %zu hashes (%s) in %" PRIu64 " ms\n",
	       acl_count(job.list), acl_mode_name(job.mode), ms);
	job.list = NULL;
}

/* Starts reading the file on a thread of its own, so a long list never
 * holds up the control work (or, with one lcore, the packet loop); reads
 * it here if no thread can be made. */
static void start_load(struct dp_app *app)
{
	const struct cfg *c = app->cfg;

	if (c->tracker.access_list_mode == CFG_ACL_OFF) {
		DP_LOG(INFO, "SIGHUP: tracker.access_list.mode is off, no list to reload\n");
		return;
	}
	job.path = c->tracker.access_list_path;
	job.mode = (enum acl_mode)c->tracker.access_list_mode;
	job.list = NULL;
	job.done = 0;
	job.t0 = rte_rdtsc();
	if (pthread_create(&job.thread, NULL, load_main, NULL) != 0) {
		load_main(NULL);
		publish(app);
		return;
	}
	pthread_setname_np(job.thread, "dpt-acl");
	job.running = true;
}

void dp_acl_tick(struct dp_app *app)
{
	if (retired != NULL) {
		if (!ptab_grace_done(app->ptab, retired_token))
			return;
		acl_free(retired);
		retired = NULL;
	}
	if (job.running) {
		if (!__atomic_load_n(&job.done, __ATOMIC_ACQUIRE))
			return;
		pthread_join(job.thread, NULL);
		job.running = false;
		publish(app);
		return;
	}
	if (dp_acl_requested) {
		dp_acl_requested = 0; /* before: a SIGHUP during the load counts */
		start_load(app);
	}
}

void dp_acl_fini(struct dp_app *app)
{
	if (job.running) {
		pthread_join(job.thread, NULL);
		job.running = false;
		acl_free(job.list);
		job.list = NULL;
	}
	acl_free(retired);
	retired = NULL;
	acl_free(app->tr.acl);
	app->tr.acl = NULL;
}
