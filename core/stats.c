/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * stats.c - summing and naming the per-thread request counters.
 */
#include "stats.h"

void stats_add(struct stats_ctr *total, const struct stats_ctr *c)
{
	/* The struct is all uint64_t; read each whole, in one loop. */
	const uint64_t *src = (const uint64_t *)c;
	uint64_t *dst = (uint64_t *)total;

	for (size_t i = 0; i < sizeof(*c) / sizeof(uint64_t); i++)
		dst[i] += __atomic_load_n(&src[i], __ATOMIC_RELAXED);
}

const char *stats_proto_name(enum stats_proto p)
{
	static const char *const names[STATS_PROTO_N] = {"udp", "http"};

	return (unsigned)p < STATS_PROTO_N ? names[p] : "unknown";
}

const char *stats_action_name(enum stats_action a)
{
	static const char *const names[STATS_ACTION_N] = {"connect", "announce", "scrape"};

	return (unsigned)a < STATS_ACTION_N ? names[a] : "unknown";
}

const char *stats_err_name(enum stats_err e)
{
	static const char *const names[STATS_ERR_N] = {
	    [STATS_ERR_MALFORMED] = "malformed",
	    [STATS_ERR_CONNID] = "connection_id",
	    [STATS_ERR_PORT] = "port",
	    [STATS_ERR_SWARMS] = "swarm_limit",
	    [STATS_ERR_PEERS] = "peer_limit",
	    [STATS_ERR_MEMORY] = "memory_limit",
	    [STATS_ERR_FULL_SCRAPE] = "full_scrape",
	    [STATS_ERR_ACCESS] = "access_list",
	};

	return (unsigned)e < STATS_ERR_N ? names[e] : "unknown";
}
