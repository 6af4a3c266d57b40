/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * dp_frame.h - Ethernet/ARP/IPv4/IPv6/ICMP/NDP/UDP on a plain buffer.
 *
 * The lcore hands each received frame to dp_frame_answer(), which either
 * answers it in place (ARP request, ICMP/ICMPv6 echo, neighbour
 * solicitation), drops it with a reason, or finds a datagram for one of the
 * tracker's UDP ports. For the latter the caller runs the tracker on the
 * payload, writing the reply over the request, and dp_frame_udp_reply()
 * turns the frame around: MACs, addresses and ports swapped, lengths and
 * checksums written. No mbuf and no ethdev here, so the whole layer is
 * unit-tested and fuzzed on plain buffers.
 *
 * Reads never go past `len`; writes never past `cap`.
 */
#ifndef DPTRACK_DPDK_DP_FRAME_H
#define DPTRACK_DPDK_DP_FRAME_H

#include <stdbool.h>
#include <stdint.h>

#include "core/addr.h"

#define DP_ETHER_ADDR_LEN 6

/* What one port is: its MAC and addresses, and the tracker's UDP ports. */
struct dp_iface {
	uint8_t mac[DP_ETHER_ADDR_LEN];
	bool has_ip4, has_ip6;
	bool shared; /* the kernel's interface: ARP, ICMP and NDP are its to answer */
	uint8_t ip4[4];
	uint8_t ip6[16];
	uint16_t udp_ports[16]; /* host order */
	unsigned n_udp_ports;
};

/* What the NIC already checked (from mbuf ol_flags), so it is not redone. */
enum dp_rx_flags {
	DP_RX_IP_CKSUM_GOOD = 1 << 0,
	DP_RX_IP_CKSUM_BAD = 1 << 1,
	DP_RX_L4_CKSUM_GOOD = 1 << 2,
	DP_RX_L4_CKSUM_BAD = 1 << 3,
};

/* Why a frame was dropped; each is counted under dp_drop_name(). */
enum dp_drop {
	DP_DROP_ETH_SHORT,	 /* under 14 bytes, or a VLAN tag cut short */
	DP_DROP_ETH_NOT_OURS,	 /* unicast to another MAC */
	DP_DROP_ETHERTYPE,	 /* not ARP/IPv4/IPv6, or a second VLAN tag */
	DP_DROP_ARP_MALFORMED,	 /* short, or not Ethernet/IPv4 ARP */
	DP_DROP_ARP_NOT_REQUEST, /* replies and other opcodes */
	DP_DROP_ARP_NOT_OURS,	 /* asks for another address */
	DP_DROP_IP4_MALFORMED,	 /* short, version != 4, IHL < 5, total length lies */
	DP_DROP_IP4_CKSUM,	 /* header checksum wrong */
	DP_DROP_IP4_FRAGMENT,	 /* MF set or offset != 0 */
	DP_DROP_IP4_NOT_OURS,	 /* destination is not our address */
	DP_DROP_IP6_MALFORMED,	 /* short, version != 6, payload length lies */
	DP_DROP_IP6_NOT_OURS,	 /* destination not ours nor our solicited-node group */
	DP_DROP_IP_PROTO,	 /* not UDP/ICMP/ICMPv6 (IPv6 extension headers too) */
	DP_DROP_IP_SRC,		 /* a source no peer can have: unspecified, loopback, multicast,
				  * broadcast, ours, IPv4-mapped IPv6 (RFC 4291 2.5.5.2),
				  * or link-local for UDP */
	DP_DROP_ICMP_MALFORMED,	 /* short, or checksum wrong */
	DP_DROP_ICMP_TYPE,	 /* not an echo request (or NS for ICMPv6) */
	DP_DROP_NDP_MALFORMED,	 /* NS with hop limit != 255, code != 0, bad option */
	DP_DROP_NDP_NOT_OURS,	 /* NS for another target, or DAD (source ::) */
	DP_DROP_UDP_MALFORMED,	 /* short, or length lies */
	DP_DROP_UDP_CKSUM,	 /* checksum wrong (IPv6: also zero) */
	DP_DROP_UDP_PORT,	 /* not one of the tracker's ports */
	DP_DROP_NO_ROOM,	 /* the reply would not fit the buffer */
	DP_DROP_KERNEL_OWNED,	 /* ARP, ICMP or ICMPv6 (NDP too) on a shared port */
	DP_DROP_N,
};

