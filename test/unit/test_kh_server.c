/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_kh_server.c - kh_start() and the HTTP threads against the open files
 * limit (RLIMIT_NOFILE): the soft limit raised to fit max_connections, the
 * cap lowered with a warning naming the key where the hard limit is too
 * low, and
 * connections accept() has no descriptor for closed at once rather than
 * left to wake the listener in a busy loop. A start that fails after some
 * threads are up unwinds all of it: no thread, descriptor or memory left.
 *
 * One HTTP thread on 127.0.0.1, a port the kernel picked a moment before;
 * clients are blocking sockets of this process, created before the limit
 * is lowered (connect() takes no new descriptor).
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include <rte_common.h>
#include <rte_lcore.h>

#include "eal_test.h"
#include "tracker_fixture.h"
#include "kernel-http/kh_server.h"

#define T0	 1000000u /* the tracker's clock, seconds */
#define CLIENTS	 8	  /* client sockets per test */
#define MAX_FILL 4096	  /* descriptors the hole filling may open */

static struct tracker_fx fx;

/* ---- helpers ------------------------------------------------------------ */

/* A TCP port on 127.0.0.1 that was free a moment ago. */
static uint16_t free_port(void)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t al = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &al), 0);
	close(fd);
	return ntohs(a.sin_port);
}

/* threads HTTP threads on 127.0.0.1:port over the fixture's tracker. */
static struct kh_params params(unsigned threads, unsigned max_connections, uint16_t port)
{
	struct kh_params p = {
	    .n_listen = 1,
	    .threads = threads,
	    .max_connections = max_connections,
	    .live = {.idle_timeout = 60},
	    .max_request_bytes = 4096,
	    .tr = &fx.tr,
	    .rng_seed = 1,
	};

	p.listen[0].family = 4;
	memcpy(p.listen[0].addr, (const uint8_t[]){127, 0, 0, 1}, 4);
	p.listen[0].port = port;
	return p;
}

static struct kh_server *start(unsigned max_connections, uint16_t port)
{
	struct kh_params p = params(1, max_connections, port);
	char err[256] = "";
	struct kh_server *s = kh_start(&p, err, sizeof(err));
	if (s == NULL)
		fail_msg("kh_start: %s", err);
	return s;
}

struct metric_find {
	const char *key;
	uint64_t value;
	int found;
};

static void metric_cb(void *arg, const struct tr_metric *m)
{
	struct metric_find *f = arg;

	if (strcmp(m->key, f->key) == 0) {
		f->value = m->value;
		f->found++;
	}
}

static uint64_t metric(const struct kh_server *s, const char *key)
{
	struct metric_find f = {.key = key};

	kh_metrics(s, metric_cb, &f);
	assert_int_equal(f.found, 1);
	return f.value;
}

static void sockets(int fd[CLIENTS])
{
	for (int i = 0; i < CLIENTS; i++) {
		fd[i] = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		assert_true(fd[i] >= 0);
	}
}

static void connect_all(int fd[], int n, uint16_t port)
{
	struct sockaddr_in a = {.sin_family = AF_INET,
				.sin_port = htons(port),
				.sin_addr.s_addr = htonl(INADDR_LOOPBACK)};

	for (int i = 0; i < n; i++)
		assert_int_equal(connect(fd[i], (struct sockaddr *)&a, sizeof(a)), 0);
}

/* Whether the server closes fd (EOF or reset, nothing read first) within ms. */
static bool closed_within(int fd, int ms)
{
	struct pollfd p = {.fd = fd, .events = POLLIN};
	char b[64];

	if (poll(&p, 1, ms) != 1)
		return false;
	ssize_t n = recv(fd, b, sizeof(b), MSG_DONTWAIT);
	return n == 0 || (n < 0 && errno == ECONNRESET);
}

/* Whether GET /heartbeat on fd is answered 200 within a second. */
static bool answers(int fd)
{
	static const char req[] = "GET /heartbeat HTTP/1.1\r\nHost: t\r\n\r\n";
	struct pollfd p = {.fd = fd, .events = POLLIN};
	char b[64] = "";

	if (send(fd, req, sizeof(req) - 1, MSG_NOSIGNAL) != (ssize_t)sizeof(req) - 1)
		return false;
	if (poll(&p, 1, 1000) != 1 || recv(fd, b, sizeof(b) - 1, 0) < 12)
		return false;
	return strncmp(b, "HTTP/1.1 200", 12) == 0;
}

