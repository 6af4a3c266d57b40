/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * cl.h - the cluster: several dptrack instances serving one set of swarms
 * through NATS JetStream (cluster.* in the configuration).
 *
 * One thread, "dpt-sync", owns the NATS connection. Each packet lcore and
 * HTTP thread (a producer) hands it fixed-size records (core/sync.h)
 * through a ring of its own: tr_publish (core/tr_internal.h) pushes, never
 * waits, and counts a drop when its ring is full. The thread packs the
 * records into batches (core/sync.c), publishes them asynchronously on the
 * subject NAME.peers.SITE.INSTANCE of the stream NAME (a batch whose
 * acknowledgement fails is published again, with backoff, under the same
 * Nats-Msg-Id, which the stream stores once), consumes every instance's
 * subjects through an ordered consumer checked against the stream's
 * leader, and applies each message once, in stream order, to the table
 * with tr_sync_apply. Completions are counted from the stream by every
 * instance, the origin too, so each counts once.
 *
 * The connection-ID key is shared through the key-value bucket NAME_keys
 * (created with a random key by the first instance, read by the others),
 * unless udp.connection_id_secret is set.
 *
 * Restart: the snapshot records the stream sequence applied last
 * (cl_apply_pause); a restart resumes after it, or, without one, from
 * peer_timeout ago. The instance serves meanwhile, and says it is catching
 * up until it has applied what the stream held when it subscribed.
 *
 * When the engine is down, slow or partitioned, nothing here makes a
 * producer wait: records wait in the rings and in the client's reconnect
 * buffer, are dropped and counted once those are full, and the connection
 * comes back by itself.
 */
#ifndef DPTRACK_CLUSTER_CL_H
#define DPTRACK_CLUSTER_CL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cfg.h"
#include "core/metrics.h"
#include "core/tracker.h"

struct cl;

struct cl_params {
	const struct cfg *cfg; /* cluster.*, tracker.peer_timeout, udp.*; outlives the cluster */
	struct tracker *tr;    /* the table records are applied to; its key may be replaced */
	unsigned n_producers;  /* rings to make: one per packet lcore and HTTP thread */
	int socket_id;	       /* NUMA socket of the rings */
	uint64_t resume_seq;   /* the stream sequence the snapshot applied last; 0 = none */
	const char *resume_stream; /* the stream it belongs to ("" or NULL = none) */
};

/*
 * Makes the rings and starts the sync thread, which connects in the
 * background. Returns the cluster, or NULL with the failing step in err.
 * The caller owns it: cl_free(). The table must outlive it.
 */
struct cl *cl_start(const struct cl_params *p, char *err, size_t errlen);

/*
 * Waits up to cluster.key_wait_ms for the cluster's shared connection-ID
 * key. Returns true once it is in force in the tracker (it replaced the
 * key the caller set), false if it did not come in time (the caller's key
 * serves; the shared one replaces it when it comes, tr_key_replace) or
 * if udp.connection_id_secret makes it needless.
 */
bool cl_wait_key(struct cl *c);

/* The sink producer i (0 <= i < n_producers) pushes its records into. */
const struct tr_sink *cl_sink(struct cl *c, unsigned i);

/*
 * For a snapshot: takes the lock the thread applies batches under, so the
 * table copy that follows holds exactly the batches up to the sequence
 * returned (0 = none applied), and *stream the stream's name. Hold it for
 * the copy only; cl_apply_resume() releases it. The packet path never
 * takes it. NULL is a no-op returning 0.
 */
uint64_t cl_apply_pause(struct cl *c, const char **stream);
void cl_apply_resume(struct cl *c);

/* Every figure of the cluster (core/metrics.h); nothing for NULL. */
void cl_metrics(const struct cl *c, tr_metric_fn fn, void *arg);

/* Stops the thread after one last bounded flush of what the rings and the
 * batch hold (the producers have stopped), and closes the connection.
 * NULL and a second call are no-ops. */
void cl_stop(struct cl *c);

/* Stops it if it still runs, and frees it. NULL is a no-op. */
void cl_free(struct cl *c);

#endif
