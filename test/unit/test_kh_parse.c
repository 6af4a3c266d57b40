/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_kh_parse.c - the HTTP/1.x request head parser: heads as clients send
 * them with every field checked, each rule's refusal at the byte that breaks
 * it (and partial on every byte before), every prefix of a good head, and
 * the header lookups. Every call reads from a buffer that ends at a guard
 * page, so a read past len faults.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "guard.h"
#include "kernel-http/kh_parse.h"

#define N_ELEMS(a) (sizeof(a) / sizeof((a)[0]))

/* ---- helpers ---- */

/* Parses buf[0..len) copied to end at a guard page; the copy stays mapped
 * in g so the caller can check where the fields point. */
static int parse_guarded(struct guard_buf *g, const char *buf, size_t len, struct kh_request *req)
{
	const char *p = (const char *)guard_copy(g, buf, len);

	memset(req, 0xa5, sizeof(*req));
	return kh_parse_request(p, len, req);
}

static int parse_n(const char *buf, size_t len)
{
	struct guard_buf g;
	struct kh_request req;
	int rc = parse_guarded(&g, buf, len, &req);

	guard_free(&g);
	return rc;
}

static const char *rc_name(int rc)
{
	if (rc == KH_PARSE_PARTIAL)
		return "PARTIAL";
	if (rc == KH_PARSE_BAD)
		return "BAD";
	return "consumed";
}

/* Checks that field[0..n) equals want (NUL-terminated) and lies in the
 * parsed buffer. */
static void check_field(const char *what, const char *got, size_t got_len, const char *want,
			const uint8_t *buf, size_t len)
{
	size_t want_len = strlen(want);

	if (got_len != want_len || memcmp(got, want, want_len) != 0)
		print_error("%s: got \"%.*s\", want \"%s\"\n", what, (int)got_len, got, want);
	assert_int_equal(got_len, want_len);
	assert_memory_equal(got, want, want_len);
	assert_true((const uint8_t *)got >= buf && (const uint8_t *)got + got_len <= buf + len);
}

/* 8 and 32 distinct headers: "X-H10: v10" ... "X-H47: v47". */
#define HDR(n)	"X-H" #n ": v" #n "\r\n"
#define HDR8(a) HDR(a##0) HDR(a##1) HDR(a##2) HDR(a##3) HDR(a##4) HDR(a##5) HDR(a##6) HDR(a##7)
#define HDR32	HDR8(1) HDR8(2) HDR8(3) HDR8(4)

/* ---- valid heads ---- */

struct want_header {
	size_t index;
	const char *name;
	const char *value;
};

struct valid_case {
	const char *what;
	const char *raw;
	size_t head_len; /* what the parse consumes; 0: all of raw */
	const char *method;
	const char *path;
	const char *query; /* NULL: no '?' */
	int minor;
	size_t n_headers;
	struct want_header headers[6]; /* ends at the first NULL name */
};

#define PIPE_FIRST "GET /announce?a=1 HTTP/1.1\r\nHost: t\r\n\r\n"

