/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * dp_lcore.c - the packet loop, after DPDK's l2fwd: a burst array on the
 * stack, prefetch the next frame while handling this one, answer in the same
 * mbuf, send in one burst, free what the ring did not take. It never logs
 * and never allocates; it counts. Once per loop it reports an RCU quiescent
 * state, so swarms retired by the sweep can be reused. It blocks only when
 * idle, and only if dpdk.idle_sleep_us asks it to: after DP_IDLE_AFTER_US
 * without a frame it sleeps that long between polls, RCU-offline, until a
 * poll brings a frame.
 */
#include "dp_app.h"

#include <rte_branch_prediction.h>
#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>
#include <rte_mbuf_dyn.h>
#include <rte_prefetch.h>

#include "core/limits.h"
#include "core/ptab.h"

/* Expiry visits this many peer slots per control tick (every 10 ms, or every
 * burst in replay): about 800k slots/s, a full pass over 10M peers in
 * seconds, while a tick stays well under a millisecond. */
#define DP_EXPIRE_BUDGET 8192

/* A worker that has received nothing on any port for this long sleeps
 * dpdk.idle_sleep_us between polls. 1 ms is thousands of empty polls and
 * longer than the gap between frames of a steady stream above 1,000
 * frames/s, which so never meets a sleep; below that rate each frame costs
 * at most 1 ms of polling after it (a tenth of a CPU at 100 frames/s). */
#define DP_IDLE_AFTER_US 1000

/* Seconds since the epoch, from the TSC: one division per burst. */
static inline uint64_t clock_now(const struct dp_app *app, uint64_t tsc)
{
	return app->start_unix + (tsc - app->start_tsc) / app->tsc_hz;
}

/* Replay: the capture timestamp of m (net_pcap gives microseconds), or the
 * previous time if it has none. */
static inline uint64_t replay_now(const struct dp_app *app, const struct rte_mbuf *m, uint64_t prev)
{
	if (!(m->ol_flags & app->ts_flag))
		return prev;
	return *RTE_MBUF_DYNFIELD(m, app->ts_offset, const rte_mbuf_timestamp_t *) / 1000000;
}

/* What the NIC said about checksums, in dp_frame's terms. */
static inline unsigned rx_flags(uint64_t ol)
{
	uint64_t ip = ol & RTE_MBUF_F_RX_IP_CKSUM_MASK, l4 = ol & RTE_MBUF_F_RX_L4_CKSUM_MASK;
	unsigned f = 0;

	if (ip == RTE_MBUF_F_RX_IP_CKSUM_GOOD)
		f |= DP_RX_IP_CKSUM_GOOD;
	else if (ip == RTE_MBUF_F_RX_IP_CKSUM_BAD)
		f |= DP_RX_IP_CKSUM_BAD;
	if (l4 == RTE_MBUF_F_RX_L4_CKSUM_GOOD)
		f |= DP_RX_L4_CKSUM_GOOD;
	else if (l4 == RTE_MBUF_F_RX_L4_CKSUM_BAD)
		f |= DP_RX_L4_CKSUM_BAD;
	return f;
}

/* Makes m an outgoing frame of len bytes with only the TX flags given. */
static inline void mbuf_reply(struct rte_mbuf *m, uint32_t len, uint64_t tx_flags)
{
	m->data_len = (uint16_t)len;
	m->pkt_len = len;
	/* RX flags mean nothing on TX; the buffer's own kind must stay. */
	m->ol_flags = (m->ol_flags & (RTE_MBUF_F_EXTERNAL | RTE_MBUF_F_INDIRECT)) | tx_flags;
}

/* Parses one frame into *pkt; counts what it drops. */
static enum dp_verdict classify(struct dp_worker *w, const struct dp_port *p, struct rte_mbuf *m,
				struct dp_pkt *pkt)
{
	if (unlikely(m->nb_segs != 1)) {
		STATS_INC(w->c.rx_multiseg);
		return DP_VERDICT_DROP;
	}
	uint32_t cap = m->data_len + rte_pktmbuf_tailroom(m);
	unsigned flags = p->rx_cksum ? rx_flags(m->ol_flags) : 0;
	enum dp_verdict v =
	    dp_frame_answer(&p->ifc, rte_pktmbuf_mtod(m, uint8_t *), m->data_len, cap, flags, pkt);

	if (v == DP_VERDICT_DROP)
		STATS_INC(w->c.drop[pkt->drop]);
	return v;
}

/* Answers one classified frame in place (hint: what the burst's prefetch
 * found for it, or NULL). Returns true if m is now a reply to send. */
