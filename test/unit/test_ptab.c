/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_ptab.c - the peer table on one thread: announces, counters,
 * selection, expiry and limits.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <rte_lcore.h>

#include "eal_test.h"
#include "core/ptab.h"
#include "core/udp_msg.h"

#define T0 1000000 /* a start time far from zero, in seconds */

struct fx {
	struct ptab *t;
};

static struct ptab *table_new_kept(uint32_t max_swarms, uint32_t max_peers, uint64_t mem,
				   uint32_t retention)
{
	static unsigned seq;
	char name[16], err[256];
	struct ptab_params p = {
	    .name = name,
	    .max_swarms = max_swarms,
	    .max_peers_per_swarm = max_peers,
	    .memory_bytes = mem,
	    .peer_timeout = 2700,
	    .swarm_retention = retention,
	    .socket_id = -1,
	};

	snprintf(name, sizeof(name), "u%u", seq++);
	struct ptab *t = ptab_new(&p, err, sizeof(err));
	if (t == NULL)
		fail_msg("ptab_new: %s", err);
	assert_int_equal(ptab_reader_register(t), 0);
	return t;
}

static struct ptab *table_new(uint32_t max_swarms, uint32_t max_peers, uint64_t mem)
{
	return table_new_kept(max_swarms, max_peers, mem, 0);
}

static void table_free(struct ptab *t)
{
	ptab_reader_unregister(t);
	ptab_free(t);
}

static int setup(void **state)
{
	static struct fx f;

	f.t = table_new(1000, 100000, 256u << 20);
	*state = &f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	table_free(f->t);
	return 0;
}

static void hash_of(uint8_t ih[20], unsigned n)
{
	memset(ih, 0xab, 20);
	memcpy(ih, &n, sizeof(n));
}

static struct tr_addr v4(unsigned n, uint16_t port)
{
	uint8_t ip[4] = {198, 18, (uint8_t)(n >> 8), (uint8_t)n};

	return tr_addr_v4(ip, port);
}

static struct tr_addr v6(unsigned n, uint16_t port)
{
	uint8_t ip[16] = {0xfd,	     0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, (uint8_t)(n >> 8),
			  (uint8_t)n};

	return tr_addr_v6(ip, port);
}

/* One announce; peers land in out (room for 300 IPv6 entries). */
static enum ptab_err ann(struct ptab *t, const uint8_t ih[20], struct tr_addr a, uint8_t event,
			 bool seeder, uint32_t numwant, uint64_t rnd, uint64_t now,
			 struct ptab_result *r, uint8_t *out)
{
	static uint8_t scratch[300 * TR_PEER6_LEN], other[300 * TR_PEER6_LEN];
	struct ptab_announce pa = {
	    .info_hash = ih,
	    .peer = a,
	    .event = event,
	    .seeder = seeder,
	    .numwant = numwant,
	    .rnd = rnd,
	};

	return ptab_announce(t, &pa, now, out ? out : scratch, other, r);
}

static void assert_counts(struct ptab *t, const uint8_t ih[20], uint32_t s, uint32_t l, uint32_t c)
{
	struct ptab_counts k;

	ptab_scrape(t, ih, &k);
	assert_int_equal(k.seeders, s);
	assert_int_equal(k.leechers, l);
	assert_int_equal(k.completed, c);
}

static void test_ptab_started_inserts_and_stopped_removes(void **state)
{
	struct ptab *t = ((struct fx *)*state)->t;
	struct ptab_result r;
	uint8_t ih[20];

	hash_of(ih, 1);
	assert_int_equal(ann(t, ih, v4(1, 6881), UDP_MSG_EV_STARTED, false, 50, 1, T0, &r, NULL),
			 PTAB_OK);
	assert_int_equal(r.counts.leechers, 1);
	assert_int_equal(r.n, 0); /* nobody else yet */
	assert_int_equal(ann(t, ih, v4(2, 6881), UDP_MSG_EV_STARTED, true, 50, 1, T0, &r, NULL),
			 PTAB_OK);
	assert_counts(t, ih, 1, 1, 0);
	/* A regular announce of a known peer refreshes, never duplicates. */
	assert_int_equal(ann(t, ih, v4(1, 6881), UDP_MSG_EV_NONE, false, 50, 1, T0, &r, NULL),
			 PTAB_OK);
	assert_counts(t, ih, 1, 1, 0);
	/* Same address, other port: another peer. */
	assert_int_equal(ann(t, ih, v4(1, 6882), UDP_MSG_EV_NONE, false, 50, 1, T0, &r, NULL),
			 PTAB_OK);
	assert_counts(t, ih, 1, 2, 0);
	assert_int_equal(ann(t, ih, v4(1, 6881), UDP_MSG_EV_STOPPED, false, 50, 1, T0, &r, NULL),
			 PTAB_OK);
	assert_int_equal(r.n, 0);
	assert_counts(t, ih, 1, 1, 0);
	/* Stopping an unknown peer changes nothing. */
	assert_int_equal(ann(t, ih, v4(9, 1), UDP_MSG_EV_STOPPED, false, 50, 1, T0, &r, NULL),
			 PTAB_OK);
	assert_counts(t, ih, 1, 1, 0);

	struct ptab_stats st;
	ptab_stats(t, &st);
	assert_true(st.peers4 >= 2);
}

