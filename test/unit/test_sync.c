/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_sync.c - the cluster's batch format: round trips, the documented
 * bytes, and a refusal for every way a batch from the network can be wrong.
 *
 * Every parse runs over a copy that ends at a guard page (guard.h), so a
 * read of even one byte past the batch faults instead of passing; writes
 * that must not fit go to a buffer of exactly cap bytes ending at one.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "guard.h"
#include "core/sync.h"

#define BASE_MS 1700000000000ull /* 2023-11-14, a batch's close time */

/* Every flag combination a record may carry (all but STOPPED|COMPLETED). */
static const uint8_t allowed_flags[] = {
    0,
    SYNC_F_SEEDER,
    SYNC_F_STOPPED,
    SYNC_F_COMPLETED,
    SYNC_F_SEEDER | SYNC_F_STOPPED,
    SYNC_F_SEEDER | SYNC_F_COMPLETED,
};
#define N_ALLOWED (sizeof(allowed_flags) / sizeof(allowed_flags[0]))

/* Sets h to a batch header of instance id, seq 7, closed at base_ms. */
static void hdr_init(struct sync_batch_hdr *h, const char *id, uint64_t base_ms)
{
	memset(h, 0, sizeof(*h));
	h->epoch = 0x0102030405060708ull;
	h->seq = 7;
	h->base_ms = base_ms;
	h->instance_len = (uint8_t)strlen(id);
	memcpy(h->instance, id, h->instance_len);
}

/* Sets r to record i: its own hash, address (198.18.i.i or fd00:d::i:i)
 * and port, IPv6 when v6. Every byte of r written, padding zero. */
static void rec_init(struct sync_rec *r, unsigned i, bool v6, uint8_t flags, uint64_t ms)
{
	memset(r, 0, sizeof(*r));
	r->ms = ms;
	for (unsigned j = 0; j < TR_HASH_LEN; j++)
		r->info_hash[j] = (uint8_t)(i * 31 + j);
	r->peer.family = v6 ? TR_AF_INET6 : TR_AF_INET;
	if (v6) {
		r->peer.ip[0] = 0xfd;
		r->peer.ip[3] = 0x0d;
		r->peer.ip[13] = (uint8_t)(i >> 8);
		r->peer.ip[14] = (uint8_t)i;
		r->peer.ip[15] = (uint8_t)i;
	} else {
		r->peer.ip[0] = 198;
		r->peer.ip[1] = 18;
		r->peer.ip[2] = (uint8_t)(i >> 8);
		r->peer.ip[3] = (uint8_t)i;
	}
	r->peer.port = (uint16_t)(6881 + i);
	r->flags = flags;
}

static void assert_rec_equal(const struct sync_rec *got, const struct sync_rec *want)
{
	assert_true(got->ms == want->ms);
	assert_memory_equal(got->info_hash, want->info_hash, TR_HASH_LEN);
	assert_int_equal(got->peer.family, want->peer.family);
	assert_memory_equal(got->peer.ip, want->peer.ip, sizeof(got->peer.ip));
	assert_int_equal(got->peer.port, want->peer.port);
	assert_int_equal(got->flags, want->flags);
	assert_memory_equal(got, want, sizeof(*got)); /* padding zero on both sides */
}

/* Parses len bytes of src from a guard-page copy, which stays mapped until
 * the next call (the iterator reads it). */
static enum sync_err parse_guarded(const uint8_t *src, size_t len, struct sync_batch_hdr *h,
				   struct sync_batch_iter *it)
{
	static struct guard_buf g;
	static bool live;

	if (live)
		guard_free(&g);
	live = true;
	return sync_batch_parse(guard_copy(&g, src, len), len, h, it);
}

/* The mixed batch: each allowed flag combination on an IPv4 and an IPv6
 * record, ms a second apart below base_ms. */
#define MIXED_N	  (2 * N_ALLOWED)
#define MIXED_LEN (SYNC_HDR_LEN + 8 + N_ALLOWED * (SYNC_REC4_LEN + SYNC_REC6_LEN))

static void mixed_init(struct sync_batch_hdr *h, struct sync_rec recs[MIXED_N])
{
	hdr_init(h, "dpt-eu_1", BASE_MS);
	for (unsigned i = 0; i < MIXED_N; i++)
		rec_init(&recs[i], i, i % 2 == 1, allowed_flags[i / 2], BASE_MS - 1000ull * i);
}

