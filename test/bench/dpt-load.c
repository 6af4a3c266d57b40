/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * dpt-load.c - the load generator of dptrack's benchmarks (their method and
 * figures: docs/BENCHMARKS.md): BEP 15 connect/announce/scrape over a population of
 * torrents and peers, against dptrack on a DPDK wire (net_memif) or any
 * udp:// tracker over kernel sockets.
 *
 * A run has three phases: connect (every client gets a connection ID),
 * prefill (with --prefill: every peer announces once, event started), then
 * the measured phase, closed-loop with --window requests in flight (and at
 * most --rate a second), bounded by --duration and/or --count, and a drain
 * of up to --timeout-ms. Each request's transaction ID names its slot in
 * the window, which holds its send time; latencies go into a log-linear
 * histogram. A request without a reply after --timeout-ms is lost. The
 * generator counts its own load as dptrack counts an lcore's: the time of
 * loop rounds that received or sent over the phase's; replies per busy
 * second is the most it could drive. A round with work that lasted over
 * 100 us was preempted by the host: on a shared machine that time is
 * counted apart (stolen), not as work.
 *
 * Churn, for soaks: with --events, a peer not in its swarm starts, and a
 * share of a present peer's announces complete (a leecher) or stop; with
 * --torrent-life, each torrent's info hash is replaced at its own moment
 * and its peers leave the old one, half with a stopped announce and half
 * silently (the tracker expires them). Both keep a byte of state per peer.
 *
 * With --queues N (the dpdk wire), N drivers run the phases side by side,
 * one per lcore and queue pair, each with its share of the clients (those
 * c with c % N equal to its queue: a client stays on one queue, as RSS
 * keeps it on one worker), of the window, of --count and of --rate. They
 * meet at the end of each phase, whose figures are summed; each queue's
 * are printed. --report needs one queue.
 *
 * Output: a summary, then one line a script can parse:
 *   RESULT wire=... requests=... responses=... errors=... lost=... ...
 * With --report S, every S seconds of the measured phase also a line of
 * that interval's own figures:
 *   INTERVAL unix=... requests=... responses=... rps=... p99_us=... ...
 * Exit status 0 if the run completed (whatever was lost), 1 on a setup
 * error or if the tracker stopped answering, 2 on a usage error.
 */
#include "load.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_launch.h>
#include <rte_lcore.h>

#include "core/udp_msg.h"
#include "core/wire.h"

#define SLOT_BITS     16		   /* transaction ID: generation << 16 | slot */
#define CID_REUSE_NS  (60ull * 1000000000) /* BEP 15: a client reuses an ID for a minute */
#define EXPIRE_EVERY  (10ull * 1000000)	   /* ns between scans for lost requests */
#define STALL_NS      (5ull * 1000000000)  /* no reply at all this long: the tracker is gone */
#define STOLEN_NS     100000ull		   /* a round with work this long was preempted */
#define HIST_SUB_BITS 5			   /* 32 buckets per power of two: 3% resolution */
#define HIST_N	      ((64 - HIST_SUB_BITS + 1) << HIST_SUB_BITS)
#define GEN_MASK      63u	  /* the generation bits a peer's state byte keeps */
#define RATE_BURST_NS 20000000ull /* --rate: a stall of up to 20 ms is caught up */

static const char *const action_name[LOAD_N_ACTIONS] = {"connect", "announce", "scrape"};
/* BEP 15 event numbers, 0..3. */
static const char *const event_name[4] = {"none", "completed", "started", "stopped"};

enum phase {
	PH_CONNECT, /* one connect per client */
	PH_PREFILL, /* one announce per peer */
	PH_MEASURE,
};

struct slot {
	uint64_t t_ns;
	uint32_t tid;
	uint32_t client;
	uint16_t gen;
	uint8_t action;
	uint8_t busy;
	uint8_t event; /* an announce's BEP 15 event */
};

struct stats {
	uint64_t sent[LOAD_N_ACTIONS], answered[LOAD_N_ACTIONS], errors[LOAD_N_ACTIONS];
	uint64_t lost[LOAD_N_ACTIONS];
	uint64_t bad, stray, peers;
	uint64_t events[4]; /* announces sent, by BEP 15 event */
	uint64_t t_start, t_stop, t_last_reply;
	uint64_t busy_ns;   /* of loop rounds that received or sent: the generator's own load */
	uint64_t stolen_ns; /* of such rounds over STOLEN_NS: the host preempted it */
	uint64_t hist[HIST_N];
};

struct drv {
	struct load_work *work;
	struct load_wire *wire;
	struct slot *slots;
	uint32_t *free_slots;
	uint32_t n_slots, n_free;
	uint64_t rng;
	uint64_t cursor; /* PH_CONNECT: next client; PH_PREFILL: next peer */
	unsigned mix_total;
	uint32_t last_tid;    /* of the last slot_take() */
	uint64_t unix_off_ns; /* CLOCK_REALTIME minus CLOCK_MONOTONIC at start */
	double tokens;	      /* --rate: requests that may go now */
	uint64_t tokens_ns;   /* when tokens was last topped up */
	struct stats *st;
	struct stats *iv; /* --report: the figures at the last INTERVAL line */
	uint64_t next_report;
	/* With several queues, one driver each: this one's queue q of nq owns
	 * the clients c with c % nq == q (as RSS keeps a client on one queue),
	 * so their peers p with p % nq == q, and the slots, the random stream
	 * and a share of --count and --rate. */
	uint32_t q, nq;
	uint32_t my_clients, my_peers; /* how many it owns */
	uint64_t count;		       /* its share of --count (0 = none) */
	uint64_t rate;		       /* its share of --rate (0 = none) */
	struct stats *phases;	       /* connect, prefill, measured */
	int ret;		       /* of run_phase(), for the phase just run */
};

static volatile sig_atomic_t stop_requested;
static bool eal_up; /* rte_eal_init() succeeded: rte_eal_cleanup() at exit */

static void on_signal(int sig)
{
	(void)sig;
	stop_requested = 1;
}

/*
 * The clock of pacing, deadlines and latencies: the TSC, read once per loop
 * round (clock_gettime, read as often, was 40-44% of the generator's CPU
 * in profiles, most of it while waiting for replies; a call costs about
 * 30 ns here against 12 for rdtsc). It counts
 * from a CLOCK_MONOTONIC reading at start-up, at a rate calibrated against
 * that clock over CLOCK_CAL_NS: DPDK's own rte_get_tsc_hz() is rounded to
 * 10 MHz (0.15% off on the benchmark's VM), and the socket wire has no EAL.
 * Needs an invariant TSC, synchronised across CPUs (constant_tsc,
 * nonstop_tsc), as DPDK itself does.
 */
#define CLOCK_CAL_NS 20000000ull

static struct {
	uint64_t tsc0, ns0;
	uint64_t mult; /* ns per TSC tick, << 32 */
} clk;

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* A CLOCK_MONOTONIC reading and the TSC at the same moment (the midpoint
 * of the closest of a few tries). */
static void clock_pair(uint64_t *ns, uint64_t *tsc)
{
	uint64_t best = UINT64_MAX;

	for (int i = 0; i < 5; i++) {
		uint64_t a = rte_rdtsc(), t = mono_ns(), b = rte_rdtsc();

		if (b - a < best) {
			best = b - a;
			*ns = t;
			*tsc = a + (b - a) / 2;
		}
	}
}

