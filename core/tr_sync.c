/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * tr_sync.c - records from a cluster's stream into the table: the receiving
 * end of tr_publish (tr_internal.h). The sync thread (cluster/) decodes
 * batches and calls tr_sync_apply for each record; this file decides what
 * the table makes of it, with the same calls an announce makes.
 */
#include "tracker.h"

#include "ptab.h"
#include "sync.h"
#include "tr_internal.h"
#include "udp_msg.h"

enum tr_sync_result tr_sync_apply(const struct tracker *tr, const struct sync_rec *r, bool own,
				  uint64_t now)
{
	bool completed = (r->flags & SYNC_F_COMPLETED) != 0;

	if (tr_refused(tr, r->info_hash))
		return TR_SYNC_REFUSED_ACL;
	/* Every instance counts a completion when its record comes through the
	 * stream, the origin too: the stream's order makes each count once. */
	if (completed && ptab_completed_add(tr->ptab, r->info_hash) != PTAB_OK)
		return TR_SYNC_REFUSED;
	if (own)
		return TR_SYNC_APPLIED;

	uint64_t at = r->ms / 1000;
	if (at > now)
		at = now; /* the origin's clock runs ahead: fresh, not from the future */
	if (at + TR_P(tr, peer_timeout) <= now)
		return TR_SYNC_STALE;

	struct ptab_announce pa = {
	    .info_hash = r->info_hash,
	    .peer = r->peer,
	    .event = (r->flags & SYNC_F_STOPPED) ? UDP_MSG_EV_STOPPED : UDP_MSG_EV_NONE,
	    .seeder = (r->flags & SYNC_F_SEEDER) != 0,
	    .if_newer = true,
	};
	struct ptab_result res;

	/* Stamped with the record's time: it expires here when it does there. */
	if (ptab_announce(tr->ptab, &pa, at, NULL, NULL, &res) != PTAB_OK)
		return TR_SYNC_REFUSED;
	return TR_SYNC_APPLIED;
}
