/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * cl_internal.h - what the cluster's files share: struct cl, the
 * producers' rings, the counters, and the NATS side's functions. Private
 * to cluster/.
 */
#ifndef DPTRACK_CLUSTER_CL_INTERNAL_H
#define DPTRACK_CLUSTER_CL_INTERNAL_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include <nats/nats.h>
#include <rte_log.h>

#include "cl.h"
#include "core/sync.h"

struct rte_ring;

/* Batches the client may have in flight unacknowledged; more wait (up to
 * CL_STALL_MS) and the batch is tried again on the next turn. */
#define CL_MAX_PENDING 256
#define CL_STALL_MS    20

/* A batch whose publication keeps failing is dropped after this long
 * (less if the stream's duplicate window is short: cl_nats.c): its records
 * are then counted as lost, and their peers come back at their next
 * announce. */
#define CL_RETRY_MAX_MS 60000

/* Acknowledgement timeout of one batch (jsPubOptions.MaxWait; without it
 * a lost acknowledgement stalls the publisher for good). */
#define CL_ACK_WAIT_MS 5000

/* Batches whose acknowledgement failed, kept to be published again (also
 * while published again, until acknowledged). A new batch goes out only
 * while CL_MAX_PENDING more would fit: every batch the client holds can
 * fail, and each then needs a slot, so the table never overflows (if it
 * did, the batch would be dropped and counted, retry_full). */
#define CL_RETRY_SLOTS 1024

/* Failed batches published again, and given up, per turn at most (the
 * rest wait for the next turn). */
#define CL_RETRIES_PER_TURN 64

/* Backoff before a failed batch is published again: after its n-th
 * failure, a random time in [d/2, d], d = CL_RETRY_BASE_MS << (n - 1), at
 * most CL_RETRY_CAP_MS. */
#define CL_RETRY_BASE_MS 100
#define CL_RETRY_CAP_MS	 2000

/* The longest the thread's loop waits for a message, so it drains the
 * rings at least this often. */
#define CL_POLL_MS 2

/* The consumer is checked against the stream's leader this often: the
 * message the leader holds at the sequence applied last must be the one
 * applied there, and an idle consumer must not lag behind the leader. */
#define CL_VERIFY_MS 2000

/* Messages applied since the last check whose keys are kept (to replay
 * from the checked point without applying one twice); a check comes early
 * once half are used. */
#define CL_VERIFY_KEYS 2048

/* Lag histogram buckets, in ms (upper bounds); one more for +Inf. */
#define CL_LAG_BUCKETS 20

/* One producer: its ring and the sink that pushes into it. */
struct cl_prod {
	struct rte_ring *ring;
	struct tr_sink sink;
	uint64_t dropped; /* written by the producer only */
} __attribute__((aligned(64)));

/* Drops, by reason. */
enum cl_drop {
	CL_DROP_RING_FULL,   /* a producer's ring was full */
	CL_DROP_BUFFER,	     /* the client's reconnect buffer was full */
	CL_DROP_GAVE_UP,     /* a batch kept failing for CL_RETRY_MAX_MS */
	CL_DROP_RETRY_FULL,  /* a failed batch found no retry slot */
	CL_DROP_BAD_BATCH,   /* a batch from the stream failed to decode */
	CL_DROP_REFUSED,     /* the table refused a record (a limit) */
	CL_DROP_NOT_ALLOWED, /* the access list refused a record's torrent */
	CL_DROP_STALE,	     /* a record older than peer_timeout (a completion still counts) */
	CL_DROP_N,
};

/* The counters: written by the sync thread (and the ack handler, atomics),
 * read by cl_metrics from any thread with relaxed loads. */
struct cl_stats {
	uint64_t records_published, batches_published;
	uint64_t records_applied, batches_applied;
	uint64_t own_batches;	     /* own batches come back: completions counted */
	uint64_t duplicate_batches;  /* published again, and the stream said it held it */
	uint64_t redelivered;	     /* messages at or below applied_seq, or applied already */
	uint64_t replica_mismatches; /* the leader held another message where one was applied */
	uint64_t consumer_stalls;    /* the consumer idle while the leader held more */
	uint64_t drops[CL_DROP_N];
	uint64_t publish_retries, acks_failed;
	uint64_t async_errors; /* the client's asynchronous errors (on_async_error) */
	uint64_t connects, disconnects, reconnects;
	uint64_t lag_p50_us, lag_p99_us;  /* over the last full window */
	uint64_t lag_window_records;	  /* records in that window (0: p50, p99 measure nothing) */
	uint64_t lag[CL_LAG_BUCKETS + 1]; /* records applied, by lag bucket (not cumulative) */
	uint64_t lag_ms_sum;
};

/* A batch whose acknowledgement failed, to be published again. Times are
 * cl_mono_ms(), compared signed: one taken on another thread may be later
 * than the caller's now. */
