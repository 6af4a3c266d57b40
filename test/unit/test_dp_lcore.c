/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_dp_lcore.c - the real packet loop (dp_lcore.c) when the TX ring is
 * full and when the mbuf pool is empty: it drops and counts, never blocks,
 * never allocates, and every mbuf comes back. With dpdk.idle_sleep_us, an
 * idle loop sleeps (little CPU, RCU-offline, no longer than a control tick
 * when it does the control work) and wakes for the next frame.
 *
 * The port is a net_ring ethdev over two rings this test owns. The app is
 * started by the library main.c calls (dp_app_init, dp_app_start): the port
 * comes up as a NIC would (its pool sized by dpdk.mbufs), with the embedded
 * default configuration, a peer table and one worker. dp_lcore_main() runs
 * on EAL lcore 1, as a worker does under `-l 0,1`; lcore 0 plays the NIC (it
 * fills the RX ring and drains, or does not drain, the TX ring) and the main
 * lcore (control ticks while it waits). Two apps in one process keep their
 * control state apart.
 * Requests are BEP 15 connects to the port's IPv4 address, written here
 * field by field; each reply is checked against the request it answers.
 */
#define _GNU_SOURCE /* sched_getaffinity, CPU_ISSET */
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include <rte_byteorder.h>
#include <rte_cycles.h>
#include <rte_dev.h>
#include <rte_eth_ring.h>
#include <rte_ethdev.h>
#include <rte_ip.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>
#include <rte_ring.h>
#include <rte_udp.h>

#include "cfg.h"
#include "core/ptab.h"
#include "core/udp_msg.h"
#include "dpdk/dp_app.h"
#include "eal_test.h"

#define RX_RING	    1024 /* the RX ring: more than one round of requests */
#define TX_SMALL    32	 /* a TX ring the loop fills in its first burst */
#define TX_ROOMY    1024 /* a TX ring that takes every reply of a round */
#define DRY_MBUFS   1023 /* dpdk.mbufs' smallest value: the pool test 2 empties */
#define FRAME_LEN   60	 /* a request: minimum Ethernet frame, 2 bytes of padding */
#define REPLY_LEN   (14 + 20 + 8 + UDP_MSG_CONNECT_REPLY_LEN) /* padding not echoed */
#define WAIT_S	    60 /* generous: valgrind runs both lcores on one thread at a time */
#define CLIENT_PORT 40000
#define SLEEP_US    2000   /* dpdk.idle_sleep_us of the sleep tests */
#define LONG_SLEEP  100000 /* its largest value: over the 10 ms control tick */
#define QUIET_US    300000 /* a quiet spell, measured */

static const uint8_t client_mac[6] = {0x02, 0x00, 0x5e, 0x00, 0x00, 0x42};
static const uint8_t client_ip4[4] = {198, 18, 0, 66};

/* A net_ring port over two rings the test owns: the NIC, played by the test. */
struct ring_port {
	struct rte_ring *rx, *tx;
	struct rte_device *dev; /* the net_ring vdev, removed at the end */
	char vdev[RTE_DEV_NAME_MAX_LEN];
};

/* Everything one test sets up: an app as main.c starts it, on a ring port. */
static struct fx {
	struct dp_app app; /* first: cache-aligned */
	struct ring_port port;
	struct cfg cfg;
	unsigned lcore;	    /* the worker's */
	unsigned idle_use;  /* mbufs in use with the port up and no traffic */
	bool running;	    /* the loop launched and not yet joined */
	clockid_t loop_cpu; /* the CPU time of the loop's thread */
} fx;

static struct rte_mbuf *hoard[DRY_MBUFS + 64];

/*
 * EAL as eal_test_init() starts it, but with lcores 0 and 1 for the test and
 * the loop. Both may run on any CPU this process is allowed, so a busy loop
 * is never pinned onto a CPU that other tests of a parallel run share.
 */
static int eal_two_lcores_init(const char *name, unsigned mem_mb)
{
	char cpus[128] = "", lcores[300];
	cpu_set_t set;
	size_t n = 0;

	if (sched_getaffinity(0, sizeof(set), &set) != 0)
		return -1;
	for (int c = 0; c < CPU_SETSIZE && n + 8 < sizeof(cpus); c++)
		if (CPU_ISSET(c, &set))
			n += (size_t)snprintf(cpus + n, sizeof(cpus) - n, "%s%d", n ? "," : "", c);
	snprintf(lcores, sizeof(lcores), "--lcores=0@(%s),1@(%s)", cpus, cpus);
	return eal_test_init_lcores(name, mem_mb, lcores);
}

/* ---- the app, as main.c starts it ---------------------------------------- */

