/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_http_resp.c - bencoded announce, scrape and failure bodies: exact
 * bytes, keys in sorted order at every level, and every cap too small.
 * Bodies are written into buffers that end at a guard page.
 */
#define _GNU_SOURCE /* memmem */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "core/http_req.h"
#include "core/http_resp.h"
#include "guard.h"

#define N_ELEMS(a) (sizeof(a) / sizeof((a)[0]))

/* ---- a strict bencode reader, for checking what the writers produce ---- */

/* Reads "<len>:<bytes>" at p[*off..len); sets *s and *n. */
static bool rd_str(const uint8_t *p, size_t len, size_t *off, const uint8_t **s, size_t *n)
{
	size_t v = 0, i = *off;

	if (i >= len || p[i] < '0' || p[i] > '9' || (p[i] == '0' && i + 1 < len && p[i + 1] != ':'))
		return false;
	while (i < len && p[i] >= '0' && p[i] <= '9')
		v = v * 10 + (size_t)(p[i++] - '0');
	if (i >= len || p[i] != ':' || len - i - 1 < v)
		return false;
	*s = p + i + 1;
	*n = v;
	*off = i + 1 + v;
	return true;
}

/* Reads "i<n>e" with no leading zeros and no "-0". */
static bool rd_int(const uint8_t *p, size_t len, size_t *off)
{
	size_t i = *off + 1, start;

	if (i < len && p[i] == '-')
		i++;
	start = i;
	while (i < len && p[i] >= '0' && p[i] <= '9')
		i++;
	if (i == start || i >= len || p[i] != 'e')
		return false;
	if (p[start] == '0' && (i - start > 1 || start != *off + 1))
		return false;
	*off = i + 1;
	return true;
}

/*
 * Reads one value; returns false if it is malformed or any dictionary's keys
 * are not strictly increasing as raw byte strings (BEP 3).
 */
static bool rd_value(const uint8_t *p, size_t len, size_t *off, int depth)
{
	const uint8_t *key, *prev = NULL;
	size_t key_n, prev_n = 0;
	char type;

	if (*off >= len || depth > 16)
		return false;
	type = (char)p[*off];
	if (type == 'i')
		return rd_int(p, len, off);
	if (type != 'l' && type != 'd')
		return rd_str(p, len, off, &key, &key_n);
	(*off)++;
	while (*off < len && p[*off] != 'e') {
		if (type == 'd') {
			if (!rd_str(p, len, off, &key, &key_n))
				return false;
			if (prev != NULL) {
				size_t m = prev_n < key_n ? prev_n : key_n;
				int c = memcmp(prev, key, m);

				if (c > 0 || (c == 0 && prev_n >= key_n))
					return false;
			}
			prev = key;
			prev_n = key_n;
		}
		if (!rd_value(p, len, off, depth + 1))
			return false;
	}
	if (*off >= len)
		return false;
	(*off)++;
	return true;
}

/* Returns true if p[0..len) is exactly one well-formed, sorted value. */
static bool benc_valid_sorted(const uint8_t *p, size_t len)
{
	size_t off = 0;

	return rd_value(p, len, &off, 0) && off == len;
}

static void test_http_resp_checker_refuses_unsorted_and_malformed_bencode(void **state)
{
	static const char *const bad[] = {
	    "d1:bi0e1:ai0ee", "d1:ai0e1:ai0ee", "d2:abi0e1:ai0ee", "d1:ai0e", "i01e", "i-0e", "ie",
	    "3:ab",	      "d1:ae",		"li0eei0e",
	};
	const char *good;
	size_t i;

	(void)state;
	for (i = 0; i < N_ELEMS(bad); i++)
		assert_false(benc_valid_sorted((const uint8_t *)bad[i], strlen(bad[i])));
	good = "d0:i0e1:ai0e2:aai-1e1:bli0eee";
	assert_true(benc_valid_sorted((const uint8_t *)good, strlen(good)));
}

/* ---- writing through a guard page ---- */

static uint8_t scratch[64 * 1024];

enum body_kind { BODY_ANNOUNCE, BODY_SCRAPE, BODY_FAILURE };

struct body {
	enum body_kind kind;
	const struct http_resp_announce *ann;
	const struct http_resp_scrape_entry *ent;
	uint32_t n;
	const char *reason;
};

static size_t body_write(const struct body *b, uint8_t *out, size_t cap)
{
	switch (b->kind) {
	case BODY_ANNOUNCE:
		return http_resp_write_announce(out, cap, b->ann);
	case BODY_SCRAPE:
		return http_resp_write_scrape(out, cap, b->ent, b->n);
	case BODY_FAILURE:
		return http_resp_write_failure(out, cap, b->reason);
	}
	return 0;
}

