/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * cl_nats.c - the cluster's setup on NATS JetStream, one step per call:
 * the connection, the stream, the shared connection-ID key, the consumer.
 * Every call here is bounded (connect timeout, JetStream API wait); the
 * sync thread retries a failed step a second later and serves meanwhile.
 *
 * Options that matter (measured on libnats 3.4, nats-server 2.9): a ping
 * every second, two missed, finds a stopped server in about 3 s (the
 * default is two minutes); a write deadline bounds a send() into a full
 * socket (the default blocks, holding the connection lock); reconnection
 * is forever, through the client's reconnect buffer (cluster.buffer_mb).
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <rte_common.h>
#include <rte_log.h>
#include <sodium.h>

#include "cl_internal.h"
#include "core/connid.h"
#include "core/limits.h"

/* JetStream API requests (stream info, key-value): at most this long. */
#define CL_API_WAIT_MS 2000

/* The key under which the connection-ID key is kept in the bucket. */
#define CL_KEY_NAME "connid"

/* Duplicate window of a stream dptrack creates (never above its max age,
 * which JetStream refuses): a batch published again with the same
 * Nats-Msg-Id within it is stored once. */
#define CL_DUP_WINDOW_S 120

/* A batch is published again only while the stream's duplicate window
 * still covers its first copy: the window, less an acknowledgement wait
 * (the first failure comes at most that long after the first copy) and
 * this much for the copies' way to the server. */
#define CL_DUP_MARGIN_MS 5000

static void on_disconnected(natsConnection *nc, void *closure)
{
	struct cl *c = closure;

	(void)nc;
	__atomic_store_n(&c->connected, 0, __ATOMIC_RELAXED);
	__atomic_fetch_add(&c->st.disconnects, 1, __ATOMIC_RELAXED);
}

static void on_reconnected(natsConnection *nc, void *closure)
{
	struct cl *c = closure;

	(void)nc;
	__atomic_store_n(&c->connected, 1, __ATOMIC_RELAXED);
	__atomic_fetch_add(&c->st.reconnects, 1, __ATOMIC_RELAXED);
}

/* Asynchronous errors of the client (a consumer that missed heartbeats
 * and is being made anew, a slow consumer, a reset that failed): counted,
 * and logged when the error differs from the last one logged. Runs on the
 * client's callback thread. */
static void on_async_error(natsConnection *nc, natsSubscription *sub, natsStatus err, void *closure)
{
	struct cl *c = closure;
	int last = __atomic_exchange_n(&c->async_err_last, (int)err, __ATOMIC_RELAXED);

	(void)nc;
	(void)sub;
	__atomic_fetch_add(&c->st.async_errors, 1, __ATOMIC_RELAXED);
	if (last != (int)err)
		CL_LOG(WARNING, "NATS client: %s\n", natsStatus_GetText(err));
}

/* Logs a failed step with the client's own words, once per step and
 * status, so a server down for hours does not fill the log. */
static void step_failed(struct cl *c, const char *step, natsStatus s, jsErrCode je)
{
	if (step == c->fail_step && s == c->fail_status)
		return;
	c->fail_step = step;
	c->fail_status = s;
	const char *why = nats_GetLastError(NULL);

	if (why == NULL || why[0] == '\0') /* a timeout says nothing more */
		CL_LOG(WARNING, "%s: %s (JetStream error %d); retrying every second\n", step,
		       natsStatus_GetText(s), (int)je);
	else
		CL_LOG(WARNING, "%s: %s (%s, JetStream error %d); retrying every second\n", step,
		       why, natsStatus_GetText(s), (int)je);
}

