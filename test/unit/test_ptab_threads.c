/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_ptab_threads.c - the peer table under concurrency.
 *
 * Two writer threads announce into the same swarms, a reader scrapes them
 * lock-free, and a sweeper retires swarms that the writers keep emptying and
 * re-creating, so positions go LIVE -> DEAD -> FREE -> LIVE under traffic.
 * Afterwards every counter must equal what the writers left behind, and
 * the writers' clashes on a swarm's lock have been counted. Built
 * with -Db_sanitize=address,undefined in CI.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>
#include <rte_lcore.h>

#include "eal_test.h"
#include "core/ptab.h"
#include "core/udp_msg.h"

#define WRITERS	      2
#define STABLE_SWARMS 8	 /* writers only add to these */
#define CHURN_SWARMS  8	 /* writers add and stop everything, over and over */
#define PEERS	      64 /* per writer per swarm */
#define RUN_SECONDS   3
#define NOW	      1000000

struct shared {
	struct ptab *t;
	int stop;		   /* set by main when time is up */
	uint64_t rounds[WRITERS];  /* writer rounds completed */
	uint64_t reads, bad_reads; /* reader */
	uint64_t sweeps;	   /* sweeper cycles */
	int failed;		   /* any thread's unexpected error */
};

static void hash_of(uint8_t ih[20], unsigned n)
{
	memset(ih, 0x5a, 20);
	memcpy(ih, &n, sizeof(n));
}

/* Writer w's peer i: 198.18.w.i, port 1000 + i; or fd00::w:i for odd i. */
static struct tr_addr peer_of(unsigned w, unsigned i)
{
	if (i % 2 == 0) {
		uint8_t ip[4] = {198, 18, (uint8_t)w, (uint8_t)i};
		return tr_addr_v4(ip, (uint16_t)(1000 + i));
	}
	uint8_t ip6[16] = {0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, (uint8_t)w, (uint8_t)i};
	return tr_addr_v6(ip6, (uint16_t)(1000 + i));
}

static bool running(struct shared *sh)
{
	return !__atomic_load_n(&sh->stop, __ATOMIC_ACQUIRE);
}

/* Every thread that touches the table registers with EAL and with RCU. */
static void thread_enter(struct shared *sh)
{
	if (rte_thread_register() != 0)
		__atomic_store_n(&sh->failed, 1, __ATOMIC_RELAXED);
	assert_int_equal(ptab_reader_register(sh->t), 0);
}

static void thread_leave(struct shared *sh)
{
	ptab_reader_unregister(sh->t);
	rte_thread_unregister();
}

struct writer_arg {
	struct shared *sh;
	unsigned w;
};

static void *writer(void *p)
{
	struct writer_arg *a = p;
	struct shared *sh = a->sh;
	uint8_t out[PEERS * 2 * TR_PEER6_LEN], ih[20];
	struct ptab_result r;

	thread_enter(sh);
	for (uint64_t round = 0; running(sh); round++) {
		for (unsigned s = 0; s < STABLE_SWARMS + CHURN_SWARMS; s++) {
			bool churn = s >= STABLE_SWARMS;

			hash_of(ih, s);
			for (unsigned i = 0; i < PEERS; i++) {
				struct ptab_announce pa = {
				    .info_hash = ih,
				    .peer = peer_of(a->w, i),
				    .event = UDP_MSG_EV_STARTED,
				    .seeder = i % 4 == 0,
				    .numwant = 50,
				    .rnd = round * 131 + i,
				};
				if (ptab_announce(sh->t, &pa, NOW, out, NULL, &r) != PTAB_OK)
					__atomic_store_n(&sh->failed, 1, __ATOMIC_RELAXED);
				/* The announcer is never handed back to itself. */
				uint8_t me[TR_PEER6_LEN];
				unsigned len = tr_addr_compact(&pa.peer, me);
				for (uint32_t k = 0; k < r.n; k++)
					if (memcmp(out + k * len, me, len) == 0)
						__atomic_store_n(&sh->failed, 1, __ATOMIC_RELAXED);
			}
			for (unsigned i = 0; churn && i < PEERS; i++) {
				struct ptab_announce pa = {
				    .info_hash = ih,
				    .peer = peer_of(a->w, i),
				    .event = UDP_MSG_EV_STOPPED,
				};
				if (ptab_announce(sh->t, &pa, NOW, out, NULL, &r) != PTAB_OK)
					__atomic_store_n(&sh->failed, 1, __ATOMIC_RELAXED);
			}
			ptab_quiescent(sh->t);
		}
		__atomic_store_n(&sh->rounds[a->w], round + 1, __ATOMIC_RELAXED);
	}
	thread_leave(sh);
	return NULL;
}

