/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * http_resp.h - bencoded HTTP tracker bodies: announce, scrape, failure.
 *
 * Built on benc.h; each writer returns the body length or 0 if cap is too
 * small. Keys are emitted in BEP 3's sorted order. No DPDK header.
 */
#ifndef DPTRACK_CORE_HTTP_RESP_H
#define DPTRACK_CORE_HTTP_RESP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "limits.h"

struct http_resp_announce {
	uint32_t interval;
	uint32_t min_interval; /* 0 = omit "min interval" */
	uint32_t complete;     /* seeders */
	uint32_t incomplete;   /* leechers */
	uint32_t downloaded;   /* completed count ("downloaded", as opentracker) */
	bool compact;	       /* BEP 23 strings vs BEP 3 list of dictionaries */
	bool no_peer_id;       /* non-compact: omit "peer id" even if peer_ids given */
	const uint8_t *peers4; /* n4 compact IPv4 peers, 6 bytes each */
	uint32_t n4;
	const uint8_t *peers6; /* n6 compact IPv6 peers, 18 bytes each */
	uint32_t n6;
	/* Non-compact only: optional 20-byte peer ids, n4 for peers4 then n6 for
	 * peers6, in the same order. NULL = no ids known (the peer table stores
	 * none), so dictionaries carry only "ip" and "port". */
	const uint8_t *peer_ids;
	const char *warning; /* NULL = omit "warning message" */
};

/*
 * Announce body. Compact: "peers" is a string of 6-byte entries and
 * "peers6" a string of 18-byte entries (BEP 7), both present even if empty. Non-compact: "peers"
 * is one list of {"ip": text, ["peer id": 20 bytes,] "port": n} for both
 * families (IPv6 written in RFC 5952 text form).
 */
size_t http_resp_write_announce(uint8_t *out, size_t cap, const struct http_resp_announce *a);

struct http_resp_scrape_entry {
	const uint8_t *info_hash; /* 20 bytes */
	uint32_t complete, downloaded, incomplete;
};

/* Scrape body (BEP 48): d5:filesd<20-byte hash>d8:completei..e10:downloadedi..e
 * 10:incompletei..eee...ee. Entries must be given sorted by info_hash with
 * duplicates removed (bencoded dictionaries are sorted); n may be 0. */
size_t http_resp_write_scrape(uint8_t *out, size_t cap, const struct http_resp_scrape_entry *e,
			      uint32_t n);

/* d14:failure reason<len>:<reason>e. */
size_t http_resp_write_failure(uint8_t *out, size_t cap, const char *reason);

#endif