/* Writes the mixed batch to b (room for sync_batch_max_len(MIXED_N)) and
 * returns its length. */
static size_t mixed_write(uint8_t *b)
{
	struct sync_batch_hdr h;
	struct sync_rec recs[MIXED_N];

	mixed_init(&h, recs);
	return sync_batch_write(&h, recs, MIXED_N, b, sync_batch_max_len(MIXED_N));
}

/* ------------------------------------------------------------------------
 * Round trips and the documented bytes.
 */

static void test_sync_round_trips_mixed_families_with_every_allowed_flag_combination(void **state)
{
	uint8_t b[SYNC_BATCH_MAX_LEN];
	struct sync_batch_hdr h, got;
	struct sync_rec recs[MIXED_N], r;
	struct sync_batch_iter it;
	size_t n;

	(void)state;
	mixed_init(&h, recs);
	n = sync_batch_write(&h, recs, MIXED_N, b, sizeof(b));
	assert_int_equal(n, MIXED_LEN);
	assert_int_equal(parse_guarded(b, n, &got, &it), SYNC_OK);
	assert_true(got.epoch == h.epoch);
	assert_true(got.seq == h.seq);
	assert_true(got.base_ms == h.base_ms);
	assert_int_equal(got.count, MIXED_N);
	assert_int_equal(got.instance_len, 8);
	assert_string_equal(got.instance, "dpt-eu_1");
	for (unsigned i = 0; i < MIXED_N; i++) {
		assert_true(sync_batch_next(&it, &r));
		assert_rec_equal(&r, &recs[i]);
	}
	assert_false(sync_batch_next(&it, &r));
	assert_false(sync_batch_next(&it, &r));
}

static void test_sync_writes_the_documented_bytes(void **state)
{
	static const uint8_t head[] = {'D', 'P', 'T',  'S',  1,	   0,	 0,    2,    1, 2,   3,	 4,
				       5,   6,	 7,    8,    0,	   0,	 0,    0,    0, 0,   0,	 7,
				       0,   0,	 0x01, 0x8b, 0xcf, 0xe5, 0x68, 0x00, 2, 'n', '1'};
	static const uint8_t v4_addr[] = {198, 18, 0, 7, 0x1a, 0xe1};
	static const uint8_t v6_addr[] = {0xfd, 0, 0, 0x0d, 0, 0, 0, 0,	   0,
					  0,	0, 0, 0,    0, 0, 2, 0xff, 0xfe};
	uint8_t want[sizeof(head) + SYNC_REC4_LEN + SYNC_REC6_LEN], *p = want;
	uint8_t b[sizeof(want) + SYNC_INSTANCE_MAX + SYNC_REC6_LEN];
	struct sync_batch_hdr h;
	struct sync_rec recs[2];

	(void)state;
	hdr_init(&h, "n1", BASE_MS); /* 1700000000000 = 0x18bcfe56800 */
	rec_init(&recs[0], 0, false, SYNC_F_SEEDER | SYNC_F_COMPLETED, BASE_MS - 0x01020304);
	memcpy(recs[0].peer.ip, v4_addr, 4);
	recs[0].peer.port = 6881;
	rec_init(&recs[1], 1, true, SYNC_F_STOPPED, BASE_MS + 5); /* later: age 0 */
	memset(recs[1].peer.ip, 0, 16);
	memcpy(recs[1].peer.ip, v6_addr, 16);
	recs[1].peer.port = 0xfffe;

	memcpy(p, head, sizeof(head));
	p += sizeof(head);
	*p++ = 0x0a; /* IPv4, seeder, completed */
	memcpy(p, "\x01\x02\x03\x04", 4);
	memcpy(p + 4, recs[0].info_hash, TR_HASH_LEN);
	memcpy(p + 24, v4_addr, sizeof(v4_addr));
	p += 4 + TR_HASH_LEN + sizeof(v4_addr);
	*p++ = 0x05; /* IPv6, stopped */
	memset(p, 0, 4);
	memcpy(p + 4, recs[1].info_hash, TR_HASH_LEN);
	memcpy(p + 24, v6_addr, sizeof(v6_addr));

	assert_int_equal(sync_batch_write(&h, recs, 2, b, sizeof(b)), sizeof(want));
	assert_memory_equal(b, want, sizeof(want));
}

