/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * cfg.c - the key table and the layers of a load: the embedded default, the
 * user's document over it, DPTRACK_* environment variables over both, then
 * the checks that span keys.
 *
 * The key table (cfg_keys[], described in cfg_keys.h) is defined here, with
 * what every part of the loader (cfg_load.h) shares: error reporting,
 * suggestions for misspelt names and scalar values, which a YAML document
 * (cfg_yaml.c) and an environment variable (cfg_env.c) set by the same rules.
 * Lists are cfg_list.c's, addresses cfg_addr.c's; cfg_file.c finds the file.
 *
 * User strings are handled with their lengths and quoted in messages up to
 * CFG_SHOW_MAX bytes.
 */
#include "cfg.h"

#include <ctype.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cfg_keys.h"
#include "cfg_load.h"
#include "cfg_num.h"

#define BUILTIN "(built-in)"

const char *const cfg_sect_names[S_COUNT] = {
    [S_LOG] = "log",   [S_TRACKER] = "tracker", [S_UDP] = "udp",	 [S_DPDK] = "dpdk",
    [S_HTTP] = "http", [S_STATS] = "stats",	[S_CLUSTER] = "cluster",
};

static const char *const level_names[] = {"error", "warn", "info", "debug", NULL};
static const char *const acl_mode_names[] = {"off", "allow", "deny", NULL};

/* K_ENUM values are stored through an unsigned: the enums must be one. */
_Static_assert(sizeof(enum cfg_log_level) == sizeof(unsigned) &&
		   sizeof(enum cfg_acl_mode) == sizeof(unsigned),
	       "K_ENUM fields are unsigned-sized");

/* clang-format off */
#define F(f) offsetof(struct cfg, f)
#define SCALAR(s, n, k, f, lo, hi) \
	{.name = (n), .off = F(f), .sect = (s), .kind = (k), .min = (lo), .max = (hi)}
#define LIST(s, n, k, f, nf, lo, hi) \
	{.name = (n), .off = F(f), .noff = F(nf), .sect = (s), .kind = (k), .min = (lo), .max = (hi)}
#define U32(s, n, f, lo, hi) SCALAR(s, n, K_U32, f, lo, hi)
#define ENUM(s, n, f, words) \
	{.name = (n), .off = F(f), .sect = (s), .kind = K_ENUM, .names = (words)}
#define TOKEN(s, n, f, lo, hi) SCALAR(s, n, K_TOKEN, f, lo, hi)
/* clang-format on */

