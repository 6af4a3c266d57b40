/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * kh_server.h - the HTTP tracker: epoll threads on kernel sockets.
 *
 * Each of `threads` pthreads owns an SO_REUSEPORT listener per listen
 * address (IPv6 ones IPV6_V6ONLY, so [::] and 0.0.0.0 bind side by side), an
 * epoll set and its connections; the kernel spreads new connections over
 * them. A thread registers with EAL and as an RCU reader of the peer table
 * (ptab_thread_enter), goes offline around epoll_wait, and answers
 * /announce and /scrape through the same tr_http_handle() the tests use, so
 * swarms are shared with the UDP path. A stalled HTTP thread never stalls an
 * lcore: lcores take only per-swarm locks and never wait for a grace period.
 */
#ifndef DPTRACK_KERNEL_HTTP_KH_SERVER_H
#define DPTRACK_KERNEL_HTTP_KH_SERVER_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "core/addr.h"
#include "core/metrics.h"
#include "core/stats.h"
#include "core/tracker.h"

#define KH_MAX_LISTEN 8
#define KH_MAX_CIDRS  64 /* trusted proxies, stats.allow */

struct kh_listen {
	uint8_t family; /* 4 or 6 */
	uint8_t addr[16];
	uint16_t port;
};

/* What a reload may change while the threads run. */
struct kh_live_params {
	const struct tr_cidr *trusted_proxies; /* X-Forwarded-For is read from these */
	unsigned n_trusted_proxies;	       /* <= KH_MAX_CIDRS */
	const struct tr_cidr *stats_allow;     /* who may read /stats, /metrics, /dashboard */
	unsigned n_stats_allow;		       /* <= KH_MAX_CIDRS */
	unsigned idle_timeout;		       /* seconds without a complete request */
	/* index.html, dmca.html, robots.txt, dashboard.html; NULL or "" = built in */
	const char *static_dir;
};

struct kh_params {
	struct kh_listen listen[KH_MAX_LISTEN];
	unsigned n_listen;
	unsigned threads;		 /* 1..64 */
	unsigned max_connections;	 /* over all threads; more are closed at once */
	unsigned max_request_bytes;	 /* request line + headers; more gets 431 */
	struct kh_live_params live;	 /* the first live set (kh_live_new) */
	const struct tracker *tr;	 /* shared, read-only */
	uint64_t rng_seed;		 /* thread i seeds its generator with rng_seed + i */
	struct tr_metric_source metrics; /* the whole stream /stats and /metrics show */
	/* Thread i hands its announces' changes to a cluster through sinks[i]
	 * (tr_ctx.sink); NULL entries (and all, without a cluster) = none. */
	const struct tr_sink *sinks[64];
	/* Creates each thread (name "dpt-httpN"); 0 or an errno. NULL: plain
	 * pthread_create, on the creator's CPUs. dptrack passes DPDK's
	 * control-thread creation, so the threads run on the CPUs no lcore
	 * polls, beside the cluster's and EAL's own. */
	int (*create_thread)(pthread_t *tid, const char *name, void *(*fn)(void *), void *arg);
};

struct kh_server;
struct kh_live;

/*
 * Builds a live set from lp, reading static_dir's pages (so: a thread that
 * may do file I/O, not a packet lcore). Returns it, or NULL with why in err
 * ("http.static_dir: ...: not a directory", a page too large). The caller
 * owns it until it hands it to kh_live_swap (or frees it: kh_live_free).
 */
struct kh_live *kh_live_new(const struct kh_live_params *lp, char *err, size_t errlen);
void kh_live_free(struct kh_live *lv);

/*
 * Puts lv in force for every thread's next request (a store-release of one
 * pointer: never waits) and returns the set it replaced. The threads may
 * still be reading that one: free it with kh_live_free once a grace period
 * of the table's RCU has passed (ptab_grace_start/ptab_grace_done); the
 * server holds no reference to it any more.
 */
struct kh_live *kh_live_swap(struct kh_server *s, struct kh_live *lv);

/*
 * Binds every listener of every thread (so an address in use is reported
 * here, not from a thread), then starts the threads. Raises the process's
 * soft RLIMIT_NOFILE to fit max_connections; where the limit cannot, it
 * serves fewer and says so on stderr. Returns the server, or NULL with the
 * failing call named in err. The caller owns it: kh_free().
 */
struct kh_server *kh_start(const struct kh_params *p, char *err, size_t errlen);

/* Wakes every thread and waits for it to close its connections and leave
 * the table. Its counters stay readable until kh_free(). NULL is a no-op;
 * so is a second call. */
void kh_stop(struct kh_server *s);

/* Stops the server if it still runs and frees it. NULL is a no-op. */
void kh_free(struct kh_server *s);

/* Adds every HTTP thread's tracker counters (requests and errors by reason)
 * to total; relaxed reads, like every counter here. */
void kh_tracker_stats(const struct kh_server *s, struct stats_ctr *total);

/* Its HTTP threads, and how many rounds thread i's epoll loop has made (it
 * wakes at least every 500 ms): the watchdog's sign of life. */
unsigned kh_threads(const struct kh_server *s);
uint64_t kh_thread_loops(const struct kh_server *s, unsigned i);

/* The HTTP server's own figures: connections open, accepted, refused at the
 * cap, closed idle; requests too large; responses by status code. */
void kh_metrics(const struct kh_server *s, tr_metric_fn fn, void *arg);

#endif
