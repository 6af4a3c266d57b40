/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * wire_dpdk.c - dpt-load on a DPDK ethdev port: the wire a NIC would be.
 * With net_memif (role=client) facing dptrack's net_memif (role=server),
 * two processes exchange frames through shared memory, one lcore each.
 *
 * Frames are Ethernet + IPv4/IPv6 + UDP, built here with software checksums
 * (memif has no offloads, and dptrack verifies them). Client c sends from
 * 198.19.0.0/16 + c + 1 or fd00:b::/64 + c + 1, UDP port LOAD_CLIENT_PORT.
 * The tracker's MAC comes from an ARP request for the target IPv4 (sent
 * from self4), or from dst_mac. Each queue pair is driven by one lcore
 * (work->p.queues of them): a wire object per queue, sharing the port and
 * the mbuf pool (whose per-lcore caches need no lock). memif has no RSS:
 * the TX queue a frame leaves on is the tracker's RX queue, and so the
 * worker that answers it, on the same queue back.
 */
#include "load.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <rte_cycles.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>

#include "core/wire.h"

#define DPDK_MBUFS	  8192 /* per queue: rings of 1024 each way plus bursts in hand */
#define DPDK_RING	  1024
#define DPDK_ARP_TRIES	  50 /* 100 ms apart */
#define DPDK_LINK_WAIT_MS 10000

#define ETH_LEN	  14
#define IP4_LEN	  20
#define IP6_LEN	  40
#define UDP_LEN	  8
#define ET_IP4	  0x0800
#define ET_ARP	  0x0806
#define ET_IP6	  0x86dd
#define PROTO_UDP 17

struct wire_dpdk {
	struct load_wire base;
	const struct load_work *work;
	uint16_t port_id, dport;
	uint16_t queue, n_queues; /* this wire's queue pair, of the port's */
	struct rte_mempool *pool;
	uint8_t mac[6], dst_mac[6];
	uint8_t self4[4], dst4[4], dst6[16];
	bool has4, has6, have_dst_mac;
	struct rte_mbuf *rx[LOAD_BURST];
	unsigned n_rx;
	uint64_t rx_other, rx_bad, tx_full;
};

/* Ones' complement sum of len bytes added to sum (not yet folded). */
static uint32_t csum_add(const uint8_t *p, size_t len, uint32_t sum)
{
	return __rte_raw_cksum(p, len, sum);
}

/* Folds and inverts; the result goes to memory in native order. */
static uint16_t csum_fin(uint32_t sum)
{
	return (uint16_t)~__rte_raw_cksum_reduce(sum);
}

/* Writes the Ethernet header; returns its length. */
static unsigned put_eth(const struct wire_dpdk *d, uint8_t *f, const uint8_t *dst, uint16_t type)
{
	memcpy(f, dst, 6);
	memcpy(f + 6, d->mac, 6);
	put_be16(f, 12, type);
	return ETH_LEN;
}

/* Builds client c's frame carrying req into f (room checked by the caller);
 * returns the frame length. */
