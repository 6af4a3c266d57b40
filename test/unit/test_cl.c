/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_cl.c - the cluster when its engine is not there: producers never
 * wait and count what their ring cannot take, the wait for the shared key
 * is bounded, and the sync thread stops promptly; and its halves driven
 * directly (cl_make, no thread): the consumer applies every stream message
 * once, in stream order, whatever order its origin numbered the batches.
 * No NATS server runs: the configured one is a loopback port nobody
 * listens on (the live test `cluster` runs the real thing, three servers
 * and three instances).
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include <rte_common.h>

#include "cfg.h"
#include "cluster/cl.h"
#include "cluster/cl_internal.h"
#include "core/ptab.h"
#include "core/sync.h"
#include "eal_test.h"
#include "tracker_fixture.h"

#define T0 1000000u

static struct tracker_fx fx;
static struct cfg cfg;

static uint64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* A loopback TCP port that was free a moment ago: nobody answers there. */
static uint16_t dead_port(void)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t al = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &al), 0);
	close(fd);
	return ntohs(a.sin_port);
}

struct find {
	const char *key;
	uint64_t v;
	int n;
};

static void find_cb(void *arg, const struct tr_metric *m)
{
	struct find *f = arg;

	if (strcmp(m->key, f->key) == 0) {
		f->v = m->value;
		f->n++;
	}
}

static uint64_t metric(const struct cl *c, const char *key)
{
	struct find f = {.key = key};

	cl_metrics(c, find_cb, &f);
	assert_int_equal(f.n, 1);
	return f.v;
}

static int setup(void **state)
{
	char err[512], yaml[256];

	(void)state;
	snprintf(yaml, sizeof(yaml),
		 "cluster:\n  enabled: true\n  servers: [\"nats://127.0.0.1:%u\"]\n"
		 "  instance: unit\n  ring_records: 1024\n  key_wait_ms: 300\n"
		 "  connect_timeout_ms: 200\n",
		 dead_port());
	if (cfg_load_buf(&cfg, "test.yaml", yaml, strlen(yaml), NULL, err, sizeof(err)) != 0) {
		print_error("%s\n", err);
		return -1;
	}
	return tracker_fx_up(&fx, "cl", 64, T0);
}

static int teardown(void **state)
{
	(void)state;
	tracker_fx_down(&fx);
	cfg_fini(&cfg);
	return 0;
}

static int group_setup(void **state)
{
	(void)state;
	return eal_test_init("cl", 256) < 0 ? -1 : 0;
}

static int group_teardown(void **state)
{
	(void)state;
	eal_test_fini();
	return 0;
}

/*
 * With no server, a producer's pushes go into its ring until it is full
 * (1,023 of a 1,024-slot ring) and every one after is refused at once and
 * counted, per producer; the key wait gives up after key_wait_ms, and the
 * cluster stops within a second.
 */
static void test_cl_without_a_server_producers_drop_and_count_and_never_wait(void **state)
{
	struct cl_params p = {.cfg = &cfg, .tr = &fx.tr, .n_producers = 2, .socket_id = -1};
	char err[256];
	struct sync_rec r = {.peer = v4(1), .flags = 0};

	(void)state;
	struct cl *c = cl_start(&p, err, sizeof(err));
	if (c == NULL)
		fail_msg("cl_start: %s", err);
	uint64_t t = mono_ms();
	assert_false(cl_wait_key(c));
	uint64_t waited = mono_ms() - t;
	assert_true(waited >= 290 && waited < 2000);

	const struct tr_sink *s0 = cl_sink(c, 0), *s1 = cl_sink(c, 1);
	assert_non_null(s0);
	assert_non_null(s1);
	assert_null(cl_sink(c, 2));
	unsigned ok = 0;
	uint64_t slowest = 0;
	for (unsigned i = 0; i < 1500; i++) {
		uint64_t a = mono_ms();
		ok += s0->push(s0->arg, &r);
		slowest = RTE_MAX(slowest, mono_ms() - a);
	}
	ok += s1->push(s1->arg, &r);
	assert_int_equal(ok, 1023 + 1);
	assert_true(slowest < 50); /* no push waits (a generous bound for a busy host) */
	assert_true(r.ms / 1000 + 5 > (uint64_t)time(NULL)); /* stamped with the wall clock */
	assert_int_equal(metric(c, "cluster_drop_ring_full"), 1500 - 1023);
	assert_int_equal(metric(c, "cluster_connected"), 0);
	assert_int_equal(metric(c, "cluster_records_published"), 0);

	t = mono_ms();
	cl_free(c);
	assert_true(mono_ms() - t < 3000);
}

/* udp.connection_id_secret makes the shared key needless: no wait at all. */
static void test_cl_with_a_secret_does_not_wait_for_a_key(void **state)
{
	struct cl_params p = {.cfg = &cfg, .tr = &fx.tr, .n_producers = 1, .socket_id = -1};
	char err[256];

	(void)state;
	cfg.udp.has_secret = true;
	struct cl *c = cl_start(&p, err, sizeof(err));
	if (c == NULL)
		fail_msg("cl_start: %s", err);
	uint64_t t = mono_ms();
	assert_false(cl_wait_key(c));
	assert_true(mono_ms() - t < 100);
	assert_int_equal(metric(c, "cluster_key_shared"), 1);
	cl_free(c);
}

/* ---- the consumer, driven directly ------------------------------------------ */

static uint64_t wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void hash_of(uint8_t ih[TR_HASH_LEN], unsigned seed)
{
	for (unsigned i = 0; i < TR_HASH_LEN; i++)
		ih[i] = (uint8_t)(seed * 97 + i * 31 + 1);
}

