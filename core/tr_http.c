/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * tr_http.c - HTTP tracker queries in, bencoded bodies out (BEP 3, 7, 23, 48).
 *
 * The announcing peer is the client's address unless tr_params says to
 * trust the ip/ipv4/ipv6 parameters; a client that proves an address of the
 * other family (BEP 7 ipv4=/ipv6=) is registered under both and gets peers
 * of both families ("peers" and "peers6").
 *
 * Access list (core/acl.h): an announce for a refused hash gets a failure
 * reason; a scrape lists refused hashes with zeros, like unknown ones.
 */
#include "tracker.h"

#include <stdlib.h>
#include <string.h>

#include "http_req.h"
#include "http_resp.h"
#include "limits.h"
#include "ptab.h"
#include "tr_internal.h"

#define MSG_FULL_SCRAPE "full scrape is not supported: give info_hash"

static size_t failure(struct tr_ctx *ctx, enum stats_err e, uint8_t *out, size_t cap,
		      const char *reason)
{
	STATS_INC(ctx->stats->err[STATS_HTTP][e]);
	return http_resp_write_failure(out, cap, reason);
}

/* The addresses to register: the client's, or the trusted parameters'.
 * Returns how many (1 or 2); addr[0] is the one peers are chosen for. */
static unsigned announce_addrs(const struct tracker *tr, const struct http_req_announce *q,
			       const struct tr_addr *client, struct tr_addr addr[2])
{
	struct tr_addr v4 = {0}, v6 = {0};

	if (client->family == TR_AF_INET)
		v4 = *client;
	else
		v6 = *client;
	if (TR_P(tr, http_trust_ip_params)) {
		if (q->has_ip && q->ip_family == 4)
			v4 = tr_addr_v4(q->ip, 0);
		if (q->has_ip && q->ip_family == 6)
			v6 = tr_addr_v6(q->ip, 0);
		if (q->has_ipv4)
			v4 = tr_addr_v4(q->ipv4, 0);
		if (q->has_ipv6)
			v6 = tr_addr_v6(q->ipv6, 0);
	}
	v4.port = v6.port = q->port;
	bool v4_first = client->family == TR_AF_INET ? v4.family != 0 : v6.family == 0;
	unsigned n = 0;

	addr[n++] = v4_first ? v4 : v6;
	if ((v4_first ? v6 : v4).family != 0)
		addr[n++] = v4_first ? v6 : v4;
	return n;
}

