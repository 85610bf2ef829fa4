/* SPDX-License-Identifier: MIT */
/* Copyright (C) 2026 The mpcd authors. */
/*
 * Job records in DataDir/jobs/ID.job, so `mpcctl list`, `status` and
 * `result` still know a job after the daemon restarted (docs/daemon.md,
 * "Job records"). A record is what `mpcctl status --json` shows (a
 * JobInfo of proto/ctl.proto) behind a magic line, written atomically
 * (temporary file, fsync, rename, fsync of the directory) when a job
 * starts running and whenever it ends. At start every record is read
 * back through the bounded protobuf reader and checked field by field; a
 * corrupt one is skipped with a log line. A job that was running when the
 * daemon stopped without ending it (a crash, a kill) is recorded aborted,
 * "the daemon restarted". Records leave with their job: ResultRetention
 * and JobHistory (job_ctl.c) remove the record and the result together.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "job.h"
#include "log.h"
#include "npy.h"

#define REC_MAGIC "mpcd job record 1\n"
#define REC_MAX ((size_t)64 << 10)
/* Records read at start, at most: JobHistory's own upper bound. */
#define REC_FILES_MAX 100000

static int rec_path(const struct server *s, const char *id, char *buf, size_t len)
{
	int n = snprintf(buf, len, "%s/jobs/%s.job", s->cfg->node.data_dir, id);

	return n < 0 || (size_t)n >= len ? -1 : 0;
}

struct rec_buf {
	const uint8_t *p;
	size_t len;
};

static int write_rec(FILE *f, const void *arg)
{
	const struct rec_buf *b = arg;

	return fputs(REC_MAGIC, f) >= 0 && fwrite(b->p, 1, b->len, f) == b->len ? 0 :
	       mpc_fail(MPC_E_IO, "short write");
}

void job__record_save(struct job *j)
{
	Mpcctlpb__JobInfo in = MPCCTLPB__JOB_INFO__INIT;
	struct rec_buf b = { 0 };
	char model[80], path[4200];
	uint8_t *buf;
	size_t n;
	int ret;

	if (j->restored || rec_path(j->srv, j->id, path, sizeof(path)) != 0)
		return;
	job_info(j, &in, model, sizeof(model));
	in.daemon_peak_rss = 0; /* the process's, not the job's */
	n = mpcctlpb__job_info__get_packed_size(&in);
	if (n > REC_MAX - sizeof(REC_MAGIC) || !(buf = malloc(n ? n : 1))) {
		log_warn("job %.8s: record of %zu bytes not written", j->id, n);
		return;
	}
	b.len = mpcctlpb__job_info__pack(&in, buf);
	b.p = buf;
	if ((ret = file_write_atomic(path, write_rec, &b)) != 0)
		log_warn("job %.8s: record not written: %s", j->id, mpc_errmsg(ret));
	free(buf);
}

void job__record_drop(struct job *j)
{
	char path[4200];

	if (rec_path(j->srv, j->id, path, sizeof(path)) == 0 && unlink(path) != 0 &&
	    errno != ENOENT)
		log_warn("job %.8s: cannot remove %s: %s", j->id, path, strerror(errno));
}

static int names_ok(char **v, size_t n, size_t max)
{
	if (n > max)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!wire_valid_name(v[i]))
			return 0;
	return 1;
}

/* Printable text of at most WIRE_MAX_REASON bytes (shown to the operator as is). */
static int text_ok(const char *s)
{
	size_t n = strlen(s);

	if (n > WIRE_MAX_REASON)
		return 0;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return 0;
	return 1;
}

static const char *const rec_states[] = { "proposed", "pending-approval", "accepted",
					  "running", "finished", "aborted" };

/* Every field a restored job shows or acts on, checked; why: what is wrong. */
static int rec_check(const Mpcctlpb__JobInfo *r, const char *stem, enum job_state *st,
		     char *node, char *name, const char **why)
{
	size_t k;

	for (k = 0; k < sizeof(rec_states) / sizeof(rec_states[0]); k++)
		if (r->state && !strcmp(r->state, rec_states[k]))
			break;
	*st = (enum job_state)k;
	if (!r->id || !wire_valid_id(r->id) || strcmp(r->id, stem))
		*why = "the id is not the file's name";
	else if (k == sizeof(rec_states) / sizeof(rec_states[0]))
		*why = "unknown state";
	else if (!r->proposer || !wire_valid_name(r->proposer) || !r->dealer ||
		 (*r->dealer && !wire_valid_name(r->dealer)))
		*why = "bad proposer or dealer";
	else if (!names_ok(r->parties, r->n_parties, WIRE_MAX_PARTIES) || !r->n_parties ||
		 !names_ok(r->recipients, r->n_recipients, WIRE_MAX_PARTIES))
		*why = "bad parties or recipients";
	else if (!r->model || job__parse_ref(r->model, node, name))
		*why = "bad model";
	else if (!r->model_hash || (*r->model_hash && !wire_valid_hash(r->model_hash)))
		*why = "bad model hash";
	else if (!r->reason || !text_ok(r->reason) || !r->detail || !text_ok(r->detail) ||
		 !r->phase || strlen(r->phase) > 16)
		*why = "bad reason, detail or phase";
	else
		return 0;
	return -1;
}

