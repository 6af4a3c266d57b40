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
#include <inttypes.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
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

/* ---- failed acknowledgements: backoff, first failure, give-up, full table --- */

/* A batch of this instance (number seq, n records of swarm ih, the first
 * a completion if completed) as the client hands it back to cl_on_ack. */
static natsMsg *batch_msg(struct cl *c, uint64_t seq, unsigned n, bool completed, const uint8_t *ih)
{
	struct sync_batch_hdr h = {.epoch = c->epoch, .seq = seq, .base_ms = wall_ms()};
	struct sync_rec r[8];
	uint8_t buf[1024];
	natsMsg *m = NULL;
	size_t len;

	assert_true(n >= 1 && n <= 8);
	for (unsigned i = 0; i < n; i++)
		r[i] = rec_now(ih, 100 + i,
			       i == 0 && completed ? SYNC_F_SEEDER | SYNC_F_COMPLETED : 0);
	h.instance_len = (uint8_t)strlen(c->instance);
	memcpy(h.instance, c->instance, (size_t)h.instance_len + 1);
	len = sync_batch_write(&h, r, n, buf, sizeof(buf));
	assert_true(len > 0);
	assert_int_equal(
	    natsMsg_Create(&m, "dptrack.peers.main.unit", NULL, (const char *)buf, (int)len),
	    NATS_OK);
	return m;
}

/* The backoff after the n-th failure lies in [d/2, d], d = 100 ms doubled
 * per failure up to 2 s; both ends are reached; any count is safe. */
static void test_cl_retry_backoff_doubles_with_jitter_up_to_its_cap(void **state)
{
	static const uint64_t rnds[] = {
	    0, 1, 2, 49, 50, 51, 999, 1000, 1001, 0x9e3779b97f4a7c15ull, UINT64_MAX};
	static const uint32_t tries[] = {
	    1, 2, 3, 4, 5, 6, 7, 8, 16, 17, 31, 32, 33, 64, 1000, UINT32_MAX - 1, UINT32_MAX};

	(void)state;
	for (size_t t = 0; t < RTE_DIM(tries); t++) {
		int64_t d =
		    tries[t] >= 6 ? CL_RETRY_CAP_MS : (int64_t)CL_RETRY_BASE_MS << (tries[t] - 1);
		int64_t lo = INT64_MAX, hi = 0;

		for (size_t k = 0; k < RTE_DIM(rnds); k++) {
			int64_t b = cl_retry_backoff_ms(tries[t], rnds[k]);

			if (b < d / 2 || b > d)
				fail_msg("try %u, rnd %" PRIu64 ": backoff %" PRId64
					 " ms outside [%" PRId64 ", %" PRId64 "]",
					 tries[t], rnds[k], b, d / 2, d);
			lo = RTE_MIN(lo, b);
			hi = RTE_MAX(hi, b);
		}
		assert_int_equal(lo, d / 2);
		assert_int_equal(cl_retry_backoff_ms(tries[t], (uint64_t)(d - d / 2)), d);
		assert_true(hi <= d);
	}
	assert_int_equal(cl_retry_backoff_ms(0, 0), CL_RETRY_BASE_MS / 2);
	assert_int_equal(cl_retry_backoff_ms(5, 0), 800);
	assert_int_equal(cl_retry_backoff_ms(6, 0), CL_RETRY_CAP_MS / 2);
}

/* The give-up clock: signed, so a failure stamped a moment after the
 * caller's now (on the ack handler's thread) is young, not 584 million
 * years old. */
static void test_cl_retry_expiry_is_signed(void **state)
{
	(void)state;
	assert_false(cl_retry_expired(1000, 1000 + 59999, 60000));
	assert_true(cl_retry_expired(1000, 1000 + 60000, 60000));
	assert_false(cl_retry_expired(1005, 1000, 60000)); /* stamped after now */
	assert_false(cl_retry_expired(INT64_MAX / 2, 0, 60000));
	assert_true(cl_retry_expired(-60000, 0, 60000));
	assert_true(cl_retry_expired(5, 5, 0)); /* no horizon: at once */
}