static unsigned build_udp(const struct wire_dpdk *d, uint8_t *f, const struct load_req *req)
{
	bool v6 = d->work->client_v6[req->client];
	uint32_t c = req->client + 1;
	unsigned l3 = put_eth(d, f, d->dst_mac, v6 ? ET_IP6 : ET_IP4);
	unsigned l4 = l3 + (v6 ? IP6_LEN : IP4_LEN);
	uint16_t ulen = (uint16_t)(UDP_LEN + req->len);
	uint8_t pseudo[40];
	uint16_t ck;
	unsigned plen;

	if (v6) {
		uint8_t *ip = f + l3;

		put_be32(ip, 0, 6u << 28);
		put_be16(ip, 4, ulen);
		ip[6] = PROTO_UDP;
		ip[7] = 64;
		static const uint8_t net6[8] = {0xfd, 0x00, 0x00, 0x0b, 0, 0, 0, 0};
		memcpy(ip + 8, net6, 8);
		put_be64(ip, 16, c);
		memcpy(ip + 24, d->dst6, 16);
		memcpy(pseudo, ip + 8, 32);
		put_be32(pseudo, 32, ulen);
		put_be32(pseudo, 36, PROTO_UDP);
		plen = 40;
	} else {
		uint8_t *ip = f + l3;

		ip[0] = 0x45;
		ip[1] = 0;
		put_be16(ip, 2, (uint16_t)(IP4_LEN + ulen));
		put_be32(ip, 4, 0); /* id, flags, fragment offset */
		ip[8] = 64;
		ip[9] = PROTO_UDP;
		put_be16(ip, 10, 0);
		put_be32(ip, 12, (198u << 24 | 19u << 16) + c);
		memcpy(ip + 16, d->dst4, 4);
		ck = csum_fin(csum_add(ip, IP4_LEN, 0));
		memcpy(ip + 10, &ck, 2);
		memcpy(pseudo, ip + 12, 8);
		pseudo[8] = 0;
		pseudo[9] = PROTO_UDP;
		put_be16(pseudo, 10, ulen);
		plen = 12;
	}
	uint8_t *u = f + l4;
	put_be16(u, 0, LOAD_CLIENT_PORT);
	put_be16(u, 2, d->dport);
	put_be16(u, 4, ulen);
	put_be16(u, 6, 0);
	memcpy(u + UDP_LEN, req->data, req->len);
	ck = csum_fin(csum_add(u, ulen, csum_add(pseudo, plen, 0)));
	if (ck == 0)
		ck = 0xffff; /* RFC 768: zero means "no checksum" */
	memcpy(u + 6, &ck, 2);
	return l4 + ulen;
}

static unsigned dpdk_send(struct load_wire *w, const struct load_req *reqs, unsigned n)
{
	struct wire_dpdk *d = (struct wire_dpdk *)w;
	struct rte_mbuf *m[LOAD_BURST];

	if (n > LOAD_BURST)
		n = LOAD_BURST;
	if (rte_pktmbuf_alloc_bulk(d->pool, m, n) != 0) {
		d->tx_full++;
		return 0;
	}
	for (unsigned i = 0; i < n; i++) {
		uint8_t *f = rte_pktmbuf_mtod(m[i], uint8_t *);

		m[i]->data_len = (uint16_t)build_udp(d, f, &reqs[i]);
		m[i]->pkt_len = m[i]->data_len;
	}
	uint16_t sent = rte_eth_tx_burst(d->port_id, d->queue, m, (uint16_t)n);
	if (sent < n) {
		d->tx_full++;
		rte_pktmbuf_free_bulk(m + sent, n - sent);
	}
	return sent;
}

/* The tracker's MAC from an ARP reply for dst4. */
static void rx_arp(struct wire_dpdk *d, const uint8_t *f, unsigned len)
{
	if (len < ETH_LEN + 28 || get_be16(f, ETH_LEN + 6) != 2 ||
	    memcmp(f + ETH_LEN + 14, d->dst4, 4) != 0)
		return;
	memcpy(d->dst_mac, f + ETH_LEN + 8, 6);
	d->have_dst_mac = true;
}

/* Finds the UDP payload of a reply to LOAD_CLIENT_PORT; returns 0 or -1. */
static int rx_udp(const uint8_t *f, unsigned len, struct load_rep *rep)
{
	uint16_t type = get_be16(f, 12);
	unsigned l4;

	if (type == ET_IP4) {
		if (len < ETH_LEN + IP4_LEN || f[ETH_LEN + 9] != PROTO_UDP)
			return -1;
		l4 = ETH_LEN + (f[ETH_LEN] & 0xfu) * 4u;
	} else if (type == ET_IP6) {
		if (len < ETH_LEN + IP6_LEN || f[ETH_LEN + 6] != PROTO_UDP)
			return -1;
		l4 = ETH_LEN + IP6_LEN;
	} else {
		return -1;
	}
	if (len < l4 + UDP_LEN || get_be16(f, l4 + 2) != LOAD_CLIENT_PORT)
		return -1;
	unsigned ulen = get_be16(f, l4 + 4);
	if (ulen < UDP_LEN || l4 + ulen > len)
		return -1;
	rep->data = f + l4 + UDP_LEN;
	rep->len = (uint16_t)(ulen - UDP_LEN);
	return 0;
}

