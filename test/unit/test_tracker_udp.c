/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_tracker_udp.c - tr_udp_handle() against a real peer table (BEP 15, 41).
 *
 * Requests are built here byte by byte, big-endian, at BEP 15's offsets, and
 * replies are read the same way: the codec under test never builds its own
 * input. Each test gets a fresh table and zeroed counters.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include <rte_lcore.h>

#include "eal_test.h"
#include "tracker_fixture.h"
#include "core/acl.h"
#include "core/limits.h"
#include "core/ptab.h"
#include "core/stats.h"
#include "core/tracker.h"
#include "core/udp_msg.h"

#define T0 1000000u /* the clock the tests start at, in seconds */

/* Reply buffers: the largest payload plus a guard tail the handler must
 * never touch. */
#define GUARD	  64
#define OUT_SIZE  (TR_UDP_PAYLOAD_MAX_V4 + GUARD)
#define GUARD_VAL 0xa5

#define TID 0x1234abcdu

/* BEP 15 offsets, written out here independently of the codec. */
#define ACT_CONNECT  0
#define ACT_ANNOUNCE 1
#define ACT_SCRAPE   2
#define ACT_ERROR    3
#define MAGIC	     0x41727101980ULL

#define EV_NONE	     0
#define EV_COMPLETED 1
#define EV_STARTED   2
#define EV_STOPPED   3

static struct tracker_fx fx;

/* ---- byte order, by hand ------------------------------------------------ */

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (24 - 8 * i));
}

static void put64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (56 - 8 * i));
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint64_t get64(const uint8_t *p)
{
	return (uint64_t)get32(p) << 32 | get32(p + 4);
}

/* ---- addresses and hashes ----------------------------------------------- */

/* A distinct info hash per seed, with bytes that are not text. */
static void hash_of(uint8_t ih[TR_HASH_LEN], unsigned seed)
{
	for (unsigned i = 0; i < TR_HASH_LEN; i++)
		ih[i] = (uint8_t)(seed * 131 + i * 17 + 0x80);
}

/* Returns true if no entry appears twice. */
static bool peers_distinct(const uint8_t *peers, size_t n, unsigned plen)
{
	for (size_t i = 0; i < n; i++)
		for (size_t j = i + 1; j < n; j++)
			if (memcmp(peers + i * plen, peers + j * plen, plen) == 0)
				return false;
	return true;
}

/* ---- requests, by hand -------------------------------------------------- */

static size_t req_connect(uint8_t *b, uint32_t tid)
{
	put64(b, MAGIC);
	put32(b + 8, ACT_CONNECT);
	put32(b + 12, tid);
	return 16;
}

struct ann {
	uint64_t cid;
	uint32_t tid;
	const uint8_t *ih;
	uint64_t left;
	uint32_t event;
	int32_t numwant;
	uint16_t port;
};

/* The 98 fixed bytes of a BEP 15 announce. */
static size_t req_announce(uint8_t *b, const struct ann *a)
{
	memset(b, 0, 98);
	put64(b, a->cid);
	put32(b + 8, ACT_ANNOUNCE);
	put32(b + 12, a->tid);
	memcpy(b + 16, a->ih, TR_HASH_LEN);
	memcpy(b + 36, "-XX0001-abcdefghijkl", TR_HASH_LEN); /* peer id */
	put64(b + 56, 0);				     /* downloaded */
	put64(b + 64, a->left);
	put64(b + 72, 0); /* uploaded */
	put32(b + 80, a->event);
	put32(b + 84, 0); /* ip: use the source */
	put32(b + 88, 0x5eed);
	put32(b + 92, (uint32_t)a->numwant);
	put16(b + 96, a->port);
	return 98;
}

static size_t req_scrape(uint8_t *b, uint64_t cid, uint32_t tid, const uint8_t *hashes, size_t n)
{
	put64(b, cid);
	put32(b + 8, ACT_SCRAPE);
	put32(b + 12, tid);
	memcpy(b + 16, hashes, n * TR_HASH_LEN);
	return 16 + n * TR_HASH_LEN;
}

/* ---- running requests --------------------------------------------------- */

static size_t cap_of(const struct tr_addr *src)
{
	return src->family == TR_AF_INET ? TR_UDP_PAYLOAD_MAX_V4 : TR_UDP_PAYLOAD_MAX_V6;
}

/* Runs one datagram at fx.now with the family's one-frame cap, and checks
 * nothing was written past the cap. */
static size_t udp_cap(const struct tr_addr *src, const uint8_t *req, size_t len, uint8_t *out,
		      size_t cap)
{
	memset(out, GUARD_VAL, OUT_SIZE);
	size_t n = tr_udp_handle(&fx.ctx, src, req, len, out, cap, fx.now, NULL);

	assert_true(n <= cap);
	for (size_t i = cap; i < OUT_SIZE; i++)
		assert_int_equal(out[i], GUARD_VAL);
	return n;
}

static size_t udp(const struct tr_addr *src, const uint8_t *req, size_t len, uint8_t *out)
{
	return udp_cap(src, req, len, out, cap_of(src));
}

/* Connects from src and returns the connection id issued. */
static uint64_t udp_connect(const struct tr_addr *src)
{
	uint8_t req[16], out[OUT_SIZE];
	size_t n = udp(src, req, req_connect(req, 0xc0ffee), out);

	assert_int_equal(n, 16);
	assert_int_equal(get32(out), ACT_CONNECT);
	assert_int_equal(get32(out + 4), 0xc0ffee);
	return get64(out + 8);
}

/* Connects, then announces from src (its own port) and returns the reply
 * length; the reply is in out. */
static size_t announce(const struct tr_addr *src, const uint8_t *ih, uint64_t left, uint32_t event,
		       int32_t numwant, uint8_t *out)
{
	uint8_t req[98];
	struct ann a = {
	    .cid = udp_connect(src),
	    .tid = TID,
	    .ih = ih,
	    .left = left,
	    .event = event,
	    .numwant = numwant,
	    .port = src->port,
	};
	return udp(src, req, req_announce(req, &a), out);
}

/* Announces and checks the reply is a BEP 15 announce reply. */
static size_t announce_ok(const struct tr_addr *src, const uint8_t *ih, uint64_t left,
			  uint32_t event, int32_t numwant, uint8_t *out)
{
	size_t n = announce(src, ih, left, event, numwant, out);

	assert_true(n >= 20);
	assert_int_equal(get32(out), ACT_ANNOUNCE);
	assert_int_equal(get32(out + 4), TID);
	return n;
}

/* Adds src to the swarm as a seeder or leecher, asking for no peers. */
static void join(const struct tr_addr *src, const uint8_t *ih, bool seeder)
{
	uint8_t out[OUT_SIZE];

	assert_int_equal(announce_ok(src, ih, seeder ? 0 : 1000, EV_STARTED, 0, out), 20);
}

struct counts {
	uint32_t seeders, completed, leechers;
};

/* Scrapes one hash (BEP 15 order: seeders, completed, leechers). */
static struct counts scrape1(const uint8_t *ih)
{
	struct tr_addr src = v4(4000);
	uint8_t req[36], out[OUT_SIZE];
	size_t n = udp(&src, req, req_scrape(req, udp_connect(&src), TID, ih, 1), out);

	assert_int_equal(n, 8 + 12);
	assert_int_equal(get32(out), ACT_SCRAPE);
	assert_int_equal(get32(out + 4), TID);
	return (struct counts){get32(out + 8), get32(out + 12), get32(out + 16)};
}

/* ---- fixture ------------------------------------------------------------ */

static int table_up(uint32_t max_swarms)
{
	return tracker_fx_up(&fx, "trudp", max_swarms, T0);
}

