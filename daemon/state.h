/* SPDX-License-Identifier: MIT */
/* Copyright (C) 2026 The mpcd authors. */
#ifndef MPC_STATE_H
#define MPC_STATE_H

/*
 * What the daemon must remember across restarts, in DataDir: the newest
 * handshake timestamp accepted from each peer (docs/wire.md: a message 1
 * not newer than it is refused), so a captured message 1 cannot be
 * replayed to a restarted responder. One file per peer,
 * DataDir/handshakes/NAME, 16 hex digits and a newline, replaced
 * atomically and fsync'd (file and directory) before the handshake is
 * answered.
 */
#include <stdint.h>

#include "err.h"
#include "server.h"

/* At start: every peer's last_ts from its file (none: 0). */
int state_load(struct server *s) MPC_MUST_CHECK;

/* One peer's (a peer a reload added); p->srv and p->cfg set. */
int state_load_peer(struct peer *p) MPC_MUST_CHECK;

/* Record ts as p's newest accepted timestamp; p->last_ts set only on success. */
int state_save_ts(struct peer *p, uint64_t ts) MPC_MUST_CHECK;

#endif
