/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * cfg.c - loads dptrack's configuration: the embedded default, the user's
 * file over it, DPTRACK_* environment variables over both, then the checks
 * that span keys.
 *
 * One table (keys[]) describes every key: its section, name, kind, where it
 * lives in struct cfg and its range. The YAML walk, the environment and
 * cfg_print all go through it, so a key added there is parsed, overridable,
 * printed and reported the same way everywhere.
 *
 * Bounds: a file is read whole up to CFG_FILE_MAX bytes; a pre-pass over
 * libyaml's events refuses nesting deeper than CFG_DEPTH_MAX and more than
 * CFG_EVENTS_MAX events before libyaml builds the document, so a hostile
 * file costs a few MiB at most. User strings are handled with their lengths
 * and quoted in messages up to SHOW_MAX bytes.
 */
#include "cfg.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yaml.h>

#define CFG_FILE_MAX   (1u << 20) /* a config is a few KiB; refuse files over 1 MiB */
#define CFG_DEPTH_MAX  8	  /* the schema nests 4 deep; the rest is for type errors */
#define CFG_EVENTS_MAX 65536	  /* a complete config is a few hundred events */
#define SHOW_MAX       40	  /* bytes of a user value quoted in a message */
#define BUILTIN	       "(built-in)"

enum kind {
	K_U32,	  /* decimal integer in [min, max] */
	K_POW2,	  /* power of two in [min, max] */
	K_BOOL,	  /* true/false, yes/no, on/off */
	K_LEVEL,  /* error, warn, info, debug */
	K_SECRET, /* 32 hex digits, or "" for a random key */
	/* Lists hold [min, max] entries; a list given replaces the previous one. */
	K_UDP_PORTS, /* integers 1..65535, no repeats */
	K_STRS,	     /* non-empty strings, strdup'ed */
	K_DEVS,	     /* dpdk port mappings */
	K_LISTEN,    /* ADDR:PORT, [ADDR6]:PORT */
	K_CIDRS,     /* ADDR[/LEN], host bits zero */
};

enum sect { S_LOG, S_TRACKER, S_UDP, S_DPDK, S_HTTP, S_STATS, S_COUNT };

static const char *const sect_names[S_COUNT] = {"log", "tracker", "udp", "dpdk", "http", "stats"};

static const char *const level_names[] = {"error", "warn", "info", "debug"};

struct key {
	const char *name;
	size_t off;  /* the value, or a list's array, in struct cfg */
	size_t noff; /* lists: their unsigned count */
	enum sect sect;
	enum kind kind;
	uint32_t min, max;
};

/* clang-format off */
#define F(f) offsetof(struct cfg, f)
#define SCALAR(s, n, k, f, lo, hi) \
	{.name = (n), .off = F(f), .sect = (s), .kind = (k), .min = (lo), .max = (hi)}
#define LIST(s, n, k, f, nf, lo, hi) \
	{.name = (n), .off = F(f), .noff = F(nf), .sect = (s), .kind = (k), .min = (lo), .max = (hi)}
#define U32(s, n, f, lo, hi) SCALAR(s, n, K_U32, f, lo, hi)
/* clang-format on */

/* In the order of config/dptrack.yaml, which cfg_print follows. */
static const struct key keys[] = {
    SCALAR(S_LOG, "level", K_LEVEL, log.level, 0, 0),

    U32(S_TRACKER, "announce_interval", tracker.announce_interval, 60, 86400),
    U32(S_TRACKER, "announce_jitter", tracker.announce_jitter, 0, 3600),
    U32(S_TRACKER, "min_interval", tracker.min_interval, 0, 86400),
    U32(S_TRACKER, "peer_timeout", tracker.peer_timeout, 60, 172800),
    U32(S_TRACKER, "numwant_default", tracker.numwant_default, 1, 1000),
    U32(S_TRACKER, "numwant_max", tracker.numwant_max, 1, 1000),
    U32(S_TRACKER, "max_swarms", tracker.max_swarms, 1, 100000000),
    U32(S_TRACKER, "max_peers_per_swarm", tracker.max_peers_per_swarm, 1, 100000000),
    U32(S_TRACKER, "memory_mb", tracker.memory_mb, 16, 1048576),

    LIST(S_UDP, "ports", K_UDP_PORTS, udp.ports, udp.n_ports, 1, CFG_MAX_UDP_PORTS),
    U32(S_UDP, "connection_id_ttl", udp.connection_id_ttl, 120, 86400),
    SCALAR(S_UDP, "connection_id_secret", K_SECRET, udp.secret, 0, 0),

    LIST(S_DPDK, "eal_args", K_STRS, dpdk.eal_args, dpdk.n_eal_args, 0, CFG_MAX_EAL_ARGS),
    LIST(S_DPDK, "ports", K_DEVS, dpdk.ports, dpdk.n_ports, 1, CFG_MAX_PORTS),
    SCALAR(S_DPDK, "rx_desc", K_POW2, dpdk.rx_desc, 64, 16384),
    SCALAR(S_DPDK, "tx_desc", K_POW2, dpdk.tx_desc, 64, 16384),
    U32(S_DPDK, "mbufs", dpdk.mbufs, 1023, 16777215),
    U32(S_DPDK, "burst", dpdk.burst, 1, 512),
    U32(S_DPDK, "exit_after_idle_ms", dpdk.exit_after_idle_ms, 0, 86400000),

    SCALAR(S_HTTP, "enabled", K_BOOL, http.enabled, 0, 0),
    LIST(S_HTTP, "listen", K_LISTEN, http.listen, http.n_listen, 0, CFG_MAX_LISTEN),
    U32(S_HTTP, "threads", http.threads, 1, 64),
    U32(S_HTTP, "max_connections", http.max_connections, 1, 10000000),
    U32(S_HTTP, "idle_timeout", http.idle_timeout, 1, 3600),
    U32(S_HTTP, "max_request_bytes", http.max_request_bytes, 512, 1048576),
    LIST(S_HTTP, "trusted_proxies", K_CIDRS, http.trusted_proxies, http.n_trusted_proxies, 0,
	 CFG_MAX_CIDRS),

    LIST(S_STATS, "allow", K_CIDRS, stats.allow, stats.n_allow, 0, CFG_MAX_CIDRS),
};

#define N_KEYS (sizeof(keys) / sizeof(keys[0]))

/* The members of a dpdk.ports entry. */
enum { P_DEVICE, P_IPV4, P_IPV6, P_COUNT };
static const char *const port_names[P_COUNT] = {"device", "ipv4", "ipv6"};

enum layer { L_DEFAULT, L_FILE, L_ENV };

/* Where a value came from: a document and line, or a variable (line 0). */
struct origin {
	const char *name;
	int namelen;
	unsigned line;
	enum layer layer;
	bool set;
};

/* The state of one cfg_load call. */
struct ld {
	struct cfg *c;
	char *err;
	size_t errlen;
	struct origin at;	   /* the document or variable being applied */
	yaml_document_t *doc;	   /* the document being walked */
	struct origin org[N_KEYS]; /* where each key was last set */
};

