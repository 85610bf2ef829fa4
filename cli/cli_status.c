/* SPDX-License-Identifier: MIT */
/* Copyright (C) 2026 The mpcd authors. */
/*
 * mpcctl list and status: one line per job, or every field of one (text or
 * JSON), with the progress in rows and the peak memory. Also the table
 * helpers cli_width() and cli_ago(), which peers (cli_ctl.c) uses too, and
 * the job helpers wait shares (cli.h).
 */
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cli.h"

/* NODE:MODEL, two names of at most 32 */
#define MODEL_COL_MAX 65

/* ---- list, status ---- */

int cli_width(int w, const char *s, int cap)
{
	int n = s ? (int)strlen(s) : 0;

	return n > w ? (n < cap ? n : cap) : w;
}

const char *cli_ago(char *buf, size_t len, int64_t t, const char *suffix)
{
	int64_t d = (int64_t)time(NULL) - t;

	if (t <= 0) {
		snprintf(buf, len, "-");
		return buf;
	}
	if (d < 0)
		d = 0; /* the daemon's clock is ahead of ours */
	if (d < 60)
		snprintf(buf, len, "%llds%s", (long long)d, suffix);
	else if (d < 3600)
		snprintf(buf, len, "%lldm%s", (long long)(d / 60), suffix);
	else if (d < 86400)
		snprintf(buf, len, "%lldh%s", (long long)(d / 3600), suffix);
	else
		snprintf(buf, len, "%lldd%s", (long long)(d / 86400), suffix);
	return buf;
}

static const char list_usage[] =
	"usage: mpcctl [-s SOCKET] list [--json]\n"
	"\n"
	"One line per job this daemon knows: id, state, model, parties, progress, age.\n";

static const char status_usage[] =
	"usage: mpcctl [-s SOCKET] status JOB [--json]\n"
	"\n"
	"Every field of one job. JOB is its id or a unique prefix of at least 6 hex digits.\n";

void cli_json_job(const Mpcctlpb__JobInfo *j, const char *indent)
{
	static const struct {
		const char *key;
		size_t off;
	} strs[] = {
#define S(f) { #f, offsetof(Mpcctlpb__JobInfo, f) }
		S(id), S(state), S(reason), S(detail), S(proposer), S(dealer), S(model),
		S(model_hash), S(phase),
#undef S
	};

	putchar('{');
	for (size_t i = 0; i < sizeof(strs) / sizeof(strs[0]); i++) {
		printf("%s\"%s\": ", i ? ", " : "", strs[i].key);
		cli_json_str(*(char *const *)((const char *)j + strs[i].off));
	}
	printf(",\n%s \"parties\": ", indent);
	cli_json_strs(j->parties, j->n_parties);
	printf(", \"recipients\": ");
	cli_json_strs(j->recipients, j->n_recipients);
	printf(", \"waiting_for\": ");
	cli_json_strs(j->waiting_for, j->n_waiting_for);
	printf(", \"waiting_approval\": ");
	cli_json_strs(j->waiting_approval, j->n_waiting_approval);
	printf(", \"restored\": %s", j->restored ? "true" : "false");
	printf(",\n%s \"layer\": %u, \"layers\": %u, \"bytes_sent\": %llu, \"bytes_recv\": %llu, "
	       "\"created\": %lld, \"updated\": %lld, \"result_here\": %s, "
	       "\"needs_approval\": %s,\n%s \"offline_seconds\": %.6f, \"online_seconds\": %.6f, "
	       "\"online_rounds\": %llu, \"online_bytes_sent\": %llu, \"offline_bytes\": %llu, "
	       "\"layers_seconds\": %.6f, \"weights_seconds\": %.6f, \"weights_bytes_sent\": %llu,\n"
	       "%s \"rows_done\": %llu, \"rows_total\": %llu, \"chunk\": %u, \"chunks\": %u, "
	       "\"chunk_rows\": %llu, \"rows_per_s\": %.3f, \"eta_s\": %.3f,\n"
	       "%s \"daemon_peak_rss\": %llu, \"job_peak_material\": %llu, "
	       "\"job_memory_estimate\": %llu}",
	       indent, j->layer, j->layers,
	       (unsigned long long)j->bytes_sent, (unsigned long long)j->bytes_recv,
	       (long long)j->created, (long long)j->updated, j->result_here ? "true" : "false",
	       j->needs_approval ? "true" : "false", indent, j->offline_seconds, j->online_seconds,
	       (unsigned long long)j->online_rounds, (unsigned long long)j->online_bytes_sent,
	       (unsigned long long)j->offline_bytes, j->layers_seconds, j->weights_seconds,
	       (unsigned long long)j->weights_bytes_sent, indent,
	       (unsigned long long)j->rows_done, (unsigned long long)j->rows_total, j->chunk,
	       j->chunks, (unsigned long long)j->chunk_rows, j->rows_per_s, j->eta_s, indent,
	       (unsigned long long)j->daemon_peak_rss, (unsigned long long)j->job_peak_material,
	       (unsigned long long)j->job_memory_estimate);
}

