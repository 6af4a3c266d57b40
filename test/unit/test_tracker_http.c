/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_tracker_http.c - tr_http_handle() against a real peer table
 * (BEP 3, 7, 23, 48), and the UDP path sharing that table (BEP 15).
 *
 * Queries are built here with their own percent-encoding; bodies are read
 * with a small bencode reader that also checks every dictionary's keys are
 * sorted and unique. UDP requests are written byte by byte, big-endian.
 */
#include <arpa/inet.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include <rte_lcore.h>

#include "eal_test.h"
#include "tracker_fixture.h"
#include "core/acl.h"
#include "core/limits.h"
#include "core/ptab.h"
#include "core/stats.h"
#include "core/tracker.h"

#define T0 1000000u /* the clock the tests start at, in seconds */

#define OUT_SIZE  TR_HTTP_BODY_MAX /* what the contract says always suffices */
#define GUARD	  64
#define GUARD_VAL 0xa5

static struct tracker_fx fx;

static struct {
	uint8_t body[OUT_SIZE + GUARD]; /* the last reply */
	size_t blen;
} last;

/* ---- addresses and hashes ----------------------------------------------- */

/* A distinct info hash per seed. Seed 0 holds the bytes a query string must
 * escape (NUL, '&', '=', '%', '+', '#', space, high bytes). */
static void hash_of(uint8_t ih[TR_HASH_LEN], unsigned seed)
{
	static const uint8_t tricky[TR_HASH_LEN] = {0x00, '&',	'=', '%',  '+',	 '#', ' ',
						    0xff, 0x80, '?', 'a',  'Z',	 '9', '-',
						    '.',  '_',	'~', 0x7f, 0x01, 0xfe};

	if (seed == 0) {
		memcpy(ih, tricky, TR_HASH_LEN);
		return;
	}
	for (unsigned i = 0; i < TR_HASH_LEN; i++)
		ih[i] = (uint8_t)(seed * 131 + i * 17 + 0x80);
}

/* ---- percent-encoding, by hand ------------------------------------------ */

/* Returns b[0..n) percent-encoded as clients do: unreserved bytes as they
 * are, the rest %XX (upper case unless lower). The string lives in a ring
 * of buffers, good for a few calls. */
static const char *enc_case(const uint8_t *b, size_t n, bool lower)
{
	static char ring[8][3 * 64 + 1];
	static unsigned k;
	const char *hex = lower ? "0123456789abcdef" : "0123456789ABCDEF";
	char *o = ring[k++ % 8], *p = o;

	for (size_t i = 0; i < n && i < 64; i++) {
		uint8_t c = b[i];

		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		    c == '-' || c == '.' || c == '_' || c == '~') {
			*p++ = (char)c;
		} else {
			*p++ = '%';
			*p++ = hex[c >> 4];
			*p++ = hex[c & 15];
		}
	}
	*p = '\0';
	return o;
}

static const char *enc(const uint8_t *b, size_t n)
{
	return enc_case(b, n, false);
}

static const uint8_t peer_id[TR_HASH_LEN] = "-TR3000-\x01\x02&=%+ abcde";

/* ---- a bencode reader --------------------------------------------------- */

/* Reads a string at p; returns its end, or NULL if malformed. */
static const uint8_t *bstr(const uint8_t *p, const uint8_t *end, const uint8_t **s, size_t *len)
{
	size_t n = 0;

	if (p >= end || *p < '0' || *p > '9')
		return NULL;
	if (*p == '0' && p + 1 < end && p[1] != ':')
		return NULL; /* no leading zeros */
	while (p < end && *p >= '0' && *p <= '9') {
		n = n * 10 + (size_t)(*p++ - '0');
		if (n > OUT_SIZE)
			return NULL;
	}
	if (p >= end || *p != ':' || (size_t)(end - p - 1) < n)
		return NULL;
	*s = p + 1;
	*len = n;
	return p + 1 + n;
}

/* Returns the end of the value at p, or NULL if it is not well-formed
 * bencode with sorted, unique dictionary keys. */
static const uint8_t *bskip(const uint8_t *p, const uint8_t *end)
{
	const uint8_t *s;
	size_t len;

	if (p >= end)
		return NULL;
	if (*p == 'i') {
		const uint8_t *d;

		p++;
		if (p < end && *p == '-')
			p++;
		for (d = p; p < end && *p >= '0' && *p <= '9'; p++)
			;
		if (p == d || p >= end || *p != 'e' || (*d == '0' && p - d > 1))
			return NULL;
		return p + 1;
	}
	if (*p == 'l') {
		for (p++; p != NULL && p < end && *p != 'e';)
			p = bskip(p, end);
		return p != NULL && p < end ? p + 1 : NULL;
	}
	if (*p == 'd') {
		const uint8_t *pk = NULL;
		size_t pkl = 0;

		for (p++; p < end && *p != 'e';) {
			p = bstr(p, end, &s, &len);
			if (p == NULL)
				return NULL;
			if (pk != NULL) {
				int c = memcmp(pk, s, pkl < len ? pkl : len);

				if (c > 0 || (c == 0 && pkl >= len))
					return NULL; /* unsorted or duplicate key */
			}
			pk = s;
			pkl = len;
			p = bskip(p, end);
			if (p == NULL)
				return NULL;
		}
		return p < end ? p + 1 : NULL;
	}
	return bstr(p, end, &s, &len);
}

