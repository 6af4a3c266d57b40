/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * workload.c - the population dpt-load drives (torrents ranked by a Zipf
 * law, peers spread over them, clients that own the peers) and the BEP 15
 * requests it sends. Deterministic for a seed: two runs, or two trackers,
 * see the same info hashes, peers and families.
 */
#include "load.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/udp_msg.h"
#include "core/wire.h"

/* Most peers one client (source address) holds: its announce ports run
 * from 1024 up. */
#define LOAD_PORTS_PER_CLIENT (65535u - 1024u)

/* splitmix64: a good 64-bit mix of a counter (Steele, Lea, Flood 2014). */
static uint64_t mix64(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ULL;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

/* Fills peer_torrent: one peer per torrent first, then the Zipf law over the
 * rest by inverse CDF at evenly spaced quantiles (exact shares, no noise),
 * shuffled so that consecutive peers land in different swarms. */
static int spread_peers(struct load_work *w)
{
	const struct load_params *p = &w->p;
	uint32_t first = p->torrents < p->peers ? p->torrents : p->peers;
	uint64_t rest = (uint64_t)p->peers - first;
	double *cdf = malloc(sizeof(*cdf) * p->torrents);

	if (cdf == NULL)
		return -1;
	double sum = 0;
	for (uint32_t t = 0; t < p->torrents; t++) {
		sum += pow((double)t + 1, -p->zipf_s);
		cdf[t] = sum;
	}
	for (uint32_t i = 0; i < first; i++)
		w->peer_torrent[i] = i;
	uint32_t t = 0;
	for (uint64_t i = 0; i < rest; i++) {
		double q = ((double)i + 0.5) / (double)rest * sum;

		while (t + 1 < p->torrents && cdf[t] < q)
			t++;
		w->peer_torrent[first + i] = t;
	}
	free(cdf);
	/* Fisher-Yates with a seeded mix, so peer p's swarm is random-looking
	 * but the same in every run. */
	for (uint32_t i = p->peers - 1; i > 0; i--) {
		uint32_t j = (uint32_t)(mix64(p->seed ^ i) % ((uint64_t)i + 1));
		uint32_t tmp = w->peer_torrent[i];

		w->peer_torrent[i] = w->peer_torrent[j];
		w->peer_torrent[j] = tmp;
	}
	return 0;
}

int load_work_init(struct load_work *w, const struct load_params *p, char *err, size_t errlen)
{
	memset(w, 0, sizeof(*w));
	w->p = *p;
	if (p->torrents == 0 || p->peers == 0) {
		snprintf(err, errlen, "torrents and peers must be at least 1");
		return -1;
	}
	uint32_t need =
	    (uint32_t)(((uint64_t)p->peers + LOAD_PORTS_PER_CLIENT - 1) / LOAD_PORTS_PER_CLIENT);
	uint32_t nq = p->queues > 1 ? p->queues : 1;
	if (w->p.clients == 0) {
		w->p.clients = p->peers < 4096 ? p->peers : (need > 4096 ? need : 4096);
		/* A whole number of clients per queue: down if that still fits. */
		w->p.clients -= w->p.clients % nq;
		if (w->p.clients < need)
			w->p.clients += nq;
	}
	if (w->p.clients < need || w->p.clients > p->peers) {
		snprintf(err, errlen, "clients must lie in %u..%u for %u peers", need, p->peers,
			 p->peers);
		return -1;
	}
	if (w->p.clients % nq != 0) {
		snprintf(err, errlen, "%u clients do not split evenly over %u queues", w->p.clients,
			 nq);
		return -1;
	}
	uint32_t nc = w->p.clients;
	w->peer_torrent = calloc(p->peers, sizeof(*w->peer_torrent));
	w->client_v6 = calloc(nc, 1);
	w->client_cid = calloc(nc, sizeof(*w->client_cid));
	w->client_cid_ns = calloc(nc, sizeof(*w->client_cid_ns));
	w->client_busy = calloc(nc, 1);
	if (p->events_pct > 0 || p->torrent_life_s > 0)
		w->peer_state = calloc(p->peers, 1);
	if (w->peer_torrent == NULL || w->client_v6 == NULL || w->client_cid == NULL ||
	    w->client_cid_ns == NULL || w->client_busy == NULL ||
	    ((p->events_pct > 0 || p->torrent_life_s > 0) && w->peer_state == NULL) ||
	    spread_peers(w) < 0) {
		snprintf(err, errlen, "out of memory for %u peers", p->peers);
		load_work_fini(w);
		return -1;
	}
	for (uint32_t c = 0; c < nc; c++)
		w->client_v6[c] = mix64(p->seed + 0x6000000000ULL + c) % 100 < p->v6_pct;
	return 0;
}

void load_work_fini(struct load_work *w)
{
	free(w->peer_torrent);
	free(w->client_v6);
	free(w->client_cid);
	free(w->client_cid_ns);
	free(w->client_busy);
	free(w->peer_state);
	memset(w, 0, sizeof(*w));
}

void load_info_hash(const struct load_work *w, uint32_t t, uint8_t out[TR_HASH_LEN])
{
	load_info_hash_gen(w, t, 0, out);
}

void load_info_hash_gen(const struct load_work *w, uint32_t t, uint32_t gen,
			uint8_t out[TR_HASH_LEN])
{
	uint64_t a = w->p.seed ^ ((uint64_t)t << 20);

	if (gen != 0)
		a ^= mix64(0x6e65770000000000ULL + gen);
	a = mix64(a);
	uint64_t b = mix64(a);
	memcpy(out, &a, 8);
	memcpy(out + 8, &b, 8);
	put_be32(out, 16, t);
}

uint32_t load_torrent_gen(const struct load_work *w, uint32_t t, uint64_t now)
{
	uint32_t life = w->p.torrent_life_s;

	if (life == 0)
		return 0;
	/* The moment of t's rebirths: a fixed share of the life, its own. */
	uint64_t phase = mix64(w->p.seed + 0x7000000000ULL + t) % life;
	return (uint32_t)((now + phase) / life);
}

bool load_peer_seeder(const struct load_work *w, uint32_t p)
{
	return mix64(w->p.seed + 0x5000000000ULL + p) % 100 < w->p.seeders_pct;
}

unsigned load_write_connect(uint8_t *out, uint32_t tid)
{
	put_be64(out, 0, UDP_MSG_PROTOCOL_ID);
	put_be32(out, 8, UDP_MSG_CONNECT);
	put_be32(out, 12, tid);
	return UDP_MSG_CONNECT_LEN;
}

/* BEP 15 "Announce" request offsets. */
enum {
	AN_HASH = 16,
	AN_PEER_ID = 36,
	AN_DOWNLOADED = 56,
	AN_LEFT = 64,
	AN_UPLOADED = 72,
	AN_EVENT = 80,
	AN_IP = 84,
	AN_KEY = 88,
	AN_NUMWANT = 92,
	AN_PORT = 96,
};

unsigned load_write_announce(const struct load_work *w, uint8_t *out, uint32_t tid, uint64_t cid,
			     uint32_t peer, uint32_t gen, uint32_t event, bool seeder)
{
	static const uint8_t client_tag[8] = {'-', 'D', 'L', '0', '0', '0', '1', '-'};

	put_be64(out, 0, cid);
	put_be32(out, 8, UDP_MSG_ANNOUNCE);
	put_be32(out, 12, tid);
	load_info_hash_gen(w, w->peer_torrent[peer], gen, out + AN_HASH);
	memcpy(out + AN_PEER_ID, client_tag, sizeof(client_tag));
	put_be32(out, AN_PEER_ID + 8, peer);
	put_be64(out, AN_PEER_ID + 12, mix64(peer));
	put_be64(out, AN_DOWNLOADED, seeder ? 1u << 20 : 0);
	put_be64(out, AN_LEFT, seeder ? 0 : 1u << 20);
	put_be64(out, AN_UPLOADED, 0);
	put_be32(out, AN_EVENT, event);
	put_be32(out, AN_IP, 0);
	put_be32(out, AN_KEY, (uint32_t)mix64(peer ^ 0x4b4559ULL));
	put_be32(out, AN_NUMWANT, (uint32_t)w->p.numwant);
	put_be16(out, AN_PORT, (uint16_t)(1024 + peer / w->p.clients));
	return UDP_MSG_ANNOUNCE_LEN;
}

unsigned load_write_scrape(const struct load_work *w, uint8_t *out, uint32_t tid, uint64_t cid,
			   const uint32_t *torrents, unsigned n, uint64_t now)
{
	put_be64(out, 0, cid);
	put_be32(out, 8, UDP_MSG_SCRAPE);
	put_be32(out, 12, tid);
	for (unsigned i = 0; i < n; i++)
		load_info_hash_gen(w, torrents[i], load_torrent_gen(w, torrents[i], now),
				   out + UDP_MSG_SCRAPE_HDR + (size_t)TR_HASH_LEN * i);
	return UDP_MSG_SCRAPE_HDR + TR_HASH_LEN * n;
}

int load_reply_parse(const uint8_t *buf, unsigned len, bool v6, struct load_reply *r)
{
	unsigned peer_len = v6 ? 18 : 6;

	memset(r, 0, sizeof(*r));
	if (len < 8)
		return -1;
	r->action = get_be32(buf, 0);
	r->tid = get_be32(buf, 4);
	switch (r->action) {
	case UDP_MSG_CONNECT:
		if (len < UDP_MSG_CONNECT_REPLY_LEN)
			return -1;
		r->cid = get_be64(buf, 8);
		return 0;
	case UDP_MSG_ANNOUNCE:
		if (len < 20 || (len - 20) % peer_len != 0)
			return -1;
		r->npeers = (len - 20) / peer_len;
		return 0;
	case UDP_MSG_SCRAPE:
		return (len - UDP_MSG_SCRAPE_REPLY_HDR) % UDP_MSG_SCRAPE_ENTRY_LEN == 0 ? 0 : -1;
	case UDP_MSG_ERROR:
		return 0;
	default:
		return -1;
	}
}