/* "alpha,beta,gamma", cut with "..." when it does not fit. */
static const char *join(char *buf, size_t len, char **v, size_t n)
{
	char clean[64];
	size_t o = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < n; i++) {
		int w = snprintf(buf + o, len - o, "%s%s", i ? "," : "",
				 cli_clean(clean, sizeof(clean), v[i]));

		if (w < 0 || (size_t)w >= len - o) {
			snprintf(buf + (len > 4 ? len - 4 : 0), len > 4 ? 4 : len, "...");
			break;
		}
		o += (size_t)w;
	}
	return n ? buf : "-";
}

/* "online 4/9", "chunk 3/17", "offline", "approval", "done", "-". */
static const char *progress(char *buf, size_t len, const Mpcctlpb__JobInfo *j)
{
	char ph[32];

	if (cli_job_is(j, "running") && j->chunks > 1)
		snprintf(buf, len, "chunk %u/%u", j->chunk ? j->chunk : 1, j->chunks);
	else if (cli_job_is(j, "running") && j->layers && !strcmp(j->phase, "online"))
		snprintf(buf, len, "online %u/%u", j->layer, j->layers);
	else if (cli_job_is(j, "running") && *j->phase)
		snprintf(buf, len, "%s", cli_clean(ph, sizeof(ph), j->phase));
	else if (cli_job_is(j, "running"))
		snprintf(buf, len, "starting");
	else if (j->needs_approval || j->n_waiting_approval)
		snprintf(buf, len, "approval");
	else if (cli_job_is(j, "proposed") || cli_job_is(j, "accepted"))
		snprintf(buf, len, "answers");
	else if (cli_job_is(j, "finished"))
		snprintf(buf, len, "done");
	else
		snprintf(buf, len, "-");
	return buf;
}

static void list_table(const Mpcctlpb__Reply *r)
{
	int wi = 2, wm = 5;

	for (size_t i = 0; i < r->n_jobs; i++) {
		wi = cli_width(wi, r->jobs[i]->id, JOB_ID_MAX);
		wm = cli_width(wm, r->jobs[i]->model, MODEL_COL_MAX);
	}
	printf("%-*s  %-16s  %-*s  %-24s  %-12s  %s\n", wi, "ID", "STATE", wm, "MODEL",
	       "PARTIES", "PROGRESS", "AGE");
	for (size_t i = 0; i < r->n_jobs; i++) {
		const Mpcctlpb__JobInfo *j = r->jobs[i];
		char id[80], st[32], model[80], parties[128], prog[32], age[32];

		printf("%-*s  %-16s  %-*s  %-24s  %-12s  %s\n",
		       wi, cli_clean(id, sizeof(id), j->id),
		       cli_clean(st, sizeof(st), j->state), wm,
		       cli_clean(model, sizeof(model), j->model),
		       join(parties, sizeof(parties), j->parties, j->n_parties),
		       progress(prog, sizeof(prog), j), cli_ago(age, sizeof(age), j->created, ""));
	}
}

