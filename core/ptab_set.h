/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ptab_set.h - a peer set's slots and the operations the announce path
 * inlines (ptab_int.h lists the files).
 *
 * Each swarm has four sets: IPv4/IPv6 x leechers/seeders. A set is an
 * open-addressing table with linear probing; a slot is the peer's compact
 * form (address, big-endian port) followed by a one-byte stamp of its last
 * announce, so IPv4 peers take 7 bytes and IPv6 peers 19, and a selected
 * peer is copied to the reply as is. Port 0 marks an empty slot (port 0 is
 * never stored). A peer's home slot comes from SipHash keyed per table, so
 * peers cannot be placed to build long probe runs. Deletion shifts the run
 * back (no tombstones), so lookups stay short whatever the churn.
 */
#ifndef DPTRACK_CORE_PTAB_SET_H
#define DPTRACK_CORE_PTAB_SET_H

#include <string.h>

#include <rte_common.h>
#include <rte_prefetch.h>

#include "ptab_int.h"

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

static inline uint32_t pset_count(const struct pset *s)
{
	return s == NULL ? 0 : s->count;
}

/* A swarm's counts (and IPv4 set capacities, for ptab_prefetch) for the
 * readers that take no lock; written under the lock after every change. */
static inline void swarm_publish_counts(struct swarm *s)
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

static inline void swarm_read_counts(const struct swarm *s, struct ptab_counts *c)
{
	c->seeders = __atomic_load_n(&s->seeders, __ATOMIC_RELAXED);
	c->leechers = __atomic_load_n(&s->leechers, __ATOMIC_RELAXED);
	c->completed = __atomic_load_n(&s->completed, __ATOMIC_RELAXED);
}

/* Most cache lines one pick prefetches: 50 IPv4 peers at the lowest load. */
#define PICK_PREFETCH_LINES	   12
/* Lines at the pick's second draw: it is the start when the first draw's
 * slot is empty (at the sets' load, two picks in five). */
#define PICK_PREFETCH_REDRAW_LINES 2

/* The pick's next draw of its start after rnd (an LCG: fastrange, in
 * home_slot, reads the high bits). */
static inline uint32_t pick_redraw(uint32_t rnd)
{
	return rnd * 1664525u + 1013904223u;
}

/* Starts the reads of a pick of up to want peers from rnd, so they overlap
 * whatever the announce does before it picks: the lines holding about
 * want peers at the set's load, up to its end (a walk that wraps is rare),
 * and the first lines at the second draw, where the walk starts when the
 * first draw's slot is empty (the hardware prefetcher follows the rest). */
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
	if (want >= s->count)
		return; /* the pick takes every peer: it never draws again */
	e = slot_at(s, fam_esz(fam), home_slot(pick_redraw(rnd), s->cap));
	for (unsigned l = 0; l < PICK_PREFETCH_REDRAW_LINES; l++)
		rte_prefetch0(e + (size_t)l * RTE_CACHE_LINE_SIZE);
}

/* ptab_set.c: a set's memory, its growth, the pick. */
size_t pset_bytes(unsigned fam, uint32_t cap);
void pset_free(struct ptab *t, struct pset *s, unsigned fam);
bool pset_resize(struct ptab *t, struct pset **sp, unsigned fam, uint32_t cap);
bool pset_reserve(struct ptab *t, struct pset **sp, unsigned fam);
uint32_t pset_pick(const struct pset *s, unsigned fam, int64_t skip, uint32_t want, uint32_t rnd,
		   uint8_t *out);

#endif
