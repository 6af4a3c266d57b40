/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ptab_dump.c - snapshots: a swarm's peers copied out under its lock, and
 * put back (ptab_int.h lists the table's files).
 */
#include "ptab.h"

#include <stdlib.h>

#include <rte_hash.h>
#include <rte_lcore.h>

#include "ptab_set.h"

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
	struct swarm *s = swarm_lock(t, d->info_hash, -1, true, &err);
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
			int was;

			/* Expired (or a clock gone backwards past the timeout) peers,
			 * and port 0 (an empty slot's mark), are not placed. */
			if ((uint64_t)seen + (uint64_t)t->max_age * t->tick <= now ||
			    seen > now + t->tick || (p[klen - 2] | p[klen - 1]) == 0)
				continue;
			err = swarm_put(t, s, fam, p, peer_hash(t, p, klen), i % 2,
					stamp_of(t, seen), &was);
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