int list_main(int argc, char **argv)
{
	Mpcctlpb__Request req = MPCCTLPB__REQUEST__INIT;
	Mpcctlpb__Reply *r = NULL;
	const char *verb = argv[0];
	struct cli_args a;
	int ret;

	if ((ret = cli_parse(argc, argv, list_usage, CLI_JSON, &a)) != CLI_GO)
		return ret;
	req.req_case = MPCCTLPB__REQUEST__REQ_LIST;
	req.list = 1;
	if ((ret = cli_call(verb, &req, &r)) != 0)
		return ret;
	if (a.json) {
		printf("{\"jobs\": [");
		for (size_t i = 0; i < r->n_jobs; i++) {
			fputs(i ? ",\n  " : "\n  ", stdout);
			cli_json_job(r->jobs[i], "  ");
		}
		printf("%s]}\n", r->n_jobs ? "\n" : "");
	} else {
		list_table(r);
	}
	mpcctlpb__reply__free_unpacked(r, NULL);
	return cli_flush(verb);
}

int cli_job_is(const Mpcctlpb__JobInfo *j, const char *s)
{
	return j->state && !strcmp(j->state, s);
}

/* "1h02m", "3m05s", "12s": an ETA. */
static void dur(char *buf, size_t len, double s)
{
	long long t = (long long)(s + 0.5);

	if (t >= 3600)
		snprintf(buf, len, "%lldh%02lldm", t / 3600, t / 60 % 60);
	else if (t >= 60)
		snprintf(buf, len, "%lldm%02llds", t / 60, t % 60);
	else
		snprintf(buf, len, "%llds", t);
}

/* ", 123.4 rows/s, ETA 3m05s" once a chunk has finished; "" before. */
void cli_job_rate(char *buf, size_t len, const Mpcctlpb__JobInfo *j)
{
	char eta[32];

	buf[0] = '\0';
	if (j->rows_per_s <= 0)
		return;
	dur(eta, sizeof(eta), j->eta_s);
	snprintf(buf, len, ", %.1f rows/s%s%s", j->rows_per_s, cli_job_is(j, "running") ? ", ETA " : "",
		 cli_job_is(j, "running") ? eta : "");
}

static void kv(const char *key, const char *val)
{
	printf("%-16s%s\n", key, val && *val ? val : "-");
}

static void kv_time(const char *key, int64_t t)
{
	char buf[96], rel[32];
	time_t tt = (time_t)t;
	struct tm tm;

	if (t <= 0 || !localtime_r(&tt, &tm) ||
	    !strftime(buf, sizeof(buf) - 40, "%Y-%m-%d %H:%M:%S %z", &tm)) {
		kv(key, "-");
		return;
	}
	snprintf(buf + strlen(buf), 40, " (%s)", cli_ago(rel, sizeof(rel), t, " ago"));
	kv(key, buf);
}

static void kv_bytes(const char *key, uint64_t b)
{
	char h[32], buf[96];

	cli_bytes(h, sizeof(h), b);
	snprintf(buf, sizeof(buf), "%s (%llu bytes)", h, (unsigned long long)b);
	kv(key, buf);
}

