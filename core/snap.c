/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * snap.c - peer-table snapshots: the file format is in snap.h.
 *
 * Reading and writing go through struct io, which keeps the running CRC of
 * the current section and the file offset (for error messages). Loading
 * walks the file twice with the same code: once to check everything, once
 * to place the swarms, so a damaged file places nothing.
 */
#define _GNU_SOURCE /* renameat2 */
#include "snap.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <libgen.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <rte_hash_crc.h>

#include "ptab.h"

static const uint8_t MAGIC[8] = {'D', 'P', 'T', 'S', 'N', 'A', 'P', 0};

#define HDR_LEN	      64
#define SEC_HDR_LEN   16
#define REC_HDR_LEN   (TR_HASH_LEN + 4 + 4 * 4)
#define SEC_KEY	      1
#define SEC_SWARMS    2
#define SEC_END	      3
#define SEC_STREAM    4
/* A swarm holds at most this many peers in a file we accept (the table's
 * own max_peers_per_swarm is at most 10^8). */
#define REC_PEERS_MAX 100000000u

uint32_t snap_crc32c(uint32_t crc, const void *p, size_t n)
{
	/* rte_hash_crc is the bare CRC32C register (SSE4.2 when the CPU has
	 * it); the standard check value needs the inversions around it. */
	crc = ~crc;
	while (n > 0) {
		uint32_t k = n > UINT32_MAX ? UINT32_MAX : (uint32_t)n;

		crc = rte_hash_crc(p, k, crc);
		p = (const uint8_t *)p + k;
		n -= k;
	}
	return ~crc;
}

static void put32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void put64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t get64(const uint8_t *p)
{
	return (uint64_t)get32(p) | (uint64_t)get32(p + 4) << 32;
}

/* ---- writing ------------------------------------------------------------ */

struct out {
	FILE *f;
	uint32_t crc; /* of the current section's payload so far */
	bool failed;
};

static void out_bytes(struct out *o, const void *p, size_t n)
{
	if (n == 0) /* p may be NULL then (an empty section or swarm) */
		return;
	if (!o->failed && fwrite(p, 1, n, o->f) != n)
		o->failed = true;
	o->crc = snap_crc32c(o->crc, p, n);
}

/* The 16-byte section header, and the CRC that closes the section. */
static void sec_header(uint8_t h[SEC_HDR_LEN], uint32_t type, uint64_t len)
{
	put32(h, type);
	put32(h + 4, 0);
	put64(h + 8, len);
}

static void out_section(struct out *o, uint32_t type, const void *p, size_t n)
{
	uint8_t h[SEC_HDR_LEN], c[4];

	sec_header(h, type, n);
	out_bytes(o, h, sizeof(h));
	o->crc = 0;
	out_bytes(o, p, n);
	put32(c, snap_crc32c(o->crc, h, sizeof(h)));
	out_bytes(o, c, sizeof(c));
}

static void header(uint8_t h[HDR_LEN], const struct snap_info *in, uint64_t body)
{
	memset(h, 0, HDR_LEN);
	memcpy(h, MAGIC, sizeof(MAGIC));
	put32(h + 8, SNAP_VERSION);
	put32(h + 12, HDR_LEN);
	put64(h + 16, in->created);
	put64(h + 24, in->swarms);
	put64(h + 32, in->peers4);
	put64(h + 40, in->peers6);
	put64(h + 48, body);
	put32(h + 60, snap_crc32c(0, h, 60));
}

/* The stream section: the name's length and bytes, then the sequence. */
static void out_stream(struct out *o, const struct snap_stream *st)
{
	uint8_t p[1 + SNAP_STREAM_NAME_MAX + 8];
	size_t n = st != NULL ? strnlen(st->name, SNAP_STREAM_NAME_MAX) : 0;

	p[0] = (uint8_t)n;
	if (n != 0)
		memcpy(p + 1, st->name, n);
	put64(p + 1 + n, st != NULL ? st->seq : 0);
	out_section(o, SEC_STREAM, p, 1 + n + 8);
}

