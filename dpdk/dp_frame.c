/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * dp_frame.c - Ethernet/ARP/IPv4/IPv6/ICMP/NDP/UDP on a plain buffer.
 *
 * Every field is read at a named offset (taken from DPDK's header structs
 * with offsetof, or from the RFC where DPDK has no struct) with memcpy and a
 * byte-order helper, and every read is checked against len first: the
 * parser runs on bytes straight from the NIC and is fuzzed.
 *
 * Checksums are RFC 1071 sums of native-order 16-bit words (rte_raw_cksum),
 * so they are stored with memcpy as they are, without a byte swap.
 *
 * IPv4 options: an in-place ICMP echo reply keeps the header as received
 * except the fields it changes; a UDP reply keeps the IHL (the tracker wrote
 * its payload at the offset the request had) and overwrites every option
 * byte with NOP, so no option of the request is echoed back.
 */
#include "dp_frame.h"

#include <stddef.h>
#include <string.h>
#include <netinet/in.h>

#include <rte_arp.h>
#include <rte_byteorder.h>
#include <rte_ether.h>
#include <rte_icmp.h>
#include <rte_ip.h>
#include <rte_udp.h>

#include "core/wire.h"

/* Ethernet II, then at most one IEEE 802.1Q tag. */
#define ETH_OFF_DST   offsetof(struct rte_ether_hdr, dst_addr)
#define ETH_OFF_SRC   offsetof(struct rte_ether_hdr, src_addr)
#define ETH_OFF_TYPE  offsetof(struct rte_ether_hdr, ether_type)
#define ETH_HDR_LEN   sizeof(struct rte_ether_hdr)
#define VLAN_OFF_TYPE (ETH_HDR_LEN + offsetof(struct rte_vlan_hdr, eth_proto))
#define VLAN_HDR_LEN  sizeof(struct rte_vlan_hdr)

/* RFC 826 ARP for Ethernet/IPv4, from the L3 offset. */
#define ARP_OFF_HTYPE offsetof(struct rte_arp_hdr, arp_hardware)
#define ARP_OFF_PTYPE offsetof(struct rte_arp_hdr, arp_protocol)
#define ARP_OFF_HLEN  offsetof(struct rte_arp_hdr, arp_hlen)
#define ARP_OFF_PLEN  offsetof(struct rte_arp_hdr, arp_plen)
#define ARP_OFF_OP    offsetof(struct rte_arp_hdr, arp_opcode)
#define ARP_OFF_SHA   offsetof(struct rte_arp_hdr, arp_data.arp_sha)
#define ARP_OFF_SPA   offsetof(struct rte_arp_hdr, arp_data.arp_sip)
#define ARP_OFF_THA   offsetof(struct rte_arp_hdr, arp_data.arp_tha)
#define ARP_OFF_TPA   offsetof(struct rte_arp_hdr, arp_data.arp_tip)
#define ARP_LEN	      sizeof(struct rte_arp_hdr)
#define ARP_IP4_LEN   4

/* RFC 791 IPv4 header, from the L3 offset. */
#define IP4_OFF_VIHL   offsetof(struct rte_ipv4_hdr, version_ihl)
#define IP4_OFF_TOS    offsetof(struct rte_ipv4_hdr, type_of_service)
#define IP4_OFF_TOTLEN offsetof(struct rte_ipv4_hdr, total_length)
#define IP4_OFF_ID     offsetof(struct rte_ipv4_hdr, packet_id)
#define IP4_OFF_FRAG   offsetof(struct rte_ipv4_hdr, fragment_offset)
#define IP4_OFF_TTL    offsetof(struct rte_ipv4_hdr, time_to_live)
#define IP4_OFF_PROTO  offsetof(struct rte_ipv4_hdr, next_proto_id)
#define IP4_OFF_CKSUM  offsetof(struct rte_ipv4_hdr, hdr_checksum)
#define IP4_OFF_SRC    offsetof(struct rte_ipv4_hdr, src_addr)
#define IP4_OFF_DST    offsetof(struct rte_ipv4_hdr, dst_addr)
#define IP4_HDR_MIN    sizeof(struct rte_ipv4_hdr)
#define IP4_ADDR_LEN   4
#define IP4_ADDRS_LEN  8 /* source then destination */

/* RFC 792 ICMP echo, from the L4 offset. */
#define ICMP_OFF_TYPE  offsetof(struct rte_icmp_hdr, icmp_type)
#define ICMP_OFF_CODE  offsetof(struct rte_icmp_hdr, icmp_code)
#define ICMP_OFF_CKSUM offsetof(struct rte_icmp_hdr, icmp_cksum)
#define ICMP_ECHO_LEN  sizeof(struct rte_icmp_hdr)