static natsStatus options_set(struct cl *c, natsOptions *o)
{
	const struct cfg *cfg = c->cfg;
	char name[96];
	bool tls = false;
	natsStatus s;

	for (unsigned i = 0; i < cfg->cluster.n_servers; i++)
		tls |= strncmp(cfg->cluster.servers[i], "tls://", 6) == 0;
	snprintf(name, sizeof(name), "dptrack-%s", c->instance);
	s = natsOptions_SetServers(o, (const char **)cfg->cluster.servers,
				   (int)cfg->cluster.n_servers);
	if (s == NATS_OK)
		s = natsOptions_SetName(o, name);
	if (s == NATS_OK)
		s = natsOptions_SetMaxReconnect(o, -1);
	if (s == NATS_OK)
		s = natsOptions_SetReconnectWait(o, 500);
	if (s == NATS_OK)
		s = natsOptions_SetReconnectJitter(o, 100, 1000);
	if (s == NATS_OK)
		s = natsOptions_SetReconnectBufSize(o, (int)(cfg->cluster.buffer_mb << 20));
	if (s == NATS_OK)
		s = natsOptions_SetTimeout(o, cfg->cluster.connect_timeout_ms);
	if (s == NATS_OK)
		s = natsOptions_SetPingInterval(o, 1000);
	if (s == NATS_OK)
		s = natsOptions_SetMaxPingsOut(o, 2);
	if (s == NATS_OK)
		s = natsOptions_SetWriteDeadline(o, 1000);
	if (s == NATS_OK)
		s = natsOptions_SetDisconnectedCB(o, on_disconnected, c);
	if (s == NATS_OK)
		s = natsOptions_SetReconnectedCB(o, on_reconnected, c);
	if (s == NATS_OK)
		s = natsOptions_SetErrorHandler(o, on_async_error, c);
	if (s == NATS_OK && cfg->cluster.credentials[0] != '\0')
		s = natsOptions_SetUserCredentialsFromFiles(o, cfg->cluster.credentials, NULL);
	if (s == NATS_OK && tls)
		s = natsOptions_SetSecure(o, true);
	if (s == NATS_OK && cfg->cluster.tls_ca[0] != '\0')
		s = natsOptions_LoadCATrustedCertificates(o, cfg->cluster.tls_ca);
	if (s == NATS_OK && cfg->cluster.tls_cert[0] != '\0')
		s = natsOptions_LoadCertificatesChain(o, cfg->cluster.tls_cert,
						      cfg->cluster.tls_key);
	return s;
}

static bool connect_step(struct cl *c)
{
	natsOptions *o = NULL;
	natsStatus s = natsOptions_Create(&o);

	if (s == NATS_OK)
		s = options_set(c, o);
	if (s == NATS_OK)
		s = natsConnection_Connect(&c->nc, o);
	natsOptions_Destroy(o);
	if (s != NATS_OK) {
		c->nc = NULL;
		step_failed(c, "connect", s, 0);
		return false;
	}
	char url[256] = "";
	natsConnection_GetConnectedUrl(c->nc, url, sizeof(url));
	__atomic_store_n(&c->connected, 1, __ATOMIC_RELAXED);
	__atomic_fetch_add(&c->st.connects, 1, __ATOMIC_RELAXED);
	CL_LOG(INFO, "connected to %s\n", url);
	return true;
}

static bool js_step(struct cl *c)
{
	jsOptions jo;
	natsStatus s;

	jsOptions_Init(&jo);
	jo.Wait = CL_API_WAIT_MS;
	jo.PublishAsync.MaxPending = CL_MAX_PENDING;
	jo.PublishAsync.StallWait = CL_STALL_MS;
	jo.PublishAsync.AckHandler = cl_on_ack;
	jo.PublishAsync.AckHandlerClosure = c;
	s = natsConnection_JetStream(&c->js, c->nc, &jo);
	if (s != NATS_OK) {
		step_failed(c, "JetStream context", s, 0);
		c->js = NULL;
		return false;
	}
	return true;
}

/* The stream of each other site (cluster.sources), as a source of this
 * site's: reached through that site's JetStream domain, and filtered to
 * what that site's own instances published, so a record crosses once and
 * never comes back the way it went. */
struct cl_sources {
	jsStreamSource src[CFG_MAX_CLUSTER_SOURCES];
	jsStreamSource *list[CFG_MAX_CLUSTER_SOURCES];
	jsExternalStream ext[CFG_MAX_CLUSTER_SOURCES];
	char api[CFG_MAX_CLUSTER_SOURCES][CFG_CLUSTER_NAME_LEN + 16];
	char filter[CFG_MAX_CLUSTER_SOURCES][2 * CFG_CLUSTER_NAME_LEN + 16];
};

