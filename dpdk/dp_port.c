/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * dp_port.c - from a dpdk.ports entry to a started ethdev port.
 *
 * A device is found by name if EAL already has it (a PCI NIC, or a vdev given
 * with --vdev); otherwise the entry is taken as devargs and hot-plugged
 * (`net_tap0`, `net_af_packet0,iface=veth0`); a shared port's devargs are
 * dp_shared.c's. Each port gets one RX and one TX queue per worker lcore, RSS over IP and UDP when
 * there is more than one and the device can, checksum offloads when it has them, and its own mbuf
 * pool on its NUMA socket.
 */
#include "dp_app.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include <rte_bus.h>
#include <rte_cycles.h>
#include <rte_dev.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_mbuf_dyn.h>

/* mbufs each lcore keeps to itself; the pool must hold them on top of the
 * rings (DPDK's guideline: well under n / 1.5). */
#define DP_POOL_CACHE 256

/* At exit, a port that keeps mbufs past close gets this many tries, 1 ms
 * apart, to complete the replies it was last given (a NIC in zero-copy
 * mode completes after the wire; a veth's copy mode at once). */
#define DP_TX_REAP_TRIES 10

/* The PMD that keeps its fill rings' mbufs past close (see dp_ports_fini). */
#define DP_AF_XDP_DRIVER "net_af_xdp"

/* Finds or hot-plugs the device named by devargs; returns 0 and its port. */
static int port_find(const char *devargs, uint16_t *port_id, char *name, size_t namelen, char *err,
		     size_t errlen)
{
	size_t n = strcspn(devargs, ",");
	int ret;

	if (n >= namelen) {
		snprintf(err, errlen, "device name too long: %s", devargs);
		return -ENAMETOOLONG;
	}
	memcpy(name, devargs, n);
	name[n] = '\0';
	if (rte_eth_dev_get_port_by_name(name, port_id) == 0)
		return 0;
	ret = rte_dev_probe(devargs);
	if (ret < 0) {
		snprintf(err, errlen, "rte_dev_probe(%s): %s", devargs, rte_strerror(-ret));
		return ret;
	}
	if (rte_eth_dev_get_port_by_name(name, port_id) != 0) {
		snprintf(err, errlen, "%s: probed, but no ethdev port by that name", name);
		return -ENODEV;
	}
	return 0;
}

/* Chooses RSS and offloads from what the device offers. */
static void port_conf(const struct rte_eth_dev_info *info, unsigned nq, struct rte_eth_conf *conf,
		      struct dp_port *p, bool replay)
{
	const uint64_t tx_ck = RTE_ETH_TX_OFFLOAD_IPV4_CKSUM | RTE_ETH_TX_OFFLOAD_UDP_CKSUM;
	const uint64_t rx_ck = RTE_ETH_RX_OFFLOAD_IPV4_CKSUM | RTE_ETH_RX_OFFLOAD_UDP_CKSUM;

	memset(conf, 0, sizeof(*conf));
	uint64_t rss = info->flow_type_rss_offloads & (RTE_ETH_RSS_IP | RTE_ETH_RSS_UDP);
	if (nq > 1 && rss != 0) {
		conf->rxmode.mq_mode = RTE_ETH_MQ_RX_RSS;
		conf->rx_adv_conf.rss_conf.rss_hf = rss;
	}
	p->tx_cksum = (info->tx_offload_capa & tx_ck) == tx_ck;
	p->rx_cksum = (info->rx_offload_capa & rx_ck) == rx_ck;
	if (p->tx_cksum)
		conf->txmode.offloads |= tx_ck;
	if (p->rx_cksum)
		conf->rxmode.offloads |= rx_ck;
	if (replay && (info->rx_offload_capa & RTE_ETH_RX_OFFLOAD_TIMESTAMP))
		conf->rxmode.offloads |= RTE_ETH_RX_OFFLOAD_TIMESTAMP;
}

/* Copies a configured port's addresses (a shared port's came from its
 * interface already) and the tracker ports into ifc. */
static void port_iface(const struct cfg *cfg, const struct cfg_port *cp, struct dp_iface *ifc)
{
	ifc->shared = cp->shared;
	if (!cp->shared) {
		ifc->has_ip4 = cp->has_ipv4;
		ifc->has_ip6 = cp->has_ipv6;
		memcpy(ifc->ip4, cp->ipv4.addr, 4);
		memcpy(ifc->ip6, cp->ipv6.addr, 16);
	}
	ifc->n_udp_ports = RTE_MIN(cfg->udp.n_ports, RTE_DIM(ifc->udp_ports));
	memcpy(ifc->udp_ports, cfg->udp.ports, ifc->n_udp_ports * sizeof(ifc->udp_ports[0]));
}

