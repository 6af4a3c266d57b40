/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ptab.h - the peer table: swarms keyed by info hash, shared by every thread.
 *
 * An rte_hash (lock-free readers, multi-writer add, SipHash-keyed so chosen
 * info hashes cannot build collision chains) maps an info hash to a position;
 * the swarm lives at that position in a preallocated array. A swarm holds its
 * counters and four compact peer sets (IPv4/IPv6 x seeders/leechers) in
 * rte_malloc memory, changed only under the swarm's own spinlock: there is no
 * global lock on the announce path. A peer is its address and port: 7 bytes
 * for IPv4, 19 for IPv6, including a one-byte last-announce stamp.
 *
 * Threads: every caller is an EAL lcore or a thread that called
 * rte_thread_register() (the hash's per-lcore caches are indexed by lcore
 * id), and an RCU reader of the table registered under its lcore id
 * (ptab_reader_register, or ptab_thread_enter for other threads), online
 * while it calls in here. Swarms removed by ptab_expire() are recycled
 * only after every reader has reported a quiescent state.
 */
#ifndef DPTRACK_CORE_PTAB_H
#define DPTRACK_CORE_PTAB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "addr.h"
#include "limits.h"

struct ptab;

struct ptab_params {
	const char *name;	      /* unique per process; names DPDK objects */
	uint32_t max_swarms;	      /* >= 1 */
	uint32_t max_peers_per_swarm; /* seeders + leechers of both families, >= 1 */
	uint64_t memory_bytes;	      /* budget for the fixed part and all peer sets */
	uint32_t peer_timeout;	      /* seconds without announce before a peer expires */
	uint32_t swarm_retention;     /* seconds a completed, empty swarm is kept */
	int socket_id;		      /* NUMA socket, or SOCKET_ID_ANY (-1) */
	const uint8_t *slot_key;      /* 16 bytes keying peer placement; NULL = random */
};

enum ptab_err {
	PTAB_OK = 0,
	PTAB_ERR_SWARMS, /* max_swarms reached: a new swarm is refused */
	PTAB_ERR_PEERS,	 /* the swarm holds max_peers_per_swarm: a new peer is refused */
	PTAB_ERR_MEMORY, /* the memory budget cannot hold this swarm's growth */
	PTAB_ERR_N,
};

/* Returns the static message for an error, fit for a BEP 15 error reply or an
 * HTTP failure reason ("tracker is full: too many torrents", ...). */
const char *ptab_err_msg(enum ptab_err e);

/*
 * Creates a table. Returns NULL and writes the failing step and its reason to
 * err (errlen bytes) on failure, including when the fixed part alone exceeds
 * memory_bytes. The caller owns the table and frees it with ptab_free().
 */
struct ptab *ptab_new(const struct ptab_params *p, char *err, size_t errlen);

/* Frees the table and every swarm. No other thread may be using it. */
void ptab_free(struct ptab *t);

/*
 * Readers. Every thread that calls in here is an RCU reader of the table
 * under its EAL lcore id, so no caller needs a DPDK header:
 * ptab_reader_register() makes a thread that has an lcore id (an EAL lcore)
 * an online reader; returns 0, or -1 if the id is out of range.
 * ptab_reader_unregister() takes it offline and out.
 * ptab_thread_enter() is the same for a thread that is not an EAL lcore (an
 * HTTP or helper thread): it first registers with EAL (rte_thread_register:
 * the hash's per-lcore caches need an lcore id); returns 0, or -1 if EAL has
 * no lcore id left. ptab_thread_leave() undoes both.
 * A reader goes offline around anything that may block (epoll_wait, a
 * sleep), so it never holds up reclamation, and online before it touches
 * the table again; ptab_quiescent() reports a quiescent state from a loop
 * that does not block.
 */
int ptab_reader_register(struct ptab *t);
void ptab_reader_unregister(struct ptab *t);
int ptab_thread_enter(struct ptab *t);
void ptab_thread_leave(struct ptab *t);
void ptab_reader_offline(struct ptab *t);
void ptab_reader_online(struct ptab *t);
void ptab_quiescent(struct ptab *t);

/*
 * Grace periods, for memory other threads may still read through a pointer
 * they loaded as online readers (a replaced access list): after
 * ptab_grace_start(), once ptab_grace_done() with its token returns true,
 * every reader has passed a quiescent state, so nothing loaded before the
 * start is still in use. ptab_grace_done() never waits.
 */
uint64_t ptab_grace_start(struct ptab *t);
bool ptab_grace_done(struct ptab *t, uint64_t token);