/*
 * Writes b with a cap of exactly the expected length and checks the bytes,
 * then with every smaller cap, each buffer ending at a guard page, and
 * expects 0 without a fault. want may be NULL to check only validity;
 * returns the body's length.
 */
static size_t check_body(const struct body *b, const void *want, size_t want_len)
{
	struct guard_buf g;
	size_t need, cap;
	uint8_t *out;

	need = body_write(b, scratch, sizeof(scratch));
	assert_true(need > 0);
	assert_true(benc_valid_sorted(scratch, need));
	if (want != NULL) {
		if (need != want_len || memcmp(scratch, want, need) != 0)
			print_error("got  %.*s\nwant %.*s\n", (int)need, (const char *)scratch,
				    (int)want_len, (const char *)want);
		assert_int_equal(need, want_len);
		assert_memory_equal(scratch, want, need);
	}
	out = guard_copy(&g, scratch, need);
	assert_int_equal(body_write(b, out, need), need);
	assert_memory_equal(out, scratch, need);
	guard_free(&g);
	for (cap = 0; cap < need; cap++) {
		out = guard_copy(&g, scratch, cap);
		assert_int_equal(body_write(b, out, cap), 0);
		guard_free(&g);
	}
	return need;
}

#define CHECK_ANN(a, lit)                                                                          \
	check_body(&(struct body){.kind = BODY_ANNOUNCE, .ann = (a)}, (lit), sizeof(lit) - 1)

/* ---- announce ---- */

/* 198.18.0.1:6881 and 198.18.0.2:51413 */
#define P4 "\xc6\x12\x00\x01\x1a\xe1\xc6\x12\x00\x02\xc8\xd5"
/* [fd00::1]:6881 and [fd00::2]:1 */
#define P6                                                                                         \
	"\xfd\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x01\x1a\xe1"                 \
	"\xfd\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x02\x00\x01"
#define ID1 "-TR3000-abcdefghijkl"
#define ID2 "-qB4630-k8Yr3Zc9e0Vz"
#define ID3 "A2-1-36-0-\x3a\xb1\x1f\xd2\x06\x0e\x98\x00\xc3\x5d"
#define ID4 "-UT3550-\xb2\x0c\xee\x8a\x1f\x60\xa0\xc8\x13\xe4\x5d\x17"

static void test_http_resp_writes_compact_ipv4_peers_with_min_interval(void **state)
{
	struct http_resp_announce a = {
	    .interval = 1800,
	    .min_interval = 900,
	    .complete = 2,
	    .incomplete = 1,
	    .downloaded = 5,
	    .compact = true,
	    .peers4 = (const uint8_t *)P4,
	    .n4 = 2,
	};

	(void)state;
	CHECK_ANN(&a, "d8:completei2e10:downloadedi5e10:incompletei1e8:intervali1800e"
		      "12:min intervali900e5:peers12:" P4 "6:peers60:e");
}

static void test_http_resp_writes_peers6_after_peers_and_warning_last(void **state)
{
	struct http_resp_announce a = {
	    .interval = 120,
	    .incomplete = 3,
	    .compact = true,
	    .peers4 = (const uint8_t *)P4,
	    .n4 = 1,
	    .peers6 = (const uint8_t *)P6,
	    .n6 = 2,
	    .warning = "slow down",
	};

	(void)state;
	CHECK_ANN(&a, "d8:completei0e10:downloadedi0e10:incompletei3e8:intervali120e"
		      "5:peers6:\xc6\x12\x00\x01\x1a\xe1"
		      "6:peers636:" P6 "15:warning message9:slow downe");
}

static void test_http_resp_writes_empty_peers_string_when_there_are_none(void **state)
{
	struct http_resp_announce a = {.interval = 1800, .compact = true};

	(void)state;
	CHECK_ANN(
	    &a,
	    "d8:completei0e10:downloadedi0e10:incompletei0e8:intervali1800e5:peers0:6:peers60:e");
}

static void test_http_resp_writes_only_ipv6_peers_with_empty_peers(void **state)
{
	struct http_resp_announce a = {
	    .interval = 60,
	    .complete = 1,
	    .compact = true,
	    .peers6 = (const uint8_t *)P6,
	    .n6 = 1,
	};

	(void)state;
	CHECK_ANN(&a, "d8:completei1e10:downloadedi0e10:incompletei0e8:intervali60e"
		      "5:peers0:6:peers618:\xfd\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"
		      "\x00\x00\x01\x1a\xe1"
		      "e");
}