/* RFC 8200 IPv6 header, from the L3 offset. */
#define IP6_OFF_VTC   offsetof(struct rte_ipv6_hdr, vtc_flow)
#define IP6_OFF_PLEN  offsetof(struct rte_ipv6_hdr, payload_len)
#define IP6_OFF_NH    offsetof(struct rte_ipv6_hdr, proto)
#define IP6_OFF_HLIM  offsetof(struct rte_ipv6_hdr, hop_limits)
#define IP6_OFF_SRC   offsetof(struct rte_ipv6_hdr, src_addr)
#define IP6_OFF_DST   offsetof(struct rte_ipv6_hdr, dst_addr)
#define IP6_HDR_LEN   sizeof(struct rte_ipv6_hdr)
#define IP6_ADDR_LEN  16
#define IP6_ADDRS_LEN 32	  /* source then destination */
#define IP6_VTC_PLAIN 0x60000000u /* version 6, traffic class 0, flow label 0 */

/* RFC 4443 section 2.1 ICMPv6 header, and RFC 4861 sections 4.3/4.4, from
 * the L4 offset. NS and NA share the layout up to the options. */
#define ICMP6_OFF_TYPE	     0
#define ICMP6_OFF_CODE	     1
#define ICMP6_OFF_CKSUM	     2
#define ICMP6_HDR_LEN	     4
#define ICMP6_ECHO_LEN	     8
#define ICMP6_ECHO_REQUEST   128
#define ICMP6_ECHO_REPLY     129
#define ND_NEIGHBOR_SOLICIT  135
#define ND_NEIGHBOR_ADVERT   136
#define ND_OFF_FLAGS	     4 /* reserved in NS, R|S|O flags in NA */
#define ND_OFF_TARGET	     8
#define ND_OFF_OPTS	     24
#define ND_OPT_OFF_TYPE	     0
#define ND_OPT_OFF_LEN	     1 /* in units of 8 bytes, never 0 */
#define ND_OPT_OFF_DATA	     2
#define ND_OPT_UNIT	     8
#define ND_OPT_TARGET_LLADDR 2
#define ND_NA_LEN	     (ND_OFF_OPTS + ND_OPT_UNIT) /* NA with one TLLAO */
/* RFC 4861 section 7.1.1: NDP is sent with 255, so a routed one shows. */
#define ND_HOP_LIMIT	     255
/* RFC 4861 section 4.4: Solicited | Override, not Router. */
#define ND_NA_FLAGS_SO	     0x60000000u

/* RFC 768 UDP header, from the L4 offset. */
#define UDP_OFF_SPORT offsetof(struct rte_udp_hdr, src_port)
#define UDP_OFF_DPORT offsetof(struct rte_udp_hdr, dst_port)
#define UDP_OFF_LEN   offsetof(struct rte_udp_hdr, dgram_len)
#define UDP_OFF_CKSUM offsetof(struct rte_udp_hdr, dgram_cksum)
#define UDP_HDR_LEN   sizeof(struct rte_udp_hdr)

/* What we put in the IP headers we send. */
#define REPLY_TTL 64

_Static_assert(ETH_HDR_LEN == 14 && VLAN_HDR_LEN == 4, "Ethernet layout");
_Static_assert(ARP_OFF_TPA == 24 && ARP_LEN == 28, "ARP layout");
_Static_assert(IP4_OFF_DST == 16 && IP4_HDR_MIN == 20, "IPv4 layout");
_Static_assert(IP4_OFF_DST == IP4_OFF_SRC + IP4_ADDR_LEN && IP4_ADDRS_LEN == 2 * IP4_ADDR_LEN,
	       "IPv4 addresses are adjacent");
_Static_assert(IP6_OFF_DST == 24 && IP6_HDR_LEN == 40, "IPv6 layout");
_Static_assert(IP6_OFF_DST == IP6_OFF_SRC + IP6_ADDR_LEN && IP6_ADDRS_LEN == 2 * IP6_ADDR_LEN,
	       "IPv6 addresses are adjacent");
_Static_assert(ICMP_ECHO_LEN == 8 && UDP_HDR_LEN == 8, "ICMP echo and UDP headers");
_Static_assert(DP_ETHER_ADDR_LEN == RTE_ETHER_ADDR_LEN, "one MAC length");

static const char *const drop_names[DP_DROP_N] = {
    [DP_DROP_ETH_SHORT] = "eth_short",
    [DP_DROP_ETH_NOT_OURS] = "eth_not_ours",
    [DP_DROP_ETHERTYPE] = "ethertype",
    [DP_DROP_ARP_MALFORMED] = "arp_malformed",
    [DP_DROP_ARP_NOT_REQUEST] = "arp_not_request",
    [DP_DROP_ARP_NOT_OURS] = "arp_not_ours",
    [DP_DROP_IP4_MALFORMED] = "ip4_malformed",
    [DP_DROP_IP4_CKSUM] = "ip4_cksum",
    [DP_DROP_IP4_FRAGMENT] = "ip4_fragment",
    [DP_DROP_IP4_NOT_OURS] = "ip4_not_ours",
    [DP_DROP_IP6_MALFORMED] = "ip6_malformed",
    [DP_DROP_IP6_NOT_OURS] = "ip6_not_ours",
    [DP_DROP_IP_PROTO] = "ip_proto",
    [DP_DROP_IP_SRC] = "ip_src",
    [DP_DROP_ICMP_MALFORMED] = "icmp_malformed",
    [DP_DROP_ICMP_TYPE] = "icmp_type",
    [DP_DROP_NDP_MALFORMED] = "ndp_malformed",
    [DP_DROP_NDP_NOT_OURS] = "ndp_not_ours",
    [DP_DROP_UDP_MALFORMED] = "udp_malformed",
    [DP_DROP_UDP_CKSUM] = "udp_cksum",
    [DP_DROP_UDP_PORT] = "udp_port",
    [DP_DROP_NO_ROOM] = "no_room",
    [DP_DROP_KERNEL_OWNED] = "kernel_owned",
};

