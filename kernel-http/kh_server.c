/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * kh_server.c - threads, listeners, epoll and connections (after Redis's
 * ae.c and anet.c: epoll_wait tolerates EINTR and nothing else; setup errors
 * name the failing call).
 *
 * A connection reads into a buffer of max_request_bytes; every complete
 * request head in it is answered in order (pipelining) into an output
 * buffer, and reading pauses while too much output is unsent, so a client
 * that does not read cannot make us buffer without bound. A connection that
 * completes no request for idle_timeout seconds is closed: the thread keeps
 * its connections in a list ordered by last progress, so finding the
 * expired ones costs nothing for the live ones.
 *
 * Descriptors: kh_start raises the soft RLIMIT_NOFILE to fit
 * max_connections (or lowers the cap to what the hard limit allows, with a
 * warning). Should accept() still run out of them, each thread closes a
 * spare descriptor to take the connection and close it at once, so a
 * level-triggered listener never spins on a backlog it cannot take.
 */
#define _GNU_SOURCE /* accept4, pthread_setname_np */
#include "kh_server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "core/ptab.h"
#include "kh_internal.h"

#define KH_EVENTS	256 /* epoll events per wake */
#define KH_ACCEPT_BATCH 64  /* accepts per listener wake, so one flood cannot starve reads */
#define KH_OUT_HIGH	(64u << 10) /* stop parsing pipelined requests above this much unsent */
#define KH_WAIT_MS	500	    /* epoll timeout: the idle sweep's period */
#define KH_FD_RESERVE	128 /* descriptors kept from HTTP for EAL, ports, telemetry, files */

enum kh_kind {
	KH_KIND_LISTENER,
	KH_KIND_CONN,
	KH_KIND_STOP,
};

struct kh_item {
	enum kh_kind kind;
	int fd;
};

struct kh_conn {
	struct kh_item item; /* first: epoll hands back a struct kh_item * */
	struct tr_addr peer;
	uint64_t last_ms; /* accepted, or last request answered */
	struct kh_conn *prev, *next;
	char *in;
	size_t in_len;
	struct kh_buf out;
	size_t out_off;
	bool close_after;
	uint32_t armed; /* epoll events registered */
};

struct kh_thread {
	struct kh_server *srv;
	unsigned idx;
	pthread_t tid;
	int ep;
	struct kh_item listeners[KH_MAX_LISTEN];
	unsigned n_listeners;
	struct tr_ctx ctx;
	struct stats_ctr st;
	struct kh_counters c;
	struct kh_conn *oldest, *newest;
	int spare;	   /* /dev/null, given up to refuse a connection when out of fds */
	uint64_t pause_ms; /* listeners paused since (no descriptor left), 0 if not */
	int state;	   /* 0 starting, 1 running, -1 failed: read by kh_start */
	bool joinable;
	uint64_t loops; /* rounds of its epoll loop: the watchdog's sign of life */
} __attribute__((aligned(64)));

struct kh_server {
	struct kh_server_shared sh;
	struct kh_item stop;
	unsigned open; /* connections over all threads (atomic) */
	unsigned n_threads;
	struct kh_thread *th;
};

int kh_buf_reserve(struct kh_buf *b, size_t n)
{
	if (b->len + n <= b->cap)
		return 0;
	if (b->len + n > KH_BUF_MAX)
		return -1;
	size_t cap = b->cap ? b->cap : 4096;
	while (cap < b->len + n)
		cap *= 2;
	char *p = realloc(b->p, cap);
	if (p == NULL)
		return -1;
	b->p = p;
	b->cap = cap;
	return 0;
}

static uint64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static uint64_t wall_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME_COARSE, &ts);
	return (uint64_t)ts.tv_sec;
}

/* ---- the connection list, oldest progress first ------------------------- */

static void lru_unlink(struct kh_thread *t, struct kh_conn *c)
{
	if (c->prev != NULL)
		c->prev->next = c->next;
	else
		t->oldest = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	else
		t->newest = c->prev;
	c->prev = c->next = NULL;
}

static void lru_append(struct kh_thread *t, struct kh_conn *c)
{
	c->prev = t->newest;
	c->next = NULL;
	if (t->newest != NULL)
		t->newest->next = c;
	else
		t->oldest = c;
	t->newest = c;
}

