/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * cfg_addr.c - addresses in the config's notation: ADDR, ADDR/LEN,
 * ADDR4:PORT, [ADDR6]:PORT, nats://HOST:PORT. inet_pton does the address
 * itself; this file splits off prefix lengths, ports and schemes, checks
 * their ranges and host names.
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

static bool is_digit(char ch)
{
	return ch >= '0' && ch <= '9';
}

static bool is_letter(char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z');
}

/* Whether s (len bytes) is a DNS name as cfg_addr_check_url has it: labels
 * of 1..63 letters, digits and '-', joined by '.', none starting or ending
 * with '-', the last not all digits; 1..253 bytes. */
static bool is_dns_name(const char *s, size_t len)
{
	size_t i, label = 0;
	bool numeric = true; /* the label so far is all digits */

	if (len == 0 || len > 253)
		return false;
	for (i = 0; i < len; i++) {
		if (s[i] == '.') {
			if (label == 0 || s[i - 1] == '-')
				return false;
			label = 0;
			numeric = true;
			continue;
		}
		if (s[i] == '-' ? label == 0 : !is_digit(s[i]) && !is_letter(s[i]))
			return false;
		numeric = numeric && is_digit(s[i]);
		if (++label > 63)
			return false;
	}
	return label > 0 && s[len - 1] != '-' && !numeric;
}

/* Checks a URL's HOST, host to end (the port's ':'); returns 0, or -1 with
 * *why set. */
static int check_url_host(const char *host, const char *end, const char **why)
{
	size_t len = (size_t)(end - host), i;
	uint8_t addr[16];

	if (len > 0 && host[0] == '[') {
		if (len < 2 || end[-1] != ']' || cfg_addr_parse_ip(host + 1, len - 2, addr) != 6) {
			*why = "not an IPv6 address inside [ ]";
			return -1;
		}
		return 0;
	}
	if (is_dns_name(host, len) || cfg_addr_parse_ip(host, len, addr) == 4)
		return 0;
	i = 0;
	while (i < len && (is_digit(host[i]) || host[i] == '.'))
		i++;
	*why = len > 0 && i == len
		   ? "not an IPv4 address"
		   : "HOST must be a DNS name, an IPv4 address or [an IPv6 address]";
	return -1;
}

int cfg_addr_check_url(const char *s, size_t len, const char **why)
{
	const char *end = s + len, *host, *colon, *q;
	bool bracketed;
	uint32_t port;

	if (len >= 7 && !memcmp(s, "nats://", 7)) {
		host = s + 7;
	} else if (len >= 6 && !memcmp(s, "tls://", 6)) {
		host = s + 6;
	} else {
		*why = "expected nats://HOST:PORT or tls://HOST:PORT";
		return -1;
	}
	for (q = host; q < end; q++) {
		if (*q == '/' || *q == '?' || *q == '#') {
			*why = "a server URL has no path, query or fragment";
			return -1;
		}
		if (*q == '@') {
			*why = "a server URL has no user info (see cluster.credentials)";
			return -1;
		}
	}
	/* The port's colon: the first after a bracketed address, else the only one. */
	bracketed = host < end && host[0] == '[';
	q = bracketed ? memchr(host, ']', (size_t)(end - host)) : host;
	if (!q) {
		*why = "'[' without ']' around an IPv6 address";
		return -1;
	}
	colon = memchr(q, ':', (size_t)(end - q));
	if (!colon) {
		*why = "needs a port: HOST:PORT";
		return -1;
	}
	if (!bracketed && memchr(colon + 1, ':', (size_t)(end - colon - 1))) {
		*why = "IPv6 addresses go in brackets: [ADDR6]:PORT";
		return -1;
	}
	if (check_url_host(host, colon, why))
		return -1;
	if (end - colon - 1 > 5 || cfg_num_parse_u32(colon + 1, (size_t)(end - colon - 1), &port) ||
	    port < 1 || port > 65535) {
		*why = "port must be 1..65535";
		return -1;
	}
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
