/* SPDX-License-Identifier: MIT */
/* Copyright (C) 2026 The mpcd authors. */
/*
 * The verbs about a job once submitted: wait, approve, cancel, result
 * (list and status: cli_status.c). JOB on the command line is an id or a
 * unique prefix of at least 6 hex digits (the daemon resolves it).
 *
 * wait polls the status until the job ends, asking each time for the
 * progress steps after the last one it saw, so every phase and layer
 * shows once and in order however fast the job runs. On a terminal, one
 * line rewritten in place; into a file or a pipe, one line per change;
 * --json, one object per change and then the job's final state. It exits 0
 * when finished; 1 when aborted or refused (with the reason), timed out,
 * or the daemon could not be asked; 2 when the command line is wrong.
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "ftensor.h"
#include "npy.h"

/* Job ids are 32 hex digits; the daemon takes a unique prefix of 6 or more. */
#define JOB_ID_LEN 32
#define JOB_PREFIX_MIN 6

/*
 * JOB as typed, checked and lower-cased into id; the daemon resolves a
 * prefix itself (and says when it is ambiguous). 0, or 2 after a message.
 */
int cli_job_id(const char *verb, const char *arg, char id[static JOB_ID_MAX + 1])
{
	size_t len = strlen(arg);
	char clean[80];

	if (len < JOB_PREFIX_MIN || len > JOB_ID_MAX ||
	    strspn(arg, "0123456789abcdefABCDEF") != len)
		return cli_error(verb, NULL, "job id '%s': expected %d hex digits, or a unique "
				 "prefix of at least %d", cli_clean(clean, sizeof(clean), arg),
				 JOB_ID_LEN, JOB_PREFIX_MIN);
	for (size_t i = 0; i <= len; i++)
		id[i] = (char)(arg[i] >= 'A' && arg[i] <= 'F' ? arg[i] - 'A' + 'a' : arg[i]);
	return 0;
}

/* ---- wait ---- */

#define POLL_MS 200

static const char wait_usage[] =
	"usage: mpcctl [-s SOCKET] wait JOB [--timeout SECONDS] [--json]\n"
	"\n"
	"Wait until the job has finished (exit 0) or was aborted or refused (exit 1,\n"
	"with the reason). Shows each change once, in order: the state, whom a job\n"
	"not started waits for, every phase, every layer (a job in chunks: every\n"
	"chunk). On a terminal one updating line, else a line per change; --json: one\n"
	"object per change, then the job's final state. --timeout gives up with exit 1\n"
	"(the job goes on). JOB is its id or a unique prefix of at least 6 hex digits.\n";

static double now_mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void sleep_secs(double s)
{
	struct timespec ts = { .tv_sec = (time_t)s,
			       .tv_nsec = (long)((s - (double)(time_t)s) * 1e9) };

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}


/*
 * A job that is not running: "proposed, waiting for approval by beta",
 * "finished, sent 1.2 MB, received 1.1 MB", ... (running: step_line).
 */
static void describe(char *buf, size_t len, const Mpcctlpb__JobInfo *j, const char *id)
{
	char sent[32], recv[32], st[64], rt[96], w[256];

	cli_bytes(sent, sizeof(sent), j->bytes_sent);
	cli_bytes(recv, sizeof(recv), j->bytes_recv);
	cli_clean(st, sizeof(st), j->state);
	cli_job_rate(rt, sizeof(rt), j);
	cli_job_waiting(w, sizeof(w), j);
	if (j->needs_approval)
		snprintf(buf, len, "job %s: waiting for approval here (mpcctl approve)", id);
	else if (cli_job_is(j, "proposed") && j->n_waiting_for)
		snprintf(buf, len, "job %s: proposed, waiting for %s", id, w);
	else if (cli_job_is(j, "proposed") || cli_job_is(j, "pending-approval"))
		snprintf(buf, len, "job %s: proposed, waiting for the parties to accept", id);
	else if (cli_job_is(j, "accepted"))
		snprintf(buf, len, "job %s: accepted, waiting to start", id);
	else if (cli_job_is(j, "running"))
		snprintf(buf, len, "job %s: running", id);
	else if (cli_job_is(j, "finished") && j->rows_total)
		snprintf(buf, len, "job %s: finished, %llu rows in %u chunk%s%s, sent %s, received %s",
			 id, (unsigned long long)j->rows_total, j->chunks, j->chunks == 1 ? "" : "s",
			 rt, sent, recv);
	else if (cli_job_is(j, "finished"))
		snprintf(buf, len, "job %s: finished, sent %s, received %s", id, sent, recv);
	else
		snprintf(buf, len, "job %s: %s", id, *st ? st : "(no state)");
}