static void clock_init(void)
{
	uint64_t ns1, tsc1;
	struct timespec cal = {0, (long)CLOCK_CAL_NS};

	clock_pair(&clk.ns0, &clk.tsc0);
	nanosleep(&cal, NULL);
	clock_pair(&ns1, &tsc1);
	clk.mult = (uint64_t)(((unsigned __int128)(ns1 - clk.ns0) << 32) / (tsc1 - clk.tsc0));
}

static inline uint64_t now_ns(void)
{
	return clk.ns0 + (uint64_t)(((unsigned __int128)(rte_rdtsc() - clk.tsc0) * clk.mult) >> 32);
}

/* xorshift64*: the request stream's random numbers. */
static uint64_t rnd(struct drv *d)
{
	d->rng ^= d->rng >> 12;
	d->rng ^= d->rng << 25;
	d->rng ^= d->rng >> 27;
	return d->rng * 0x2545f4914f6cdd1dULL;
}

static unsigned hist_index(uint64_t v)
{
	if (v < (1u << HIST_SUB_BITS))
		return (unsigned)v;
	unsigned msb = 63u - (unsigned)__builtin_clzll(v);
	unsigned sub = (unsigned)(v >> (msb - HIST_SUB_BITS)) & ((1u << HIST_SUB_BITS) - 1);
	return ((msb - HIST_SUB_BITS + 1) << HIST_SUB_BITS) + sub;
}

/* The upper edge of bucket i, in ns. */
static uint64_t hist_value(unsigned i)
{
	if (i < (1u << HIST_SUB_BITS))
		return i;
	unsigned msb = (i >> HIST_SUB_BITS) + HIST_SUB_BITS - 1;
	uint64_t sub = i & ((1u << HIST_SUB_BITS) - 1);
	return (((1ull << HIST_SUB_BITS) + sub + 1) << (msb - HIST_SUB_BITS)) - 1;
}

/* The q-quantile (0..1) of the latencies in s since base (NULL: all of
 * them), in microseconds; 0 if none. */
static double hist_quantile(const struct stats *s, const struct stats *base, double q)
{
	uint64_t n = 0, seen = 0;

	for (unsigned i = 0; i < HIST_N; i++)
		n += s->hist[i] - (base ? base->hist[i] : 0);
	if (n == 0)
		return 0;
	uint64_t rank = (uint64_t)(q * (double)n);
	for (unsigned i = 0; i < HIST_N; i++) {
		seen += s->hist[i] - (base ? base->hist[i] : 0);
		if (seen > rank)
			return (double)hist_value(i) / 1000.0;
	}
	return (double)hist_value(HIST_N - 1) / 1000.0;
}

/* The k-th of this driver's share of clients or of peers. */
static inline uint32_t share_at(const struct drv *d, uint64_t k)
{
	return d->q + d->nq * (uint32_t)k;
}

/* How many of n clients or peers are this driver's. */
static uint32_t share_n(const struct drv *d, uint32_t n)
{
	return n > d->q ? (n - d->q + d->nq - 1) / d->nq : 0;
}

static bool cid_valid(const struct load_work *w, uint32_t c, uint64_t now)
{
	return w->client_cid[c] != 0 && now - w->client_cid_ns[c] < CID_REUSE_NS;
}

/* Takes a free slot for a request of action by client c; returns its tid. */
static uint32_t slot_take(struct drv *d, struct load_req *req, uint8_t action, uint32_t c)
{
	uint32_t i = d->free_slots[--d->n_free];
	struct slot *s = &d->slots[i];

	s->gen++;
	s->tid = (uint32_t)s->gen << SLOT_BITS | i;
	s->client = c;
	s->action = action;
	s->busy = 1;
	s->event = UDP_MSG_EV_NONE;
	req->client = c;
	if (action == LOAD_CONNECT)
		d->work->client_busy[c] = 1;
	d->last_tid = s->tid;
	return s->tid;
}

static void slot_free(struct drv *d, struct slot *s)
{
	if (s->action == LOAD_CONNECT)
		d->work->client_busy[s->client] = 0;
	s->busy = 0;
	d->free_slots[d->n_free++] = (uint32_t)(s - d->slots);
}

/* Fills req with a connect for client c if it needs one; returns 1 if it
 * did, 0 if c's ID is valid, -1 if c's connect is already in flight. */
static int need_connect(struct drv *d, struct load_req *req, uint32_t c, uint64_t now)
{
	if (cid_valid(d->work, c, now))
		return 0;
	if (d->work->client_busy[c])
		return -1;
	req->len = (uint16_t)load_write_connect(req->data, slot_take(d, req, LOAD_CONNECT, c));
	return 1;
}

/* The wall clock's second at monotonic time now. */
static uint64_t unix_s(const struct drv *d, uint64_t now)
{
	return (now + d->unix_off_ns) / 1000000000u;
}

static void make_announce(struct drv *d, struct load_req *req, uint32_t p, uint32_t gen,
			  uint32_t ev, bool seeder)
{
	uint32_t c = load_peer_client(d->work, p);
	uint32_t tid = slot_take(d, req, LOAD_ANNOUNCE, c);

	d->slots[tid & ((1u << SLOT_BITS) - 1)].event = (uint8_t)ev;
	req->len = (uint16_t)load_write_announce(d->work, req->data, tid, d->work->client_cid[c], p,
						 gen, ev, seeder);
}

static void set_state(struct load_work *w, uint32_t p, uint32_t gen, enum load_role role)
{
	if (w->peer_state != NULL)
		w->peer_state[p] = (uint8_t)((gen & GEN_MASK) << 2 | role);
}

/*
 * Peer p's next announce of the measured phase. Without churn state: event
 * none, to the current generation. With it: a peer whose torrent was
 * reborn leaves the old one (stopped, or silently: then it announces as a
 * newcomer at once); a peer not in its swarm starts (as its nature says);
 * a present one, events_pct% of the time, completes (half of the leechers)
 * or stops, else announces with event none.
 */
static void churn_announce(struct drv *d, struct load_req *req, uint32_t p, uint64_t now)
{
	struct load_work *w = d->work;
	uint32_t gen = load_torrent_gen(w, w->peer_torrent[p], unix_s(d, now));

	if (w->peer_state == NULL) {
		make_announce(d, req, p, gen, UDP_MSG_EV_NONE, load_peer_seeder(w, p));
		return;
	}
	enum load_role role = (enum load_role)(w->peer_state[p] & 3u);
	uint32_t old = w->peer_state[p] >> 2;
	if (role != LOAD_ROLE_ABSENT && old != (gen & GEN_MASK)) {
		set_state(w, p, gen, LOAD_ROLE_ABSENT);
		if (rnd(d) & 1) {
			make_announce(d, req, p, gen - ((gen - old) & GEN_MASK), UDP_MSG_EV_STOPPED,
				      role == LOAD_ROLE_SEEDER);
			return;
		}
		role = LOAD_ROLE_ABSENT;
	}
	if (role == LOAD_ROLE_ABSENT) {
		bool seeder = load_peer_seeder(w, p);

		set_state(w, p, gen, seeder ? LOAD_ROLE_SEEDER : LOAD_ROLE_LEECHER);
		make_announce(d, req, p, gen, UDP_MSG_EV_STARTED, seeder);
		return;
	}
	uint32_t ev = UDP_MSG_EV_NONE;
	if (rnd(d) % 100 < w->p.events_pct) {
		ev = role == LOAD_ROLE_LEECHER && (rnd(d) & 1) ? UDP_MSG_EV_COMPLETED
							       : UDP_MSG_EV_STOPPED;
		set_state(w, p, gen,
			  ev == UDP_MSG_EV_COMPLETED ? LOAD_ROLE_SEEDER : LOAD_ROLE_ABSENT);
	}
	/* A stopping seeder and a completing leecher both say left = 0. */
	make_announce(d, req, p, gen, ev, role == LOAD_ROLE_SEEDER || ev == UDP_MSG_EV_COMPLETED);
}