/* Returns the value of key (len klen) in the dictionary at d, or NULL. */
static const uint8_t *bget_n(const uint8_t *d, const uint8_t *end, const void *key, size_t klen)
{
	const uint8_t *s;
	size_t len;

	if (d >= end || *d != 'd')
		return NULL;
	for (d++; d != NULL && d < end && *d != 'e';) {
		d = bstr(d, end, &s, &len);
		if (d == NULL)
			return NULL;
		if (len == klen && memcmp(s, key, klen) == 0)
			return d;
		d = bskip(d, end);
	}
	return NULL;
}

static const uint8_t *bget(const uint8_t *d, const uint8_t *end, const char *key)
{
	return bget_n(d, end, key, strlen(key));
}

static int64_t bint(const uint8_t *v, const uint8_t *end)
{
	int64_t x = 0, sign = 1;

	assert_non_null(v);
	assert_true(v < end && *v == 'i');
	v++;
	if (*v == '-') {
		sign = -1;
		v++;
	}
	for (; v < end && *v != 'e'; v++)
		x = x * 10 + (*v - '0');
	return sign * x;
}

/* The body's top-level values. */
#define BODY_END (last.body + last.blen)

static bool has(const char *key)
{
	return bget(last.body, BODY_END, key) != NULL;
}

static int64_t get_int(const char *key)
{
	const uint8_t *v = bget(last.body, BODY_END, key);

	if (v == NULL)
		fail_msg("no \"%s\" in %.*s", key, (int)last.blen, last.body);
	return bint(v, BODY_END);
}

/* Returns the string value of key; its length in *len. */
static const uint8_t *get_str(const char *key, size_t *len)
{
	const uint8_t *v = bget(last.body, BODY_END, key), *s;

	if (v == NULL)
		fail_msg("no \"%s\" in %.*s", key, (int)last.blen, last.body);
	assert_non_null(bstr(v, BODY_END, &s, len));
	return s;
}

/* ---- running queries ---------------------------------------------------- */

/* Runs one query at fx.now; the body lands in last.body. Checks the body is a
 * single well-formed bencoded dictionary and nothing was written past it. */
static size_t __attribute__((format(printf, 3, 4)))
http(enum tr_http_route route, const struct tr_addr *client, const char *fmt, ...)
{
	char q[8192];
	va_list ap;

	va_start(ap, fmt);
	int qn = vsnprintf(q, sizeof(q), fmt, ap);
	va_end(ap);
	assert_true(qn >= 0 && (size_t)qn < sizeof(q));

	memset(last.body, GUARD_VAL, sizeof(last.body));
	last.blen =
	    tr_http_handle(&fx.ctx, route, q, (size_t)qn, client, fx.now, last.body, OUT_SIZE);
	for (size_t i = OUT_SIZE; i < sizeof(last.body); i++)
		assert_int_equal(last.body[i], GUARD_VAL);
	assert_true(last.blen > 0 && last.blen <= OUT_SIZE);
	assert_int_equal(last.body[0], 'd');
	if (bskip(last.body, BODY_END) != BODY_END)
		fail_msg("not one bencoded value: %.*s", (int)last.blen, last.body);
	return last.blen;
}

/* Announces ih from client (at its own port); extra is appended as is. */
static void announce_q(const struct tr_addr *client, const uint8_t *ih, uint64_t left,
		       const char *extra)
{
	http(TR_HTTP_ANNOUNCE, client,
	     "info_hash=%s&peer_id=%s&port=%u&uploaded=0&downloaded=0&left=%llu%s", enc(ih, 20),
	     enc(peer_id, 20), client->port, (unsigned long long)left, extra);
}

/* Announces and checks the body is an announce reply, not a failure. */
static void announce_ok(const struct tr_addr *client, const uint8_t *ih, uint64_t left,
			const char *extra)
{
	announce_q(client, ih, left, extra);
	if (has("failure reason"))
		fail_msg("refused: %.*s", (int)last.blen, last.body);
	assert_true(has("interval"));
	assert_true(has("peers"));
}

static void join(const struct tr_addr *client, const uint8_t *ih, bool seeder)
{
	announce_ok(client, ih, seeder ? 0 : 1000, "&event=started&numwant=0");
}

/* Checks the body is a failure with a non-empty reason and nothing else. */
static void expect_failure(void)
{
	size_t len;

	get_str("failure reason", &len);
	assert_true(len > 0);
	assert_false(has("interval"));
	assert_false(has("peers"));
	assert_false(has("files"));
}

static struct ptab_counts counts_of(const uint8_t *ih)
{
	struct ptab_counts c;

	ptab_scrape(fx.pt, ih, &c);
	return c;
}

/* ---- UDP, by hand ------------------------------------------------------- */