/* A user string made printable and short, for messages. */
struct shown {
	char s[SHOW_MAX + 4];
};

static const char *show(struct shown *b, const char *s, size_t len)
{
	size_t i, n = len > SHOW_MAX ? SHOW_MAX : len;

	for (i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)s[i];

		b->s[i] = ch < 0x20 || ch == 0x7f ? '?' : (char)ch;
	}
	memcpy(b->s + n, len > n ? "..." : "", len > n ? 4 : 1);
	return b->s;
}

__attribute__((format(printf, 3, 0))) static int vfail(struct ld *ld, const struct origin *o,
						       const char *fmt, va_list ap)
{
	int n;

	if (!ld->err || ld->errlen == 0)
		return -1;
	if (o->line)
		n = snprintf(ld->err, ld->errlen, "%.*s:%u: ", o->namelen, o->name, o->line);
	else
		n = snprintf(ld->err, ld->errlen, "%.*s: ", o->namelen, o->name);
	if (n >= 0 && (size_t)n < ld->errlen)
		vsnprintf(ld->err + n, ld->errlen - (size_t)n, fmt, ap);
	return -1;
}

/* Reports an error at `line` of the document being applied (0: no line).
 * Returns -1. */
__attribute__((format(printf, 3, 4))) static int fail(struct ld *ld, unsigned line, const char *fmt,
						      ...)
{
	struct origin o = ld->at;
	va_list ap;

	o.line = line;
	va_start(ap, fmt);
	vfail(ld, &o, fmt, ap);
	va_end(ap);
	return -1;
}

/* Reports an error where o says. Returns -1. */
__attribute__((format(printf, 3, 4))) static int fail_o(struct ld *ld, const struct origin *o,
							const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vfail(ld, o, fmt, ap);
	va_end(ap);
	return -1;
}

static void *field(struct cfg *c, size_t off)
{
	return (char *)c + off;
}

static const void *cfield(const struct cfg *c, size_t off)
{
	return (const char *)c + off;
}

static bool is_list(const struct key *k)
{
	return k->kind >= K_UDP_PORTS;
}

/* --- Suggestions for misspelt names ----------------------------------- */

/* Edit distance between a (alen bytes, compared case-insensitively) and b;
 * UINT_MAX when a is too long to be a misspelling of any key. */
static unsigned edit_distance(const char *a, size_t alen, const char *b)
{
	unsigned row[64], diag, up;
	size_t blen = strlen(b), i, j;

	if (alen >= 48 || blen >= 64)
		return UINT_MAX;
	for (j = 0; j <= blen; j++)
		row[j] = (unsigned)j;
	for (i = 1; i <= alen; i++) {
		diag = row[0];
		row[0] = (unsigned)i;
		for (j = 1; j <= blen; j++) {
			unsigned best = diag + (tolower((unsigned char)a[i - 1]) != b[j - 1]);

			up = row[j];
			if (up + 1 < best)
				best = up + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			diag = up;
			row[j] = best;
		}
	}
	return row[blen];
}

/* Whether a name at distance d from a candidate is a likely misspelling. */
static bool close_enough(unsigned d, size_t alen)
{
	return d <= 1 + alen / 6 && d <= 3;
}

/* Returns the name in names[n] closest to a, or NULL if none is close. */
static const char *nearest(const char *const *names, size_t n, const char *a, size_t alen)
{
	unsigned d, best = UINT_MAX;
	const char *hit = NULL;
	size_t i;

	for (i = 0; i < n; i++) {
		d = edit_distance(a, alen, names[i]);
		if (d < best && close_enough(d, alen)) {
			best = d;
			hit = names[i];
		}
	}
	return hit;
}

/* Returns the key a misspelt name in section s most likely meant: the same
 * name in another section, else the closest name in s; NULL if none. */
static const struct key *nearest_key(enum sect s, const char *a, size_t alen)
{
	const struct key *hit = NULL;
	unsigned d, best = UINT_MAX;
	size_t i;

	for (i = 0; i < N_KEYS; i++)
		if (edit_distance(a, alen, keys[i].name) == 0)
			return &keys[i];
	for (i = 0; i < N_KEYS; i++) {
		if (keys[i].sect != s)
			continue;
		d = edit_distance(a, alen, keys[i].name);
		if (d < best && close_enough(d, alen)) {
			best = d;
			hit = &keys[i];
		}
	}
	return hit;
}

/* --- Scalar values ---------------------------------------------------- */

/* Parses a decimal integer. Returns 0; 1 if negative or above UINT32_MAX
 * (out of every range); -1 if it is not an integer. */
static int parse_u32(const char *s, size_t len, uint32_t *v)
{
	uint64_t x = 0;
	bool neg = len > 0 && s[0] == '-', big = false;
	size_t i = neg;

	if (i == len)
		return -1;
	for (; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		x = x * 10 + (uint64_t)(s[i] - '0');
		if (x > UINT32_MAX) {
			big = true;
			x = UINT32_MAX;
		}
	}
	*v = (uint32_t)x;
	return neg && x ? 1 : big;
}

