/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_snap.c - peer-table snapshots (core/snap.c, ptab_dump_next,
 * ptab_restore): the CRC, a save/load round trip of every peer and counter,
 * expiry at load, every truncation and every flipped byte refused with
 * nothing loaded, setting bad files aside, and a failed save leaving the
 * old file.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <rte_lcore.h>

#include "core/ptab.h"
#include "core/snap.h"
#include "core/udp_msg.h"
#include "eal_test.h"

#define T0	 1000000 /* seconds, far from zero */
#define TIMEOUT	 2700
#define MAX_PEER 64

static char dir[64];

static struct ptab *table(void)
{
	static unsigned seq;
	char name[16], err[256];
	struct ptab_params p = {
	    .name = name,
	    .max_swarms = 1000,
	    .max_peers_per_swarm = 10000,
	    .memory_bytes = 64u << 20,
	    .peer_timeout = TIMEOUT,
	    .socket_id = -1,
	};

	snprintf(name, sizeof(name), "s%u", seq++);
	struct ptab *t = ptab_new(&p, err, sizeof(err));
	if (t == NULL)
		fail_msg("ptab_new: %s", err);
	assert_int_equal(ptab_reader_register(t), 0);
	return t;
}

static void table_free(struct ptab *t)
{
	ptab_reader_unregister(t);
	ptab_free(t);
}

static void hash_of(uint8_t ih[20], unsigned n)
{
	memset(ih, 0x5c, 20);
	memcpy(ih, &n, sizeof(n));
}

static struct tr_addr peer(unsigned n, bool v6)
{
	uint8_t ip4[4] = {198, 18, (uint8_t)(n >> 8), (uint8_t)n};
	uint8_t ip6[16] = {0xfd,      0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, (uint8_t)(n >> 8),
			   (uint8_t)n};

	return v6 ? tr_addr_v6(ip6, (uint16_t)(1000 + n)) : tr_addr_v4(ip4, (uint16_t)(1000 + n));
}

static void announce(struct ptab *t, const uint8_t ih[20], struct tr_addr a, uint8_t event,
		     bool seeder, uint64_t now)
{
	static uint8_t out[300 * TR_PEER6_LEN], other[300 * TR_PEER6_LEN];
	struct ptab_result r;
	struct ptab_announce pa = {
	    .info_hash = ih, .peer = a, .event = event, .seeder = seeder, .numwant = 0};

	assert_int_equal(ptab_announce(t, &pa, now, out, other, &r), PTAB_OK);
}

/* The peers of one swarm, sorted, as a dump lists them (stamps aside). */
struct peers {
	unsigned n[4];
	uint8_t addr[4][MAX_PEER][TR_PEER6_LEN];
	uint32_t completed;
	bool found;
};

static int cmp6(const void *a, const void *b)
{
	return memcmp(a, b, TR_PEER6_LEN);
}

static void peers_of(struct ptab *t, const uint8_t ih[20], uint64_t now, struct peers *p)
{
	struct ptab_dump d = {0};
	uint32_t iter = 0;

	memset(p, 0, sizeof(*p));
	while (ptab_dump_next(t, &iter, now, &d) == 1) {
		if (memcmp(d.info_hash, ih, 20) != 0)
			continue;
		const uint8_t *q = d.peers;
		p->found = true;
		p->completed = d.completed;
		for (unsigned i = 0; i < 4; i++) {
			unsigned klen = i < 2 ? TR_PEER4_LEN : TR_PEER6_LEN;
			assert_true(d.n[i] <= MAX_PEER);
			p->n[i] = d.n[i];
			for (unsigned j = 0; j < d.n[i]; j++, q += klen + 4)
				memcpy(p->addr[i][j], q, klen);
			qsort(p->addr[i], d.n[i], TR_PEER6_LEN, cmp6);
		}
		assert_int_equal(q - d.peers, d.len);
	}
	ptab_dump_fini(&d);
}

static void path_of(char *buf, size_t n, const char *name)
{
	snprintf(buf, n, "%s/%s", dir, name);
}

static size_t file_size(const char *path)
{
	struct stat st;

	assert_int_equal(stat(path, &st), 0);
	return (size_t)st.st_size;
}

/* A table of 4 swarms: mixed families and roles, completed counts, and one
 * with no peer left but its completed count (kept: swarm_retention). */