/*
 * One progress step of a running job: "running offline", "running online,
 * layer 4/9"; in chunks "running, chunk 3/17 done, rows 1200 of 10000".
 */
static void step_line(char *buf, size_t len, const Mpcctlpb__Step *s,
		      const Mpcctlpb__JobInfo *j, const char *id)
{
	char ph[32];

	cli_clean(ph, sizeof(ph), s->phase);
	if (s->chunks > 1 && s->chunk)
		snprintf(buf, len, "job %s: running, chunk %u/%u done, rows %llu of %llu", id,
			 s->chunk, s->chunks, (unsigned long long)s->rows_done,
			 (unsigned long long)j->rows_total);
	else if (s->layers)
		snprintf(buf, len, "job %s: running %s, layer %u/%u", id, ph, s->layer, s->layers);
	else
		snprintf(buf, len, "job %s: running %s", id, ph);
}

static void json_step(const Mpcctlpb__Step *s, const char *id)
{
	printf("{\"id\": \"%s\", \"state\": \"running\", \"phase\": ", id);
	cli_json_str(s->phase);
	printf(", \"layer\": %u, \"layers\": %u, \"chunk\": %u, \"chunks\": %u, "
	       "\"rows_done\": %llu}\n", s->layer, s->layers, s->chunk, s->chunks,
	       (unsigned long long)s->rows_done);
}

static void json_state(const Mpcctlpb__JobInfo *j, const char *id)
{
	printf("{\"id\": \"%s\", \"state\": ", id);
	cli_json_str(j->state);
	printf(", \"needs_approval\": %s, \"waiting_for\": ", j->needs_approval ? "true" : "false");
	cli_json_strs(j->waiting_for, j->n_waiting_for);
	printf(", \"waiting_approval\": ");
	cli_json_strs(j->waiting_approval, j->n_waiting_approval);
	printf("}\n");
}

/* How wait shows a change: one line (a pipe), a line redrawn (a terminal), or JSON. */
struct shown {
	int tty, json, open_line;
	size_t width;
	char last[512];
};

static void show_line(struct shown *o, const char *line)
{
	if (!strcmp(line, o->last))
		return; /* one line per change */
	snprintf(o->last, sizeof(o->last), "%s", line);
	if (o->tty) {
		size_t n = strlen(line);

		/* Blank out what is left of a longer previous line. */
		printf("\r%s%*s", line, o->width > n ? (int)(o->width - n) : 0, "");
		o->width = n;
		o->open_line = 1;
	} else {
		printf("%s\n", line);
	}
}

/* An error goes below the progress line, not glued onto it. */
static void end_line(int *open_line)
{
	if (*open_line)
		putchar('\n');
	*open_line = 0;
	fflush(stdout);
}

/*
 * The job of a status reply: one, whose id is the one asked for or starts
 * with the prefix asked for. Its full id replaces the prefix in id, for
 * the next requests and for the messages.
 */
static const Mpcctlpb__JobInfo *the_job(const Mpcctlpb__Reply *r, char id[static JOB_ID_MAX + 1])
{
	const char *got = r->n_jobs == 1 && r->jobs[0]->id ? r->jobs[0]->id : "";
	size_t len = strlen(got);

	if (len < strlen(id) || len > JOB_ID_MAX || strncmp(got, id, strlen(id)) ||
	    strspn(got, "0123456789abcdef") != len)
		return NULL;
	memcpy(id, got, len + 1);
	return r->jobs[0];
}