/* Makes rp a net_ring port whose TX ring holds exactly tx_cap frames. */
static void ring_port_up(struct ring_port *rp, unsigned tx_cap)
{
	static unsigned seq;
	char name[32];
	int socket = (int)rte_socket_id();

	snprintf(name, sizeof(name), "lc%u_rx", seq);
	rp->rx = rte_ring_create(name, RX_RING, socket, RING_F_SP_ENQ | RING_F_SC_DEQ);
	snprintf(name, sizeof(name), "lc%u_tx", seq);
	rp->tx =
	    rte_ring_create(name, tx_cap, socket, RING_F_SP_ENQ | RING_F_SC_DEQ | RING_F_EXACT_SZ);
	assert_non_null(rp->rx);
	assert_non_null(rp->tx);
	assert_int_equal(rte_ring_get_capacity(rp->tx), tx_cap);
	snprintf(name, sizeof(name), "lc%u", seq++);
	int port = rte_eth_from_rings(name, &rp->rx, 1, &rp->tx, 1, (unsigned)socket);
	assert_true(port >= 0);
	/* dp_ports_init() finds the device by name, as it finds a --vdev. */
	assert_int_equal(rte_eth_dev_get_name_by_port((uint16_t)port, rp->vdev), 0);
	struct rte_eth_dev_info info;
	assert_int_equal(rte_eth_dev_info_get((uint16_t)port, &info), 0);
	rp->dev = info.device;
}

/* Frees whatever still sits in ring r. */
static void ring_drain_free(struct rte_ring *r)
{
	void *m;

	while (r != NULL && rte_ring_dequeue(r, &m) == 0)
		rte_pktmbuf_free(m);
}

/* Removes the vdev of a port dp_app_fini() has closed, and its rings. */
static void ring_port_down(struct ring_port *rp)
{
	if (rp->dev != NULL) /* the port is closed; the vdev it was stays until removed */
		rte_dev_remove(rp->dev);
	rp->dev = NULL;
	rte_ring_free(rp->rx);
	rte_ring_free(rp->tx);
	rp->rx = rp->tx = NULL;
}

/* The embedded default configuration on port rp, shrunk to what --no-huge
 * memory holds, with no HTTP listener (the test machine's 6969 is not ours). */
static void cfg_on_port(struct cfg *cfg, const struct ring_port *rp)
{
	char err[512];

	assert_int_equal(cfg_load_buf(cfg, NULL, NULL, 0, NULL, err, sizeof(err)), 0);
	cfg->tracker.max_swarms = 1024;
	cfg->tracker.memory_mb = 16;
	cfg->http.enabled = false;
	snprintf(cfg->dpdk.ports[0].device, sizeof(cfg->dpdk.ports[0].device), "%s", rp->vdev);
	cfg->dpdk.n_ports = 1;
}

/* dp_app_init() on cfg, as main.c calls it but without telemetry. */
static void app_init(struct dp_app *app, struct cfg *cfg, const char *name)
{
	char err[512];

	memset(app, 0, sizeof(*app));
	if (dp_app_init(app, cfg, name, false, err, sizeof(err)) != 0)
		fail_msg("dp_app_init: %s", err);
}

/* Runs on the worker's EAL thread before the loop does: its CPU clock. */
static int take_cpu_clock(void *arg)
{
	return pthread_getcpuclockid(pthread_self(), arg);
}

/*
 * Brings up the default configuration on a net_ring port whose TX ring
 * holds exactly tx_cap frames and whose pool has `mbufs` (0: dpdk.mbufs'
 * default), with dpdk.idle_sleep_us = sleep_us, through dp_app_init() and
 * dp_app_start() as main.c does under `-l 0,1`: one worker, on lcore 1,
 * queue 0, the main lcore (this thread) left to play the NIC and do the
 * control ticks. A control worker also does the control work itself, as
 * the one lcore of `-l 0` does.
 */
static void fx_up(unsigned tx_cap, uint32_t mbufs, uint32_t sleep_us, bool control)
{
	static unsigned seq;
	char name[32], err[512];

	/* A loop a failed test could not stop still reads fx.app. */
	if (fx.running)
		fail_msg("the loop of an earlier test is still running");
	ring_port_up(&fx.port, tx_cap);
	cfg_on_port(&fx.cfg, &fx.port);
	if (mbufs != 0)
		fx.cfg.dpdk.mbufs = mbufs;
	fx.cfg.dpdk.idle_sleep_us = sleep_us;

	snprintf(name, sizeof(name), "fx%u", seq++);
	app_init(&fx.app, &fx.cfg, name);
	assert_int_equal(fx.app.n_workers, 1);
	fx.lcore = fx.app.workers[0].lcore_id;
	assert_int_not_equal(fx.lcore, rte_get_main_lcore());
	assert_false(fx.app.ports[0].tx_cksum); /* replies carry software checksums */
	fx.idle_use = rte_mempool_in_use_count(fx.app.ports[0].pool);
	fx.app.workers[0].control = control;

	assert_int_equal(rte_eal_remote_launch(take_cpu_clock, &fx.loop_cpu, fx.lcore), 0);
	assert_int_equal(rte_eal_wait_lcore(fx.lcore), 0);
	if (dp_app_start(&fx.app, err, sizeof(err)) != 0)
		fail_msg("dp_app_start: %s", err);
	fx.running = true;
}