static size_t http_announce(struct tr_ctx *ctx, const char *query, size_t qlen,
			    const struct tr_addr *client, uint64_t now, uint8_t *out, size_t cap)
{
	const struct tracker *tr = ctx->tr;
	struct http_req_announce q;
	enum http_req_err qe = http_req_parse_announce(query, qlen, &q);

	if (qe != HTTP_REQ_OK) {
		STATS_INC(ctx->stats->http_bad[qe]);
		return failure(ctx, STATS_ERR_MALFORMED, out, cap, http_req_err_msg(qe));
	}
	if (tr_refused(tr, q.info_hash))
		return failure(ctx, STATS_ERR_ACCESS, out, cap, ACL_MSG_REFUSED);

	struct tr_addr addr[2];
	unsigned naddr = announce_addrs(tr, &q, client, addr);
	bool v4_first = addr[0].family == TR_AF_INET;
	uint8_t peers4[TR_HTTP_PEERS_MAX_V4 * TR_PEER4_LEN];
	uint8_t peers6[TR_HTTP_PEERS_MAX_V6 * TR_PEER6_LEN];
	uint32_t want4 = tr_numwant(tr, q.numwant, TR_HTTP_PEERS_MAX_V4);
	uint32_t want6 = tr_numwant(tr, q.numwant, TR_HTTP_PEERS_MAX_V6);
	struct ptab_announce pa = {
	    .info_hash = q.info_hash,
	    .peer = addr[0],
	    /* BEP 21 "paused" is a regular announce for the table. */
	    .event = q.event == HTTP_REQ_EV_PAUSED ? HTTP_REQ_EV_NONE : q.event,
	    .seeder = q.has_left && q.left == 0,
	    .numwant = v4_first ? want4 : want6,
	    .numwant_other = naddr == 2 ? (v4_first ? want6 : want4) : 0,
	    .other_self = naddr == 2 ? addr[1] : (struct tr_addr){0},
	    .rnd = tr_rng_next(&ctx->rng),
	    .defer_completed = ctx->sink != NULL,
	};
	struct ptab_result r;
	enum ptab_err pe = ptab_announce(tr->ptab, &pa, now, v4_first ? peers4 : peers6,
					 v4_first ? peers6 : peers4, &r);
	if (pe == PTAB_OK && ctx->sink != NULL)
		tr_publish(ctx, &pa, &r);
	if (pe == PTAB_OK && naddr == 2) {
		/* Register the second address too; it selects nothing, and one
		 * announce completes one download: the first address counted it. */
		struct ptab_result r2;

		pa.peer = addr[1];
		pa.numwant = pa.numwant_other = 0;
		if (pa.event == UDP_MSG_EV_COMPLETED)
			pa.event = UDP_MSG_EV_NONE;
		pe = ptab_announce(tr->ptab, &pa, now, NULL, NULL, &r2);
		if (pe == PTAB_OK)
			r.counts = r2.counts;
		if (pe == PTAB_OK && ctx->sink != NULL)
			tr_publish(ctx, &pa, &r2);
	}
	if (pe != PTAB_OK) {
		tr_count_refusal(ctx, STATS_HTTP, pe);
		return http_resp_write_failure(out, cap, ptab_err_msg(pe));
	}

	STATS_INC(ctx->stats->req[STATS_HTTP][STATS_ANNOUNCE]);
	struct http_resp_announce a = {
	    .interval = tr_interval(ctx),
	    .min_interval = TR_P(tr, min_interval),
	    .complete = r.counts.seeders,
	    .incomplete = r.counts.leechers,
	    .downloaded = r.counts.completed,
	    .compact = q.compact,
	    .no_peer_id = q.no_peer_id,
	    .peers4 = peers4,
	    .n4 = v4_first ? r.n : r.n_other,
	    .peers6 = peers6,
	    .n6 = v4_first ? r.n_other : r.n,
	};
	return http_resp_write_announce(out, cap, &a);
}

static int cmp_hash(const void *a, const void *b)
{
	return memcmp(a, b, TR_HASH_LEN);
}

static size_t http_scrape(struct tr_ctx *ctx, const char *query, size_t qlen, uint8_t *out,
			  size_t cap)
{
	struct http_req_scrape q;
	struct http_resp_scrape_entry e[TR_HTTP_SCRAPE_MAX];
	enum http_req_err qe = http_req_parse_scrape(query, qlen, &q);

	if (qe != HTTP_REQ_OK) {
		STATS_INC(ctx->stats->http_bad[qe]);
		return failure(ctx, STATS_ERR_MALFORMED, out, cap, http_req_err_msg(qe));
	}
	if (q.n == 0)
		return failure(ctx, STATS_ERR_FULL_SCRAPE, out, cap, MSG_FULL_SCRAPE);

	/* A bencoded dictionary is sorted and has no duplicate keys. */
	qsort(q.info_hash, q.n, TR_HASH_LEN, cmp_hash);
	uint32_t n = 0;
	bool hidden = false;
	for (uint32_t i = 0; i < q.n; i++) {
		if (n > 0 && memcmp(e[n - 1].info_hash, q.info_hash[i], TR_HASH_LEN) == 0)
			continue;
		struct ptab_counts c = {0};

		if (tr_refused(ctx->tr, q.info_hash[i]))
			hidden = true;
		else
			ptab_scrape(ctx->tr->ptab, q.info_hash[i], &c);
		e[n++] = (struct http_resp_scrape_entry){
		    .info_hash = q.info_hash[i],
		    .complete = c.seeders,
		    .downloaded = c.completed,
		    .incomplete = c.leechers,
		};
	}
	if (hidden)
		STATS_INC(ctx->stats->err[STATS_HTTP][STATS_ERR_ACCESS]);
	STATS_INC(ctx->stats->req[STATS_HTTP][STATS_SCRAPE]);
	return http_resp_write_scrape(out, cap, e, n);
}

size_t tr_http_handle(struct tr_ctx *ctx, enum tr_http_route route, const char *query, size_t qlen,
		      const struct tr_addr *client, uint64_t now, uint8_t *out, size_t cap)
{
	if (route == TR_HTTP_SCRAPE)
		return http_scrape(ctx, query, qlen, out, cap);
	return http_announce(ctx, query, qlen, client, now, out, cap);
}
