/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_udp_msg.c - the BEP 15 codec against tables of datagrams.
 *
 * Every parse runs over a copy that ends at a guard page (guard.h), so a
 * read of even one byte past the datagram faults instead of passing.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "guard.h"
#include "core/udp_msg.h"

#define TID 0xdeadbeefu

/* Room for the longest datagram built here: a 74-hash scrape. */
#define DGRAM_MAX 2048

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static void put64(uint8_t *p, uint64_t v)
{
	put32(p, (uint32_t)(v >> 32));
	put32(p + 4, (uint32_t)v);
}

/* Writes the 16-byte request header. */
static void put_header(uint8_t *b, uint64_t connection_id, uint32_t action, uint32_t tid)
{
	put64(b, connection_id);
	put32(b + 8, action);
	put32(b + 12, tid);
}

/* Writes a 98-byte announce with distinctive values in every field; the
 * values are checked in test_udp_msg_parses_every_announce_field. */
static size_t put_announce(uint8_t *b, uint32_t event, uint32_t num_want)
{
	put_header(b, 0x0123456789abcdefULL, UDP_MSG_ANNOUNCE, TID);
	for (int i = 0; i < 20; i++) {
		b[16 + i] = (uint8_t)(0xa0 + i); /* info_hash */
		b[36 + i] = (uint8_t)(0x30 + i); /* peer_id */
	}
	put64(b + 56, 0x1111111122222222ULL); /* downloaded */
	put64(b + 64, 0x3333333344444444ULL); /* left */
	put64(b + 72, 0x5555555566666666ULL); /* uploaded */
	put32(b + 80, event);
	b[84] = 198; /* ip 198.18.0.7, network order */
	b[85] = 18;
	b[86] = 0;
	b[87] = 7;
	put32(b + 88, 0x0badf00d); /* key */
	put32(b + 92, num_want);
	b[96] = 0x1a; /* port 6881 */
	b[97] = 0xe1;
	return UDP_MSG_ANNOUNCE_LEN;
}

/* Parses len bytes of src from a guard-page copy. */
static enum udp_msg_err parse_guarded(const uint8_t *src, size_t len, struct udp_msg_req *req,
				      const uint8_t **copy)
{
	static struct guard_buf g;
	static bool live;
	const uint8_t *p;

	if (live)
		guard_free(&g);
	p = guard_copy(&g, src, len);
	live = true;
	if (copy != NULL)
		*copy = p;
	return udp_msg_parse(p, len, req);
}

/* ------------------------------------------------------------------------
 * Requests: header, action and size rules.
 */

/* An announce row gets put_announce()'s body with its event; the others a
 * zero body (scrape: byte i is i). */
struct req_case {
	const char *name;
	uint64_t connection_id;
	uint32_t action;
	uint32_t event;
	size_t len;
	enum udp_msg_err expect;
	uint32_t scrape_n; /* when expect is OK for a scrape */
};

#define MAGIC	    UDP_MSG_PROTOCOL_ID
#define CONN	    UDP_MSG_CONNECT
#define ANN	    UDP_MSG_ANNOUNCE
#define SCR	    UDP_MSG_SCRAPE
#define OK	    UDP_MSG_OK
#define ERR(reason) UDP_MSG_ERR_##reason