static int setup(void **state)
{
	(void)state;
	return table_up(1000);
}

static int setup_three_swarms(void **state)
{
	(void)state;
	return table_up(3);
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
	return eal_test_init("trudp", 256) < 0 ? -1 : 0;
}

static int group_teardown(void **state)
{
	(void)state;
	eal_test_fini();
	return 0;
}

/* ---- connect ------------------------------------------------------------ */

static void test_udp_connect_echoes_the_transaction_id_and_issues_a_working_id(void **state)
{
	(void)state;
	struct tr_addr src = v4(1);
	uint8_t req[16], out[OUT_SIZE], ih[TR_HASH_LEN];

	hash_of(ih, 1);
	size_t n = udp(&src, req, req_connect(req, 0xdeadbeef), out);
	assert_int_equal(n, 16);
	assert_int_equal(get32(out), ACT_CONNECT);
	assert_int_equal(get32(out + 4), 0xdeadbeef);
	uint64_t cid = get64(out + 8);
	assert_true(cid != MAGIC);

	/* The id works for announce... */
	uint8_t areq[98];
	struct ann a = {
	    .cid = cid, .tid = 77, .ih = ih, .left = 5, .numwant = 10, .port = src.port};
	n = udp(&src, areq, req_announce(areq, &a), out);
	assert_int_equal(n, 20);
	assert_int_equal(get32(out), ACT_ANNOUNCE);
	assert_int_equal(get32(out + 4), 77);
	assert_int_equal(get32(out + 12), 1); /* leechers: the announcer */
	assert_int_equal(get32(out + 16), 0);

	/* ...and for scrape, a little later. */
	fx.now += 60;
	uint8_t sreq[36];
	n = udp(&src, sreq, req_scrape(sreq, cid, 78, ih, 1), out);
	assert_int_equal(n, 20);
	assert_int_equal(get32(out), ACT_SCRAPE);
	assert_int_equal(get32(out + 4), 78);
	assert_int_equal(get32(out + 16), 1); /* leechers */
}

static void test_udp_connect_ids_differ_between_clients(void **state)
{
	(void)state;
	struct tr_addr a = v4(1), b = v4(2), c = v6(1);

	uint64_t ia = udp_connect(&a), ib = udp_connect(&b), ic = udp_connect(&c);
	assert_true(ia != ib);
	assert_true(ia != ic);
	assert_true(ib != ic);
}

/* ---- connection id refusals --------------------------------------------- */

/* Announces with cid from src and checks the refusal: an error (action 3)
 * echoing the transaction id, no longer than the request, counted under
 * CONNID, and registering nothing. */
static void expect_connid_refused(const struct tr_addr *src, uint64_t cid)
{
	uint8_t req[98], out[OUT_SIZE], ih[TR_HASH_LEN];
	uint64_t before = fx.st.err[STATS_UDP][STATS_ERR_CONNID];
	uint64_t answered = fx.st.req[STATS_UDP][STATS_ANNOUNCE];

	hash_of(ih, 99);
	struct ann a = {
	    .cid = cid, .tid = 0x0badf00d, .ih = ih, .left = 1, .numwant = 50, .port = src->port};
	size_t len = req_announce(req, &a);
	size_t n = udp(src, req, len, out);

	assert_true(n >= 8);
	assert_true(n <= len);
	assert_int_equal(get32(out), ACT_ERROR);
	assert_int_equal(get32(out + 4), 0x0badf00d);
	assert_int_equal(fx.st.err[STATS_UDP][STATS_ERR_CONNID], before + 1);
	assert_int_equal(fx.st.req[STATS_UDP][STATS_ANNOUNCE], answered);
	struct counts c = scrape1(ih);
	assert_int_equal(c.leechers + c.seeders, 0);
}

static void test_udp_announce_with_a_forged_connection_id_gets_a_short_error(void **state)
{
	(void)state;
	struct tr_addr src = v4(1);
	uint64_t real = udp_connect(&src);

	/* A current timestamp with a wrong MAC, the bare magic, and a random id. */
	expect_connid_refused(&src, real ^ 1);
	expect_connid_refused(&src, (uint64_t)T0 << 32 | 0x12345678u);
	expect_connid_refused(&src, MAGIC);
	expect_connid_refused(&src, 0x0123456789abcdefULL);
	assert_int_equal(fx.st.err[STATS_UDP][STATS_ERR_CONNID], 4);
}

static void test_udp_announce_with_an_expired_connection_id_gets_a_short_error(void **state)
{
	(void)state;
	struct tr_addr src = v4(1);
	uint8_t req[98], out[OUT_SIZE], ih[TR_HASH_LEN];
	uint64_t cid = udp_connect(&src);

	hash_of(ih, 2);
	/* Still good at the end of its life... */
	fx.now = T0 + fx.tr.p.connid_ttl;
	struct ann a = {
	    .cid = cid, .tid = TID, .ih = ih, .left = 1, .numwant = 5, .port = src.port};
	assert_int_equal(udp(&src, req, req_announce(req, &a), out), 20);
	assert_int_equal(get32(out), ACT_ANNOUNCE);

	/* ...refused one second later, and much later. */
	fx.now = T0 + fx.tr.p.connid_ttl + 1;
	expect_connid_refused(&src, cid);
	fx.now = T0 + 86400;
	expect_connid_refused(&src, cid);
}

static void test_udp_announce_with_a_connection_id_from_the_future_is_refused(void **state)
{
	(void)state;
	struct tr_addr src = v4(1);

	fx.now = T0 + 100;
	uint64_t cid = udp_connect(&src);
	fx.now = T0;
	expect_connid_refused(&src, cid);
}

static void test_udp_announce_with_another_address_connection_id_is_refused(void **state)
{
	(void)state;
	struct tr_addr a = v4(1), b = v4(2), c = v6(1);
	uint64_t cid_a = udp_connect(&a);

	expect_connid_refused(&b, cid_a);
	expect_connid_refused(&c, cid_a);
	/* Another port of the same address is the same client (NAT). */
	struct tr_addr a2 = a;
	uint8_t req[98], out[OUT_SIZE], ih[TR_HASH_LEN];

	a2.port = 1;
	hash_of(ih, 3);
	struct ann an = {.cid = cid_a, .tid = TID, .ih = ih, .left = 1, .port = a.port};
	assert_int_equal(udp(&a2, req, req_announce(req, &an), out), 20);
	assert_int_equal(get32(out), ACT_ANNOUNCE);
}

static void test_udp_scrape_with_a_bad_connection_id_is_not_amplified(void **state)
{
	(void)state;
	struct tr_addr src = v4(1);
	uint8_t req[16 + 200 * TR_HASH_LEN], out[OUT_SIZE], hashes[200 * TR_HASH_LEN];

	for (unsigned i = 0; i < 200; i++)
		hash_of(hashes + i * TR_HASH_LEN, i);
	/* One hash: 36 bytes in, so at most 36 out, though the message is longer. */
	size_t len = req_scrape(req, 42, 0xfeed, hashes, 1);
	size_t n = udp(&src, req, len, out);
	assert_true(n >= 8);
	assert_true(n <= len);
	assert_int_equal(get32(out), ACT_ERROR);
	assert_int_equal(get32(out + 4), 0xfeed);

	len = req_scrape(req, 42, 0xfeee, hashes, 200);
	n = udp(&src, req, len, out);
	assert_true(n >= 8 && n <= len);
	assert_int_equal(get32(out), ACT_ERROR);
	assert_int_equal(fx.st.err[STATS_UDP][STATS_ERR_CONNID], 2);
	assert_int_equal(fx.st.req[STATS_UDP][STATS_SCRAPE], 0);
}