/*
 * A failed acknowledgement keeps the batch with the time of its first
 * failure and a backoff: a turn before it is due publishes nothing, one
 * after publishes it again (the client, absent here, refuses it: one more
 * failure, a longer backoff); a second failed acknowledgement keeps the
 * first failure's time; a positive one that says "duplicate" counts one
 * and frees the slot.
 */
static void test_cl_retry_keeps_the_first_failure_and_backs_off(void **state)
{
	jsPubAckErr pae = {.Err = NATS_TIMEOUT};
	jsPubAck pa = {.Duplicate = true};
	uint8_t ih[TR_HASH_LEN];

	(void)state;
	hash_of(ih, 2);
	struct cl *c = made();
	natsMsg *m = batch_msg(c, 1, 2, false, ih);
	int64_t t0 = cl_mono_ms();

	cl_on_ack(NULL, m, NULL, &pae, c);
	assert_int_equal(c->n_retry, 1);
	assert_int_equal(metric(c, "cluster_acks_failed"), 1);
	int64_t first = c->retry[0].first_ms, due = c->retry[0].due_ms;
	assert_true(first >= t0 && first - t0 < 1000);
	assert_true(due - first >= CL_RETRY_BASE_MS / 2 && due - first <= CL_RETRY_BASE_MS);

	__atomic_store_n(&c->connected, 1, __ATOMIC_RELAXED);
	assert_int_equal(cl_retry_turn(c, due - 1, false, false), 0);
	assert_int_equal(metric(c, "cluster_publish_retries"), 0);
	assert_int_equal(cl_retry_turn(c, due, false, false), 0);
	assert_int_equal(metric(c, "cluster_publish_retries"), 1);
	assert_int_equal(c->n_retry, 1);
	assert_false(c->retry[0].in_flight);
	assert_int_equal(c->retry[0].tries, 2);
	assert_int_equal(c->retry[0].first_ms, first);
	assert_true(c->retry[0].due_ms - due >= CL_RETRY_BASE_MS);

	/* Published again and failed again: as the client hands it back. */
	c->retry[0].in_flight = true;
	cl_on_ack(NULL, m, NULL, &pae, c);
	assert_int_equal(c->n_retry, 1);
	assert_int_equal(c->retry[0].tries, 3);
	assert_int_equal(c->retry[0].first_ms, first);
	assert_int_equal(metric(c, "cluster_acks_failed"), 2);

	/* Published again, and the stream held it already. */
	c->retry[0].in_flight = true;
	cl_on_ack(NULL, m, &pa, NULL, c); /* destroys m */
	assert_int_equal(c->n_retry, 0);
	assert_int_equal(metric(c, "cluster_duplicate_batches"), 1);
	assert_int_equal(metric(c, "cluster_drop_gave_up"), 0);
	cl_free(c);
}

/*
 * Give-up: a batch failing for retry_max_ms is dropped, its records
 * counted (gave_up) and its completion counted here; one whose failure
 * was stamped after the turn's now (the handler's clock read later) is
 * kept. While disconnected nothing is published again. Leaving, every
 * batch still waiting is given up and counted.
 */
static void test_cl_retry_gives_up_after_the_horizon_and_counts(void **state)
{
	jsPubAckErr pae = {.Err = NATS_NO_RESPONDERS};
	uint8_t ih[TR_HASH_LEN];

	(void)state;
	hash_of(ih, 3);
	struct cl *c = made();
	int64_t now = cl_mono_ms();

	cl_on_ack(NULL, batch_msg(c, 1, 3, true, ih), NULL, &pae, c);
	cl_on_ack(NULL, batch_msg(c, 2, 2, false, ih), NULL, &pae, c);
	assert_int_equal(c->n_retry, 2);
	c->retry[0].first_ms = now - c->retry_max_ms; /* failing for the whole horizon */
	assert_true(c->retry[1].first_ms >= now);     /* stamped after now */
	assert_int_equal(cl_retry_turn(c, now - 5, false, false), 0);
	assert_int_equal(cl_retry_turn(c, now, false, false), 1);
	assert_int_equal(c->n_retry, 1);
	assert_int_equal(metric(c, "cluster_drop_gave_up"), 3);
	assert_int_equal(swarm(ih).completed, 1);
	assert_int_equal(metric(c, "cluster_publish_retries"), 0); /* disconnected */

	assert_int_equal(cl_retry_turn(c, cl_mono_ms(), false, true), 1);
	assert_int_equal(c->n_retry, 0);
	assert_int_equal(metric(c, "cluster_drop_gave_up"), 5);
	cl_free(c);
}