static void test_sync_round_trips_4096_ipv6_records_and_refuses_4097(void **state)
{
	const unsigned max = SYNC_BATCH_MAX_RECORDS;
	char id[SYNC_INSTANCE_MAX + 1];
	struct sync_rec *recs = calloc(max + 1, sizeof(*recs));
	uint8_t *b = malloc(SYNC_BATCH_MAX_LEN + SYNC_REC6_LEN);
	struct sync_batch_hdr h, got;
	struct sync_batch_iter it;
	struct sync_rec r;
	size_t n;

	(void)state;
	assert_non_null(recs);
	assert_non_null(b);
	memset(id, 'z', SYNC_INSTANCE_MAX);
	id[SYNC_INSTANCE_MAX] = '\0';
	hdr_init(&h, id, BASE_MS);
	for (unsigned i = 0; i <= max; i++)
		rec_init(&recs[i], i, true, allowed_flags[i % N_ALLOWED], BASE_MS - i);

	n = sync_batch_write(&h, recs, max, b, SYNC_BATCH_MAX_LEN);
	assert_int_equal(n, SYNC_BATCH_MAX_LEN);
	assert_int_equal(n, sync_batch_max_len(max));
	assert_int_equal(parse_guarded(b, n, &got, &it), SYNC_OK);
	assert_int_equal(got.count, max);
	assert_string_equal(got.instance, id);
	for (unsigned i = 0; i < max; i++) {
		assert_true(sync_batch_next(&it, &r));
		assert_rec_equal(&r, &recs[i]);
	}
	assert_false(sync_batch_next(&it, &r));

	/* One more: the writer refuses it, and so does the parser when the
	 * 4097th record and the count are added by hand. */
	assert_int_equal(sync_batch_write(&h, recs, max + 1, b, SYNC_BATCH_MAX_LEN + SYNC_REC6_LEN),
			 0);
	memcpy(b + n, b + n - SYNC_REC6_LEN, SYNC_REC6_LEN);
	b[6] = (uint8_t)((max + 1) >> 8);
	b[7] = (uint8_t)(max + 1);
	assert_int_equal(parse_guarded(b, n + SYNC_REC6_LEN, &got, &it), SYNC_ERR_COUNT);
	free(b);
	free(recs);
}

/* One record's ms, the age written for it and the ms read back. */
struct age_case {
	const char *name;
	uint64_t base_ms;
	uint64_t ms;
	uint32_t age;
	uint64_t ms_back;
};

/* clang-format off */
static const struct age_case age_cases[] = {
	/* name                          base_ms  ms                           age          ms back */
	{"at base_ms",                   BASE_MS, BASE_MS,                     0,           BASE_MS},
	{"1 ms before",                  BASE_MS, BASE_MS - 1,                 1,           BASE_MS - 1},
	{"45 minutes before",            BASE_MS, BASE_MS - 2700000,           2700000,     BASE_MS - 2700000},
	{"UINT32_MAX ms before",         BASE_MS, BASE_MS - UINT32_MAX,        UINT32_MAX,  BASE_MS - UINT32_MAX},
	{"1 ms later: age 0",            BASE_MS, BASE_MS + 1,                 0,           BASE_MS},
	{"a day later: age 0",           BASE_MS, BASE_MS + 86400000,          0,           BASE_MS},
	{"UINT32_MAX + 1 before: capped", BASE_MS, BASE_MS - UINT32_MAX - 1,   UINT32_MAX,  BASE_MS - UINT32_MAX},
	{"ms 0, base 5",                 5,       0,                           5,           0},
	{"ms 0, base 0",                 0,       0,                           0,           0},
	{"ms UINT64_MAX",                BASE_MS, UINT64_MAX,                  0,           BASE_MS},
};
/* clang-format on */