static void test_udp_error_replies_never_exceed_the_request_even_when_the_cap_is_small(void **state)
{
	(void)state;
	struct tr_addr src = v4(1);
	uint8_t req[98], out[OUT_SIZE], ih[TR_HASH_LEN];

	hash_of(ih, 1);
	struct ann a = {.cid = 1, .tid = TID, .ih = ih, .left = 1, .port = src.port};
	size_t len = req_announce(req, &a);
	/* A cap below the error's length cuts the text, never overruns. */
	size_t n = udp_cap(&src, req, len, out, 12);
	assert_true(n >= 8 && n <= 12);
	assert_int_equal(get32(out), ACT_ERROR);
}

/* ---- malformed datagrams ------------------------------------------------ */

static void test_udp_malformed_datagrams_get_no_reply_and_are_counted_by_reason(void **state)
{
	(void)state;
	struct tr_addr src = v4(1);
	uint8_t req[128], out[OUT_SIZE], ih[TR_HASH_LEN];
	uint64_t cid = udp_connect(&src);

	hash_of(ih, 1);

	/* Short: under the 16-byte header. */
	req_connect(req, TID);
	assert_int_equal(udp(&src, req, 15, out), 0);
	assert_int_equal(udp(&src, req, 0, out), 0);
	assert_int_equal(fx.st.udp_bad[UDP_MSG_ERR_SHORT], 2);

	/* Connect without the magic. */
	req_connect(req, TID);
	put64(req, MAGIC + 1);
	assert_int_equal(udp(&src, req, 16, out), 0);
	assert_int_equal(fx.st.udp_bad[UDP_MSG_ERR_PROTOCOL_ID], 1);

	/* Unknown actions, including the error action itself. */
	struct ann a = {.cid = cid, .tid = TID, .ih = ih, .left = 1, .port = src.port};
	size_t len = req_announce(req, &a);
	put32(req + 8, 7);
	assert_int_equal(udp(&src, req, len, out), 0);
	put32(req + 8, ACT_ERROR);
	assert_int_equal(udp(&src, req, len, out), 0);
	assert_int_equal(fx.st.udp_bad[UDP_MSG_ERR_ACTION], 2);

	/* Announce one byte short of 98. */
	len = req_announce(req, &a);
	assert_int_equal(udp(&src, req, len - 1, out), 0);
	assert_int_equal(fx.st.udp_bad[UDP_MSG_ERR_SHORT], 3);

	/* Announce with an event above stopped. */
	a.event = 4;
	len = req_announce(req, &a);
	assert_int_equal(udp(&src, req, len, out), 0);
	assert_int_equal(fx.st.udp_bad[UDP_MSG_ERR_EVENT], 1);

	/* Scrape with a partial hash. */
	len = req_scrape(req, cid, TID, ih, 1);
	assert_int_equal(udp(&src, req, len - 1, out), 0);
	assert_int_equal(fx.st.udp_bad[UDP_MSG_ERR_SCRAPE_LEN], 1);

	assert_int_equal(fx.st.err[STATS_UDP][STATS_ERR_MALFORMED], 8);
	assert_int_equal(fx.st.req[STATS_UDP][STATS_CONNECT], 1); /* udp_connect above */
	assert_int_equal(fx.st.req[STATS_UDP][STATS_ANNOUNCE], 0);
	assert_int_equal(fx.st.req[STATS_UDP][STATS_SCRAPE], 0);
	/* Nothing malformed reached the table. */
	struct counts c = scrape1(ih);
	assert_int_equal(c.leechers + c.seeders, 0);
}

/* ---- announce ----------------------------------------------------------- */

static void test_udp_announce_interval_has_jitter_within_its_bounds(void **state)
{
	(void)state;
	struct tr_addr src = v4(1);
	uint8_t out[OUT_SIZE], ih[TR_HASH_LEN];
	uint32_t lo = UINT32_MAX, hi = 0;
	const struct tr_params *p = &fx.tr.p;

	hash_of(ih, 1);
	for (int i = 0; i < 200; i++) {
		announce_ok(&src, ih, 1, EV_NONE, 0, out);
		uint32_t iv = get32(out + 8);

		assert_in_range(iv, p->announce_interval,
				p->announce_interval + p->announce_jitter);
		lo = iv < lo ? iv : lo;
		hi = iv > hi ? iv : hi;
	}
	assert_true(hi > lo);
	/* 200 draws from 121 values spread over most of the range. */
	assert_true(hi - lo > p->announce_jitter / 2);
}

static void test_udp_announce_interval_is_exact_without_jitter(void **state)
{
	(void)state;
	struct tr_addr src = v4(1);
	uint8_t out[OUT_SIZE], ih[TR_HASH_LEN];

	fx.tr.p.announce_jitter = 0;
	hash_of(ih, 1);
	for (int i = 0; i < 20; i++) {
		announce_ok(&src, ih, 1, EV_NONE, 0, out);
		assert_int_equal(get32(out + 8), fx.tr.p.announce_interval);
	}
}

static void test_udp_announce_reports_leechers_and_seeders(void **state)
{
	(void)state;
	uint8_t out[OUT_SIZE], ih[TR_HASH_LEN];

	hash_of(ih, 1);
	/* 3 seeders, 4 leechers; the reply counts the announcer too. */
	for (unsigned i = 0; i < 3; i++) {
		struct tr_addr p = v4(i + 1);

		join(&p, ih, true);
	}
	for (unsigned i = 0; i < 4; i++) {
		struct tr_addr p = v6(i + 1);

		join(&p, ih, false);
	}
	struct tr_addr me = v4(50);
	announce_ok(&me, ih, 1, EV_STARTED, 0, out);
	assert_int_equal(get32(out + 12), 5); /* leechers */
	assert_int_equal(get32(out + 16), 3); /* seeders */

	/* The same peer turning seeder moves between the counts. */
	announce_ok(&me, ih, 0, EV_NONE, 0, out);
	assert_int_equal(get32(out + 12), 4);
	assert_int_equal(get32(out + 16), 4);

	/* Re-announcing changes nothing. */
	announce_ok(&me, ih, 0, EV_NONE, 0, out);
	assert_int_equal(get32(out + 12), 4);
	assert_int_equal(get32(out + 16), 4);
	struct counts k = scrape1(ih);
	assert_int_equal(k.leechers, 4);
	assert_int_equal(k.seeders, 4);
}

static void test_udp_announce_never_returns_the_announcer(void **state)
{
	(void)state;
	uint8_t out[OUT_SIZE], ih[TR_HASH_LEN];
	struct tr_addr peers[20];

	hash_of(ih, 1);
	for (unsigned i = 0; i < 20; i++) {
		peers[i] = v4(i + 1);
		join(&peers[i], ih, i % 3 == 0);
	}
	/* Every member re-announces, several times, asking for everyone. */
	for (int round = 0; round < 5; round++) {
		for (unsigned i = 0; i < 20; i++) {
			size_t n =
			    announce_ok(&peers[i], ih, i % 3 == 0 ? 0 : 1, EV_NONE, 100, out);
			size_t np = (n - 20) / 6;

			assert_int_equal((n - 20) % 6, 0);
			assert_true(np > 0);
			assert_false(peers_include(out + 20, np, 6, &peers[i]));
			assert_true(peers_all_in(out + 20, np, 6, peers, 20));
			assert_true(peers_distinct(out + 20, np, 6));
		}
	}
}