/* Writes the swarms section; returns 0, or -1 (errno set) on failure. */
static int write_swarms(struct out *o, struct ptab *t, uint64_t now, void (*progress)(void *, bool),
			void *arg, struct snap_info *in)
{
	struct ptab_dump d = {0};
	uint8_t h[SEC_HDR_LEN], rec[REC_HDR_LEN], c[4];
	uint32_t iter = 0;
	uint64_t len = 0;
	off_t at = ftello(o->f);
	int ret;

	if (at < 0)
		return -1;
	sec_header(h, SEC_SWARMS, 0); /* the length is patched at the end */
	out_bytes(o, h, sizeof(h));
	o->crc = 0;
	while ((ret = ptab_dump_next(t, &iter, now, &d)) == 1) {
		memcpy(rec, d.info_hash, TR_HASH_LEN);
		put32(rec + TR_HASH_LEN, d.completed);
		for (int i = 0; i < 4; i++)
			put32(rec + TR_HASH_LEN + 4 + (size_t)4 * i, d.n[i]);
		out_bytes(o, rec, sizeof(rec));
		out_bytes(o, d.peers, d.len);
		len += sizeof(rec) + d.len;
		in->swarms++;
		in->peers4 += d.n[0] + d.n[1];
		in->peers6 += d.n[2] + d.n[3];
		if (progress != NULL)
			progress(arg, false);
	}
	ptab_dump_fini(&d);
	if (ret < 0) {
		errno = ENOMEM;
		return -1;
	}
	sec_header(h, SEC_SWARMS, len);
	put32(c, snap_crc32c(o->crc, h, sizeof(h)));
	out_bytes(o, c, sizeof(c));
	/* Patch the length in. */
	if (o->failed || fseeko(o->f, at, SEEK_SET) != 0 ||
	    fwrite(h, 1, sizeof(h), o->f) != sizeof(h) || fseeko(o->f, 0, SEEK_END) != 0)
		return -1;
	return 0;
}

/* fsyncs the directory holding path, so the rename is on disk. */
static int sync_dir(const char *path)
{
	char *copy = strdup(path);
	int fd, ret = -1;

	if (copy == NULL)
		return -1;
	fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0) {
		ret = fsync(fd);
		close(fd);
	}
	free(copy);
	return ret;
}

enum snap_result snap_save(struct ptab *t, const char *path, const uint8_t key[TR_CONNID_KEY_LEN],
			   const struct snap_stream *stream, uint64_t now,
			   void (*progress)(void *arg, bool done), void *arg,
			   struct snap_info *info, char *err, size_t errlen)
{
	char tmp[4096];
	uint8_t h[HDR_LEN];
	struct out o = {0};
	struct snap_info in = {.created = now};
	const char *what = "write";

	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= sizeof(tmp)) {
		snprintf(err, errlen, "snapshot path too long");
		return SNAP_IO;
	}
	o.f = fopen(tmp, "wbe");
	if (o.f == NULL) {
		snprintf(err, errlen, "%s: %s", tmp, strerror(errno));
		return SNAP_IO;
	}
	setvbuf(o.f, NULL, _IOFBF, 1 << 20);
	header(h, &in, 0); /* counts and length are patched at the end */
	out_bytes(&o, h, sizeof(h));
	out_section(&o, SEC_KEY, key, TR_CONNID_KEY_LEN);
	out_stream(&o, stream);
	if (write_swarms(&o, t, now, progress, arg, &in) != 0) {
		what = errno == ENOMEM ? "out of memory copying a swarm" : "write";
		goto fail;
	}
	if (progress != NULL)
		progress(arg, true); /* the table is not read again */
	out_section(&o, SEC_END, NULL, 0);
	off_t size = ftello(o.f);
	if (o.failed || size < 0)
		goto fail;
	header(h, &in, (uint64_t)size - HDR_LEN);
	what = "write";
	if (fseeko(o.f, 0, SEEK_SET) != 0 || fwrite(h, 1, sizeof(h), o.f) != sizeof(h) ||
	    fflush(o.f) != 0)
		goto fail;
	what = "fsync";
	if (fsync(fileno(o.f)) != 0)
		goto fail;
	what = "close";
	if (fclose(o.f) != 0) {
		o.f = NULL;
		goto fail;
	}
	o.f = NULL;
	what = "rename";
	if (rename(tmp, path) != 0)
		goto fail;
	if (sync_dir(path) != 0) {
		snprintf(err, errlen, "%s: fsync of its directory: %s", path, strerror(errno));
		return SNAP_IO; /* the file is whole; only its durability is in doubt */
	}
	in.bytes = (uint64_t)size;
	if (info != NULL)
		*info = in;
	return SNAP_OK;