static bool answer(struct dp_worker *w, const struct dp_port *p, struct rte_mbuf *m,
		   enum dp_verdict v, const struct dp_pkt *pkt, const struct ptab_hint *hint,
		   uint64_t now)
{
	struct dp_counters *c = &w->c;

	switch (v) {
	case DP_VERDICT_DROP:
		return false;
	case DP_VERDICT_REPLY:
		STATS_INC(c->stack_replies);
		mbuf_reply(m, pkt->reply_len, 0);
		return true;
	case DP_VERDICT_UDP:
		break;
	}

	uint8_t *buf = rte_pktmbuf_mtod(m, uint8_t *);
	uint32_t cap = m->data_len + rte_pktmbuf_tailroom(m);
	uint8_t *pl = buf + pkt->payload_off;
	size_t room = RTE_MIN((size_t)(cap - pkt->payload_off),
			      (size_t)(pkt->ipv6 ? TR_UDP_PAYLOAD_MAX_V6 : TR_UDP_PAYLOAD_MAX_V4));
	size_t n = tr_udp_handle(&w->ctx, &pkt->src, pl, pkt->payload_len, pl, room, now, hint);
	if (n == 0) {
		STATS_INC(c->tracker_silent);
		return false;
	}
	uint32_t len = dp_frame_udp_reply(&p->ifc, buf, cap, pkt, (uint32_t)n, p->tx_cksum);
	if (unlikely(len == 0)) {
		STATS_INC(c->drop[DP_DROP_NO_ROOM]);
		return false;
	}
	uint64_t tx = 0;
	if (p->tx_cksum) {
		m->l2_len = pkt->l3_off;
		m->l3_len = (uint64_t)(pkt->l4_off - pkt->l3_off);
		tx = RTE_MBUF_F_TX_UDP_CKSUM |
		     (pkt->ipv6 ? RTE_MBUF_F_TX_IPV6 : RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_IP_CKSUM);
	}
	mbuf_reply(m, len, tx);
	return true;
}

/* One burst from one port's queue: answer, send, count. Returns the frames
 * received.
 *
 * Three passes rather than one frame at a time: parse every frame, then let
 * the table prefetch what the burst's announces and scrapes will touch,
 * then answer. An announce walks hash bucket, key, swarm, peer set: misses
 * that depend on each other, so one frame at a time waits for each in
 * turn; across a burst they overlap (docs/BENCHMARKS.md has the figures). */
static uint16_t port_burst(struct dp_worker *w, const struct dp_port *p, uint64_t *now)
{
	struct dp_app *app = w->app;
	struct rte_mbuf *rx[DP_BURST_MAX], *tx[DP_BURST_MAX];
	struct dp_pkt pkt[DP_BURST_MAX];
	enum dp_verdict verdict[DP_BURST_MAX];
	struct ptab_hint hints[DP_BURST_MAX];
	const struct ptab_hint *hint_of[DP_BURST_MAX];
	uint16_t nb = rte_eth_rx_burst(p->port_id, w->queue, rx, app->burst), ntx = 0;
	unsigned nh = 0;

	if (unlikely(nb == 0))
		return 0;
	if (!app->cfg->dpdk.replay)
		*now = clock_now(app, rte_rdtsc());
	for (uint16_t i = 0; i < nb; i++) {
		if (i + 1 < nb)
			rte_prefetch0(rte_pktmbuf_mtod(rx[i + 1], void *));
		verdict[i] = classify(w, p, rx[i], &pkt[i]);
		hint_of[i] = NULL;
		if (verdict[i] == DP_VERDICT_UDP &&
		    tr_udp_hint(&w->ctx, &pkt[i].src,
				rte_pktmbuf_mtod_offset(rx[i], uint8_t *, pkt[i].payload_off),
				pkt[i].payload_len, &hints[nh]))
			hint_of[i] = &hints[nh++];
	}
	ptab_prefetch(app->ptab, hints, nh);
	for (uint16_t i = 0; i < nb; i++) {
		if (app->cfg->dpdk.replay)
			*now = replay_now(app, rx[i], *now);
		if (answer(w, p, rx[i], verdict[i], &pkt[i], hint_of[i], *now))
			tx[ntx++] = rx[i];
		else
			rte_pktmbuf_free(rx[i]);
	}
	STATS_ADD(w->c.rx, nb);
	if (ntx == 0)
		return nb;
	uint16_t sent = rte_eth_tx_burst(p->port_id, w->queue, tx, ntx);
	STATS_ADD(w->c.tx, sent);
	if (unlikely(sent < ntx)) {
		/* A full ring never stalls the loop: drop, count, go on. */
		STATS_ADD(w->c.tx_full, (uint64_t)(ntx - sent));
		rte_pktmbuf_free_bulk(tx + sent, ntx - sent);
	}
	return nb;
}

/* dpdk.idle_sleep_us for this worker (0 = pure polling); the control
 * worker sleeps no longer than a control tick, so expiry keeps its pace. */
static unsigned idle_sleep_us(const struct dp_worker *w)
{
	unsigned us = w->app->cfg->dpdk.idle_sleep_us;

	return w->control ? RTE_MIN(us, (unsigned)DP_CONTROL_TICK_US) : us;
}