/* One request of the measured mix into req; returns false if the random
 * pick has to wait (its client's connect is in flight). */
static bool next_measured(struct drv *d, struct load_req *req, uint64_t now)
{
	const struct load_params *p = &d->work->p;
	unsigned r = (unsigned)(rnd(d) % d->mix_total);

	if (r < p->mix[LOAD_CONNECT]) {
		uint32_t c = share_at(d, rnd(d) % d->my_clients);

		if (d->work->client_busy[c])
			return false;
		req->len =
		    (uint16_t)load_write_connect(req->data, slot_take(d, req, LOAD_CONNECT, c));
		return true;
	}
	uint32_t peer = share_at(d, rnd(d) % d->my_peers);
	uint32_t c = load_peer_client(d->work, peer);
	int nc = need_connect(d, req, c, now);
	if (nc != 0)
		return nc > 0;
	if (r < p->mix[LOAD_CONNECT] + p->mix[LOAD_ANNOUNCE]) {
		churn_announce(d, req, peer, now);
		return true;
	}
	uint32_t t[LOAD_SCRAPE_MAX];
	for (unsigned i = 0; i < p->scrape_hashes; i++)
		t[i] = d->work->peer_torrent[rnd(d) % p->peers];
	uint32_t tid = slot_take(d, req, LOAD_SCRAPE, c);
	req->len = (uint16_t)load_write_scrape(d->work, req->data, tid, d->work->client_cid[c], t,
					       p->scrape_hashes, unix_s(d, now));
	return true;
}

/* The next request of phase ph into req; returns false if there is none
 * to send now. */
static bool next_req(struct drv *d, enum phase ph, struct load_req *req, uint64_t now)
{
	switch (ph) {
	case PH_CONNECT:
		if (d->cursor >= d->my_clients)
			return false;
		if (need_connect(d, req, share_at(d, d->cursor++), now) <= 0)
			return false;
		return true;
	case PH_PREFILL: {
		if (d->cursor >= d->my_peers)
			return false;
		uint32_t peer = share_at(d, d->cursor);
		int nc = need_connect(d, req, load_peer_client(d->work, peer), now);
		if (nc != 0)
			return nc > 0;
		d->cursor++;
		uint32_t gen =
		    load_torrent_gen(d->work, d->work->peer_torrent[peer], unix_s(d, now));
		bool seeder = load_peer_seeder(d->work, peer);
		set_state(d->work, peer, gen, seeder ? LOAD_ROLE_SEEDER : LOAD_ROLE_LEECHER);
		make_announce(d, req, peer, gen, UDP_MSG_EV_STARTED, seeder);
		return true;
	}
	case PH_MEASURE:
		return next_measured(d, req, now);
	}
	return false;
}

static void on_reply(struct drv *d, const struct load_rep *rep, uint64_t now)
{
	struct stats *st = d->st;
	struct load_reply r;
	uint32_t i;

	if (rep->len < 8) {
		st->bad++;
		return;
	}
	/* The tid is at offset 4 in every reply; parsing needs the family. */
	i = ((uint32_t)rep->data[6] << 8 | rep->data[7]) & ((1u << SLOT_BITS) - 1);
	if (i >= d->n_slots || !d->slots[i].busy) {
		st->stray++;
		return;
	}
	struct slot *s = &d->slots[i];
	/* A late reply to a request given up as lost, its slot since taken by
	 * another: stray, whatever its size for the new one's family. */
	if (get_be32(rep->data, 4) != s->tid) {
		st->stray++;
		return;
	}
	if (load_reply_parse(rep->data, rep->len, d->work->client_v6[s->client], &r) < 0) {
		st->bad++;
		return;
	}
	st->hist[hist_index(now - s->t_ns)]++;
	st->t_last_reply = now;
	if (r.action == s->action) {
		st->answered[s->action]++;
		if (s->action == LOAD_CONNECT) {
			d->work->client_cid[s->client] = r.cid;
			d->work->client_cid_ns[s->client] = s->t_ns;
		}
		st->peers += r.npeers;
	} else if (r.action == UDP_MSG_ERROR) {
		st->errors[s->action]++;
	} else {
		st->bad++;
	}
	slot_free(d, s);
}

/* One burst of replies from the wire; returns how many. */
static unsigned receive(struct drv *d, uint64_t now)
{
	struct load_rep reps[LOAD_BURST];
	unsigned n = d->wire->recv(d->wire, reps, LOAD_BURST);

	for (unsigned i = 0; i < n; i++)
		on_reply(d, &reps[i], now);
	d->wire->recv_done(d->wire);
	return n;
}

/* Requests older than timeout are lost (all of them with force). What the
 * wire holds is read first: after the generator itself stood still (a
 * busy host), the replies waiting there are late, not lost. */
static void expire(struct drv *d, uint64_t now, bool force)
{
	uint64_t limit = (uint64_t)d->work->p.timeout_ms * 1000000u;

	for (uint32_t k = 0; !force && k <= d->n_slots / LOAD_BURST && receive(d, now) > 0; k++)
		;

	for (uint32_t i = 0; i < d->n_slots; i++) {
		struct slot *s = &d->slots[i];

		if (s->busy && (force || now - s->t_ns > limit)) {
			d->st->lost[s->action]++;
			slot_free(d, s);
		}
	}
}

static uint64_t total(const uint64_t *v)
{
	uint64_t n = 0;

	for (unsigned a = 0; a < LOAD_N_ACTIONS; a++)
		n += v[a];
	return n;
}

/* Is the measured phase over? */
static bool measure_done(const struct drv *d, uint64_t now)
{
	const struct load_params *p = &d->work->p;

	if (d->count != 0 && total(d->st->sent) >= d->count)
		return true;
	return p->duration_s > 0 && (double)(now - d->st->t_start) >= p->duration_s * 1e9;
}

/* --rate: how many requests may go now (a token bucket holding at most
 * RATE_BURST_NS worth, and a burst); LOAD_BURST without a rate. */
static unsigned rate_budget(struct drv *d, uint64_t now)
{
	uint64_t rate = d->rate;

	if (rate == 0)
		return LOAD_BURST;
	double cap = (double)rate * RATE_BURST_NS / 1e9;
	if (cap < LOAD_BURST)
		cap = LOAD_BURST;
	d->tokens += (double)(now - d->tokens_ns) * (double)rate / 1e9;
	d->tokens_ns = now;
	if (d->tokens > cap)
		d->tokens = cap;
	return d->tokens < LOAD_BURST ? (unsigned)d->tokens : LOAD_BURST;
}

/* Sends up to one burst of phase ph; returns false if nothing was left to
 * send in this phase. */
