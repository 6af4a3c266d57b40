/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * load.h - what dpt-load's modules share: the workload (torrents, peers,
 * clients, the BEP 15 requests they send), and the wire that carries them
 * (DPDK ethdev frames, or kernel UDP sockets).
 *
 * The driver (dpt-load.c) asks the workload for requests and hands them to
 * the wire in bursts; the wire returns reply payloads, matched back to their
 * request by transaction ID. A wire knows addresses and frames, not trackers.
 */
#ifndef DPTRACK_BENCH_LOAD_H
#define DPTRACK_BENCH_LOAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/limits.h"

#define LOAD_BURST	 32 /* requests per send call, replies per receive call */
#define LOAD_SCRAPE_MAX	 16 /* info hashes in one scrape request */
#define LOAD_REQ_MAX	 (16 + TR_HASH_LEN * LOAD_SCRAPE_MAX)
#define LOAD_CLIENT_PORT 40000 /* the UDP source port every simulated client uses */
#define LOAD_QUEUES_MAX	 64    /* --queues */

enum load_action {
	LOAD_CONNECT,
	LOAD_ANNOUNCE,
	LOAD_SCRAPE,
	LOAD_N_ACTIONS,
};

/* What the command line asks for. */
struct load_params {
	uint32_t torrents; /* info hashes, ranked by popularity */
	uint32_t peers;	   /* distinct (client, port) pairs, spread over the torrents */
	uint32_t clients;  /* source addresses; 0 = chosen from peers */
	double zipf_s;	   /* popularity exponent: torrent rank r holds ~1/r^s of peers */
	unsigned mix[LOAD_N_ACTIONS]; /* relative weights of the actions */
	int32_t numwant;	      /* -1 = the tracker's default */
	unsigned seeders_pct;	      /* share of peers announcing left = 0 */
	unsigned v6_pct;	      /* share of clients on IPv6 */
	unsigned scrape_hashes;	      /* info hashes per scrape, 1..LOAD_SCRAPE_MAX */
	uint32_t window;	      /* requests in flight, 1..65536 */
	double duration_s;	      /* measured phase bound; 0 = none */
	uint64_t count;		      /* measured phase bound in requests; 0 = none */
	bool prefill;		      /* announce every peer once before measuring */
	uint32_t timeout_ms;	      /* a request unanswered this long is lost */
	uint64_t seed;		      /* of the info hashes and the request stream */
	unsigned queues;	      /* the wire's queues, one driver each: each owns the
					 clients c with c % queues equal to its queue, so
					 clients is a multiple of queues (0 = 1) */
	/* Churn, for soaks (all 0: every measured announce is event none from
	 * a peer that never leaves, over torrents that never change): */
	unsigned events_pct;	 /* share of a present peer's announces that complete or stop */
	uint32_t torrent_life_s; /* seconds an info hash lives before its torrent's next */
	uint64_t rate;		 /* measured phase: requests per second at most; 0 = no bound */
	double report_s;	 /* measured phase: an INTERVAL line this often; 0 = none */
};

/* The population: built once by load_work_init(), read-only afterwards
 * except the per-client connection state the driver keeps in it. */
struct load_work {
	struct load_params p;
	uint32_t *peer_torrent;	 /* peers entries: the torrent each peer is in */
	uint8_t *client_v6;	 /* clients entries: 1 if the client is on IPv6 */
	uint64_t *client_cid;	 /* connection ID, 0 until a connect is answered */
	uint64_t *client_cid_ns; /* when that connect was sent */
	uint8_t *client_busy;	 /* a connect is in flight */
	/* With events_pct or torrent_life_s, per peer: its role (LOAD_ROLE_*)
	 * in bits 0-1 and the low 6 bits of the generation of its torrent it
	 * announced to last in bits 2-7; NULL otherwise. */
	uint8_t *peer_state;
};

/* A peer's role in its swarm, as the tracker last heard it. */
enum load_role {
	LOAD_ROLE_ABSENT,  /* never started, or stopped */
	LOAD_ROLE_LEECHER, /* left > 0 */
	LOAD_ROLE_SEEDER,  /* left = 0 */
};

/*
 * Builds the population for p (copied): clients, each peer's torrent and
 * each client's family. The first min(torrents, peers) peers go one to each
 * torrent, so every torrent has a peer; the rest follow a Zipf law of
 * exponent zipf_s over the torrent ranks. Returns 0, or -1 with a message
 * in err. The caller frees with load_work_fini().
 */
int load_work_init(struct load_work *w, const struct load_params *p, char *err, size_t errlen);
void load_work_fini(struct load_work *w);

/* The 20-byte info hash of torrent t (a function of t and the seed). */
void load_info_hash(const struct load_work *w, uint32_t t, uint8_t out[TR_HASH_LEN]);