/* In the order of config/dptrack.yaml, which cfg_print follows. */
const struct cfg_key cfg_keys[] = {
    [KEY_LOG_LEVEL] = ENUM(S_LOG, "level", log.level, level_names),

    [KEY_TRACKER_ANNOUNCE_INTERVAL] =
	U32(S_TRACKER, "announce_interval", tracker.announce_interval, 60, 86400),
    [KEY_TRACKER_ANNOUNCE_JITTER] =
	U32(S_TRACKER, "announce_jitter", tracker.announce_jitter, 0, 3600),
    [KEY_TRACKER_MIN_INTERVAL] = U32(S_TRACKER, "min_interval", tracker.min_interval, 0, 86400),
    [KEY_TRACKER_PEER_TIMEOUT] = U32(S_TRACKER, "peer_timeout", tracker.peer_timeout, 60, 86400),
    [KEY_TRACKER_SWARM_RETENTION] =
	U32(S_TRACKER, "swarm_retention", tracker.swarm_retention, 0, 2592000),
    [KEY_TRACKER_SNAPSHOT_PATH] =
	SCALAR(S_TRACKER, "snapshot.path", K_PATH, tracker.snapshot_path, 0, 0),
    [KEY_TRACKER_SNAPSHOT_INTERVAL] =
	U32(S_TRACKER, "snapshot.interval", tracker.snapshot_interval, 0, 86400),
    [KEY_TRACKER_ACCESS_LIST_MODE] =
	ENUM(S_TRACKER, "access_list.mode", tracker.access_list_mode, acl_mode_names),
    [KEY_TRACKER_ACCESS_LIST_PATH] =
	SCALAR(S_TRACKER, "access_list.path", K_PATH, tracker.access_list_path, 0, 0),
    [KEY_TRACKER_NUMWANT_DEFAULT] =
	U32(S_TRACKER, "numwant_default", tracker.numwant_default, 1, 1000),
    [KEY_TRACKER_NUMWANT_MAX] = U32(S_TRACKER, "numwant_max", tracker.numwant_max, 1, 1000),
    [KEY_TRACKER_MAX_SWARMS] = U32(S_TRACKER, "max_swarms", tracker.max_swarms, 1, 100000000),
    [KEY_TRACKER_MAX_PEERS_PER_SWARM] =
	U32(S_TRACKER, "max_peers_per_swarm", tracker.max_peers_per_swarm, 1, 100000000),
    [KEY_TRACKER_MEMORY_MB] = U32(S_TRACKER, "memory_mb", tracker.memory_mb, 16, 1048576),

    [KEY_UDP_PORTS] =
	LIST(S_UDP, "ports", K_UDP_PORTS, udp.ports, udp.n_ports, 1, CFG_MAX_UDP_PORTS),
    [KEY_UDP_CONNECTION_ID_TTL] =
	U32(S_UDP, "connection_id_ttl", udp.connection_id_ttl, 120, 86400),
    [KEY_UDP_CONNECTION_ID_SECRET] =
	SCALAR(S_UDP, "connection_id_secret", K_SECRET, udp.secret, 0, 0),

    [KEY_DPDK_EAL_ARGS] =
	LIST(S_DPDK, "eal_args", K_STRS, dpdk.eal_args, dpdk.n_eal_args, 0, CFG_MAX_EAL_ARGS),
    [KEY_DPDK_PORTS] = LIST(S_DPDK, "ports", K_DEVS, dpdk.ports, dpdk.n_ports, 1, CFG_MAX_PORTS),
    [KEY_DPDK_RX_DESC] = SCALAR(S_DPDK, "rx_desc", K_POW2, dpdk.rx_desc, 64, 16384),
    [KEY_DPDK_TX_DESC] = SCALAR(S_DPDK, "tx_desc", K_POW2, dpdk.tx_desc, 64, 16384),
    [KEY_DPDK_MBUFS] = U32(S_DPDK, "mbufs", dpdk.mbufs, 1023, 16777215),
    [KEY_DPDK_BURST] = U32(S_DPDK, "burst", dpdk.burst, 1, 512),
    [KEY_DPDK_IDLE_SLEEP_US] = U32(S_DPDK, "idle_sleep_us", dpdk.idle_sleep_us, 0, 100000),
    [KEY_DPDK_EXIT_AFTER_IDLE_MS] =
	U32(S_DPDK, "exit_after_idle_ms", dpdk.exit_after_idle_ms, 0, 86400000),
    [KEY_DPDK_REPLAY] = SCALAR(S_DPDK, "replay", K_BOOL, dpdk.replay, 0, 0),
    [KEY_DPDK_RNG_SEED] = U32(S_DPDK, "rng_seed", dpdk.rng_seed, 0, UINT32_MAX),
    [KEY_DPDK_RUN_AS] = SCALAR(S_DPDK, "run_as", K_PATH, dpdk.run_as, 0, 0),

    [KEY_HTTP_ENABLED] = SCALAR(S_HTTP, "enabled", K_BOOL, http.enabled, 0, 0),
    [KEY_HTTP_LISTEN] =
	LIST(S_HTTP, "listen", K_LISTEN, http.listen, http.n_listen, 0, CFG_MAX_LISTEN),
    [KEY_HTTP_THREADS] = U32(S_HTTP, "threads", http.threads, 1, 64),
    [KEY_HTTP_MAX_CONNECTIONS] = U32(S_HTTP, "max_connections", http.max_connections, 1, 10000000),
    [KEY_HTTP_IDLE_TIMEOUT] = U32(S_HTTP, "idle_timeout", http.idle_timeout, 1, 3600),
    [KEY_HTTP_MAX_REQUEST_BYTES] =
	U32(S_HTTP, "max_request_bytes", http.max_request_bytes, 512, 1048576),
    [KEY_HTTP_TRUSTED_PROXIES] = LIST(S_HTTP, "trusted_proxies", K_CIDRS, http.trusted_proxies,
				      http.n_trusted_proxies, 0, CFG_MAX_CIDRS),
    [KEY_HTTP_TRUST_IP_PARAMS] =
	SCALAR(S_HTTP, "trust_ip_params", K_BOOL, http.trust_ip_params, 0, 0),
    [KEY_HTTP_STATIC_DIR] = SCALAR(S_HTTP, "static_dir", K_PATH, http.static_dir, 0, 0),

    [KEY_STATS_ALLOW] =
	LIST(S_STATS, "allow", K_CIDRS, stats.allow, stats.n_allow, 0, CFG_MAX_CIDRS),

    [KEY_CLUSTER_ENABLED] = SCALAR(S_CLUSTER, "enabled", K_BOOL, cluster.enabled, 0, 0),
    [KEY_CLUSTER_SERVERS] = LIST(S_CLUSTER, "servers", K_URLS, cluster.servers, cluster.n_servers,
				 1, CFG_MAX_CLUSTER_SERVERS),
    [KEY_CLUSTER_NAME] = TOKEN(S_CLUSTER, "name", cluster.name, 1, CFG_CLUSTER_NAME_LEN),
    [KEY_CLUSTER_INSTANCE] =
	TOKEN(S_CLUSTER, "instance", cluster.instance, 0, CFG_CLUSTER_INSTANCE_LEN),
    [KEY_CLUSTER_SITE] = TOKEN(S_CLUSTER, "site", cluster.site, 1, CFG_CLUSTER_NAME_LEN),
    [KEY_CLUSTER_SOURCES] = LIST(S_CLUSTER, "sources", K_TOKENS, cluster.sources, cluster.n_sources,
				 0, CFG_MAX_CLUSTER_SOURCES),
    [KEY_CLUSTER_FLUSH_MS] = U32(S_CLUSTER, "flush_ms", cluster.flush_ms, 1, 10000),
    [KEY_CLUSTER_BATCH_RECORDS] = U32(S_CLUSTER, "batch_records", cluster.batch_records, 1, 4096),
    [KEY_CLUSTER_RING_RECORDS] =
	SCALAR(S_CLUSTER, "ring_records", K_POW2, cluster.ring_records, 1024, 4194304),
    [KEY_CLUSTER_REPLICAS] = U32(S_CLUSTER, "replicas", cluster.replicas, 1, 5),
    [KEY_CLUSTER_MAX_AGE] = U32(S_CLUSTER, "max_age", cluster.max_age, 60, 31536000),
    [KEY_CLUSTER_BUFFER_MB] = U32(S_CLUSTER, "buffer_mb", cluster.buffer_mb, 1, 1024),
    [KEY_CLUSTER_CONNECT_TIMEOUT_MS] =
	U32(S_CLUSTER, "connect_timeout_ms", cluster.connect_timeout_ms, 100, 60000),
    [KEY_CLUSTER_KEY_WAIT_MS] = U32(S_CLUSTER, "key_wait_ms", cluster.key_wait_ms, 0, 60000),
    [KEY_CLUSTER_CREDENTIALS] = SCALAR(S_CLUSTER, "credentials", K_PATH, cluster.credentials, 0, 0),
    [KEY_CLUSTER_TLS_CA] = SCALAR(S_CLUSTER, "tls.ca", K_PATH, cluster.tls_ca, 0, 0),
    [KEY_CLUSTER_TLS_CERT] = SCALAR(S_CLUSTER, "tls.cert", K_PATH, cluster.tls_cert, 0, 0),
    [KEY_CLUSTER_TLS_KEY] = SCALAR(S_CLUSTER, "tls.key", K_PATH, cluster.tls_key, 0, 0),
};