static bool send_burst(struct drv *d, enum phase ph, uint64_t now)
{
	struct load_req reqs[LOAD_BURST];
	uint32_t tids[LOAD_BURST];
	unsigned n = 0, tries = 0;
	unsigned budget = ph == PH_MEASURE ? rate_budget(d, now) : LOAD_BURST;
	bool more = true;

	while (n < budget && d->n_free > 0 && tries++ < 2 * LOAD_BURST) {
		if (ph == PH_MEASURE && d->count != 0 && total(d->st->sent) + n >= d->count)
			break;
		if (!next_req(d, ph, &reqs[n], now)) {
			if (ph != PH_MEASURE &&
			    d->cursor >= (ph == PH_CONNECT ? d->my_clients : d->my_peers))
				more = false;
			if (ph != PH_MEASURE)
				break;
			continue;
		}
		tids[n++] = d->last_tid;
	}
	unsigned sent = n == 0 ? 0 : d->wire->send(d->wire, reqs, n);
	for (unsigned i = 0; i < n; i++) {
		struct slot *s = &d->slots[tids[i] & ((1u << SLOT_BITS) - 1)];

		if (i < sent) {
			s->t_ns = now;
			d->st->sent[s->action]++;
			if (s->action == LOAD_ANNOUNCE)
				d->st->events[s->event & 3u]++;
			continue;
		}
		/* Not taken by the wire (a suffix of the burst): as if never
		 * made, the cursor back on it. */
		if ((ph == PH_PREFILL && s->action == LOAD_ANNOUNCE) || ph == PH_CONNECT)
			d->cursor--;
		slot_free(d, s);
	}
	if (ph == PH_MEASURE && d->rate != 0)
		d->tokens -= sent;
	return more;
}

/* --report: one INTERVAL line of what happened since the last one (or the
 * measured phase's start); the figures now become the next one's base. */
static void report_interval(struct drv *d, uint64_t now)
{
	const struct stats *st = d->st;
	struct stats *iv = d->iv;
	double secs = (double)(now - iv->t_start) / 1e9;
	uint64_t resp =
	    total(st->answered) + total(st->errors) - total(iv->answered) - total(iv->errors);

	printf("INTERVAL unix=%.3f secs=%.3f requests=%" PRIu64 " responses=%" PRIu64
	       " errors=%" PRIu64 " lost=%" PRIu64 " rps=%.0f p50_us=%.1f p99_us=%.1f"
	       " started=%" PRIu64 " completed=%" PRIu64 " stopped=%" PRIu64 "\n",
	       (double)(now + d->unix_off_ns) / 1e9, secs, total(st->sent) - total(iv->sent), resp,
	       total(st->errors) - total(iv->errors), total(st->lost) - total(iv->lost),
	       secs > 0 ? (double)resp / secs : 0, hist_quantile(st, iv, 0.5),
	       hist_quantile(st, iv, 0.99),
	       st->events[UDP_MSG_EV_STARTED] - iv->events[UDP_MSG_EV_STARTED],
	       st->events[UDP_MSG_EV_COMPLETED] - iv->events[UDP_MSG_EV_COMPLETED],
	       st->events[UDP_MSG_EV_STOPPED] - iv->events[UDP_MSG_EV_STOPPED]);
	fflush(stdout);
	memcpy(iv, st, sizeof(*iv));
	iv->t_start = now;
}

/* Runs phase ph to its end and the drain after it. Returns 0, or -1 if the
 * tracker stopped answering. */
static int run_phase(struct drv *d, enum phase ph, struct stats *st)
{
	uint64_t now = now_ns(), next_expire = now + EXPIRE_EVERY, drain_end = 0;
	uint64_t timeout = (uint64_t)d->work->p.timeout_ms * 1000000u;
	uint64_t prev = now;
	bool sending = true, prev_busy = false;

	uint64_t report_ns = (uint64_t)(d->work->p.report_s * 1e9);
	bool report = ph == PH_MEASURE && d->iv != NULL && report_ns > 0;

	memset(st, 0, sizeof(*st));
	d->st = st;
	d->cursor = 0;
	st->t_start = st->t_last_reply = now;
	d->tokens = 0;
	d->tokens_ns = now;
	if (report) {
		memcpy(d->iv, st, sizeof(*st));
		d->next_report = now + report_ns;
	}
	for (;;) {
		now = now_ns();
		/* The previous round, if it did work (as dptrack counts its lcore). */
		if (prev_busy && now - prev > STOLEN_NS)
			st->stolen_ns += now - prev;
		else if (prev_busy)
			st->busy_ns += now - prev;
		prev = now;
		unsigned n = receive(d, now);
		if (sending && (stop_requested || (ph == PH_MEASURE && measure_done(d, now)))) {
			sending = false;
		}
		uint32_t n_free = d->n_free;
		if (sending && d->n_free > 0) {
			sending = send_burst(d, ph, now);
		} else if (n == 0 && d->n_free == 0) {
			d->wire->wait(d->wire, 1);
		}
		prev_busy = n != 0 || d->n_free < n_free;
		if (!sending && drain_end == 0) {
			st->t_stop = now;
			drain_end = now + timeout;
			/* The last INTERVAL line, unless its interval is short. */
			if (report && now - d->iv->t_start >= report_ns / 2)
				report_interval(d, now);
		}
		if (now >= next_expire) {
			expire(d, now, false);
			next_expire = now + EXPIRE_EVERY;
		}
		if (report && sending && now >= d->next_report) {
			report_interval(d, now);
			/* After a stall, one line, not one per period missed. */
			d->next_report += report_ns;
			if (d->next_report <= now)
				d->next_report = now + report_ns;
		}
		if (!sending && (d->n_free == d->n_slots || now >= drain_end))
			break;
		if (d->n_free < d->n_slots && now - st->t_last_reply > STALL_NS &&
		    now - st->t_start > STALL_NS) {
			expire(d, now, true);
			st->t_stop = now;
			return -1;
		}
	}
	expire(d, now, true);
	if (st->t_last_reply < st->t_stop)
		st->t_last_reply = st->t_stop;
	return 0;
}

static double phase_secs(const struct stats *st)
{
	double s = (double)(st->t_last_reply - st->t_start) / 1e9;

	return s > 0 ? s : 1e-9;
}

/* The generator's own load in the phase: the share of its time in rounds
 * that received or sent. Under 100%, the tracker (or the wire) bounds the
 * rate; near it, the generator does. A round with work that took over
 * STOLEN_NS (a burst takes microseconds) was preempted: on a shared host
 * that time is the host's, left out of both. */
static double busy_pct(const struct stats *st)
{
	double ran = phase_secs(st) - (double)st->stolen_ns / 1e9;

	return ran > 0 ? 100.0 * (double)st->busy_ns / 1e9 / ran : 0;
}

/* The share of the phase the host took from rounds with work. */
static double stolen_pct(const struct stats *st)
{
	return 100.0 * (double)st->stolen_ns / 1e9 / phase_secs(st);
}

/* The replies a second the generator could take at 100% busy: replies per
 * busy second. */
static double gen_max_rps(const struct stats *st)
{
	uint64_t resp = total(st->answered) + total(st->errors);

	return st->busy_ns > 0 ? (double)resp * 1e9 / (double)st->busy_ns : 0;
}

static void print_phase(const char *name, const struct stats *st)
{
	printf("%s: %" PRIu64 " sent, %" PRIu64 " answered, %" PRIu64 " errors, %" PRIu64
	       " lost in %.3f s\n",
	       name, total(st->sent), total(st->answered), total(st->errors), total(st->lost),
	       phase_secs(st));
}