static void sources_of(const struct cl *c, struct cl_sources *s)
{
	const struct cfg *cfg = c->cfg;

	memset(s, 0, sizeof(*s));
	for (unsigned i = 0; i < cfg->cluster.n_sources; i++) {
		const char *site = cfg->cluster.sources[i];

		snprintf(s->api[i], sizeof(s->api[i]), "$JS.%s.API", site);
		snprintf(s->filter[i], sizeof(s->filter[i]), "%s.peers.%s.>", cfg->cluster.name,
			 site);
		s->ext[i].APIPrefix = s->api[i];
		s->ext[i].DeliverPrefix =
		    ""; /* the same account: none (libnats 3.4 needs a string) */
		s->src[i].Name = cfg->cluster.name;
		s->src[i].FilterSubject = s->filter[i];
		s->src[i].External = &s->ext[i];
		s->list[i] = &s->src[i];
	}
}

/* How long a batch whose acknowledgement failed is published again: at
 * most CL_RETRY_MAX_MS, and only while the stream's duplicate window
 * (dup_ns, as the stream reports it) still covers its first copy, which
 * the stream may hold; past it a copy would be stored twice and its
 * completions counted twice. Warns once about a window that shortens it. */
static void retry_horizon(struct cl *c, int64_t dup_ns)
{
	int64_t dup_ms = dup_ns / 1000000;
	int64_t max = dup_ms - CL_ACK_WAIT_MS - CL_DUP_MARGIN_MS;

	if (max > CL_RETRY_MAX_MS)
		max = CL_RETRY_MAX_MS;
	if (max < 0)
		max = 0;
	if (max < CL_RETRY_MAX_MS && max != c->retry_max_ms)
		CL_LOG(WARNING,
		       "stream %s de-duplicates for %" PRId64 " ms only: a batch whose "
		       "acknowledgement fails is published again for %" PRId64 " ms at most "
		       "(%u s with a window of %u s or more)\n",
		       c->cfg->cluster.name, dup_ms, max, CL_RETRY_MAX_MS / 1000,
		       (CL_RETRY_MAX_MS + CL_ACK_WAIT_MS + CL_DUP_MARGIN_MS) / 1000);
	c->retry_max_ms = max;
}

/* The stream, made if missing (only then: a timeout is not "missing"). */
static bool stream_step(struct cl *c)
{
	const struct cfg *cfg = c->cfg;
	jsStreamInfo *si = NULL;
	jsErrCode je = 0;
	natsStatus s = js_GetStreamInfo(&si, c->js, cfg->cluster.name, NULL, &je);

	if (s == NATS_NOT_FOUND) {
		jsStreamConfig sc;
		const char *subjects[1] = {c->wildcard};
		struct cl_sources src;

		jsStreamConfig_Init(&sc);
		sc.Name = cfg->cluster.name;
		sc.Subjects = subjects;
		sc.SubjectsLen = 1;
		sources_of(c, &src);
		sc.Sources = src.list;
		sc.SourcesLen = (int)cfg->cluster.n_sources;
		sc.MaxAge = (int64_t)cfg->cluster.max_age * 1000000000;
		sc.Storage = js_FileStorage;
		sc.Replicas = cfg->cluster.replicas;
		sc.Duplicates =
		    (int64_t)RTE_MIN(CL_DUP_WINDOW_S, cfg->cluster.max_age) * 1000000000;
		s = js_AddStream(&si, c->js, &sc, NULL, &je);
		if (s == NATS_OK)
			CL_LOG(INFO,
			       "stream %s created: subjects %s, %u replicas, max age %u s, "
			       "sourcing %u other sites\n",
			       cfg->cluster.name, c->wildcard, cfg->cluster.replicas,
			       cfg->cluster.max_age, cfg->cluster.n_sources);
		else if (je == JSStreamNameExistErr) /* another instance was first */
			s = js_GetStreamInfo(&si, c->js, cfg->cluster.name, NULL, &je);
	}
	if (s != NATS_OK) {
		step_failed(c, "stream", s, je);
		return false;
	}
	int64_t age_s = si->Config->MaxAge / 1000000000;
	if (age_s != 0 && age_s < (int64_t)cfg->tracker.peer_timeout)
		CL_LOG(WARNING,
		       "stream %s keeps %" PRId64 " s, less than tracker.peer_timeout (%u s): a "
		       "restart without a snapshot cannot get back every peer\n",
		       cfg->cluster.name, age_s, cfg->tracker.peer_timeout);
	retry_horizon(c, si->Config->Duplicates);
	c->sub_last_seq = si->State.LastSeq;
	jsStreamInfo_Destroy(si);
	return true;
}

