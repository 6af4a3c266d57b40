/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_dp_xdp.c - the XDP program of shared ports (dpdk/xdp/dp_xdp_prog.c,
 * the object meson built) in the kernel, through BPF_PROG_TEST_RUN
 * (libbpf's bpf_prog_test_run_opts), configured and read by its loader
 * glue (dpdk/xdp/dp_xdp.c).
 *
 * Every frame of pcap/xdp.in.pcap (the pcap suite's scenarios and frames of
 * its own, from scripts/gen-pcap.py) must get the verdict pcap/xdp.verdicts
 * gives it, and be counted under that reason and no other. For a redirect
 * to be seen, an AF_XDP socket is bound to queue 0 of the loopback device
 * of a network namespace of the test's own (the queue a test run's frames
 * come from) and put in xsks_map; no frame is sent anywhere.
 *
 * Loading BPF and binding AF_XDP need root: without it the test is skipped
 * (exit 77), as the live suite is.
 */
#define _GNU_SOURCE /* unshare */
#include <errno.h>
#include <stdbool.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <linux/bpf.h>
#include <linux/if_link.h>
#include <net/if.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <cmocka.h>
#include <xdp/xsk.h>

#include "dpdk/xdp/dp_xdp.h"

#define FRAMES_MAX  4096
#define FRAME_MAX   2048
#define UMEM_FRAMES 64
#define UMEM_FRAME  4096

/* What gen-pcap.py configured the verdicts for (XDP_PORTS). */
static const uint8_t tracker4[4] = {198, 18, 0, 2};
static const uint8_t tracker6[16] = {0xfd, 0, 0, 0x0d, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2};
static const uint16_t tracker_ports[] = {6969, 1337};

struct frame {
	uint8_t data[FRAME_MAX];
	uint32_t len;
	int action; /* XDP_REDIRECT or XDP_PASS */
	unsigned reason;
	char note[160];
};

static struct {
	struct bpf_object *obj;
	int prog_fd, xsks_fd;
	struct dp_xdp x;
	void *umem_area;
	struct xsk_umem *umem;
	struct xsk_socket *xsk;
	struct xsk_ring_prod fq, tx;
	struct xsk_ring_cons cq, rx;
	struct frame *frames;
	unsigned n_frames;
} fx;

/* --- pcap/xdp.in.pcap and pcap/xdp.verdicts ---------------------------- */

/* Reads the little-endian microsecond pcap gen-pcap.py writes. */
static unsigned read_pcap(const char *path, struct frame *out, unsigned max)
{
	FILE *f = fopen(path, "rb");
	uint32_t hdr[6], rec[4];
	unsigned n = 0;

	assert_non_null(f);
	assert_int_equal(fread(hdr, 4, 6, f), 6);
	assert_int_equal(hdr[0], 0xa1b2c3d4);
	while (fread(rec, 4, 4, f) == 4) {
		assert_true(n < max && rec[2] <= FRAME_MAX);
		assert_int_equal(fread(out[n].data, 1, rec[2], f), rec[2]);
		out[n++].len = rec[2];
	}
	fclose(f);
	return n;
}

static unsigned reason_of(const char *name)
{
	for (unsigned r = 0; r < DP_XDP_N; r++)
		if (strcmp(dp_xdp_reason_name(r), name) == 0)
			return r;
	fail_msg("no reason named %s", name);
	return DP_XDP_N;
}

/* "INDEX redirect|pass REASON NOTE" per frame, after a comment line. */
static void read_verdicts(const char *path, struct frame *fr, unsigned n)
{
	FILE *f = fopen(path, "r");
	char line[512], action[16], reason[32];
	unsigned i, seen = 0;
	int off;

	assert_non_null(f);
	while (fgets(line, sizeof(line), f) != NULL) {
		if (line[0] == '#')
			continue;
		assert_int_equal(sscanf(line, "%u %15s %31s %n", &i, action, reason, &off), 3);
		assert_true(i == seen && i < n);
		fr[i].action = strcmp(action, "redirect") == 0 ? XDP_REDIRECT : XDP_PASS;
		fr[i].reason = reason_of(reason);
		snprintf(fr[i].note, sizeof(fr[i].note), "%.*s", (int)strcspn(line + off, "\n"),
			 line + off);
		seen++;
	}
	fclose(f);
	assert_int_equal(seen, n);
}

