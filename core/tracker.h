/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * tracker.h - the tracker logic: one entry point per protocol.
 *
 * tr_udp_handle() takes a BEP 15 payload and writes the reply payload;
 * tr_http_handle() takes an /announce or /scrape query and writes a
 * bencoded body. Both call the same peer table. Time, keys and randomness
 * come in as arguments (through struct tr_ctx), so every rule is testable
 * and replay is deterministic.
 */
#ifndef DPTRACK_CORE_TRACKER_H
#define DPTRACK_CORE_TRACKER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "addr.h"
#include "connid.h"
#include "rng.h"
#include "stats.h"

struct acl;
struct ptab;
struct ptab_hint;

struct tr_params {
	uint32_t announce_interval; /* seconds */
	uint32_t announce_jitter;   /* seconds added at random: [interval, interval + jitter] */
	uint32_t min_interval;	    /* HTTP "min interval"; 0 = omit */
	uint32_t numwant_default;   /* when the client sends -1 or none */
	uint32_t numwant_max;	    /* cap before the one-frame cap */
	uint32_t connid_ttl;	    /* seconds a connection id stays valid */
	bool http_trust_ip_params;  /* honour HTTP ip/ipv4/ipv6 parameters */
};

/* Shared by every thread, read-only once built, but for acl. */
struct tracker {
	struct ptab *ptab;
	struct tr_params p;
	struct connid_key key;
	/* The access list (core/acl.h), NULL = off. Replaced whole by a
	 * reload: readers load it once per request (acquire) as online RCU
	 * readers of the table; the old list is freed after a grace period
	 * (ptab_grace_start). */
	struct acl *acl;
};

/* One per thread, owned by it. */
struct tr_ctx {
	const struct tracker *tr;
	struct stats_ctr *stats;
	struct tr_rng rng;
};

/*
 * Handles one BEP 15 request of len bytes from src, at now (seconds).
 *
 * Returns the reply length written to out (at most cap, which the caller sets
 * to the family's one-frame payload, TR_UDP_PAYLOAD_MAX_V4/V6), or 0 for no
 * reply; every outcome is counted in ctx->stats. A request without a valid
 * connection id is never answered with more bytes than it sent.
 *
 * out may be req itself, as on the DPDK path, which answers in the frame it
 * received: every request field is read before the reply overwrites it
 * (scrape entry i, 12 bytes at 8 + 12i, never reaches hash i+1 at 16 + 20i).
 */
size_t tr_udp_handle(struct tr_ctx *ctx, const struct tr_addr *src, const uint8_t *req, size_t len,
		     uint8_t *out, size_t cap, uint64_t now);

/*
 * For the packet loop's burst prefetch (ptab_prefetch): fills *h with what
 * tr_udp_handle() will ask the table for the BEP 15 request of len bytes
 * from src, and returns true; false for a datagram that asks the table
 * nothing (a connect, garbage). An announce names the peer by the same rule
 * tr_udp_handle() applies (tr_udp_peer), so the hint cannot drift from the
 * announce; a scrape is a hint with peer family 0. Reads at most len bytes;
 * h->info_hash points into req.
 */
bool tr_udp_hint(const struct tr_addr *src, const uint8_t *req, size_t len, struct ptab_hint *h);

/* The peer a BEP 15 announce from src with `port` enters into a swarm: the
 * source address with the announce's port. BEP 15's ip field is ignored, so
 * a client cannot enter somebody else's address. */
static inline struct tr_addr tr_udp_peer(const struct tr_addr *src, uint16_t port)
{
	struct tr_addr a = *src;

	a.port = port;
	return a;
}

enum tr_http_route {
	TR_HTTP_ANNOUNCE,
	TR_HTTP_SCRAPE,
};

/*
 * Handles an HTTP tracker query (bytes after '?') from client at now.
 *
 * Returns the bencoded body length written to out: the announce or scrape
 * reply, or a "failure reason" body for a bad or refused request (tracker
 * convention: still HTTP 200). Returns 0 only if cap cannot hold the body,
 * which never happens with cap >= TR_HTTP_BODY_MAX (limits.h).
 */
size_t tr_http_handle(struct tr_ctx *ctx, enum tr_http_route route, const char *query, size_t qlen,
		      const struct tr_addr *client, uint64_t now, uint8_t *out, size_t cap);

#endif
