/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * cl_sub.c - the sync thread's consuming half: batches from the stream,
 * in stream order, into the table (tr_sync_apply).
 *
 * A batch from the network is untrusted: sync_batch_parse checks all of it
 * before a record is applied, and one that fails is counted and skipped.
 * Each batch is applied under apply_lock and its stream sequence recorded
 * after, so a snapshot taken under the lock holds exactly the batches up
 * to the sequence it records. This instance's own batches come back too:
 * only their completions are counted then (tr_sync_apply, own).
 *
 * Every message is applied once, in the stream's order, by its stream
 * sequence, whatever order its origin numbered the batches in. The
 * consumer reads whichever replica the server placed it on, so every
 * CL_VERIFY_MS the stream's leader is asked whether it holds the same
 * message at the sequence applied last, and whether it holds more while
 * the consumer is idle; if not, the consumer is made anew and what it
 * missed is replayed, each message once (cl_sub_verify).
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "cl_internal.h"
#include "core/ptab.h"

/* Messages applied per turn at most, so publishing keeps its pace. */
#define CL_MSGS_PER_TURN 64

/* Takes apply_lock. A snapshot holds it while it copies the table (a
 * second or more at 10 M peers): this thread waits for it offline, so
 * grace periods are not held up meanwhile. */
static void apply_lock(struct cl *c)
{
	if (pthread_mutex_trylock(&c->apply_lock) == 0)
		return;
	ptab_reader_offline(c->tr->ptab);
	pthread_mutex_lock(&c->apply_lock);
	ptab_reader_online(c->tr->ptab);
}

/* Applies the records of a parsed batch (apply_lock held). */
static void apply_records(struct cl *c, struct sync_batch_iter *it, bool own, bool lag)
{
	static const enum cl_drop drop_of[TR_SYNC_RESULT_N] = {
	    [TR_SYNC_STALE] = CL_DROP_STALE,
	    [TR_SYNC_REFUSED_ACL] = CL_DROP_NOT_ALLOWED,
	    [TR_SYNC_REFUSED] = CL_DROP_REFUSED,
	};
	uint64_t now = cl_now_ms(), applied = 0;
	struct sync_rec r;

	while (sync_batch_next(it, &r)) {
		enum tr_sync_result res = tr_sync_apply(c->tr, &r, own, now / 1000);

		if (res != TR_SYNC_APPLIED) {
			__atomic_fetch_add(&c->st.drops[drop_of[res]], 1, __ATOMIC_RELAXED);
			continue;
		}
		applied++;
		if (lag && !own)
			cl_lag_add(c, now > r.ms ? now - r.ms : 0, now);
	}
	if (!own)
		__atomic_fetch_add(&c->st.records_applied, applied, __ATOMIC_RELAXED);
}

uint64_t cl_msg_key(const void *data, size_t len)
{
	static const unsigned char k[crypto_shorthash_KEYBYTES] = "dptrack cluster";
	unsigned char h[crypto_shorthash_BYTES];
	uint64_t v;

	_Static_assert(sizeof(h) == sizeof(v), "SipHash-2-4 gives 64 bits");
	crypto_shorthash(h, data, len, k);
	memcpy(&v, h, sizeof(v));
	return v;
}

/* Whether the message of this key was applied since the last check. */
static bool applied_since(const struct cl *c, uint64_t key)
{
	for (unsigned i = 0; i < c->n_since; i++)
		if (c->since_keys[i] == key)
			return true;
	return false;
}

/*
 * One message of the stream, by its stream sequence: every message is
 * applied once, in the stream's order, whatever its origin numbered the
 * batch. A batch published again after a failed acknowledgement may be
 * stored behind later batches of its origin; it is applied all the same
 * (a record older than what the table holds changes nothing, and the
 * stream stores a batch published twice once, by its Nats-Msg-Id). Skipped,
 * and counted: a message at or below the sequence applied last, which the
 * consumer delivers again after it was made anew, and one applied since
 * the last check against the leader (delivered again, under another
 * sequence, by a consumer made anew on another server, or replayed after a
 * disagreement: cl_sub_verify).
 */
