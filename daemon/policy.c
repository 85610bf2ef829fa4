/* SPDX-License-Identifier: MIT */
/* Copyright (C) 2026 The mpcd authors. */
#include "policy.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#define SHOWN_MAX 40	/* bytes of a name quoted in a refusal */

/* A name from a proposal, printable and short, for a one-line reason. */
static const char *shown(char dst[static SHOWN_MAX + 4], const char *s)
{
	size_t i;

	for (i = 0; s[i] && i < SHOWN_MAX; i++)
		dst[i] = (unsigned char)s[i] < 0x20 || (unsigned char)s[i] >= 0x7f ? '?' : s[i];
	strcpy(dst + i, s[i] ? "..." : "");
	return dst;
}

static int refuse(char *why, size_t whylen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int refuse(char *why, size_t whylen, const char *fmt, ...)
{
	char line[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (whylen)
		snprintf(why, whylen, "%s", line);
	return mpc_fail(MPC_E_POLICY, "%s", line);
}

static bool listed(const struct cfg_names *l, const char *name)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		if (!strcmp(l->v[i], name))
			return true;
	return false;
}

static int check_parties(const struct cfg *c, const struct policy_req *r, char *why,
			 size_t whylen)
{
	bool self = false;
	char q[SHOWN_MAX + 4];
	size_t i, j;

	if (r->n_parties < 2)
		return refuse(why, whylen, "a job needs at least 2 compute parties, not %zu",
			      r->n_parties);
	for (i = 0; i < r->n_parties; i++) {
		const char *p = r->parties[i];
		const struct cfg_peer *peer = cfg_peer_by_name(c, p);
		bool me = !strcmp(p, c->node.name);

		if (!me && !peer)
			return refuse(why, whylen, "party '%s' is not a configured peer",
				      shown(q, p));
		if (me ? c->node.role == CFG_ROLE_DEALER : peer->role == CFG_ROLE_DEALER)
			return refuse(why, whylen, "party '%s' is a dealer, not a compute party",
				      shown(q, p));
		for (j = 0; j < i; j++)
			if (!strcmp(r->parties[j], p))
				return refuse(why, whylen, "party '%s' is listed twice",
					      shown(q, p));
		self |= me;
	}
	/* Input owners are compute parties: data leaves here only as shares. */
	if ((r->n_datasets || r->model) && !self)
		return refuse(why, whylen,
			      "'%s' would contribute data but is not a compute party of the job",
			      c->node.name);
	return 0;
}

int policy_check(const struct cfg *c, const struct policy_req *r, enum cfg_approve *mode,
		 char *why, size_t whylen)
{
	const struct cfg_peer *peer;
	char q[SHOWN_MAX + 4];
	bool local;
	size_t i;
	int ret;

	MPC_CHECK(c && r && r->proposer && mode && (why || !whylen));
	*mode = CFG_APPROVE_MANUAL;
	if (whylen)
		why[0] = '\0';
	local = !strcmp(r->proposer, c->node.name);
	if (!local) {
		if (!(peer = cfg_peer_by_name(c, r->proposer)))
			return refuse(why, whylen, "proposer '%s' is not a configured peer",
				      shown(q, r->proposer));
		if (!listed(&c->policy.allow_peers, peer->name))
			return refuse(why, whylen, "peer '%s' may not propose jobs (AllowPeers)",
				      peer->name);
	}
	for (i = 0; i < r->n_datasets; i++)
		if (!cfg_dataset_by_name(c, r->datasets[i]))
			return refuse(why, whylen, "dataset '%s' is not configured here",
				      shown(q, r->datasets[i]));
	if (r->model && !cfg_model_by_name(c, r->model))
		return refuse(why, whylen, "model '%s' is not configured here",
			      shown(q, r->model));
	if ((ret = check_parties(c, r, why, whylen)) != 0)
		return ret;
	for (i = 0; c->node.role == CFG_ROLE_COMPUTE && i < r->n_recipients; i++)
		if (!listed(&c->policy.allow_recipients, r->recipients[i]))
			return refuse(why, whylen, "recipient '%s' is not in AllowRecipients",
				      shown(q, r->recipients[i]));
	if (r->graph_hash && *r->graph_hash &&
	    (ret = policy_check_model(c, r->n_datasets, r->graph_hash, why, whylen)) != 0)
		return ret;
	*mode = local ? CFG_APPROVE_AUTO : c->policy.approve;
	return 0;
}

int policy_check_model(const struct cfg *c, size_t n_datasets, const char *graph_hash,
		       char *why, size_t whylen)
{
	const struct cfg_hashes *h = &c->policy.allow_models;
	char q[SHOWN_MAX + 4];

	MPC_CHECK(c && graph_hash && (why || !whylen));
	if (h->any || !n_datasets)
		return 0;
	for (size_t i = 0; i < h->n; i++)
		if (!strcmp(h->v[i], graph_hash))
			return 0;
	return refuse(why, whylen, "model hash %.8s... is not in AllowModels",
		      shown(q, graph_hash));
}
