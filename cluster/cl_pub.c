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
 *
 * A batch whose acknowledgement fails comes back (cl_on_ack) into the
 * retry table and is published again with the same Nats-Msg-Id, which the
 * stream stores once: after a backoff that doubles with each failure (100
 * ms to 2 s, jittered, so a stream without a leader is not asked again
 * every turn), only while connected (a copy left in the reconnect buffer
 * could reach the stream after its duplicate window), and for
 * retry_max_ms from its first failure. Then it is dropped, counted
 * (gave_up), and its completions are counted here, since the stream that
 * counts them will not bring them back. A batch in hand that the client
 * keeps refusing is given up the same way after CL_RETRY_MAX_MS.
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

/* The records of an encoded batch (0 if it is not one). */
static unsigned batch_records(const uint8_t *buf, size_t len)
{
	struct sync_batch_hdr h;
	struct sync_batch_iter it;

	return sync_batch_parse(buf, len, &h, &it) == SYNC_OK ? h.count : 0;
}

int64_t cl_retry_backoff_ms(uint32_t tries, uint64_t rnd)
{
	int64_t d = CL_RETRY_CAP_MS;

	if (tries < 1)
		tries = 1;
	if (tries <= 16 && ((int64_t)CL_RETRY_BASE_MS << (tries - 1)) < CL_RETRY_CAP_MS)
		d = (int64_t)CL_RETRY_BASE_MS << (tries - 1);
	return d / 2 + (int64_t)(rnd % (uint64_t)(d - d / 2 + 1));
}

bool cl_retry_expired(int64_t first_ms, int64_t now, int64_t max_ms)
{
	return now - first_ms >= max_ms;
}

/* xorshift64*, seeded by the boot epoch: the backoff's jitter (retry_lock
 * held). */
static uint64_t retry_rand(struct cl *c)
{
	uint64_t x = c->retry_rng != 0 ? c->retry_rng : c->epoch | 1;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	c->retry_rng = x;
	return x * 0x2545f4914f6cdd1dull;
}

/* The retry slot holding msg, published again and awaiting its
 * acknowledgement, or -1 (retry_lock held). */
static int retry_find(const struct cl *c, const natsMsg *msg)
{
	for (unsigned i = 0; i < c->n_retry; i++)
		if (c->retry[i].in_flight && c->retry[i].msg == msg)
			return (int)i;
	return -1;
}

static void retry_remove(struct cl *c, unsigned i)
{
	memmove(&c->retry[i], &c->retry[i + 1], (c->n_retry - i - 1) * sizeof(c->retry[0]));
	c->n_retry--;
}

/* One more failure of the batch in slot i: back to waiting, later. */
static void retry_again(struct cl *c, unsigned i, int64_t now)
{
	struct cl_retry *r = &c->retry[i];

	r->in_flight = false;
	if (r->tries < UINT32_MAX)
		r->tries++;
	r->due_ms = now + cl_retry_backoff_ms(r->tries, retry_rand(c));
}

/*
 * Every acknowledgement of a batch published asynchronously. Stored: a
 * batch published again leaves the retry table, and the stream saying it
 * held the batch already (its first copy was stored, the acknowledgement
 * lost) counts a duplicate, which it did not store again. Failed (timed
 * out, no responders while a leader is elected): a new one takes a slot,
 * one published again keeps its first failure's time; both wait a
 * backoff. Runs on the client's thread of the JetStream context and never
 * publishes from there (a stalled publish would wait for acknowledgements
 * only this thread handles).
 */
void cl_on_ack(jsCtx *js, natsMsg *msg, jsPubAck *pa, jsPubAckErr *pae, void *closure)
{
	struct cl *c = closure;
	int64_t now = cl_mono_ms();
	bool kept = true;
	int i;

	(void)js;
	if (msg == NULL)
		return;
	pthread_mutex_lock(&c->retry_lock);
	i = c->n_retry != 0 ? retry_find(c, msg) : -1;
	if (pae == NULL) { /* stored (or held already) */
		if (i >= 0)
			retry_remove(c, (unsigned)i);
		kept = false;
	} else if (i >= 0) { /* published again, failed again: its first failure stays */
		retry_again(c, (unsigned)i, now);
	} else if (c->n_retry < CL_RETRY_SLOTS) {
		c->retry[c->n_retry++] = (struct cl_retry){
		    .msg = msg,
		    .first_ms = now,
		    .due_ms = now + cl_retry_backoff_ms(1, retry_rand(c)),
		    .tries = 1,
		};
	} else {
		kept = false;
	}
	pthread_mutex_unlock(&c->retry_lock);

	if (pae == NULL) {
		if (pa != NULL && pa->Duplicate)
			__atomic_fetch_add(&c->st.duplicate_batches, 1, __ATOMIC_RELAXED);
		natsMsg_Destroy(msg);
		return;
	}
	__atomic_fetch_add(&c->st.acks_failed, 1, __ATOMIC_RELAXED);
	if (kept)
		return;
	/* No slot (the sync thread keeps room for every batch the client
	 * holds, so this is a fault): dropped and counted. Its completions
	 * cannot be counted from this thread, which is not the table's. */
	unsigned n = batch_records((const uint8_t *)natsMsg_GetData(msg),
				   (size_t)natsMsg_GetDataLength(msg));
	__atomic_fetch_add(&c->st.drops[CL_DROP_RETRY_FULL], n, __ATOMIC_RELAXED);
	if (__atomic_exchange_n(&c->retry_full_logged, 1, __ATOMIC_RELAXED) == 0)
		CL_LOG(ERR,
		       "no retry slot left for a batch whose acknowledgement failed: its %u "
		       "records dropped (cluster_drop_retry_full counts them)\n",
		       n);
	natsMsg_Destroy(msg);
}

