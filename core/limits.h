/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * limits.h - every tunable of the tracker core, each with its reason.
 *
 * Values that operators should change live in config/dptrack.yaml; these are
 * the structural bounds the code is written against.
 */
#ifndef DPTRACK_CORE_LIMITS_H
#define DPTRACK_CORE_LIMITS_H

/* An info hash and a peer id are SHA-1 sized (BEP 3). */
#define TR_HASH_LEN 20

/* Largest UDP payload that fits a 1500-byte MTU: 1500 - 20 (IPv4) - 8 (UDP),
 * and 1500 - 40 (IPv6) - 8 (UDP). Replies never exceed these: one frame, no
 * fragments (BEP 15 clients do not reassemble well, and DPDK does not either). */
#define TR_UDP_PAYLOAD_MAX_V4 1472
#define TR_UDP_PAYLOAD_MAX_V6 1452

/* BEP 15 announce reply header: action, transaction id, interval, leechers,
 * seeders; then 6-byte IPv4 or 18-byte IPv6 compact peers. */
#define TR_UDP_ANNOUNCE_HDR 20
#define TR_PEER4_LEN	    6
#define TR_PEER6_LEN	    18

/* Peers that fit one frame: (1472 - 20) / 6 = 242, (1452 - 20) / 18 = 79. */
#define TR_UDP_PEERS_MAX_V4 ((TR_UDP_PAYLOAD_MAX_V4 - TR_UDP_ANNOUNCE_HDR) / TR_PEER4_LEN)
#define TR_UDP_PEERS_MAX_V6 ((TR_UDP_PAYLOAD_MAX_V6 - TR_UDP_ANNOUNCE_HDR) / TR_PEER6_LEN)

/* Scrape: 8-byte header + 12 bytes per hash; (1452 - 8) / 12 = 120 fits
 * either family, so a scrape answers at most the first 120 hashes asked. */
#define TR_UDP_SCRAPE_MAX ((TR_UDP_PAYLOAD_MAX_V6 - 8) / 12)

/* BEP 41 URLData is kept up to this many bytes; longer paths are truncated
 * (the tracker only reads it, e.g. for access keys, never echoes it). */
#define TR_UDP_URL_MAX 255

/* HTTP scrape (BEP 48): hashes per request. 64 * ~60 bytes keeps a reply
 * well under 4 KiB and a request URL (64 * 60 = 3840 bytes) under
 * http.max_request_bytes' default. */
#define TR_HTTP_SCRAPE_MAX 64

/* HTTP announce: numwant is capped like UDP's so replies stay bounded even
 * with both families (242 * 6 + 79 * 18 + dictionary < 4 KiB). */
#define TR_HTTP_PEERS_MAX_V4 TR_UDP_PEERS_MAX_V4
#define TR_HTTP_PEERS_MAX_V6 TR_UDP_PEERS_MAX_V6

/* Room for any body tr_http_handle() writes. The largest is a non-compact
 * announce (the table stores no peer ids) with both families at their caps
 * and the longest address texts: 242 * 37 bytes ("d2:ip15:255.255.255.2554:
 * porti65535ee") + 79 * 61 bytes (39-character IPv6) = 13773, plus under
 * 200 bytes of counters. test_http_resp checks the bound. */
#define TR_HTTP_BODY_MAX 16384

/* The HTTP `key` parameter is opaque to us; longer values are refused, not
 * truncated, since clients send at most a few dozen bytes. */
#define TR_HTTP_KEY_MAX 64

/* Connection IDs: 32-bit seconds timestamp and a 32-bit keyed MAC. One
 * forged ID in 2^32 passes; a million forgeries pass with p < 2.4e-4. */
#define TR_CONNID_KEY_LEN 16

/* Peer entries store their last announce in one byte: ticks of
 * ceil(peer_timeout / TR_PEER_TIMEOUT_TICKS) seconds (85 s at the default
 * 2700 s), so a peer expires at most two ticks (about 6%) after its timeout,
 * never before. Ages compare signed (a stamp slightly ahead of the sweeper's
 * clock is fresh) and read right up to 127 ticks: the sweep has 95 ticks
 * past the timeout (at least 190 s) to reach a peer before its age would
 * wrap, and a full pass over 10 million peers takes under a minute. One
 * byte rather than two is an eighth of an IPv4 peer's memory. */
#define TR_PEER_TIMEOUT_TICKS 32

/* Expiry never holds one swarm's lock for more than this many slots, so a
 * sweep of a million-peer swarm never stalls an lcore announcing into it. */
#define TR_EXPIRE_SLOTS_PER_LOCK 4096

/* Peer sets grow when count exceeds 4/5 of their slots: linear probing then
 * averages 3 probes to find a peer and 13 to miss one, a cache line or two
 * of slots. Small sets double; from TR_PSET_GROW_SLOW slots they grow by
 * half, so a large swarm's sets stay between 53% and 80% full (between 2/5
 * and 4/5 when doubling): memory per peer is the slot size over that. Sets
 * shrink when they drop under 1/8 full on expiry. */
#define TR_PSET_LOAD_NUM  4
#define TR_PSET_LOAD_DEN  5
#define TR_PSET_MIN_SLOTS 4
#define TR_PSET_GROW_SLOW 64

/* Large IPv6 sets run fuller: an IPv6 slot is 19 bytes, and between 53%
 * and 80% full a peer costs 29 on average, where the target is 24. From
 * TR_PSET6_DENSE_SLOTS slots an IPv6 set grows by a quarter at 9/10 full,
 * so it stays between 72% and 90% (23.6 bytes per peer over a growth
 * cycle). The price is longer probes in those sets only: 5.5 slots (two
 * cache lines) to find a peer, up to 50 (a kilobyte, read in order) to
 * miss one, which a new IPv6 peer or a stopped one pays. */
#define TR_PSET6_DENSE_SLOTS 1024
#define TR_PSET6_LOAD_NUM    9
#define TR_PSET6_LOAD_DEN    10

/* Access list (core/acl.h): at most 10 million hashes, 200 MB sorted plus a
 * 256 KiB index, and about twice that while a reload builds the new list
 * beside the old one; a list beyond it is refused, not truncated. Lines are
 * at most 1024 bytes: a hash and a comment, and a file that is not a list
 * (no newline for pages) fails at its first line instead of being buffered. */
#define ACL_MAX_ENTRIES 10000000
#define ACL_LINE_MAX	1024

#endif
