/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * connid.h - stateless BEP 15 connection IDs.
 *
 * An ID is 64 bits: the issue time in seconds (low 32 bits of `now`) and the
 * first 32 bits of SipHash-2-4 (libsodium crypto_shorthash), keyed by a
 * per-process secret, over that time and the client's address. Nothing is
 * stored: an ID is checked by recomputing the MAC. The port is not covered,
 * since NATs may change it between connect and announce (BEP 15 ties the
 * ID to the client's IP).
 *
 * Time and key are arguments, never read here, so expiry is unit-testable.
 * No DPDK header.
 */
#ifndef DPTRACK_CORE_CONNID_H
#define DPTRACK_CORE_CONNID_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "addr.h"
#include "limits.h"

struct connid_key {
	uint8_t k[TR_CONNID_KEY_LEN];
};

/* Fills key with random bytes from the OS (libsodium randombytes_buf).
 * Returns 0, or -1 if libsodium cannot initialise. */
int connid_key_random(struct connid_key *key);

/* Parses exactly 32 hex digits (either case) into key. Returns 0, or -1 if
 * hex is not 32 hex digits; key is then unchanged. */
int connid_key_from_hex(struct connid_key *key, const char *hex);

/* Returns the connection ID for client (its family and address; the port is
 * ignored) issued at now (seconds, any epoch the caller keeps consistent). */
uint64_t connid_issue(const struct connid_key *key, const struct tr_addr *client, uint64_t now);

/*
 * Returns true if id was issued by connid_issue() with this key for this
 * client's address no more than ttl seconds before now. IDs stamped after now
 * are refused (a forger cannot extend their life), as are IDs for another
 * address or another key. Timestamps compare modulo 2^32, so the check
 * holds across the 32-bit wrap.
 */
bool connid_check(const struct connid_key *key, const struct tr_addr *client, uint64_t id,
		  uint64_t now, uint32_t ttl);

#endif
