/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ptab.c - the peer table (see ptab.h for the threading contract).
 *
 * Swarm lifecycle. A swarm sits at the rte_hash key position of its info
 * hash, in a preallocated array, so creating one allocates nothing:
 *
 *   FREE --(first lock after rte_hash_add_key)--> LIVE
 *   LIVE --(ptab_expire finds it empty; key deleted under its lock)--> DEAD
 *   DEAD --(RCU grace period; key slot handed back to rte_hash)--> FREE
 *
 * A thread that found a position before the delete and locks a DEAD swarm
 * looks the key up again: it is already gone, so it adds a fresh one. Only
 * after every reader has passed a quiescent state can the position be
 * reused, so nobody can lock a recycled swarm under an old key.
 *
 * Peer sets. Each swarm has four: IPv4/IPv6 x leechers/seeders. A set is an
 * open-addressing table with linear probing; a slot is the peer's compact
 * form (address, big-endian port) followed by a one-byte stamp of its last
 * announce, so IPv4 peers take 7 bytes and IPv6 peers 19, and a selected
 * peer is copied to the reply as is. Port 0 marks an empty slot (port 0 is
 * never stored). A peer's home slot comes from SipHash keyed per table, so
 * peers cannot be placed to build long probe runs, and walking the slots
 * from a random point yields a random subset. Deletion shifts the run back
 * (no tombstones), so lookups stay short whatever the churn.
 */
#include "ptab.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_branch_prediction.h>
#include <rte_common.h>
#include <rte_errno.h>
#include <rte_hash.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_memory.h>
#include <rte_prefetch.h>
#include <rte_rcu_qsbr.h>
#include <rte_spinlock.h>
#include <sodium.h>

#include "udp_msg.h"

enum swarm_state {
	SWARM_FREE = 0,
	SWARM_LIVE,
	SWARM_DEAD,
};

/* Set index: family (0 = IPv4, 1 = IPv6) * 2 + role (0 = leecher, 1 = seeder). */
#define SET_N		     4
#define SET_IDX(fam, seeder) ((fam)*2 + (seeder))

struct pset {
	uint32_t cap;	/* slots */
	uint32_t count; /* occupied slots, always < cap */
	uint8_t slots[];
};

struct swarm {
	rte_spinlock_t lock;
	uint8_t state; /* enum swarm_state, changed under lock */
	/* Written under lock with relaxed stores, read by ptab_scrape without it. */
	uint32_t seeders, leechers, completed;
	/* Sweeper only: second (low 32 bits, never 0) it first found the swarm
	 * empty, or 0; see swarm_retention in ptab.h. */
	uint32_t empty_since;
	struct pset *set[SET_N];
	/* The IPv4 sets' capacities, published with the counts (relaxed) so
	 * ptab_prefetch can find an announcer's home slot without reading a
	 * set it does not hold the lock of. In the struct's last free bytes:
	 * IPv6 sets have none. */
	uint32_t cap4[2];
} __rte_cache_aligned;
/* One cache line per torrent: the per-torrent memory target (128 bytes,
 * with the hash's share) has no room for a second. */
_Static_assert(sizeof(struct swarm) == RTE_CACHE_LINE_SIZE, "a swarm is one cache line");

/* Per-lcore deltas: each written only by its lcore (LC_ADD: a relaxed load
 * and store, no lock prefix), summed by ptab_stats(). */
#define LC_ADD(field, n)                                                                           \
	__atomic_store_n(&(field), __atomic_load_n(&(field), __ATOMIC_RELAXED) + (n),              \
			 __ATOMIC_RELAXED)

struct ptab_lcore {
	int64_t peers[2];
	int64_t seeders, leechers;
	uint64_t refused[PTAB_ERR_N];
	uint64_t contended; /* swarm locks found taken by another thread */
} __rte_cache_aligned;

struct ptab {
	struct rte_hash *h;
	struct swarm *swarms; /* indexed by key position, nslots of them */
	uint32_t nslots;
	struct rte_rcu_qsbr *rcu;
	struct rte_rcu_qsbr_dq *dq;
	uint32_t dq_size;
	uint32_t max_swarms, max_peers;
	uint32_t hash_entries; /* what the hash was sized for: max_swarms' ceiling */
	uint32_t tick;	       /* seconds per stamp tick (TR_PEER_TIMEOUT_TICKS) */
	uint8_t max_age;       /* peer_timeout in ticks, <= TR_PEER_TIMEOUT_TICKS */
	uint8_t refresh_shift; /* log2 of the refresh window in ticks (ptab_result.refresh) */
	uint32_t retention;    /* swarm_retention, seconds */
	uint32_t crowded;      /* swarms_live from which empty swarms go at once */
	int socket;
	uint64_t budget;
	uint64_t mem_used;    /* atomic: bytes charged against budget */
	uint64_t mem_fixed;   /* hash + swarm array, measured at creation */
	uint64_t swarms_live; /* atomic */
	uint8_t slot_key[crypto_shorthash_KEYBYTES];
	struct ptab_lcore lc[RTE_MAX_LCORE];
};

/* Keys rte_hash's bucket choice. rte_hash calls its hash function with the
 * key only, so the SipHash key is process-wide: set once by the first
 * ptab_new() and only read after. */
static uint8_t ih_key[crypto_shorthash_KEYBYTES];
static int ih_key_set;

static uint32_t ih_hash(const void *key, uint32_t len, uint32_t init_val)
{
	uint64_t h;

	crypto_shorthash((unsigned char *)&h, key, len, ih_key);
	return (uint32_t)h ^ (uint32_t)(h >> 32) ^ init_val;
}

const char *ptab_err_msg(enum ptab_err e)
{
	switch (e) {
	case PTAB_OK:
		return "ok";
	case PTAB_ERR_SWARMS:
		return "tracker is full: no room for another torrent";
	case PTAB_ERR_PEERS:
		return "torrent is full: no room for another peer";
	case PTAB_ERR_MEMORY:
		return "tracker is out of memory for peers";
	default:
		return "unknown error";
	}
}

/* ---- memory budget ------------------------------------------------------ */

/* What rte_malloc really takes for n bytes: a cache-line header and the
 * size rounded up to cache lines. */
static uint64_t heap_cost(size_t n)
{
	return RTE_ALIGN_CEIL(n, RTE_CACHE_LINE_SIZE) + RTE_CACHE_LINE_SIZE;
}

static bool mem_charge(struct ptab *t, uint64_t n)
{
	uint64_t used = __atomic_load_n(&t->mem_used, __ATOMIC_RELAXED);

	do {
		if (used + n > __atomic_load_n(&t->budget, __ATOMIC_RELAXED))
			return false;
	} while (!__atomic_compare_exchange_n(&t->mem_used, &used, used + n, true, __ATOMIC_RELAXED,
					      __ATOMIC_RELAXED));
	return true;
}

static void mem_release(struct ptab *t, uint64_t n)
{
	__atomic_fetch_sub(&t->mem_used, n, __ATOMIC_RELAXED);
}

/* ---- peer sets ---------------------------------------------------------- */

/*
 * The announce path calls the set functions below with the family as a
 * compile-time constant (ptab_announce dispatches once to an inlined copy
 * per family), so slot sizes are constants and every compare and copy of a
 * peer is a few loads and stores. Before, a memcmp/memcpy call per probed
 * or picked slot took half the tracker lcore's cycles (docs/BENCHMARKS.md).
 */