struct ptab_announce {
	const uint8_t *info_hash;  /* 20 bytes */
	struct tr_addr peer;	   /* the announcing peer; port != 0 */
	uint8_t event;		   /* enum udp_msg_event numbering */
	bool seeder;		   /* left == 0 */
	uint32_t numwant;	   /* peers wanted of peer.family, capped by the caller */
	uint32_t numwant_other;	   /* peers wanted of the other family (usually 0) */
	struct tr_addr other_self; /* the announcer's address in the other family, never
				    selected for it; family 0 = none */
	uint64_t rnd;		   /* random bits; selection starts from them */
	/* A cluster counts completions through its stream (ptab_completed_add
	 * on every instance, the origin too): a completion is then only
	 * reported in ptab_result.completion, not counted here. */
	bool defer_completed;
	/* A record from elsewhere, stamped with its own time (now): it changes
	 * nothing if the table holds the peer with a later stamp (one tick or
	 * more), such as an announce made here since. ptab_result.was is then
	 * -2. */
	bool if_newer;
	/* The hint ptab_prefetch filled for this very announce (same info hash
	 * pointer, peer and rnd), or NULL: its swarm position and the peer's
	 * hash are then not looked up and hashed again. */
	const struct ptab_hint *hint;
};

struct ptab_counts {
	uint32_t seeders, leechers, completed;
};

struct ptab_result {
	struct ptab_counts counts; /* the swarm after this announce */
	uint32_t n;		   /* peers written to out (peer.family's compact form) */
	uint32_t n_other;	   /* peers written to out_other (the other family's) */
	/* What changed, for a cluster's publisher: */
	int8_t was;	 /* the announcer's role before: -1 absent, 0 leecher, 1 seeder;
			  * -2: nothing done (if_newer) */
	bool completion; /* this announce completed a download (counted unless deferred) */
	/* The announcer's previous announce fell in an earlier refresh window:
	 * windows are the largest power of two of stamp ticks in half of
	 * peer_timeout. A copy refreshed whenever this is set (and on every
	 * change) is never more than a window older than the peer's latest
	 * announce, so a peer announcing within peer_timeout / 2 never expires
	 * elsewhere, and one announcing less often is refreshed each time. */
	bool refresh;
};

/*
 * Records an announce and selects peers for the reply.
 *
 * started/none/completed insert or refresh the peer (moving it between the
 * seeder and leecher sets as `seeder` says); completed also counts a download
 * once, when a known leecher turns seeder or a new peer arrives completed;
 * stopped removes it and selects nobody. A stopped announce never creates a swarm.
 *
 * Selection: never the announcer (nor its other_self); a seeder gets only
 * leechers; a leecher gets
 * seeders and leechers in proportion; random (a walk of the placement order
 * from a point drawn from rnd); at most numwant. out has room for numwant
 * compact entries of peer.family (6 or 18 bytes), out_other for numwant_other
 * of the other family (may be NULL when numwant_other is 0).
 *
 * Returns PTAB_OK, or why the peer was refused; then r->counts still holds the
 * swarm's counters if it exists and nothing is selected.
 */
enum ptab_err ptab_announce(struct ptab *t, const struct ptab_announce *a, uint64_t now,
			    uint8_t *out, uint8_t *out_other, struct ptab_result *r);

/*
 * Counts one completed download of info_hash (a cluster's stream says
 * one happened), creating the swarm if it has gone: it then stays, empty,
 * for swarm_retention like any completed swarm. Returns PTAB_OK, or
 * PTAB_ERR_SWARMS / PTAB_ERR_MEMORY when no swarm can be made.
 */
enum ptab_err ptab_completed_add(struct ptab *t, const uint8_t info_hash[TR_HASH_LEN]);

/* An announce or scrape about to be made, for ptab_prefetch; then, for an
 * announce, what the prefetch found, for ptab_announce (its .hint). */
struct ptab_hint {
	const uint8_t *info_hash; /* 20 bytes */
	struct tr_addr peer;	  /* the announcer (port != 0); family 0 for a scrape */
	bool seeder;
	uint64_t rnd; /* the announce's ptab_announce.rnd: where its picks start */
	/* Written by ptab_prefetch: */
	const struct ptab *tab; /* the table they belong to; NULL before */
	int32_t pos;		/* the swarm's position, -1 if it had none */
	uint32_t peer_h;	/* the announcer's slot hash */
};

/*
 * Warms the CPU caches for announces and scrapes about to be made (a
 * burst's worth, any n): the hash buckets and keys, the swarms, the heads
 * of their peer sets and, for an IPv4 announcer, the slot its lookup
 * starts at and where its picks start; so the requests that follow find
 * them in cache instead of each waiting on five or six misses in a row.
 * It changes nothing in the table, takes no lock and never faults (set
 * pointers are only prefetched, never followed). It writes into each hint
 * the swarm's position and the announcer's hash, which the announce made
 * with that hint then need not compute again. Same caller rules as
 * ptab_announce, and the announces must follow before the caller reports
 * a quiescent state (a position is only reused after one).
 */
void ptab_prefetch(struct ptab *t, struct ptab_hint *hints, unsigned n);

/* Reads a swarm's counters without taking its lock. Zeros when the swarm does
 * not exist. Counters may be a moment stale but are each whole. */
void ptab_scrape(struct ptab *t, const uint8_t info_hash[TR_HASH_LEN], struct ptab_counts *c);

