/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_dp_frame.c - the frame layer against frames built by hand.
 *
 * Frames are written here field by field with explicit big-endian writes,
 * and their checksums come from this file's own RFC 1071 sum over
 * big-endian words, never from the code under test. Every parse runs over a
 * copy whose writable room (cap) ends at a guard page (guard.h), so a read
 * or write of even one byte past it faults instead of passing.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include <rte_ip.h> /* rte_ipv4/6_phdr_cksum: what NIC checksum offload expects */

#include "dpdk/dp_frame.h"
#include "guard.h"

#define FRAME_MAX 512

#define ETH_P_IPV4 0x0800
#define ETH_P_ARP  0x0806
#define ETH_P_IPV6 0x86dd
#define ETH_P_VLAN 0x8100
#define ETH_P_QINQ 0x88a8
#define VLAN_TCI   0x2064 /* priority 1, VLAN 100 */

#define PROTO_ICMP   1
#define PROTO_TCP    6
#define PROTO_UDP    17
#define PROTO_ICMPV6 58

#define TRACKER_PORT	   6969
#define OTHER_TRACKER_PORT 1337
#define PEER_PORT	   51413
#define DEFAULT_DATA	   16 /* bytes of UDP payload or echo data */

static const uint8_t our_mac[6] = {0x02, 0x00, 0x5e, 0x00, 0x00, 0x01};
static const uint8_t peer_mac[6] = {0x02, 0x00, 0x5e, 0x00, 0x00, 0x02};
static const uint8_t other_mac[6] = {0x02, 0x00, 0x5e, 0x00, 0x00, 0x03};
static const uint8_t bcast_mac[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
static const uint8_t our_snm_mac[6] = {0x33, 0x33, 0xff, 0x12, 0x34, 0x56};
static const uint8_t mcast4_mac[6] = {0x01, 0x00, 0x5e, 0x00, 0x00, 0x01};
static const uint8_t odd_33_mac[6] = {0x33, 0x34, 0xff, 0x12, 0x34, 0x56};

static const uint8_t our_ip4[4] = {198, 18, 0, 1};
static const uint8_t peer_ip4[4] = {198, 18, 0, 2};
static const uint8_t other_ip4[4] = {198, 18, 0, 3};
static const uint8_t bcast_ip4[4] = {255, 255, 255, 255};

/* fd00::12:3456 and its solicited-node group ff02::1:ff12:3456 */
/* clang-format off */
static const uint8_t our_ip6[16] = {0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x12, 0x34, 0x56};
static const uint8_t our_snm[16] = {0xff, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0xff, 0x12, 0x34, 0x56};
static const uint8_t peer_ip6[16] = {0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2};
static const uint8_t other_ip6[16] = {0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x12, 0x34, 0x57};
static const uint8_t other_snm[16] = {0xff, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0xff, 0x12, 0x34, 0x57};
static const uint8_t unspec_ip6[16];
static const uint8_t mapped_ip6[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 198, 18, 0, 2};
static const uint8_t loop_ip6[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
static const uint8_t mcast_ip6[16] = {0xff, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
static const uint8_t ll_ip6[16] = {0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 7};
static const uint8_t zero_ip4[4] = {0, 0, 0, 0};
static const uint8_t loop_ip4[4] = {127, 0, 0, 1};
static const uint8_t mcast_ip4[4] = {224, 0, 0, 1};
/* clang-format on */

enum iface_kind { IF_DUAL, IF_NO_IP4, IF_NO_IP6, IF_SHARED };

static struct dp_iface make_iface(enum iface_kind kind)
{
	struct dp_iface ifc = {
	    .has_ip4 = kind != IF_NO_IP4,
	    .has_ip6 = kind != IF_NO_IP6,
	    .shared = kind == IF_SHARED,
	    .udp_ports = {OTHER_TRACKER_PORT, TRACKER_PORT},
	    .n_udp_ports = 2,
	};

	memcpy(ifc.mac, our_mac, sizeof(ifc.mac));
	memcpy(ifc.ip4, our_ip4, sizeof(ifc.ip4));
	memcpy(ifc.ip6, our_ip6, sizeof(ifc.ip6));
	return ifc;
}

/* Byte-order helpers of this file. */
static void put16(uint8_t *p, size_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
	put16(p, v >> 16);
	put16(p + 2, v & 0xffff);
}

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)get16(p) << 16 | get16(p + 2);
}

/* RFC 1071, independently of the code under test: big-endian words, an
 * odd byte padded with zero on the right, carries folded at the end. */
static uint32_t sum_words(uint32_t sum, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i + 1 < n; i += 2)
		sum += get16(p + i);
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

static uint32_t sum_pseudo(const uint8_t *src, const uint8_t *dst, size_t alen, uint8_t proto,
			   size_t l4_len)
{
	return sum_words(sum_words(0, src, alen), dst, alen) + proto + (uint32_t)l4_len;
}

/* True if a message sums to 0xffff with its checksum field included. */
static bool sums_ok(uint32_t sum)
{
	return fold(sum) == 0xffff;
}

static bool ip4_hdr_ok(const uint8_t *ip)
{
	return sums_ok(sum_words(0, ip, (size_t)(ip[0] & 0xf) * 4));
}

static bool udp4_ok(const uint8_t *ip, const uint8_t *u)
{
	return sums_ok(sum_pseudo(ip + 12, ip + 16, 4, PROTO_UDP, get16(u + 4)) +
		       sum_words(0, u, get16(u + 4)));
}

static bool l4_6_ok(const uint8_t *ip, const uint8_t *l4)
{
	return sums_ok(sum_pseudo(ip + 8, ip + 24, 16, ip[6], get16(ip + 4)) +
		       sum_words(0, l4, get16(ip + 4)));
}

/* A checksum that is wrong but, for UDP, not "none". */
static uint16_t spoil(uint16_t ck)
{
	return ck == 0x8000 ? 0x4000 : ck ^ 0x8000;
}

/*
 * What the builders make. All zero is a valid frame of the builder's kind:
 * from the peer to us, untagged, 16 bytes of data, no padding.
 */
struct fopts {
	/* Ethernet */
	bool vlan;
	uint16_t inner_tpid; /* non-zero: a second tag with this TPID inside the first */
	const uint8_t *eth_dst;
	uint16_t ethertype;
	/* ARP */
	uint16_t arp_htype, arp_ptype, arp_op;
	uint8_t arp_hlen, arp_plen;
	/* IPv4 / IPv6 */
	uint8_t version;
	unsigned ihl;
	uint16_t frag;
	int len_delta; /* added to the IPv4 total length or the IPv6 payload length */
	bool bad_ip_cksum;
	bool set_proto;
	uint8_t proto; /* with set_proto: the IPv4 protocol or IPv6 next header */
	uint8_t hop_limit;
	const uint8_t *ip_src, *ip_dst;
	/* ICMP, NDP, UDP */
	bool set_type;
	uint8_t type, code;
	uint16_t dport;
	size_t data_len;
	int udp_len_delta;
	bool bad_l4_cksum, zero_udp_cksum;
	const uint8_t *target;
	const uint8_t *nd_opts;
	size_t nd_opts_len;
	bool no_nd_opts;
	size_t pad; /* Ethernet padding after the datagram */
};

typedef size_t (*build_fn)(uint8_t *f, const struct fopts *o);

/* n + delta, for the fields a row makes lie; never below zero here. */
static size_t plus(size_t n, int delta)
{
	return (size_t)((long)n + delta);
}

static size_t data_len(const struct fopts *o)
{
	return o->data_len ? o->data_len : DEFAULT_DATA;
}

/* Ethernet header (and tags); returns the L3 offset. */
static size_t put_l2(uint8_t *f, const struct fopts *o, const uint8_t *dst, uint16_t type)
{
	size_t off = 12;

	memcpy(f, o->eth_dst ? o->eth_dst : dst, 6);
	memcpy(f + 6, peer_mac, 6);
	if (o->vlan || o->inner_tpid) {
		put16(f + off, ETH_P_VLAN);
		put16(f + off + 2, VLAN_TCI);
		off += 4;
	}
	if (o->inner_tpid) {
		put16(f + off, o->inner_tpid);
		put16(f + off + 2, VLAN_TCI + 1);
		off += 4;
	}
	put16(f + off, o->ethertype ? o->ethertype : type);
	return off + 2;
}

/* IPv4 header for l4_len bytes of protocol proto, options are Router Alert
 * (RFC 2113) words; returns the bytes written (20 even if IHL says less). */
static size_t put_ip4(uint8_t *ip, const struct fopts *o, uint8_t proto, size_t l4_len)
{
	unsigned ihl = o->ihl ? o->ihl : 5;
	size_t hlen = ihl < 5 ? 20 : (size_t)ihl * 4;
	uint16_t ck;

	memset(ip, 0, hlen);
	ip[0] = (uint8_t)((o->version ? o->version : 4) << 4 | ihl);
	ip[1] = 0xb8; /* DSCP EF */
	put16(ip + 2, plus((size_t)ihl * 4 + l4_len, o->len_delta));
	put16(ip + 4, 0x1234);
	put16(ip + 6, o->frag);
	ip[8] = 57;
	ip[9] = o->set_proto ? o->proto : proto;
	memcpy(ip + 12, o->ip_src ? o->ip_src : peer_ip4, 4);
	memcpy(ip + 16, o->ip_dst ? o->ip_dst : our_ip4, 4);
	for (size_t i = 20; i < hlen; i += 4) {
		ip[i] = 0x94;
		ip[i + 1] = 4;
	}
	ck = (uint16_t)~fold(sum_words(0, ip, hlen));
	put16(ip + 10, o->bad_ip_cksum ? spoil(ck) : ck);
	return hlen;
}

static size_t put_ip6(uint8_t *ip, const struct fopts *o, uint8_t nh, size_t l4_len,
		      uint8_t hop_limit, const uint8_t *dst)
{
	put32(ip, (uint32_t)(o->version ? o->version : 6) << 28 | 0x00b12345); /* TC 0x0b */
	put16(ip + 4, plus(l4_len, o->len_delta));
	ip[6] = o->set_proto ? o->proto : nh;
	ip[7] = o->hop_limit ? o->hop_limit : hop_limit;
	memcpy(ip + 8, o->ip_src ? o->ip_src : peer_ip6, 16);
	memcpy(ip + 24, o->ip_dst ? o->ip_dst : dst, 16);
	return 40;
}

/* The checksum of an L4 message of claimed bytes (actual of them written,
 * checksum field zero): with the pseudo-header for UDP and ICMPv6. */
static uint16_t l4_cksum(const uint8_t *ip, bool v6, uint8_t proto, const uint8_t *l4,
			 size_t claimed, size_t actual)
{
	uint32_t sum = sum_words(0, l4, claimed < actual ? claimed : actual);
	uint16_t ck;

	if (v6)
		sum += sum_pseudo(ip + 8, ip + 24, 16, proto, claimed);
	else if (proto == PROTO_UDP)
		sum += sum_pseudo(ip + 12, ip + 16, 4, proto, claimed);
	ck = (uint16_t)~fold(sum);
	if (ck == 0 && proto == PROTO_UDP)
		ck = 0xffff;
	return ck;
}

static size_t build_udp(uint8_t *f, const struct fopts *o, bool v6)
{
	size_t dlen = data_len(o);
	size_t l3 = put_l2(f, o, our_mac, v6 ? ETH_P_IPV6 : ETH_P_IPV4);
	size_t l4 = l3 + (v6 ? put_ip6(f + l3, o, PROTO_UDP, 8 + dlen, 64, our_ip6)
			     : put_ip4(f + l3, o, PROTO_UDP, 8 + dlen));
	size_t ulen = plus(8 + dlen, o->udp_len_delta);
	uint8_t *u = f + l4;
	uint16_t ck;

	put16(u, PEER_PORT);
	put16(u + 2, o->dport ? o->dport : TRACKER_PORT);
	put16(u + 4, ulen);
	put16(u + 6, 0);
	for (size_t i = 0; i < dlen; i++)
		u[8 + i] = (uint8_t)(0xa0 + i);
	ck = l4_cksum(f + l3, v6, PROTO_UDP, u, ulen, 8 + dlen);
	if (!o->zero_udp_cksum)
		put16(u + 6, o->bad_l4_cksum ? spoil(ck) : ck);
	memset(u + 8 + dlen, 0, o->pad);
	return l4 + 8 + dlen + o->pad;
}

static size_t build_udp4(uint8_t *f, const struct fopts *o)
{
	return build_udp(f, o, false);
}

static size_t build_udp6(uint8_t *f, const struct fopts *o)
{
	return build_udp(f, o, true);
}

/* ICMP (RFC 792) or ICMPv6 (RFC 4443) echo request, id 0x4242, seq 7. */
static size_t build_echo(uint8_t *f, const struct fopts *o, bool v6)
{
	size_t dlen = data_len(o);
	size_t l3 = put_l2(f, o, our_mac, v6 ? ETH_P_IPV6 : ETH_P_IPV4);
	size_t l4 = l3 + (v6 ? put_ip6(f + l3, o, PROTO_ICMPV6, 8 + dlen, 64, our_ip6)
			     : put_ip4(f + l3, o, PROTO_ICMP, 8 + dlen));
	size_t claimed = plus(8 + dlen, o->len_delta);
	uint8_t *ic = f + l4;
	uint16_t ck;

	ic[0] = o->set_type ? o->type : (v6 ? 128 : 8);
	ic[1] = o->code;
	put16(ic + 2, 0);
	put16(ic + 4, 0x4242);
	put16(ic + 6, 7);
	for (size_t i = 0; i < dlen; i++)
		ic[8 + i] = (uint8_t)(0x30 + i);
	ck = l4_cksum(f + l3, v6, v6 ? PROTO_ICMPV6 : PROTO_ICMP, ic, claimed, 8 + dlen);
	put16(ic + 2, o->bad_l4_cksum ? spoil(ck) : ck);
	memset(ic + 8 + dlen, 0, o->pad);
	return l4 + 8 + dlen + o->pad;
}

static size_t build_echo4(uint8_t *f, const struct fopts *o)
{
	return build_echo(f, o, false);
}

static size_t build_echo6(uint8_t *f, const struct fopts *o)
{
	return build_echo(f, o, true);
}

/* RFC 4861 section 4.3 neighbour solicitation, to our solicited-node group,
 * with a Source Link-Layer Address option unless told otherwise. */
static size_t build_ns(uint8_t *f, const struct fopts *o)
{
	const uint8_t sllao[8] = {1, 1, 0x02, 0x00, 0x5e, 0x00, 0x00, 0x02};
	const uint8_t *opts = o->nd_opts ? o->nd_opts : sllao;
	size_t opts_len = o->no_nd_opts ? 0 : o->nd_opts ? o->nd_opts_len : sizeof(sllao);
	size_t l3 = put_l2(f, o, our_snm_mac, ETH_P_IPV6);
	size_t l4 = l3 + put_ip6(f + l3, o, PROTO_ICMPV6, 24 + opts_len, 255, our_snm);
	size_t claimed = plus(24 + opts_len, o->len_delta);
	uint8_t *ic = f + l4;
	uint16_t ck;

	ic[0] = o->set_type ? o->type : 135;
	ic[1] = o->code;
	put16(ic + 2, 0);
	put32(ic + 4, 0);
	memcpy(ic + 8, o->target ? o->target : our_ip6, 16);
	memcpy(ic + 24, opts, opts_len);
	ck = l4_cksum(f + l3, true, PROTO_ICMPV6, ic, claimed, 24 + opts_len);
	put16(ic + 2, o->bad_l4_cksum ? spoil(ck) : ck);
	memset(ic + 24 + opts_len, 0, o->pad);
	return l4 + 24 + opts_len + o->pad;
}

/* RFC 826 request from the peer, to broadcast. */
static size_t build_arp(uint8_t *f, const struct fopts *o)
{
	size_t l3 = put_l2(f, o, bcast_mac, ETH_P_ARP);
	uint8_t *a = f + l3;

	put16(a, o->arp_htype ? o->arp_htype : 1);
	put16(a + 2, o->arp_ptype ? o->arp_ptype : ETH_P_IPV4);
	a[4] = o->arp_hlen ? o->arp_hlen : 6;
	a[5] = o->arp_plen ? o->arp_plen : 4;
	put16(a + 6, o->arp_op ? o->arp_op : 1);
	memcpy(a + 8, peer_mac, 6);
	memcpy(a + 14, o->ip_src ? o->ip_src : peer_ip4, 4);
	memset(a + 18, 0, 6);
	memcpy(a + 24, o->ip_dst ? o->ip_dst : our_ip4, 4);
	memset(a + 28, 0, o->pad);
	return l3 + 28 + o->pad;
}

/* Returns a copy of the len bytes of f followed by zeros up to cap (if cap
 * is larger), ending at a guard page. Valid until the next call. */
static uint8_t *guarded(const uint8_t *f, size_t len, size_t cap)
{
	static struct guard_buf g;
	static bool live;
	uint8_t tmp[FRAME_MAX] = {0};
	size_t n = cap > len ? cap : len;

	assert_true(n <= sizeof(tmp));
	memcpy(tmp, f, len);
	if (live)
		guard_free(&g);
	live = true;
	return guard_copy(&g, tmp, n);
}

/* Builds a frame, parses it from a guarded copy with cap == len + cap_extra,
 * and returns the copy (the reply, if any, is there). */
static uint8_t *build_and_parse(build_fn build, const struct fopts *o, enum iface_kind kind,
				unsigned rx_flags, int cap_extra, size_t *len, enum dp_verdict *v,
				struct dp_pkt *pkt)
{
	uint8_t f[FRAME_MAX] = {0};
	struct dp_iface ifc = make_iface(kind);
	uint32_t cap;
	uint8_t *buf;

	*len = build(f, o);
	cap = (uint32_t)plus(*len, cap_extra);
	buf = guarded(f, *len, cap);
	*v = dp_frame_answer(&ifc, buf, (uint32_t)*len, cap, rx_flags, pkt);
	return buf;
}

struct want {
	enum dp_verdict verdict;
	enum dp_drop drop;
};

struct parse_case {
	const char *name;
	build_fn build;
	struct fopts o;
	struct want want;
	unsigned rx_flags;
	int cap_extra;
	enum iface_kind iface;
};

/* One frame per row: clang-format would wrap the columns apart. */
/* clang-format off */
#define DROPS(why) {DP_VERDICT_DROP, DP_DROP_##why}
#define FINDS_UDP  {DP_VERDICT_UDP, 0}
#define ANSWERS    {DP_VERDICT_REPLY, 0}
#define TYPE(t)    .set_type = true, .type = (t)
#define PROTO(p)   .set_proto = true, .proto = (p)
#define GOOD_IP    DP_RX_IP_CKSUM_GOOD
#define BAD_IP     DP_RX_IP_CKSUM_BAD
#define GOOD_L4    DP_RX_L4_CKSUM_GOOD
#define BAD_L4     DP_RX_L4_CKSUM_BAD

static const uint8_t nd_opt_len0[8] = {1, 0, 0x02, 0x00, 0x5e, 0x00, 0x00, 0x02};
static const uint8_t nd_opt_overrun[8] = {1, 2, 0x02, 0x00, 0x5e, 0x00, 0x00, 0x02};
static const uint8_t nd_opt_remnant[12] = {1, 1, 0x02, 0x00, 0x5e, 0x00, 0x00, 0x02, 14, 1, 0, 0};
static const uint8_t nd_opt_two[16] = {1, 1, 0x02, 0x00, 0x5e, 0x00, 0x00, 0x02, /* SLLAO */
				       14, 1, 1, 2, 3, 4, 5, 6};                 /* nonce */

static const struct parse_case parse_cases[] = {
	/* Ethernet */
	{"a UDP datagram to another MAC is not ours", build_udp4, {.eth_dst = other_mac}, DROPS(ETH_NOT_OURS)},
	{"a UDP datagram to the broadcast MAC is looked at", build_udp4, {.eth_dst = bcast_mac}, FINDS_UDP},
	{"an IPv6 datagram to a 33:33 MAC is looked at", build_udp6, {.eth_dst = our_snm_mac}, FINDS_UDP},
	{"a UDP datagram to an IPv4 multicast MAC is not ours", build_udp4, {.eth_dst = mcast4_mac}, DROPS(ETH_NOT_OURS)},
	{"a UDP datagram to 33:34:... is not ours", build_udp6, {.eth_dst = odd_33_mac}, DROPS(ETH_NOT_OURS)},
	{"a VLAN-tagged UDP datagram is found", build_udp4, {.vlan = true}, FINDS_UDP},
	{"a second 802.1Q tag is a bad ethertype", build_udp4, {.inner_tpid = ETH_P_VLAN}, DROPS(ETHERTYPE)},
	{"an 802.1ad tag inside 802.1Q is a bad ethertype", build_udp4, {.inner_tpid = ETH_P_QINQ}, DROPS(ETHERTYPE)},
	{"an outer 802.1ad tag is a bad ethertype", build_udp4, {.ethertype = ETH_P_QINQ}, DROPS(ETHERTYPE)},
	{"LLDP is a bad ethertype", build_udp4, {.ethertype = 0x88cc}, DROPS(ETHERTYPE)},
	/* ARP */
	{"an ARP request for our address is answered", build_arp, {0}, ANSWERS},
	{"a VLAN-tagged ARP request is answered", build_arp, {.vlan = true}, ANSWERS},
	{"an ARP request to our MAC is answered", build_arp, {.eth_dst = our_mac}, ANSWERS},
	{"an ARP request for another address is not ours", build_arp, {.ip_dst = other_ip4}, DROPS(ARP_NOT_OURS)},
	{"an ARP request without an IPv4 on the port is not ours", build_arp, {0}, DROPS(ARP_NOT_OURS), 0, 0, IF_NO_IP4},
	{"an ARP reply is not a request", build_arp, {.arp_op = 2}, DROPS(ARP_NOT_REQUEST)},
	{"an ARP reverse request is not a request", build_arp, {.arp_op = 3}, DROPS(ARP_NOT_REQUEST)},
	{"an ARP request of hardware type 6 is malformed", build_arp, {.arp_htype = 6}, DROPS(ARP_MALFORMED)},
	{"an ARP request for IPv6 addresses is malformed", build_arp, {.arp_ptype = ETH_P_IPV6}, DROPS(ARP_MALFORMED)},
	{"an ARP request with 8-byte MACs is malformed", build_arp, {.arp_hlen = 8}, DROPS(ARP_MALFORMED)},
	{"an ARP request with 16-byte addresses is malformed", build_arp, {.arp_plen = 16}, DROPS(ARP_MALFORMED)},
	{"an ARP request with no room for the reply is dropped", build_arp, {0}, DROPS(NO_ROOM), 0, -1},
	/* IPv4 */
	{"an IPv4 header of version 5 is malformed", build_udp4, {.version = 5}, DROPS(IP4_MALFORMED)},
	{"an IPv4 header with IHL 4 is malformed", build_udp4, {.ihl = 4}, DROPS(IP4_MALFORMED)},
	{"an IPv4 total length one past the frame is malformed", build_udp4, {.len_delta = 1}, DROPS(IP4_MALFORMED)},
	{"an IPv4 total length under the header is malformed", build_udp4, {.len_delta = -25}, DROPS(IP4_MALFORMED)},
	{"an IPv4 header with a wrong checksum is dropped", build_udp4, {.bad_ip_cksum = true}, DROPS(IP4_CKSUM)},
	{"a wrong IPv4 checksum passes when the NIC checked it", build_udp4, {.bad_ip_cksum = true}, FINDS_UDP, GOOD_IP},
	{"a right IPv4 checksum the NIC calls bad is dropped", build_udp4, {0}, DROPS(IP4_CKSUM), BAD_IP},
	{"an IPv4 first fragment (MF) is dropped", build_udp4, {.frag = 0x2000}, DROPS(IP4_FRAGMENT)},
	{"an IPv4 last fragment (offset 8) is dropped", build_udp4, {.frag = 0x0001}, DROPS(IP4_FRAGMENT)},
	{"an IPv4 datagram with DF is found", build_udp4, {.frag = 0x4000}, FINDS_UDP},
	{"an IPv4 datagram to another address is not ours", build_udp4, {.ip_dst = other_ip4}, DROPS(IP4_NOT_OURS)},
	{"an IPv4 broadcast is not answered", build_echo4, {.ip_dst = bcast_ip4, .eth_dst = bcast_mac}, DROPS(IP4_NOT_OURS)},
	{"IPv4 to a port without IPv4 is not ours", build_udp4, {0}, DROPS(IP4_NOT_OURS), 0, 0, IF_NO_IP4},
	{"IPv4 TCP is another protocol", build_udp4, {PROTO(PROTO_TCP)}, DROPS(IP_PROTO)},
	/* ICMP */
	{"an ICMP echo request is answered", build_echo4, {0}, ANSWERS},
	{"an ICMP echo request behind options is answered", build_echo4, {.ihl = 9}, ANSWERS},
	{"an ICMP echo request with a wrong checksum is malformed", build_echo4, {.bad_l4_cksum = true}, DROPS(ICMP_MALFORMED)},
	{"a wrong ICMP checksum is caught whatever the NIC says", build_echo4, {.bad_l4_cksum = true}, DROPS(ICMP_MALFORMED), GOOD_L4},
	{"an ICMP message of 7 bytes is malformed", build_echo4, {.len_delta = -17}, DROPS(ICMP_MALFORMED)},
	{"an ICMP echo reply is not answered", build_echo4, {TYPE(0)}, DROPS(ICMP_TYPE)},
	{"an ICMP echo request of code 1 is not answered", build_echo4, {.code = 1}, DROPS(ICMP_TYPE)},
	{"an ICMP timestamp request is not answered", build_echo4, {TYPE(13)}, DROPS(ICMP_TYPE)},
	{"an ICMP echo request one byte short of room is dropped", build_echo4, {0}, DROPS(NO_ROOM), 0, -1},
	/* UDP over IPv4 */
	{"an IPv4 UDP datagram to a tracker port is found", build_udp4, {0}, FINDS_UDP},
	{"an IPv4 UDP datagram to the other tracker port is found", build_udp4, {.dport = OTHER_TRACKER_PORT}, FINDS_UDP},
	{"an IPv4 UDP datagram to port 53 is not the tracker's", build_udp4, {.dport = 53}, DROPS(UDP_PORT)},
	{"the port is checked before the checksum", build_udp4, {.dport = 53, .bad_l4_cksum = true}, DROPS(UDP_PORT)},
	{"an IPv4 UDP datagram with a wrong checksum is dropped", build_udp4, {.bad_l4_cksum = true}, DROPS(UDP_CKSUM)},
	{"an IPv4 UDP datagram without a checksum is found", build_udp4, {.zero_udp_cksum = true}, FINDS_UDP},
	{"a wrong UDP checksum passes when the NIC checked it", build_udp4, {.bad_l4_cksum = true}, FINDS_UDP, GOOD_L4},
	{"a right UDP checksum the NIC calls bad is dropped", build_udp4, {0}, DROPS(UDP_CKSUM), BAD_L4},
	{"a UDP length of 7 is malformed", build_udp4, {.udp_len_delta = -17}, DROPS(UDP_MALFORMED)},
	{"a UDP length one past the IP payload is malformed", build_udp4, {.udp_len_delta = 1}, DROPS(UDP_MALFORMED)},
	{"a UDP length under the IP payload is found", build_udp4, {.udp_len_delta = -4}, FINDS_UDP},
	{"an IP payload of 7 bytes is malformed UDP", build_udp4, {.len_delta = -17}, DROPS(UDP_MALFORMED)},
	{"a padded IPv4 UDP datagram is found", build_udp4, {.data_len = 4, .pad = 14}, FINDS_UDP},
	/* IPv6 */
	{"an IPv6 UDP datagram to a tracker port is found", build_udp6, {0}, FINDS_UDP},
	/* Sources no peer can have never enter a swarm (nor get an answer). */
	{"an IPv6 UDP datagram from a v4-mapped address is dropped (RFC 4291)", build_udp6, {.ip_src = mapped_ip6}, DROPS(IP_SRC)},
	{"an IPv6 UDP datagram from :: is dropped", build_udp6, {.ip_src = unspec_ip6}, DROPS(IP_SRC)},
	{"an IPv6 UDP datagram from ::1 is dropped", build_udp6, {.ip_src = loop_ip6}, DROPS(IP_SRC)},
	{"an IPv6 UDP datagram from a multicast source is dropped", build_udp6, {.ip_src = mcast_ip6}, DROPS(IP_SRC)},
	{"an IPv6 UDP datagram from a link-local source is dropped", build_udp6, {.ip_src = ll_ip6}, DROPS(IP_SRC)},
	{"an IPv6 UDP datagram from our own address is dropped", build_udp6, {.ip_src = our_ip6}, DROPS(IP_SRC)},
	{"an ICMPv6 echo from a link-local source is answered", build_echo6, {.ip_src = ll_ip6}, ANSWERS},
	{"an ICMPv6 echo from a multicast source is dropped", build_echo6, {.ip_src = mcast_ip6}, DROPS(IP_SRC)},
	{"an IPv4 UDP datagram from 0.0.0.0 is dropped", build_udp4, {.ip_src = zero_ip4}, DROPS(IP_SRC)},
	{"an IPv4 UDP datagram from loopback is dropped", build_udp4, {.ip_src = loop_ip4}, DROPS(IP_SRC)},
	{"an IPv4 UDP datagram from a multicast source is dropped", build_udp4, {.ip_src = mcast_ip4}, DROPS(IP_SRC)},
	{"an IPv4 UDP datagram from the broadcast address is dropped", build_udp4, {.ip_src = bcast_ip4}, DROPS(IP_SRC)},
	{"an IPv4 UDP datagram from our own address is dropped", build_udp4, {.ip_src = our_ip4}, DROPS(IP_SRC)},
	{"an ICMP echo from loopback is dropped", build_echo4, {.ip_src = loop_ip4}, DROPS(IP_SRC)},
	{"an IPv6 UDP datagram without a checksum is dropped", build_udp6, {.zero_udp_cksum = true}, DROPS(UDP_CKSUM)},
	{"an IPv6 UDP zero checksum is dropped whatever the NIC says", build_udp6, {.zero_udp_cksum = true}, DROPS(UDP_CKSUM), GOOD_L4},
	{"an IPv6 UDP datagram with a wrong checksum is dropped", build_udp6, {.bad_l4_cksum = true}, DROPS(UDP_CKSUM)},
	{"a wrong IPv6 UDP checksum passes when the NIC checked it", build_udp6, {.bad_l4_cksum = true}, FINDS_UDP, GOOD_L4},
	{"an IPv6 UDP datagram to port 53 is not the tracker's", build_udp6, {.dport = 53}, DROPS(UDP_PORT)},
	{"a padded IPv6 UDP datagram is found", build_udp6, {.pad = 7}, FINDS_UDP},
	{"an IPv6 header of version 4 is malformed", build_udp6, {.version = 4}, DROPS(IP6_MALFORMED)},
	{"an IPv6 payload length one past the frame is malformed", build_udp6, {.len_delta = 1}, DROPS(IP6_MALFORMED)},
	{"a hop-by-hop extension header is another protocol", build_udp6, {PROTO(0)}, DROPS(IP_PROTO)},
	{"IPv6 TCP is another protocol", build_udp6, {PROTO(PROTO_TCP)}, DROPS(IP_PROTO)},
	{"a fragment header is another protocol", build_udp6, {PROTO(44)}, DROPS(IP_PROTO)},
	{"an IPv6 datagram to another address is not ours", build_udp6, {.ip_dst = other_ip6}, DROPS(IP6_NOT_OURS)},
	{"UDP to our solicited-node group is not ours", build_udp6, {.ip_dst = our_snm}, DROPS(IP6_NOT_OURS)},
	{"IPv6 to a port without IPv6 is not ours", build_udp6, {0}, DROPS(IP6_NOT_OURS), 0, 0, IF_NO_IP6},
	/* ICMPv6 */
	{"an ICMPv6 echo request is answered", build_echo6, {0}, ANSWERS},
	{"an ICMPv6 echo request with a wrong checksum is malformed", build_echo6, {.bad_l4_cksum = true}, DROPS(ICMP_MALFORMED)},
	{"a wrong ICMPv6 checksum is caught whatever the NIC says", build_echo6, {.bad_l4_cksum = true}, DROPS(ICMP_MALFORMED), GOOD_L4},
	{"an ICMPv6 echo request of 7 bytes is malformed", build_echo6, {.len_delta = -17}, DROPS(ICMP_MALFORMED)},
	{"an ICMPv6 echo request of code 1 is not answered", build_echo6, {.code = 1}, DROPS(ICMP_TYPE)},
	{"an ICMPv6 echo reply is not answered", build_echo6, {TYPE(129)}, DROPS(ICMP_TYPE)},
	{"a router solicitation is not answered", build_echo6, {TYPE(133)}, DROPS(ICMP_TYPE)},
	{"a neighbour advertisement is not answered", build_echo6, {TYPE(136)}, DROPS(ICMP_TYPE)},
	{"an echo request to our solicited-node group is not ours", build_echo6, {.ip_dst = our_snm}, DROPS(IP6_NOT_OURS)},
	{"an ICMPv6 echo request one byte short of room is dropped", build_echo6, {0}, DROPS(NO_ROOM), 0, -1},
	/* NDP */
	{"a solicitation to our solicited-node group is answered", build_ns, {0}, ANSWERS},
	{"a solicitation to our unicast address is answered", build_ns, {.ip_dst = our_ip6, .eth_dst = our_mac}, ANSWERS},
	{"a VLAN-tagged solicitation is answered", build_ns, {.vlan = true}, ANSWERS},
	{"a solicitation with two options is answered", build_ns, {.nd_opts = nd_opt_two, .nd_opts_len = 16}, ANSWERS},
	{"a solicitation without options is answered given room", build_ns, {.no_nd_opts = true}, ANSWERS, 0, 8},
	{"a solicitation without options and no room is dropped", build_ns, {.no_nd_opts = true}, DROPS(NO_ROOM), 0, 7},
	{"a solicitation with hop limit 64 is malformed", build_ns, {.hop_limit = 64}, DROPS(NDP_MALFORMED)},
	{"a solicitation of code 1 is malformed", build_ns, {.code = 1}, DROPS(NDP_MALFORMED)},
	{"a solicitation of 23 bytes is malformed", build_ns, {.no_nd_opts = true, .len_delta = -1}, DROPS(NDP_MALFORMED)},
	{"a solicitation with an option of length 0 is malformed", build_ns, {.nd_opts = nd_opt_len0, .nd_opts_len = 8}, DROPS(NDP_MALFORMED)},
	{"a solicitation with an option past its end is malformed", build_ns, {.nd_opts = nd_opt_overrun, .nd_opts_len = 8}, DROPS(NDP_MALFORMED)},
	{"a solicitation ending in half an option is malformed", build_ns, {.nd_opts = nd_opt_remnant, .nd_opts_len = 12}, DROPS(NDP_MALFORMED)},
	{"a solicitation for another target is not ours", build_ns, {.target = other_ip6}, DROPS(NDP_NOT_OURS)},
	{"a solicitation to another solicited-node group is not ours", build_ns, {.target = other_ip6, .ip_dst = other_snm}, DROPS(IP6_NOT_OURS)},
	{"duplicate address detection is not answered", build_ns, {.ip_src = unspec_ip6, .no_nd_opts = true}, DROPS(NDP_NOT_OURS), 0, 8},
	{"a solicitation with a wrong checksum is malformed ICMP", build_ns, {.bad_l4_cksum = true}, DROPS(ICMP_MALFORMED)},
	/* A shared port: the kernel answers the rest; dptrack takes only its UDP. */
	{"on a shared port an ARP request is the kernel's", build_arp, {0}, DROPS(KERNEL_OWNED), 0, 0, IF_SHARED},
	{"on a shared port a VLAN-tagged ARP request is the kernel's", build_arp, {.vlan = true}, DROPS(KERNEL_OWNED), 0, 0, IF_SHARED},
	{"on a shared port an ICMP echo request is the kernel's", build_echo4, {0}, DROPS(KERNEL_OWNED), 0, 0, IF_SHARED},
	{"on a shared port an ICMPv6 echo request is the kernel's", build_echo6, {0}, DROPS(KERNEL_OWNED), 0, 0, IF_SHARED},
	{"on a shared port a solicitation is the kernel's", build_ns, {0}, DROPS(KERNEL_OWNED), 0, 0, IF_SHARED},
	{"on a shared port a unicast solicitation is the kernel's", build_ns, {.ip_dst = our_ip6, .eth_dst = our_mac}, DROPS(KERNEL_OWNED), 0, 0, IF_SHARED},
	{"on a shared port an IPv4 UDP datagram to a tracker port is found", build_udp4, {0}, FINDS_UDP, 0, 0, IF_SHARED},
	{"on a shared port an IPv6 UDP datagram to a tracker port is found", build_udp6, {0}, FINDS_UDP, 0, 0, IF_SHARED},
	{"on a shared port UDP to another port is still not the tracker's", build_udp4, {.dport = 53}, DROPS(UDP_PORT), 0, 0, IF_SHARED},
	{"on a shared port a wrong UDP checksum is still dropped", build_udp6, {.bad_l4_cksum = true}, DROPS(UDP_CKSUM), 0, 0, IF_SHARED},
	{"on a shared port TCP is still another protocol", build_udp4, {PROTO(PROTO_TCP)}, DROPS(IP_PROTO), 0, 0, IF_SHARED},
};
/* clang-format on */

static void test_dp_frame_parse_follows_the_frame_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(parse_cases) / sizeof(parse_cases[0]); i++) {
		const struct parse_case *c = &parse_cases[i];
		struct dp_pkt pkt;
		enum dp_verdict v;
		uint8_t *buf;
		size_t len;

		buf = build_and_parse(c->build, &c->o, c->iface, c->rx_flags, c->cap_extra, &len,
				      &v, &pkt);
		if (v != c->want.verdict || (v == DP_VERDICT_DROP && pkt.drop != c->want.drop))
			print_message("%s: verdict %d, drop %s\n", c->name, v,
				      v == DP_VERDICT_DROP ? dp_drop_name(pkt.drop) : "-");
		assert_int_equal(v, c->want.verdict);
		if (v == DP_VERDICT_DROP)
			assert_int_equal(pkt.drop, c->want.drop);
		if (v == DP_VERDICT_UDP) {
			/* the UDP length, not the IP payload, bounds the payload */
			assert_int_equal(pkt.payload_off, pkt.l4_off + 8);
			assert_int_equal(pkt.payload_len + 8, get16(buf + pkt.l4_off + 4));
			assert_true(pkt.payload_off + pkt.payload_len <= len);
		}
		if (v == DP_VERDICT_REPLY)
			assert_true(pkt.reply_len <= plus(len, c->cap_extra));
	}
}