const char *dp_drop_name(enum dp_drop d)
{
	if ((unsigned)d >= DP_DROP_N || drop_names[d] == NULL)
		return "unknown";
	return drop_names[d];
}

/* One received frame on its way through the layers. */
struct rx {
	const struct dp_iface *ifc;
	uint8_t *buf;
	uint32_t len;	/* readable */
	uint32_t cap;	/* writable */
	unsigned flags; /* enum dp_rx_flags */
	struct dp_pkt *pkt;
};

/* A checksum as rte_raw_cksum computes it (native-order words) goes to the
 * wire as it is. */
static inline void put_cksum(uint8_t *p, size_t off, uint16_t ck)
{
	memcpy(p + off, &ck, sizeof(ck));
}

/* Folds a sum of 16-bit one's complement partial sums to 16 bits. */
static inline uint16_t csum_fold(uint32_t sum)
{
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

/*
 * RFC 768 / RFC 8200 section 8.1 pseudo-header sum, not complemented: both
 * addresses (adjacent in either IP header: 8 or 32 bytes from addrs), the
 * protocol and the L4 length. The same value as rte_ipv4_phdr_cksum() or
 * rte_ipv6_phdr_cksum() with ol_flags 0, which is what NIC UDP checksum
 * offload expects in the UDP checksum field.
 */
static uint32_t pseudo_sum(const uint8_t *addrs, size_t addrs_len, uint8_t proto, uint16_t l4_len)
{
	const uint8_t tail[4] = {0, proto, (uint8_t)(l4_len >> 8), (uint8_t)l4_len};

	return (uint32_t)rte_raw_cksum(addrs, addrs_len) + rte_raw_cksum(tail, sizeof(tail));
}

/* True if the sum over a message including its checksum field checks out. */
static inline bool csum_ok(uint32_t sum)
{
	return csum_fold(sum) == 0xffff;
}

static inline enum dp_verdict drop(struct dp_pkt *pkt, enum dp_drop why)
{
	pkt->drop = why;
	return DP_VERDICT_DROP;
}

static inline enum dp_verdict reply(struct dp_pkt *pkt, uint32_t len)
{
	pkt->reply_len = len;
	return DP_VERDICT_REPLY;
}

/* Ours, broadcast, or IPv6 multicast (RFC 2464 section 7: 33:33:xx:xx:xx:xx). */
static bool eth_dst_ok(const struct dp_iface *ifc, const uint8_t *buf)
{
	static const uint8_t bcast[RTE_ETHER_ADDR_LEN] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
	const uint8_t *dst = buf + ETH_OFF_DST;

	return memcmp(dst, ifc->mac, RTE_ETHER_ADDR_LEN) == 0 ||
	       memcmp(dst, bcast, RTE_ETHER_ADDR_LEN) == 0 || (dst[0] == 0x33 && dst[1] == 0x33);
}

/* Addresses the frame back to the MAC it came from, from ours. A VLAN tag,
 * if any, is left as it is. */
static void eth_turn(const struct dp_iface *ifc, uint8_t *buf)
{
	memmove(buf + ETH_OFF_DST, buf + ETH_OFF_SRC, RTE_ETHER_ADDR_LEN);
	memcpy(buf + ETH_OFF_SRC, ifc->mac, RTE_ETHER_ADDR_LEN);
}

/*
 * RFC 826: answers a request for our IPv4 in place. The reply keeps the
 * request's length (and so its padding) and goes to the frame's source MAC.
 */
static enum dp_verdict arp_answer(struct rx *rx)
{
	struct dp_pkt *pkt = rx->pkt;
	uint8_t *a = rx->buf + pkt->l3_off;

	if (rx->len - pkt->l3_off < ARP_LEN)
		return drop(pkt, DP_DROP_ARP_MALFORMED);
	if (get_be16(a, ARP_OFF_HTYPE) != RTE_ARP_HRD_ETHER ||
	    get_be16(a, ARP_OFF_PTYPE) != RTE_ETHER_TYPE_IPV4 ||
	    a[ARP_OFF_HLEN] != RTE_ETHER_ADDR_LEN || a[ARP_OFF_PLEN] != ARP_IP4_LEN)
		return drop(pkt, DP_DROP_ARP_MALFORMED);
	if (get_be16(a, ARP_OFF_OP) != RTE_ARP_OP_REQUEST)
		return drop(pkt, DP_DROP_ARP_NOT_REQUEST);
	if (!rx->ifc->has_ip4 || memcmp(a + ARP_OFF_TPA, rx->ifc->ip4, ARP_IP4_LEN) != 0)
		return drop(pkt, DP_DROP_ARP_NOT_OURS);
	if (rx->len > rx->cap)
		return drop(pkt, DP_DROP_NO_ROOM);

	put_be16(a, ARP_OFF_OP, RTE_ARP_OP_REPLY);
	memcpy(a + ARP_OFF_THA, a + ARP_OFF_SHA, RTE_ETHER_ADDR_LEN);
	memcpy(a + ARP_OFF_TPA, a + ARP_OFF_SPA, ARP_IP4_LEN);
	memcpy(a + ARP_OFF_SHA, rx->ifc->mac, RTE_ETHER_ADDR_LEN);
	memcpy(a + ARP_OFF_SPA, rx->ifc->ip4, ARP_IP4_LEN);
	eth_turn(rx->ifc, rx->buf);
	return reply(pkt, rx->len);
}

/* True if port (host order) is one of the tracker's. At most 16 compares. */
static bool udp_port_ours(const struct dp_iface *ifc, uint16_t port)
{
	unsigned n = ifc->n_udp_ports;

	if (n > sizeof(ifc->udp_ports) / sizeof(ifc->udp_ports[0]))
		n = sizeof(ifc->udp_ports) / sizeof(ifc->udp_ports[0]);
	for (unsigned i = 0; i < n; i++)
		if (ifc->udp_ports[i] == port)
			return true;
	return false;
}

/*
 * RFC 768: the datagram at pkt->l4_off, inside ip_payload bytes of IP
 * payload; ip is the IP header (its addresses feed the pseudo-header). The
 * port is checked before the checksum, so traffic for other ports costs no
 * summing. IPv4 checksum 0 means none; IPv6 requires one (RFC 8200 8.1).
 */
static enum dp_verdict udp_parse(struct rx *rx, const uint8_t *ip, uint32_t ip_payload)
{
	struct dp_pkt *pkt = rx->pkt;
	const uint8_t *u = rx->buf + pkt->l4_off;
	uint16_t ulen, sport;
	uint32_t sum;

	if (ip_payload < UDP_HDR_LEN)
		return drop(pkt, DP_DROP_UDP_MALFORMED);
	ulen = get_be16(u, UDP_OFF_LEN);
	if (ulen < UDP_HDR_LEN || ulen > ip_payload)
		return drop(pkt, DP_DROP_UDP_MALFORMED);
	if (!udp_port_ours(rx->ifc, get_be16(u, UDP_OFF_DPORT)))
		return drop(pkt, DP_DROP_UDP_PORT);

	if (get_be16(u, UDP_OFF_CKSUM) == 0) {
		if (pkt->ipv6)
			return drop(pkt, DP_DROP_UDP_CKSUM);
	} else if (rx->flags & DP_RX_L4_CKSUM_BAD) {
		return drop(pkt, DP_DROP_UDP_CKSUM);
	} else if (!(rx->flags & DP_RX_L4_CKSUM_GOOD)) {
		if (pkt->ipv6)
			sum = pseudo_sum(ip + IP6_OFF_SRC, IP6_ADDRS_LEN, IPPROTO_UDP, ulen);
		else
			sum = pseudo_sum(ip + IP4_OFF_SRC, IP4_ADDRS_LEN, IPPROTO_UDP, ulen);
		if (!csum_ok(sum + rte_raw_cksum(u, ulen)))
			return drop(pkt, DP_DROP_UDP_CKSUM);
	}

	sport = get_be16(u, UDP_OFF_SPORT);
	if (pkt->ipv6)
		pkt->src = tr_addr_v6(ip + IP6_OFF_SRC, sport);
	else
		pkt->src = tr_addr_v4(ip + IP4_OFF_SRC, sport);
	pkt->payload_off = (uint16_t)(pkt->l4_off + UDP_HDR_LEN);
	pkt->payload_len = (uint16_t)(ulen - UDP_HDR_LEN);
	return DP_VERDICT_UDP;
}

/*
 * RFC 792: answers an echo request of icmp_len bytes (the IP payload) in
 * place: type 0, addresses swapped, TTL 64, both checksums recomputed; the
 * identifier, sequence number, data, IPv4 options and Ethernet padding stay.
 * The ICMP checksum is always verified: NICs check only TCP/UDP.
 */
static enum dp_verdict icmp4_answer(struct rx *rx, uint8_t *ip, unsigned hlen, uint32_t icmp_len)
{
	struct dp_pkt *pkt = rx->pkt;
	uint8_t *ic = rx->buf + pkt->l4_off;

	if (icmp_len < ICMP_ECHO_LEN)
		return drop(pkt, DP_DROP_ICMP_MALFORMED);
	if (ic[ICMP_OFF_TYPE] != RTE_IP_ICMP_ECHO_REQUEST || ic[ICMP_OFF_CODE] != 0)
		return drop(pkt, DP_DROP_ICMP_TYPE);
	if (!csum_ok(rte_raw_cksum(ic, icmp_len)))
		return drop(pkt, DP_DROP_ICMP_MALFORMED);
	if (rx->len > rx->cap)
		return drop(pkt, DP_DROP_NO_ROOM);

	ic[ICMP_OFF_TYPE] = RTE_IP_ICMP_ECHO_REPLY;
	put_cksum(ic, ICMP_OFF_CKSUM, 0);
	put_cksum(ic, ICMP_OFF_CKSUM, (uint16_t)~rte_raw_cksum(ic, icmp_len));

	memcpy(ip + IP4_OFF_DST, ip + IP4_OFF_SRC, IP4_ADDR_LEN);
	memcpy(ip + IP4_OFF_SRC, rx->ifc->ip4, IP4_ADDR_LEN);
	ip[IP4_OFF_TTL] = REPLY_TTL;
	put_cksum(ip, IP4_OFF_CKSUM, 0);
	put_cksum(ip, IP4_OFF_CKSUM, (uint16_t)~rte_raw_cksum(ip, hlen));
	eth_turn(rx->ifc, rx->buf);
	return reply(pkt, rx->len);
}

/*
 * RFC 791: header checks in the order of enum dp_drop, then ICMP or UDP.
 * The total length bounds everything after; bytes past it are padding.
 */
/* A source no client can have, so nothing is answered to it and it never
 * enters a swarm: 0/8, 127/8, 224/4 (multicast), 240/4 (reserved and the
 * broadcast address), or our own address. */
static bool ip4_src_bad(const struct dp_iface *ifc, const uint8_t *src)
{
	return src[0] == 0 || src[0] == 127 || src[0] >= 224 ||
	       memcmp(src, ifc->ip4, IP4_ADDR_LEN) == 0;
}

static enum dp_verdict ip4_answer(struct rx *rx)
{
	struct dp_pkt *pkt = rx->pkt;
	uint8_t *ip = rx->buf + pkt->l3_off;
	uint32_t avail = rx->len - pkt->l3_off;
	unsigned hlen;
	uint16_t tot;

	if (avail < IP4_HDR_MIN)
		return drop(pkt, DP_DROP_IP4_MALFORMED);
	hlen = (ip[IP4_OFF_VIHL] & RTE_IPV4_HDR_IHL_MASK) * RTE_IPV4_IHL_MULTIPLIER;
	if ((ip[IP4_OFF_VIHL] >> 4) != 4 || hlen < IP4_HDR_MIN || hlen > avail)
		return drop(pkt, DP_DROP_IP4_MALFORMED);
	tot = get_be16(ip, IP4_OFF_TOTLEN);
	if (tot < hlen || tot > avail)
		return drop(pkt, DP_DROP_IP4_MALFORMED);
	if (rx->flags & DP_RX_IP_CKSUM_BAD)
		return drop(pkt, DP_DROP_IP4_CKSUM);
	if (!(rx->flags & DP_RX_IP_CKSUM_GOOD) && !csum_ok(rte_raw_cksum(ip, hlen)))
		return drop(pkt, DP_DROP_IP4_CKSUM);
	if (get_be16(ip, IP4_OFF_FRAG) & (RTE_IPV4_HDR_MF_FLAG | RTE_IPV4_HDR_OFFSET_MASK))
		return drop(pkt, DP_DROP_IP4_FRAGMENT);
	if (!rx->ifc->has_ip4 || memcmp(ip + IP4_OFF_DST, rx->ifc->ip4, IP4_ADDR_LEN) != 0)
		return drop(pkt, DP_DROP_IP4_NOT_OURS);
	if (ip4_src_bad(rx->ifc, ip + IP4_OFF_SRC))
		return drop(pkt, DP_DROP_IP_SRC);

	pkt->l4_off = (uint16_t)(pkt->l3_off + hlen);
	switch (ip[IP4_OFF_PROTO]) {
	case IPPROTO_ICMP:
		if (rx->ifc->shared)
			return drop(pkt, DP_DROP_KERNEL_OWNED);
		return icmp4_answer(rx, ip, hlen, tot - hlen);
	case IPPROTO_UDP:
		return udp_parse(rx, ip, tot - hlen);
	default:
		return drop(pkt, DP_DROP_IP_PROTO);
	}
}

/* The IPv6 counterpart: ::, ::1, multicast, IPv4-mapped (RFC 4291 2.5.5.2
 * forbids it on the wire; taken as IPv4 it would let anyone on IPv6 put any
 * IPv4 address into a swarm), our own address, and for UDP link-local,
 * which no peer elsewhere can reach. */
static bool ip6_src_bad(const struct dp_iface *ifc, const uint8_t *src, bool udp)
{
	static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
	static const uint8_t zero[15] = {0};

	if (memcmp(src, zero, sizeof(zero)) == 0 && src[15] <= 1)
		return true; /* :: and ::1 */
	if (src[0] == 0xff || memcmp(src, mapped, sizeof(mapped)) == 0 ||
	    memcmp(src, ifc->ip6, IP6_ADDR_LEN) == 0)
		return true;
	return udp && src[0] == 0xfe && (src[1] & 0xc0) == 0x80;
}

/* RFC 4443 section 2.3: the sum of an ICMPv6 message of len bytes with its
 * IPv6 pseudo-header; csum_ok() on it verifies, its complement is the
 * checksum to write over a zeroed field. */
static uint32_t icmp6_sum(const uint8_t *ip, const uint8_t *ic, uint16_t len)
{
	return pseudo_sum(ip + IP6_OFF_SRC, IP6_ADDRS_LEN, IPPROTO_ICMPV6, len) +
	       rte_raw_cksum(ic, len);
}

/* RFC 4291 section 2.7.1: ff02::1:ffXX:XXXX from the low 24 bits of addr. */
static bool ip6_is_solicited_node(const uint8_t *dst, const uint8_t *addr)
{
	static const uint8_t prefix[13] = {0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01, 0xff};
	const size_t n = sizeof(prefix);

	return memcmp(dst, prefix, n) == 0 && memcmp(dst + n, addr + n, IP6_ADDR_LEN - n) == 0;
}

/* RFC 4861 section 4.6: every option has a non-zero length and ends within
 * [off, end). Each step advances at least 8 bytes, so the walk is bounded. */
static bool nd_opts_ok(const uint8_t *ic, uint32_t off, uint32_t end)
{
	while (off < end) {
		uint32_t olen;

		if (end - off < ND_OPT_OFF_DATA)
			return false;
		olen = (uint32_t)ic[off + ND_OPT_OFF_LEN] * ND_OPT_UNIT;
		if (olen == 0 || olen > end - off)
			return false;
		off += olen;
	}
	return true;
}

/*
 * RFC 4861 sections 7.1.1 and 7.2.4: answers a solicitation for our address
 * with a solicited, override advertisement carrying our MAC (one Target
 * Link-Layer Address option), to the solicitation's source address and MAC.
 * The reply is ND_NA_LEN bytes of ICMPv6 and may be longer than the request.
 */
static enum dp_verdict nd_solicit(struct rx *rx, uint8_t *ip, uint16_t plen)
{
	static const uint8_t unspecified[IP6_ADDR_LEN];
	struct dp_pkt *pkt = rx->pkt;
	uint8_t *ic = rx->buf + pkt->l4_off;
	uint32_t reply_len = (uint32_t)pkt->l4_off + ND_NA_LEN;

	if (ip[IP6_OFF_HLIM] != ND_HOP_LIMIT || ic[ICMP6_OFF_CODE] != 0 || plen < ND_OFF_OPTS ||
	    !nd_opts_ok(ic, ND_OFF_OPTS, plen))
		return drop(pkt, DP_DROP_NDP_MALFORMED);
	if (memcmp(ic + ND_OFF_TARGET, rx->ifc->ip6, IP6_ADDR_LEN) != 0 ||
	    memcmp(ip + IP6_OFF_SRC, unspecified, IP6_ADDR_LEN) == 0)
		return drop(pkt, DP_DROP_NDP_NOT_OURS);
	if (reply_len > rx->cap)
		return drop(pkt, DP_DROP_NO_ROOM);

	put_be32(ip, IP6_OFF_VTC, IP6_VTC_PLAIN);
	put_be16(ip, IP6_OFF_PLEN, ND_NA_LEN);
	ip[IP6_OFF_NH] = IPPROTO_ICMPV6;
	ip[IP6_OFF_HLIM] = ND_HOP_LIMIT;
	memcpy(ip + IP6_OFF_DST, ip + IP6_OFF_SRC, IP6_ADDR_LEN);
	memcpy(ip + IP6_OFF_SRC, rx->ifc->ip6, IP6_ADDR_LEN);

	ic[ICMP6_OFF_TYPE] = ND_NEIGHBOR_ADVERT;
	ic[ICMP6_OFF_CODE] = 0;
	put_cksum(ic, ICMP6_OFF_CKSUM, 0);
	put_be32(ic, ND_OFF_FLAGS, ND_NA_FLAGS_SO);
	memcpy(ic + ND_OFF_TARGET, rx->ifc->ip6, IP6_ADDR_LEN);
	ic[ND_OFF_OPTS + ND_OPT_OFF_TYPE] = ND_OPT_TARGET_LLADDR;
	ic[ND_OFF_OPTS + ND_OPT_OFF_LEN] = 1;
	memcpy(ic + ND_OFF_OPTS + ND_OPT_OFF_DATA, rx->ifc->mac, RTE_ETHER_ADDR_LEN);
	put_cksum(ic, ICMP6_OFF_CKSUM, (uint16_t)~csum_fold(icmp6_sum(ip, ic, ND_NA_LEN)));
	eth_turn(rx->ifc, rx->buf);
	return reply(pkt, reply_len);
}

/*
 * RFC 4443: checks the type (a solicited-node destination is ours only for
 * NS) and the checksum, which is always verified, then answers an echo
 * request in place (type 129, addresses swapped, hop limit 64, same length)
 * or hands a solicitation to nd_solicit().
 */
static enum dp_verdict icmp6_answer(struct rx *rx, uint8_t *ip, uint16_t plen, bool to_snm)
{
	struct dp_pkt *pkt = rx->pkt;
	uint8_t *ic = rx->buf + pkt->l4_off;
	uint8_t type;

	if (plen < ICMP6_HDR_LEN)
		return drop(pkt, DP_DROP_ICMP_MALFORMED);
	type = ic[ICMP6_OFF_TYPE];
	if (to_snm && type != ND_NEIGHBOR_SOLICIT)
		return drop(pkt, DP_DROP_IP6_NOT_OURS);
	if (type != ICMP6_ECHO_REQUEST && type != ND_NEIGHBOR_SOLICIT)
		return drop(pkt, DP_DROP_ICMP_TYPE);
	if (!csum_ok(icmp6_sum(ip, ic, plen)))
		return drop(pkt, DP_DROP_ICMP_MALFORMED);
	if (type == ND_NEIGHBOR_SOLICIT)
		return nd_solicit(rx, ip, plen);

	if (plen < ICMP6_ECHO_LEN)
		return drop(pkt, DP_DROP_ICMP_MALFORMED);
	if (ic[ICMP6_OFF_CODE] != 0)
		return drop(pkt, DP_DROP_ICMP_TYPE);
	if (ip6_src_bad(rx->ifc, ip + IP6_OFF_SRC, false))
		return drop(pkt, DP_DROP_IP_SRC);
	if (rx->len > rx->cap)
		return drop(pkt, DP_DROP_NO_ROOM);

	memcpy(ip + IP6_OFF_DST, ip + IP6_OFF_SRC, IP6_ADDR_LEN);
	memcpy(ip + IP6_OFF_SRC, rx->ifc->ip6, IP6_ADDR_LEN);
	ip[IP6_OFF_HLIM] = REPLY_TTL;
	ic[ICMP6_OFF_TYPE] = ICMP6_ECHO_REPLY;
	put_cksum(ic, ICMP6_OFF_CKSUM, 0);
	put_cksum(ic, ICMP6_OFF_CKSUM, (uint16_t)~csum_fold(icmp6_sum(ip, ic, plen)));
	eth_turn(rx->ifc, rx->buf);
	return reply(pkt, rx->len);
}

/*
 * RFC 8200: no extension headers (they drop as DP_DROP_IP_PROTO); the
 * payload length bounds everything after, bytes past it are padding.
 */
static enum dp_verdict ip6_answer(struct rx *rx)
{
	struct dp_pkt *pkt = rx->pkt;
	uint8_t *ip = rx->buf + pkt->l3_off;
	uint32_t avail = rx->len - pkt->l3_off;
	const uint8_t *dst;
	bool ours, to_snm;
	uint16_t plen;

	pkt->ipv6 = true;
	if (avail < IP6_HDR_LEN || (ip[IP6_OFF_VTC] >> 4) != 6)
		return drop(pkt, DP_DROP_IP6_MALFORMED);
	plen = get_be16(ip, IP6_OFF_PLEN);
	if (plen > avail - IP6_HDR_LEN)
		return drop(pkt, DP_DROP_IP6_MALFORMED);

	dst = ip + IP6_OFF_DST;
	ours = rx->ifc->has_ip6 && memcmp(dst, rx->ifc->ip6, IP6_ADDR_LEN) == 0;
	to_snm = rx->ifc->has_ip6 && !ours && ip6_is_solicited_node(dst, rx->ifc->ip6);
	if (!ours && !to_snm)
		return drop(pkt, DP_DROP_IP6_NOT_OURS);

	pkt->l4_off = (uint16_t)(pkt->l3_off + IP6_HDR_LEN);
	switch (ip[IP6_OFF_NH]) {
	case IPPROTO_ICMPV6:
		if (rx->ifc->shared)
			return drop(pkt, DP_DROP_KERNEL_OWNED);
		return icmp6_answer(rx, ip, plen, to_snm);
	case IPPROTO_UDP:
		if (to_snm)
			return drop(pkt, DP_DROP_IP6_NOT_OURS);
		if (ip6_src_bad(rx->ifc, ip + IP6_OFF_SRC, true))
			return drop(pkt, DP_DROP_IP_SRC);
		return udp_parse(rx, ip, plen);
	default:
		return drop(pkt, DP_DROP_IP_PROTO);
	}
}

enum dp_verdict dp_frame_answer(const struct dp_iface *ifc, uint8_t *buf, uint32_t len,
				uint32_t cap, unsigned rx_flags, struct dp_pkt *pkt)
{
	struct rx rx = {
	    .ifc = ifc,
	    .buf = buf,
	    .len = len,
	    .cap = cap,
	    .flags = rx_flags,
	    .pkt = pkt,
	};
	uint16_t type;

	memset(pkt, 0, sizeof(*pkt));
	if (len < ETH_HDR_LEN)
		return drop(pkt, DP_DROP_ETH_SHORT);
	if (!eth_dst_ok(ifc, buf))
		return drop(pkt, DP_DROP_ETH_NOT_OURS);
	pkt->l3_off = ETH_HDR_LEN;
	type = get_be16(buf, ETH_OFF_TYPE);
	if (type == RTE_ETHER_TYPE_VLAN) {
		if (len < ETH_HDR_LEN + VLAN_HDR_LEN)
			return drop(pkt, DP_DROP_ETH_SHORT);
		type = get_be16(buf, VLAN_OFF_TYPE);
		if (type == RTE_ETHER_TYPE_VLAN || type == RTE_ETHER_TYPE_QINQ)
			return drop(pkt, DP_DROP_ETHERTYPE);
		pkt->l3_off += VLAN_HDR_LEN;
	}

	switch (type) {
	case RTE_ETHER_TYPE_ARP:
		if (ifc->shared)
			return drop(pkt, DP_DROP_KERNEL_OWNED);
		return arp_answer(&rx);
	case RTE_ETHER_TYPE_IPV4:
		return ip4_answer(&rx);
	case RTE_ETHER_TYPE_IPV6:
		return ip6_answer(&rx);
	default:
		return drop(pkt, DP_DROP_ETHERTYPE);
	}
}

/* The reply's IPv4 header: see the file comment for what happens to options.
 * tot is the new total length. */
static void ip4_turn(uint8_t *ip, uint16_t tot, bool hw_cksum)
{
	unsigned hlen = (ip[IP4_OFF_VIHL] & RTE_IPV4_HDR_IHL_MASK) * RTE_IPV4_IHL_MULTIPLIER;
	uint8_t addr[IP4_ADDR_LEN];

	ip[IP4_OFF_TOS] = 0;
	put_be16(ip, IP4_OFF_TOTLEN, tot);
	put_be16(ip, IP4_OFF_ID, 0);
	put_be16(ip, IP4_OFF_FRAG, RTE_IPV4_HDR_DF_FLAG);
	ip[IP4_OFF_TTL] = REPLY_TTL;
	ip[IP4_OFF_PROTO] = IPPROTO_UDP;
	put_cksum(ip, IP4_OFF_CKSUM, 0);
	memcpy(addr, ip + IP4_OFF_SRC, IP4_ADDR_LEN);
	memcpy(ip + IP4_OFF_SRC, ip + IP4_OFF_DST, IP4_ADDR_LEN);
	memcpy(ip + IP4_OFF_DST, addr, IP4_ADDR_LEN);
	memset(ip + IP4_HDR_MIN, RTE_IPV4_HDR_OPT_NOP, hlen - IP4_HDR_MIN);
	if (!hw_cksum)
		put_cksum(ip, IP4_OFF_CKSUM, (uint16_t)~rte_raw_cksum(ip, hlen));
}

/* The reply's IPv6 header: traffic class and flow label 0. */
static void ip6_turn(uint8_t *ip, uint16_t plen)
{
	uint8_t addr[IP6_ADDR_LEN];

	put_be32(ip, IP6_OFF_VTC, IP6_VTC_PLAIN);
	put_be16(ip, IP6_OFF_PLEN, plen);
	ip[IP6_OFF_NH] = IPPROTO_UDP;
	ip[IP6_OFF_HLIM] = REPLY_TTL;
	memcpy(addr, ip + IP6_OFF_SRC, IP6_ADDR_LEN);
	memcpy(ip + IP6_OFF_SRC, ip + IP6_OFF_DST, IP6_ADDR_LEN);
	memcpy(ip + IP6_OFF_DST, addr, IP6_ADDR_LEN);
}

/*
 * Besides cap, the reply must fit the 16-bit IP length fields: a payload
 * that would not returns 0 too. pkt must come from a DP_VERDICT_UDP parse of
 * this buffer; the request's source and destination addresses are swapped,
 * so the reply's source is the address the request was sent to (ours).
 */
uint32_t dp_frame_udp_reply(const struct dp_iface *ifc, uint8_t *buf, uint32_t cap,
			    const struct dp_pkt *pkt, uint32_t payload_len, bool hw_cksum)
{
	uint8_t *ip = buf + pkt->l3_off;
	uint8_t *u = buf + pkt->l4_off;
	uint32_t frame_len, udp_len, sum;
	const uint8_t *addrs;
	size_t addrs_len;
	uint16_t ck;

	if (payload_len > UINT16_MAX)
		return 0;
	frame_len = pkt->payload_off + payload_len;
	udp_len = UDP_HDR_LEN + payload_len;
	if (frame_len > cap)
		return 0;
	if (pkt->ipv6 ? udp_len > UINT16_MAX : frame_len - pkt->l3_off > UINT16_MAX)
		return 0;

	eth_turn(ifc, buf);
	if (pkt->ipv6) {
		ip6_turn(ip, (uint16_t)udp_len);
		addrs = ip + IP6_OFF_SRC;
		addrs_len = IP6_ADDRS_LEN;
	} else {
		ip4_turn(ip, (uint16_t)(frame_len - pkt->l3_off), hw_cksum);
		addrs = ip + IP4_OFF_SRC;
		addrs_len = IP4_ADDRS_LEN;
	}
	sum = pseudo_sum(addrs, addrs_len, IPPROTO_UDP, (uint16_t)udp_len);

	ck = get_be16(u, UDP_OFF_SPORT);
	memmove(u + UDP_OFF_SPORT, u + UDP_OFF_DPORT, sizeof(ck));
	put_be16(u, UDP_OFF_DPORT, ck);
	put_be16(u, UDP_OFF_LEN, (uint16_t)udp_len);
	put_cksum(u, UDP_OFF_CKSUM, 0);
	if (hw_cksum) {
		ck = csum_fold(sum);
	} else {
		ck = (uint16_t)~csum_fold(sum + rte_raw_cksum(u, udp_len));
		if (ck == 0)
			ck = 0xffff; /* RFC 768: 0 would mean "no checksum" */
	}
	put_cksum(u, UDP_OFF_CKSUM, ck);
	return frame_len;
}
