/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * cl.c - the cluster's life: rings, the sync thread and its loop, the
 * producers' sink, the snapshot's pause, start and stop (cl.h).
 */
#include "cl.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <rte_errno.h>
#include <rte_lcore.h>
#include <rte_log.h>
#include <rte_ring.h>
#include <rte_ring_elem.h>
#include <sodium.h>

#include "cl_internal.h"
#include "core/ptab.h"

RTE_LOG_REGISTER(cl_logtype, dptrack.cluster, INFO);

uint64_t cl_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

int64_t cl_mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* tr_sink.push on a producer's thread: stamp, enqueue, or count a drop.
 * A single-producer enqueue onto a ring only this thread fills: no lock,
 * no wait. */
static bool sink_push(void *arg, struct sync_rec *r)
{
	struct cl_prod *p = arg;

	r->ms = cl_now_ms();
	if (rte_ring_sp_enqueue_elem(p->ring, r, sizeof(*r)) != 0) {
		__atomic_store_n(&p->dropped, __atomic_load_n(&p->dropped, __ATOMIC_RELAXED) + 1,
				 __ATOMIC_RELAXED);
		return false;
	}
	return true;
}

const struct tr_sink *cl_sink(struct cl *c, unsigned i)
{
	return i < c->n_prod ? &c->prod[i].sink : NULL;
}

uint64_t cl_apply_pause(struct cl *c, const char **stream)
{
	if (c == NULL)
		return 0;
	pthread_mutex_lock(&c->apply_lock);
	if (stream != NULL)
		*stream = c->cfg->cluster.name;
	return __atomic_load_n(&c->applied_seq, __ATOMIC_RELAXED);
}

void cl_apply_resume(struct cl *c)
{
	if (c != NULL)
		pthread_mutex_unlock(&c->apply_lock);
}

bool cl_wait_key(struct cl *c)
{
	struct timespec until;
	int state;

	clock_gettime(CLOCK_REALTIME, &until);
	uint64_t ns = (uint64_t)until.tv_nsec + (uint64_t)c->cfg->cluster.key_wait_ms * 1000000u;
	until.tv_sec += (time_t)(ns / 1000000000u);
	until.tv_nsec = (long)(ns % 1000000000u);
	pthread_mutex_lock(&c->key_lock);
	while (c->key_state == 0 &&
	       pthread_cond_timedwait(&c->key_cond, &c->key_lock, &until) != ETIMEDOUT)
		;
	state = c->key_state;
	pthread_mutex_unlock(&c->key_lock);
	return state == 1;
}

/* The instance's name: cluster.instance, else the host name cut to the
 * characters a subject token may hold. */
static int instance_of(const struct cfg *cfg, char *out, char *err, size_t errlen)
{
	char host[256];
	size_t n = 0;

	if (cfg->cluster.instance[0] != '\0') {
		snprintf(out, SYNC_INSTANCE_MAX + 1, "%s", cfg->cluster.instance);
		return 0;
	}
	if (gethostname(host, sizeof(host)) != 0) {
		snprintf(err, errlen, "cluster.instance is empty and gethostname failed: %s",
			 strerror(errno));
		return -1;
	}
	host[sizeof(host) - 1] = '\0';
	for (const char *h = host; *h != '\0' && *h != '.' && n < SYNC_INSTANCE_MAX; h++)
		out[n++] = (*h >= 'a' && *h <= 'z') || (*h >= 'A' && *h <= 'Z') ||
				   (*h >= '0' && *h <= '9') || *h == '-' || *h == '_'
			       ? *h
			       : '_';
	out[n] = '\0';
	if (n == 0) {
		snprintf(err, errlen, "cluster.instance is empty and the host name gives none");
		return -1;
	}
	return 0;
}

static void *thread_main(void *arg);

static bool rings_empty(const struct cl *c)
{
	for (unsigned i = 0; i < c->n_prod; i++)
		if (rte_ring_count(c->prod[i].ring) != 0)
			return false;
	return true;
}

