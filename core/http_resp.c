/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * http_resp.c - bencoded HTTP tracker bodies: announce, scrape, failure.
 *
 * Each writer emits a whole document through benc.h and checks once at the
 * end: a body that does not fit returns 0, and nothing at or beyond
 * out[cap] is written. Keys appear in BEP 3's sorted (raw byte) order.
 */
#include "http_resp.h"

#include <arpa/inet.h>

#include "benc.h"

/* Appends a key given as a string literal, without a strlen at run time. */
#define BENC_KEY(b, lit) benc_str((b), (lit), sizeof(lit) - 1)

/*
 * Appends one BEP 3 peer dictionary: {"ip": text, ["peer id": id,] "port": n}.
 * entry is a compact peer (alen address bytes, then the port big-endian);
 * id is 20 bytes or NULL to omit "peer id".
 */
static void resp_peer_dict(struct benc *b, int af, const uint8_t *entry, size_t alen,
			   const uint8_t *id)
{
	char text[INET6_ADDRSTRLEN];

	/* inet_ntop cannot fail for AF_INET/AF_INET6 with a buffer this size;
	 * glibc's IPv6 form is RFC 5952's (lowercase, longest zero run as ::). */
	if (inet_ntop(af, entry, text, sizeof(text)) == NULL)
		text[0] = '\0';
	benc_dict(b);
	BENC_KEY(b, "ip");
	benc_cstr(b, text);
	if (id != NULL) {
		BENC_KEY(b, "peer id");
		benc_str(b, id, TR_HASH_LEN);
	}
	BENC_KEY(b, "port");
	benc_int(b, (int64_t)entry[alen] << 8 | entry[alen + 1]);
	benc_end(b);
}

/* Appends "peers" as one list of dictionaries, IPv4 peers then IPv6. */
static void resp_peer_list(struct benc *b, const struct http_resp_announce *a)
{
	const uint8_t *ids = a->no_peer_id ? NULL : a->peer_ids;
	uint32_t i;

	BENC_KEY(b, "peers");
	benc_list(b);
	for (i = 0; i < a->n4 && !b->overflow; i++)
		resp_peer_dict(b, AF_INET, a->peers4 + (size_t)i * TR_PEER4_LEN, 4,
			       ids ? ids + (size_t)i * TR_HASH_LEN : NULL);
	for (i = 0; i < a->n6 && !b->overflow; i++)
		resp_peer_dict(b, AF_INET6, a->peers6 + (size_t)i * TR_PEER6_LEN, 16,
			       ids ? ids + ((size_t)a->n4 + i) * TR_HASH_LEN : NULL);
	benc_end(b);
}

size_t http_resp_write_announce(uint8_t *out, size_t cap, const struct http_resp_announce *a)
{
	struct benc b;

	benc_init(&b, out, cap);
	benc_dict(&b);
	BENC_KEY(&b, "complete");
	benc_int(&b, a->complete);
	BENC_KEY(&b, "downloaded");
	benc_int(&b, a->downloaded);
	BENC_KEY(&b, "incomplete");
	benc_int(&b, a->incomplete);
	BENC_KEY(&b, "interval");
	benc_int(&b, a->interval);
	if (a->min_interval != 0) {
		BENC_KEY(&b, "min interval");
		benc_int(&b, a->min_interval);
	}
	if (a->compact) {
		BENC_KEY(&b, "peers");
		benc_str(&b, a->peers4, (size_t)a->n4 * TR_PEER4_LEN);
		/* Always present, if empty: clients look for both (BEP 7). */
		BENC_KEY(&b, "peers6");
		benc_str(&b, a->peers6, (size_t)a->n6 * TR_PEER6_LEN);
	} else {
		resp_peer_list(&b, a);
	}
	if (a->warning != NULL) {
		BENC_KEY(&b, "warning message");
		benc_cstr(&b, a->warning);
	}
	benc_end(&b);
	return benc_finish(&b);
}

size_t http_resp_write_scrape(uint8_t *out, size_t cap, const struct http_resp_scrape_entry *e,
			      uint32_t n)
{
	struct benc b;
	uint32_t i;

	benc_init(&b, out, cap);
	benc_dict(&b);
	BENC_KEY(&b, "files");
	benc_dict(&b);
	for (i = 0; i < n && !b.overflow; i++) {
		benc_str(&b, e[i].info_hash, TR_HASH_LEN);
		benc_dict(&b);
		BENC_KEY(&b, "complete");
		benc_int(&b, e[i].complete);
		BENC_KEY(&b, "downloaded");
		benc_int(&b, e[i].downloaded);
		BENC_KEY(&b, "incomplete");
		benc_int(&b, e[i].incomplete);
		benc_end(&b);
	}
	benc_end(&b);
	benc_end(&b);
	return benc_finish(&b);
}

size_t http_resp_write_failure(uint8_t *out, size_t cap, const char *reason)
{
	struct benc b;

	benc_init(&b, out, cap);
	benc_dict(&b);
	BENC_KEY(&b, "failure reason");
	benc_cstr(&b, reason);
	benc_end(&b);
	return benc_finish(&b);
}