static void test_udp_announce_returns_only_peers_of_the_requests_family(void **state)
{
	(void)state;
	uint8_t out[OUT_SIZE], ih[TR_HASH_LEN];
	struct tr_addr p4[10], p6[10];

	hash_of(ih, 1);
	for (unsigned i = 0; i < 10; i++) {
		p4[i] = v4(i + 1);
		p6[i] = v6(i + 1);
		join(&p4[i], ih, false);
		join(&p6[i], ih, false);
	}

	/* A new IPv4 leecher: the ten IPv4 peers as 6-byte entries, nothing else. */
	struct tr_addr a4 = v4(100);
	size_t n = announce_ok(&a4, ih, 1, EV_STARTED, 100, out);
	assert_int_equal(n, 20 + 10 * 6);
	assert_int_equal(get32(out + 12), 21); /* leechers count both families */
	assert_true(peers_all_in(out + 20, 10, 6, p4, 10));
	assert_true(peers_distinct(out + 20, 10, 6));

	/* A new IPv6 leecher: the ten IPv6 peers as 18-byte entries. */
	struct tr_addr a6 = v6(100);
	n = announce_ok(&a6, ih, 1, EV_STARTED, 100, out);
	assert_int_equal(n, 20 + 10 * 18);
	assert_int_equal(get32(out + 12), 22);
	assert_true(peers_all_in(out + 20, 10, 18, p6, 10));
	assert_true(peers_distinct(out + 20, 10, 18));
}

static void test_udp_announce_honours_numwant(void **state)
{
	(void)state;
	uint8_t out[OUT_SIZE], ih[TR_HASH_LEN];
	struct tr_addr peers[80];

	hash_of(ih, 1);
	for (unsigned i = 0; i < 80; i++) {
		peers[i] = v4(i + 1);
		join(&peers[i], ih, i % 2 == 0);
	}
	struct tr_addr me = v4(500);
	const int32_t asks[] = {0, 1, 5, 17, 40};

	for (size_t k = 0; k < sizeof(asks) / sizeof(asks[0]); k++) {
		size_t n = announce_ok(&me, ih, 1, EV_NONE, asks[k], out);

		assert_int_equal(n, 20 + (size_t)asks[k] * 6);
		assert_true(peers_all_in(out + 20, (size_t)asks[k], 6, peers, 80));
		assert_true(peers_distinct(out + 20, (size_t)asks[k], 6));
	}
}

static void test_udp_announce_numwant_minus_one_gives_the_default(void **state)
{
	(void)state;
	uint8_t out[OUT_SIZE], ih[TR_HASH_LEN];

	fx.tr.p.numwant_default = 30;
	hash_of(ih, 1);
	for (unsigned i = 0; i < 80; i++) {
		struct tr_addr p = v4(i + 1);

		join(&p, ih, false);
	}
	struct tr_addr me = v4(500);

	assert_int_equal(announce_ok(&me, ih, 1, EV_NONE, -1, out), 20 + 30 * 6);
	/* Any negative number means "the default" too. */
	assert_int_equal(announce_ok(&me, ih, 1, EV_NONE, -7, out), 20 + 30 * 6);
}

static void test_udp_announce_numwant_above_the_maximum_is_capped(void **state)
{
	(void)state;
	uint8_t out[OUT_SIZE], ih[TR_HASH_LEN];

	fx.tr.p.numwant_max = 60;
	hash_of(ih, 1);
	for (unsigned i = 0; i < 80; i++) {
		struct tr_addr p = v4(i + 1);

		join(&p, ih, false);
	}
	struct tr_addr me = v4(500);

	assert_int_equal(announce_ok(&me, ih, 1, EV_NONE, 70, out), 20 + 60 * 6);
	assert_int_equal(announce_ok(&me, ih, 1, EV_NONE, INT32_MAX, out), 20 + 60 * 6);
	/* A default above the maximum is capped as well. */
	fx.tr.p.numwant_default = 75;
	assert_int_equal(announce_ok(&me, ih, 1, EV_NONE, -1, out), 20 + 60 * 6);
}

static void test_udp_announce_ipv4_reply_fits_one_frame(void **state)
{
	(void)state;
	uint8_t out[OUT_SIZE], ih[TR_HASH_LEN];

	fx.tr.p.numwant_max = 1000;
	fx.tr.p.numwant_default = 1000;
	hash_of(ih, 1);
	for (unsigned i = 0; i < 300; i++) {
		struct tr_addr p = v4(i + 1);

		join(&p, ih, false);
	}
	struct tr_addr me = v4(1000);
	size_t n = announce_ok(&me, ih, 1, EV_STARTED, 1000, out);

	assert_true(n <= TR_UDP_PAYLOAD_MAX_V4);
	assert_true((n - 20) / 6 <= 242);
	/* 300 are available, so the frame is filled. */
	assert_int_equal(n, 20 + 242 * 6);
	assert_true(peers_distinct(out + 20, 242, 6));
	assert_false(peers_include(out + 20, 242, 6, &me));
	n = announce_ok(&me, ih, 1, EV_NONE, -1, out);
	assert_int_equal(n, 20 + 242 * 6);
}

static void test_udp_announce_ipv6_reply_fits_one_frame(void **state)
{
	(void)state;
	uint8_t out[OUT_SIZE], ih[TR_HASH_LEN];

	fx.tr.p.numwant_max = 1000;
	hash_of(ih, 1);
	for (unsigned i = 0; i < 100; i++) {
		struct tr_addr p = v6(i + 1);

		join(&p, ih, false);
	}
	struct tr_addr me = v6(1000);
	size_t n = announce_ok(&me, ih, 1, EV_STARTED, 1000, out);

	assert_true(n <= TR_UDP_PAYLOAD_MAX_V6);
	assert_true((n - 20) / 18 <= 79);
	assert_int_equal(n, 20 + 79 * 18);
	assert_true(peers_distinct(out + 20, 79, 18));
	assert_false(peers_include(out + 20, 79, 18, &me));
}

static void test_udp_announce_gives_a_seeder_only_leechers(void **state)
{
	(void)state;
	uint8_t out[OUT_SIZE], ih[TR_HASH_LEN];
	struct tr_addr seeders[5], leechers[5];

	hash_of(ih, 1);
	for (unsigned i = 0; i < 5; i++) {
		seeders[i] = v4(i + 1);
		leechers[i] = v4(i + 101);
		join(&seeders[i], ih, true);
		join(&leechers[i], ih, false);
	}
	/* An existing seeder and a new one: the five leechers exactly. */
	for (int k = 0; k < 2; k++) {
		struct tr_addr me = k == 0 ? seeders[0] : v4(50);
		size_t n = announce_ok(&me, ih, 0, EV_NONE, 100, out);

		assert_int_equal(n, 20 + 5 * 6);
		assert_true(peers_all_in(out + 20, 5, 6, leechers, 5));
		assert_true(peers_distinct(out + 20, 5, 6));
		assert_int_equal(get32(out + 12), 5);	  /* leechers */
		assert_int_equal(get32(out + 16), 5 + k); /* seeders */
	}
	/* A leecher gets both kinds: four other leechers and six seeders. */
	size_t n = announce_ok(&leechers[0], ih, 1, EV_NONE, 100, out);
	assert_int_equal(n, 20 + 10 * 6);
}

static void test_udp_announce_stopped_removes_the_peer(void **state)
{
	(void)state;
	uint8_t out[OUT_SIZE], ih[TR_HASH_LEN];
	struct tr_addr a = v4(1), b = v4(2), c = v4(3);

	hash_of(ih, 1);
	join(&a, ih, false);
	join(&b, ih, false);
	join(&c, ih, true);
	struct counts k = scrape1(ih);
	assert_int_equal(k.leechers, 2);
	assert_int_equal(k.seeders, 1);

	size_t n = announce_ok(&b, ih, 1, EV_STOPPED, 50, out);
	assert_int_equal(n, 20); /* a stopping peer gets nobody */
	assert_int_equal(get32(out + 12), 1);
	assert_int_equal(get32(out + 16), 1);
	k = scrape1(ih);
	assert_int_equal(k.leechers, 1);
	assert_int_equal(k.seeders, 1);

	/* The others no longer see it. */
	n = announce_ok(&a, ih, 1, EV_NONE, 50, out);
	assert_int_equal(n, 20 + 6);
	assert_true(peers_include(out + 20, 1, 6, &c));

	announce_ok(&c, ih, 0, EV_STOPPED, 50, out);
	k = scrape1(ih);
	assert_int_equal(k.leechers, 1);
	assert_int_equal(k.seeders, 0);
}