static void test_dp_frame_answers_an_arp_request_with_exact_reply_bytes(void **state)
{
	static const uint8_t want[60] = {
	    /* Ethernet: to the requester, from us */
	    0x02, 0x00, 0x5e, 0x00, 0x00, 0x02, 0x02, 0x00, 0x5e, 0x00, 0x00, 0x01, 0x08, 0x06,
	    /* ARP: Ethernet, IPv4, 6, 4, reply */
	    0x00, 0x01, 0x08, 0x00, 6, 4, 0x00, 0x02,
	    /* sender: us */
	    0x02, 0x00, 0x5e, 0x00, 0x00, 0x01, 198, 18, 0, 1,
	    /* target: the requester */
	    0x02, 0x00, 0x5e, 0x00, 0x00, 0x02, 198, 18, 0, 2,
	    /* 18 bytes of padding as they came */
	};
	const struct fopts o = {.pad = 18};
	struct dp_pkt pkt;
	enum dp_verdict v;
	uint8_t *buf;
	size_t len;

	(void)state;
	buf = build_and_parse(build_arp, &o, IF_DUAL, 0, 0, &len, &v, &pkt);
	assert_int_equal(len, 60);
	assert_int_equal(v, DP_VERDICT_REPLY);
	assert_int_equal(pkt.reply_len, 60);
	assert_memory_equal(buf, want, sizeof(want));
}

