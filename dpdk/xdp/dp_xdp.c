/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * dp_xdp.c - the loader glue of the XDP program of shared ports (contracts
 * in dp_xdp.h). The program is found by the id the kernel reports for the
 * interface, and its maps by name and size among the program's maps, so a
 * foreign program is told apart from ours. libbpf 1.x returns -errno.
 */
#define _GNU_SOURCE /* struct ucred */
#include "dp_xdp.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <linux/if_link.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

/* A program of ours uses three maps; more than this is not ours. */
#define DP_XDP_MAX_MAPS 8

/* Connections a claim's socket queues from processes asking who holds it. */
#define CLAIM_BACKLOG 16

static const char *const reason_names[DP_XDP_N] = {
    [DP_XDP_REDIRECT] = "tracker",	     [DP_XDP_PASS_OFF] = "off",
    [DP_XDP_PASS_SHORT] = "short",	     [DP_XDP_PASS_NOT_IP] = "not_ip",
    [DP_XDP_PASS_MALFORMED] = "malformed",   [DP_XDP_PASS_NOT_UDP] = "not_udp",
    [DP_XDP_PASS_FRAGMENT] = "fragment",     [DP_XDP_PASS_OTHER_ADDR] = "other_addr",
    [DP_XDP_PASS_OTHER_PORT] = "other_port", [DP_XDP_PASS_NO_SOCKET] = "no_socket",
};

const char *dp_xdp_reason_name(unsigned reason)
{
	if (reason >= DP_XDP_N || reason_names[reason] == NULL)
		return "unknown";
	return reason_names[reason];
}

void dp_xdp_init(struct dp_xdp *x)
{
	memset(x, 0, sizeof(*x));
	x->conf_fd = -1;
	x->stats_fd = -1;
}

void dp_xdp_close(struct dp_xdp *x)
{
	if (x->conf_fd >= 0)
		close(x->conf_fd);
	if (x->stats_fd >= 0)
		close(x->stats_fd);
	x->conf_fd = -1;
	x->stats_fd = -1;
}

int dp_xdp_attached(unsigned ifindex, uint32_t *prog_id, bool *generic)
{
	LIBBPF_OPTS(bpf_xdp_query_opts, q);
	int ret = bpf_xdp_query((int)ifindex, 0, &q);

	*prog_id = 0;
	*generic = false;
	if (ret < 0)
		return ret;
	*prog_id = q.prog_id;
	*generic = q.attach_mode == XDP_ATTACHED_SKB;
	return 0;
}

/* Keeps map id as *fd if its name is want and its value value_size bytes.
 * Returns 1 if kept, 0 if another map, -errno. */
static int map_match(uint32_t id, const char *want, uint32_t value_size, int *fd)
{
	struct bpf_map_info info;
	uint32_t len = sizeof(info);
	int mfd = bpf_map_get_fd_by_id(id), ret;

	if (mfd < 0)
		return mfd;
	memset(&info, 0, sizeof(info));
	ret = bpf_obj_get_info_by_fd(mfd, &info, &len);
	if (ret == 0 && strcmp(info.name, want) == 0 && info.value_size == value_size && *fd < 0) {
		*fd = mfd;
		return 1;
	}
	close(mfd);
	return ret < 0 ? ret : 0;
}

int dp_xdp_open_fd(struct dp_xdp *x, int prog_fd, char *err, size_t errlen)
{
	uint32_t ids[DP_XDP_MAX_MAPS];
	struct bpf_prog_info info;
	uint32_t len = sizeof(info);
	int ret;

	dp_xdp_close(x);
	memset(&info, 0, sizeof(info));
	info.nr_map_ids = DP_XDP_MAX_MAPS;
	info.map_ids = (uint64_t)(uintptr_t)ids;
	ret = bpf_obj_get_info_by_fd(prog_fd, &info, &len);
	if (ret < 0) {
		snprintf(err, errlen, "bpf_obj_get_info_by_fd(XDP program): %s", strerror(-ret));
		return ret;
	}
	x->prog_id = info.id;
	for (uint32_t i = 0; i < info.nr_map_ids && i < DP_XDP_MAX_MAPS && ret >= 0; i++) {
		ret = map_match(ids[i], DP_XDP_CONF_MAP, sizeof(struct dp_xdp_conf), &x->conf_fd);
		if (ret == 0)
			ret = map_match(ids[i], DP_XDP_STATS_MAP, sizeof(uint64_t), &x->stats_fd);
	}
	if (ret < 0) {
		snprintf(err, errlen, "bpf_map_get_fd_by_id(maps of XDP program %u): %s", info.id,
			 strerror(-ret));
		dp_xdp_close(x);
		return ret;
	}
	if (x->conf_fd < 0 || x->stats_fd < 0 || info.nr_map_ids > DP_XDP_MAX_MAPS) {
		snprintf(err, errlen,
			 "XDP program %u (%s) is not dptrack's: it has no %s and %s maps", info.id,
			 info.name, DP_XDP_CONF_MAP, DP_XDP_STATS_MAP);
		dp_xdp_close(x);
		return -EPROTO;
	}
	return 0;
}