static const struct valid_case valid_cases[] = {
    {"a GET with a query, as a client sends it",
     "GET /announce?info_hash=%124Vx&port=6881&compact=1 HTTP/1.1\r\n"
     "Host: tracker.example:8080\r\n"
     "User-Agent: qBittorrent/4.6.2\r\n"
     "Accept-Encoding: gzip\r\n"
     "Connection: close\r\n"
     "\r\n",
     0,
     "GET",
     "/announce",
     "info_hash=%124Vx&port=6881&compact=1",
     1,
     4,
     {{0, "Host", "tracker.example:8080"},
      {1, "User-Agent", "qBittorrent/4.6.2"},
      {2, "Accept-Encoding", "gzip"},
      {3, "Connection", "close"}}},
    {"a HEAD of a scrape",
     "HEAD /scrape?info_hash=abcdefghij0123456789 HTTP/1.1\r\nHost: t\r\n\r\n",
     0,
     "HEAD",
     "/scrape",
     "info_hash=abcdefghij0123456789",
     1,
     1,
     {{0, "Host", "t"}}},
    {"an HTTP/1.0 request without headers",
     "GET /announce?a=1 HTTP/1.0\r\n\r\n",
     0,
     "GET",
     "/announce",
     "a=1",
     0,
     0,
     {{0}}},
    {"two pipelined requests: the first is consumed",
     PIPE_FIRST "GET /scrape HTTP/1.1\r\nHost: t\r\n\r\n",
     sizeof(PIPE_FIRST) - 1,
     "GET",
     "/announce",
     "a=1",
     1,
     1,
     {{0, "Host", "t"}}},
    {"headers with odd spacing",
     "GET / HTTP/1.1\r\n"
     "Host:t\r\n"
     "X-A:  \t spaced \t \r\n"
     "X-Empty:\r\n"
     "X-Blank: \t \r\n"
     "X-In: a \t b\r\n"
     "X-Utf8: caf\xc3\xa9\r\n"
     "\r\n",
     0,
     "GET",
     "/",
     NULL,
     1,
     6,
     {{0, "Host", "t"},
      {1, "X-A", "spaced"},
      {2, "X-Empty", ""},
      {3, "X-Blank", ""},
      {4, "X-In", "a \t b"},
      {5, "X-Utf8", "caf\xc3\xa9"}}},
    {"bare LF line ends",
     "GET /announce?x HTTP/1.1\nHost: t\nConnection: keep-alive\n\n",
     0,
     "GET",
     "/announce",
     "x",
     1,
     2,
     {{0, "Host", "t"}, {1, "Connection", "keep-alive"}}},
    {"CRLF and bare LF mixed",
     "GET / HTTP/1.1\r\nA: b\n\r\n",
     0,
     "GET",
     "/",
     NULL,
     1,
     1,
     {{0, "A", "b"}}},
    {"empty lines before the request-line",
     "\r\n\n\r\nGET /stats HTTP/1.1\r\n\r\n",
     0,
     "GET",
     "/stats",
     NULL,
     1,
     0,
     {{0}}},
    {"32 headers, the most kept",
     "GET / HTTP/1.1\r\n" HDR32 "\r\n",
     0,
     "GET",
     "/",
     NULL,
     1,
     32,
     {{0, "X-H10", "v10"}, {17, "X-H31", "v31"}, {31, "X-H47", "v47"}}},
    {"a fragment is dropped from the query",
     "GET /announce?a=1&b=2#frag?x HTTP/1.1\r\n\r\n",
     0,
     "GET",
     "/announce",
     "a=1&b=2",
     1,
     0,
     {{0}}},
    {"a fragment is dropped from the path, with the '?' inside it",
     "GET /p#f?x=1 HTTP/1.1\r\n\r\n",
     0,
     "GET",
     "/p",
     NULL,
     1,
     0,
     {{0}}},
    {"a '?' with nothing after it gives an empty query",
     "GET /announce? HTTP/1.1\r\n\r\n",
     0,
     "GET",
     "/announce",
     "",
     1,
     0,
     {{0}}},
    {"the asterisk form",
     "OPTIONS * HTTP/1.1\r\nHost: t\r\n\r\n",
     0,
     "OPTIONS",
     "*",
     NULL,
     1,
     1,
     {{0, "Host", "t"}}},
    {"the absolute form, split at the '?' too",
     "GET http://t.example/announce?a=b HTTP/1.1\r\n\r\n",
     0,
     "GET",
     "http://t.example/announce",
     "a=b",
     1,
     0,
     {{0}}},
    {"a method of every token character class",
     "M-1.x_!#$%&'*+^`|~ / HTTP/1.1\r\n\r\n",
     0,
     "M-1.x_!#$%&'*+^`|~",
     "/",
     NULL,
     1,
     0,
     {{0}}},
};