static void test_udp_announce_completed_counts_a_download_once(void **state)
{
	(void)state;
	uint8_t out[OUT_SIZE], ih[TR_HASH_LEN];
	struct tr_addr a = v4(1), b = v4(2);

	hash_of(ih, 1);
	join(&a, ih, false);
	join(&b, ih, false);
	assert_int_equal(scrape1(ih).completed, 0);

	announce_ok(&a, ih, 0, EV_COMPLETED, 10, out);
	struct counts k = scrape1(ih);
	assert_int_equal(k.completed, 1);
	assert_int_equal(k.seeders, 1);
	assert_int_equal(k.leechers, 1);

	/* The same client sending completed again is not a second download. */
	announce_ok(&a, ih, 0, EV_COMPLETED, 10, out);
	assert_int_equal(scrape1(ih).completed, 1);
	announce_ok(&a, ih, 0, EV_NONE, 10, out);
	assert_int_equal(scrape1(ih).completed, 1);

	/* Another leecher finishing is. */
	announce_ok(&b, ih, 0, EV_COMPLETED, 10, out);
	assert_int_equal(scrape1(ih).completed, 2);
}

static void test_udp_announce_with_port_zero_gets_an_error(void **state)
{
	(void)state;
	struct tr_addr src = v4(1);
	uint8_t req[98], out[OUT_SIZE], ih[TR_HASH_LEN];

	hash_of(ih, 1);
	struct ann a = {.cid = udp_connect(&src),
			.tid = TID,
			.ih = ih,
			.left = 1,
			.event = EV_STARTED,
			.numwant = 10,
			.port = 0};
	size_t n = udp(&src, req, req_announce(req, &a), out);

	assert_true(n > 8);
	assert_int_equal(get32(out), ACT_ERROR);
	assert_int_equal(get32(out + 4), TID);
	assert_int_equal(fx.st.err[STATS_UDP][STATS_ERR_PORT], 1);
	assert_int_equal(fx.st.req[STATS_UDP][STATS_ANNOUNCE], 0);
	struct counts k = scrape1(ih);
	assert_int_equal(k.leechers + k.seeders, 0);
}

/* Announces a request of len bytes built in req (98 fixed bytes already
 * written) and checks it is accepted and registers the peer. */
static void expect_accepted(const struct tr_addr *src, uint8_t *req, size_t len, const uint8_t *ih,
			    uint32_t leechers_after)
{
	uint8_t out[OUT_SIZE];
	size_t n = udp(src, req, len, out);

	assert_int_equal(n, 20 + (leechers_after - 1) * 6);
	assert_int_equal(get32(out), ACT_ANNOUNCE);
	assert_int_equal(get32(out + 4), TID);
	assert_int_equal(get32(out + 12), leechers_after);
	assert_int_equal(scrape1(ih).leechers, leechers_after);
}

static void test_udp_announce_accepts_the_bep41_forms_real_clients_send(void **state)
{
	(void)state;
	uint8_t req[98 + 2 + 255 + 8], ih[TR_HASH_LEN];
	struct tr_addr lt = v4(1), aria = v4(2), tr = v4(3), nop = v4(4);
	static const char path[] = "/announce?passkey=0123456789abcdef";

	hash_of(ih, 1);

	/* libtorrent: URLData with no EndOfOptions. */
	struct ann a = {.cid = udp_connect(&lt),
			.tid = TID,
			.ih = ih,
			.left = 1,
			.event = EV_STARTED,
			.numwant = 50,
			.port = lt.port};
	size_t len = req_announce(req, &a);
	req[len++] = 0x2;
	req[len++] = (uint8_t)(sizeof(path) - 1);
	memcpy(req + len, path, sizeof(path) - 1);
	len += sizeof(path) - 1;
	expect_accepted(&lt, req, len, ih, 1);

	/* aria2: two zero bytes (EndOfOptions, then padding). */
	a.cid = udp_connect(&aria);
	a.port = aria.port;
	len = req_announce(req, &a);
	req[len++] = 0;
	req[len++] = 0;
	expect_accepted(&aria, req, len, ih, 2);

	/* Transmission: the plain 98 bytes. */
	a.cid = udp_connect(&tr);
	a.port = tr.port;
	len = req_announce(req, &a);
	assert_int_equal(len, 98);
	expect_accepted(&tr, req, len, ih, 3);

	/* NOPs, URLData split in two, then the end marker. */
	a.cid = udp_connect(&nop);
	a.port = nop.port;
	len = req_announce(req, &a);
	req[len++] = 0x1;
	req[len++] = 0x2;
	req[len++] = 3;
	memcpy(req + len, "/an", 3);
	len += 3;
	req[len++] = 0x2;
	req[len++] = 6;
	memcpy(req + len, "nounce", 6);
	len += 6;
	req[len++] = 0x0;
	expect_accepted(&nop, req, len, ih, 4);

	assert_int_equal(fx.st.err[STATS_UDP][STATS_ERR_MALFORMED], 0);
}

static void test_udp_announce_options_running_past_the_datagram_are_tolerated(void **state)
{
	(void)state;
	uint8_t req[128], ih[TR_HASH_LEN];
	struct tr_addr src = v4(1);

	hash_of(ih, 1);
	struct ann a = {.cid = udp_connect(&src),
			.tid = TID,
			.ih = ih,
			.left = 1,
			.event = EV_STARTED,
			.numwant = 50,
			.port = src.port};
	size_t len = req_announce(req, &a);
	req[len++] = 0x2;
	req[len++] = 200; /* claims 200 bytes, carries 4 */
	memcpy(req + len, "/ann", 4);
	len += 4;
	expect_accepted(&src, req, len, ih, 1);
}

/* ---- scrape ------------------------------------------------------------- */

static void test_udp_scrape_returns_counts_in_bep15_order(void **state)
{
	(void)state;
	uint8_t out[OUT_SIZE], known[TR_HASH_LEN], other[TR_HASH_LEN], unknown[TR_HASH_LEN];

	hash_of(known, 1);
	hash_of(other, 2);
	hash_of(unknown, 3);
	/* known: 3 seeders, 4 leechers, 1 completed; other: 1 leecher. */
	for (unsigned i = 0; i < 5; i++) {
		struct tr_addr p = v4(i + 1);

		join(&p, known, false);
	}
	for (unsigned i = 0; i < 2; i++) {
		struct tr_addr p = v4(i + 11);

		join(&p, known, true);
	}
	struct tr_addr done = v4(1), lone = v4(20);
	announce_ok(&done, known, 0, EV_COMPLETED, 0, out);
	join(&lone, other, false);

	uint8_t hashes[4 * TR_HASH_LEN], req[16 + 4 * TR_HASH_LEN];
	memcpy(hashes, unknown, TR_HASH_LEN);
	memcpy(hashes + 20, known, TR_HASH_LEN);
	memcpy(hashes + 40, other, TR_HASH_LEN);
	memcpy(hashes + 60, known, TR_HASH_LEN);
	struct tr_addr src = v4(900);
	size_t n = udp(&src, req, req_scrape(req, udp_connect(&src), 0x5c4a9e, hashes, 4), out);

	assert_int_equal(n, 8 + 4 * 12);
	assert_int_equal(get32(out), ACT_SCRAPE);
	assert_int_equal(get32(out + 4), 0x5c4a9e);
	/* Entries in the order asked: seeders, completed, leechers each. */
	const uint32_t want[4][3] = {{0, 0, 0}, {3, 1, 4}, {0, 0, 1}, {3, 1, 4}};
	for (unsigned i = 0; i < 4; i++) {
		assert_int_equal(get32(out + 8 + 12 * i), want[i][0]);
		assert_int_equal(get32(out + 8 + 12 * i + 4), want[i][1]);
		assert_int_equal(get32(out + 8 + 12 * i + 8), want[i][2]);
	}
	/* A scrape never creates a swarm. */
	struct counts k = scrape1(unknown);
	assert_int_equal(k.seeders + k.leechers + k.completed, 0);
}

