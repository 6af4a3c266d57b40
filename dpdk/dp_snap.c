/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * dp_snap.c - when the peer table is saved and loaded (the file itself is
 * core/snap.c): loaded once before serving; saved every
 * tracker.snapshot.interval seconds and on SIGUSR1 by a thread of its own,
 * so the lcores keep answering (each swarm is copied under its own lock),
 * and once more at exit, after the lcores and HTTP threads have stopped.
 */
#include "dp_app.h"

#include <errno.h>
#include <inttypes.h>
#include <libgen.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <rte_log.h>

#include "core/ptab.h"
#include "cluster/cl.h"
#include "core/snap.h"

static uint64_t wall_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec;
}

/* snap_save's progress: quiescent after each swarm; offline once the
 * table is read, for the file's fsync and rename (seconds on a slow disk,
 * which no grace period should wait for). */
static void progress(void *arg, bool done)
{
	if (done)
		ptab_reader_offline(arg);
	else
		ptab_quiescent(arg);
}

/* One save; logs the outcome and counts it. From the snapshot thread (an
 * RCU reader: quiescent after each swarm) or at exit, when nothing else
 * touches the table (reader false). */
static void save(struct dp_app *app, const char *why, bool reader)
{
	char path[CFG_PATH_MAX];
	struct timespec t0, t1;
	struct snap_info info;
	char err[512];

	struct snap_stream stream = {.name = ""};
	const char *name = NULL;

	pthread_mutex_lock(&app->reload.lock); /* a reload may change it */
	memcpy(path, app->cfg->tracker.snapshot_path, sizeof(path));
	pthread_mutex_unlock(&app->reload.lock);
	if (path[0] == '\0')
		return; /* turned off by a reload */
	clock_gettime(CLOCK_MONOTONIC, &t0);
	/* With a cluster, no batch is applied while the table is copied, so
	 * the file holds exactly the stream up to the sequence it records. */
	stream.seq = cl_apply_pause(app->cl, &name);
	if (name != NULL)
		snprintf(stream.name, sizeof(stream.name), "%s", name);
	enum snap_result r =
	    snap_save(app->ptab, path, tr_key(&app->tr)->k, &stream, wall_now(),
		      reader ? progress : NULL, app->ptab, &info, err, sizeof(err));
	cl_apply_resume(app->cl);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	uint64_t ms = dp_ms_between(&t0, &t1);
	if (r != SNAP_OK) {
		__atomic_fetch_add(&app->snap.failures, 1, __ATOMIC_RELAXED);
		DP_LOG(ERR, "snapshot (%s) failed: %s\n", why, err);
		return;
	}
	__atomic_fetch_add(&app->snap.saves, 1, __ATOMIC_RELAXED);
	__atomic_store_n(&app->snap.last_unix, info.created, __ATOMIC_RELAXED);
	__atomic_store_n(&app->snap.last_ms, ms, __ATOMIC_RELAXED);
	__atomic_store_n(&app->snap.last_bytes, info.bytes, __ATOMIC_RELAXED);
	DP_LOG(INFO,
	       "snapshot (%s) saved to %s: %" PRIu64 " swarms, %" PRIu64 " IPv4 and %" PRIu64
	       " IPv6 peers, %" PRIu64 " bytes in %" PRIu64 " ms\n",
	       why, path, info.swarms, info.peers4, info.peers6, info.bytes, ms);
}

static bool enabled(struct dp_app *app)
{
	pthread_mutex_lock(&app->reload.lock);
	bool on = app->cfg->tracker.snapshot_path[0] != '\0';
	pthread_mutex_unlock(&app->reload.lock);
	return on && !app->cfg->dpdk.replay;
}

/* tracker.snapshot.interval, which a reload may change. */
static uint32_t interval_of(struct dp_app *app)
{
	pthread_mutex_lock(&app->reload.lock);
	uint32_t s = app->cfg->tracker.snapshot_interval;
	pthread_mutex_unlock(&app->reload.lock);
	return s;
}

uint32_t dp_snap_interval(struct dp_app *app)
{
	return enabled(app) ? interval_of(app) : 0;
}

