/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * cfg_addr.h - parses the addresses config values hold: IPv4/IPv6 addresses,
 * CIDR prefixes, listen addresses, NATS server URLs.
 *
 * Pure: no allocation, no I/O, no loader state. Input is a pointer and a
 * length (not NUL-terminated; exactly len bytes are read), results go into
 * the caller's struct. Shared by the config loader and anything else that
 * reads addresses in the config's notation (e.g. HTTP trusted proxies).
 */
#ifndef DPTRACK_CONFIG_CFG_ADDR_H
#define DPTRACK_CONFIG_CFG_ADDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cfg.h"

/*
 * Parses an IPv4 (dotted quad) or IPv6 address, s being len bytes, into addr
 * (4 bytes used for IPv4, the rest zero). Returns 4, 6, or 0 if s is not an
 * address: empty, INET6_ADDRSTRLEN bytes or longer, or holding a NUL byte.
 * On 0, addr's contents are unspecified.
 */
int cfg_addr_parse_ip(const char *s, size_t len, uint8_t addr[16]);

/*
 * Parses "ADDR/LEN", or "ADDR" alone when bare_ok (a host prefix: /32 or
 * /128), into *out; LEN is decimal, 0..32 for IPv4, 0..128 for IPv6 (as
 * the loader's integers, "-0" reads as 0). Host bits are not checked (see
 * cfg_addr_host_bits_zero). Returns 0, or -1 with *why set to a static,
 * human-readable reason and *out partly filled, not to be used. *why may be
 * written on success too.
 */
int cfg_addr_parse_cidr(const char *s, size_t len, bool bare_ok, struct cfg_cidr *out,
			const char **why);

/*
 * Parses "ADDR4:PORT" or "[ADDR6]:PORT", PORT decimal in 1..65535, into *out.
 * A bare IPv6 address with a port ("::1:80") is refused as ambiguous.
 * Returns 0, or -1 with *why set to a static, human-readable reason and
 * *out partly filled, not to be used. *why is written on success too.
 */
int cfg_addr_parse_listen(const char *s, size_t len, struct cfg_listen *out, const char **why);

/*
 * Checks a NATS server URL, "nats://HOST:PORT" or "tls://HOST:PORT" (the
 * scheme in lower case). HOST is a DNS name (dot-separated labels of 1..63
 * letters, digits and '-', no label starting or ending with '-', the last
 * not all digits; 253 bytes at most), a dotted-quad IPv4 address or an IPv6
 * address in brackets; PORT is 1..5 decimal digits, 1..65535. So a good URL
 * is at most 266 bytes. User info, a path, a query or a fragment is refused.
 * Returns 0, or -1 with *why set to a static, human-readable reason.
 */
int cfg_addr_check_url(const char *s, size_t len, const char **why);

/*
 * Returns true if the bits of c past its prefix are all zero. If not, returns
 * false and writes the network c probably meant, "ADDR/LEN", into fix
 * (fixlen bytes, truncated and NUL-terminated if fixlen > 0;
 * INET6_ADDRSTRLEN + 4 bytes always suffice). c is as cfg_addr_parse_cidr
 * left it: family 4 or 6, prefix within the family's range.
 */
bool cfg_addr_host_bits_zero(const struct cfg_cidr *c, char *fix, size_t fixlen);

#endif
