/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * dp_notify.c - systemd's service notifications (sd_notify, libsystemd):
 * READY=1 once the tracker answers, STATUS= lines, RELOADING=1 and
 * STOPPING=1, and the watchdog.
 *
 * The watchdog is pinged from the control tick, and only while every
 * worker lcore and every HTTP thread has made progress since the last ping:
 * a packet loop stuck in a loop, or a thread stopped, stops the pings, and
 * systemd (WatchdogSec=) kills and restarts dptrack, which comes back from
 * its snapshot. An lcore's progress is its loop counter, which an idle loop
 * that polls moves too; an HTTP thread's is its epoll loop's, which wakes at
 * least every 500 ms. Without NOTIFY_SOCKET every call here is a no-op;
 * without WATCHDOG_USEC no ping is sent.
 */
#include "dp_app.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_cycles.h>
#include <systemd/sd-daemon.h>

#include "core/ptab.h"
#include "core/stats.h"
#include "kernel-http/kh_server.h"

/* STATUS= lines this often. */
#define DP_STATUS_EVERY_S 5

/* An HTTP thread wakes at least this often (kh_server.c's epoll timeout):
 * a ping period below twice it could see an idle thread as stuck. */
#define DP_HTTP_WAKE_MS 500

void dp_notify_init(struct dp_app *app)
{
	struct dp_notify_state *n = &app->notify;
	uint64_t usec = 0;

	n->on = getenv("NOTIFY_SOCKET") != NULL;
	if (sd_watchdog_enabled(0, &usec) > 0 && usec > 0) {
		n->ping_tsc = app->tsc_hz / 1000000 * (usec / 2);
		if (usec / 2 < (uint64_t)2 * DP_HTTP_WAKE_MS * 1000)
			DP_LOG(WARNING,
			       "watchdog every %" PRIu64 " ms: below %u ms an idle HTTP thread "
			       "may look stuck; set WatchdogSec= to 2 s or more\n",
			       usec / 1000, 4 * DP_HTTP_WAKE_MS);
		DP_LOG(INFO,
		       "systemd watchdog: pinged every %" PRIu64 " ms while every thread "
		       "makes progress\n",
		       usec / 2000);
	}
}

/* Whether every worker and HTTP thread moved since the last call (each
 * loop counter differs from the one seen then). The first one that did not
 * is named in *who ("lcore 3", "HTTP thread 0"). */
static bool all_moved(struct dp_app *app, char *who, size_t len)
{
	struct dp_notify_state *n = &app->notify;
	bool moved = true;

	for (unsigned i = 0; i < app->n_workers; i++) {
		uint64_t loops = __atomic_load_n(&app->workers[i].loops, __ATOMIC_RELAXED);

		if (loops == n->seen[i] && moved) {
			snprintf(who, len, "lcore %u", app->workers[i].lcore_id);
			moved = false;
		}
		n->seen[i] = loops;
	}
	for (unsigned i = 0; app->kh != NULL && i < kh_threads(app->kh); i++) {
		uint64_t loops = kh_thread_loops(app->kh, i);
		unsigned k = app->n_workers + i;

		if (k >= RTE_DIM(n->seen))
			break;
		if (loops == n->seen[k] && moved) {
			snprintf(who, len, "HTTP thread %u", i);
			moved = false;
		}
		n->seen[k] = loops;
	}
	return moved;
}

/* READY=1 once every worker has run its loop: the ports are up and the
 * snapshot loaded before that (dp_app_init), so the tracker answers. */
static void ready_check(struct dp_app *app, uint64_t tsc)
{
	for (unsigned i = 0; i < app->n_workers; i++)
		if (__atomic_load_n(&app->workers[i].loops, __ATOMIC_RELAXED) == 0)
			return;
	app->notify.ready = true;
	sd_notify(0, "READY=1");
	DP_LOG(INFO, "serving: READY=1 sent\n");
	/* The watchdog's first look is one period on, against the counters
	 * of now: an HTTP thread still in its first wait has not moved yet. */
	char who[32];
	(void)all_moved(app, who, sizeof(who));
	app->notify.ping_last = tsc;
}

/* Tracker requests answered so far, both protocols, every thread. */
static uint64_t requests(const struct dp_app *app)
{
	struct stats_ctr t = {0};
	uint64_t v = 0;

	for (unsigned i = 0; i < app->n_workers; i++)
		stats_add(&t, &app->workers[i].tr_stats);
	kh_tracker_stats(app->kh, &t);
	for (unsigned p = 0; p < STATS_PROTO_N; p++)
		for (unsigned a = 0; a < STATS_ACTION_N; a++)
			v += t.req[p][a];
	return v;
}

static void status_line(struct dp_app *app, uint64_t tsc)
{
	struct dp_notify_state *n = &app->notify;
	struct ptab_stats st;
	uint64_t req = requests(app);
	double secs = n->status_tsc ? (double)(tsc - n->status_tsc) / (double)app->tsc_hz : 0;

	ptab_stats(app->ptab, &st);
	sd_notifyf(0, "STATUS=%" PRIu64 " swarms, %" PRIu64 " peers, %.0f requests/s", st.swarms,
		   st.peers4 + st.peers6, secs > 0 ? (double)(req - n->status_req) / secs : 0.0);
	n->status_req = req;
	n->status_tsc = tsc;
}

void dp_notify_tick(struct dp_app *app, uint64_t tsc)
{
	struct dp_notify_state *n = &app->notify;

	if (!n->on)
		return;
	if (!n->ready) {
		ready_check(app, tsc);
		return;
	}
	if (tsc - n->status_tsc >= app->tsc_hz * DP_STATUS_EVERY_S)
		status_line(app, tsc);
	if (n->ping_tsc != 0 && tsc - n->ping_last >= n->ping_tsc) {
		char who[32] = "";

		n->ping_last = tsc;
		if (all_moved(app, who, sizeof(who))) {
			sd_notify(0, "WATCHDOG=1");
			n->pings++;
			if (n->stuck)
				DP_LOG(WARNING,
				       "watchdog: every thread makes progress again "
				       "after %" PRIu64 " withheld ping(s)\n",
				       n->missed - n->missed_at);
			n->stuck = false;
		} else {
			if (!n->stuck) { /* once per episode */
				DP_LOG(ERR, "watchdog: %s made no progress: no ping\n", who);
				n->missed_at = n->missed;
			}
			n->missed++;
			n->stuck = true;
		}
	}
}

void dp_notify(struct dp_app *app, const char *state)
{
	/* Before the first READY=1 only STOPPING=1 means anything: a reload's
	 * RELOADING=1 and READY=1 then would announce readiness too early. */
	if (app->notify.on && (app->notify.ready || strcmp(state, "STOPPING=1") == 0))
		sd_notify(0, state);
}
