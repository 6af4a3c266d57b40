/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * dp_privs.c - dpdk.run_as: the user lookup before EAL and the privilege
 * drop after setup. What keeps working after the drop is in
 * config/dptrack.yaml (dpdk.run_as) and the README.
 */
#define _GNU_SOURCE /* getresuid, getresgid */
#include "dp_privs.h"

#include <errno.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int dp_privs_resolve(const char *user, struct dp_privs *p, char *err, size_t errlen)
{
	struct passwd pw, *res = NULL;
	char buf[4096];
	int rc;

	memset(p, 0, sizeof(*p));
	if (user[0] == '\0')
		return 0;
	rc = getpwnam_r(user, &pw, buf, sizeof(buf), &res);
	if (res == NULL) {
		snprintf(err, errlen, "dpdk.run_as: no user '%s'%s%s", user, rc != 0 ? ": " : "",
			 rc != 0 ? strerror(rc) : "");
		return -1;
	}
	if (strlen(user) >= sizeof(p->name)) {
		snprintf(err, errlen, "dpdk.run_as: user name longer than %zu bytes",
			 sizeof(p->name) - 1);
		return -1;
	}
	snprintf(p->name, sizeof(p->name), "%s", user);
	p->uid = pw.pw_uid;
	p->gid = pw.pw_gid;
	if (geteuid() == p->uid && getuid() == p->uid && getegid() == p->gid && getgid() == p->gid)
		return 0; /* already that user: nothing to drop */
	if (geteuid() != 0) {
		snprintf(err, errlen,
			 "dpdk.run_as: switching to '%s' needs dptrack started as root", user);
		return -1;
	}
	p->drop = true;
	return 0;
}

int dp_privs_drop(const struct dp_privs *p, char *err, size_t errlen)
{
	uid_t ru, eu, su;
	gid_t rg, eg, sg;

	if (!p->drop)
		return 0;
	if (setgroups(0, NULL) != 0) {
		snprintf(err, errlen, "dpdk.run_as: setgroups: %s", strerror(errno));
		return -1;
	}
	if (setgid(p->gid) != 0) {
		snprintf(err, errlen, "dpdk.run_as: setgid(%u): %s", (unsigned)p->gid,
			 strerror(errno));
		return -1;
	}
	if (setuid(p->uid) != 0) {
		snprintf(err, errlen, "dpdk.run_as: setuid(%u): %s", (unsigned)p->uid,
			 strerror(errno));
		return -1;
	}
	if (getresuid(&ru, &eu, &su) != 0 || getresgid(&rg, &eg, &sg) != 0 || ru != p->uid ||
	    eu != p->uid || su != p->uid || rg != p->gid || eg != p->gid || sg != p->gid ||
	    getgroups(0, NULL) != 0) {
		snprintf(err, errlen, "dpdk.run_as: IDs not all %s's after the drop", p->name);
		return -1;
	}
	if (p->uid != 0 && (setuid(0) == 0 || seteuid(0) == 0)) {
		snprintf(err, errlen, "dpdk.run_as: root could be regained after the drop");
		return -1;
	}
	return 0;
}

/* The group `dptrack status` users are let in by: run_as's primary group,
 * else a group named dptrack, else none (-1). */
static gid_t status_group(const struct dp_privs *p)
{
	struct group gr, *res = NULL;
	char buf[4096];

	if (p->drop)
		return p->gid;
	if (getgrnam_r("dptrack", &gr, buf, sizeof(buf), &res) == 0 && res != NULL)
		return gr.gr_gid;
	return (gid_t)-1;
}

int dp_privs_share_status(const struct dp_privs *p, const char *runtime_dir, char *err,
			  size_t errlen)
{
	char path[PATH_MAX], parent[PATH_MAX];
	gid_t g = status_group(p);
	struct stat st;

	if (g == (gid_t)-1 || geteuid() != 0)
		return 0;
	/* /var/run/dpdk (EAL makes it 0700) must let the group through to our
	 * own directory; others may pass, not list, and stop there. */
	snprintf(parent, sizeof(parent), "%s", runtime_dir);
	char *slash = strrchr(parent, '/');
	if (slash != NULL && slash != parent) {
		*slash = '\0';
		if (stat(parent, &st) == 0 && (st.st_mode & 0011) != 0011 &&
		    chmod(parent, (st.st_mode & 07777) | 0011) != 0) {
			snprintf(err, errlen, "chmod %s: %s", parent, strerror(errno));
			return -1;
		}
	}
	snprintf(path, sizeof(path), "%s/dpdk_telemetry.v2", runtime_dir);
	if (chown(runtime_dir, (uid_t)-1, g) != 0 || chmod(runtime_dir, 0750) != 0 ||
	    chown(path, (uid_t)-1, g) != 0 || chmod(path, 0660) != 0) {
		snprintf(err, errlen, "letting group %u read %s: %s", (unsigned)g, path,
			 strerror(errno));
		return -1;
	}
	return 0;
}