/* One datagram per row: clang-format would wrap the columns apart. */
/* clang-format off */
static const struct req_case req_cases[] = {
	/* name                        id         action event len           expected          n */
	{"connect",                    MAGIC,     CONN,  0,    16,           OK,               0},
	{"connect, 4-byte tail",       MAGIC,     CONN,  0,    20,           OK,               0},
	{"connect, bad magic",         MAGIC + 1, CONN,  0,    16,           ERR(PROTOCOL_ID), 0},
	{"connect, zero id",           0,         CONN,  0,    16,           ERR(PROTOCOL_ID), 0},
	{"connect, 15 bytes",          MAGIC,     CONN,  0,    15,           ERR(SHORT),       0},
	{"empty",                      0,         CONN,  0,    0,            ERR(SHORT),       0},
	{"action 3 (error)",           1,         3,     0,    16,           ERR(ACTION),      0},
	{"action 4",                   1,         4,     0,    98,           ERR(ACTION),      0},
	{"action 0xffffffff",          1,         ~0u,   0,    16,           ERR(ACTION),      0},
	{"announce",                   1,         ANN,   2,    98,           OK,               0},
	{"announce, 97 bytes",         1,         ANN,   0,    97,           ERR(SHORT),       0},
	{"announce, event 4",          1,         ANN,   4,    98,           ERR(EVENT),       0},
	{"announce, event 0xffffffff", 1,         ANN,   ~0u,  98,           ERR(EVENT),       0},
	{"scrape, 1 hash",             1,         SCR,   0,    16 + 20,      OK,               1},
	{"scrape, 74 hashes",          1,         SCR,   0,    16 + 20 * 74, OK,               74},
	{"scrape, no hash",            1,         SCR,   0,    16,           ERR(SHORT),       0},
	{"scrape, 16 + 19 bytes",      1,         SCR,   0,    16 + 19,      ERR(SCRAPE_LEN),  0},
	{"scrape, 16 + 21 bytes",      1,         SCR,   0,    16 + 21,      ERR(SCRAPE_LEN),  0},
	{"scrape, 16 + 41 bytes",      1,         SCR,   0,    16 + 41,      ERR(SCRAPE_LEN),  0},
};
/* clang-format on */

static void test_udp_msg_parse_follows_the_request_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(req_cases) / sizeof(req_cases[0]); i++) {
		const struct req_case *c = &req_cases[i];
		uint8_t b[DGRAM_MAX] = {0};
		struct udp_msg_req req;
		const uint8_t *copy;
		enum udp_msg_err err;

		if (c->action == UDP_MSG_ANNOUNCE)
			put_announce(b, c->event, 50);
		put_header(b, c->connection_id, c->action, TID + (uint32_t)i);
		for (size_t j = 16; c->action == UDP_MSG_SCRAPE && j < c->len; j++)
			b[j] = (uint8_t)j;

		err = parse_guarded(b, c->len, &req, &copy);
		print_message("%s: %s\n", c->name, udp_msg_err_name(err));
		assert_int_equal(err, c->expect);
		if (c->len >= 16) {
			assert_int_equal(req.action, c->action);
			assert_int_equal(req.transaction_id, TID + (uint32_t)i);
		}
		if (err == UDP_MSG_OK)
			assert_true(req.connection_id == c->connection_id);
		if (err == UDP_MSG_OK && c->action == UDP_MSG_SCRAPE) {
			assert_int_equal(req.scrape.n, c->scrape_n);
			assert_ptr_equal(req.scrape.hashes, copy + 16);
			assert_memory_equal(req.scrape.hashes, b + 16, 20 * c->scrape_n);
		}
	}
}

static void test_udp_msg_refuses_every_truncated_announce_as_short(void **state)
{
	uint8_t b[UDP_MSG_ANNOUNCE_LEN];
	struct udp_msg_req req;

	(void)state;
	put_announce(b, UDP_MSG_EV_NONE, 50);
	for (size_t len = 0; len < UDP_MSG_ANNOUNCE_LEN; len++) {
		assert_int_equal(parse_guarded(b, len, &req, NULL), UDP_MSG_ERR_SHORT);
		if (len >= 16) {
			assert_int_equal(req.action, UDP_MSG_ANNOUNCE);
			assert_int_equal(req.transaction_id, TID);
		}
	}
}

static void test_udp_msg_parses_every_announce_field(void **state)
{
	static const uint8_t ip[4] = {198, 18, 0, 7};
	uint8_t b[UDP_MSG_ANNOUNCE_LEN];
	struct udp_msg_req req;
	const struct udp_msg_announce *a = &req.announce;

	(void)state;
	put_announce(b, UDP_MSG_EV_COMPLETED, 200);
	assert_int_equal(parse_guarded(b, sizeof(b), &req, NULL), UDP_MSG_OK);
	assert_true(req.connection_id == 0x0123456789abcdefULL);
	assert_int_equal(req.action, UDP_MSG_ANNOUNCE);
	assert_int_equal(req.transaction_id, TID);
	for (int i = 0; i < 20; i++) {
		assert_int_equal(a->info_hash[i], 0xa0 + i);
		assert_int_equal(a->peer_id[i], 0x30 + i);
	}
	assert_true(a->downloaded == 0x1111111122222222ULL);
	assert_true(a->left == 0x3333333344444444ULL);
	assert_true(a->uploaded == 0x5555555566666666ULL);
	assert_int_equal(a->event, UDP_MSG_EV_COMPLETED);
	assert_memory_equal(&a->ip, ip, 4); /* left in network order */
	assert_int_equal(a->key, 0x0badf00d);
	assert_int_equal(a->num_want, 200);
	assert_int_equal(a->port, 6881);
	assert_int_equal(a->url_len, 0);
	assert_int_equal(a->url_truncated, 0);
}