static void check_valid(const struct valid_case *c)
{
	size_t len = strlen(c->raw);
	size_t head_len = c->head_len ? c->head_len : len;
	struct guard_buf g;
	struct kh_request req;
	const uint8_t *buf;
	const struct want_header *w;
	int rc;

	rc = parse_guarded(&g, c->raw, len, &req);
	buf = g.p;
	if (rc != (int)head_len)
		print_error("%s: got %d (%s), want %zu\n", c->what, rc, rc_name(rc), head_len);
	assert_int_equal(rc, head_len);
	check_field("method", req.method, req.method_len, c->method, buf, len);
	check_field("path", req.path, req.path_len, c->path, buf, len);
	if (c->query == NULL) {
		assert_null(req.query);
		assert_int_equal(req.query_len, 0);
	} else {
		assert_non_null(req.query);
		check_field("query", req.query, req.query_len, c->query, buf, len);
	}
	assert_int_equal(req.minor_version, c->minor);
	assert_int_equal(req.n_headers, c->n_headers);
	for (w = c->headers; w < c->headers + N_ELEMS(c->headers) && w->name != NULL; w++) {
		assert_true(w->index < req.n_headers);
		check_field("header name", req.headers[w->index].name,
			    req.headers[w->index].name_len, w->name, buf, len);
		check_field("header value", req.headers[w->index].value,
			    req.headers[w->index].value_len, w->value, buf, len);
	}
	guard_free(&g);
}

static void test_kh_parse_fills_every_field_of_valid_requests(void **state)
{
	size_t k;

	(void)state;
	for (k = 0; k < N_ELEMS(valid_cases); k++)
		check_valid(&valid_cases[k]);
}

/* Prefixes shorter than the head are partial, never bad, and never read
 * past their end; from the head's length on, the head is consumed. */
static void test_kh_parse_gives_partial_for_every_proper_prefix_of_a_valid_head(void **state)
{
	size_t k;
	size_t n;

	(void)state;
	for (k = 0; k < N_ELEMS(valid_cases); k++) {
		const struct valid_case *c = &valid_cases[k];
		size_t len = strlen(c->raw);
		size_t head_len = c->head_len ? c->head_len : len;

		for (n = 0; n <= len; n++) {
			int want = n < head_len ? KH_PARSE_PARTIAL : (int)head_len;
			int rc = parse_n(c->raw, n);

			if (rc != want)
				print_error("%s, first %zu bytes: got %d (%s), want %d\n", c->what,
					    n, rc, rc_name(rc), want);
			assert_int_equal(rc, want);
		}
	}
}

/* ---- bad heads ---- */

struct bad_case {
	const char *what;
	const char *raw;
	size_t len;
	size_t bad_at; /* the shortest prefix that is bad: through the first byte of rest */
};

/* raw = pre rest; the first byte of rest is the one that makes it bad. */
#define BAD(what, pre, rest)                                                                       \
	{                                                                                          \
		what, pre rest, sizeof(pre rest) - 1, sizeof(pre)                                  \
	}

#define RL "GET / HTTP/1.1\r\n"