static void test_udp_scrape_of_many_hashes_is_cut_to_one_frame(void **state)
{
	(void)state;
	uint8_t hashes[200 * TR_HASH_LEN], req[16 + 200 * TR_HASH_LEN], out[OUT_SIZE];
	struct tr_addr p = v4(1), s4 = v4(2), s6 = v6(2);

	for (unsigned i = 0; i < 200; i++)
		hash_of(hashes + i * TR_HASH_LEN, i);
	join(&p, hashes, true);			     /* first hash: 1 seeder */
	join(&p, hashes + 119 * TR_HASH_LEN, false); /* 120th: 1 leecher */
	join(&p, hashes + 150 * TR_HASH_LEN, false); /* beyond the cut */

	for (int fam = 0; fam < 2; fam++) {
		const struct tr_addr *src = fam == 0 ? &s4 : &s6;
		size_t len = req_scrape(req, udp_connect(src), TID, hashes, 200);
		size_t n = udp(src, req, len, out);

		assert_true(n <= TR_UDP_PAYLOAD_MAX_V6);
		assert_int_equal((n - 8) % 12, 0);
		assert_true((n - 8) / 12 <= 120);
		assert_int_equal(n, 8 + 120 * 12);
		assert_int_equal(get32(out), ACT_SCRAPE);
		assert_int_equal(get32(out + 8), 1);		    /* first: seeders */
		assert_int_equal(get32(out + 8 + 119 * 12 + 8), 1); /* 120th: leechers */
	}
}

/* ---- limits ------------------------------------------------------------- */

static void test_udp_announce_beyond_max_swarms_gets_an_error_naming_the_limit(void **state)
{
	(void)state;
	uint8_t out[OUT_SIZE], ih[4][TR_HASH_LEN];
	struct tr_addr p = v4(1), q = v4(2);

	for (unsigned i = 0; i < 4; i++)
		hash_of(ih[i], i + 1);
	for (unsigned i = 0; i < 3; i++)
		join(&p, ih[i], false);

	size_t n = announce(&p, ih[3], 1, EV_STARTED, 10, out);
	assert_true(n > 8);
	assert_int_equal(get32(out), ACT_ERROR);
	assert_int_equal(get32(out + 4), TID);
	char msg[OUT_SIZE];
	memcpy(msg, out + 8, n - 8);
	msg[n - 8] = '\0';
	assert_non_null(strstr(msg, "torrent"));
	assert_non_null(strstr(msg, "full"));
	assert_int_equal(fx.st.err[STATS_UDP][STATS_ERR_SWARMS], 1);
	struct counts k = scrape1(ih[3]);
	assert_int_equal(k.seeders + k.leechers, 0);

	/* Existing swarms keep working, for old and new peers. */
	n = announce_ok(&q, ih[0], 1, EV_STARTED, 10, out);
	assert_int_equal(n, 20 + 6);
	assert_true(peers_include(out + 20, 1, 6, &p));
	assert_int_equal(get32(out + 12), 2);
	announce_ok(&p, ih[1], 0, EV_COMPLETED, 10, out);
	k = scrape1(ih[1]);
	assert_int_equal(k.seeders, 1);
	assert_int_equal(k.completed, 1);
	assert_int_equal(fx.st.err[STATS_UDP][STATS_ERR_SWARMS], 1);
}

/* ---- counting ----------------------------------------------------------- */

static void test_udp_every_answered_request_is_counted_by_action(void **state)
{
	(void)state;
	uint8_t out[OUT_SIZE], ih[TR_HASH_LEN], req[36];
	struct tr_addr a = v4(1), b = v6(1);

	hash_of(ih, 1);
	announce_ok(&a, ih, 1, EV_STARTED, 10, out); /* connect + announce */
	announce_ok(&b, ih, 0, EV_STARTED, 10, out); /* connect + announce */
	announce_ok(&a, ih, 1, EV_NONE, 10, out);    /* connect + announce */
	assert_int_equal(udp(&a, req, req_scrape(req, udp_connect(&a), TID, ih, 1), out), 20);

	assert_int_equal(fx.st.req[STATS_UDP][STATS_CONNECT], 4);
	assert_int_equal(fx.st.req[STATS_UDP][STATS_ANNOUNCE], 3);
	assert_int_equal(fx.st.req[STATS_UDP][STATS_SCRAPE], 1);
	for (unsigned e = 0; e < STATS_ERR_N; e++)
		assert_int_equal(fx.st.err[STATS_UDP][e], 0);
	for (unsigned p = 0; p < STATS_ACTION_N; p++)
		assert_int_equal(fx.st.req[STATS_HTTP][p], 0);
}

/* ---- in place ----------------------------------------------------------- */

/* The DPDK path writes the reply over the request in the same frame. */
static void test_udp_replies_written_over_their_request_equal_replies_written_apart(void **state)
{
	(void)state;
	struct tr_addr me = v4(1), other = v4(2);
	uint8_t ih[TR_HASH_LEN], hashes[120 * TR_HASH_LEN], apart[OUT_SIZE];
	static uint8_t buf[16 + 120 * TR_HASH_LEN]; /* the request is the larger */

	for (unsigned i = 0; i < 120; i++)
		hash_of(hashes + i * TR_HASH_LEN, i);
	for (unsigned i = 0; i < 120; i += 7) {
		join(&other, hashes + i * TR_HASH_LEN, i % 2);
		join(&me, hashes + i * TR_HASH_LEN, false);
	}
	uint64_t cid = udp_connect(&me);

	/* Scrape: the largest one, where entries overtake hashes fastest. */
	size_t len = req_scrape(buf, cid, TID, hashes, 120);
	size_t n_apart = udp(&me, buf, len, apart);
	size_t n_in = tr_udp_handle(&fx.ctx, &me, buf, len, buf, cap_of(&me), fx.now, NULL);
	assert_int_equal(n_in, n_apart);
	assert_int_equal(n_in, 8 + 120 * 12);
	assert_memory_equal(buf, apart, n_in);

	/* Connect: same id, same transaction. */
	len = req_connect(buf, 0x1234);
	n_in = tr_udp_handle(&fx.ctx, &me, buf, len, buf, cap_of(&me), fx.now, NULL);
	assert_int_equal(n_in, 16);
	assert_int_equal(get32(buf + 4), 0x1234);
	assert_int_equal(get64(buf + 8), cid);

	/* Announce: the reply names the other peer, and the request's fields
	 * (left, event, port) were read before being overwritten. */
	hash_of(ih, 999);
	join(&other, ih, true);
	struct ann a = {.cid = cid,
			.tid = TID,
			.ih = ih,
			.left = 0,
			.event = EV_COMPLETED,
			.numwant = 10,
			.port = me.port};
	len = req_announce(buf, &a);
	n_in = tr_udp_handle(&fx.ctx, &me, buf, len, buf, cap_of(&me), fx.now, NULL);
	assert_int_equal(get32(buf), ACT_ANNOUNCE);
	assert_int_equal(get32(buf + 4), TID);
	/* A seeder among seeders is given no peers; both are counted. */
	assert_int_equal(n_in, 20);
	assert_int_equal(get32(buf + 16), 2); /* seeders */
	struct counts c = scrape1(ih);
	assert_int_equal(c.seeders, 2);
	assert_int_equal(c.completed, 1);
}