static int rings_init(struct cl *c, int socket, char *err, size_t errlen)
{
	c->prod = aligned_alloc(64, sizeof(*c->prod) * (c->n_prod ? c->n_prod : 1));
	if (c->prod == NULL) {
		snprintf(err, errlen, "cluster: out of memory");
		return -1;
	}
	memset(c->prod, 0, sizeof(*c->prod) * c->n_prod);
	for (unsigned i = 0; i < c->n_prod; i++) {
		char name[RTE_RING_NAMESIZE];

		/* Named by epoch too: unique if two clusters share a process. */
		snprintf(name, sizeof(name), "cl%x_%u", (unsigned)c->epoch, i);
		c->prod[i].ring = rte_ring_create_elem(name, sizeof(struct sync_rec),
						       c->cfg->cluster.ring_records, socket,
						       RING_F_SP_ENQ | RING_F_SC_DEQ);
		if (c->prod[i].ring == NULL) {
			snprintf(err, errlen, "rte_ring_create_elem(%u records): %s",
				 c->cfg->cluster.ring_records, rte_strerror(rte_errno));
			return -1;
		}
		c->prod[i].sink = (struct tr_sink){sink_push, &c->prod[i]};
	}
	return 0;
}

struct cl *cl_make(const struct cl_params *p, char *err, size_t errlen)
{
	const struct cfg *cfg = p->cfg;
	struct cl *c = calloc(1, sizeof(*c));

	if (c == NULL) {
		snprintf(err, errlen, "cluster: out of memory");
		return NULL;
	}
	c->cfg = cfg;
	c->tr = p->tr;
	c->n_prod = p->n_producers;
	c->epoch = (uint64_t)nats_NowInNanoSeconds();
	pthread_mutex_init(&c->apply_lock, NULL);
	pthread_mutex_init(&c->retry_lock, NULL);
	pthread_mutex_init(&c->key_lock, NULL);
	pthread_cond_init(&c->key_cond, NULL);
	c->key_state = cfg->udp.has_secret ? -1 : 0;
	c->catching_up = 1;
	c->retry_max_ms = CL_RETRY_MAX_MS;
	c->leader_key = cl_nats_leader_key;
	c->leader_last = cl_nats_leader_last;
	if (p->resume_stream != NULL && strcmp(p->resume_stream, cfg->cluster.name) == 0)
		c->resume_seq = p->resume_seq;
	if (instance_of(cfg, c->instance, err, errlen) != 0)
		goto fail;
	snprintf(c->subject, sizeof(c->subject), "%s.peers.%s.%s", cfg->cluster.name,
		 cfg->cluster.site, c->instance);
	snprintf(c->wildcard, sizeof(c->wildcard), "%s.peers.>", cfg->cluster.name);
	snprintf(c->bucket, sizeof(c->bucket), "%s_keys", cfg->cluster.name);
	c->pending = calloc(cfg->cluster.batch_records, sizeof(*c->pending));
	c->buf = malloc(sync_batch_max_len(cfg->cluster.batch_records));
	if (c->pending == NULL || c->buf == NULL) {
		snprintf(err, errlen, "cluster: out of memory");
		goto fail;
	}
	if (rings_init(c, p->socket_id, err, errlen) != 0)
		goto fail;
	return c;
fail:
	cl_free(c);
	return NULL;
}

struct cl *cl_start(const struct cl_params *p, char *err, size_t errlen)
{
	const struct cfg *cfg = p->cfg;
	struct cl *c = cl_make(p, err, errlen);

	if (c == NULL)
		return NULL;
	/* A control thread: EAL places it off the lcores' CPUs, and the NATS
	 * client's own threads, started from it, inherit that placement. */
	int ret = rte_ctrl_thread_create(&c->tid, "dpt-sync", NULL, thread_main, c);
	if (ret != 0) {
		snprintf(err, errlen, "rte_ctrl_thread_create(dpt-sync): %s", strerror(-ret));
		cl_free(c);
		return NULL;
	}
	c->running = true;
	CL_LOG(INFO, "instance %s, stream %s, %u servers, %u producer rings of %u records\n",
	       c->instance, cfg->cluster.name, cfg->cluster.n_servers, c->n_prod,
	       cfg->cluster.ring_records);
	return c;
}

