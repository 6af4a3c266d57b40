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
struct sync_rec;

struct tr_params {
	uint32_t peer_timeout;	    /* seconds; the table's, for records from a cluster */
	uint32_t announce_interval; /* seconds */
	uint32_t announce_jitter;   /* seconds added at random: [interval, interval + jitter] */
	uint32_t min_interval;	    /* HTTP "min interval"; 0 = omit */
	uint32_t numwant_default;   /* when the client sends -1 or none */
	uint32_t numwant_max;	    /* cap before the one-frame cap */
	uint32_t connid_ttl;	    /* seconds a connection id stays valid */
	bool http_trust_ip_params;  /* honour HTTP ip/ipv4/ipv6 parameters */
};

/* One field of tr->p, as the threads read it: a reload (the control
 * thread) may store a new value while they run. Each field stands alone,
 * so one relaxed load each is all it takes. */
#define TR_P(tr, field) __atomic_load_n(&(tr)->p.field, __ATOMIC_RELAXED)

/* Shared by every thread, read-only once built, but for p (TR_P), the keys
 * (tr_key_replace) and acl. */
struct tracker {
	struct ptab *ptab;
	struct tr_params p;
	/* Connection-ID keys: IDs are issued with keys[key_cur] (tr_key) and
	 * accepted under the other one too while key_prev_valid. Set before
	 * any reader starts; afterwards only tr_key_replace() changes them. */
	struct connid_key keys[2];
	unsigned key_cur;
	bool key_prev_valid;
	/* The access list (core/acl.h), NULL = off. Replaced whole by a
	 * reload: readers load it once per request (acquire) as online RCU
	 * readers of the table; the old list is freed after a grace period
	 * (ptab_grace_start). */
	struct acl *acl;
};

/*
 * Where a thread hands what its announces changed to a cluster's sync
 * thread (cluster/). push() stamps r->ms with the thread's clock and queues
 * the record; it never blocks and returns false when the record was
 * dropped (its queue full), which the sink counts.
 */
struct tr_sink {
	bool (*push)(void *arg, struct sync_rec *r);
	void *arg;
};

/* The key connection IDs are issued with now. */
static inline const struct connid_key *tr_key(const struct tracker *tr)
{
	return &tr->keys[__atomic_load_n(&tr->key_cur, __ATOMIC_ACQUIRE)];
}

/*
 * Puts k in force for new connection IDs while threads run (a cluster's
 * shared key arriving after start); IDs issued under the key it replaces
 * stay valid for their lifetime. The key's 16 bytes are written into the
 * slot no reader uses, then the slot index is published (release), so a
 * reader sees a whole key. One writer; at most one replacement per
 * process, or at least connid_ttl apart, so no reader can still be reading
 * the slot the next replacement writes.
 */
static inline void tr_key_replace(struct tracker *tr, const struct connid_key *k)
{
	unsigned next = tr->key_cur ^ 1;

	tr->keys[next] = *k;
	__atomic_store_n(&tr->key_prev_valid, true, __ATOMIC_RELEASE);
	__atomic_store_n(&tr->key_cur, next, __ATOMIC_RELEASE);
}

/* Whether cid is a valid connection ID for src at now under the key in
 * force, or under the one it replaced. */
static inline bool tr_connid_ok(const struct tracker *tr, const struct tr_addr *src, uint64_t cid,
				uint64_t now)
{
	unsigned cur = __atomic_load_n(&tr->key_cur, __ATOMIC_ACQUIRE);

	uint32_t ttl = TR_P(tr, connid_ttl);

	if (connid_check(&tr->keys[cur], src, cid, now, ttl))
		return true;
	return __atomic_load_n(&tr->key_prev_valid, __ATOMIC_ACQUIRE) &&
	       connid_check(&tr->keys[cur ^ 1], src, cid, now, ttl);
}

/* One per thread, owned by it. */
struct tr_ctx {
	const struct tracker *tr;
	struct stats_ctr *stats;
	struct tr_rng rng;
	/* NULL without a cluster. With one, announces that change the table
	 * (a new peer, a role change, a completion, a stop) or that fall in a
	 * new refresh window (ptab_result.refresh) are pushed here, and
	 * completions are counted when the stream brings them back. */
	const struct tr_sink *sink;
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
 * hint: what tr_udp_hint() and ptab_prefetch() made of this same request,
 * or NULL.
 */
size_t tr_udp_handle(struct tr_ctx *ctx, const struct tr_addr *src, const uint8_t *req, size_t len,
		     uint8_t *out, size_t cap, uint64_t now, const struct ptab_hint *hint);

/*
 * For the packet loop's burst prefetch (ptab_prefetch): fills *h with what
 * tr_udp_handle() will ask the table for the BEP 15 request of len bytes
 * from src, and returns true; false for a datagram that asks the table
 * nothing (a connect, garbage). An announce names the peer by the same rule
 * tr_udp_handle() applies (tr_udp_peer), so the hint cannot drift from the
 * announce, and draws its random bits from ctx here; a scrape is a hint with
 * peer family 0. Reads at most len bytes; h->info_hash points into req.
 * After ptab_prefetch, pass h to tr_udp_handle() for the same request
 * (hint above; NULL otherwise): the announce then uses what the prefetch
 * found.
 */
bool tr_udp_hint(struct tr_ctx *ctx, const struct tr_addr *src, const uint8_t *req, size_t len,
		 struct ptab_hint *h);

/* The peer a BEP 15 announce from src with `port` enters into a swarm: the
 * source address with the announce's port. BEP 15's ip field is ignored, so
 * a client cannot enter somebody else's address. */
static inline struct tr_addr tr_udp_peer(const struct tr_addr *src, uint16_t port)
{
	struct tr_addr a = *src;

	a.port = port;
	return a;
}

/* What became of a record from a cluster's stream (tr_sync_apply). */
enum tr_sync_result {
	TR_SYNC_APPLIED,     /* the table has it */
	TR_SYNC_STALE,	     /* older than peer_timeout: its peer left out (a completion counts) */
	TR_SYNC_REFUSED_ACL, /* the access list in force refuses the torrent */
	TR_SYNC_REFUSED,     /* the table refused it (a limit): see ptab's refusals */
	TR_SYNC_RESULT_N,
};

/*
 * Applies one record from a cluster's stream, at now (seconds), through the
 * same table calls as an announce, with the record's own time, so the peer
 * expires here when it does at its origin. own: the record is this
 * instance's, come back (its peer change is already in the table; only a
 * completion is counted, as every instance counts it from the stream). A
 * record from the future is taken as now. The caller is an online RCU
 * reader of the table.
 */
enum tr_sync_result tr_sync_apply(const struct tracker *tr, const struct sync_rec *r, bool own,
				  uint64_t now);

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