static __rte_always_inline unsigned fam_klen(unsigned fam)
{
	return fam ? TR_PEER6_LEN : TR_PEER4_LEN;
}

/* Slot size: the compact form and a one-byte stamp. */
static __rte_always_inline unsigned fam_esz(unsigned fam)
{
	return fam_klen(fam) + 1;
}

static __rte_always_inline uint8_t *slot_at(const struct pset *s, unsigned esz, uint32_t i)
{
	return (uint8_t *)s->slots + (size_t)i * esz;
}

static __rte_always_inline bool slot_empty(const uint8_t *e, unsigned klen)
{
	uint16_t port;

	memcpy(&port, e + klen - 2, sizeof(port));
	return port == 0;
}

static __rte_always_inline uint8_t slot_stamp(const uint8_t *e, unsigned klen)
{
	return e[klen];
}

static __rte_always_inline void slot_set_stamp(uint8_t *e, unsigned klen, uint8_t v)
{
	e[klen] = v;
}

/* The stamp of second `now`: ticks, modulo 256. */
static inline uint8_t stamp_of(const struct ptab *t, uint64_t now)
{
	return (uint8_t)(now / t->tick);
}

/* Ticks from stamp to now_tick, signed: a stamp a tick ahead (another
 * thread's clock) is -1, fresh, not 255 ticks old. */
static inline int stamp_age(uint8_t now_tick, uint8_t stamp)
{
	return (int8_t)(uint8_t)(now_tick - stamp);
}

static inline uint32_t peer_hash(const struct ptab *t, const uint8_t *key, unsigned klen)
{
	uint64_t h;

	crypto_shorthash((unsigned char *)&h, key, klen, t->slot_key);
	return (uint32_t)(h >> 32);
}

/* Maps a 32-bit hash onto [0, cap) with a multiply instead of a division
 * (Lemire's fastrange), so capacities need not be powers of two. */
static inline uint32_t home_slot(uint32_t h, uint32_t cap)
{
	return (uint32_t)(((uint64_t)h * cap) >> 32);
}

static inline uint32_t next_slot(uint32_t i, uint32_t cap)
{
	return i + 1 == cap ? 0 : i + 1;
}

/* Whether slot e holds key. Written out rather than memcmp so that it is
 * branch-free loads even where the length is not a constant. */
static __rte_always_inline bool slot_is(const uint8_t *e, const uint8_t *key, unsigned fam)
{
	uint64_t a, b, c = 0, d = 0;
	uint32_t x, y;

	/* IPv4: bytes 0-3 and 2-5; IPv6: 0-7, 8-15 and 14-17 (overlaps are harmless). */
	if (fam == 0) {
		memcpy(&x, e, 4);
		memcpy(&y, key, 4);
		a = x;
		b = y;
		memcpy(&x, e + 2, 4);
		memcpy(&y, key + 2, 4);
	} else {
		memcpy(&a, e, 8);
		memcpy(&b, key, 8);
		memcpy(&c, e + 8, 8);
		memcpy(&d, key + 8, 8);
		memcpy(&x, e + 14, 4);
		memcpy(&y, key + 14, 4);
	}
	return ((a ^ b) | (c ^ d) | (uint64_t)(x ^ y)) == 0;
}

/* Returns the slot holding key, or -1. */
static __rte_always_inline int64_t pset_find(const struct pset *s, unsigned fam, const uint8_t *key,
					     uint32_t h)
{
	unsigned klen = fam_klen(fam), esz = fam_esz(fam);

	if (s == NULL || s->count == 0)
		return -1;
	for (uint32_t i = home_slot(h, s->cap);; i = next_slot(i, s->cap)) {
		const uint8_t *e = slot_at(s, esz, i);

		if (slot_empty(e, klen))
			return -1;
		if (slot_is(e, key, fam))
			return i;
	}
}

/* Places a slot image known to be absent. The set must have a free slot.
 * Returns the slot it took. */
static __rte_always_inline uint32_t pset_place(struct pset *s, unsigned fam, const uint8_t *img,
					       uint32_t h)
{
	unsigned klen = fam_klen(fam), esz = fam_esz(fam);
	uint32_t i = home_slot(h, s->cap);

	while (!slot_empty(slot_at(s, esz, i), klen))
		i = next_slot(i, s->cap);
	memcpy(slot_at(s, esz, i), img, esz);
	s->count++;
	return i;
}

static size_t pset_bytes(unsigned fam, uint32_t cap)
{
	return sizeof(struct pset) + (size_t)cap * fam_esz(fam);
}

/* Peer sets come from rte_malloc (hugepages, the table's NUMA socket). In
 * sanitizer builds they come from libc instead, because Debian's DPDK is not
 * built with ASan and rte_malloc memory would hide overruns. */
static struct pset *pset_alloc(const struct ptab *t, size_t bytes)
{
#ifdef PTAB_LIBC_HEAP
	(void)t;
	return calloc(1, bytes);
#else
	return rte_zmalloc_socket("ptab_pset", bytes, 0, t->socket);
#endif
}

static void pset_free(struct ptab *t, struct pset *s, unsigned fam)
{
	if (s == NULL)
		return;
	mem_release(t, heap_cost(pset_bytes(fam, s->cap)));
#ifdef PTAB_LIBC_HEAP
	free(s);
#else
	rte_free(s);
#endif
}

/* Moves every peer of *sp into a new set of cap slots (cap > count).
 * Returns false, leaving *sp untouched, if the budget or heap says no. */
static bool pset_resize(struct ptab *t, struct pset **sp, unsigned fam, uint32_t cap)
{
	struct pset *old = *sp, *s;
	unsigned klen = fam_klen(fam), esz = fam_esz(fam);
	uint64_t cost = heap_cost(pset_bytes(fam, cap));

	if (!mem_charge(t, cost))
		return false;
	s = pset_alloc(t, pset_bytes(fam, cap));
	if (s == NULL) {
		mem_release(t, cost);
		return false;
	}
	s->cap = cap;
	for (uint32_t i = 0; old != NULL && i < old->cap; i++) {
		const uint8_t *e = slot_at(old, esz, i);

		if (!slot_empty(e, klen))
			pset_place(s, fam, e, peer_hash(t, e, klen));
	}
	pset_free(t, old, fam);
	*sp = s;
	return true;
}

/* Makes room for one more peer. Returns false if the set cannot grow. */
static bool pset_reserve(struct ptab *t, struct pset **sp, unsigned fam)
{
	const struct pset *s = *sp;

	if (s != NULL &&
	    (uint64_t)(s->count + 1) * TR_PSET_LOAD_DEN <= (uint64_t)s->cap * TR_PSET_LOAD_NUM)
		return true;
	if (s == NULL)
		return pset_resize(t, sp, fam, TR_PSET_MIN_SLOTS);
	return pset_resize(t, sp, fam,
			   s->cap < TR_PSET_GROW_SLOW ? s->cap * 2 : s->cap + s->cap / 2);
}

/* Removes slot i, shifting the rest of its probe run back so that no
 * lookup ever stops early at the hole. */
