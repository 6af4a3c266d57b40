/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * connid.c - stateless BEP 15 connection IDs: 32-bit timestamp, 32-bit MAC.
 *
 * The MAC is the first 4 bytes of SipHash-2-4 (crypto_shorthash) over
 *   timestamp (4 bytes, big-endian) | family (1 byte) | address (4 or 16 bytes)
 * so an IPv4 and an IPv6 address with the same leading bytes never share an
 * ID, and the same ID never verifies at another time.
 */
#include "connid.h"

#include <endian.h>
#include <string.h>

#include <sodium.h>

#include "hex.h"

_Static_assert(TR_CONNID_KEY_LEN == crypto_shorthash_KEYBYTES, "SipHash-2-4 takes a 16-byte key");

/* The MAC input: timestamp, family byte, up to 16 address bytes. */
#define MAC_OFF_TS     0
#define MAC_OFF_FAMILY 4
#define MAC_OFF_ADDR   5
#define MAC_IN_MAX     (MAC_OFF_ADDR + 16)

/* Writes the 4 MAC bytes for (ts, client) to mac. */
static void connid_mac(const struct connid_key *key, const struct tr_addr *client, uint32_t ts,
		       uint8_t mac[4])
{
	uint8_t in[MAC_IN_MAX];
	uint8_t h[crypto_shorthash_BYTES];
	unsigned iplen = tr_addr_iplen(client);
	uint32_t ts_be = htobe32(ts);

	memcpy(in + MAC_OFF_TS, &ts_be, sizeof(ts_be));
	in[MAC_OFF_FAMILY] = client->family;
	memcpy(in + MAC_OFF_ADDR, client->ip, iplen);
	crypto_shorthash(h, in, MAC_OFF_ADDR + iplen, key->k);
	memcpy(mac, h, 4);
}

int connid_key_random(struct connid_key *key)
{
	/* sodium_init() returns 1 when already initialised: safe to repeat. */
	if (sodium_init() < 0)
		return -1;
	randombytes_buf(key->k, sizeof(key->k));
	return 0;
}

int connid_key_from_hex(struct connid_key *key, const char *hex)
{
	uint8_t k[TR_CONNID_KEY_LEN];
	size_t i;

	if (hex == NULL ||
	    strnlen(hex, (size_t)2 * TR_CONNID_KEY_LEN + 1) != (size_t)2 * TR_CONNID_KEY_LEN)
		return -1;
	for (i = 0; i < TR_CONNID_KEY_LEN; i++) {
		int hi = tr_hex_digit(hex[2 * i]);
		int lo = tr_hex_digit(hex[2 * i + 1]);

		if (hi < 0 || lo < 0)
			return -1;
		k[i] = (uint8_t)(hi << 4 | lo);
	}
	memcpy(key->k, k, sizeof(k));
	return 0;
}

uint64_t connid_issue(const struct connid_key *key, const struct tr_addr *client, uint64_t now)
{
	uint32_t ts = (uint32_t)now;
	uint8_t mac[4];
	uint32_t low;

	connid_mac(key, client, ts, mac);
	memcpy(&low, mac, sizeof(low));
	return (uint64_t)ts << 32 | be32toh(low);
}

bool connid_check(const struct connid_key *key, const struct tr_addr *client, uint64_t id,
		  uint64_t now, uint32_t ttl)
{
	uint32_t ts = (uint32_t)(id >> 32);
	uint32_t low = htobe32((uint32_t)id);
	/* Modulo 2^32: negative means stamped after now, whatever the wrap. */
	int32_t age = (int32_t)((uint32_t)now - ts);
	uint8_t mac[4];

	if (age < 0 || (uint32_t)age > ttl)
		return false;
	connid_mac(key, client, ts, mac);
	/* One 32-bit compare takes the same time whichever bytes differ, as
	 * sodium_memcmp's byte loop does, without the call (it showed at 1.9%
	 * of the tracker lcore: every announce and scrape checks an ID). */
	uint32_t got;
	memcpy(&got, mac, sizeof(got));
	return got == low;
}
