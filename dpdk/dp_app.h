/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * dp_app.h - the dptrack process as a library: its ports, its lcores, its
 * counters, and the one way to start and stop them.
 *
 * The caller owns a zeroed struct dp_app and drives it through
 * dp_app_init / dp_app_start / dp_app_run / dp_app_stop / dp_app_fini
 * (dp_app.c). main.c does, and so does every test that runs the packet loop:
 * there is no second copy of the setup. Each lcore gets its struct
 * dp_worker; a worker writes only its own struct (cache-aligned, plain
 * increments); the control thread and the telemetry thread read all of them
 * to sum counters. Every piece of state lives in the struct (bar the
 * telemetry command, which DPDK keeps per process), so two apps can live in
 * one process, as test fixtures make them.
 */
#ifndef DPTRACK_DPDK_DP_APP_H
#define DPTRACK_DPDK_DP_APP_H

#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include <rte_common.h>
#include <rte_config.h>
#include <rte_dev.h>

#include "cfg.h"
#include "core/metrics.h"
#include "core/ptab.h"
#include "core/snap.h"
#include "core/stats.h"
#include "core/tracker.h"
#include "dp_frame.h"
#include "kernel-http/kh_server.h"
#include "dpdk/xdp/dp_xdp.h"

/* Frames handled per rx/tx burst call, at most (dpdk.burst is capped here:
 * the burst arrays live on the lcore's stack). */
#define DP_BURST_MAX 512

/* Control work (expiry slices, reloads, idle exit) runs this often, live;
 * in replay after every burst. */
#define DP_CONTROL_TICK_US 10000

/* EAL arguments dptrack takes after `--` on its command line, at most:
 * with dpdk.eal_args (CFG_MAX_EAL_ARGS) they fill one argv. */
#define DP_MAX_EXTRA_EAL_ARGS 64

#define DP_LOG(level, ...) rte_log(RTE_LOG_##level, dp_logtype, "dptrack: " __VA_ARGS__)
extern int dp_logtype;

