/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * kh_parse.h - an HTTP/1.x request head parser in the style of
 * picohttpparser: pure (no allocation, no I/O), zero-copy (every field
 * points into the caller's buffer), and with the three outcomes a
 * non-blocking loop needs: bytes consumed, partial, bad.
 *
 * RFC 9112: request-line = method SP request-target SP HTTP-version CRLF,
 * then header fields, then an empty line. A bare LF is accepted for CRLF
 * (as most servers do). Never reads past len.
 */
#ifndef DPTRACK_KERNEL_HTTP_KH_PARSE_H
#define DPTRACK_KERNEL_HTTP_KH_PARSE_H

#include <stdbool.h>
#include <stddef.h>

/* Headers kept per request; a request with more is bad (a tracker client
 * sends under ten). */
#define KH_MAX_HEADERS 32

#define KH_PARSE_PARTIAL (-2) /* the head is not complete yet: read more */
#define KH_PARSE_BAD	 (-1) /* not an HTTP/1.x request head */

struct kh_header {
	const char *name;
	size_t name_len;
	const char *value; /* leading and trailing spaces and tabs trimmed */
	size_t value_len;
};

struct kh_request {
	const char *method;
	size_t method_len;
	const char *path; /* request-target up to '?' (origin-form, starts with '/'),
			   * or the whole target for '*' and absolute-form */
	size_t path_len;
	const char *query; /* after '?', up to '#' or the end; NULL if no '?' */
	size_t query_len;
	int minor_version; /* 0 for HTTP/1.0, 1 for HTTP/1.1 */
	struct kh_header headers[KH_MAX_HEADERS];
	size_t n_headers;
};

/*
 * Parses the request head at buf[0..len). Returns the bytes it takes
 * (through the empty line) with *req filled, KH_PARSE_PARTIAL if buf ends
 * before the head does, or KH_PARSE_BAD: a method that is not a token, a
 * target with control bytes or spaces, a version other than HTTP/1.0 or
 * HTTP/1.1, a header line without ':' or with a space before it (RFC 9112
 * 5.1), a header name that is not a token, a value with control bytes other
 * than tab, more than KH_MAX_HEADERS headers, or obs-fold continuation lines.
 * Partial is only returned when every byte so far could start a valid head.
 */
int kh_parse_request(const char *buf, size_t len, struct kh_request *req);

/* Returns the first header named name (ASCII case-insensitive), or NULL. */
const struct kh_header *kh_find_header(const struct kh_request *req, const char *name);

/* Returns true if the comma-separated header value holds token (ASCII
 * case-insensitive, spaces around elements ignored): "keep-alive" in
 * "Keep-Alive, Upgrade". */
bool kh_header_has_token(const char *value, size_t len, const char *token);

#endif
