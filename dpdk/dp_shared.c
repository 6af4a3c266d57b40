/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * dp_shared.c - shared ports (dpdk.ports[].shared; docs/DESIGN.md, and
 * docs/OPERATIONS.md for operators): the kernel keeps the NIC and its
 * addresses, dptrack's XDP program hands dptrack the tracker's UDP through
 * net_af_xdp. Contracts in dp_app.h.
 *
 * Before the device exists: the interface's addresses (those configured
 * must be there; those left out are read), the devargs (the user's, a
 * queue per worker lcore and the program), and the interface claimed: no
 * other dptrack on it, and no XDP program but one a killed dptrack left,
 * which is removed.
 * After the port started: the program the PMD attached is found and told
 * what to redirect. At exit: redirecting stops before the port does, and
 * once it is closed the program must be gone from the interface.
 */
#include "dp_app.h"

#include <errno.h>
#include <ifaddrs.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <linux/ethtool.h>
#include <linux/sockios.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include <rte_ethdev.h>

/* The addresses of one family an interface has, as many as a message lists. */
#define IFACE_ADDRS_MAX 8

struct iface_addrs {
	uint8_t a[IFACE_ADDRS_MAX][16];
	unsigned n;
};

/*
 * The program's object: the build tree's when this executable runs from
 * the build tree (tests, ./build/dpdk/dptrack), else where meson install
 * put it. Returns 0 and the path in out, or -ENOENT with err set.
 */