static void test_ptab_stopped_never_creates_a_swarm(void **state)
{
	struct ptab *t = ((struct fx *)*state)->t;
	struct ptab_stats before, after;
	struct ptab_result r;
	uint8_t ih[20];

	hash_of(ih, 2);
	ptab_stats(t, &before);
	assert_int_equal(ann(t, ih, v4(1, 1), UDP_MSG_EV_STOPPED, false, 50, 1, T0, &r, NULL),
			 PTAB_OK);
	ptab_stats(t, &after);
	assert_int_equal(after.swarms, before.swarms);
	assert_counts(t, ih, 0, 0, 0);
}

static void test_ptab_completed_counts_a_download_once(void **state)
{
	struct ptab *t = ((struct fx *)*state)->t;
	struct ptab_result r;
	uint8_t ih[20];

	hash_of(ih, 3);
	ann(t, ih, v6(1, 1000), UDP_MSG_EV_STARTED, false, 50, 1, T0, &r, NULL);
	assert_counts(t, ih, 0, 1, 0);
	ann(t, ih, v6(1, 1000), UDP_MSG_EV_COMPLETED, true, 50, 1, T0, &r, NULL);
	assert_counts(t, ih, 1, 0, 1);
	/* Repeated completed from a known seeder: not another download. */
	ann(t, ih, v6(1, 1000), UDP_MSG_EV_COMPLETED, true, 50, 1, T0, &r, NULL);
	assert_counts(t, ih, 1, 0, 1);
	/* A peer arriving already completed counts. */
	ann(t, ih, v6(2, 1000), UDP_MSG_EV_COMPLETED, true, 50, 1, T0, &r, NULL);
	assert_counts(t, ih, 2, 0, 2);
	/* A seeder going back to leeching (recheck) moves sets. */
	ann(t, ih, v6(2, 1000), UDP_MSG_EV_NONE, false, 50, 1, T0, &r, NULL);
	assert_counts(t, ih, 1, 1, 2);
}

/* Fills a swarm with `seeders` IPv4 seeders and `leechers` IPv4 leechers. */
static void fill(struct ptab *t, const uint8_t ih[20], unsigned seeders, unsigned leechers)
{
	struct ptab_result r;

	for (unsigned i = 0; i < seeders + leechers; i++)
		assert_int_equal(ann(t, ih, v4(i, (uint16_t)(10000 + i)), UDP_MSG_EV_STARTED,
				     i < seeders, 0, 0, T0, &r, NULL),
				 PTAB_OK);
}

static bool peer_in(const uint8_t *peers, uint32_t n, const struct tr_addr *a)
{
	uint8_t c[TR_PEER6_LEN];
	unsigned len = tr_addr_compact(a, c);

	for (uint32_t i = 0; i < n; i++)
		if (memcmp(peers + (size_t)i * len, c, len) == 0)
			return true;
	return false;
}

static void test_ptab_selection_excludes_the_announcer_and_honours_numwant(void **state)
{
	struct ptab *t = ((struct fx *)*state)->t;
	uint8_t out[300 * TR_PEER6_LEN];
	struct ptab_result r;
	uint8_t ih[20];

	hash_of(ih, 4);
	fill(t, ih, 0, 40);
	for (uint64_t rnd = 0; rnd < 200; rnd++) {
		struct tr_addr me = v4((unsigned)(rnd % 40), (uint16_t)(10000 + rnd % 40));

		ann(t, ih, me, UDP_MSG_EV_NONE, false, 39, rnd * 0x9e3779b97f4a7c15ULL, T0, &r,
		    out);
		assert_int_equal(r.n, 39); /* everyone but me */
		assert_false(peer_in(out, r.n, &me));
		ann(t, ih, me, UDP_MSG_EV_NONE, false, 5, rnd * 0x9e3779b97f4a7c15ULL, T0, &r, out);
		assert_int_equal(r.n, 5);
		assert_false(peer_in(out, r.n, &me));
	}
	/* No duplicates in a full selection. */
	ann(t, ih, v4(0, 10000), UDP_MSG_EV_NONE, false, 100, 7, T0, &r, out);
	for (uint32_t i = 0; i < r.n; i++)
		for (uint32_t j = i + 1; j < r.n; j++)
			assert_memory_not_equal(out + i * 6, out + j * 6, 6);
}