/* The sync thread: sets up (and sets up again after a failure), then turns
 * between publishing and applying. Every call in the loop is bounded, so it
 * sees `stop` within about a second. */
static void *thread_main(void *arg)
{
	struct cl *c = arg;
	sigset_t all;

	/* Signals are the main thread's; the NATS client's threads, made from
	 * this one, inherit the mask. */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, NULL);
	if (ptab_thread_enter(c->tr->ptab) != 0) {
		CL_LOG(ERR, "no EAL thread slot left for the sync thread: cluster off\n");
		return NULL;
	}
	while (!__atomic_load_n(&c->stop, __ATOMIC_RELAXED)) {
		uint64_t now = cl_now_ms();

		ptab_quiescent(c->tr->ptab);
		if (!c->ready && now >= c->next_try_ms) {
			ptab_reader_offline(c->tr->ptab); /* setup may block for seconds */
			c->ready = cl_nats_setup(c);
			ptab_reader_online(c->tr->ptab);
			if (!c->ready)
				c->next_try_ms = cl_now_ms() + 1000;
		}
		if (!c->ready) {
			ptab_reader_offline(c->tr->ptab);
			nats_Sleep(50);
			ptab_reader_online(c->tr->ptab);
			continue;
		}
		cl_pub_turn(c, false);
		cl_lag_roll(c, now);
		/* Waits for a message only with nothing to publish. */
		cl_sub_turn(c, c->n_pending != 0 || c->buf_len != 0 ? 0 : CL_POLL_MS);
	}
	/* The producers have stopped: what they left goes out once, bounded. */
	if (c->ready) {
		cl_retry_turn(c, cl_mono_ms(), true, false); /* every failed batch once more */
		for (int i = 0; i < 50 && (c->n_pending != 0 || c->buf_len != 0 || !rings_empty(c));
		     i++)
			cl_pub_turn(c, true);
		jsPubOptions po;
		jsPubOptions_Init(&po);
		po.MaxWait = 2000;
		js_PublishAsyncComplete(c->js, &po);
	}
	/* What failed and is not going out again is lost: counted, and its
	 * completions counted here (the exit snapshot holds them). */
	while (cl_retry_turn(c, cl_mono_ms(), false, true) != 0)
		;
	ptab_thread_leave(c->tr->ptab);
	return NULL;
}

void cl_stop(struct cl *c)
{
	if (c == NULL || !c->running)
		return;
	__atomic_store_n(&c->stop, 1, __ATOMIC_RELAXED);
	pthread_join(c->tid, NULL);
	c->running = false;
	cl_nats_close(c);
	pthread_mutex_lock(&c->key_lock); /* nobody waits for a key any more */
	if (c->key_state == 0)
		c->key_state = -1;
	pthread_cond_broadcast(&c->key_cond);
	pthread_mutex_unlock(&c->key_lock);
}

void cl_free(struct cl *c)
{
	if (c == NULL)
		return;
	cl_stop(c);
	for (unsigned i = 0; c->prod != NULL && i < c->n_prod; i++)
		rte_ring_free(c->prod[i].ring);
	for (unsigned i = 0; i < c->n_retry; i++)
		if (!c->retry[i].in_flight) /* else the client's, gone with it */
			natsMsg_Destroy(c->retry[i].msg);
	free(c->prod);
	free(c->pending);
	free(c->buf);
	pthread_mutex_destroy(&c->apply_lock);
	pthread_mutex_destroy(&c->retry_lock);
	pthread_mutex_destroy(&c->key_lock);
	pthread_cond_destroy(&c->key_cond);
	free(c);
}