static void test_udp_msg_accepts_every_event_up_to_stopped(void **state)
{
	uint8_t b[UDP_MSG_ANNOUNCE_LEN];
	struct udp_msg_req req;

	(void)state;
	for (uint32_t ev = UDP_MSG_EV_NONE; ev <= UDP_MSG_EV_STOPPED; ev++) {
		put_announce(b, ev, 50);
		assert_int_equal(parse_guarded(b, sizeof(b), &req, NULL), UDP_MSG_OK);
		assert_int_equal(req.announce.event, ev);
	}
}

static void test_udp_msg_reads_num_want_minus_one_as_default(void **state)
{
	uint8_t b[UDP_MSG_ANNOUNCE_LEN];
	struct udp_msg_req req;

	(void)state;
	put_announce(b, UDP_MSG_EV_NONE, 0xffffffffu);
	assert_int_equal(parse_guarded(b, sizeof(b), &req, NULL), UDP_MSG_OK);
	assert_int_equal(req.announce.num_want, -1);
}

/* ------------------------------------------------------------------------
 * BEP 41 options after the 98-byte announce.
 */

struct opt_case {
	const char *name;
	const char *tail; /* bytes after the 98, as a string literal with escapes */
	size_t tail_len;
	const char *url; /* the URLData expected */
};

#define OPT(name, tail, url)                                                                       \
	{                                                                                          \
		name, tail, sizeof(tail) - 1, url                                                  \
	}

static const struct opt_case opt_cases[] = {
    OPT("Transmission: plain 98 bytes", "", ""),
    OPT("aria2: two EndOfOptions bytes", "\x00\x00", ""),
    OPT("libtorrent: URLData without an end marker", "\x02\x09/announce", "/announce"),
    OPT("URLData then EndOfOptions", "\x02\x09/announce\x00", "/announce"),
    OPT("NOP, two URLData, EndOfOptions: concatenated", "\x01\x02\x04/ann\x02\x0bounce?k=abc\x00",
	"/announce?k=abc"),
    OPT("nothing after EndOfOptions is read", "\x00\x02\x04/ann", ""),
    OPT("only NOPs", "\x01\x01\x01", ""),
    OPT("empty URLData", "\x02\x00\x02\x02/a", "/a"),
    OPT("URLData whose length runs past the end", "\x02\x14/abc", ""),
    OPT("URLData running past the end after a good one", "\x02\x03/ab\x02\x32x", "/ab"),
    OPT("URLData without its length byte", "\x02", ""),
    OPT("URLData of exactly the rest", "\x01\x02\x02/a", "/a"),
    OPT("unknown option type ends parsing", "\x02\x02/a\x07\x02\x02/b", "/a"),
    OPT("unknown option type first", "\xff\x02\x02/a", ""),
};

static void test_udp_msg_parses_bep41_options_of_real_clients(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(opt_cases) / sizeof(opt_cases[0]); i++) {
		const struct opt_case *c = &opt_cases[i];
		uint8_t b[UDP_MSG_ANNOUNCE_LEN + 64];
		size_t len = put_announce(b, UDP_MSG_EV_STARTED, 50);
		struct udp_msg_req req;

		memcpy(b + len, c->tail, c->tail_len);
		len += c->tail_len;
		print_message("%s\n", c->name);
		assert_int_equal(parse_guarded(b, len, &req, NULL), UDP_MSG_OK);
		assert_int_equal(req.announce.url_len, strlen(c->url));
		assert_memory_equal(req.announce.url, c->url, strlen(c->url));
		assert_int_equal(req.announce.url_truncated, 0);
		assert_int_equal(req.announce.port, 6881); /* the 98 bytes still parsed */
	}
}