int wait_main(int argc, char **argv)
{
	Mpcctlpb__Request req = MPCCTLPB__REQUEST__INIT;
	Mpcctlpb__JobRef ref = MPCCTLPB__JOB_REF__INIT;
	Mpcctlpb__Reply *r = NULL;
	const char *verb = argv[0];
	char id[JOB_ID_MAX + 1], shown_id[16], line[512], state_key[512] = "";
	char err[1024], st[64], why[512], det[512];
	struct shown o = { .tty = isatty(STDOUT_FILENO) };
	double start = now_mono(), left;
	struct cli_args a;
	int ret;

	if ((ret = cli_parse(argc, argv, wait_usage, CLI_JOB | CLI_TIMEOUT | CLI_JSON, &a)) != CLI_GO)
		return ret;
	if ((ret = cli_job_id(verb, a.job, id)) != 0)
		return ret;
	o.json = a.json;
	o.tty = o.tty && !o.json;
	ref.id = id;
	req.req_case = MPCCTLPB__REQUEST__REQ_STATUS;
	req.status = &ref;
	ret = 1;
	for (;;) {
		const Mpcctlpb__JobInfo *j;
		const char *sid;

		if (cli_request(verb, &req, &r, err, sizeof(err))) {
			end_line(&o.open_line);
			fprintf(stderr, "%s\n", err);
			goto out;
		}
		if (!(j = the_job(r, id))) {
			end_line(&o.open_line);
			fprintf(stderr, "mpcctl %s: mpcd sent no status for job %s\n", verb, id);
			goto out;
		}
		/* A terminal line has room for a short id; a log wants the whole one. */
		snprintf(shown_id, sizeof(shown_id), "%.8s\u2026", id);
		sid = o.tty ? shown_id : id;
		/* The state first when it changed (a job that ended shows its steps before). */
		describe(line, sizeof(line), j, sid);
		if (strcmp(line, state_key) && !cli_job_is(j, "finished") &&
		    !cli_job_is(j, "aborted")) {
			snprintf(state_key, sizeof(state_key), "%s", line);
			if (o.json)
				json_state(j, id);
			else if (!cli_job_is(j, "running"))
				show_line(&o, line);
		}
		if (j->steps_lost && !o.json) {
			snprintf(line, sizeof(line), "job %s: (%llu progress steps not shown)", sid,
				 (unsigned long long)j->steps_lost);
			show_line(&o, line);
		}
		for (size_t k = 0; k < j->n_steps; k++) {
			const Mpcctlpb__Step *s = j->steps[k];

			if (s->seq <= ref.since)
				continue;
			ref.since = s->seq;
			if (o.json) {
				json_step(s, id);
				continue;
			}
			step_line(line, sizeof(line), s, j, sid);
			show_line(&o, line);
		}
		if (cli_job_is(j, "finished") || cli_job_is(j, "aborted")) {
			if (o.json) {
				cli_json_job(j, "");
				putchar('\n');
			} else if (cli_job_is(j, "finished")) {
				describe(line, sizeof(line), j, sid);
				show_line(&o, line);
			}
		}
		fflush(stdout);
		if (cli_job_is(j, "finished")) {
			ret = 0;
			goto out;
		}
		if (cli_job_is(j, "aborted") || cli_job_is(j, "refused")) {
			end_line(&o.open_line);
			/* One line; this node's own detail of a failure here follows it. */
			fprintf(stderr, "mpcctl %s: job %s %s: %s%s%s%s\n", verb, id,
				cli_clean(st, sizeof(st), j->state),
				j->reason && *j->reason ? cli_clean(why, sizeof(why), j->reason) :
				"no reason given", j->detail && *j->detail ? " (here: " : "",
				j->detail && *j->detail ? cli_clean(det, sizeof(det), j->detail) : "",
				j->detail && *j->detail ? ")" : "");
			goto out;
		}
		left = a.timeout > 0 ? a.timeout - (now_mono() - start) : POLL_MS / 1e3;
		if (left <= 0) {
			end_line(&o.open_line);
			fprintf(stderr, "mpcctl %s: job %s is still %s after %g s\n", verb, id,
				cli_clean(st, sizeof(st), j->state), a.timeout);
			goto out;
		}
		mpcctlpb__reply__free_unpacked(r, NULL);
		r = NULL;
		sleep_secs(left < POLL_MS / 1e3 ? left : POLL_MS / 1e3);
	}
out:
	end_line(&o.open_line);
	if (r)
		mpcctlpb__reply__free_unpacked(r, NULL);
	if (fflush(stdout) && !ret) {
		fprintf(stderr, "mpcctl %s: writing to standard output failed\n", verb);
		ret = 1;
	}
	return ret;
}

/* ---- approve, cancel ---- */

static const char approve_usage[] =
	"usage: mpcctl [-s SOCKET] approve JOB\n"
	"\n"
	"Consent, for this node, to a job waiting for approval (Approve = manual).\n"
	"JOB is its id or a unique prefix of at least 6 hex digits.\n";

static const char cancel_usage[] =
	"usage: mpcctl [-s SOCKET] cancel JOB\n"
	"\n"
	"Abort a job: the daemon tells every party, which abort it too.\n"
	"JOB is its id or a unique prefix of at least 6 hex digits.\n";