/* The drivers of the run, one per queue, and what they share. */
static struct {
	struct drv *d;
	unsigned n;
	pthread_barrier_t bar; /* the end of each phase */
	bool abort;	       /* set by queue 0 between the two waits */
	int ret;	       /* the exit status */
} team;

/* Phase ph of every driver, summed into out. */
static void merge(enum phase ph, struct stats *out)
{
	memset(out, 0, sizeof(*out));
	for (unsigned q = 0; q < team.n; q++) {
		const struct stats *s = &team.d[q].phases[ph];

		for (unsigned a = 0; a < LOAD_N_ACTIONS; a++) {
			out->sent[a] += s->sent[a];
			out->answered[a] += s->answered[a];
			out->errors[a] += s->errors[a];
			out->lost[a] += s->lost[a];
		}
		out->bad += s->bad;
		out->stray += s->stray;
		out->peers += s->peers;
		out->busy_ns += s->busy_ns;
		out->stolen_ns += s->stolen_ns;
		for (unsigned e = 0; e < 4; e++)
			out->events[e] += s->events[e];
		for (unsigned i = 0; i < HIST_N; i++)
			out->hist[i] += s->hist[i];
		if (q == 0 || s->t_start < out->t_start)
			out->t_start = s->t_start;
		if (s->t_stop > out->t_stop)
			out->t_stop = s->t_stop;
		if (s->t_last_reply > out->t_last_reply)
			out->t_last_reply = s->t_last_reply;
	}
}

/* The generator's load: its busiest queue's, the replies a second all of
 * them could take at 100% (their gen_max_rps summed), and the most the
 * host took from any. */
static void gen_load(double *busiest, double *max_rps, double *stolen)
{
	*busiest = *max_rps = *stolen = 0;
	for (unsigned q = 0; q < team.n; q++) {
		const struct stats *s = &team.d[q].phases[PH_MEASURE];

		if (busy_pct(s) > *busiest)
			*busiest = busy_pct(s);
		if (stolen_pct(s) > *stolen)
			*stolen = stolen_pct(s);
		*max_rps += gen_max_rps(s);
	}
}

static void print_result(const struct drv *d, const struct stats *st, const struct stats *pre)
{
	double secs = phase_secs(st), gen_busy, gen_max, gen_stolen;
	uint64_t resp = total(st->answered) + total(st->errors);
	double peers = st->answered[LOAD_ANNOUNCE]
			   ? (double)st->peers / (double)st->answered[LOAD_ANNOUNCE]
			   : 0;

	printf("measured: %.3f s, window %u\n", secs, d->work->p.window);
	printf("  %-9s %12s %12s %9s %9s %12s\n", "action", "sent", "answered", "errors", "lost",
	       "replies/s");
	for (unsigned a = 0; a < LOAD_N_ACTIONS; a++)
		printf("  %-9s %12" PRIu64 " %12" PRIu64 " %9" PRIu64 " %9" PRIu64 " %12.0f\n",
		       action_name[a], st->sent[a], st->answered[a], st->errors[a], st->lost[a],
		       (double)st->answered[a] / secs);
	printf("  latency p50 %.1f us, p99 %.1f us, p99.9 %.1f us; %.1f peers per announce; "
	       "%" PRIu64 " malformed, %" PRIu64 " stray replies\n",
	       hist_quantile(st, NULL, 0.5), hist_quantile(st, NULL, 0.99),
	       hist_quantile(st, NULL, 0.999), peers, st->bad, st->stray);
	if (d->work->peer_state != NULL)
		printf("  announces by event: %s %" PRIu64 ", %s %" PRIu64 ", %s %" PRIu64
		       ", %s %" PRIu64 "\n",
		       event_name[0], st->events[0], event_name[2], st->events[2], event_name[1],
		       st->events[1], event_name[3], st->events[3]);
	gen_load(&gen_busy, &gen_max, &gen_stolen);
	for (unsigned q = 0; q < team.n && team.n > 1; q++) {
		const struct stats *s = &team.d[q].phases[PH_MEASURE];

		printf("  queue %u: %.0f replies/s, latency p99 %.1f us, generator busy %.1f%%\n",
		       q, (double)(total(s->answered) + total(s->errors)) / phase_secs(s),
		       hist_quantile(s, NULL, 0.99), busy_pct(s));
	}
	printf("  generator: busy %.1f%% of the phase%s, so at most %.0f replies/s; the host "
	       "preempted it for %.1f%%\n",
	       gen_busy, team.n > 1 ? " on its busiest queue" : "", gen_max, gen_stolen);
	for (unsigned q = 0; q < team.n; q++)
		team.d[q].wire->report(team.d[q].wire);
	printf("RESULT wire=%s torrents=%u peers=%u clients=%u window=%u requests=%" PRIu64
	       " responses=%" PRIu64 " errors=%" PRIu64 " lost=%" PRIu64 " bad=%" PRIu64
	       " prefill_lost=%" PRIu64 " prefill_errors=%" PRIu64
	       " duration_s=%.3f rps_total=%.0f rps_connect=%.0f rps_announce=%.0f"
	       " rps_scrape=%.0f p50_us=%.1f p99_us=%.1f p999_us=%.1f peers_per_announce=%.1f"
	       " gen_busy_pct=%.1f gen_max_rps=%.0f queues=%u p90_us=%.1f gen_stolen_pct=%.1f"
	       " ev_started=%" PRIu64 " ev_completed=%" PRIu64 " ev_stopped=%" PRIu64 "\n",
	       d->wire->name, d->work->p.torrents, d->work->p.peers, d->work->p.clients,
	       d->work->p.window, total(st->sent), resp, total(st->errors), total(st->lost),
	       st->bad, total(pre->lost), total(pre->errors), secs, (double)resp / secs,
	       (double)st->answered[LOAD_CONNECT] / secs,
	       (double)st->answered[LOAD_ANNOUNCE] / secs, (double)st->answered[LOAD_SCRAPE] / secs,
	       hist_quantile(st, NULL, 0.5), hist_quantile(st, NULL, 0.99),
	       hist_quantile(st, NULL, 0.999), peers, gen_busy, gen_max, team.n,
	       hist_quantile(st, NULL, 0.9), gen_stolen, st->events[UDP_MSG_EV_STARTED],
	       st->events[UDP_MSG_EV_COMPLETED], st->events[UDP_MSG_EV_STOPPED]);
}

/* --- Command line -------------------------------------------------------- */

struct opts {
	struct load_params p;
	const char *wire, *target4, *target6, *device, *self4, *dst_mac, *write_hashes;
	uint16_t port;
};