static void test_dp_frame_keeps_the_vlan_tag_in_an_arp_reply(void **state)
{
	const uint8_t tag[6] = {0x81, 0x00, VLAN_TCI >> 8, VLAN_TCI & 0xff, 0x08, 0x06};
	const struct fopts o = {.vlan = true};
	struct dp_pkt pkt;
	enum dp_verdict v;
	uint8_t *buf;
	size_t len;

	(void)state;
	buf = build_and_parse(build_arp, &o, IF_DUAL, 0, 0, &len, &v, &pkt);
	assert_int_equal(v, DP_VERDICT_REPLY);
	assert_int_equal(pkt.reply_len, len);
	assert_int_equal(pkt.l3_off, 18);
	assert_memory_equal(buf, peer_mac, 6);
	assert_memory_equal(buf + 6, our_mac, 6);
	assert_memory_equal(buf + 12, tag, sizeof(tag));
	assert_int_equal(get16(buf + 18 + 6), 2);
	assert_memory_equal(buf + 18 + 8, our_mac, 6);
	assert_memory_equal(buf + 18 + 24, peer_ip4, 4);
}

static void test_dp_frame_echoes_icmp_data_with_valid_checksums(void **state)
{
	const struct fopts o = {.ihl = 6, .data_len = 33, .pad = 5};
	uint8_t req[FRAME_MAX] = {0};
	struct dp_pkt pkt;
	enum dp_verdict v;
	const uint8_t *ip, *ic;
	uint8_t *buf;
	size_t len;

	(void)state;
	assert_int_equal(build_echo4(req, &o), 14 + 24 + 8 + 33 + 5);
	buf = build_and_parse(build_echo4, &o, IF_DUAL, 0, 0, &len, &v, &pkt);
	assert_int_equal(v, DP_VERDICT_REPLY);
	assert_int_equal(pkt.reply_len, len);
	assert_memory_equal(buf, peer_mac, 6);
	assert_memory_equal(buf + 6, our_mac, 6);
	ip = buf + 14;
	ic = ip + 24;
	assert_int_equal(ip[0], 0x46);
	assert_int_equal(get16(ip + 2), 24 + 8 + 33);
	assert_int_equal(ip[8], 64);
	assert_int_equal(ip[9], PROTO_ICMP);
	assert_memory_equal(ip + 12, our_ip4, 4);
	assert_memory_equal(ip + 16, peer_ip4, 4);
	assert_memory_equal(ip + 20, req + 14 + 20, 4); /* options as they came */
	assert_true(ip4_hdr_ok(ip));
	assert_int_equal(ic[0], 0);
	assert_int_equal(ic[1], 0);
	assert_true(sums_ok(sum_words(0, ic, 8 + 33)));
	assert_memory_equal(ic + 4, req + 14 + 24 + 4, 4 + 33 + 5); /* id, seq, data, padding */
}

