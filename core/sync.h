/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sync.h - the cluster's batch format: peer changes one instance publishes
 * (NATS JetStream) and the others apply.
 *
 * Pure functions over caller buffers: no allocation, no I/O, no global, no
 * DPDK header. A batch from another instance is untrusted input: the parser
 * reads nothing past the length given and checks the header and every
 * record before it says yes, so iterating a parsed batch cannot fail.
 *
 * Wire format, all integers big-endian:
 *
 *    0  magic "DPTS"              4 bytes
 *    4  version = 1               u8
 *    5  flags = 0                 u8   (anything else is refused)
 *    6  record count              u16  (1..SYNC_BATCH_MAX_RECORDS)
 *    8  epoch                     u64  (the origin's boot epoch)
 *   16  seq                       u64  (batch number in (instance, epoch), != 0)
 *   24  base_ms                   u64  (unix ms when the batch was closed)
 *   32  instance length L         u8   (1..SYNC_INSTANCE_MAX)
 *   33  instance id               L bytes, each in [A-Za-z0-9_-]
 *   then `count` records, back to back, nothing after the last:
 *    +0  kind                     u8: bit 0 family (0 IPv4, 1 IPv6), bit 1
 *                                 seeder, bit 2 stopped, bit 3 completed,
 *                                 bits 4-7 zero; stopped and completed
 *                                 never both
 *    +1  age_ms                   u32: base_ms - the record's ms, at most
 *                                 base_ms (0 for a record later than base_ms)
 *    +5  info hash                20 bytes
 *   +25  address                  4 bytes (IPv4) or 16 (IPv6, never
 *                                 IPv4-mapped: that peer is IPv4)
 *        port                     u16, != 0
 *   An IPv4 record is 31 bytes, an IPv6 record 43.
 *
 * The encoding is canonical: a batch the parser accepts is byte for byte
 * what sync_batch_write() makes of its parsed header and records.
 */
#ifndef DPTRACK_CORE_SYNC_H
#define DPTRACK_CORE_SYNC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "addr.h"
#include "limits.h"

#define SYNC_VERSION 1

/* Records in one batch: 4096 IPv6 records and the longest header are
 * SYNC_BATCH_MAX_LEN = 176,225 bytes, under NATS' default 1 MiB payload. */
#define SYNC_BATCH_MAX_RECORDS 4096

/* Instance ids: 1..64 bytes of [A-Za-z0-9_-] (a NATS subject token). */
#define SYNC_INSTANCE_MAX 64

/* Wire sizes: the header up to the instance id, the two record kinds. */
#define SYNC_HDR_LEN  33
#define SYNC_REC4_LEN 31
#define SYNC_REC6_LEN 43
#define SYNC_BATCH_MAX_LEN                                                                         \
	(SYNC_HDR_LEN + SYNC_INSTANCE_MAX + SYNC_BATCH_MAX_RECORDS * SYNC_REC6_LEN)

/* struct sync_rec flags. */
#define SYNC_F_SEEDER	 0x01 /* the peer is a seeder after this announce */
#define SYNC_F_STOPPED	 0x02 /* the peer left */
#define SYNC_F_COMPLETED 0x04 /* this announce completed a download (the origin's judgement) */
#define SYNC_F_ALL	 (SYNC_F_SEEDER | SYNC_F_STOPPED | SYNC_F_COMPLETED)

/* One peer change. Fixed size, no pointer: other threads pass it through
 * DPDK rings by value. */
struct sync_rec {
	uint64_t ms; /* unix milliseconds of the announce at its origin */
	uint8_t info_hash[TR_HASH_LEN];
	struct tr_addr peer; /* TR_AF_INET or TR_AF_INET6 (not IPv4-mapped), port != 0 */
	uint8_t flags;	     /* SYNC_F_*, never STOPPED and COMPLETED both */
};

_Static_assert(sizeof(struct sync_rec) == 56, "sync_rec is 56 bytes, a ring element");

struct sync_batch_hdr {
	uint64_t epoch;	  /* the origin's boot epoch */
	uint64_t seq;	  /* batch number within (instance, epoch), from 1 */
	uint64_t base_ms; /* unix ms when the batch was closed */
	uint16_t count;	  /* records */
	uint8_t instance_len;
	char instance[SYNC_INSTANCE_MAX + 1]; /* NUL-terminated */
};

/* Where sync_batch_next() is in a parsed batch. It points into the parsed
 * buffer, which stays the caller's and must outlive the iteration. */
struct sync_batch_iter {
	const uint8_t *buf;
	size_t len;
	size_t pos; /* the next record */
	uint64_t base_ms;
	unsigned left; /* records not yet returned */
};

/* Why a batch was refused. SYNC_OK is 0; every other value is a distinct
 * reason the caller counts. */
enum sync_err {
	SYNC_OK = 0,
	SYNC_ERR_SHORT,		    /* shorter than the header and its instance id */
	SYNC_ERR_MAGIC,		    /* not "DPTS" */
	SYNC_ERR_VERSION,	    /* version other than 1 */
	SYNC_ERR_FLAGS,		    /* header flags other than 0 */
	SYNC_ERR_COUNT,		    /* record count 0 or above SYNC_BATCH_MAX_RECORDS */
	SYNC_ERR_SEQ,		    /* seq 0 */
	SYNC_ERR_INSTANCE_LEN,	    /* instance length 0 or above SYNC_INSTANCE_MAX */
	SYNC_ERR_INSTANCE_CHAR,	    /* an instance byte outside [A-Za-z0-9_-] */
	SYNC_ERR_TRUNCATED,	    /* the records need more bytes than there are */
	SYNC_ERR_KIND,		    /* a record's reserved kind bits (4-7) set */
	SYNC_ERR_STOPPED_COMPLETED, /* a record both stopped and completed */
	SYNC_ERR_AGE,		    /* a record's age above base_ms (before 1970) */
	SYNC_ERR_MAPPED,	    /* an IPv6 record with an IPv4-mapped address */
	SYNC_ERR_PORT,		    /* a record's port 0 */
	SYNC_ERR_TRAILING,	    /* bytes after the last record */
	SYNC_ERR_N,
};

/* Returns a short, static, lower-case name for an error ("short", ...), and
 * "unknown" for a value that is none. */
const char *sync_err_name(enum sync_err e);

/* Returns the largest batch of n records (all IPv6, a 64-byte instance id),
 * so a buffer of that size always fits sync_batch_write(); 0 when no batch
 * has n records (n == 0 or above SYNC_BATCH_MAX_RECORDS). */
size_t sync_batch_max_len(unsigned n);

/*
 * Writes a batch of h's header and the n records recs[0..n-1] to out, which
 * has cap bytes. h->count is ignored (n is written); the instance is
 * h->instance_len bytes of h->instance. A record later than h->base_ms is
 * written with age 0, a record more than UINT32_MAX ms (49.7 days)
 * before it with age UINT32_MAX; any other ms reads back exactly.
 *
 * Returns the bytes written, or 0, with out untouched, if they do not fit
 * cap or the input is invalid: n == 0 or above SYNC_BATCH_MAX_RECORDS, seq
 * 0, an instance length or byte the parser refuses, or a record with a
 * family other than TR_AF_INET/TR_AF_INET6, an IPv4-mapped IPv6 address,
 * port 0, a flag outside SYNC_F_ALL or STOPPED with COMPLETED. Only the
 * 4 address bytes of an IPv4 record are read. Writes at most cap bytes.
 */
size_t sync_batch_write(const struct sync_batch_hdr *h, const struct sync_rec *recs, unsigned n,
			uint8_t *out, size_t cap);

/*
 * Parses the batch in buf[0..len-1]: fills h (instance NUL-terminated, the
 * bytes after it zero) and sets it to the first record, after checking the
 * header and every record against the format above.
 *
 * Returns SYNC_OK or the first reason found, in wire order (within a
 * record: kind, length, age, address, port). Reads at most len bytes. On
 * error h is unspecified and sync_batch_next(it) returns false.
 */
enum sync_err sync_batch_parse(const uint8_t *buf, size_t len, struct sync_batch_hdr *h,
			       struct sync_batch_iter *it);

/*
 * Fills r with the next record of a parsed batch (every byte of r written,
 * padding zero, so records compare with memcmp; an IPv4 address's last 12
 * bytes zero; ms = base_ms - age_ms) and returns true; false after the last
 * record.
 */
bool sync_batch_next(struct sync_batch_iter *it, struct sync_rec *r);

#endif