/* A full retry table: the batch that finds no slot is dropped and its
 * records counted (retry_full), never lost silently. */
static void test_cl_retry_table_full_counts_the_drop(void **state)
{
	jsPubAckErr pae = {.Err = NATS_TIMEOUT};
	uint8_t ih[TR_HASH_LEN];

	(void)state;
	hash_of(ih, 4);
	struct cl *c = made();

	for (unsigned i = 0; i < CL_RETRY_SLOTS; i++)
		cl_on_ack(NULL, batch_msg(c, i + 1, 1, false, ih), NULL, &pae, c);
	assert_int_equal(c->n_retry, CL_RETRY_SLOTS);
	assert_int_equal(metric(c, "cluster_drop_retry_full"), 0);
	cl_on_ack(NULL, batch_msg(c, CL_RETRY_SLOTS + 1, 5, false, ih), NULL, &pae, c);
	assert_int_equal(c->n_retry, CL_RETRY_SLOTS);
	assert_int_equal(metric(c, "cluster_drop_retry_full"), 5);
	assert_int_equal(metric(c, "cluster_acks_failed"), CL_RETRY_SLOTS + 1);
	cl_free(c); /* destroys the 1,024 kept */
}

/* ---- the consumer checked against the stream's leader ------------------------ */

/* What the stream's leader holds: the key of each message by sequence. */
static struct {
	uint64_t keys[16];
	uint64_t last;
	bool down;
} leader;

static int fake_leader_key(struct cl *c, uint64_t seq, uint64_t *key)
{
	(void)c;
	if (leader.down)
		return -1;
	if (seq == 0 || seq > leader.last)
		return 0;
	*key = leader.keys[seq];
	return 1;
}

static int fake_leader_last(struct cl *c, uint64_t *seq)
{
	(void)c;
	if (leader.down)
		return -1;
	*seq = leader.last;
	return leader.last != 0;
}

/*
 * The consumer's server lost message 2 of the leader's five and numbers
 * the rest one lower: the check finds another message at the sequence
 * applied last, the consumer is made anew after the last sequence checked,
 * and the replay applies message 2 and skips what was applied (its
 * completion counts once). A consumer idle while the leader holds more is
 * made anew at the second check; a leader that does not answer changes
 * nothing.
 */
