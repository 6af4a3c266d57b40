/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * cfg_addr.c - addresses in the config's notation: ADDR, ADDR/LEN,
 * ADDR4:PORT, [ADDR6]:PORT. inet_pton does the address itself; this file
 * splits off prefix lengths and ports and checks their ranges.
 */
#include "cfg_addr.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "cfg_num.h"

int cfg_addr_parse_ip(const char *s, size_t len, uint8_t addr[16])
{
	char a[INET6_ADDRSTRLEN];

	if (len == 0 || len >= sizeof(a) || memchr(s, '\0', len))
		return 0;
	memcpy(a, s, len);
	a[len] = '\0';
	memset(addr, 0, 16);
	if (inet_pton(AF_INET, a, addr) == 1)
		return 4;
	if (inet_pton(AF_INET6, a, addr) == 1)
		return 6;
	return 0;
}

int cfg_addr_parse_cidr(const char *s, size_t len, bool bare_ok, struct cfg_cidr *out,
			const char **why)
{
	const char *slash = memchr(s, '/', len);
	size_t alen = slash ? (size_t)(slash - s) : len;
	uint32_t p, maxp;

	memset(out, 0, sizeof(*out));
	out->family = (uint8_t)cfg_addr_parse_ip(s, alen, out->addr);
	if (!out->family) {
		*why = "not an IPv4 or IPv6 address";
		return -1;
	}
	maxp = out->family == 4 ? 32 : 128;
	if (!slash) {
		*why = "needs a prefix length, ADDR/LEN";
		out->prefix = (uint8_t)maxp;
		return bare_ok ? 0 : -1;
	}
	if (cfg_num_parse_u32(slash + 1, len - alen - 1, &p) || p > maxp) {
		*why = out->family == 4 ? "prefix length must be 0..32"
					: "prefix length must be 0..128";
		return -1;
	}
	out->prefix = (uint8_t)p;
	return 0;
}

int cfg_addr_parse_listen(const char *s, size_t len, struct cfg_listen *out, const char **why)
{
	const char *end = s + len, *addr, *colon, *q;
	unsigned colons = 0;
	uint32_t port;

	memset(out, 0, sizeof(*out));
	*why = "expected ADDR:PORT or [ADDR6]:PORT";
	if (len > 0 && s[0] == '[') {
		colon = memchr(s, ']', len);
		if (!colon || colon + 1 == end || colon[1] != ':')
			return -1;
		addr = s + 1;
		out->family = (uint8_t)cfg_addr_parse_ip(addr, (size_t)(colon - addr), out->addr);
		colon++;
		if (out->family != 6) {
			*why = "not an IPv6 address inside [ ]";
			return -1;
		}
	} else {
		for (colon = NULL, q = s; q < end; q++)
			if (*q == ':') {
				colon = q;
				colons++;
			}
		if (!colon)
			return -1;
		if (colons > 1) {
			*why = "IPv6 addresses go in brackets: [ADDR6]:PORT";
			return -1;
		}
		out->family = (uint8_t)cfg_addr_parse_ip(s, (size_t)(colon - s), out->addr);
		if (out->family != 4) {
			*why = "not an IPv4 address before the port";
			return -1;
		}
	}
	if (cfg_num_parse_u32(colon + 1, (size_t)(end - colon - 1), &port) || port < 1 ||
	    port > 65535) {
		*why = "port must be 1..65535";
		return -1;
	}
	out->port = (uint16_t)port;
	return 0;
}

bool cfg_addr_host_bits_zero(const struct cfg_cidr *c, char *fix, size_t fixlen)
{
	uint8_t net[16];
	char a[INET6_ADDRSTRLEN];
	unsigned i, bytes = c->family == 4 ? 4 : 16;

	for (i = 0; i < bytes; i++) {
		unsigned lo = i * 8;

		if (lo >= c->prefix)
			net[i] = 0;
		else if (lo + 8 <= c->prefix)
			net[i] = c->addr[i];
		else
			net[i] = c->addr[i] & (uint8_t)(0xff00 >> (c->prefix - lo));
	}
	if (!memcmp(net, c->addr, bytes))
		return true;
	inet_ntop(c->family == 4 ? AF_INET : AF_INET6, net, a, sizeof(a));
	snprintf(fix, fixlen, "%s/%u", a, c->prefix);
	return false;
}