struct cl_retry {
	natsMsg *msg;
	int64_t first_ms; /* its first failure: the give-up clock runs from it */
	int64_t due_ms;	  /* not published again before (backoff) */
	uint32_t tries;	  /* failures so far (acknowledgements, or the client refusing it) */
	bool in_flight;	  /* published again, acknowledgement awaited: the client holds msg */
};

struct cl {
	const struct cfg *cfg;
	struct tracker *tr;
	char instance[SYNC_INSTANCE_MAX + 1];
	char subject[160];   /* NAME.peers.SITE.INSTANCE */
	char wildcard[64];   /* NAME.peers.> */
	char bucket[64];     /* NAME_keys */
	uint64_t epoch;	     /* this process's boot, ns */
	uint64_t resume_seq; /* from the snapshot, 0 = by time */

	unsigned n_prod;
	struct cl_prod *prod;

	pthread_t tid;
	bool running;
	int stop;

	/* NATS: the sync thread's alone (callbacks only touch atomics). */
	natsConnection *nc;
	jsCtx *js;
	natsSubscription *sub;
	bool ready;		      /* stream, key and consumer set up */
	const char *fail_step;	      /* the setup step that failed last, and how: */
	natsStatus fail_status;	      /* logged once until it changes */
	uint64_t next_try_ms;	      /* next setup attempt while not ready */
	int connected;		      /* atomic, set by the callbacks */
	int async_err_last;	      /* atomic: the last asynchronous error logged */
	uint64_t sub_last_seq;	      /* the stream's last sequence when subscribed */
	uint64_t sub_fail_ms;	      /* since when the consumer fails; 0 = it works */
	unsigned replay_search_fails; /* failed searches for a replay's start in a row */
	uint64_t idle_check_ms;	      /* next ask whether catching up is over */

	/* Publishing: records taken from the rings, and a batch in hand. */
	struct sync_rec *pending;
	unsigned n_pending;
	int64_t pending_since_ms; /* the oldest pending record's arrival (cl_mono_ms) */
	uint8_t *buf;		  /* one encoded batch */
	size_t buf_len;		  /* 0 = no batch in hand */
	uint64_t buf_seq;
	int64_t buf_first_ms, buf_next_ms; /* cl_mono_ms */
	unsigned buf_records;
	uint64_t batch_seq;
	int64_t retry_max_ms; /* how long a failed batch is published again */
	/* The retry table, oldest first, shared with the ack handler. */
	pthread_mutex_t retry_lock;
	struct cl_retry retry[CL_RETRY_SLOTS];
	unsigned n_retry;
	uint64_t retry_rng;    /* the backoff's jitter */
	int retry_full_logged; /* atomic: the fault is logged once */

	/* Consuming. */
	pthread_mutex_t apply_lock; /* held around each batch; cl_apply_pause */
	uint64_t applied_seq;	    /* atomic: the stream sequence applied last */
	/* Checked against the stream's leader (cl_sub_verify): the sequence up
	 * to which the leader confirmed what was applied, the key of the
	 * message applied at applied_seq, and the keys of those applied after
	 * verified_seq (none is applied twice). */
	uint64_t verified_seq, last_key;
	uint64_t since_keys[CL_VERIFY_KEYS];
	unsigned n_since;
	int64_t next_verify_ms;
	uint64_t stall_seq; /* applied_seq when an idle check last saw the leader ahead */
	/* The leader's side (cl_nats.c; the unit tests put their own): the key
	 * of its message at seq, and the sequence of its last message on the
	 * consumer's subjects. 1 found, 0 none, -1 failed. */
	int (*leader_key)(struct cl *c, uint64_t seq, uint64_t *key);
	int (*leader_last)(struct cl *c, uint64_t *seq);
	int catching_up; /* atomic */
	uint64_t lag_window[CL_LAG_BUCKETS + 1];
	uint64_t lag_window_end_ms;

	/* The shared connection-ID key. */
	pthread_mutex_t key_lock;
	pthread_cond_t key_cond;
	int key_state; /* 0 waiting, 1 in force, -1 not shared (a secret is set) */

	struct cl_stats st;
};

/* Unix time in ms (CLOCK_REALTIME): records' stamps. */
uint64_t cl_now_ms(void);

/* Monotonic ms (CLOCK_MONOTONIC): the thread's own timing, which no clock
 * step may turn into a give-up or an endless wait. */
int64_t cl_mono_ms(void);

/* cl.c: everything cl_start makes (the configuration read, the buffers, the
 * rings) but the thread, which is not started: the unit tests drive the
 * halves directly. cl_free() frees it. */
struct cl *cl_make(const struct cl_params *p, char *err, size_t errlen);

/* cl_nats.c: one setup step while not ready (connect, stream, key,
 * consumer), retried by the caller every so often; returns true once all
 * is up. */
