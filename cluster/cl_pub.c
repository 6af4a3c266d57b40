/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * cl_pub.c - the sync thread's publishing half: records from the
 * producers' rings into batches, batches to the stream.
 *
 * One batch is in hand at a time. It leaves through js_PublishMsgAsync,
 * which never waits longer than CL_STALL_MS (too many unacknowledged) or
 * the connect timeout (while the client reconnects). A batch the client
 * cannot take now stays in hand and is tried again; meanwhile the rings
 * fill, and the producers drop and count what no longer fits: records
 * wait in the rings and the client's reconnect buffer, then are dropped.
 * A batch whose acknowledgement fails comes back from the client (see
 * on_ack) and is published again with the same Nats-Msg-Id, which
 * the stream stores once. Either way, after CL_RETRY_MAX_MS it is dropped,
 * counted, and its completions are counted here, since the stream that
 * counts them will not bring them back.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <rte_ring.h>
#include <rte_ring_elem.h>

#include "cl_internal.h"
#include "core/ptab.h"

/* A batch the client refused now is tried again this much later. */
#define CL_RETRY_GAP_MS 100

/* Batches given back by the acknowledgement handler, published again per
 * turn at most (the rest wait for the next turn). */
#define CL_RETRIES_PER_TURN 64

/* Counts the completions of an encoded batch that will never reach the
 * stream, and the batch's records as dropped for `why`. */
static void batch_lost(struct cl *c, const uint8_t *buf, size_t len, enum cl_drop why)
{
	struct sync_batch_hdr h;
	struct sync_batch_iter it;
	struct sync_rec r;

	if (sync_batch_parse(buf, len, &h, &it) != SYNC_OK)
		return;
	__atomic_fetch_add(&c->st.drops[why], h.count, __ATOMIC_RELAXED);
	while (sync_batch_next(&it, &r))
		if (r.flags & SYNC_F_COMPLETED)
			ptab_completed_add(c->tr->ptab, r.info_hash);
}

/* Takes records from the rings into c->pending, up to a batch, starting
 * with a different ring each turn so none waits behind a busy one. */
static void drain(struct cl *c, uint64_t now)
{
	_Static_assert(sizeof(struct sync_rec) % 4 == 0, "ring elements are whole words");
	unsigned room = c->cfg->cluster.batch_records - c->n_pending;

	for (unsigned k = 0; k < c->n_prod && room != 0; k++) {
		unsigned i = (unsigned)((c->batch_seq + k) % c->n_prod);
		unsigned n =
		    rte_ring_sc_dequeue_burst_elem(c->prod[i].ring, &c->pending[c->n_pending],
						   sizeof(struct sync_rec), room, NULL);
		if (n != 0 && c->n_pending == 0)
			c->pending_since_ms = now;
		c->n_pending += n;
		room -= n;
	}
}

/* Encodes the pending records as the next batch, now in hand. */
static void close_batch(struct cl *c, uint64_t now)
{
	struct sync_batch_hdr h = {.epoch = c->epoch, .seq = c->batch_seq + 1, .base_ms = now};

	h.instance_len = (uint8_t)strlen(c->instance);
	memcpy(h.instance, c->instance, (size_t)h.instance_len + 1);
	c->buf_len = sync_batch_write(&h, c->pending, c->n_pending, c->buf,
				      sync_batch_max_len(c->cfg->cluster.batch_records));
	if (c->buf_len == 0) { /* a record no producer should make: not published */
		__atomic_fetch_add(&c->st.drops[CL_DROP_GAVE_UP], c->n_pending, __ATOMIC_RELAXED);
		c->n_pending = 0;
		return;
	}
	c->batch_seq++;
	c->buf_seq = c->batch_seq;
	c->buf_records = c->n_pending;
	c->buf_first_ms = c->buf_next_ms = now;
	c->n_pending = 0;
}

