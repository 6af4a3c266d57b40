/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * kh_parse.c - the HTTP/1.x request head parser (RFC 9112 sections 2-5).
 *
 * One forward pass over buf[0..len) with an index that never reaches len
 * unchecked. Each step either takes a byte it expects, runs out of input
 * (partial: every byte so far could still start a valid head), or meets a
 * byte that no valid head has there (bad, at once: a TLS ClientHello or an
 * SSH banner is refused on the byte that gives it away, not after the
 * connection's buffer fills). Nothing is copied: every field of the result
 * points into buf.
 */
#include "kh_parse.h"

#include <limits.h>
#include <string.h>

/* A step's outcome besides the two public ones. */
#define KH_OK 0

/* RFC 9110 5.6.2: tchar = "!" / "#" / "$" / "%" / "&" / "'" / "*" / "+" /
 * "-" / "." / "^" / "_" / "`" / "|" / "~" / DIGIT / ALPHA. */
static bool kh_is_tchar(unsigned char c)
{
	if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))
		return true;
	switch (c) {
	case '!':
	case '#':
	case '$':
	case '%':
	case '&':
	case '\'':
	case '*':
	case '+':
	case '-':
	case '.':
	case '^':
	case '_':
	case '`':
	case '|':
	case '~':
		return true;
	default:
		return false;
	}
}

/* A request-target byte: printable ASCII, no space (RFC 3986 is stricter;
 * the router judges the rest). */
static bool kh_is_target_char(unsigned char c)
{
	return c >= 0x21 && c <= 0x7e;
}

/* RFC 9110 5.5: field-content is VCHAR / obs-text with SP and HTAB inside. */
static bool kh_is_value_char(unsigned char c)
{
	return c == ' ' || c == '\t' || (c >= 0x21 && c != 0x7f);
}

static bool kh_is_ows(unsigned char c)
{
	return c == ' ' || c == '\t';
}

static unsigned char kh_lower(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') ? (unsigned char)(c + ('a' - 'A')) : c;
}

/* True if a[0..n) and b[0..n) are equal ignoring ASCII case. */
static bool kh_case_equal(const char *a, const char *b, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (kh_lower((unsigned char)a[i]) != kh_lower((unsigned char)b[i]))
			return false;
	return true;
}

/* Takes a line end at buf[*pos]: CRLF, or a bare LF (RFC 9112 2.2). */
static int kh_take_eol(const char *buf, size_t len, size_t *pos)
{
	size_t i = *pos;

	if (i == len)
		return KH_PARSE_PARTIAL;
	if (buf[i] == '\r' && ++i == len)
		return KH_PARSE_PARTIAL;
	if (buf[i] != '\n')
		return KH_PARSE_BAD;
	*pos = i + 1;
	return KH_OK;
}

/* Skips empty lines before the request-line (RFC 9112 2.2: a server SHOULD
 * ignore at least one). Their number is bounded by the caller's buffer. */
static int kh_skip_empty_lines(const char *buf, size_t len, size_t *pos)
{
	int rc;

	while (*pos < len && (buf[*pos] == '\r' || buf[*pos] == '\n')) {
		rc = kh_take_eol(buf, len, pos);
		if (rc != KH_OK)
			return rc;
	}
	return *pos == len ? KH_PARSE_PARTIAL : KH_OK;
}

/* Splits the target into path, query (after the first '?') and a fragment
 * that is dropped (from the first '#', RFC 3986 3.5: a '?' after '#' belongs
 * to the fragment). */
static void kh_split_target(const char *t, size_t n, struct kh_request *req)
{
	size_t i = 0;
	size_t q;

	while (i < n && t[i] != '?' && t[i] != '#')
		i++;
	req->path = t;
	req->path_len = i;
	req->query = NULL;
	req->query_len = 0;
	if (i < n && t[i] == '?') {
		q = ++i;
		while (i < n && t[i] != '#')
			i++;
		req->query = t + q;
		req->query_len = i - q;
	}
}

/* Takes "HTTP/1.0" or "HTTP/1.1" (RFC 9112 2.3: case-sensitive). */
static int kh_take_version(const char *buf, size_t len, size_t *pos, int *minor)
{
	static const char prefix[] = "HTTP/1.";
	size_t i = *pos;
	size_t k;

	for (k = 0; k < sizeof(prefix) - 1; k++, i++) {
		if (i == len)
			return KH_PARSE_PARTIAL;
		if (buf[i] != prefix[k])
			return KH_PARSE_BAD;
	}
	if (i == len)
		return KH_PARSE_PARTIAL;
	if (buf[i] != '0' && buf[i] != '1')
		return KH_PARSE_BAD;
	*minor = buf[i] - '0';
	*pos = i + 1;
	return KH_OK;
}