/* --- the program, and a socket for its redirects ------------------------ */

/* An AF_XDP socket on queue 0 of this namespace's loopback, in copy mode,
 * with no program of libxdp's: xsks_map is the test's to fill. */
static void xsk_open(void)
{
	struct xsk_socket_config cfg = {
	    .rx_size = XSK_RING_CONS__DEFAULT_NUM_DESCS,
	    .tx_size = XSK_RING_PROD__DEFAULT_NUM_DESCS,
	    .libxdp_flags = XSK_LIBXDP_FLAGS__INHIBIT_PROG_LOAD,
	    .bind_flags = XDP_COPY,
	};
	size_t size = (size_t)UMEM_FRAMES * UMEM_FRAME;

	fx.umem_area = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	assert_true(fx.umem_area != MAP_FAILED);
	assert_int_equal(xsk_umem__create(&fx.umem, fx.umem_area, size, &fx.fq, &fx.cq, NULL), 0);
	assert_int_equal(xsk_socket__create(&fx.xsk, "lo", 0, fx.umem, &fx.rx, &fx.tx, &cfg), 0);
}

static void socket_in_map(bool in)
{
	uint32_t queue = 0;
	int fd = xsk_socket__fd(fx.xsk);

	if (in)
		assert_int_equal(bpf_map_update_elem(fx.xsks_fd, &queue, &fd, BPF_ANY), 0);
	else
		assert_int_equal(bpf_map_delete_elem(fx.xsks_fd, &queue), 0);
}

static void configure(void)
{
	assert_int_equal(dp_xdp_set(&fx.x, tracker4, tracker6, tracker_ports,
				    sizeof(tracker_ports) / sizeof(tracker_ports[0])),
			 0);
}

/* Runs the program once on f; returns its action, the reason counted in
 * *reason (DP_XDP_N if none or several moved). */
static int run(const struct frame *f, unsigned *reason)
{
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = f->data, .data_size_in = f->len,
		    .repeat = 1);
	uint64_t before[DP_XDP_N], after[DP_XDP_N];

	assert_int_equal(dp_xdp_counts(&fx.x, before), 0);
	assert_int_equal(bpf_prog_test_run_opts(fx.prog_fd, &opts), 0);
	assert_int_equal(dp_xdp_counts(&fx.x, after), 0);
	*reason = DP_XDP_N;
	for (unsigned r = 0; r < DP_XDP_N; r++) {
		if (after[r] == before[r])
			continue;
		*reason = after[r] == before[r] + 1 && *reason == DP_XDP_N ? r : DP_XDP_N + 1;
	}
	return (int)opts.retval;
}

/* The first frame gen-pcap.py built to be redirected. */
static const struct frame *a_tracker_frame(void)
{
	for (unsigned i = 0; i < fx.n_frames; i++)
		if (fx.frames[i].action == XDP_REDIRECT)
			return &fx.frames[i];
	fail_msg("xdp.verdicts has no frame to redirect");
	return NULL;
}

