/* SPDX-License-Identifier: MIT */
/* Copyright (C) 2026 The mpcd authors. */
/*
 * What the operator and the clock do to jobs: approve, cancel, status,
 * approval expiry, jobs that never start, and the bounded history.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "job.h"
#include "log.h"

/*
 * Ended jobs kept for `mpcctl status`/`result`: the newest JobHistory,
 * none older than ResultRetention, which also removes its result file.
 */

static void prune_history(struct server *s, time_t now)
{
	struct job **pp = &s->jobs;
	size_t ended = 0;

	while (*pp) {
		struct job *j = *pp;
		int done = (j->state == JOB_FINISHED || j->state == JOB_ABORTED) &&
			   !j->thread_started && !j->loading;
		int expired = done && now - j->updated >= (time_t)s->cfg->node.result_retention;

		if (expired || (done && ++ended > s->cfg->node.job_history)) {
			if (expired) {
				log_info("job %.8s: expired (ResultRetention)", j->id);
				job__drop_result(j);
			}
			/* The record goes with the job, and with its result. */
			job__record_drop(j);
			*pp = j->next;
			job__free(j);
			continue;
		}
		pp = &j->next;
	}
}

/*
 * Files in DataDir/SUB older than ResultRetention, whether a job still
 * names them or not: result files and records of jobs whose record was
 * corrupt, and temporary files a crash left behind.
 */
static void sweep_dir(struct server *s, const char *sub, time_t now)
{
	char dir[4096], path[4400];
	struct dirent *e;
	struct stat st;
	size_t n = 0;
	DIR *d;

	snprintf(dir, sizeof(dir), "%s/%s", s->cfg->node.data_dir, sub);
	if (!(d = opendir(dir)))
		return;
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		if (lstat(path, &st) != 0 || !S_ISREG(st.st_mode) ||
		    now - st.st_mtime < (time_t)s->cfg->node.result_retention)
			continue;
		if (unlink(path) == 0)
			n++;
		else
			log_warn("cannot remove %s: %s", path, strerror(errno));
	}
	closedir(d);
	if (n)
		log_info("removed %zu files from %s older than ResultRetention", n, dir);
}

void job_cron(struct server *s)
{
	time_t now = time(NULL), wait_max = (time_t)s->cfg->policy.approve_timeout + 60;
	/* One daemon per process: when the results were last swept (0: at start). */
	static time_t swept;

	prune_history(s, now);
	if (now - swept >= (s->cfg->node.result_retention < 60 ? 1 : 60)) {
		sweep_dir(s, "results", now);
		sweep_dir(s, "jobs", now);
		swept = now;
	}

	for (struct job *j = s->jobs; j; j = j->next) {
		/* Every party answers within ApproveTimeout; Start follows at once. */
		if ((j->state == JOB_PROPOSED || j->state == JOB_ACCEPTED) &&
		    now - j->created > wait_max) {
			char r[REASON_BUF];

			snprintf(r, sizeof(r), "%s: the job did not start in time", s->cfg->node.name);
			job__abort(j, r, 1);
			continue;
		}
		if (j->state == JOB_PENDING && now > j->approve_deadline) {
			char r[REASON_BUF];
			struct peer *p = srv_peer_by_name(s, j->spec->proposer);

			snprintf(r, sizeof(r), "%s: not approved in time (ApproveTimeout)",
				 s->cfg->node.name);
			if (p)
				job__answer_refuse(s, p, j->id, r);
			job__set_state(j, JOB_ABORTED, r);
			job__audit(j, "expired", r);
			job__release(j);
		}
	}
}

int job_approve(struct server *s, const char *id, char *err, size_t errlen)
{
	struct job *j = job_find(s, id);

	if (!j) {
		snprintf(err, errlen, "no job %s", id);
		return MPC_E_ARG;
	}
	if (j->state != JOB_PENDING) {
		snprintf(err, errlen, "job %s is %s, not waiting for approval%s%s", id,
			 job_state_name(j->state), j->reason[0] ? ": " : "", j->reason);
		return MPC_E_ARG;
	}
	job__audit(j, "approved", NULL);
	return job__approve_send(j, err, errlen);
}

int job_cancel(struct server *s, const char *id, char *err, size_t errlen)
{
	struct job *j = job_find(s, id);
	char r[REASON_BUF];

	if (!j) {
		snprintf(err, errlen, "no job %s", id);
		return MPC_E_ARG;
	}
	if (j->state == JOB_FINISHED || j->state == JOB_ABORTED) {
		snprintf(err, errlen, "job %s already %s", id, job_state_name(j->state));
		return MPC_E_ARG;
	}
	snprintf(r, sizeof(r), "cancelled by the operator of %s", s->cfg->node.name);
	if (j->state == JOB_PENDING) {
		struct peer *p = srv_peer_by_name(s, j->spec->proposer);

		if (p)
			job__answer_refuse(s, p, j->id, r);
		job__set_state(j, JOB_ABORTED, r);
		job__audit(j, "cancelled", r);
		return 0;
	}
	job__abort(j, r, 1);
	return 0;
}