static bool is_null(const yaml_node_t *n)
{
	static const char *const nulls[] = {"", "~", "null", "Null", "NULL"};
	size_t i;

	if (n->type != YAML_SCALAR_NODE || n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return false;
	for (i = 0; i < sizeof(nulls) / sizeof(nulls[0]); i++)
		if (n->data.scalar.length == strlen(nulls[i]) &&
		    !memcmp(n->data.scalar.value, nulls[i], n->data.scalar.length))
			return true;
	return false;
}

static const char *node_kind(const yaml_node_t *n)
{
	if (is_null(n))
		return "nothing";
	switch (n->type) {
	case YAML_MAPPING_NODE:
		return "a mapping";
	case YAML_SEQUENCE_NODE:
		return "a sequence";
	default:
		return "a scalar";
	}
}

static unsigned node_line(const yaml_node_t *n)
{
	return (unsigned)n->start_mark.line + 1;
}

static bool word_is(const char *s, size_t len, const char *w)
{
	return len == strlen(w) && !strncasecmp(s, w, len);
}

static int set_u32(struct ld *ld, const struct key *k, unsigned line, const char *s, size_t len,
		   bool null)
{
	uint32_t v, *p = field(ld->c, k->off);
	struct shown b;
	int rc = null ? -1 : parse_u32(s, len, &v);

	if (rc < 0)
		return fail(ld, line, "%s.%s: expected an integer, got %s%s%s", sect_names[k->sect],
			    k->name, null ? "nothing" : "'", null ? "" : show(&b, s, len),
			    null ? "" : "'");
	if (rc > 0 || v < k->min || v > k->max)
		return fail(ld, line, "%s.%s: %s is out of range %u..%u", sect_names[k->sect],
			    k->name, show(&b, s, len), k->min, k->max);
	if (k->kind == K_POW2 && (v & (v - 1)))
		return fail(ld, line, "%s.%s: %u is not a power of two (%u, %u, ... %u)",
			    sect_names[k->sect], k->name, v, k->min, k->min * 2, k->max);
	*p = v;
	return 0;
}

static int set_secret(struct ld *ld, const struct key *k, unsigned line, const char *s, size_t len)
{
	struct cfg *c = ld->c;
	unsigned hi, lo;
	size_t i;

	memset(c->udp.secret, 0, sizeof(c->udp.secret));
	c->udp.has_secret = false;
	if (len == 0)
		return 0;
	/* The value is a secret: messages never quote it. */
	if (len != 2 * sizeof(c->udp.secret))
		return fail(ld, line, "%s.%s: expected 32 hex digits or \"\", got %zu characters",
			    sect_names[k->sect], k->name, len);
	for (i = 0; i < len; i++)
		if (!isxdigit((unsigned char)s[i]))
			return fail(ld, line,
				    "%s.%s: expected 32 hex digits or \"\", got a non-hex "
				    "character at position %u",
				    sect_names[k->sect], k->name, (unsigned)i + 1);
	for (i = 0; i < sizeof(c->udp.secret); i++) {
		hi = (unsigned)tolower((unsigned char)s[2 * i]);
		lo = (unsigned)tolower((unsigned char)s[2 * i + 1]);
		hi = hi <= '9' ? hi - '0' : hi - 'a' + 10;
		lo = lo <= '9' ? lo - '0' : lo - 'a' + 10;
		c->udp.secret[i] = (uint8_t)(hi << 4 | lo);
	}
	c->udp.has_secret = true;
	return 0;
}

/* Sets scalar key k from s (len bytes, not NUL-terminated; null: YAML's
 * null). The same rules for a YAML scalar and an environment variable. */
static int set_scalar(struct ld *ld, const struct key *k, unsigned line, const char *s, size_t len,
		      bool null)
{
	struct shown b;
	size_t i;

	if (null)
		len = 0;
	switch (k->kind) {
	case K_U32:
	case K_POW2:
		return set_u32(ld, k, line, s, len, null);
	case K_BOOL:
		if (word_is(s, len, "true") || word_is(s, len, "yes") || word_is(s, len, "on"))
			*(bool *)field(ld->c, k->off) = true;
		else if (word_is(s, len, "false") || word_is(s, len, "no") ||
			 word_is(s, len, "off"))
			*(bool *)field(ld->c, k->off) = false;
		else
			return fail(ld, line, "%s.%s: expected true or false, got '%s'",
				    sect_names[k->sect], k->name, show(&b, s, len));
		return 0;
	case K_LEVEL:
		for (i = 0; i < sizeof(level_names) / sizeof(level_names[0]); i++)
			if (len == strlen(level_names[i]) && !memcmp(s, level_names[i], len)) {
				*(enum cfg_log_level *)field(ld->c, k->off) = (enum cfg_log_level)i;
				return 0;
			}
		return fail(ld, line, "%s.%s: expected error, warn, info or debug, got '%s'",
			    sect_names[k->sect], k->name, show(&b, s, len));
	case K_SECRET:
		return set_secret(ld, k, line, s, len);
	default:
		return fail(ld, line, "%s.%s is a list; set it in a config file",
			    sect_names[k->sect], k->name);
	}
}

/* --- Addresses -------------------------------------------------------- */

/* Parses an IPv4 or IPv6 address (len bytes) into addr; returns 4, 6 or 0. */
static int parse_ip(const char *s, size_t len, uint8_t addr[16])
{
	char a[INET6_ADDRSTRLEN];

	if (len == 0 || len >= sizeof(a) || memchr(s, '\0', len))
		return 0;
	memcpy(a, s, len);
	a[len] = '\0';
	memset(addr, 0, 16);
	if (inet_pton(AF_INET, a, addr) == 1)
		return 4;
	if (inet_pton(AF_INET6, a, addr) == 1)
		return 6;
	return 0;
}

/* Parses ADDR/LEN, or ADDR alone (a host prefix) when bare_ok. Returns 0,
 * or -1 with *why set to a static reason. */
static int parse_cidr(const char *s, size_t len, bool bare_ok, struct cfg_cidr *out,
		      const char **why)
{
	const char *slash = memchr(s, '/', len);
	size_t alen = slash ? (size_t)(slash - s) : len;
	uint32_t p, maxp;

	memset(out, 0, sizeof(*out));
	out->family = (uint8_t)parse_ip(s, alen, out->addr);
	if (!out->family) {
		*why = "not an IPv4 or IPv6 address";
		return -1;
	}
	maxp = out->family == 4 ? 32 : 128;
	if (!slash) {
		*why = "needs a prefix length, ADDR/LEN";
		out->prefix = (uint8_t)maxp;
		return bare_ok ? 0 : -1;
	}
	if (parse_u32(slash + 1, len - alen - 1, &p) || p > maxp) {
		*why = out->family == 4 ? "prefix length must be 0..32"
					: "prefix length must be 0..128";
		return -1;
	}
	out->prefix = (uint8_t)p;
	return 0;
}

/* Parses ADDR:PORT or [ADDR6]:PORT. Returns 0, or -1 with *why set. */
static int parse_listen(const char *s, size_t len, struct cfg_listen *out, const char **why)
{
	const char *end = s + len, *addr, *colon, *q;
	unsigned colons = 0;
	uint32_t port;

	memset(out, 0, sizeof(*out));
	*why = "expected ADDR:PORT or [ADDR6]:PORT";
	if (len > 0 && s[0] == '[') {
		colon = memchr(s, ']', len);
		if (!colon || colon + 1 == end || colon[1] != ':')
			return -1;
		addr = s + 1;
		out->family = (uint8_t)parse_ip(addr, (size_t)(colon - addr), out->addr);
		colon++;
		if (out->family != 6) {
			*why = "not an IPv6 address inside [ ]";
			return -1;
		}
	} else {
		for (colon = NULL, q = s; q < end; q++)
			if (*q == ':') {
				colon = q;
				colons++;
			}
		if (!colon)
			return -1;
		if (colons > 1) {
			*why = "IPv6 addresses go in brackets: [ADDR6]:PORT";
			return -1;
		}
		out->family = (uint8_t)parse_ip(s, (size_t)(colon - s), out->addr);
		if (out->family != 4) {
			*why = "not an IPv4 address before the port";
			return -1;
		}
	}
	if (parse_u32(colon + 1, (size_t)(end - colon - 1), &port) || port < 1 || port > 65535) {
		*why = "port must be 1..65535";
		return -1;
	}
	out->port = (uint16_t)port;
	return 0;
}

/* Checks that the bits of c past its prefix are zero; if not, writes the
 * network it probably meant into fix. */
static bool cidr_host_bits_zero(const struct cfg_cidr *c, char *fix, size_t fixlen)
{
	uint8_t net[16];
	char a[INET6_ADDRSTRLEN];
	unsigned i, bytes = c->family == 4 ? 4 : 16;

	for (i = 0; i < bytes; i++) {
		unsigned lo = i * 8;

		if (lo >= c->prefix)
			net[i] = 0;
		else if (lo + 8 <= c->prefix)
			net[i] = c->addr[i];
		else
			net[i] = c->addr[i] & (uint8_t)(0xff00 >> (c->prefix - lo));
	}
	if (!memcmp(net, c->addr, bytes))
		return true;
	inet_ntop(c->family == 4 ? AF_INET : AF_INET6, net, a, sizeof(a));
	snprintf(fix, fixlen, "%s/%u", a, c->prefix);
	return false;
}

/* --- Lists ------------------------------------------------------------ */

/* Returns item i of list k as a string of *len bytes: a non-null scalar
 * without NUL bytes; NULL after reporting why not. */
static const char *item_str(struct ld *ld, const struct key *k, unsigned i, const yaml_node_t *n,
			    size_t *len)
{
	if (n->type != YAML_SCALAR_NODE || is_null(n)) {
		fail(ld, node_line(n), "%s.%s[%u]: expected a scalar, got %s", sect_names[k->sect],
		     k->name, i, node_kind(n));
		return NULL;
	}
	*len = n->data.scalar.length;
	if (memchr(n->data.scalar.value, '\0', *len)) {
		fail(ld, node_line(n), "%s.%s[%u]: contains a NUL byte", sect_names[k->sect],
		     k->name, i);
		return NULL;
	}
	return (const char *)n->data.scalar.value;
}

/* Parses a port's ipv4 or ipv6 member (m is P_IPV4 or P_IPV6) into p. */
static int set_port_addr(struct ld *ld, unsigned i, int m, const yaml_node_t *v, struct cfg_port *p)
{
	struct cfg_cidr *cidr = m == P_IPV4 ? &p->ipv4 : &p->ipv6;
	const char *s = (const char *)v->data.scalar.value, *why;
	int fam = m == P_IPV4 ? 4 : 6;
	struct shown b;

	if (is_null(v))
		return 0;
	if (v->type != YAML_SCALAR_NODE)
		return fail(ld, node_line(v), "dpdk.ports[%u].%s: expected ADDR/LEN, got %s", i,
			    port_names[m], node_kind(v));
	if (parse_cidr(s, v->data.scalar.length, false, cidr, &why) ||
	    (cidr->prefix == 0 && (why = "prefix length must not be 0")) ||
	    (cidr->family != fam &&
	     (why = fam == 4 ? "not an IPv4 address" : "not an IPv6 address")))
		return fail(ld, node_line(v), "dpdk.ports[%u].%s: bad address '%s': %s", i,
			    port_names[m], show(&b, s, v->data.scalar.length), why);
	if (m == P_IPV4)
		p->has_ipv4 = true;
	else
		p->has_ipv6 = true;
	return 0;
}

static int set_port_device(struct ld *ld, unsigned i, const yaml_node_t *v, struct cfg_port *p)
{
	const char *s = (const char *)v->data.scalar.value;
	size_t len = v->data.scalar.length, j;

	if (v->type != YAML_SCALAR_NODE || is_null(v))
		return fail(ld, node_line(v),
			    "dpdk.ports[%u].device: expected a device name, got %s", i,
			    node_kind(v));
	if (len == 0 || len >= sizeof(p->device))
		return fail(ld, node_line(v), "dpdk.ports[%u].device: must be 1..%zu bytes long", i,
			    sizeof(p->device) - 1);
	for (j = 0; j < len; j++)
		if ((unsigned char)s[j] < 0x20 || s[j] == 0x7f)
			return fail(ld, node_line(v),
				    "dpdk.ports[%u].device: contains a control character", i);
	memcpy(p->device, s, len);
	p->device[len] = '\0';
	return 0;
}

static int set_port_member(struct ld *ld, unsigned i, int m, const yaml_node_t *v,
			   struct cfg_port *p)
{
	return m == P_DEVICE ? set_port_device(ld, i, v, p) : set_port_addr(ld, i, m, v, p);
}

/* Parses entry i of dpdk.ports: a mapping of device, ipv4, ipv6. */
static int set_port(struct ld *ld, unsigned i, const yaml_node_t *n)
{
	unsigned first[P_COUNT] = {0}, line, j;
	struct cfg_port p = {0};
	const yaml_node_pair_t *pr;
	const char *sug;
	struct shown b;

	if (n->type != YAML_MAPPING_NODE)
		return fail(ld, node_line(n),
			    "dpdk.ports[%u]: expected a mapping of device, ipv4, "
			    "ipv6, got %s",
			    i, node_kind(n));
	for (pr = n->data.mapping.pairs.start; pr < n->data.mapping.pairs.top; pr++) {
		const yaml_node_t *kn = yaml_document_get_node(ld->doc, pr->key);
		const yaml_node_t *vn = yaml_document_get_node(ld->doc, pr->value);
		const char *s;
		size_t len;
		int m = -1;

		line = node_line(kn);
		if (kn->type != YAML_SCALAR_NODE)
			return fail(ld, line, "dpdk.ports[%u]: keys must be scalars, got %s", i,
				    node_kind(kn));
		s = (const char *)kn->data.scalar.value;
		len = kn->data.scalar.length;
		for (j = 0; j < P_COUNT; j++)
			if (len == strlen(port_names[j]) && !memcmp(s, port_names[j], len))
				m = (int)j;
		if (m < 0) {
			sug = nearest(port_names, P_COUNT, s, len);
			return fail(ld, line, "unknown key 'dpdk.ports[%u].%s'%s%s%s", i,
				    show(&b, s, len), sug ? " (did you mean '" : "", sug ? sug : "",
				    sug ? "'?)" : " (known: device, ipv4, ipv6)");
		}
		if (first[m])
			return fail(ld, line,
				    "duplicate key 'dpdk.ports[%u].%s' (first at line %u)", i,
				    port_names[m], first[m]);
		first[m] = line;
		if (set_port_member(ld, i, m, vn, &p))
			return -1;
	}
	if (!first[P_DEVICE])
		return fail(ld, node_line(n), "dpdk.ports[%u]: needs a device", i);
	if (!p.has_ipv4 && !p.has_ipv6)
		return fail(ld, node_line(n), "dpdk.ports[%u]: needs ipv4, ipv6 or both", i);
	for (j = 0; j < i; j++)
		if (!strcmp(ld->c->dpdk.ports[j].device, p.device))
			return fail(ld, node_line(n), "dpdk.ports[%u]: device '%s' is also port %u",
				    i, show(&b, p.device, strlen(p.device)), j);
	ld->c->dpdk.ports[i] = p;
	return 0;
}

/* Parses item i of list k from node n into the cfg. The count is the
 * caller's; entries before i are already set. */
static int set_item(struct ld *ld, const struct key *k, unsigned i, const yaml_node_t *n)
{
	const char *s = NULL, *why;
	char fix[INET6_ADDRSTRLEN + 8];
	struct shown b;
	size_t len = 0;
	uint32_t v;
	unsigned j;

	if (k->kind == K_DEVS)
		return set_port(ld, i, n);
	s = item_str(ld, k, i, n, &len);
	if (!s)
		return -1;
	switch (k->kind) {
	case K_UDP_PORTS: {
		uint16_t *ports = field(ld->c, k->off);

		if (parse_u32(s, len, &v) || v < 1 || v > 65535)
			return fail(ld, node_line(n), "%s.%s[%u]: '%s' is not a port in 1..65535",
				    sect_names[k->sect], k->name, i, show(&b, s, len));
		for (j = 0; j < i; j++)
			if (ports[j] == v)
				return fail(ld, node_line(n), "%s.%s[%u]: port %u is listed twice",
					    sect_names[k->sect], k->name, i, v);
		ports[i] = (uint16_t)v;
		return 0;
	}
	case K_STRS: {
		char **strs = field(ld->c, k->off);

		if (len == 0)
			return fail(ld, node_line(n), "%s.%s[%u]: empty string",
				    sect_names[k->sect], k->name, i);
		strs[i] = strndup(s, len);
		if (!strs[i])
			return fail(ld, node_line(n), "out of memory");
		return 0;
	}
	case K_LISTEN:
		if (parse_listen(s, len, (struct cfg_listen *)field(ld->c, k->off) + i, &why))
			return fail(ld, node_line(n), "%s.%s[%u]: bad listen address '%s': %s",
				    sect_names[k->sect], k->name, i, show(&b, s, len), why);
		return 0;
	default: {
		struct cfg_cidr *cidr = (struct cfg_cidr *)field(ld->c, k->off) + i;

		if (parse_cidr(s, len, true, cidr, &why))
			return fail(ld, node_line(n), "%s.%s[%u]: bad CIDR '%s': %s",
				    sect_names[k->sect], k->name, i, show(&b, s, len), why);
		if (!cidr_host_bits_zero(cidr, fix, sizeof(fix)))
			return fail(ld, node_line(n),
				    "%s.%s[%u]: bad CIDR '%s': host bits set (did you mean %s?)",
				    sect_names[k->sect], k->name, i, show(&b, s, len), fix);
		return 0;
	}
	}
}

/* Empties list k; string lists free their strings. */
static void list_clear(struct cfg *c, const struct key *k)
{
	unsigned *n = field(c, k->noff), i;

	if (k->kind == K_STRS) {
		char **strs = field(c, k->off);

		for (i = 0; i < *n; i++) {
			free(strs[i]);
			strs[i] = NULL;
		}
	}
	*n = 0;
}

/* Replaces list k with the sequence n (YAML null: the empty list). */
static int set_list(struct ld *ld, const struct key *k, const yaml_node_t *n)
{
	unsigned *count = field(ld->c, k->noff), len = 0, i;
	const yaml_node_item_t *items = NULL;

	if (n->type == YAML_SEQUENCE_NODE) {
		items = n->data.sequence.items.start;
		len = (unsigned)(n->data.sequence.items.top - items);
	} else if (!is_null(n)) {
		return fail(ld, node_line(n), "%s.%s: expected a sequence, got %s",
			    sect_names[k->sect], k->name, node_kind(n));
	}
	if (len < k->min || len > k->max)
		return fail(ld, node_line(n), "%s.%s: has %u entries, allowed %u..%u",
			    sect_names[k->sect], k->name, len, k->min, k->max);
	list_clear(ld->c, k);
	for (i = 0; i < len; i++) {
		if (set_item(ld, k, i, yaml_document_get_node(ld->doc, items[i])))
			return -1;
		*count = i + 1;
	}
	return 0;
}

/* --- The YAML walk ---------------------------------------------------- */

static int find_key(enum sect s, const char *name, size_t len)
{
	size_t i;

	for (i = 0; i < N_KEYS; i++)
		if (keys[i].sect == s && strlen(keys[i].name) == len &&
		    !memcmp(keys[i].name, name, len))
			return (int)i;
	return -1;
}

static int fail_unknown_key(struct ld *ld, unsigned line, enum sect s, const char *name, size_t len)
{
	const struct key *sug = nearest_key(s, name, len);
	struct shown b;

	if (!sug)
		return fail(ld, line, "unknown key '%s.%s'", sect_names[s], show(&b, name, len));
	return fail(ld, line, "unknown key '%s.%s' (did you mean '%s.%s'?)", sect_names[s],
		    show(&b, name, len), sect_names[sug->sect], sug->name);
}

static int apply_value(struct ld *ld, const struct key *k, const yaml_node_t *v)
{
	if (is_list(k))
		return set_list(ld, k, v);
	if (v->type != YAML_SCALAR_NODE)
		return fail(ld, node_line(v), "%s.%s: expected a scalar, got %s",
			    sect_names[k->sect], k->name, node_kind(v));
	if (memchr(v->data.scalar.value, '\0', v->data.scalar.length))
		return fail(ld, node_line(v), "%s.%s: contains a NUL byte", sect_names[k->sect],
			    k->name);
	return set_scalar(ld, k, node_line(v), (const char *)v->data.scalar.value,
			  v->data.scalar.length, is_null(v));
}

/* Applies the keys of section s from mapping m. */
static int apply_section(struct ld *ld, enum sect s, const yaml_node_t *m)
{
	unsigned first[N_KEYS] = {0}, line;
	const yaml_node_pair_t *p;
	int ki;

	for (p = m->data.mapping.pairs.start; p < m->data.mapping.pairs.top; p++) {
		const yaml_node_t *kn = yaml_document_get_node(ld->doc, p->key);
		const yaml_node_t *vn = yaml_document_get_node(ld->doc, p->value);

		line = node_line(kn);
		if (kn->type != YAML_SCALAR_NODE)
			return fail(ld, line, "%s: keys must be scalars, got %s", sect_names[s],
				    node_kind(kn));
		ki = find_key(s, (const char *)kn->data.scalar.value, kn->data.scalar.length);
		if (ki < 0)
			return fail_unknown_key(ld, line, s, (const char *)kn->data.scalar.value,
						kn->data.scalar.length);
		if (first[ki])
			return fail(ld, line, "duplicate key '%s.%s' (first at line %u)",
				    sect_names[s], keys[ki].name, first[ki]);
		first[ki] = line;
		if (apply_value(ld, &keys[ki], vn))
			return -1;
		ld->org[ki] = ld->at;
		ld->org[ki].line = line;
	}
	return 0;
}

static int apply_root(struct ld *ld, const yaml_node_t *root)
{
	unsigned first[S_COUNT] = {0}, line, s;
	const yaml_node_pair_t *p;
	const char *name, *sug;
	struct shown b;
	size_t len;

	if (!root || is_null(root))
		return 0;
	if (root->type != YAML_MAPPING_NODE)
		return fail(ld, node_line(root),
			    "expected a mapping of sections (log, tracker, udp, "
			    "dpdk, http, stats), got %s",
			    node_kind(root));
	for (p = root->data.mapping.pairs.start; p < root->data.mapping.pairs.top; p++) {
		const yaml_node_t *kn = yaml_document_get_node(ld->doc, p->key);
		const yaml_node_t *vn = yaml_document_get_node(ld->doc, p->value);

		line = node_line(kn);
		if (kn->type != YAML_SCALAR_NODE)
			return fail(ld, line, "keys must be scalars, got %s", node_kind(kn));
		name = (const char *)kn->data.scalar.value;
		len = kn->data.scalar.length;
		for (s = 0; s < S_COUNT; s++)
			if (len == strlen(sect_names[s]) && !memcmp(name, sect_names[s], len))
				break;
		if (s == S_COUNT) {
			sug = nearest(sect_names, S_COUNT, name, len);
			return fail(ld, line, "unknown key '%s'%s%s%s", show(&b, name, len),
				    sug ? " (did you mean '" : "", sug ? sug : "",
				    sug ? "'?)" : "");
		}
		if (first[s])
			return fail(ld, line, "duplicate key '%s' (first at line %u)",
				    sect_names[s], first[s]);
		first[s] = line;
		if (is_null(vn))
			continue;
		if (vn->type != YAML_MAPPING_NODE)
			return fail(ld, node_line(vn), "%s: expected a mapping, got %s",
				    sect_names[s], node_kind(vn));
		if (apply_section(ld, (enum sect)s, vn))
			return -1;
	}
	return 0;
}

static int fail_syntax(struct ld *ld, const yaml_parser_t *p, const char *buf, size_t len)
{
	const char *problem = p->problem ? p->problem : "unknown error";
	unsigned line = 1;
	size_t i;

	switch (p->error) {
	case YAML_MEMORY_ERROR:
		return fail(ld, 0, "out of memory parsing YAML");
	case YAML_READER_ERROR:
		for (i = 0; i < p->problem_offset && i < len; i++)
			line += buf[i] == '\n';
		return fail(ld, line, "YAML syntax error: %s", problem);
	default:
		line = (unsigned)p->problem_mark.line + 1;
		if (p->context)
			return fail(ld, line, "YAML syntax error: %s (%s at line %u)", problem,
				    p->context, (unsigned)p->context_mark.line + 1);
		return fail(ld, line, "YAML syntax error: %s", problem);
	}
}

/* Refuses what libyaml's document loader would build at any cost: syntax
 * errors, nesting deeper than CFG_DEPTH_MAX, more than CFG_EVENTS_MAX
 * events, and a second document. */
static int yaml_precheck(struct ld *ld, const char *buf, size_t len)
{
	unsigned depth = 0, events = 0, docs = 0;
	yaml_parser_t p;
	yaml_event_t ev;
	int rc = 0;

	if (!yaml_parser_initialize(&p))
		return fail(ld, 0, "out of memory");
	yaml_parser_set_input_string(&p, (const unsigned char *)buf, len);
	for (;;) {
		if (!yaml_parser_parse(&p, &ev)) {
			rc = fail_syntax(ld, &p, buf, len);
			break;
		}
		if (ev.type == YAML_STREAM_END_EVENT) {
			yaml_event_delete(&ev);
			break;
		}
		if (++events > CFG_EVENTS_MAX)
			rc = fail(ld, (unsigned)ev.start_mark.line + 1, "more than %d YAML nodes",
				  CFG_EVENTS_MAX);
		else if (ev.type == YAML_DOCUMENT_START_EVENT && ++docs > 1)
			rc = fail(ld, (unsigned)ev.start_mark.line + 1,
				  "a config file holds one YAML document; this is a second");
		else if ((ev.type == YAML_MAPPING_START_EVENT ||
			  ev.type == YAML_SEQUENCE_START_EVENT) &&
			 ++depth > CFG_DEPTH_MAX)
			rc = fail(ld, (unsigned)ev.start_mark.line + 1,
				  "nested deeper than %d levels", CFG_DEPTH_MAX);
		else if (ev.type == YAML_MAPPING_END_EVENT || ev.type == YAML_SEQUENCE_END_EVENT)
			depth--;
		yaml_event_delete(&ev);
		if (rc)
			break;
	}
	yaml_parser_delete(&p);
	return rc;
}

/* Applies the YAML document buf (len bytes) named `name` over ld->c. */
static int apply_yaml(struct ld *ld, const char *name, const char *buf, size_t len,
		      enum layer layer)
{
	size_t nlen = strlen(name);
	yaml_document_t doc;
	yaml_parser_t p;
	int rc;

	ld->at = (struct origin){name, nlen > INT_MAX ? INT_MAX : (int)nlen, 0, layer, true};
	if (yaml_precheck(ld, buf, len))
		return -1;
	if (!yaml_parser_initialize(&p))
		return fail(ld, 0, "out of memory");
	yaml_parser_set_input_string(&p, (const unsigned char *)buf, len);
	if (!yaml_parser_load(&p, &doc)) {
		rc = fail_syntax(ld, &p, buf, len);
	} else {
		ld->doc = &doc;
		rc = apply_root(ld, yaml_document_get_root_node(&doc));
		ld->doc = NULL;
		yaml_document_delete(&doc);
	}
	yaml_parser_delete(&p);
	return rc;
}

/* --- Environment ------------------------------------------------------ */

/* Whether s (len bytes) is name upper-cased. */
static bool is_upper_of(const char *s, size_t len, const char *name)
{
	size_t i;

	if (len != strlen(name))
		return false;
	for (i = 0; i < len; i++)
		if (s[i] != toupper((unsigned char)name[i]))
			return false;
	return true;
}

/* Copies src into dst (cap bytes) through fn (toupper or tolower). */
static const char *recase(char *dst, size_t cap, const char *src, size_t len, int (*fn)(int))
{
	size_t i;

	for (i = 0; i < len && i + 1 < cap; i++)
		dst[i] = (char)fn((unsigned char)src[i]);
	dst[i] = '\0';
	return dst;
}

static int fail_unknown_env(struct ld *ld, enum sect s, const char *rest, size_t rlen)
{
	const struct key *sug = nearest_key(s, rest, rlen);
	char typed[SHOW_MAX + 4], sect_up[16], key_up[64];
	struct shown b;

	show(&b, rest, rlen);
	recase(typed, sizeof(typed), b.s, strlen(b.s), tolower);
	if (!sug)
		return fail(ld, 0, "no config key '%s.%s'", sect_names[s], typed);
	return fail(ld, 0, "no config key '%s.%s' (did you mean DPTRACK_%s_%s?)", sect_names[s],
		    typed,
		    recase(sect_up, sizeof(sect_up), sect_names[sug->sect],
			   strlen(sect_names[sug->sect]), toupper),
		    recase(key_up, sizeof(key_up), sug->name, strlen(sug->name), toupper));
}

/* Applies DPTRACK_<SECTION>_<KEY>=val (name is nlen bytes); a name that
 * names no section is not ours and is ignored. */
static int apply_env_var(struct ld *ld, const char *name, size_t nlen, const char *val)
{
	const char *rest = NULL;
	size_t rlen = 0, sl;
	unsigned s;
	int ki;

	for (s = 0; s < S_COUNT; s++) {
		sl = strlen(sect_names[s]);
		if (nlen > 8 + sl && is_upper_of(name + 8, sl, sect_names[s]) &&
		    name[8 + sl] == '_') {
			rest = name + 9 + sl;
			rlen = nlen - 9 - sl;
			break;
		}
	}
	if (!rest)
		return 0;
	ld->at = (struct origin){name, nlen > 1024 ? 1024 : (int)nlen, 0, L_ENV, true};
	for (ki = 0; ki < (int)N_KEYS; ki++)
		if (keys[ki].sect == s && is_upper_of(rest, rlen, keys[ki].name))
			break;
	if (ki == (int)N_KEYS)
		return fail_unknown_env(ld, (enum sect)s, rest, rlen);
	if (set_scalar(ld, &keys[ki], 0, val, strlen(val), false))
		return -1;
	ld->org[ki] = ld->at;
	return 0;
}

static int apply_env(struct ld *ld, char *const *envp)
{
	const char *eq;

	for (; *envp; envp++) {
		if (strncmp(*envp, "DPTRACK_", 8) != 0)
			continue;
		eq = strchr(*envp, '=');
		if (eq && apply_env_var(ld, *envp, (size_t)(eq - *envp), eq + 1))
			return -1;
	}
	return 0;
}

/* --- Checks across keys ----------------------------------------------- */

static const struct origin *origin_of(const struct ld *ld, enum sect s, const char *name)
{
	return &ld->org[find_key(s, name, strlen(name))];
}

/* Of two origins, the one a user most likely just changed: the higher layer
 * (environment over file over default), else the later line. */
static const struct origin *later(const struct origin *a, const struct origin *b)
{
	if (a->layer != b->layer)
		return a->layer > b->layer ? a : b;
	return a->line > b->line ? a : b;
}

static int check_cross(struct ld *ld)
{
	const struct cfg *c = ld->c;
	const struct origin *iv = origin_of(ld, S_TRACKER, "announce_interval");
	const struct origin *o;

	if (c->tracker.min_interval > c->tracker.announce_interval)
		return fail_o(ld, later(iv, origin_of(ld, S_TRACKER, "min_interval")),
			      "tracker.min_interval (%u) must not exceed tracker.announce_interval "
			      "(%u)",
			      c->tracker.min_interval, c->tracker.announce_interval);
	if ((uint64_t)c->tracker.peer_timeout <=
	    (uint64_t)c->tracker.announce_interval + c->tracker.announce_jitter) {
		o = later(later(iv, origin_of(ld, S_TRACKER, "announce_jitter")),
			  origin_of(ld, S_TRACKER, "peer_timeout"));
		return fail_o(ld, o,
			      "tracker.peer_timeout (%u) must exceed tracker.announce_interval + "
			      "tracker.announce_jitter (%u), or peers that announce on time expire",
			      c->tracker.peer_timeout,
			      c->tracker.announce_interval + c->tracker.announce_jitter);
	}
	if (c->tracker.numwant_default > c->tracker.numwant_max)
		return fail_o(
		    ld,
		    later(origin_of(ld, S_TRACKER, "numwant_default"),
			  origin_of(ld, S_TRACKER, "numwant_max")),
		    "tracker.numwant_default (%u) must not exceed tracker.numwant_max (%u)",
		    c->tracker.numwant_default, c->tracker.numwant_max);
	if (c->http.enabled && c->http.n_listen == 0)
		return fail_o(
		    ld, later(origin_of(ld, S_HTTP, "enabled"), origin_of(ld, S_HTTP, "listen")),
		    "http.listen is empty but http.enabled is true");
	return 0;
}

/* The embedded default must set every key: it is the documentation. */
static int check_default_complete(struct ld *ld)
{
	size_t i;

	for (i = 0; i < N_KEYS; i++)
		if (!ld->org[i].set)
			return fail(ld, 0, "%s.%s is missing from the default configuration",
				    sect_names[keys[i].sect], keys[i].name);
	return 0;
}

/* --- Loading ---------------------------------------------------------- */

/* The default, then buf as `name` (if name), then envp, then the checks. */
static int load(struct cfg *c, const char *name, const char *buf, size_t len, char *const *envp,
		char *err, size_t errlen)
{
	struct ld ld = {.c = c, .err = err, .errlen = errlen};
	int rc;

	memset(c, 0, sizeof(*c));
	if (err && errlen)
		err[0] = '\0';
	rc = apply_yaml(&ld, BUILTIN, cfg_default_yaml, cfg_default_yaml_len, L_DEFAULT);
	if (!rc)
		rc = check_default_complete(&ld);
	if (!rc && name)
		rc = apply_yaml(&ld, name, buf ? buf : "", buf ? len : 0, L_FILE);
	if (!rc && envp)
		rc = apply_env(&ld, envp);
	if (!rc)
		rc = check_cross(&ld);
	if (rc) {
		cfg_fini(c);
		return -1;
	}
	snprintf(c->source, sizeof(c->source), "%s", name ? name : BUILTIN);
	return 0;
}

/* Reads path whole into *buf (malloc'ed, the caller frees). Returns 0; 1 if
 * it does not exist and !must_exist; -1 with the reason in err. */
static int read_file(const char *path, bool must_exist, char **buf, size_t *len, char *err,
		     size_t errlen)
{
	size_t cap = 4096, n = 0;
	struct stat st;
	char *p = NULL, *np;
	ssize_t r;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		if (!must_exist && (errno == ENOENT || errno == ENOTDIR))
			return 1;
		snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
		snprintf(err, errlen, "%s: cannot read: %s", path, strerror(EISDIR));
		close(fd);
		return -1;
	}
	for (;;) {
		if (n == cap || !p) {
			if (n > CFG_FILE_MAX) {
				snprintf(err, errlen, "%s: larger than %u bytes", path,
					 CFG_FILE_MAX);
				goto fail;
			}
			cap = !p ? cap : cap * 2 > CFG_FILE_MAX + 1 ? CFG_FILE_MAX + 1 : cap * 2;
			np = realloc(p, cap);
			if (!np) {
				snprintf(err, errlen, "%s: out of memory reading it", path);
				goto fail;
			}
			p = np;
		}
		r = read(fd, p + n, cap - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			snprintf(err, errlen, "%s: cannot read: %s", path, strerror(errno));
			goto fail;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	close(fd);
	*buf = p;
	*len = n;
	return 0;
fail:
	free(p);
	close(fd);
	return -1;
}

static const char *env_home(char *const *envp)
{
	if (!envp)
		return getenv("HOME");
	for (; *envp; envp++)
		if (!strncmp(*envp, "HOME=", 5))
			return *envp + 5;
	return NULL;
}

/*
 * HOME comes from envp when envp is given, so a caller's environment array
 * decides the whole search; with envp NULL it comes from the process.
 */
int cfg_load(struct cfg *c, const char *path, char *const *envp, char *err, size_t errlen)
{
	char home_path[CFG_PATH_MAX], scratch[1];
	const char *cand[3] = {"./dptrack.yaml", NULL, "/etc/dptrack/dptrack.yaml"};
	const char *home = env_home(envp);
	char *buf = NULL;
	size_t len = 0, i;
	int rc, n;

	if (!err || errlen == 0) {
		err = scratch;
		errlen = sizeof(scratch);
	}
	memset(c, 0, sizeof(*c));
	if (path && strlen(path) >= CFG_PATH_MAX) {
		snprintf(err, errlen, "config path longer than %d bytes", CFG_PATH_MAX - 1);
		return -1;
	}
	if (path)
		cand[0] = path;
	n = home && *home
		? snprintf(home_path, sizeof(home_path), "%s/.config/dptrack/dptrack.yaml", home)
		: -1;
	if (n > 0 && (size_t)n < sizeof(home_path))
		cand[1] = home_path;
	for (i = 0; i < (path ? 1 : 3); i++) {
		if (!cand[i])
			continue;
		rc = read_file(cand[i], path != NULL, &buf, &len, err, errlen);
		if (rc < 0)
			return -1;
		if (rc == 0) {
			rc = load(c, cand[i], buf, len, envp, err, errlen);
			free(buf);
			return rc;
		}
	}
	return load(c, NULL, NULL, 0, envp, err, errlen);
}

int cfg_load_buf(struct cfg *c, const char *name, const char *buf, size_t len, char *const *envp,
		 char *err, size_t errlen)
{
	return load(c, name ? name : "(buffer)", buf, len, envp, err, errlen);
}

void cfg_fini(struct cfg *c)
{
	unsigned i;

	for (i = 0; i < c->dpdk.n_eal_args && i < CFG_MAX_EAL_ARGS; i++)
		free(c->dpdk.eal_args[i]);
	memset(c, 0, sizeof(*c));
}

const char *cfg_log_level_name(enum cfg_log_level l)
{
	if ((unsigned)l >= sizeof(level_names) / sizeof(level_names[0]))
		return "unknown";
	return level_names[l];
}

/* --- Printing --------------------------------------------------------- */

/* Writes s as a YAML double-quoted scalar. */
static void put_quoted(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;

		if (ch == '"' || ch == '\\')
			fprintf(f, "\\%c", ch);
		else if (ch < 0x20 || ch == 0x7f)
			fprintf(f, "\\x%02x", ch);
		else
			fputc(ch, f);
	}
	fputc('"', f);
}

static void put_cidr(FILE *f, const struct cfg_cidr *c)
{
	char a[INET6_ADDRSTRLEN] = "?";

	inet_ntop(c->family == 4 ? AF_INET : AF_INET6, c->addr, a, sizeof(a));
	fprintf(f, "\"%s/%u\"", a, c->prefix);
}

static void put_listen(FILE *f, const struct cfg_listen *l)
{
	char a[INET6_ADDRSTRLEN] = "?";

	inet_ntop(l->family == 4 ? AF_INET : AF_INET6, l->addr, a, sizeof(a));
	fprintf(f, l->family == 4 ? "\"%s:%u\"" : "\"[%s]:%u\"", a, l->port);
}

static void put_ports(FILE *f, const struct cfg *c)
{
	const struct cfg_port *p;
	unsigned i;

	if (c->dpdk.n_ports == 0)
		fputs(" []", f);
	fputc('\n', f);
	for (i = 0; i < c->dpdk.n_ports; i++) {
		p = &c->dpdk.ports[i];
		fputs("    - device: ", f);
		put_quoted(f, p->device);
		fputc('\n', f);
		if (p->has_ipv4) {
			fputs("      ipv4: ", f);
			put_cidr(f, &p->ipv4);
			fputc('\n', f);
		}
		if (p->has_ipv6) {
			fputs("      ipv6: ", f);
			put_cidr(f, &p->ipv6);
			fputc('\n', f);
		}
	}
}

/* Writes list k in flow style: [a, b]. */
static void put_list(FILE *f, const struct cfg *c, const struct key *k)
{
	unsigned n = *(const unsigned *)cfield(c, k->noff), i;
	const void *arr = cfield(c, k->off);

	fputs(" [", f);
	for (i = 0; i < n; i++) {
		if (i)
			fputs(", ", f);
		if (k->kind == K_UDP_PORTS)
			fprintf(f, "%u", ((const uint16_t *)arr)[i]);
		else if (k->kind == K_STRS)
			put_quoted(f, ((char *const *)arr)[i] ? ((char *const *)arr)[i] : "");
		else if (k->kind == K_LISTEN)
			put_listen(f, (const struct cfg_listen *)arr + i);
		else
			put_cidr(f, (const struct cfg_cidr *)arr + i);
	}
	fputs("]\n", f);
}

static void put_key(FILE *f, const struct cfg *c, const struct key *k)
{
	unsigned i;

	fprintf(f, "  %s:", k->name);
	switch (k->kind) {
	case K_U32:
	case K_POW2:
		fprintf(f, " %u\n", *(const uint32_t *)cfield(c, k->off));
		break;
	case K_BOOL:
		fprintf(f, " %s\n", *(const bool *)cfield(c, k->off) ? "true" : "false");
		break;
	case K_LEVEL:
		fprintf(f, " %s\n",
			cfg_log_level_name(*(const enum cfg_log_level *)cfield(c, k->off)));
		break;
	case K_SECRET:
		fputs(" \"", f);
		for (i = 0; c->udp.has_secret && i < sizeof(c->udp.secret); i++)
			fprintf(f, "%02x", c->udp.secret[i]);
		fputs("\"\n", f);
		break;
	case K_DEVS:
		put_ports(f, c);
		break;
	default:
		put_list(f, c, k);
		break;
	}
}

void cfg_print(const struct cfg *c, FILE *f)
{
	size_t i, n = strnlen(c->source, sizeof(c->source));
	unsigned s;

	fputs("# dptrack configuration in effect, loaded from ", f);
	for (i = 0; i < n; i++) /* a comment ends at a line break: keep it on one line */
		fputc((unsigned char)c->source[i] < 0x20 ? '?' : c->source[i], f);
	fputc('\n', f);
	for (s = 0; s < S_COUNT; s++) {
		fprintf(f, "\n%s:\n", sect_names[s]);
		for (i = 0; i < N_KEYS; i++)
			if (keys[i].sect == s)
				put_key(f, c, &keys[i]);
	}
}