static void test_dp_frame_finds_udp_behind_every_ipv4_header_length(void **state)
{
	(void)state;
	for (unsigned ihl = 5; ihl <= 15; ihl++) {
		const struct fopts o = {.ihl = ihl};
		struct dp_pkt pkt;
		enum dp_verdict v;
		uint8_t *buf;
		size_t len;

		buf = build_and_parse(build_udp4, &o, IF_DUAL, 0, 0, &len, &v, &pkt);
		assert_int_equal(v, DP_VERDICT_UDP);
		assert_false(pkt.ipv6);
		assert_int_equal(pkt.l3_off, 14);
		assert_int_equal(pkt.l4_off, 14 + 4 * ihl);
		assert_int_equal(pkt.payload_off, 14 + 4 * ihl + 8);
		assert_int_equal(pkt.payload_len, DEFAULT_DATA);
		assert_int_equal(buf[pkt.payload_off], 0xa0);
		assert_int_equal(buf[pkt.payload_off + DEFAULT_DATA - 1], 0xa0 + DEFAULT_DATA - 1);
		assert_int_equal(pkt.src.family, TR_AF_INET);
		assert_memory_equal(pkt.src.ip, peer_ip4, 4);
		assert_int_equal(pkt.src.port, PEER_PORT);
	}
}