static int fx_setup(void **state)
{
	char err[256];

	(void)state;
	fx.n_frames = read_pcap(DP_PCAP_DIR "/xdp.in.pcap", fx.frames, FRAMES_MAX);
	read_verdicts(DP_PCAP_DIR "/xdp.verdicts", fx.frames, fx.n_frames);
	fx.obj = bpf_object__open_file(DP_XDP_PROG_BUILD, NULL);
	assert_non_null(fx.obj);
	assert_int_equal(bpf_object__load(fx.obj), 0);
	fx.prog_fd = bpf_program__fd(bpf_object__find_program_by_name(fx.obj, "dp_xdp_steer"));
	fx.xsks_fd = bpf_object__find_map_fd_by_name(fx.obj, DP_XDP_XSKS_MAP);
	assert_true(fx.prog_fd >= 0 && fx.xsks_fd >= 0);
	dp_xdp_init(&fx.x);
	if (dp_xdp_open_fd(&fx.x, fx.prog_fd, err, sizeof(err)) != 0)
		fail_msg("dp_xdp_open_fd: %s", err);
	xsk_open();
	return 0;
}

static int fx_teardown(void **state)
{
	(void)state;
	xsk_socket__delete(fx.xsk);
	xsk_umem__delete(fx.umem);
	munmap(fx.umem_area, (size_t)UMEM_FRAMES * UMEM_FRAME);
	dp_xdp_close(&fx.x);
	bpf_object__close(fx.obj);
	return 0;
}

/* --- the tests -------------------------------------------------------------- */

static void test_dp_xdp_passes_everything_until_configured(void **state)
{
	unsigned reason;

	(void)state;
	socket_in_map(true);
	assert_int_equal(run(a_tracker_frame(), &reason), XDP_PASS);
	assert_int_equal(reason, DP_XDP_PASS_OFF);
	socket_in_map(false);
}

static void test_dp_xdp_gives_every_generated_frame_its_verdict(void **state)
{
	unsigned bad = 0, redirected = 0;

	(void)state;
	configure();
	socket_in_map(true);
	for (unsigned i = 0; i < fx.n_frames; i++) {
		const struct frame *f = &fx.frames[i];
		unsigned reason;
		int action = run(f, &reason);

		if (action != f->action || reason != f->reason) {
			print_message("frame %u (%s): action %d reason %s, want %d %s\n", i,
				      f->note, action, dp_xdp_reason_name(reason), f->action,
				      dp_xdp_reason_name(f->reason));
			bad++;
		}
		redirected += action == XDP_REDIRECT;
	}
	socket_in_map(false);
	assert_int_equal(bad, 0);
	assert_true(redirected > 0 && redirected < fx.n_frames);
}

static void test_dp_xdp_passes_tracker_udp_on_a_queue_without_a_socket(void **state)
{
	unsigned reason;

	(void)state;
	configure();
	assert_int_equal(run(a_tracker_frame(), &reason), XDP_PASS);
	assert_int_equal(reason, DP_XDP_PASS_NO_SOCKET);
}

static void test_dp_xdp_passes_everything_once_disabled(void **state)
{
	unsigned reason;

	(void)state;
	configure();
	socket_in_map(true);
	assert_int_equal(run(a_tracker_frame(), &reason), XDP_REDIRECT);
	assert_int_equal(reason, DP_XDP_REDIRECT);
	assert_int_equal(dp_xdp_disable(&fx.x), 0);
	assert_int_equal(run(a_tracker_frame(), &reason), XDP_PASS);
	assert_int_equal(reason, DP_XDP_PASS_OFF);
	socket_in_map(false);
}

/* The ethertype behind at most one VLAN tag. */
static uint16_t ethertype(const struct frame *f)
{
	uint16_t type = (uint16_t)(f->data[12] << 8 | f->data[13]);

	return type == 0x8100 ? (uint16_t)(f->data[16] << 8 | f->data[17]) : type;
}