static void put32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (24 - 8 * i));
}

static void put64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (56 - 8 * i));
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint64_t get64(const uint8_t *p)
{
	return (uint64_t)get32(p) << 32 | get32(p + 4);
}

static uint64_t udp_connect(const struct tr_addr *src, uint8_t *out)
{
	uint8_t req[16];

	put64(req, 0x41727101980ULL);
	put32(req + 8, 0);
	put32(req + 12, 7);
	assert_int_equal(
	    tr_udp_handle(&fx.ctx, src, req, 16, out, TR_UDP_PAYLOAD_MAX_V6, fx.now, NULL), 16);
	assert_int_equal(get32(out + 4), 7);
	return get64(out + 8);
}

/* Announces over UDP (started, numwant 50); returns the reply length. */
static size_t udp_announce(const struct tr_addr *src, const uint8_t *ih, uint64_t left,
			   uint8_t *out)
{
	uint8_t req[98] = {0};

	put64(req, udp_connect(src, out));
	put32(req + 8, 1);
	put32(req + 12, 8);
	memcpy(req + 16, ih, TR_HASH_LEN);
	memcpy(req + 36, peer_id, TR_HASH_LEN);
	put64(req + 64, left);
	put32(req + 80, 2);
	put32(req + 92, 50);
	req[96] = (uint8_t)(src->port >> 8);
	req[97] = (uint8_t)src->port;
	size_t n =
	    tr_udp_handle(&fx.ctx, src, req, sizeof(req), out, TR_UDP_PAYLOAD_MAX_V6, fx.now, NULL);
	assert_true(n >= 20);
	assert_int_equal(get32(out), 1);
	return n;
}

/* Scrapes one hash over UDP: seeders, completed, leechers. */
static void udp_scrape(const struct tr_addr *src, const uint8_t *ih, uint32_t out3[3])
{
	uint8_t req[36], out[TR_UDP_PAYLOAD_MAX_V4];

	put64(req, udp_connect(src, out));
	put32(req + 8, 2);
	put32(req + 12, 9);
	memcpy(req + 16, ih, TR_HASH_LEN);
	assert_int_equal(tr_udp_handle(&fx.ctx, src, req, 36, out, sizeof(out), fx.now, NULL), 20);
	assert_int_equal(get32(out), 2);
	for (int i = 0; i < 3; i++)
		out3[i] = get32(out + 8 + 4 * i);
}

/* ---- fixture ------------------------------------------------------------ */

static int setup(void **state)
{
	(void)state;
	memset(&last, 0, sizeof(last));
	return tracker_fx_up(&fx, "trhttp", 1000, T0);
}

static int teardown(void **state)
{
	(void)state;
	tracker_fx_down(&fx);
	return 0;
}

static int group_setup(void **state)
{
	(void)state;
	return eal_test_init("trhttp", 256) < 0 ? -1 : 0;
}

static int group_teardown(void **state)
{
	(void)state;
	eal_test_fini();
	return 0;
}

/* ---- announce ----------------------------------------------------------- */

static void test_http_announce_returns_a_dictionary_with_counts_interval_and_peers(void **state)
{
	(void)state;
	uint8_t ih[TR_HASH_LEN];
	struct tr_addr peers[5];

	hash_of(ih, 0); /* every byte a query must escape */
	for (unsigned i = 0; i < 5; i++) {
		peers[i] = v4(i + 1);
		join(&peers[i], ih, i < 2);
	}
	struct tr_addr me = v4(50);
	announce_ok(&me, ih, 500, "&event=started&compact=1");

	assert_int_equal(get_int("complete"), 2);
	assert_int_equal(get_int("incomplete"), 4);
	assert_int_equal(get_int("downloaded"), 0);
	assert_in_range(get_int("interval"), 1800, 1800 + 120);
	assert_int_equal(get_int("min interval"), 900);
	size_t len;
	const uint8_t *p = get_str("peers", &len);
	assert_int_equal(len, 5 * 6);
	assert_true(peers_all_in(p, 5, 6, peers, 5));
	get_str("peers6", &len);
	assert_int_equal(len, 0); /* present, empty: no IPv6 peers for it */

	/* The percent-decoded hash is the swarm's key. */
	struct ptab_counts c = counts_of(ih);
	assert_int_equal(c.seeders, 2);
	assert_int_equal(c.leechers, 4);
	assert_int_equal(fx.st.req[STATS_HTTP][STATS_ANNOUNCE], 6);
}

static void test_http_announce_decodes_lower_and_upper_case_escapes_alike(void **state)
{
	(void)state;
	uint8_t ih[TR_HASH_LEN];
	struct tr_addr a = v4(1), b = v4(2);

	hash_of(ih, 0);
	http(TR_HTTP_ANNOUNCE, &a, "info_hash=%s&peer_id=%s&port=%u&left=1", enc_case(ih, 20, true),
	     enc_case(peer_id, 20, true), a.port);
	assert_false(has("failure reason"));
	http(TR_HTTP_ANNOUNCE, &b, "info_hash=%s&peer_id=%s&port=%u&left=1",
	     enc_case(ih, 20, false), enc_case(peer_id, 20, false), b.port);
	assert_false(has("failure reason"));
	assert_int_equal(get_int("incomplete"), 2);
	assert_int_equal(counts_of(ih).leechers, 2);
}

