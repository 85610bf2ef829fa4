/* SPDX-License-Identifier: MIT */
/* Copyright (C) 2026 The mpcd authors. */
#ifndef MPC_NODE_CHECK_H
#define MPC_NODE_CHECK_H

/*
 * What `mpcd --check` and start-up check beyond the config's syntax: the
 * keys against each other, and the directories the node needs. Each
 * error is one line naming the file, the section or the path.
 */
#include <stdint.h>
#include <sys/types.h>

#include "cfg.h"
#include "err.h"

/*
 * A peer's PublicKey that is this node's own public key, or its private
 * key (pasted by mistake): MPC_E_ARG, "FILE:LINE: [Peer] NAME: PublicKey
 * is this node's own ...".
 */
int node_check_keys(const struct cfg *c, const uint8_t priv[static CFG_KEYBYTES],
		    const uint8_t pub[static CFG_KEYBYTES]) MPC_MUST_CHECK;
/*
 * `what` (DataDir, "ControlSocket's directory") at path exists as a
 * directory, or can be made: its nearest existing ancestor is a directory
 * this process may write. Makes nothing. MPC_E_IO naming both.
 */
int node_check_dir(const char *what, const char *path) MPC_MUST_CHECK;
/* The directory a file path is in ("." for a bare name). */
void node_dir_of(const char *path, char *dir, size_t len);
/* mkdir -p: missing parents 0755, path itself `mode`; an existing one is kept. */
int node_make_dir(const char *what, const char *path, mode_t mode) MPC_MUST_CHECK;

#endif
