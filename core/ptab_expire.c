/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ptab_expire.c - the sweep: peers whose last announce is older than
 * peer_timeout, sets left mostly empty, swarms left with no peer
 * (ptab_int.h lists the table's files).
 */
#include "ptab.h"

#include <rte_hash.h>
#include <rte_lcore.h>

#include "ptab_set.h"

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