static struct ptab *filled(uint64_t now)
{
	struct ptab *t = table();
	uint8_t ih[20];

	for (unsigned s = 0; s < 3; s++) {
		hash_of(ih, s);
		for (unsigned i = 0; i < 10 + s * 7; i++)
			announce(t, ih, peer(i, i % 3 == 0), UDP_MSG_EV_STARTED, i % 4 == 0, now);
		for (unsigned i = 0; i < s; i++)
			announce(t, ih, peer(100 + i, false), UDP_MSG_EV_COMPLETED, true, now);
	}
	hash_of(ih, 3);
	announce(t, ih, peer(200, true), UDP_MSG_EV_COMPLETED, true, now);
	announce(t, ih, peer(200, true), UDP_MSG_EV_STOPPED, true, now);
	return t;
}

static void test_snap_crc32c_is_castagnoli(void **state)
{
	(void)state;
	/* The standard check value of CRC-32C. */
	assert_int_equal(snap_crc32c(0, "123456789", 9), 0xe3069283);
	assert_int_equal(snap_crc32c(snap_crc32c(0, "1234", 4), "56789", 5), 0xe3069283);
}

/* snap_save's progress callback: a call per swarm, then one "done" before
 * the fsync (the snapshot thread goes offline there). */
struct progress_log {
	unsigned swarms, done, after_done;
};

static void log_progress(void *arg, bool done)
{
	struct progress_log *l = arg;

	if (l->done)
		l->after_done++;
	if (done)
		l->done++;
	else
		l->swarms++;
}

static void test_snap_save_reports_each_swarm_then_done(void **state)
{
	(void)state;
	struct ptab *a = filled(T0);
	uint8_t key[16] = {0};
	struct snap_info si;
	struct progress_log l = {0};
	char path[128], err[256];

	path_of(path, sizeof(path), "progress.snap");
	assert_int_equal(snap_save(a, path, key, NULL, T0, log_progress, &l, &si, err, sizeof(err)),
			 SNAP_OK);
	assert_int_equal(l.swarms, si.swarms);
	assert_int_equal(l.done, 1);
	assert_int_equal(l.after_done, 0);
	unlink(path);
	ptab_free(a);
}

static void test_snap_round_trip_keeps_every_peer_counter_and_the_key(void **state)
{
	(void)state;
	struct ptab *a = filled(T0), *b = table();
	uint8_t key[16], back[16], ih[20];
	struct snap_info si, li;
	char path[128], err[256];

	for (unsigned i = 0; i < 16; i++)
		key[i] = (uint8_t)(i * 17 + 3);
	path_of(path, sizeof(path), "round.snap");
	assert_int_equal(snap_save(a, path, key, NULL, T0 + 10, NULL, NULL, &si, err, sizeof(err)),
			 SNAP_OK);
	assert_int_equal(si.swarms, 4);
	assert_int_equal(si.bytes, file_size(path));
	assert_int_not_equal(access(path, F_OK), -1);
	char tmp[160];
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	assert_int_equal(access(tmp, F_OK), -1); /* renamed away */

	if (snap_load(b, path, T0 + 20, back, NULL, &li, err, sizeof(err)) != SNAP_OK)
		fail_msg("snap_load: %s", err);
	assert_memory_equal(back, key, 16);
	assert_int_equal(li.swarms, 4);
	assert_int_equal(li.peers4 + li.peers6, si.peers4 + si.peers6);
	assert_int_equal(li.loaded_peers, si.peers4 + si.peers6);
	assert_int_equal(li.created, T0 + 10);

	for (unsigned s = 0; s < 4; s++) {
		struct peers pa, pb;
		struct ptab_counts ca, cb;

		hash_of(ih, s);
		peers_of(a, ih, T0 + 20, &pa);
		peers_of(b, ih, T0 + 20, &pb);
		assert_true(pa.found && pb.found);
		assert_memory_equal(&pa, &pb, sizeof(pa));
		ptab_scrape(a, ih, &ca);
		ptab_scrape(b, ih, &cb);
		assert_memory_equal(&ca, &cb, sizeof(ca));
		assert_int_equal(cb.completed, s < 3 ? s : 1);
	}
	struct ptab_stats sa, sb;
	ptab_stats(a, &sa);
	ptab_stats(b, &sb);
	assert_int_equal(sb.swarms, sa.swarms);
	assert_int_equal(sb.peers4, sa.peers4);
	assert_int_equal(sb.peers6, sa.peers6);
	assert_int_equal(sb.seeders, sa.seeders);
	assert_int_equal(sb.leechers, sa.leechers);
	table_free(a);
	table_free(b);
}

