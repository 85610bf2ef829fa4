/* SPDX-License-Identifier: MIT */
/* Copyright (C) 2026 The mpcd authors. */
/*
 * Reloading the configuration on the loop thread. What other threads read
 * of it stays put: the struct cfg object itself (job threads read its
 * [Node] values, which a reload may not change), and each peer's own copy
 * of its [Peer] section (replaced under peer->mu). The sections a reload
 * replaces (peers, datasets, models, policy) are swapped into that object
 * only while no job reads its files on a worker (job_contrib.c looks its
 * model and datasets up there): a SIGHUP during a read waits for the
 * cron. Peers keep their slots, so jobs and the pre-authentication table
 * can point at them: a removed peer is marked so, a new one takes a free
 * slot (SRV_RELOAD_PEERS beyond those configured at start).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "files_check.h"
#include "job.h"
#include "log.h"
#include "reload.h"
#include "state.h"

static int str_eq(const char *a, const char *b)
{
	return !strcmp(a ? a : "", b ? b : "");
}

static int ep_eq(const struct cfg_endpoint *a, const struct cfg_endpoint *b)
{
	return a->set == b->set && (!a->set || (a->port == b->port && !strcmp(a->host, b->host)));
}

/* The first [Node] key that differs, or NULL: [Node] takes a restart. */
static const char *node_change(const struct cfg_node *a, const struct cfg_node *b)
{
	if (strcmp(a->name, b->name))
		return "Name";
	if (!str_eq(a->private_key_file, b->private_key_file))
		return "PrivateKeyFile";
	if (!ep_eq(&a->listen, &b->listen))
		return "Listen";
	if (!str_eq(a->control_socket, b->control_socket))
		return "ControlSocket";
	if (!str_eq(a->data_dir, b->data_dir))
		return "DataDir";
	if (!str_eq(a->audit_log, b->audit_log))
		return "AuditLog";
	if (a->role != b->role)
		return "Role";
	if (a->cipher != b->cipher)
		return "Cipher";
	if (a->max_frame != b->max_frame || a->max_jobs != b->max_jobs ||
	    a->job_history != b->job_history || a->job_memory != b->job_memory ||
	    a->threads != b->threads || a->handshake_timeout != b->handshake_timeout ||
	    a->idle_timeout != b->idle_timeout || a->rekey_after != b->rekey_after ||
	    a->result_retention != b->result_retention)
		return "a limit (MaxFrame, MaxJobs, JobHistory, JobMemory, Threads, a timeout, "
		       "RekeyAfter or ResultRetention)";
	return NULL;
}

/* A peer slot by name, removed ones too (a peer configured again takes its old slot). */
static struct peer *slot_by_name(struct server *s, const char *name)
{
	for (size_t i = 0; i < s->n_peers; i++)
		if (!strcmp(s->peers[i].cfg->name, name))
			return &s->peers[i];
	return NULL;
}

static void set_cfg(struct peer *p, const struct cfg_peer *np)
{
	pthread_mutex_lock(&p->mu);
	p->cfgv = *np;
	pthread_mutex_unlock(&p->mu);
}

struct counts {
	unsigned added, changed, removed;
};

