/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * fuzz_http.c - kh_parse_request() and the tracker query decoder on any bytes.
 *
 * The input is what a client sent on a connection. When it holds a request
 * head, its query (if any) is decoded as an announce and as a scrape, its
 * headers are looked up as the server does; the raw input is also decoded
 * as a query directly, so the decoder sees bytes the head parser would
 * refuse. libFuzzer hands over a heap copy of exactly size bytes, so any
 * read past len faults.
 *
 * Invariants: every field points inside the head; a head is complete at
 * exactly its length and partial one byte short of it; decoded values stay
 * within their documented bounds.
 */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "core/http_req.h"
#include "kernel-http/kh_parse.h"

#include "fuzz_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_within(const char *head, size_t n, const char *p, size_t len)
{
	FUZZ_CHECK(p >= head && len <= n && (size_t)(p - head) <= n - len);
}

static void decode_query(const char *q, size_t len)
{
	struct http_req_announce a;
	struct http_req_scrape s;
	enum http_req_err e;

	e = http_req_parse_announce(q, len, &a);
	FUZZ_CHECK(e < HTTP_REQ_ERR_N);
	FUZZ_CHECK(http_req_err_msg(e) != NULL && http_req_err_name(e) != NULL);
	if (e == HTTP_REQ_OK) {
		FUZZ_CHECK(a.port != 0);
		FUZZ_CHECK(a.event <= HTTP_REQ_EV_PAUSED);
		FUZZ_CHECK(a.key_len <= TR_HTTP_KEY_MAX);
		FUZZ_CHECK(a.numwant >= -1);
		FUZZ_CHECK(!a.has_ip || a.ip_family == 4 || a.ip_family == 6);
	}
	e = http_req_parse_scrape(q, len, &s);
	FUZZ_CHECK(e < HTTP_REQ_ERR_N);
	if (e == HTTP_REQ_OK)
		FUZZ_CHECK(s.n <= TR_HTTP_SCRAPE_MAX);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *buf = (const char *)data;
	struct kh_request req;
	int rc = kh_parse_request(buf, size, &req);

	FUZZ_CHECK(rc == KH_PARSE_PARTIAL || rc == KH_PARSE_BAD || (rc > 0 && (size_t)rc <= size));
	if (rc > 0) {
		size_t n = (size_t)rc;
		struct kh_request again;

		check_within(buf, n, req.method, req.method_len);
		FUZZ_CHECK(req.method_len > 0);
		check_within(buf, n, req.path, req.path_len);
		if (req.query != NULL)
			check_within(buf, n, req.query, req.query_len);
		FUZZ_CHECK(req.minor_version == 0 || req.minor_version == 1);
		FUZZ_CHECK(req.n_headers <= KH_MAX_HEADERS);
		for (size_t i = 0; i < req.n_headers; i++) {
			check_within(buf, n, req.headers[i].name, req.headers[i].name_len);
			check_within(buf, n, req.headers[i].value, req.headers[i].value_len);
		}

		/* The head delimits itself: what follows it (a pipelined
		 * request, a body) changes nothing, and one byte less is not
		 * a head yet. */
		FUZZ_CHECK(kh_parse_request(buf, n, &again) == rc);
		FUZZ_CHECK(kh_parse_request(buf, n - 1, &again) == KH_PARSE_PARTIAL);

		const struct kh_header *h = kh_find_header(&req, "connection");
		if (h != NULL) {
			(void)kh_header_has_token(h->value, h->value_len, "keep-alive");
			(void)kh_header_has_token(h->value, h->value_len, "close");
		}
		h = kh_find_header(&req, "X-Forwarded-For");
		if (h != NULL)
			check_within(buf, n, h->value, h->value_len);
		if (req.query != NULL)
			decode_query(req.query, req.query_len);
	}
	decode_query(buf, size);
	return 0;
}