/* Puts the shared key in force and wakes cl_wait_key. */
static void key_adopt(struct cl *c, const uint8_t *k)
{
	struct connid_key key;

	memcpy(key.k, k, sizeof(key.k));
	if (memcmp(tr_key(c->tr)->k, key.k, sizeof(key.k)) != 0)
		tr_key_replace(c->tr, &key);
	pthread_mutex_lock(&c->key_lock);
	c->key_state = 1;
	pthread_cond_broadcast(&c->key_cond);
	pthread_mutex_unlock(&c->key_lock);
	CL_LOG(INFO, "connection-ID key shared through bucket %s\n", c->bucket);
}

/* The key: created at random by the first instance (kvStore_Create fails
 * for every later one, which then reads it). */
static bool key_step(struct cl *c)
{
	const struct cfg *cfg = c->cfg;
	kvStore *kv = NULL;
	kvEntry *e = NULL;
	uint8_t k[TR_CONNID_KEY_LEN];
	uint64_t rev;
	natsStatus s = js_KeyValue(&kv, c->js, c->bucket);

	if (s == NATS_NOT_FOUND) {
		kvConfig kc;

		kvConfig_Init(&kc);
		kc.Bucket = c->bucket;
		kc.History = 1;
		kc.Replicas = (int)cfg->cluster.replicas;
		kc.StorageType = js_FileStorage;
		s = js_CreateKeyValue(&kv, c->js, &kc);
	}
	if (s != NATS_OK) {
		step_failed(c, "key-value bucket", s, 0);
		return false;
	}
	randombytes_buf(k, sizeof(k));
	if (kvStore_Create(&rev, kv, CL_KEY_NAME, k, sizeof(k)) != NATS_OK) {
		s = kvStore_Get(&e, kv, CL_KEY_NAME);
		if (s == NATS_OK && kvEntry_ValueLen(e) != (int)sizeof(k)) {
			CL_LOG(ERR, "bucket %s: key %s holds %d bytes, not %zu: not used\n",
			       c->bucket, CL_KEY_NAME, kvEntry_ValueLen(e), sizeof(k));
			s = NATS_ERR;
		}
		if (s == NATS_OK)
			memcpy(k, kvEntry_Value(e), sizeof(k));
		kvEntry_Destroy(e);
	}
	kvStore_Destroy(kv);
	if (s != NATS_OK) {
		step_failed(c, "connection-ID key", s, 0);
		return false;
	}
	key_adopt(c, k);
	return true;
}

/* The stream time (ns) of the message at seq, asked of the stream's
 * leader (STREAM.MSG.GET): 1 found, 0 none there (expired or deleted), -1
 * the request failed (*je says why). */
struct msg_time_arg {
	struct cl *c;
	jsErrCode je;
};

static int msg_time(void *arg, uint64_t seq, int64_t *ns)
{
	struct msg_time_arg *a = arg;
	natsMsg *m = NULL;
	natsStatus s = js_GetMsg(&m, a->c->js, a->c->cfg->cluster.name, seq, NULL, &a->je);

	if (s == NATS_NOT_FOUND)
		return 0;
	if (s != NATS_OK)
		return -1;
	*ns = natsMsg_GetTime(m);
	natsMsg_Destroy(m);
	return 1;
}

int cl_replay_start(const struct cl_span *sp, int64_t since_ns, cl_msg_time_fn time_of, void *arg,
		    uint64_t *seq)
{
	uint64_t lo = sp->first, hi = sp->last;

	if (sp->msgs == 0 || sp->last < sp->first || sp->last_ns < since_ns) {
		*seq = sp->last + 1; /* nothing stored since: from the next one on */
		return 0;
	}
	if (sp->first_ns >= since_ns) {
		*seq = sp->first;
		return 0;
	}
	/* time(lo) < since <= time(hi), or hi holds no message. */
	while (hi - lo > 1) {
		uint64_t mid = lo + (hi - lo) / 2;
		int64_t ns = 0;
		int r = time_of(arg, mid, &ns);

		if (r < 0)
			return -1;
		if (r == 0 || ns >= since_ns)
			hi = mid;
		else
			lo = mid;
	}
	*seq = hi;
	return 0;
}