static void test_dp_frame_finds_a_short_datagram_in_a_padded_60_byte_frame(void **state)
{
	const struct fopts o = {.data_len = 4, .pad = 14};
	struct dp_pkt pkt;
	enum dp_verdict v;
	size_t len;

	(void)state;
	build_and_parse(build_udp4, &o, IF_DUAL, 0, 0, &len, &v, &pkt);
	assert_int_equal(len, 60);
	assert_int_equal(v, DP_VERDICT_UDP);
	assert_int_equal(pkt.payload_off, 42);
	assert_int_equal(pkt.payload_len, 4);
}

static void test_dp_frame_finds_udp_behind_a_vlan_tag(void **state)
{
	const struct fopts o = {.vlan = true};
	struct dp_pkt pkt;
	enum dp_verdict v;
	size_t len;

	(void)state;
	build_and_parse(build_udp6, &o, IF_DUAL, 0, 0, &len, &v, &pkt);
	assert_int_equal(v, DP_VERDICT_UDP);
	assert_true(pkt.ipv6);
	assert_int_equal(pkt.l3_off, 18);
	assert_int_equal(pkt.l4_off, 58);
	assert_int_equal(pkt.payload_off, 66);
	assert_int_equal(pkt.payload_len, DEFAULT_DATA);
	assert_int_equal(pkt.src.family, TR_AF_INET6);
	assert_memory_equal(pkt.src.ip, peer_ip6, 16);
	assert_int_equal(pkt.src.port, PEER_PORT);
}

