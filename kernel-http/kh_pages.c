/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * kh_pages.c - the pages a tracker shows a browser: index, DMCA notice,
 * robots.txt, and the operator's live dashboard. Each comes from
 * http.static_dir if the file is there (read at start and on a reload, at
 * most KH_PAGE_MAX bytes), else from the built-in text.
 */
#include "kh_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "kh_dashboard_html.h" /* dashboard_html[], from kernel-http/dashboard.html */

static const char index_html[] =
    "<!doctype html>\n"
    "<html lang=\"en\"><head><meta charset=\"utf-8\"><title>dptrack</title></head>\n"
    "<body>\n"
    "<h1>dptrack</h1>\n"
    "<p>This is a BitTorrent tracker. It keeps no files, only the addresses of peers\n"
    "that share a torrent, and forgets them when they stop announcing.</p>\n"
    "<p>Announce over UDP (BEP 15) or HTTP (BEP 3) at <code>/announce</code> on this\n"
    "host; scrape at <code>/scrape</code>.</p>\n"
    "<p><a href=\"/dmca.html\">Copyright notices</a></p>\n"
    "</body></html>\n";

static const char dmca_html[] =
    "<!doctype html>\n"
    "<html lang=\"en\"><head><meta charset=\"utf-8\"><title>dptrack: copyright</title></head>\n"
    "<body>\n"
    "<h1>Copyright notices</h1>\n"
    "<p>This tracker hosts no content and keeps no torrent files or names: it holds\n"
    "only SHA-1 info hashes and the addresses of peers that announced them. The\n"
    "operator of this tracker can refuse info hashes through its access list; send\n"
    "notices to the operator of this host.</p>\n"
    "</body></html>\n";

static const char robots_txt[] = "User-agent: *\nDisallow: /announce\nDisallow: /scrape\n";

static const struct {
	const char *file;
	const char *builtin;
	size_t len;
	const char *content_type;
} page_def[KH_PAGE_N] = {
    [KH_PAGE_INDEX] = {"index.html", index_html, sizeof(index_html) - 1,
		       "text/html; charset=utf-8"},
    [KH_PAGE_DMCA] = {"dmca.html", dmca_html, sizeof(dmca_html) - 1, "text/html; charset=utf-8"},
    [KH_PAGE_ROBOTS] = {"robots.txt", robots_txt, sizeof(robots_txt) - 1,
			"text/plain; charset=utf-8"},
    [KH_PAGE_DASHBOARD] = {"dashboard.html", dashboard_html, sizeof(dashboard_html) - 1,
			   "text/html; charset=utf-8"},
};

/* Reads dir/name whole. Returns 1 and the bytes, 0 if there is no such
 * file, -1 with why in err. */
static int read_page(const char *dir, const char *name, char **body, size_t *len, char *err,
		     size_t errlen)
{
	char path[4096 + 32];
	struct stat st;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "rb");
	if (f == NULL) {
		if (errno == ENOENT)
			return 0;
		snprintf(err, errlen, "http.static_dir: %s: %s", path, strerror(errno));
		return -1;
	}
	if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode) || st.st_size > KH_PAGE_MAX) {
		snprintf(err, errlen, "http.static_dir: %s: not a regular file of at most %u bytes",
			 path, KH_PAGE_MAX);
		fclose(f);
		return -1;
	}
	*body = malloc((size_t)st.st_size + 1);
	*len = *body ? fread(*body, 1, (size_t)st.st_size, f) : 0;
	if (*body == NULL || ferror(f)) {
		snprintf(err, errlen, "http.static_dir: %s: cannot read", path);
		free(*body);
		fclose(f);
		return -1;
	}
	fclose(f);
	return 1;
}

int kh_pages_load(struct kh_page_data pages[KH_PAGE_N], const char *dir, char *err, size_t errlen)
{
	struct stat st;

	if (dir != NULL && dir[0] != '\0' && (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode))) {
		snprintf(err, errlen, "http.static_dir: %s: not a directory", dir);
		return -1;
	}
	for (unsigned i = 0; i < KH_PAGE_N; i++) {
		struct kh_page_data *d = &pages[i];
		char *body = NULL;
		size_t len = 0;
		int r = dir != NULL && dir[0] != '\0'
			    ? read_page(dir, page_def[i].file, &body, &len, err, errlen)
			    : 0;

		if (r < 0) {
			kh_pages_free(pages);
			return -1;
		}
		d->content_type = page_def[i].content_type;
		d->owned = r == 1;
		d->body = r == 1 ? body : page_def[i].builtin;
		d->len = r == 1 ? len : page_def[i].len;
	}
	return 0;
}

void kh_pages_free(struct kh_page_data pages[KH_PAGE_N])
{
	for (unsigned i = 0; i < KH_PAGE_N; i++) {
		if (pages[i].owned)
			free((char *)pages[i].body);
		pages[i] = (struct kh_page_data){0};
	}
}
