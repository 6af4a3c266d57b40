/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * dp_status.c - `dptrack --status`: reads a running dptrack's counters over
 * its DPDK telemetry socket and prints them as a table. No EAL, no DPDK
 * header: a Unix socket, a parser for the one reply shape it expects, printf.
 */
#include "dp_status.h"

#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define STATS_CMD    "/dptrack/stats"
#define REPLY_MAX    (256 * 1024) /* telemetry's max_output_len is 16 KiB */
#define SOCK_TIMEOUT 5		  /* seconds a reply may take */
#define INTERVAL_MAX 3600.0

/* --- The reply parser ---------------------------------------------------- */

struct rd {
	const char *b;
	size_t len, i;
	char *err;
	size_t errlen;
};

_Static_assert(DP_STATUS_KEY_MAX == 64 && DP_STATUS_KEYS_MAX == 1024,
	       "the parser's messages name these limits");

/* Reports what is wrong at the current offset. Returns -1. */
static int fail(struct rd *r, const char *what)
{
	snprintf(r->err, r->errlen, "malformed reply at byte %zu: %s", r->i, what);
	return -1;
}

static void skip_ws(struct rd *r)
{
	while (r->i < r->len && (r->b[r->i] == ' ' || r->b[r->i] == '\t' || r->b[r->i] == '\n' ||
				 r->b[r->i] == '\r'))
		r->i++;
}

/* Consumes ch after optional whitespace. Returns 0, or -1 (err set). */
static int expect(struct rd *r, char ch)
{
	skip_ws(r);
	char m[40];

	if (r->i >= r->len || r->b[r->i] != ch) {
		snprintf(m, sizeof(m),
			 r->i >= r->len ? "ends where '%c' was expected" : "'%c' expected", ch);
		return fail(r, m);
	}
	r->i++;
	return 0;
}

static bool name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '_' || c == '.' || c == '/' || c == '-';
}

/* A string of name characters into out (DP_STATUS_KEY_MAX bytes). */
static int read_name(struct rd *r, char *out)
{
	size_t n = 0;

	if (expect(r, '"') != 0)
		return -1;
	while (r->i < r->len && r->b[r->i] != '"') {
		if (!name_char(r->b[r->i])) {
			char m[40];

			snprintf(m, sizeof(m), "unexpected byte 0x%02x in a name",
				 (unsigned)(unsigned char)r->b[r->i]);
			return fail(r, m);
		}
		if (n + 1 >= DP_STATUS_KEY_MAX)
			return fail(r, "name longer than 63 bytes");
		out[n++] = r->b[r->i++];
	}
	if (r->i >= r->len)
		return fail(r, "unterminated string");
	if (n == 0)
		return fail(r, "empty name");
	r->i++;
	out[n] = '\0';
	return 0;
}

static int read_u64(struct rd *r, uint64_t *v)
{
	size_t start;

	skip_ws(r);
	start = r->i;
	*v = 0;
	while (r->i < r->len && r->b[r->i] >= '0' && r->b[r->i] <= '9') {
		unsigned d = (unsigned)(r->b[r->i] - '0');

		if (*v > (UINT64_MAX - d) / 10)
			return fail(r, "number above 2^64 - 1");
		*v = *v * 10 + d;
		r->i++;
	}
	if (r->i == start)
		return fail(r, "unsigned integer expected");
	if (r->i - start > 1 && r->b[start] == '0')
		return fail(r, "number with a leading zero");
	if (r->i < r->len && (r->b[r->i] == '.' || r->b[r->i] == 'e' || r->b[r->i] == 'E'))
		return fail(r, "not an integer");
	return 0;
}

static int read_pair(struct rd *r, struct dp_status_sample *s)
{
	struct dp_status_kv *kv;
	uint64_t dup;

	if (s->n >= DP_STATUS_KEYS_MAX)
		return fail(r, "more than 1024 counters");
	kv = &s->kv[s->n];
	if (read_name(r, kv->key) != 0 || expect(r, ':') != 0 || read_u64(r, &kv->value) != 0)
		return -1;
	if (dp_status_get(s, kv->key, &dup)) {
		char m[DP_STATUS_KEY_MAX + 16];

		snprintf(m, sizeof(m), "counter '%s' twice", kv->key);
		return fail(r, m);
	}
	s->n++;
	return 0;
}

