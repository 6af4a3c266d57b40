/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_http_req.c - the HTTP tracker query decoder: queries as real clients
 * send them, every refusal, percent-decoding corners, duplicates, BEP 7
 * address forms, BEP 48 multi-hash scrape, and truncated or mangled input.
 * Every parse reads from a buffer that ends at a guard page.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "core/http_req.h"
#include "guard.h"

#define N_ELEMS(a) (sizeof(a) / sizeof((a)[0]))

/* ---- helpers ---- */

static enum http_req_err parse_ann_n(const char *q, size_t len, struct http_req_announce *a)
{
	struct guard_buf g;
	enum http_req_err err;

	err = http_req_parse_announce((const char *)guard_copy(&g, q, len), len, a);
	guard_free(&g);
	return err;
}

static enum http_req_err parse_ann(const char *q, struct http_req_announce *a)
{
	return parse_ann_n(q, strlen(q), a);
}

static enum http_req_err parse_scrape_n(const char *q, size_t len, struct http_req_scrape *s)
{
	struct guard_buf g;
	enum http_req_err err;

	err = http_req_parse_scrape((const char *)guard_copy(&g, q, len), len, s);
	guard_free(&g);
	return err;
}

static enum http_req_err parse_scrape(const char *q, struct http_req_scrape *s)
{
	return parse_scrape_n(q, strlen(q), s);
}

/* Prints the failing case before cmocka's assertion message. */
static void check_err(const char *q, enum http_req_err got, enum http_req_err want)
{
	if (got != want)
		print_error("query \"%s\": got %s, want %s\n", q, http_req_err_name(got),
			    http_req_err_name(want));
	assert_int_equal(got, want);
}

/* ---- test data ---- */

/* 12 34 56 78 9a bc de f1 23 45 67 89 ab cd ef 12 34 56 78 9a: libtorrent
 * leaves unreserved bytes raw ('4', 'V', 'x', 'E', 'g') and escapes the rest. */
#define H1     "\x12\x34\x56\x78\x9a\xbc\xde\xf1\x23\x45\x67\x89\xab\xcd\xef\x12\x34\x56\x78\x9a"
#define H1_LT  "%124Vx%9a%bc%de%f1%23Eg%89%ab%cd%ef%124Vx%9a"
#define H1_TR  "%124Vx%9A%BC%DE%F1%23Eg%89%AB%CD%EF%124Vx%9A"
#define H1_ALL "%12%34%56%78%9a%bc%de%f1%23%45%67%89%ab%cd%ef%12%34%56%78%9a"

/* Nothing printable, and a 0x25 ('%') in the middle. */
#define H2     "\xd8\xe2\xc6\xef\x1c\x25\xc5\xa1\x0f\x08\xf0\x86\xe7\xe2\xff\xb8\x02\x05\x8d\x8d"
#define H2_ALL "%d8%e2%c6%ef%1c%25%c5%a1%0f%08%f0%86%e7%e2%ff%b8%02%05%8d%8d"

/* All printable, sent raw. */
#define H3 "abcdefghij0123456789"

/* The bytes a query treats specially: NUL & = + space %, then A..N. */
#define H4   "\x00&=+ %ABCDEFGHIJKLMN"
#define H4_Q "%00%26%3D%2B+%25ABCDEFGHIJKLMN"

#define PID   "-TR3000-abcdefghijkl"
#define GOOD  "info_hash=" H3 "&peer_id=" PID "&port=6881"
#define NO_IH "peer_id=" PID "&port=6881"

/* ---- announce: real clients ---- */