struct dp_port {
	uint16_t port_id;
	char name[RTE_DEV_NAME_MAX_LEN];
	struct dp_iface ifc;
	bool tx_cksum; /* the NIC writes IPv4 and UDP checksums */
	bool rx_cksum; /* the NIC checks them and says so in ol_flags */
	bool probed;   /* its device exists: it is stopped and closed at the end */
	bool started;  /* its queues are set up and it was started */
	uint16_t n_queues;
	/* Mbufs the PMD keeps past rte_eth_dev_close() by design, measured
	 * at start: net_af_xdp's fill rings (see dp_ports_fini); else 0. */
	unsigned pmd_keeps;
	struct rte_mempool *pool;
	/* A shared port (dp_shared.c): its interface and XDP program. */
	bool shared;
	unsigned ifindex;
	struct dp_xdp xdp;
	int xdp_claim; /* dp_xdp_claim's socket while the interface is ours; -1 */
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
struct cl;

struct dp_worker {
	struct stats_ctr tr_stats; /* first: it is cache-aligned */
	struct dp_counters c;
	uint64_t loops;		/* rounds of its packet loop: the watchdog's sign of life */
	uint64_t last_rx_tsc;	/* start of its last loop that received a frame */
	uint64_t last_poll_tsc; /* start of its latest loop: idle = the difference */
	uint64_t now;		/* the tracker clock at its last burst, seconds */
	struct dp_app *app;
	struct tr_ctx ctx; /* the tracker, its stats and its generator */
	unsigned lcore_id;
	uint16_t queue; /* its RX and TX queue on every port */
	bool control;	/* also does the main lcore's control work */
} __rte_cache_aligned;

/* dp_snap.c's state: the snapshot thread. */
struct dp_snap_state {
	pthread_t tid;
	bool running;
	int stop;				 /* read by the thread */
	volatile sig_atomic_t requested;	 /* SIGUSR1: save now */
	uint64_t saves, failures;		 /* snapshots written, failed */
	uint64_t last_unix, last_ms, last_bytes; /* the latest one written */
	struct snap_stream stream;		 /* what the one loaded at start recorded */
	bool key_loaded; /* the connection-ID key in force is the one loaded at start */
};

/* dp_acl.c's state: the list in force is app->tr.acl; a replaced one is
 * retired, then freed after an RCU grace period. */
struct dp_acl_state {
	struct acl *retired;	    /* replaced, freed after its grace period */
	uint64_t retired_token;	    /* ptab_grace_start() when it was replaced */
	uint64_t reloads, failures; /* lists put in force by a reload; lists refused */
	uint64_t hashes;	    /* on the list in force; 0 when off */
};

/* dp_reload.c's state: a reload reads the files (the configuration, the
 * access list, the static pages) on a thread of its own, one at a time;
 * the control tick applies the result. */
struct dp_reload_state {
	volatile sig_atomic_t requested; /* SIGHUP */
	const char *path;  /* the -c FILE dptrack was given; NULL = the search order */
	char *const *envp; /* for DPTRACK_* overrides; NULL = none */
	struct {	   /* the loader thread's job, see dp_reload.c */
		pthread_t thread;
		bool running;
		int done; /* set by the thread, last (release) */
		uint64_t t0;
		struct cfg cfg;	 /* the configuration read */
		bool cfg_loaded; /* cfg holds one (cfg_fini it) */
		bool acl_failed; /* the access list it names could not be read */
		bool ok;	 /* cfg, acl and live are all usable */
		char err[CFG_PATH_MAX + 512];
		struct acl *acl;      /* the access list the new config names (NULL: off) */
		struct kh_live *live; /* the HTTP path's live set (NULL without HTTP) */
	} job;
	struct kh_live *retired_live; /* replaced, freed after its grace period */
	uint64_t retired_token;
	pthread_mutex_t lock;	    /* around cfg fields a reload changes that threads read */
	uint64_t reloads, failures; /* configurations read and applied; refused */
	uint64_t restart_keys;	    /* changed keys left as they were: they need a restart */
};

/* dp_notify.c's state: systemd's notifications and watchdog. */
struct dp_notify_state {
	bool on;	   /* NOTIFY_SOCKET is set */
	bool ready;	   /* READY=1 sent */
	bool stuck;	   /* the last ping was withheld (logged once) */
	uint64_t ping_tsc; /* ping period (half of WATCHDOG_USEC); 0 = no watchdog */
	uint64_t ping_last, status_tsc, status_req;
	uint64_t pings, missed, missed_at; /* pings sent, withheld */
	uint64_t seen[RTE_MAX_LCORE + 64]; /* loop counters at the last ping */
};

struct dp_app {
	struct dp_worker workers[RTE_MAX_LCORE]; /* first: cache-aligned */
	unsigned n_workers;
	struct cfg *cfg;
	struct dp_port ports[CFG_MAX_PORTS];
	unsigned n_ports;
	struct ptab *ptab;
	struct tracker tr;
	struct kh_server *kh; /* the HTTP path, NULL when http.enabled is false */
	struct cl *cl;	      /* the cluster, NULL when cluster.enabled is false */
	uint16_t burst;
	uint64_t tsc_hz;
	uint64_t start_tsc, start_unix; /* the clock outside replay: TSC at start_unix.0 */
	int ts_offset;			/* mbuf timestamp dynfield, replay mode */
	uint64_t ts_flag;
	uint64_t idle_tsc; /* exit after this long without a packet; 0 = never */
	uint64_t started_tsc;
	uint64_t mbufs_leaked; /* still allocated once the ports are closed */
	struct {	       /* the control tick's own: one sweeper per app */
		struct ptab_cursor cursor;
		uint64_t next_tsc;
	} ctl;
	struct dp_snap_state snap;
	struct dp_acl_state acl;
	struct dp_reload_state reload;
	struct dp_notify_state notify;
	bool launched;	   /* worker lcores launched, not yet waited for */
	bool telemetry;	   /* the /dptrack/stats command reads this app */
	volatile int stop; /* set by signals, idle exit; read by every loop */
};

/*
 * The life of an app, in order; app is zeroed by the caller, and cfg
 * (which it keeps a pointer to) outlives it. dp_acl_load() may run first,
 * before EAL, to report a bad access list as a configuration error.
 *
 * dp_app_init: after rte_eal_init. The clock (on a wall-clock second, so the
 *   lcores' time matches the HTTP threads'), one worker per EAL lcore (the
 *   main lcore is one only when alone), the peer table and the tracker
 *   (table named `name`), the snapshot load, the cluster (cluster.enabled:
 *   its sync thread, and a bounded wait for the shared connection-ID key),
 *   the ports, the telemetry command (if `telemetry`), and the HTTP threads
 *   (http.enabled): all that may need root. Returns 0, or -1 with the failing step in err; then, as
 *   after any init, dp_app_fini releases what was set up.
 * dp_app_start: the snapshot thread, then every worker not on the calling
 *   (main) lcore is launched. Returns 0, or -1 with err set.
 * dp_app_run: the main lcore's share until app->stop: its own worker loop
 *   when it is the one lcore, else control ticks. Then waits for the
 *   launched lcores.
 * dp_app_stop: a clean stop: stop set, lcores waited for, HTTP threads
 *   stopped (their counters kept), the cluster's last records published,
 *   the final snapshot of a table at rest.
 * dp_app_fini: stops what still runs (without a final snapshot), closes the
 *   ports (net_pcap writes its last frames; mbufs still out are counted as
 *   leaked), then prints every counter to `counters` if it is not NULL,
 *   then frees the rest. Safe after a failed or partial init.
 */
int dp_app_init(struct dp_app *app, struct cfg *cfg, const char *name, bool telemetry, char *err,
		size_t errlen);
int dp_app_start(struct dp_app *app, char *err, size_t errlen);
void dp_app_run(struct dp_app *app);
void dp_app_stop(struct dp_app *app);
void dp_app_fini(struct dp_app *app, FILE *counters);

/* Runs rte_eal_init on argv0, then dpdk.eal_args, then the n_extra
 * arguments of extra (at most DP_MAX_EXTRA_EAL_ARGS). Returns its value,
 * or -1 with a message on stderr for too many arguments. */
int dp_eal_init(const char *argv0, const struct cfg *cfg, int n_extra, char **extra);

/* Milliseconds from a to b (0 if b is not later), in signed arithmetic:
 * the nanoseconds' difference alone may be negative (a duration read
 * 18446744074845 ms once, when it was unsigned). */
static inline uint64_t dp_ms_between(const struct timespec *a, const struct timespec *b)
{
	int64_t ns = ((int64_t)b->tv_sec - (int64_t)a->tv_sec) * 1000000000 +
		     ((int64_t)b->tv_nsec - (int64_t)a->tv_nsec);

	return ns > 0 ? (uint64_t)ns / 1000000 : 0;
}

/* The rte_log level of log.level. */
uint32_t dp_log_level(enum cfg_log_level l);

/* Starts a thread of control work (HTTP, snapshots, reloads) as DPDK starts
 * its own (rte_ctrl_thread_create): on the CPUs the process had at
 * rte_eal_init that no lcore polls, or the main lcore's when every one does,
 * and named `name`. Returns 0 or an errno. The first one logs the CPUs. */
int dp_ctrl_thread(pthread_t *tid, const char *name, void *(*fn)(void *), void *arg);

/* The HTTP path's live settings in cfg (http.trusted_proxies, stats.allow,
 * http.idle_timeout, http.static_dir), with the two lists converted into
 * trusted and allow (CFG_MAX_CIDRS entries each), which the result points
 * to. */
struct kh_live_params dp_http_live_params(const struct cfg *cfg, struct tr_cidr *trusted,
					  struct tr_cidr *allow);

/* Prints "announce URL udp://..." for every address and UDP port served. */
void dp_app_print_urls(const struct dp_app *app, FILE *f);

/* dp_tracker.c: the peer table (ptab_new, named name) and app->tr's
 * parameters and connection-ID key from app->cfg. Returns 0, or -1 with
 * err set. */
int dp_tracker_init(struct dp_app *app, const char *name, char *err, size_t errlen);

/* dp_port.c: probes, configures and starts every dpdk.ports entry with one
 * RX and one TX queue per worker. Returns 0, or a negative errno-style value
 * with the failing call named in err. */
int dp_ports_init(struct dp_app *app, char *err, size_t errlen);

/*
 * dp_shared.c: shared ports (dpdk.ports[].shared), the kernel's NIC with
 * dptrack's XDP program on it.
 * dp_shared_prepare: before port i's device exists. Fills the port's
 *   addresses from its interface (checking configured ones are there),
 *   writes the devargs to probe into devargs (the configured device, a
 *   queue per worker and the program), and claims the interface
 *   (dp_xdp_claim): refused while another dptrack shares it or another
 *   program is on it; a program a killed dptrack left is removed. Returns
 *   0, or a negative errno with the reason in err.
 * dp_shared_start: once the port started: finds the program net_af_xdp
 *   attached and tells it the port's addresses and udp.ports. Returns 0, or
 *   a negative errno with the failing call in err.
 * dp_shared_stop: before the port stops: every frame to the kernel.
 * dp_shared_fini: once the port is closed: detaches the program if the PMD
 *   left it, closes its maps, gives the claim up. Both safe on a port never
 *   started.
 */
int dp_shared_prepare(struct dp_app *app, unsigned i, char *devargs, size_t len, char *err,
		      size_t errlen);
int dp_shared_start(struct dp_app *app, struct dp_port *p, char *err, size_t errlen);
void dp_shared_stop(struct dp_port *p);
void dp_shared_fini(struct dp_port *p);

/* Stops and closes every port (net_pcap flushes its output here), adding the
 * mbufs that never came back to its pool to app->mbufs_leaked: first the
 * TX completions the PMD has not reaped yet are taken back, and what the
 * PMD keeps past close by design (port->pmd_keeps) is not counted. */
void dp_ports_fini(struct dp_app *app);

/* dp_lcore.c: the packet loop of one worker (rte_eal_remote_launch entry;
 * arg is its struct dp_worker). Returns 0 when app->stop is set, within one
 * idle sleep (dpdk.idle_sleep_us) of it. */
int dp_lcore_main(void *arg);

/* One slice of control work: expiry, a reload started or applied (and what
 * it replaced freed after its grace period), systemd notifications and the
 * watchdog, idle exit. One caller per app at a time (the main lcore, or the
 * one worker that does control work); the sweep's cursor and the tick's
 * pace are the app's. */
void dp_control_tick(struct dp_app *app);

/* dp_stats.c: the whole metric stream (core/metrics.h) of the process,
 * summed over lcores and HTTP threads; ctx is the struct dp_app. The
 * tr_metric_source the HTTP path shows at /stats and /metrics. */
void dp_metrics_each(void *ctx, tr_metric_fn fn, void *arg);

/* Registers the /dptrack/stats telemetry command, reading app. DPDK keeps
 * commands per process, so one app at a time. Returns 0 or < 0. */
int dp_stats_telemetry_init(struct dp_app *app);

/* Detaches the command from app, which may then be torn down; later calls
 * answer an error. */
void dp_stats_telemetry_fini(struct dp_app *app);

/* Prints every figure as "counter NAME VALUE" lines to f. */
void dp_stats_print(struct dp_app *app, FILE *f);

/* dp_snap.c: snapshots of the peer table (tracker.snapshot.*; off in
 * replay). dp_snap_load: before serving; a bad file is set aside and the
 * table starts empty; returns -1 only if that was impossible or the file
 * could not be read. dp_snap_start: the thread saving every interval and
 * when app->snap.requested is set (by SIGUSR1; it clears it).
 * dp_snap_stop: joins it, then saves once more if final. */
int dp_snap_load(struct dp_app *app);
int dp_snap_start(struct dp_app *app);
void dp_snap_stop(struct dp_app *app, bool final);
/* The seconds between periodic saves in force (a reload may change it), 0
 * when there are none: no snapshot path, interval 0, or replay. */
uint32_t dp_snap_interval(struct dp_app *app);

/* dp_acl.c: tracker.access_list. dp_acl_load: at start, before any reader,
 * into app->tr.acl (nothing when the mode is off), a line to report (if not
 * NULL); -1 with "FILE:LINE: reason" in err when the list cannot be used (a
 * configuration error). dp_acl_replace: puts list (NULL = none) in force
 * and retires the old one, only while !dp_acl_busy. dp_acl_tick: from the
 * control tick: frees a retired list after an RCU grace period.
 * dp_acl_fini: once no thread reads the list any more. */
int dp_acl_load(struct dp_app *app, const struct cfg *cfg, FILE *report, char *err, size_t errlen);
bool dp_acl_busy(const struct dp_app *app);
void dp_acl_replace(struct dp_app *app, struct acl *list);
void dp_acl_tick(struct dp_app *app);
void dp_acl_fini(struct dp_app *app);

/* dp_notify.c: systemd's notifications (no-ops without NOTIFY_SOCKET).
 * dp_notify_init: after dp_app_init, reads the watchdog period.
 * dp_notify_tick: from the control tick: READY=1 once every worker runs,
 * STATUS= every few seconds, WATCHDOG=1 while every worker and HTTP thread
 * makes progress. dp_notify: one state line ("STOPPING=1", ...). */
void dp_notify_init(struct dp_app *app);
void dp_notify_tick(struct dp_app *app, uint64_t tsc);
void dp_notify(struct dp_app *app, const char *state);

/* dp_reload.c: SIGHUP re-reads the whole configuration. dp_reload_tick:
 * from the control tick (never waits): starts a read when
 * app->reload.requested is set (it clears it), applies one that is done,
 * frees what a reload replaced after an RCU grace period. What can change
 * while serving is applied and logged key by key; a changed key that needs
 * a restart is logged and keeps its value; a file with an error changes
 * nothing (the log says FILE:LINE). dp_reload_fini: waits for a read in
 * progress and frees what is left. */
void dp_reload_tick(struct dp_app *app);
void dp_reload_fini(struct dp_app *app);

#endif