/* ---- access list ---------------------------------------------------------- */

/* Checks out (n bytes) is a BEP 15 error naming the access list. */
static void expect_access_error(const uint8_t *out, size_t n)
{
	size_t ml = strlen(ACL_MSG_REFUSED);

	assert_int_equal(n, 8 + ml);
	assert_int_equal(get32(out), ACT_ERROR);
	assert_int_equal(get32(out + 4), TID);
	assert_memory_equal(out + 8, ACL_MSG_REFUSED, ml);
}

static void test_udp_allow_list_serves_listed_hashes_and_refuses_the_rest(void **state)
{
	(void)state;
	uint8_t out[OUT_SIZE], listed[TR_HASH_LEN], other[TR_HASH_LEN];
	struct tr_addr p = v4(1), q = v6(2);

	hash_of(listed, 1);
	hash_of(other, 2);
	tracker_fx_acl(&fx, ACL_ALLOW, listed, 1);
	join(&p, listed, false);
	expect_access_error(out, announce(&p, other, 1, EV_STARTED, 10, out));
	expect_access_error(out, announce(&q, other, 0, EV_COMPLETED, 10, out));
	assert_int_equal(fx.st.err[STATS_UDP][STATS_ERR_ACCESS], 2);
	assert_int_equal(fx.st.req[STATS_UDP][STATS_ANNOUNCE], 1);
	/* Nothing of the refused announces reached the table. */
	tracker_fx_acl(&fx, ACL_OFF, NULL, 0);
	struct counts k = scrape1(other);
	assert_int_equal(k.seeders + k.leechers + k.completed, 0);
	k = scrape1(listed);
	assert_int_equal(k.leechers, 1);
}

static void test_udp_deny_list_refuses_listed_hashes_and_serves_the_rest(void **state)
{
	(void)state;
	uint8_t out[OUT_SIZE], denied[2 * TR_HASH_LEN], other[TR_HASH_LEN];
	struct tr_addr p = v4(1);

	hash_of(denied, 1);
	hash_of(denied + TR_HASH_LEN, 3);
	hash_of(other, 2);
	tracker_fx_acl(&fx, ACL_DENY, denied, 2);
	expect_access_error(out, announce(&p, denied, 1, EV_STARTED, 10, out));
	expect_access_error(out, announce(&p, denied + TR_HASH_LEN, 1, EV_STARTED, 10, out));
	join(&p, other, true);
	assert_int_equal(fx.st.err[STATS_UDP][STATS_ERR_ACCESS], 2);
	assert_int_equal(scrape1(other).seeders, 1);
}

static void test_udp_access_is_checked_after_the_connection_id(void **state)
{
	(void)state;
	uint8_t req[98], out[OUT_SIZE], ih[TR_HASH_LEN];
	struct tr_addr src = v4(1);

	hash_of(ih, 1);
	tracker_fx_acl(&fx, ACL_DENY, ih, 1);
	struct ann a = {.cid = 12345, .tid = TID, .ih = ih, .left = 1, .port = src.port};
	size_t len = req_announce(req, &a), n = udp(&src, req, len, out);

	assert_true(n <= len);
	assert_int_equal(get32(out), ACT_ERROR);
	assert_int_equal(fx.st.err[STATS_UDP][STATS_ERR_CONNID], 1);
	assert_int_equal(fx.st.err[STATS_UDP][STATS_ERR_ACCESS], 0);
}

static void test_udp_scrape_answers_refused_hashes_with_zeros_and_keeps_their_peers(void **state)
{
	(void)state;
	uint8_t out[OUT_SIZE], a[TR_HASH_LEN], b[TR_HASH_LEN];
	struct tr_addr p1 = v4(1), p2 = v4(2), p3 = v4(3);

	hash_of(a, 1);
	hash_of(b, 2);
	join(&p1, a, false);
	join(&p2, a, true);
	join(&p3, b, false);
	/* The swarm of a becomes denied: its peers stay, unserved. */
	tracker_fx_acl(&fx, ACL_DENY, a, 1);
	uint8_t hashes[3 * TR_HASH_LEN], req[16 + 3 * TR_HASH_LEN];
	memcpy(hashes, b, TR_HASH_LEN);
	memcpy(hashes + 20, a, TR_HASH_LEN);
	memcpy(hashes + 40, b, TR_HASH_LEN);
	struct tr_addr src = v4(900);
	size_t n = udp(&src, req, req_scrape(req, udp_connect(&src), TID, hashes, 3), out);

	assert_int_equal(n, 8 + 3 * 12);
	assert_int_equal(get32(out), ACT_SCRAPE);
	const uint32_t want[3][3] = {{0, 0, 1}, {0, 0, 0}, {0, 0, 1}};
	for (unsigned i = 0; i < 3; i++)
		for (unsigned j = 0; j < 3; j++)
			assert_int_equal(get32(out + 8 + 12 * i + 4 * j), want[i][j]);
	assert_int_equal(fx.st.err[STATS_UDP][STATS_ERR_ACCESS], 1);
	assert_int_equal(fx.st.req[STATS_UDP][STATS_SCRAPE], 1);
	/* Lifted: the swarm is as it was. */
	tracker_fx_acl(&fx, ACL_OFF, NULL, 0);
	struct counts k = scrape1(a);
	assert_int_equal(k.seeders, 1);
	assert_int_equal(k.leechers, 1);
}

/*
 * The packet loop's prefetch hint names the peer the announce then enters:
 * an announce whose port differs from its source port is hinted as, and
 * returned to the next peer as, source address with the announce's port.
 * A scrape hints its first hash with no peer; a connect and a short
 * datagram hint nothing.
 */
static void test_udp_hint_names_the_peer_the_announce_enters(void **state)
{
	struct tr_addr src = v4(21), other = v4(22);
	uint8_t ih[TR_HASH_LEN], ih2[TR_HASH_LEN], req[98 + 2 * TR_HASH_LEN], out[OUT_SIZE];
	struct ptab_hint h;

	(void)state;
	hash_of(ih, 90);
	hash_of(ih2, 91);
	struct ann a = {.cid = udp_connect(&src),
			.tid = TID,
			.ih = ih,
			.left = 0,
			.event = EV_STARTED,
			.numwant = 0,
			.port = 7777};
	size_t len = req_announce(req, &a);
	assert_true(tr_udp_hint(&fx.ctx, &src, req, len, &h));
	assert_memory_equal(h.info_hash, ih, TR_HASH_LEN);
	assert_true(h.seeder);
	struct tr_addr entered = src;
	entered.port = 7777;
	assert_int_equal(h.peer.family, TR_AF_INET);
	assert_int_equal(h.peer.port, 7777);
	assert_memory_equal(h.peer.ip, src.ip, 4);
	assert_int_equal(udp(&src, req, len, out), 20);

	size_t n = announce_ok(&other, ih, 1000, EV_STARTED, 10, out);
	assert_int_equal(n, 20 + 6);
	assert_true(peers_include(out + 20, 1, 6, &entered));

	len = req_scrape(req, udp_connect(&src), TID, ih2, 1);
	memcpy(req + 16 + TR_HASH_LEN, ih, TR_HASH_LEN);
	len += TR_HASH_LEN;
	assert_true(tr_udp_hint(&fx.ctx, &src, req, len, &h));
	assert_memory_equal(h.info_hash, ih2, TR_HASH_LEN);
	assert_int_equal(h.peer.family, 0);

	assert_false(tr_udp_hint(&fx.ctx, &src, req, req_connect(req, TID), &h));
	assert_false(
	    tr_udp_hint(&fx.ctx, &src, req, req_announce(req, &a) - 1, &h)); /* one byte short */
}

