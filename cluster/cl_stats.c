/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * cl_stats.c - the cluster's figures: counters, replication lag, state.
 *
 * Lag is the time from an announce at its origin (the record's ms) to its
 * record being applied here, across the two clocks (NTP keeps them within
 * milliseconds; a negative lag counts as 0). It is kept as a histogram per
 * window of CL_LAG_WINDOW_MS, from which p50 and p99 are read, interpolated
 * within their bucket; records replayed while catching up are left out.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <rte_common.h>

#include "cl_internal.h"

#define CL_LAG_WINDOW_MS 10000

/* Upper bounds of the lag buckets, ms; the last bucket is everything above. */
static const uint64_t lag_le[CL_LAG_BUCKETS] = {
    1,	  2,	5,     10,    20,    50,     100,    200,    500,     1000,
    2000, 5000, 10000, 20000, 60000, 120000, 300000, 600000, 1800000, 3600000,
};

/* The q-quantile (0 < q < 1) of n samples in counts[], in µs, linear
 * within its bucket (the open last bucket answers its lower bound). */
static uint64_t quantile_us(const uint64_t *counts, uint64_t n, double q)
{
	double want = q * (double)n, seen = 0;

	for (unsigned b = 0; b <= CL_LAG_BUCKETS; b++) {
		if (counts[b] == 0 || seen + (double)counts[b] < want) {
			seen += (double)counts[b];
			continue;
		}
		double lo = b == 0 ? 0 : (double)lag_le[b - 1];
		if (b == CL_LAG_BUCKETS)
			return (uint64_t)(lo * 1000);
		double hi = (double)lag_le[b];
		return (uint64_t)((lo + (hi - lo) * (want - seen) / (double)counts[b]) * 1000);
	}
	return 0;
}

void cl_lag_roll(struct cl *c, uint64_t now_ms)
{
	if (now_ms >= c->lag_window_end_ms) {
		uint64_t n = 0;

		for (unsigned i = 0; i <= CL_LAG_BUCKETS; i++)
			n += c->lag_window[i];
		__atomic_store_n(&c->st.lag_p50_us, n ? quantile_us(c->lag_window, n, 0.50) : 0,
				 __ATOMIC_RELAXED);
		__atomic_store_n(&c->st.lag_p99_us, n ? quantile_us(c->lag_window, n, 0.99) : 0,
				 __ATOMIC_RELAXED);
		__atomic_store_n(&c->st.lag_window_records, n, __ATOMIC_RELAXED);
		memset(c->lag_window, 0, sizeof(c->lag_window));
		c->lag_window_end_ms = now_ms + CL_LAG_WINDOW_MS;
	}
}

void cl_lag_add(struct cl *c, uint64_t lag_ms, uint64_t now_ms)
{
	unsigned b = 0;

	cl_lag_roll(c, now_ms);
	while (b < CL_LAG_BUCKETS && lag_ms > lag_le[b])
		b++;
	c->lag_window[b]++;
	__atomic_store_n(&c->st.lag[b], c->st.lag[b] + 1, __ATOMIC_RELAXED);
	__atomic_store_n(&c->st.lag_ms_sum, c->st.lag_ms_sum + lag_ms, __ATOMIC_RELAXED);
}

static uint64_t ld(const uint64_t *v)
{
	return __atomic_load_n(v, __ATOMIC_RELAXED);
}

static void emit(tr_metric_fn fn, void *arg, const char *name, const char *help,
		 enum tr_metric_type type, const char *labels, const char *key, uint64_t v)
{
	fn(arg, &(struct tr_metric){name, help, type, labels, key, v});
}

static void each_state(const struct cl *c, tr_metric_fn fn, void *arg)
{
	int key = __atomic_load_n(&c->key_state, __ATOMIC_RELAXED);

	emit(fn, arg, "cluster_connected", "1 while connected to a NATS server", TR_METRIC_GAUGE,
	     NULL, "cluster_connected", (uint64_t)__atomic_load_n(&c->connected, __ATOMIC_RELAXED));
	emit(fn, arg, "cluster_catching_up",
	     "1 until the stream's backlog at start is applied (serving all the while)",
	     TR_METRIC_GAUGE, NULL, "cluster_catching_up",
	     (uint64_t)__atomic_load_n(&c->catching_up, __ATOMIC_RELAXED));
	emit(fn, arg, "cluster_stream_sequence", "The stream sequence applied last",
	     TR_METRIC_GAUGE, NULL, "cluster_stream_sequence", ld(&c->applied_seq));
	emit(fn, arg, "cluster_key_shared",
	     "1 when the connection-ID key is the cluster's (or udp.connection_id_secret is set)",
	     TR_METRIC_GAUGE, NULL, "cluster_key_shared", key != 0);
	emit(fn, arg, "cluster_lag_p50_microseconds",
	     "Replication lag, announce at its origin to applied here: median of the last 10 s",
	     TR_METRIC_GAUGE, NULL, "cluster_lag_p50_us", ld(&c->st.lag_p50_us));
	emit(fn, arg, "cluster_lag_p99_microseconds",
	     "Replication lag: 99th percentile of the last 10 s", TR_METRIC_GAUGE, NULL,
	     "cluster_lag_p99_us", ld(&c->st.lag_p99_us));
	emit(fn, arg, "cluster_lag_window_records",
	     "Records applied in the last 10 s window that p50 and p99 read (0: those measure "
	     "nothing)",
	     TR_METRIC_GAUGE, NULL, "cluster_lag_window_records", ld(&c->st.lag_window_records));
}

static void each_count(const struct cl *c, tr_metric_fn fn, void *arg)
{
	static const struct {
		const char *name, *help, *key;
		size_t off;
	} f[] = {
	    {"cluster_records_published_total", "Records handed to NATS",
	     "cluster_records_published", offsetof(struct cl_stats, records_published)},
	    {"cluster_batches_published_total", "Batches handed to NATS",
	     "cluster_batches_published", offsetof(struct cl_stats, batches_published)},
	    {"cluster_records_applied_total", "Other instances' records applied to the table",
	     "cluster_records_applied", offsetof(struct cl_stats, records_applied)},
	    {"cluster_batches_applied_total", "Other instances' batches applied",
	     "cluster_batches_applied", offsetof(struct cl_stats, batches_applied)},
	    {"cluster_own_batches_total", "This instance's batches back from the stream",
	     "cluster_own_batches", offsetof(struct cl_stats, own_batches)},
	    {"cluster_duplicate_batches_total",
	     "Batches published again that the stream already held (stored once)",
	     "cluster_duplicate_batches", offsetof(struct cl_stats, duplicate_batches)},
	    {"cluster_redelivered_batches_total",
	     "Stream messages delivered again after the consumer was made anew (applied once)",
	     "cluster_redelivered_batches", offsetof(struct cl_stats, redelivered)},
	    {"cluster_replica_mismatches_total",
	     "The stream's leader held another message where the consumer's server delivered one "
	     "(replayed from the last agreement)",
	     "cluster_replica_mismatches", offsetof(struct cl_stats, replica_mismatches)},
	    {"cluster_consumer_stalls_total",
	     "The consumer delivered nothing while the stream's leader held more (made anew)",
	     "cluster_consumer_stalls", offsetof(struct cl_stats, consumer_stalls)},
	    {"cluster_publish_retries_total",
	     "Batches published again after a failed acknowledgement", "cluster_publish_retries",
	     offsetof(struct cl_stats, publish_retries)},
	    {"cluster_acks_failed_total", "Acknowledgements that failed or timed out",
	     "cluster_acks_failed", offsetof(struct cl_stats, acks_failed)},
	    {"cluster_async_errors_total",
	     "Asynchronous errors of the NATS client (missed heartbeats, slow consumer)",
	     "cluster_async_errors", offsetof(struct cl_stats, async_errors)},
	    {"cluster_connects_total", "Connections made to NATS", "cluster_connects",
	     offsetof(struct cl_stats, connects)},
	    {"cluster_disconnects_total", "Connections to NATS lost", "cluster_disconnects",
	     offsetof(struct cl_stats, disconnects)},
	    {"cluster_reconnects_total", "Connections to NATS made again", "cluster_reconnects",
	     offsetof(struct cl_stats, reconnects)},
	};

	for (size_t i = 0; i < RTE_DIM(f); i++)
		emit(fn, arg, f[i].name, f[i].help, TR_METRIC_COUNTER, NULL, f[i].key,
		     ld((const uint64_t *)((const char *)&c->st + f[i].off)));
}

static void each_drop(const struct cl *c, tr_metric_fn fn, void *arg)
{
	static const char *const why[CL_DROP_N] = {
	    [CL_DROP_RING_FULL] = "ring_full",	   [CL_DROP_BUFFER] = "buffer_full",
	    [CL_DROP_GAVE_UP] = "gave_up",	   [CL_DROP_RETRY_FULL] = "retry_full",
	    [CL_DROP_BAD_BATCH] = "bad_batch",	   [CL_DROP_REFUSED] = "table_refused",
	    [CL_DROP_NOT_ALLOWED] = "not_allowed", [CL_DROP_STALE] = "stale",
	};
	char labels[48], key[48];

	for (unsigned d = 0; d < CL_DROP_N; d++) {
		uint64_t v = ld(&c->st.drops[d]);

		if (d == CL_DROP_RING_FULL)
			for (unsigned i = 0; i < c->n_prod; i++)
				v += ld(&c->prod[i].dropped);
		snprintf(labels, sizeof(labels), "reason=\"%s\"", why[d]);
		snprintf(key, sizeof(key), "cluster_drop_%s", why[d]);
		emit(fn, arg, "cluster_drops_total",
		     "Records (bad_batch: batches) not published or not applied, by reason",
		     TR_METRIC_COUNTER, labels, key, v);
	}
}

/* One sample of the lag histogram's family. */
static void emit_lag(tr_metric_fn fn, void *arg, const char *series, const char *labels,
		     const char *key, uint64_t v)
{
	static const char help[] = "Replication lag of the records applied, announce at its origin "
				   "to applied here, ms";

	fn(arg, &(struct tr_metric){"cluster_lag_milliseconds", help, TR_METRIC_HISTOGRAM, labels,
				    key, v, series});
}

/* The lag histogram as a Prometheus histogram (cumulative buckets in ms,
 * their sum and count), so any interval's quantiles come from two samples
 * (histogram_quantile). */
static void each_lag(const struct cl *c, tr_metric_fn fn, void *arg)
{
	char labels[32], key[48];
	uint64_t sum = 0;

	for (unsigned b = 0; b <= CL_LAG_BUCKETS; b++) {
		sum += ld(&c->st.lag[b]);
		if (b < CL_LAG_BUCKETS) {
			snprintf(labels, sizeof(labels), "le=\"%" PRIu64 "\"", lag_le[b]);
			snprintf(key, sizeof(key), "cluster_lag_le_%" PRIu64 "ms", lag_le[b]);
		} else {
			snprintf(labels, sizeof(labels), "le=\"+Inf\"");
			snprintf(key, sizeof(key), "cluster_lag_le_inf");
		}
		emit_lag(fn, arg, "_bucket", labels, key, sum);
	}
	emit_lag(fn, arg, "_sum", NULL, "cluster_lag_sum_ms", ld(&c->st.lag_ms_sum));
	emit_lag(fn, arg, "_count", NULL, "cluster_lag_count", sum);
}

void cl_metrics(const struct cl *c, tr_metric_fn fn, void *arg)
{
	if (c == NULL)
		return;
	each_state(c, fn, arg);
	each_count(c, fn, arg);
	each_drop(c, fn, arg);
	each_lag(c, fn, arg);
}