int dp_status_parse(const char *buf, size_t len, const char *cmd, struct dp_status_sample *s,
		    char *err, size_t errlen)
{
	struct rd r = {buf, len, 0, err, errlen};
	char name[DP_STATUS_KEY_MAX];

	s->n = 0;
	if (expect(&r, '{') != 0 || read_name(&r, name) != 0)
		return -1;
	if (strcmp(name, cmd) != 0) {
		char m[2 * DP_STATUS_KEY_MAX + 32];

		snprintf(m, sizeof(m), "answers '%s', not '%.63s'", name, cmd);
		return fail(&r, m);
	}
	if (expect(&r, ':') != 0)
		return -1;
	skip_ws(&r);
	if (len - r.i >= 4 && memcmp(buf + r.i, "null", 4) == 0) {
		snprintf(err, errlen, "%s failed in dptrack (null reply): is it stopping?", cmd);
		return -1;
	}
	if (expect(&r, '{') != 0)
		return -1;
	skip_ws(&r);
	if (r.i < len && buf[r.i] == '}') {
		r.i++;
	} else {
		for (;;) {
			if (read_pair(&r, s) != 0)
				return -1;
			skip_ws(&r);
			if (r.i < len && buf[r.i] == ',') {
				r.i++;
				continue;
			}
			if (expect(&r, '}') != 0)
				return -1;
			break;
		}
	}
	if (expect(&r, '}') != 0)
		return -1;
	skip_ws(&r);
	if (r.i != len)
		return fail(&r, "bytes after the reply");
	return 0;
}

int dp_status_get(const struct dp_status_sample *s, const char *name, uint64_t *v)
{
	for (size_t i = 0; i < s->n; i++)
		if (strcmp(s->kv[i].key, name) == 0) {
			*v = s->kv[i].value;
			return 1;
		}
	return 0;
}

const char *dp_status_prefix_of(char *const *args, unsigned n)
{
	static const char opt[] = "--file-prefix";
	const char *p = "rte";

	for (unsigned i = 0; i < n; i++) {
		if (strcmp(args[i], opt) == 0 && i + 1 < n)
			p = args[++i];
		else if (strncmp(args[i], opt, sizeof(opt) - 1) == 0 &&
			 args[i][sizeof(opt) - 1] == '=')
			p = args[i] + sizeof(opt);
	}
	return p;
}

/* --- The table ------------------------------------------------------------ */

/* Rows of "NAME  TOTAL  PER_S": a key, and the label it is shown under. */
static const char *const req_rows[][2] = {
    {"udp_connect", "udp connect"}, {"udp_announce", "udp announce"},
    {"udp_scrape", "udp scrape"},   {"http_announce", "http announce"},
    {"http_scrape", "http scrape"},
};

static const char *const frame_rows[][2] = {
    {"rx_packets", "received"},
    {"tx_packets", "sent"},
    {"stack_replies", "ARP/NDP/ping answers"},
    {"tx_full", "lost: TX ring full"},
};

static void row(FILE *f, const char *label, const struct dp_status_sample *a,
		const struct dp_status_sample *b, double dt, const char *key)
{
	uint64_t now = 0, then = 0;

	if (!dp_status_get(b, key, &now)) {
		fprintf(f, "  %-28s %16s\n", label, "-");
		return;
	}
	if (a == NULL || dt <= 0 || !dp_status_get(a, key, &then)) {
		fprintf(f, "  %-28s %16" PRIu64 "\n", label, now);
		return;
	}
	/* A counter that went down (a restart between samples) has no rate. */
	if (now < then)
		fprintf(f, "  %-28s %16" PRIu64 " %12s\n", label, now, "-");
	else
		fprintf(f, "  %-28s %16" PRIu64 " %12.1f\n", label, now, (double)(now - then) / dt);
}

static void section(FILE *f, const char *title, bool rates)
{
	if (rates)
		fprintf(f, "\n%-30s %16s %12s\n", title, "total", "per s");
	else
		fprintf(f, "\n%-30s %16s\n", title, "total");
}

