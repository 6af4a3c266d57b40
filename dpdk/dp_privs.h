/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * dp_privs.h - dpdk.run_as: dropping root once EAL, the ports and the HTTP
 * sockets are set up, so the serving process holds no privilege.
 *
 * dp_privs_resolve() runs before EAL (a bad user name stops dptrack before
 * it takes any device); dp_privs_drop() runs after everything that needs
 * root and before the first packet. The drop keeps nothing: no
 * supplementary group, no capability, no saved root ID.
 */
#ifndef DPTRACK_DPDK_DP_PRIVS_H
#define DPTRACK_DPDK_DP_PRIVS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct dp_privs {
	bool drop; /* false: run_as is "", or already that user */
	uid_t uid;
	gid_t gid; /* the user's primary group */
	char name[64];
};

/* Looks user up in the password database ("" = keep running as is).
 * Returns 0, or -1 with the reason in err: no such user, or dptrack is not
 * root and user is another user. */
int dp_privs_resolve(const char *user, struct dp_privs *p, char *err, size_t errlen);

/* Drops to p's user and group (setgroups, setgid, setuid; glibc applies
 * them to every thread) and checks that root cannot be regained. Does
 * nothing unless p->drop. Returns 0, or -1 with the failing call in err. */
int dp_privs_drop(const struct dp_privs *p, char *err, size_t errlen);

/*
 * Lets one group use `dptrack --status` without root: the telemetry socket
 * (under runtime_dir, EAL's directory for this --file-prefix) and that
 * directory get the group (read and connect; 0660 and 0750), and EAL's
 * top directory (0700) lets others through to it, not list it. The group
 * is dpdk.run_as's primary group, else a group named dptrack if there is
 * one, else nothing is changed. Only as root, before the drop. Returns 0,
 * or -1 with the failing call in err.
 */
int dp_privs_share_status(const struct dp_privs *p, const char *runtime_dir, char *err,
			  size_t errlen);

#endif
