/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * wire_sock.c - dpt-load over kernel UDP sockets: sendmmsg/recvmmsg on one
 * non-blocking socket, for any udp:// tracker (opentracker, ...).
 *
 * On loopback every client sends from an address of its own,
 * 127.1.0.1 + client index (IP_PKTINFO's ipi_spec_dst on each message), so
 * a tracker that keys connection IDs and peers on the source address sees
 * as many hosts as the workload has clients. Replies to those addresses
 * reach the socket, which is bound to 0.0.0.0. IPv4 or IPv6 targets; IPv6
 * and non-loopback targets get one source address for all clients.
 */
#define _GNU_SOURCE /* sendmmsg, recvmmsg */
#include "load.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define SOCK_BUF_BYTES (8 << 20) /* absorbs a full window of replies */
#define SOCK_REPLY_MAX 2048	 /* a reply larger than this is cut (and fails parsing) */

struct wire_sock {
	struct load_wire base;
	int fd;
	bool v6, per_client_src;
	struct sockaddr_storage dst;
	socklen_t dst_len;
	const struct load_work *work;
	struct mmsghdr tx[LOAD_BURST], rx[LOAD_BURST];
	struct iovec tx_iov[LOAD_BURST], rx_iov[LOAD_BURST];
	union {
		char buf[CMSG_SPACE(sizeof(struct in_pktinfo))];
		struct cmsghdr align;
	} tx_cmsg[LOAD_BURST];
	uint8_t rx_buf[LOAD_BURST][SOCK_REPLY_MAX];
	uint64_t send_errors;
};

/* The cmsg that makes client c's datagram leave from 127.1.0.1 + c. */
static void sock_src(struct wire_sock *s, unsigned i, uint32_t c)
{
	struct msghdr *m = &s->tx[i].msg_hdr;
	struct in_pktinfo pi = {0};

	pi.ipi_spec_dst.s_addr = htonl((127u << 24 | 1u << 16) + 1 + c);
	m->msg_control = s->tx_cmsg[i].buf;
	m->msg_controllen = sizeof(s->tx_cmsg[i].buf);
	struct cmsghdr *cm = CMSG_FIRSTHDR(m);
	cm->cmsg_level = IPPROTO_IP;
	cm->cmsg_type = IP_PKTINFO;
	cm->cmsg_len = CMSG_LEN(sizeof(pi));
	memcpy(CMSG_DATA(cm), &pi, sizeof(pi));
}

static unsigned sock_send(struct load_wire *w, const struct load_req *reqs, unsigned n)
{
	struct wire_sock *s = (struct wire_sock *)w;

	for (unsigned i = 0; i < n; i++) {
		struct msghdr *m = &s->tx[i].msg_hdr;

		s->tx_iov[i].iov_base = (void *)reqs[i].data;
		s->tx_iov[i].iov_len = reqs[i].len;
		m->msg_iov = &s->tx_iov[i];
		m->msg_iovlen = 1;
		m->msg_name = &s->dst;
		m->msg_namelen = s->dst_len;
		m->msg_control = NULL;
		m->msg_controllen = 0;
		if (s->per_client_src)
			sock_src(s, i, reqs[i].client);
	}
	int sent = sendmmsg(s->fd, s->tx, n, MSG_DONTWAIT);
	if (sent < 0) {
		if (errno != EAGAIN && errno != ENOBUFS && errno != EINTR)
			s->send_errors++;
		return 0;
	}
	return (unsigned)sent;
}

static unsigned sock_recv(struct load_wire *w, struct load_rep *reps, unsigned max)
{
	struct wire_sock *s = (struct wire_sock *)w;

	if (max > LOAD_BURST)
		max = LOAD_BURST;
	for (unsigned i = 0; i < max; i++) {
		s->rx_iov[i].iov_base = s->rx_buf[i];
		s->rx_iov[i].iov_len = SOCK_REPLY_MAX;
		memset(&s->rx[i].msg_hdr, 0, sizeof(s->rx[i].msg_hdr));
		s->rx[i].msg_hdr.msg_iov = &s->rx_iov[i];
		s->rx[i].msg_hdr.msg_iovlen = 1;
	}
	int got = recvmmsg(s->fd, s->rx, max, MSG_DONTWAIT, NULL);
	if (got <= 0)
		return 0;
	for (int i = 0; i < got; i++) {
		reps[i].data = s->rx_buf[i];
		reps[i].len = (uint16_t)s->rx[i].msg_len;
	}
	return (unsigned)got;
}

static void sock_recv_done(struct load_wire *w)
{
	(void)w;
}

static void sock_wait(struct load_wire *w, int ms)
{
	struct wire_sock *s = (struct wire_sock *)w;
	struct pollfd pfd = {.fd = s->fd, .events = POLLIN};

	(void)poll(&pfd, 1, ms);
}

static void sock_report(struct load_wire *w)
{
	struct wire_sock *s = (struct wire_sock *)w;

	printf("wire sock: %s source per client, %llu send errors\n",
	       s->per_client_src ? "one" : "a shared", (unsigned long long)s->send_errors);
}

static void sock_close(struct load_wire *w)
{
	struct wire_sock *s = (struct wire_sock *)w;

	close(s->fd);
	free(s);
}

/* Parses target into s->dst; returns 0 or -1. */
static int sock_target(struct wire_sock *s, const char *target, uint16_t port)
{
	struct sockaddr_in *a4 = (struct sockaddr_in *)&s->dst;
	struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)&s->dst;

	memset(&s->dst, 0, sizeof(s->dst));
	if (inet_pton(AF_INET, target, &a4->sin_addr) == 1) {
		a4->sin_family = AF_INET;
		a4->sin_port = htons(port);
		s->dst_len = sizeof(*a4);
		s->v6 = false;
		return 0;
	}
	if (inet_pton(AF_INET6, target, &a6->sin6_addr) == 1) {
		a6->sin6_family = AF_INET6;
		a6->sin6_port = htons(port);
		s->dst_len = sizeof(*a6);
		s->v6 = true;
		return 0;
	}
	return -1;
}

