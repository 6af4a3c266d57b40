/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * http_req.c - decode an HTTP tracker query string (BEP 3, 7, 23, 48).
 *
 * The query is split on '&' into "name=value" parameters ("name" alone has
 * an empty value; empty parameters, as in "a=1&&b=2", are skipped). Names
 * are always percent-decoded, so a malformed escape in any name is refused;
 * values are decoded only for the parameters we read, so an unknown
 * parameter is ignored whatever its value holds. Decoding is a cursor over
 * the raw bytes: nothing is copied except into bounded fields, and no read
 * goes past the given length.
 */
#include "http_req.h"

#include <arpa/inet.h>
#include <string.h>

#include "hex.h"

/* The parameters we read. P_NUMWANT also answers to "num_want". */
enum http_req_param {
	P_INFO_HASH,
	P_PEER_ID,
	P_PORT,
	P_UPLOADED,
	P_DOWNLOADED,
	P_LEFT,
	P_EVENT,
	P_COMPACT,
	P_NO_PEER_ID,
	P_NUMWANT,
	P_KEY,
	P_IP,
	P_IPV4,
	P_IPV6,
	P_UNKNOWN,
};

static const struct {
	const char *name;
	enum http_req_param id;
} http_req_names[] = {
    {"info_hash", P_INFO_HASH},
    {"peer_id", P_PEER_ID},
    {"port", P_PORT},
    {"uploaded", P_UPLOADED},
    {"downloaded", P_DOWNLOADED},
    {"left", P_LEFT},
    {"event", P_EVENT},
    {"compact", P_COMPACT},
    {"no_peer_id", P_NO_PEER_ID},
    {"numwant", P_NUMWANT},
    {"num_want", P_NUMWANT},
    {"key", P_KEY},
    {"ip", P_IP},
    {"ipv4", P_IPV4},
    {"ipv6", P_IPV6},
};

/* Longest name we match is "no_peer_id" / "downloaded" (10 bytes); a longer
 * decoded name is unknown without comparing. */
#define HTTP_REQ_NAME_MAX 16

/* An address parameter's text: "[" + 45-byte IPv6 literal + "]:65535" fits,
 * with room for the NUL inet_pton needs. Longer is not an address. */
#define HTTP_REQ_IP_TEXT_MAX 64

static const struct {
	const char *msg;
	const char *name;
} http_req_errs[HTTP_REQ_ERR_N] = {
    [HTTP_REQ_OK] = {"ok", "ok"},
    [HTTP_REQ_ERR_ENCODING] = {"invalid percent-encoding in query", "encoding"},
    [HTTP_REQ_ERR_INFO_HASH] = {"invalid info_hash", "info_hash"},
    [HTTP_REQ_ERR_PEER_ID] = {"invalid peer_id", "peer_id"},
    [HTTP_REQ_ERR_PORT] = {"invalid port", "port"},
    [HTTP_REQ_ERR_NUMBER] = {"invalid number in query", "number"},
    [HTTP_REQ_ERR_EVENT] = {"invalid event", "event"},
    [HTTP_REQ_ERR_IP] = {"invalid ip address", "ip"},
    [HTTP_REQ_ERR_KEY] = {"invalid key", "key"},
    [HTTP_REQ_ERR_TOO_MANY] = {"too many info_hash in scrape", "too_many"},
    [HTTP_REQ_ERR_DUPLICATE] = {"duplicate parameter", "duplicate"},
};

const char *http_req_err_msg(enum http_req_err e)
{
	if ((unsigned)e >= HTTP_REQ_ERR_N)
		return "invalid request";
	return http_req_errs[e].msg;
}

const char *http_req_err_name(enum http_req_err e)
{
	if ((unsigned)e >= HTTP_REQ_ERR_N)
		return "unknown";
	return http_req_errs[e].name;
}

/* ---- percent-decoding ---- */

/* A cursor over one raw name or value; reads stay inside [p, end). */
struct pct {
	const char *p;
	const char *end;
};

