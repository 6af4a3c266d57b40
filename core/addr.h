/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * addr.h - a client endpoint as the core sees it: family, address, port.
 *
 * Both paths convert what they read (IP header, sockaddr) to this; the core
 * never sees a sockaddr or an mbuf. IPv4-mapped IPv6 addresses are IPv4.
 */
#ifndef DPTRACK_CORE_ADDR_H
#define DPTRACK_CORE_ADDR_H

#include <stdint.h>
#include <string.h>
#include <stdbool.h>

enum tr_family {
	TR_AF_INET = 4,
	TR_AF_INET6 = 6,
};

struct tr_addr {
	uint8_t family; /* enum tr_family */
	uint8_t ip[16]; /* network order; IPv4 uses ip[0..3], the rest is zero */
	uint16_t port;	/* host order */
};

/* Returns a tr_addr for an IPv4 address given as 4 bytes in network order. */
static inline struct tr_addr tr_addr_v4(const uint8_t ip[4], uint16_t port)
{
	struct tr_addr a = {.family = TR_AF_INET, .port = port};

	memcpy(a.ip, ip, 4);
	return a;
}

/* Returns a tr_addr for 16 IPv6 bytes; an IPv4-mapped address (::ffff:a.b.c.d)
 * becomes the IPv4 address, as a dual-stack socket would report it. */
static inline struct tr_addr tr_addr_v6(const uint8_t ip[16], uint16_t port)
{
	static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
	struct tr_addr a = {.family = TR_AF_INET6, .port = port};

	if (memcmp(ip, mapped, sizeof(mapped)) == 0)
		return tr_addr_v4(ip + 12, port);
	memcpy(a.ip, ip, 16);
	return a;
}

/* Length of the address bytes of a family: 4 or 16. */
static inline unsigned tr_addr_iplen(const struct tr_addr *a)
{
	return a->family == TR_AF_INET ? 4 : 16;
}

/* Writes the BEP 23/BEP 7 compact form (address then big-endian port) to out,
 * which has room for 6 (IPv4) or 18 (IPv6) bytes. Returns the bytes written. */
static inline unsigned tr_addr_compact(const struct tr_addr *a, uint8_t *out)
{
	unsigned n = tr_addr_iplen(a);

	memcpy(out, a->ip, n);
	out[n] = (uint8_t)(a->port >> 8);
	out[n + 1] = (uint8_t)a->port;
	return n + 2;
}

/* An address block: "198.18.0.0/15", "fd00::/8". */
struct tr_cidr {
	uint8_t family; /* enum tr_family */
	uint8_t addr[16];
	uint8_t prefix; /* 0..32 or 0..128 */
};

/* Returns true if a's address lies in c (same family, first prefix bits equal). */
static inline bool tr_addr_in_cidr(const struct tr_addr *a, const struct tr_cidr *c)
{
	unsigned full = c->prefix / 8, rest = c->prefix % 8;

	if (a->family != c->family || c->prefix > tr_addr_iplen(a) * 8)
		return false;
	if (memcmp(a->ip, c->addr, full) != 0)
		return false;
	return rest == 0 || ((a->ip[full] ^ c->addr[full]) & (uint8_t)(0xff << (8 - rest))) == 0;
}

#endif