static int job_verb(int argc, char **argv, const char *usage, Mpcctlpb__Request__ReqCase which)
{
	Mpcctlpb__Request req = MPCCTLPB__REQUEST__INIT;
	Mpcctlpb__JobRef ref = MPCCTLPB__JOB_REF__INIT;
	Mpcctlpb__Reply *r = NULL;
	const char *verb = argv[0];
	char id[JOB_ID_MAX + 1];
	struct cli_args a;
	int ret;

	if ((ret = cli_parse(argc, argv, usage, CLI_JOB, &a)) != CLI_GO)
		return ret;
	if ((ret = cli_job_id(verb, a.job, id)) != 0)
		return ret;
	ref.id = id;
	req.req_case = which;
	if (which == MPCCTLPB__REQUEST__REQ_APPROVE)
		req.approve = &ref;
	else
		req.cancel = &ref;
	if ((ret = cli_call(verb, &req, &r)) != 0)
		return ret;
	mpcctlpb__reply__free_unpacked(r, NULL);
	return 0;
}

int approve_main(int argc, char **argv)
{
	return job_verb(argc, argv, approve_usage, MPCCTLPB__REQUEST__REQ_APPROVE);
}

int cancel_main(int argc, char **argv)
{
	return job_verb(argc, argv, cancel_usage, MPCCTLPB__REQUEST__REQ_CANCEL);
}

/* ---- result ---- */

static const char result_usage[] =
	"usage: mpcctl [-s SOCKET] result JOB -o OUT.npy|OUT.csv\n"
	"\n"
	"Write the job's revealed output (float32) to a .npy file, or to CSV (at most 2\n"
	"dims). Only on a recipient of the job. The file is replaced atomically; nothing\n"
	"is written on any error. JOB is its id or a unique prefix of at least 6 hex digits.\n";

int result_main(int argc, char **argv)
{
	Mpcctlpb__Request req = MPCCTLPB__REQUEST__INIT;
	Mpcctlpb__JobRef ref = MPCCTLPB__JOB_REF__INIT;
	Mpcctlpb__Reply *r = NULL;
	const Mpcctlpb__Result *res;
	const char *verb = argv[0], *dot;
	char id[JOB_ID_MAX + 1], clean[160], sh[160];
	struct ftensor t = { 0 };
	struct cli_args a;
	size_t n;
	int ret, csv, ok;

	if ((ret = cli_parse(argc, argv, result_usage, CLI_JOB | CLI_OUT, &a)) != CLI_GO)
		return ret;
	if (!a.out)
		return cli_error(verb, result_usage, "-o OUT.npy|OUT.csv is required");
	dot = strrchr(a.out, '.');
	csv = dot && !strcmp(dot, ".csv");
	if (!dot || dot == a.out || dot[-1] == '/' || (!csv && strcmp(dot, ".npy")))
		return cli_error(verb, NULL, "-o '%s': expected a file name ending in .npy or .csv",
				 cli_clean(clean, sizeof(clean), a.out));
	if ((ret = cli_job_id(verb, a.job, id)) != 0)
		return ret;
	ref.id = id;
	req.req_case = MPCCTLPB__REQUEST__REQ_RESULT;
	req.result = &ref;
	if ((ret = cli_call(verb, &req, &r)) != 0)
		return ret;
	ret = 1;
	if (!(res = r->result)) {
		fprintf(stderr, "mpcctl %s: mpcd sent no result\n", verb);
		goto out;
	}
	/* The reply is bounded by CTL_REPLY_MAX; the shape must still add up. */
	if (res->n_dims > FT_MAX_DIMS) {
		fprintf(stderr, "mpcctl %s: mpcd sent a result of %zu dims (at most %d)\n", verb,
			res->n_dims, FT_MAX_DIMS);
		goto out;
	}
	t.ndim = (int)res->n_dims;
	for (size_t i = 0; i < res->n_dims; i++)
		t.dims[i] = res->dims[i];
	n = ftensor_count(t.ndim, t.dims, &ok);
	if (!ok || n > FT_MAX_ELEMS || n != res->n_data) {
		fprintf(stderr, "mpcctl %s: mpcd sent a malformed result: %zu values for "
			"shape %s\n", verb, res->n_data,
			ftensor_shape_str(t.ndim, t.dims, sh, sizeof(sh)));
		goto out;
	}
	t.n = n;
	t.data = res->data; /* borrowed from the reply; not ftensor_free()d */
	if ((ret = csv ? csv_save(a.out, &t) : npy_save_f32(a.out, &t)) != 0) {
		fprintf(stderr, "mpcctl %s: %s\n", verb, mpc_errmsg(ret));
		ret = 1;
		goto out;
	}
	ret = 0;
out:
	mpcctlpb__reply__free_unpacked(r, NULL);
	return ret;
}
