/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * kh_internal.h - what the server (kh_server.c) and the router (kh_route.c)
 * share. Private to kernel-http/.
 */
#ifndef DPTRACK_KERNEL_HTTP_KH_INTERNAL_H
#define DPTRACK_KERNEL_HTTP_KH_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/limits.h"
#include "kh_parse.h"
#include "kh_server.h"

/* Statuses the server sends, in counter order. */
enum kh_status {
	KH_200,
	KH_400,
	KH_403,
	KH_404,
	KH_405,
	KH_431,
	KH_500,
	KH_STATUS_N,
};

/* A growable output buffer; a response is appended whole or not at all. */
struct kh_buf {
	char *p;
	size_t len, cap;
};

/* Makes room for n more bytes. Returns 0, or -1 (buffer unchanged) if
 * memory runs out or the buffer would pass KH_BUF_MAX. */
int kh_buf_reserve(struct kh_buf *b, size_t n);

/* An output buffer never holds more than this: a few pipelined responses,
 * the largest being a static page (KH_PAGE_MAX) or /metrics. */
#define KH_PAGE_MAX (1u << 20)
#define KH_BUF_MAX  (KH_PAGE_MAX + (256u << 10))

/* Per-thread counters (relaxed stores by their thread, like stats_ctr). */
struct kh_counters {
	uint64_t accepted, refused, idle_closed, too_large, bad_requests;
	uint64_t status[KH_STATUS_N];
} __attribute__((aligned(64)));

enum kh_page {
	KH_PAGE_INDEX,
	KH_PAGE_DMCA,
	KH_PAGE_ROBOTS,
	KH_PAGE_DASHBOARD, /* stats.allow only, like /stats */
	KH_PAGE_N,
};

struct kh_page_data {
	const char *body;
	size_t len;
	const char *content_type;
	bool owned; /* read from static_dir: free it */
};

/* What a reload may change while the threads run (kh_live_swap): one
 * heap set, replaced whole, read through kh_server_shared.live. */
struct kh_live {
	struct tr_cidr trusted[KH_MAX_CIDRS];
	unsigned n_trusted;
	struct tr_cidr allow[KH_MAX_CIDRS];
	unsigned n_allow;
	unsigned idle_timeout; /* seconds */
	struct kh_page_data pages[KH_PAGE_N];
};

/* One thread's view of the world while it answers a request. */
struct kh_req_ctx {
	const struct kh_server_shared *sh;
	const struct kh_live *live; /* loaded once per conn_process() call */
	struct tr_ctx *tr;
	struct kh_counters *c;
	uint64_t now; /* seconds, for the tracker */
};

/* What every thread reads: p, which nobody changes after kh_start, and
 * the live set, which a reload replaces. Threads load `live` (acquire) as
 * online RCU readers of the table and use it until they next go offline;
 * a replaced set is freed after a grace period (kh_live_swap). */
struct kh_server_shared {
	struct kh_params p;
	struct kh_live *live;
};

/* kh_pages.c: fills pages[] from dir ("" or NULL: the built-in pages).
 * Returns 0, or -1 with why in err (nothing to free then).
 * kh_pages_free() releases them. */
int kh_pages_load(struct kh_page_data pages[KH_PAGE_N], const char *dir, char *err, size_t errlen);
void kh_pages_free(struct kh_page_data pages[KH_PAGE_N]);

/*
 * kh_route.c: answers one parsed request from peer, appending the whole
 * response (head, and the body unless HEAD) to out. keep: the connection
 * stays open after it (the response says so for HTTP/1.0). Returns the
 * status sent, or -1 if out could not grow (the caller closes).
 */
int kh_route(const struct kh_req_ctx *rc, const struct kh_request *req, const struct tr_addr *peer,
	     bool keep, struct kh_buf *out);

/* How a response is framed for its request: whether the connection stays
 * open after it (an HTTP/1.0 response then says keep-alive), the request's
 * HTTP minor version, and whether the body is left out (HEAD). */
struct kh_framing {
	bool keep;
	bool head;
	int minor_version;
};

/* For a request that could not be parsed: HTTP/1.1, body sent, then close. */
#define KH_FRAMING_CLOSE ((struct kh_framing){.keep = false, .head = false, .minor_version = 1})

/* Appends a response with a short text body (errors: 400, 431, ...). */
int kh_respond_text(const struct kh_req_ctx *rc, struct kh_buf *out, enum kh_status st,
		    const char *text, const struct kh_framing *f);

#endif