/* Stops the loop as a signal does and waits up to WAIT_S for it to return:
 * one that never reads app->stop again fails here instead of hanging. */
static void fx_stop(void)
{
	uint64_t end = rte_get_timer_cycles() + rte_get_timer_hz() * WAIT_S;

	if (!fx.running)
		return;
	__atomic_store_n(&fx.app.stop, 1, __ATOMIC_RELAXED);
	while (rte_eal_get_lcore_state(fx.lcore) == RUNNING) {
		if (rte_get_timer_cycles() > end)
			fail_msg("the loop did not stop within %d s", WAIT_S);
		rte_delay_us_sleep(100);
	}
	fx.running = false;
	dp_app_stop(&fx.app); /* the lcore has returned: no wait left */
}

static int fx_teardown(void **state)
{
	(void)state;
	fx_stop();
	ring_drain_free(fx.port.rx);
	ring_drain_free(fx.port.tx);
	dp_app_fini(&fx.app, NULL);
	ring_port_down(&fx.port);
	cfg_fini(&fx.cfg);
	return 0;
}

static int fx_setup_small_tx(void **state)
{
	(void)state;
	fx_up(TX_SMALL, 0, 0, false);
	return 0;
}

static int fx_setup_dry_pool(void **state)
{
	(void)state;
	fx_up(TX_ROOMY, DRY_MBUFS, 0, false);
	return 0;
}

static int fx_setup_idle_sleep(void **state)
{
	(void)state;
	fx_up(TX_ROOMY, 0, SLEEP_US, false);
	return 0;
}

static int fx_setup_long_sleep_control(void **state)
{
	(void)state;
	fx_up(TX_ROOMY, 0, LONG_SLEEP, true);
	return 0;
}

/* ---- frames --------------------------------------------------------------- */

/*
 * Makes m a BEP 15 connect request (BEP 15 "Connect") with transaction id
 * tid from the client to the port's first tracker port, in a 60-byte frame:
 * Ethernet, IPv4 with its checksum, UDP with its checksum, 16 bytes of
 * payload, 2 bytes of padding. m may be a reply coming back for reuse.
 */
static void connect_frame(struct rte_mbuf *m, const struct dp_iface *ifc, uint32_t tid)
{
	rte_pktmbuf_reset(m);
	uint8_t *f = (uint8_t *)rte_pktmbuf_append(m, FRAME_LEN);
	assert_non_null(f);
	memset(f, 0, FRAME_LEN);

	memcpy(f, ifc->mac, 6);
	memcpy(f + 6, client_mac, 6);
	*(rte_be16_t *)(f + 12) = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);

	struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(f + 14);
	ip->version_ihl = RTE_IPV4_VHL_DEF;
	ip->total_length = rte_cpu_to_be_16(20 + 8 + UDP_MSG_CONNECT_LEN);
	ip->packet_id = rte_cpu_to_be_16((uint16_t)tid);
	ip->time_to_live = 64;
	ip->next_proto_id = IPPROTO_UDP;
	memcpy(&ip->src_addr, client_ip4, 4);
	memcpy(&ip->dst_addr, ifc->ip4, 4);
	ip->hdr_checksum = rte_ipv4_cksum(ip);

	struct rte_udp_hdr *udp = (struct rte_udp_hdr *)(ip + 1);
	udp->src_port = rte_cpu_to_be_16((uint16_t)(CLIENT_PORT + tid % 1000));
	udp->dst_port = rte_cpu_to_be_16(ifc->udp_ports[0]);
	udp->dgram_len = rte_cpu_to_be_16(8 + UDP_MSG_CONNECT_LEN);

	uint8_t *pl = (uint8_t *)(udp + 1);
	rte_be64_t magic = rte_cpu_to_be_64(UDP_MSG_PROTOCOL_ID);
	rte_be32_t action = 0, t = rte_cpu_to_be_32(tid);
	memcpy(pl, &magic, 8);
	memcpy(pl + 8, &action, 4);
	memcpy(pl + 12, &t, 4);
	udp->dgram_cksum = rte_ipv4_udptcp_cksum(ip, udp);
}