_Static_assert(sizeof(cfg_keys) / sizeof(cfg_keys[0]) == CFG_N_KEYS,
	       "CFG_N_KEYS in cfg_keys.h counts cfg_keys[]");

/* A K_TOKEN key's field holds max characters and the NUL. */
_Static_assert(sizeof(((struct cfg *)0)->cluster.name) == CFG_CLUSTER_NAME_LEN + 1 &&
		   sizeof(((struct cfg *)0)->cluster.instance) == CFG_CLUSTER_INSTANCE_LEN + 1,
	       "K_TOKEN fields are max + 1 bytes");

/* --- Errors ----------------------------------------------------------- */

const char *cfg_show(struct cfg_shown *b, const char *s, size_t len)
{
	size_t i, n = len > CFG_SHOW_MAX ? CFG_SHOW_MAX : len;

	for (i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)s[i];

		b->s[i] = ch < 0x20 || ch == 0x7f ? '?' : (char)ch;
	}
	memcpy(b->s + n, len > n ? "..." : "", len > n ? 4 : 1);
	return b->s;
}

__attribute__((format(printf, 3, 0))) static int
vfail(struct cfg_ld *ld, const struct cfg_origin *o, const char *fmt, va_list ap)
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

__attribute__((format(printf, 3, 4))) int cfg_fail(struct cfg_ld *ld, unsigned line,
						   const char *fmt, ...)
{
	struct cfg_origin o = ld->at;
	va_list ap;

	o.line = line;
	va_start(ap, fmt);
	vfail(ld, &o, fmt, ap);
	va_end(ap);
	return -1;
}