static void test_sync_writes_later_records_with_age_zero_and_recovers_ms_exactly(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(age_cases) / sizeof(age_cases[0]); i++) {
		const struct age_case *c = &age_cases[i];
		uint8_t b[SYNC_HDR_LEN + 1 + SYNC_REC4_LEN];
		const size_t rec = SYNC_HDR_LEN + 1;
		struct sync_batch_hdr h;
		struct sync_batch_iter it;
		struct sync_rec r;

		print_message("%s\n", c->name);
		hdr_init(&h, "a", c->base_ms);
		rec_init(&r, 1, false, 0, c->ms);
		assert_int_equal(sync_batch_write(&h, &r, 1, b, sizeof(b)), sizeof(b));
		assert_int_equal(((uint32_t)b[rec + 1] << 24) | ((uint32_t)b[rec + 2] << 16) |
				     ((uint32_t)b[rec + 3] << 8) | b[rec + 4],
				 c->age);
		assert_int_equal(parse_guarded(b, sizeof(b), &h, &it), SYNC_OK);
		assert_true(sync_batch_next(&it, &r));
		assert_true(r.ms == c->ms_back);
	}
}

static void test_sync_max_len_bounds_every_batch_and_is_zero_for_no_batch(void **state)
{
	uint8_t b[SYNC_HDR_LEN + SYNC_INSTANCE_MAX + 3 * SYNC_REC6_LEN];
	char id[SYNC_INSTANCE_MAX + 1];
	struct sync_batch_hdr h;
	struct sync_rec recs[3];

	(void)state;
	assert_int_equal(sync_batch_max_len(0), 0);
	assert_int_equal(sync_batch_max_len(1), SYNC_HDR_LEN + SYNC_INSTANCE_MAX + SYNC_REC6_LEN);
	assert_int_equal(sync_batch_max_len(SYNC_BATCH_MAX_RECORDS), SYNC_BATCH_MAX_LEN);
	assert_int_equal(sync_batch_max_len(SYNC_BATCH_MAX_RECORDS + 1), 0);
	assert_int_equal(sync_batch_max_len(~0u), 0);
	/* The worst case is reached exactly: a 64-byte id, IPv6 records. */
	memset(id, 'A', SYNC_INSTANCE_MAX);
	id[SYNC_INSTANCE_MAX] = '\0';
	hdr_init(&h, id, BASE_MS);
	for (unsigned i = 0; i < 3; i++)
		rec_init(&recs[i], i, true, 0, BASE_MS);
	for (unsigned n = 1; n <= 3; n++)
		assert_int_equal(sync_batch_write(&h, recs, n, b, sizeof(b)),
				 sync_batch_max_len(n));
}

/* ------------------------------------------------------------------------
 * The writer's refusals.
 */

/* Fills cap bytes ending at a guard page with 0xa5, runs the writer with
 * exactly that cap, and checks it returned want_len and, when 0, left every
 * byte as it was. */
static void write_guarded(const struct sync_batch_hdr *h, const struct sync_rec *recs, unsigned n,
			  size_t cap, size_t want_len)
{
	static uint8_t fill[SYNC_BATCH_MAX_LEN];
	struct guard_buf g;
	uint8_t *out;

	memset(fill, 0xa5, cap);
	out = guard_copy(&g, fill, cap);
	assert_int_equal(sync_batch_write(h, recs, n, out, cap), want_len);
	if (want_len == 0)
		assert_memory_equal(out, fill, cap);
	guard_free(&g);
}

static void test_sync_write_that_does_not_fit_returns_zero_and_stays_within_cap(void **state)
{
	uint8_t want[SYNC_BATCH_MAX_LEN];
	struct sync_batch_hdr h;
	struct sync_rec recs[MIXED_N];
	size_t full = mixed_write(want);

	(void)state;
	mixed_init(&h, recs);
	for (size_t cap = 0; cap < full; cap++)
		write_guarded(&h, recs, MIXED_N, cap, 0);
	write_guarded(&h, recs, MIXED_N, full, full);
}

/* A writer's input: the mixed batch, then spoiled by one table row. */
struct write_input {
	struct sync_batch_hdr h;
	struct sync_rec recs[SYNC_BATCH_MAX_RECORDS + 1];
	unsigned n;
};

struct bad_write {
	const char *name;
	void (*spoil)(struct write_input *in);
};

static void no_records(struct write_input *in)
{
	in->n = 0;
}

static void too_many_records(struct write_input *in)
{
	in->n = SYNC_BATCH_MAX_RECORDS + 1;
}