int dp_snap_load(struct dp_app *app)
{
	const char *path = app->cfg->tracker.snapshot_path;
	struct snap_info info;
	uint8_t key[TR_CONNID_KEY_LEN];
	char err[512], aside[4200];

	if (!enabled(app))
		return 0;
	/* A directory we cannot write is found now, not at the first save. */
	snprintf(aside, sizeof(aside), "%s", path);
	const char *dir = dirname(aside);
	if (access(dir, W_OK | X_OK) != 0) {
		DP_LOG(ERR, "tracker.snapshot.path %s: its directory %s: %s\n", path, dir,
		       strerror(errno));
		return -1;
	}
	enum snap_result r =
	    snap_load(app->ptab, path, wall_now(), key, &app->snap.stream, &info, err, sizeof(err));
	switch (r) {
	case SNAP_OK:
		if (app->snap.stream.name[0] != '\0')
			DP_LOG(INFO, "snapshot %s holds stream %s up to sequence %" PRIu64 "\n",
			       path, app->snap.stream.name, app->snap.stream.seq);
		/* A configured secret wins; otherwise clients' IDs survive. */
		if (!app->cfg->udp.has_secret) {
			memcpy(app->tr.keys[0].k, key, sizeof(app->tr.keys[0].k));
			app->snap.key_loaded = true;
		}
		DP_LOG(INFO,
		       "snapshot %s loaded (taken %" PRIu64 " s ago): %" PRIu64 " swarms, %" PRIu64
		       " of %" PRIu64 " peers still fresh%s\n",
		       path, wall_now() - RTE_MIN(info.created, wall_now()), info.swarms,
		       info.loaded_peers, info.peers4 + info.peers6,
		       info.refused ? " (some refused by the table's limits)" : "");
		return 0;
	case SNAP_NONE:
		DP_LOG(INFO, "no snapshot at %s: starting empty\n", path);
		return 0;
	case SNAP_CORRUPT:
		if (snap_set_aside(path, aside, sizeof(aside), err + strlen(err),
				   sizeof(err) - strlen(err)) != 0) {
			DP_LOG(ERR, "snapshot refused: %s; could not set it aside\n", err);
			return -1; /* never overwrite it with the next save */
		}
		DP_LOG(ERR, "snapshot refused: %s; moved to %s, starting empty\n", err, aside);
		return 0;
	default:
		DP_LOG(ERR, "snapshot not loaded: %s\n", err);
		return -1;
	}
}

static void *thread_main(void *arg)
{
	struct dp_app *app = arg;
	uint32_t interval = interval_of(app);
	uint64_t next = interval ? wall_now() + interval : UINT64_MAX;

	if (ptab_thread_enter(app->ptab) != 0) {
		DP_LOG(ERR, "snapshot thread: no EAL thread slot left; periodic snapshots off\n");
		return NULL;
	}
	ptab_reader_offline(app->ptab);
	while (!__atomic_load_n(&app->snap.stop, __ATOMIC_RELAXED)) {
		struct timespec ts = {.tv_nsec = 100000000L};
		nanosleep(&ts, NULL);
		bool asked = app->snap.requested;
		uint32_t now_interval = interval_of(app);
		if (now_interval != interval) { /* a reload changed it: from now on */
			interval = now_interval;
			next = interval ? wall_now() + interval : UINT64_MAX;
		}
		if (!asked && wall_now() < next)
			continue;
		app->snap.requested = 0;
		ptab_reader_online(app->ptab);
		save(app, asked ? "SIGUSR1" : "interval", true);
		ptab_reader_offline(app->ptab);
		if (interval)
			next = wall_now() + interval;
	}
	ptab_thread_leave(app->ptab);
	return NULL;
}

int dp_snap_start(struct dp_app *app)
{
	if (!enabled(app))
		return 0;
	app->snap.stop = 0;
	int ret = dp_ctrl_thread(&app->snap.tid, "dpt-snap", thread_main, app);
	if (ret != 0) {
		DP_LOG(ERR, "snapshot thread: %s\n", strerror(ret));
		return -1;
	}
	app->snap.running = true;
	return 0;
}

void dp_snap_stop(struct dp_app *app, bool final)
{
	if (app->snap.running) {
		__atomic_store_n(&app->snap.stop, 1, __ATOMIC_RELAXED);
		pthread_join(app->snap.tid, NULL);
		app->snap.running = false;
	}
	if (final && enabled(app))
		save(app, "exit", false);
}
