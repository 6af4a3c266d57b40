/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * kh_route.c - from a parsed request to a complete response.
 *
 *   GET|HEAD /announce, /scrape   tr_http_handle(): bencoded, always 200
 *            /stats               JSON of every figure      (stats.allow, else 403)
 *            /metrics             Prometheus text 0.0.4     (stats.allow, else 403)
 *            /dashboard           live charts of /stats     (stats.allow, else 403)
 *            /, /index.html, /dmca.html, /robots.txt, /heartbeat
 *            anything else        404
 *   other methods                 405
 *
 * The client is the TCP peer, or, when the peer is a trusted proxy, the
 * rightmost address of X-Forwarded-For that is not itself a trusted proxy.
 */
#include "kh_internal.h"

#include <arpa/inet.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/tracker.h"

static const char *const status_line[KH_STATUS_N] = {
    [KH_200] = "200 OK",
    [KH_400] = "400 Bad Request",
    [KH_403] = "403 Forbidden",
    [KH_404] = "404 Not Found",
    [KH_405] = "405 Method Not Allowed",
    [KH_431] = "431 Request Header Fields Too Large",
    [KH_500] = "500 Internal Server Error",
};

/* The longest head we write: status line and five headers. */
#define HEAD_MAX 256

/* Appends head and body (body left out for HEAD, its length kept). */
static int respond(struct kh_buf *out, enum kh_status st, const char *ctype, const char *body,
		   size_t len, const struct kh_framing *f, const char *extra)
{
	char h[HEAD_MAX + 64];
	int n = snprintf(h, sizeof(h),
			 "HTTP/1.1 %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n%s%s\r\n",
			 status_line[st], ctype, len,
			 !f->keep		 ? "Connection: close\r\n"
			 : f->minor_version == 0 ? "Connection: keep-alive\r\n"
						 : "",
			 extra != NULL ? extra : "");

	if (n < 0 || (size_t)n >= sizeof(h))
		return -1;
	size_t total = (size_t)n + (f->head ? 0 : len);
	if (kh_buf_reserve(out, total) != 0)
		return -1;
	memcpy(out->p + out->len, h, (size_t)n);
	if (!f->head && len > 0)
		memcpy(out->p + out->len + n, body, len);
	out->len += total;
	return (int)st;
}

int kh_respond_text(const struct kh_req_ctx *rc, struct kh_buf *out, enum kh_status st,
		    const char *text, const struct kh_framing *f)
{
	(void)rc;
	return respond(out, st, "text/plain; charset=utf-8", text, strlen(text), f, NULL);
}

/* ---- who the client is ------------------------------------------------ */

static bool in_list(const struct tr_addr *a, const struct tr_cidr *list, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		if (tr_addr_in_cidr(a, &list[i]))
			return true;
	return false;
}

/* Parses one X-Forwarded-For element (an address, maybe [v6] or with a
 * port, as proxies write them). Returns 0 and the address, or -1. */
static int xff_addr(const char *s, size_t len, struct tr_addr *a)
{
	char buf[INET6_ADDRSTRLEN + 8];
	uint8_t ip[16];

	while (len > 0 && (*s == ' ' || *s == '\t'))
		s++, len--;
	while (len > 0 && (s[len - 1] == ' ' || s[len - 1] == '\t'))
		len--;
	if (len > 0 && *s == '[') { /* [v6]:port */
		const char *end = memchr(s, ']', len);
		if (end == NULL)
			return -1;
		len = (size_t)(end - s - 1);
		s++;
	} else {
		/* a.b.c.d:port has exactly one colon; an IPv6 address more. */
		const char *colon = memchr(s, ':', len);
		if (colon != NULL && memchr(colon + 1, ':', len - (size_t)(colon + 1 - s)) == NULL)
			len = (size_t)(colon - s);
	}
	if (len == 0 || len >= sizeof(buf))
		return -1;
	memcpy(buf, s, len);
	buf[len] = '\0';
	if (inet_pton(AF_INET, buf, ip) == 1)
		*a = tr_addr_v4(ip, 0);
	else if (inet_pton(AF_INET6, buf, ip) == 1)
		*a = tr_addr_v6(ip, 0);
	else
		return -1;
	return 0;
}

/* The client behind peer: peer itself unless it is a trusted proxy. */
static struct tr_addr client_of(const struct kh_live *lv, const struct kh_request *req,
				const struct tr_addr *peer)
{
	const struct kh_header *h;
	struct tr_addr best = *peer;

	if (lv->n_trusted == 0 || !in_list(peer, lv->trusted, lv->n_trusted))
		return *peer;
	h = kh_find_header(req, "x-forwarded-for");
	if (h == NULL)
		return *peer;
	/* Right to left: each hop appended the address it saw. The first
	 * that is not one of our proxies is the client; an element we cannot
	 * read ends the walk (whatever is left of it is the client's say). */
	size_t end = h->value_len;
	while (end > 0) {
		size_t start = end;
		struct tr_addr a;

		while (start > 0 && h->value[start - 1] != ',')
			start--;
		if (xff_addr(h->value + start, end - start, &a) != 0)
			break;
		best = a;
		if (!in_list(&a, lv->trusted, lv->n_trusted))
			break;
		end = start > 0 ? start - 1 : 0;
	}
	best.port = peer->port;
	return best;
}

/* ---- /stats and /metrics ------------------------------------------------ */

struct writer {
	struct kh_buf *b;
	const char *last_name; /* Prometheus: HELP/TYPE once per name */
	bool first;
	bool failed;
};