static void seq_zero(struct write_input *in)
{
	in->h.seq = 0;
}

static void empty_instance(struct write_input *in)
{
	in->h.instance_len = 0;
	in->h.instance[0] = '\0';
}

static void instance_too_long(struct write_input *in)
{
	memset(in->h.instance, 'a', sizeof(in->h.instance));
	in->h.instance_len = SYNC_INSTANCE_MAX + 1;
}

static void instance_with_a_dot(struct write_input *in)
{
	in->h.instance[1] = '.';
}

static void instance_len_past_its_nul(struct write_input *in)
{
	in->h.instance_len++;
}

static void port_zero(struct write_input *in)
{
	in->recs[1].peer.port = 0;
}

static void family_zero(struct write_input *in)
{
	in->recs[1].peer.family = 0;
}

static void family_af_inet(struct write_input *in)
{
	in->recs[1].peer.family = 2; /* AF_INET, not TR_AF_INET */
}

static void ipv4_mapped(struct write_input *in)
{
	static const uint8_t mapped[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 198, 18, 0, 1};

	in->recs[1].peer.family = TR_AF_INET6;
	memcpy(in->recs[1].peer.ip, mapped, 16);
}

static void stopped_and_completed(struct write_input *in)
{
	in->recs[1].flags = SYNC_F_STOPPED | SYNC_F_COMPLETED;
}

static void unknown_flag(struct write_input *in)
{
	in->recs[1].flags = SYNC_F_SEEDER | 0x08;
}

static const struct bad_write bad_writes[] = {
    {"no record", no_records},
    {"4097 records", too_many_records},
    {"seq 0", seq_zero},
    {"empty instance id", empty_instance},
    {"65-byte instance id", instance_too_long},
    {"instance id with a dot", instance_with_a_dot},
    {"instance length counting its NUL", instance_len_past_its_nul},
    {"a record with port 0", port_zero},
    {"a record with family 0", family_zero},
    {"a record with family AF_INET (2)", family_af_inet},
    {"a record with an IPv4-mapped IPv6 address", ipv4_mapped},
    {"a record stopped and completed", stopped_and_completed},
    {"a record with an unknown flag", unknown_flag},
};

static void test_sync_write_refuses_every_invalid_input_and_writes_nothing(void **state)
{
	static struct write_input in;

	(void)state;
	for (size_t i = 0; i < sizeof(bad_writes) / sizeof(bad_writes[0]); i++) {
		print_message("%s\n", bad_writes[i].name);
		mixed_init(&in.h, in.recs);
		for (unsigned j = MIXED_N; j <= SYNC_BATCH_MAX_RECORDS; j++)
			in.recs[j] = in.recs[j % MIXED_N];
		in.n = MIXED_N;
		write_guarded(&in.h, in.recs, in.n, SYNC_BATCH_MAX_LEN, MIXED_LEN); /* unspoiled */
		bad_writes[i].spoil(&in);
		write_guarded(&in.h, in.recs, in.n, SYNC_BATCH_MAX_LEN, 0);
	}
}

/* ------------------------------------------------------------------------
 * The parser's refusals.
 */

static void test_sync_refuses_every_truncation_without_reading_past_it(void **state)
{
	uint8_t b[SYNC_BATCH_MAX_LEN];
	size_t full = mixed_write(b);
	const size_t hdr = SYNC_HDR_LEN + 8; /* "dpt-eu_1" */
	struct sync_batch_hdr h;
	struct sync_batch_iter it;
	struct sync_rec r;

	(void)state;
	for (size_t len = 0; len < full; len++) {
		enum sync_err e = parse_guarded(b, len, &h, &it);

		assert_int_equal(e, len < hdr ? SYNC_ERR_SHORT : SYNC_ERR_TRUNCATED);
		assert_false(sync_batch_next(&it, &r)); /* a refused batch yields nothing */
	}
	assert_int_equal(parse_guarded(b, full, &h, &it), SYNC_OK);
}

/* The corruption fixture: instance "node-1", record 0 IPv4 seeder 1.5 s
 * before base_ms, record 1 IPv6 stopped 2 ms before. */
#define FIX_ID	 "node-1"
#define FIX_REC0 (SYNC_HDR_LEN + 6)
#define FIX_REC1 (FIX_REC0 + SYNC_REC4_LEN)
#define FIX_LEN	 (FIX_REC1 + SYNC_REC6_LEN)

