/* SPDX-License-Identifier: MIT */
/* Copyright (C) 2026 The mpcd authors. */
#ifndef MPC_POLICY_H
#define MPC_POLICY_H

/*
 * A peer may propose a job, never impose one (DESIGN.md section 2): before
 * this node contributes anything, the proposal is checked against its own
 * [Policy], [Peer], [Dataset] and [Model] sections.
 */
#include <stddef.h>

#include "cfg.h"
#include "err.h"

/*
 * A proposal as it concerns this node. Every name is a node, dataset or
 * model name as the job spec gives it (possibly from a hostile peer: the
 * check quotes them only after making them printable). Arrays may be NULL
 * when their count is 0.
 */
struct policy_req {
	/* The authenticated peer that sent the proposal, or this node's own
	 * name when its operator submitted the job locally. */
	const char *proposer;
	/* This node's [Dataset] names the job asks it to contribute. */
	const char *const *datasets;
	size_t n_datasets;
	/* This node's [Model] name it asks it to contribute; NULL: none. */
	const char *model;
	/* Nodes that would receive the revealed outputs. */
	const char *const *recipients;
	size_t n_recipients;
	/* The compute parties, this node among them if it holds shares. */
	const char *const *parties;
	size_t n_parties;
	/* The job's public graph hash (64 hex digits); NULL or "" while not
	 * known yet (then policy_check_model runs once it is). */
	const char *graph_hash;
};

/*
 * Check a proposal. Returns 0 and sets *mode to how the job is approved
 * here: the [Policy] Approve setting for a peer's proposal, and
 * CFG_APPROVE_AUTO for a local one (its operator's submit is the approval).
 * Otherwise returns MPC_E_POLICY with one line in why (when whylen > 0)
 * and in mpc_errmsg(), such as
 *	peer 'beta' may not propose jobs (AllowPeers)
 *	party 'delta' is not a configured peer
 *	dataset 'scans' is not configured here
 *	recipient 'gamma' is not in AllowRecipients
 * and *mode is CFG_APPROVE_MANUAL. Checked, in order: the proposer (a
 * local operator may always propose), the datasets, the model, the parties
 * (known compute nodes, no repeats, at least 2, and this node among them if
 * it contributes), the recipients, the model's hash (AllowModels). On a dealer node the recipients are not
 * checked: it contributes no data and never sees an output.
 */
int policy_check(const struct cfg *c, const struct policy_req *r, enum cfg_approve *mode,
		 char *why, size_t whylen) MPC_MUST_CHECK;

/*
 * [Policy] AllowModels for a job that would read n_datasets of this
 * node's datasets with the model whose public graph hash is graph_hash:
 * 0 when AllowModels = any, n_datasets is 0 or the hash is listed; else
 * MPC_E_POLICY with "model hash 1234abcd... is not in AllowModels" (the
 * first 8 digits) in why. policy_check runs it last when r->graph_hash
 * is set.
 */
int policy_check_model(const struct cfg *c, size_t n_datasets, const char *graph_hash,
		       char *why, size_t whylen) MPC_MUST_CHECK;

#endif
