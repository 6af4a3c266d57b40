/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * dp_xdp_prog.c - the XDP program of a shared port (docs/DESIGN.md,
 * docs/OPERATIONS.md), built with clang -target bpf and handed to
 * net_af_xdp as its xdp_prog.
 *
 * The kernel owns the interface and its addresses. This program takes from
 * it only what dptrack answers: IPv4 and IPv6 UDP, untagged or behind one
 * 802.1Q tag, to the port's address and one of the tracker's UDP ports, not
 * an IPv4 fragment. Those go to the AF_XDP socket of the frame's RX queue;
 * everything else (ARP, NDP, ICMP, TCP, other UDP) passes to the kernel, as
 * does tracker UDP on a queue without a socket (bpf_redirect_map's XDP_PASS
 * fallback), so a dptrack that died leaves the kernel in charge.
 *
 * One function of early returns, each header bounds-checked against
 * data_end before it is read, each verdict counted per CPU. The loader
 * (dp_xdp.c) writes the configuration once the sockets are in place; until
 * then everything passes. Checksums and sources are dptrack's to check.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/udp.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include "dp_xdp_maps.h"

/* IEEE 802.1Q tag, after the source MAC (the uapi has no struct for it). */
struct dp_vlan {
	__be16 tci;
	__be16 type;
};

/* RFC 791 flags and fragment offset: MF, and the offset's 13 bits. */
#define IP4_MF_OFFSET 0x3fff

struct {
	__uint(type, BPF_MAP_TYPE_XSKMAP);
	__uint(max_entries, DP_XDP_MAX_QUEUES);
	__type(key, __u32);
	__type(value, __u32);
} xsks_map SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct dp_xdp_conf);
} dp_xdp_conf SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, DP_XDP_N);
	__type(key, __u32);
	__type(value, __u64);
} dp_xdp_stats SEC(".maps");

/* Counts reason on this CPU; returns action. */
static __always_inline int verdict(enum dp_xdp_reason reason, int action)
{
	__u32 key = reason;
	__u64 *n = bpf_map_lookup_elem(&dp_xdp_stats, &key);

	if (n != NULL)
		*n += 1;
	return action;
}

/* True if port (network order) is one of the tracker's. Unrolled: 16 compares. */
static __always_inline int port_ours(const struct dp_xdp_conf *conf, __u16 port)
{
#pragma unroll
	for (int i = 0; i < DP_XDP_MAX_PORTS; i++)
		if (conf->ports[i] == port && port != 0)
			return 1;
	return 0;
}

SEC("xdp")
int dp_xdp_steer(struct xdp_md *ctx)
{
	/* XDP hands the frame over as integers the verifier knows as pointers. */
	/* NOLINTNEXTLINE(performance-no-int-to-ptr) */
	void *data = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;
	__u32 zero = 0;
	const struct dp_xdp_conf *conf = bpf_map_lookup_elem(&dp_xdp_conf, &zero);
	struct ethhdr *eth = data;
	struct udphdr *udp;
	void *l3 = eth + 1;
	__be16 type;

	if (conf == NULL || !conf->enabled)
		return verdict(DP_XDP_PASS_OFF, XDP_PASS);
	if (l3 > end)
		return verdict(DP_XDP_PASS_SHORT, XDP_PASS);
	type = eth->h_proto;
	if (type == bpf_htons(ETH_P_8021Q)) {
		struct dp_vlan *tag = l3;

		if ((void *)(tag + 1) > end)
			return verdict(DP_XDP_PASS_SHORT, XDP_PASS);
		type = tag->type;
		l3 = tag + 1;
	}
	if (type == bpf_htons(ETH_P_IP)) {
		struct iphdr *ip = l3;

		if ((void *)(ip + 1) > end)
			return verdict(DP_XDP_PASS_SHORT, XDP_PASS);
		if (ip->version != 4 || ip->ihl < 5)
			return verdict(DP_XDP_PASS_MALFORMED, XDP_PASS);
		if (ip->protocol != IPPROTO_UDP)
			return verdict(DP_XDP_PASS_NOT_UDP, XDP_PASS);
		if (ip->frag_off & bpf_htons(IP4_MF_OFFSET))
			return verdict(DP_XDP_PASS_FRAGMENT, XDP_PASS);
		if (!conf->has_ip4 || ip->daddr != conf->ip4)
			return verdict(DP_XDP_PASS_OTHER_ADDR, XDP_PASS);
		udp = (void *)ip + (long)ip->ihl * 4;
	} else if (type == bpf_htons(ETH_P_IPV6)) {
		struct ipv6hdr *ip6 = l3;
		const __u32 *dst;

		if ((void *)(ip6 + 1) > end)
			return verdict(DP_XDP_PASS_SHORT, XDP_PASS);
		if (ip6->version != 6)
			return verdict(DP_XDP_PASS_MALFORMED, XDP_PASS);
		if (ip6->nexthdr != IPPROTO_UDP)
			return verdict(DP_XDP_PASS_NOT_UDP, XDP_PASS);
		dst = ip6->daddr.in6_u.u6_addr32;
		if (!conf->has_ip6 || dst[0] != conf->ip6[0] || dst[1] != conf->ip6[1] ||
		    dst[2] != conf->ip6[2] || dst[3] != conf->ip6[3])
			return verdict(DP_XDP_PASS_OTHER_ADDR, XDP_PASS);
		udp = (void *)(ip6 + 1);
	} else {
		return verdict(DP_XDP_PASS_NOT_IP, XDP_PASS);
	}
	if ((void *)(udp + 1) > end)
		return verdict(DP_XDP_PASS_SHORT, XDP_PASS);
	if (!port_ours(conf, udp->dest))
		return verdict(DP_XDP_PASS_OTHER_PORT, XDP_PASS);
	if (bpf_redirect_map(&xsks_map, ctx->rx_queue_index, XDP_PASS) != XDP_REDIRECT)
		return verdict(DP_XDP_PASS_NO_SOCKET, XDP_PASS);
	return verdict(DP_XDP_REDIRECT, XDP_REDIRECT);
}

char LICENSE[] SEC("license") = "BSD";