/* CPU time this process has used, in ms. */
static uint64_t cpu_ms(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (uint64_t)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000 +
	       (uint64_t)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1000;
}

static void sleep_ms(long ms)
{
	nanosleep(&(struct timespec){.tv_sec = ms / 1000, .tv_nsec = ms % 1000 * 1000000}, NULL);
}

/* Opens /dev/null until every descriptor below the highest open one is
 * taken, so the next one opened is highest + 1. Returns how many it opened
 * (into fill[]) and the first free descriptor in *next. */
static int fill_holes(int fill[MAX_FILL], int *next)
{
	struct rlimit rl;
	int hi = 0, n = 0;

	/* Below the soft limit only: valgrind keeps its own descriptors above. */
	assert_int_equal(getrlimit(RLIMIT_NOFILE, &rl), 0);
	for (int fd = 0; fd < 65536 && (rlim_t)fd < rl.rlim_cur; fd++)
		if (fcntl(fd, F_GETFD) >= 0)
			hi = fd;
	for (; n < MAX_FILL; n++) {
		int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);

		assert_true(fd >= 0);
		if (fd > hi) {
			close(fd);
			*next = fd;
			return n;
		}
		fill[n] = fd;
	}
	fail_msg("more than %d holes below descriptor %d", MAX_FILL, hi);
	return n;
}

/* ---- fixture ------------------------------------------------------------ */

static struct rlimit saved;

static int setup(void **state)
{
	(void)state;
	if (getrlimit(RLIMIT_NOFILE, &saved) != 0)
		return -1;
	return tracker_fx_up(&fx, "khsrv", 64, T0);
}

static int teardown(void **state)
{
	(void)state;
	setrlimit(RLIMIT_NOFILE, &saved); /* a test that failed midway may have lowered it */
	tracker_fx_down(&fx);
	return 0;
}

static int group_setup(void **state)
{
	(void)state;
	return eal_test_init("khsrv", 256) < 0 ? -1 : 0;
}

static int group_teardown(void **state)
{
	(void)state;
	eal_test_fini();
	return 0;
}

/* ---- tests --------------------------------------------------------------- */

static void test_kh_start_raises_the_soft_open_files_limit_to_fit_max_connections(void **state)
{
	(void)state;
	struct rlimit low = {256, saved.rlim_max}, now;

	if (saved.rlim_max < 2048)
		skip(); /* no room to show it */
	assert_int_equal(setrlimit(RLIMIT_NOFILE, &low), 0);
	struct kh_server *s = start(1000, free_port());

	assert_int_equal(getrlimit(RLIMIT_NOFILE, &now), 0);
	assert_true(now.rlim_cur > 1000);
	assert_true(now.rlim_cur <= saved.rlim_max);
	assert_true(now.rlim_max == saved.rlim_max);
	kh_free(s);
}

static void test_kh_closes_at_once_what_accept_has_no_descriptor_for(void **state)
{
	(void)state;
	enum { ROOM = 3 }; /* descriptors left to the server */
	static int fill[MAX_FILL];
	int c[CLIENTS], next = -1;
	const char *preload = getenv("LD_PRELOAD");

	/* valgrind keeps the limit itself: it closes what the kernel gave past
	 * it and reports EMFILE, so the spare descriptor buys nothing there. */
	if (preload != NULL && strstr(preload, "vgpreload") != NULL)
		skip();
	uint16_t port = free_port();
	struct kh_server *s = start(100, port);

	sockets(c);
	int n_fill = fill_holes(fill, &next);
	struct rlimit low = {(rlim_t)next + ROOM, saved.rlim_max};
	assert_int_equal(setrlimit(RLIMIT_NOFILE, &low), 0);
	connect_all(c, CLIENTS, port);
	/* Until the server has taken or refused them all (5 s: valgrind is slow). */
	for (int i = 0; i < 250; i++) {
		if (metric(s, "http_connections_accepted") +
			metric(s, "http_connections_refused") ==
		    CLIENTS)
			break;
		sleep_ms(20);
	}
	uint64_t cpu0 = cpu_ms();
	sleep_ms(300); /* a listener woken in a loop would burn all of it */
	uint64_t spent = cpu_ms() - cpu0;
	int closed = 0;
	for (int i = 0; i < CLIENTS; i++)
		closed += closed_within(c[i], 100);
	assert_int_equal(closed, CLIENTS - ROOM);
	assert_int_equal(metric(s, "http_connections_refused"), CLIENTS - ROOM);
	assert_int_equal(metric(s, "http_connections_accepted"), ROOM);
	assert_true(spent < 100);
	/* The ones it took are served, with the limit still low. */
	int served = 0;
	for (int i = 0; i < CLIENTS; i++)
		served += answers(c[i]);
	assert_int_equal(served, ROOM);

	assert_int_equal(setrlimit(RLIMIT_NOFILE, &saved), 0);
	for (int i = 0; i < n_fill; i++)
		close(fill[i]);
	for (int i = 0; i < CLIENTS; i++)
		close(c[i]);
	kh_free(s);
}