static __rte_always_inline void pset_remove_at(const struct ptab *t, struct pset *s, unsigned fam,
					       uint32_t i)
{
	unsigned klen = fam_klen(fam), esz = fam_esz(fam);
	uint32_t j = i;

	for (;;) {
		j = next_slot(j, s->cap);
		uint8_t *e = slot_at(s, esz, j);
		if (slot_empty(e, klen))
			break;
		uint32_t k = home_slot(peer_hash(t, e, klen), s->cap);
		/* e may fill the hole at i unless its home lies cyclically in (i, j]. */
		bool stays = i <= j ? (i < k && k <= j) : (i < k || k <= j);
		if (!stays) {
			memcpy(slot_at(s, esz, i), e, esz);
			i = j;
		}
	}
	memset(slot_at(s, esz, i), 0, esz);
	s->count--;
}

/* Copies up to want peers' compact forms to out, walking slots from a point
 * drawn from rnd and skipping slot `skip` (the announcer's; -1 = none).
 * Returns the count. */
static __rte_always_inline uint32_t pset_pick(const struct pset *s, unsigned fam, int64_t skip,
					      uint32_t want, uint32_t rnd, uint8_t *out)
{
	unsigned klen = fam_klen(fam), esz = fam_esz(fam);
	uint32_t n = 0;

	if (s == NULL || want == 0)
		return 0;
	/* Branch-free: every slot is copied to the next free place in out
	 * (in bounds, as n < want) and kept only if it is a peer. Whether a
	 * slot is empty is a coin toss at the sets' load, and the branch it
	 * replaces mispredicted about once per two slots (perf). */
	uint32_t i = home_slot(rnd, s->cap);
	for (uint32_t seen = 0; seen < s->cap && n < want; seen++, i = next_slot(i, s->cap)) {
		const uint8_t *e = slot_at(s, esz, i);

		memcpy(out + (size_t)n * klen, e, klen);
		n += (uint32_t)(!slot_empty(e, klen) & (i != skip));
	}
	return n;
}

/* Most cache lines one pick prefetches: 50 IPv4 peers at the lowest load. */
#define PICK_PREFETCH_LINES 12

/* Starts the reads of a pick of up to want peers from rnd, so they overlap
 * whatever the announce does before it picks: the lines holding about
 * want peers at the set's load, up to its end (a walk that wraps is rare). */
static __rte_always_inline void pset_pick_prefetch(const struct pset *s, unsigned fam, uint32_t rnd,
						   uint32_t want)
{
	if (s == NULL || s->count == 0 || want == 0)
		return;
	uint32_t i = home_slot(rnd, s->cap);
	uint64_t slots = RTE_MIN((uint64_t)want * s->cap / s->count + 1, (uint64_t)(s->cap - i));
	const uint8_t *e = slot_at(s, fam_esz(fam), i);
	size_t bytes = (size_t)slots * fam_esz(fam);
	unsigned lines = (unsigned)RTE_MIN(bytes / RTE_CACHE_LINE_SIZE + 1, PICK_PREFETCH_LINES);

	for (unsigned l = 0; l < lines; l++)
		rte_prefetch0(e + (size_t)l * RTE_CACHE_LINE_SIZE);
}

static inline uint32_t pset_count(const struct pset *s)
{
	return s == NULL ? 0 : s->count;
}

/* ---- swarms ------------------------------------------------------------- */

static void swarm_publish_counts(struct swarm *s)
{
	uint32_t seeders = pset_count(s->set[SET_IDX(0, 1)]) + pset_count(s->set[SET_IDX(1, 1)]);
	uint32_t leechers = pset_count(s->set[SET_IDX(0, 0)]) + pset_count(s->set[SET_IDX(1, 0)]);

	__atomic_store_n(&s->seeders, seeders, __ATOMIC_RELAXED);
	__atomic_store_n(&s->leechers, leechers, __ATOMIC_RELAXED);
	for (unsigned r = 0; r < 2; r++) {
		const struct pset *ps = s->set[SET_IDX(0, r)];
		__atomic_store_n(&s->cap4[r], ps == NULL ? 0 : ps->cap, __ATOMIC_RELAXED);
	}
}

static void swarm_read_counts(const struct swarm *s, struct ptab_counts *c)
{
	c->seeders = __atomic_load_n(&s->seeders, __ATOMIC_RELAXED);
	c->leechers = __atomic_load_n(&s->leechers, __ATOMIC_RELAXED);
	c->completed = __atomic_load_n(&s->completed, __ATOMIC_RELAXED);
}

/* Frees a swarm's sets; its lock is held (or no other thread can see it). */
static void swarm_clear(struct ptab *t, struct swarm *s)
{
	for (unsigned i = 0; i < SET_N; i++) {
		pset_free(t, s->set[i], i / 2);
		s->set[i] = NULL;
	}
	s->seeders = s->leechers = s->completed = 0;
	s->empty_since = 0;
	s->cap4[0] = s->cap4[1] = 0;
}

/* Defer-queue callback: positions whose grace period has passed go back to
 * rte_hash for reuse, their swarms back to FREE. */
static void swarm_reclaim(void *p, void *e, unsigned int n)
{
	struct ptab *t = p;
	const uint32_t *pos = e;

	for (unsigned i = 0; i < n; i++) {
		struct swarm *s = &t->swarms[pos[i]];

		rte_spinlock_lock(&s->lock);
		s->state = SWARM_FREE;
		rte_spinlock_unlock(&s->lock);
		rte_hash_free_key_with_position(t->h, (int32_t)pos[i]);
	}
}

/*
 * Returns the LIVE swarm of info_hash, locked, or NULL: absent and create is
 * false (*err = PTAB_OK), or absent and refused (*err says why).
 */
static struct swarm *swarm_lock(struct ptab *t, const uint8_t *info_hash, bool create,
				enum ptab_err *err)
{
	*err = PTAB_OK;
	for (;;) {
		int32_t pos = rte_hash_lookup(t->h, info_hash);

		if (pos < 0) {
			if (!create)
				return NULL;
			if (__atomic_load_n(&t->swarms_live, __ATOMIC_RELAXED) >=
			    __atomic_load_n(&t->max_swarms, __ATOMIC_RELAXED)) {
				*err = PTAB_ERR_SWARMS;
				return NULL;
			}
			pos = rte_hash_add_key(t->h, info_hash);
			if (pos < 0) {
				*err = pos == -ENOSPC ? PTAB_ERR_SWARMS : PTAB_ERR_MEMORY;
				return NULL;
			}
		}
		struct swarm *s = &t->swarms[pos];
		if (unlikely(!rte_spinlock_trylock(&s->lock))) {
			/* Another thread holds it: the cost of many cores on the
			 * head of the popularity curve, counted. */
			LC_ADD(t->lc[rte_lcore_id()].contended, 1);
			rte_spinlock_lock(&s->lock);
		}
		if (s->state == SWARM_LIVE)
			return s;
		if (s->state == SWARM_FREE) {
			s->state = SWARM_LIVE;
			__atomic_fetch_add(&t->swarms_live, 1, __ATOMIC_RELAXED);
			return s;
		}
		/* DEAD: its key was deleted before the lock was released, so the
		 * next lookup misses and adds a fresh swarm. */
		rte_spinlock_unlock(&s->lock);
	}
}

/* ---- announce ----------------------------------------------------------- */