static const struct {
	const char *client;
	const char *q;
	struct http_req_announce want;
} ann_good[] = {
    {"libtorrent / qBittorrent, started",
     "info_hash=" H1_LT "&peer_id=-qB4630-k8Yr3Zc9e0Vz&port=6881&uploaded=0&downloaded=0"
     "&left=1073741824&corrupt=0&key=1A2B3C4D&event=started&numwant=200&compact=1"
     "&no_peer_id=1&supportcrypto=1&redundant=0",
     {.compact = true,
      .info_hash = H1,
      .peer_id = "-qB4630-k8Yr3Zc9e0Vz",
      .port = 6881,
      .left = 1073741824,
      .has_left = true,
      .key = "1A2B3C4D",
      .key_len = 8,
      .event = HTTP_REQ_EV_STARTED,
      .numwant = 200,
      .no_peer_id = true}},
    {"Transmission, completed, with BEP 7 ipv6",
     "info_hash=" H1_TR "&peer_id=" PID "&port=51413&uploaded=1024&downloaded=2048&left=0"
     "&numwant=80&key=6a3d1b44&compact=1&supportcrypto=1&event=completed"
     "&ipv6=2001%3Adb8%3A%3A1",
     {.compact = true,
      .info_hash = H1,
      .peer_id = PID,
      .port = 51413,
      .uploaded = 1024,
      .downloaded = 2048,
      .has_left = true,
      .numwant = 80,
      .key = "6a3d1b44",
      .key_len = 8,
      .event = HTTP_REQ_EV_COMPLETED,
      .has_ipv6 = true,
      .ipv6 = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}}},
    {"aria2, stopped, binary peer_id and key",
     "info_hash=" H2_ALL "&peer_id=A2-1-36-0-%3A%B1%1F%D2%06%0E%98%00%C3%5D&uploaded=0"
     "&downloaded=0&left=4096&compact=1&key=%5E%8A%E5%A1&numwant=50&no_peer_id=1&port=6881"
     "&event=stopped&supportcrypto=1",
     {.compact = true,
      .info_hash = H2,
      .peer_id = "A2-1-36-0-\x3a\xb1\x1f\xd2\x06\x0e\x98\x00\xc3\x5d",
      .port = 6881,
      .left = 4096,
      .has_left = true,
      .key = "\x5e\x8a\xe5\xa1",
      .key_len = 4,
      .numwant = 50,
      .no_peer_id = true,
      .event = HTTP_REQ_EV_STOPPED}},
    {"uTorrent-style non-compact with ip and empty event",
     "info_hash=" H3 "&peer_id=-UT3550-%b2%0c%ee%8a%1f%60%a0%c8%13%e4%5d%17&port=40000"
     "&uploaded=5&downloaded=6&left=7&compact=0&event=&ip=198.18.0.7",
     {.numwant = -1,
      .info_hash = H3,
      .peer_id = "-UT3550-\xb2\x0c\xee\x8a\x1f\x60\xa0\xc8\x13\xe4\x5d\x17",
      .port = 40000,
      .uploaded = 5,
      .downloaded = 6,
      .left = 7,
      .has_left = true,
      .compact = false,
      .has_ip = true,
      .ip_family = 4,
      .ip = {198, 18, 0, 7}}},
    {"only the required parameters",
     "info_hash=" H3 "&peer_id=" PID "&port=1",
     {.compact = true, .numwant = -1, .info_hash = H3, .peer_id = PID, .port = 1}},
    {"special bytes escaped, '+' as space, paused, num_want past INT32_MAX",
     "peer_id=-XX0000-++++++++++++&port=65535&info_hash=" H4_Q "&event=paused&num_want=4294967296",
     {.compact = true,
      .info_hash = H4,
      .peer_id = "-XX0000-            ",
      .port = 65535,
      .event = HTTP_REQ_EV_PAUSED,
      .numwant = INT32_MAX}},
    {"empty and valueless parameters, unknown ones with junk",
     "&&info_hash=" H3 "&&flag&=x&peer_id=" PID "&port=6881&trackerid=%zz&event=empty&",
     {.compact = true, .numwant = -1, .info_hash = H3, .peer_id = PID, .port = 6881}},
    {"escaped names and digits, '=' inside a value",
     "info%5Fhash=" H3 "&%70eer_id=" PID "&port=%36%38%38%31&key=a+b%2Bc=d",
     {.compact = true,
      .numwant = -1,
      .info_hash = H3,
      .peer_id = PID,
      .port = 6881,
      .key = "a b+c=d",
      .key_len = 7}},
    {"the same value repeated, written differently",
     "info_hash=" H3 "&port=6881&peer_id=" PID "&info_hash=%61bcdefghij0123456789"
     "&port=06881&numwant=10&num_want=10&event=&event=empty",
     {.compact = true, .info_hash = H3, .peer_id = PID, .port = 6881, .numwant = 10}},
    {"numbers at their limits",
     GOOD "&uploaded=18446744073709551615&downloaded=00000000000000000000000000000042"
	  "&left=0&numwant=2147483647&compact=0&no_peer_id=0",
     {.info_hash = H3,
      .peer_id = PID,
      .port = 6881,
      .uploaded = UINT64_MAX,
      .downloaded = 42,
      .has_left = true,
      .numwant = INT32_MAX,
      .compact = false}},
    {"numwant=0 and a key of exactly TR_HTTP_KEY_MAX bytes",
     GOOD "&numwant=0&key=0123456789012345678901234567890123456789012345678901234567890123",
     {.compact = true,
      .info_hash = H3,
      .peer_id = PID,
      .port = 6881,
      .numwant = 0,
      .key = "0123456789012345678901234567890123456789012345678901234567890123",
      .key_len = 64}},
};

static void expect_announce(const char *what, const struct http_req_announce *got,
			    const struct http_req_announce *want)
{
	print_message("  %s\n", what);
	assert_memory_equal(got->info_hash, want->info_hash, TR_HASH_LEN);
	assert_memory_equal(got->peer_id, want->peer_id, TR_HASH_LEN);
	assert_int_equal(got->port, want->port);
	assert_int_equal(got->uploaded, want->uploaded);
	assert_int_equal(got->downloaded, want->downloaded);
	assert_int_equal(got->left, want->left);
	assert_int_equal(got->has_left, want->has_left);
	assert_int_equal(got->event, want->event);
	assert_int_equal(got->compact, want->compact);
	assert_int_equal(got->no_peer_id, want->no_peer_id);
	assert_int_equal(got->numwant, want->numwant);
	assert_int_equal(got->key_len, want->key_len);
	assert_memory_equal(got->key, want->key, want->key_len);
	assert_int_equal(got->has_ip, want->has_ip);
	assert_int_equal(got->has_ipv4, want->has_ipv4);
	assert_int_equal(got->has_ipv6, want->has_ipv6);
	if (want->has_ip) {
		assert_int_equal(got->ip_family, want->ip_family);
		assert_memory_equal(got->ip, want->ip, want->ip_family == 4 ? 4 : 16);
	}
	if (want->has_ipv4)
		assert_memory_equal(got->ipv4, want->ipv4, 4);
	if (want->has_ipv6)
		assert_memory_equal(got->ipv6, want->ipv6, 16);
}

