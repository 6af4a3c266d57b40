/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * stats.h - per-thread request counters, summed on demand.
 *
 * Each thread owns one struct stats_ctr (cache-aligned, so threads never
 * share a line) and increments it with STATS_INC: a relaxed load and store,
 * no lock prefix, because only the owner writes. A reader sums all threads'
 * structs with stats_add(), whose relaxed loads see each counter whole.
 * No DPDK header.
 */
#ifndef DPTRACK_CORE_STATS_H
#define DPTRACK_CORE_STATS_H

#include <stdint.h>

#include "http_req.h"
#include "udp_msg.h"

enum stats_proto {
	STATS_UDP,
	STATS_HTTP,
	STATS_PROTO_N,
};

enum stats_action {
	STATS_CONNECT,
	STATS_ANNOUNCE,
	STATS_SCRAPE,
	STATS_ACTION_N,
};

/* Why a tracker request was refused, for both protocols. Malformed input is
 * further broken down by codec reason in udp_bad[] and http_bad[]. */
enum stats_err {
	STATS_ERR_MALFORMED,   /* the codec refused it: see udp_bad/http_bad */
	STATS_ERR_CONNID,      /* BEP 15 connection id unknown, expired or forged */
	STATS_ERR_PORT,	       /* announce with port 0 */
	STATS_ERR_SWARMS,      /* max_swarms reached: new swarm refused */
	STATS_ERR_PEERS,       /* max_peers_per_swarm reached: new peer refused */
	STATS_ERR_MEMORY,      /* memory budget reached */
	STATS_ERR_FULL_SCRAPE, /* HTTP scrape without info_hash */
	STATS_ERR_ACCESS,      /* access list: announce refused, or a scrape that had
				* hashes answered with zeros */
	STATS_ERR_N,
};

struct stats_ctr {
	uint64_t req[STATS_PROTO_N][STATS_ACTION_N]; /* requests answered, by action */
	uint64_t err[STATS_PROTO_N][STATS_ERR_N];
	uint64_t udp_bad[UDP_MSG_ERR_N];   /* index 0 (OK) unused */
	uint64_t http_bad[HTTP_REQ_ERR_N]; /* index 0 (OK) unused */
} __attribute__((aligned(64)));

/* Increment a counter of the calling thread's own struct stats_ctr. */
#define STATS_INC(field) STATS_ADD(field, 1)
#define STATS_ADD(field, n)                                                                        \
	__atomic_store_n(&(field), __atomic_load_n(&(field), __ATOMIC_RELAXED) + (n),              \
			 __ATOMIC_RELAXED)

/* Adds every counter of c into total (which only the caller touches). */
void stats_add(struct stats_ctr *total, const struct stats_ctr *c);

/* Static names for labels and JSON keys: "udp", "announce", "connid", ... */
const char *stats_proto_name(enum stats_proto p);
const char *stats_action_name(enum stats_action a);
const char *stats_err_name(enum stats_err e);

#endif