/* RFC 9112 3: method SP request-target SP HTTP-version CRLF, with exactly
 * one SP between the parts. */
static int kh_take_request_line(const char *buf, size_t len, size_t *pos, struct kh_request *req)
{
	size_t i = *pos;
	size_t start = i;
	int rc;

	while (i < len && kh_is_tchar((unsigned char)buf[i]))
		i++;
	if (i == len)
		return KH_PARSE_PARTIAL;
	if (i == start || buf[i] != ' ')
		return KH_PARSE_BAD;
	req->method = buf + start;
	req->method_len = i - start;

	start = ++i;
	while (i < len && kh_is_target_char((unsigned char)buf[i]))
		i++;
	if (i == len)
		return KH_PARSE_PARTIAL;
	if (i == start || buf[i] != ' ')
		return KH_PARSE_BAD;
	kh_split_target(buf + start, i - start, req);

	i++;
	rc = kh_take_version(buf, len, &i, &req->minor_version);
	if (rc != KH_OK)
		return rc;
	rc = kh_take_eol(buf, len, &i);
	if (rc != KH_OK)
		return rc;
	*pos = i;
	return KH_OK;
}

/* RFC 9112 5: field-name ":" OWS field-value OWS, no space before ':'. */
static int kh_take_header(const char *buf, size_t len, size_t *pos, struct kh_header *h)
{
	size_t i = *pos;
	size_t start = i;
	size_t value_end;
	int rc;

	while (i < len && kh_is_tchar((unsigned char)buf[i]))
		i++;
	if (i == len)
		return KH_PARSE_PARTIAL;
	if (i == start || buf[i] != ':')
		return KH_PARSE_BAD;
	h->name = buf + start;
	h->name_len = i - start;

	i++;
	while (i < len && kh_is_ows((unsigned char)buf[i]))
		i++;
	start = i;
	value_end = i;
	while (i < len && kh_is_value_char((unsigned char)buf[i])) {
		if (!kh_is_ows((unsigned char)buf[i]))
			value_end = i + 1;
		i++;
	}
	rc = kh_take_eol(buf, len, &i);
	if (rc != KH_OK)
		return rc;
	h->value = buf + start;
	h->value_len = value_end - start;
	*pos = i;
	return KH_OK;
}

int kh_parse_request(const char *buf, size_t len, struct kh_request *req)
{
	/* The result is an int: a head that does not end within INT_MAX bytes
	 * is bad rather than partial forever. */
	bool clamped = len > (size_t)INT_MAX;
	size_t i = 0;
	int rc;

	if (clamped)
		len = (size_t)INT_MAX;
	req->n_headers = 0;
	rc = kh_skip_empty_lines(buf, len, &i);
	if (rc == KH_OK)
		rc = kh_take_request_line(buf, len, &i, req);
	while (rc == KH_OK) {
		if (i == len) {
			rc = KH_PARSE_PARTIAL;
		} else if (buf[i] == '\r' || buf[i] == '\n') {
			rc = kh_take_eol(buf, len, &i);
			if (rc == KH_OK)
				return (int)i;
		} else if (kh_is_ows((unsigned char)buf[i]) || req->n_headers == KH_MAX_HEADERS) {
			/* obs-fold (RFC 9112 5.2) or whitespace before the
			 * first field (2.2); or one header too many. */
			rc = KH_PARSE_BAD;
		} else {
			rc = kh_take_header(buf, len, &i, &req->headers[req->n_headers]);
			if (rc == KH_OK)
				req->n_headers++;
		}
	}
	if (rc == KH_PARSE_PARTIAL && clamped)
		return KH_PARSE_BAD;
	return rc;
}

const struct kh_header *kh_find_header(const struct kh_request *req, const char *name)
{
	size_t name_len = strlen(name);
	size_t k;

	for (k = 0; k < req->n_headers; k++) {
		const struct kh_header *h = &req->headers[k];

		if (h->name_len == name_len && kh_case_equal(h->name, name, name_len))
			return h;
	}
	return NULL;
}

bool kh_header_has_token(const char *value, size_t len, const char *token)
{
	size_t token_len = strlen(token);
	size_t i = 0;

	if (token_len == 0)
		return false;
	while (i <= len) {
		size_t start;
		size_t end;

		while (i < len && kh_is_ows((unsigned char)value[i]))
			i++;
		start = i;
		while (i < len && value[i] != ',')
			i++;
		end = i;
		while (end > start && kh_is_ows((unsigned char)value[end - 1]))
			end--;
		if (end - start == token_len && kh_case_equal(value + start, token, token_len))
			return true;
		i++; /* past the ',' (or past len, which ends the loop) */
	}
	return false;
}