/* A record of peer v4(i) in swarm ih, announced now at its origin. */
static struct sync_rec rec_now(const uint8_t *ih, unsigned i, uint8_t flags)
{
	struct sync_rec r = {.ms = wall_ms(), .peer = v4(i), .flags = flags};

	memcpy(r.info_hash, ih, TR_HASH_LEN);
	return r;
}

/* Batch number seq of instance inst (boot epoch), holding the one record r. */
static size_t batch_of(uint8_t *buf, size_t cap, const char *inst, uint64_t epoch, uint64_t seq,
		       const struct sync_rec *r)
{
	struct sync_batch_hdr h = {.epoch = epoch, .seq = seq, .base_ms = wall_ms()};
	size_t n;

	h.instance_len = (uint8_t)strlen(inst);
	memcpy(h.instance, inst, (size_t)h.instance_len + 1);
	n = sync_batch_write(&h, r, 1, buf, cap);
	assert_true(n > 0);
	return n;
}

static struct ptab_counts swarm(const uint8_t *ih)
{
	struct ptab_counts k;

	ptab_scrape(fx.pt, ih, &k);
	return k;
}

static struct cl *made(void)
{
	struct cl_params p = {.cfg = &cfg, .tr = &fx.tr, .n_producers = 1, .socket_id = -1};
	char err[256];
	struct cl *c;

	fx.tr.p.peer_timeout = 2700;
	c = cl_make(&p, err, sizeof(err));
	if (c == NULL)
		fail_msg("cl_make: %s", err);
	return c;
}

/*
 * Batches of one origin stored out of their numbering (batch 2 at stream
 * sequence 10, batch 1 at 11, as a batch published again after a failed
 * acknowledgement lands behind later ones) are both applied; so are this
 * instance's own, whose completions count. A message at or below the
 * sequence applied last (the consumer made anew delivers it again) is
 * skipped and counted, so its completion does not count twice; a bad one
 * is refused and counted, and moves the sequence on.
 */
static void test_cl_consumer_applies_every_stream_message_once_in_stream_order(void **state)
{
	uint8_t ih[TR_HASH_LEN], buf[512];
	struct sync_rec r;
	size_t n;

	(void)state;
	struct cl *c = made();
	hash_of(ih, 1);

	r = rec_now(ih, 2, 0);
	n = batch_of(buf, sizeof(buf), "x", 77, 2, &r);
	cl_sub_apply(c, 10, 5, buf, n, "dptrack.peers.main.x");
	r = rec_now(ih, 1, 0);
	n = batch_of(buf, sizeof(buf), "x", 77, 1, &r);
	cl_sub_apply(c, 11, 4, buf, n, "dptrack.peers.main.x");
	assert_int_equal(swarm(ih).leechers, 2);
	assert_int_equal(metric(c, "cluster_batches_applied"), 2);
	assert_int_equal(metric(c, "cluster_records_applied"), 2);
	assert_int_equal(metric(c, "cluster_stream_sequence"), 11);

	/* Batch 3 of x: peer 1 completes and seeds. */
	r = rec_now(ih, 1, SYNC_F_SEEDER | SYNC_F_COMPLETED);
	n = batch_of(buf, sizeof(buf), "x", 77, 3, &r);
	cl_sub_apply(c, 12, 3, buf, n, "dptrack.peers.main.x");
	assert_int_equal(swarm(ih).completed, 1);
	assert_int_equal(swarm(ih).seeders, 1);
	/* Delivered again (12), and an older one (5): skipped, counted. */
	cl_sub_apply(c, 12, 3, buf, n, "dptrack.peers.main.x");
	cl_sub_apply(c, 5, 3, buf, n, "dptrack.peers.main.x");
	assert_int_equal(swarm(ih).completed, 1);
	assert_int_equal(metric(c, "cluster_redelivered_batches"), 2);
	assert_int_equal(metric(c, "cluster_batches_applied"), 3);

	/* Own batches 2 then 1: both come back, each completion counts once. */
	r = rec_now(ih, 3, SYNC_F_SEEDER | SYNC_F_COMPLETED);
	n = batch_of(buf, sizeof(buf), "unit", c->epoch, 2, &r);
	cl_sub_apply(c, 13, 2, buf, n, "dptrack.peers.main.unit");
	r = rec_now(ih, 4, SYNC_F_SEEDER | SYNC_F_COMPLETED);
	n = batch_of(buf, sizeof(buf), "unit", c->epoch, 1, &r);
	cl_sub_apply(c, 14, 1, buf, n, "dptrack.peers.main.unit");
	assert_int_equal(swarm(ih).completed, 3);
	assert_int_equal(metric(c, "cluster_own_batches"), 2);
	assert_int_equal(swarm(ih).seeders, 1); /* own records: only their completions */

	/* Not a batch: refused, counted, and the sequence moves past it. */
	cl_sub_apply(c, 15, 0, (const uint8_t *)"not a batch", 11, "dptrack.peers.main.y");
	assert_int_equal(metric(c, "cluster_drop_bad_batch"), 1);
	assert_int_equal(metric(c, "cluster_stream_sequence"), 15);
	assert_int_equal(metric(c, "cluster_duplicate_batches"), 0);
	cl_free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(
		test_cl_without_a_server_producers_drop_and_count_and_never_wait, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_cl_with_a_secret_does_not_wait_for_a_key, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(
		test_cl_consumer_applies_every_stream_message_once_in_stream_order, setup,
		teardown),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
