/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * dp_xdp.h - the loader glue of the XDP program of shared ports
 * (dp_xdp_prog.c). net_af_xdp loads the program (its xdp_prog devarg),
 * attaches it to the interface and puts its AF_XDP sockets in xsks_map;
 * this finds the program the kernel has attached, tells it what to
 * redirect, reads its counters, and makes sure it is gone at the end.
 *
 * libbpf and libc only, no DPDK, so the unit test drives it on a program
 * it loaded itself. Calls that fail return a negative errno and, where
 * they take err, name the failing call there.
 */
#ifndef DPTRACK_DPDK_XDP_DP_XDP_H
#define DPTRACK_DPDK_XDP_DP_XDP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "dp_xdp_maps.h"

/* The program's maps, once found. The caller owns the struct; dp_xdp_init
 * makes it closed, dp_xdp_close closes it again. */
struct dp_xdp {
	int conf_fd, stats_fd; /* -1 when closed */
	uint32_t prog_id;
	bool generic; /* attached in generic (SKB) mode: any driver, slower */
};

void dp_xdp_init(struct dp_xdp *x);

/* What the kernel has attached to interface ifindex: *prog_id (0: nothing)
 * and whether in generic mode. Returns 0, or -errno from bpf_xdp_query. */
int dp_xdp_attached(unsigned ifindex, uint32_t *prog_id, bool *generic);

/* Opens the maps of the program attached to ifindex. Returns 0; -ENOENT if
 * none is attached, -EPROTO if it is not this program (a map missing or of
 * another size); else -errno of the failing call. */
int dp_xdp_open(struct dp_xdp *x, unsigned ifindex, char *err, size_t errlen);

/* The same for a program loaded by the caller (prog_fd stays the caller's);
 * x->prog_id is its id, x->generic false. */
int dp_xdp_open_fd(struct dp_xdp *x, int prog_fd, char *err, size_t errlen);

/*
 * Tells the program what to redirect: UDP to ip4 (4 bytes) or ip6 (16
 * bytes), each NULL when the port has none, and one of the n_ports ports
 * (host order, at most DP_XDP_MAX_PORTS, none 0). The configuration is
 * written disabled, then enabled, so a frame never meets half of it.
 * Returns 0, -EINVAL for too many ports, or -errno of the map update.
 */
int dp_xdp_set(const struct dp_xdp *x, const uint8_t *ip4, const uint8_t *ip6,
	       const uint16_t *ports, unsigned n_ports);

/* Turns redirecting off: every frame passes to the kernel from now on. */
int dp_xdp_disable(const struct dp_xdp *x);

/* Each reason's count summed over the CPUs into counts[DP_XDP_N]. Returns
 * 0 or -errno (counts then zero). Safe from several threads at once. */
int dp_xdp_counts(const struct dp_xdp *x, uint64_t counts[DP_XDP_N]);

/* Detaches the program x was opened on from ifindex if it is still there
 * (and only that program). Returns 0 when the interface has no program of
 * ours any more, else -errno of bpf_xdp_detach. */
int dp_xdp_detach(const struct dp_xdp *x, unsigned ifindex);

/* Closes the maps; the program itself is the PMD's. */
void dp_xdp_close(struct dp_xdp *x);

/*
 * Claims interface ifindex for this process, before its program is
 * attached, until dp_xdp_unclaim: *claim_fd is a listening abstract UNIX
 * socket named after the ifindex, which is per network namespace, as
 * ifindexes are, and which the kernel frees however the process ends. A
 * dptrack holds the claim for as long as its program is attached, so with
 * the claim taken, a program of ours on the interface is one a dptrack
 * that did not stop (kill -9, a crash) left: it is detached, and *stale
 * gets its id (0: none was there).
 * Returns 0; -EBUSY when another process holds the claim (*holder: its
 * PID, 0 if unknown); -EEXIST when a program not ours is attached (*stale:
 * its id), which stays; else -errno. err names the cause.
 */
int dp_xdp_claim(unsigned ifindex, int *claim_fd, uint32_t *stale, pid_t *holder, char *err,
		 size_t errlen);

/* Gives the claim up (after the program is gone); *claim_fd becomes -1. */
void dp_xdp_unclaim(int *claim_fd);

/* Static names: "tracker" for DP_XDP_REDIRECT, else why the frame passed
 * ("off", "short", "not_ip", ...), "unknown" out of range. */
const char *dp_xdp_reason_name(unsigned reason);

#endif