struct pick_plan {
	uint32_t seeders, leechers;
};

/* How many seeders and leechers of one family to return: a seeder gets only
 * leechers; a leecher gets both in proportion to the swarm's mix. avail_*
 * already exclude the announcer. */
static struct pick_plan plan_pick(uint32_t want, bool seeder, uint32_t avail_s, uint32_t avail_l)
{
	struct pick_plan p = {0, 0};

	if (seeder) {
		p.leechers = RTE_MIN(want, avail_l);
		return p;
	}
	if (avail_s + avail_l <= want) {
		p.seeders = avail_s;
		p.leechers = avail_l;
		return p;
	}
	p.seeders =
	    (uint32_t)(((uint64_t)want * avail_s + (avail_s + avail_l) / 2) / (avail_s + avail_l));
	p.leechers = RTE_MIN(want - p.seeders, avail_l);
	p.seeders = RTE_MIN(want - p.leechers, avail_s);
	return p;
}

/* self_role/self_slot: where the announcer sits in this family (-1 = not
 * in it); it is skipped by slot, not compared against every peer picked. */
static __rte_always_inline uint32_t pick_family(const struct swarm *s, unsigned fam, int self_role,
						int64_t self_slot, bool seeder, uint32_t want,
						uint64_t rnd, uint8_t *out)
{
	uint32_t avail_s = pset_count(s->set[SET_IDX(fam, 1)]) - (self_role == 1);
	uint32_t avail_l = pset_count(s->set[SET_IDX(fam, 0)]) - (self_role == 0);
	struct pick_plan p = plan_pick(want, seeder, avail_s, avail_l);
	uint32_t n;

	n = pset_pick(s->set[SET_IDX(fam, 1)], fam, self_role == 1 ? self_slot : -1, p.seeders,
		      (uint32_t)rnd, out);
	n += pset_pick(s->set[SET_IDX(fam, 0)], fam, self_role == 0 ? self_slot : -1, p.leechers,
		       (uint32_t)(rnd >> 32), out + (size_t)n * fam_klen(fam));
	return n;
}

/* Selects numwant_other peers of the family the announcer did not come
 * from, excluding its address there if it gave one (lock held). */
static uint32_t pick_other_family(const struct ptab *t, const struct swarm *s,
				  const struct ptab_announce *a, uint64_t rnd, uint8_t *out)
{
	unsigned fam = a->peer.family != TR_AF_INET6;
	uint8_t key[TR_PEER6_LEN];
	int64_t slot = -1;
	int role = -1;

	if (a->numwant_other == 0)
		return 0;
	if (a->other_self.family == (fam ? TR_AF_INET6 : TR_AF_INET)) {
		tr_addr_compact(&a->other_self, key);
		uint32_t h = peer_hash(t, key, fam_klen(fam));
		for (int r = 0; r < 2 && role < 0; r++) {
			slot = pset_find(s->set[SET_IDX(fam, r)], fam, key, h);
			if (slot >= 0)
				role = r;
		}
	}
	return pick_family(s, fam, role, slot, a->seeder, a->numwant_other, rnd, out);
}

/* Finds key in the family's two sets, the role it claims first (most
 * announces keep their role, so the other set's miss is rarely paid).
 * Returns the slot, its role through *role (-1 = absent). */
static __rte_always_inline int64_t swarm_find(const struct swarm *s, unsigned fam,
					      const uint8_t *key, uint32_t h, bool seeder,
					      int *role)
{
	int64_t at = pset_find(s->set[SET_IDX(fam, seeder)], fam, key, h);

	*role = (int)seeder;
	if (at < 0) {
		at = pset_find(s->set[SET_IDX(fam, !seeder)], fam, key, h);
		*role = at < 0 ? -1 : !seeder;
	}
	return at;
}

/* Inserts or moves the announcer (lock held). Returns its role before this
 * announce through *was (-1 = new), its stamp before it through *old (when
 * it was there), and its slot now through *slot. */
static __rte_always_inline enum ptab_err swarm_upsert(struct ptab *t, struct swarm *s, unsigned fam,
						      const uint8_t *key, uint32_t h, bool seeder,
						      uint8_t stamp, int *was, int64_t *slot,
						      uint8_t *old)
{
	unsigned klen = fam_klen(fam);
	int64_t at = swarm_find(s, fam, key, h, seeder, was);

	if (*was == (int)seeder) {
		uint8_t *e = slot_at(s->set[SET_IDX(fam, seeder)], fam_esz(fam), (uint32_t)at);

		*old = slot_stamp(e, klen);
		slot_set_stamp(e, klen, stamp);
		*slot = at;
		return PTAB_OK;
	}
	if (*was < 0 &&
	    s->seeders + s->leechers >= __atomic_load_n(&t->max_peers, __ATOMIC_RELAXED))
		return PTAB_ERR_PEERS;
	if (!pset_reserve(t, &s->set[SET_IDX(fam, seeder)], fam))
		return PTAB_ERR_MEMORY;

	uint8_t img[TR_PEER6_LEN + 1];
	memcpy(img, key, klen);
	slot_set_stamp(img, klen, stamp);
	*slot = pset_place(s->set[SET_IDX(fam, seeder)], fam, img, h);
	if (*was >= 0) {
		struct pset *from = s->set[SET_IDX(fam, *was)];

		*old = slot_stamp(slot_at(from, fam_esz(fam), (uint32_t)at), klen);
		pset_remove_at(t, from, fam, (uint32_t)at);
	}
	return PTAB_OK;
}

/* Whether the table holds the peer key with a stamp later than `stamp`
 * (lock held): a record from elsewhere that is older changes nothing. */
static bool stale_here(const struct swarm *s, unsigned fam, const uint8_t *key, uint32_t h,
		       uint8_t stamp)
{
	int role;
	int64_t at = swarm_find(s, fam, key, h, false, &role);

	if (at < 0)
		return false;
	const uint8_t *e = slot_at(s->set[SET_IDX(fam, role)], fam_esz(fam), (uint32_t)at);
	return stamp_age(slot_stamp(e, fam_klen(fam)), stamp) > 0;
}