static void test_http_compact_peers_are_six_byte_entries_without_the_announcer(void **state)
{
	(void)state;
	uint8_t ih[TR_HASH_LEN];
	struct tr_addr peers[10];

	hash_of(ih, 1);
	for (unsigned i = 0; i < 10; i++) {
		peers[i] = v4(i + 1);
		join(&peers[i], ih, i % 4 == 0);
	}
	for (unsigned i = 0; i < 10; i++) {
		size_t len;

		announce_ok(&peers[i], ih, i % 4 == 0 ? 0 : 1, "&compact=1&numwant=50");
		const uint8_t *p = get_str("peers", &len);

		assert_int_equal(len % 6, 0);
		assert_true(len > 0);
		assert_false(peers_include(p, len / 6, 6, &peers[i]));
		assert_true(peers_all_in(p, len / 6, 6, peers, 10));
		if (i % 4 != 0) /* a leecher gets the nine others */
			assert_int_equal(len, 9 * 6);
	}
}

static void test_http_ipv6_client_gets_peers6(void **state)
{
	(void)state;
	uint8_t ih[TR_HASH_LEN];
	struct tr_addr p6[5], p4[3];
	size_t len;

	hash_of(ih, 1);
	for (unsigned i = 0; i < 5; i++) {
		p6[i] = v6(i + 1);
		join(&p6[i], ih, false);
	}
	for (unsigned i = 0; i < 3; i++) {
		p4[i] = v4(i + 1);
		join(&p4[i], ih, false);
	}
	struct tr_addr me = v6(50);
	announce_ok(&me, ih, 1, "&numwant=50");
	const uint8_t *p = get_str("peers6", &len);
	assert_int_equal(len, 5 * 18);
	assert_true(peers_all_in(p, 5, 18, p6, 5));
	get_str("peers", &len);
	assert_int_equal(len, 0); /* same family only */
	assert_int_equal(get_int("incomplete"), 9);

	/* And an IPv4 client gets no IPv6 peers. */
	struct tr_addr me4 = v4(50);
	announce_ok(&me4, ih, 1, "&numwant=50");
	get_str("peers6", &len);
	assert_int_equal(len, 0); /* present, empty: no IPv6 peers for it */
	p = get_str("peers", &len);
	assert_int_equal(len, 3 * 6);
	assert_true(peers_all_in(p, 3, 6, p4, 3));
}

/* Checks last.body's "peers" is a list of n {ip, port} dictionaries, each one
 * of set. */
static void expect_peer_dicts(const struct tr_addr *set, size_t k, size_t n)
{
	const uint8_t *l = bget(last.body, BODY_END, "peers");
	size_t seen = 0;

	assert_non_null(l);
	assert_int_equal(*l, 'l');
	for (l++; *l != 'e'; l = bskip(l, BODY_END), seen++) {
		const uint8_t *ip = bget(l, BODY_END, "ip"), *s = NULL;
		const uint8_t *port = bget(l, BODY_END, "port");
		char text[INET6_ADDRSTRLEN + 1];
		size_t len;
		bool found = false;

		assert_non_null(ip);
		assert_non_null(port);
		assert_non_null(bstr(ip, BODY_END, &s, &len));
		assert_true(len < sizeof(text));
		memcpy(text, s, len);
		text[len] = '\0';
		for (size_t j = 0; j < k && !found; j++) {
			char want[INET6_ADDRSTRLEN];

			inet_ntop(set[j].family == TR_AF_INET ? AF_INET : AF_INET6, set[j].ip, want,
				  sizeof(want));
			found = strcmp(want, text) == 0 && bint(port, BODY_END) == set[j].port;
		}
		if (!found)
			fail_msg("peer %s:%lld is not in the swarm", text,
				 (long long)bint(port, BODY_END));
	}
	assert_int_equal(seen, n);
}

static void test_http_non_compact_gives_a_list_of_dictionaries_with_ip_and_port(void **state)
{
	(void)state;
	uint8_t ih[TR_HASH_LEN];
	struct tr_addr p4[4], p6[3];

	hash_of(ih, 1);
	for (unsigned i = 0; i < 4; i++) {
		p4[i] = v4(i + 1);
		join(&p4[i], ih, false);
	}
	for (unsigned i = 0; i < 3; i++) {
		p6[i] = v6(i + 1);
		join(&p6[i], ih, true);
	}
	struct tr_addr me4 = v4(50), me6 = v6(50);

	announce_ok(&me4, ih, 1, "&compact=0&numwant=50");
	expect_peer_dicts(p4, 4, 4);
	assert_false(has("peers6")); /* non-compact lists every family in "peers" */

	announce_ok(&me6, ih, 1, "&compact=0&no_peer_id=1&numwant=50");
	expect_peer_dicts(p6, 3, 3);
}

