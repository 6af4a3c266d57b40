/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * udp_msg.c - the BEP 15 wire codec (with BEP 41 announce options).
 *
 * Every field is read at a named offset with memcpy and a byte-order helper,
 * and every read is checked against len first: the parser runs on bytes
 * straight from the NIC.
 */
#include "udp_msg.h"

#include <string.h>

#include "wire.h"

/* BEP 15 request header, common to every action. */
#define OFF_CONNECTION_ID  0
#define OFF_ACTION	   8
#define OFF_TRANSACTION_ID 12
#define REQ_HDR_LEN	   16

/* BEP 15 "Announce" request body. */
#define OFF_ANN_INFO_HASH  16
#define OFF_ANN_PEER_ID	   36
#define OFF_ANN_DOWNLOADED 56
#define OFF_ANN_LEFT	   64
#define OFF_ANN_UPLOADED   72
#define OFF_ANN_EVENT	   80
#define OFF_ANN_IP	   84
#define OFF_ANN_KEY	   88
#define OFF_ANN_NUM_WANT   92
#define OFF_ANN_PORT	   96

/* BEP 15 "Scrape" request body: 20-byte info hashes from here to the end. */
#define OFF_SCR_HASHES 16

/* Reply headers: action and transaction id, then the action's fields. */
#define OFF_REPLY_ACTION	 0
#define OFF_REPLY_TRANSACTION_ID 4
#define OFF_CONN_REPLY_ID	 8
#define OFF_ANN_REPLY_INTERVAL	 8
#define OFF_ANN_REPLY_LEECHERS	 12
#define OFF_ANN_REPLY_SEEDERS	 16
#define OFF_SCR_ENTRY_SEEDERS	 0
#define OFF_SCR_ENTRY_COMPLETED	 4
#define OFF_SCR_ENTRY_LEECHERS	 8
#define OFF_ERR_REPLY_MESSAGE	 8

/* BEP 41 option types. */
#define OPT_END_OF_OPTIONS 0x0
#define OPT_NOP		   0x1
#define OPT_URL_DATA	   0x2

_Static_assert(OFF_TRANSACTION_ID + 4 == REQ_HDR_LEN, "request header is 16 bytes");
_Static_assert(OFF_ANN_PORT + 2 == UDP_MSG_ANNOUNCE_LEN, "announce layout is 98 bytes");
_Static_assert(OFF_CONN_REPLY_ID + 8 == UDP_MSG_CONNECT_REPLY_LEN, "connect reply is 16 bytes");
_Static_assert(OFF_ANN_REPLY_SEEDERS + 4 == TR_UDP_ANNOUNCE_HDR, "announce reply is 20 bytes");
_Static_assert(TR_UDP_URL_MAX <= UINT16_MAX, "url_len is 16 bits");

static const char *const err_names[UDP_MSG_ERR_N] = {
    [UDP_MSG_OK] = "ok",
    [UDP_MSG_ERR_SHORT] = "short",
    [UDP_MSG_ERR_PROTOCOL_ID] = "protocol_id",
    [UDP_MSG_ERR_ACTION] = "action",
    [UDP_MSG_ERR_EVENT] = "event",
    [UDP_MSG_ERR_SCRAPE_LEN] = "scrape_len",
};

const char *udp_msg_err_name(enum udp_msg_err e)
{
	if ((unsigned)e >= UDP_MSG_ERR_N)
		return "unknown";
	return err_names[e];
}

/*
 * BEP 41: walks the options from UDP_MSG_ANNOUNCE_LEN to len, appending every
 * URLData to a->url. Stops at EndOfOptions, at an unknown type, or at an
 * option whose length byte or data would run past len (that option is
 * dropped whole). Each step advances at least one byte, so the loop ends
 * within len - 98 iterations. Never fails: options are advisory.
 */
