/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * dp_app.c - the one way to start and stop dptrack (contracts in dp_app.h):
 * the clock, the workers, the tracker, the ports, the snapshot, telemetry
 * and the HTTP threads, in the order main.c and the tests both need.
 */
#define _GNU_SOURCE /* pthread_getaffinity_np, CPU_ISSET */
#include "dp_app.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_log.h>
#include <sodium.h>

#include "cluster/cl.h"
#include "kernel-http/kh_server.h"

/* Named, so --log-level=dptrack:debug reaches it. */
RTE_LOG_REGISTER(dp_logtype, dptrack, INFO);

int dp_eal_init(const char *argv0, const struct cfg *cfg, int n_extra, char **extra)
{
	char *args[1 + CFG_MAX_EAL_ARGS + DP_MAX_EXTRA_EAL_ARGS + 1];
	int n = 0;

	if (n_extra > DP_MAX_EXTRA_EAL_ARGS) {
		fprintf(stderr, "dptrack: more than %d EAL arguments after --\n",
			DP_MAX_EXTRA_EAL_ARGS);
		return -1;
	}
	args[n++] = (char *)argv0;
	for (unsigned i = 0; i < cfg->dpdk.n_eal_args; i++)
		args[n++] = cfg->dpdk.eal_args[i];
	for (int i = 0; i < n_extra; i++)
		args[n++] = extra[i];
	args[n] = NULL;
	return rte_eal_init(n, args);
}

uint32_t dp_log_level(enum cfg_log_level l)
{
	static const uint32_t map[] = {
	    [CFG_LOG_ERROR] = RTE_LOG_ERR,
	    [CFG_LOG_WARN] = RTE_LOG_WARNING,
	    [CFG_LOG_INFO] = RTE_LOG_INFO,
	    [CFG_LOG_DEBUG] = RTE_LOG_DEBUG,
	};

	return map[l];
}

/* The TSC clock starts on a wall-clock second, so the lcores' now matches
 * the HTTP threads' (CLOCK_REALTIME) to well under a second. */
static void clock_init(struct dp_app *app)
{
	struct timespec wall;

	app->tsc_hz = rte_get_tsc_hz();
	clock_gettime(CLOCK_REALTIME, &wall);
	app->started_tsc = rte_rdtsc();
	app->start_unix = (uint64_t)wall.tv_sec;
	app->start_tsc = app->started_tsc - (uint64_t)wall.tv_nsec * app->tsc_hz / 1000000000u;
	app->idle_tsc = app->tsc_hz / 1000 * app->cfg->dpdk.exit_after_idle_ms;
}

/* One worker per EAL lcore; the main lcore is a worker only when alone. */
static void workers_init(struct dp_app *app)
{
	uint64_t seed = app->cfg->dpdk.rng_seed;
	unsigned lcore;

	if (seed == 0)
		randombytes_buf(&seed, sizeof(seed));
	app->n_workers = 0;
	RTE_LCORE_FOREACH (lcore) {
		if (rte_lcore_count() > 1 && lcore == rte_get_main_lcore())
			continue;
		struct dp_worker *w = &app->workers[app->n_workers];

		w->app = app;
		w->lcore_id = lcore;
		w->queue = (uint16_t)app->n_workers;
		w->control = rte_lcore_count() == 1;
		w->ctx.tr = &app->tr;
		w->ctx.stats = &w->tr_stats;
		tr_rng_seed(&w->ctx.rng, seed + lcore);
		app->n_workers++;
	}
}

static struct tr_cidr cidr_of(const struct cfg_cidr *c)
{
	struct tr_cidr t = {.family = c->family, .prefix = c->prefix};

	memcpy(t.addr, c->addr, sizeof(t.addr));
	return t;
}

struct kh_live_params dp_http_live_params(const struct cfg *cfg, struct tr_cidr *trusted,
					  struct tr_cidr *allow)
{
	for (unsigned i = 0; i < cfg->http.n_trusted_proxies; i++)
		trusted[i] = cidr_of(&cfg->http.trusted_proxies[i]);
	for (unsigned i = 0; i < cfg->stats.n_allow; i++)
		allow[i] = cidr_of(&cfg->stats.allow[i]);
	return (struct kh_live_params){
	    .trusted_proxies = trusted,
	    .n_trusted_proxies = cfg->http.n_trusted_proxies,
	    .stats_allow = allow,
	    .n_stats_allow = cfg->stats.n_allow,
	    .idle_timeout = cfg->http.idle_timeout,
	    .static_dir = cfg->http.static_dir,
	};
}

