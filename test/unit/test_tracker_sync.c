/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_tracker_sync.c - the tracker's side of a cluster: which announces
 * hand a record to the sync thread (tr_publish, through a thread's sink),
 * and what a record from the stream does to the table (tr_sync_apply).
 *
 * A capturing sink stands for the rings; the tracker is the fixture's, over
 * a fresh table. Announces go through tr_udp_handle and tr_http_handle as a
 * client's would; records are made here field by field.
 */
#define _GNU_SOURCE /* memmem */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "eal_test.h"
#include "tracker_fixture.h"
#include "core/ptab.h"
#include "core/sync.h"
#include "core/tracker.h"
#include "core/udp_msg.h"

#define T0 1000000u /* seconds */

/* ---- a sink that keeps what it is given --------------------------------- */

static struct tracker_fx fx;

static uint64_t fx_now_ms(void)
{
	return fx.now * 1000 + 123;
}

static struct {
	struct sync_rec rec[64];
	unsigned n;
	bool full; /* refuse every push, as a full ring does */
	unsigned refused;
} cap;

static bool cap_push(void *arg, struct sync_rec *r)
{
	(void)arg;
	r->ms = fx_now_ms();
	if (cap.full || cap.n == 64) {
		cap.refused++;
		return false;
	}
	cap.rec[cap.n++] = *r;
	return true;
}

static const struct tr_sink sink = {cap_push, NULL};

/* ---- requests ------------------------------------------------------------- */

static void put_be(uint8_t *p, uint64_t v, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		p[i] = (uint8_t)(v >> (8 * (n - 1 - i)));
}

/* A BEP 15 announce from src (its own port) through tr_udp_handle. */
static void udp_announce(const struct tr_addr *src, const uint8_t *ih, bool seeder, uint32_t event)
{
	uint8_t req[98] = {0}, out[TR_UDP_PAYLOAD_MAX_V6];

	put_be(req, connid_issue(tr_key(&fx.tr), src, fx.now), 8);
	put_be(req + 8, UDP_MSG_ANNOUNCE, 4);
	put_be(req + 12, 7, 4);
	memcpy(req + 16, ih, TR_HASH_LEN);
	put_be(req + 64, seeder ? 0 : 1000, 8);
	put_be(req + 80, event, 4);
	put_be(req + 92, 0, 4); /* numwant 0 */
	put_be(req + 96, src->port, 2);
	size_t n = tr_udp_handle(&fx.ctx, src, req, sizeof(req), out, sizeof(out), fx.now, NULL);
	assert_int_equal(n, 20); /* an announce reply, no peers asked */
}

/* An HTTP announce from client with the query's parameters; every byte of
 * the hash percent-encoded. extra: more parameters ("" for none). */
static void http_announce(const struct tr_addr *client, const uint8_t *ih, bool seeder,
			  const char *event, const char *extra)
{
	char q[512], hex[3 * TR_HASH_LEN + 1];
	uint8_t out[TR_HTTP_BODY_MAX];

	for (unsigned i = 0; i < TR_HASH_LEN; i++)
		snprintf(hex + 3 * i, 4, "%%%02x", ih[i]);
	snprintf(q, sizeof(q),
		 "info_hash=%s&peer_id=-XX0001-abcdefghijkl&port=%u&left=%u&compact=1&numwant=0"
		 "%s%s%s",
		 hex, client->port, seeder ? 0 : 100, event[0] ? "&event=" : "", event, extra);
	size_t n = tr_http_handle(&fx.ctx, TR_HTTP_ANNOUNCE, q, strlen(q), client, fx.now, out,
				  sizeof(out));
	assert_true(n > 0);
	if (memmem(out, n, "failure reason", 14) != NULL)
		fail_msg("HTTP announce refused: %.*s", (int)n, out);
}

static struct ptab_counts counts(const uint8_t *ih)
{
	struct ptab_counts c;

	ptab_scrape(fx.pt, ih, &c);
	return c;
}

static void hash_of(uint8_t ih[TR_HASH_LEN], unsigned seed)
{
	for (unsigned i = 0; i < TR_HASH_LEN; i++)
		ih[i] = (uint8_t)(seed * 97 + i * 31 + 1);
}

/* Whether src is in the swarm, in that role: asked through a fresh peer's
 * announce with numwant, as a client would see it. */
static bool in_swarm(const uint8_t *ih, const struct tr_addr *src)
{
	struct ptab_announce a = {.info_hash = ih, .peer = v4(900), .numwant = 200};
	uint8_t out[200 * TR_PEER6_LEN], other[200 * TR_PEER6_LEN];
	struct ptab_result r;
	bool found;

	a.event = UDP_MSG_EV_NONE;
	a.numwant_other = 200;
	assert_int_equal(ptab_announce(fx.pt, &a, fx.now, out, other, &r), PTAB_OK);
	found = src->family == TR_AF_INET ? peers_include(out, r.n, TR_PEER4_LEN, src)
					  : peers_include(other, r.n_other, TR_PEER6_LEN, src);
	a.event = UDP_MSG_EV_STOPPED;
	assert_int_equal(ptab_announce(fx.pt, &a, fx.now, NULL, NULL, &r), PTAB_OK);
	return found;
}

static struct sync_rec rec_of(const uint8_t *ih, const struct tr_addr *peer, uint8_t flags,
			      uint64_t s)
{
	struct sync_rec r = {.ms = s * 1000 + 500, .peer = *peer, .flags = flags};

	memcpy(r.info_hash, ih, TR_HASH_LEN);
	return r;
}

/* ---- fixture -------------------------------------------------------------- */

static int setup(void **state)
{
	(void)state;
	memset(&cap, 0, sizeof(cap));
	if (tracker_fx_up(&fx, "sync", 64, T0) != 0)
		return -1;
	fx.tr.p.peer_timeout = 2700;
	fx.ctx.sink = &sink;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	tracker_fx_down(&fx);
	return 0;
}

static int group_setup(void **state)
{
	(void)state;
	return eal_test_init("trsync", 256) < 0 ? -1 : 0;
}

static int group_teardown(void **state)
{
	(void)state;
	eal_test_fini();
	return 0;
}

/* ---- what is published ------------------------------------------------------ */

/* A new peer, then the same peer again within its refresh window: one
 * record, with its address, port, role and the thread's clock. */
static void test_sync_publishes_a_new_peer_once_per_refresh_window(void **state)
{
	struct tr_addr p = v4(1);
	uint8_t ih[TR_HASH_LEN];

	(void)state;
	hash_of(ih, 1);
	udp_announce(&p, ih, false, UDP_MSG_EV_STARTED);
	assert_int_equal(cap.n, 1);
	assert_memory_equal(cap.rec[0].info_hash, ih, TR_HASH_LEN);
	assert_memory_equal(&cap.rec[0].peer, &p, sizeof(p));
	assert_int_equal(cap.rec[0].flags, 0);
	assert_int_equal(cap.rec[0].ms, fx_now_ms());
	fx.now += 60;
	udp_announce(&p, ih, false, UDP_MSG_EV_NONE);
	assert_int_equal(cap.n, 1);
}

/*
 * A peer that keeps announcing is refreshed often enough that a copy made
 * from its records never expires while it announces: at every interval
 * from 1 s to the longest the configuration allows (peer_timeout 2700 s,
 * interval + jitter under it), over 10 hours, the newest record is never
 * peer_timeout old when the next announce comes, and one interval's
 * records are few.
 */
static void test_sync_refreshes_keep_remote_copies_alive_at_every_interval(void **state)
{
	static const uint32_t every[] = {1, 30, 300, 600, 680, 681, 900, 1350, 1800, 1920, 2699};
	uint8_t ih[TR_HASH_LEN];

	(void)state;
	hash_of(ih, 2);
	for (size_t k = 0; k < sizeof(every) / sizeof(every[0]); k++) {
		struct tr_addr p = v4(100 + (unsigned)k);
		uint64_t last_pub, start = fx.now;
		unsigned announces = 0, recs = 0;

		cap.n = 0;
		udp_announce(&p, ih, false, UDP_MSG_EV_STARTED);
		last_pub = fx.now;
		while (fx.now < start + 36000) {
			fx.now += every[k];
			if (fx.now - last_pub >= fx.tr.p.peer_timeout)
				fail_msg("every %u s: the copy expired %lu s after its record",
					 every[k], (unsigned long)(fx.now - last_pub));
			cap.n = 0;
			udp_announce(&p, ih, false, UDP_MSG_EV_NONE);
			announces++;
			if (cap.n != 0) {
				last_pub = fx.now;
				recs++;
			}
		}
		/* One record per refresh window (680 s here) at most, or one
		 * per announce when announces are further apart. */
		if (every[k] <= 680)
			assert_true(recs <= 36000 / 680 + 2);
		else
			assert_int_equal(recs, announces);
		print_message("every %4u s: %u records for %u announces\n", every[k], recs,
			      announces);
	}
}

/* A role change, a stop of a present peer: each a record with its flags;
 * a stop of a peer that was never there: nothing. */
static void test_sync_publishes_role_changes_and_stops(void **state)
{
	struct tr_addr p = v6(3), ghost = v6(4);
	uint8_t ih[TR_HASH_LEN];

	(void)state;
	hash_of(ih, 3);
	udp_announce(&p, ih, false, UDP_MSG_EV_STARTED);
	udp_announce(&p, ih, true, UDP_MSG_EV_NONE);
	udp_announce(&p, ih, true, UDP_MSG_EV_STOPPED);
	udp_announce(&ghost, ih, false, UDP_MSG_EV_STOPPED);
	assert_int_equal(cap.n, 3);
	assert_int_equal(cap.rec[0].flags, 0);
	assert_int_equal(cap.rec[1].flags, SYNC_F_SEEDER);
	assert_int_equal(cap.rec[2].flags, SYNC_F_STOPPED);
	assert_memory_equal(&cap.rec[2].peer, &p, sizeof(p));
}

/* With a sink, a completion is published and left to the stream to count
 * (every instance counts it when it comes back); a completion whose record
 * is dropped is counted here, since the stream will never bring it. */
static void test_sync_completions_are_counted_by_the_stream_or_on_a_drop(void **state)
{
	struct tr_addr a = v4(5), b = v4(6);
	uint8_t ih[TR_HASH_LEN];

	(void)state;
	hash_of(ih, 4);
	udp_announce(&a, ih, false, UDP_MSG_EV_STARTED);
	udp_announce(&a, ih, true, UDP_MSG_EV_COMPLETED);
	assert_int_equal(cap.n, 2);
	assert_int_equal(cap.rec[1].flags, SYNC_F_SEEDER | SYNC_F_COMPLETED);
	assert_int_equal(counts(ih).completed, 0);
	/* The record back from the stream, as this instance's own. */
	assert_int_equal(tr_sync_apply(&fx.tr, &cap.rec[1], true, fx.now), TR_SYNC_APPLIED);
	assert_int_equal(counts(ih).completed, 1);
	assert_int_equal(counts(ih).seeders, 1);

	cap.full = true;
	udp_announce(&b, ih, false, UDP_MSG_EV_STARTED);
	udp_announce(&b, ih, true, UDP_MSG_EV_COMPLETED);
	assert_int_equal(cap.refused, 2);
	assert_int_equal(counts(ih).completed, 2);
}

/* An HTTP announce with two addresses (BEP 7, trusted) registers and
 * publishes both, and completes one download, not two. */
static void test_sync_http_announce_with_two_addresses_completes_once(void **state)
{
	struct tr_addr c = v4(7);
	uint8_t ih[TR_HASH_LEN];

	(void)state;
	fx.tr.p.http_trust_ip_params = true;
	hash_of(ih, 5);
	http_announce(&c, ih, false, "started", "&ipv6=fd00::7");
	assert_int_equal(cap.n, 2);
	assert_int_equal(cap.rec[0].peer.family, TR_AF_INET);
	assert_int_equal(cap.rec[1].peer.family, TR_AF_INET6);
	http_announce(&c, ih, true, "completed", "&ipv6=fd00::7");
	assert_int_equal(cap.n, 4);
	assert_int_equal(cap.rec[2].flags, SYNC_F_SEEDER | SYNC_F_COMPLETED);
	assert_int_equal(cap.rec[3].flags, SYNC_F_SEEDER);
	tr_sync_apply(&fx.tr, &cap.rec[2], true, fx.now);
	tr_sync_apply(&fx.tr, &cap.rec[3], true, fx.now);
	assert_int_equal(counts(ih).completed, 1);

	/* Without a cluster too: one completion for the announce. */
	uint8_t ih2[TR_HASH_LEN];
	hash_of(ih2, 6);
	fx.ctx.sink = NULL;
	http_announce(&c, ih2, false, "started", "&ipv6=fd00::7");
	http_announce(&c, ih2, true, "completed", "&ipv6=fd00::7");
	assert_int_equal(counts(ih2).completed, 1);
	assert_int_equal(counts(ih2).seeders, 2);
}

/* ---- what a record from the stream does --------------------------------- */

/* Another instance's records: a peer appears in its role, with the
 * record's age (it expires when its origin's copy does), moves, leaves. */
static void test_sync_apply_enters_moves_and_removes_a_remote_peer(void **state)
{
	struct tr_addr p = v6(20);
	uint8_t ih[TR_HASH_LEN];
	struct ptab_cursor cur = {0};

	(void)state;
	hash_of(ih, 7);
	struct sync_rec r = rec_of(ih, &p, 0, fx.now - 100);
	assert_int_equal(tr_sync_apply(&fx.tr, &r, false, fx.now), TR_SYNC_APPLIED);
	assert_true(in_swarm(ih, &p));
	assert_int_equal(counts(ih).leechers, 1);
	r = rec_of(ih, &p, SYNC_F_SEEDER, fx.now - 50);
	assert_int_equal(tr_sync_apply(&fx.tr, &r, false, fx.now), TR_SYNC_APPLIED);
	assert_int_equal(counts(ih).seeders, 1);
	assert_int_equal(counts(ih).leechers, 0);
	assert_int_equal(cap.n, 0); /* applied records are never published again */

	/* Stamped 50 s ago: gone once peer_timeout has passed since. */
	while (ptab_expire(fx.pt, fx.now - 50 + 2700 + 200, 1000000, &cur) == 0 && cur.cycles < 2)
		;
	assert_int_equal(counts(ih).seeders, 0);

	r = rec_of(ih, &p, SYNC_F_SEEDER, fx.now);
	tr_sync_apply(&fx.tr, &r, false, fx.now);
	r = rec_of(ih, &p, SYNC_F_STOPPED, fx.now);
	assert_int_equal(tr_sync_apply(&fx.tr, &r, false, fx.now), TR_SYNC_APPLIED);
	assert_false(in_swarm(ih, &p));
}

/* A record older than peer_timeout enters no peer, yet its completion
 * counts; one from the future is taken as now; an own record changes no
 * peer. */
static void test_sync_apply_leaves_out_stale_peers_and_own_records(void **state)
{
	struct tr_addr p = v4(30), q = v4(31);
	uint8_t ih[TR_HASH_LEN];

	(void)state;
	hash_of(ih, 8);
	struct sync_rec r = rec_of(ih, &p, SYNC_F_SEEDER | SYNC_F_COMPLETED, fx.now - 2700);
	assert_int_equal(tr_sync_apply(&fx.tr, &r, false, fx.now), TR_SYNC_STALE);
	assert_int_equal(counts(ih).completed, 1);
	assert_int_equal(counts(ih).seeders, 0);

	r = rec_of(ih, &q, 0, fx.now + 100000);
	assert_int_equal(tr_sync_apply(&fx.tr, &r, false, fx.now), TR_SYNC_APPLIED);
	assert_int_equal(counts(ih).leechers, 1);

	struct tr_addr own = v4(32);
	r = rec_of(ih, &own, 0, fx.now);
	assert_int_equal(tr_sync_apply(&fx.tr, &r, true, fx.now), TR_SYNC_APPLIED);
	assert_false(in_swarm(ih, &own));
	assert_int_equal(counts(ih).leechers, 1);
}

/* A late record never undoes a newer state: the peer announced here as a
 * seeder since, so an older record naming it a leecher, or stopped, changes
 * nothing; a newer one does. */
static void test_sync_apply_never_moves_a_peer_back_in_time(void **state)
{
	struct tr_addr p = v4(40);
	uint8_t ih[TR_HASH_LEN];

	(void)state;
	hash_of(ih, 9);
	udp_announce(&p, ih, true, UDP_MSG_EV_STARTED);
	struct sync_rec r = rec_of(ih, &p, 0, fx.now - 600);
	assert_int_equal(tr_sync_apply(&fx.tr, &r, false, fx.now), TR_SYNC_APPLIED);
	assert_int_equal(counts(ih).seeders, 1);
	assert_int_equal(counts(ih).leechers, 0);
	r = rec_of(ih, &p, SYNC_F_STOPPED, fx.now - 600);
	tr_sync_apply(&fx.tr, &r, false, fx.now);
	assert_int_equal(counts(ih).seeders, 1);

	fx.now += 600;
	r = rec_of(ih, &p, SYNC_F_STOPPED, fx.now);
	tr_sync_apply(&fx.tr, &r, false, fx.now);
	assert_int_equal(counts(ih).seeders, 0);
}

/* The access list in force holds for records as for announces. */
static void test_sync_apply_honours_the_access_list(void **state)
{
	struct tr_addr p = v4(50);
	uint8_t ih[TR_HASH_LEN];

	(void)state;
	hash_of(ih, 10);
	tracker_fx_acl(&fx, ACL_DENY, ih, 1);
	struct sync_rec r = rec_of(ih, &p, SYNC_F_SEEDER | SYNC_F_COMPLETED, fx.now);
	assert_int_equal(tr_sync_apply(&fx.tr, &r, false, fx.now), TR_SYNC_REFUSED_ACL);
	assert_int_equal(counts(ih).seeders, 0);
	assert_int_equal(counts(ih).completed, 0);
}

/* Connection IDs issued under a key stay valid once a cluster's shared key
 * replaces it; new ones are issued under the new key. */
static void test_sync_connection_ids_survive_a_key_replacement(void **state)
{
	struct tr_addr src = v4(60);
	struct connid_key k = {{0}};

	(void)state;
	uint64_t old = connid_issue(tr_key(&fx.tr), &src, fx.now);
	for (unsigned i = 0; i < sizeof(k.k); i++)
		k.k[i] = (uint8_t)(0xc0 + i);
	tr_key_replace(&fx.tr, &k);
	uint64_t fresh = connid_issue(tr_key(&fx.tr), &src, fx.now);
	assert_true(fresh != old);
	assert_true(tr_connid_ok(&fx.tr, &src, old, fx.now));
	assert_true(tr_connid_ok(&fx.tr, &src, fresh, fx.now));
	struct connid_key other = {{0}};
	assert_false(connid_check(&other, &src, fresh, fx.now, 120));
	assert_true(connid_check(&k, &src, fresh, fx.now, 120));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	    T(test_sync_publishes_a_new_peer_once_per_refresh_window),
	    T(test_sync_refreshes_keep_remote_copies_alive_at_every_interval),
	    T(test_sync_publishes_role_changes_and_stops),
	    T(test_sync_completions_are_counted_by_the_stream_or_on_a_drop),
	    T(test_sync_http_announce_with_two_addresses_completes_once),
	    T(test_sync_apply_enters_moves_and_removes_a_remote_peer),
	    T(test_sync_apply_leaves_out_stale_peers_and_own_records),
	    T(test_sync_apply_never_moves_a_peer_back_in_time),
	    T(test_sync_apply_honours_the_access_list),
	    T(test_sync_connection_ids_survive_a_key_replacement),
#undef T
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
