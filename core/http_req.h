/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * http_req.h - decode an HTTP tracker query string (BEP 3, 7, 23, 48).
 *
 * Input is the raw query (the bytes after '?', without '#fragment'), not
 * NUL-terminated. Parameters are percent-decoded; '+' is a space. Unknown
 * parameters are ignored, as every tracker does (clients add their own).
 * Pure: no allocation, no I/O, no DPDK header; never reads past len.
 */
#ifndef DPTRACK_CORE_HTTP_REQ_H
#define DPTRACK_CORE_HTTP_REQ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "limits.h"

enum http_req_event {
	HTTP_REQ_EV_NONE = 0,	   /* absent, empty or "empty" */
	HTTP_REQ_EV_COMPLETED = 1, /* numbering matches BEP 15's udp_msg_event */
	HTTP_REQ_EV_STARTED = 2,
	HTTP_REQ_EV_STOPPED = 3,
	HTTP_REQ_EV_PAUSED = 4, /* BEP 21 partial seed; treated as a regular announce */
};

/* Why a query was refused; each has a user-facing message from
 * http_req_err_msg() suitable for a bencoded "failure reason". */
enum http_req_err {
	HTTP_REQ_OK = 0,
	HTTP_REQ_ERR_ENCODING,	/* bad percent-encoding */
	HTTP_REQ_ERR_INFO_HASH, /* info_hash missing or not 20 bytes */
	HTTP_REQ_ERR_PEER_ID,	/* peer_id missing or not 20 bytes */
	HTTP_REQ_ERR_PORT,	/* port missing, 0, or not a number below 65536 */
	HTTP_REQ_ERR_NUMBER,	/* uploaded/downloaded/left/numwant/compact/... not a number */
	HTTP_REQ_ERR_EVENT,	/* event not one of started/stopped/completed/paused/empty */
	HTTP_REQ_ERR_IP,	/* ipv4/ipv6 present but not an address of that family */
	HTTP_REQ_ERR_KEY,	/* key longer than TR_HTTP_KEY_MAX */
	HTTP_REQ_ERR_TOO_MANY,	/* scrape with more than TR_HTTP_SCRAPE_MAX info_hash */
	HTTP_REQ_ERR_DUPLICATE, /* a single-valued parameter given twice with different values */
	HTTP_REQ_ERR_N,
};

/* Returns the static failure message for e, e.g. "invalid info_hash". */
const char *http_req_err_msg(enum http_req_err e);

/* Returns a short static name for counters, e.g. "info_hash". */
const char *http_req_err_name(enum http_req_err e);

struct http_req_announce {
	uint8_t info_hash[TR_HASH_LEN];
	uint8_t peer_id[TR_HASH_LEN];
	uint16_t port;
	uint64_t uploaded, downloaded, left; /* 0 when absent */
	bool has_left;			     /* left given (absent = leecher) */
	uint8_t event;			     /* enum http_req_event */
	bool compact;			     /* default true (BEP 23) unless compact=0 */
	bool no_peer_id;
	int32_t numwant; /* -1 when absent; capped to INT32_MAX */
	uint8_t key_len;
	char key[TR_HTTP_KEY_MAX]; /* not NUL-terminated */
	/* BEP 7 / BEP 3 address hints, decoded; the caller decides whether to
	 * trust them (http.* config). `ip` may carry either family; an `ip`
	 * that is not an address literal (BEP 3 allows DNS names) is ignored:
	 * has_ip stays false. */
	bool has_ip, has_ipv4, has_ipv6;
	uint8_t ip_family; /* 4 or 6, for `ip` */
	uint8_t ip[16], ipv4[4], ipv6[16];
};

struct http_req_scrape {
	uint32_t n; /* 0 = no info_hash given (a full scrape, which callers refuse) */
	uint8_t info_hash[TR_HTTP_SCRAPE_MAX][TR_HASH_LEN];
};

/* Decodes an announce query. Returns HTTP_REQ_OK or the first error found. */
enum http_req_err http_req_parse_announce(const char *q, size_t len, struct http_req_announce *a);

/* Decodes a scrape query: every info_hash, in order, duplicates kept. */
enum http_req_err http_req_parse_scrape(const char *q, size_t len, struct http_req_scrape *s);

#endif
