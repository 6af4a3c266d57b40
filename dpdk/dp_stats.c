/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * dp_stats.c - every figure of the process as one tr_metric stream: summed
 * over the lcores and the HTTP threads, read by the /dptrack/stats
 * telemetry command, the exit lines, GET /stats and GET /metrics. One walk
 * feeds them all, so no two can disagree on a name or a value.
 */
#include "dp_app.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_telemetry.h>

#include "cluster/cl.h"
#include "core/ptab.h"
#include "kernel-http/kh_server.h"

/* The telemetry callback has no argument: DPDK keeps commands per process,
 * so the command reads one app, the latest registered. It runs
 * on EAL's telemetry thread until rte_eal_cleanup(), after the table and the
 * HTTP server are gone, and 22.11 cannot unregister a command: the lock lets
 * dp_stats_telemetry_fini() detach the app before they are freed. */
static struct dp_app *tel_app;
static pthread_mutex_t tel_lock = PTHREAD_MUTEX_INITIALIZER;

static uint64_t load(const uint64_t *v)
{
	return __atomic_load_n(v, __ATOMIC_RELAXED);
}

/* Sums one dp_counters field over all workers. */
static uint64_t sum_field(const struct dp_app *app, size_t off)
{
	uint64_t s = 0;

	for (unsigned i = 0; i < app->n_workers; i++)
		s += load((const uint64_t *)((const char *)&app->workers[i].c + off));
	return s;
}

#define SUM(app, field) sum_field(app, offsetof(struct dp_counters, field))

static void emit(tr_metric_fn fn, void *arg, const char *name, const char *help,
		 enum tr_metric_type type, const char *labels, const char *key, uint64_t v)
{
	fn(arg, &(struct tr_metric){name, help, type, labels, key, v});
}

static void each_frames(const struct dp_app *app, tr_metric_fn fn, void *arg)
{
	char labels[64], key[64];

	emit(fn, arg, "rx_packets_total", "Frames received on DPDK ports", TR_METRIC_COUNTER, NULL,
	     "rx_packets", SUM(app, rx));
	emit(fn, arg, "tx_packets_total", "Frames sent on DPDK ports", TR_METRIC_COUNTER, NULL,
	     "tx_packets", SUM(app, tx));
	emit(fn, arg, "tx_full_total", "Replies dropped because the TX ring was full",
	     TR_METRIC_COUNTER, NULL, "tx_full", SUM(app, tx_full));
	emit(fn, arg, "rx_multiseg_total", "Frames dropped for spanning several mbufs",
	     TR_METRIC_COUNTER, NULL, "rx_multiseg", SUM(app, rx_multiseg));
	emit(fn, arg, "stack_replies_total", "ARP, ICMP echo and NDP answers", TR_METRIC_COUNTER,
	     NULL, "stack_replies", SUM(app, stack_replies));
	emit(fn, arg, "tracker_silent_total", "Tracker datagrams left unanswered",
	     TR_METRIC_COUNTER, NULL, "tracker_silent", SUM(app, tracker_silent));
	for (unsigned d = 0; d < DP_DROP_N; d++) {
		snprintf(labels, sizeof(labels), "reason=\"%s\"", dp_drop_name(d));
		snprintf(key, sizeof(key), "drop_%s", dp_drop_name(d));
		emit(fn, arg, "drops_total", "Frames dropped by the frame layer, by reason",
		     TR_METRIC_COUNTER, labels, key, SUM(app, drop[d]));
	}
}

/* Tracker requests and refusals of both protocols, from the lcores' and the
 * HTTP threads' counters together. */