static void test_dp_xdp_leaves_a_family_the_port_has_no_address_of(void **state)
{
	unsigned reason, v4 = 0, v6 = 0;

	(void)state;
	socket_in_map(true);
	assert_int_equal(dp_xdp_set(&fx.x, tracker4, NULL, tracker_ports, 2), 0);
	for (unsigned i = 0; i < fx.n_frames; i++) {
		const struct frame *f = &fx.frames[i];
		bool ip6 = ethertype(f) == 0x86dd;

		if (f->action != XDP_REDIRECT)
			continue;
		assert_int_equal(run(f, &reason), ip6 ? XDP_PASS : XDP_REDIRECT);
		assert_int_equal(reason, ip6 ? DP_XDP_PASS_OTHER_ADDR : DP_XDP_REDIRECT);
		v4 += !ip6;
		v6 += ip6;
	}
	socket_in_map(false);
	assert_true(v4 > 0 && v6 > 0);
}

static void test_dp_xdp_refuses_ports_beyond_its_map(void **state)
{
	uint16_t ports[DP_XDP_MAX_PORTS + 1];

	(void)state;
	for (unsigned i = 0; i <= DP_XDP_MAX_PORTS; i++)
		ports[i] = (uint16_t)(1000 + i);
	assert_int_equal(dp_xdp_set(&fx.x, tracker4, tracker6, ports, DP_XDP_MAX_PORTS + 1),
			 -EINVAL);
	assert_int_equal(dp_xdp_set(&fx.x, tracker4, tracker6, ports, DP_XDP_MAX_PORTS), 0);
}

static void test_dp_xdp_tells_a_foreign_program_apart(void **state)
{
	const struct bpf_insn pass[] = {
	    {.code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = XDP_PASS},
	    {.code = BPF_JMP | BPF_EXIT},
	};
	int fd = bpf_prog_load(BPF_PROG_TYPE_XDP, "foreign", "BSD", pass, 2, NULL);
	struct dp_xdp other;
	char err[256] = "";

	(void)state;
	assert_true(fd >= 0);
	dp_xdp_init(&other);
	assert_int_equal(dp_xdp_open_fd(&other, fd, err, sizeof(err)), -EPROTO);
	assert_non_null(strstr(err, "not dptrack's"));
	assert_int_equal(other.conf_fd, -1);
	close(fd);
}

/* The namespace's loopback, where the claim tests attach programs (generic
 * mode: any device takes it). */
static unsigned lo_index(void)
{
	unsigned lo = if_nametoindex("lo");

	assert_true(lo > 0);
	return lo;
}

static uint32_t attached_id(unsigned ifindex)
{
	uint32_t id;
	bool generic;

	assert_int_equal(dp_xdp_attached(ifindex, &id, &generic), 0);
	return id;
}

/* One claim per interface: a second is refused naming the holder's PID,
 * and once the first is given up the interface can be claimed again. */
static void test_dp_xdp_claim_is_one_holder_at_a_time(void **state)
{
	unsigned lo = lo_index();
	int first, second;
	uint32_t stale;
	pid_t holder;
	char err[256] = "";

	(void)state;
	assert_int_equal(dp_xdp_claim(lo, &first, &stale, &holder, err, sizeof(err)), 0);
	assert_true(first >= 0);
	assert_int_equal(stale, 0);
	assert_int_equal(dp_xdp_claim(lo, &second, &stale, &holder, err, sizeof(err)), -EBUSY);
	assert_int_equal(second, -1);
	assert_int_equal(holder, getpid());
	assert_non_null(strstr(err, "another process"));
	/* Another interface is another claim. */
	int other;
	assert_int_equal(dp_xdp_claim(lo + 1000, &other, &stale, &holder, err, sizeof(err)), 0);
	dp_xdp_unclaim(&other);
	dp_xdp_unclaim(&first);
	assert_int_equal(first, -1);
	assert_int_equal(dp_xdp_claim(lo, &second, &stale, &holder, err, sizeof(err)), 0);
	dp_xdp_unclaim(&second);
}

/* With the claim free, a program of ours on the interface was left by a
 * dptrack that did not stop: the claim removes it and names it. A program
 * not ours stays, and the claim is refused. */