void cl_sub_apply(struct cl *c, uint64_t seq, uint64_t left, const uint8_t *data, size_t len,
		  const char *subject)
{
	struct sync_batch_hdr h;
	struct sync_batch_iter it;

	if (seq <= __atomic_load_n(&c->applied_seq, __ATOMIC_RELAXED)) {
		__atomic_fetch_add(&c->st.redelivered, 1, __ATOMIC_RELAXED);
		return;
	}

	uint64_t key = cl_msg_key(data, len);
	bool again = applied_since(c, key);
	enum sync_err e = sync_batch_parse(data, len, &h, &it);
	bool own = e == SYNC_OK && h.epoch == c->epoch && strcmp(h.instance, c->instance) == 0;
	bool catching = __atomic_load_n(&c->catching_up, __ATOMIC_RELAXED);

	apply_lock(c);
	if (again) {
		__atomic_fetch_add(&c->st.redelivered, 1, __ATOMIC_RELAXED);
	} else if (e != SYNC_OK) {
		__atomic_fetch_add(&c->st.drops[CL_DROP_BAD_BATCH], 1, __ATOMIC_RELAXED);
		CL_LOG(WARNING, "stream sequence %" PRIu64 " (subject %s): batch refused: %s\n",
		       seq, subject, sync_err_name(e));
	} else if (own) {
		apply_records(c, &it, true, false);
		__atomic_fetch_add(&c->st.own_batches, 1, __ATOMIC_RELAXED);
	} else {
		apply_records(c, &it, false, !catching);
		__atomic_fetch_add(&c->st.batches_applied, 1, __ATOMIC_RELAXED);
	}
	__atomic_store_n(&c->applied_seq, seq, __ATOMIC_RELAXED);
	pthread_mutex_unlock(&c->apply_lock);
	c->last_key = key;
	if (!again) {
		if (c->n_since == CL_VERIFY_KEYS) {
			/* No check for long (the leader unreachable): what came
			 * before can no longer be replayed without applying some
			 * twice, so it counts as checked. */
			c->verified_seq = seq - 1;
			c->n_since = 0;
		}
		c->since_keys[c->n_since++] = key;
	}
	if (catching && (left == 0 || seq >= c->sub_last_seq)) {
		__atomic_store_n(&c->catching_up, 0, __ATOMIC_RELAXED);
		CL_LOG(INFO, "caught up at stream sequence %" PRIu64 "\n", seq);
	}
}

/* Drops the consumer: it is set up again after applied (applied_seq goes
 * back there: a snapshot then records what is certain). */
static void consumer_anew(struct cl *c, uint64_t applied)
{
	apply_lock(c);
	__atomic_store_n(&c->applied_seq, applied, __ATOMIC_RELAXED);
	pthread_mutex_unlock(&c->apply_lock);
	if (c->sub != NULL) {
		ptab_reader_offline(c->tr->ptab);
		natsSubscription_Unsubscribe(c->sub); /* deletes the server's consumer */
		ptab_reader_online(c->tr->ptab);
		natsSubscription_Destroy(c->sub);
	}
	c->sub = NULL;
	c->ready = false;
	c->sub_fail_ms = 0;
	c->stall_seq = 0;
}

void cl_sub_verify(struct cl *c, int64_t now)
{
	uint64_t seq = __atomic_load_n(&c->applied_seq, __ATOMIC_RELAXED), key = 0, last = 0;
	int r;

	if (now - c->next_verify_ms < 0 && c->n_since < CL_VERIFY_KEYS / 2)
		return;
	c->next_verify_ms = now + CL_VERIFY_MS;
	if (seq > c->verified_seq) {
		ptab_reader_offline(c->tr->ptab);
		r = c->leader_key(c, seq, &key);
		ptab_reader_online(c->tr->ptab);
		if (r < 0)
			return; /* no leader now: later */
		if (r == 1 && key == c->last_key) {
			c->verified_seq = seq;
			c->n_since = 0;
			c->stall_seq = 0;
			return;
		}
		__atomic_fetch_add(&c->st.replica_mismatches, 1, __ATOMIC_RELAXED);
		CL_LOG(WARNING,
		       "the stream's leader holds %s at sequence %" PRIu64
		       " than the consumer delivered: its server disagrees with the leader; "
		       "replaying from sequence %" PRIu64 ", each message once\n",
		       r == 1 ? "another message" : "no message", seq, c->verified_seq + 1);
		consumer_anew(c, c->verified_seq);
		return;
	}
	/* Nothing applied since the last check: is the leader ahead? */
	ptab_reader_offline(c->tr->ptab);
	r = c->leader_last(c, &last);
	ptab_reader_online(c->tr->ptab);
	if (r <= 0 || last <= seq) {
		c->stall_seq = 0;
		return;
	}
	if (c->stall_seq != seq + 1) { /* seen once: a message may be on its way */
		c->stall_seq = seq + 1;
		return;
	}
	__atomic_fetch_add(&c->st.consumer_stalls, 1, __ATOMIC_RELAXED);
	CL_LOG(WARNING,
	       "the consumer delivered nothing for %u s while the stream's leader holds up to "
	       "sequence %" PRIu64 " (applied %" PRIu64 "): its server lags; making it anew\n",
	       CL_VERIFY_MS / 1000, last, seq);
	consumer_anew(c, seq);
}