int dp_ctrl_thread(pthread_t *tid, const char *name, void *(*fn)(void *), void *arg)
{
	static bool told;
	int ret = rte_ctrl_thread_create(tid, name, NULL, fn, arg);
	cpu_set_t set;

	if (ret != 0)
		return -ret;
	if (!told && pthread_getaffinity_np(*tid, sizeof(set), &set) == 0) {
		char cpus[256];
		size_t n = 0;

		cpus[0] = '\0';
		for (int c = 0; c < CPU_SETSIZE && n + 8 < sizeof(cpus); c++)
			if (CPU_ISSET(c, &set))
				n += (size_t)snprintf(cpus + n, sizeof(cpus) - n, "%s%d",
						      n ? "," : "", c);
		DP_LOG(INFO, "control threads (HTTP, snapshots, reloads) on CPUs %s\n", cpus);
		told = true;
	}
	return 0;
}

/* Starts the HTTP threads on http.*, sharing the table and the tracker. */
static int http_start(struct dp_app *app, char *err, size_t errlen)
{
	const struct cfg *cfg = app->cfg;
	struct tr_cidr trusted[CFG_MAX_CIDRS], allow[CFG_MAX_CIDRS]; /* kh_start copies them */
	struct kh_params kp = {
	    .n_listen = RTE_MIN(cfg->http.n_listen, (unsigned)KH_MAX_LISTEN),
	    .threads = cfg->http.threads,
	    .max_connections = cfg->http.max_connections,
	    .max_request_bytes = cfg->http.max_request_bytes,
	    .live = dp_http_live_params(cfg, trusted, allow),
	    .tr = &app->tr,
	    .rng_seed = cfg->dpdk.rng_seed != 0 ? cfg->dpdk.rng_seed + 1000u : rte_rdtsc(),
	    .metrics = {dp_metrics_each, app},
	    .create_thread = dp_ctrl_thread,
	};

	for (unsigned i = 0; i < kp.n_listen; i++) {
		kp.listen[i].family = cfg->http.listen[i].family;
		memcpy(kp.listen[i].addr, cfg->http.listen[i].addr, 16);
		kp.listen[i].port = cfg->http.listen[i].port;
	}
	for (unsigned i = 0; i < kp.threads && app->cl != NULL; i++)
		kp.sinks[i] = cl_sink(app->cl, app->n_workers + i);
	app->kh = kh_start(&kp, err, errlen);
	if (app->kh == NULL)
		return -1;
	for (unsigned i = 0; i < kp.n_listen; i++) {
		char ip[INET6_ADDRSTRLEN];

		inet_ntop(kp.listen[i].family == 4 ? AF_INET : AF_INET6, kp.listen[i].addr, ip,
			  sizeof(ip));
		bool v6 = kp.listen[i].family != 4;

		DP_LOG(INFO, "HTTP on http://%s%s%s:%u/announce\n", v6 ? "[" : "", ip,
		       v6 ? "]" : "", kp.listen[i].port);
	}
	return 0;
}

/* The cluster's sync thread, a sink for every packet lcore and HTTP
 * thread, and the shared connection-ID key (a bounded wait, but none after
 * a snapshot: the key it holds is the one clients have, the cluster's when
 * it was taken, and stays valid if the cluster's replaces it). */
static int cluster_start(struct dp_app *app, char *err, size_t errlen)
{
	const struct cfg *cfg = app->cfg;
	struct cl_params cp = {
	    .cfg = cfg,
	    .tr = &app->tr,
	    .n_producers = app->n_workers + (cfg->http.enabled ? cfg->http.threads : 0),
	    .socket_id = (int)rte_socket_id(),
	    .resume_seq = app->snap.stream.seq,
	    .resume_stream = app->snap.stream.name,
	};

	app->cl = cl_start(&cp, err, errlen);
	if (app->cl == NULL)
		return -1;
	for (unsigned i = 0; i < app->n_workers; i++)
		app->workers[i].ctx.sink = cl_sink(app->cl, i);
	if (app->snap.key_loaded)
		DP_LOG(INFO, "connection IDs: the snapshot's key, until the cluster's shared key "
			     "is read (if it differs, both are accepted)\n");
	else if (cl_wait_key(app->cl))
		DP_LOG(INFO, "connection IDs: the cluster's shared key\n");
	else if (!cfg->udp.has_secret)
		DP_LOG(WARNING,
		       "connection IDs: the cluster's shared key did not come within %u ms "
		       "(cluster.key_wait_ms); serving with this instance's own until it does\n",
		       cfg->cluster.key_wait_ms);
	return 0;
}

