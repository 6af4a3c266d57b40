/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * tr_udp.c - BEP 15 requests in, BEP 15 replies out.
 *
 * Malformed datagrams are dropped without a reply (their transaction id
 * cannot be trusted, and silence amplifies nothing). Requests with a bad
 * connection id get an error no longer than the request itself, so clients
 * whose id expired reconnect, and spoofed sources gain nothing.
 *
 * Access list (core/acl.h): an announce for a refused hash gets a BEP 15
 * error; a scrape answers refused hashes with zeros, as for a torrent
 * nobody announced, so one scrape of several hashes keeps working.
 */
#include "tracker.h"

#include <string.h>

#include "limits.h"
#include "ptab.h"
#include "tr_internal.h"
#include "udp_msg.h"

/* BEP 15 error texts. */
#define MSG_CONNID "connection id expired or invalid"
#define MSG_PORT   "invalid port"

/* An error reply to a request that proved nothing: cut to the request's own
 * length so it can never amplify. */
static size_t reply_unauthenticated_error(uint8_t *out, size_t cap, size_t req_len, uint32_t tid,
					  const char *msg)
{
	return udp_msg_write_error(out, cap < req_len ? cap : req_len, tid, msg);
}

static size_t udp_announce(struct tr_ctx *ctx, const struct tr_addr *src,
			   const struct udp_msg_req *m, size_t len, uint8_t *out, size_t cap,
			   uint64_t now, const struct ptab_hint *hint)
{
	const struct tracker *tr = ctx->tr;
	const struct udp_msg_announce *an = &m->announce;
	struct stats_ctr *st = ctx->stats;

	if (!tr_connid_ok(tr, src, m->connection_id, now)) {
		STATS_INC(st->err[STATS_UDP][STATS_ERR_CONNID]);
		return reply_unauthenticated_error(out, cap, len, m->transaction_id, MSG_CONNID);
	}
	if (tr_refused(tr, an->info_hash)) {
		STATS_INC(st->err[STATS_UDP][STATS_ERR_ACCESS]);
		return udp_msg_write_error(out, cap, m->transaction_id, ACL_MSG_REFUSED);
	}
	if (an->port == 0) {
		STATS_INC(st->err[STATS_UDP][STATS_ERR_PORT]);
		return udp_msg_write_error(out, cap, m->transaction_id, MSG_PORT);
	}

	unsigned plen = src->family == TR_AF_INET ? TR_PEER4_LEN : TR_PEER6_LEN;
	uint32_t fits =
	    cap > TR_UDP_ANNOUNCE_HDR ? (uint32_t)((cap - TR_UDP_ANNOUNCE_HDR) / plen) : 0;
	struct ptab_announce pa = {
	    .info_hash = an->info_hash,
	    .peer = tr_udp_peer(src, an->port),
	    .event = (uint8_t)an->event,
	    .seeder = an->left == 0,
	    .numwant = tr_numwant(tr, an->num_want, fits),
	    .rnd = hint != NULL ? hint->rnd : tr_rng_next(&ctx->rng),
	    .defer_completed = ctx->sink != NULL,
	    .hint = hint,
	};

	struct ptab_result r;
	enum ptab_err e = ptab_announce(tr->ptab, &pa, now, out + TR_UDP_ANNOUNCE_HDR, NULL, &r);
	if (e != PTAB_OK) {
		tr_count_refusal(ctx, STATS_UDP, e);
		return udp_msg_write_error(out, cap, m->transaction_id, ptab_err_msg(e));
	}
	if (ctx->sink != NULL)
		tr_publish(ctx, &pa, &r);
	STATS_INC(st->req[STATS_UDP][STATS_ANNOUNCE]);
	if (udp_msg_write_announce(out, cap, m->transaction_id, tr_interval(ctx), r.counts.leechers,
				   r.counts.seeders) == 0)
		return 0;
	return TR_UDP_ANNOUNCE_HDR + (size_t)r.n * plen;
}

static size_t udp_scrape(struct tr_ctx *ctx, const struct tr_addr *src, const struct udp_msg_req *m,
			 size_t len, uint8_t *out, size_t cap, uint64_t now)
{
	const struct tracker *tr = ctx->tr;

	if (!tr_connid_ok(tr, src, m->connection_id, now)) {
		STATS_INC(ctx->stats->err[STATS_UDP][STATS_ERR_CONNID]);
		return reply_unauthenticated_error(out, cap, len, m->transaction_id, MSG_CONNID);
	}
	size_t n = udp_msg_write_scrape(out, cap, m->transaction_id);
	if (n == 0)
		return 0;
	/* Answer the first hashes that fit one frame (BEP 15 allows about 74
	 * per request; more are not refused, just not answered). */
	bool hidden = false;
	for (uint32_t i = 0; i < m->scrape.n && i < TR_UDP_SCRAPE_MAX; i++) {
		const uint8_t *h = m->scrape.hashes + (size_t)i * TR_HASH_LEN;
		struct ptab_counts c = {0};

		if (tr_refused(tr, h))
			hidden = true;
		else
			ptab_scrape(tr->ptab, h, &c);
		size_t w = udp_msg_write_scrape_entry(out + n, cap - n, c.seeders, c.completed,
						      c.leechers);
		if (w == 0)
			break;
		n += w;
	}
	if (hidden)
		STATS_INC(ctx->stats->err[STATS_UDP][STATS_ERR_ACCESS]);
	STATS_INC(ctx->stats->req[STATS_UDP][STATS_SCRAPE]);
	return n;
}

bool tr_udp_hint(struct tr_ctx *ctx, const struct tr_addr *src, const uint8_t *req, size_t len,
		 struct ptab_hint *h)
{
	struct udp_msg_peek pk;

	if (!udp_msg_peek(req, len, &pk))
		return false;
	h->info_hash = pk.info_hash;
	h->seeder = pk.seeder;
	h->tab = NULL;
	/* Port 0: a scrape, or an announce tr_udp_handle() refuses. */
	if (pk.port != 0) {
		h->peer = tr_udp_peer(src, pk.port);
		h->rnd = tr_rng_next(&ctx->rng);
	} else {
		h->peer = (struct tr_addr){.family = 0};
	}
	return true;
}

size_t tr_udp_handle(struct tr_ctx *ctx, const struct tr_addr *src, const uint8_t *req, size_t len,
		     uint8_t *out, size_t cap, uint64_t now, const struct ptab_hint *hint)
{
	struct udp_msg_req m;
	enum udp_msg_err e = udp_msg_parse(req, len, &m);

	if (e != UDP_MSG_OK) {
		STATS_INC(ctx->stats->err[STATS_UDP][STATS_ERR_MALFORMED]);
		STATS_INC(ctx->stats->udp_bad[e]);
		return 0;
	}
	switch (m.action) {
	case UDP_MSG_CONNECT:
		STATS_INC(ctx->stats->req[STATS_UDP][STATS_CONNECT]);
		/* 16 bytes back for 16 or more in: no amplification. */
		return udp_msg_write_connect(out, cap, m.transaction_id,
					     connid_issue(tr_key(ctx->tr), src, now));
	case UDP_MSG_ANNOUNCE:
		return udp_announce(ctx, src, &m, len, out, cap, now, hint);
	case UDP_MSG_SCRAPE:
		return udp_scrape(ctx, src, &m, len, out, cap, now);
	default: /* udp_msg_parse() refuses other actions */
		return 0;
	}
}