/* Returns a static name: "eth_short", "ip4_cksum", ... (snake case of the
 * enum without DP_DROP_), or "unknown". */
const char *dp_drop_name(enum dp_drop d);

enum dp_verdict {
	DP_VERDICT_DROP,  /* pkt->drop says why */
	DP_VERDICT_REPLY, /* answered in place: send pkt->reply_len bytes */
	DP_VERDICT_UDP,	  /* a tracker datagram: see pkt->payload, pkt->src */
};

/* Where a parsed frame's layers are, for dp_frame_udp_reply(). */
struct dp_pkt {
	enum dp_drop drop;    /* with DP_VERDICT_DROP */
	uint32_t reply_len;   /* with DP_VERDICT_REPLY */
	uint16_t l3_off;      /* 14, or 18 behind a VLAN tag */
	uint16_t l4_off;      /* IPv4 after options; IPv6 40 bytes after l3 */
	uint16_t payload_off; /* UDP payload */
	uint16_t payload_len;
	bool ipv6;
	struct tr_addr src; /* the client: address and UDP source port */
};

/*
 * Answers what the frame layer itself can, in place, and classifies the
 * rest: looks at one received frame of len bytes in buf (cap bytes
 * writable). Not a pure parse: a DP_VERDICT_REPLY frame has been rewritten
 * into its reply.
 *
 * Ethernet with at most one 802.1Q tag (kept in any reply); frames to our MAC,
 * to broadcast, or to IPv6 multicast (33:33:...) are considered. ARP
 * requests for our IPv4, ICMP echo requests and ICMPv6 echo requests to our
 * addresses, and neighbour solicitations for our IPv6 (answered with a
 * solicited, override advertisement carrying our MAC) are answered in place
 * and return DP_VERDICT_REPLY. IPv4 options are skipped; fragments dropped;
 * the IPv4 header checksum, ICMP checksums and UDP checksums (when not zero;
 * IPv6 UDP must have one) are verified unless rx_flags says the NIC did.
 * Trailing bytes after the IP datagram (Ethernet padding) are ignored.
 * On a shared port (ifc->shared) the kernel owns the addresses: ARP, ICMP
 * and ICMPv6 are never answered (DP_DROP_KERNEL_OWNED; its XDP program
 * hands dptrack none), only the tracker's UDP is found.
 */
enum dp_verdict dp_frame_answer(const struct dp_iface *ifc, uint8_t *buf, uint32_t len,
				uint32_t cap, unsigned rx_flags, struct dp_pkt *pkt);

/*
 * Turns a DP_VERDICT_UDP frame into the reply carrying payload_len bytes
 * already written at buf + pkt->payload_off: Ethernet source our MAC,
 * destination the request's source (a routed request goes back to its
 * router), VLAN tag kept, IP addresses and UDP ports swapped, IPv4 TTL / IPv6
 * hop limit 64, lengths set. Checksums: with hw_cksum false, the IPv4 header
 * and UDP checksums are computed here; with hw_cksum true the IPv4 checksum
 * is zeroed and the UDP checksum holds the pseudo-header sum, as NIC offload
 * expects. Returns the frame length, or 0 (having written nothing) if it
 * would exceed cap or a 16-bit IP or UDP length field.
 */
uint32_t dp_frame_udp_reply(const struct dp_iface *ifc, uint8_t *buf, uint32_t cap,
			    const struct dp_pkt *pkt, uint32_t payload_len, bool hw_cksum);

#endif