static void conn_close(struct kh_thread *t, struct kh_conn *c)
{
	lru_unlink(t, c);
	close(c->item.fd); /* also leaves the epoll set */
	free(c->in);
	free(c->out.p);
	free(c);
	__atomic_fetch_sub(&t->srv->open, 1, __ATOMIC_RELAXED);
}

/* Registers the events the connection needs now: input while it may parse
 * more, output while something is unsent. */
static int conn_arm(struct kh_thread *t, struct kh_conn *c)
{
	size_t max_in = t->srv->sh.p.max_request_bytes;
	size_t unsent = c->out.len - c->out_off;
	uint32_t want = 0;

	/* A closing connection waits for its output only: asking for RDHUP
	 * then would report the peer's half-close on every wake. */
	if (!c->close_after)
		want |= EPOLLRDHUP;
	if (!c->close_after && c->in_len < max_in && unsent < KH_OUT_HIGH)
		want |= EPOLLIN;
	if (unsent > 0)
		want |= EPOLLOUT;
	if (want == c->armed)
		return 0;
	struct epoll_event ev = {.events = want, .data.ptr = &c->item};
	if (epoll_ctl(t->ep, EPOLL_CTL_MOD, c->item.fd, &ev) != 0)
		return -1;
	c->armed = want;
	return 0;
}

/* ---- requests ------------------------------------------------------------ */

/* Whether the connection stays open after this request (RFC 9112 9.3). */
static bool wants_keep_alive(const struct kh_request *req)
{
	const struct kh_header *h = kh_find_header(req, "connection");

	if (h != NULL && kh_header_has_token(h->value, h->value_len, "close"))
		return false;
	if (req->minor_version >= 1)
		return true;
	return h != NULL && kh_header_has_token(h->value, h->value_len, "keep-alive");
}

/* A tracker request has no body; one that announces a body is refused
 * rather than read (we would have to skip it to find the next request). */
static bool has_body(const struct kh_request *req)
{
	const struct kh_header *h = kh_find_header(req, "content-length");

	if (kh_find_header(req, "transfer-encoding") != NULL)
		return true;
	if (h == NULL)
		return false;
	for (size_t i = 0; i < h->value_len; i++)
		if (h->value[i] != '0')
			return true;
	return false;
}

static void count_status(struct kh_thread *t, int st)
{
	if (st >= 0 && st < KH_STATUS_N)
		STATS_INC(t->c.status[st]);
}

/* Answers every complete request in the input, in order, while the unsent
 * output stays under KH_OUT_HIGH. Returns -1 if the connection must go. */
static int conn_process(struct kh_thread *t, struct kh_conn *c, uint64_t now_ms)
{
	const struct kh_params *p = &t->srv->sh.p;
	struct kh_req_ctx rc = {.sh = &t->srv->sh,
				.live = __atomic_load_n(&t->srv->sh.live, __ATOMIC_ACQUIRE),
				.tr = &t->ctx,
				.c = &t->c,
				.now = wall_s()};

	while (!c->close_after && c->in_len > 0 && c->out.len - c->out_off < KH_OUT_HIGH) {
		struct kh_request req;
		int r = kh_parse_request(c->in, c->in_len, &req), st;

		if (r == KH_PARSE_PARTIAL) {
			if (c->in_len < p->max_request_bytes)
				break;
			STATS_INC(t->c.too_large);
			st = kh_respond_text(&rc, &c->out, KH_431, "request header too large\n",
					     &KH_FRAMING_CLOSE);
			c->close_after = true;
		} else if (r == KH_PARSE_BAD || has_body(&req)) {
			STATS_INC(t->c.bad_requests);
			st = kh_respond_text(&rc, &c->out, KH_400, "bad request\n",
					     &KH_FRAMING_CLOSE);
			c->close_after = true;
		} else {
			bool keep = wants_keep_alive(&req);

			st = kh_route(&rc, &req, &c->peer, keep, &c->out);
			c->close_after = !keep;
			memmove(c->in, c->in + r, c->in_len - (size_t)r);
			c->in_len -= (size_t)r;
			c->last_ms = now_ms;
			lru_unlink(t, c);
			lru_append(t, c);
		}
		if (st < 0)
			return -1;
		count_status(t, st);
	}
	return 0;
}

/* Sends what it can. Returns -1 if the connection must go, 1 if it was
 * closed because its last response is out, 0 otherwise. */