/* Appends a URLData option of n bytes of fill to b at *len. */
static void put_url_data(uint8_t *b, size_t *len, uint8_t n, uint8_t fill)
{
	b[(*len)++] = 0x2;
	b[(*len)++] = n;
	memset(b + *len, fill, n);
	*len += n;
}

static void test_udp_msg_truncates_url_data_beyond_url_max(void **state)
{
	uint8_t b[UDP_MSG_ANNOUNCE_LEN + 3 * 257];
	size_t len = put_announce(b, UDP_MSG_EV_NONE, 50);
	struct udp_msg_req req;

	(void)state;
	put_url_data(b, &len, 200, 'a');
	put_url_data(b, &len, 200, 'b');
	put_url_data(b, &len, 10, 'c');
	assert_int_equal(parse_guarded(b, len, &req, NULL), UDP_MSG_OK);
	assert_int_equal(req.announce.url_len, TR_UDP_URL_MAX);
	assert_int_equal(req.announce.url_truncated, 1);
	assert_int_equal(req.announce.url[0], 'a');
	assert_int_equal(req.announce.url[199], 'a');
	assert_int_equal(req.announce.url[200], 'b');
	assert_int_equal(req.announce.url[TR_UDP_URL_MAX - 1], 'b');
}

static void test_udp_msg_keeps_url_data_of_exactly_url_max_whole(void **state)
{
	uint8_t b[UDP_MSG_ANNOUNCE_LEN + 2 * 257];
	size_t len = put_announce(b, UDP_MSG_EV_NONE, 50);
	struct udp_msg_req req;

	(void)state;
	put_url_data(b, &len, 200, 'a');
	put_url_data(b, &len, TR_UDP_URL_MAX - 200, 'b');
	assert_int_equal(parse_guarded(b, len, &req, NULL), UDP_MSG_OK);
	assert_int_equal(req.announce.url_len, TR_UDP_URL_MAX);
	assert_int_equal(req.announce.url_truncated, 0);
	assert_int_equal(req.announce.url[TR_UDP_URL_MAX - 1], 'b');
}

static void test_udp_msg_never_reads_past_any_truncated_option_list(void **state)
{
	static const char tail[] = "\x01\x02\x04/ann\x02\x05ounce\x00";
	uint8_t b[UDP_MSG_ANNOUNCE_LEN + 32];
	size_t full = put_announce(b, UDP_MSG_EV_NONE, 50);
	struct udp_msg_req req = {0};

	(void)state;
	memcpy(b + full, tail, sizeof(tail) - 1);
	full += sizeof(tail) - 1;
	/* Every prefix parses; the guard page faults on any over-read. */
	for (size_t len = UDP_MSG_ANNOUNCE_LEN; len <= full; len++) {
		assert_int_equal(parse_guarded(b, len, &req, NULL), UDP_MSG_OK);
		assert_true(req.announce.url_len <= 9);
	}
	assert_int_equal(req.announce.url_len, 9);
	assert_memory_equal(req.announce.url, "/announce", 9);
}

/* ------------------------------------------------------------------------
 * Writers.
 */

/* Runs a writer into an out buffer ending at a guard page, with exactly cap
 * bytes of room, so writing one byte too many faults. */
#define GUARDED_WRITE(cap, call)                                                                   \
	({                                                                                         \
		struct guard_buf g_;                                                               \
		uint8_t zero_[256] = {0};                                                          \
		uint8_t *out = guard_copy(&g_, zero_, (cap));                                      \
		size_t n_ = (call);                                                                \
		memcpy(written, out, n_);                                                          \
		guard_free(&g_);                                                                   \
		n_;                                                                                \
	})

static void test_udp_msg_writes_connect_reply_bytes(void **state)
{
	static const uint8_t want[] = {0,    0,	   0,	 0,    0x01, 0x02, 0x03, 0x04,
				       0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88};
	uint8_t written[256];
	size_t n;

	(void)state;
	n = GUARDED_WRITE(16, udp_msg_write_connect(out, 16, 0x01020304, 0x1122334455667788ULL));
	assert_int_equal(n, sizeof(want));
	assert_memory_equal(written, want, sizeof(want));
}