static int prog_path(char *out, size_t len, char *err, size_t errlen)
{
	char exe[PATH_MAX], root[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	const char *path = DP_XDP_PROG_INSTALLED;

	if (n > 0 && realpath(DP_BUILD_ROOT, root) != NULL) {
		size_t r = strlen(root);

		exe[n] = '\0';
		if (strncmp(exe, root, r) == 0 && exe[r] == '/')
			path = DP_XDP_PROG_BUILD;
	}
	if (access(path, R_OK) != 0) {
		snprintf(err, errlen,
			 "the XDP program of shared ports, %s: %s (meson install "
			 "puts it there)",
			 path, strerror(errno));
		return -ENOENT;
	}
	snprintf(out, len, "%s", path);
	return 0;
}

/* Each address of family fam (AF_INET, AF_INET6 but link-local) on iface. */
static int iface_list(const char *iface, int fam, struct iface_addrs *out)
{
	struct ifaddrs *all, *a;

	out->n = 0;
	if (getifaddrs(&all) != 0)
		return -errno;
	for (a = all; a != NULL; a = a->ifa_next) {
		const uint8_t *ip;

		if (a->ifa_addr == NULL || a->ifa_addr->sa_family != fam ||
		    strcmp(a->ifa_name, iface) != 0 || out->n == IFACE_ADDRS_MAX)
			continue;
		if (fam == AF_INET)
			ip = (const uint8_t *)&((const struct sockaddr_in *)(void *)a->ifa_addr)
				 ->sin_addr;
		else
			ip = ((const struct sockaddr_in6 *)(void *)a->ifa_addr)->sin6_addr.s6_addr;
		if (fam == AF_INET6 && ip[0] == 0xfe && (ip[1] & 0xc0) == 0x80)
			continue; /* link-local: no peer elsewhere reaches it */
		memcpy(out->a[out->n++], ip, fam == AF_INET ? 4 : 16);
	}
	freeifaddrs(all);
	return 0;
}

/* Writes the addresses of l as "a, b" (or "none") into buf. */
static const char *addrs_text(int fam, const struct iface_addrs *l, char *buf, size_t len)
{
	size_t off = 0;

	snprintf(buf, len, "none");
	for (unsigned i = 0; i < l->n && off < len; i++) {
		char ip[INET6_ADDRSTRLEN];

		inet_ntop(fam, l->a[i], ip, sizeof(ip));
		off += (size_t)snprintf(buf + off, len - off, "%s%s", i ? ", " : "", ip);
	}
	return buf;
}

/*
 * One family of a shared port's addresses: the configured one if the
 * interface has it (else an error naming what it has), or the interface's
 * first when none is configured. Sets *has and addr (4 or 16 bytes).
 */
static int family_addr(unsigned idx, const char *iface, int fam, bool want, const uint8_t *cfg_addr,
		       bool *has, uint8_t *addr, char *err, size_t errlen)
{
	size_t alen = fam == AF_INET ? 4 : 16;
	char given[INET6_ADDRSTRLEN], list[IFACE_ADDRS_MAX * (INET6_ADDRSTRLEN + 2)];
	struct iface_addrs l;
	int ret = iface_list(iface, fam, &l);

	*has = false;
	if (ret < 0) {
		snprintf(err, errlen, "getifaddrs: %s", strerror(-ret));
		return ret;
	}
	if (!want) {
		if (l.n > 0) {
			*has = true;
			memcpy(addr, l.a[0], alen);
		}
		return 0;
	}
	for (unsigned i = 0; i < l.n; i++)
		if (memcmp(l.a[i], cfg_addr, alen) == 0) {
			*has = true;
			memcpy(addr, cfg_addr, alen);
			return 0;
		}
	inet_ntop(fam, cfg_addr, given, sizeof(given));
	snprintf(err, errlen,
		 "dpdk.ports[%u].%s: interface %s does not have %s (its %s: %s); a shared port "
		 "serves on the kernel's addresses: add it (ip addr add %s/LEN dev %s) or "
		 "leave %s out to take the interface's",
		 idx, fam == AF_INET ? "ipv4" : "ipv6", iface, given,
		 fam == AF_INET ? "IPv4 addresses" : "global IPv6 addresses",
		 addrs_text(fam, &l, list, sizeof(list)), given, iface,
		 fam == AF_INET ? "ipv4" : "ipv6");
	return -EADDRNOTAVAIL;
}

/* The interface's combined channels (0 when it does not say). */
static unsigned iface_channels(const char *iface)
{
	struct ethtool_channels ch = {.cmd = ETHTOOL_GCHANNELS};
	struct ifreq ifr;
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	unsigned n = 0;

	if (fd < 0)
		return 0;
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", iface);
	ifr.ifr_data = (void *)&ch;
	if (ioctl(fd, SIOCETHTOOL, &ifr) == 0)
		n = ch.combined_count;
	close(fd);
	return n;
}

/* The addresses of shared port i into p->ifc, checked against the config. */
static int shared_addrs(const struct cfg_port *cp, unsigned i, struct dp_port *p, char *err,
			size_t errlen)
{
	int ret = family_addr(i, cp->iface, AF_INET, cp->has_ipv4, cp->ipv4.addr, &p->ifc.has_ip4,
			      p->ifc.ip4, err, errlen);

	if (ret == 0)
		ret = family_addr(i, cp->iface, AF_INET6, cp->has_ipv6, cp->ipv6.addr,
				  &p->ifc.has_ip6, p->ifc.ip6, err, errlen);
	if (ret == 0 && !p->ifc.has_ip4 && !p->ifc.has_ip6) {
		snprintf(err, errlen,
			 "dpdk.ports[%u]: interface %s has neither an IPv4 nor a global IPv6 "
			 "address for the tracker to serve on",
			 i, cp->iface);
		ret = -EADDRNOTAVAIL;
	}
	return ret;
}

int dp_shared_prepare(struct dp_app *app, unsigned i, char *devargs, size_t len, char *err,
		      size_t errlen)
{
	const struct cfg_port *cp = &app->cfg->dpdk.ports[i];
	struct dp_port *p = &app->ports[i];
	char path[PATH_MAX], name[RTE_DEV_NAME_MAX_LEN], why[256];
	uint16_t existing;
	uint32_t stale;
	pid_t holder;
	int ret;

	snprintf(name, sizeof(name), "%.*s", (int)strcspn(cp->device, ","), cp->device);
	if (rte_eth_dev_get_port_by_name(name, &existing) == 0) {
		snprintf(err, errlen,
			 "dpdk.ports[%u]: %s exists already (given with --vdev?): a shared port "
			 "is given in dpdk.ports only, dptrack adds its queues and XDP program",
			 i, name);
		return -EEXIST;
	}
	p->shared = true;
	p->ifindex = if_nametoindex(cp->iface);
	if (p->ifindex == 0) {
		snprintf(err, errlen, "dpdk.ports[%u]: no interface %s in this network namespace",
			 i, cp->iface);
		return -ENODEV;
	}
	ret = shared_addrs(cp, i, p, err, errlen);
	if (ret < 0)
		return ret;
	ret = prog_path(path, sizeof(path), err, errlen);
	if (ret < 0)
		return ret;
	if (strchr(path, ',') != NULL) {
		snprintf(err, errlen,
			 "the XDP program's path %s has a comma, which devargs split at", path);
		return -EINVAL;
	}
	if ((size_t)snprintf(devargs, len, "%s,queue_count=%u,xdp_prog=%s", cp->device,
			     app->n_workers, path) >= len) {
		snprintf(err, errlen, "dpdk.ports[%u]: devargs longer than %zu bytes", i, len - 1);
		return -ENAMETOOLONG;
	}
	/* Last, so that nothing above fails with the claim taken. */
	ret = dp_xdp_claim(p->ifindex, &p->xdp_claim, &stale, &holder, why, sizeof(why));
	if (ret == -EBUSY) {
		snprintf(err, errlen,
			 "dpdk.ports[%u]: interface %s is shared by another dptrack "
			 "(PID %d) already",
			 i, cp->iface, (int)holder);
		return ret;
	}
	if (ret == -EEXIST) {
		snprintf(
		    err, errlen,
		    "dpdk.ports[%u]: interface %s has an XDP program already (id %u), not "
		    "dptrack's; if nothing uses it, remove it with: ip link set dev %s xdp off "
		    "(or xdpgeneric off)",
		    i, cp->iface, stale, cp->iface);
		return ret;
	}
	if (ret < 0) {
		snprintf(err, errlen, "dpdk.ports[%u]: interface %s: %s", i, cp->iface, why);
		return ret;
	}
	if (stale != 0)
		DP_LOG(WARNING,
		       "port %s: removed XDP program %u from %s: a dptrack that did not stop "
		       "(kill -9, a crash) left it there\n",
		       name, stale, cp->iface);
	unsigned ch = iface_channels(cp->iface);
	if (ch > app->n_workers)
		DP_LOG(WARNING,
		       "port %s: %s has %u queues and dptrack reads %u: tracker datagrams the NIC "
		       "hashes to the others go to the kernel (xdp_frames_total reason "
		       "no_socket); steer them with ethtool -L %s combined %u, or ethtool -X %s "
		       "equal %u (start_queue 0)\n",
		       name, cp->iface, ch, app->n_workers, cp->iface, app->n_workers, cp->iface,
		       app->n_workers);
	return 0;
}

int dp_shared_start(struct dp_app *app, struct dp_port *p, char *err, size_t errlen)
{
	const struct cfg *cfg = app->cfg;
	char ip4[INET_ADDRSTRLEN] = "", ip6[INET6_ADDRSTRLEN] = "", why[256];
	int ret = dp_xdp_open(&p->xdp, p->ifindex, why, sizeof(why));

	if (ret < 0) {
		snprintf(err, errlen, "%s: its XDP program: %s", p->name, why);
		return ret;
	}
	ret = dp_xdp_set(&p->xdp, p->ifc.has_ip4 ? p->ifc.ip4 : NULL,
			 p->ifc.has_ip6 ? p->ifc.ip6 : NULL, cfg->udp.ports,
			 RTE_MIN(cfg->udp.n_ports, (unsigned)DP_XDP_MAX_PORTS));
	if (ret < 0) {
		snprintf(err, errlen, "%s: bpf_map_update_elem(%s): %s", p->name, DP_XDP_CONF_MAP,
			 strerror(-ret));
		return ret;
	}
	if (p->ifc.has_ip4)
		inet_ntop(AF_INET, p->ifc.ip4, ip4, sizeof(ip4));
	if (p->ifc.has_ip6)
		inet_ntop(AF_INET6, p->ifc.ip6, ip6, sizeof(ip6));
	DP_LOG(INFO,
	       "port %s: shared with the kernel on ifindex %u: XDP program %u (%s mode) hands "
	       "dptrack UDP to %s%s%s and the tracker's ports, the kernel the rest\n",
	       p->name, p->ifindex, p->xdp.prog_id, p->xdp.generic ? "generic" : "native", ip4,
	       ip4[0] != '\0' && ip6[0] != '\0' ? " and " : "", ip6);
	if (p->xdp.generic)
		DP_LOG(WARNING,
		       "port %s: the driver has no native XDP: the program runs in generic mode, "
		       "after the kernel has built an skb for every frame (slower)\n",
		       p->name);
	return 0;
}

void dp_shared_stop(struct dp_port *p)
{
	if (p->xdp.conf_fd >= 0)
		(void)dp_xdp_disable(&p->xdp);
}

void dp_shared_fini(struct dp_port *p)
{
	if (p->xdp.conf_fd >= 0) {
		int ret = dp_xdp_detach(&p->xdp, p->ifindex);

		if (ret < 0)
			DP_LOG(ERR, "port %s: XDP program %u still on ifindex %u: %s\n", p->name,
			       p->xdp.prog_id, p->ifindex, strerror(-ret));
		else
			DP_LOG(INFO,
			       "port %s: XDP program gone, ifindex %u is the kernel's alone\n",
			       p->name, p->ifindex);
	}
	dp_xdp_close(&p->xdp);
	dp_xdp_unclaim(&p->xdp_claim);
}