#define PCT_END (-1) /* no more bytes */
#define PCT_BAD (-2) /* '%' not followed by two hex digits */

/* Returns the next decoded byte (0..255), PCT_END or PCT_BAD. '+' is a
 * space (application/x-www-form-urlencoded, which every client uses). */
static int pct_next(struct pct *c)
{
	int hi, lo;
	char ch;

	if (c->p == c->end)
		return PCT_END;
	ch = *c->p;
	if (ch != '%') {
		c->p++;
		return ch == '+' ? ' ' : (unsigned char)ch;
	}
	if (c->end - c->p < 3)
		return PCT_BAD;
	hi = tr_hex_digit(c->p[1]);
	lo = tr_hex_digit(c->p[2]);
	if (hi < 0 || lo < 0)
		return PCT_BAD;
	c->p += 3;
	return hi << 4 | lo;
}

/*
 * Decodes s[0..n) into out, storing at most cap bytes, and sets *outlen to
 * the full decoded length (which may exceed cap: the caller decides whether
 * that is an error). Returns 0, or -1 on a malformed escape.
 */
static int pct_decode(const char *s, size_t n, void *out, size_t cap, size_t *outlen)
{
	struct pct c = {s, s + n};
	uint8_t *o = out;
	size_t len = 0;
	int ch;

	while ((ch = pct_next(&c)) >= 0) {
		if (len < cap)
			o[len] = (uint8_t)ch;
		len++;
	}
	*outlen = len;
	return ch == PCT_BAD ? -1 : 0;
}

/* ---- values ---- */

enum val_res {
	VAL_OK,
	VAL_BAD, /* well encoded but not a valid value for the parameter */
	VAL_ENC, /* malformed percent-encoding */
};

/* Parses one or more decimal digits, no sign, no spaces, into *v. Returns
 * VAL_BAD for an empty value, any other byte, or a value above UINT64_MAX;
 * VAL_ENC if any escape in the value is malformed, wherever it is. */
static enum val_res val_u64(const char *s, size_t n, uint64_t *v)
{
	struct pct c = {s, s + n};
	uint64_t x = 0;
	size_t len;
	int ch;

	if (pct_decode(s, n, NULL, 0, &len) != 0)
		return VAL_ENC;
	if (len == 0)
		return VAL_BAD;
	while ((ch = pct_next(&c)) >= 0) {
		if (ch < '0' || ch > '9')
			return VAL_BAD;
		if (x > (UINT64_MAX - (uint64_t)(ch - '0')) / 10)
			return VAL_BAD;
		x = x * 10 + (uint64_t)(ch - '0');
	}
	*v = x;
	return VAL_OK;
}

/* Decodes a value that must be exactly want bytes long (info_hash, peer_id). */
static enum val_res val_bytes(const char *s, size_t n, uint8_t *out, size_t want)
{
	size_t len;

	if (pct_decode(s, n, out, want, &len) != 0)
		return VAL_ENC;
	return len == want ? VAL_OK : VAL_BAD;
}

/* Returns true if s[0..n) is a port number, 0..65535 (an ignored suffix). */
static bool port_text(const char *s, size_t n)
{
	uint32_t v = 0;
	size_t i;

	if (n == 0 || n > 5)
		return false;
	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (uint32_t)(s[i] - '0');
	}
	return v <= 65535;
}

/* Runs inet_pton on s[0..n) through a bounded, NUL-terminated copy. */
static bool addr_text(int af, const char *s, size_t n, uint8_t *out)
{
	char tmp[HTTP_REQ_IP_TEXT_MAX];

	if (n == 0 || n >= sizeof(tmp))
		return false;
	memcpy(tmp, s, n);
	tmp[n] = '\0';
	return inet_pton(af, tmp, out) == 1;
}

/* "a.b.c.d" or "a.b.c.d:port". BEP 7 allows an endpoint (RFC 2732 form) whose
 * port overrides &port=; struct http_req_announce has no field for it, so the
 * port is checked and dropped. */