/* Hands the batch in hand to the client once. */
static void publish_batch(struct cl *c, uint64_t now)
{
	char id[CFG_CLUSTER_NAME_LEN + SYNC_INSTANCE_MAX + 48];
	natsMsg *m = NULL;
	jsPubOptions po;
	natsStatus s;

	/* The Nats-Msg-Id, unique per origin (site, instance), boot and batch:
	 * the stream stores a batch published twice once. */
	snprintf(id, sizeof(id), "%s.%s.%" PRIx64 ".%" PRIu64, c->cfg->cluster.site, c->instance,
		 c->epoch, c->buf_seq);
	jsPubOptions_Init(&po);
	po.MsgId = id;
	po.MaxWait = CL_ACK_WAIT_MS;
	s = natsMsg_Create(&m, c->subject, NULL, (const char *)c->buf, (int)c->buf_len);
	if (s == NATS_OK) {
		ptab_reader_offline(c->tr->ptab); /* it may wait (bounded) */
		s = js_PublishMsgAsync(c->js, &m, &po);
		ptab_reader_online(c->tr->ptab);
	}
	natsMsg_Destroy(m); /* NULL once the client took it */
	if (s == NATS_OK) {
		__atomic_fetch_add(&c->st.batches_published, 1, __ATOMIC_RELAXED);
		__atomic_fetch_add(&c->st.records_published, c->buf_records, __ATOMIC_RELAXED);
		c->buf_len = 0;
		return;
	}
	if (s == NATS_INSUFFICIENT_BUFFER || now - c->buf_first_ms >= CL_RETRY_MAX_MS) {
		batch_lost(c, c->buf, c->buf_len,
			   s == NATS_INSUFFICIENT_BUFFER ? CL_DROP_BUFFER : CL_DROP_GAVE_UP);
		c->buf_len = 0;
		return;
	}
	c->buf_next_ms = now + CL_RETRY_GAP_MS; /* stalled, or reconnecting: later */
}

/* Publishes again the batches whose acknowledgement failed. */
static void retry_turn(struct cl *c, uint64_t now)
{
	struct cl_retry take[CL_RETRIES_PER_TURN];
	unsigned n;

	pthread_mutex_lock(&c->retry_lock);
	n = c->n_retry < CL_RETRIES_PER_TURN ? c->n_retry : CL_RETRIES_PER_TURN;
	memcpy(take, c->retry, n * sizeof(take[0]));
	memmove(c->retry, c->retry + n, (c->n_retry - n) * sizeof(c->retry[0]));
	c->n_retry -= n;
	pthread_mutex_unlock(&c->retry_lock);

	for (unsigned i = 0; i < n; i++) {
		natsMsg *m = take[i].msg;
		jsPubOptions po;

		if (now - take[i].first_ms >= (uint64_t)c->retry_max_ms) {
			batch_lost(c, (const uint8_t *)natsMsg_GetData(m),
				   (size_t)natsMsg_GetDataLength(m), CL_DROP_GAVE_UP);
			natsMsg_Destroy(m);
			continue;
		}
		jsPubOptions_Init(&po);
		po.MaxWait = CL_ACK_WAIT_MS; /* the Nats-Msg-Id header is in the message */
		ptab_reader_offline(c->tr->ptab);
		natsStatus s = js_PublishMsgAsync(c->js, &m, &po);
		ptab_reader_online(c->tr->ptab);
		__atomic_fetch_add(&c->st.publish_retries, 1, __ATOMIC_RELAXED);
		if (s == NATS_OK)
			continue;
		pthread_mutex_lock(&c->retry_lock); /* not taken: back in the queue */
		if (c->n_retry < CL_RETRY_SLOTS) {
			c->retry[c->n_retry++] = (struct cl_retry){m, take[i].first_ms};
			m = NULL;
		}
		pthread_mutex_unlock(&c->retry_lock);
		if (m != NULL) {
			batch_lost(c, (const uint8_t *)natsMsg_GetData(m),
				   (size_t)natsMsg_GetDataLength(m), CL_DROP_GAVE_UP);
			natsMsg_Destroy(m);
		}
	}
}

void cl_pub_turn(struct cl *c, bool flush)
{
	uint64_t now = cl_now_ms();

	retry_turn(c, now);
	if (c->buf_len != 0) {
		if (now >= c->buf_next_ms || flush)
			publish_batch(c, now);
		if (c->buf_len != 0)
			return;
	}
	drain(c, now);
	if (c->n_pending == 0)
		return;
	if (flush || c->n_pending >= c->cfg->cluster.batch_records ||
	    now - c->pending_since_ms >= c->cfg->cluster.flush_ms) {
		close_batch(c, now);
		if (c->buf_len != 0)
			publish_batch(c, now);
	}
}
