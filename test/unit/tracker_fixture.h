/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * tracker_fixture.h - a tracker over a fresh peer table, for the tests of
 * tr_udp_handle() and tr_http_handle(). EAL must be up (eal_test.h).
 */
#ifndef DPTRACK_TEST_TRACKER_FIXTURE_H
#define DPTRACK_TEST_TRACKER_FIXTURE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <rte_lcore.h>

#include "core/acl.h"
#include "core/limits.h"
#include "core/ptab.h"
#include "core/tracker.h"

struct tracker_fx {
	struct ptab *pt;
	struct tracker tr;
	struct stats_ctr st;
	struct tr_ctx ctx;
	uint64_t now;
};

/*
 * Builds f: a table (max_swarms torrents, 500 peers each, 64 MB) named
 * prefix + a sequence number, the calling thread an online RCU reader of it,
 * fixed tracker parameters, a fixed connection-id key and a seeded RNG.
 * Returns 0, or -1 after printing why.
 */
static inline int tracker_fx_up(struct tracker_fx *f, const char *prefix, uint32_t max_swarms,
				uint64_t now)
{
	static unsigned seq;
	char name[32], err[256];
	struct ptab_params pp = {
	    .name = name,
	    .max_swarms = max_swarms,
	    .max_peers_per_swarm = 500,
	    .memory_bytes = 64ull << 20,
	    .peer_timeout = 2700,
	    .socket_id = -1,
	};

	snprintf(name, sizeof(name), "%s%u", prefix, seq++);
	memset(f, 0, sizeof(*f));
	f->pt = ptab_new(&pp, err, sizeof(err));
	if (f->pt == NULL) {
		print_error("ptab_new: %s\n", err);
		return -1;
	}
	if (ptab_reader_register(f->pt) != 0)
		return -1;
	f->tr.ptab = f->pt;
	f->tr.p = (struct tr_params){
	    .announce_interval = 1800,
	    .announce_jitter = 120,
	    .min_interval = 900,
	    .numwant_default = 50,
	    .numwant_max = 200,
	    .connid_ttl = 120,
	    .http_trust_ip_params = false,
	};
	for (unsigned i = 0; i < sizeof(f->tr.keys[0].k); i++)
		f->tr.keys[0].k[i] = (uint8_t)(i * 29 + 7);
	f->ctx.tr = &f->tr;
	f->ctx.stats = &f->st;
	tr_rng_seed(&f->ctx.rng, 0x5eed5eedULL);
	f->now = now;
	return 0;
}

/* Test peers: 198.18.x.y (RFC 2544 test range), port 10000 + i. */
static inline struct tr_addr v4(unsigned i)
{
	struct tr_addr a = {.family = TR_AF_INET, .port = (uint16_t)(10000 + i)};

	a.ip[0] = 198;
	a.ip[1] = 18;
	a.ip[2] = (uint8_t)(i >> 8);
	a.ip[3] = (uint8_t)i;
	return a;
}

/* fd00::i, port 20000 + i. */
static inline struct tr_addr v6(unsigned i)
{
	struct tr_addr a = {.family = TR_AF_INET6, .port = (uint16_t)(20000 + i)};

	a.ip[0] = 0xfd;
	a.ip[14] = (uint8_t)(i >> 8);
	a.ip[15] = (uint8_t)i;
	return a;
}

/* The compact form a reply should carry for a, written here by hand rather
 * than by the code under test: address, then big-endian port. */
static inline unsigned compact_of(const struct tr_addr *a, uint8_t *out)
{
	unsigned n = a->family == TR_AF_INET ? 4 : 16;

	memcpy(out, a->ip, n);
	out[n] = (uint8_t)(a->port >> 8);
	out[n + 1] = (uint8_t)a->port;
	return n + 2;
}

/* Returns true if the n entries of plen bytes at peers include a. */
static inline bool peers_include(const uint8_t *peers, size_t n, unsigned plen,
				 const struct tr_addr *a)
{
	uint8_t want[18];

	if (compact_of(a, want) != plen)
		return false;
	for (size_t i = 0; i < n; i++)
		if (memcmp(peers + i * plen, want, plen) == 0)
			return true;
	return false;
}

/* Returns true if every one of the n entries at peers is one of the k
 * addresses in set. */
static inline bool peers_all_in(const uint8_t *peers, size_t n, unsigned plen,
				const struct tr_addr *set, size_t k)
{
	for (size_t i = 0; i < n; i++) {
		bool found = false;

		for (size_t j = 0; j < k && !found; j++) {
			uint8_t want[18];

			found = compact_of(&set[j], want) == plen &&
				memcmp(peers + i * plen, want, plen) == 0;
		}
		if (!found)
			return false;
	}
	return true;
}

/* Puts a list in mode of the n hashes at h (20 bytes each) in force,
 * freeing the one before; mode ACL_OFF removes the list. Built from its
 * text, as a file would give it. */
static inline void tracker_fx_acl(struct tracker_fx *f, enum acl_mode mode, const uint8_t *h,
				  size_t n)
{
	char text[64 * 42 + 1], err[256];
	size_t at = 0;

	assert_true(n <= 64);
	for (size_t i = 0; i < n; i++) {
		for (size_t j = 0; j < TR_HASH_LEN; j++)
			at += (size_t)snprintf(text + at, sizeof(text) - at, "%02x",
					       h[i * TR_HASH_LEN + j]);
		text[at++] = '\n';
	}
	acl_free(f->tr.acl);
	f->tr.acl = NULL;
	if (mode == ACL_OFF)
		return;
	f->tr.acl = acl_parse("fx", text, at, mode, ACL_MAX_ENTRIES, err, sizeof(err));
	if (f->tr.acl == NULL)
		fail_msg("acl_parse: %s", err);
}

/* Takes the thread offline and frees the table (and any access list). */
static inline void tracker_fx_down(struct tracker_fx *f)
{
	acl_free(f->tr.acl);
	f->tr.acl = NULL;
	ptab_reader_unregister(f->pt);
	ptab_free(f->pt);
	f->pt = NULL;
}

#endif