/* The checks of cl_sub_verify wait this long at most for the leader: the
 * sync thread publishes too, and a stream without a leader (elections,
 * outages) answers nothing. A check that times out is made again later. */
#define CL_VERIFY_WAIT_MS 300

static void verify_opts(jsOptions *jo)
{
	jsOptions_Init(jo);
	jo->Wait = CL_VERIFY_WAIT_MS;
}

int cl_nats_leader_key(struct cl *c, uint64_t seq, uint64_t *key)
{
	natsMsg *m = NULL;
	jsErrCode je = 0;
	jsOptions jo;

	if (!__atomic_load_n(&c->connected, __ATOMIC_RELAXED))
		return -1;
	verify_opts(&jo);
	natsStatus s = js_GetMsg(&m, c->js, c->cfg->cluster.name, seq, &jo, &je);

	if (s == NATS_NOT_FOUND)
		return 0;
	if (s != NATS_OK)
		return -1;
	*key = cl_msg_key(natsMsg_GetData(m), (size_t)natsMsg_GetDataLength(m));
	natsMsg_Destroy(m);
	return 1;
}

int cl_nats_leader_last(struct cl *c, uint64_t *seq)
{
	natsMsg *m = NULL;
	jsErrCode je = 0;
	jsOptions jo;

	if (!__atomic_load_n(&c->connected, __ATOMIC_RELAXED))
		return -1;
	verify_opts(&jo);
	natsStatus s = js_GetLastMsg(&m, c->js, c->cfg->cluster.name, c->wildcard, &jo, &je);

	if (s == NATS_NOT_FOUND)
		return 0;
	if (s != NATS_OK)
		return -1;
	*seq = natsMsg_GetSequence(m);
	natsMsg_Destroy(m);
	return 1;
}

/* Failed searches for the start of a replay before it starts from the
 * stream's first message instead. */
#define CL_REPLAY_SEARCH_TRIES 3

/*
 * The stream sequence a replay by time (a restart without a snapshot)
 * starts at: the first message stored at or after unix second t
 * (cl_replay_start), asked of the stream itself, whose leader answers for
 * it: its state, then message times. A consumer's view is not asked: one
 * placed on a replica that has not caught up (after faults) has nothing
 * pending and would skip the whole stream. After CL_REPLAY_SEARCH_TRIES
 * failed searches in a row the replay starts at the stream's first
 * message: more than needed, and harmless (older peer records change
 * nothing or are counted stale; each completion still counts once, by
 * this instance, which has none yet). Returns 0 with *seq set, -1 to try
 * again.
 */
static int first_seq_since(struct cl *c, uint64_t t, uint64_t *seq)
{
	struct msg_time_arg arg = {.c = c};
	jsStreamInfo *si = NULL;
	jsErrCode je = 0;
	natsStatus s = js_GetStreamInfo(&si, c->js, c->cfg->cluster.name, NULL, &je);

	if (s != NATS_OK) {
		step_failed(c, "finding the start of the replay (stream info)", s, je);
		return -1;
	}
	struct cl_span sp = {
	    .msgs = si->State.Msgs,
	    .first = si->State.FirstSeq,
	    .last = si->State.LastSeq,
	    .first_ns = si->State.FirstTime,
	    .last_ns = si->State.LastTime,
	};
	jsStreamInfo_Destroy(si);
	if (sp.last > c->sub_last_seq)
		c->sub_last_seq = sp.last; /* what catching up waits for */
	if (cl_replay_start(&sp, (int64_t)t * 1000000000, msg_time, &arg, seq) == 0) {
		c->replay_search_fails = 0;
		return 0;
	}
	if (++c->replay_search_fails < CL_REPLAY_SEARCH_TRIES) {
		step_failed(c, "finding the start of the replay (message time)", NATS_ERR, arg.je);
		return -1;
	}
	CL_LOG(WARNING,
	       "the start of the replay is not found (%u tries): replaying the whole stream, "
	       "from sequence %" PRIu64 "\n",
	       CL_REPLAY_SEARCH_TRIES, sp.first);
	c->replay_search_fails = 0;
	*seq = sp.first;
	return 0;
}