static void parse_options(const uint8_t *buf, size_t len, struct udp_msg_announce *a)
{
	size_t pos = UDP_MSG_ANNOUNCE_LEN;

	a->url_len = 0;
	a->url_truncated = 0;
	while (pos < len) {
		uint8_t type = buf[pos];
		size_t optlen, room, take;

		if (type == OPT_NOP) {
			pos++;
			continue;
		}
		if (type != OPT_URL_DATA)
			return; /* EndOfOptions, or a type we cannot skip */
		if (len - pos < 2)
			return; /* no length byte */
		optlen = buf[pos + 1];
		if (optlen > len - pos - 2)
			return; /* data runs past the datagram */

		room = TR_UDP_URL_MAX - a->url_len;
		take = optlen < room ? optlen : room;
		memcpy(a->url + a->url_len, buf + pos + 2, take);
		a->url_len = (uint16_t)(a->url_len + take);
		if (take < optlen)
			a->url_truncated = 1;
		pos += 2 + optlen;
	}
}

/* BEP 15 "Announce": the fixed 98 bytes, then BEP 41 options. IPv6 clients
 * send the same 98 bytes: ip stays the 4-byte field, whatever the family. */
static enum udp_msg_err parse_announce(const uint8_t *buf, size_t len, struct udp_msg_announce *a)
{
	if (len < UDP_MSG_ANNOUNCE_LEN)
		return UDP_MSG_ERR_SHORT;

	memcpy(a->info_hash, buf + OFF_ANN_INFO_HASH, TR_HASH_LEN);
	memcpy(a->peer_id, buf + OFF_ANN_PEER_ID, TR_HASH_LEN);
	a->downloaded = get_be64(buf, OFF_ANN_DOWNLOADED);
	a->left = get_be64(buf, OFF_ANN_LEFT);
	a->uploaded = get_be64(buf, OFF_ANN_UPLOADED);
	a->event = get_be32(buf, OFF_ANN_EVENT);
	memcpy(&a->ip, buf + OFF_ANN_IP, sizeof(a->ip)); /* kept in network order */
	a->key = get_be32(buf, OFF_ANN_KEY);
	a->num_want = (int32_t)get_be32(buf, OFF_ANN_NUM_WANT);
	a->port = get_be16(buf, OFF_ANN_PORT);
	if (a->event > UDP_MSG_EV_STOPPED)
		return UDP_MSG_ERR_EVENT;

	parse_options(buf, len, a);
	return UDP_MSG_OK;
}

/* BEP 15 "Scrape": 16 + 20 * n bytes, n >= 1. No hash at all is short; a
 * partial hash is a bad length. The caller has checked len >= 16. */
static enum udp_msg_err parse_scrape(const uint8_t *buf, size_t len, struct udp_msg_scrape *s)
{
	size_t body = len - OFF_SCR_HASHES;

	if (body % TR_HASH_LEN != 0)
		return UDP_MSG_ERR_SCRAPE_LEN;
	if (body == 0)
		return UDP_MSG_ERR_SHORT;
	if (body / TR_HASH_LEN > UINT32_MAX)
		return UDP_MSG_ERR_SCRAPE_LEN; /* not a datagram */
	s->hashes = buf + OFF_SCR_HASHES;
	s->n = (uint32_t)(body / TR_HASH_LEN);
	return UDP_MSG_OK;
}

enum udp_msg_err udp_msg_parse(const uint8_t *buf, size_t len, struct udp_msg_req *req)
{
	if (len < REQ_HDR_LEN) {
		req->action = 0;
		req->transaction_id = 0;
		return UDP_MSG_ERR_SHORT;
	}
	req->connection_id = get_be64(buf, OFF_CONNECTION_ID);
	req->action = get_be32(buf, OFF_ACTION);
	req->transaction_id = get_be32(buf, OFF_TRANSACTION_ID);

	switch (req->action) {
	case UDP_MSG_CONNECT:
		/* Anything after the 16 bytes is ignored (BEP 15). */
		if (req->connection_id != UDP_MSG_PROTOCOL_ID)
			return UDP_MSG_ERR_PROTOCOL_ID;
		return UDP_MSG_OK;
	case UDP_MSG_ANNOUNCE:
		return parse_announce(buf, len, &req->announce);
	case UDP_MSG_SCRAPE:
		return parse_scrape(buf, len, &req->scrape);
	default:
		return UDP_MSG_ERR_ACTION;
	}
}