/* Every counter whose name starts with prefix and whose total is not 0,
 * labelled by the rest of its name; "(none)" when there is none. */
static void by_reason(FILE *f, const struct dp_status_sample *a, const struct dp_status_sample *b,
		      double dt, const char *prefix)
{
	size_t plen = strlen(prefix);
	unsigned shown = 0;

	for (size_t i = 0; i < b->n; i++)
		if (strncmp(b->kv[i].key, prefix, plen) == 0 && b->kv[i].value != 0) {
			row(f, b->kv[i].key + plen, a, b, dt, b->kv[i].key);
			shown++;
		}
	if (shown == 0)
		fprintf(f, "  (none)\n");
}

static const char *const cluster_rows[][2] = {
    {"cluster_records_published", "records published"},
    {"cluster_records_applied", "records applied"},
    {"cluster_batches_published", "batches published"},
    {"cluster_batches_applied", "batches applied"},
};

/* The cluster (cluster.enabled): its state, what went out and came in, and
 * what was lost. */
static void cluster(FILE *f, const struct dp_status_sample *a, const struct dp_status_sample *b,
		    double dt)
{
	uint64_t connected = 0, catching = 0, seq = 0, p50 = 0, p99 = 0, lagged = 0;

	dp_status_get(b, "cluster_connected", &connected);
	dp_status_get(b, "cluster_catching_up", &catching);
	dp_status_get(b, "cluster_stream_sequence", &seq);
	dp_status_get(b, "cluster_lag_p50_us", &p50);
	dp_status_get(b, "cluster_lag_p99_us", &p99);
	dp_status_get(b, "cluster_lag_window_records", &lagged);
	fprintf(f, "\n%-30s\n", "cluster");
	fprintf(f, "  %-28s %16s\n", "nats", connected ? "connected" : "DISCONNECTED");
	fprintf(f, "  %-28s %16s\n", "stream", catching ? "CATCHING UP" : "caught up");
	fprintf(f, "  %-28s %16" PRIu64 "\n", "stream sequence applied", seq);
	/* The last full 10 s window: one with no record measured nothing, and
	 * must not read as no lag. */
	if (lagged == 0)
		fprintf(f, "  %-28s %16s\n", "lag p50 / p99 (10 s)", "no records");
	else
		fprintf(f, "  %-28s %12.1f ms / %.1f ms (%" PRIu64 " records)\n",
			"lag p50 / p99 (10 s)", (double)p50 / 1000, (double)p99 / 1000, lagged);
	section(f, "cluster records", a != NULL);
	for (size_t i = 0; i < sizeof(cluster_rows) / sizeof(cluster_rows[0]); i++)
		row(f, cluster_rows[i][1], a, b, dt, cluster_rows[i][0]);
	section(f, "cluster drops by reason", a != NULL);
	by_reason(f, a, b, dt, "cluster_drop_");
}

static void mib(char *out, size_t len, uint64_t bytes)
{
	snprintf(out, len, "%.1f MiB", (double)bytes / (1024.0 * 1024.0));
}

