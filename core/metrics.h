/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * metrics.h - one stream of named figures for every reader: the exit lines,
 * the /dptrack/stats telemetry command, GET /stats (JSON) and GET /metrics
 * (Prometheus text format 0.0.4). A producer calls fn once per figure; all
 * figures of one name come one after another, so a Prometheus writer prints
 * each name's HELP and TYPE once. No DPDK header.
 */
#ifndef DPTRACK_CORE_METRICS_H
#define DPTRACK_CORE_METRICS_H

#include <stdint.h>

enum tr_metric_type {
	TR_METRIC_COUNTER, /* only grows: Prometheus names end in _total */
	TR_METRIC_GAUGE,
	TR_METRIC_HISTOGRAM, /* a family: its _bucket, _sum and _count samples (series) */
};

struct tr_metric {
	const char *name; /* Prometheus name without "dptrack_", e.g. "requests_total" */
	const char *help; /* one line, same for every figure of the name */
	enum tr_metric_type type;
	const char *labels; /* label set without braces ("protocol=\"udp\"") or NULL */
	const char *key;    /* flat name for JSON, telemetry and exit lines ("udp_announce") */
	uint64_t value;
	/* A histogram's sample: "_bucket" (with an le label), "_sum" or
	 * "_count", appended to the family's name; NULL for the others. */
	const char *series;
};

typedef void (*tr_metric_fn)(void *arg, const struct tr_metric *m);

/* A producer of the whole stream, with its own state. */
struct tr_metric_source {
	void (*each)(void *ctx, tr_metric_fn fn, void *arg);
	void *ctx;
};

#endif