static void test_http_req_decodes_announces_as_real_clients_send_them(void **state)
{
	struct http_req_announce a;
	size_t i;

	(void)state;
	for (i = 0; i < N_ELEMS(ann_good); i++) {
		check_err(ann_good[i].q, parse_ann(ann_good[i].q, &a), HTTP_REQ_OK);
		expect_announce(ann_good[i].client, &a, &ann_good[i].want);
	}
}

static void test_http_req_decodes_one_info_hash_in_three_encodings(void **state)
{
	static const uint8_t want[TR_HASH_LEN] = H1;
	static const char *const qs[] = {
	    "info_hash=" H1_LT "&" NO_IH,
	    "info_hash=" H1_TR "&" NO_IH,
	    "info_hash=" H1_ALL "&" NO_IH,
	};
	struct http_req_announce a;
	size_t i;

	(void)state;
	for (i = 0; i < N_ELEMS(qs); i++) {
		check_err(qs[i], parse_ann(qs[i], &a), HTTP_REQ_OK);
		assert_memory_equal(a.info_hash, want, TR_HASH_LEN);
	}
}

/* ---- announce: refusals ---- */

static const struct {
	const char *q;
	enum http_req_err err;
} ann_bad[] = {
    /* required parameters */
    {"", HTTP_REQ_ERR_INFO_HASH},
    {"&&&", HTTP_REQ_ERR_INFO_HASH},
    {NO_IH, HTTP_REQ_ERR_INFO_HASH},
    {"info_hash=&" NO_IH, HTTP_REQ_ERR_INFO_HASH},
    {"info_hash&" NO_IH, HTTP_REQ_ERR_INFO_HASH},
    {"info_hash=abcdefghij012345678&" NO_IH, HTTP_REQ_ERR_INFO_HASH},
    {"info_hash=abcdefghij01234567890&" NO_IH, HTTP_REQ_ERR_INFO_HASH},
    {"info_hash=%124Vx%9a%bc%de%f1%23Eg%89%ab%cd%ef%124Vx&" NO_IH, HTTP_REQ_ERR_INFO_HASH},
    {"INFO_HASH=" H3 "&" NO_IH, HTTP_REQ_ERR_INFO_HASH},
    {"info_hash =" H3 "&" NO_IH, HTTP_REQ_ERR_INFO_HASH},
    {"info_hash=" H3 "&port=6881", HTTP_REQ_ERR_PEER_ID},
    {"info_hash=" H3 "&peer_id=-TR3000-abcdefghijk&port=6881", HTTP_REQ_ERR_PEER_ID},
    {"info_hash=" H3 "&peer_id=-TR3000-abcdefghijklm&port=6881", HTTP_REQ_ERR_PEER_ID},
    {"info_hash=" H3 "&peer_id=&port=6881", HTTP_REQ_ERR_PEER_ID},
    {"info_hash=" H3 "&peer_id=" PID, HTTP_REQ_ERR_PORT},
    /* port */
    {"info_hash=" H3 "&peer_id=" PID "&port=0", HTTP_REQ_ERR_PORT},
    {"info_hash=" H3 "&peer_id=" PID "&port=00000", HTTP_REQ_ERR_PORT},
    {"info_hash=" H3 "&peer_id=" PID "&port=65536", HTTP_REQ_ERR_PORT},
    {"info_hash=" H3 "&peer_id=" PID "&port=-1", HTTP_REQ_ERR_PORT},
    {"info_hash=" H3 "&peer_id=" PID "&port=+80", HTTP_REQ_ERR_PORT},
    {"info_hash=" H3 "&peer_id=" PID "&port=%2B80", HTTP_REQ_ERR_PORT},
    {"info_hash=" H3 "&peer_id=" PID "&port=6881x", HTTP_REQ_ERR_PORT},
    {"info_hash=" H3 "&peer_id=" PID "&port=0x1ae1", HTTP_REQ_ERR_PORT},
    {"info_hash=" H3 "&peer_id=" PID "&port=", HTTP_REQ_ERR_PORT},
    {"info_hash=" H3 "&peer_id=" PID "&port", HTTP_REQ_ERR_PORT},
    {"info_hash=" H3 "&peer_id=" PID "&port=99999999999999999999999", HTTP_REQ_ERR_PORT},
    {"info_hash=" H3 "&peer_id=" PID "&port=18446744073709551617", HTTP_REQ_ERR_PORT},
    /* numbers */
    {GOOD "&uploaded=-1", HTTP_REQ_ERR_NUMBER},
    {GOOD "&downloaded=1e3", HTTP_REQ_ERR_NUMBER},
    {GOOD "&left=18446744073709551616", HTTP_REQ_ERR_NUMBER},
    {GOOD "&left=99999999999999999999", HTTP_REQ_ERR_NUMBER},
    {GOOD "&left=", HTTP_REQ_ERR_NUMBER},
    {GOOD "&left= 1", HTTP_REQ_ERR_NUMBER},
    {GOOD "&left=1+", HTTP_REQ_ERR_NUMBER},
    {GOOD "&uploaded=1%2E5", HTTP_REQ_ERR_NUMBER},
    {GOOD "&numwant=-1", HTTP_REQ_ERR_NUMBER},
    {GOOD "&numwant=", HTTP_REQ_ERR_NUMBER},
    {GOOD "&num_want=fifty", HTTP_REQ_ERR_NUMBER},
    {GOOD "&compact=yes", HTTP_REQ_ERR_NUMBER},
    {GOOD "&compact", HTTP_REQ_ERR_NUMBER},
    {GOOD "&no_peer_id=true", HTTP_REQ_ERR_NUMBER},
    /* event */
    {GOOD "&event=start", HTTP_REQ_ERR_EVENT},
    {GOOD "&event=STARTED", HTTP_REQ_ERR_EVENT},
    {GOOD "&event=startedx", HTTP_REQ_ERR_EVENT},
    {GOOD "&event=completed+", HTTP_REQ_ERR_EVENT},
    {GOOD "&event=stopped%00", HTTP_REQ_ERR_EVENT},
    {GOOD "&event=+", HTTP_REQ_ERR_EVENT},
    {GOOD "&event=completedcompletedcompleted", HTTP_REQ_ERR_EVENT},
    {GOOD "&event=2", HTTP_REQ_ERR_EVENT},
    /* addresses */
    {GOOD "&ipv4=", HTTP_REQ_ERR_IP},
    {GOOD "&ipv4=::1", HTTP_REQ_ERR_IP},
    {GOOD "&ipv4=1.2.3.256", HTTP_REQ_ERR_IP},
    {GOOD "&ipv4=1.2.3", HTTP_REQ_ERR_IP},
    {GOOD "&ipv4=01.2.3.4", HTTP_REQ_ERR_IP},
    {GOOD "&ipv4=1.2.3.4:", HTTP_REQ_ERR_IP},
    {GOOD "&ipv4=1.2.3.4:65536", HTTP_REQ_ERR_IP},
    {GOOD "&ipv4=1.2.3.4:123456", HTTP_REQ_ERR_IP},
    {GOOD "&ipv4=1.2.3.4:x", HTTP_REQ_ERR_IP},
    {GOOD "&ipv4=1.2.3.4:1:2", HTTP_REQ_ERR_IP},
    {GOOD "&ipv4=+1.2.3.4", HTTP_REQ_ERR_IP},
    {GOOD "&ipv6=", HTTP_REQ_ERR_IP},
    {GOOD "&ipv6=1.2.3.4", HTTP_REQ_ERR_IP},
    {GOOD "&ipv6=[::1", HTTP_REQ_ERR_IP},
    {GOOD "&ipv6=[]", HTTP_REQ_ERR_IP},
    {GOOD "&ipv6=[::1]x", HTTP_REQ_ERR_IP},
    {GOOD "&ipv6=[::1]:", HTTP_REQ_ERR_IP},
    {GOOD "&ipv6=[::1]:99999", HTTP_REQ_ERR_IP},
    {GOOD "&ipv6=[::1]]:80", HTTP_REQ_ERR_IP},
    {GOOD "&ipv6=fe80::1%25eth0", HTTP_REQ_ERR_IP},
    {GOOD "&ipv6=2001:db8::g", HTTP_REQ_ERR_IP},
    {GOOD "&ipv6=1:2:3:4:5:6:7:8:9", HTTP_REQ_ERR_IP},
    {GOOD "&ipv6=0000:0000:0000:0000:0000:0000:0000:0000:0000:0000:0000:0000:0001",
     HTTP_REQ_ERR_IP},
    /* key */
    {GOOD "&key=01234567890123456789012345678901234567890123456789012345678901234",
     HTTP_REQ_ERR_KEY},
    {GOOD "&key=%41%41%41%41%41%41%41%41%41%41%41%41%41%41%41%41%41%41%41%41%41%41%41%41"
	  "%41%41%41%41%41%41%41%41%41%41%41%41%41%41%41%41%41%41%41%41%41%41%41%41"
	  "%41%41%41%41%41%41%41%41%41%41%41%41%41%41%41%41%41",
     HTTP_REQ_ERR_KEY},
    /* percent-encoding, in values and in names, known or not */
    {"info_hash=%zz" H3 "&" NO_IH, HTTP_REQ_ERR_ENCODING},
    {GOOD "&key=%4", HTTP_REQ_ERR_ENCODING},
    {GOOD "&key=%", HTTP_REQ_ERR_ENCODING},
    {GOOD "&key=%g0", HTTP_REQ_ERR_ENCODING},
    {GOOD "&key=%0g", HTTP_REQ_ERR_ENCODING},
    {GOOD "&key=% 1", HTTP_REQ_ERR_ENCODING},
    {GOOD "&key=%%41", HTTP_REQ_ERR_ENCODING},
    {GOOD "&uploaded=1%zz", HTTP_REQ_ERR_ENCODING},
    {GOOD "&uploaded=x%zz", HTTP_REQ_ERR_ENCODING},
    {GOOD "&event=%zz", HTTP_REQ_ERR_ENCODING},
    {GOOD "&ip=%zz", HTTP_REQ_ERR_ENCODING},
    {GOOD "&ipv4=1.2.3.4%3", HTTP_REQ_ERR_ENCODING},
    {"info_hash=" H3 "&peer_id=" PID "&port=%3", HTTP_REQ_ERR_ENCODING},
    {"info_hash=" H3 "&peer_id=" PID "%2&port=6881", HTTP_REQ_ERR_ENCODING},
    {"info%zzhash=" H3 "&" NO_IH, HTTP_REQ_ERR_ENCODING},
    {GOOD "&unknown%=1", HTTP_REQ_ERR_ENCODING},
    {GOOD "&%", HTTP_REQ_ERR_ENCODING},
    /* duplicates with different values */
    {GOOD "&port=6882", HTTP_REQ_ERR_DUPLICATE},
    {GOOD "&info_hash=bbcdefghij0123456789", HTTP_REQ_ERR_DUPLICATE},
    {GOOD "&peer_id=-TR3000-abcdefghijkm", HTTP_REQ_ERR_DUPLICATE},
    {GOOD "&uploaded=1&uploaded=2", HTTP_REQ_ERR_DUPLICATE},
    {GOOD "&downloaded=1&downloaded=01&downloaded=2", HTTP_REQ_ERR_DUPLICATE},
    {GOOD "&left=0&left=1", HTTP_REQ_ERR_DUPLICATE},
    {GOOD "&numwant=50&num_want=60", HTTP_REQ_ERR_DUPLICATE},
    {GOOD "&event=started&event=stopped", HTTP_REQ_ERR_DUPLICATE},
    {GOOD "&event=started&event=", HTTP_REQ_ERR_DUPLICATE},
    {GOOD "&compact=0&compact=1", HTTP_REQ_ERR_DUPLICATE},
    {GOOD "&no_peer_id=1&no_peer_id=0", HTTP_REQ_ERR_DUPLICATE},
    {GOOD "&key=a&key=b", HTTP_REQ_ERR_DUPLICATE},
    {GOOD "&key=a&key=aa", HTTP_REQ_ERR_DUPLICATE},
    {GOOD "&ip=1.2.3.4&ip=1.2.3.5", HTTP_REQ_ERR_DUPLICATE},
    {GOOD "&ip=::1&ip=0.0.0.1", HTTP_REQ_ERR_DUPLICATE},
    {GOOD "&ipv4=1.2.3.4&ipv4=4.3.2.1", HTTP_REQ_ERR_DUPLICATE},
    {GOOD "&ipv6=::1&ipv6=::2", HTTP_REQ_ERR_DUPLICATE},
    /* the first error in query order wins */
    {"port=0&info_hash=short", HTTP_REQ_ERR_PORT},
    {"info_hash=short&port=0", HTTP_REQ_ERR_INFO_HASH},
    {GOOD "&port=6882&uploaded=%zz", HTTP_REQ_ERR_DUPLICATE},
    {GOOD "&uploaded=%zz&port=6882", HTTP_REQ_ERR_ENCODING},
    {GOOD "&port=0", HTTP_REQ_ERR_PORT},
    {GOOD "&event=bogus&left=-1", HTTP_REQ_ERR_EVENT},
};

