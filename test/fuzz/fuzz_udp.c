/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * fuzz_udp.c - tr_udp_handle() (BEP 15) on any datagram, over a live table.
 *
 * Input: a flags byte, 16 address bytes (IPv4 uses the first 4), a 16-bit
 * big-endian source port, then the BEP 15 payload (scripts: gen_seeds.py).
 * Flags bit 0: the source is IPv6; bit 1: overwrite the payload's first 8
 * bytes with a connection id issued for that source now, so announces and
 * scrapes get past the connection check and reach the peer table.
 *
 * Two trackers with the same parameters, keys and seeds see every request:
 * one answers into a separate buffer, the other in place (out == req, as the
 * DPDK path does). Their tables stay identical, so their replies must be
 * byte for byte the same: a reply that overwrote a request field before it
 * was read shows up as a difference. Both buffers are heap blocks of exactly
 * the request's length (or the reply cap), so ASan sees any overrun.
 *
 * Invariants: a reply never longer than cap; no reply to a request without a
 * valid connection id longer than the request (BEP 15 amplification rule).
 *
 * The tables live across inputs (a tracker is a long-lived thing); every
 * EXPIRE_EVERY inputs the clock jumps past the peer timeout and an expiry
 * sweep runs. So a crash may depend on the inputs before it: reproduce with
 * the whole corpus (-runs over it), not the crash file alone, if needed.
 *
 * Peer sets are on the libc heap (PTAB_LIBC_HEAP) but referenced only from
 * rte_malloc memory, which LeakSanitizer does not scan: libFuzzer's leak
 * detection after each input is off by default here (it would report every
 * live peer set). The tables are freed at exit, so the exit-time leak check
 * still sees anything ptab_free() leaves behind.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <rte_lcore.h>
#include <rte_rcu_qsbr.h>

#include "core/connid.h"
#include "core/limits.h"
#include "core/ptab.h"
#include "core/tracker.h"
#include "core/udp_msg.h"
#include "core/wire.h"
#include "eal_test.h"

#include "fuzz_check.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define HDR_LEN	     19 /* flags, 16 address bytes, port */
#define FLAG_IPV6    0x01
#define FLAG_CONNID  0x02
#define EXPIRE_EVERY 4096
#define BASE_NOW     1700000000ull

struct fz_tracker {
	struct ptab *pt;
	struct tracker tr;
	struct stats_ctr st;
	struct tr_ctx ctx;
};

static struct fz_tracker apart, inplace;
static uint64_t now = BASE_NOW;
static uint64_t inputs;

