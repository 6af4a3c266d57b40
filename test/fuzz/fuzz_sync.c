/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * fuzz_sync.c - sync_batch_parse() (core/sync.h) on any bytes, as a batch
 * from another instance arrives.
 *
 * The input is the batch. libFuzzer hands over a heap copy of exactly size
 * bytes, so ASan faults on any read past len. When the batch parses, its
 * records are iterated and written again with the parsed header into a
 * buffer of sync_batch_max_len(count) bytes (a heap block of exactly that
 * size, so the writer cannot overrun it unseen).
 *
 * Invariants: a refusal is a named reason; a parsed batch yields exactly
 * count records, each valid as sync.h describes (family, port, flags, ms
 * not after base_ms, an IPv4 address's unused bytes zero); written again it
 * gives the input byte for byte (the format is canonical), one byte less of
 * room gives 0, and the rewritten batch parses to the same header and
 * records.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/sync.h"

#include "fuzz_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_rec(const struct sync_rec *r, uint64_t base_ms)
{
	static const uint8_t zero[12];

	FUZZ_CHECK(r->peer.family == TR_AF_INET || r->peer.family == TR_AF_INET6);
	FUZZ_CHECK(r->peer.family == TR_AF_INET6 || memcmp(r->peer.ip + 4, zero, 12) == 0);
	FUZZ_CHECK(r->peer.port != 0);
	FUZZ_CHECK((r->flags & ~SYNC_F_ALL) == 0);
	FUZZ_CHECK(!((r->flags & SYNC_F_STOPPED) && (r->flags & SYNC_F_COMPLETED)));
	FUZZ_CHECK(r->ms <= base_ms);
}

static bool rec_equal(const struct sync_rec *a, const struct sync_rec *b)
{
	return a->ms == b->ms && memcmp(a->info_hash, b->info_hash, TR_HASH_LEN) == 0 &&
	       a->peer.family == b->peer.family &&
	       memcmp(a->peer.ip, b->peer.ip, sizeof(a->peer.ip)) == 0 &&
	       a->peer.port == b->peer.port && a->flags == b->flags;
}

/* Parses the rewritten batch and checks it holds h and recs again. */
static void check_reparse(const uint8_t *out, size_t len, const struct sync_batch_hdr *h,
			  const struct sync_rec *recs)
{
	struct sync_batch_hdr h2;
	struct sync_batch_iter it;
	struct sync_rec r;

	FUZZ_CHECK(sync_batch_parse(out, len, &h2, &it) == SYNC_OK);
	FUZZ_CHECK(h2.epoch == h->epoch && h2.seq == h->seq && h2.base_ms == h->base_ms);
	FUZZ_CHECK(h2.count == h->count && h2.instance_len == h->instance_len);
	FUZZ_CHECK(memcmp(h2.instance, h->instance, sizeof(h->instance)) == 0);
	for (unsigned i = 0; i < h->count; i++) {
		FUZZ_CHECK(sync_batch_next(&it, &r));
		FUZZ_CHECK(rec_equal(&r, &recs[i]));
	}
	FUZZ_CHECK(!sync_batch_next(&it, &r));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sync_batch_hdr h;
	struct sync_batch_iter it;
	struct sync_rec extra;
	enum sync_err e = sync_batch_parse(data, size, &h, &it);
	unsigned n = 0;

	FUZZ_CHECK((unsigned)e < SYNC_ERR_N);
	FUZZ_CHECK(strcmp(sync_err_name(e), "unknown") != 0);
	if (e != SYNC_OK) {
		FUZZ_CHECK(!sync_batch_next(&it, &extra));
		return 0;
	}
	FUZZ_CHECK(h.count >= 1 && h.count <= SYNC_BATCH_MAX_RECORDS);
	FUZZ_CHECK(h.instance_len >= 1 && h.instance_len <= SYNC_INSTANCE_MAX);
	FUZZ_CHECK(strlen(h.instance) == h.instance_len);

	size_t cap = sync_batch_max_len(h.count);
	struct sync_rec *recs = malloc(h.count * sizeof(*recs));
	uint8_t *out = malloc(cap);
	FUZZ_CHECK(cap >= size && recs != NULL && out != NULL);
	while (n < h.count && sync_batch_next(&it, &recs[n])) {
		check_rec(&recs[n], h.base_ms);
		n++;
	}
	FUZZ_CHECK(n == h.count);
	FUZZ_CHECK(!sync_batch_next(&it, &extra));

	size_t w = sync_batch_write(&h, recs, n, out, cap);
	FUZZ_CHECK(w == size);
	FUZZ_CHECK(memcmp(out, data, size) == 0);
	FUZZ_CHECK(sync_batch_write(&h, recs, n, out, w - 1) == 0);
	check_reparse(out, w, &h, recs);

	free(out);
	free(recs);
	return 0;
}
