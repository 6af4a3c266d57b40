/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * tr_internal.h - rules the UDP and HTTP handlers share. Not exported.
 */
#ifndef DPTRACK_CORE_TR_INTERNAL_H
#define DPTRACK_CORE_TR_INTERNAL_H

#include <string.h>

#include "acl.h"
#include "ptab.h"
#include "sync.h"
#include "tracker.h"
#include "udp_msg.h"

/* The announce interval with jitter: uniform in [interval, interval + jitter],
 * so clients that started together drift apart instead of arriving in waves. */
static inline uint32_t tr_interval(struct tr_ctx *ctx)
{
	const struct tracker *tr = ctx->tr;

	return TR_P(tr, announce_interval) + tr_rng_below(&ctx->rng, TR_P(tr, announce_jitter) + 1);
}

/* How many peers to select: the client's ask (negative = the default), at
 * most numwant_max, at most what one reply of that family holds. */
static inline uint32_t tr_numwant(const struct tracker *tr, int64_t asked, uint32_t family_cap)
{
	uint64_t n = asked < 0 ? TR_P(tr, numwant_default) : (uint64_t)asked;
	uint32_t max = TR_P(tr, numwant_max);

	if (n > max)
		n = max;
	return n > family_cap ? family_cap : (uint32_t)n;
}

/* Whether the access list in force refuses info hash h (20 bytes). */
static inline bool tr_refused(const struct tracker *tr, const uint8_t *h)
{
	const struct acl *a = __atomic_load_n(&tr->acl, __ATOMIC_ACQUIRE);

	return a != NULL && acl_refuses(a, h);
}

/* Counts a refusal by the peer table under the protocol's error counters. */
static inline void tr_count_refusal(struct tr_ctx *ctx, enum stats_proto proto, enum ptab_err e)
{
	static const enum stats_err map[PTAB_ERR_N] = {
	    [PTAB_ERR_SWARMS] = STATS_ERR_SWARMS,
	    [PTAB_ERR_PEERS] = STATS_ERR_PEERS,
	    [PTAB_ERR_MEMORY] = STATS_ERR_MEMORY,
	};

	STATS_INC(ctx->stats->err[proto][map[e]]);
}

/*
 * A cluster's share of an announce the table took (pa, its result r): a
 * record for the sync thread when the announce changed something or falls
 * in a new refresh window, nothing for an announce that only refreshed its
 * stamp within the window, nor for a stop of a peer that was not there.
 * A completion whose record is dropped is counted here, since the stream
 * that counts completions (pa->defer_completed) will never bring it back.
 */
static inline void tr_publish(struct tr_ctx *ctx, const struct ptab_announce *pa,
			      const struct ptab_result *r)
{
	bool stop = pa->event == UDP_MSG_EV_STOPPED;
	int now_role = stop ? -1 : (int)pa->seeder;

	if (r->was == now_role && !r->completion && !r->refresh)
		return;
	struct sync_rec rec = {.peer = pa->peer};
	memcpy(rec.info_hash, pa->info_hash, TR_HASH_LEN);
	rec.flags = (uint8_t)((pa->seeder && !stop ? SYNC_F_SEEDER : 0) |
			      (stop ? SYNC_F_STOPPED : 0) | (r->completion ? SYNC_F_COMPLETED : 0));
	if (!ctx->sink->push(ctx->sink->arg, &rec) && r->completion)
		ptab_completed_add(ctx->tr->ptab, pa->info_hash);
}

#endif