/* The ordered consumer of every instance's subjects: after the sequence
 * applied last (this process's, or the snapshot's), or from peer_timeout
 * ago. */
static bool consumer_step(struct cl *c)
{
	uint64_t applied = __atomic_load_n(&c->applied_seq, __ATOMIC_RELAXED);
	jsSubOptions so;
	jsErrCode je = 0;
	natsStatus s;

	if (applied == 0)
		applied = c->resume_seq;
	if (applied > c->sub_last_seq) {
		CL_LOG(WARNING,
		       "the stream ends at %" PRIu64 ", before the %" PRIu64
		       " applied last: it was made anew; replaying by time\n",
		       c->sub_last_seq, applied);
		applied = 0;
	}
	uint64_t start = applied + 1, since = 0;
	if (applied == 0) {
		since = cl_now_ms() / 1000 - c->cfg->tracker.peer_timeout;
		if (first_seq_since(c, since, &start) != 0)
			return false;
		applied = start - 1;
	}
	jsSubOptions_Init(&so);
	so.Ordered = true;
	so.Config.Heartbeat = 1000000000; /* a lost consumer is found in seconds */
	so.Config.DeliverPolicy = js_DeliverByStartSequence;
	so.Config.OptStartSeq = start;
	s = js_SubscribeSync(&c->sub, c->js, c->wildcard, NULL, &so, &je);
	if (s != NATS_OK) {
		c->sub = NULL;
		step_failed(c, "consumer", s, je);
		return false;
	}
	/* Room for the backlog a snapshot's pause lets pile up. */
	natsSubscription_SetPendingLimits(c->sub, 1 << 20, 256 << 20);
	/* A new starting point (the first consumer, a replay by time): checked
	 * by definition. Else (the consumer made anew) the keys applied since
	 * the last check stay, so nothing is applied twice. */
	if (applied != __atomic_load_n(&c->applied_seq, __ATOMIC_RELAXED) || c->n_since == 0) {
		c->verified_seq = applied;
		c->n_since = 0;
	}
	c->stall_seq = 0;
	__atomic_store_n(&c->applied_seq, applied, __ATOMIC_RELAXED);
	__atomic_store_n(&c->catching_up, c->sub_last_seq > applied, __ATOMIC_RELAXED);
	if (since != 0)
		CL_LOG(INFO,
		       "consuming %s from sequence %" PRIu64 " (the first of unix time %" PRIu64
		       ", peer_timeout ago); the stream holds up to %" PRIu64 "\n",
		       c->wildcard, start, since, c->sub_last_seq);
	else
		CL_LOG(INFO,
		       "consuming %s from sequence %" PRIu64 "; the stream holds up to %" PRIu64
		       "\n",
		       c->wildcard, start, c->sub_last_seq);
	return true;
}

bool cl_nats_setup(struct cl *c)
{
	if (c->nc == NULL && !connect_step(c))
		return false;
	if (c->js == NULL && !js_step(c))
		return false;
	if (!stream_step(c))
		return false;
	if (__atomic_load_n(&c->key_state, __ATOMIC_ACQUIRE) == 0 && !key_step(c))
		return false;
	if (c->sub == NULL && !consumer_step(c))
		return false;
	return true;
}

void cl_nats_close(struct cl *c)
{
	if (c->sub != NULL) {
		natsSubscription_Unsubscribe(c->sub); /* deletes the ephemeral consumer */
		natsSubscription_Destroy(c->sub);
	}
	c->sub = NULL;
	jsCtx_Destroy(c->js);
	c->js = NULL;
	if (c->nc != NULL) {
		natsConnection_Close(c->nc);
		natsConnection_Destroy(c->nc);
	}
	c->nc = NULL;
	c->ready = false;
	c->fail_step = NULL;
}