/* ptab_announce for one family, a constant in each of its two copies. */
static __rte_always_inline enum ptab_err announce_fam(struct ptab *t, const struct ptab_announce *a,
						      uint64_t now, uint8_t *out,
						      uint8_t *out_other, struct ptab_result *r,
						      unsigned fam)
{
	struct ptab_lcore *lc = &t->lc[rte_lcore_id()];
	uint8_t key[TR_PEER6_LEN], stamp = stamp_of(t, now), old = stamp;
	enum ptab_err err;
	int64_t slot = -1;
	int was = -1;

	memset(r, 0, sizeof(*r));
	r->was = -1;
	tr_addr_compact(&a->peer, key);
	uint32_t h = peer_hash(t, key, fam_klen(fam));
	bool stop = a->event == UDP_MSG_EV_STOPPED;

	struct swarm *s = swarm_lock(t, a->info_hash, !stop, &err);
	if (s == NULL) {
		if (err != PTAB_OK)
			LC_ADD(lc->refused[err], 1);
		return err;
	}
	if (!stop) {
		/* The picks below start where pick_family will: from a->rnd. */
		pset_pick_prefetch(s->set[SET_IDX(fam, 1)], fam, (uint32_t)a->rnd, a->numwant);
		pset_pick_prefetch(s->set[SET_IDX(fam, 0)], fam, (uint32_t)(a->rnd >> 32),
				   a->numwant);
	}
	if (unlikely(a->if_newer) && stale_here(s, fam, key, h, stamp)) {
		r->was = -2; /* nothing changed: the table's copy is newer */
		swarm_read_counts(s, &r->counts);
		rte_spinlock_unlock(&s->lock);
		return PTAB_OK;
	}
	if (stop) {
		int64_t at = swarm_find(s, fam, key, h, a->seeder, &was);
		if (at >= 0)
			pset_remove_at(t, s->set[SET_IDX(fam, was)], fam, (uint32_t)at);
	} else {
		err = swarm_upsert(t, s, fam, key, h, a->seeder, stamp, &was, &slot, &old);
	}
	if (err != PTAB_OK) {
		swarm_read_counts(s, &r->counts);
		rte_spinlock_unlock(&s->lock);
		LC_ADD(lc->refused[err], 1);
		return err;
	}
	r->was = (int8_t)was;
	/* Windows of refresh_ticks (a power of two, so they line up across
	 * the stamp's wrap): see ptab_result.refresh. */
	unsigned shift = __atomic_load_n(&t->refresh_shift, __ATOMIC_RELAXED);
	r->refresh = was >= 0 && (old >> shift) != (stamp >> shift);
	r->completion = a->event == UDP_MSG_EV_COMPLETED && a->seeder && was != 1;
	if (r->completion && !a->defer_completed)
		__atomic_store_n(&s->completed, s->completed + 1, __ATOMIC_RELAXED);
	swarm_publish_counts(s);

	/* Per-lcore deltas: was/now roles as -1 (absent), 0, 1. */
	int now_role = stop ? -1 : (int)a->seeder;
	LC_ADD(lc->peers[fam], (now_role >= 0) - (was >= 0));
	LC_ADD(lc->seeders, (now_role == 1) - (was == 1));
	LC_ADD(lc->leechers, (now_role == 0) - (was == 0));

	if (!stop) {
		r->n = pick_family(s, fam, now_role, slot, a->seeder, a->numwant, a->rnd, out);
		r->n_other = pick_other_family(t, s, a, (a->rnd << 16) | (a->rnd >> 48), out_other);
	}
	swarm_read_counts(s, &r->counts);
	rte_spinlock_unlock(&s->lock);
	return PTAB_OK;
}

enum ptab_err ptab_announce(struct ptab *t, const struct ptab_announce *a, uint64_t now,
			    uint8_t *out, uint8_t *out_other, struct ptab_result *r)
{
	if (a->peer.family == TR_AF_INET6)
		return announce_fam(t, a, now, out, out_other, r, 1);
	return announce_fam(t, a, now, out, out_other, r, 0);
}

enum ptab_err ptab_completed_add(struct ptab *t, const uint8_t info_hash[TR_HASH_LEN])
{
	enum ptab_err err;
	struct swarm *s = swarm_lock(t, info_hash, true, &err);

	if (s == NULL) {
		LC_ADD(t->lc[rte_lcore_id()].refused[err], 1);
		return err;
	}
	__atomic_store_n(&s->completed, s->completed + 1, __ATOMIC_RELAXED);
	rte_spinlock_unlock(&s->lock);
	return PTAB_OK;
}

void ptab_prefetch(struct ptab *t, const struct ptab_hint *hints, unsigned n)
{
	const void *keys[RTE_HASH_LOOKUP_BULK_MAX];
	int32_t pos[RTE_HASH_LOOKUP_BULK_MAX];

	for (unsigned at = 0; at < n; at += RTE_HASH_LOOKUP_BULK_MAX) {
		const struct ptab_hint *hint = hints + at;
		unsigned k = RTE_MIN(n - at, (unsigned)RTE_HASH_LOOKUP_BULK_MAX);

		/* rte_hash pipelines the bucket and key reads of the batch. */
		for (unsigned i = 0; i < k; i++)
			keys[i] = hint[i].info_hash;
		if (rte_hash_lookup_bulk(t->h, keys, k, pos) != 0)
			return;
		for (unsigned i = 0; i < k; i++)
			if (pos[i] >= 0)
				rte_prefetch0(&t->swarms[pos[i]]);
		/* The swarm array is always mapped; a set pointer read without
		 * the lock may be stale, which a prefetch does not mind. */
		for (unsigned i = 0; i < k; i++) {
			if (pos[i] < 0)
				continue;
			for (unsigned j = 0; j < SET_N; j++) {
				const struct pset *ps =
				    __atomic_load_n(&t->swarms[pos[i]].set[j], __ATOMIC_RELAXED);
				if (ps != NULL)
					rte_prefetch0(ps);
			}
		}
		/* The slot an IPv4 announcer's lookup starts at, from the
		 * published capacity: only an address is computed from the
		 * set pointer, nothing is read through it. */
		for (unsigned i = 0; i < k; i++) {
			if (pos[i] < 0 || hint[i].peer.family != TR_AF_INET)
				continue;
			const struct swarm *s = &t->swarms[pos[i]];
			const struct pset *ps =
			    __atomic_load_n(&s->set[SET_IDX(0, hint[i].seeder)], __ATOMIC_RELAXED);
			uint32_t cap = __atomic_load_n(&s->cap4[hint[i].seeder], __ATOMIC_RELAXED);
			uint8_t key[TR_PEER4_LEN];

			if (ps == NULL || cap == 0)
				continue;
			tr_addr_compact(&hint[i].peer, key);
			uint32_t slot = home_slot(peer_hash(t, key, TR_PEER4_LEN), cap);
			rte_prefetch0((const uint8_t *)ps + offsetof(struct pset, slots) +
				      (size_t)slot * fam_esz(0));
		}
	}
}

void ptab_scrape(struct ptab *t, const uint8_t info_hash[TR_HASH_LEN], struct ptab_counts *c)
{
	int32_t pos = rte_hash_lookup(t->h, info_hash);

	memset(c, 0, sizeof(*c));
	if (pos < 0)
		return;
	const struct swarm *s = &t->swarms[pos];
	if (__atomic_load_n(&s->state, __ATOMIC_RELAXED) == SWARM_LIVE)
		swarm_read_counts(s, c);
}

/* ---- expiry ------------------------------------------------------------- */

/* Drops stale peers of one set (lock held) from *slot on, visiting at most
 * limit slots. Returns the slots visited; adds the peers removed to *removed. */
static uint32_t pset_expire(struct ptab *t, struct pset *s, unsigned set_idx, uint8_t now_tick,
			    uint32_t *slot, uint32_t limit, uint32_t *removed)
{
	struct ptab_lcore *lc = &t->lc[rte_lcore_id()];
	unsigned fam = set_idx / 2, klen = fam_klen(fam), esz = fam_esz(fam);
	uint32_t visited = 0, gone = 0;

	while (*slot < s->cap && visited < limit) {
		const uint8_t *e = slot_at(s, esz, *slot);

		visited++;
		/* Signed: threads stamp with clocks that may differ by a second
		 * or two, so a stamp a tick "in the future" is fresh, not 255
		 * ticks old. */
		if (!slot_empty(e, klen) && stamp_age(now_tick, slot_stamp(e, klen)) > t->max_age) {
			/* Don't advance: the run shifts back into this slot. */
			pset_remove_at(t, s, fam, *slot);
			gone++;
			continue;
		}
		(*slot)++;
	}
	LC_ADD(lc->peers[fam], -(int64_t)gone);
	if (set_idx % 2)
		LC_ADD(lc->seeders, -(int64_t)gone);
	else
		LC_ADD(lc->leechers, -(int64_t)gone);
	*removed += gone;
	return visited;
}