static void test_http_announce_honours_numwant(void **state)
{
	(void)state;
	uint8_t ih[TR_HASH_LEN];
	struct tr_addr me = v4(100);
	size_t len;

	hash_of(ih, 1);
	for (unsigned i = 0; i < 30; i++) {
		struct tr_addr p = v4(i + 1);

		join(&p, ih, i % 2 == 0);
	}
	announce_ok(&me, ih, 1, "&numwant=5");
	get_str("peers", &len);
	assert_int_equal(len, 5 * 6);
	announce_ok(&me, ih, 1, "&num_want=3");
	get_str("peers", &len);
	assert_int_equal(len, 3 * 6);
	announce_ok(&me, ih, 1, "&numwant=0");
	get_str("peers", &len);
	assert_int_equal(len, 0);

	/* Absent: the default; above the maximum: the maximum. */
	fx.tr.p.numwant_default = 7;
	fx.tr.p.numwant_max = 10;
	announce_ok(&me, ih, 1, "");
	get_str("peers", &len);
	assert_int_equal(len, 7 * 6);
	announce_ok(&me, ih, 1, "&numwant=25");
	get_str("peers", &len);
	assert_int_equal(len, 10 * 6);
	announce_ok(&me, ih, 1, "&numwant=99999999999");
	get_str("peers", &len);
	assert_int_equal(len, 10 * 6);
}

static void test_http_completed_and_stopped_update_the_counts(void **state)
{
	(void)state;
	uint8_t ih[TR_HASH_LEN];
	struct tr_addr a = v4(1), b = v4(2);

	hash_of(ih, 1);
	join(&a, ih, false);
	join(&b, ih, false);
	announce_ok(&a, ih, 0, "&event=completed");
	assert_int_equal(get_int("complete"), 1);
	assert_int_equal(get_int("incomplete"), 1);
	assert_int_equal(get_int("downloaded"), 1);
	announce_ok(&a, ih, 0, "&event=completed");
	assert_int_equal(get_int("downloaded"), 1);

	announce_ok(&b, ih, 1, "&event=stopped");
	size_t len;
	get_str("peers", &len);
	assert_int_equal(len, 0);
	struct ptab_counts c = counts_of(ih);
	assert_int_equal(c.seeders, 1);
	assert_int_equal(c.leechers, 0);
	assert_int_equal(c.completed, 1);
}

/* ---- refusals ----------------------------------------------------------- */

static void test_http_bad_announces_get_a_failure_reason_and_are_counted(void **state)
{
	(void)state;
	uint8_t ih[TR_HASH_LEN];
	struct tr_addr c = v4(1);
	const char *pid;

	hash_of(ih, 1);
	pid = enc(peer_id, 20);

	/* No info_hash. */
	http(TR_HTTP_ANNOUNCE, &c, "peer_id=%s&port=6881&left=1", pid);
	expect_failure();
	assert_int_equal(fx.st.http_bad[HTTP_REQ_ERR_INFO_HASH], 1);

	/* A 19-byte info_hash, and a 21-byte one. */
	http(TR_HTTP_ANNOUNCE, &c, "info_hash=%s&peer_id=%s&port=6881&left=1", enc(ih, 19), pid);
	expect_failure();
	http(TR_HTTP_ANNOUNCE, &c, "info_hash=%sA&peer_id=%s&port=6881&left=1", enc(ih, 20), pid);
	expect_failure();
	assert_int_equal(fx.st.http_bad[HTTP_REQ_ERR_INFO_HASH], 3);

	/* Bad percent-encoding: a non-hex digit, and an escape cut short. */
	http(TR_HTTP_ANNOUNCE, &c, "info_hash=%s%%G1&peer_id=%s&port=6881&left=1", enc(ih, 19),
	     pid);
	expect_failure();
	http(TR_HTTP_ANNOUNCE, &c, "peer_id=%s&port=6881&left=1&info_hash=%s%%4", pid, enc(ih, 19));
	expect_failure();
	assert_int_equal(fx.st.http_bad[HTTP_REQ_ERR_ENCODING], 2);

	/* Port 0, and no port at all. */
	http(TR_HTTP_ANNOUNCE, &c, "info_hash=%s&peer_id=%s&port=0&left=1", enc(ih, 20), pid);
	expect_failure();
	http(TR_HTTP_ANNOUNCE, &c, "info_hash=%s&peer_id=%s&left=1", enc(ih, 20), pid);
	expect_failure();
	assert_int_equal(fx.st.http_bad[HTTP_REQ_ERR_PORT], 2);

	assert_int_equal(fx.st.err[STATS_HTTP][STATS_ERR_MALFORMED], 7);
	assert_int_equal(fx.st.req[STATS_HTTP][STATS_ANNOUNCE], 0);
	/* Nothing refused reached the table. */
	struct ptab_counts k = counts_of(ih);
	assert_int_equal(k.seeders + k.leechers, 0);
	struct ptab_stats ps;
	ptab_stats(fx.pt, &ps);
	assert_int_equal(ps.swarms, 0);
}