static void fixture_write(uint8_t b[FIX_LEN])
{
	struct sync_batch_hdr h;
	struct sync_rec recs[2];

	hdr_init(&h, FIX_ID, BASE_MS);
	rec_init(&recs[0], 1, false, SYNC_F_SEEDER, BASE_MS - 1500);
	rec_init(&recs[1], 2, true, SYNC_F_STOPPED, BASE_MS - 2);
	assert_int_equal(sync_batch_write(&h, recs, 2, b, FIX_LEN), FIX_LEN);
}

/* The fixture with n bytes at off replaced, then delta bytes added (zeros)
 * or cut at the end. */
struct corruption {
	const char *name;
	size_t off;
	const char *bytes;
	size_t n;
	int delta;
	enum sync_err expect;
};

#define PATCH(name, off, bytes, expect)                                                            \
	{                                                                                          \
		name, off, bytes, sizeof(bytes) - 1, 0, expect                                     \
	}
#define RESIZE(name, delta, expect)                                                                \
	{                                                                                          \
		name, 0, "", 0, delta, expect                                                      \
	}
#define ERR(reason) SYNC_ERR_##reason

static const struct corruption corruptions[] = {
    RESIZE("empty", -FIX_LEN, ERR(SHORT)),
    RESIZE("the fixed header less a byte", SYNC_HDR_LEN - 1 - FIX_LEN, ERR(SHORT)),
    RESIZE("the fixed header alone", SYNC_HDR_LEN - FIX_LEN, ERR(SHORT)),
    {"a 64-byte instance id, 96 bytes", 32, "\x40", 1, 96 - FIX_LEN, ERR(SHORT)},
    PATCH("magic's first byte", 0, "X", ERR(MAGIC)),
    PATCH("magic in lower case", 0, "dpts", ERR(MAGIC)),
    PATCH("version 0", 4, "\x00", ERR(VERSION)),
    PATCH("version 2", 4, "\x02", ERR(VERSION)),
    PATCH("header flags 1", 5, "\x01", ERR(FLAGS)),
    PATCH("header flags 0x80", 5, "\x80", ERR(FLAGS)),
    PATCH("count 0", 6, "\x00\x00", ERR(COUNT)),
    PATCH("count 4097", 6, "\x10\x01", ERR(COUNT)),
    PATCH("count 65535", 6, "\xff\xff", ERR(COUNT)),
    PATCH("seq 0", 16, "\x00\x00\x00\x00\x00\x00\x00\x00", ERR(SEQ)),
    PATCH("instance length 0", 32, "\x00", ERR(INSTANCE_LEN)),
    PATCH("instance length 65", 32, "\x41", ERR(INSTANCE_LEN)),
    PATCH("instance length 255", 32, "\xff", ERR(INSTANCE_LEN)),
    {"instance length 65, 97 bytes", 32, "\x41", 1, 97 - FIX_LEN, ERR(INSTANCE_LEN)},
    PATCH("instance length one too long", 32, "\x07", ERR(INSTANCE_CHAR)),
    PATCH("instance id with a dot", SYNC_HDR_LEN + 4, ".", ERR(INSTANCE_CHAR)),
    PATCH("instance id with a NUL", SYNC_HDR_LEN + 5, "\x00", ERR(INSTANCE_CHAR)),
    PATCH("instance id with 0xe9", SYNC_HDR_LEN, "\xe9", ERR(INSTANCE_CHAR)),
    PATCH("count 3, two records", 6, "\x00\x03", ERR(TRUNCATED)),
    RESIZE("the last byte cut", -1, ERR(TRUNCATED)),
    RESIZE("the last record cut", -SYNC_REC6_LEN, ERR(TRUNCATED)),
    PATCH("record 0 kind bit 4", FIX_REC0, "\x12", ERR(KIND)),
    PATCH("record 1 kind bit 7", FIX_REC1, "\x85", ERR(KIND)),
    PATCH("record 0 stopped and completed", FIX_REC0, "\x0c", ERR(STOPPED_COMPLETED)),
    PATCH("record 1 every flag", FIX_REC1, "\x0f", ERR(STOPPED_COMPLETED)),
    PATCH("base_ms 1499, record 0 aged 1500", 24, "\x00\x00\x00\x00\x00\x00\x05\xdb", ERR(AGE)),
    PATCH("base_ms 1500, record 0 aged 1500", 24, "\x00\x00\x00\x00\x00\x00\x05\xdc", SYNC_OK),
    PATCH("record 1 ::ffff:198.18.0.1", FIX_REC1 + 25,
	  "\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\xff\xff\xc6\x12\x00\x01", ERR(MAPPED)),
    PATCH("record 1 ::fffe:198.18.0.1", FIX_REC1 + 25,
	  "\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\xff\xfe\xc6\x12\x00\x01", SYNC_OK),
    PATCH("record 0 port 0", FIX_REC0 + 29, "\x00\x00", ERR(PORT)),
    PATCH("record 1 port 0", FIX_REC1 + 41, "\x00\x00", ERR(PORT)),
    PATCH("record 1 port 65535", FIX_REC1 + 41, "\xff\xff", SYNC_OK),
    PATCH("count 1, two records", 6, "\x00\x01", ERR(TRAILING)),
    RESIZE("one byte after the last record", 1, ERR(TRAILING)),
};

