/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * fuzz_frame.c - dp_frame_answer() and dp_frame_udp_reply() on any frame.
 *
 * The input is one received Ethernet frame. It is parsed in a heap buffer of
 * exactly len + 64 bytes (ASan faults on any write past cap), twice: with no
 * NIC checksum flags (every checksum verified here) and with the NIC claiming
 * both checksums good (so mutated frames, whose checksums rarely hold, still
 * reach the UDP and reply paths). A datagram for the tracker is turned into
 * a reply in software and in hardware checksum mode, each on its own copy,
 * with a payload length taken from the input.
 *
 * Invariants: offsets within len, every reply within cap, a reply length
 * that is the header plus the payload or 0 exactly when it cannot fit, and
 * in software mode an IPv4 header and a UDP checksum that verify. Parsed
 * once more as a shared port's: the same, and never an answer in place
 * (ARP, ICMP and NDP are the kernel's there).
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dpdk/dp_frame.h"

#include "fuzz_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define TAILROOM 64

/* The pcap suite's port (scripts/gen-pcap.py), so its captures are seeds. */
static const struct dp_iface ifc = {
    .mac = {0x02, 0x70, 0x63, 0x61, 0x70, 0x00},
    .has_ip4 = true,
    .has_ip6 = true,
    .ip4 = {198, 18, 0, 2},
    .ip6 = {0xfd, 0, 0, 0xd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2},
    .udp_ports = {6969},
    .n_udp_ports = 1,
};

/* The same port on a NIC the kernel keeps. */
static const struct dp_iface ifc_shared = {
    .mac = {0x02, 0x70, 0x63, 0x61, 0x70, 0x00},
    .has_ip4 = true,
    .has_ip6 = true,
    .shared = true,
    .ip4 = {198, 18, 0, 2},
    .ip6 = {0xfd, 0, 0, 0xd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2},
    .udp_ports = {6969},
    .n_udp_ports = 1,
};

/* RFC 1071 sum of n bytes as big-endian 16-bit words, not folded. */
static uint32_t sum16(const uint8_t *p, size_t n, uint32_t sum)
{
	for (size_t i = 0; i + 1 < n; i += 2)
		sum += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (n & 1)
		sum += (uint32_t)p[n - 1] << 8;
	return sum;
}

static uint16_t fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

/* Checks the headers dp_frame_udp_reply() wrote for payload_len bytes. */
static void check_reply(const uint8_t *r, const struct dp_pkt *pkt, uint32_t payload_len, bool hw)
{
	const uint8_t *ip = r + pkt->l3_off, *u = r + pkt->l4_off;
	uint32_t udp_len = 8 + payload_len, sum;

	FUZZ_CHECK(memcmp(r + 6, ifc.mac, 6) == 0);
	FUZZ_CHECK((uint32_t)(u[4] << 8 | u[5]) == udp_len);
	if (pkt->ipv6) {
		FUZZ_CHECK((uint32_t)(ip[4] << 8 | ip[5]) == udp_len);
		FUZZ_CHECK(ip[7] == 64);
		sum = sum16(ip + 8, 32, 0);
	} else {
		uint32_t ihl = (uint32_t)(ip[0] & 0xf) * 4;

		FUZZ_CHECK(pkt->l3_off + ihl == pkt->l4_off);
		FUZZ_CHECK((uint32_t)(ip[2] << 8 | ip[3]) == ihl + udp_len);
		FUZZ_CHECK(ip[8] == 64);
		if (hw)
			FUZZ_CHECK(ip[10] == 0 && ip[11] == 0);
		else
			FUZZ_CHECK(fold(sum16(ip, ihl, 0)) == 0xffff);
		sum = sum16(ip + 12, 8, 0);
	}
	sum += 17 + udp_len; /* pseudo-header: protocol and UDP length */
	if (hw)
		FUZZ_CHECK((uint16_t)(u[6] << 8 | u[7]) == fold(sum));
	else
		FUZZ_CHECK(fold(sum16(u, udp_len, sum)) == 0xffff);
}

/* Turns a copy of the parsed frame around in one checksum mode; returns the
 * reply length. */
static uint32_t reply_on_copy(const uint8_t *frame, uint32_t cap, const struct dp_pkt *pkt,
			      uint32_t payload_len, bool hw)
{
	uint8_t *r = malloc(cap);
	uint32_t n, hdr = pkt->payload_off;
	uint64_t l3_len = (uint64_t)hdr - pkt->l3_off + payload_len;
	bool fits = payload_len <= UINT16_MAX && hdr + (uint64_t)payload_len <= cap &&
		    (pkt->ipv6 ? 8 + (uint64_t)payload_len : l3_len) <= UINT16_MAX;

	FUZZ_CHECK(r != NULL);
	memcpy(r, frame, cap);
	n = dp_frame_udp_reply(&ifc, r, cap, pkt, payload_len, hw);
	FUZZ_CHECK(n <= cap);
	if (fits) {
		FUZZ_CHECK(n == hdr + payload_len);
		check_reply(r, pkt, payload_len, hw);
	} else {
		FUZZ_CHECK(n == 0);
		FUZZ_CHECK(memcmp(r, frame, cap) == 0); /* wrote nothing */
	}
	free(r);
	return n;
}

static void check_udp(const uint8_t *frame, uint32_t len, uint32_t cap, const struct dp_pkt *pkt)
{
	FUZZ_CHECK(pkt->l3_off == 14 || pkt->l3_off == 18);
	FUZZ_CHECK(pkt->l4_off >= pkt->l3_off + (pkt->ipv6 ? 40 : 20));
	FUZZ_CHECK(pkt->payload_off == pkt->l4_off + 8);
	FUZZ_CHECK((uint32_t)pkt->payload_off + pkt->payload_len <= len);
	FUZZ_CHECK(pkt->src.family == (pkt->ipv6 ? 6 : 4));

	/* The tracker's reply length, from the payload's first two bytes: any
	 * length up to one past what fits, so the refusal is exercised too. */
	uint32_t room = cap - pkt->payload_off;
	uint32_t v = pkt->payload_len >= 2
			 ? (uint32_t)(frame[pkt->payload_off] << 8 | frame[pkt->payload_off + 1])
			 : pkt->payload_len;
	uint32_t payload_len = v % (room + 2);

	uint32_t sw = reply_on_copy(frame, cap, pkt, payload_len, false);
	uint32_t hw = reply_on_copy(frame, cap, pkt, payload_len, true);
	FUZZ_CHECK(sw == hw);
}

static void parse_once(const struct dp_iface *port, const uint8_t *data, uint32_t len,
		       unsigned rx_flags)
{
	uint32_t cap = len + TAILROOM;
	uint8_t *buf = malloc(cap);
	struct dp_pkt pkt;

	FUZZ_CHECK(buf != NULL);
	memcpy(buf, data, len);
	memset(buf + len, 0xa5, TAILROOM);
	switch (dp_frame_answer(port, buf, len, cap, rx_flags, &pkt)) {
	case DP_VERDICT_DROP:
		FUZZ_CHECK(pkt.drop < DP_DROP_N);
		FUZZ_CHECK(strcmp(dp_drop_name(pkt.drop), "unknown") != 0);
		break;
	case DP_VERDICT_REPLY:
		FUZZ_CHECK(!port->shared);
		FUZZ_CHECK(pkt.reply_len >= 14 && pkt.reply_len <= cap);
		break;
	case DP_VERDICT_UDP:
		/* A datagram is handed over untouched. */
		FUZZ_CHECK(memcmp(buf, data, len) == 0);
		check_udp(buf, len, cap, &pkt);
		break;
	default:
		FUZZ_CHECK(!"verdict out of range");
	}
	free(buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > UINT16_MAX)
		return -1; /* no frame is longer; keeps cap in 32 bits */
	parse_once(&ifc, data, (uint32_t)size, 0);
	parse_once(&ifc, data, (uint32_t)size, DP_RX_IP_CKSUM_GOOD | DP_RX_L4_CKSUM_GOOD);
	parse_once(&ifc_shared, data, (uint32_t)size, DP_RX_IP_CKSUM_GOOD | DP_RX_L4_CKSUM_GOOD);
	return 0;
}