static void status_text(const Mpcctlpb__JobInfo *j)
{
	char buf[512], list[512];

	kv("id:", cli_clean(buf, sizeof(buf), j->id));
	kv("state:", cli_clean(buf, sizeof(buf), j->state));
	kv("reason:", cli_clean(buf, sizeof(buf), j->reason));
	if (j->detail && *j->detail) /* this node's own failure, in full */
		kv("detail:", cli_clean(buf, sizeof(buf), j->detail));
	kv("proposer:", cli_clean(buf, sizeof(buf), j->proposer));
	kv("parties:", join(list, sizeof(list), j->parties, j->n_parties));
	kv("recipients:", join(list, sizeof(list), j->recipients, j->n_recipients));
	kv("dealer:", cli_clean(buf, sizeof(buf), j->dealer));
	kv("model:", cli_clean(buf, sizeof(buf), j->model));
	kv("model hash:", cli_clean(buf, sizeof(buf), j->model_hash)); /* the public graph hash */
	/* An ended job shows the phase it ended in; one not started has none. */
	if (j->phase && *j->phase && !cli_job_is(j, "running")) {
		char ph[32];

		snprintf(buf, sizeof(buf), "%s (%s there)", cli_clean(ph, sizeof(ph), j->phase),
			 cli_job_is(j, "finished") ? "finished" : "ended");
		kv("phase:", buf);
	} else {
		kv("phase:", *j->phase ? cli_clean(buf, sizeof(buf), j->phase) :
			     cli_job_is(j, "running") ? "starting" : "not started");
	}
	if (j->layers) {
		snprintf(buf, sizeof(buf), "%u of %u done", j->layer, j->layers);
		kv("layers:", buf);
	}
	if (j->n_waiting_for) {
		char w[256];

		cli_job_waiting(w, sizeof(w), j);
		kv("waiting for:", w);
	}
	if (j->restored)
		kv("restored:", "yes: the record of a job from before the daemon restarted");
	if (j->rows_total) {
		char rt[96];

		cli_job_rate(rt, sizeof(rt), j);
		snprintf(buf, sizeof(buf), "%llu of %llu done, chunk %u of %u (%llu rows each)%s",
			 (unsigned long long)j->rows_done, (unsigned long long)j->rows_total,
			 j->chunk, j->chunks, (unsigned long long)j->chunk_rows, rt);
		kv("rows:", buf);
	}
	{
		char a[32], b[32], c[32];

		/* The daemon's peak (every job and the loop: one process) and this job's own. */
		cli_bytes(a, sizeof(a), j->daemon_peak_rss);
		cli_bytes(b, sizeof(b), j->job_peak_material);
		cli_bytes(c, sizeof(c), j->job_memory_estimate);
		snprintf(buf, sizeof(buf), "daemon peak RSS %s; this job: correlated randomness "
			 "held at most %s, planned %s", a, b, c);
		kv("memory:", buf);
	}
	kv_bytes("sent:", j->bytes_sent);
	kv_bytes("received:", j->bytes_recv);
	kv_time("created:", j->created);
	kv_time("updated:", j->updated);
	kv("result here:", j->result_here ? "yes" : "no");
	kv("needs approval:", j->needs_approval ? "yes (mpcctl approve JOB)" : "no");
	if (j->online_seconds > 0) {
		snprintf(buf, sizeof(buf), "offline %.1f ms, online %.1f ms in %llu rounds",
			 j->offline_seconds * 1e3, j->online_seconds * 1e3,
			 (unsigned long long)j->online_rounds);
		kv("cost here:", buf);
	}
}

int status_main(int argc, char **argv)
{
	Mpcctlpb__Request req = MPCCTLPB__REQUEST__INIT;
	Mpcctlpb__JobRef ref = MPCCTLPB__JOB_REF__INIT;
	Mpcctlpb__Reply *r = NULL;
	const char *verb = argv[0];
	char id[JOB_ID_MAX + 1];
	struct cli_args a;
	int ret;

	if ((ret = cli_parse(argc, argv, status_usage, CLI_JSON | CLI_JOB, &a)) != CLI_GO)
		return ret;
	if ((ret = cli_job_id(verb, a.job, id)) != 0)
		return ret;
	ref.id = id;
	req.req_case = MPCCTLPB__REQUEST__REQ_STATUS;
	req.status = &ref;
	if ((ret = cli_call(verb, &req, &r)) != 0)
		return ret;
	if (r->n_jobs != 1) {
		fprintf(stderr, "mpcctl %s: mpcd sent %zu jobs for one id\n", verb, r->n_jobs);
		ret = 1;
		goto out;
	}
	if (a.json) {
		cli_json_job(r->jobs[0], "");
		putchar('\n');
	} else {
		status_text(r->jobs[0]);
	}
	ret = cli_flush(verb);
out:
	mpcctlpb__reply__free_unpacked(r, NULL);
	return ret;
}

/* "approval by beta; the answer of gamma, dealer": whom a proposed job waits for. */
void cli_job_waiting(char *buf, size_t len, const Mpcctlpb__JobInfo *j)
{
	char a[128], o[128], *others[CLI_PARTIES_MAX];
	size_t no = 0;

	for (size_t i = 0; i < j->n_waiting_for && no < CLI_PARTIES_MAX; i++) {
		int held = 0;

		for (size_t k = 0; k < j->n_waiting_approval; k++)
			held |= !strcmp(j->waiting_for[i], j->waiting_approval[k]);
		if (!held)
			others[no++] = j->waiting_for[i];
	}
	join(a, sizeof(a), j->waiting_approval, j->n_waiting_approval);
	join(o, sizeof(o), others, no);
	snprintf(buf, len, "%s%s%s%s%s", j->n_waiting_approval ? "approval by " : "",
		 j->n_waiting_approval ? a : "", j->n_waiting_approval && no ? "; " : "",
		 no ? "the answer of " : "", no ? o : "");
}