bool cl_nats_setup(struct cl *c);

/* What a stream holds (its info's state): message count, first and last
 * sequence and their stream times (unix ns). */
struct cl_span {
	uint64_t msgs, first, last;
	int64_t first_ns, last_ns;
};

/* The stream time (unix ns) of the message at seq: 1 found, 0 no message
 * there, -1 failed. */
typedef int (*cl_msg_time_fn)(void *arg, uint64_t seq, int64_t *ns);

/* Where a replay of the records stored since since_ns starts: the first
 * sequence of sp stored at or after it (a binary search through time_of,
 * a sequence without a message counting as new enough, so the start is
 * never late), sp->last + 1 when none is. Returns 0 with *seq set, -1 if
 * time_of failed. */
int cl_replay_start(const struct cl_span *sp, int64_t since_ns, cl_msg_time_fn time_of, void *arg,
		    uint64_t *seq);

/* Closes the consumer, the JetStream context and the connection. */
void cl_nats_close(struct cl *c);

/* cl_pub.c: drains the rings into the pending records and publishes a
 * batch when one is full or old enough, or retries the one in hand.
 * flush: publish whatever is pending now. */
void cl_pub_turn(struct cl *c, bool flush);

/* The publisher's acknowledgement handler (jsOptions.PublishAsync.
 * AckHandler; the message is the handler's): counts a duplicate, keeps a
 * failed batch to be published again, or drops and counts it (retry_full)
 * if no slot is left. Runs on the client's thread. */
void cl_on_ack(jsCtx *js, natsMsg *msg, jsPubAck *pa, jsPubAckErr *pae, void *closure);

/* Publishes again the failed batches that are due (all of them if flush),
 * while connected; gives up, counts and destroys those that failed for
 * retry_max_ms (or every one waiting if abandon: the thread is leaving),
 * CL_RETRIES_PER_TURN of each at most. Returns how many it gave up. now is
 * cl_mono_ms(). */
unsigned cl_retry_turn(struct cl *c, int64_t now, bool flush, bool abandon);

/* The wait before a batch is published again after its tries-th failure
 * (tries >= 1), rnd a random number: in [d/2, d], d = CL_RETRY_BASE_MS <<
 * (tries - 1) capped at CL_RETRY_CAP_MS. */
int64_t cl_retry_backoff_ms(uint32_t tries, uint64_t rnd);

/* Whether a batch that first failed at first_ms has been failing for
 * max_ms at now; false while now is before first_ms (taken on another
 * thread, a moment later than the caller's now). */
bool cl_retry_expired(int64_t first_ms, int64_t now, int64_t max_ms);

/* cl_sub.c: takes the messages the consumer has ready, at most waiting
 * wait_ms for the first, and applies them. */
void cl_sub_turn(struct cl *c, int64_t wait_ms);

/* Applies one message of the stream (cl_sub_turn's, and the unit tests'):
 * seq its stream sequence, left what the consumer says follows it, data
 * and len its batch, subject for the log. Skips (and counts) a sequence
 * at or below the one applied last; the caller holds no lock. */
void cl_sub_apply(struct cl *c, uint64_t seq, uint64_t left, const uint8_t *data, size_t len,
		  const char *subject);

/* A message's key: a 64-bit hash of its data (SipHash), the same for a
 * batch wherever it is read. */
uint64_t cl_msg_key(const void *data, size_t len);

/* Checks the consumer against the stream's leader, every CL_VERIFY_MS (or
 * sooner, when the kept keys run short): if the leader holds another
 * message at the sequence applied last (the consumer's server has lost or
 * gained one: nats-server 2.9 replicas can disagree), the consumer is made
 * anew after the last sequence both agreed on and what follows is applied
 * once (the kept keys skip what was); if the consumer delivers nothing
 * while the leader holds more (its server lags or is stuck), it is made
 * anew after the sequence applied. now is cl_mono_ms(). */
void cl_sub_verify(struct cl *c, int64_t now);

/* cl_nats.c: the leader's side of cl_sub_verify (struct cl's leader_key,
 * leader_last). */
int cl_nats_leader_key(struct cl *c, uint64_t seq, uint64_t *key);
int cl_nats_leader_last(struct cl *c, uint64_t *seq);

/* cl_stats.c: the lag of one applied record; cl_lag_roll: closes the
 * window once it is over (p50 and p99 are the last full window's), also
 * when no record came. */
void cl_lag_add(struct cl *c, uint64_t lag_ms, uint64_t now_ms);
void cl_lag_roll(struct cl *c, uint64_t now_ms);

#define CL_LOG(level, ...) rte_log(RTE_LOG_##level, cl_logtype, "dptrack: cluster: " __VA_ARGS__)
extern int cl_logtype;

#endif
