/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ptab.c - the peer table's life cycle, its readers and grace periods, its
 * limits and counters (ptab.h has the threading contract; ptab_int.h lists
 * the table's other files).
 */
#include "ptab.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <rte_errno.h>
#include <rte_hash.h>
#include <rte_lcore.h>
#include <rte_malloc.h>

#include "ptab_int.h"

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
	rte_hash_set_cmp_func(t->h, ih_cmp);
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
		s->hinted += __atomic_load_n(&lc->hinted, __ATOMIC_RELAXED);
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