static void test_dp_frame_never_takes_a_v4_mapped_ipv6_source_for_ipv4(void **state)
{
	const struct fopts o = {.ip_src = mapped_ip6};
	struct dp_pkt pkt;
	enum dp_verdict v;
	size_t len;

	/* Taken as IPv4 (as a dual-stack socket would), this source would let
	 * anyone on IPv6 put any IPv4 address into a swarm. */
	(void)state;
	build_and_parse(build_udp6, &o, IF_DUAL, 0, 0, &len, &v, &pkt);
	assert_int_equal(v, DP_VERDICT_DROP);
	assert_int_equal(pkt.drop, DP_DROP_IP_SRC);
}

static void test_dp_frame_answers_an_icmpv6_echo_with_a_valid_checksum(void **state)
{
	const struct fopts o = {.data_len = 21};
	uint8_t req[FRAME_MAX] = {0};
	struct dp_pkt pkt;
	enum dp_verdict v;
	const uint8_t *ip, *ic;
	uint8_t *buf;
	size_t len;

	(void)state;
	build_echo6(req, &o);
	buf = build_and_parse(build_echo6, &o, IF_DUAL, 0, 0, &len, &v, &pkt);
	assert_int_equal(v, DP_VERDICT_REPLY);
	assert_int_equal(pkt.reply_len, len);
	assert_memory_equal(buf, peer_mac, 6);
	assert_memory_equal(buf + 6, our_mac, 6);
	ip = buf + 14;
	ic = ip + 40;
	assert_int_equal(get16(ip + 4), 8 + 21);
	assert_int_equal(ip[6], PROTO_ICMPV6);
	assert_int_equal(ip[7], 64);
	assert_memory_equal(ip + 8, our_ip6, 16);
	assert_memory_equal(ip + 24, peer_ip6, 16);
	assert_int_equal(ic[0], 129);
	assert_int_equal(ic[1], 0);
	assert_true(l4_6_ok(ip, ic));
	assert_memory_equal(ic + 4, req + 14 + 40 + 4, 4 + 21);
}