static void tracker_up(struct fz_tracker *f, const char *name)
{
	static const uint8_t slot_key[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
	char err[256];
	struct ptab_params pp = {
	    .name = name,
	    .max_swarms = 2048,
	    .max_peers_per_swarm = 64,
	    .memory_bytes = 16ull << 20,
	    .peer_timeout = 2700,
	    .socket_id = -1,
	    .slot_key = slot_key,
	};

	f->pt = ptab_new(&pp, err, sizeof(err));
	if (f->pt == NULL) {
		fprintf(stderr, "fuzz_udp: ptab_new: %s\n", err);
		abort();
	}
	FUZZ_CHECK(ptab_reader_register(f->pt) == 0);
	f->tr.ptab = f->pt;
	f->tr.p = (struct tr_params){
	    .announce_interval = 1800,
	    .announce_jitter = 120,
	    .min_interval = 900,
	    .numwant_default = 50,
	    .numwant_max = 200,
	    .connid_ttl = 120,
	};
	for (unsigned i = 0; i < sizeof(f->tr.keys[0].k); i++)
		f->tr.keys[0].k[i] = (uint8_t)(i * 29 + 7);
	f->ctx.tr = &f->tr;
	f->ctx.stats = &f->st;
	tr_rng_seed(&f->ctx.rng, 0x5eed5eedULL);
}

static void tracker_down(struct fz_tracker *f)
{
	ptab_reader_unregister(f->pt);
	ptab_free(f->pt);
	f->pt = NULL;
}

static void fuzz_udp_fini(void)
{
	tracker_down(&inplace);
	tracker_down(&apart);
	eal_test_fini();
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	/* -detect_leaks=0 (see above) goes first, so a later flag overrides it. */
	static char *args[256];
	int n = 0;

	args[n++] = (*argv)[0];
	args[n++] = (char *)"-detect_leaks=0";
	for (int i = 1; i < *argc && n < (int)(sizeof(args) / sizeof(args[0])) - 1; i++)
		args[n++] = (*argv)[i];
	args[n] = NULL;
	*argc = n;
	*argv = args;

	if (eal_test_init("fuzz-udp", 256) < 0) {
		fprintf(stderr, "fuzz_udp: rte_eal_init failed\n");
		abort();
	}
	tracker_up(&apart, "fz_apart");
	tracker_up(&inplace, "fz_inplace");
	atexit(fuzz_udp_fini);
	return 0;
}

/* Moves the clock past the peer timeout and sweeps both tables whole. */
static void age_tables(void)
{
	struct ptab_cursor ca = {0}, cb = {0};

	now += 3000;
	while (ca.cycles == 0)
		ptab_expire(apart.pt, now, 1u << 20, &ca);
	while (cb.cycles == 0)
		ptab_expire(inplace.pt, now, 1u << 20, &cb);
	ptab_quiescent(apart.pt);
	ptab_quiescent(inplace.pt);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < HDR_LEN)
		return -1;

	uint8_t flags = data[0];
	struct tr_addr src = (flags & FLAG_IPV6) ? tr_addr_v6(data + 1, get_be16(data, 17))
						 : tr_addr_v4(data + 1, get_be16(data, 17));
	size_t len = size - HDR_LEN;
	size_t cap = src.family == TR_AF_INET ? TR_UDP_PAYLOAD_MAX_V4 : TR_UDP_PAYLOAD_MAX_V6;

	if (++inputs % EXPIRE_EVERY == 0)
		age_tables();

	/* The request, exactly len bytes; the in-place copy in a frame-sized
	 * buffer, as the DPDK path has. */
	uint8_t *req = malloc(len ? len : 1);
	uint8_t *out = malloc(cap);
	uint8_t *frame = malloc(len > cap ? len : cap);
	FUZZ_CHECK(req != NULL && out != NULL && frame != NULL);
	memcpy(req, data + HDR_LEN, len);
	if ((flags & FLAG_CONNID) && len >= 8)
		put_be64(req, 0, connid_issue(tr_key(&apart.tr), &src, now));
	memcpy(frame, req, len);

	bool authenticated = len >= 8 && connid_check(tr_key(&apart.tr), &src, get_be64(req, 0),
						      now, apart.tr.p.connid_ttl);

	/* The packet loop's burst prefetch sees each datagram first: it reads
	 * only within len, and the announce made with what it found answers
	 * as the other table (no prefetch, same random draw) does. */
	struct ptab_hint hint;
	const struct ptab_hint *hinted = NULL;
	if (tr_udp_hint(&apart.ctx, &src, req, len, &hint)) {
		ptab_prefetch(apart.pt, &hint, 1);
		hinted = &hint;
	}
	size_t n = tr_udp_handle(&apart.ctx, &src, req, len, out, cap, now, hinted);
	size_t m = tr_udp_handle(&inplace.ctx, &src, frame, len, frame, cap, now, NULL);
	/* The hint drew the announce's random bits even for one refused
	 * later; the two stay in step for the next input. */
	inplace.ctx.rng = apart.ctx.rng;

	FUZZ_CHECK(n <= cap);
	if (!authenticated)
		FUZZ_CHECK(n <= len);
	FUZZ_CHECK(n == m);
	FUZZ_CHECK(memcmp(out, frame, n) == 0);

	free(frame);
	free(out);
	free(req);
	return 0;
}