/* After a full pass over a set: free it if empty, halve it while it stays
 * under 1/8 full (keeping the budget honest after a crowd leaves). */
static void pset_trim(struct ptab *t, struct pset **sp, unsigned fam)
{
	struct pset *s = *sp;

	if (s == NULL)
		return;
	if (s->count == 0) {
		pset_free(t, s, fam);
		*sp = NULL;
		return;
	}
	if (s->cap > TR_PSET_MIN_SLOTS && (uint64_t)s->count * 8 < s->cap)
		pset_resize(t, sp, fam, RTE_MAX((uint32_t)TR_PSET_MIN_SLOTS, s->count * 2));
}

/* Removes an empty swarm (lock held): DEAD, key deleted, position queued
 * for reuse after a grace period. Skipped while the defer queue is full:
 * the swarm stays LIVE and empty and is retried on the next pass. */
static void swarm_retire(struct ptab *t, struct swarm *s, uint32_t pos)
{
	unsigned int pending = 0;
	const void *key;

	/* Room is judged from `pending`: in DPDK 22.11 the `available` output
	 * reports entries left to dequeue, not free slots. */
	rte_rcu_qsbr_dq_reclaim(t->dq, UINT32_MAX, NULL, &pending, NULL);
	if (pending >= t->dq_size ||
	    rte_hash_get_key_with_position(t->h, (int32_t)pos, (void **)&key) != 0)
		return;
	rte_hash_del_key(t->h, key);
	swarm_clear(t, s);
	s->state = SWARM_DEAD;
	__atomic_fetch_sub(&t->swarms_live, 1, __ATOMIC_RELAXED);
	/* Cannot fail: one sweeper, and there was room a moment ago. */
	rte_rcu_qsbr_dq_enqueue(t->dq, &pos);
}

/* After a full pass over a swarm (lock held): an empty swarm is retired at
 * once if it was never completed, if retention is off or if the table is
 * crowded; otherwise once it has stayed empty for `retention` seconds, so
 * its completed count outlives its last peer for a while. */
static void swarm_judge_empty(struct ptab *t, struct swarm *s, uint32_t pos, uint64_t now)
{
	uint32_t now32 = (uint32_t)now | 1; /* never 0, which means "not empty" */

	if (s->seeders + s->leechers != 0) {
		s->empty_since = 0;
		return;
	}
	bool keep = s->completed != 0 && t->retention != 0 &&
		    __atomic_load_n(&t->swarms_live, __ATOMIC_RELAXED) < t->crowded;

	if (keep && s->empty_since == 0)
		s->empty_since = now32;
	else if (!keep || now32 - s->empty_since >= t->retention)
		swarm_retire(t, s, pos);
}

uint32_t ptab_expire(struct ptab *t, uint64_t now, uint32_t budget, struct ptab_cursor *c)
{
	uint8_t now_tick = stamp_of(t, now);
	uint32_t visited = 0, removed = 0;

	while (visited < budget) {
		if (!c->busy) {
			const void *key;
			void *data;
			int32_t pos = rte_hash_iterate(t->h, &key, &data, &c->iter);

			if (pos < 0) { /* end of the table: the next call starts over */
				c->iter = 0;
				c->cycles++;
				break;
			}
			c->pos = (uint32_t)pos;
			c->set = c->slot = 0;
			c->busy = 1;
		}

		struct swarm *s = &t->swarms[c->pos];
		/* Every visit costs at least one, so empty swarms are bounded too. */
		uint32_t limit = RTE_MIN(budget - visited, (uint32_t)TR_EXPIRE_SLOTS_PER_LOCK),
			 done = 1;

		rte_spinlock_lock(&s->lock);
		if (s->state != SWARM_LIVE) {
			rte_spinlock_unlock(&s->lock);
			c->busy = 0;
			visited += done;
			continue;
		}
		while (c->set < SET_N && done < limit) {
			struct pset **sp = &s->set[c->set];

			if (*sp != NULL)
				done += pset_expire(t, *sp, c->set, now_tick, &c->slot,
						    limit - done, &removed);
			if (*sp == NULL || c->slot >= (*sp)->cap) {
				pset_trim(t, sp, c->set / 2);
				c->set++;
				c->slot = 0;
			}
		}
		swarm_publish_counts(s);
		if (c->set == SET_N) {
			c->busy = 0;
			swarm_judge_empty(t, s, c->pos, now);
		}
		rte_spinlock_unlock(&s->lock);
		visited += done;
	}
	return removed;
}

/* ---- snapshots ---------------------------------------------------------- */

static size_t dump_peer_len(unsigned fam)
{
	return fam ? PTAB_DUMP_PEER6 : PTAB_DUMP_PEER4;
}

/* Copies swarm s (lock held) into d, if d->cap allows; returns the bytes
 * needed either way. */
static size_t swarm_dump(const struct ptab *t, const struct swarm *s, uint64_t now,
			 struct ptab_dump *d)
{
	uint8_t now_tick = stamp_of(t, now);
	size_t need = 0;

	for (unsigned i = 0; i < SET_N; i++)
		need += (size_t)pset_count(s->set[i]) * dump_peer_len(i / 2);
	if (need > d->cap)
		return need;
	d->completed = s->completed;
	d->len = 0;
	for (unsigned i = 0; i < SET_N; i++) {
		const struct pset *ps = s->set[i];
		unsigned fam = i / 2, klen = fam_klen(fam), esz = fam_esz(fam);

		d->n[i] = 0;
		for (uint32_t j = 0; ps != NULL && j < ps->cap; j++) {
			const uint8_t *e = slot_at(ps, esz, j);
			if (slot_empty(e, klen))
				continue;
			/* Ticks since the stamp, signed as in pset_expire. */
			int age = stamp_age(now_tick, slot_stamp(e, klen));
			uint32_t seen = (uint32_t)(now - (uint64_t)RTE_MAX(age, 0) * t->tick);
			uint8_t *o = d->peers + d->len;

			memcpy(o, e, klen);
			o[klen] = (uint8_t)seen;
			o[klen + 1] = (uint8_t)(seen >> 8);
			o[klen + 2] = (uint8_t)(seen >> 16);
			o[klen + 3] = (uint8_t)(seen >> 24);
			d->len += klen + 4;
			d->n[i]++;
		}
	}
	(void)t;
	return need;
}