static void test_sync_refuses_each_corruption_with_its_own_reason(void **state)
{
	bool seen[SYNC_ERR_N] = {false};

	(void)state;
	for (size_t i = 0; i < sizeof(corruptions) / sizeof(corruptions[0]); i++) {
		const struct corruption *c = &corruptions[i];
		uint8_t b[FIX_LEN + 8] = {0};
		struct sync_batch_hdr h;
		struct sync_batch_iter it;
		enum sync_err e;

		fixture_write(b);
		memcpy(b + c->off, c->bytes, c->n);
		e = parse_guarded(b, (size_t)(FIX_LEN + c->delta), &h, &it);
		print_message("%s: %s\n", c->name, sync_err_name(e));
		assert_int_equal(e, c->expect);
		seen[e] = true;
	}
	for (int e = 0; e < SYNC_ERR_N; e++) {
		if (!seen[e])
			print_message("no row is refused as %s\n", sync_err_name((enum sync_err)e));
		assert_true(seen[e]);
	}
}

static void test_sync_refuses_any_bytes_after_the_last_record(void **state)
{
	static const size_t extra[] = {1, 2, SYNC_REC4_LEN, SYNC_REC6_LEN, 1000};
	uint8_t b[SYNC_BATCH_MAX_LEN] = {0};
	size_t full = mixed_write(b);
	struct sync_batch_hdr h;
	struct sync_batch_iter it;

	(void)state;
	/* Whole records too: the count says where the batch ends. */
	memcpy(b + full, b + SYNC_HDR_LEN + 8, SYNC_REC4_LEN + SYNC_REC6_LEN);
	for (size_t i = 0; i < sizeof(extra) / sizeof(extra[0]); i++)
		assert_int_equal(parse_guarded(b, full + extra[i], &h, &it), SYNC_ERR_TRAILING);
}

static void test_sync_refuses_a_count_that_disagrees_with_the_records_either_way(void **state)
{
	uint8_t b[SYNC_BATCH_MAX_LEN];
	size_t full = mixed_write(b);
	struct sync_batch_hdr h;
	struct sync_batch_iter it;

	(void)state;
	b[7] = MIXED_N + 1;
	assert_int_equal(parse_guarded(b, full, &h, &it), SYNC_ERR_TRUNCATED);
	b[7] = MIXED_N - 1;
	assert_int_equal(parse_guarded(b, full, &h, &it), SYNC_ERR_TRAILING);
	b[7] = 1;
	assert_int_equal(parse_guarded(b, full, &h, &it), SYNC_ERR_TRAILING);
	b[6] = 1; /* 256 + MIXED_N */
	b[7] = MIXED_N;
	assert_int_equal(parse_guarded(b, full, &h, &it), SYNC_ERR_TRUNCATED);
	b[6] = 0;
	assert_int_equal(parse_guarded(b, full, &h, &it), SYNC_OK);
}