static void each_tracker(const struct dp_app *app, tr_metric_fn fn, void *arg)
{
	struct stats_ctr t = {0};
	char labels[96], key[64];

	for (unsigned i = 0; i < app->n_workers; i++)
		stats_add(&t, &app->workers[i].tr_stats);
	kh_tracker_stats(app->kh, &t);
	for (unsigned p = 0; p < STATS_PROTO_N; p++)
		for (unsigned a = 0; a < STATS_ACTION_N; a++) {
			snprintf(labels, sizeof(labels), "protocol=\"%s\",action=\"%s\"",
				 stats_proto_name(p), stats_action_name(a));
			snprintf(key, sizeof(key), "%s_%s", stats_proto_name(p),
				 stats_action_name(a));
			emit(fn, arg, "requests_total", "Tracker requests answered",
			     TR_METRIC_COUNTER, labels, key, t.req[p][a]);
		}
	for (unsigned p = 0; p < STATS_PROTO_N; p++)
		for (unsigned e = 0; e < STATS_ERR_N; e++) {
			snprintf(labels, sizeof(labels), "protocol=\"%s\",reason=\"%s\"",
				 stats_proto_name(p), stats_err_name(e));
			snprintf(key, sizeof(key), "%s_err_%s", stats_proto_name(p),
				 stats_err_name(e));
			emit(fn, arg, "errors_total", "Tracker requests refused, by reason",
			     TR_METRIC_COUNTER, labels, key, t.err[p][e]);
		}
	for (unsigned e = 1; e < UDP_MSG_ERR_N; e++) {
		snprintf(labels, sizeof(labels), "protocol=\"udp\",reason=\"%s\"",
			 udp_msg_err_name(e));
		snprintf(key, sizeof(key), "udp_bad_%s", udp_msg_err_name(e));
		emit(fn, arg, "malformed_total", "Malformed tracker requests, by codec reason",
		     TR_METRIC_COUNTER, labels, key, t.udp_bad[e]);
	}
	for (unsigned e = 1; e < HTTP_REQ_ERR_N; e++) {
		snprintf(labels, sizeof(labels), "protocol=\"http\",reason=\"%s\"",
			 http_req_err_name(e));
		snprintf(key, sizeof(key), "http_bad_%s", http_req_err_name(e));
		emit(fn, arg, "malformed_total", "Malformed tracker requests, by codec reason",
		     TR_METRIC_COUNTER, labels, key, t.http_bad[e]);
	}
}

static void each_table(const struct dp_app *app, tr_metric_fn fn, void *arg)
{
	struct ptab_stats st;

	ptab_stats(app->ptab, &st);
	emit(fn, arg, "swarms", "Torrents tracked", TR_METRIC_GAUGE, NULL, "swarms", st.swarms);
	emit(fn, arg, "peers", "Peers, by address family", TR_METRIC_GAUGE, "family=\"ipv4\"",
	     "peers_ipv4", st.peers4);
	emit(fn, arg, "peers", "Peers, by address family", TR_METRIC_GAUGE, "family=\"ipv6\"",
	     "peers_ipv6", st.peers6);
	emit(fn, arg, "seeders", "Peers with nothing left to download", TR_METRIC_GAUGE, NULL,
	     "seeders", st.seeders);
	emit(fn, arg, "leechers", "Peers still downloading", TR_METRIC_GAUGE, NULL, "leechers",
	     st.leechers);
	emit(fn, arg, "memory_used_bytes", "Peer table memory in use", TR_METRIC_GAUGE, NULL,
	     "memory_used_bytes", st.mem_used);
	emit(fn, arg, "memory_budget_bytes", "Peer table memory budget (tracker.memory_mb)",
	     TR_METRIC_GAUGE, NULL, "memory_budget_bytes", st.mem_budget);
	emit(fn, arg, "swarm_lock_contended_total",
	     "Times a thread found a swarm's lock held by another: contention on hot swarms",
	     TR_METRIC_COUNTER, NULL, "swarm_lock_contended", st.contended);
	emit(fn, arg, "prefetch_hints_used_total",
	     "Announces that used the burst prefetch's swarm lookup and peer hash",
	     TR_METRIC_COUNTER, NULL, "prefetch_hints_used", st.hinted);
	for (unsigned e = 1; e < PTAB_ERR_N; e++) {
		static const char *const why[PTAB_ERR_N] = {NULL, "reason=\"swarm_limit\"",
							    "reason=\"peer_limit\"",
							    "reason=\"memory_limit\""};
		static const char *const keys[PTAB_ERR_N] = {
		    NULL, "refused_swarm_limit", "refused_peer_limit", "refused_memory_limit"};
		emit(fn, arg, "table_refused_total", "Announces the peer table refused, by limit",
		     TR_METRIC_COUNTER, why[e], keys[e], st.refused[e]);
	}
}