int dp_xdp_open(struct dp_xdp *x, unsigned ifindex, char *err, size_t errlen)
{
	uint32_t id;
	bool generic;
	int ret = dp_xdp_attached(ifindex, &id, &generic), fd;

	if (ret < 0) {
		snprintf(err, errlen, "bpf_xdp_query(ifindex %u): %s", ifindex, strerror(-ret));
		return ret;
	}
	if (id == 0) {
		snprintf(err, errlen, "no XDP program is attached to ifindex %u", ifindex);
		return -ENOENT;
	}
	fd = bpf_prog_get_fd_by_id(id);
	if (fd < 0) {
		snprintf(err, errlen, "bpf_prog_get_fd_by_id(%u): %s", id, strerror(-fd));
		return fd;
	}
	ret = dp_xdp_open_fd(x, fd, err, errlen);
	close(fd);
	x->generic = generic;
	return ret;
}

/* Writes conf at key 0. */
static int conf_write(const struct dp_xdp *x, const struct dp_xdp_conf *conf)
{
	uint32_t key = 0;

	return bpf_map_update_elem(x->conf_fd, &key, conf, BPF_ANY);
}

int dp_xdp_set(const struct dp_xdp *x, const uint8_t *ip4, const uint8_t *ip6,
	       const uint16_t *ports, unsigned n_ports)
{
	struct dp_xdp_conf conf;
	int ret;

	if (n_ports > DP_XDP_MAX_PORTS)
		return -EINVAL;
	memset(&conf, 0, sizeof(conf));
	conf.has_ip4 = ip4 != NULL;
	conf.has_ip6 = ip6 != NULL;
	if (ip4 != NULL)
		memcpy(&conf.ip4, ip4, sizeof(conf.ip4));
	if (ip6 != NULL)
		memcpy(conf.ip6, ip6, sizeof(conf.ip6));
	for (unsigned i = 0; i < n_ports; i++)
		conf.ports[i] = htons(ports[i]);
	ret = conf_write(x, &conf);
	if (ret < 0)
		return ret;
	conf.enabled = 1;
	return conf_write(x, &conf);
}

int dp_xdp_disable(const struct dp_xdp *x)
{
	const struct dp_xdp_conf off = {0};

	return conf_write(x, &off);
}

int dp_xdp_counts(const struct dp_xdp *x, uint64_t counts[DP_XDP_N])
{
	int ncpu = libbpf_num_possible_cpus(), ret = 0;
	uint64_t *per_cpu;

	memset(counts, 0, DP_XDP_N * sizeof(counts[0]));
	if (ncpu < 0)
		return ncpu;
	per_cpu = calloc((size_t)ncpu, sizeof(*per_cpu));
	if (per_cpu == NULL)
		return -ENOMEM;
	for (uint32_t r = 0; r < DP_XDP_N && ret == 0; r++) {
		ret = bpf_map_lookup_elem(x->stats_fd, &r, per_cpu);
		for (int c = 0; c < ncpu && ret == 0; c++)
			counts[r] += per_cpu[c];
	}
	free(per_cpu);
	if (ret < 0)
		memset(counts, 0, DP_XDP_N * sizeof(counts[0]));
	return ret;
}