static void usage(FILE *f)
{
	fprintf(
	    f, "usage: dpt-load --wire sock --target4 ADDR [options]\n"
	       "       dpt-load --wire dpdk --target4 ADDR [--target6 ADDR] [options] -- EAL_ARGS\n"
	       "       dpt-load --write-hashes FILE --torrents N [--seed N]\n"
	       "wires:\n"
	       "  --wire sock|dpdk     kernel UDP sockets, or a DPDK port (EAL_ARGS after --)\n"
	       "  --target4 ADDR       the tracker's IPv4 address (--target6: IPv6)\n"
	       "  --port N             its UDP port (6969)\n"
	       "  --device NAME        dpdk: the ethdev port (net_memif0)\n"
	       "  --self4 ADDR         dpdk: the generator's address for ARP (198.18.0.1)\n"
	       "  --dst-mac MAC        dpdk: the tracker's MAC, instead of asking by ARP\n"
	       "  --queues N (1)       dpdk: RX/TX queue pairs, each driven by its own lcore\n"
	       "                       (EAL_ARGS give N); queue q carries the clients c with\n"
	       "                       c %% N == q, the window and --count split evenly\n"
	       "workload:\n"
	       "  --torrents N (1000)  --peers N (10000)  --clients N (auto)\n"
	       "  --zipf S (1.0)       popularity: torrent of rank r holds ~1/r^S of the peers\n"
	       "  --mix connect=C,announce=A,scrape=S   relative weights (5,90,5)\n"
	       "  --numwant N (50; -1 = the tracker's default)   --seeders PCT (20)\n"
	       "  --v6 PCT (0)         share of clients on IPv6\n"
	       "  --scrape-hashes N (1)\n"
	       "  --window N (256)     requests in flight\n"
	       "  --duration S (5)     --count N (0 = no bound; 0 for both is an error)\n"
	       "  --prefill            announce every peer once before measuring\n"
	       "  --timeout-ms N (1000) --seed N (1)\n"
	       "  --rate N (0)         measured phase: at most N requests a second (0 = no bound)\n"
	       "  --report S (0)       measured phase: an INTERVAL line every S seconds\n"
	       "  --write-hashes FILE  write the torrents' info hashes (40 hex digits a line)\n"
	       "churn (soaks; 0 = none):\n"
	       "  --events PCT (0)     peers start, and PCT%% of a present peer's announces\n"
	       "                       complete (half the leechers) or stop\n"
	       "  --torrent-life S (0) each torrent's info hash is replaced every S seconds\n"
	       "                       (at a moment of its own); its peers leave the old one\n");
}

/* Parses "connect=5,announce=90,scrape=5" into mix; returns 0 or -1. */
static int parse_mix(const char *s, unsigned *mix)
{
	char buf[128];
	size_t len = strlen(s);

	if (len >= sizeof(buf))
		return -1;
	memcpy(buf, s, len + 1);
	memset(mix, 0, sizeof(*mix) * LOAD_N_ACTIONS);
	for (char *save = NULL, *tok = strtok_r(buf, ",", &save); tok != NULL;
	     tok = strtok_r(NULL, ",", &save)) {
		char *eq = strchr(tok, '=');
		unsigned a;

		if (eq == NULL)
			return -1;
		*eq = '\0';
		for (a = 0; a < LOAD_N_ACTIONS && strcmp(tok, action_name[a]) != 0; a++)
			;
		char *end;
		unsigned long v = strtoul(eq + 1, &end, 10);
		if (a == LOAD_N_ACTIONS || *end != '\0' || end == eq + 1 || v > 1000000)
			return -1;
		mix[a] = (unsigned)v;
	}
	return 0;
}

/* Parses an unsigned number in lo..hi into *v; returns 0 or -1. */
static int parse_u64(const char *s, uint64_t lo, uint64_t hi, uint64_t *v)
{
	char *end;

	errno = 0;
	unsigned long long x = strtoull(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || s[0] == '-' || x < lo || x > hi)
		return -1;
	*v = x;
	return 0;
}

enum {
	OPT_WIRE = 256,
	OPT_TARGET4,
	OPT_TARGET6,
	OPT_PORT,
	OPT_DEVICE,
	OPT_SELF4,
	OPT_DST_MAC,
	OPT_QUEUES,
	OPT_TORRENTS,
	OPT_PEERS,
	OPT_CLIENTS,
	OPT_ZIPF,
	OPT_MIX,
	OPT_NUMWANT,
	OPT_SEEDERS,
	OPT_V6,
	OPT_SCRAPE_HASHES,
	OPT_WINDOW,
	OPT_DURATION,
	OPT_COUNT,
	OPT_PREFILL,
	OPT_TIMEOUT,
	OPT_SEED,
	OPT_WRITE_HASHES,
	OPT_EVENTS,
	OPT_TORRENT_LIFE,
	OPT_RATE,
	OPT_REPORT,
	OPT_HELP,
};

static const struct option long_opts[] = {
    {"wire", required_argument, NULL, OPT_WIRE},
    {"target4", required_argument, NULL, OPT_TARGET4},
    {"target6", required_argument, NULL, OPT_TARGET6},
    {"port", required_argument, NULL, OPT_PORT},
    {"device", required_argument, NULL, OPT_DEVICE},
    {"self4", required_argument, NULL, OPT_SELF4},
    {"dst-mac", required_argument, NULL, OPT_DST_MAC},
    {"queues", required_argument, NULL, OPT_QUEUES},
    {"torrents", required_argument, NULL, OPT_TORRENTS},
    {"peers", required_argument, NULL, OPT_PEERS},
    {"clients", required_argument, NULL, OPT_CLIENTS},
    {"zipf", required_argument, NULL, OPT_ZIPF},
    {"mix", required_argument, NULL, OPT_MIX},
    {"numwant", required_argument, NULL, OPT_NUMWANT},
    {"seeders", required_argument, NULL, OPT_SEEDERS},
    {"v6", required_argument, NULL, OPT_V6},
    {"scrape-hashes", required_argument, NULL, OPT_SCRAPE_HASHES},
    {"window", required_argument, NULL, OPT_WINDOW},
    {"duration", required_argument, NULL, OPT_DURATION},
    {"count", required_argument, NULL, OPT_COUNT},
    {"prefill", no_argument, NULL, OPT_PREFILL},
    {"timeout-ms", required_argument, NULL, OPT_TIMEOUT},
    {"seed", required_argument, NULL, OPT_SEED},
    {"write-hashes", required_argument, NULL, OPT_WRITE_HASHES},
    {"events", required_argument, NULL, OPT_EVENTS},
    {"torrent-life", required_argument, NULL, OPT_TORRENT_LIFE},
    {"rate", required_argument, NULL, OPT_RATE},
    {"report", required_argument, NULL, OPT_REPORT},
    {"help", no_argument, NULL, OPT_HELP},
    {NULL, 0, NULL, 0},
};