static void each_lcore(const struct dp_app *app, tr_metric_fn fn, void *arg)
{
	/* Each a run of n counters of struct dp_counters from off, summed. */
	static const struct {
		const char *name, *help, *suffix;
		size_t off;
		unsigned n;
	} f[] = {
	    {"lcore_rx_packets_total", "Frames received, by lcore", "rx_packets",
	     offsetof(struct dp_counters, rx), 1},
	    {"lcore_tx_packets_total", "Frames sent, by lcore", "tx_packets",
	     offsetof(struct dp_counters, tx), 1},
	    {"lcore_drops_total", "Frames dropped by the frame layer, by lcore", "drops",
	     offsetof(struct dp_counters, drop), DP_DROP_N},
	    {"lcore_idle_sleeps_total", "Sleeps between empty polls (dpdk.idle_sleep_us), by lcore",
	     "idle_sleeps", offsetof(struct dp_counters, idle_sleeps), 1},
	    {"lcore_busy_cycles_total",
	     "TSC cycles of packet-loop rounds that received frames, by lcore", "busy_cycles",
	     offsetof(struct dp_counters, busy_cycles), 1},
	    {"lcore_cycles_total", "TSC cycles of the packet loop, by lcore (busy / this = load)",
	     "cycles", offsetof(struct dp_counters, loop_cycles), 1},
	};
	char labels[32], key[48];

	for (size_t k = 0; k < RTE_DIM(f); k++) {
		for (unsigned i = 0; i < app->n_workers; i++) {
			const struct dp_worker *w = &app->workers[i];
			const uint64_t *c = (const uint64_t *)((const char *)&w->c + f[k].off);
			uint64_t v = 0;

			for (unsigned j = 0; j < f[k].n; j++)
				v += load(&c[j]);
			snprintf(labels, sizeof(labels), "lcore=\"%u\"", w->lcore_id);
			snprintf(key, sizeof(key), "lcore%u_%s", w->lcore_id, f[k].suffix);
			emit(fn, arg, f[k].name, f[k].help, TR_METRIC_COUNTER, labels, key, v);
		}
	}
}

/* A shared port's XDP program: every frame the NIC received, by verdict
 * and reason (dpdk/xdp/dp_xdp_maps.h), summed over the CPUs. */
static void each_xdp(const struct dp_app *app, unsigned p, tr_metric_fn fn, void *arg)
{
	const struct dp_port *port = &app->ports[p];
	char labels[RTE_DEV_NAME_MAX_LEN + 64], key[64];
	uint64_t n[DP_XDP_N];

	if (port->xdp.stats_fd < 0 || dp_xdp_counts(&port->xdp, n) != 0)
		memset(n, 0, sizeof(n));
	for (unsigned r = 0; r < DP_XDP_N; r++) {
		const char *verdict = r == DP_XDP_REDIRECT ? "redirect" : "pass";

		snprintf(labels, sizeof(labels), "port=\"%s\",verdict=\"%s\",reason=\"%s\"",
			 port->name, verdict, dp_xdp_reason_name(r));
		if (r == DP_XDP_REDIRECT)
			snprintf(key, sizeof(key), "port%u_xdp_redirect", p);
		else
			snprintf(key, sizeof(key), "port%u_xdp_pass_%s", p, dp_xdp_reason_name(r));
		emit(fn, arg, "xdp_frames_total",
		     "Frames a shared port's XDP program redirected to dptrack or passed to the "
		     "kernel, by reason",
		     TR_METRIC_COUNTER, labels, key, n[r]);
	}
}