static void test_udp_msg_writes_announce_reply_bytes(void **state)
{
	static const uint8_t want[] = {0,    0,	   0, 1, 0xde, 0xad, 0xbe, 0xef, 0,    0,
				       0x07, 0x08, 0, 0, 0,    5,    0x01, 0x02, 0x03, 0x04};
	uint8_t written[256];
	size_t n;

	(void)state;
	n = GUARDED_WRITE(20, udp_msg_write_announce(out, 20, TID, 1800, 5, 0x01020304));
	assert_int_equal(n, sizeof(want));
	assert_memory_equal(written, want, sizeof(want));
}

static void test_udp_msg_writes_scrape_reply_bytes(void **state)
{
	static const uint8_t hdr[] = {0, 0, 0, 2, 0xde, 0xad, 0xbe, 0xef};
	static const uint8_t entry[] = {0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3};
	uint8_t written[256];
	size_t n;

	(void)state;
	n = GUARDED_WRITE(8, udp_msg_write_scrape(out, 8, TID));
	assert_int_equal(n, sizeof(hdr));
	assert_memory_equal(written, hdr, sizeof(hdr));
	/* BEP 15 order: seeders, completed, leechers. */
	n = GUARDED_WRITE(12, udp_msg_write_scrape_entry(out, 12, 1, 2, 3));
	assert_int_equal(n, sizeof(entry));
	assert_memory_equal(written, entry, sizeof(entry));
}

static void test_udp_msg_writes_error_reply_bytes(void **state)
{
	static const uint8_t want[] = {0, 0, 0, 3, 0xde, 0xad, 0xbe, 0xef, 'b', 'a', 'd'};
	uint8_t written[256];
	size_t n;

	(void)state;
	n = GUARDED_WRITE(64, udp_msg_write_error(out, 64, TID, "bad"));
	assert_int_equal(n, sizeof(want));
	assert_memory_equal(written, want, sizeof(want));
}

static void test_udp_msg_writers_return_zero_when_cap_is_one_short(void **state)
{
	uint8_t written[256];

	(void)state;
	assert_int_equal(GUARDED_WRITE(15, udp_msg_write_connect(out, 15, TID, 1)), 0);
	assert_int_equal(GUARDED_WRITE(19, udp_msg_write_announce(out, 19, TID, 1, 2, 3)), 0);
	assert_int_equal(GUARDED_WRITE(7, udp_msg_write_scrape(out, 7, TID)), 0);
	assert_int_equal(GUARDED_WRITE(11, udp_msg_write_scrape_entry(out, 11, 1, 2, 3)), 0);
	assert_int_equal(GUARDED_WRITE(7, udp_msg_write_error(out, 7, TID, "")), 0);
	assert_int_equal(GUARDED_WRITE(0, udp_msg_write_connect(out, 0, TID, 1)), 0);
}

static void test_udp_msg_cuts_error_message_to_cap(void **state)
{
	static const char msg[] = "connection id expired";
	static const uint8_t want[] = {0, 0, 0, 3, 0xde, 0xad, 0xbe, 0xef, 'c', 'o', 'n', 'n'};
	uint8_t written[256];
	size_t n;

	(void)state;
	n = GUARDED_WRITE(12, udp_msg_write_error(out, 12, TID, msg));
	assert_int_equal(n, sizeof(want));
	assert_memory_equal(written, want, sizeof(want));
	/* Only the header fits: an error with no text. */
	n = GUARDED_WRITE(8, udp_msg_write_error(out, 8, TID, msg));
	assert_int_equal(n, 8);
	assert_memory_equal(written, want, 8);
	/* Exactly the message fits. */
	n = GUARDED_WRITE(8 + strlen(msg), udp_msg_write_error(out, 8 + strlen(msg), TID, msg));
	assert_int_equal(n, 8 + strlen(msg));
	assert_memory_equal(written + 8, msg, strlen(msg));
}