static void test_ptab_seeders_get_only_leechers(void **state)
{
	struct ptab *t = ((struct fx *)*state)->t;
	uint8_t out[300 * TR_PEER6_LEN];
	struct ptab_result r;
	uint8_t ih[20];

	hash_of(ih, 5);
	fill(t, ih, 30, 10); /* peers 0..29 seed, 30..39 leech */
	ann(t, ih, v4(0, 10000), UDP_MSG_EV_NONE, true, 50, 99, T0, &r, out);
	assert_int_equal(r.n, 10);
	for (unsigned i = 30; i < 40; i++) {
		struct tr_addr l = v4(i, (uint16_t)(10000 + i));
		assert_true(peer_in(out, r.n, &l));
	}
	/* A leecher gets both kinds, in proportion: 3:1 seeders here. */
	ann(t, ih, v4(30, 10030), UDP_MSG_EV_NONE, false, 20, 99, T0, &r, out);
	assert_int_equal(r.n, 20);
	unsigned seeders = 0;
	for (unsigned i = 0; i < 30; i++) {
		struct tr_addr s = v4(i, (uint16_t)(10000 + i));
		seeders += peer_in(out, r.n, &s);
	}
	assert_in_range(seeders, 13, 17);
}

static void test_ptab_selection_is_random(void **state)
{
	struct ptab *t = ((struct fx *)*state)->t;
	uint8_t out[300 * TR_PEER6_LEN];
	unsigned hits[200] = {0};
	struct ptab_result r;
	uint8_t ih[20];

	hash_of(ih, 6);
	fill(t, ih, 0, 200);
	/* 400 draws of 10 from 199: every peer is expected ~20 times; a fixed
	 * window would leave most at 0. */
	for (uint64_t k = 0; k < 400; k++) {
		ann(t, ih, v4(0, 10000), UDP_MSG_EV_NONE, false, 10, k * 0x9e3779b97f4a7c15ULL, T0,
		    &r, out);
		for (unsigned i = 1; i < 200; i++) {
			struct tr_addr a = v4(i, (uint16_t)(10000 + i));
			hits[i] += peer_in(out, r.n, &a);
		}
	}
	unsigned never = 0;
	for (unsigned i = 1; i < 200; i++)
		never += hits[i] == 0;
	assert_true(never < 10);
}