/* Checks that m answers connect_frame(tid): turned around, valid checksums,
 * action 0 and the same transaction id (BEP 15 "Connect"). */
static void assert_connect_reply(const struct rte_mbuf *m, const struct dp_iface *ifc, uint32_t tid)
{
	const uint8_t *f = rte_pktmbuf_mtod(m, const uint8_t *);

	assert_int_equal(m->nb_segs, 1);
	assert_int_equal(m->pkt_len, REPLY_LEN);
	assert_int_equal(m->data_len, REPLY_LEN);
	assert_memory_equal(f, client_mac, 6);
	assert_memory_equal(f + 6, ifc->mac, 6);

	const struct rte_ipv4_hdr *ip = (const struct rte_ipv4_hdr *)(f + 14);
	assert_int_equal(rte_raw_cksum(ip, 20), 0xffff);
	assert_memory_equal(&ip->src_addr, ifc->ip4, 4);
	assert_memory_equal(&ip->dst_addr, client_ip4, 4);

	const struct rte_udp_hdr *udp = (const struct rte_udp_hdr *)(ip + 1);
	assert_int_equal(rte_ipv4_udptcp_cksum_verify(ip, udp), 0);
	assert_int_equal(rte_be_to_cpu_16(udp->src_port), ifc->udp_ports[0]);
	assert_int_equal(rte_be_to_cpu_16(udp->dst_port), CLIENT_PORT + tid % 1000);
	assert_int_equal(rte_be_to_cpu_16(udp->dgram_len), 8 + UDP_MSG_CONNECT_REPLY_LEN);

	const uint8_t *pl = (const uint8_t *)(udp + 1);
	rte_be32_t action, t;
	memcpy(&action, pl, 4);
	memcpy(&t, pl + 4, 4);
	assert_int_equal(rte_be_to_cpu_32(action), 0);
	assert_int_equal(rte_be_to_cpu_32(t), tid);
}

/* ---- driving the loop ---------------------------------------------------- */

static uint64_t ctr(const uint64_t *c)
{
	return __atomic_load_n(c, __ATOMIC_RELAXED);
}

/*
 * Waits, doing the main lcore's control ticks as main.c's run() does, until
 * the worker has received rx frames in all and sent or dropped `answered`
 * replies, and the TX ring holds tx_ring of them. Fails after WAIT_S: a
 * loop that blocks on a full ring, or stalls with an empty pool, stops here.
 */
static void wait_loop(uint64_t rx, uint64_t answered, unsigned tx_ring)
{
	const struct dp_counters *c = &fx.app.workers[0].c;
	uint64_t end = rte_get_timer_cycles() + rte_get_timer_hz() * WAIT_S;

	while (ctr(&c->rx) != rx || ctr(&c->tx) + ctr(&c->tx_full) != answered ||
	       rte_ring_count(fx.port.tx) != tx_ring) {
		if (rte_get_timer_cycles() > end)
			fail_msg("loop stuck: rx %llu of %llu, tx %llu + tx_full %llu of %llu, "
				 "TX ring %u of %u",
				 (unsigned long long)ctr(&c->rx), (unsigned long long)rx,
				 (unsigned long long)ctr(&c->tx),
				 (unsigned long long)ctr(&c->tx_full), (unsigned long long)answered,
				 rte_ring_count(fx.port.tx), tx_ring);
		dp_control_tick(&fx.app);
		rte_delay_us_sleep(100);
	}
}

/* Hands n fresh connect requests, tids first..first+n-1, to the RX ring. */
static void send_connects(uint32_t first, unsigned n)
{
	struct rte_mbuf *m[RX_RING];

	assert_true(n <= RX_RING);
	assert_int_equal(rte_pktmbuf_alloc_bulk(fx.app.ports[0].pool, m, n), 0);
	for (unsigned i = 0; i < n; i++)
		connect_frame(m[i], &fx.app.ports[0].ifc, first + i);
	assert_int_equal(rte_ring_enqueue_bulk(fx.port.rx, (void **)m, n, NULL), n);
}

/* Takes every reply from the TX ring, checks them against tids first.. in
 * order, frees them; returns how many there were. */
static unsigned drain_replies(uint32_t first)
{
	void *m;
	unsigned n = 0;

	while (rte_ring_dequeue(fx.port.tx, &m) == 0) {
		assert_connect_reply(m, &fx.app.ports[0].ifc, first + n);
		rte_pktmbuf_free(m);
		n++;
	}
	return n;
}

