/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * dp_xdp_maps.h - what the XDP program of shared ports (dp_xdp_prog.c, built
 * for BPF) and its loader (dp_xdp.c, built for the host) share: the names
 * and layouts of its maps, and why it passes a frame.
 *
 * Kernel types only (linux/types.h), so both compilers read it the same.
 * The loader finds the maps by name in the program the kernel has attached;
 * a map's name is at most 15 characters (BPF_OBJ_NAME_LEN).
 */
#ifndef DPTRACK_DPDK_XDP_DP_XDP_MAPS_H
#define DPTRACK_DPDK_XDP_DP_XDP_MAPS_H

#include <linux/types.h>

/* The map net_af_xdp's xdp_prog devarg needs, by that name: key the RX
 * queue, value an AF_XDP socket, which the PMD inserts per queue. */
#define DP_XDP_XSKS_MAP	  "xsks_map"
#define DP_XDP_MAX_QUEUES 64

/* One struct dp_xdp_conf at key 0, written by the loader. */
#define DP_XDP_CONF_MAP "dp_xdp_conf"

/* Per-CPU __u64 counters, one per enum dp_xdp_reason. */
#define DP_XDP_STATS_MAP "dp_xdp_stats"

/* The tracker's UDP ports, at most (CFG_MAX_UDP_PORTS). */
#define DP_XDP_MAX_PORTS 16

/*
 * What the program redirects: UDP to ip4 or ip6 and one of ports. Addresses
 * and ports are in network order; a port of 0 is an unused slot. Until
 * enabled is set (last, by the loader), every frame passes to the kernel.
 */
struct dp_xdp_conf {
	__u32 enabled;
	__u32 has_ip4, has_ip6;
	__u32 ip4;
	__u32 ip6[4];
	__u16 ports[DP_XDP_MAX_PORTS];
};

/* Every frame is counted once, under the first of these that holds. */
enum dp_xdp_reason {
	DP_XDP_REDIRECT,	/* tracker UDP, handed to the socket of its RX queue */
	DP_XDP_PASS_OFF,	/* not configured yet: the kernel gets everything */
	DP_XDP_PASS_SHORT,	/* the frame ends inside a header */
	DP_XDP_PASS_NOT_IP,	/* ARP, any other ethertype, a second VLAN tag */
	DP_XDP_PASS_MALFORMED,	/* IP version, or IPv4 header length, wrong */
	DP_XDP_PASS_NOT_UDP,	/* ICMP, ICMPv6 (so NDP), TCP, IPv6 extension headers, ... */
	DP_XDP_PASS_FRAGMENT,	/* an IPv4 fragment: the kernel reassembles it */
	DP_XDP_PASS_OTHER_ADDR, /* UDP to another address */
	DP_XDP_PASS_OTHER_PORT, /* UDP to another port */
	DP_XDP_PASS_NO_SOCKET,	/* tracker UDP on a queue dptrack does not read */
	DP_XDP_N,
};

#endif