/* splitmix64: the test's own random bits, the same on every run. */
static uint64_t mix(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* The peer number n of v4(n, .) or v6(n, .) in a compact form. */
static unsigned peer_no(const uint8_t *c, bool ipv6)
{
	return ipv6 ? (unsigned)c[14] << 8 | c[15] : (unsigned)c[2] << 8 | c[3];
}

#define UNI_PEERS  301 /* leechers 0..300; the announcer is leecher 0 */
#define UNI_WANT   20
#define UNI_ROUNDS 15000 /* about 1,000 picks per peer */

/* Chi-square of how often each leecher was handed to leecher 0 (who is
 * never handed itself: 1..300) and to a seeder (who gets only leechers:
 * 0..300), against an even spread. Uniform picks give about the 299 degrees of
 * freedom, with a spread that the pick's window widens (neighbours in a
 * set are picked together): 194-559 in a simulation of these sizes. The
 * walk from a random slot that this replaced scored 5,800-22,000 there
 * (peers after a gap were picked more), so the bound is 3 x 299. */
static void uniformity(struct ptab *t, unsigned swarm, bool ipv6)
{
	static uint8_t out[300 * TR_PEER6_LEN];
	unsigned hits[2][UNI_PEERS] = {{0}};
	struct ptab_result r;
	uint64_t x = swarm;
	uint8_t ih[20];

	hash_of(ih, swarm);
	for (unsigned i = 0; i < UNI_PEERS; i++) {
		struct tr_addr a =
		    ipv6 ? v6(i, (uint16_t)(10000 + i)) : v4(i, (uint16_t)(10000 + i));
		assert_int_equal(ann(t, ih, a, UDP_MSG_EV_STARTED, false, 0, 0, T0, &r, NULL),
				 PTAB_OK);
	}
	struct tr_addr me = ipv6 ? v6(0, 10000) : v4(0, 10000);
	struct tr_addr seeder = ipv6 ? v6(999, 999) : v4(999, 999);
	for (unsigned k = 0; k < UNI_ROUNDS; k++) {
		for (unsigned role = 0; role < 2; role++) {
			assert_int_equal(ann(t, ih, role ? seeder : me, UDP_MSG_EV_NONE, role == 1,
					     UNI_WANT, mix(&x), T0, &r, out),
					 PTAB_OK);
			assert_int_equal(r.n, UNI_WANT);
			for (unsigned i = 0; i < r.n; i++) {
				unsigned n = peer_no(out + (size_t)i * (ipv6 ? 18 : 6), ipv6);
				/* Never the announcer, never a seeder. */
				assert_in_range(n, role ? 0 : 1, UNI_PEERS - 1);
				hits[role][n]++;
			}
		}
	}
	for (unsigned role = 0; role < 2; role++) {
		unsigned first = role ? 0 : 1, df = UNI_PEERS - first - 1;
		double expect = (double)UNI_ROUNDS * UNI_WANT / (df + 1), chi2 = 0;

		for (unsigned n = first; n < UNI_PEERS; n++)
			chi2 += (hits[role][n] - expect) * (hits[role][n] - expect) / expect;
		print_message("%s, to a %s: chi-square %.0f over %u degrees of freedom\n",
			      ipv6 ? "IPv6" : "IPv4", role ? "seeder" : "leecher", chi2, df);
		assert_true(chi2 < 3.0 * df);
	}
}

static void test_ptab_picks_are_uniform_over_the_swarm(void **state)
{
	struct ptab *t = ((struct fx *)*state)->t;

	uniformity(t, 60, false);
	uniformity(t, 61, true);
}

static void test_ptab_families_are_kept_apart(void **state)
{
	struct ptab *t = ((struct fx *)*state)->t;
	uint8_t out[300 * TR_PEER6_LEN], other[300 * TR_PEER6_LEN];
	struct ptab_result r;
	uint8_t ih[20];

	hash_of(ih, 7);
	for (unsigned i = 0; i < 5; i++) {
		ann(t, ih, v4(i, 1), UDP_MSG_EV_STARTED, false, 0, 0, T0, &r, NULL);
		ann(t, ih, v6(i, 1), UDP_MSG_EV_STARTED, false, 0, 0, T0, &r, NULL);
	}
	assert_counts(t, ih, 0, 10, 0);
	ann(t, ih, v6(0, 1), UDP_MSG_EV_NONE, false, 50, 3, T0, &r, out);
	assert_int_equal(r.n, 4);
	assert_int_equal(r.n_other, 0);
	for (unsigned i = 1; i < 5; i++) {
		struct tr_addr a = v6(i, 1);
		assert_true(peer_in(out, r.n, &a));
	}
	/* Asked explicitly, the other family comes in out_other. */
	struct ptab_announce pa = {
	    .info_hash = ih, .peer = v6(0, 1), .numwant = 50, .numwant_other = 50, .rnd = 3};
	assert_int_equal(ptab_announce(t, &pa, T0, out, other, &r), PTAB_OK);
	assert_int_equal(r.n, 4);
	assert_int_equal(r.n_other, 5);
	struct tr_addr a4 = v4(4, 1);
	assert_true(peer_in(other, r.n_other, &a4));
	/* A dual-stack announcer's own address of the other family is never
	 * handed back to it, and does not count as available. */
	pa.other_self = v4(4, 1);
	for (uint64_t rnd = 0; rnd < 50; rnd++) {
		pa.rnd = rnd * 0x9e3779b97f4a7c15ULL;
		assert_int_equal(ptab_announce(t, &pa, T0, out, other, &r), PTAB_OK);
		assert_int_equal(r.n_other, 4);
		assert_false(peer_in(other, r.n_other, &a4));
	}
}

static void test_ptab_many_peers_survive_growth_and_removal(void **state)
{
	struct ptab *t = ((struct fx *)*state)->t;
	struct ptab_result r;
	uint8_t ih[20];
	const unsigned n = 20000;

	hash_of(ih, 8);
	for (unsigned i = 0; i < n; i++)
		assert_int_equal(ann(t, ih, v6(i, (uint16_t)(1 + i % 7)), UDP_MSG_EV_STARTED, false,
				     0, 0, T0, &r, NULL),
				 PTAB_OK);
	assert_counts(t, ih, 0, n, 0);
	/* Remove every third: backward shifts must keep the rest findable. */
	for (unsigned i = 0; i < n; i += 3)
		ann(t, ih, v6(i, (uint16_t)(1 + i % 7)), UDP_MSG_EV_STOPPED, false, 0, 0, T0, &r,
		    NULL);
	uint32_t left = n - (n + 2) / 3;
	assert_counts(t, ih, 0, left, 0);
	/* Re-announcing every survivor finds it: the count must not move. */
	for (unsigned i = 0; i < n; i++)
		if (i % 3 != 0)
			ann(t, ih, v6(i, (uint16_t)(1 + i % 7)), UDP_MSG_EV_NONE, false, 0, 0, T0,
			    &r, NULL);
	assert_counts(t, ih, 0, left, 0);
	/* And every removed one is really gone: stopping it again changes nothing. */
	for (unsigned i = 0; i < n; i += 3)
		ann(t, ih, v6(i, (uint16_t)(1 + i % 7)), UDP_MSG_EV_STOPPED, false, 0, 0, T0, &r,
		    NULL);
	assert_counts(t, ih, 0, left, 0);
}

/* Table memory per peer of one family as a swarm grows from 8,000 to
 * 60,000 leechers, averaged over checkpoints every 1,000 (a set's fill
 * goes up and down with its growth steps, so one point says little). */
static double bytes_per_peer(bool ipv6, double *worst)
{
	struct ptab *t = table_new(10, 100000, 64u << 20);
	struct ptab_stats st;
	struct ptab_result r;
	double sum = 0;
	unsigned points = 0;
	uint8_t ih[20];

	hash_of(ih, 70 + ipv6);
	ptab_stats(t, &st);
	uint64_t base = st.mem_used;
	*worst = 0;
	for (unsigned i = 0; i < 60000; i++) {
		struct tr_addr a = ipv6 ? v6(i, 6881) : v4(i, 6881);
		assert_int_equal(ann(t, ih, a, UDP_MSG_EV_STARTED, false, 0, 0, T0, &r, NULL),
				 PTAB_OK);
		if ((i + 1) % 1000 == 0 && i + 1 >= 8000) {
			ptab_stats(t, &st);
			double b = (double)(st.mem_used - base) / (i + 1);
			sum += b;
			*worst = b > *worst ? b : *worst;
			points++;
		}
	}
	table_free(t);
	return sum / points;
}

/* Large swarms: at most 12 bytes per IPv4 peer and 24 per IPv6 peer on
 * average over the growth steps (an IPv6 slot is 19 bytes; its large sets
 * run 72-90% full), never more than 18 and 28 at any point. */
static void test_ptab_large_swarms_fit_the_memory_per_peer(void **unused)
{
	double worst4, worst6;
	double avg4 = bytes_per_peer(false, &worst4), avg6 = bytes_per_peer(true, &worst6);

	(void)unused;
	print_message("bytes per peer, 8k-60k peers: IPv4 %.1f (at most %.1f), IPv6 %.1f (at most "
		      "%.1f)\n",
		      avg4, worst4, avg6, worst6);
	assert_true(avg4 <= 12.0);
	assert_true(avg6 <= 24.0);
	assert_true(worst4 <= 18.0);
	assert_true(worst6 <= 28.0);
}

static void test_ptab_expiry_drops_stale_peers_in_bounded_slices(void **unused)
{
	(void)unused;
	struct ptab *t = table_new(100, 100000, 64u << 20);
	struct ptab_cursor cur = {0};
	struct ptab_result r;
	uint8_t ih[20], ih2[20];

	hash_of(ih, 1);
	hash_of(ih2, 2);
	for (unsigned i = 0; i < 10000; i++)
		ann(t, ih, v4(i, 5), UDP_MSG_EV_STARTED, i % 2, 0, 0, T0, &r, NULL);
	/* Half of them announce again later. */
	for (unsigned i = 0; i < 10000; i += 2)
		ann(t, ih, v4(i, 5), UDP_MSG_EV_NONE, i % 2, 0, 0, T0 + 2000, &r, NULL);
	ann(t, ih2, v4(1, 5), UDP_MSG_EV_STARTED, false, 0, 0, T0, &r, NULL);

	/* Before the timeout nothing goes. */
	uint32_t removed = 0;
	for (int i = 0; i < 100; i++)
		removed += ptab_expire(t, T0 + 2600, 1000, &cur);
	assert_int_equal(removed, 0);

	/* After it, slices of 1000 slots each remove a bounded number. */
	uint64_t cycles = cur.cycles;
	removed = 0;
	unsigned calls = 0;
	while (cur.cycles < cycles + 2) {
		uint32_t k = ptab_expire(t, T0 + 2800, 1000, &cur);
		assert_true(k <= 1000);
		removed += k;
		calls++;
		assert_true(calls < 1000);
	}
	assert_true(calls > 5); /* it really was sliced */
	assert_int_equal(removed, 5000 + 1);
	assert_counts(t, ih, 0, 5000, 0);

	/* The emptied swarm is gone; announcing it again makes a fresh one. */
	struct ptab_stats st;
	ptab_stats(t, &st);
	assert_int_equal(st.swarms, 1);
	assert_int_equal(st.peers4, 5000);
	assert_int_equal(st.leechers, 5000);
	assert_int_equal(st.seeders, 0);
	ptab_quiescent(t);
	assert_int_equal(
	    ann(t, ih2, v4(1, 5), UDP_MSG_EV_STARTED, false, 0, 0, T0 + 2800, &r, NULL), PTAB_OK);
	assert_counts(t, ih2, 0, 1, 0);
	table_free(t);
}

static void test_ptab_expiry_keeps_peers_stamped_slightly_ahead_of_its_clock(void **unused)
{
	(void)unused;
	struct ptab *t = table_new(10, 100, 64u << 20);
	struct ptab_cursor cur = {0};
	struct ptab_result r;
	uint8_t ih[20];

	/* An HTTP thread's clock may run a second ahead of the sweeper's: a
	 * peer it stamps a tick "in the future" must not look 255 ticks old. */
	hash_of(ih, 1);
	for (unsigned ahead = 1; ahead <= 8; ahead++)
		ann(t, ih, v4(ahead, 1), UDP_MSG_EV_STARTED, false, 0, 0, T0 + ahead, &r, NULL);
	while (cur.cycles == 0)
		assert_int_equal(ptab_expire(t, T0, 1000, &cur), 0);
	assert_counts(t, ih, 0, 8, 0);
	/* And they still expire once really stale. */
	cur = (struct ptab_cursor){0};
	uint32_t removed = 0;
	while (cur.cycles == 0)
		removed += ptab_expire(t, T0 + 8 + 2800, 1000, &cur);
	assert_int_equal(removed, 8);
	table_free(t);
}

/* One whole expiry pass at `now`. */
static void sweep_all(struct ptab *t, uint64_t now)
{
	struct ptab_cursor cur = {0};

	while (cur.cycles == 0)
		ptab_expire(t, now, 1000, &cur);
}

/* Stamps are one byte of coarse ticks (limits.h: TR_PEER_TIMEOUT_TICKS): a
 * peer announced at any point of a tick is kept up to its timeout and gone
 * by the timeout plus two ticks (2 x 85 s at 2700 s), never earlier. */
static void test_ptab_expiry_is_never_early_and_at_most_two_ticks_late(void **unused)
{
	(void)unused;
	struct ptab *t = table_new(10, 100, 64u << 20);
	struct ptab_result r;
	uint8_t ih[20];
	const uint64_t timeout = 2700, late = 2 * ((timeout + 31) / 32);

	hash_of(ih, 1);
	for (uint64_t seen = T0; seen < T0 + 200; seen += 7) {
		ann(t, ih, v4(1, 1), UDP_MSG_EV_STARTED, false, 0, 0, seen, &r, NULL);
		sweep_all(t, seen + timeout);
		assert_counts(t, ih, 0, 1, 0);
		sweep_all(t, seen + timeout + late);
		assert_counts(t, ih, 0, 0, 0);
		ptab_quiescent(t);
	}
	table_free(t);
}

static uint64_t swarms_of(struct ptab *t)
{
	struct ptab_stats st;

	ptab_stats(t, &st);
	return st.swarms;
}

/* A seeder that completes, then leaves: the swarm is empty with completed 1. */
static void complete_and_leave(struct ptab *t, const uint8_t ih[20], uint64_t now)
{
	struct ptab_result r;

	assert_int_equal(ann(t, ih, v4(1, 1), UDP_MSG_EV_COMPLETED, true, 0, 0, now, &r, NULL),
			 PTAB_OK);
	assert_int_equal(ann(t, ih, v4(1, 1), UDP_MSG_EV_STOPPED, true, 0, 0, now, &r, NULL),
			 PTAB_OK);
}

static void test_ptab_empty_swarm_keeps_its_completed_count_for_the_retention(void **unused)
{
	(void)unused;
	struct ptab *t = table_new_kept(100, 10, 64u << 20, 3600);
	struct ptab_result r;
	uint8_t done[20], never[20];

	hash_of(done, 1);
	hash_of(never, 2);
	complete_and_leave(t, done, T0);
	ann(t, never, v4(2, 1), UDP_MSG_EV_STARTED, false, 0, 0, T0, &r, NULL);
	ann(t, never, v4(2, 1), UDP_MSG_EV_STOPPED, false, 0, 0, T0, &r, NULL);

	/* Never completed: gone with its last peer. Completed: kept. */
	sweep_all(t, T0);
	assert_int_equal(swarms_of(t), 1);
	assert_counts(t, done, 0, 0, 1);
	sweep_all(t, T0 + 3599);
	assert_counts(t, done, 0, 0, 1);

	/* A peer coming back restarts the clock from its next departure. */
	ann(t, done, v4(3, 1), UDP_MSG_EV_STARTED, false, 0, 0, T0 + 3599, &r, NULL);
	sweep_all(t, T0 + 3599);
	ann(t, done, v4(3, 1), UDP_MSG_EV_STOPPED, false, 0, 0, T0 + 3599, &r, NULL);
	sweep_all(t, T0 + 3600);
	sweep_all(t, T0 + 7199);
	assert_counts(t, done, 0, 0, 1);
	sweep_all(t, T0 + 7200);
	assert_counts(t, done, 0, 0, 0);
	assert_int_equal(swarms_of(t), 0);
	table_free(t);
}

static void test_ptab_crowded_table_drops_empty_swarms_at_once(void **unused)
{
	(void)unused;
	/* max_swarms 8: from 7 live swarms on, the table counts as crowded. */
	struct ptab *t = table_new_kept(8, 10, 64u << 20, 3600);
	uint8_t ih[20];

	for (unsigned i = 0; i < 6; i++) {
		hash_of(ih, 10 + i);
		complete_and_leave(t, ih, T0);
	}
	sweep_all(t, T0);
	assert_int_equal(swarms_of(t), 6);
	/* The seventh makes it crowded: empty swarms go until it is not. */
	hash_of(ih, 20);
	complete_and_leave(t, ih, T0);
	sweep_all(t, T0 + 1);
	assert_int_equal(swarms_of(t), 6);
	table_free(t);
}

static void test_ptab_swarm_limit_refuses_new_swarms_but_serves_old(void **unused)
{
	(void)unused;
	struct ptab *t = table_new(3, 10, 64u << 20);
	struct ptab_result r;
	uint8_t ih[20];

	for (unsigned i = 0; i < 3; i++) {
		hash_of(ih, 100 + i);
		assert_int_equal(
		    ann(t, ih, v4(1, 1), UDP_MSG_EV_STARTED, false, 5, 0, T0, &r, NULL), PTAB_OK);
	}
	hash_of(ih, 200);
	assert_int_equal(ann(t, ih, v4(1, 1), UDP_MSG_EV_STARTED, false, 5, 0, T0, &r, NULL),
			 PTAB_ERR_SWARMS);
	assert_non_null(strstr(ptab_err_msg(PTAB_ERR_SWARMS), "torrent"));
	hash_of(ih, 101);
	assert_int_equal(ann(t, ih, v4(2, 1), UDP_MSG_EV_STARTED, false, 5, 0, T0, &r, NULL),
			 PTAB_OK);
	assert_int_equal(r.counts.leechers, 2);

	struct ptab_stats st;
	ptab_stats(t, &st);
	assert_int_equal(st.refused[PTAB_ERR_SWARMS], 1);
	table_free(t);
}

static void test_ptab_peer_limit_refuses_new_peers_but_refreshes_known(void **unused)
{
	(void)unused;
	struct ptab *t = table_new(10, 4, 64u << 20);
	struct ptab_result r;
	uint8_t ih[20];

	hash_of(ih, 1);
	for (unsigned i = 0; i < 4; i++)
		assert_int_equal(
		    ann(t, ih, v4(i, 1), UDP_MSG_EV_STARTED, i == 0, 5, 0, T0, &r, NULL), PTAB_OK);
	assert_int_equal(ann(t, ih, v6(9, 1), UDP_MSG_EV_STARTED, false, 5, 0, T0, &r, NULL),
			 PTAB_ERR_PEERS);
	assert_int_equal(r.counts.seeders + r.counts.leechers, 4);
	/* Known peers keep announcing, and may change role. */
	assert_int_equal(ann(t, ih, v4(1, 1), UDP_MSG_EV_COMPLETED, true, 5, 0, T0, &r, NULL),
			 PTAB_OK);
	assert_counts(t, ih, 2, 2, 1);
	table_free(t);
}

static void test_ptab_memory_budget_refuses_growth_with_a_clear_error(void **unused)
{
	(void)unused;
	char err[256];
	struct ptab_params p = {
	    .name = "membudget",
	    .max_swarms = 100,
	    .max_peers_per_swarm = 1000000,
	    .memory_bytes = 4u << 20,
	    .peer_timeout = 2700,
	    .socket_id = -1,
	};
	struct ptab *t = ptab_new(&p, err, sizeof(err));
	assert_non_null(t);
	struct ptab_stats st;
	ptab_stats(t, &st);
	/* The fixed part (hash, swarm array, RCU) is measured and charged. */
	assert_true(st.mem_used > 100000 && st.mem_used < p.memory_bytes);
	assert_int_equal(ptab_reader_register(t), 0);

	struct ptab_result r;
	uint8_t ih[20];
	enum ptab_err e = PTAB_OK;
	unsigned i;
	hash_of(ih, 1);
	for (i = 0; i < 1000000 && e == PTAB_OK; i++)
		e = ann(t, ih, v6(i, (uint16_t)(1 + i / 65536)), UDP_MSG_EV_STARTED, false, 0, 0,
			T0, &r, NULL);
	assert_int_equal(e, PTAB_ERR_MEMORY);
	/* The ~1 MB fixed part leaves room for tens of thousands of peers. */
	assert_true(i > 20000);

	ptab_stats(t, &st);
	assert_true(st.mem_used <= st.mem_budget);
	assert_int_equal(st.refused[PTAB_ERR_MEMORY], 1);
	table_free(t);

	/* A budget smaller than the fixed part is refused at creation. */
	p.name = "toosmall";
	p.max_swarms = 1000000;
	p.memory_bytes = 1u << 20;
	assert_null(ptab_new(&p, err, sizeof(err)));
	assert_non_null(strstr(err, "memory_mb"));
}

/*
 * Limits a reload changes while the table serves (ptab_set_limits), within
 * ptab_reach: the table says how far each may go; a lowered peer limit
 * refuses new peers and keeps the old; a lowered swarm limit refuses new
 * swarms; a lowered peer_timeout expires sooner; raised again, all serve.
 */
static void test_ptab_limits_change_while_serving_within_their_reach(void **unused)
{
	(void)unused;
	struct ptab *t = table_new(100, 10, 64ull << 20);
	struct ptab_limits most, l = {.max_swarms = 100,
				      .max_peers_per_swarm = 2,
				      .memory_bytes = 64ull << 20,
				      .peer_timeout = 2700,
				      .swarm_retention = 0};
	struct ptab_result r;
	struct ptab_cursor cur = {0};
	uint8_t ih[20], ih2[20];

	ptab_reach(t, &most);
	assert_int_equal(most.max_swarms, 100);
	assert_int_equal(most.peer_timeout, 85 * 32); /* 32 ticks of 85 s */
	assert_true(most.memory_bytes > 0 && most.memory_bytes < (64ull << 20));
	hash_of(ih, 21);
	hash_of(ih2, 22);
	assert_int_equal(ann(t, ih, v4(1, 1), UDP_MSG_EV_STARTED, false, 0, 0, T0, &r, NULL),
			 PTAB_OK);
	assert_int_equal(ann(t, ih, v4(2, 1), UDP_MSG_EV_STARTED, false, 0, 0, T0, &r, NULL),
			 PTAB_OK);
	assert_int_equal(ann(t, ih, v4(3, 1), UDP_MSG_EV_STARTED, false, 0, 0, T0, &r, NULL),
			 PTAB_OK);
	ptab_set_limits(t, &l);
	assert_int_equal(ann(t, ih, v4(4, 1), UDP_MSG_EV_STARTED, false, 0, 0, T0, &r, NULL),
			 PTAB_ERR_PEERS);
	assert_int_equal(ann(t, ih, v4(1, 1), UDP_MSG_EV_NONE, false, 0, 0, T0, &r, NULL), PTAB_OK);
	l.max_swarms = 1;
	ptab_set_limits(t, &l);
	assert_int_equal(ann(t, ih2, v4(1, 1), UDP_MSG_EV_STARTED, false, 0, 0, T0, &r, NULL),
			 PTAB_ERR_SWARMS);

	/* 600 s: stale after a sweep at T0 + 700 with the new timeout, not
	 * with the old one. */
	l.peer_timeout = 600;
	ptab_set_limits(t, &l);
	while (ptab_expire(t, T0 + 900, 100000, &cur) == 0 && cur.cycles < 2)
		;
	assert_counts(t, ih, 0, 0, 0);

	l.max_swarms = 100;
	l.max_peers_per_swarm = 10;
	ptab_set_limits(t, &l);
	assert_int_equal(ann(t, ih2, v4(1, 1), UDP_MSG_EV_STARTED, false, 0, 0, T0 + 900, &r, NULL),
			 PTAB_OK);
	table_free(t);
}

int main(void)
{
	if (eal_test_init("ptab", 512) < 0) {
		fprintf(stderr, "rte_eal_init failed\n");
		return 1;
	}
	const struct CMUnitTest shared[] = {
	    cmocka_unit_test(test_ptab_started_inserts_and_stopped_removes),
	    cmocka_unit_test(test_ptab_stopped_never_creates_a_swarm),
	    cmocka_unit_test(test_ptab_completed_counts_a_download_once),
	    cmocka_unit_test(test_ptab_selection_excludes_the_announcer_and_honours_numwant),
	    cmocka_unit_test(test_ptab_seeders_get_only_leechers),
	    cmocka_unit_test(test_ptab_selection_is_random),
	    cmocka_unit_test(test_ptab_picks_are_uniform_over_the_swarm),
	    cmocka_unit_test(test_ptab_families_are_kept_apart),
	    cmocka_unit_test(test_ptab_many_peers_survive_growth_and_removal),
	};
	const struct CMUnitTest own[] = {
	    cmocka_unit_test(test_ptab_large_swarms_fit_the_memory_per_peer),
	    cmocka_unit_test(test_ptab_expiry_drops_stale_peers_in_bounded_slices),
	    cmocka_unit_test(test_ptab_expiry_keeps_peers_stamped_slightly_ahead_of_its_clock),
	    cmocka_unit_test(test_ptab_expiry_is_never_early_and_at_most_two_ticks_late),
	    cmocka_unit_test(test_ptab_empty_swarm_keeps_its_completed_count_for_the_retention),
	    cmocka_unit_test(test_ptab_crowded_table_drops_empty_swarms_at_once),
	    cmocka_unit_test(test_ptab_swarm_limit_refuses_new_swarms_but_serves_old),
	    cmocka_unit_test(test_ptab_peer_limit_refuses_new_peers_but_refreshes_known),
	    cmocka_unit_test(test_ptab_memory_budget_refuses_growth_with_a_clear_error),
	    cmocka_unit_test(test_ptab_limits_change_while_serving_within_their_reach),
	};
	int failed = cmocka_run_group_tests_name("ptab_shared_table", shared, setup, teardown);
	failed += cmocka_run_group_tests_name("ptab_own_table", own, NULL, NULL);
	eal_test_fini();
	return failed;
}