int dp_xdp_detach(const struct dp_xdp *x, unsigned ifindex)
{
	LIBBPF_OPTS(bpf_xdp_attach_opts, opts);
	uint32_t id;
	bool generic;
	int ret = dp_xdp_attached(ifindex, &id, &generic);

	if (ret < 0)
		return ret == -ENODEV ? 0 : ret; /* the interface itself is gone */
	if (id == 0 || id != x->prog_id)
		return 0;
	opts.old_prog_fd = bpf_prog_get_fd_by_id(id);
	if (opts.old_prog_fd < 0)
		return opts.old_prog_fd == -ENOENT ? 0 : opts.old_prog_fd;
	/* REPLACE with the old program's fd: never another program's. */
	ret = bpf_xdp_detach(
	    (int)ifindex, XDP_FLAGS_REPLACE | (generic ? XDP_FLAGS_SKB_MODE : XDP_FLAGS_DRV_MODE),
	    &opts);
	close(opts.old_prog_fd);
	return ret;
}

/* The claim's address: "\0dptrack-xdp-IFINDEX", abstract, so it lives in
 * the network namespace and dies with the socket. Returns its length. */
static socklen_t claim_addr(struct sockaddr_un *a, unsigned ifindex)
{
	memset(a, 0, sizeof(*a));
	a->sun_family = AF_UNIX;
	int n = snprintf(a->sun_path + 1, sizeof(a->sun_path) - 1, "dptrack-xdp-%u", ifindex);
	return (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + (size_t)n);
}

/* The PID of the process listening at a, 0 if it cannot be told. The
 * holder never accepts: the probe does not block on a full backlog, and
 * its connection stays queued there, at most CLAIM_BACKLOG of them. */
static pid_t claim_holder(const struct sockaddr_un *a, socklen_t alen)
{
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	struct ucred cred = {0};
	socklen_t clen = sizeof(cred);

	if (fd < 0)
		return 0;
	if (connect(fd, (const struct sockaddr *)a, alen) != 0 ||
	    getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &clen) != 0)
		cred.pid = 0;
	close(fd);
	return cred.pid;
}

int dp_xdp_claim(unsigned ifindex, int *claim_fd, uint32_t *stale, pid_t *holder, char *err,
		 size_t errlen)
{
	struct sockaddr_un a;
	socklen_t alen = claim_addr(&a, ifindex);
	struct dp_xdp x;
	uint32_t id;
	bool generic;
	int fd, ret;

	*claim_fd = -1;
	*stale = 0;
	*holder = 0;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		ret = -errno;
		snprintf(err, errlen, "socket(AF_UNIX): %s", strerror(-ret));
		return ret;
	}
	if (bind(fd, (struct sockaddr *)&a, alen) != 0 || listen(fd, CLAIM_BACKLOG) != 0) {
		ret = -errno;
		close(fd);
		if (ret == -EADDRINUSE) {
			*holder = claim_holder(&a, alen);
			snprintf(err, errlen, "another process (PID %d) shares ifindex %u already",
				 (int)*holder, ifindex);
			return -EBUSY;
		}
		snprintf(err, errlen, "binding the claim on ifindex %u: %s", ifindex,
			 strerror(-ret));
		return ret;
	}
	ret = dp_xdp_attached(ifindex, &id, &generic);
	if (ret < 0) {
		snprintf(err, errlen, "bpf_xdp_query(ifindex %u): %s", ifindex, strerror(-ret));
		close(fd);
		return ret;
	}
	if (id != 0) {
		dp_xdp_init(&x);
		ret = dp_xdp_open(&x, ifindex, err, errlen); /* names its own failures */
		if (ret == -EPROTO) {
			snprintf(err, errlen,
				 "ifindex %u has an XDP program that is not dptrack's (id %u%s)",
				 ifindex, id, generic ? ", generic mode" : "");
			ret = -EEXIST;
		} else if (ret == 0) {
			ret = dp_xdp_detach(&x, ifindex);
			if (ret < 0)
				snprintf(err, errlen,
					 "detaching XDP program %u from ifindex %u: %s", id,
					 ifindex, strerror(-ret));
		}
		dp_xdp_close(&x);
		*stale = id;
		if (ret < 0) {
			close(fd);
			return ret;
		}
	}
	*claim_fd = fd;
	return 0;
}

void dp_xdp_unclaim(int *claim_fd)
{
	if (*claim_fd >= 0)
		close(*claim_fd);
	*claim_fd = -1;
}