/* Whether a new batch may go out: the retry table keeps a slot for every
 * batch the client may hold. */
static bool retry_room(struct cl *c)
{
	pthread_mutex_lock(&c->retry_lock);
	bool room = c->n_retry + CL_MAX_PENDING < CL_RETRY_SLOTS;
	pthread_mutex_unlock(&c->retry_lock);
	return room;
}

unsigned cl_retry_turn(struct cl *c, int64_t now, bool flush, bool abandon)
{
	natsMsg *lost[CL_RETRIES_PER_TURN], *send[CL_RETRIES_PER_TURN];
	unsigned n_lost = 0, n_send = 0;
	bool connected = !abandon && __atomic_load_n(&c->connected, __ATOMIC_RELAXED);

	pthread_mutex_lock(&c->retry_lock);
	for (unsigned i = 0; i < c->n_retry && n_lost < CL_RETRIES_PER_TURN;) {
		struct cl_retry *r = &c->retry[i];

		if (r->in_flight) {
			i++;
			continue;
		}
		if (abandon || cl_retry_expired(r->first_ms, now, c->retry_max_ms)) {
			lost[n_lost++] = r->msg;
			retry_remove(c, i);
			continue;
		}
		if (connected && n_send < CL_RETRIES_PER_TURN && (flush || r->due_ms - now <= 0)) {
			/* Before the client has it: its ack may come at once. */
			r->in_flight = true;
			send[n_send++] = r->msg;
		}
		i++;
	}
	pthread_mutex_unlock(&c->retry_lock);

	for (unsigned i = 0; i < n_lost; i++) {
		batch_lost(c, (const uint8_t *)natsMsg_GetData(lost[i]),
			   (size_t)natsMsg_GetDataLength(lost[i]), CL_DROP_GAVE_UP);
		natsMsg_Destroy(lost[i]);
	}
	for (unsigned i = 0; i < n_send; i++) {
		natsMsg *m = send[i];
		jsPubOptions po;

		jsPubOptions_Init(&po);
		po.MaxWait = CL_ACK_WAIT_MS; /* the Nats-Msg-Id header is in the message */
		ptab_reader_offline(c->tr->ptab);
		natsStatus s = js_PublishMsgAsync(c->js, &m, &po);
		ptab_reader_online(c->tr->ptab);
		__atomic_fetch_add(&c->st.publish_retries, 1, __ATOMIC_RELAXED);
		if (s == NATS_OK)
			continue; /* the client's now, until cl_on_ack */
		/* Refused: still ours, and in its slot. */
		pthread_mutex_lock(&c->retry_lock);
		int k = retry_find(c, m);
		if (k >= 0)
			retry_again(c, (unsigned)k, now);
		pthread_mutex_unlock(&c->retry_lock);
	}
	return n_lost;
}

/* Takes records from the rings into c->pending, up to a batch, starting
 * with a different ring each turn so none waits behind a busy one. */
static void drain(struct cl *c, int64_t now)
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
static void close_batch(struct cl *c, int64_t now)
{
	struct sync_batch_hdr h = {
	    .epoch = c->epoch, .seq = c->batch_seq + 1, .base_ms = cl_now_ms()};

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

/* Hands the batch in hand to the client once, if the retry table has
 * room for it should it fail. */
static void publish_batch(struct cl *c, int64_t now)
{
	char id[CFG_CLUSTER_NAME_LEN + SYNC_INSTANCE_MAX + 48];
	natsMsg *m = NULL;
	jsPubOptions po;
	natsStatus s = NATS_OK;

	/* The Nats-Msg-Id, unique per origin (site, instance), boot and batch:
	 * the stream stores a batch published twice once. */
	snprintf(id, sizeof(id), "%s.%s.%" PRIx64 ".%" PRIu64, c->cfg->cluster.site, c->instance,
		 c->epoch, c->buf_seq);
	jsPubOptions_Init(&po);
	po.MsgId = id;
	po.MaxWait = CL_ACK_WAIT_MS;
	if (!retry_room(c))
		s = NATS_TIMEOUT; /* as if the client stalled: later */
	if (s == NATS_OK)
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
	if (s == NATS_INSUFFICIENT_BUFFER ||
	    cl_retry_expired(c->buf_first_ms, now, CL_RETRY_MAX_MS)) {
		batch_lost(c, c->buf, c->buf_len,
			   s == NATS_INSUFFICIENT_BUFFER ? CL_DROP_BUFFER : CL_DROP_GAVE_UP);
		c->buf_len = 0;
		return;
	}
	c->buf_next_ms = now + CL_RETRY_GAP_MS; /* stalled, or reconnecting: later */
}

void cl_pub_turn(struct cl *c, bool flush)
{
	int64_t now = cl_mono_ms();

	cl_retry_turn(c, now, flush, false);
	if (c->buf_len != 0) {
		if (now - c->buf_next_ms >= 0 || flush)
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