/* The new [Peer] sections into the slots; links of changed and removed peers close. */
static int apply_peers(struct server *s, const struct cfg *nc, struct counts *n)
{
	size_t fresh = 0;

	for (size_t i = 0; i < nc->n_peers; i++)
		fresh += !slot_by_name(s, nc->peers[i].name);
	if (s->n_peers + fresh > s->peers_cap)
		return mpc_fail(MPC_E_TOOBIG, "%zu new peers, room for %zu more since the start: "
				"restart mpcd", fresh, s->peers_cap - s->n_peers);
	for (size_t i = 0; i < s->n_peers; i++) {
		struct peer *p = &s->peers[i];
		const struct cfg_peer *np = cfg_peer_by_name(nc, p->cfg->name);
		char why[96];

		if (!np && !p->removed) {
			struct cfg_peer gone = p->cfgv;

			gone.endpoint.set = false; /* never dialled again */
			set_cfg(p, &gone);
			p->removed = 1;
			snprintf(why, sizeof(why), "%s was removed from the configuration", gone.name);
			link_drop(p, why);
			n->removed++;
		} else if (np && p->removed) {
			set_cfg(p, np);
			p->removed = 0;
			link_drop(p, "configured again");
			n->added++;
		} else if (np && (memcmp(np->pub, p->cfg->pub, CFG_KEYBYTES) ||
				  !ep_eq(&np->endpoint, &p->cfg->endpoint) || np->role != p->cfg->role)) {
			/* New key, address or role: this link only is dropped and redialled. */
			set_cfg(p, np);
			snprintf(why, sizeof(why), "the configuration of %s changed", np->name);
			link_drop(p, why);
			n->changed++;
		} else if (np) {
			set_cfg(p, np); /* the same peer, maybe on another line */
		}
	}
	for (size_t i = 0; i < nc->n_peers; i++) {
		struct peer *p;
		int ret;

		if (slot_by_name(s, nc->peers[i].name))
			continue;
		p = &s->peers[s->n_peers];
		memset(p, 0, sizeof(*p));
		p->srv = s;
		p->cfgv = nc->peers[i];
		p->cfg = &p->cfgv;
		p->since = time(NULL);
		p->backoff = 1;
		p->next_dial = srv_now(s);
		pthread_mutex_init(&p->mu, NULL);
		if ((ret = state_load_peer(p)) != 0)
			log_err("reload: peer %s: %s", p->cfg->name, mpc_errmsg(ret));
		s->n_peers++;
		n->added++;
	}
	return 0;
}

static void report_file(void *arg, const char *line)
{
	(void)arg;
	log_err("reload: %s", line);
}

#define SWAP(a, b)                      \
	do {                            \
		__typeof__(a) t_ = (a); \
		(a) = (b);              \
		(b) = t_;               \
	} while (0)

static void apply(struct server *s)
{
	struct cfg *nc = NULL;
	struct counts n = { 0 };
	const char *what;
	int ret;

	s->reload_pending = 0;
	if ((ret = cfg_load(s->cfg->path, &nc)) != 0) {
		log_err("reload refused: %s; the old configuration stays in force", mpc_errmsg(ret));
		return;
	}
	if ((what = node_change(&s->cfg->node, &nc->node)) != NULL) {
		log_err("reload refused: %s: [Node] %s changed, which takes a restart; the old "
			"configuration stays in force", s->cfg->path, what);
		cfg_free(nc);
		return;
	}
	if ((ret = apply_peers(s, nc, &n)) != 0) {
		log_err("reload refused: %s: %s; the old configuration stays in force", s->cfg->path,
			mpc_errmsg(ret));
		cfg_free(nc);
		return;
	}
	/* The sections a reload replaces; nc takes the old ones away. */
	SWAP(s->cfg->peers, nc->peers);
	SWAP(s->cfg->n_peers, nc->n_peers);
	SWAP(s->cfg->datasets, nc->datasets);
	SWAP(s->cfg->n_datasets, nc->n_datasets);
	SWAP(s->cfg->models, nc->models);
	SWAP(s->cfg->n_models, nc->n_models);
	SWAP(s->cfg->policy, nc->policy);
	cfg_free(nc);
	(void)files_check(s->cfg, 0, report_file, NULL);
	log_info("reloaded %s: %zu peers (%u added, %u changed, %u removed), %zu datasets, "
		 "%zu models", s->cfg->path, s->cfg->n_peers, n.added, n.changed, n.removed,
		 s->cfg->n_datasets, s->cfg->n_models);
}

static int reading(const struct server *s)
{
	for (const struct job *j = s->jobs; j; j = j->next)
		if (j->loading)
			return 1;
	return 0;
}

void reload_request(struct server *s)
{
	s->reload_pending = 1;
	if (reading(s)) {
		log_info("reload: waiting for a job's read to end");
		return;
	}
	apply(s);
}

void reload_cron(struct server *s)
{
	if (s->reload_pending && !reading(s))
		apply(s);
}