static int conn_flush(struct kh_conn *c)
{
	while (c->out_off < c->out.len) {
		ssize_t n =
		    send(c->item.fd, c->out.p + c->out_off, c->out.len - c->out_off, MSG_NOSIGNAL);
		if (n > 0) {
			c->out_off += (size_t)n;
			continue;
		}
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return 0;
		if (n < 0 && errno == EINTR)
			continue;
		return -1;
	}
	c->out.len = c->out_off = 0;
	return c->close_after ? 1 : 0;
}

/* Reads what is there, answers, sends; repeats while a send drained the
 * output and complete requests are still waiting (pipelining). */
static void conn_pump(struct kh_thread *t, struct kh_conn *c, uint32_t events, uint64_t now_ms)
{
	size_t max_in = t->srv->sh.p.max_request_bytes;
	bool eof = (events & (EPOLLRDHUP | EPOLLHUP)) != 0;

	if (events & EPOLLIN) {
		while (c->in_len < max_in) {
			ssize_t n = recv(c->item.fd, c->in + c->in_len, max_in - c->in_len, 0);
			if (n > 0) {
				c->in_len += (size_t)n;
				continue;
			}
			if (n == 0)
				eof = true;
			else if (errno == EINTR)
				continue;
			else if (errno != EAGAIN && errno != EWOULDBLOCK)
				goto gone;
			break;
		}
	}
	for (int rounds = 0; rounds < 64; rounds++) {
		size_t before = c->in_len;

		if (conn_process(t, c, now_ms) < 0)
			goto gone;
		int f = conn_flush(c);
		if (f != 0)
			goto gone;
		if (c->out.len != 0 || c->in_len == before || c->in_len == 0)
			break;
	}
	/* The peer closed its side: what it sent is answered, nothing more will come. */
	if (eof && c->out.len == 0)
		goto gone;
	if (eof)
		c->close_after = true;
	if (conn_arm(t, c) == 0)
		return;
gone:
	conn_close(t, c);
}

/* ---- accepting ------------------------------------------------------------ */

/* The peer accept4() reported; copied out, not cast, so no alias rule is bent. */
static struct tr_addr sockaddr_addr(const struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET) {
		struct sockaddr_in s4;

		memcpy(&s4, ss, sizeof(s4));
		return tr_addr_v4((const uint8_t *)&s4.sin_addr, ntohs(s4.sin_port));
	}
	struct sockaddr_in6 s6;

	memcpy(&s6, ss, sizeof(s6));
	return tr_addr_v6(s6.sin6_addr.s6_addr, ntohs(s6.sin6_port));
}

/* Registers the thread's listeners for input (on) or for nothing. */
static void listeners_arm(struct kh_thread *t, bool on)
{
	for (unsigned i = 0; i < t->n_listeners; i++) {
		struct epoll_event ev = {.events = on ? EPOLLIN : 0, .data.ptr = &t->listeners[i]};

		epoll_ctl(t->ep, EPOLL_CTL_MOD, t->listeners[i].fd, &ev);
	}
}

/* accept() found no free descriptor (EMFILE, ENFILE). The connection would
 * stay in the backlog and wake the level-triggered listener at once, a busy
 * loop until some descriptor closes; instead the spare one makes room to
 * accept it and close it at once, counted as refused (libev's remedy).
 * Returns 1 refused one, 0 the backlog is empty, -1 no room even so (no
 * spare, or another thread took the slot): the caller pauses its listeners. */
static int refuse_one(struct kh_thread *t, int lfd)
{
	if (t->spare < 0)
		return -1;
	close(t->spare);
	int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	int err = errno;

	if (fd >= 0) {
		close(fd);
		STATS_INC(t->c.refused);
	}
	t->spare = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (fd >= 0 || err == ECONNABORTED)
		return 1;
	return err == EAGAIN || err == EWOULDBLOCK ? 0 : -1;
}