static void test_udp_msg_names_every_error_distinctly(void **state)
{
	(void)state;
	for (int i = 0; i < UDP_MSG_ERR_N; i++) {
		const char *a = udp_msg_err_name((enum udp_msg_err)i);

		assert_non_null(a);
		assert_true(strlen(a) > 0);
		for (const char *p = a; *p != '\0'; p++)
			assert_true((*p >= 'a' && *p <= 'z') || *p == '_');
		for (int j = 0; j < i; j++)
			assert_string_not_equal(a, udp_msg_err_name((enum udp_msg_err)j));
	}
	assert_string_equal(udp_msg_err_name(UDP_MSG_ERR_SHORT), "short");
	assert_non_null(udp_msg_err_name(UDP_MSG_ERR_N));
}

/* The prefetch peek: the hash, port and role of every announce and the
 * first hash of every scrape the parser would accept, nothing for the
 * rest, and never a read past len (the guard page). */
static void test_udp_msg_peek_finds_what_parse_would(void **state)
{
	uint8_t b[UDP_MSG_ANNOUNCE_LEN + 20];
	struct udp_msg_peek pk;
	struct udp_msg_req req;
	const uint8_t *copy;
	(void)state;

	size_t n = put_announce(b, UDP_MSG_EV_NONE, 50);
	for (size_t len = 0; len <= n; len++) {
		bool ok = parse_guarded(b, len, &req, &copy) == UDP_MSG_OK;
		assert_int_equal(udp_msg_peek(copy, len, &pk), ok);
		assert_int_equal(ok, len == n);
	}
	assert_ptr_equal(pk.info_hash, copy + 16);
	assert_int_equal(pk.port, req.announce.port);
	assert_int_equal(pk.seeder, req.announce.left == 0);
	assert_false(pk.seeder);
	memset(b + 64, 0, 8); /* left = 0: a seeder */
	parse_guarded(b, n, &req, &copy);
	assert_true(udp_msg_peek(copy, n, &pk));
	assert_true(pk.seeder);

	put_header(b, 0x0123456789abcdefULL, UDP_MSG_SCRAPE, TID);
	memset(b + 16, 0x5c, 40);
	for (size_t len = 0; len <= 56; len++) {
		parse_guarded(b, len, &req, &copy);
		assert_int_equal(udp_msg_peek(copy, len, &pk), len >= 36);
		if (len >= 36) {
			assert_ptr_equal(pk.info_hash, copy + 16);
			assert_int_equal(pk.port, 0);
		}
	}
	put_header(b, UDP_MSG_PROTOCOL_ID, UDP_MSG_CONNECT, TID);
	parse_guarded(b, 98, &req, &copy);
	assert_false(udp_msg_peek(copy, 98, &pk));
	put_header(b, 0, 7, TID);
	parse_guarded(b, 98, &req, &copy);
	assert_false(udp_msg_peek(copy, 98, &pk));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_udp_msg_parse_follows_the_request_table),
	    cmocka_unit_test(test_udp_msg_refuses_every_truncated_announce_as_short),
	    cmocka_unit_test(test_udp_msg_parses_every_announce_field),
	    cmocka_unit_test(test_udp_msg_accepts_every_event_up_to_stopped),
	    cmocka_unit_test(test_udp_msg_reads_num_want_minus_one_as_default),
	    cmocka_unit_test(test_udp_msg_parses_bep41_options_of_real_clients),
	    cmocka_unit_test(test_udp_msg_truncates_url_data_beyond_url_max),
	    cmocka_unit_test(test_udp_msg_keeps_url_data_of_exactly_url_max_whole),
	    cmocka_unit_test(test_udp_msg_never_reads_past_any_truncated_option_list),
	    cmocka_unit_test(test_udp_msg_writes_connect_reply_bytes),
	    cmocka_unit_test(test_udp_msg_writes_announce_reply_bytes),
	    cmocka_unit_test(test_udp_msg_writes_scrape_reply_bytes),
	    cmocka_unit_test(test_udp_msg_writes_error_reply_bytes),
	    cmocka_unit_test(test_udp_msg_writers_return_zero_when_cap_is_one_short),
	    cmocka_unit_test(test_udp_msg_cuts_error_message_to_cap),
	    cmocka_unit_test(test_udp_msg_names_every_error_distinctly),
	    cmocka_unit_test(test_udp_msg_peek_finds_what_parse_would),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