static void test_http_req_refuses_each_bad_announce_with_its_reason(void **state)
{
	struct http_req_announce a;
	size_t i;

	(void)state;
	for (i = 0; i < N_ELEMS(ann_bad); i++)
		check_err(ann_bad[i].q, parse_ann(ann_bad[i].q, &a), ann_bad[i].err);
}

static void test_http_req_refuses_info_hash_of_19_and_21_bytes(void **state)
{
	struct http_req_announce a;

	(void)state;
	assert_int_equal(parse_ann("info_hash=abcdefghij012345678&" NO_IH, &a),
			 HTTP_REQ_ERR_INFO_HASH);
	assert_int_equal(parse_ann("info_hash=abcdefghij01234567890&" NO_IH, &a),
			 HTTP_REQ_ERR_INFO_HASH);
	assert_int_equal(parse_ann("info_hash=abcdefghij0123456789&" NO_IH, &a), HTTP_REQ_OK);
}

static void test_http_req_ignores_unknown_parameters_whatever_they_hold(void **state)
{
	struct http_req_announce a;

	(void)state;
	check_err("unknown",
		  parse_ann(GOOD "&supportcrypto=1&requirecrypto&trackerid=%zz%4"
				 "&a_very_long_parameter_name_nobody_knows=%ff&=&==",
			    &a),
		  HTTP_REQ_OK);
	assert_int_equal(a.port, 6881);
}