static void test_dp_frame_answers_a_solicitation_with_an_exact_advertisement(void **state)
{
	/* clang-format off */
	uint8_t want[86] = {
	    /* Ethernet: to the requester, from us */
	    0x02, 0x00, 0x5e, 0x00, 0x00, 0x02, 0x02, 0x00, 0x5e, 0x00, 0x00, 0x01, 0x86, 0xdd,
	    /* IPv6: 32 bytes of ICMPv6, hop limit 255 */
	    0x60, 0, 0, 0, 0, 32, PROTO_ICMPV6, 255,
	    /* from our address */
	    0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x12, 0x34, 0x56,
	    /* to the soliciting node */
	    0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2,
	    /* NA, code 0, checksum (below), Solicited | Override */
	    136, 0, 0, 0, 0x60, 0, 0, 0,
	    /* target: our address */
	    0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x12, 0x34, 0x56,
	    /* Target Link-Layer Address option: our MAC */
	    2, 1, 0x02, 0x00, 0x5e, 0x00, 0x00, 0x01,
	};
	/* clang-format on */
	const struct fopts o = {0};
	struct dp_pkt pkt;
	enum dp_verdict v;
	uint8_t *buf;
	size_t len;

	(void)state;
	put16(want + 56, l4_cksum(want + 14, true, PROTO_ICMPV6, want + 54, 32, 32));
	buf = build_and_parse(build_ns, &o, IF_DUAL, 0, 0, &len, &v, &pkt);
	assert_int_equal(len, 86);
	assert_int_equal(v, DP_VERDICT_REPLY);
	assert_int_equal(pkt.reply_len, 86);
	assert_memory_equal(buf, want, sizeof(want));
	assert_true(l4_6_ok(buf + 14, buf + 54));
}

static void test_dp_frame_grows_a_bare_solicitation_into_an_advertisement(void **state)
{
	const struct fopts o = {.no_nd_opts = true, .vlan = true};
	struct dp_pkt pkt;
	enum dp_verdict v;
	uint8_t *buf;
	size_t len;

	(void)state;
	buf = build_and_parse(build_ns, &o, IF_DUAL, 0, 8, &len, &v, &pkt);
	assert_int_equal(len, 18 + 40 + 24);
	assert_int_equal(v, DP_VERDICT_REPLY);
	assert_int_equal(pkt.reply_len, len + 8);
	assert_int_equal(get16(buf + 12), ETH_P_VLAN);
	assert_int_equal(get16(buf + 14), VLAN_TCI);
	assert_int_equal(get16(buf + 18 + 4), 32);
	assert_int_equal(get32(buf + 58 + 4), 0x60000000);
	assert_memory_equal(buf + 58 + 26, our_mac, 6);
	assert_true(l4_6_ok(buf + 18, buf + 58));
}

/* Frames whose every truncation is parsed. */
static const struct {
	const char *name;
	build_fn build;
	struct fopts o;
} valid_frames[] = {
    {"IPv4 UDP", build_udp4, {0}},
    {"IPv4 UDP with options behind a VLAN tag", build_udp4, {.vlan = true, .ihl = 7}},
    {"IPv6 UDP", build_udp6, {0}},
    {"ARP request", build_arp, {0}},
    {"neighbour solicitation", build_ns, {0}},
    {"ICMP echo", build_echo4, {0}},
    {"ICMPv6 echo", build_echo6, {0}},
};

static void test_dp_frame_survives_every_truncation_of_valid_frames(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(valid_frames) / sizeof(valid_frames[0]); i++) {
		uint8_t f[FRAME_MAX] = {0};
		struct dp_iface ifc = make_iface(IF_DUAL);
		size_t full = valid_frames[i].build(f, &valid_frames[i].o);

		for (size_t n = 0; n < full; n++) {
			uint8_t *buf = guarded(f, n, n);
			struct dp_pkt pkt;
			enum dp_verdict v;

			v = dp_frame_answer(&ifc, buf, (uint32_t)n, (uint32_t)n, 0, &pkt);
			if (n < 14)
				assert_int_equal(v, DP_VERDICT_DROP);
			if (n < 14)
				assert_int_equal(pkt.drop, DP_DROP_ETH_SHORT);
			if (v == DP_VERDICT_UDP) {
				assert_true(pkt.l4_off + 8u <= pkt.payload_off);
				assert_true(pkt.payload_off + pkt.payload_len <= n);
			}
			if (v == DP_VERDICT_REPLY)
				assert_true(pkt.reply_len <= n);
		}
		print_message("%s: %zu truncations\n", valid_frames[i].name, full);
	}
}

/*
 * Parses a UDP request, writes payload_len bytes of reply payload (0x50 +
 * i) where the tracker would, into a buffer of cap payload_off +
 * payload_len, and turns it around.
 */
static uint8_t *udp_reply(const struct fopts *o, bool v6, size_t payload_len, bool hw_cksum,
			  struct dp_pkt *pkt, uint32_t *out_len)
{
	uint8_t f[FRAME_MAX] = {0};
	struct dp_iface ifc = make_iface(IF_DUAL);
	size_t len = v6 ? build_udp6(f, o) : build_udp4(f, o);
	size_t cap;
	uint8_t *buf;

	buf = guarded(f, len, len);
	assert_int_equal(dp_frame_answer(&ifc, buf, (uint32_t)len, (uint32_t)len, 0, pkt),
			 DP_VERDICT_UDP);
	cap = pkt->payload_off + payload_len;
	buf = guarded(f, len, cap);
	for (size_t i = 0; i < payload_len; i++)
		buf[pkt->payload_off + i] = (uint8_t)(0x50 + i);
	*out_len =
	    dp_frame_udp_reply(&ifc, buf, (uint32_t)cap, pkt, (uint32_t)payload_len, hw_cksum);
	return buf;
}

static void test_dp_frame_turns_an_ipv4_datagram_around(void **state)
{
	(void)state;
	for (size_t payload_len = 4; payload_len <= 40; payload_len += 36) {
		const struct fopts o = {.vlan = true, .ihl = 7};
		struct dp_pkt pkt;
		const uint8_t *ip, *u;
		uint32_t len;
		uint8_t *buf;

		buf = udp_reply(&o, false, payload_len, false, &pkt, &len);
		assert_int_equal(len, 18 + 28 + 8 + payload_len);
		assert_memory_equal(buf, peer_mac, 6);
		assert_memory_equal(buf + 6, our_mac, 6);
		assert_int_equal(get16(buf + 12), ETH_P_VLAN);
		assert_int_equal(get16(buf + 14), VLAN_TCI);
		assert_int_equal(get16(buf + 16), ETH_P_IPV4);
		ip = buf + 18;
		u = ip + 28;
		assert_int_equal(ip[0], 0x47);
		assert_int_equal(ip[1], 0);
		assert_int_equal(get16(ip + 2), 28 + 8 + payload_len);
		assert_int_equal(get16(ip + 4), 0);
		assert_int_equal(get16(ip + 6), 0x4000);
		assert_int_equal(ip[8], 64);
		assert_int_equal(ip[9], PROTO_UDP);
		assert_memory_equal(ip + 12, our_ip4, 4);
		assert_memory_equal(ip + 16, peer_ip4, 4);
		for (size_t i = 20; i < 28; i++)
			assert_int_equal(ip[i], 1); /* options become NOPs */
		assert_true(ip4_hdr_ok(ip));
		assert_int_equal(get16(u), TRACKER_PORT);
		assert_int_equal(get16(u + 2), PEER_PORT);
		assert_int_equal(get16(u + 4), 8 + payload_len);
		assert_int_not_equal(get16(u + 6), 0);
		assert_true(udp4_ok(ip, u));
		assert_int_equal(u[8], 0x50);
		assert_int_equal(u[8 + payload_len - 1], 0x50 + payload_len - 1);
	}
}