static bool addr_v4(const char *s, size_t n, uint8_t out[4])
{
	const char *colon = memchr(s, ':', n);
	size_t host = colon ? (size_t)(colon - s) : n;

	if (colon && !port_text(colon + 1, n - host - 1))
		return false;
	return addr_text(AF_INET, s, host, out);
}

/* "addr", "[addr]" or "[addr]:port" (the port checked and dropped, as above). */
static bool addr_v6(const char *s, size_t n, uint8_t out[16])
{
	const char *rb;
	size_t rest;

	if (n == 0 || s[0] != '[')
		return addr_text(AF_INET6, s, n, out);
	rb = memchr(s, ']', n);
	if (rb == NULL)
		return false;
	rest = n - (size_t)(rb + 1 - s);
	if (rest > 0 && (rb[1] != ':' || !port_text(rb + 2, rest - 1)))
		return false;
	return addr_text(AF_INET6, s + 1, (size_t)(rb - s - 1), out);
}

/* Decodes an address parameter of family af (4, 6, or 0 for either) into
 * out (4 bytes for af 4, else 16); sets *family to the family found. */
static enum val_res val_addr(const char *s, size_t n, int af, uint8_t *out, uint8_t *family)
{
	char text[HTTP_REQ_IP_TEXT_MAX];
	size_t len;

	if (pct_decode(s, n, text, sizeof(text), &len) != 0)
		return VAL_ENC;
	/* An embedded NUL would end inet_pton's string early: not an address. */
	if (len > sizeof(text) || memchr(text, '\0', len) != NULL)
		return VAL_BAD;
	if (af != 6 && addr_v4(text, len, out)) {
		*family = 4;
		return VAL_OK;
	}
	if (af != 4 && addr_v6(text, len, out)) {
		*family = 6;
		return VAL_OK;
	}
	return VAL_BAD;
}

/* "started", "stopped", "completed", "paused", "empty" or "" (BEP 3, 21). */
static enum val_res val_event(const char *s, size_t n, uint8_t *ev)
{
	static const struct {
		const char *name;
		uint8_t ev;
	} events[] = {
	    {"", HTTP_REQ_EV_NONE},
	    {"empty", HTTP_REQ_EV_NONE},
	    {"started", HTTP_REQ_EV_STARTED},
	    {"stopped", HTTP_REQ_EV_STOPPED},
	    {"completed", HTTP_REQ_EV_COMPLETED},
	    {"paused", HTTP_REQ_EV_PAUSED},
	};
	char text[HTTP_REQ_NAME_MAX];
	size_t len, i;

	if (pct_decode(s, n, text, sizeof(text), &len) != 0)
		return VAL_ENC;
	if (len > sizeof(text))
		return VAL_BAD;
	for (i = 0; i < sizeof(events) / sizeof(events[0]); i++) {
		if (strlen(events[i].name) == len && memcmp(events[i].name, text, len) == 0) {
			*ev = events[i].ev;
			return VAL_OK;
		}
	}
	return VAL_BAD;
}

/* ---- parameters ---- */

/* Decodes a name; returns its parameter, P_UNKNOWN, or -1 on bad encoding. */
static int param_id(const char *s, size_t n)
{
	char text[HTTP_REQ_NAME_MAX];
	size_t len, i;

	if (pct_decode(s, n, text, sizeof(text), &len) != 0)
		return -1;
	if (len > sizeof(text))
		return P_UNKNOWN;
	for (i = 0; i < sizeof(http_req_names) / sizeof(http_req_names[0]); i++) {
		const char *name = http_req_names[i].name;

		if (strlen(name) == len && memcmp(name, text, len) == 0)
			return (int)http_req_names[i].id;
	}
	return P_UNKNOWN;
}

/* One "name=value" of a query, raw. */
struct param {
	const char *name;
	size_t name_len;
	const char *val;
	size_t val_len;
};