/* Reports an error where o says. Returns -1. */
__attribute__((format(printf, 3, 4))) static int
fail_o(struct cfg_ld *ld, const struct cfg_origin *o, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vfail(ld, o, fmt, ap);
	va_end(ap);
	return -1;
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

const char *cfg_nearest(const char *const *names, size_t n, const char *a, size_t alen)
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

const struct cfg_key *cfg_key_nearest(enum cfg_sect s, const char *a, size_t alen)
{
	const struct cfg_key *hit = NULL;
	unsigned d, best = UINT_MAX;
	size_t i;

	for (i = 0; i < CFG_N_KEYS; i++)
		if (edit_distance(a, alen, cfg_keys[i].name) == 0)
			return &cfg_keys[i];
	for (i = 0; i < CFG_N_KEYS; i++) {
		if (cfg_keys[i].sect != s)
			continue;
		d = edit_distance(a, alen, cfg_keys[i].name);
		if (d < best && close_enough(d, alen)) {
			best = d;
			hit = &cfg_keys[i];
		}
	}
	return hit;
}

int cfg_key_lookup(enum cfg_sect s, const char *name, size_t len)
{
	size_t i;

	for (i = 0; i < CFG_N_KEYS; i++)
		if (cfg_keys[i].sect == s && strlen(cfg_keys[i].name) == len &&
		    !memcmp(cfg_keys[i].name, name, len))
			return (int)i;
	return -1;
}

/* --- Scalar values ---------------------------------------------------- */

static bool word_is(const char *s, size_t len, const char *w)
{
	return len == strlen(w) && !strncasecmp(s, w, len);
}

bool cfg_bool_parse(const char *s, size_t len, bool *v)
{
	if (word_is(s, len, "true") || word_is(s, len, "yes") || word_is(s, len, "on"))
		*v = true;
	else if (word_is(s, len, "false") || word_is(s, len, "no") || word_is(s, len, "off"))
		*v = false;
	else
		return false;
	return true;
}

static int set_u32(struct cfg_ld *ld, const struct cfg_key *k, unsigned line, const char *s,
		   size_t len, bool null)
{
	uint32_t v, *p = field(ld->c, k->off);
	struct cfg_shown b;
	int rc = null ? -1 : cfg_num_parse_u32(s, len, &v);

	if (rc < 0)
		return cfg_fail(ld, line, "%s.%s: expected an integer, got %s%s%s",
				cfg_sect_names[k->sect], k->name, null ? "nothing" : "'",
				null ? "" : cfg_show(&b, s, len), null ? "" : "'");
	if (rc > 0 || v < k->min || v > k->max)
		return cfg_fail(ld, line, "%s.%s: %s is out of range %u..%u",
				cfg_sect_names[k->sect], k->name, cfg_show(&b, s, len), k->min,
				k->max);
	if (k->kind == K_POW2 && (v & (v - 1)))
		return cfg_fail(ld, line, "%s.%s: %u is not a power of two (%u, %u, ... %u)",
				cfg_sect_names[k->sect], k->name, v, k->min, k->min * 2, k->max);
	*p = v;
	return 0;
}

static int set_secret(struct cfg_ld *ld, const struct cfg_key *k, unsigned line, const char *s,
		      size_t len)
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
		return cfg_fail(ld, line,
				"%s.%s: expected 32 hex digits or \"\", got %zu characters",
				cfg_sect_names[k->sect], k->name, len);
	for (i = 0; i < len; i++)
		if (!isxdigit((unsigned char)s[i]))
			return cfg_fail(ld, line,
					"%s.%s: expected 32 hex digits or \"\", got a non-hex "
					"character at position %u",
					cfg_sect_names[k->sect], k->name, (unsigned)i + 1);
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

/* A K_ENUM value: one of k->names, exactly; the message lists them all and
 * suggests the nearest. */
static int set_enum(struct cfg_ld *ld, const struct cfg_key *k, unsigned line, const char *s,
		    size_t len)
{
	char words[128] = "";
	struct cfg_shown b;
	const char *sug;
	size_t n, i;

	for (n = 0; k->names[n] != NULL; n++)
		if (len == strlen(k->names[n]) && !memcmp(s, k->names[n], len)) {
			*(unsigned *)field(ld->c, k->off) = (unsigned)n;
			return 0;
		}
	for (i = 0; i < n; i++) {
		size_t at = strlen(words);

		snprintf(words + at, sizeof(words) - at, "%s%s",
			 i == 0 ? "" : (i + 1 == n ? " or " : ", "), k->names[i]);
	}
	sug = cfg_nearest(k->names, n, s, len);
	return cfg_fail(ld, line, "%s.%s: expected %s, got '%s'%s%s%s", cfg_sect_names[k->sect],
			k->name, words, cfg_show(&b, s, len), sug ? " (did you mean '" : "",
			sug ? sug : "", sug ? "'?)" : "");
}

bool cfg_is_token_char(char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
	       ch == '_' || ch == '-';
}

/* A K_TOKEN value: k->min..k->max characters of A-Z a-z 0-9 _ -, stored with
 * its NUL in the key's char[k->max + 1]. */
static int set_token(struct cfg_ld *ld, const struct cfg_key *k, unsigned line, const char *s,
		     size_t len)
{
	char *p = field(ld->c, k->off);
	struct cfg_shown b;
	size_t i;

	if (len < k->min || len > k->max)
		return cfg_fail(ld, line, "%s.%s: '%s' is %zu characters long, allowed %u..%u",
				cfg_sect_names[k->sect], k->name, cfg_show(&b, s, len), len, k->min,
				k->max);
	for (i = 0; i < len; i++)
		if (!cfg_is_token_char(s[i]))
			return cfg_fail(ld, line,
					"%s.%s: '%s' has a character other than A-Z, a-z, 0-9, "
					"'_' and '-' at position %zu",
					cfg_sect_names[k->sect], k->name, cfg_show(&b, s, len),
					i + 1);
	memcpy(p, s, len);
	p[len] = '\0';
	return 0;
}

int cfg_scalar_set(struct cfg_ld *ld, const struct cfg_key *k, unsigned line, const char *s,
		   size_t len, bool null)
{
	struct cfg_shown b;

	if (null)
		len = 0;
	switch (k->kind) {
	case K_U32:
	case K_POW2:
		return set_u32(ld, k, line, s, len, null);
	case K_BOOL:
		if (!cfg_bool_parse(s, len, (bool *)field(ld->c, k->off)))
			return cfg_fail(ld, line, "%s.%s: expected true or false, got '%s'",
					cfg_sect_names[k->sect], k->name, cfg_show(&b, s, len));
		return 0;
	case K_ENUM:
		return set_enum(ld, k, line, s, len);
	case K_SECRET:
		return set_secret(ld, k, line, s, len);
	case K_PATH:
		if (len >= CFG_PATH_MAX || memchr(s, '\0', len) != NULL)
			return cfg_fail(ld, line, "%s.%s: not a usable path ('%s')",
					cfg_sect_names[k->sect], k->name, cfg_show(&b, s, len));
		memcpy(field(ld->c, k->off), s, len);
		((char *)field(ld->c, k->off))[len] = '\0';
		return 0;
	case K_TOKEN:
		return set_token(ld, k, line, s, len);
	default:
		return cfg_fail(ld, line, "%s.%s is a list; set it in a config file",
				cfg_sect_names[k->sect], k->name);
	}
}

/* --- Checks across keys ----------------------------------------------- */

/* Where key k was last set. By id, so a misspelt key is a compile error. */
static const struct cfg_origin *origin_of(const struct cfg_ld *ld, enum cfg_key_id k)
{
	return &ld->org[k];
}

/* Of two origins, the one a user most likely just changed: the higher layer
 * (environment over file over default), else the later line. */
static const struct cfg_origin *later(const struct cfg_origin *a, const struct cfg_origin *b)
{
	if (a->layer != b->layer)
		return a->layer > b->layer ? a : b;
	return a->line > b->line ? a : b;
}

/* The cluster's checks across keys. The TLS pair is checked whether or not
 * the cluster is enabled: half of it is a mistake either way. */
static int check_cross_cluster(struct cfg_ld *ld)
{
	const struct cfg *c = ld->c;
	const struct cfg_origin *on = origin_of(ld, KEY_CLUSTER_ENABLED);
	bool cert = c->cluster.tls_cert[0] != '\0', key = c->cluster.tls_key[0] != '\0';

	if (c->cluster.enabled && c->dpdk.replay)
		return fail_o(ld, later(on, origin_of(ld, KEY_DPDK_REPLAY)),
			      "cluster.enabled and dpdk.replay exclude each other: a replay's "
			      "output must not depend on other instances");
	if (c->cluster.enabled && c->cluster.max_age < c->tracker.peer_timeout)
		return fail_o(ld,
			      later(later(on, origin_of(ld, KEY_CLUSTER_MAX_AGE)),
				    origin_of(ld, KEY_TRACKER_PEER_TIMEOUT)),
			      "cluster.max_age (%u) must be at least tracker.peer_timeout (%u): "
			      "a restart without a snapshot replays peer_timeout seconds",
			      c->cluster.max_age, c->tracker.peer_timeout);
	if (cert != key)
		return fail_o(
		    ld,
		    later(origin_of(ld, KEY_CLUSTER_TLS_CERT), origin_of(ld, KEY_CLUSTER_TLS_KEY)),
		    "cluster.tls.%s is set but cluster.tls.%s is empty: give both or neither",
		    cert ? "cert" : "key", cert ? "key" : "cert");
	for (unsigned i = 0; i < c->cluster.n_sources; i++)
		if (strcmp(c->cluster.sources[i], c->cluster.site) == 0)
			return fail_o(ld,
				      later(origin_of(ld, KEY_CLUSTER_SITE),
					    origin_of(ld, KEY_CLUSTER_SOURCES)),
				      "cluster.sources[%u] is this site (cluster.site '%s'): a "
				      "stream would source itself",
				      i, c->cluster.site);
	return 0;
}

static int check_cross(struct cfg_ld *ld)
{
	const struct cfg *c = ld->c;
	const struct cfg_origin *iv = origin_of(ld, KEY_TRACKER_ANNOUNCE_INTERVAL);
	const struct cfg_origin *o;

	if (c->tracker.min_interval > c->tracker.announce_interval)
		return fail_o(ld, later(iv, origin_of(ld, KEY_TRACKER_MIN_INTERVAL)),
			      "tracker.min_interval (%u) must not exceed tracker.announce_interval "
			      "(%u)",
			      c->tracker.min_interval, c->tracker.announce_interval);
	if ((uint64_t)c->tracker.peer_timeout <=
	    (uint64_t)c->tracker.announce_interval + c->tracker.announce_jitter) {
		o = later(later(iv, origin_of(ld, KEY_TRACKER_ANNOUNCE_JITTER)),
			  origin_of(ld, KEY_TRACKER_PEER_TIMEOUT));
		return fail_o(ld, o,
			      "tracker.peer_timeout (%u) must exceed tracker.announce_interval + "
			      "tracker.announce_jitter (%u), or peers that announce on time expire",
			      c->tracker.peer_timeout,
			      c->tracker.announce_interval + c->tracker.announce_jitter);
	}
	if (c->tracker.numwant_default > c->tracker.numwant_max)
		return fail_o(
		    ld,
		    later(origin_of(ld, KEY_TRACKER_NUMWANT_DEFAULT),
			  origin_of(ld, KEY_TRACKER_NUMWANT_MAX)),
		    "tracker.numwant_default (%u) must not exceed tracker.numwant_max (%u)",
		    c->tracker.numwant_default, c->tracker.numwant_max);
	if (c->dpdk.replay && (!c->udp.has_secret || c->dpdk.rng_seed == 0))
		return fail_o(
		    ld,
		    later(later(origin_of(ld, KEY_DPDK_REPLAY), origin_of(ld, KEY_DPDK_RNG_SEED)),
			  origin_of(ld, KEY_UDP_CONNECTION_ID_SECRET)),
		    "dpdk.replay needs udp.connection_id_secret and a non-zero "
		    "dpdk.rng_seed, or the output depends on the run");
	if (c->tracker.access_list_mode != CFG_ACL_OFF && c->tracker.access_list_path[0] == '\0')
		return fail_o(
		    ld,
		    later(origin_of(ld, KEY_TRACKER_ACCESS_LIST_MODE),
			  origin_of(ld, KEY_TRACKER_ACCESS_LIST_PATH)),
		    "tracker.access_list.mode is %s but tracker.access_list.path is empty",
		    cfg_acl_mode_name(c->tracker.access_list_mode));
	if (c->http.enabled && c->http.n_listen == 0)
		return fail_o(
		    ld, later(origin_of(ld, KEY_HTTP_ENABLED), origin_of(ld, KEY_HTTP_LISTEN)),
		    "http.listen is empty but http.enabled is true");
	for (unsigned i = 0; i < c->dpdk.n_ports && c->dpdk.run_as[0] != '\0'; i++)
		if (c->dpdk.ports[i].shared)
			return fail_o(
			    ld,
			    later(origin_of(ld, KEY_DPDK_RUN_AS), origin_of(ld, KEY_DPDK_PORTS)),
			    "dpdk.run_as and the shared port dpdk.ports[%u] exclude each other: "
			    "giving the interface back to the kernel at exit (detaching the XDP "
			    "program) needs root",
			    i);
	return check_cross_cluster(ld);
}

/* The embedded default must set every key: it is the documentation. */
static int check_default_complete(struct cfg_ld *ld)
{
	size_t i;

	for (i = 0; i < CFG_N_KEYS; i++)
		if (!ld->org[i].set)
			return cfg_fail(ld, 0, "%s.%s is missing from the default configuration",
					cfg_sect_names[cfg_keys[i].sect], cfg_keys[i].name);
	return 0;
}

/* --- Loading ---------------------------------------------------------- */

int cfg_load_layers(struct cfg *c, const char *name, const char *buf, size_t len, char *const *envp,
		    char *err, size_t errlen)
{
	struct cfg_ld ld = {.c = c, .err = err, .errlen = errlen};
	int rc;

	memset(c, 0, sizeof(*c));
	if (err && errlen)
		err[0] = '\0';
	rc = cfg_yaml_apply(&ld, BUILTIN, cfg_default_yaml, cfg_default_yaml_len, L_DEFAULT);
	if (!rc)
		rc = check_default_complete(&ld);
	if (!rc && name)
		rc = cfg_yaml_apply(&ld, name, buf ? buf : "", buf ? len : 0, L_FILE);
	if (!rc && envp)
		rc = cfg_env_apply(&ld, envp);
	if (!rc)
		rc = check_cross(&ld);
	if (rc) {
		cfg_fini(c);
		return -1;
	}
	snprintf(c->source, sizeof(c->source), "%s", name ? name : BUILTIN);
	return 0;
}

int cfg_load_buf(struct cfg *c, const char *name, const char *buf, size_t len, char *const *envp,
		 char *err, size_t errlen)
{
	return cfg_load_layers(c, name ? name : "(buffer)", buf, len, envp, err, errlen);
}

/* Frees the strings of every list that owns them (cfg_kind_owns_strs); a
 * list's count never exceeds its key's max, its array's length. */
void cfg_fini(struct cfg *c)
{
	unsigned n, i;
	size_t ki;

	for (ki = 0; ki < CFG_N_KEYS; ki++) {
		const struct cfg_key *k = &cfg_keys[ki];
		char **strs = field(c, k->off);

		if (!cfg_kind_owns_strs(k->kind))
			continue;
		n = *(const unsigned *)field(c, k->noff);
		for (i = 0; i < n && i < k->max; i++)
			free(strs[i]);
	}
	memset(c, 0, sizeof(*c));
}

const char *cfg_log_level_name(enum cfg_log_level l)
{
	if ((unsigned)l >= sizeof(level_names) / sizeof(level_names[0]) - 1)
		return "unknown";
	return level_names[l];
}

const char *cfg_acl_mode_name(enum cfg_acl_mode m)
{
	if ((unsigned)m >= sizeof(acl_mode_names) / sizeof(acl_mode_names[0]) - 1)
		return "unknown";
	return acl_mode_names[m];
}