static void test_http_resp_writes_counters_up_to_uint32_max(void **state)
{
	struct http_resp_announce a = {
	    .interval = UINT32_MAX,
	    .min_interval = UINT32_MAX,
	    .complete = UINT32_MAX,
	    .incomplete = UINT32_MAX,
	    .downloaded = UINT32_MAX,
	    .compact = true,
	};

	(void)state;
	CHECK_ANN(&a, "d8:completei4294967295e10:downloadedi4294967295e"
		      "10:incompletei4294967295e8:intervali4294967295e"
		      "12:min intervali4294967295e5:peers0:6:peers60:e");
}

static void test_http_resp_writes_non_compact_dictionaries_without_peer_ids(void **state)
{
	struct http_resp_announce a = {
	    .interval = 1800,
	    .complete = 1,
	    .incomplete = 2,
	    .peers4 = (const uint8_t *)P4,
	    .n4 = 2,
	    .peers6 = (const uint8_t *)P6,
	    .n6 = 2,
	};

	(void)state;
	CHECK_ANN(&a, "d8:completei1e10:downloadedi0e10:incompletei2e8:intervali1800e"
		      "5:peersl"
		      "d2:ip10:198.18.0.14:porti6881ee"
		      "d2:ip10:198.18.0.24:porti51413ee"
		      "d2:ip7:fd00::14:porti6881ee"
		      "d2:ip7:fd00::24:porti1ee"
		      "ee");
}

static void test_http_resp_writes_non_compact_dictionaries_with_peer_ids(void **state)
{
	struct http_resp_announce a = {
	    .interval = 1800,
	    .min_interval = 60,
	    .peers4 = (const uint8_t *)P4,
	    .n4 = 2,
	    .peers6 = (const uint8_t *)P6,
	    .n6 = 2,
	    .peer_ids = (const uint8_t *)(ID1 ID2 ID3 ID4),
	    .warning = "w",
	};

	(void)state;
	CHECK_ANN(&a, "d8:completei0e10:downloadedi0e10:incompletei0e8:intervali1800e"
		      "12:min intervali60e5:peersl"
		      "d2:ip10:198.18.0.17:peer id20:" ID1 "4:porti6881ee"
		      "d2:ip10:198.18.0.27:peer id20:" ID2 "4:porti51413ee"
		      "d2:ip7:fd00::17:peer id20:" ID3 "4:porti6881ee"
		      "d2:ip7:fd00::27:peer id20:" ID4 "4:porti1ee"
		      "e15:warning message1:we");
}

static void test_http_resp_omits_peer_ids_when_the_client_sent_no_peer_id(void **state)
{
	struct http_resp_announce a = {
	    .interval = 1800,
	    .no_peer_id = true,
	    .peers4 = (const uint8_t *)P4,
	    .n4 = 1,
	    .peer_ids = (const uint8_t *)ID1,
	};

	(void)state;
	CHECK_ANN(&a, "d8:completei0e10:downloadedi0e10:incompletei0e8:intervali1800e"
		      "5:peersld2:ip10:198.18.0.14:porti6881eeee");
}

static void test_http_resp_writes_empty_peer_list_when_non_compact_has_none(void **state)
{
	struct http_resp_announce a = {.interval = 1};

	(void)state;
	CHECK_ANN(&a, "d8:completei0e10:downloadedi0e10:incompletei0e8:intervali1e5:peerslee");
}

static void test_http_resp_writes_ipv6_peers_in_rfc5952_text(void **state)
{
	static const struct {
		uint8_t ip[16];
		const char *text;
	} cases[] = {
	    {{0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}, "fd00::1"},
	    {{0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 1}, "2001:db8::1:0:0:1"},
	    {{0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1}, "2001:db8:0:1:1:1:1:1"},
	    {{0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xab, 0xcd}, "2001:db8::abcd"},
	    {{0}, "::"},
	    {{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}, "::1"},
	    {{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 198, 18, 0, 1}, "::ffff:198.18.0.1"},
	    {{0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc, 0xde, 0xf0},
	     "fe80::1234:5678:9abc:def0"},
	    {{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	      0xff, 0xff},
	     "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"},
	};
	uint8_t peer[TR_PEER6_LEN];
	char want[256];
	size_t i;
	int n;

	(void)state;
	for (i = 0; i < N_ELEMS(cases); i++) {
		struct http_resp_announce a = {.interval = 1, .peers6 = peer, .n6 = 1};

		memcpy(peer, cases[i].ip, 16);
		peer[16] = 0xff;
		peer[17] = 0xff;
		n = snprintf(want, sizeof(want),
			     "d8:completei0e10:downloadedi0e10:incompletei0e8:intervali1e"
			     "5:peersld2:ip%zu:%s4:porti65535eeee",
			     strlen(cases[i].text), cases[i].text);
		check_body(&(struct body){.kind = BODY_ANNOUNCE, .ann = &a}, want, (size_t)n);
	}
}