/*
 * Takes the next non-empty parameter of q[*off..len) into *p and advances
 * *off past it and its '&'. Returns false when none is left.
 */
static bool param_next(const char *q, size_t len, size_t *off, struct param *p)
{
	while (*off < len) {
		const char *s = q + *off;
		const char *amp = memchr(s, '&', len - *off);
		size_t n = amp ? (size_t)(amp - s) : len - *off;
		const char *eq = memchr(s, '=', n);

		*off += n + (amp ? 1 : 0);
		if (n == 0)
			continue;
		p->name = s;
		p->name_len = eq ? (size_t)(eq - s) : n;
		p->val = eq ? eq + 1 : s + n;
		p->val_len = eq ? n - p->name_len - 1 : 0;
		return true;
	}
	return false;
}

/* Maps a value result to the parameter's error. */
static enum http_req_err val_err(enum val_res r, enum http_req_err bad)
{
	if (r == VAL_OK)
		return HTTP_REQ_OK;
	return r == VAL_ENC ? HTTP_REQ_ERR_ENCODING : bad;
}

/* Decodes a plain number parameter into its field of a. */
static enum http_req_err ann_number(struct http_req_announce *a, int id, const char *v, size_t n)
{
	uint64_t x;
	enum val_res r = val_u64(v, n, &x);

	if (r != VAL_OK)
		return val_err(r, HTTP_REQ_ERR_NUMBER);
	switch (id) {
	case P_UPLOADED:
		a->uploaded = x;
		break;
	case P_DOWNLOADED:
		a->downloaded = x;
		break;
	case P_LEFT:
		a->left = x;
		a->has_left = true;
		break;
	case P_COMPACT:
		a->compact = x != 0;
		break;
	case P_NO_PEER_ID:
		a->no_peer_id = x != 0;
		break;
	case P_NUMWANT:
		a->numwant = x > INT32_MAX ? INT32_MAX : (int32_t)x;
		break;
	}
	return HTTP_REQ_OK;
}

/* Decodes one announce parameter's value into its field of a. */
static enum http_req_err ann_field(struct http_req_announce *a, int id, const char *v, size_t n)
{
	enum val_res r;
	uint64_t x = 0;
	uint8_t family;
	size_t len;

	switch (id) {
	case P_INFO_HASH:
		return val_err(val_bytes(v, n, a->info_hash, TR_HASH_LEN), HTTP_REQ_ERR_INFO_HASH);
	case P_PEER_ID:
		return val_err(val_bytes(v, n, a->peer_id, TR_HASH_LEN), HTTP_REQ_ERR_PEER_ID);
	case P_PORT:
		r = val_u64(v, n, &x);
		if (r == VAL_OK && (x == 0 || x > 65535))
			r = VAL_BAD;
		a->port = (uint16_t)x;
		return val_err(r, HTTP_REQ_ERR_PORT);
	case P_EVENT:
		return val_err(val_event(v, n, &a->event), HTTP_REQ_ERR_EVENT);
	case P_KEY:
		if (pct_decode(v, n, a->key, sizeof(a->key), &len) != 0)
			return HTTP_REQ_ERR_ENCODING;
		a->key_len = (uint8_t)len;
		return len > sizeof(a->key) ? HTTP_REQ_ERR_KEY : HTTP_REQ_OK;
	case P_IP:
		/* BEP 3 lets `ip` be a DNS name. The tracker never resolves names
		 * and uses `ip` only when configured to, so a name (or any
		 * non-literal) is ignored rather than refusing the announce. */
		r = val_addr(v, n, 0, a->ip, &a->ip_family);
		a->has_ip = r == VAL_OK;
		return r == VAL_ENC ? HTTP_REQ_ERR_ENCODING : HTTP_REQ_OK;
	case P_IPV4:
		a->has_ipv4 = true;
		return val_err(val_addr(v, n, 4, a->ipv4, &family), HTTP_REQ_ERR_IP);
	case P_IPV6:
		a->has_ipv6 = true;
		return val_err(val_addr(v, n, 6, a->ipv6, &family), HTTP_REQ_ERR_IP);
	default:
		return ann_number(a, id, v, n);
	}
}

