/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * cfg_file.c - finds and reads the config file: the path given, else the
 * first of ./dptrack.yaml, ~/.config/dptrack/dptrack.yaml and
 * /etc/dptrack/dptrack.yaml that exists, and hands it to the loader
 * (cfg_load_layers in cfg.c).
 *
 * Bounds: a file is read whole up to CFG_FILE_MAX bytes.
 */
#include "cfg.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cfg_load.h"

#define CFG_FILE_MAX (1u << 20) /* a config is a few KiB; refuse files over 1 MiB */

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
			rc = cfg_load_layers(c, cand[i], buf, len, envp, err, errlen);
			free(buf);
			return rc;
		}
	}
	return cfg_load_layers(c, NULL, NULL, 0, envp, err, errlen);
}