static void test_sync_takes_only_letters_digits_underscore_and_dash_as_instance(void **state)
{
	static const char allowed[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
				      "0123456789_-";

	(void)state;
	for (unsigned c = 0; c < 256; c++) {
		bool ok = c != 0 && memchr(allowed, (int)c, sizeof(allowed) - 1) != NULL;
		uint8_t b[FIX_LEN];
		struct sync_batch_hdr h;
		struct sync_batch_iter it;
		struct sync_rec r;

		/* The parser, on the fixture's id with one byte replaced... */
		fixture_write(b);
		b[SYNC_HDR_LEN + 2] = (uint8_t)c;
		assert_int_equal(parse_guarded(b, FIX_LEN, &h, &it),
				 ok ? SYNC_OK : SYNC_ERR_INSTANCE_CHAR);
		/* ...and the writer, on the same id. */
		hdr_init(&h, FIX_ID, BASE_MS);
		h.instance[2] = (char)c;
		rec_init(&r, 1, false, 0, BASE_MS);
		assert_int_equal(sync_batch_write(&h, &r, 1, b, sizeof(b)) != 0, ok);
	}
}

static void test_sync_takes_instance_ids_of_1_to_64_bytes(void **state)
{
	uint8_t b[SYNC_HDR_LEN + SYNC_INSTANCE_MAX + SYNC_REC4_LEN];
	char id[SYNC_INSTANCE_MAX + 1];
	struct sync_batch_hdr h, got;
	struct sync_batch_iter it;
	struct sync_rec r;

	(void)state;
	rec_init(&r, 1, false, 0, BASE_MS);
	for (unsigned len = 1; len <= SYNC_INSTANCE_MAX; len++) {
		size_t n;

		for (unsigned i = 0; i < len; i++)
			id[i] = "a-_9Z"[i % 5];
		id[len] = '\0';
		hdr_init(&h, id, BASE_MS);
		n = sync_batch_write(&h, &r, 1, b, sizeof(b));
		assert_int_equal(n, SYNC_HDR_LEN + len + SYNC_REC4_LEN);
		assert_int_equal(parse_guarded(b, n, &got, &it), SYNC_OK);
		assert_int_equal(got.instance_len, len);
		assert_string_equal(got.instance, id);
	}
}

static void test_sync_names_every_error_distinctly(void **state)
{
	(void)state;
	for (int i = 0; i < SYNC_ERR_N; i++) {
		const char *a = sync_err_name((enum sync_err)i);

		assert_non_null(a);
		assert_true(strlen(a) > 0);
		for (const char *p = a; *p != '\0'; p++)
			assert_true((*p >= 'a' && *p <= 'z') || *p == '_');
		for (int j = 0; j < i; j++)
			assert_string_not_equal(a, sync_err_name((enum sync_err)j));
	}
	assert_string_equal(sync_err_name(SYNC_OK), "ok");
	assert_string_equal(sync_err_name(SYNC_ERR_TRAILING), "trailing");
	assert_string_equal(sync_err_name(SYNC_ERR_N), "unknown");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(
		test_sync_round_trips_mixed_families_with_every_allowed_flag_combination),
	    cmocka_unit_test(test_sync_writes_the_documented_bytes),
	    cmocka_unit_test(test_sync_round_trips_4096_ipv6_records_and_refuses_4097),
	    cmocka_unit_test(test_sync_writes_later_records_with_age_zero_and_recovers_ms_exactly),
	    cmocka_unit_test(test_sync_max_len_bounds_every_batch_and_is_zero_for_no_batch),
	    cmocka_unit_test(test_sync_write_that_does_not_fit_returns_zero_and_stays_within_cap),
	    cmocka_unit_test(test_sync_write_refuses_every_invalid_input_and_writes_nothing),
	    cmocka_unit_test(test_sync_refuses_every_truncation_without_reading_past_it),
	    cmocka_unit_test(test_sync_refuses_each_corruption_with_its_own_reason),
	    cmocka_unit_test(test_sync_refuses_any_bytes_after_the_last_record),
	    cmocka_unit_test(test_sync_refuses_a_count_that_disagrees_with_the_records_either_way),
	    cmocka_unit_test(test_sync_takes_only_letters_digits_underscore_and_dash_as_instance),
	    cmocka_unit_test(test_sync_takes_instance_ids_of_1_to_64_bytes),
	    cmocka_unit_test(test_sync_names_every_error_distinctly),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