static int port_init(struct dp_app *app, unsigned i, char *err, size_t errlen)
{
	const struct cfg *cfg = app->cfg;
	struct dp_port *p = &app->ports[i];
	uint16_t nq = (uint16_t)app->n_workers;
	uint16_t rxd = (uint16_t)cfg->dpdk.rx_desc, txd = (uint16_t)cfg->dpdk.tx_desc;
	struct rte_eth_dev_info info;
	struct rte_eth_conf conf;
	struct rte_ether_addr mac;
	char pool[RTE_MEMPOOL_NAMESIZE], devargs[PATH_MAX + CFG_DEVICE_MAX + 64];
	const char *device = cfg->dpdk.ports[i].device;
	int ret;

	dp_xdp_init(&p->xdp);
	p->xdp_claim = -1;
	if (cfg->dpdk.ports[i].shared) {
		ret = dp_shared_prepare(app, i, devargs, sizeof(devargs), err, errlen);
		if (ret < 0)
			return ret;
		device = devargs;
	}
	ret = port_find(device, &p->port_id, p->name, sizeof(p->name), err, errlen);
	if (ret < 0)
		return ret;
	p->probed = true;
	ret = rte_eth_dev_info_get(p->port_id, &info);
	if (ret < 0) {
		snprintf(err, errlen, "%s: rte_eth_dev_info_get: %s", p->name, rte_strerror(-ret));
		return ret;
	}
	if (info.max_rx_queues < nq || info.max_tx_queues < nq) {
		snprintf(err, errlen, "%s: %u worker lcores need %u queues, the device has %u/%u",
			 p->name, nq, nq, info.max_rx_queues, info.max_tx_queues);
		return -EINVAL;
	}
	port_conf(&info, nq, &conf, p, cfg->dpdk.replay);
	ret = rte_eth_dev_configure(p->port_id, nq, nq, &conf);
	if (ret == 0)
		ret = rte_eth_dev_adjust_nb_rx_tx_desc(p->port_id, &rxd, &txd);
	if (ret < 0) {
		snprintf(err, errlen, "%s: rte_eth_dev_configure: %s", p->name, rte_strerror(-ret));
		return ret;
	}

	int socket = rte_eth_dev_socket_id(p->port_id);
	if (socket < 0)
		socket = (int)rte_socket_id();
	/* Named by ethdev port, unique in the process (two apps, as tests make). */
	snprintf(pool, sizeof(pool), "mbufs_p%u", p->port_id);
	p->pool = rte_pktmbuf_pool_create(pool, cfg->dpdk.mbufs, DP_POOL_CACHE, 0,
					  RTE_MBUF_DEFAULT_BUF_SIZE, socket);
	if (p->pool == NULL) {
		snprintf(err, errlen, "%s: rte_pktmbuf_pool_create(%u mbufs): %s", p->name,
			 cfg->dpdk.mbufs, rte_strerror(rte_errno));
		return -rte_errno;
	}
	for (uint16_t q = 0; q < nq; q++) {
		struct rte_eth_rxconf rxc = info.default_rxconf;
		struct rte_eth_txconf txc = info.default_txconf;

		rxc.offloads = conf.rxmode.offloads;
		txc.offloads = conf.txmode.offloads;
		ret = rte_eth_rx_queue_setup(p->port_id, q, rxd, (unsigned)socket, &rxc, p->pool);
		if (ret == 0)
			ret = rte_eth_tx_queue_setup(p->port_id, q, txd, (unsigned)socket, &txc);
		if (ret < 0) {
			snprintf(err, errlen, "%s: queue %u setup: %s", p->name, q,
				 rte_strerror(-ret));
			return ret;
		}
	}
	p->n_queues = nq;
	ret = rte_eth_macaddr_get(p->port_id, &mac);
	if (ret == 0)
		ret = rte_eth_dev_start(p->port_id);
	if (ret < 0) {
		snprintf(err, errlen, "%s: rte_eth_dev_start: %s", p->name, rte_strerror(-ret));
		return ret;
	}
	p->started = true;
	/* No lcore runs yet: what is out of the pool now sits in the fill rings. */
	if (strcmp(info.driver_name, DP_AF_XDP_DRIVER) == 0)
		p->pmd_keeps = rte_mempool_in_use_count(p->pool);
	memcpy(p->ifc.mac, mac.addr_bytes, sizeof(p->ifc.mac));
	port_iface(cfg, &cfg->dpdk.ports[i], &p->ifc);
	if (p->shared) {
		ret = dp_shared_start(app, p, err, errlen);
		if (ret < 0)
			return ret;
	}
	DP_LOG(INFO,
	       "port %s: %02x:%02x:%02x:%02x:%02x:%02x, %u queues, checksum offload rx %s tx %s\n",
	       p->name, mac.addr_bytes[0], mac.addr_bytes[1], mac.addr_bytes[2], mac.addr_bytes[3],
	       mac.addr_bytes[4], mac.addr_bytes[5], nq, p->rx_cksum ? "on" : "off",
	       p->tx_cksum ? "on" : "off");
	return 0;
}