fail:
	snprintf(err, errlen, "%s: %s: %s", tmp, what, errno ? strerror(errno) : "failed");
	if (o.f != NULL)
		fclose(o.f);
	unlink(tmp);
	return SNAP_IO;
}

/* ---- reading ------------------------------------------------------------ */

struct in {
	FILE *f;
	const char *path;
	uint64_t off;  /* bytes read so far */
	uint64_t size; /* of the file */
	uint32_t crc;
	char *err;
	size_t errlen;
};

/* Reads n bytes; false (err set: truncated) if the file ends first. */
static bool in_bytes(struct in *r, void *p, size_t n)
{
	if (n == 0) /* p may be NULL then */
		return true;
	if (n > r->size - r->off) {
		snprintf(r->err, r->errlen,
			 "%s: truncated: %zu bytes wanted at byte %" PRIu64
			 ", the file ends at %" PRIu64,
			 r->path, n, r->off, r->size);
		return false;
	}
	if (fread(p, 1, n, r->f) != n) {
		snprintf(r->err, r->errlen, "%s: read error at byte %" PRIu64, r->path, r->off);
		return false;
	}
	r->crc = snap_crc32c(r->crc, p, n);
	r->off += n;
	return true;
}

static bool corrupt(struct in *r, const char *what)
{
	snprintf(r->err, r->errlen, "%s: %s (at byte %" PRIu64 ")", r->path, what, r->off);
	return false;
}

/* Reads a section header of the expected type; its payload length goes to
 * *len, bounded by what the file still holds. */
static bool sec_begin(struct in *r, uint32_t type, uint64_t *len)
{
	uint8_t h[SEC_HDR_LEN];
	char what[96];

	if (!in_bytes(r, h, sizeof(h)))
		return false;
	if (get32(h) != type || get32(h + 4) != 0) {
		snprintf(what, sizeof(what), "section type %u where %u belongs", get32(h), type);
		return corrupt(r, what);
	}
	*len = get64(h + 8);
	if (*len > r->size - r->off)
		return corrupt(r, "section longer than the file");
	r->crc = 0;
	return true;
}

static bool sec_end(struct in *r, uint32_t type, uint64_t len)
{
	uint8_t h[SEC_HDR_LEN], c[4];
	uint32_t want;

	sec_header(h, type, len);
	want = snap_crc32c(r->crc, h, sizeof(h));
	if (!in_bytes(r, c, sizeof(c)))
		return false;
	if (get32(c) != want)
		return corrupt(r, "section checksum mismatch");
	return true;
}

/* The swarms section: checked (t == NULL) or placed into t. */
static bool read_swarms(struct in *r, struct ptab *t, uint64_t now, const struct snap_info *hdr,
			struct snap_info *in)
{
	struct ptab_dump d = {0};
	uint8_t rec[REC_HDR_LEN];
	uint64_t len, end;
	bool ok = false;