/* One message from the consumer: its stream sequence, then its batch. A
 * message without JetStream's metadata has no place in the stream's order:
 * refused and counted as a bad batch. */
static void apply_msg(struct cl *c, natsMsg *m)
{
	jsMsgMetaData *md = NULL;
	natsStatus s = natsMsg_GetMetaData(&md, m);

	if (s != NATS_OK) {
		__atomic_fetch_add(&c->st.drops[CL_DROP_BAD_BATCH], 1, __ATOMIC_RELAXED);
		CL_LOG(WARNING, "a message on %s without JetStream metadata refused: %s\n",
		       natsMsg_GetSubject(m), natsStatus_GetText(s));
		return;
	}
	uint64_t seq = md->Sequence.Stream, left = md->NumPending;

	jsMsgMetaData_Destroy(md);
	cl_sub_apply(c, seq, left, (const uint8_t *)natsMsg_GetData(m),
		     (size_t)natsMsg_GetDataLength(m), natsMsg_GetSubject(m));
}

/* Catching up with nothing delivered (what the stream held is all older
 * than the start): once the consumer has nothing pending, it is done. At
 * most once a second: it asks the server. */
static void idle_check(struct cl *c)
{
	jsConsumerInfo *ci = NULL;
	jsErrCode je = 0;
	uint64_t now = cl_now_ms();
	int msgs = 0, bytes = 0;

	if (now < c->idle_check_ms)
		return;
	c->idle_check_ms = now + 1000;
	ptab_reader_offline(c->tr->ptab);
	natsStatus s = natsSubscription_GetConsumerInfo(&ci, c->sub, NULL, &je);
	ptab_reader_online(c->tr->ptab);
	if (s == NATS_OK && ci->NumPending == 0 &&
	    natsSubscription_GetPending(c->sub, &msgs, &bytes) == NATS_OK && msgs == 0) {
		__atomic_store_n(&c->catching_up, 0, __ATOMIC_RELAXED);
		CL_LOG(INFO, "caught up: nothing left to replay\n");
	}
	jsConsumerInfo_Destroy(ci);
}

/* A consumer that keeps failing for this long (its stream deleted, say)
 * is dropped, and set up again from the sequence applied last. */
#define CL_SUB_FAIL_MS 10000

void cl_sub_turn(struct cl *c, int64_t wait_ms)
{
	for (int n = 0; n < CL_MSGS_PER_TURN; n++) {
		natsMsg *m = NULL;
		int64_t w = n == 0 ? wait_ms : 0;

		if (w > 0)
			ptab_reader_offline(c->tr->ptab);
		natsStatus s = natsSubscription_NextMsg(&m, c->sub, w);
		if (w > 0)
			ptab_reader_online(c->tr->ptab);
		if (s == NATS_OK) {
			c->sub_fail_ms = 0;
			apply_msg(c, m);
			natsMsg_Destroy(m);
			continue;
		}
		if (s == NATS_TIMEOUT) {
			c->sub_fail_ms = 0;
			if (__atomic_load_n(&c->catching_up, __ATOMIC_RELAXED))
				idle_check(c);
			break;
		}
		/* The ordered consumer mends itself after a leader or node is
		 * lost; one that stays broken is made anew. */
		uint64_t now = cl_now_ms();
		if (c->sub_fail_ms == 0) {
			c->sub_fail_ms = now;
			CL_LOG(WARNING, "consumer: %s\n", natsStatus_GetText(s));
		} else if (now - c->sub_fail_ms >= CL_SUB_FAIL_MS) {
			CL_LOG(WARNING, "consumer failing for %u s (%s): setting it up again\n",
			       CL_SUB_FAIL_MS / 1000, natsStatus_GetText(s));
			natsSubscription_Destroy(c->sub);
			c->sub = NULL;
			c->ready = false;
			c->sub_fail_ms = 0;
		}
		return;
	}
	cl_sub_verify(c, cl_mono_ms());
}
