/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sync.c - the cluster's batch format (layout in sync.h).
 *
 * Every field is read at a named offset with memcpy and a byte-order helper,
 * and every read is checked against len first: batches come from other
 * instances over the network. One function reads a record, for the parse's
 * check and the iterator alike, so what was checked is what is returned.
 */
#include "sync.h"

#include <string.h>

#include "wire.h"

/* Batch header. */
#define OFF_MAGIC	 0
#define OFF_VERSION	 4
#define OFF_FLAGS	 5
#define OFF_COUNT	 6
#define OFF_EPOCH	 8
#define OFF_SEQ		 16
#define OFF_BASE_MS	 24
#define OFF_INSTANCE_LEN 32
#define OFF_INSTANCE	 33

/* Record, from its first byte; the port follows the address. */
#define OFF_REC_KIND 0
#define OFF_REC_AGE  1
#define OFF_REC_HASH 5
#define OFF_REC_ADDR 25

/* Record kind bits. */
#define KIND_IPV6	 0x01
#define KIND_FLAGS	 0x0e /* the SYNC_F_* flags, shifted left by one */
#define KIND_RESERVED	 0xf0
#define KIND_FLAGS_SHIFT 1

#define MAGIC	  "DPTS"
#define MAGIC_LEN 4

_Static_assert(OFF_INSTANCE == SYNC_HDR_LEN, "the header is 33 bytes up to the instance id");
_Static_assert(OFF_REC_ADDR + 4 + 2 == SYNC_REC4_LEN, "an IPv4 record is 31 bytes");
_Static_assert(OFF_REC_ADDR + 16 + 2 == SYNC_REC6_LEN, "an IPv6 record is 43 bytes");
_Static_assert((SYNC_F_ALL << KIND_FLAGS_SHIFT) == KIND_FLAGS, "flags map onto kind bits 1-3");
_Static_assert(SYNC_BATCH_MAX_RECORDS <= UINT16_MAX, "count is 16 bits");
_Static_assert(SYNC_INSTANCE_MAX <= UINT8_MAX, "instance length is 8 bits");
_Static_assert(sizeof(struct sync_rec) % 8 == 0, "ring elements are a multiple of 8 bytes");

static const char *const err_names[SYNC_ERR_N] = {
    [SYNC_OK] = "ok",
    [SYNC_ERR_SHORT] = "short",
    [SYNC_ERR_MAGIC] = "magic",
    [SYNC_ERR_VERSION] = "version",
    [SYNC_ERR_FLAGS] = "flags",
    [SYNC_ERR_COUNT] = "count",
    [SYNC_ERR_SEQ] = "seq",
    [SYNC_ERR_INSTANCE_LEN] = "instance_len",
    [SYNC_ERR_INSTANCE_CHAR] = "instance_char",
    [SYNC_ERR_TRUNCATED] = "truncated",
    [SYNC_ERR_KIND] = "kind",
    [SYNC_ERR_STOPPED_COMPLETED] = "stopped_completed",
    [SYNC_ERR_AGE] = "age",
    [SYNC_ERR_MAPPED] = "mapped",
    [SYNC_ERR_PORT] = "port",
    [SYNC_ERR_TRAILING] = "trailing",
};

const char *sync_err_name(enum sync_err e)
{
	if ((unsigned)e >= SYNC_ERR_N)
		return "unknown";
	return err_names[e];
}

/* Returns true if c may appear in an instance id: [A-Za-z0-9_-]. Not
 * isalnum(): the locale must not widen the format. */
static bool instance_char_ok(uint8_t c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       c == '_' || c == '-';
}

/* Returns SYNC_OK if the n bytes at p are a valid instance id. */
static enum sync_err check_instance(const uint8_t *p, size_t n)
{
	if (n == 0 || n > SYNC_INSTANCE_MAX)
		return SYNC_ERR_INSTANCE_LEN;
	for (size_t i = 0; i < n; i++)
		if (!instance_char_ok(p[i]))
			return SYNC_ERR_INSTANCE_CHAR;
	return SYNC_OK;
}

/* Returns true if the 16 bytes at ip are an IPv4-mapped IPv6 address. */
static bool ip_mapped(const uint8_t *ip)
{
	static const uint8_t prefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

	return memcmp(ip, prefix, sizeof(prefix)) == 0;
}

size_t sync_batch_max_len(unsigned n)
{
	if (n == 0 || n > SYNC_BATCH_MAX_RECORDS)
		return 0;
	return SYNC_HDR_LEN + SYNC_INSTANCE_MAX + (size_t)n * SYNC_REC6_LEN;
}