static void test_snap_load_drops_peers_past_the_timeout(void **state)
{
	(void)state;
	struct ptab *a = table(), *b = table();
	uint8_t key[16] = {0}, ih[20], old[20];
	struct snap_info li;
	char path[128], err[256];

	hash_of(ih, 7);
	hash_of(old, 8);
	announce(a, ih, peer(1, false), UDP_MSG_EV_STARTED, false, T0 - 2000);
	announce(a, ih, peer(2, true), UDP_MSG_EV_STARTED, true, T0);
	announce(a, old, peer(3, false), UDP_MSG_EV_STARTED, false, T0 - 2000);
	path_of(path, sizeof(path), "expiry.snap");
	assert_int_equal(snap_save(a, path, key, NULL, T0, NULL, NULL, NULL, err, sizeof(err)),
			 SNAP_OK);
	/* 1000 s later the first and third peers are 3000 s old. */
	assert_int_equal(snap_load(b, path, T0 + 1000, key, NULL, &li, err, sizeof(err)), SNAP_OK);
	assert_int_equal(li.peers4 + li.peers6, 3);
	assert_int_equal(li.loaded_peers, 1);

	struct ptab_counts c;
	ptab_scrape(b, ih, &c);
	assert_int_equal(c.seeders, 1);
	assert_int_equal(c.leechers, 0);
	table_free(a);
	table_free(b);
}

/* Loads a damaged copy into t (empty): must be refused as corrupt with
 * nothing placed, so t stays empty for the next one; the message names the
 * file and, unless says is NULL, holds says. */