int ptab_dump_next(struct ptab *t, uint32_t *iter, uint64_t now, struct ptab_dump *d)
{
	for (;;) {
		const void *key;
		void *data;
		int32_t pos = rte_hash_iterate(t->h, &key, &data, iter);

		if (pos < 0)
			return 0;
		struct swarm *s = &t->swarms[pos];
		for (;;) {
			rte_spinlock_lock(&s->lock);
			if (s->state != SWARM_LIVE) {
				rte_spinlock_unlock(&s->lock);
				break;
			}
			size_t need = swarm_dump(t, s, now, d);
			if (need <= d->cap) {
				memcpy(d->info_hash, key, TR_HASH_LEN);
				rte_spinlock_unlock(&s->lock);
				return 1;
			}
			rte_spinlock_unlock(&s->lock);
			/* Grown outside the lock, with room for some growth meanwhile. */
			size_t cap = need + need / 4 + (size_t)64 * PTAB_DUMP_PEER6;
			uint8_t *p = realloc(d->peers, cap);
			if (p == NULL)
				return -1;
			d->peers = p;
			d->cap = cap;
		}
	}
}

void ptab_dump_fini(struct ptab_dump *d)
{
	free(d->peers);
	d->peers = NULL;
	d->len = d->cap = 0;
}

enum ptab_err ptab_restore(struct ptab *t, const struct ptab_dump *d, uint64_t now,
			   uint32_t *loaded)
{
	struct ptab_lcore *lc = &t->lc[rte_lcore_id()];
	enum ptab_err err;
	struct swarm *s = swarm_lock(t, d->info_hash, true, &err);
	const uint8_t *p = d->peers;

	*loaded = 0;
	if (s == NULL) {
		LC_ADD(lc->refused[err], 1);
		return err;
	}
	s->completed = RTE_MAX(s->completed, d->completed);
	for (unsigned i = 0; i < SET_N && err == PTAB_OK; i++) {
		unsigned fam = i / 2, klen = fam_klen(fam);

		for (uint32_t j = 0; j < d->n[i]; j++, p += dump_peer_len(fam)) {
			uint32_t seen = (uint32_t)p[klen] | (uint32_t)p[klen + 1] << 8 |
					(uint32_t)p[klen + 2] << 16 | (uint32_t)p[klen + 3] << 24;
			int64_t slot;
			int was;

			/* Expired (or a clock gone backwards past the timeout) peers,
			 * and port 0 (an empty slot's mark), are not placed. */
			if ((uint64_t)seen + (uint64_t)t->max_age * t->tick <= now ||
			    seen > now + t->tick || (p[klen - 2] | p[klen - 1]) == 0)
				continue;
			uint8_t old;

			err = swarm_upsert(t, s, fam, p, peer_hash(t, p, klen), i % 2,
					   stamp_of(t, seen), &was, &slot, &old);
			if (err != PTAB_OK) {
				LC_ADD(lc->refused[err], 1);
				break;
			}
			if (was < 0) {
				LC_ADD(lc->peers[fam], 1);
				(*loaded)++;
			} else {
				LC_ADD(lc->seeders, (i % 2 == 1) - (was == 1));
				LC_ADD(lc->leechers, (i % 2 == 0) - (was == 0));
				continue;
			}
			if (i % 2)
				LC_ADD(lc->seeders, 1);
			else
				LC_ADD(lc->leechers, 1);
		}
	}
	swarm_publish_counts(s);
	rte_spinlock_unlock(&s->lock);
	return err;
}

/* ---- life cycle --------------------------------------------------------- */

/* peer_timeout in stamp ticks (rounded up, so expiry is never early), and
 * through *shift the refresh window: the largest power of two of ticks in
 * half the timeout (at least one tick); a power of two divides the stamp's
 * 256, so a window never straddles its wrap. */
static uint8_t ages_of(const struct ptab *t, uint32_t peer_timeout, uint8_t *shift)
{
	uint8_t s = 0;

	while ((2u << s) * t->tick * 2 <= peer_timeout && (2u << s) <= TR_PEER_TIMEOUT_TICKS / 2)
		s++;
	*shift = s;
	return (uint8_t)(((uint64_t)peer_timeout + t->tick - 1) / t->tick);
}

/* Bytes the heaps of every socket have handed out. */
static uint64_t heap_allocated(void)
{
	uint64_t sum = 0;

	for (unsigned i = 0; i < rte_socket_count(); i++) {
		struct rte_malloc_socket_stats st;

		if (rte_malloc_get_socket_stats(rte_socket_id_by_idx(i), &st) == 0)
			sum += st.heap_allocsz_bytes;
	}
	return sum;
}

struct ptab *ptab_new(const struct ptab_params *p, char *err, size_t errlen)
{
	char name[RTE_HASH_NAMESIZE];
	struct ptab *t;

	if (p->name == NULL || p->max_swarms == 0 || p->max_peers_per_swarm == 0 ||
	    p->peer_timeout == 0) {
		snprintf(err, errlen, "ptab_new: invalid parameters");
		return NULL;
	}
	if (sodium_init() < 0) {
		snprintf(err, errlen, "ptab_new: sodium_init failed");
		return NULL;
	}
	if (!__atomic_exchange_n(&ih_key_set, 1, __ATOMIC_ACQ_REL))
		randombytes_buf(ih_key, sizeof(ih_key));

	uint64_t heap_before = heap_allocated();
	t = rte_zmalloc_socket("ptab", sizeof(*t), RTE_CACHE_LINE_SIZE, p->socket_id);
	if (t == NULL) {
		snprintf(err, errlen, "rte_zmalloc(ptab): out of memory");
		return NULL;
	}
	t->max_swarms = p->max_swarms;
	t->max_peers = p->max_peers_per_swarm;
	/* 64-bit: any peer_timeout the caller passes, not only the config's. */
	t->tick = (uint32_t)RTE_MAX(1u, ((uint64_t)p->peer_timeout + TR_PEER_TIMEOUT_TICKS - 1) /
					    TR_PEER_TIMEOUT_TICKS);
	t->max_age = ages_of(t, p->peer_timeout, &t->refresh_shift);
	t->retention = p->swarm_retention;
	t->crowded = p->max_swarms - p->max_swarms / 8;
	t->socket = p->socket_id;
	t->budget = p->memory_bytes;
	if (p->slot_key != NULL)
		memcpy(t->slot_key, p->slot_key, sizeof(t->slot_key));
	else
		randombytes_buf(t->slot_key, sizeof(t->slot_key));

	snprintf(name, sizeof(name), "ptab_%s", p->name);
	struct rte_hash_parameters hp = {
	    .name = name,
	    /* rte_hash wants at least a bucket's worth; max_swarms is enforced
	     * by swarms_live, not by the hash filling up. */
	    .entries = RTE_MAX(p->max_swarms, 64u),
	    .key_len = TR_HASH_LEN,
	    .hash_func = ih_hash,
	    .socket_id = p->socket_id,
	    /* Lock-free readers, adds from every thread, and an extendable
	     * bucket table so cuckoo displacement never refuses a key while
	     * the table is below `entries`. */
	    .extra_flag = RTE_HASH_EXTRA_FLAGS_RW_CONCURRENCY_LF |
			  RTE_HASH_EXTRA_FLAGS_MULTI_WRITER_ADD | RTE_HASH_EXTRA_FLAGS_EXT_TABLE,
	};
	t->h = rte_hash_create(&hp);
	if (t->h == NULL) {
		snprintf(err, errlen, "rte_hash_create(%u entries): %s", hp.entries,
			 rte_strerror(rte_errno));
		goto fail;
	}
	t->nslots = (uint32_t)rte_hash_max_key_id(t->h) + 1;
	t->hash_entries = hp.entries;
	t->swarms = rte_zmalloc_socket("ptab_swarms", (size_t)t->nslots * sizeof(struct swarm),
				       RTE_CACHE_LINE_SIZE, p->socket_id);
	if (t->swarms == NULL) {
		snprintf(err, errlen, "rte_zmalloc(%u swarms): out of memory", t->nslots);
		goto fail;
	}
	for (uint32_t i = 0; i < t->nslots; i++)
		rte_spinlock_init(&t->swarms[i].lock);