/* ------------------------------------------------------------------------
 * Writer.
 */

/* Returns the wire length of r (31 or 43), or 0 if sync_batch_write()
 * refuses it. */
static size_t rec_wire_len(const struct sync_rec *r)
{
	if (r->peer.port == 0 || (r->flags & ~SYNC_F_ALL) != 0)
		return 0;
	if ((r->flags & SYNC_F_STOPPED) && (r->flags & SYNC_F_COMPLETED))
		return 0;
	if (r->peer.family == TR_AF_INET)
		return SYNC_REC4_LEN;
	if (r->peer.family == TR_AF_INET6 && !ip_mapped(r->peer.ip))
		return SYNC_REC6_LEN;
	return 0;
}

/* Returns the length of the batch sync_batch_write() would write, or 0 if
 * it refuses the input. */
static size_t batch_wire_len(const struct sync_batch_hdr *h, const struct sync_rec *recs,
			     unsigned n)
{
	size_t total = SYNC_HDR_LEN + (size_t)h->instance_len;

	if (n == 0 || n > SYNC_BATCH_MAX_RECORDS || h->seq == 0)
		return 0;
	if (check_instance((const uint8_t *)h->instance, h->instance_len) != SYNC_OK)
		return 0;
	for (unsigned i = 0; i < n; i++) {
		size_t rl = rec_wire_len(&recs[i]);

		if (rl == 0)
			return 0;
		total += rl;
	}
	return total;
}

/* Writes r (valid: rec_wire_len() said so) at out and returns its length. */
static size_t write_rec(uint8_t *out, const struct sync_rec *r, uint64_t base_ms)
{
	size_t iplen = r->peer.family == TR_AF_INET6 ? 16 : 4;
	uint64_t age = r->ms >= base_ms ? 0 : base_ms - r->ms;
	uint8_t kind = (uint8_t)(r->flags << KIND_FLAGS_SHIFT);

	if (r->peer.family == TR_AF_INET6)
		kind |= KIND_IPV6;
	out[OFF_REC_KIND] = kind;
	put_be32(out, OFF_REC_AGE, age > UINT32_MAX ? UINT32_MAX : (uint32_t)age);
	memcpy(out + OFF_REC_HASH, r->info_hash, TR_HASH_LEN);
	memcpy(out + OFF_REC_ADDR, r->peer.ip, iplen);
	put_be16(out, OFF_REC_ADDR + iplen, r->peer.port);
	return OFF_REC_ADDR + iplen + 2;
}

size_t sync_batch_write(const struct sync_batch_hdr *h, const struct sync_rec *recs, unsigned n,
			uint8_t *out, size_t cap)
{
	size_t total = batch_wire_len(h, recs, n);
	size_t pos;

	if (total == 0 || total > cap)
		return 0;
	memcpy(out + OFF_MAGIC, MAGIC, MAGIC_LEN);
	out[OFF_VERSION] = SYNC_VERSION;
	out[OFF_FLAGS] = 0;
	put_be16(out, OFF_COUNT, (uint16_t)n);
	put_be64(out, OFF_EPOCH, h->epoch);
	put_be64(out, OFF_SEQ, h->seq);
	put_be64(out, OFF_BASE_MS, h->base_ms);
	out[OFF_INSTANCE_LEN] = h->instance_len;
	memcpy(out + OFF_INSTANCE, h->instance, h->instance_len);
	pos = OFF_INSTANCE + (size_t)h->instance_len;
	for (unsigned i = 0; i < n; i++)
		pos += write_rec(out + pos, &recs[i], h->base_ms);
	return pos;
}

/* ------------------------------------------------------------------------
 * Parser.
 */

/*
 * Reads the record at buf[pos..len-1] into r (every byte of r written) and
 * sets *rec_len to its wire length. Returns SYNC_OK or why the record is
 * refused; r is unspecified then. Reads at most buf[len - 1].
 */
static enum sync_err read_rec(const uint8_t *buf, size_t len, size_t pos, uint64_t base_ms,
			      struct sync_rec *r, size_t *rec_len)
{
	const uint8_t *p = buf + pos;
	uint8_t kind;
	size_t iplen;
	uint32_t age;