int dp_status_print(FILE *f, const char *head, const struct dp_status_sample *a,
		    const struct dp_status_sample *b, double dt)
{
	bool rates = a != NULL && dt > 0;
	uint64_t up, used = 0, budget = 0, v;
	char s1[32], s2[32];

	if (!dp_status_get(b, "uptime_seconds", &up))
		return -1;
	fprintf(f, "%s\n\n", head);
	fprintf(f, "  %-28s %4" PRIu64 " d %02u:%02u:%02u\n", "uptime", up / 86400,
		(unsigned)(up % 86400 / 3600), (unsigned)(up % 3600 / 60), (unsigned)(up % 60));
	const char *const gauges[][2] = {{"swarms", "swarms"},
					 {"peers_ipv4", "peers ipv4"},
					 {"peers_ipv6", "peers ipv6"},
					 {"seeders", "seeders"},
					 {"leechers", "leechers"}};
	for (size_t i = 0; i < sizeof(gauges) / sizeof(gauges[0]); i++)
		row(f, gauges[i][1], NULL, b, 0, gauges[i][0]);
	if (dp_status_get(b, "memory_used_bytes", &used) &&
	    dp_status_get(b, "memory_budget_bytes", &budget) && budget > 0) {
		mib(s1, sizeof(s1), used);
		mib(s2, sizeof(s2), budget);
		fprintf(f, "  %-28s %16s of %s (%.1f %%)\n", "memory used", s1, s2,
			100.0 * (double)used / (double)budget);
	}
	if (dp_status_get(b, "http_connections_open", &v)) /* only with http.enabled */
		row(f, "http connections open", NULL, b, 0, "http_connections_open");

	section(f, "requests", rates);
	for (size_t i = 0; i < sizeof(req_rows) / sizeof(req_rows[0]); i++)
		row(f, req_rows[i][1], rates ? a : NULL, b, dt, req_rows[i][0]);
	section(f, "frames", rates);
	for (size_t i = 0; i < sizeof(frame_rows) / sizeof(frame_rows[0]); i++)
		row(f, frame_rows[i][1], rates ? a : NULL, b, dt, frame_rows[i][0]);
	section(f, "drops by reason", rates);
	by_reason(f, rates ? a : NULL, b, dt, "drop_");
	section(f, "refused udp requests", rates);
	by_reason(f, rates ? a : NULL, b, dt, "udp_err_");
	section(f, "refused http requests", rates);
	by_reason(f, rates ? a : NULL, b, dt, "http_err_");
	/* A shared port's XDP program: what it redirected and what it passed
	 * to the kernel, by reason (port<N>_xdp_redirect, port<N>_xdp_pass_*). */
	for (unsigned p = 0; p < DP_STATUS_MAX_PORTS; p++) {
		char key[40], title[48];

		snprintf(key, sizeof(key), "port%u_xdp_redirect", p);
		if (!dp_status_get(b, key, &v))
			continue;
		snprintf(title, sizeof(title), "port %u XDP: redirect, pass", p);
		section(f, title, rates);
		snprintf(key, sizeof(key), "port%u_xdp_", p);
		by_reason(f, rates ? a : NULL, b, dt, key);
	}
	if (dp_status_get(b, "cluster_connected", &v))
		cluster(f, rates ? a : NULL, b, dt);
	if (rates)
		fprintf(f, "\nper s: over the last %.1f s\n", dt);
	return 0;
}

/* --- The client ----------------------------------------------------------- */

/* Connects to the telemetry socket of prefix: root's runtime directory
 * first, then (when not root) the one EAL uses for other users. Returns the
 * socket, or -1 with the reason in err. */
static int status_connect(const char *prefix, char *err, size_t errlen)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	const char *xdg = getenv("XDG_RUNTIME_DIR");
	char first[sizeof(sa.sun_path)];
	int first_errno = 0;

	for (int k = 0; k < (getuid() == 0 ? 1 : 2); k++) {
		int n = snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/dpdk/%s/dpdk_telemetry.v2",
				 k == 0 ? "/var/run" : (xdg != NULL ? xdg : "/tmp"), prefix);
		if (n < 0 || (size_t)n >= sizeof(sa.sun_path)) {
			snprintf(err, errlen, "--file-prefix %s: socket path too long", prefix);
			return -1;
		}
		int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
		if (fd < 0) {
			snprintf(err, errlen, "socket: %s", strerror(errno));
			return -1;
		}
		if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0) {
			struct timeval tv = {.tv_sec = SOCK_TIMEOUT};

			setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
			setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
			return fd;
		}
		if (k == 0) {
			first_errno = errno;
			memcpy(first, sa.sun_path, sizeof(first));
		}
		close(fd);
	}
	snprintf(err, errlen, "no dptrack running with --file-prefix %s: %s: %s%s", prefix, first,
		 strerror(first_errno),
		 first_errno == EACCES
		     ? " (the telemetry socket is for root and dpdk.run_as's group)"
		     : "");
	return -1;
}

/* Receives one message into buf (cap bytes) as a NUL-terminated string.
 * Returns its length, or -1 with the reason in err. */