int dp_ports_init(struct dp_app *app, char *err, size_t errlen)
{
	if (app->cfg->dpdk.replay &&
	    rte_mbuf_dyn_rx_timestamp_register(&app->ts_offset, &app->ts_flag) != 0) {
		snprintf(err, errlen, "rte_mbuf_dyn_rx_timestamp_register: %s",
			 rte_strerror(rte_errno));
		return -rte_errno;
	}
	for (unsigned i = 0; i < app->cfg->dpdk.n_ports; i++) {
		/* Counted before it is up, so dp_ports_fini() undoes a half-done one. */
		app->n_ports = i + 1;
		int ret = port_init(app, i, err, errlen);

		if (ret < 0)
			return ret;
	}
	return 0;
}

/*
 * Takes back the mbufs of replies the device has sent and the PMD has not
 * freed yet; the workers have stopped, so the queues are ours. A PMD that
 * has no tx_done_cleanup and keeps mbufs past close is net_af_xdp: it frees
 * a sent mbuf when a later TX burst reads the completion ring
 * (pull_umem_cq() in DPDK 22.11's drivers/net/af_xdp/rte_eth_af_xdp.c), so
 * the last burst's replies stay out until an empty burst reaps them.
 */
static void port_reap_tx(const struct dp_port *p)
{
	struct rte_mbuf *none[1];

	for (unsigned t = 0; t < DP_TX_REAP_TRIES; t++) {
		for (uint16_t q = 0; q < p->n_queues; q++)
			if (rte_eth_tx_done_cleanup(p->port_id, q, 0) == -ENOTSUP &&
			    p->pmd_keeps != 0)
				(void)rte_eth_tx_burst(p->port_id, q, none, 0);
		if (p->pmd_keeps == 0 || rte_mempool_in_use_count(p->pool) <= p->pmd_keeps)
			return;
		rte_delay_us_sleep(1000);
	}
}

/*
 * Closed queues hold nothing, so whatever is still out of the pool leaked,
 * except what the PMD keeps by design. net_af_xdp (DPDK 22.11) posts
 * ETH_AF_XDP_DFLT_NUM_DESCS (2048) mbufs per queue to the kernel's fill ring
 * at queue setup, gives one back for every frame it receives, and at close
 * deletes the UMEM without freeing those it posted (xdp_umem_destroy()):
 * they are neither in use nor lost, and go with the pool. p->pmd_keeps, the
 * pool's use right after start, is exactly them.
 */
void dp_ports_fini(struct dp_app *app)
{
	for (unsigned i = 0; i < app->n_ports; i++) {
		struct dp_port *p = &app->ports[i];

		dp_shared_stop(p); /* no frame for the lcores any more: the kernel's */
		if (p->started)
			port_reap_tx(p);
		if (p->probed) {
			rte_eth_dev_stop(p->port_id);
			rte_eth_dev_close(p->port_id); /* net_af_xdp detaches its program */
		}
		dp_shared_fini(p);
		if (p->pool != NULL) {
			unsigned out = rte_mempool_in_use_count(p->pool);

			app->mbufs_leaked += out > p->pmd_keeps ? out - p->pmd_keeps : 0;
		}
		rte_mempool_free(p->pool);
		p->pool = NULL;
		p->started = p->probed = false;
	}
	app->n_ports = 0;
}