/* One numeric option into o; returns 0 or -1. */
static int parse_number(int opt, const char *arg, struct opts *o)
{
	struct load_params *p = &o->p;
	uint64_t v = 0;
	char *end;

	switch (opt) {
	case OPT_ZIPF:
		p->zipf_s = strtod(arg, &end);
		return *end == '\0' && end != arg && p->zipf_s >= 0 && p->zipf_s <= 5 ? 0 : -1;
	case OPT_DURATION:
		p->duration_s = strtod(arg, &end);
		return *end == '\0' && end != arg && p->duration_s >= 0 && p->duration_s <= 86400
			   ? 0
			   : -1;
	case OPT_REPORT:
		p->report_s = strtod(arg, &end);
		return *end == '\0' && end != arg && p->report_s >= 0 && p->report_s <= 3600 ? 0
											     : -1;
	case OPT_EVENTS:
		if (parse_u64(arg, 0, 100, &v) < 0)
			return -1;
		p->events_pct = (unsigned)v;
		return 0;
	case OPT_TORRENT_LIFE:
		if (parse_u64(arg, 0, 86400ull * 365, &v) < 0)
			return -1;
		p->torrent_life_s = (uint32_t)v;
		return 0;
	case OPT_RATE:
		return parse_u64(arg, 0, 1000000000, &p->rate);
	case OPT_NUMWANT:
		if (strcmp(arg, "-1") == 0) {
			p->numwant = -1;
			return 0;
		}
		if (parse_u64(arg, 0, 100000, &v) < 0)
			return -1;
		p->numwant = (int32_t)v;
		return 0;
	case OPT_PORT:
		if (parse_u64(arg, 1, 65535, &v) < 0)
			return -1;
		o->port = (uint16_t)v;
		return 0;
	case OPT_TORRENTS:
	case OPT_PEERS:
		if (parse_u64(arg, 1, 100000000, &v) < 0)
			return -1;
		*(opt == OPT_TORRENTS ? &p->torrents : &p->peers) = (uint32_t)v;
		return 0;
	case OPT_CLIENTS:
		if (parse_u64(arg, 1, 16000000, &v) < 0)
			return -1;
		p->clients = (uint32_t)v;
		return 0;
	case OPT_SEEDERS:
	case OPT_V6:
		if (parse_u64(arg, 0, 100, &v) < 0)
			return -1;
		*(opt == OPT_SEEDERS ? &p->seeders_pct : &p->v6_pct) = (unsigned)v;
		return 0;
	case OPT_QUEUES:
		if (parse_u64(arg, 1, LOAD_QUEUES_MAX, &v) < 0)
			return -1;
		p->queues = (unsigned)v;
		return 0;
	case OPT_SCRAPE_HASHES:
		if (parse_u64(arg, 1, LOAD_SCRAPE_MAX, &v) < 0)
			return -1;
		p->scrape_hashes = (unsigned)v;
		return 0;
	case OPT_WINDOW:
		if (parse_u64(arg, 1, 1u << SLOT_BITS, &v) < 0)
			return -1;
		p->window = (uint32_t)v;
		return 0;
	case OPT_TIMEOUT:
		if (parse_u64(arg, 1, 60000, &v) < 0)
			return -1;
		p->timeout_ms = (uint32_t)v;
		return 0;
	case OPT_COUNT:
		return parse_u64(arg, 0, UINT64_MAX, &p->count);
	case OPT_SEED:
		return parse_u64(arg, 0, UINT64_MAX, &p->seed);
	}
	return -1;
}

/* Parses argv up to "--" into o; returns the index after "--" (or argc),
 * or -1 on a usage error (reported). */
static int parse_args(int argc, char **argv, struct opts *o)
{
	int opt;

	*o = (struct opts){
	    .p = {.torrents = 1000,
		  .peers = 10000,
		  .zipf_s = 1.0,
		  .mix = {5, 90, 5},
		  .numwant = 50,
		  .seeders_pct = 20,
		  .scrape_hashes = 1,
		  .window = 256,
		  .duration_s = 5,
		  .timeout_ms = 1000,
		  .seed = 1,
		  .queues = 1},
	    .device = "net_memif0",
	    .self4 = "198.18.0.1",
	    .port = 6969,
	};
	while ((opt = getopt_long(argc, argv, "h", long_opts, NULL)) != -1) {
		switch (opt) {
		case OPT_WIRE:
			o->wire = optarg;
			break;
		case OPT_TARGET4:
			o->target4 = optarg;
			break;
		case OPT_TARGET6:
			o->target6 = optarg;
			break;
		case OPT_DEVICE:
			o->device = optarg;
			break;
		case OPT_SELF4:
			o->self4 = optarg;
			break;
		case OPT_DST_MAC:
			o->dst_mac = optarg;
			break;
		case OPT_WRITE_HASHES:
			o->write_hashes = optarg;
			break;
		case OPT_PREFILL:
			o->p.prefill = true;
			break;
		case OPT_MIX:
			if (parse_mix(optarg, o->p.mix) < 0) {
				fprintf(stderr, "dpt-load: bad --mix: %s\n", optarg);
				return -1;
			}
			break;
		case 'h':
		case OPT_HELP:
			usage(stdout);
			exit(0);
		case '?':
			usage(stderr);
			return -1;
		default:
			if (parse_number(opt, optarg, o) < 0) {
				fprintf(stderr, "dpt-load: bad value for --%s: %s\n",
					long_opts[opt - OPT_WIRE].name, optarg);
				return -1;
			}
		}
	}
	if (o->write_hashes != NULL)
		return optind;
	if (o->wire == NULL || (strcmp(o->wire, "sock") != 0 && strcmp(o->wire, "dpdk") != 0) ||
	    (o->target4 == NULL && o->target6 == NULL)) {
		fprintf(stderr, "dpt-load: --wire sock|dpdk and a --target4 or --target6 needed\n");
		return -1;
	}
	if (o->p.mix[0] + o->p.mix[1] + o->p.mix[2] == 0 ||
	    (o->p.duration_s == 0 && o->p.count == 0)) {
		fprintf(stderr, "dpt-load: --mix needs a nonzero weight; --duration or --count "
				"a bound\n");
		return -1;
	}
	return optind;
}

/* --write-hashes: one torrent's info hash per line; returns the exit code. */
static int write_hashes(const struct opts *o)
{
	struct load_params p = o->p;
	struct load_work w = {.p = p};
	FILE *f = strcmp(o->write_hashes, "-") == 0 ? stdout : fopen(o->write_hashes, "w");

	if (f == NULL) {
		fprintf(stderr, "dpt-load: %s: %s\n", o->write_hashes, strerror(errno));
		return 1;
	}
	for (uint32_t t = 0; t < p.torrents; t++) {
		uint8_t h[TR_HASH_LEN];

		load_info_hash(&w, t, h);
		for (unsigned i = 0; i < TR_HASH_LEN; i++)
			fprintf(f, "%02x", h[i]);
		fputc('\n', f);
	}
	if ((f != stdout && fclose(f) != 0) || (f == stdout && fflush(f) != 0)) {
		fprintf(stderr, "dpt-load: writing %s failed\n", o->write_hashes);
		return 1;
	}
	return 0;
}

/* The wire the options ask for; EAL is initialised for dpdk. */
static struct load_wire *open_wire(const struct opts *o, struct load_work *w, int argc, char **argv,
				   int eal_at)
{
	char err[256];
	struct load_wire *wire;

	if (strcmp(o->wire, "sock") == 0) {
		wire = load_wire_sock_new(w, o->target4 ? o->target4 : o->target6, o->port, err,
					  sizeof(err));
	} else {
		/* EAL sees the program name, then what follows "--". */
		argv[eal_at - 1] = argv[0];
		if (rte_eal_init(argc - eal_at + 1, argv + eal_at - 1) < 0) {
			fprintf(stderr, "dpt-load: rte_eal_init failed\n");
			return NULL;
		}
		eal_up = true;
		wire = load_wire_dpdk_new(w, o->device, o->self4, o->target4, o->target6,
					  o->dst_mac, o->port, err, sizeof(err));
	}
	if (wire == NULL)
		fprintf(stderr, "dpt-load: %s\n", err);
	return wire;
}

/* Queue 0, once every driver has run phase ph: prints the phase's figures
 * summed over the queues; returns false if the run ends there. */