/* ---- announce: numwant and BEP 7 addresses ---- */

static void test_http_req_caps_numwant_at_int32_max(void **state)
{
	static const struct {
		const char *q;
		int32_t numwant;
	} cases[] = {
	    {GOOD, -1},
	    {GOOD "&numwant=0", 0},
	    {GOOD "&numwant=50", 50},
	    {GOOD "&num_want=30", 30},
	    {GOOD "&numwant=2147483647", INT32_MAX},
	    {GOOD "&numwant=2147483648", INT32_MAX},
	    {GOOD "&numwant=4294967296", INT32_MAX},
	    {GOOD "&numwant=18446744073709551615", INT32_MAX},
	};
	struct http_req_announce a;
	size_t i;

	(void)state;
	for (i = 0; i < N_ELEMS(cases); i++) {
		check_err(cases[i].q, parse_ann(cases[i].q, &a), HTTP_REQ_OK);
		assert_int_equal(a.numwant, cases[i].numwant);
	}
}

#define V4_1                                                                                       \
	{                                                                                          \
		198, 18, 0, 1                                                                      \
	}
#define V6_1                                                                                       \
	{                                                                                          \
		0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1                                  \
	}
#define V6_2                                                                                       \
	{                                                                                          \
		0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2                                  \
	}

static const struct {
	const char *q;
	struct http_req_announce want; /* only the address fields are compared */
} addr_good[] = {
    {GOOD "&ipv4=198.18.0.1", {.has_ipv4 = true, .ipv4 = V4_1}},
    {GOOD "&ipv4=198.18.0.1:6881", {.has_ipv4 = true, .ipv4 = V4_1}},
    {GOOD "&ipv4=198.18.0.1%3A0", {.has_ipv4 = true, .ipv4 = V4_1}},
    {GOOD "&ipv6=fd00::1", {.has_ipv6 = true, .ipv6 = V6_1}},
    {GOOD "&ipv6=fd00%3A%3A1", {.has_ipv6 = true, .ipv6 = V6_1}},
    {GOOD "&ipv6=FD00:0:0:0:0:0:0:1", {.has_ipv6 = true, .ipv6 = V6_1}},
    {GOOD "&ipv6=[fd00::1]", {.has_ipv6 = true, .ipv6 = V6_1}},
    {GOOD "&ipv6=[fd00::1]:6881", {.has_ipv6 = true, .ipv6 = V6_1}},
    {GOOD "&ipv6=%5Bfd00%3A%3A1%5D%3A65535", {.has_ipv6 = true, .ipv6 = V6_1}},
    {GOOD "&ipv6=::ffff:198.18.0.1",
     {.has_ipv6 = true, .ipv6 = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 198, 18, 0, 1}}},
    /* BEP 3 allows a DNS name in ip=; non-literals are ignored, not refused */
    {GOOD "&ip=", {.has_ip = false}},
    {GOOD "&ip=tracker.example.com", {.has_ip = false}},
    {GOOD "&ip=[1.2.3.4]", {.has_ip = false}},
    {GOOD "&ip=1.2.3.4%00", {.has_ip = false}},
    {GOOD "&ip=1.2.3.4%00junk", {.has_ip = false}},
    {GOOD "&ip=198.18.0.1", {.has_ip = true, .ip_family = 4, .ip = V4_1}},
    {GOOD "&ip=198.18.0.1:80", {.has_ip = true, .ip_family = 4, .ip = V4_1}},
    {GOOD "&ip=fd00::2", {.has_ip = true, .ip_family = 6, .ip = V6_2}},
    {GOOD "&ip=[fd00::2]", {.has_ip = true, .ip_family = 6, .ip = V6_2}},
    {GOOD "&ip=[fd00::2]:1", {.has_ip = true, .ip_family = 6, .ip = V6_2}},
    {GOOD "&ip=198.18.0.1&ip=198.18.0.1:6881", {.has_ip = true, .ip_family = 4, .ip = V4_1}},
    {GOOD "&ip=fd00::2&ipv4=198.18.0.1&ipv6=[fd00::1]:6881",
     {.has_ip = true,
      .ip_family = 6,
      .ip = V6_2,
      .has_ipv4 = true,
      .ipv4 = V4_1,
      .has_ipv6 = true,
      .ipv6 = V6_1}},
};