	if (pos >= len)
		return SYNC_ERR_TRUNCATED;
	kind = p[OFF_REC_KIND];
	if (kind & KIND_RESERVED)
		return SYNC_ERR_KIND;
	memset(r, 0, sizeof(*r));
	r->flags = (uint8_t)((kind & KIND_FLAGS) >> KIND_FLAGS_SHIFT);
	if ((r->flags & SYNC_F_STOPPED) && (r->flags & SYNC_F_COMPLETED))
		return SYNC_ERR_STOPPED_COMPLETED;
	iplen = (kind & KIND_IPV6) ? 16 : 4;
	*rec_len = OFF_REC_ADDR + iplen + 2;
	if (len - pos < *rec_len)
		return SYNC_ERR_TRUNCATED;

	age = get_be32(p, OFF_REC_AGE);
	if (age > base_ms)
		return SYNC_ERR_AGE;
	r->ms = base_ms - age;
	memcpy(r->info_hash, p + OFF_REC_HASH, TR_HASH_LEN);
	r->peer.family = (kind & KIND_IPV6) ? TR_AF_INET6 : TR_AF_INET;
	memcpy(r->peer.ip, p + OFF_REC_ADDR, iplen);
	if (iplen == 16 && ip_mapped(r->peer.ip))
		return SYNC_ERR_MAPPED;
	r->peer.port = get_be16(p, OFF_REC_ADDR + iplen);
	if (r->peer.port == 0)
		return SYNC_ERR_PORT;
	return SYNC_OK;
}

/* Checks the header of buf[0..len-1] and fills h. Returns SYNC_OK or a
 * reason. Reads at most buf[len - 1]. */
static enum sync_err parse_hdr(const uint8_t *buf, size_t len, struct sync_batch_hdr *h)
{
	enum sync_err e;

	if (len < SYNC_HDR_LEN)
		return SYNC_ERR_SHORT;
	if (memcmp(buf + OFF_MAGIC, MAGIC, MAGIC_LEN) != 0)
		return SYNC_ERR_MAGIC;
	if (buf[OFF_VERSION] != SYNC_VERSION)
		return SYNC_ERR_VERSION;
	if (buf[OFF_FLAGS] != 0)
		return SYNC_ERR_FLAGS;
	h->count = get_be16(buf, OFF_COUNT);
	if (h->count == 0 || h->count > SYNC_BATCH_MAX_RECORDS)
		return SYNC_ERR_COUNT;
	h->epoch = get_be64(buf, OFF_EPOCH);
	h->seq = get_be64(buf, OFF_SEQ);
	if (h->seq == 0)
		return SYNC_ERR_SEQ;
	h->base_ms = get_be64(buf, OFF_BASE_MS);
	h->instance_len = buf[OFF_INSTANCE_LEN];
	if (h->instance_len == 0 || h->instance_len > SYNC_INSTANCE_MAX)
		return SYNC_ERR_INSTANCE_LEN;
	if (len - SYNC_HDR_LEN < h->instance_len)
		return SYNC_ERR_SHORT;
	e = check_instance(buf + OFF_INSTANCE, h->instance_len);
	if (e != SYNC_OK)
		return e;
	memset(h->instance, 0, sizeof(h->instance));
	memcpy(h->instance, buf + OFF_INSTANCE, h->instance_len);
	return SYNC_OK;
}

enum sync_err sync_batch_parse(const uint8_t *buf, size_t len, struct sync_batch_hdr *h,
			       struct sync_batch_iter *it)
{
	struct sync_rec r;
	enum sync_err e;
	size_t pos, rec_len = 0;

	it->left = 0; /* an iterator of a refused batch yields nothing */
	e = parse_hdr(buf, len, h);
	if (e != SYNC_OK)
		return e;
	pos = SYNC_HDR_LEN + (size_t)h->instance_len;
	for (unsigned i = 0; i < h->count; i++) {
		e = read_rec(buf, len, pos, h->base_ms, &r, &rec_len);
		if (e != SYNC_OK)
			return e;
		pos += rec_len;
	}
	if (pos != len)
		return SYNC_ERR_TRAILING;

	it->buf = buf;
	it->len = len;
	it->pos = SYNC_HDR_LEN + (size_t)h->instance_len;
	it->base_ms = h->base_ms;
	it->left = h->count;
	return SYNC_OK;
}

bool sync_batch_next(struct sync_batch_iter *it, struct sync_rec *r)
{
	size_t rec_len = 0;

	/* The parse checked every record; read_rec() checks again anyway, so
	 * an iterator that was never parsed cannot read past its length. */
	if (it->left == 0 ||
	    read_rec(it->buf, it->len, it->pos, it->base_ms, r, &rec_len) != SYNC_OK)
		return false;
	it->pos += rec_len;
	it->left--;
	return true;
}