/* What the NIC itself counts: frames it could not hand over (no free
 * descriptor: the lcore fell behind; no mbuf: the pool ran dry) and errors. */
static void each_port(const struct dp_app *app, tr_metric_fn fn, void *arg)
{
	static const struct {
		const char *name, *help, *suffix;
		size_t off;
	} f[] = {
	    {"port_rx_missed_total", "Frames the NIC dropped: no free RX descriptor", "rx_missed",
	     offsetof(struct rte_eth_stats, imissed)},
	    {"port_rx_nombuf_total", "Frames the NIC dropped: the mbuf pool was empty", "rx_nombuf",
	     offsetof(struct rte_eth_stats, rx_nombuf)},
	    {"port_rx_errors_total", "Frames the NIC received in error", "rx_errors",
	     offsetof(struct rte_eth_stats, ierrors)},
	    {"port_tx_errors_total", "Frames the NIC failed to send", "tx_errors",
	     offsetof(struct rte_eth_stats, oerrors)},
	};
	struct rte_eth_stats st[CFG_MAX_PORTS];
	char labels[RTE_DEV_NAME_MAX_LEN + 16], key[64];

	for (unsigned p = 0; p < app->n_ports; p++)
		if (rte_eth_stats_get(app->ports[p].port_id, &st[p]) != 0)
			memset(&st[p], 0, sizeof(st[p]));
	for (unsigned k = 0; k < RTE_DIM(f); k++)
		for (unsigned p = 0; p < app->n_ports; p++) {
			snprintf(labels, sizeof(labels), "port=\"%s\"", app->ports[p].name);
			snprintf(key, sizeof(key), "port%u_%s", p, f[k].suffix);
			emit(fn, arg, f[k].name, f[k].help, TR_METRIC_COUNTER, labels, key,
			     *(const uint64_t *)((const char *)&st[p] + f[k].off));
		}
	for (unsigned p = 0; p < app->n_ports; p++)
		if (app->ports[p].shared)
			each_xdp(app, p, fn, arg);
}