/* ---- scrape ------------------------------------------------------------- */

/* Checks the scrape body's entry for ih. */
static void expect_file(const uint8_t *ih, int64_t complete, int64_t downloaded, int64_t incomplete)
{
	const uint8_t *files = bget(last.body, BODY_END, "files");

	assert_non_null(files);
	const uint8_t *e = bget_n(files, BODY_END, ih, TR_HASH_LEN);
	if (e == NULL)
		fail_msg("no entry for a scraped hash in %.*s", (int)last.blen, last.body);
	assert_int_equal(bint(bget(e, BODY_END, "complete"), BODY_END), complete);
	assert_int_equal(bint(bget(e, BODY_END, "downloaded"), BODY_END), downloaded);
	assert_int_equal(bint(bget(e, BODY_END, "incomplete"), BODY_END), incomplete);
}

/* Returns the number of entries in the scrape body's "files". */
static size_t files_count(void)
{
	const uint8_t *d = bget(last.body, BODY_END, "files"), *s;
	size_t n = 0, len;

	assert_non_null(d);
	assert_int_equal(*d, 'd');
	for (d++; *d != 'e'; n++) {
		d = bstr(d, BODY_END, &s, &len);
		assert_non_null(d);
		assert_int_equal(len, TR_HASH_LEN);
		d = bskip(d, BODY_END);
		assert_non_null(d);
	}
	return n;
}

static void test_http_scrape_of_several_hashes_gives_sorted_unique_files(void **state)
{
	(void)state;
	uint8_t a[TR_HASH_LEN], b[TR_HASH_LEN], unknown[TR_HASH_LEN];

	hash_of(a, 0);
	hash_of(b, 2);
	hash_of(unknown, 3);
	/* a: 3 seeders (one completed), 2 leechers; b: 1 leecher. */
	for (unsigned i = 0; i < 4; i++) {
		struct tr_addr p = v4(i + 1);

		join(&p, a, false);
	}
	struct tr_addr s1 = v4(10), s2 = v6(10), p1 = v4(1), lone = v4(20);
	join(&s1, a, true);
	join(&s2, a, true);
	announce_ok(&p1, a, 0, "&event=completed");
	struct tr_addr p2 = v4(2);
	announce_ok(&p2, a, 0, "");
	join(&lone, b, false);

	struct tr_addr c = v4(900);
	http(TR_HTTP_SCRAPE, &c, "info_hash=%s&info_hash=%s&info_hash=%s&foo=bar&info_hash=%s",
	     enc(b, 20), enc(a, 20), enc(unknown, 20), enc(a, 20));
	assert_false(has("failure reason"));
	/* bskip() in http() already refused unsorted or duplicate keys. */
	assert_int_equal(files_count(), 3);
	expect_file(a, 4, 1, 2);
	expect_file(b, 0, 0, 1);
	expect_file(unknown, 0, 0, 0);
	assert_int_equal(fx.st.req[STATS_HTTP][STATS_SCRAPE], 1);

	/* A scrape creates nothing. */
	struct ptab_stats ps;
	ptab_stats(fx.pt, &ps);
	assert_int_equal(ps.swarms, 2);
}

static void test_http_scrape_without_info_hash_is_refused_as_a_full_scrape(void **state)
{
	(void)state;
	struct tr_addr c = v4(1);

	http(TR_HTTP_SCRAPE, &c, "%s", "");
	expect_failure();
	http(TR_HTTP_SCRAPE, &c, "peer_id=x&foo=bar");
	expect_failure();
	assert_int_equal(fx.st.err[STATS_HTTP][STATS_ERR_FULL_SCRAPE], 2);
	assert_int_equal(fx.st.req[STATS_HTTP][STATS_SCRAPE], 0);
}

static void test_http_scrape_with_a_bad_info_hash_is_refused_and_counted(void **state)
{
	(void)state;
	uint8_t ih[TR_HASH_LEN];
	struct tr_addr c = v4(1);

	hash_of(ih, 1);
	http(TR_HTTP_SCRAPE, &c, "info_hash=%s&info_hash=%s", enc(ih, 20), enc(ih, 19));
	expect_failure();
	assert_int_equal(fx.st.http_bad[HTTP_REQ_ERR_INFO_HASH], 1);
	assert_int_equal(fx.st.err[STATS_HTTP][STATS_ERR_MALFORMED], 1);
	assert_int_equal(fx.st.req[STATS_HTTP][STATS_SCRAPE], 0);
}

/* ---- BEP 7 address parameters ------------------------------------------- */