static void test_dp_xdp_claim_removes_what_a_killed_dptrack_left_and_only_that(void **state)
{
	const struct bpf_insn pass[] = {
	    {.code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = XDP_PASS},
	    {.code = BPF_JMP | BPF_EXIT},
	};
	unsigned lo = lo_index();
	int claim;
	uint32_t stale;
	pid_t holder;
	char err[256] = "";

	(void)state;
	assert_int_equal(bpf_xdp_attach((int)lo, fx.prog_fd, XDP_FLAGS_SKB_MODE, NULL), 0);
	assert_int_equal(attached_id(lo), fx.x.prog_id);
	if (dp_xdp_claim(lo, &claim, &stale, &holder, err, sizeof(err)) != 0)
		fail_msg("dp_xdp_claim: %s", err);
	assert_int_equal(stale, fx.x.prog_id);
	assert_int_equal(attached_id(lo), 0);
	dp_xdp_unclaim(&claim);

	int foreign = bpf_prog_load(BPF_PROG_TYPE_XDP, "foreign", "BSD", pass, 2, NULL);
	assert_true(foreign >= 0);
	assert_int_equal(bpf_xdp_attach((int)lo, foreign, XDP_FLAGS_SKB_MODE, NULL), 0);
	uint32_t id = attached_id(lo);
	assert_int_equal(dp_xdp_claim(lo, &claim, &stale, &holder, err, sizeof(err)), -EEXIST);
	assert_int_equal(claim, -1);
	assert_int_equal(stale, id);
	assert_non_null(strstr(err, "not dptrack's"));
	assert_int_equal(attached_id(lo), id); /* left alone */
	assert_int_equal(bpf_xdp_detach((int)lo, XDP_FLAGS_SKB_MODE, NULL), 0);
	close(foreign);
	/* And the refused claim was given back. */
	assert_int_equal(dp_xdp_claim(lo, &claim, &stale, &holder, err, sizeof(err)), 0);
	dp_xdp_unclaim(&claim);
}

static void test_dp_xdp_names_every_reason_distinctly(void **state)
{
	(void)state;
	for (unsigned a = 0; a < DP_XDP_N; a++) {
		assert_string_not_equal(dp_xdp_reason_name(a), "unknown");
		for (unsigned b = 0; b < a; b++)
			assert_string_not_equal(dp_xdp_reason_name(a), dp_xdp_reason_name(b));
	}
	assert_string_equal(dp_xdp_reason_name(DP_XDP_N), "unknown");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_dp_xdp_passes_everything_until_configured),
	    cmocka_unit_test(test_dp_xdp_gives_every_generated_frame_its_verdict),
	    cmocka_unit_test(test_dp_xdp_passes_tracker_udp_on_a_queue_without_a_socket),
	    cmocka_unit_test(test_dp_xdp_passes_everything_once_disabled),
	    cmocka_unit_test(test_dp_xdp_leaves_a_family_the_port_has_no_address_of),
	    cmocka_unit_test(test_dp_xdp_refuses_ports_beyond_its_map),
	    cmocka_unit_test(test_dp_xdp_tells_a_foreign_program_apart),
	    cmocka_unit_test(test_dp_xdp_names_every_reason_distinctly),
	    cmocka_unit_test(test_dp_xdp_claim_is_one_holder_at_a_time),
	    cmocka_unit_test(test_dp_xdp_claim_removes_what_a_killed_dptrack_left_and_only_that),
	};
	static struct frame frames[FRAMES_MAX];

	if (geteuid() != 0) {
		printf("skipped: loading BPF and binding AF_XDP need root\n");
		return 77;
	}
	/* A namespace of our own: its loopback is where the socket binds. */
	if (unshare(CLONE_NEWNET) != 0) {
		perror("unshare(CLONE_NEWNET)");
		return 1;
	}
	fx.frames = frames;
	return cmocka_run_group_tests_name("dp_xdp", tests, fx_setup, fx_teardown);
}