	if (!sec_begin(r, SEC_SWARMS, &len))
		return false;
	end = r->off + len;
	while (r->off < end) {
		if (end - r->off < REC_HDR_LEN) {
			corrupt(r, "swarm record cut short");
			goto out;
		}
		if (!in_bytes(r, rec, sizeof(rec)))
			goto out;
		memcpy(d.info_hash, rec, TR_HASH_LEN);
		d.completed = get32(rec + TR_HASH_LEN);
		uint64_t bytes = 0, n4 = 0, n6 = 0;
		for (int i = 0; i < 4; i++) {
			d.n[i] = get32(rec + TR_HASH_LEN + 4 + (size_t)4 * i);
			if (d.n[i] > REC_PEERS_MAX) {
				corrupt(r, "swarm record with an impossible peer count");
				goto out;
			}
			bytes += (uint64_t)d.n[i] * (i < 2 ? PTAB_DUMP_PEER4 : PTAB_DUMP_PEER6);
			*(i < 2 ? &n4 : &n6) += d.n[i];
		}
		if (bytes > end - r->off) {
			corrupt(r, "swarm record longer than its section");
			goto out;
		}
		if (bytes > d.cap) {
			uint8_t *p = realloc(d.peers, bytes);
			if (p == NULL) {
				corrupt(r, "out of memory for a swarm record");
				goto out;
			}
			d.peers = p;
			d.cap = bytes;
		}
		d.len = bytes;
		if (!in_bytes(r, d.peers, bytes))
			goto out;
		in->swarms++;
		in->peers4 += n4;
		in->peers6 += n6;
		if (t != NULL) {
			uint32_t loaded;
			if (ptab_restore(t, &d, now, &loaded) != PTAB_OK)
				in->refused++;
			in->loaded_peers += loaded;
		}
	}
	if (in->swarms != hdr->swarms || in->peers4 != hdr->peers4 || in->peers6 != hdr->peers6) {
		corrupt(r, "counts differ from the header's");
		goto out;
	}
	ok = sec_end(r, SEC_SWARMS, len);
out:
	ptab_dump_fini(&d);
	return ok;
}

/* The stream section of a version 2 file. */
static bool read_stream(struct in *r, struct snap_stream *st)
{
	uint8_t p[1 + SNAP_STREAM_NAME_MAX + 8];
	uint64_t len;

	if (!sec_begin(r, SEC_STREAM, &len))
		return false;
	if (len < 9 || len > sizeof(p))
		return corrupt(r, "stream section of a bad length");
	if (!in_bytes(r, p, (size_t)len) || !sec_end(r, SEC_STREAM, len))
		return false;
	if ((uint64_t)p[0] + 9 != len)
		return corrupt(r, "stream name length disagrees with its section");
	for (unsigned i = 0; i < p[0]; i++) {
		uint8_t ch = p[1 + i];

		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		      (ch >= '0' && ch <= '9') || ch == '-' || ch == '_'))
			return corrupt(r, "stream name with a character a stream cannot have");
	}
	memcpy(st->name, p + 1, p[0]);
	st->name[p[0]] = '\0';
	st->seq = get64(p + 1 + p[0]);
	return true;
}

/* One pass over the file: checks it (t == NULL) or loads it. */
static bool walk(struct in *r, struct ptab *t, uint64_t now, uint8_t key[TR_CONNID_KEY_LEN],
		 struct snap_stream *stream, struct snap_info *in)
{
	uint8_t h[HDR_LEN];
	struct snap_info hdr = {0};
	uint64_t len;
	char what[96];

