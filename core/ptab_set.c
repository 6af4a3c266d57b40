/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ptab_set.c - a peer set's memory, its growth, and the pick of peers for a
 * reply (ptab_set.h has the slots' layout).
 */
#include "ptab_set.h"

#include <stdlib.h>

#include <rte_malloc.h>

size_t pset_bytes(unsigned fam, uint32_t cap)
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

void pset_free(struct ptab *t, struct pset *s, unsigned fam)
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
bool pset_resize(struct ptab *t, struct pset **sp, unsigned fam, uint32_t cap)
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
bool pset_reserve(struct ptab *t, struct pset **sp, unsigned fam)
{
	const struct pset *s = *sp;

	if (s == NULL)
		return pset_resize(t, sp, fam, TR_PSET_MIN_SLOTS);
	bool dense = fam == 1 && s->cap >= TR_PSET6_DENSE_SLOTS;
	uint64_t num = dense ? TR_PSET6_LOAD_NUM : TR_PSET_LOAD_NUM;
	uint64_t den = dense ? TR_PSET6_LOAD_DEN : TR_PSET_LOAD_DEN;

	if ((uint64_t)(s->count + 1) * den <= (uint64_t)s->cap * num)
		return true;
	if (dense)
		return pset_resize(t, sp, fam, s->cap + s->cap / 4);
	return pset_resize(t, sp, fam,
			   s->cap < TR_PSET_GROW_SLOW ? s->cap * 2 : s->cap + s->cap / 2);
}

/* Draws of the pick's start before it settles for a biased one: at the
 * sets' lowest load (1/8, below which the sweep shrinks them) all miss one
 * time in 60; at 1/2, one in 2 billion. */
#define PICK_DRAWS 32

/*
 * Copies up to want peers' compact forms to out, never slot `skip` (the
 * announcer's; -1 = none), and returns the count.
 *
 * Every other peer is equally likely to be picked, want / (count - 1): the
 * walk starts at a peer drawn uniformly (a slot drawn from rnd, drawn
 * again while it is empty or the announcer's) and takes the next want
 * peers. A peer is then picked exactly when the start is one of the want
 * peers that end at it. Starting at a random *slot* instead, as this did
 * before, favours the peers that follow a run of empty slots (a chi-square
 * of 18,632 over 299 degrees of freedom in test_ptab.c's uniformity test).
 * The first draw is where pset_pick_prefetch started the reads.
 */
static __rte_always_inline uint32_t pick_fam(const struct pset *s, unsigned fam, int64_t skip,
					     uint32_t want, uint32_t rnd, uint8_t *out)
{
	unsigned klen = fam_klen(fam), esz = fam_esz(fam);
	uint32_t n = 0, avail, i;

	if (s == NULL || want == 0)
		return 0;
	avail = s->count - (skip >= 0);
	if (avail == 0)
		return 0;
	i = home_slot(rnd, s->cap);
	for (unsigned d = 1; d < PICK_DRAWS && want < avail; d++) {
		if (!slot_empty(slot_at(s, esz, i), klen) && i != skip)
			break;
		rnd = pick_redraw(rnd);
		i = home_slot(rnd, s->cap);
	}
	/* Branch-free: every slot is copied to the next free place in out
	 * (in bounds, as n < want) and kept only if it is a peer. Whether a
	 * slot is empty is a coin toss at the sets' load, and the branch it
	 * replaces mispredicted about once per two slots (perf). */
	for (uint32_t seen = 0; seen < s->cap && n < want; seen++, i = next_slot(i, s->cap)) {
		const uint8_t *e = slot_at(s, esz, i);

		memcpy(out + (size_t)n * klen, e, klen);
		n += (uint32_t)(!slot_empty(e, klen) & (i != skip));
	}
	return n;
}

/* One out-of-line copy per family: the walk's slot size is a constant. */
uint32_t pset_pick(const struct pset *s, unsigned fam, int64_t skip, uint32_t want, uint32_t rnd,
		   uint8_t *out)
{
	if (fam)
		return pick_fam(s, 1, skip, want, rnd, out);
	return pick_fam(s, 0, skip, want, rnd, out);
}