static const struct bad_case bad_cases[] = {
    BAD("a TLS ClientHello", "",
	"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03"
	"abcdefghijklmnopqrstuvwxyz012345"),
    BAD("an SSH banner", "SSH-2.0-OpenSSH_9.6p1 Ubuntu-3ubuntu13", "\r\n"),
    BAD("an SSH banner without a comment", "SSH-2.0-OpenSSH_8.9", "\r\n"),
    BAD("an empty method", "", " / HTTP/1.1\r\n\r\n"),
    BAD("a method with a non-token byte", "GE", "\"T / HTTP/1.1\r\n\r\n"),
    BAD("a method with a NUL", "GE", "\0T / HTTP/1.1\r\n\r\n"),
    BAD("a tab after the method", "GET", "\t/ HTTP/1.1\r\n\r\n"),
    BAD("two spaces after the method", "GET ", " / HTTP/1.1\r\n\r\n"),
    BAD("a request-line of a method alone", "GET", "\r\n\r\n"),
    BAD("a NUL in the target", "GET /a", "\0b HTTP/1.1\r\n\r\n"),
    BAD("a tab in the target", "GET /a", "\tb HTTP/1.1\r\n\r\n"),
    BAD("a DEL in the target", "GET /a",
	"\x7f"
	"b HTTP/1.1\r\n\r\n"),
    BAD("a non-ASCII byte in the target", "GET /caf", "\xc3\xa9 HTTP/1.1\r\n\r\n"),
    BAD("a missing version", "GET /", "\r\n\r\n"),
    BAD("a missing version after a space", "GET / ", "\r\n\r\n"),
    BAD("two spaces before the version", "GET / ", " HTTP/1.1\r\n\r\n"),
    BAD("HTTP/2.0", "GET / HTTP/", "2.0\r\n\r\n"),
    BAD("HTTP/1.2", "GET / HTTP/1.", "2\r\n\r\n"),
    BAD("HTTP/1.10", "GET / HTTP/1.1", "0\r\n\r\n"),
    BAD("a lowercase http/1.1", "GET / ", "http/1.1\r\n\r\n"),
    BAD("a space after the version", "GET / HTTP/1.1", " \r\n\r\n"),
    BAD("a CR without LF after the request-line", "GET / HTTP/1.1\r", "Host: t\r\n\r\n"),
    BAD("a CR without LF before the request-line", "\r", "GET / HTTP/1.1\r\n\r\n"),
    BAD("whitespace before the first header", RL, " Host: t\r\n\r\n"),
    BAD("a space before the colon", RL "Host", " : t\r\n\r\n"),
    BAD("a tab before the colon", RL "Host", "\t: t\r\n\r\n"),
    BAD("a header line without a colon", RL "Host", "\r\n\r\n"),
    BAD("an empty header name", RL, ": t\r\n\r\n"),
    BAD("a header name with a non-token byte", RL "X", "(y): z\r\n\r\n"),
    BAD("a control byte in a value", RL "A: b",
	"\x01"
	"c\r\n\r\n"),
    BAD("a NUL in a value", RL "A: b", "\0c\r\n\r\n"),
    BAD("a DEL in a value", RL "A: b",
	"\x7f"
	"c\r\n\r\n"),
    BAD("a bare CR in a value", RL "A: b\r", "c\r\n\r\n"),
    BAD("an obs-fold with a space", RL "A: b\r\n", " c\r\n\r\n"),
    BAD("an obs-fold with a tab", RL "A: b\r\n", "\tc\r\n\r\n"),
    BAD("a CR without LF in the empty line", RL "A: b\r\n\r", "\r\n"),
    BAD("33 headers", RL HDR32, HDR(99) "\r\n"),
};

/* Every prefix up to the breaking byte is partial; from it on, bad. */
static void test_kh_parse_refuses_each_bad_head_at_the_byte_that_breaks_it(void **state)
{
	size_t k;
	size_t n;

	(void)state;
	for (k = 0; k < N_ELEMS(bad_cases); k++) {
		const struct bad_case *c = &bad_cases[k];

		for (n = 0; n <= c->len; n++) {
			int want = n < c->bad_at ? KH_PARSE_PARTIAL : KH_PARSE_BAD;
			int rc = parse_n(c->raw, n);

			if (rc != want)
				print_error("%s, first %zu bytes: got %d (%s), want %s\n", c->what,
					    n, rc, rc_name(rc), rc_name(want));
			assert_int_equal(rc, want);
		}
	}
}

/* ---- header lookups ---- */

static const char lookup_head[] = "GET / HTTP/1.1\r\n"
				  "Host: t\r\n"
				  "connection: Keep-Alive\r\n"
				  "X-Dup: 1\r\n"
				  "x-dup: 2\r\n"
				  "A^: caret\r\n"
				  "\r\n";

static const struct {
	const char *name;
	const char *value; /* NULL: not found */
} lookup_cases[] = {
    {"Host", "t"},   {"host", "t"},   {"HOST", "t"}, {"Connection", "Keep-Alive"},
    {"x-DUP", "1"},		   /* the first of two */
    {"A^", "caret"}, {"A~", NULL}, /* '^' and '~' differ only in bit 0x20: not a case pair */
    {"Hos", NULL},   {"Hostx", NULL}, {"", NULL},    {"Content-Length", NULL},
};