	if (fseeko(r->f, 0, SEEK_SET) != 0)
		return corrupt(r, "cannot seek");
	r->off = 0;
	memset(in, 0, sizeof(*in));
	if (!in_bytes(r, h, sizeof(h)))
		return false;
	if (memcmp(h, MAGIC, sizeof(MAGIC)) != 0)
		return corrupt(r, "not a dptrack snapshot (bad magic)");
	if (get32(h + 60) != snap_crc32c(0, h, 60))
		return corrupt(r, "header checksum mismatch");
	uint32_t version = get32(h + 8);
	if (version < 1 || version > SNAP_VERSION || get32(h + 12) != HDR_LEN) {
		snprintf(what, sizeof(what), "version %u, this dptrack reads versions 1 to %u",
			 get32(h + 8), SNAP_VERSION);
		return corrupt(r, what);
	}
	if (get32(h + 56) != 0) /* covered by the CRC: set by no dptrack that wrote this version */
		return corrupt(r, "reserved header word is not 0");
	hdr.created = get64(h + 16);
	hdr.swarms = get64(h + 24);
	hdr.peers4 = get64(h + 32);
	hdr.peers6 = get64(h + 40);
	if (get64(h + 48) != r->size - HDR_LEN) {
		snprintf(what, sizeof(what),
			 "%s: the file is %" PRIu64 " bytes, its header says %" PRIu64,
			 get64(h + 48) > r->size - HDR_LEN ? "truncated" : "too long", r->size,
			 get64(h + 48) + HDR_LEN);
		return corrupt(r, what);
	}
	if (!sec_begin(r, SEC_KEY, &len))
		return false;
	if (len != TR_CONNID_KEY_LEN)
		return corrupt(r, "key section of the wrong length");
	if (!in_bytes(r, key, TR_CONNID_KEY_LEN) || !sec_end(r, SEC_KEY, len))
		return false;
	memset(stream, 0, sizeof(*stream));
	if (version >= 2 && !read_stream(r, stream))
		return false;
	if (!read_swarms(r, t, now, &hdr, in))
		return false;
	if (!sec_begin(r, SEC_END, &len))
		return false;
	if (len != 0)
		return corrupt(r, "end section not empty");
	if (!sec_end(r, SEC_END, len))
		return false;
	if (r->off != r->size)
		return corrupt(r, "bytes after the end section");
	in->created = hdr.created;
	in->bytes = r->size;
	return true;
}

enum snap_result snap_load(struct ptab *t, const char *path, uint64_t now,
			   uint8_t key[TR_CONNID_KEY_LEN], struct snap_stream *stream,
			   struct snap_info *info, char *err, size_t errlen)
{
	struct snap_stream place;
	struct in r = {.path = path, .err = err, .errlen = errlen};
	struct snap_info in;
	struct stat st;
	uint8_t k[TR_CONNID_KEY_LEN];
	enum snap_result ret = SNAP_CORRUPT;

	r.f = fopen(path, "rbe");
	if (r.f == NULL) {
		if (errno == ENOENT)
			return SNAP_NONE;
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return SNAP_IO;
	}
	if (fstat(fileno(r.f), &st) != 0 || !S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "%s: not a regular file", path);
		fclose(r.f);
		return SNAP_IO;
	}
	r.size = (uint64_t)st.st_size;
	setvbuf(r.f, NULL, _IOFBF, 1 << 20);
	if (walk(&r, NULL, now, k, &place, &in) && walk(&r, t, now, k, &place, &in)) {
		memcpy(key, k, sizeof(k));
		if (stream != NULL)
			*stream = place;
		if (info != NULL)
			*info = in;
		ret = SNAP_OK;
	}
	fclose(r.f);
	return ret;
}

int snap_set_aside(const char *path, char *aside, size_t asidelen, char *err, size_t errlen)
{
	for (int n = 0; n < 100; n++) {
		int len = n == 0 ? snprintf(aside, asidelen, "%s.corrupt", path)
				 : snprintf(aside, asidelen, "%s.corrupt.%d", path, n);

		if (len < 0 || (size_t)len >= asidelen) {
			snprintf(err, errlen, "%s: path too long to set aside", path);
			return -1;
		}
		/* RENAME_NOREPLACE: an earlier bad file is never overwritten. */
		if (renameat2(AT_FDCWD, path, AT_FDCWD, aside, RENAME_NOREPLACE) == 0)
			return 0;
		if (errno == EEXIST)
			continue;
		snprintf(err, errlen, "rename %s to %s: %s", path, aside, strerror(errno));
		return -1;
	}
	snprintf(err, errlen, "%s.corrupt through .corrupt.99 all exist", path);
	return -1;
}