static bool phase_end(enum phase ph)
{
	static const char *const name[] = {"connect", "prefill"};
	struct stats *st = calloc(2, sizeof(*st));
	bool failed = false, go_on = false;

	for (unsigned q = 0; q < team.n; q++)
		failed |= team.d[q].ret < 0;
	if (st == NULL)
		return false;
	merge(ph, &st[0]);
	if (ph != PH_MEASURE) {
		print_phase(name[ph], &st[0]);
		if (ph == PH_CONNECT && (failed || total(st[0].answered) == 0))
			fprintf(stderr, "dpt-load: the tracker does not answer connects\n");
		else if (failed)
			fprintf(stderr, "dpt-load: the tracker stopped answering in prefill\n");
		else
			go_on = true;
	} else if (failed) {
		fprintf(stderr, "dpt-load: the tracker stopped answering\n");
	} else {
		merge(PH_PREFILL, &st[1]);
		print_result(&team.d[0], &st[0], &st[1]);
		team.ret = 0;
	}
	fflush(stdout);
	free(st);
	return go_on;
}

/* One driver's run, on its own lcore: each phase, then the others wait
 * while queue 0 prints it and says whether to go on. */
static int run_queue(void *arg)
{
	struct drv *d = arg;

	for (enum phase ph = PH_CONNECT; ph <= PH_MEASURE; ph++) {
		if (ph == PH_PREFILL && !d->work->p.prefill)
			continue;
		d->ret = run_phase(d, ph, &d->phases[ph]);
		pthread_barrier_wait(&team.bar);
		if (d->q == 0)
			team.abort = !phase_end(ph);
		pthread_barrier_wait(&team.bar);
		if (team.abort)
			break;
	}
	return 0;
}

/* Queue q's driver over its share of the window, the clients and --count;
 * returns 0 or -1. */
static int drv_init(struct drv *d, struct load_work *work, unsigned q, unsigned nq)
{
	const struct load_params *p = &work->p;

	d->work = work;
	d->q = q;
	d->nq = nq;
	d->rng = p->seed * 0x9e3779b97f4a7c15ULL + 1;
	if (q != 0)
		d->rng = (d->rng ^ (q * 0xd1b54a32d192ed03ULL)) | 1;
	d->mix_total = p->mix[0] + p->mix[1] + p->mix[2];
	d->my_clients = share_n(d, p->clients);
	d->my_peers = share_n(d, p->peers);
	d->count = p->count / nq + (q < p->count % nq);
	d->rate = p->rate / nq + (q < p->rate % nq);
	struct timespec wall;
	clock_gettime(CLOCK_REALTIME, &wall);
	d->unix_off_ns = (uint64_t)wall.tv_sec * 1000000000u + (uint64_t)wall.tv_nsec - now_ns();
	d->n_slots = d->n_free = p->window / nq + (q < p->window % nq);
	d->slots = calloc(d->n_slots, sizeof(*d->slots));
	d->free_slots = malloc(sizeof(*d->free_slots) * d->n_slots);
	d->phases = calloc(PH_MEASURE + 1, sizeof(*d->phases));
	if (p->report_s > 0)
		d->iv = calloc(1, sizeof(*d->iv));
	if (d->slots == NULL || d->free_slots == NULL || d->phases == NULL ||
	    (p->report_s > 0 && d->iv == NULL))
		return -1;
	for (uint32_t i = 0; i < d->n_slots; i++)
		d->free_slots[i] = d->n_slots - 1 - i;
	return 0;
}

/* Runs every queue's driver, queue 0 on this (the main) lcore and queue q
 * on the q-th worker lcore; returns the exit status. */
static int run(void)
{
	unsigned q = 1, lcore;

	team.ret = 1;
	if (pthread_barrier_init(&team.bar, NULL, team.n) != 0)
		return 1;
	/* Only with several queues: EAL (and so its lcores) is the dpdk wire's. */
	for (lcore = rte_get_next_lcore(-1, 1, 0); team.n > 1 && lcore < RTE_MAX_LCORE;
	     lcore = rte_get_next_lcore(lcore, 1, 0)) {
		if (q >= team.n)
			break;
		if (rte_eal_remote_launch(run_queue, &team.d[q], lcore) != 0) {
			fprintf(stderr, "dpt-load: lcore %u did not start\n", lcore);
			exit(1); /* the barrier would wait for it forever */
		}
		q++;
	}
	run_queue(&team.d[0]);
	if (team.n > 1)
		rte_eal_mp_wait_lcore();
	pthread_barrier_destroy(&team.bar);
	return team.ret;
}

int main(int argc, char **argv)
{
	struct opts o;
	struct load_work work;
	struct load_wire *wire = NULL;
	char err[256];
	int ret = 1;

	int eal_at = parse_args(argc, argv, &o);
	if (eal_at < 0)
		return 2;
	if (o.write_hashes != NULL)
		return write_hashes(&o);
	if (strcmp(o.wire, "dpdk") != 0 && eal_at < argc) {
		fprintf(stderr, "dpt-load: EAL arguments are for --wire dpdk\n");
		return 2;
	}
	if (strcmp(o.wire, "dpdk") == 0 && (eal_at < 2 || strcmp(argv[eal_at - 1], "--") != 0)) {
		fprintf(stderr, "dpt-load: --wire dpdk needs EAL arguments after --\n");
		return 2;
	}
	team.n = o.p.queues;
	if ((team.n > 1 && strcmp(o.wire, "dpdk") != 0) || o.p.window < team.n ||
	    (o.p.count != 0 && o.p.count < team.n)) {
		fprintf(stderr, "dpt-load: --queues is for --wire dpdk, and --window and --count "
				"need at least one request per queue\n");
		return 2;
	}
	if (team.n > 1 && o.p.report_s > 0) {
		fprintf(stderr,
			"dpt-load: --report prints one queue's intervals: use --queues 1\n");
		return 2;
	}
	if (o.p.rate != 0 && o.p.rate < team.n) {
		fprintf(stderr, "dpt-load: --rate needs at least one request a second per queue\n");
		return 2;
	}
	if (load_work_init(&work, &o.p, err, sizeof(err)) < 0) {
		fprintf(stderr, "dpt-load: %s\n", err);
		return 2;
	}
	clock_init();
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	team.d = calloc(team.n, sizeof(*team.d));
	if (team.d == NULL)
		goto out;
	for (unsigned q = 0; q < team.n; q++)
		if (drv_init(&team.d[q], &work, q, team.n) < 0)
			goto out;
	wire = open_wire(&o, &work, argc, argv, eal_at);
	if (wire == NULL)
		goto out;
	if (team.n > 1 && team.n > rte_lcore_count()) {
		fprintf(stderr, "dpt-load: %u queues need %u lcores, EAL has %u\n", team.n, team.n,
			rte_lcore_count());
		goto out;
	}
	for (unsigned q = 0; q < team.n; q++)
		team.d[q].wire = q == 0 ? wire : load_wire_dpdk_queue(wire, q);
	printf("dpt-load: wire %s, %u torrents, %u peers, %u clients (%u%% IPv6), zipf %.2f, "
	       "mix %u/%u/%u, window %u, %u queue%s\n",
	       wire->name, work.p.torrents, work.p.peers, work.p.clients, work.p.v6_pct,
	       work.p.zipf_s, work.p.mix[0], work.p.mix[1], work.p.mix[2], work.p.window, team.n,
	       team.n > 1 ? "s" : "");
	fflush(stdout);
	ret = run();
out:
	if (wire != NULL)
		wire->close(wire); /* every queue's */
	if (eal_up)
		rte_eal_cleanup();
	for (unsigned q = 0; team.d != NULL && q < team.n; q++) {
		free(team.d[q].slots);
		free(team.d[q].free_slots);
		free(team.d[q].phases);
		free(team.d[q].iv);
	}
	free(team.d);
	load_work_fini(&work);
	return ret;
}