static unsigned dpdk_recv(struct load_wire *w, struct load_rep *reps, unsigned max)
{
	struct wire_dpdk *d = (struct wire_dpdk *)w;
	unsigned n = 0;

	if (max > LOAD_BURST)
		max = LOAD_BURST;
	d->n_rx = rte_eth_rx_burst(d->port_id, d->queue, d->rx, (uint16_t)max);
	for (unsigned i = 0; i < d->n_rx; i++) {
		struct rte_mbuf *m = d->rx[i];
		const uint8_t *f = rte_pktmbuf_mtod(m, const uint8_t *);

		if (i + 1 < d->n_rx)
			rte_prefetch0(rte_pktmbuf_mtod(d->rx[i + 1], void *));
		if (m->nb_segs != 1 || m->data_len < ETH_LEN) {
			d->rx_bad++;
			continue;
		}
		if (get_be16(f, 12) == ET_ARP) {
			rx_arp(d, f, m->data_len);
			d->rx_other++;
			continue;
		}
		if (rx_udp(f, m->data_len, &reps[n]) == 0)
			n++;
		else
			d->rx_other++;
	}
	return n;
}

static void dpdk_recv_done(struct load_wire *w)
{
	struct wire_dpdk *d = (struct wire_dpdk *)w;

	rte_pktmbuf_free_bulk(d->rx, d->n_rx);
	d->n_rx = 0;
}

static void dpdk_wait(struct load_wire *w, int ms)
{
	(void)w;
	(void)ms; /* a poll-mode wire never sleeps */
}

static void dpdk_report(struct load_wire *w)
{
	struct wire_dpdk *d = (struct wire_dpdk *)w;
	struct rte_eth_stats st;

	if (rte_eth_stats_get(d->port_id, &st) != 0)
		memset(&st, 0, sizeof(st));
	if (d->queue == 0)
		printf("wire dpdk: port %u tx %llu rx %llu, rx missed %llu\n", d->port_id,
		       (unsigned long long)st.opackets, (unsigned long long)st.ipackets,
		       (unsigned long long)st.imissed);
	printf("wire dpdk: queue %u tx %llu rx %llu, tx ring full %llu times, rx not ours %llu, "
	       "bad %llu\n",
	       d->queue,
	       (unsigned long long)(d->queue < RTE_ETHDEV_QUEUE_STAT_CNTRS ? st.q_opackets[d->queue]
									   : 0),
	       (unsigned long long)(d->queue < RTE_ETHDEV_QUEUE_STAT_CNTRS ? st.q_ipackets[d->queue]
									   : 0),
	       (unsigned long long)d->tx_full, (unsigned long long)d->rx_other,
	       (unsigned long long)d->rx_bad);
}

/*
 * How long the port stays up, silent, before it closes. DPDK 22.11's memif
 * unmaps its rings from the EAL interrupt thread as soon as the peer
 * leaves, with no wait for an lcore inside rx_burst: a tracker polling
 * the other end then reads unmapped memory (SIGSEGV in librte_net_memif,
 * seen in CI whenever the host held the tracker's vCPU at that moment).
 * After this much silence a tracker with dpdk.idle_sleep_us (the bench's
 * and the soak's) sleeps between polls, RCU-offline, and is almost never
 * inside a burst when the link goes.
 */
#define CLOSE_LINGER_MS 20

/* Queue 0's closes the port and every queue's wire (one allocation). */
static void dpdk_close(struct load_wire *w)
{
	struct wire_dpdk *d = (struct wire_dpdk *)w;

	if (d->queue != 0)
		return;
	for (unsigned q = 0; q < d->n_queues; q++)
		dpdk_recv_done(&d[q].base);
	rte_delay_us_sleep(CLOSE_LINGER_MS * 1000);
	rte_eth_dev_stop(d->port_id);
	rte_eth_dev_close(d->port_id);
	rte_mempool_free(d->pool);
	free(d);
}