static ssize_t recv_msg(int fd, char *buf, size_t cap, char *err, size_t errlen)
{
	struct iovec iov = {.iov_base = buf, .iov_len = cap - 1};
	struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};
	ssize_t n;

	do
		n = recvmsg(fd, &mh, 0);
	while (n < 0 && errno == EINTR);
	if (n < 0) {
		snprintf(err, errlen, "reading the telemetry socket: %s",
			 errno == EAGAIN ? "no reply within 5 s" : strerror(errno));
		return -1;
	}
	if (n == 0) {
		snprintf(err, errlen, "dptrack closed the telemetry connection");
		return -1;
	}
	if (mh.msg_flags & MSG_TRUNC) {
		snprintf(err, errlen, "telemetry reply longer than %zu bytes", cap - 1);
		return -1;
	}
	buf[n] = '\0';
	return n;
}

/* Sends the stats command and parses its reply into s. */
static int sample(int fd, char *buf, size_t cap, struct dp_status_sample *s, char *err,
		  size_t errlen)
{
	ssize_t n;

	if (send(fd, STATS_CMD, strlen(STATS_CMD), MSG_NOSIGNAL) < 0) {
		if (errno == EPIPE || errno == ECONNRESET)
			snprintf(err, errlen, "dptrack closed the telemetry connection");
		else
			snprintf(err, errlen, "writing the telemetry socket: %s", strerror(errno));
		return -1;
	}
	n = recv_msg(fd, buf, cap, err, errlen);
	if (n < 0)
		return -1;
	return dp_status_parse(buf, (size_t)n, STATS_CMD, s, err, errlen);
}

static double mono(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* Sleeps seconds on the monotonic clock, through signals. */
static void sleep_for(double seconds)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	t.tv_sec += (time_t)seconds;
	t.tv_nsec += (long)((seconds - (double)(time_t)seconds) * 1e9);
	if (t.tv_nsec >= 1000000000L) {
		t.tv_sec++;
		t.tv_nsec -= 1000000000L;
	}
	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &t, NULL) == EINTR)
		;
}

/* The greeting's "pid" and "version" for the table's first line; a greeting
 * without them is shown as is, it is not an error. */
static void greeting_head(const char *g, const char *prefix, char *head, size_t len)
{
	const char *pid = strstr(g, "\"pid\":");
	long p = pid != NULL ? strtol(pid + 6, NULL, 10) : 0;

	if (p > 0)
		snprintf(head, len, "dptrack --file-prefix %s: pid %ld", prefix, p);
	else
		snprintf(head, len, "dptrack --file-prefix %s", prefix);
}

int dp_status_main(const char *prefix, double interval)
{
	static struct dp_status_sample a, b;
	static char buf[REPLY_MAX];
	char err[1024], head[256];
	double t0, dt = 0;
	int fd, ret = 1;

	if (!(interval >= 0 && interval <= INTERVAL_MAX)) {
		fprintf(stderr, "dptrack: --interval: 0 to %.0f seconds\n", INTERVAL_MAX);
		return 2;
	}
	fd = status_connect(prefix, err, sizeof(err));
	if (fd < 0)
		goto out;
	if (recv_msg(fd, buf, sizeof(buf), err, sizeof(err)) < 0)
		goto out;
	if (strncmp(buf, "{\"version\"", 10) != 0) {
		snprintf(err, sizeof(err), "not a DPDK telemetry greeting: %.60s", buf);
		goto out;
	}
	greeting_head(buf, prefix, head, sizeof(head));
	t0 = mono();
	if (sample(fd, buf, sizeof(buf), &a, err, sizeof(err)) != 0)
		goto out;
	if (interval > 0) {
		sleep_for(interval);
		if (sample(fd, buf, sizeof(buf), &b, err, sizeof(err)) != 0)
			goto out;
		dt = mono() - t0;
	}
	if (dp_status_print(stdout, head, interval > 0 ? &a : NULL, interval > 0 ? &b : &a, dt) !=
	    0) {
		snprintf(err, sizeof(err), "the reply has no uptime_seconds: not dptrack's");
		goto out;
	}
	if (fflush(stdout) != 0) {
		snprintf(err, sizeof(err), "writing the table: %s", strerror(errno));
		goto out;
	}
	ret = 0;
out:
	if (fd >= 0)
		close(fd);
	if (ret != 0)
		fprintf(stderr, "dptrack: %s\n", err);
	return ret;
}
