/* SPDX-License-Identifier: MIT */
/* Copyright (C) 2026 The mpcd authors. */
#ifndef MPC_RELOAD_H
#define MPC_RELOAD_H

/*
 * SIGHUP (`systemctl reload`): the configuration file is read again and
 * its [Peer], [Dataset], [Model] and [Policy] sections replace the ones in
 * force, without dropping a running job or a link whose peer did not
 * change (docs/daemon.md, "Reload"). A file with an error, or one that
 * changes [Node] (which takes a restart), is refused with one line in the
 * log and the old configuration stays in force.
 */
#include "server.h"

/* SIGHUP seen: apply now, or at the next cron once no job reads its files. */
void reload_request(struct server *s);
/* Cron: a reload waiting for reads to end. */
void reload_cron(struct server *s);

#endif