void dp_metrics_each(void *ctx, tr_metric_fn fn, void *arg)
{
	const struct dp_app *app = ctx;

	each_frames(app, fn, arg);
	each_port(app, fn, arg);
	each_tracker(app, fn, arg);
	each_table(app, fn, arg);
	kh_metrics(app->kh, fn, arg);
	cl_metrics(app->cl, fn, arg);
	each_lcore(app, fn, arg);
	emit(fn, arg, "uptime_seconds", "Seconds since dptrack started", TR_METRIC_GAUGE, NULL,
	     "uptime_seconds", (rte_rdtsc() - app->started_tsc) / app->tsc_hz);
	uint64_t in_use = 0;
	for (unsigned p = 0; p < app->n_ports; p++)
		if (app->ports[p].pool != NULL)
			in_use += rte_mempool_in_use_count(app->ports[p].pool);
	/* Idle value: what the RX rings hold (NIC-dependent: 0 for af_packet,
	 * 2048 per queue for af_xdp's fill rings); growing under steady load
	 * would mean a leak. */
	emit(fn, arg, "mbufs_in_use", "Mbufs out of their pools (RX rings, in flight, TX)",
	     TR_METRIC_GAUGE, NULL, "mbufs_in_use", in_use);
	emit(fn, arg, "snapshot_saves_total", "Snapshots of the peer table written",
	     TR_METRIC_COUNTER, NULL, "snapshot_saves", app->snap.saves);
	emit(fn, arg, "snapshot_failures_total", "Snapshots that could not be written",
	     TR_METRIC_COUNTER, NULL, "snapshot_failures", app->snap.failures);
	emit(fn, arg, "snapshot_last_unix", "When the latest snapshot was taken (0: none yet)",
	     TR_METRIC_GAUGE, NULL, "snapshot_last_unix", app->snap.last_unix);
	emit(fn, arg, "snapshot_last_milliseconds", "How long the latest snapshot took",
	     TR_METRIC_GAUGE, NULL, "snapshot_last_ms", app->snap.last_ms);
	emit(fn, arg, "snapshot_last_bytes", "Size of the latest snapshot file", TR_METRIC_GAUGE,
	     NULL, "snapshot_last_bytes", app->snap.last_bytes);
	/* With snapshot_last_unix, how old is too old (contrib/prometheus). */
	emit(fn, arg, "snapshot_interval_seconds",
	     "Seconds between periodic snapshots (tracker.snapshot.interval; 0: none)",
	     TR_METRIC_GAUGE, NULL, "snapshot_interval_seconds", dp_snap_interval(ctx));
	emit(fn, arg, "access_list_hashes", "Info hashes on the access list in force",
	     TR_METRIC_GAUGE, NULL, "access_list_hashes",
	     __atomic_load_n(&app->acl.hashes, __ATOMIC_RELAXED));
	emit(fn, arg, "access_list_reloads_total", "Access list reloads done (SIGHUP)",
	     TR_METRIC_COUNTER, NULL, "access_list_reloads", app->acl.reloads);
	emit(fn, arg, "access_list_reload_failures_total",
	     "Access list reloads refused: the old list kept", TR_METRIC_COUNTER, NULL,
	     "access_list_reload_failures", app->acl.failures);
	emit(fn, arg, "reloads_total", "Configuration reloads applied (SIGHUP)", TR_METRIC_COUNTER,
	     NULL, "reloads", app->reload.reloads);
	emit(fn, arg, "reload_failures_total",
	     "Configuration reloads refused: a file with an error, nothing changed",
	     TR_METRIC_COUNTER, NULL, "reload_failures", app->reload.failures);
	emit(fn, arg, "reload_restart_keys_total",
	     "Changed keys a reload left as they were: they need a restart", TR_METRIC_COUNTER,
	     NULL, "reload_restart_keys", app->reload.restart_keys);
	/* Known once the ports are closed; 0 while running. */
	emit(fn, arg, "mbufs_leaked", "Mbufs not back in their pool after the ports closed",
	     TR_METRIC_GAUGE, NULL, "mbufs_leaked", app->mbufs_leaked);
}

static void print_one(void *arg, const struct tr_metric *m)
{
	fprintf(arg, "counter %s %" PRIu64 "\n", m->key, m->value);
}

void dp_stats_print(struct dp_app *app, FILE *f)
{
	dp_metrics_each(app, print_one, f);
	fflush(f);
}

static void tel_one(void *arg, const struct tr_metric *m)
{
	rte_tel_data_add_dict_u64(arg, m->key, m->value);
}

/* /dptrack/stats: every figure by its flat name. */
static int tel_stats(const char *cmd, const char *params, struct rte_tel_data *d)
{
	int ret = -1;

	(void)cmd;
	(void)params;
	pthread_mutex_lock(&tel_lock);
	if (tel_app != NULL) {
		rte_tel_data_start_dict(d);
		dp_metrics_each(tel_app, tel_one, d);
		ret = 0;
	}
	pthread_mutex_unlock(&tel_lock);
	return ret;
}

void dp_stats_telemetry_fini(struct dp_app *app)
{
	pthread_mutex_lock(&tel_lock);
	if (tel_app == app)
		tel_app = NULL;
	pthread_mutex_unlock(&tel_lock);
}

int dp_stats_telemetry_init(struct dp_app *app)
{
	pthread_mutex_lock(&tel_lock);
	tel_app = app;
	pthread_mutex_unlock(&tel_lock);
	return rte_telemetry_register_cmd("/dptrack/stats", tel_stats,
					  "Every dptrack figure by name (rx_packets, drop_*, "
					  "udp_announce, peers_ipv4, lcore<N>_rx_packets, ...).");
}