static void put(struct writer *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void put(struct writer *w, const char *fmt, ...)
{
	va_list ap;
	char line[512];

	va_start(ap, fmt);
	int n = vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (w->failed || n < 0 || (size_t)n >= sizeof(line) ||
	    kh_buf_reserve(w->b, (size_t)n) != 0) {
		w->failed = true;
		return;
	}
	memcpy(w->b->p + w->b->len, line, (size_t)n);
	w->b->len += (size_t)n;
}

static void json_one(void *arg, const struct tr_metric *m)
{
	struct writer *w = arg;

	put(w, "%s\n  \"%s\": %" PRIu64, w->first ? "" : ",", m->key, m->value);
	w->first = false;
}

static void prom_one(void *arg, const struct tr_metric *m)
{
	struct writer *w = arg;

	if (w->last_name == NULL || strcmp(w->last_name, m->name) != 0) {
		put(w, "# HELP dptrack_%s %s\n# TYPE dptrack_%s %s\n", m->name, m->help, m->name,
		    m->type == TR_METRIC_COUNTER ? "counter" : "gauge");
		w->last_name = m->name;
	}
	if (m->labels != NULL)
		put(w, "dptrack_%s{%s} %" PRIu64 "\n", m->name, m->labels, m->value);
	else
		put(w, "dptrack_%s %" PRIu64 "\n", m->name, m->value);
}

/* Builds the body in a scratch buffer, then appends the response. */
static int figures(const struct kh_req_ctx *rc, bool json, const struct kh_framing *f,
		   struct kh_buf *out)
{
	struct kh_buf body = {0};
	struct writer w = {.b = &body, .first = true};
	const struct tr_metric_source *src = &rc->sh->p.metrics;
	int st;

	if (json) {
		put(&w, "{");
		src->each(src->ctx, json_one, &w);
		put(&w, "\n}\n");
	} else {
		src->each(src->ctx, prom_one, &w);
	}
	if (w.failed)
		st = respond(out, KH_500, "text/plain", "out of memory\n", 14, f, NULL);
	else
		st = respond(out, KH_200,
			     json ? "application/json" : "text/plain; version=0.0.4; charset=utf-8",
			     body.p, body.len, f, NULL);
	free(body.p);
	return st;
}

/* ---- routing ------------------------------------------------------------ */

static bool path_is(const struct kh_request *req, const char *p)
{
	size_t n = strlen(p);

	return req->path_len == n && memcmp(req->path, p, n) == 0;
}

static bool method_is(const struct kh_request *req, const char *m)
{
	size_t n = strlen(m);

	return req->method_len == n && memcmp(req->method, m, n) == 0;
}

static int tracker(const struct kh_req_ctx *rc, const struct kh_request *req,
		   const struct tr_addr *client, enum tr_http_route route,
		   const struct kh_framing *f, struct kh_buf *out)
{
	uint8_t body[TR_HTTP_BODY_MAX];
	size_t n =
	    tr_http_handle(rc->tr, route, req->query ? req->query : "",
			   req->query ? req->query_len : 0, client, rc->now, body, sizeof(body));

	if (n == 0)
		return respond(out, KH_500, "text/plain", "reply too large\n", 16, f, NULL);
	return respond(out, KH_200, "text/plain", (const char *)body, n, f, NULL);
}

static int page(const struct kh_req_ctx *rc, enum kh_page pg, const struct kh_framing *f,
		struct kh_buf *out)
{
	const struct kh_page_data *d = &rc->live->pages[pg];

	return respond(out, KH_200, d->content_type, d->body, d->len, f, NULL);
}

int kh_route(const struct kh_req_ctx *rc, const struct kh_request *req, const struct tr_addr *peer,
	     bool keep, struct kh_buf *out)
{
	struct kh_framing f = {
	    .keep = keep, .head = method_is(req, "HEAD"), .minor_version = req->minor_version};

	if (!f.head && !method_is(req, "GET"))
		return respond(out, KH_405, "text/plain", "method not allowed\n", 19, &f,
			       "Allow: GET, HEAD\r\n");

	struct tr_addr client = client_of(rc->live, req, peer);
	if (path_is(req, "/announce"))
		return tracker(rc, req, &client, TR_HTTP_ANNOUNCE, &f, out);
	if (path_is(req, "/scrape"))
		return tracker(rc, req, &client, TR_HTTP_SCRAPE, &f, out);
	if (path_is(req, "/stats") || path_is(req, "/metrics") || path_is(req, "/dashboard")) {
		if (!in_list(&client, rc->live->allow, rc->live->n_allow))
			return respond(out, KH_403, "text/plain", "forbidden\n", 10, &f, NULL);
		if (path_is(req, "/dashboard"))
			return page(rc, KH_PAGE_DASHBOARD, &f, out);
		return figures(rc, path_is(req, "/stats"), &f, out);
	}
	if (path_is(req, "/") || path_is(req, "/index.html"))
		return page(rc, KH_PAGE_INDEX, &f, out);
	if (path_is(req, "/dmca.html"))
		return page(rc, KH_PAGE_DMCA, &f, out);
	if (path_is(req, "/robots.txt"))
		return page(rc, KH_PAGE_ROBOTS, &f, out);
	if (path_is(req, "/heartbeat"))
		return respond(out, KH_200, "text/plain", "ok\n", 3, &f, NULL);
	return respond(out, KH_404, "text/plain", "not found\n", 10, &f, NULL);
}