/*
 * An announce made with what the burst prefetch found for it (its swarm's
 * position and the peer's hash, carried in the hint) answers exactly as
 * the same announce made without: same counts, same peers for the same
 * random draw. A hint the prefetch never filled (tab NULL) is not used,
 * and one whose swarm died since only costs a fresh lookup.
 */
static void test_udp_announce_with_its_prefetch_hint_answers_as_without(void **state)
{
	struct tr_addr src = v4(30);
	uint8_t ih[TR_HASH_LEN], req[98], out[OUT_SIZE], out2[OUT_SIZE];
	struct ptab_hint h;

	(void)state;
	hash_of(ih, 92);
	for (unsigned i = 0; i < 40; i++) {
		struct tr_addr p = v4(100 + i);
		join(&p, ih, i % 3 == 0);
	}
	struct ann a = {.cid = udp_connect(&src),
			.tid = TID,
			.ih = ih,
			.left = 5,
			.event = EV_STARTED,
			.numwant = 10,
			.port = 7000};
	size_t len = req_announce(req, &a);
	struct tr_rng before = fx.ctx.rng;
	struct ptab_stats st0, st1;

	assert_true(tr_udp_hint(&fx.ctx, &src, req, len, &h));
	ptab_prefetch(fx.pt, &h, 1);
	assert_ptr_equal(h.tab, fx.pt);
	assert_true(h.pos >= 0);
	/* As the packet loop makes it: the hint's hash points into the
	 * datagram, while the announce gets the parser's copy. */
	assert_ptr_equal(h.info_hash, req + 16);
	ptab_stats(fx.pt, &st0);
	size_t n = tr_udp_handle(&fx.ctx, &src, req, len, out, sizeof(out), fx.now, &h);
	assert_int_equal(n, 20 + 10 * 6);
	ptab_stats(fx.pt, &st1);
	assert_int_equal(st1.hinted, st0.hinted + 1); /* the announce used it */

	fx.ctx.rng = before; /* the same draw, taken by the announce itself */
	size_t n2 = tr_udp_handle(&fx.ctx, &src, req, len, out2, sizeof(out2), fx.now, NULL);
	assert_int_equal(n2, n);
	assert_memory_equal(out, out2, n);

	/* Never prefetched: its position is not trusted. */
	assert_true(tr_udp_hint(&fx.ctx, &src, req, len, &h));
	h.pos = 12345;
	ptab_stats(fx.pt, &st0);
	assert_int_equal(tr_udp_handle(&fx.ctx, &src, req, len, out, sizeof(out), fx.now, &h),
			 20 + 10 * 6);
	ptab_stats(fx.pt, &st1);
	assert_int_equal(st1.hinted, st0.hinted);
	/* Filled for another peer: not used either. */
	assert_true(tr_udp_hint(&fx.ctx, &src, req, len, &h));
	ptab_prefetch(fx.pt, &h, 1);
	h.peer.ip[3] ^= 1;
	assert_int_equal(tr_udp_handle(&fx.ctx, &src, req, len, out, sizeof(out), fx.now, &h),
			 20 + 10 * 6);
	ptab_stats(fx.pt, &st0);
	assert_int_equal(st0.hinted, st1.hinted);

	/* The swarm dies between the prefetch and the announce: everyone
	 * leaves and the sweep retires it. The announce makes a new one. */
	uint8_t ih3[TR_HASH_LEN];
	struct tr_addr lone = v4(31);
	hash_of(ih3, 93);
	join(&lone, ih3, true);
	a.ih = ih3;
	len = req_announce(req, &a);
	assert_true(tr_udp_hint(&fx.ctx, &src, req, len, &h));
	ptab_prefetch(fx.pt, &h, 1);
	assert_true(h.pos >= 0);
	announce_ok(&lone, ih3, 0, EV_STOPPED, 0, out2);
	struct ptab_cursor cur = {0};
	while (cur.cycles == 0)
		ptab_expire(fx.pt, fx.now, 1000, &cur);
	struct ptab_counts c;
	ptab_scrape(fx.pt, ih3, &c);
	assert_int_equal(c.seeders + c.leechers, 0);
	n = tr_udp_handle(&fx.ctx, &src, req, len, out, sizeof(out), fx.now, &h);
	assert_int_equal(n, 20);
	assert_int_equal(get32(out + 12), 1); /* leechers: the announcer, in a new swarm */
	ptab_scrape(fx.pt, ih3, &c);
	assert_int_equal(c.leechers, 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	    T(test_udp_connect_echoes_the_transaction_id_and_issues_a_working_id),
	    T(test_udp_connect_ids_differ_between_clients),
	    T(test_udp_announce_with_a_forged_connection_id_gets_a_short_error),
	    T(test_udp_announce_with_an_expired_connection_id_gets_a_short_error),
	    T(test_udp_announce_with_a_connection_id_from_the_future_is_refused),
	    T(test_udp_announce_with_another_address_connection_id_is_refused),
	    T(test_udp_scrape_with_a_bad_connection_id_is_not_amplified),
	    T(test_udp_error_replies_never_exceed_the_request_even_when_the_cap_is_small),
	    T(test_udp_malformed_datagrams_get_no_reply_and_are_counted_by_reason),
	    T(test_udp_announce_interval_has_jitter_within_its_bounds),
	    T(test_udp_announce_interval_is_exact_without_jitter),
	    T(test_udp_announce_reports_leechers_and_seeders),
	    T(test_udp_announce_never_returns_the_announcer),
	    T(test_udp_announce_returns_only_peers_of_the_requests_family),
	    T(test_udp_announce_honours_numwant),
	    T(test_udp_announce_numwant_minus_one_gives_the_default),
	    T(test_udp_announce_numwant_above_the_maximum_is_capped),
	    T(test_udp_announce_ipv4_reply_fits_one_frame),
	    T(test_udp_announce_ipv6_reply_fits_one_frame),
	    T(test_udp_announce_gives_a_seeder_only_leechers),
	    T(test_udp_announce_stopped_removes_the_peer),
	    T(test_udp_announce_completed_counts_a_download_once),
	    T(test_udp_announce_with_port_zero_gets_an_error),
	    T(test_udp_announce_accepts_the_bep41_forms_real_clients_send),
	    T(test_udp_announce_options_running_past_the_datagram_are_tolerated),
	    T(test_udp_scrape_returns_counts_in_bep15_order),
	    T(test_udp_scrape_of_many_hashes_is_cut_to_one_frame),
	    T(test_udp_every_answered_request_is_counted_by_action),
	    T(test_udp_replies_written_over_their_request_equal_replies_written_apart),
	    T(test_udp_hint_names_the_peer_the_announce_enters),
	    T(test_udp_announce_with_its_prefetch_hint_answers_as_without),
	    T(test_udp_allow_list_serves_listed_hashes_and_refuses_the_rest),
	    T(test_udp_deny_list_refuses_listed_hashes_and_serves_the_rest),
	    T(test_udp_access_is_checked_after_the_connection_id),
	    T(test_udp_scrape_answers_refused_hashes_with_zeros_and_keeps_their_peers),
	    cmocka_unit_test_setup_teardown(
		test_udp_announce_beyond_max_swarms_gets_an_error_naming_the_limit,
		setup_three_swarms, teardown),
#undef T
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