static void test_http_ip_params_are_ignored_unless_trusted(void **state)
{
	(void)state;
	uint8_t ih[TR_HASH_LEN];
	struct tr_addr client = v4(1), later6 = v6(2), later4 = v4(3);
	size_t len;

	hash_of(ih, 1);
	announce_ok(&client, ih, 1, "&ipv6=fd00%3A%3Abeef&ip=198.18.9.9");
	get_str("peers6", &len);
	assert_int_equal(len, 0); /* present, empty: no IPv6 peers for it */
	assert_int_equal(get_int("incomplete"), 1);

	/* An IPv6 announcer sees no IPv6 peer: the parameter was not registered. */
	announce_ok(&later6, ih, 1, "&numwant=50");
	get_str("peers6", &len);
	assert_int_equal(len, 0); /* present, empty: no IPv6 peers for it */
	assert_int_equal(get_int("incomplete"), 2);

	/* An IPv4 announcer sees the client's real address, not ip=. */
	announce_ok(&later4, ih, 1, "&numwant=50");
	const uint8_t *p = get_str("peers", &len);
	assert_int_equal(len, 6);
	assert_true(peers_include(p, 1, 6, &client));
	struct ptab_stats ps;
	ptab_stats(fx.pt, &ps);
	assert_int_equal(ps.peers4, 2);
	assert_int_equal(ps.peers6, 1);
}

static void test_http_trusted_ipv6_param_registers_the_client_under_both_families(void **state)
{
	(void)state;
	uint8_t ih[TR_HASH_LEN];
	struct tr_addr client = v4(1), later6 = v6(2), later4 = v4(3);
	struct tr_addr client6 = v6(0xbeef);
	size_t len;

	fx.tr.p.http_trust_ip_params = true;
	client6.port = client.port;
	hash_of(ih, 1);
	announce_ok(&client, ih, 1, "&ipv6=fd00%3A%3Abeef");

	/* A later IPv6 announcer sees it at its IPv6 address and port. */
	announce_ok(&later6, ih, 1, "&numwant=50");
	const uint8_t *p = get_str("peers6", &len);
	assert_int_equal(len, 18);
	assert_true(peers_include(p, 1, 18, &client6));

	/* A later IPv4 announcer sees its IPv4 address. */
	announce_ok(&later4, ih, 1, "&numwant=50");
	p = get_str("peers", &len);
	assert_int_equal(len, 6);
	assert_true(peers_include(p, 1, 6, &client));

	struct ptab_stats ps;
	ptab_stats(fx.pt, &ps);
	assert_int_equal(ps.peers4, 2);
	assert_int_equal(ps.peers6, 2);
}

static void test_http_dual_stack_announcer_never_gets_its_own_addresses(void **state)
{
	(void)state;
	uint8_t ih[TR_HASH_LEN];
	struct tr_addr client = v4(1), other6 = v6(2), other4 = v4(3);
	struct tr_addr client6 = v6(0xbeef);
	size_t len;

	fx.tr.p.http_trust_ip_params = true;
	client6.port = client.port;
	hash_of(ih, 1);
	join(&other6, ih, false);
	join(&other4, ih, false);
	/* The first announce registers both addresses, the second re-announces:
	 * neither reply may list the client itself, in either family. */
	for (int round = 0; round < 2; round++) {
		announce_ok(&client, ih, 1, "&ipv6=fd00%3A%3Abeef&numwant=50");
		const uint8_t *p = get_str("peers", &len);

		assert_int_equal(len, 6);
		assert_true(peers_include(p, 1, 6, &other4));
		p = get_str("peers6", &len);
		assert_false(peers_include(p, len / 18, 18, &client6));
		assert_int_equal(len, 18);
		assert_true(peers_include(p, 1, 18, &other6));
	}
}

/* ---- one table, two protocols ------------------------------------------- */

static void test_http_and_udp_see_the_same_swarms(void **state)
{
	(void)state;
	uint8_t x[TR_HASH_LEN], y[TR_HASH_LEN], out[TR_UDP_PAYLOAD_MAX_V4];
	struct tr_addr u = v4(1), h = v4(2), u6 = v6(1);
	uint32_t k[3];
	size_t len;

	hash_of(x, 0);
	hash_of(y, 5);

	/* Announced over UDP, scraped over HTTP. */
	udp_announce(&u, x, 1, out);
	udp_announce(&u6, x, 0, out);
	struct tr_addr c = v4(900);
	http(TR_HTTP_SCRAPE, &c, "info_hash=%s", enc(x, 20));
	expect_file(x, 1, 0, 1);

	/* An HTTP announcer gets the UDP peer. */
	announce_ok(&h, x, 1, "&numwant=50");
	const uint8_t *p = get_str("peers", &len);
	assert_int_equal(len, 6);
	assert_true(peers_include(p, 1, 6, &u));

	/* Announced over HTTP, scraped over UDP (seeders, completed, leechers). */
	announce_ok(&h, y, 0, "&event=completed");
	udp_scrape(&u, y, k);
	assert_int_equal(k[0], 1);
	assert_int_equal(k[1], 1);
	assert_int_equal(k[2], 0);

	/* And a UDP announcer gets the HTTP peer. */
	size_t n = udp_announce(&u, y, 1, out);
	assert_int_equal(n, 20 + 6);
	assert_true(peers_include(out + 20, 1, 6, &h));

	assert_int_equal(fx.st.req[STATS_UDP][STATS_ANNOUNCE], 3);
	assert_int_equal(fx.st.req[STATS_UDP][STATS_SCRAPE], 1);
	assert_int_equal(fx.st.req[STATS_HTTP][STATS_ANNOUNCE], 2);
	assert_int_equal(fx.st.req[STATS_HTTP][STATS_SCRAPE], 1);
}