static void accept_some(struct kh_thread *t, int lfd, uint64_t now_ms)
{
	const struct kh_params *p = &t->srv->sh.p;

	for (int i = 0; i < KH_ACCEPT_BATCH; i++) {
		struct sockaddr_storage ss = {0};
		socklen_t sl = sizeof(ss);
		int fd = accept4(lfd, (struct sockaddr *)&ss, &sl, SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (fd < 0) {
			bool no_fd = errno == EMFILE || errno == ENFILE;

			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return;
			if (!no_fd && errno != ENOBUFS && errno != ENOMEM)
				continue; /* EINTR, or that connection's own error: accept(2) */
			int r = no_fd ? refuse_one(t, lfd) : -1;
			if (r > 0)
				continue;
			if (r < 0) {
				/* Out of memory or descriptors: try again KH_WAIT_MS on. */
				listeners_arm(t, false);
				t->pause_ms = now_ms;
			}
			return;
		}
		if (__atomic_fetch_add(&t->srv->open, 1, __ATOMIC_RELAXED) >= p->max_connections) {
			/* Past the cap: closed at once, before a byte is read. */
			__atomic_fetch_sub(&t->srv->open, 1, __ATOMIC_RELAXED);
			close(fd);
			STATS_INC(t->c.refused);
			continue;
		}
		struct kh_conn *c = calloc(1, sizeof(*c));
		char *in = malloc(p->max_request_bytes);
		struct epoll_event ev = {.events = EPOLLIN | EPOLLRDHUP, .data.ptr = c};
		if (c == NULL || in == NULL || epoll_ctl(t->ep, EPOLL_CTL_ADD, fd, &ev) != 0) {
			free(c);
			free(in);
			close(fd);
			__atomic_fetch_sub(&t->srv->open, 1, __ATOMIC_RELAXED);
			continue;
		}
		int one = 1;
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		c->item = (struct kh_item){.kind = KH_KIND_CONN, .fd = fd};
		c->peer = sockaddr_addr(&ss);
		c->in = in;
		c->last_ms = now_ms;
		c->armed = ev.events;
		lru_append(t, c);
		STATS_INC(t->c.accepted);
	}
}

/* Closes every connection that completed no request for idle_timeout. */
static void sweep_idle(struct kh_thread *t, uint64_t now_ms)
{
	const struct kh_live *lv = __atomic_load_n(&t->srv->sh.live, __ATOMIC_ACQUIRE);
	uint64_t limit = (uint64_t)lv->idle_timeout * 1000;

	for (struct kh_conn *c = t->oldest, *next; c != NULL && now_ms - c->last_ms >= limit;
	     c = next) {
		next = c->next;
		conn_close(t, c);
		STATS_INC(t->c.idle_closed);
	}
}

/* ---- threads -------------------------------------------------------------- */

static void *thread_main(void *arg)
{
	struct kh_thread *t = arg;
	struct ptab *tab = t->srv->sh.p.tr->ptab;
	struct epoll_event ev[KH_EVENTS];
	bool stop = false;

	if (ptab_thread_enter(tab) != 0) {
		__atomic_store_n(&t->state, -1, __ATOMIC_RELEASE);
		return NULL;
	}
	__atomic_store_n(&t->state, 1, __ATOMIC_RELEASE);
	while (!stop) {
		/* Offline while blocked: a sleeping thread never delays reclamation. */
		ptab_reader_offline(tab);
		int n = epoll_wait(t->ep, ev, KH_EVENTS, KH_WAIT_MS);
		ptab_reader_online(tab);
		if (n < 0 && errno != EINTR)
			break;
		STATS_INC(t->loops);
		uint64_t now_ms = mono_ms();
		for (int i = 0; i < n; i++) {
			struct kh_item *it = ev[i].data.ptr;

			if (it->kind == KH_KIND_STOP)
				stop = true;
			else if (it->kind == KH_KIND_LISTENER)
				accept_some(t, it->fd, now_ms);
			else if (ev[i].events & EPOLLERR)
				conn_close(t, (struct kh_conn *)it);
			else
				conn_pump(t, (struct kh_conn *)it, ev[i].events, now_ms);
		}
		sweep_idle(t, now_ms);
		if (t->pause_ms != 0 && now_ms - t->pause_ms >= KH_WAIT_MS) {
			if (t->spare < 0)
				t->spare = open("/dev/null", O_RDONLY | O_CLOEXEC);
			listeners_arm(t, true);
			t->pause_ms = 0;
		}
	}
	for (struct kh_conn *c = t->oldest, *next; c != NULL; c = next) {
		next = c->next;
		conn_close(t, c);
	}
	ptab_thread_leave(tab);
	return NULL;
}

/* A non-blocking SO_REUSEPORT listener on l; IPv6 ones IPv6-only. */
static int listen_on(const struct kh_listen *l, char *err, size_t errlen)
{
	struct sockaddr_storage ss = {0};
	socklen_t sl;
	int one = 1, fd;
	char name[INET6_ADDRSTRLEN];

	inet_ntop(l->family == 4 ? AF_INET : AF_INET6, l->addr, name, sizeof(name));
	if (l->family == 4) {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
		s4->sin_family = AF_INET;
		s4->sin_port = htons(l->port);
		memcpy(&s4->sin_addr, l->addr, 4);
		sl = sizeof(*s4);
	} else {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(l->port);
		memcpy(&s6->sin6_addr, l->addr, 16);
		sl = sizeof(*s6);
	}
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) != 0 ||
	    (l->family == 6 && setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)) != 0) ||
	    bind(fd, (struct sockaddr *)&ss, sl) != 0 || listen(fd, 1024) != 0) {
		snprintf(err, errlen, "listen on %s%s%s:%u: %s", l->family == 6 ? "[" : "", name,
			 l->family == 6 ? "]" : "", l->port, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

static int thread_init(struct kh_server *s, struct kh_thread *t, unsigned idx, char *err,
		       size_t errlen)
{
	struct epoll_event ev = {.events = EPOLLIN};

	t->srv = s;
	t->idx = idx;
	t->ctx.tr = s->sh.p.tr;
	t->ctx.stats = &t->st;
	t->ctx.sink = s->sh.p.sinks[idx];
	tr_rng_seed(&t->ctx.rng, s->sh.p.rng_seed + idx);
	t->ep = epoll_create1(EPOLL_CLOEXEC);
	if (t->ep < 0) {
		snprintf(err, errlen, "epoll_create1: %s", strerror(errno));
		return -1;
	}
	ev.data.ptr = &s->stop;
	if (epoll_ctl(t->ep, EPOLL_CTL_ADD, s->stop.fd, &ev) != 0) {
		snprintf(err, errlen, "epoll_ctl(stop): %s", strerror(errno));
		return -1;
	}
	t->spare = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (t->spare < 0) {
		snprintf(err, errlen, "open(/dev/null): %s", strerror(errno));
		return -1;
	}
	for (unsigned i = 0; i < s->sh.p.n_listen; i++) {
		int fd = listen_on(&s->sh.p.listen[i], err, errlen);

		if (fd < 0)
			return -1;
		t->listeners[i] = (struct kh_item){.kind = KH_KIND_LISTENER, .fd = fd};
		t->n_listeners = i + 1;
		ev.data.ptr = &t->listeners[i];
		if (epoll_ctl(t->ep, EPOLL_CTL_ADD, fd, &ev) != 0) {
			snprintf(err, errlen, "epoll_ctl(listener): %s", strerror(errno));
			return -1;
		}
	}
	return 0;
}

static void server_free(struct kh_server *s)
{
	for (unsigned i = 0; s->th != NULL && i < s->n_threads; i++) {
		struct kh_thread *t = &s->th[i];

		for (unsigned k = 0; k < t->n_listeners; k++)
			close(t->listeners[k].fd);
		if (t->ep >= 0)
			close(t->ep);
		if (t->spare >= 0)
			close(t->spare);
	}
	if (s->stop.fd >= 0)
		close(s->stop.fd);
	kh_live_free(s->sh.live);
	free(s->th);
	free(s);
}

void kh_stop(struct kh_server *s)
{
	uint64_t one = 1;

	if (s == NULL)
		return;
	/* Level-triggered and never read: one write wakes every thread. */
	if (s->stop.fd >= 0 && write(s->stop.fd, &one, sizeof(one)) != sizeof(one))
		perror("dptrack: kh_stop: write(eventfd)");
	for (unsigned i = 0; s->th != NULL && i < s->n_threads; i++)
		if (s->th[i].joinable) {
			pthread_join(s->th[i].tid, NULL);
			s->th[i].joinable = false;
		}
}

void kh_free(struct kh_server *s)
{
	if (s == NULL)
		return;
	kh_stop(s);
	server_free(s);
}

static bool wait_started(struct kh_server *s)
{
	for (int ms = 0; ms < 5000; ms++) {
		bool all = true;

		for (unsigned i = 0; i < s->n_threads; i++) {
			int st = __atomic_load_n(&s->th[i].state, __ATOMIC_ACQUIRE);
			if (st < 0)
				return false;
			all &= st == 1;
		}
		if (all)
			return true;
		nanosleep(&(struct timespec){.tv_nsec = 1000000}, NULL);
	}
	return false;
}

/* Raises the soft RLIMIT_NOFILE so max_connections fit beside the stop
 * eventfd, each thread's epoll set, spare and listeners, and KH_FD_RESERVE
 * (after Redis's adjustOpenFilesLimit; EAL has usually raised it to the
 * hard limit already). Returns the connections that fit: max_connections,
 * or fewer, with a warning naming the key, when the limit is lower. */
static unsigned nofile_fit(const struct kh_params *p)
{
	rlim_t fixed = KH_FD_RESERVE + 1 + (rlim_t)p->threads * (p->n_listen + 2);
	rlim_t need = fixed + p->max_connections;
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
		return p->max_connections;
	if (rl.rlim_cur < need) {
		struct rlimit up = {rl.rlim_max < need ? rl.rlim_max : need, rl.rlim_max};

		if (setrlimit(RLIMIT_NOFILE, &up) == 0)
			rl = up;
	}
	if (rl.rlim_cur >= need)
		return p->max_connections;
	unsigned fit = rl.rlim_cur > fixed ? (unsigned)(rl.rlim_cur - fixed) : 0;
	fprintf(stderr,
		"dptrack: warning: http.max_connections is %u, but the open files limit "
		"(RLIMIT_NOFILE %llu) leaves room for %u: more are refused. Raise the limit "
		"(ulimit -n, systemd LimitNOFILE=) or lower http.max_connections.\n",
		p->max_connections, (unsigned long long)rl.rlim_cur, fit);
	return fit;
}

struct kh_server *kh_start(const struct kh_params *p, char *err, size_t errlen)
{
	struct kh_server *s = calloc(1, sizeof(*s));

	if (s == NULL) {
		snprintf(err, errlen, "kh_start: out of memory");
		return NULL;
	}
	/* From here every failure takes the one way out: kh_free() stops and
	 * joins the threads that started and closes what was opened. */
	s->stop.fd = -1;
	if (p->threads == 0 || p->threads > 64 || p->n_listen == 0 || p->n_listen > KH_MAX_LISTEN) {
		snprintf(err, errlen, "kh_start: bad parameters");
		goto fail;
	}
	s->sh.p = *p;
	s->sh.p.live = (struct kh_live_params){0}; /* the caller's pointers end here */
	s->sh.live = kh_live_new(&p->live, err, errlen);
	if (s->sh.live == NULL)
		goto fail;
	s->stop.kind = KH_KIND_STOP;
	s->stop.fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	s->th = aligned_alloc(64, sizeof(*s->th) * p->threads);
	if (s->stop.fd < 0 || s->th == NULL) {
		snprintf(err, errlen, "kh_start: %s", strerror(errno));
		goto fail;
	}
	memset(s->th, 0, sizeof(*s->th) * p->threads);
	for (unsigned i = 0; i < p->threads; i++)
		s->th[i].ep = s->th[i].spare = -1;
	s->n_threads = p->threads;
	s->sh.p.max_connections = nofile_fit(p);
	if (s->sh.p.max_connections == 0) {
		snprintf(err, errlen,
			 "the open files limit (RLIMIT_NOFILE) leaves no room for HTTP "
			 "connections (http.max_connections)");
		goto fail;
	}
	for (unsigned i = 0; i < p->threads; i++)
		if (thread_init(s, &s->th[i], i, err, errlen) != 0)
			goto fail;
	for (unsigned i = 0; i < p->threads; i++) {
		/* "dpt-http0"...: what top -H, perf and the live tests see. */
		char name[16];
		snprintf(name, sizeof(name), "dpt-http%u", i % 100); /* threads <= 64 */
		int ret = p->create_thread != NULL
			      ? p->create_thread(&s->th[i].tid, name, thread_main, &s->th[i])
			      : pthread_create(&s->th[i].tid, NULL, thread_main, &s->th[i]);
		if (ret != 0) {
			snprintf(err, errlen, "creating HTTP thread %s: %s", name, strerror(ret));
			goto fail;
		}
		s->th[i].joinable = true;
		if (p->create_thread == NULL)
			pthread_setname_np(s->th[i].tid, name);
	}
	if (!wait_started(s)) {
		snprintf(err, errlen,
			 "HTTP threads: rte_thread_register failed (no lcore id left?)");
		goto fail;
	}
	return s;
fail:
	kh_free(s);
	return NULL;
}

struct kh_live *kh_live_new(const struct kh_live_params *lp, char *err, size_t errlen)
{
	struct kh_live *lv;

	if (lp->n_trusted_proxies > KH_MAX_CIDRS || lp->n_stats_allow > KH_MAX_CIDRS) {
		snprintf(err, errlen, "more than %d trusted proxies or stats.allow entries",
			 KH_MAX_CIDRS);
		return NULL;
	}
	lv = calloc(1, sizeof(*lv));
	if (lv == NULL) {
		snprintf(err, errlen, "kh_live_new: out of memory");
		return NULL;
	}
	/* The lists may be NULL when empty: memcpy must not see a NULL source. */
	if (lp->n_trusted_proxies > 0)
		memcpy(lv->trusted, lp->trusted_proxies,
		       lp->n_trusted_proxies * sizeof(lv->trusted[0]));
	if (lp->n_stats_allow > 0)
		memcpy(lv->allow, lp->stats_allow, lp->n_stats_allow * sizeof(lv->allow[0]));
	lv->n_trusted = lp->n_trusted_proxies;
	lv->n_allow = lp->n_stats_allow;
	lv->idle_timeout = lp->idle_timeout;
	if (kh_pages_load(lv->pages, lp->static_dir, err, errlen) != 0) {
		free(lv);
		return NULL;
	}
	return lv;
}

void kh_live_free(struct kh_live *lv)
{
	if (lv == NULL)
		return;
	kh_pages_free(lv->pages);
	free(lv);
}

struct kh_live *kh_live_swap(struct kh_server *s, struct kh_live *lv)
{
	return __atomic_exchange_n(&s->sh.live, lv, __ATOMIC_ACQ_REL);
}

void kh_tracker_stats(const struct kh_server *s, struct stats_ctr *total)
{
	for (unsigned i = 0; s != NULL && i < s->n_threads; i++)
		stats_add(total, &s->th[i].st);
}

unsigned kh_threads(const struct kh_server *s)
{
	return s != NULL ? s->n_threads : 0;
}

uint64_t kh_thread_loops(const struct kh_server *s, unsigned i)
{
	return __atomic_load_n(&s->th[i].loops, __ATOMIC_RELAXED);
}

static uint64_t sum(const struct kh_server *s, size_t off)
{
	uint64_t v = 0;

	for (unsigned i = 0; i < s->n_threads; i++)
		v += __atomic_load_n((const uint64_t *)((const char *)&s->th[i].c + off),
				     __ATOMIC_RELAXED);
	return v;
}

void kh_metrics(const struct kh_server *s, tr_metric_fn fn, void *arg)
{
	static const char *const codes[KH_STATUS_N] = {"200", "400", "403", "404",
						       "405", "431", "500"};
	static const char *const labels[KH_STATUS_N] = {
	    "code=\"200\"", "code=\"400\"", "code=\"403\"", "code=\"404\"",
	    "code=\"405\"", "code=\"431\"", "code=\"500\"",
	};
	char key[32];

	if (s == NULL)
		return;
	fn(arg, &(struct tr_metric){"http_connections_open", "HTTP connections open now",
				    TR_METRIC_GAUGE, NULL, "http_connections_open",
				    __atomic_load_n(&s->open, __ATOMIC_RELAXED)});
	fn(arg, &(struct tr_metric){"http_connections_accepted_total", "HTTP connections accepted",
				    TR_METRIC_COUNTER, NULL, "http_connections_accepted",
				    sum(s, offsetof(struct kh_counters, accepted))});
	fn(arg, &(struct tr_metric){"http_connections_refused_total",
				    "HTTP connections closed at once: http.max_connections or the "
				    "open files limit reached",
				    TR_METRIC_COUNTER, NULL, "http_connections_refused",
				    sum(s, offsetof(struct kh_counters, refused))});
	fn(arg, &(struct tr_metric){"http_connections_idle_closed_total",
				    "HTTP connections closed after http.idle_timeout",
				    TR_METRIC_COUNTER, NULL, "http_connections_idle_closed",
				    sum(s, offsetof(struct kh_counters, idle_closed))});
	for (unsigned k = 0; k < KH_STATUS_N; k++) {
		snprintf(key, sizeof(key), "http_responses_%s", codes[k]);
		fn(arg, &(struct tr_metric){
			    "http_responses_total", "HTTP responses by status code",
			    TR_METRIC_COUNTER, labels[k], key,
			    sum(s, offsetof(struct kh_counters, status) + k * sizeof(uint64_t))});
	}
}