/* Returns true if parameter id decoded to the same value in a and b. */
static bool ann_same(const struct http_req_announce *a, const struct http_req_announce *b, int id)
{
	switch (id) {
	case P_INFO_HASH:
		return memcmp(a->info_hash, b->info_hash, TR_HASH_LEN) == 0;
	case P_PEER_ID:
		return memcmp(a->peer_id, b->peer_id, TR_HASH_LEN) == 0;
	case P_PORT:
		return a->port == b->port;
	case P_UPLOADED:
		return a->uploaded == b->uploaded;
	case P_DOWNLOADED:
		return a->downloaded == b->downloaded;
	case P_LEFT:
		return a->left == b->left;
	case P_EVENT:
		return a->event == b->event;
	case P_COMPACT:
		return a->compact == b->compact;
	case P_NO_PEER_ID:
		return a->no_peer_id == b->no_peer_id;
	case P_NUMWANT:
		return a->numwant == b->numwant;
	case P_KEY:
		return a->key_len == b->key_len && memcmp(a->key, b->key, a->key_len) == 0;
	case P_IP:
		return a->ip_family == b->ip_family &&
		       memcmp(a->ip, b->ip, a->ip_family == 4 ? 4 : 16) == 0;
	case P_IPV4:
		return memcmp(a->ipv4, b->ipv4, 4) == 0;
	case P_IPV6:
		return memcmp(a->ipv6, b->ipv6, 16) == 0;
	}
	return true;
}

enum http_req_err http_req_parse_announce(const char *q, size_t len, struct http_req_announce *a)
{
	struct http_req_announce again;
	struct param p;
	uint32_t seen = 0;
	size_t off = 0;
	enum http_req_err err;
	int id;

	memset(a, 0, sizeof(*a));
	a->compact = true; /* BEP 23: trackers may answer compact by default */
	a->numwant = -1;
	while (param_next(q, len, &off, &p)) {
		id = param_id(p.name, p.name_len);
		if (id < 0)
			return HTTP_REQ_ERR_ENCODING;
		if (id == P_UNKNOWN)
			continue;
		if (!(seen & 1u << id)) {
			seen |= 1u << id;
			err = ann_field(a, id, p.val, p.val_len);
			if (err != HTTP_REQ_OK)
				return err;
			continue;
		}
		/* Repeated: decode into a scratch copy and compare. */
		again = *a;
		err = ann_field(&again, id, p.val, p.val_len);
		if (err != HTTP_REQ_OK)
			return err;
		if (!ann_same(a, &again, id))
			return HTTP_REQ_ERR_DUPLICATE;
	}
	if (!(seen & 1u << P_INFO_HASH))
		return HTTP_REQ_ERR_INFO_HASH;
	if (!(seen & 1u << P_PEER_ID))
		return HTTP_REQ_ERR_PEER_ID;
	if (!(seen & 1u << P_PORT))
		return HTTP_REQ_ERR_PORT;
	return HTTP_REQ_OK;
}

enum http_req_err http_req_parse_scrape(const char *q, size_t len, struct http_req_scrape *s)
{
	struct param p;
	size_t off = 0;
	enum val_res r;
	int id;

	s->n = 0;
	while (param_next(q, len, &off, &p)) {
		id = param_id(p.name, p.name_len);
		if (id < 0)
			return HTTP_REQ_ERR_ENCODING;
		if (id != P_INFO_HASH)
			continue;
		if (s->n == TR_HTTP_SCRAPE_MAX)
			return HTTP_REQ_ERR_TOO_MANY;
		r = val_bytes(p.val, p.val_len, s->info_hash[s->n], TR_HASH_LEN);
		if (r != VAL_OK)
			return val_err(r, HTTP_REQ_ERR_INFO_HASH);
		s->n++;
	}
	return HTTP_REQ_OK;
}