void job_abort_all(struct server *s, const char *why)
{
	for (struct job *j = s->jobs; j; j = j->next)
		job__abort(j, why, 1);
}

void job_free_all(struct server *s)
{
	struct job *j = s->jobs;

	while (j) {
		struct job *nx = j->next;

		if (j->thread_started)
			pthread_join(j->thread, NULL);
		job__free(j);
		j = nx;
	}
	s->jobs = NULL;
}

void job_info(struct job *j, Mpcctlpb__JobInfo *in, char *buf, size_t buflen)
{
	if (j->record) {
		/* From before a restart: what was recorded (borrowed). */
		*in = *j->record;
		in->state = (char *)job_state_name(j->state);
		if (j->reason[0])
			in->reason = j->reason;
		in->result_here = j->state == JOB_FINISHED && j->result_here;
		in->updated = j->updated;
		(void)buf;
		(void)buflen;
		return;
	}
	pthread_mutex_lock(&j->mu);
	in->id = j->id;
	in->state = (char *)job_state_name(j->state);
	in->reason = j->reason;
	in->detail = j->detail; /* local only: never sent to a peer */
	in->proposer = j->spec->proposer;
	in->n_parties = j->spec->n_parties;
	in->parties = j->spec->parties;
	in->n_recipients = j->spec->n_recipients;
	in->recipients = j->spec->recipients;
	in->dealer = j->spec->dealer;
	snprintf(buf, buflen, "%s:%s", j->spec->model_node, j->spec->model_name);
	in->model = buf;
	in->model_hash = j->graph_hash; /* the public graph hash (AllowModels) */
	/*
	 * The protocol's own names (a table here fell behind when a phase was
	 * added); an ended job keeps the phase it ended in.
	 */
	in->phase = (char *)(j->ran ? net_phase_name(j->phase) : "");
	in->layer = j->layer;
	in->layers = j->layers;
	in->bytes_sent = j->bytes_sent;
	in->bytes_recv = j->bytes_recv;
	in->created = j->created;
	in->updated = j->updated;
	/* The job thread sets result_here; FINISHED means it was joined. */
	in->result_here = j->state == JOB_FINISHED && j->result_here;
	in->needs_approval = j->state == JOB_PENDING;
	in->offline_seconds = j->st[NET_PH_SETUP].secs + j->st[NET_PH_OFFLINE].secs;
	for (int ph = NET_PH_INPUT; ph <= NET_PH_OUTPUT; ph++) {
		in->online_seconds += j->st[ph].secs;
		in->online_rounds += j->st[ph].rounds;
		in->online_bytes_sent += j->st[ph].bytes_sent;
	}
	in->layers_seconds = j->st[NET_PH_ONLINE].secs;
	in->weights_seconds = j->st[NET_PH_WEIGHTS].secs;
	in->weights_bytes_sent = j->st[NET_PH_WEIGHTS].bytes_sent;
	in->offline_bytes = j->st[NET_PH_OFFLINE].bytes_sent + j->st[NET_PH_OFFLINE].bytes_recv;
	in->rows_done = j->rows_done;
	in->rows_total = j->rows_total;
	in->chunks = j->chunks;
	in->chunk = j->chunks_done + (j->chunks_done < j->chunks && j->state == JOB_RUNNING);
	in->chunk_rows = j->chunk_rows ? j->chunk_rows : j->spec->chunk_rows;
	/* The rate since the rows began (setup and the weights phase included: what a user waits). */
	if (j->rows_done && j->rows_at > j->rows_t0) {
		in->rows_per_s = (double)j->rows_done / (j->rows_at - j->rows_t0);
		if (j->state == JOB_RUNNING)
			in->eta_s = (double)(j->rows_total - j->rows_done) / in->rows_per_s;
	}
	in->job_peak_material = (uint64_t)j->mat_peak * 8;
	in->job_memory_estimate = j->plan_bytes;
	pthread_mutex_unlock(&j->mu);
	{
		struct rusage ru;

		/* The whole daemon's: every job and the loop share one process. */
		if (!getrusage(RUSAGE_SELF, &ru))
			in->daemon_peak_rss = (uint64_t)ru.ru_maxrss << 10;
	}
}
