/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ptab_int.h - the peer table's insides, shared by its files and by no one
 * else (users include ptab.h):
 *
 *   ptab.c         the table's life cycle, readers and grace periods,
 *                  limits, counters;
 *   ptab_set.h/.c  peer sets: the open-addressing slots, their growth and
 *                  the pick;
 *   ptab_swarm.c   swarms: lookup and locking, announce, scrape, prefetch;
 *   ptab_expire.c  the sweep: stale peers, shrinking sets, empty swarms;
 *   ptab_dump.c    snapshots: dump and restore.
 */
#ifndef DPTRACK_CORE_PTAB_INT_H
#define DPTRACK_CORE_PTAB_INT_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include <rte_common.h>
#include <rte_rcu_qsbr.h>
#include <rte_spinlock.h>
#include <sodium.h>

#include "ptab.h"

enum swarm_state {
	SWARM_FREE = 0,
	SWARM_LIVE,
	SWARM_DEAD,
};

/* Set index: family (0 = IPv4, 1 = IPv6) * 2 + role (0 = leecher, 1 = seeder). */
/* rte_hash compares 16-, 32-, 48- and 64-byte keys inline and any other
 * length with a libc memcmp call: 4% of the tracker lcore (docs/
 * BENCHMARKS.md) for 20-byte info hashes. Three loads a side instead; 0
 * when equal, as memcmp (rte_hash's compare function, and a prefetch
 * hint's check in announce_fam). */
_Static_assert(TR_HASH_LEN == 20, "ih_cmp compares 8 + 8 + 4 bytes");

static inline int ih_cmp(const void *a, const void *b, size_t len)
{
	uint64_t a0, a1, b0, b1;
	uint32_t a2, b2;

	(void)len; /* always TR_HASH_LEN */
	memcpy(&a0, a, 8);
	memcpy(&b0, b, 8);
	memcpy(&a1, (const uint8_t *)a + 8, 8);
	memcpy(&b1, (const uint8_t *)b + 8, 8);
	memcpy(&a2, (const uint8_t *)a + 16, 4);
	memcpy(&b2, (const uint8_t *)b + 16, 4);
	return ((a0 ^ b0) | (a1 ^ b1) | (uint64_t)(a2 ^ b2)) != 0;
}

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
	uint64_t hinted;    /* announces that used a prefetch hint's lookup */
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

/* ---- memory budget ------------------------------------------------------ */

/* What rte_malloc really takes for n bytes: a cache-line header and the
 * size rounded up to cache lines. */
static inline uint64_t heap_cost(size_t n)
{
	return RTE_ALIGN_CEIL(n, RTE_CACHE_LINE_SIZE) + RTE_CACHE_LINE_SIZE;
}

static inline bool mem_charge(struct ptab *t, uint64_t n)
{
	uint64_t used = __atomic_load_n(&t->mem_used, __ATOMIC_RELAXED);

	do {
		if (used + n > __atomic_load_n(&t->budget, __ATOMIC_RELAXED))
			return false;
	} while (!__atomic_compare_exchange_n(&t->mem_used, &used, used + n, true, __ATOMIC_RELAXED,
					      __ATOMIC_RELAXED));
	return true;
}

static inline void mem_release(struct ptab *t, uint64_t n)
{
	__atomic_fetch_sub(&t->mem_used, n, __ATOMIC_RELAXED);
}

/* ---- across the files --------------------------------------------------- */

/* ptab_swarm.c */
struct swarm *swarm_lock(struct ptab *t, const uint8_t *info_hash, int32_t pos, bool create,
			 enum ptab_err *err);
void swarm_clear(struct ptab *t, struct swarm *s);
void swarm_reclaim(void *p, void *e, unsigned int n);
/* Inserts or refreshes peer key (compact form, hash h) as seeder or
 * leecher with the given stamp (lock held): swarm_upsert for any family. */
enum ptab_err swarm_put(struct ptab *t, struct swarm *s, unsigned fam, const uint8_t *key,
			uint32_t h, bool seeder, uint8_t stamp, int *was);

#endif