static void test_http_req_decodes_ip_ipv4_and_ipv6_in_every_form(void **state)
{
	struct http_req_announce a;
	size_t i;

	(void)state;
	for (i = 0; i < N_ELEMS(addr_good); i++) {
		const struct http_req_announce *w = &addr_good[i].want;

		check_err(addr_good[i].q, parse_ann(addr_good[i].q, &a), HTTP_REQ_OK);
		assert_int_equal(a.has_ip, w->has_ip);
		assert_int_equal(a.has_ipv4, w->has_ipv4);
		assert_int_equal(a.has_ipv6, w->has_ipv6);
		if (w->has_ip) {
			assert_int_equal(a.ip_family, w->ip_family);
			assert_memory_equal(a.ip, w->ip, w->ip_family == 4 ? 4 : 16);
		}
		if (w->has_ipv4)
			assert_memory_equal(a.ipv4, w->ipv4, 4);
		if (w->has_ipv6)
			assert_memory_equal(a.ipv6, w->ipv6, 16);
	}
}

/* ---- announce: truncated and mangled input ---- */

static void test_http_req_parses_every_prefix_of_good_queries_without_crashing(void **state)
{
	struct http_req_announce a;
	enum http_req_err err;
	size_t i, len, n;

	(void)state;
	for (i = 0; i < N_ELEMS(ann_good); i++) {
		n = strlen(ann_good[i].q);
		for (len = 0; len <= n; len++) {
			err = parse_ann_n(ann_good[i].q, len, &a);
			assert_true((unsigned)err < HTTP_REQ_ERR_N);
			if (err == HTTP_REQ_OK)
				assert_true(a.port != 0);
		}
		assert_int_equal(err, HTTP_REQ_OK);
	}
}