static void test_http_resp_keeps_keys_sorted_with_every_optional_key(void **state)
{
	static const char *const order[] = {"8:complete", "10:downloaded",     "10:incomplete",
					    "8:interval", "12:min interval",   "5:peers",
					    "6:peers6",	  "15:warning message"};
	struct http_resp_announce a = {
	    .interval = 1,
	    .min_interval = 1,
	    .compact = true,
	    .peers4 = (const uint8_t *)P4,
	    .n4 = 2,
	    .peers6 = (const uint8_t *)P6,
	    .n6 = 2,
	    .warning = "x",
	};
	const uint8_t *at, *prev = scratch;
	size_t n, i;

	(void)state;
	n = check_body(&(struct body){.kind = BODY_ANNOUNCE, .ann = &a}, NULL, 0);
	/* Each key appears, after the one before it (peer bytes hold no key text). */
	for (i = 0; i < N_ELEMS(order); i++) {
		at = memmem(prev, n - (size_t)(prev - scratch), order[i], strlen(order[i]));
		assert_non_null(at);
		prev = at + strlen(order[i]);
	}
	/* And the non-compact form, ids on, sorted at both levels. */
	a.compact = false;
	a.peer_ids = (const uint8_t *)(ID1 ID2 ID3 ID4);
	check_body(&(struct body){.kind = BODY_ANNOUNCE, .ann = &a}, NULL, 0);
}

static void test_http_resp_announce_of_many_peers_fits_only_its_own_length(void **state)
{
	static uint8_t p4[TR_HTTP_PEERS_MAX_V4 * TR_PEER4_LEN];
	static uint8_t p6[TR_HTTP_PEERS_MAX_V6 * TR_PEER6_LEN];
	static uint8_t ids[(TR_HTTP_PEERS_MAX_V4 + TR_HTTP_PEERS_MAX_V6) * TR_HASH_LEN];
	struct http_resp_announce a = {
	    .interval = 1800,
	    .compact = true,
	    .peers4 = p4,
	    .n4 = TR_HTTP_PEERS_MAX_V4,
	    .peers6 = p6,
	    .n6 = TR_HTTP_PEERS_MAX_V6,
	};
	size_t i, n;

	(void)state;
	for (i = 0; i < sizeof(p4); i++)
		p4[i] = (uint8_t)(i * 7);
	for (i = 0; i < sizeof(p6); i++)
		p6[i] = (uint8_t)(i * 13);
	for (i = 0; i < sizeof(ids); i++)
		ids[i] = (uint8_t)i;
	n = check_body(&(struct body){.kind = BODY_ANNOUNCE, .ann = &a}, NULL, 0);
	assert_true(n < 4096); /* limits.h: both families fit under 4 KiB */
	a.compact = false;
	a.peer_ids = ids;
	check_body(&(struct body){.kind = BODY_ANNOUNCE, .ann = &a}, NULL, 0);

	/* The largest body the tracker writes: non-compact without ids (the
	 * table keeps none), the longest address texts, every counter at its
	 * widest. It must fit TR_HTTP_BODY_MAX. */
	memset(p4, 0xff, sizeof(p4)); /* 255.255.255.255:65535 */
	memset(p6, 0xff, sizeof(p6)); /* ffff:...:ffff, 39 characters */
	a.peer_ids = NULL;
	a.interval = a.min_interval = a.complete = a.incomplete = a.downloaded = UINT32_MAX;
	n = check_body(&(struct body){.kind = BODY_ANNOUNCE, .ann = &a}, NULL, 0);
	assert_true(n > 13773); /* the bound in limits.h is tight, not slack */
	assert_true(n <= TR_HTTP_BODY_MAX);
}

/* ---- scrape ---- */

#define HA "\x12\x34\x56\x78\x9a\xbc\xde\xf1\x23\x45\x67\x89\xab\xcd\xef\x12\x34\x56\x78\x9a"
#define HB "abcdefghij0123456789"