bool udp_msg_peek(const uint8_t *buf, size_t len, struct udp_msg_peek *pk)
{
	if (len < OFF_SCR_HASHES + TR_HASH_LEN)
		return false;
	switch (get_be32(buf, OFF_ACTION)) {
	case UDP_MSG_ANNOUNCE:
		if (len < UDP_MSG_ANNOUNCE_LEN)
			return false;
		pk->info_hash = buf + OFF_ANN_INFO_HASH;
		pk->port = get_be16(buf, OFF_ANN_PORT);
		pk->seeder = get_be64(buf, OFF_ANN_LEFT) == 0;
		return true;
	case UDP_MSG_SCRAPE:
		pk->info_hash = buf + OFF_SCR_HASHES;
		pk->port = 0;
		pk->seeder = false;
		return true;
	default:
		return false;
	}
}

size_t udp_msg_write_connect(uint8_t *out, size_t cap, uint32_t transaction_id,
			     uint64_t connection_id)
{
	if (cap < UDP_MSG_CONNECT_REPLY_LEN)
		return 0;
	put_be32(out, OFF_REPLY_ACTION, UDP_MSG_CONNECT);
	put_be32(out, OFF_REPLY_TRANSACTION_ID, transaction_id);
	put_be64(out, OFF_CONN_REPLY_ID, connection_id);
	return UDP_MSG_CONNECT_REPLY_LEN;
}

size_t udp_msg_write_announce(uint8_t *out, size_t cap, uint32_t transaction_id, uint32_t interval,
			      uint32_t leechers, uint32_t seeders)
{
	if (cap < TR_UDP_ANNOUNCE_HDR)
		return 0;
	put_be32(out, OFF_REPLY_ACTION, UDP_MSG_ANNOUNCE);
	put_be32(out, OFF_REPLY_TRANSACTION_ID, transaction_id);
	put_be32(out, OFF_ANN_REPLY_INTERVAL, interval);
	put_be32(out, OFF_ANN_REPLY_LEECHERS, leechers);
	put_be32(out, OFF_ANN_REPLY_SEEDERS, seeders);
	return TR_UDP_ANNOUNCE_HDR;
}

size_t udp_msg_write_scrape(uint8_t *out, size_t cap, uint32_t transaction_id)
{
	if (cap < UDP_MSG_SCRAPE_REPLY_HDR)
		return 0;
	put_be32(out, OFF_REPLY_ACTION, UDP_MSG_SCRAPE);
	put_be32(out, OFF_REPLY_TRANSACTION_ID, transaction_id);
	return UDP_MSG_SCRAPE_REPLY_HDR;
}

size_t udp_msg_write_scrape_entry(uint8_t *out, size_t cap, uint32_t seeders, uint32_t completed,
				  uint32_t leechers)
{
	if (cap < UDP_MSG_SCRAPE_ENTRY_LEN)
		return 0;
	put_be32(out, OFF_SCR_ENTRY_SEEDERS, seeders);
	put_be32(out, OFF_SCR_ENTRY_COMPLETED, completed);
	put_be32(out, OFF_SCR_ENTRY_LEECHERS, leechers);
	return UDP_MSG_SCRAPE_ENTRY_LEN;
}

size_t udp_msg_write_error(uint8_t *out, size_t cap, uint32_t transaction_id, const char *msg)
{
	size_t n;

	if (cap < UDP_MSG_ERROR_HDR)
		return 0;
	/* strnlen: a message longer than the room is never read past it. */
	n = strnlen(msg, cap - UDP_MSG_ERROR_HDR);
	put_be32(out, OFF_REPLY_ACTION, UDP_MSG_ERROR);
	put_be32(out, OFF_REPLY_TRANSACTION_ID, transaction_id);
	memcpy(out + OFF_ERR_REPLY_MESSAGE, msg, n);
	return UDP_MSG_ERROR_HDR + n;
}