/* splitmix64: a fixed-seed generator, so mutation runs are repeatable. */
static uint64_t next_rand(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static void test_http_req_survives_queries_mangled_with_delimiters(void **state)
{
	static const char pool[] = "%&=+:[]0aF\x00\xff";
	char buf[512];
	struct http_req_announce a;
	struct http_req_scrape *s = test_malloc(sizeof(*s));
	uint64_t seed = 42;
	size_t n, k;
	int round;

	(void)state;
	for (round = 0; round < 20000; round++) {
		const char *q = ann_good[next_rand(&seed) % N_ELEMS(ann_good)].q;

		n = strlen(q);
		assert_true(n < sizeof(buf));
		memcpy(buf, q, n);
		for (k = next_rand(&seed) % 4 + 1; k > 0; k--)
			buf[next_rand(&seed) % n] = pool[next_rand(&seed) % (sizeof(pool) - 1)];
		n = next_rand(&seed) % (n + 1);
		assert_true((unsigned)parse_ann_n(buf, n, &a) < HTTP_REQ_ERR_N);
		assert_true((unsigned)parse_scrape_n(buf, n, s) < HTTP_REQ_ERR_N);
		assert_true(s->n <= TR_HTTP_SCRAPE_MAX);
	}
	test_free(s);
}

/* ---- scrape (BEP 48) ---- */

static void test_http_req_decodes_scrape_hashes_in_order_keeping_duplicates(void **state)
{
	static const uint8_t h1[TR_HASH_LEN] = H1, h2[TR_HASH_LEN] = H2;
	struct http_req_scrape *s = test_malloc(sizeof(*s));
	const char *q;

	(void)state;
	q = "info_hash=" H1_LT;
	check_err(q, parse_scrape(q, s), HTTP_REQ_OK);
	assert_int_equal(s->n, 1);
	assert_memory_equal(s->info_hash[0], h1, TR_HASH_LEN);

	q = "info_hash=" H1_LT "&info_hash=" H2_ALL "&info_hash=" H3 "&info_hash=" H1_TR;
	check_err(q, parse_scrape(q, s), HTTP_REQ_OK);
	assert_int_equal(s->n, 4);
	assert_memory_equal(s->info_hash[0], h1, TR_HASH_LEN);
	assert_memory_equal(s->info_hash[1], h2, TR_HASH_LEN);
	assert_memory_equal(s->info_hash[2], H3, TR_HASH_LEN);
	assert_memory_equal(s->info_hash[3], h1, TR_HASH_LEN);
	test_free(s);
}

static void test_http_req_scrape_ignores_other_parameters_even_invalid_ones(void **state)
{
	struct http_req_scrape *s = test_malloc(sizeof(*s));
	const char *q = "peer_id=short&info_hash=" H3 "&port=0&event=bogus&key=%41&ip=x";

	(void)state;
	check_err(q, parse_scrape(q, s), HTTP_REQ_OK);
	assert_int_equal(s->n, 1);
	assert_memory_equal(s->info_hash[0], H3, TR_HASH_LEN);
	test_free(s);
}

static void test_http_req_scrape_without_info_hash_gives_zero_hashes(void **state)
{
	static const char *const qs[] = {"", "&", "port=1", "peer_id=" PID "&port=6881"};
	struct http_req_scrape *s = test_malloc(sizeof(*s));
	size_t i;

	(void)state;
	for (i = 0; i < N_ELEMS(qs); i++) {
		s->n = 99;
		check_err(qs[i], parse_scrape(qs[i], s), HTTP_REQ_OK);
		assert_int_equal(s->n, 0);
	}
	test_free(s);
}

static void test_http_req_refuses_each_bad_scrape_with_its_reason(void **state)
{
	static const struct {
		const char *q;
		enum http_req_err err;
	} cases[] = {
	    {"info_hash=", HTTP_REQ_ERR_INFO_HASH},
	    {"info_hash", HTTP_REQ_ERR_INFO_HASH},
	    {"info_hash=abcdefghij012345678", HTTP_REQ_ERR_INFO_HASH},
	    {"info_hash=abcdefghij01234567890", HTTP_REQ_ERR_INFO_HASH},
	    {"info_hash=" H3 "&info_hash=short", HTTP_REQ_ERR_INFO_HASH},
	    {"info_hash=" H3 "%zz", HTTP_REQ_ERR_ENCODING},
	    {"info_hash=" H3 "&info_hash=%4", HTTP_REQ_ERR_ENCODING},
	    {"info_hash=" H3 "&x%zz=1", HTTP_REQ_ERR_ENCODING},
	};
	struct http_req_scrape *s = test_malloc(sizeof(*s));
	size_t i;

	(void)state;
	for (i = 0; i < N_ELEMS(cases); i++)
		check_err(cases[i].q, parse_scrape(cases[i].q, s), cases[i].err);
	test_free(s);
}

/* Writes n fully escaped info_hash parameters, hash i being bytes i, i+1, ... */
static size_t scrape_query(char *buf, size_t cap, unsigned n)
{
	size_t len = 0;
	unsigned i, j;

	for (i = 0; i < n; i++) {
		len += (size_t)snprintf(buf + len, cap - len, "%sinfo_hash=", i ? "&" : "");
		for (j = 0; j < TR_HASH_LEN; j++)
			len += (size_t)snprintf(buf + len, cap - len, "%%%02X", (i + j) & 0xff);
		assert_true(len < cap);
	}
	return len;
}

static void test_http_req_scrape_takes_the_cap_and_refuses_one_more(void **state)
{
	static char buf[(TR_HTTP_SCRAPE_MAX + 1) * 72];
	struct http_req_scrape *s = test_malloc(sizeof(*s));
	size_t len;
	unsigned i, j;

	(void)state;
	len = scrape_query(buf, sizeof(buf), TR_HTTP_SCRAPE_MAX);
	assert_int_equal(parse_scrape_n(buf, len, s), HTTP_REQ_OK);
	assert_int_equal(s->n, TR_HTTP_SCRAPE_MAX);
	for (i = 0; i < TR_HTTP_SCRAPE_MAX; i++)
		for (j = 0; j < TR_HASH_LEN; j++)
			assert_int_equal(s->info_hash[i][j], (i + j) & 0xff);

	len = scrape_query(buf, sizeof(buf), TR_HTTP_SCRAPE_MAX + 1);
	assert_int_equal(parse_scrape_n(buf, len, s), HTTP_REQ_ERR_TOO_MANY);
	test_free(s);
}

static void test_http_req_parses_every_prefix_of_a_scrape_without_crashing(void **state)
{
	static const char q[] = "info_hash=" H1_LT "&info_hash=" H2_ALL "&info_hash=" H3;
	struct http_req_scrape *s = test_malloc(sizeof(*s));
	enum http_req_err err;
	size_t len;

	(void)state;
	for (len = 0; len < sizeof(q); len++) {
		err = parse_scrape_n(q, len, s);
		assert_true(err == HTTP_REQ_OK || err == HTTP_REQ_ERR_INFO_HASH ||
			    err == HTTP_REQ_ERR_ENCODING);
		assert_true(s->n <= 3);
	}
	assert_int_equal(err, HTTP_REQ_OK);
	assert_int_equal(s->n, 3);
	test_free(s);
}

/* ---- messages ---- */

static void test_http_req_gives_every_error_a_message_and_a_distinct_name(void **state)
{
	int e, f;

	(void)state;
	for (e = 0; e < HTTP_REQ_ERR_N; e++) {
		assert_non_null(http_req_err_msg(e));
		assert_non_null(http_req_err_name(e));
		assert_true(strlen(http_req_err_msg(e)) > 0);
		assert_true(strlen(http_req_err_name(e)) > 0);
		for (f = 0; f < e; f++) {
			assert_string_not_equal(http_req_err_name(e), http_req_err_name(f));
			assert_string_not_equal(http_req_err_msg(e), http_req_err_msg(f));
		}
	}
	assert_string_equal(http_req_err_msg(HTTP_REQ_ERR_INFO_HASH), "invalid info_hash");
	assert_string_equal(http_req_err_msg(HTTP_REQ_ERR_PEER_ID), "invalid peer_id");
	assert_string_equal(http_req_err_msg(HTTP_REQ_ERR_PORT), "invalid port");
	assert_string_equal(http_req_err_name(HTTP_REQ_ERR_INFO_HASH), "info_hash");
	assert_non_null(http_req_err_msg(HTTP_REQ_ERR_N));
	assert_non_null(http_req_err_name(HTTP_REQ_ERR_N));
	assert_non_null(http_req_err_msg((enum http_req_err) - 1));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_http_req_decodes_announces_as_real_clients_send_them),
	    cmocka_unit_test(test_http_req_decodes_one_info_hash_in_three_encodings),
	    cmocka_unit_test(test_http_req_refuses_each_bad_announce_with_its_reason),
	    cmocka_unit_test(test_http_req_refuses_info_hash_of_19_and_21_bytes),
	    cmocka_unit_test(test_http_req_ignores_unknown_parameters_whatever_they_hold),
	    cmocka_unit_test(test_http_req_caps_numwant_at_int32_max),
	    cmocka_unit_test(test_http_req_decodes_ip_ipv4_and_ipv6_in_every_form),
	    cmocka_unit_test(test_http_req_parses_every_prefix_of_good_queries_without_crashing),
	    cmocka_unit_test(test_http_req_survives_queries_mangled_with_delimiters),
	    cmocka_unit_test(test_http_req_decodes_scrape_hashes_in_order_keeping_duplicates),
	    cmocka_unit_test(test_http_req_scrape_ignores_other_parameters_even_invalid_ones),
	    cmocka_unit_test(test_http_req_scrape_without_info_hash_gives_zero_hashes),
	    cmocka_unit_test(test_http_req_refuses_each_bad_scrape_with_its_reason),
	    cmocka_unit_test(test_http_req_scrape_takes_the_cap_and_refuses_one_more),
	    cmocka_unit_test(test_http_req_parses_every_prefix_of_a_scrape_without_crashing),
	    cmocka_unit_test(test_http_req_gives_every_error_a_message_and_a_distinct_name),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