/* ---- access list ---------------------------------------------------------- */

/* Checks the body is the access list's failure reason. */
static void expect_access_failure(void)
{
	size_t len;
	const uint8_t *r = get_str("failure reason", &len);

	expect_failure();
	assert_int_equal(len, strlen(ACL_MSG_REFUSED));
	assert_memory_equal(r, ACL_MSG_REFUSED, len);
}

static void test_http_allow_list_serves_listed_hashes_and_refuses_the_rest(void **state)
{
	(void)state;
	uint8_t listed[TR_HASH_LEN], other[TR_HASH_LEN];
	struct tr_addr c = v4(1), d = v6(2);

	hash_of(listed, 0); /* the hash full of bytes a query escapes */
	hash_of(other, 2);
	tracker_fx_acl(&fx, ACL_ALLOW, listed, 1);
	join(&c, listed, false);
	announce_q(&c, other, 1000, "&event=started");
	expect_access_failure();
	announce_q(&d, other, 0, "");
	expect_access_failure();
	assert_int_equal(fx.st.err[STATS_HTTP][STATS_ERR_ACCESS], 2);
	assert_int_equal(fx.st.req[STATS_HTTP][STATS_ANNOUNCE], 1);
	assert_int_equal(counts_of(other).leechers + counts_of(other).seeders, 0);
	assert_int_equal(counts_of(listed).leechers, 1);
}

static void test_http_deny_list_refuses_listed_hashes_and_serves_the_rest(void **state)
{
	(void)state;
	uint8_t denied[TR_HASH_LEN], other[TR_HASH_LEN];
	struct tr_addr c = v4(1);

	hash_of(denied, 1);
	hash_of(other, 2);
	tracker_fx_acl(&fx, ACL_DENY, denied, 1);
	announce_q(&c, denied, 1000, "&event=started");
	expect_access_failure();
	join(&c, other, true);
	assert_int_equal(fx.st.err[STATS_HTTP][STATS_ERR_ACCESS], 1);
	assert_int_equal(counts_of(other).seeders, 1);
}

static void test_http_scrape_lists_refused_hashes_with_zeros_and_keeps_their_peers(void **state)
{
	(void)state;
	uint8_t a[TR_HASH_LEN], b[TR_HASH_LEN];
	struct tr_addr p1 = v4(1), p2 = v4(2), c = v4(900);

	hash_of(a, 1);
	hash_of(b, 2);
	join(&p1, a, true);
	join(&p2, b, false);
	tracker_fx_acl(&fx, ACL_ALLOW, b, 1);
	http(TR_HTTP_SCRAPE, &c, "info_hash=%s&info_hash=%s", enc(a, 20), enc(b, 20));
	assert_false(has("failure reason"));
	assert_int_equal(files_count(), 2);
	expect_file(a, 0, 0, 0);
	expect_file(b, 0, 0, 1);
	assert_int_equal(fx.st.err[STATS_HTTP][STATS_ERR_ACCESS], 1);
	assert_int_equal(fx.st.req[STATS_HTTP][STATS_SCRAPE], 1);
	/* The refused swarm kept its peer. */
	assert_int_equal(counts_of(a).seeders, 1);
	tracker_fx_acl(&fx, ACL_OFF, NULL, 0);
	http(TR_HTTP_SCRAPE, &c, "info_hash=%s", enc(a, 20));
	expect_file(a, 1, 0, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	    T(test_http_announce_returns_a_dictionary_with_counts_interval_and_peers),
	    T(test_http_announce_decodes_lower_and_upper_case_escapes_alike),
	    T(test_http_compact_peers_are_six_byte_entries_without_the_announcer),
	    T(test_http_ipv6_client_gets_peers6),
	    T(test_http_non_compact_gives_a_list_of_dictionaries_with_ip_and_port),
	    T(test_http_announce_honours_numwant),
	    T(test_http_completed_and_stopped_update_the_counts),
	    T(test_http_bad_announces_get_a_failure_reason_and_are_counted),
	    T(test_http_scrape_of_several_hashes_gives_sorted_unique_files),
	    T(test_http_scrape_without_info_hash_is_refused_as_a_full_scrape),
	    T(test_http_scrape_with_a_bad_info_hash_is_refused_and_counted),
	    T(test_http_ip_params_are_ignored_unless_trusted),
	    T(test_http_trusted_ipv6_param_registers_the_client_under_both_families),
	    T(test_http_dual_stack_announcer_never_gets_its_own_addresses),
	    T(test_http_and_udp_see_the_same_swarms),
	    T(test_http_allow_list_serves_listed_hashes_and_refuses_the_rest),
	    T(test_http_deny_list_refuses_listed_hashes_and_serves_the_rest),
	    T(test_http_scrape_lists_refused_hashes_with_zeros_and_keeps_their_peers),
#undef T
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