static void test_dp_frame_turns_an_ipv6_datagram_around(void **state)
{
	const struct fopts o = {0};
	struct dp_pkt pkt;
	const uint8_t *ip, *u;
	uint32_t len;
	uint8_t *buf;

	(void)state;
	buf = udp_reply(&o, true, 27, false, &pkt, &len);
	assert_int_equal(len, 14 + 40 + 8 + 27);
	assert_memory_equal(buf, peer_mac, 6);
	assert_memory_equal(buf + 6, our_mac, 6);
	assert_int_equal(get16(buf + 12), ETH_P_IPV6);
	ip = buf + 14;
	u = ip + 40;
	assert_int_equal(get32(ip), 0x60000000);
	assert_int_equal(get16(ip + 4), 8 + 27);
	assert_int_equal(ip[6], PROTO_UDP);
	assert_int_equal(ip[7], 64);
	assert_memory_equal(ip + 8, our_ip6, 16);
	assert_memory_equal(ip + 24, peer_ip6, 16);
	assert_int_equal(get16(u), TRACKER_PORT);
	assert_int_equal(get16(u + 2), PEER_PORT);
	assert_int_equal(get16(u + 4), 8 + 27);
	assert_int_not_equal(get16(u + 6), 0);
	assert_true(l4_6_ok(ip, u));
}

static void test_dp_frame_leaves_pseudo_header_sums_for_checksum_offload(void **state)
{
	const struct fopts o = {.ihl = 6};
	struct rte_ipv4_hdr h4;
	struct rte_ipv6_hdr h6;
	struct dp_pkt pkt;
	const uint8_t *ip;
	uint16_t dpdk;
	uint32_t len;
	uint8_t *buf;

	(void)state;
	buf = udp_reply(&o, false, 30, true, &pkt, &len);
	assert_int_equal(len, 14 + 24 + 8 + 30);
	ip = buf + 14;
	assert_int_equal(get16(ip + 10), 0);
	assert_int_equal(get16(ip + 24 + 6), fold(sum_pseudo(ip + 12, ip + 16, 4, PROTO_UDP, 38)));
	memcpy(&h4, ip, sizeof(h4));
	dpdk = rte_ipv4_phdr_cksum(&h4, 0);
	assert_memory_equal(ip + 24 + 6, &dpdk, 2);

	buf = udp_reply(&o, true, 30, true, &pkt, &len);
	assert_int_equal(len, 14 + 40 + 8 + 30);
	ip = buf + 14;
	assert_int_equal(get16(ip + 40 + 6), fold(sum_pseudo(ip + 8, ip + 24, 16, PROTO_UDP, 38)));
	memcpy(&h6, ip, sizeof(h6));
	dpdk = rte_ipv6_phdr_cksum(&h6, 0);
	assert_memory_equal(ip + 40 + 6, &dpdk, 2);
}

static void test_dp_frame_sends_a_zero_udp_checksum_as_ffff(void **state)
{
	uint8_t f[FRAME_MAX] = {0};
	struct dp_iface ifc = make_iface(IF_DUAL);
	const struct fopts o = {0};
	size_t len = build_udp4(f, &o);
	struct dp_pkt pkt;
	uint8_t *buf, *u;
	uint32_t sum;

	(void)state;
	buf = guarded(f, len, len);
	assert_int_equal(dp_frame_answer(&ifc, buf, (uint32_t)len, (uint32_t)len, 0, &pkt),
			 DP_VERDICT_UDP);
	/* Choose the last payload word so the reply's sum is 0xffff: its
	 * checksum is then 0, which must go out as 0xffff. */
	u = buf + pkt.l4_off;
	memset(u + 8, 0x5a, DEFAULT_DATA);
	put16(u + 8 + DEFAULT_DATA - 2, 0);
	sum = sum_pseudo(our_ip4, peer_ip4, 4, PROTO_UDP, 8 + DEFAULT_DATA) + TRACKER_PORT +
	      PEER_PORT + 8 + DEFAULT_DATA + sum_words(0, u + 8, DEFAULT_DATA);
	put16(u + 8 + DEFAULT_DATA - 2, (uint16_t)~fold(sum));
	assert_int_equal(dp_frame_udp_reply(&ifc, buf, (uint32_t)len, &pkt, DEFAULT_DATA, false),
			 len);
	assert_int_equal(get16(u + 6), 0xffff);
	assert_true(udp4_ok(buf + 14, u));
}

static void test_dp_frame_udp_reply_returns_zero_when_cap_is_one_short(void **state)
{
	uint8_t f[FRAME_MAX] = {0};
	uint8_t before[FRAME_MAX];
	struct dp_iface ifc = make_iface(IF_DUAL);

	(void)state;
	for (int v6 = 0; v6 <= 1; v6++) {
		const struct fopts o = {0};
		size_t len = v6 ? build_udp6(f, &o) : build_udp4(f, &o);
		struct dp_pkt pkt;
		uint8_t *buf;

		buf = guarded(f, len, len);
		assert_int_equal(dp_frame_answer(&ifc, buf, (uint32_t)len, (uint32_t)len, 0, &pkt),
				 DP_VERDICT_UDP);
		memcpy(before, buf, len);
		assert_int_equal(
		    dp_frame_udp_reply(&ifc, buf, (uint32_t)len, &pkt, DEFAULT_DATA + 1, false), 0);
		assert_int_equal(
		    dp_frame_udp_reply(&ifc, buf, (uint32_t)len, &pkt, UINT32_MAX, false), 0);
		assert_int_equal(dp_frame_udp_reply(&ifc, buf, UINT32_MAX, &pkt, 65536, false), 0);
		assert_memory_equal(buf, before, len);
		assert_int_equal(
		    dp_frame_udp_reply(&ifc, buf, (uint32_t)len, &pkt, DEFAULT_DATA, false), len);
	}
}

static void test_dp_frame_names_every_drop_reason_distinctly(void **state)
{
	static const char *const want[DP_DROP_N] = {
	    "eth_short",     "eth_not_ours",  "ethertype",    "arp_malformed", "arp_not_request",
	    "arp_not_ours",  "ip4_malformed", "ip4_cksum",    "ip4_fragment",  "ip4_not_ours",
	    "ip6_malformed", "ip6_not_ours",  "ip_proto",     "ip_src",	       "icmp_malformed",
	    "icmp_type",     "ndp_malformed", "ndp_not_ours", "udp_malformed", "udp_cksum",
	    "udp_port",	     "no_room",	      "kernel_owned",
	};

	(void)state;
	for (int d = 0; d < DP_DROP_N; d++) {
		assert_non_null(want[d]);
		assert_string_equal(dp_drop_name((enum dp_drop)d), want[d]);
	}
	assert_string_equal(dp_drop_name(DP_DROP_N), "unknown");
	assert_string_equal(dp_drop_name((enum dp_drop)1000), "unknown");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_dp_frame_parse_follows_the_frame_table),
	    cmocka_unit_test(test_dp_frame_answers_an_arp_request_with_exact_reply_bytes),
	    cmocka_unit_test(test_dp_frame_keeps_the_vlan_tag_in_an_arp_reply),
	    cmocka_unit_test(test_dp_frame_echoes_icmp_data_with_valid_checksums),
	    cmocka_unit_test(test_dp_frame_finds_udp_behind_every_ipv4_header_length),
	    cmocka_unit_test(test_dp_frame_finds_a_short_datagram_in_a_padded_60_byte_frame),
	    cmocka_unit_test(test_dp_frame_finds_udp_behind_a_vlan_tag),
	    cmocka_unit_test(test_dp_frame_never_takes_a_v4_mapped_ipv6_source_for_ipv4),
	    cmocka_unit_test(test_dp_frame_answers_an_icmpv6_echo_with_a_valid_checksum),
	    cmocka_unit_test(test_dp_frame_answers_a_solicitation_with_an_exact_advertisement),
	    cmocka_unit_test(test_dp_frame_grows_a_bare_solicitation_into_an_advertisement),
	    cmocka_unit_test(test_dp_frame_survives_every_truncation_of_valid_frames),
	    cmocka_unit_test(test_dp_frame_turns_an_ipv4_datagram_around),
	    cmocka_unit_test(test_dp_frame_turns_an_ipv6_datagram_around),
	    cmocka_unit_test(test_dp_frame_leaves_pseudo_header_sums_for_checksum_offload),
	    cmocka_unit_test(test_dp_frame_sends_a_zero_udp_checksum_as_ffff),
	    cmocka_unit_test(test_dp_frame_udp_reply_returns_zero_when_cap_is_one_short),
	    cmocka_unit_test(test_dp_frame_names_every_drop_reason_distinctly),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