struct load_wire *load_wire_sock_new(const struct load_work *work, const char *target,
				     uint16_t port, char *err, size_t errlen)
{
	struct wire_sock *s = calloc(1, sizeof(*s));
	int buf = SOCK_BUF_BYTES;

	if (s == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	s->work = work;
	if (sock_target(s, target, port) < 0) {
		snprintf(err, errlen, "not an IPv4 or IPv6 address: %s", target);
		free(s);
		return NULL;
	}
	s->per_client_src =
	    !s->v6 && (ntohl(((struct sockaddr_in *)&s->dst)->sin_addr.s_addr) >> 24) == 127;
	if (!s->per_client_src && work->p.clients > 1) {
		snprintf(err, errlen,
			 "%s is not on loopback: all clients share one address, so "
			 "--clients must be 1",
			 target);
		free(s);
		return NULL;
	}
	if (work->p.clients > (1u << 24) - 2) {
		snprintf(err, errlen, "at most %u clients on loopback", (1u << 24) - 2);
		free(s);
		return NULL;
	}
	s->fd = socket(s->v6 ? AF_INET6 : AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
	if (s->fd < 0) {
		snprintf(err, errlen, "socket: %s", strerror(errno));
		free(s);
		return NULL;
	}
	/* Forced sizes need CAP_NET_ADMIN; the plain ones stop at rmem_max. */
	if (setsockopt(s->fd, SOL_SOCKET, SO_RCVBUFFORCE, &buf, sizeof(buf)) < 0)
		(void)setsockopt(s->fd, SOL_SOCKET, SO_RCVBUF, &buf, sizeof(buf));
	if (setsockopt(s->fd, SOL_SOCKET, SO_SNDBUFFORCE, &buf, sizeof(buf)) < 0)
		(void)setsockopt(s->fd, SOL_SOCKET, SO_SNDBUF, &buf, sizeof(buf));
	struct sockaddr_storage any = {0};
	socklen_t any_len = s->v6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);
	any.ss_family = s->v6 ? AF_INET6 : AF_INET;
	((struct sockaddr_in *)&any)->sin_port = htons(LOAD_CLIENT_PORT);
	if (bind(s->fd, (struct sockaddr *)&any, any_len) < 0) {
		/* Port taken (another run): any port will do. */
		((struct sockaddr_in *)&any)->sin_port = 0;
		if (bind(s->fd, (struct sockaddr *)&any, any_len) < 0) {
			snprintf(err, errlen, "bind: %s", strerror(errno));
			close(s->fd);
			free(s);
			return NULL;
		}
	}
	s->base = (struct load_wire){
	    .name = "sock",
	    .send = sock_send,
	    .recv = sock_recv,
	    .recv_done = sock_recv_done,
	    .wait = sock_wait,
	    .report = sock_report,
	    .close = sock_close,
	};
	return &s->base;
}