static void test_cl_consumer_checked_against_the_leader_replays_once(void **state)
{
	uint8_t ih[TR_HASH_LEN], buf[5][512];
	size_t len[5];

	(void)state;
	hash_of(ih, 5);
	struct cl *c = made();
	c->leader_key = fake_leader_key;
	c->leader_last = fake_leader_last;
	memset(&leader, 0, sizeof(leader));
	for (unsigned i = 0; i < 5; i++) { /* messages 2 and 3 complete */
		struct sync_rec r = rec_now(ih, 10 + i, i == 1 || i == 2 ? SYNC_F_COMPLETED : 0);

		len[i] = batch_of(buf[i], sizeof(buf[i]), "x", 99, i + 1, &r);
		leader.keys[i + 1] = cl_msg_key(buf[i], len[i]);
	}
	leader.last = 5;
	int64_t t = cl_mono_ms();

	/* The lagging server: 1, 3, 4 as 1, 2, 3. */
	cl_sub_apply(c, 1, 2, buf[0], len[0], "s");
	cl_sub_apply(c, 2, 1, buf[2], len[2], "s");
	cl_sub_apply(c, 3, 0, buf[3], len[3], "s");
	assert_int_equal(swarm(ih).leechers, 3);
	c->ready = true;
	cl_sub_verify(c, t);
	assert_int_equal(metric(c, "cluster_replica_mismatches"), 1);
	assert_int_equal(metric(c, "cluster_stream_sequence"), 0);
	assert_false(c->ready);

	/* Made anew on a server that agrees: from 1 again. */
	for (unsigned i = 0; i < 5; i++)
		cl_sub_apply(c, i + 1, 4 - i, buf[i], len[i], "s");
	assert_int_equal(metric(c, "cluster_redelivered_batches"), 3);
	assert_int_equal(metric(c, "cluster_batches_applied"), 5);
	assert_int_equal(swarm(ih).leechers, 5);
	assert_int_equal(swarm(ih).completed, 2);
	cl_sub_verify(c, t + CL_VERIFY_MS - 1); /* not yet */
	assert_int_equal(c->verified_seq, 0);
	cl_sub_verify(c, t + CL_VERIFY_MS);
	assert_int_equal(c->verified_seq, 5);
	assert_int_equal(c->n_since, 0);
	assert_int_equal(metric(c, "cluster_replica_mismatches"), 1);

	/* The leader holds a sixth the consumer does not deliver. */
	leader.last = 6;
	c->ready = true;
	cl_sub_verify(c, t + 2 * CL_VERIFY_MS); /* seen once: may be on its way */
	assert_true(c->ready);
	leader.down = true;
	cl_sub_verify(c, t + 3 * CL_VERIFY_MS); /* no answer: nothing done */
	assert_true(c->ready);
	leader.down = false;
	cl_sub_verify(c, t + 4 * CL_VERIFY_MS);
	assert_int_equal(metric(c, "cluster_consumer_stalls"), 0); /* the silence broke the run */
	cl_sub_verify(c, t + 5 * CL_VERIFY_MS);
	assert_int_equal(metric(c, "cluster_consumer_stalls"), 1);
	assert_false(c->ready);
	assert_int_equal(metric(c, "cluster_stream_sequence"), 5);
	cl_free(c);
}

/* ---- where a replay by time starts ------------------------------------------- */

/* A stream of messages 100..1099, one a millisecond from T (several
 * sharing a millisecond), some sequences without a message (holes). */
#define SPAN_T0	   1700000000000000000ll
#define SPAN_FIRST 100u
#define SPAN_LAST  1099u

struct fake_stream {
	bool holes;
	int fail_at; /* the probe that fails, 0 = none */
	int probes;
};

static bool fake_hole(const struct fake_stream *f, uint64_t seq)
{
	return f->holes && (seq % 7 == 3 || (seq >= 500 && seq < 520));
}

static int64_t fake_ns(uint64_t seq)
{
	return SPAN_T0 + (int64_t)((seq - SPAN_FIRST) / 3) * 1000000;
}

static int fake_time(void *arg, uint64_t seq, int64_t *ns)
{
	struct fake_stream *f = arg;

	assert_true(seq >= SPAN_FIRST && seq <= SPAN_LAST);
	if (++f->probes == f->fail_at)
		return -1;
	if (fake_hole(f, seq))
		return 0;
	*ns = fake_ns(seq);
	return 1;
}

/*
 * The start is the first message stored at or after the time, found by
 * halving (about log2(n) probes); with holes, never later than that one
 * and with nothing new before it; an empty stream, or one all older,
 * starts after its end, one all newer at its start; a failed probe is
 * reported, not guessed.
 */