/* One idle sleep, RCU-offline: rte_rcu_qsbr.h asks a reader to go offline
 * before anything that blocks, so no grace period ever waits on a sleeper.
 * Coming back online reads the current token, a quiescent state in itself,
 * and happens before the worker touches the table again. */
static void idle_sleep(struct dp_worker *w, struct ptab *t, unsigned us)
{
	ptab_reader_offline(t);
	rte_delay_us_sleep(us);
	ptab_reader_online(t);
	STATS_INC(w->c.idle_sleeps);
}

int dp_lcore_main(void *arg)
{
	struct dp_worker *w = arg;
	struct dp_app *app = w->app;
	struct ptab *t = app->ptab;
	uint64_t now = clock_now(app, rte_rdtsc());
	uint64_t last_rx = rte_rdtsc(), idle_tsc = app->tsc_hz * DP_IDLE_AFTER_US / 1000000;
	uint64_t prev_tsc = last_rx;
	unsigned sleep_us = idle_sleep_us(w), prev_got = 0;

	if (ptab_reader_register(t) != 0) /* an EAL lcore's id is always in range */
		return -1;
	__atomic_store_n(&w->last_rx_tsc, last_rx, __ATOMIC_RELAXED);
	while (likely(!__atomic_load_n(&app->stop, __ATOMIC_RELAXED))) {
		uint64_t poll_tsc = rte_rdtsc();
		unsigned got = 0;

		/* The previous round, from its start to this one's. */
		STATS_ADD(w->c.loop_cycles, poll_tsc - prev_tsc);
		if (prev_got != 0)
			STATS_ADD(w->c.busy_cycles, poll_tsc - prev_tsc);
		prev_tsc = poll_tsc;
		for (unsigned i = 0; i < app->n_ports; i++)
			got += port_burst(w, &app->ports[i], &now);
		/* Both stamps are this loop's own: a worker the kernel put to
		 * sleep between polls never looks idle to the control tick. */
		if (got != 0) {
			last_rx = poll_tsc;
			__atomic_store_n(&w->last_rx_tsc, poll_tsc, __ATOMIC_RELAXED);
		}
		__atomic_store_n(&w->last_poll_tsc, poll_tsc, __ATOMIC_RELAXED);
		STATS_INC(w->loops);
		__atomic_store_n(&w->now, now, __ATOMIC_RELAXED);
		ptab_quiescent(t);
		if (w->control)
			dp_control_tick(app);
		if (unlikely(sleep_us != 0 && poll_tsc - last_rx > idle_tsc))
			idle_sleep(w, t, sleep_us);
		prev_got = got;
	}
	ptab_reader_unregister(t);
	return 0;
}

/* The tracker's clock for control work: in replay the latest capture time
 * any worker has seen, else the TSC clock. */
static uint64_t control_now(const struct dp_app *app, uint64_t tsc)
{
	uint64_t now = 0;

	if (!app->cfg->dpdk.replay)
		return clock_now(app, tsc);
	for (unsigned i = 0; i < app->n_workers; i++)
		now = RTE_MAX(now, __atomic_load_n(&app->workers[i].now, __ATOMIC_RELAXED));
	return now;
}

void dp_control_tick(struct dp_app *app)
{
	uint64_t tsc = rte_rdtsc();

	/* Replay sweeps after every burst so the same capture always meets
	 * the same table; live, every DP_CONTROL_TICK_US. */
	if (!app->cfg->dpdk.replay && tsc < app->ctl.next_tsc)
		return;
	app->ctl.next_tsc = tsc + app->tsc_hz * DP_CONTROL_TICK_US / 1000000;

	uint64_t now = control_now(app, tsc);
	if (now != 0)
		ptab_expire(app->ptab, now, DP_EXPIRE_BUDGET, &app->ctl.cursor);
	dp_reload_tick(app); /* a SIGHUP reload; freeing what one replaced */
	dp_notify_tick(app, tsc);

	if (app->idle_tsc != 0) {
		/* Idle means every worker has itself polled empty for that long. */
		bool idle = true;

		for (unsigned i = 0; i < app->n_workers && idle; i++) {
			uint64_t rx =
			    __atomic_load_n(&app->workers[i].last_rx_tsc, __ATOMIC_RELAXED);
			uint64_t poll =
			    __atomic_load_n(&app->workers[i].last_poll_tsc, __ATOMIC_RELAXED);
			idle = poll > rx && poll - rx > app->idle_tsc;
		}
		if (idle) {
			DP_LOG(INFO, "no packet for %u ms: stopping\n",
			       app->cfg->dpdk.exit_after_idle_ms);
			__atomic_store_n(&app->stop, 1, __ATOMIC_RELAXED);
		}
	}
}