/*
 * With torrent_life_s, torrent t's info hash is replaced every
 * torrent_life_s seconds of the wall clock, at a moment of its own (the
 * torrents' moments are spread over the life), so old torrents die and new
 * ones are born at a steady pace while the popularity curve stays.
 * load_torrent_gen() returns t's generation at unix second now (0 without
 * a life); load_info_hash_gen() the info hash of generation gen (that of
 * load_info_hash() for gen 0). The wall clock makes two runs agree.
 */
uint32_t load_torrent_gen(const struct load_work *w, uint32_t t, uint64_t now);
void load_info_hash_gen(const struct load_work *w, uint32_t t, uint32_t gen,
			uint8_t out[TR_HASH_LEN]);

/* Whether peer p is a seeder by nature: it starts with left = 0 (the
 * seeders_pct share, the same peers in every run). */
bool load_peer_seeder(const struct load_work *w, uint32_t p);

/* Peer p belongs to client p % clients and announces port 1024 + p / clients. */
static inline uint32_t load_peer_client(const struct load_work *w, uint32_t p)
{
	return p % w->p.clients;
}

/* Writers of BEP 15 requests (section "Connect", "Announce", "Scrape");
 * each returns the bytes written to out (LOAD_REQ_MAX bytes of room). An
 * announce is peer's, to generation gen of its torrent, with left = 0 if
 * seeder; a scrape asks for the generations of unix second now. */
unsigned load_write_connect(uint8_t *out, uint32_t tid);
unsigned load_write_announce(const struct load_work *w, uint8_t *out, uint32_t tid, uint64_t cid,
			     uint32_t peer, uint32_t gen, uint32_t event, bool seeder);
unsigned load_write_scrape(const struct load_work *w, uint8_t *out, uint32_t tid, uint64_t cid,
			   const uint32_t *torrents, unsigned n, uint64_t now);

/* A reply's header, checked against the BEP 15 sizes of its action. */
struct load_reply {
	uint32_t action; /* 0..3; 3 = error */
	uint32_t tid;
	uint64_t cid;	 /* connect replies */
	uint32_t npeers; /* announce replies */
};

/* Parses a reply of len bytes; v6 says the request went over IPv6 (18-byte
 * peers). Returns 0, or -1 if it is too short or its size does not fit its
 * action. */
int load_reply_parse(const uint8_t *buf, unsigned len, bool v6, struct load_reply *r);

/* One request for the wire: from client `client`, len bytes of payload. */
struct load_req {
	uint32_t client;
	uint16_t len;
	uint8_t data[LOAD_REQ_MAX];
};

/* One received payload; data stays valid until the wire's recv_done(). */
struct load_rep {
	const uint8_t *data;
	uint16_t len;
};

/* A wire: each function gets the wire it belongs to. */
struct load_wire {
	const char *name;
	/* Sends reqs[0..n) in order; returns how many went out (a prefix). */
	unsigned (*send)(struct load_wire *w, const struct load_req *reqs, unsigned n);
	/* Fills up to max replies without blocking; returns how many. */
	unsigned (*recv)(struct load_wire *w, struct load_rep *reps, unsigned max);
	/* Releases what the last recv() returned. */
	void (*recv_done)(struct load_wire *w);
	/* Waits up to ms for a reply to arrive (a busy-polling wire returns). */
	void (*wait)(struct load_wire *w, int ms);
	/* Prints the wire's own counters (one line, may be empty). */
	void (*report)(struct load_wire *w);
	void (*close)(struct load_wire *w);
};

/*
 * Kernel UDP sockets (sendmmsg/recvmmsg) to target:port. On loopback, each
 * client sends from its own address in 127.1.0.0/16.. (IP_PKTINFO); to other
 * targets all clients share the host's address (so clients must be 1).
 * Returns the wire, or NULL with a message in err.
 */
struct load_wire *load_wire_sock_new(const struct load_work *work, const char *target,
				     uint16_t port, char *err, size_t errlen);

/*
 * A DPDK ethdev port (EAL already initialised by the caller) with
 * work->p.queues RX/TX queue pairs: clients send from 198.19.0.0/16 and
 * fd00:b::/64, the generator itself answers ARP for self4 and learns the
 * tracker's MAC by ARP (on queue 0) unless dst_mac is given.
 * target4/target6 may be NULL for a family the workload does not use.
 * Returns the wire of queue 0, or NULL with a message in err; its close()
 * closes every queue's and the port.
 */
struct load_wire *load_wire_dpdk_new(const struct load_work *work, const char *device,
				     const char *self4, const char *target4, const char *target6,
				     const char *dst_mac, uint16_t port, char *err, size_t errlen);

/* The wire of queue q (1..queues-1) of a wire from load_wire_dpdk_new(), for
 * the lcore that drives it: send, recv and recv_done on one queue pair
 * need no lock; close only through queue 0's. */
struct load_wire *load_wire_dpdk_queue(struct load_wire *w0, unsigned q);

#endif
