/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * dp_acl.c - tracker.access_list in the dptrack process: the list loaded at
 * start, and the lists a reload (dp_reload.c) puts in force after.
 *
 * A new list is published with one atomic store into app->tr.acl (readers
 * load it once per request), and the old one is freed once every RCU reader
 * of the peer table (the lcores, the HTTP threads) has reported a quiescent
 * state since: a grace-period token (ptab_grace_start) polled from later
 * control ticks, so the control thread never waits on readers (with one
 * lcore it is itself one). At most one list is retired at a time: a reload
 * waits until the last one is freed (dp_acl_busy). The peer table is not
 * touched.
 */
#include <inttypes.h>
#include <stdio.h>

#include <rte_log.h>

#include "core/acl.h"
#include "core/limits.h"
#include "core/ptab.h"
#include "dp_app.h"

_Static_assert((int)CFG_ACL_OFF == (int)ACL_OFF && (int)CFG_ACL_ALLOW == (int)ACL_ALLOW &&
		   (int)CFG_ACL_DENY == (int)ACL_DENY,
	       "config and core number the access list modes alike");

int dp_acl_load(struct dp_app *app, const struct cfg *cfg, FILE *report, char *err, size_t errlen)
{
	const char *path = cfg->tracker.access_list_path;
	enum acl_mode mode = (enum acl_mode)cfg->tracker.access_list_mode;
	struct acl *a;

	if (mode == ACL_OFF)
		return 0;
	a = acl_load(path, mode, ACL_MAX_ENTRIES, err, errlen);
	if (a == NULL)
		return -1;
	app->tr.acl = a;
	app->acl.hashes = acl_count(a);
	if (report != NULL)
		fprintf(report, "dptrack: access list %s: %zu hashes (%s)\n", path, acl_count(a),
			acl_mode_name(mode));
	return 0;
}

bool dp_acl_busy(const struct dp_app *app)
{
	return app->acl.retired != NULL;
}

void dp_acl_replace(struct dp_app *app, struct acl *list)
{
	struct dp_acl_state *a = &app->acl;
	struct acl *old = app->tr.acl; /* only this thread writes it */

	__atomic_store_n(&app->tr.acl, list, __ATOMIC_RELEASE);
	a->retired = old; /* NULL before: dp_acl_busy said so */
	a->retired_token = ptab_grace_start(app->ptab);
	a->reloads++;
	__atomic_store_n(&a->hashes, list != NULL ? acl_count(list) : 0, __ATOMIC_RELAXED);
}

void dp_acl_tick(struct dp_app *app)
{
	struct dp_acl_state *a = &app->acl;

	if (a->retired != NULL && ptab_grace_done(app->ptab, a->retired_token)) {
		acl_free(a->retired);
		a->retired = NULL;
	}
}

void dp_acl_fini(struct dp_app *app)
{
	struct dp_acl_state *a = &app->acl;

	acl_free(a->retired);
	a->retired = NULL;
	acl_free(app->tr.acl);
	app->tr.acl = NULL;
}