/* Where an expiry sweep resumes; zero-initialise to start at the beginning. */
struct ptab_cursor {
	uint32_t iter;	 /* rte_hash_iterate position of the next swarm */
	uint32_t pos;	 /* swarm in progress, when busy */
	uint32_t set;	 /* its peer set in progress */
	uint32_t slot;	 /* next slot of that set */
	uint32_t busy;	 /* a swarm is half swept */
	uint64_t cycles; /* full passes over the table completed */
};

/*
 * Expires peers whose last announce is older than peer_timeout, shrinks
 * peer sets left mostly empty, and removes swarms that hold no peer (their
 * memory is recycled after an RCU grace period). A swarm that was ever
 * completed stays, empty, for swarm_retention seconds so scrapes keep its
 * completed count, unless the table holds 7/8 of max_swarms. Visits about
 * `budget` peer slots, never holding one swarm's lock for more than
 * TR_EXPIRE_SLOTS_PER_LOCK of them, then returns the number of peers
 * removed; call again with the same cursor to continue. Meant for the
 * control thread only: one sweeper at a time.
 */
uint32_t ptab_expire(struct ptab *t, uint64_t now, uint32_t budget, struct ptab_cursor *c);

/*
 * One swarm as a snapshot holds it. peers: the four peer sets one after
 * another, in the order of n[] (index family * 2 + seeder: IPv4 leechers,
 * IPv4 seeders, IPv6 leechers, IPv6 seeders); each peer is its compact form
 * (6 or 18 bytes) followed by the second of its last announce, 32 bits
 * little-endian. Heap memory owned by the dump (ptab_dump_fini).
 */
struct ptab_dump {
	uint8_t info_hash[TR_HASH_LEN];
	uint32_t completed;
	uint32_t n[4];
	uint8_t *peers;
	size_t len, cap; /* bytes used, allocated */
};

/* Bytes one peer of the family takes in ptab_dump.peers. */
#define PTAB_DUMP_PEER4 (TR_PEER4_LEN + 4)
#define PTAB_DUMP_PEER6 (TR_PEER6_LEN + 4)

/*
 * Copies the next live swarm after *iter (start with 0) into d, under that
 * swarm's lock only: writers of other swarms never wait, and this one waits
 * only for the copy. Returns 1 (d filled), 0 at the end, -1 when d cannot
 * grow (out of memory). Like ptab_expire it walks the hash while writers
 * add: a swarm created or retired meanwhile may be seen or not, every other
 * one is seen once. The caller is an online RCU reader (ptab_thread_enter)
 * and may report quiescent between calls.
 */
int ptab_dump_next(struct ptab *t, uint32_t *iter, uint64_t now, struct ptab_dump *d);

void ptab_dump_fini(struct ptab_dump *d);

/*
 * Re-creates a swarm from a dump (a snapshot being loaded, before serving):
 * its completed count and every peer whose last announce is less than
 * peer_timeout before now; an existing swarm of that hash is merged into.
 * *loaded says how many peers were placed. Returns PTAB_OK or the limit that
 * refused the swarm or a peer (the peers placed before it stay). d must be
 * well formed: len equal to what n[] implies.
 */
enum ptab_err ptab_restore(struct ptab *t, const struct ptab_dump *d, uint64_t now,
			   uint32_t *loaded);

/* The limits a table was made with (ptab_params' names) that may change
 * while it serves. */
struct ptab_limits {
	uint32_t max_swarms, max_peers_per_swarm;
	uint64_t memory_bytes;
	uint32_t peer_timeout, swarm_retention;
};

/*
 * How far each limit may go without a new table, as a reload must know:
 * max_swarms up to what the hash was sized for, memory_bytes not below the
 * fixed part (the hash and the swarm array, charged at creation),
 * peer_timeout up to 32 ticks of the stamp's unit (a 32nd of the
 * peer_timeout the table was made with, rounded up). The others have no
 * bound but their type's. most: max_swarms and peer_timeout the highest,
 * memory_bytes the lowest.
 */
void ptab_reach(const struct ptab *t, struct ptab_limits *most);

/*
 * Puts new limits in force while threads run, within ptab_reach (the
 * caller checks): each a relaxed store the threads pick up at their next
 * announce. Peers and swarms beyond a lowered limit stay; only new ones are
 * refused. A lowered peer_timeout expires peers sooner from the next sweep
 * on. One caller at a time, the one that calls ptab_expire.
 */
void ptab_set_limits(struct ptab *t, const struct ptab_limits *l);

struct ptab_stats {
	uint64_t swarms;
	uint64_t peers4, peers6;
	uint64_t seeders, leechers;
	uint64_t mem_used, mem_budget; /* bytes */
	uint64_t refused[PTAB_ERR_N];  /* announces refused, by reason */
	uint64_t contended;	       /* swarm locks a thread found taken */
	uint64_t hinted;	       /* announces that used a prefetch hint */
};

/* Sums the table's counters (per-lcore, so a snapshot, not a fence). */
void ptab_stats(struct ptab *t, struct ptab_stats *s);

#endif
