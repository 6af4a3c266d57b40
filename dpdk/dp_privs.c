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
#include <pwd.h>
#include <stdio.h>
#include <string.h>
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