/* Configures and starts the port with d->n_queues queue pairs; returns 0
 * or -1. */
static int dpdk_port_start(struct wire_dpdk *d, char *err, size_t errlen)
{
	struct rte_eth_conf conf = {0};
	struct rte_ether_addr mac;
	uint16_t rxd = DPDK_RING, txd = DPDK_RING, nq = d->n_queues;
	int socket = (int)rte_socket_id();
	int ret;

	d->pool = rte_pktmbuf_pool_create("load_mbufs", DPDK_MBUFS * nq - 1, 256, 0,
					  RTE_MBUF_DEFAULT_BUF_SIZE, socket);
	if (d->pool == NULL) {
		snprintf(err, errlen, "rte_pktmbuf_pool_create: %s", rte_strerror(rte_errno));
		return -1;
	}
	ret = rte_eth_dev_configure(d->port_id, nq, nq, &conf);
	if (ret == 0)
		ret = rte_eth_dev_adjust_nb_rx_tx_desc(d->port_id, &rxd, &txd);
	for (uint16_t q = 0; q < nq && ret == 0; q++) {
		ret = rte_eth_rx_queue_setup(d->port_id, q, rxd, (unsigned)socket, NULL, d->pool);
		if (ret == 0)
			ret = rte_eth_tx_queue_setup(d->port_id, q, txd, (unsigned)socket, NULL);
	}
	if (ret == 0)
		ret = rte_eth_macaddr_get(d->port_id, &mac);
	if (ret == 0)
		ret = rte_eth_dev_start(d->port_id);
	if (ret < 0) {
		snprintf(err, errlen, "port %u setup: %s", d->port_id, rte_strerror(-ret));
		return -1;
	}
	memcpy(d->mac, mac.addr_bytes, 6);
	for (unsigned ms = 0; ms < DPDK_LINK_WAIT_MS; ms += 10) {
		struct rte_eth_link link;

		if (rte_eth_link_get_nowait(d->port_id, &link) == 0 && link.link_status)
			return 0;
		rte_delay_ms(10);
	}
	snprintf(err, errlen, "port %u: link still down after %u ms (is the tracker up?)",
		 d->port_id, DPDK_LINK_WAIT_MS);
	return -1;
}

/* Asks who has dst4 until an ARP reply says; returns 0 or -1. */
static int dpdk_arp(struct wire_dpdk *d, char *err, size_t errlen)
{
	static const uint8_t bcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
	struct load_rep reps[LOAD_BURST];

	for (unsigned t = 0; t < DPDK_ARP_TRIES && !d->have_dst_mac; t++) {
		struct rte_mbuf *m = rte_pktmbuf_alloc(d->pool);

		if (m == NULL)
			break;
		uint8_t *f = rte_pktmbuf_mtod(m, uint8_t *);
		unsigned a = put_eth(d, f, bcast, ET_ARP);
		put_be16(f, a, 1); /* Ethernet */
		put_be16(f, a + 2, ET_IP4);
		f[a + 4] = 6;
		f[a + 5] = 4;
		put_be16(f, a + 6, 1); /* request */
		memcpy(f + a + 8, d->mac, 6);
		memcpy(f + a + 14, d->self4, 4);
		memset(f + a + 18, 0, 6);
		memcpy(f + a + 24, d->dst4, 4);
		m->data_len = m->pkt_len = 60; /* padded to the Ethernet minimum */
		memset(f + a + 28, 0, 60 - a - 28);
		if (rte_eth_tx_burst(d->port_id, d->queue, &m, 1) != 1)
			rte_pktmbuf_free(m);
		for (unsigned ms = 0; ms < 100 && !d->have_dst_mac; ms++) {
			(void)dpdk_recv(&d->base, reps, LOAD_BURST);
			dpdk_recv_done(&d->base);
			rte_delay_ms(1);
		}
	}
	if (!d->have_dst_mac) {
		snprintf(err, errlen, "no ARP reply from the tracker's IPv4 address");
		return -1;
	}
	return 0;
}