static void test_cl_replay_starts_at_the_first_message_since(void **state)
{
	const struct cl_span sp = {.msgs = SPAN_LAST - SPAN_FIRST + 1,
				   .first = SPAN_FIRST,
				   .last = SPAN_LAST,
				   .first_ns = fake_ns(SPAN_FIRST),
				   .last_ns = fake_ns(SPAN_LAST)};
	struct fake_stream f = {0};
	uint64_t seq = 0;

	(void)state;
	for (int holes = 0; holes < 2; holes++) {
		f.holes = holes;
		for (uint64_t want = SPAN_FIRST + 1; want <= SPAN_LAST; want++) {
			int64_t since = fake_ns(want) - (want % 2); /* at, or just before */
			uint64_t exact = SPAN_FIRST;

			while (fake_ns(exact) < since)
				exact++;
			f.probes = 0;
			assert_int_equal(cl_replay_start(&sp, since, fake_time, &f, &seq), 0);
			assert_true(f.probes <= 11);
			if (!holes) {
				assert_int_equal(seq, exact);
				continue;
			}
			assert_true(seq <= exact);
			for (uint64_t k = SPAN_FIRST; k < seq; k++)
				assert_true(fake_hole(&f, k) || fake_ns(k) < since);
		}
	}
	f = (struct fake_stream){0};
	assert_int_equal(cl_replay_start(&sp, fake_ns(SPAN_LAST) + 1, fake_time, &f, &seq), 0);
	assert_int_equal(seq, SPAN_LAST + 1);
	assert_int_equal(cl_replay_start(&sp, fake_ns(SPAN_FIRST), fake_time, &f, &seq), 0);
	assert_int_equal(seq, SPAN_FIRST);
	assert_int_equal(f.probes, 0);

	const struct cl_span empty = {.msgs = 0, .first = 501, .last = 500};
	assert_int_equal(cl_replay_start(&empty, SPAN_T0, fake_time, &f, &seq), 0);
	assert_int_equal(seq, 501);

	f.fail_at = 3;
	assert_int_equal(cl_replay_start(&sp, fake_ns(700), fake_time, &f, &seq), -1);
}

/*
 * Lag p50 and p99 read the last full 10 s window, linear within their
 * bucket; the window says how many records it held, so one that held none
 * reads as nothing measured rather than as no lag (what --status showed
 * before: 0.0 ms right after a record, its window still open).
 */
static void test_cl_lag_reads_the_last_full_window_and_says_when_it_was_empty(void **state)
{
	struct cl *c = calloc(1, sizeof(*c));
	const uint64_t t = 50000;

	(void)state;
	assert_non_null(c);
	for (int i = 0; i < 98; i++)
		cl_lag_add(c, 3, t); /* bucket (2, 5] ms */
	cl_lag_add(c, 700, t + 1);   /* bucket (500, 1000] ms */
	cl_lag_add(c, 700, t + 2);
	/* The window is open: nothing read from it yet. */
	assert_int_equal(c->st.lag_window_records, 0);
	assert_int_equal(c->st.lag_p50_us, 0);

	cl_lag_roll(c, t + 10000);
	assert_int_equal(c->st.lag_window_records, 100);
	/* p50: the 50th of 98 in (2, 5]; p99: the 1st of 2 in (500, 1000]. */
	assert_int_equal(c->st.lag_p50_us, (uint64_t)((2 + 3.0 * 50 / 98) * 1000));
	assert_int_equal(c->st.lag_p99_us, 750000);
	assert_int_equal(c->st.lag[2], 98);
	assert_int_equal(c->st.lag_ms_sum, 98 * 3 + 2 * 700);

	/* A window without a record: nothing measured, said so. */
	cl_lag_roll(c, t + 20000);
	assert_int_equal(c->st.lag_window_records, 0);
	assert_int_equal(c->st.lag_p50_us, 0);
	assert_int_equal(c->st.lag_p99_us, 0);
	/* Beyond the last bound: the open bucket, read as its lower bound. */
	cl_lag_add(c, 4000000, t + 20001);
	cl_lag_roll(c, t + 30001);
	assert_int_equal(c->st.lag_window_records, 1);
	assert_int_equal(c->st.lag_p99_us, 3600000ull * 1000);
	assert_int_equal(c->st.lag[CL_LAG_BUCKETS], 1);
	free(c);
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
	    cmocka_unit_test(test_cl_retry_backoff_doubles_with_jitter_up_to_its_cap),
	    cmocka_unit_test(test_cl_retry_expiry_is_signed),
	    cmocka_unit_test(test_cl_replay_starts_at_the_first_message_since),
	    cmocka_unit_test(test_cl_lag_reads_the_last_full_window_and_says_when_it_was_empty),
	    cmocka_unit_test_setup_teardown(
		test_cl_consumer_checked_against_the_leader_replays_once, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_cl_retry_keeps_the_first_failure_and_backs_off,
					    setup, teardown),
	    cmocka_unit_test_setup_teardown(test_cl_retry_gives_up_after_the_horizon_and_counts,
					    setup, teardown),
	    cmocka_unit_test_setup_teardown(test_cl_retry_table_full_counts_the_drop, setup,
					    teardown),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