/* Asserts that nothing but connects went through, all of them answered. */
static void assert_only_connects(uint64_t n)
{
	const struct dp_worker *w = &fx.app.workers[0];

	assert_int_equal(w->c.rx_multiseg, 0);
	assert_int_equal(w->c.tracker_silent, 0);
	assert_int_equal(w->c.stack_replies, 0);
	for (unsigned d = 0; d < DP_DROP_N; d++)
		if (w->c.drop[d] != 0)
			fail_msg("%llu frames dropped as %s", (unsigned long long)w->c.drop[d],
				 dp_drop_name(d));
	assert_int_equal(w->tr_stats.req[STATS_UDP][STATS_CONNECT], n);
}

static uint64_t clock_ns(clockid_t clock)
{
	struct timespec ts;

	assert_int_equal(clock_gettime(clock, &ts), 0);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Waits (no control ticks) until the loop has taken a sleep; fails after
 * WAIT_S. */
static void wait_asleep(void)
{
	const struct dp_worker *w = &fx.app.workers[0];
	uint64_t end = rte_get_timer_cycles() + rte_get_timer_hz() * WAIT_S;

	while (ctr(&w->c.idle_sleeps) == 0) {
		if (rte_get_timer_cycles() > end)
			fail_msg("the idle loop never slept within %d s", WAIT_S);
		rte_delay_us_sleep(1000);
	}
}

/* What the loop did over a quiet spell of QUIET_US: its sleeps, the CPU
 * time of its thread and the wall time, in ns. */
struct quiet {
	uint64_t sleeps, cpu_ns, wall_ns;
	uint64_t busy_cycles, loop_cycles; /* the loop's own accounting */
};

static struct quiet measure_quiet_spell(void)
{
	const struct dp_worker *w = &fx.app.workers[0];
	uint64_t wall = clock_ns(CLOCK_MONOTONIC), cpu = clock_ns(fx.loop_cpu);
	uint64_t sleeps = ctr(&w->c.idle_sleeps);
	uint64_t busy = ctr(&w->c.busy_cycles), loop = ctr(&w->c.loop_cycles);
	struct quiet q;

	rte_delay_us_sleep(QUIET_US);
	/* Read in the reverse order: the counts fall inside the wall time. */
	q.busy_cycles = ctr(&w->c.busy_cycles) - busy;
	q.loop_cycles = ctr(&w->c.loop_cycles) - loop;
	q.sleeps = ctr(&w->c.idle_sleeps) - sleeps;
	q.cpu_ns = clock_ns(fx.loop_cpu) - cpu;
	q.wall_ns = clock_ns(CLOCK_MONOTONIC) - wall;
	return q;
}

/* ---- the tests ----------------------------------------------------------- */

/* 1,000 connects in four rounds against a 32-frame TX ring nobody drains. */
static void test_dp_lcore_drops_and_counts_what_a_full_tx_ring_refuses(void **state)
{
	const struct dp_worker *w = &fx.app.workers[0];
	struct rte_mempool *pool = fx.app.ports[0].pool;
	const unsigned rounds = 4, per = 250, n = rounds * per;

	(void)state;
	for (unsigned r = 0; r < rounds; r++) {
		send_connects(r * per, per);
		/* The loop goes on receiving with the ring full: it never waits for room. */
		wait_loop((uint64_t)(r + 1) * per, (uint64_t)(r + 1) * per, TX_SMALL);
	}
	assert_int_equal(w->c.rx, n);
	assert_int_equal(w->c.tx, TX_SMALL);
	assert_int_equal(w->c.tx_full, n - TX_SMALL);
	assert_int_equal(w->c.rx, w->c.tx + w->c.tx_full);
	assert_only_connects(n);
	assert_int_equal(w->c.idle_sleeps, 0); /* dpdk.idle_sleep_us 0: it only polls */
	/* Refused replies went back to the pool at once, not at shutdown. */
	assert_int_equal(rte_mempool_in_use_count(pool), fx.idle_use + TX_SMALL);

	/* The ring holds the first burst's replies; everything later was dropped. */
	assert_int_equal(drain_replies(0), TX_SMALL);
	fx_stop();
	assert_int_equal(rte_mempool_in_use_count(pool), fx.idle_use);
	print_message("rx %llu tx %llu tx_full %llu, mbufs in use after %u\n",
		      (unsigned long long)w->c.rx, (unsigned long long)w->c.tx,
		      (unsigned long long)w->c.tx_full, rte_mempool_in_use_count(pool));
}

/*
 * The test takes every mbuf of a 1023-mbuf pool, as a NIC's RX descriptors
 * would, and recycles 128 of them as requests: eight rounds are answered
 * with the pool empty throughout, so nothing on the loop's path allocates.
 */
static void test_dp_lcore_answers_with_the_pool_empty_and_allocates_nothing(void **state)
{
	const struct dp_worker *w = &fx.app.workers[0];
	struct rte_mempool *pool = fx.app.ports[0].pool;
	const unsigned rounds = 8, per = 128;
	unsigned held = 0;

	(void)state;
	while (held < RTE_DIM(hoard) && (hoard[held] = rte_pktmbuf_alloc(pool)) != NULL)
		held++;
	assert_int_equal(held, DRY_MBUFS);
	assert_int_equal(rte_mempool_avail_count(pool), 0);

	struct rte_mbuf **req = hoard + held - per;
	for (unsigned r = 0; r < rounds; r++) {
		for (unsigned i = 0; i < per; i++)
			connect_frame(req[i], &fx.app.ports[0].ifc, r * per + i);
		assert_int_equal(rte_ring_enqueue_bulk(fx.port.rx, (void **)req, per, NULL), per);
		wait_loop((uint64_t)(r + 1) * per, (uint64_t)(r + 1) * per, per);
		/* Answered with nothing to allocate from, and nothing freed. */
		assert_int_equal(rte_mempool_avail_count(pool), 0);
		assert_null(rte_pktmbuf_alloc(pool));
		assert_int_equal(w->c.tx, (uint64_t)(r + 1) * per);
		/* The replies are the requests' own mbufs: the NIC reuses them. */
		assert_int_equal(rte_ring_dequeue_bulk(fx.port.tx, (void **)req, per, NULL), per);
		for (unsigned i = 0; i < per; i++)
			assert_connect_reply(req[i], &fx.app.ports[0].ifc, r * per + i);
	}
	assert_int_equal(w->c.rx, rounds * per);
	assert_int_equal(w->c.tx_full, 0);
	assert_only_connects((uint64_t)rounds * per);

	rte_pktmbuf_free_bulk(hoard, held);
	fx_stop();
	assert_int_equal(rte_mempool_in_use_count(pool), fx.idle_use);
	print_message("%u mbufs held by the test, %u requests answered with the pool empty\n", held,
		      rounds * per);
}

/* A ring that was full and is drained takes replies again: no stuck state. */
static void test_dp_lcore_answers_again_once_the_tx_ring_drains(void **state)
{
	const struct dp_worker *w = &fx.app.workers[0];
	struct rte_mempool *pool = fx.app.ports[0].pool;
	uint32_t tid = 0;

	(void)state;
	/* Fill the ring and overflow it twice. */
	send_connects(tid, 100);
	tid += 100;
	wait_loop(100, 100, TX_SMALL);
	send_connects(tid, 50);
	tid += 50;
	wait_loop(150, 150, TX_SMALL);
	assert_int_equal(w->c.tx, TX_SMALL);
	assert_int_equal(w->c.tx_full, 150 - TX_SMALL);
	assert_int_equal(drain_replies(0), TX_SMALL);

	/* Each round fits the ring exactly: all answered, none dropped. */
	const uint64_t full = w->c.tx_full;
	for (unsigned r = 0; r < 5; r++) {
		send_connects(tid, TX_SMALL);
		wait_loop(tid + TX_SMALL, tid + TX_SMALL, TX_SMALL);
		assert_int_equal(w->c.tx, (uint64_t)(r + 2) * TX_SMALL);
		assert_int_equal(w->c.tx_full, full);
		assert_int_equal(drain_replies(tid), TX_SMALL);
		tid += TX_SMALL;
	}
	assert_only_connects(tid);
	fx_stop();
	assert_int_equal(rte_mempool_in_use_count(pool), fx.idle_use);
}

/*
 * dpdk.idle_sleep_us 2000: answered at once, then, over 300 ms without a
 * frame, the loop's thread uses well under a third of that time on a CPU,
 * and each sleep lasts at least 2 ms; the next frame is answered.
 */
static void test_dp_lcore_idle_loop_sleeps_and_wakes_for_the_next_frame(void **state)
{
	const struct dp_worker *w = &fx.app.workers[0];
	struct rte_mempool *pool = fx.app.ports[0].pool;

	(void)state;
	send_connects(0, 32);
	wait_loop(32, 32, 32);
	assert_int_equal(drain_replies(0), 32);

	wait_asleep();
	struct quiet q = measure_quiet_spell();
	print_message("quiet %.1f ms: loop CPU %.2f ms (%.2f%%), %llu sleeps of %u us\n",
		      (double)q.wall_ns / 1e6, (double)q.cpu_ns / 1e6,
		      100.0 * (double)q.cpu_ns / (double)q.wall_ns, (unsigned long long)q.sleeps,
		      SLEEP_US);
	assert_true(q.sleeps >= 1);
	assert_true(q.sleeps <= q.wall_ns / (SLEEP_US * 1000u) + 1);
	assert_true(q.cpu_ns * 10 < q.wall_ns * 3);
	/* Its load accounting: the quiet spell is loop time (sleeps included),
	 * none of it busy; the rounds that answer frames are busy. */
	assert_int_equal(q.busy_cycles, 0);
	assert_true(q.loop_cycles > rte_get_tsc_hz() / 1000000 * QUIET_US / 2);
	uint64_t busy = ctr(&w->c.busy_cycles);

	/* The loop wakes: two rounds after the quiet spell, all answered. */
	for (uint32_t r = 1; r <= 2; r++) {
		send_connects(r * 32, 32);
		wait_loop((r + 1) * 32, (r + 1) * 32, 32);
		assert_int_equal(drain_replies(r * 32), 32);
	}
	wait_asleep(); /* the busy rounds are accounted when the next one starts */
	assert_true(ctr(&w->c.busy_cycles) > busy);
	assert_true(ctr(&w->c.busy_cycles) <= ctr(&w->c.loop_cycles));
	assert_int_equal(w->c.tx_full, 0);
	assert_only_connects(96);
	fx_stop();
	assert_int_equal(rte_mempool_in_use_count(pool), fx.idle_use);
}

/*
 * A grace period started while the loop sleeps ends without waiting for
 * it: the sleeping reader is RCU-offline. Checked without waiting, right
 * after each start; the loop is online only between waking and its next
 * sleep, microseconds of every 2 ms, so nearly every check passes (an
 * online sleeper would fail nearly all of them).
 */
static void test_dp_lcore_sleeping_loop_holds_up_no_grace_period(void **state)
{
	const unsigned tries = 20;
	unsigned ended = 0;

	(void)state;
	wait_asleep();
	for (unsigned i = 0; i < tries; i++) {
		uint64_t token = ptab_grace_start(fx.app.ptab);

		ended += ptab_grace_done(fx.app.ptab, token);
		rte_delay_us_sleep(SLEEP_US / 2 + 100 * i);
	}
	print_message("%u of %u grace periods ended at once\n", ended, tries);
	assert_true(ended >= tries * 3 / 4);

	/* Online again when it wakes: it answers. */
	send_connects(0, 32);
	wait_loop(32, 32, 32);
	assert_int_equal(drain_replies(0), 32);
	assert_only_connects(32);
}

/*
 * The worker that does the control work (the one lcore of `-l 0`) with
 * dpdk.idle_sleep_us at its largest, 100 ms: it sleeps at most a control
 * tick (10 ms) at a time, so over 300 ms it sleeps more often than 100 ms
 * sleeps could (4), and no more often than 10 ms ones could.
 */
static void test_dp_lcore_control_loop_sleeps_no_longer_than_a_control_tick(void **state)
{
	(void)state;
	wait_asleep();
	struct quiet q = measure_quiet_spell();
	print_message("quiet %.1f ms: loop CPU %.2f ms, %llu sleeps\n", (double)q.wall_ns / 1e6,
		      (double)q.cpu_ns / 1e6, (unsigned long long)q.sleeps);
	assert_true(q.sleeps > q.wall_ns / (LONG_SLEEP * 1000u) + 1);
	assert_true(q.sleeps <= q.wall_ns / (DP_CONTROL_TICK_US * 1000u) + 1);

	/* It still answers, its own control ticks running (no wait_loop ticks:
	 * one thread at a time does control work). */
	send_connects(0, 32);
	uint64_t end = rte_get_timer_cycles() + rte_get_timer_hz() * WAIT_S;
	while (rte_ring_count(fx.port.tx) != 32) {
		if (rte_get_timer_cycles() > end)
			fail_msg("the control loop did not answer within %d s", WAIT_S);
		rte_delay_us_sleep(1000);
	}
	assert_int_equal(drain_replies(0), 32);
	assert_only_connects(32);
}

/*
 * Two apps in one process, as two fixtures make them, each with its own
 * control state: a tick of A, just made, neither holds up B's tick nor
 * hands B its sweep cursor. A holds a swarm larger than one tick sweeps
 * (so its cursor stops mid-swarm), B one peer announced long ago: B's first
 * tick must expire it, and A keeps every fresh peer.
 */
static void test_dp_lcore_two_apps_in_one_process_tick_apart(void **state)
{
	static struct dp_app a, b; /* large: not on the stack */
	struct ring_port pa = {0}, pb = {0};
	struct cfg ca, cb;
	struct ptab_stats st;
	struct ptab_result r;
	uint8_t ih[20] = {0xa0};
	const uint32_t many = 10000; /* over one tick's 8192 slots */

	(void)state;
	ring_port_up(&pa, TX_ROOMY);
	ring_port_up(&pb, TX_ROOMY);
	cfg_on_port(&ca, &pa);
	cfg_on_port(&cb, &pb);
	app_init(&a, &ca, "twoA");
	app_init(&b, &cb, "twoB");
	uint64_t now = a.start_unix;

	assert_int_equal(ptab_reader_register(a.ptab), 0);
	for (uint32_t i = 0; i < many; i++) {
		struct ptab_announce an = {.info_hash = ih, .event = UDP_MSG_EV_STARTED};
		an.peer = (struct tr_addr){.family = TR_AF_INET, .port = 6881};
		memcpy(an.peer.ip, &i, 4);
		assert_int_equal(ptab_announce(a.ptab, &an, now, NULL, NULL, &r), PTAB_OK);
	}
	ptab_reader_unregister(a.ptab);
	assert_int_equal(ptab_reader_register(b.ptab), 0);
	struct ptab_announce old = {.info_hash = ih, .event = UDP_MSG_EV_STARTED};
	old.peer = (struct tr_addr){.family = TR_AF_INET, .port = 6881, .ip = {198, 18, 0, 9}};
	assert_int_equal(
	    ptab_announce(b.ptab, &old, now - cb.tracker.peer_timeout - 1000, NULL, NULL, &r),
	    PTAB_OK);
	ptab_reader_unregister(b.ptab);

	dp_control_tick(&a);
	assert_int_equal(a.ctl.cursor.busy, 1); /* A's sweep stopped inside its swarm */
	dp_control_tick(&b);
	ptab_stats(b.ptab, &st);
	assert_int_equal(st.peers4, 0);
	ptab_stats(a.ptab, &st);
	assert_int_equal(st.peers4, many);

	dp_app_fini(&a, NULL);
	dp_app_fini(&b, NULL);
	ring_port_down(&pa);
	ring_port_down(&pb);
	cfg_fini(&ca);
	cfg_fini(&cb);
}

/* A duration across a second boundary whose nanoseconds go down: 1 ms,
 * not a wrapped unsigned number (snapshot_last_ms once read
 * 18446744074845). */
static void test_dp_ms_between_crosses_a_second_boundary(void **state)
{
	struct timespec a = {.tv_sec = 100, .tv_nsec = 999500000};
	struct timespec b = {.tv_sec = 101, .tv_nsec = 500000};

	(void)state;
	assert_int_equal(dp_ms_between(&a, &b), 1);
	assert_int_equal(dp_ms_between(&b, &a), 0);
	b.tv_sec = 103;
	b.tv_nsec = 999600000;
	assert_int_equal(dp_ms_between(&a, &b), 3000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(
		test_dp_lcore_drops_and_counts_what_a_full_tx_ring_refuses, fx_setup_small_tx,
		fx_teardown),
	    cmocka_unit_test_setup_teardown(
		test_dp_lcore_answers_with_the_pool_empty_and_allocates_nothing, fx_setup_dry_pool,
		fx_teardown),
	    cmocka_unit_test_setup_teardown(test_dp_lcore_answers_again_once_the_tx_ring_drains,
					    fx_setup_small_tx, fx_teardown),
	    cmocka_unit_test_setup_teardown(
		test_dp_lcore_idle_loop_sleeps_and_wakes_for_the_next_frame, fx_setup_idle_sleep,
		fx_teardown),
	    cmocka_unit_test_setup_teardown(test_dp_lcore_sleeping_loop_holds_up_no_grace_period,
					    fx_setup_idle_sleep, fx_teardown),
	    cmocka_unit_test_setup_teardown(
		test_dp_lcore_control_loop_sleeps_no_longer_than_a_control_tick,
		fx_setup_long_sleep_control, fx_teardown),
	    cmocka_unit_test(test_dp_lcore_two_apps_in_one_process_tick_apart),
	    cmocka_unit_test(test_dp_ms_between_crosses_a_second_boundary),
	};

	if (eal_two_lcores_init("lcore", 256) < 0) {
		fprintf(stderr, "rte_eal_init failed\n");
		return 1;
	}
	int rc = cmocka_run_group_tests_name("dp_lcore", tests, NULL, NULL);
	if (fx.running) { /* EAL cannot stop an lcore that never returns */
		fprintf(stderr, "the loop never stopped: exiting without EAL cleanup\n");
		return 1;
	}
	eal_test_fini();
	return rc;
}