void dp_app_print_urls(const struct dp_app *app, FILE *f)
{
	char ip[INET6_ADDRSTRLEN];

	for (unsigned i = 0; i < app->n_ports; i++) {
		const struct dp_iface *ifc = &app->ports[i].ifc;

		for (unsigned k = 0; k < ifc->n_udp_ports; k++) {
			if (ifc->has_ip4) {
				inet_ntop(AF_INET, ifc->ip4, ip, sizeof(ip));
				fprintf(f, "dptrack: announce URL udp://%s:%u/announce\n", ip,
					ifc->udp_ports[k]);
			}
			if (ifc->has_ip6) {
				inet_ntop(AF_INET6, ifc->ip6, ip, sizeof(ip));
				fprintf(f, "dptrack: announce URL udp://[%s]:%u/announce\n", ip,
					ifc->udp_ports[k]);
			}
		}
	}
	fflush(f);
}

int dp_app_init(struct dp_app *app, struct cfg *cfg, const char *name, bool telemetry, char *err,
		size_t errlen)
{
	app->cfg = cfg;
	pthread_mutex_init(&app->reload.lock, NULL);
	app->burst = (uint16_t)RTE_MIN(cfg->dpdk.burst, (uint32_t)DP_BURST_MAX);
	rte_log_set_level(dp_logtype, dp_log_level(cfg->log.level));
	clock_init(app);
	workers_init(app);
	if (dp_tracker_init(app, name, err, errlen) != 0)
		return -1;
	if (dp_snap_load(app) != 0) {
		snprintf(err, errlen, "the snapshot could not be loaded (see the log)");
		return -1;
	}
	if (cfg->cluster.enabled && cluster_start(app, err, errlen) != 0)
		return -1;
	if (dp_ports_init(app, err, errlen) != 0)
		return -1;
	if (telemetry) {
		app->telemetry = true;
		if (dp_stats_telemetry_init(app) != 0)
			DP_LOG(WARNING, "telemetry command /dptrack/stats not registered\n");
	}
	if (cfg->http.enabled && http_start(app, err, errlen) != 0)
		return -1;
	dp_notify_init(app);
	return 0;
}

int dp_app_start(struct dp_app *app, char *err, size_t errlen)
{
	if (dp_snap_start(app) != 0) {
		snprintf(err, errlen, "the snapshot thread could not start (see the log)");
		return -1;
	}
	for (unsigned i = 0; i < app->n_workers; i++) {
		struct dp_worker *w = &app->workers[i];

		if (w->lcore_id == rte_get_main_lcore())
			continue;
		int ret = rte_eal_remote_launch(dp_lcore_main, w, w->lcore_id);
		if (ret != 0) {
			snprintf(err, errlen, "rte_eal_remote_launch(lcore %u): %s", w->lcore_id,
				 strerror(-ret));
			__atomic_store_n(&app->stop, 1, __ATOMIC_RELAXED);
			rte_eal_mp_wait_lcore();
			return -1;
		}
		app->launched = true;
	}
	return 0;
}

/* Waits for every launched worker lcore to return. */
static void wait_lcores(struct dp_app *app)
{
	if (!app->launched)
		return;
	rte_eal_mp_wait_lcore();
	app->launched = false;
}

void dp_app_run(struct dp_app *app)
{
	struct dp_worker *main_w = NULL;

	for (unsigned i = 0; i < app->n_workers; i++)
		if (app->workers[i].lcore_id == rte_get_main_lcore())
			main_w = &app->workers[i];
	if (main_w != NULL) {
		dp_lcore_main(main_w);
	} else {
		while (!__atomic_load_n(&app->stop, __ATOMIC_RELAXED)) {
			dp_control_tick(app);
			rte_delay_us_sleep(1000);
		}
	}
	wait_lcores(app);
}

void dp_app_stop(struct dp_app *app)
{
	dp_notify(app, "STOPPING=1");
	__atomic_store_n(&app->stop, 1, __ATOMIC_RELAXED);
	wait_lcores(app);
	kh_stop(app->kh);	 /* threads gone, counters kept for the exit lines */
	cl_stop(app->cl);	 /* what the producers left, published; applying stops */
	dp_snap_stop(app, true); /* the last snapshot, of a table at rest */
}

void dp_app_fini(struct dp_app *app, FILE *counters)
{
	__atomic_store_n(&app->stop, 1, __ATOMIC_RELAXED);
	wait_lcores(app);
	kh_stop(app->kh);	  /* before the table goes: its threads read it */
	cl_stop(app->cl);	  /* likewise */
	dp_snap_stop(app, false); /* likewise */
	dp_ports_fini(app);	  /* net_pcap writes its last frames here */
	if (counters != NULL)
		dp_stats_print(app, counters);
	if (app->telemetry)
		dp_stats_telemetry_fini(app); /* before what it reads is freed */
	app->telemetry = false;
	kh_free(app->kh);
	app->kh = NULL;
	cl_free(app->cl);
	app->cl = NULL;
	dp_reload_fini(app);
	dp_acl_fini(app); /* every reader has stopped */
	ptab_free(app->ptab);
	app->ptab = NULL;
	app->tr.ptab = NULL;
}