static void test_kh_start_serves_fewer_past_the_hard_limit_and_names_the_key(void **state)
{
	(void)state;
	char msg[512] = "";
	struct rlimit now;

	/* More connections than the hard limit has descriptors: kh_start
	 * cannot raise the soft limit far enough and must say what it serves. */
	if (saved.rlim_max > 10000000)
		skip();
	unsigned max = (unsigned)saved.rlim_max;
	FILE *tmp = tmpfile();
	assert_non_null(tmp);
	fflush(stderr);
	int err_fd = dup(STDERR_FILENO);
	assert_true(err_fd >= 0);
	dup2(fileno(tmp), STDERR_FILENO);
	struct kh_server *s = start(max, free_port());
	fflush(stderr);
	dup2(err_fd, STDERR_FILENO);
	close(err_fd);
	rewind(tmp);
	size_t len = fread(msg, 1, sizeof(msg) - 1, tmp);
	msg[len] = '\0';
	fclose(tmp);

	char want[64];
	snprintf(want, sizeof(want), "http.max_connections is %u", max);
	assert_non_null(strstr(msg, want));
	const char *at = strstr(msg, "leaves room for ");
	assert_non_null(at);
	unsigned long room = strtoul(at + strlen("leaves room for "), NULL, 10);
	/* The soft limit is up to the hard one, and some of it is kept for
	 * EAL, ports and files: at least 100, at most a few hundred. */
	assert_int_equal(getrlimit(RLIMIT_NOFILE, &now), 0);
	assert_true(now.rlim_cur == saved.rlim_max);
	assert_true(room + 100 <= max && room + 500 >= max);
	kh_free(s);
}

/* Entries in /proc/self/DIR: open descriptors ("fd") or threads ("task"). */
static unsigned proc_count(const char *dir)
{
	char path[64];
	unsigned n = 0;

	snprintf(path, sizeof(path), "/proc/self/%s", dir);
	DIR *d = opendir(path);
	assert_non_null(d);
	for (struct dirent *e; (e = readdir(d)) != NULL;)
		n += e->d_name[0] != '.';
	closedir(d);
	return n - (strcmp(dir, "fd") == 0); /* opendir's own descriptor */
}

/* Threads that hold EAL lcore ids (rte_thread_register) until released. */
static struct {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	unsigned held, refused, release;
} hog = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, 0, 0};

static void *hog_main(void *arg)
{
	bool got = rte_thread_register() == 0;

	(void)arg;
	pthread_mutex_lock(&hog.lock);
	if (!got) {
		hog.refused++;
	} else {
		hog.held++;
		pthread_cond_broadcast(&hog.cond);
		while (hog.release == 0)
			pthread_cond_wait(&hog.cond, &hog.lock);
		hog.release--;
		hog.held--;
	}
	pthread_cond_broadcast(&hog.cond);
	pthread_mutex_unlock(&hog.lock);
	if (got)
		rte_thread_unregister();
	return NULL;
}

/* Lets n hogs go and waits until they have given their ids back. */
static void hog_release(unsigned n)
{
	pthread_mutex_lock(&hog.lock);
	unsigned want = hog.held - n;
	hog.release += n;
	pthread_cond_broadcast(&hog.cond);
	while (hog.held != want)
		pthread_cond_wait(&hog.cond, &hog.lock);
	pthread_mutex_unlock(&hog.lock);
}