	size_t rcu_sz = rte_rcu_qsbr_get_memsize(RTE_MAX_LCORE);
	t->rcu = rte_zmalloc_socket("ptab_rcu", rcu_sz, RTE_CACHE_LINE_SIZE, p->socket_id);
	if (t->rcu == NULL || rte_rcu_qsbr_init(t->rcu, RTE_MAX_LCORE) != 0) {
		snprintf(err, errlen, "rte_rcu_qsbr_init: %s", rte_strerror(rte_errno));
		goto fail;
	}
	snprintf(name, sizeof(name), "ptdq_%s", p->name);
	t->dq_size = RTE_MIN(t->nslots, 1u << 16);
	struct rte_rcu_qsbr_dq_parameters dp = {
	    .name = name,
	    /* Retirements waiting for a grace period; when full, the sweep
	     * leaves empty swarms for its next pass instead of blocking. */
	    .size = t->dq_size,
	    .esize = sizeof(uint32_t),
	    .trigger_reclaim_limit = 256,
	    .max_reclaim_size = 1u << 16,
	    .free_fn = swarm_reclaim,
	    .p = t,
	    .v = t->rcu,
	};
	t->dq = rte_rcu_qsbr_dq_create(&dp);
	if (t->dq == NULL) {
		snprintf(err, errlen, "rte_rcu_qsbr_dq_create: %s", rte_strerror(rte_errno));
		goto fail;
	}

	t->mem_fixed = heap_allocated() - heap_before;
	if (t->mem_fixed > t->budget) {
		snprintf(err, errlen,
			 "max_swarms %u needs %" PRIu64
			 " MB of table memory, more than the %" PRIu64
			 " MB budget (tracker.memory_mb)",
			 p->max_swarms, t->mem_fixed >> 20, t->budget >> 20);
		goto fail;
	}
	t->mem_used = t->mem_fixed;
	return t;
fail:
	ptab_free(t);
	return NULL;
}

void ptab_free(struct ptab *t)
{
	if (t == NULL)
		return;
	if (t->dq != NULL)
		rte_rcu_qsbr_dq_delete(t->dq);
	for (uint32_t i = 0; t->swarms != NULL && i < t->nslots; i++)
		swarm_clear(t, &t->swarms[i]);
	rte_hash_free(t->h);
	rte_free(t->swarms);
	rte_free(t->rcu);
	rte_free(t);
}

int ptab_reader_register(struct ptab *t)
{
	if (rte_rcu_qsbr_thread_register(t->rcu, rte_lcore_id()) != 0)
		return -1;
	rte_rcu_qsbr_thread_online(t->rcu, rte_lcore_id());
	return 0;
}

void ptab_reader_unregister(struct ptab *t)
{
	rte_rcu_qsbr_thread_offline(t->rcu, rte_lcore_id());
	rte_rcu_qsbr_thread_unregister(t->rcu, rte_lcore_id());
}

int ptab_thread_enter(struct ptab *t)
{
	if (rte_thread_register() != 0)
		return -1;
	if (ptab_reader_register(t) != 0) {
		rte_thread_unregister();
		return -1;
	}
	return 0;
}

void ptab_thread_leave(struct ptab *t)
{
	ptab_reader_unregister(t);
	rte_thread_unregister();
}

uint64_t ptab_grace_start(struct ptab *t)
{
	return rte_rcu_qsbr_start(t->rcu);
}

bool ptab_grace_done(struct ptab *t, uint64_t token)
{
	return rte_rcu_qsbr_check(t->rcu, token, false) == 1;
}

void ptab_reader_offline(struct ptab *t)
{
	rte_rcu_qsbr_thread_offline(t->rcu, rte_lcore_id());
}

void ptab_reader_online(struct ptab *t)
{
	rte_rcu_qsbr_thread_online(t->rcu, rte_lcore_id());
}

void ptab_quiescent(struct ptab *t)
{
	rte_rcu_qsbr_quiescent(t->rcu, rte_lcore_id());
}

void ptab_reach(const struct ptab *t, struct ptab_limits *most)
{
	most->max_swarms = t->hash_entries;
	most->max_peers_per_swarm = UINT32_MAX;
	most->memory_bytes = t->mem_fixed;
	most->peer_timeout = t->tick * TR_PEER_TIMEOUT_TICKS;
	most->swarm_retention = UINT32_MAX;
}

void ptab_set_limits(struct ptab *t, const struct ptab_limits *l)
{
	uint8_t shift, age = ages_of(t, l->peer_timeout, &shift);

	__atomic_store_n(&t->max_swarms, l->max_swarms, __ATOMIC_RELAXED);
	__atomic_store_n(&t->max_peers, l->max_peers_per_swarm, __ATOMIC_RELAXED);
	__atomic_store_n(&t->budget, l->memory_bytes, __ATOMIC_RELAXED);
	__atomic_store_n(&t->refresh_shift, shift, __ATOMIC_RELAXED);
	/* The sweeper's own (one caller: the control thread, which sweeps). */
	t->max_age = age;
	t->retention = l->swarm_retention;
	t->crowded = l->max_swarms - l->max_swarms / 8;
}

void ptab_stats(struct ptab *t, struct ptab_stats *s)
{
	int64_t peers[2] = {0, 0}, seeders = 0, leechers = 0;

	memset(s, 0, sizeof(*s));
	for (unsigned i = 0; i < RTE_MAX_LCORE; i++) {
		const struct ptab_lcore *lc = &t->lc[i];

		peers[0] += __atomic_load_n(&lc->peers[0], __ATOMIC_RELAXED);
		peers[1] += __atomic_load_n(&lc->peers[1], __ATOMIC_RELAXED);
		seeders += __atomic_load_n(&lc->seeders, __ATOMIC_RELAXED);
		leechers += __atomic_load_n(&lc->leechers, __ATOMIC_RELAXED);
		for (unsigned e = 0; e < PTAB_ERR_N; e++)
			s->refused[e] += __atomic_load_n(&lc->refused[e], __ATOMIC_RELAXED);
		s->contended += __atomic_load_n(&lc->contended, __ATOMIC_RELAXED);
	}
	/* Deltas of different lcores race with each other; never report < 0. */
	s->peers4 = (uint64_t)RTE_MAX(peers[0], (int64_t)0);
	s->peers6 = (uint64_t)RTE_MAX(peers[1], (int64_t)0);
	s->seeders = (uint64_t)RTE_MAX(seeders, (int64_t)0);
	s->leechers = (uint64_t)RTE_MAX(leechers, (int64_t)0);
	s->swarms = __atomic_load_n(&t->swarms_live, __ATOMIC_RELAXED);
	s->mem_used = __atomic_load_n(&t->mem_used, __ATOMIC_RELAXED);
	s->mem_budget = __atomic_load_n(&t->budget, __ATOMIC_RELAXED);
}