static void *reader(void *p)
{
	struct shared *sh = p;
	uint8_t ih[20];

	thread_enter(sh);
	while (running(sh)) {
		for (unsigned s = 0; s < STABLE_SWARMS + CHURN_SWARMS; s++) {
			struct ptab_counts c;

			hash_of(ih, s);
			ptab_scrape(sh->t, ih, &c);
			sh->reads++;
			if (c.seeders + c.leechers > WRITERS * PEERS)
				sh->bad_reads++;
		}
		ptab_quiescent(sh->t);
	}
	thread_leave(sh);
	return NULL;
}

static void *sweeper(void *p)
{
	struct shared *sh = p;
	struct ptab_cursor cur = {0};

	thread_enter(sh);
	while (running(sh)) {
		/* Stamps are fresh at NOW: this only retires empty swarms. */
		if (ptab_expire(sh->t, NOW, 256, &cur) != 0)
			__atomic_store_n(&sh->failed, 1, __ATOMIC_RELAXED);
		ptab_quiescent(sh->t);
	}
	sh->sweeps = cur.cycles;
	thread_leave(sh);
	return NULL;
}

static void test_ptab_writers_reader_and_sweeper_agree_on_every_counter(void **unused)
{
	(void)unused;
	static struct shared sh;
	char err[256];
	struct ptab_params p = {
	    .name = "mt",
	    .max_swarms = 1000,
	    .max_peers_per_swarm = 100000,
	    .memory_bytes = 256u << 20,
	    .peer_timeout = 2700,
	    .socket_id = -1,
	};

	sh.t = ptab_new(&p, err, sizeof(err));
	assert_non_null(sh.t);

	pthread_t th[WRITERS + 2];
	struct writer_arg wa[WRITERS];
	for (unsigned w = 0; w < WRITERS; w++) {
		wa[w] = (struct writer_arg){&sh, w};
		assert_int_equal(pthread_create(&th[w], NULL, writer, &wa[w]), 0);
	}
	assert_int_equal(pthread_create(&th[WRITERS], NULL, reader, &sh), 0);
	assert_int_equal(pthread_create(&th[WRITERS + 1], NULL, sweeper, &sh), 0);

	struct timespec ts = {.tv_sec = RUN_SECONDS};
	nanosleep(&ts, NULL);
	__atomic_store_n(&sh.stop, 1, __ATOMIC_RELEASE);
	for (unsigned i = 0; i < WRITERS + 2; i++)
		pthread_join(th[i], NULL);

	assert_int_equal(sh.failed, 0);
	assert_int_equal(sh.bad_reads, 0);
	assert_true(sh.reads > 0);
	for (unsigned w = 0; w < WRITERS; w++)
		assert_true(sh.rounds[w] > 0);
	print_message("writer rounds %lu/%lu, reads %lu, sweep cycles %lu\n",
		      (unsigned long)sh.rounds[0], (unsigned long)sh.rounds[1],
		      (unsigned long)sh.reads, (unsigned long)sh.sweeps);

	/* Main (EAL lcore 0) is no RCU reader; the table is quiet now. */
	uint8_t ih[20];
	for (unsigned s = 0; s < STABLE_SWARMS + CHURN_SWARMS; s++) {
		struct ptab_counts c;
		bool churn = s >= STABLE_SWARMS;

		hash_of(ih, s);
		ptab_scrape(sh.t, ih, &c);
		/* Each writer left PEERS peers, a quarter of them seeders. */
		assert_int_equal(c.seeders, churn ? 0 : WRITERS * PEERS / 4);
		assert_int_equal(c.leechers, churn ? 0 : WRITERS * PEERS * 3 / 4);
		assert_int_equal(c.completed, 0);
	}
	struct ptab_stats st;
	ptab_stats(sh.t, &st);
	assert_int_equal(st.peers4 + st.peers6, STABLE_SWARMS * WRITERS * PEERS);
	assert_int_equal(st.peers4, st.peers6);
	assert_int_equal(st.seeders, STABLE_SWARMS * WRITERS * PEERS / 4);
	/* The churn swarms that happened to be empty at the last sweep are
	 * gone; the stable ones all remain. */
	assert_in_range(st.swarms, STABLE_SWARMS, STABLE_SWARMS + CHURN_SWARMS);
	/* Two writers on the same 16 swarms for seconds find a lock taken,
	 * and each time is counted. */
	print_message("swarm locks found taken: %lu\n", (unsigned long)st.contended);
	assert_true(st.contended > 0);

	/* A final sweep (single-threaded now) retires every empty swarm. */
	struct ptab_cursor cur = {0};
	while (cur.cycles == 0)
		ptab_expire(sh.t, NOW, 1000, &cur);
	ptab_stats(sh.t, &st);
	assert_int_equal(st.swarms, STABLE_SWARMS);
	ptab_free(sh.t);
}

int main(void)
{
	if (eal_test_init("ptab_threads", 512) < 0) {
		fprintf(stderr, "rte_eal_init failed\n");
		return 1;
	}
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_ptab_writers_reader_and_sweeper_agree_on_every_counter),
	};
	int failed = cmocka_run_group_tests_name("ptab_threads", tests, NULL, NULL);
	eal_test_fini();
	return failed;
}
