/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * dp_app.h - the dptrack process: its ports, its lcores, its counters.
 *
 * main.c builds one struct dp_app and hands each lcore its struct dp_worker.
 * A worker writes only its own struct (cache-aligned, plain increments);
 * the main lcore and the telemetry thread read all of them to sum counters.
 */
#ifndef DPTRACK_DPDK_DP_APP_H
#define DPTRACK_DPDK_DP_APP_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

#include <rte_common.h>
#include <rte_config.h>
#include <rte_dev.h>

#include "cfg.h"
#include "core/metrics.h"
#include "core/stats.h"
#include "core/tracker.h"
#include "dp_frame.h"

/* Frames handled per rx/tx burst call, at most (dpdk.burst is capped here:
 * the burst arrays live on the lcore's stack). */
#define DP_BURST_MAX 512

#define DP_LOG(level, ...) rte_log(RTE_LOG_##level, dp_logtype, "dptrack: " __VA_ARGS__)
extern int dp_logtype;

struct dp_port {
	uint16_t port_id;
	char name[RTE_DEV_NAME_MAX_LEN];
	struct dp_iface ifc;
	bool tx_cksum; /* the NIC writes IPv4 and UDP checksums */
	bool rx_cksum; /* the NIC checks them and says so in ol_flags */
	struct rte_mempool *pool;
};

/* Per-lcore counters of the packet path, beside the tracker's stats_ctr. */
struct dp_counters {
	uint64_t rx, tx;
	uint64_t tx_full;	 /* replies the TX ring did not take: freed */
	uint64_t rx_multiseg;	 /* frames spread over several mbufs: dropped */
	uint64_t stack_replies;	 /* ARP, echo and NDP answers */
	uint64_t tracker_silent; /* datagrams the tracker chose not to answer */
	uint64_t idle_sleeps;	 /* dpdk.idle_sleep_us sleeps taken between empty polls */
	/* TSC cycles of the packet loop, and of its rounds that received a
	 * frame: busy / loop is how loaded the lcore is (a poll-mode lcore is
	 * always at 100% of its CPU, so the OS cannot say). */
	uint64_t loop_cycles, busy_cycles;
	uint64_t drop[DP_DROP_N];
};

struct dp_app;

struct dp_worker {
	struct stats_ctr tr_stats; /* first: it is cache-aligned */
	struct dp_counters c;
	uint64_t last_rx_tsc;	/* start of its last loop that received a frame */
	uint64_t last_poll_tsc; /* start of its latest loop: idle = the difference */
	uint64_t now;		/* the tracker clock at its last burst, seconds */
	struct dp_app *app;
	struct tr_ctx ctx; /* the tracker, its stats and its generator */
	unsigned lcore_id;
	uint16_t queue; /* its RX and TX queue on every port */
	bool control;	/* also does the main lcore's control work */
} __rte_cache_aligned;

struct dp_app {
	struct dp_worker workers[RTE_MAX_LCORE]; /* first: cache-aligned */
	unsigned n_workers;
	struct cfg *cfg;
	struct dp_port ports[CFG_MAX_PORTS];
	unsigned n_ports;
	struct ptab *ptab;
	struct tracker tr;
	struct kh_server *kh; /* the HTTP path, NULL when http.enabled is false */
	uint16_t burst;
	uint64_t tsc_hz;
	uint64_t start_tsc, start_unix; /* the clock outside replay: TSC at start_unix.0 */
	int ts_offset;			/* mbuf timestamp dynfield, replay mode */
	uint64_t ts_flag;
	uint64_t idle_tsc; /* exit after this long without a packet; 0 = never */
	uint64_t started_tsc;
	uint64_t mbufs_leaked; /* still allocated once the ports are closed */
	struct {
		uint64_t saves, failures;		 /* snapshots written, failed */
		uint64_t last_unix, last_ms, last_bytes; /* the latest one written */
	} snap;
	struct {
		uint64_t reloads, failures; /* SIGHUP reloads done, refused */
		uint64_t hashes;	    /* on the list in force; 0 when off */
	} acl;
	volatile int stop; /* set by signals, idle exit; read by every loop */
};

/* dp_tracker.c: the peer table (ptab_new, named name) and app->tr's
 * parameters and connection-ID key from app->cfg. Returns 0, or -1 with
 * err set. */
int dp_tracker_init(struct dp_app *app, const char *name, char *err, size_t errlen);

/* dp_port.c: probes, configures and starts every dpdk.ports entry with one
 * RX and one TX queue per worker. Returns 0, or a negative errno-style value
 * with the failing call named in err. */
int dp_ports_init(struct dp_app *app, char *err, size_t errlen);

/* Stops and closes every port (net_pcap flushes its output here), adding the
 * mbufs that never came back to its pool to app->mbufs_leaked. */
void dp_ports_fini(struct dp_app *app);

/* dp_lcore.c: the packet loop of one worker (rte_eal_remote_launch entry;
 * arg is its struct dp_worker). Returns 0 when app->stop is set, within one
 * idle sleep (dpdk.idle_sleep_us) of it. */
int dp_lcore_main(void *arg);

/* One slice of control work: expiry, access list reload, idle exit. Main
 * lcore only. */
void dp_control_tick(struct dp_app *app);

/* dp_stats.c: the whole metric stream (core/metrics.h) of the process,
 * summed over lcores and HTTP threads; ctx is the struct dp_app. The
 * tr_metric_source the HTTP path shows at /stats and /metrics. */
void dp_metrics_each(void *ctx, tr_metric_fn fn, void *arg);

/* Registers the /dptrack/stats telemetry command. Returns 0 or < 0. */
int dp_stats_telemetry_init(struct dp_app *app);

/* Detaches the command from the app, which may then be torn down; later
 * calls answer an error. */
void dp_stats_telemetry_fini(void);

/* Prints every figure as "counter NAME VALUE" lines to stdout. */
void dp_stats_print(struct dp_app *app);

/* dp_snap.c: snapshots of the peer table (tracker.snapshot.*; off in
 * replay). dp_snap_load: before serving; a bad file is set aside and the
 * table starts empty; returns -1 only if that was impossible or the file
 * could not be read. dp_snap_start: the thread saving every interval and
 * when dp_snap_requested is set (by the SIGUSR1 handler; it clears it).
 * dp_snap_stop: joins it, then saves once more if final. */
extern volatile sig_atomic_t dp_snap_requested;
int dp_snap_load(struct dp_app *app);
int dp_snap_start(struct dp_app *app);
void dp_snap_stop(struct dp_app *app, bool final);

/* dp_acl.c: tracker.access_list. dp_acl_load: at start, before any reader,
 * into app->tr.acl (nothing when the mode is off), a line to report (if not
 * NULL); -1 with "FILE:LINE: reason" in err when the list cannot be used (a
 * configuration error). dp_acl_tick: from the control tick: reloads when
 * dp_acl_requested is set (by the SIGHUP handler; it clears it), frees a
 * replaced list after an RCU grace period. dp_acl_fini: once no thread reads
 * the list any more. */
extern volatile sig_atomic_t dp_acl_requested;
int dp_acl_load(struct dp_app *app, const struct cfg *cfg, FILE *report, char *err, size_t errlen);
void dp_acl_tick(struct dp_app *app);
void dp_acl_fini(struct dp_app *app);

#endif
