/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * dp_stats.c - every counter of the process under one stable name: summed
 * over the workers for the /dptrack/stats telemetry command and for the
 * lines printed at exit. One walk (dp_stats_each) feeds both, so the two can
 * never disagree on a name.
 */
#include "dp_app.h"

#include <inttypes.h>
#include <stdio.h>

#include <rte_cycles.h>
#include <rte_telemetry.h>

#include "core/ptab.h"

/* The telemetry callback has no argument; the process has one app. */
static struct dp_app *tel_app;

static uint64_t load(const uint64_t *v)
{
	return __atomic_load_n(v, __ATOMIC_RELAXED);
}

/* Sums one dp_counters field over all workers. */
#define SUM(app, field)                                                                            \
	({                                                                                         \
		uint64_t s_ = 0;                                                                   \
		for (unsigned i_ = 0; i_ < (app)->n_workers; i_++)                                 \
			s_ += load(&(app)->workers[i_].c.field);                                   \
		s_;                                                                                \
	})

static void each_tracker(struct dp_app *app, dp_counter_fn fn, void *arg)
{
	struct stats_ctr t = {0};
	char name[64];

	for (unsigned i = 0; i < app->n_workers; i++)
		stats_add(&t, &app->workers[i].tr_stats);
	for (unsigned a = 0; a < STATS_ACTION_N; a++) {
		snprintf(name, sizeof(name), "udp_%s", stats_action_name(a));
		fn(arg, name, t.req[STATS_UDP][a]);
	}
	for (unsigned e = 0; e < STATS_ERR_N; e++) {
		snprintf(name, sizeof(name), "udp_err_%s", stats_err_name(e));
		fn(arg, name, t.err[STATS_UDP][e]);
	}
	for (unsigned e = 1; e < UDP_MSG_ERR_N; e++) {
		snprintf(name, sizeof(name), "udp_bad_%s", udp_msg_err_name(e));
		fn(arg, name, t.udp_bad[e]);
	}
}

static void each_table(struct dp_app *app, dp_counter_fn fn, void *arg)
{
	struct ptab_stats st;

	ptab_stats(app->ptab, &st);
	fn(arg, "swarms", st.swarms);
	fn(arg, "peers_ipv4", st.peers4);
	fn(arg, "peers_ipv6", st.peers6);
	fn(arg, "seeders", st.seeders);
	fn(arg, "leechers", st.leechers);
	fn(arg, "memory_used_bytes", st.mem_used);
	fn(arg, "memory_budget_bytes", st.mem_budget);
}

void dp_stats_each(struct dp_app *app, dp_counter_fn fn, void *arg)
{
	char name[64];

	fn(arg, "rx_packets", SUM(app, rx));
	fn(arg, "tx_packets", SUM(app, tx));
	fn(arg, "tx_full", SUM(app, tx_full));
	fn(arg, "rx_multiseg", SUM(app, rx_multiseg));
	fn(arg, "stack_replies", SUM(app, stack_replies));
	fn(arg, "tracker_silent", SUM(app, tracker_silent));
	for (unsigned d = 0; d < DP_DROP_N; d++) {
		snprintf(name, sizeof(name), "drop_%s", dp_drop_name(d));
		fn(arg, name, SUM(app, drop[d]));
	}
	each_tracker(app, fn, arg);
	each_table(app, fn, arg);
	fn(arg, "uptime_seconds", (rte_rdtsc() - app->started_tsc) / app->tsc_hz);
	/* Known once the ports are closed; 0 while running. */
	fn(arg, "mbufs_leaked", app->mbufs_leaked);
}

static void print_one(void *arg, const char *name, uint64_t value)
{
	fprintf(arg, "counter %s %" PRIu64 "\n", name, value);
}

void dp_stats_print(struct dp_app *app)
{
	dp_stats_each(app, print_one, stdout);
	fflush(stdout);
}

static void tel_one(void *arg, const char *name, uint64_t value)
{
	rte_tel_data_add_dict_u64(arg, name, value);
}

/* /dptrack/stats: every counter, then per-lcore rx/tx/drops. */
static int tel_stats(const char *cmd, const char *params, struct rte_tel_data *d)
{
	struct rte_tel_data *lcores = rte_tel_data_alloc();

	(void)cmd;
	(void)params;
	rte_tel_data_start_dict(d);
	dp_stats_each(tel_app, tel_one, d);
	if (lcores == NULL)
		return 0;
	rte_tel_data_start_dict(lcores);
	for (unsigned i = 0; i < tel_app->n_workers; i++) {
		const struct dp_worker *w = &tel_app->workers[i];
		struct rte_tel_data *l = rte_tel_data_alloc();
		char key[16];
		uint64_t drops = 0;

		if (l == NULL)
			break;
		for (unsigned k = 0; k < DP_DROP_N; k++)
			drops += load(&w->c.drop[k]);
		rte_tel_data_start_dict(l);
		rte_tel_data_add_dict_u64(l, "rx_packets", load(&w->c.rx));
		rte_tel_data_add_dict_u64(l, "tx_packets", load(&w->c.tx));
		rte_tel_data_add_dict_u64(l, "drops", drops);
		snprintf(key, sizeof(key), "%u", w->lcore_id);
		rte_tel_data_add_dict_container(lcores, key, l, 0);
	}
	rte_tel_data_add_dict_container(d, "lcores", lcores, 0);
	return 0;
}

int dp_stats_telemetry_init(struct dp_app *app)
{
	tel_app = app;
	return rte_telemetry_register_cmd(
	    "/dptrack/stats", tel_stats,
	    "Every dptrack counter, summed over lcores, and per-lcore "
	    "rx/tx/drops. Takes no parameters.");
}
