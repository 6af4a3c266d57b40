/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ptab_swarm.c - swarms: finding and locking one, announce, scrape and the
 * burst prefetch (ptab_int.h lists the table's files).
 *
 * A swarm sits at the rte_hash key position of its info hash, in a
 * preallocated array, so creating one allocates nothing:
 *
 *   FREE --(first lock after rte_hash_add_key)--> LIVE
 *   LIVE --(ptab_expire finds it empty; key deleted under its lock)--> DEAD
 *   DEAD --(RCU grace period; key slot handed back to rte_hash)--> FREE
 *
 * A thread that found a position before the delete and locks a DEAD swarm
 * looks the key up again: it is already gone, so it adds a fresh one. Only
 * after every reader has passed a quiescent state can the position be
 * reused, so nobody can lock a recycled swarm under an old key.
 */
#include "ptab.h"

#include <errno.h>
#include <stddef.h>

#include <rte_branch_prediction.h>
#include <rte_hash.h>
#include <rte_lcore.h>

#include "ptab_set.h"
#include "udp_msg.h"

/* ---- swarms ------------------------------------------------------------- */

/* Frees a swarm's sets; its lock is held (or no other thread can see it). */
void swarm_clear(struct ptab *t, struct swarm *s)
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
void swarm_reclaim(void *p, void *e, unsigned int n)
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
 * false (*err = PTAB_OK), or absent and refused (*err says why). pos: where
 * this thread's ptab_prefetch found the key, or -1 to look it up. A
 * position found then still holds the key unless the swarm has died since:
 * it is reused only after this thread's next quiescent state.
 */
struct swarm *swarm_lock(struct ptab *t, const uint8_t *info_hash, int32_t pos, bool create,
			 enum ptab_err *err)
{
	*err = PTAB_OK;
	for (;; pos = -1) {
		if (pos < 0)
			pos = rte_hash_lookup(t->h, info_hash);
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

enum ptab_err swarm_put(struct ptab *t, struct swarm *s, unsigned fam, const uint8_t *key,
			uint32_t h, bool seeder, uint8_t stamp, int *was)
{
	int64_t slot;
	uint8_t old;

	if (fam)
		return swarm_upsert(t, s, 1, key, h, seeder, stamp, was, &slot, &old);
	return swarm_upsert(t, s, 0, key, h, seeder, stamp, was, &slot, &old);
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
	/* A hint from this table's prefetch for this announce (the same info
	 * hash and peer, compared by value: the packet path hands the hint a
	 * pointer into the datagram and the announce a copy) saves the swarm's
	 * lookup and the peer's hash. */
	const struct ptab_hint *hint = a->hint;
	bool hinted = hint != NULL && hint->tab == t &&
		      ih_cmp(hint->info_hash, a->info_hash, 0) == 0 &&
		      hint->peer.family == a->peer.family && hint->peer.port == a->peer.port &&
		      memcmp(hint->peer.ip, a->peer.ip, fam ? 16 : 4) == 0;
	uint32_t h = hinted ? hint->peer_h : peer_hash(t, key, fam_klen(fam));

	if (hinted)
		LC_ADD(lc->hinted, 1);
	bool stop = a->event == UDP_MSG_EV_STOPPED;

	struct swarm *s = swarm_lock(t, a->info_hash, hinted ? hint->pos : -1, !stop, &err);
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
	struct swarm *s = swarm_lock(t, info_hash, -1, true, &err);

	if (s == NULL) {
		LC_ADD(t->lc[rte_lcore_id()].refused[err], 1);
		return err;
	}
	__atomic_store_n(&s->completed, s->completed + 1, __ATOMIC_RELAXED);
	rte_spinlock_unlock(&s->lock);
	return PTAB_OK;
}

/* Where an IPv4 pick from set ps of cap slots starts (pick_fam's first
 * draw): its first two lines, computed from the published capacity. */
static inline void prefetch_pick4(const struct pset *ps, uint32_t cap, uint32_t rnd)
{
	if (ps == NULL || cap == 0)
		return;
	const uint8_t *e = (const uint8_t *)ps + offsetof(struct pset, slots) +
			   (size_t)home_slot(rnd, cap) * fam_esz(0);
	rte_prefetch0(e);
	rte_prefetch0(e + RTE_CACHE_LINE_SIZE);
}

void ptab_prefetch(struct ptab *t, struct ptab_hint *hints, unsigned n)
{
	const void *keys[RTE_HASH_LOOKUP_BULK_MAX];
	int32_t pos[RTE_HASH_LOOKUP_BULK_MAX];

	for (unsigned at = 0; at < n; at += RTE_HASH_LOOKUP_BULK_MAX) {
		struct ptab_hint *hint = hints + at;
		unsigned k = RTE_MIN(n - at, (unsigned)RTE_HASH_LOOKUP_BULK_MAX);

		/* rte_hash pipelines the bucket and key reads of the batch. */
		for (unsigned i = 0; i < k; i++) {
			keys[i] = hint[i].info_hash;
			hint[i].tab = NULL;
		}
		if (rte_hash_lookup_bulk(t->h, keys, k, pos) != 0)
			return;
		for (unsigned i = 0; i < k; i++)
			if (pos[i] >= 0)
				rte_prefetch0(&t->swarms[pos[i]]);
		/* What the announce would compute again: while the swarm lines
		 * arrive. */
		for (unsigned i = 0; i < k; i++) {
			uint8_t key[TR_PEER6_LEN];

			hint[i].tab = t;
			hint[i].pos = pos[i];
			if (hint[i].peer.family != 0)
				hint[i].peer_h =
				    peer_hash(t, key, tr_addr_compact(&hint[i].peer, key));
		}
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
		/* For an IPv4 announcer, from the published capacities (only
		 * addresses are computed from the set pointers, nothing is read
		 * through them): the slot its lookup starts at, and where its
		 * picks start: a leecher's in both sets, a seeder's in the
		 * leechers'. */
		for (unsigned i = 0; i < k; i++) {
			if (pos[i] < 0 || hint[i].peer.family != TR_AF_INET)
				continue;
			const struct swarm *s = &t->swarms[pos[i]];
			const struct pset *own =
			    __atomic_load_n(&s->set[SET_IDX(0, hint[i].seeder)], __ATOMIC_RELAXED);
			uint32_t cap = __atomic_load_n(&s->cap4[hint[i].seeder], __ATOMIC_RELAXED);

			if (own != NULL && cap != 0)
				rte_prefetch0((const uint8_t *)own + offsetof(struct pset, slots) +
					      (size_t)home_slot(hint[i].peer_h, cap) * fam_esz(0));
			if (!hint[i].seeder)
				prefetch_pick4(
				    __atomic_load_n(&s->set[SET_IDX(0, 1)], __ATOMIC_RELAXED),
				    __atomic_load_n(&s->cap4[1], __ATOMIC_RELAXED),
				    (uint32_t)hint[i].rnd);
			prefetch_pick4(__atomic_load_n(&s->set[SET_IDX(0, 0)], __ATOMIC_RELAXED),
				       __atomic_load_n(&s->cap4[0], __ATOMIC_RELAXED),
				       (uint32_t)(hint[i].rnd >> 32));
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