static void test_kh_find_header_matches_whole_names_ignoring_ascii_case(void **state)
{
	struct guard_buf g;
	struct kh_request req;
	const struct kh_header *h;
	size_t k;

	(void)state;
	assert_int_equal(parse_guarded(&g, lookup_head, sizeof(lookup_head) - 1, &req),
			 sizeof(lookup_head) - 1);
	for (k = 0; k < N_ELEMS(lookup_cases); k++) {
		h = kh_find_header(&req, lookup_cases[k].name);
		if ((h == NULL) != (lookup_cases[k].value == NULL))
			print_error("lookup \"%s\": got %s\n", lookup_cases[k].name,
				    h == NULL ? "NULL" : "a header");
		if (lookup_cases[k].value == NULL || h == NULL) {
			assert_ptr_equal(h, lookup_cases[k].value); /* fails if one is NULL */
			continue;
		}
		check_field(lookup_cases[k].name, h->value, h->value_len, lookup_cases[k].value,
			    g.p, sizeof(lookup_head) - 1);
	}
	guard_free(&g);
}

static const struct {
	const char *value;
	size_t len; /* bytes of value given; SIZE_MAX: all */
	const char *token;
	bool want;
} token_cases[] = {
    {"Keep-Alive, Upgrade", SIZE_MAX, "keep-alive", true},
    {"Keep-Alive, Upgrade", SIZE_MAX, "upgrade", true},
    {"Keep-Alive, Upgrade", SIZE_MAX, "close", false},
    {"close", SIZE_MAX, "close", true},
    {"close", SIZE_MAX, "CLOSE", true},
    {"close", SIZE_MAX, "keep-alive", false},
    {"  keep-alive ,x", SIZE_MAX, "keep-alive", true},
    {"  keep-alive ,x", SIZE_MAX, "x", true},
    {"\tclose\t", SIZE_MAX, "close", true},
    {"keep-alivex", SIZE_MAX, "keep-alive", false},
    {"xkeep-alive", SIZE_MAX, "keep-alive", false},
    {"keep", SIZE_MAX, "keep-alive", false},
    {"keep-alive, close", 4, "keep-alive", false}, /* only "keep" is given */
    {"keep-alive, close", 4, "keep", true},
    {"a,,b", SIZE_MAX, "b", true},
    {"a,,b", SIZE_MAX, "", false},
    {"", SIZE_MAX, "keep-alive", false},
    {"", SIZE_MAX, "", false},
    {",", SIZE_MAX, "close", false},
};

static void test_kh_header_has_token_finds_whole_list_elements_only(void **state)
{
	struct guard_buf g;
	size_t k;

	(void)state;
	for (k = 0; k < N_ELEMS(token_cases); k++) {
		size_t len = token_cases[k].len == SIZE_MAX ? strlen(token_cases[k].value)
							    : token_cases[k].len;
		const char *v = (const char *)guard_copy(&g, token_cases[k].value, len);
		bool got = kh_header_has_token(v, len, token_cases[k].token);

		if (got != token_cases[k].want)
			print_error("\"%.*s\" has \"%s\": got %d\n", (int)len, token_cases[k].value,
				    token_cases[k].token, got);
		assert_int_equal(got, token_cases[k].want);
		guard_free(&g);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_kh_parse_fills_every_field_of_valid_requests),
	    cmocka_unit_test(test_kh_parse_gives_partial_for_every_proper_prefix_of_a_valid_head),
	    cmocka_unit_test(test_kh_parse_refuses_each_bad_head_at_the_byte_that_breaks_it),
	    cmocka_unit_test(test_kh_find_header_matches_whole_names_ignoring_ascii_case),
	    cmocka_unit_test(test_kh_header_has_token_finds_whole_list_elements_only),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