static void test_http_resp_writes_scrape_with_no_files(void **state)
{
	(void)state;
	check_body(&(struct body){.kind = BODY_SCRAPE, .n = 0}, "d5:filesdee", 11);
}

static void test_http_resp_writes_scrape_files_in_the_order_given(void **state)
{
	static const struct http_resp_scrape_entry e[] = {
	    {(const uint8_t *)HA, 1, 2, 3},
	    {(const uint8_t *)HB, 0, 0, UINT32_MAX},
	};
	static const char want[] =
	    "d5:filesd"
	    "20:" HA "d8:completei1e10:downloadedi2e10:incompletei3ee"
	    "20:" HB "d8:completei0e10:downloadedi0e10:incompletei4294967295ee"
	    "ee";

	(void)state;
	check_body(&(struct body){.kind = BODY_SCRAPE, .ent = e, .n = 2}, want, sizeof(want) - 1);
}

static void test_http_resp_writes_scrape_of_the_most_hashes_a_request_may_ask(void **state)
{
	static uint8_t hashes[TR_HTTP_SCRAPE_MAX][TR_HASH_LEN];
	static struct http_resp_scrape_entry e[TR_HTTP_SCRAPE_MAX];
	size_t i, n;

	(void)state;
	for (i = 0; i < TR_HTTP_SCRAPE_MAX; i++) {
		memset(hashes[i], 0xee, TR_HASH_LEN);
		hashes[i][0] = (uint8_t)i; /* sorted by the first byte */
		e[i] = (struct http_resp_scrape_entry){hashes[i], (uint32_t)i, (uint32_t)i * 1000,
						       UINT32_MAX - (uint32_t)i};
	}
	n = check_body(&(struct body){.kind = BODY_SCRAPE, .ent = e, .n = TR_HTTP_SCRAPE_MAX}, NULL,
		       0);
	assert_true(n < 8192);
}

/* ---- failure ---- */

static void test_http_resp_writes_failure_reason(void **state)
{
	(void)state;
	check_body(&(struct body){.kind = BODY_FAILURE, .reason = "invalid info_hash"},
		   "d14:failure reason17:invalid info_hashe", 39);
	check_body(&(struct body){.kind = BODY_FAILURE, .reason = ""}, "d14:failure reason0:e", 21);
}

static void test_http_resp_writes_a_failure_for_every_request_error(void **state)
{
	char want[128];
	int e, n;

	(void)state;
	for (e = HTTP_REQ_ERR_ENCODING; e < HTTP_REQ_ERR_N; e++) {
		const char *msg = http_req_err_msg(e);

		n = snprintf(want, sizeof(want), "d14:failure reason%zu:%se", strlen(msg), msg);
		check_body(&(struct body){.kind = BODY_FAILURE, .reason = msg}, want, (size_t)n);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_http_resp_checker_refuses_unsorted_and_malformed_bencode),
	    cmocka_unit_test(test_http_resp_writes_compact_ipv4_peers_with_min_interval),
	    cmocka_unit_test(test_http_resp_writes_peers6_after_peers_and_warning_last),
	    cmocka_unit_test(test_http_resp_writes_empty_peers_string_when_there_are_none),
	    cmocka_unit_test(test_http_resp_writes_only_ipv6_peers_with_empty_peers),
	    cmocka_unit_test(test_http_resp_writes_counters_up_to_uint32_max),
	    cmocka_unit_test(test_http_resp_writes_non_compact_dictionaries_without_peer_ids),
	    cmocka_unit_test(test_http_resp_writes_non_compact_dictionaries_with_peer_ids),
	    cmocka_unit_test(test_http_resp_omits_peer_ids_when_the_client_sent_no_peer_id),
	    cmocka_unit_test(test_http_resp_writes_empty_peer_list_when_non_compact_has_none),
	    cmocka_unit_test(test_http_resp_writes_ipv6_peers_in_rfc5952_text),
	    cmocka_unit_test(test_http_resp_keeps_keys_sorted_with_every_optional_key),
	    cmocka_unit_test(test_http_resp_announce_of_many_peers_fits_only_its_own_length),
	    cmocka_unit_test(test_http_resp_writes_scrape_with_no_files),
	    cmocka_unit_test(test_http_resp_writes_scrape_files_in_the_order_given),
	    cmocka_unit_test(test_http_resp_writes_scrape_of_the_most_hashes_a_request_may_ask),
	    cmocka_unit_test(test_http_resp_writes_failure_reason),
	    cmocka_unit_test(test_http_resp_writes_a_failure_for_every_request_error),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