/* Parses the addresses and MAC given; returns 0 or -1. */
static int dpdk_addrs(struct wire_dpdk *d, const char *self4, const char *target4,
		      const char *target6, const char *dst_mac, char *err, size_t errlen)
{
	struct rte_ether_addr mac;

	d->has4 = target4 != NULL;
	d->has6 = target6 != NULL;
	if ((target4 != NULL && inet_pton(AF_INET, target4, d->dst4) != 1) ||
	    (target6 != NULL && inet_pton(AF_INET6, target6, d->dst6) != 1) ||
	    inet_pton(AF_INET, self4, d->self4) != 1) {
		snprintf(err, errlen, "bad address in --target4/--target6/--self4");
		return -1;
	}
	if (dst_mac != NULL) {
		if (rte_ether_unformat_addr(dst_mac, &mac) != 0) {
			snprintf(err, errlen, "bad MAC: %s", dst_mac);
			return -1;
		}
		memcpy(d->dst_mac, mac.addr_bytes, 6);
		d->have_dst_mac = true;
	} else if (!d->has4) {
		snprintf(err, errlen, "without --target4 the tracker's MAC must be given");
		return -1;
	}
	for (uint32_t c = 0; c < d->work->p.clients; c++) {
		if (d->work->client_v6[c] ? !d->has6 : !d->has4) {
			snprintf(err, errlen, "the workload has IPv%c clients but no --target%c",
				 d->work->client_v6[c] ? '6' : '4',
				 d->work->client_v6[c] ? '6' : '4');
			return -1;
		}
	}
	if (d->work->p.clients > 65534) {
		snprintf(err, errlen, "at most 65534 clients (198.19.0.0/16)");
		return -1;
	}
	return 0;
}

struct load_wire *load_wire_dpdk_new(const struct load_work *work, const char *device,
				     const char *self4, const char *target4, const char *target6,
				     const char *dst_mac, uint16_t port, char *err, size_t errlen)
{
	unsigned nq = work->p.queues > 1 ? work->p.queues : 1;
	struct wire_dpdk *d = calloc(nq, sizeof(*d));

	if (d == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	d->work = work;
	d->dport = port;
	d->n_queues = (uint16_t)nq;
	d->base = (struct load_wire){
	    .name = "dpdk",
	    .send = dpdk_send,
	    .recv = dpdk_recv,
	    .recv_done = dpdk_recv_done,
	    .wait = dpdk_wait,
	    .report = dpdk_report,
	    .close = dpdk_close,
	};
	if (dpdk_addrs(d, self4, target4, target6, dst_mac, err, errlen) < 0)
		goto fail;
	if (rte_eth_dev_get_port_by_name(device, &d->port_id) != 0) {
		snprintf(err, errlen, "no ethdev port %s (give it with --vdev after --)", device);
		goto fail;
	}
	if (dpdk_port_start(d, err, errlen) < 0)
		goto fail_port;
	if (!d->have_dst_mac && dpdk_arp(d, err, errlen) < 0)
		goto fail_port;
	for (unsigned q = 1; q < nq; q++) {
		d[q] = d[0];
		d[q].queue = (uint16_t)q;
		d[q].n_rx = 0;
		d[q].rx_other = d[q].rx_bad = d[q].tx_full = 0;
	}
	return &d->base;
fail_port:
	rte_eth_dev_stop(d->port_id);
	rte_eth_dev_close(d->port_id);
	rte_mempool_free(d->pool);
fail:
	free(d);
	return NULL;
}

struct load_wire *load_wire_dpdk_queue(struct load_wire *w0, unsigned q)
{
	struct wire_dpdk *d = (struct wire_dpdk *)w0;

	return q < d->n_queues ? &d[q].base : NULL;
}