/*
 * Every EAL lcore id but one is taken, so of two HTTP threads one registers
 * and starts serving, the other cannot: kh_start() fails, naming the step,
 * and leaves nothing behind. The running thread is stopped and joined, and
 * the server, its epoll sets, listeners and spare descriptors are freed
 * (valgrind's run of this suite checks the memory).
 */
static void test_kh_start_failing_a_thread_registration_leaves_nothing_behind(void **state)
{
	pthread_t tid[RTE_MAX_LCORE + 1];
	unsigned n = 0;

	(void)state;
	unsigned fds = proc_count("fd"), tasks = proc_count("task");
	/* Hogs until EAL refuses one: every lcore id is then taken. */
	while (n < RTE_DIM(tid)) {
		assert_int_equal(pthread_create(&tid[n++], NULL, hog_main, NULL), 0);
		pthread_mutex_lock(&hog.lock);
		while (hog.held + hog.refused != n)
			pthread_cond_wait(&hog.cond, &hog.lock);
		bool full = hog.refused > 0;
		pthread_mutex_unlock(&hog.lock);
		if (full)
			break;
	}
	assert_int_equal(hog.refused, 1);
	hog_release(1); /* one id free: one HTTP thread of two registers */

	struct kh_params p = params(2, 64, free_port());
	char err[256] = "";
	assert_null(kh_start(&p, err, sizeof(err)));
	print_message("kh_start: %s\n", err);
	assert_non_null(strstr(err, "rte_thread_register"));

	hog_release(hog.held);
	for (unsigned i = 0; i < n; i++)
		assert_int_equal(pthread_join(tid[i], NULL), 0);
	assert_int_equal(proc_count("fd"), fds);
	assert_int_equal(proc_count("task"), tasks);
	/* And the ids came back: a start with every id free works. */
	kh_free(start(64, free_port()));
	assert_int_equal(proc_count("fd"), fds);
}

/* A creator of threads that records the names it is given and, from
 * index fail_from on, refuses with EAGAIN. */
static struct {
	char names[4][16];
	unsigned calls, fail_from;
} made;

static int make_thread(pthread_t *tid, const char *name, void *(*fn)(void *), void *arg)
{
	unsigned i = made.calls++;

	if (i < RTE_DIM(made.names))
		snprintf(made.names[i], sizeof(made.names[i]), "%s", name);
	if (i >= made.fail_from)
		return EAGAIN;
	return pthread_create(tid, NULL, fn, arg);
}

/*
 * kh_params.create_thread makes every HTTP thread, named dpt-httpN (dptrack
 * passes DPDK's control-thread creation there); when it refuses one,
 * kh_start fails naming the thread and the error, and leaves nothing
 * behind: the thread it did make is stopped and joined.
 */
static void test_kh_start_makes_its_threads_with_the_given_creator(void **state)
{
	(void)state;
	unsigned fds = proc_count("fd"), tasks = proc_count("task");
	struct kh_params p = params(2, 64, free_port());
	char err[256] = "";

	made.calls = 0;
	made.fail_from = UINT32_MAX;
	p.create_thread = make_thread;
	struct kh_server *s = kh_start(&p, err, sizeof(err));
	if (s == NULL)
		fail_msg("kh_start: %s", err);
	assert_int_equal(made.calls, 2);
	assert_string_equal(made.names[0], "dpt-http0");
	assert_string_equal(made.names[1], "dpt-http1");
	assert_int_equal(proc_count("task"), tasks + 2);
	kh_free(s);
	assert_int_equal(proc_count("task"), tasks);

	made.calls = 0;
	made.fail_from = 1;
	p.listen[0].port = free_port();
	assert_null(kh_start(&p, err, sizeof(err)));
	print_message("kh_start: %s\n", err);
	assert_non_null(strstr(err, "dpt-http1"));
	assert_non_null(strstr(err, strerror(EAGAIN)));
	assert_int_equal(proc_count("fd"), fds);
	assert_int_equal(proc_count("task"), tasks);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	    T(test_kh_start_raises_the_soft_open_files_limit_to_fit_max_connections),
	    T(test_kh_closes_at_once_what_accept_has_no_descriptor_for),
	    T(test_kh_start_serves_fewer_past_the_hard_limit_and_names_the_key),
	    T(test_kh_start_failing_a_thread_registration_leaves_nothing_behind),
	    T(test_kh_start_makes_its_threads_with_the_given_creator),
#undef T
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
