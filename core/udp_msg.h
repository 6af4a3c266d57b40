/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * udp_msg.h - the BEP 15 wire codec: requests in, replies out.
 *
 * Pure functions over caller buffers: no allocation, no I/O, no DPDK header.
 * Every field is read through a named offset with memcpy and a byte-order
 * helper; nothing is read past the length given.
 *
 * BEP 15 (UDP Tracker Protocol), BEP 41 (UDP Tracker Protocol Extensions).
 */
#ifndef DPTRACK_CORE_UDP_MSG_H
#define DPTRACK_CORE_UDP_MSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "limits.h"

/* BEP 15 "Connect": the magic a connect request carries as its connection id. */
#define UDP_MSG_PROTOCOL_ID 0x41727101980ULL

/* Request sizes (BEP 15): connect 16, announce 98 (+ BEP 41 options),
 * scrape 16 + 20 * n. */
#define UDP_MSG_CONNECT_LEN  16
#define UDP_MSG_ANNOUNCE_LEN 98
#define UDP_MSG_SCRAPE_HDR   16

/* Reply sizes: connect 16, announce 20 + peers, scrape 8 + 12 * n, error 8 + text. */
#define UDP_MSG_CONNECT_REPLY_LEN 16
#define UDP_MSG_SCRAPE_REPLY_HDR  8
#define UDP_MSG_SCRAPE_ENTRY_LEN  12
#define UDP_MSG_ERROR_HDR	  8

enum udp_msg_action {
	UDP_MSG_CONNECT = 0,
	UDP_MSG_ANNOUNCE = 1,
	UDP_MSG_SCRAPE = 2,
	UDP_MSG_ERROR = 3,
};

/* BEP 15 announce event numbering; the core uses it for both protocols. */
enum udp_msg_event {
	UDP_MSG_EV_NONE = 0,
	UDP_MSG_EV_COMPLETED = 1,
	UDP_MSG_EV_STARTED = 2,
	UDP_MSG_EV_STOPPED = 3,
};

/* Why a datagram was refused. UDP_MSG_OK is 0; every other value is a
 * distinct reason the caller counts. */
enum udp_msg_err {
	UDP_MSG_OK = 0,
	UDP_MSG_ERR_SHORT,	 /* shorter than the 16-byte header or its action's size */
	UDP_MSG_ERR_PROTOCOL_ID, /* connect without the 0x41727101980 magic */
	UDP_MSG_ERR_ACTION,	 /* action is not connect, announce or scrape */
	UDP_MSG_ERR_EVENT,	 /* announce event above 3 */
	UDP_MSG_ERR_SCRAPE_LEN,	 /* scrape body not a whole number of 20-byte hashes */
	UDP_MSG_ERR_N,
};

/* Returns a short, static, lower-case name for an error ("short", ...). */
const char *udp_msg_err_name(enum udp_msg_err e);

struct udp_msg_announce {
	uint8_t info_hash[TR_HASH_LEN];
	uint8_t peer_id[TR_HASH_LEN];
	uint64_t downloaded;
	uint64_t left;
	uint64_t uploaded;
	uint32_t event; /* enum udp_msg_event */
	uint32_t ip;	/* as sent, network order; 0 = use the source address */
	uint32_t key;
	int32_t num_want; /* -1 = tracker's default */
	uint16_t port;	  /* host order */
	/* BEP 41 URLData, all options concatenated, truncated to TR_UDP_URL_MAX
	 * bytes (url_truncated set). Not NUL-terminated. */
	uint16_t url_len;
	uint8_t url_truncated;
	uint8_t url[TR_UDP_URL_MAX];
};

struct udp_msg_scrape {
	/* Points into the caller's datagram: n consecutive 20-byte hashes. The
	 * parser does not cap n; the handler answers what fits one frame. */
	const uint8_t *hashes;
	uint32_t n;
};

struct udp_msg_req {
	uint64_t connection_id;
	uint32_t action; /* enum udp_msg_action */
	uint32_t transaction_id;
	union {
		struct udp_msg_announce announce;
		struct udp_msg_scrape scrape;
	};
};

/*
 * Parses one BEP 15 request datagram of len bytes into req.
 *
 * Returns UDP_MSG_OK or a reason; on error req->action and
 * req->transaction_id are valid whenever len >= 16 (so the caller may answer
 * with an error), the rest is unspecified. Reads at most len bytes.
 *
 * Connect: 16 bytes, connection_id must be UDP_MSG_PROTOCOL_ID; longer
 * datagrams are accepted and the tail ignored (BEP 15 says to ignore extra).
 * Announce: 98 bytes, then BEP 41 options: 0x0 EndOfOptions stops, 0x1 NOP
 * is skipped, 0x2 URLData (length byte + data) is appended to url. Options
 * that run past the datagram, and unknown option types, end parsing without
 * an error: libtorrent sends URLData with no end marker, aria2 two zero
 * bytes, Transmission nothing at all.
 * Scrape: 16 + 20 * n bytes, n >= 1. No hash at all (16 bytes) is
 * UDP_MSG_ERR_SHORT; a partial hash (16 + 19, 16 + 21, ...) is
 * UDP_MSG_ERR_SCRAPE_LEN.
 */
enum udp_msg_err udp_msg_parse(const uint8_t *buf, size_t len, struct udp_msg_req *req);

/* What a request is about, read before the parse, for prefetching. */
struct udp_msg_peek {
	const uint8_t *info_hash; /* into buf: the announce's, or a scrape's first */
	uint16_t port;		  /* an announce's port (host order); 0 for a scrape */
	bool seeder;		  /* an announce with left == 0 */
};

/* Fills pk for a datagram that looks like an announce or a scrape and
 * returns true; false for anything else. Only the length and action are
 * checked. */
bool udp_msg_peek(const uint8_t *buf, size_t len, struct udp_msg_peek *pk);

/*
 * Writers: each returns the bytes written to out, or 0 if cap is too small
 * (nothing useful is written then). Numbers go out big-endian.
 */

/* Connect reply: action 0, transaction id, connection id. 16 bytes. */
size_t udp_msg_write_connect(uint8_t *out, size_t cap, uint32_t transaction_id,
			     uint64_t connection_id);

/* Announce reply header: action 1, transaction id, interval, leechers,
 * seeders. 20 bytes; the caller appends compact peers after it. */
size_t udp_msg_write_announce(uint8_t *out, size_t cap, uint32_t transaction_id, uint32_t interval,
			      uint32_t leechers, uint32_t seeders);

/* Scrape reply header: action 2, transaction id. 8 bytes. */
size_t udp_msg_write_scrape(uint8_t *out, size_t cap, uint32_t transaction_id);

/* One scrape entry, in BEP 15 order: seeders, completed, leechers. 12 bytes. */
size_t udp_msg_write_scrape_entry(uint8_t *out, size_t cap, uint32_t seeders, uint32_t completed,
				  uint32_t leechers);

/* Error reply: action 3, transaction id, the message without a terminator.
 * If the message does not fit, it is cut to what does (at least the 8-byte
 * header must fit, else 0). */
size_t udp_msg_write_error(uint8_t *out, size_t cap, uint32_t transaction_id, const char *msg);

#endif