static void assert_refused(struct ptab *t, const char *path, const uint8_t *img, size_t len,
			   const char *what, const char *says)
{
	uint8_t key[16];
	char err[512] = "";
	FILE *f = fopen(path, "wb");

	assert_non_null(f);
	assert_int_equal(fwrite(img, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
	enum snap_result r = snap_load(t, path, T0, key, NULL, NULL, err, sizeof(err));
	if (r != SNAP_CORRUPT)
		fail_msg("%s: snap_load returned %d, expected SNAP_CORRUPT", what, r);
	if (strstr(err, path) == NULL)
		fail_msg("%s: message does not name the file: %s", what, err);
	if (says != NULL && strstr(err, says) == NULL)
		fail_msg("%s: message does not say \"%s\": %s", what, says, err);

	struct ptab_stats st;
	ptab_stats(t, &st);
	if (st.swarms != 0 || st.peers4 + st.peers6 != 0)
		fail_msg("%s: %s, yet %lu swarms were loaded", what, err, (unsigned long)st.swarms);
}

static uint8_t *saved_image(size_t *len)
{
	struct ptab *a = filled(T0);
	uint8_t key[16] = {1, 2, 3};
	char path[128], err[256];

	const struct snap_stream stream = {.name = "dptrack", .seq = 42};

	path_of(path, sizeof(path), "image.snap");
	assert_int_equal(snap_save(a, path, key, &stream, T0, NULL, NULL, NULL, err, sizeof(err)),
			 SNAP_OK);
	table_free(a);
	*len = file_size(path);
	uint8_t *img = malloc(*len);
	FILE *f = fopen(path, "rb");
	assert_non_null(img);
	assert_non_null(f);
	assert_int_equal(fread(img, 1, *len, f), *len);
	fclose(f);
	return img;
}

static void test_snap_every_truncation_is_refused_and_loads_nothing(void **state)
{
	(void)state;
	size_t len;
	uint8_t *img = saved_image(&len);
	char path[128], what[64];

	struct ptab *t = table();

	path_of(path, sizeof(path), "cut.snap");
	for (size_t n = 0; n < len; n++) {
		snprintf(what, sizeof(what), "cut to %zu of %zu bytes", n, len);
		assert_refused(t, path, img, n, what, NULL);
	}
	/* And one byte too many. */
	uint8_t *more = malloc(len + 1);
	assert_non_null(more);
	memcpy(more, img, len);
	more[len] = 0;
	assert_refused(t, path, more, len + 1, "one trailing byte", NULL);
	free(more);
	free(img);
	table_free(t);
}

static void test_snap_every_flipped_byte_is_refused_and_loads_nothing(void **state)
{
	(void)state;
	size_t len;
	uint8_t *img = saved_image(&len);
	char path[128], what[64];

	struct ptab *t = table();

	path_of(path, sizeof(path), "flip.snap");
	for (size_t i = 0; i < len; i++) {
		img[i] ^= 0x20;
		snprintf(what, sizeof(what), "byte %zu of %zu flipped", i, len);
		assert_refused(t, path, img, len, what, NULL);
		img[i] ^= 0x20;
	}
	free(img);
	table_free(t);
}

/* A cluster's place in its stream goes into the file and comes back; a
 * table saved without a cluster comes back with an empty name. */
static void test_snap_round_trip_keeps_the_stream_sequence(void **state)
{
	(void)state;
	struct ptab *a = filled(T0), *b = table();
	const struct snap_stream in = {.name = "dpt-site_1", .seq = 0x123456789abcull};
	struct snap_stream out = {.name = "stale", .seq = 7};
	uint8_t key[16] = {9}, back[16];
	char path[128], err[256];

	path_of(path, sizeof(path), "stream.snap");
	assert_int_equal(snap_save(a, path, key, &in, T0, NULL, NULL, NULL, err, sizeof(err)),
			 SNAP_OK);
	assert_int_equal(snap_load(b, path, T0, back, &out, NULL, err, sizeof(err)), SNAP_OK);
	assert_string_equal(out.name, in.name);
	assert_int_equal(out.seq, in.seq);
	table_free(b);

	b = table();
	assert_int_equal(snap_save(a, path, key, NULL, T0, NULL, NULL, NULL, err, sizeof(err)),
			 SNAP_OK);
	assert_int_equal(snap_load(b, path, T0, back, &out, NULL, err, sizeof(err)), SNAP_OK);
	assert_string_equal(out.name, "");
	assert_int_equal(out.seq, 0);
	table_free(a);
	table_free(b);
}

static void put_le32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

/* A version 1 file (no stream section: what dptrack wrote before the
 * cluster) still loads, every swarm and the key, with no stream place.
 * Made from a version 2 image by cutting the section out and patching the
 * header: version, body length, checksum. */
static void test_snap_version_1_file_still_loads(void **state)
{
	(void)state;
	size_t len;
	uint8_t *img = saved_image(&len), key[16];
	const size_t stream_at = 64 + 16 + 16 + 4, stream_len = 16 + 1 + 7 + 8 + 4; /* "dptrack" */
	struct snap_stream out;
	struct snap_info info;
	char path[128], err[256];

	memmove(img + stream_at, img + stream_at + stream_len, len - stream_at - stream_len);
	len -= stream_len;
	put_le32(img + 8, 1);
	put_le32(img + 48, (uint32_t)(len - 64));
	put_le32(img + 52, 0);
	put_le32(img + 60, snap_crc32c(0, img, 60));
	path_of(path, sizeof(path), "v1.snap");
	FILE *f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(img, 1, len, f), len);
	assert_int_equal(fclose(f), 0);

	struct ptab *t = table();
	if (snap_load(t, path, T0, key, &out, &info, err, sizeof(err)) != SNAP_OK)
		fail_msg("version 1: %s", err);
	assert_int_equal(info.swarms, 4);
	assert_int_equal(key[0], 1);
	assert_string_equal(out.name, "");
	/* And the version after this one is refused, naming both. */
	put_le32(img + 8, SNAP_VERSION + 1);
	put_le32(img + 60, snap_crc32c(0, img, 60));
	f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(img, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
	table_free(t);
	t = table();
	assert_int_equal(snap_load(t, path, T0, key, NULL, NULL, err, sizeof(err)), SNAP_CORRUPT);
	assert_non_null(strstr(err, "this dptrack reads version"));
	table_free(t);
	free(img);
}

/* A header whose reserved word is set, checksum and all, is refused: no
 * version of dptrack writes one, so the file is not what its version says. */
static void test_snap_header_reserved_word_set_is_refused(void **state)
{
	(void)state;
	size_t len;
	uint8_t *img = saved_image(&len);
	char path[128];

	put_le32(img + 56, 1);
	put_le32(img + 60, snap_crc32c(0, img, 60));
	path_of(path, sizeof(path), "reserved.snap");
	struct ptab *t = table();
	assert_refused(t, path, img, len, "reserved word 1", "reserved header word is not 0");
	table_free(t);
	free(img);
}

static void test_snap_missing_file_and_setting_aside(void **state)
{
	(void)state;
	struct ptab *t = table();
	uint8_t key[16];
	char path[128], aside[160], err[256];

	path_of(path, sizeof(path), "none.snap");
	assert_int_equal(snap_load(t, path, T0, key, NULL, NULL, err, sizeof(err)), SNAP_NONE);

	/* Two bad files in turn: neither set-aside copy overwrites the other. */
	for (int i = 0; i < 2; i++) {
		FILE *f = fopen(path, "w");
		assert_non_null(f);
		fprintf(f, "bad %d\n", i);
		fclose(f);
		assert_int_equal(snap_set_aside(path, aside, sizeof(aside), err, sizeof(err)), 0);
		assert_non_null(strstr(aside, i == 0 ? ".corrupt" : ".corrupt.1"));
		assert_int_equal(access(path, F_OK), -1);
	}
	char first[160];
	snprintf(first, sizeof(first), "%s.corrupt", path);
	FILE *f = fopen(first, "r");
	char line[32] = "";
	assert_non_null(f);
	assert_non_null(fgets(line, sizeof(line), f));
	fclose(f);
	assert_string_equal(line, "bad 0\n");
	table_free(t);
}

static void test_snap_failed_save_leaves_the_old_file(void **state)
{
	(void)state;
	struct ptab *t = filled(T0);
	uint8_t key[16] = {0};
	char path[128], err[256];

	/* No such directory: an error naming the file, nothing written. */
	path_of(path, sizeof(path), "missing/dir.snap");
	assert_int_equal(snap_save(t, path, key, NULL, T0, NULL, NULL, NULL, err, sizeof(err)),
			 SNAP_IO);
	assert_non_null(strstr(err, "missing/dir.snap.tmp"));

	/* A full disk (/dev/full as the temporary file): the old snapshot stays. */
	path_of(path, sizeof(path), "full.snap");
	assert_int_equal(snap_save(t, path, key, NULL, T0, NULL, NULL, NULL, err, sizeof(err)),
			 SNAP_OK);
	size_t before = file_size(path);
	char tmp[160];
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	if (symlink("/dev/full", tmp) == 0) {
		assert_int_equal(
		    snap_save(t, path, key, NULL, T0 + 1, NULL, NULL, NULL, err, sizeof(err)),
		    SNAP_IO);
		assert_non_null(strstr(err, "full.snap.tmp"));
		assert_int_equal(file_size(path), before);
		struct ptab *b = table();
		assert_int_equal(snap_load(b, path, T0, key, NULL, NULL, err, sizeof(err)),
				 SNAP_OK);
		table_free(b);
		unlink(tmp);
	}
	table_free(t);
}

static int rm_dir(void)
{
	char cmd[96];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd);
}

int main(void)
{
	if (eal_test_init("snap", 256) < 0) {
		fprintf(stderr, "rte_eal_init failed\n");
		return 1;
	}
	snprintf(dir, sizeof(dir), "/tmp/dpt-snap-XXXXXX");
	if (mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_snap_crc32c_is_castagnoli),
	    cmocka_unit_test(test_snap_round_trip_keeps_every_peer_counter_and_the_key),
	    cmocka_unit_test(test_snap_save_reports_each_swarm_then_done),
	    cmocka_unit_test(test_snap_load_drops_peers_past_the_timeout),
	    cmocka_unit_test(test_snap_round_trip_keeps_the_stream_sequence),
	    cmocka_unit_test(test_snap_version_1_file_still_loads),
	    cmocka_unit_test(test_snap_header_reserved_word_set_is_refused),
	    cmocka_unit_test(test_snap_every_truncation_is_refused_and_loads_nothing),
	    cmocka_unit_test(test_snap_every_flipped_byte_is_refused_and_loads_nothing),
	    cmocka_unit_test(test_snap_missing_file_and_setting_aside),
	    cmocka_unit_test(test_snap_failed_save_leaves_the_old_file),
	};
	int failed = cmocka_run_group_tests_name("snap", tests, NULL, NULL);
	rm_dir();
	eal_test_fini();
	return failed;
}