/* A job from its record: the spec as far as the record names it, for job__ep_of and list. */
static struct job *rec_job(struct server *s, Mpcctlpb__JobInfo *r, enum job_state st,
			   char *node, char *name)
{
	Mpcpb__JobSpec spec = MPCPB__JOB_SPEC__INIT;
	struct job *j = calloc(1, sizeof(*j));

	if (!j)
		return NULL;
	spec.id = r->id;
	spec.proposer = r->proposer;
	spec.model_node = node;
	spec.model_name = name;
	spec.dealer = r->dealer;
	spec.n_parties = r->n_parties;
	spec.parties = r->parties;
	spec.n_recipients = r->n_recipients;
	spec.recipients = r->recipients;
	spec.chunk_rows = r->chunk_rows;
	if (!(j->spec = job__spec_dup(&spec))) {
		free(j);
		return NULL;
	}
	pthread_mutex_init(&j->mu, NULL);
	pthread_cond_init(&j->cv, NULL);
	snprintf(j->id, sizeof(j->id), "%s", r->id);
	j->srv = s;
	j->n = (int)r->n_parties;
	j->n_ep = j->n + (*r->dealer != '\0');
	j->me = -1;
	j->state = st;
	j->created = (time_t)r->created;
	j->updated = (time_t)r->updated;
	j->result_here = st == JOB_FINISHED && r->result_here;
	j->proposer_here = !strcmp(r->proposer, s->cfg->node.name);
	j->restored = 1;
	j->record = r;
	return j;
}

/*
 * One record, or NULL after a log line. A job that had not ended is
 * recorded aborted now: the run it belonged to is gone.
 */
static struct job *rec_load(struct server *s, const char *dir, const char *file)
{
	char path[4400], stem[WIRE_ID_LEN + 1], node[WIRE_MAX_NAME + 1], name[WIRE_MAX_NAME + 1];
	const size_t ml = sizeof(REC_MAGIC) - 1;
	Mpcctlpb__JobInfo *r = NULL;
	const char *why = NULL;
	enum job_state st;
	uint8_t *buf = NULL;
	size_t len = 0;
	struct job *j;
	int ret;

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	snprintf(stem, sizeof(stem), "%.*s", (int)strcspn(file, "."), file);
	if ((ret = file_read_all(path, REC_MAX, &buf, &len)) != 0) {
		log_warn("job record %s skipped: %s", path, mpc_errmsg(ret));
		return NULL;
	}
	if (len < ml || memcmp(buf, REC_MAGIC, ml))
		why = "not a job record (no magic line)";
	else if (!(r = mpcctlpb__job_info__unpack(NULL, len - ml, buf + ml)))
		why = "malformed (protobuf)";
	else
		(void)rec_check(r, stem, &st, node, name, &why);
	free(buf);
	if (why) {
		log_warn("job record %s skipped: %s", path, why);
		if (r)
			mpcctlpb__job_info__free_unpacked(r, NULL);
		return NULL;
	}
	if (!(j = rec_job(s, r, st, node, name))) {
		mpcctlpb__job_info__free_unpacked(r, NULL);
		return NULL;
	}
	if (st != JOB_FINISHED && st != JOB_ABORTED) {
		char reason[REASON_BUF];

		snprintf(reason, sizeof(reason), "%s: the daemon restarted while the job was %s",
			 s->cfg->node.name, rec_states[st]);
		/* The record is the job's only copy now: it says what happened. */
		j->state = JOB_ABORTED;
		j->updated = time(NULL);
		if (!*r->reason) /* job_info shows it over the record's */
			snprintf(j->reason, sizeof(j->reason), "%.*s", WIRE_MAX_REASON, reason);
		j->restored = 0; /* written once more, as it ends */
		job__record_save(j);
		j->restored = 1;
		j->result_here = 1; /* whatever a recipient had written of it goes */
		job__drop_result(j);
		log_info("job %.8s: %s", j->id, reason);
	}
	return j;
}

static int by_updated(const void *a, const void *b)
{
	const struct job *x = *(struct job *const *)a, *y = *(struct job *const *)b;

	return x->updated < y->updated ? -1 : x->updated > y->updated;
}

int job_records_load(struct server *s)
{
	char dir[4096];
	struct job **v = NULL;
	size_t n = 0, cap = 0;
	struct dirent *e;
	DIR *d;

	snprintf(dir, sizeof(dir), "%s/jobs", s->cfg->node.data_dir);
	if (mkdir(dir, 0700) < 0 && errno != EEXIST)
		return mpc_fail(MPC_E_IO, "%s: %s", dir, strerror(errno));
	if (!(d = opendir(dir)))
		return mpc_fail(MPC_E_IO, "%s: %s", dir, strerror(errno));
	while ((e = readdir(d)) != NULL && n < REC_FILES_MAX) {
		size_t l = strlen(e->d_name);
		struct job *j;

		/* ID.job; temporary files of an interrupted write are left to the sweep. */
		if (l != WIRE_ID_LEN + 4 || strcmp(e->d_name + WIRE_ID_LEN, ".job"))
			continue;
		if (n == cap) {
			struct job **nv = realloc(v, (cap ? 2 * cap : 64) * sizeof(*v));

			if (!nv)
				break;
			v = nv;
			cap = cap ? 2 * cap : 64;
		}
		if ((j = rec_load(s, dir, e->d_name)) != NULL)
			v[n++] = j;
	}
	closedir(d);
	/* The list is newest first, as jobs are added; JobHistory keeps the newest. */
	if (n)
		qsort(v, n, sizeof(*v), by_updated);
	for (size_t i = 0; i < n; i++) {
		v[i]->next = s->jobs;
		s->jobs = v[i];
	}
	if (n)
		log_info("%zu job records restored from %s", n, dir);
	free(v);
	return 0;
}
