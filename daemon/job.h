/* SPDX-License-Identifier: MIT */
/* Copyright (C) 2026 The mpcd authors. */
#ifndef MPC_JOB_H
#define MPC_JOB_H

/*
 * Jobs: proposal, policy, approval, start, the protocol run on a job thread,
 * abort with one reason on every party. Fields marked (loop) belong to the
 * loop thread; (mu) are shared with the job thread under job->mu; the rest
 * is fixed before the thread starts.
 */
#include <pthread.h>

#include "ctl.pb-c.h"
#include "eval.h"
#include "ftensor.h"
#include "model.h"
#include "net.h"
#include "server.h"
#include "wire.h"

enum job_state {
	JOB_PROPOSED,  /* waiting for answers (proposer) or for Start */
	JOB_PENDING,   /* waiting for `mpcctl approve` here */
	JOB_ACCEPTED,  /* accepted here, waiting for Start */
	JOB_RUNNING,
	JOB_FINISHED,
	JOB_ABORTED,
};

struct jmsg {
	struct jmsg *next;
	size_t len;
	uint8_t *data; /* the reassembly buffer, handed over */
};

/*
 * One sender's messages to this job. The loop decrypts each chunk straight
 * into `cur`: the buffer the job thread posted while waiting in recv when
 * there is one (no copy at all), or a buffer queued for it otherwise.
 */
struct jqueue {
	struct jmsg *head, *tail;   /* complete messages */
	uint8_t *cur;               /* the message being received */
	size_t cur_len, cur_off;
	int cur_posted;             /* cur is the job thread's posted buffer */
	uint8_t *posted;            /* job thread waiting in recv with this buffer */
	size_t posted_len;
	int posted_full;            /* the loop filled it */
	int busy;                   /* the loop is writing into posted now */
};

#define JOB_MAX_EP (WIRE_MAX_PARTIES + 1)
/* How long after an abort the proposer repeats it to a party whose link comes back. */
#define JOB_END_RESEND_SECS 120

/*
 * Progress steps kept per job, so `mpcctl wait` (polling) shows every
 * phase and layer once and in order: a slower poller loses the oldest.
 */
#define JOB_STEPS 128

struct job_step {
	uint64_t seq;
	uint64_t rows_done;
	uint32_t layer, layers, chunk, chunks;
	int phase;
};

struct job {
	struct job *next;              /* (loop) */
	struct server *srv;
	char id[WIRE_ID_LEN + 1];
	Mpcpb__JobSpec *spec;          /* own copy; final dims after Start */
	int proposer_here;
	int me;                        /* endpoint: party index, n for the dealer */
	int n;                         /* compute parties */
	int n_ep;                      /* endpoints: n + 1 with the dealer */
	struct peer *ep_peer[JOB_MAX_EP]; /* NULL for me */
	enum job_state state;          /* (mu) */
	char reason[WIRE_MAX_REASON + 1]; /* (mu) public: the same on every party */
	char detail[WIRE_MAX_REASON + 1]; /* (mu) local only: values, paths, cells */
	time_t created, updated, approve_deadline;
	int answered[JOB_MAX_EP];      /* (loop) proposer */
	int pending[JOB_MAX_EP];       /* (loop) proposer: held for that node's approval */
	int restored;                  /* (loop) a record from DataDir, from before a restart */
	Mpcctlpb__JobInfo *record;     /* (loop) restored: what status shows */
	uint64_t ep_memory[JOB_MAX_EP]; /* (loop) proposer: each one's JobMemory (answers; 0 unknown) */
	/* this node's contribution */
	struct model *model;           /* the owner's, with weights */
	/*
	 * The public graph: the owner's own, or what it sent this node
	 * directly (JobModel), checked against graph_hash. graph_hash is
	 * known first (from the Propose, or the owner's computation).
	 */
	uint8_t *graph;
	size_t graph_len;
	char graph_hash[WIRE_HASH_LEN + 1];
	char *wexp;                    /* the owner's weight magnitudes (JobModel.weight_exp) */
	int graph_asked;               /* (loop) JobGetModel sent */
	int approved;                  /* (loop) policy said yes: read this node's part */
	int manual;                    /* (loop) held for `mpcctl approve` once checked */
	int loading;                   /* (loop) a worker reads this node's part (job_contrib.c) */
	struct ftensor parts[WIRE_MAX_INPUTS][WIRE_MAX_PARTS]; /* my parts' data */
	/* thread side */
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct jqueue q[JOB_MAX_EP];   /* (mu) */
	size_t buffered;               /* (mu) inbound bytes held */
	int aborted;                   /* (mu) */
	pthread_t thread;
	int thread_started;            /* (loop) */
	int thread_ret;                /* set by the thread before its event */
	char thread_err[WIRE_MAX_REASON + 1];    /* public: mpc_errpub */
	char thread_detail[WIRE_MAX_REASON + 1]; /* local: mpc_errmsg */
	/* progress (mu): the phase never goes back within a chunk (job_progress.c) */
	int phase;
	int ran;                       /* phase is set: the thread began */
	uint32_t layer, layers;
	struct job_step steps[JOB_STEPS];
	uint64_t step_seq;             /* steps recorded; steps[(seq - 1) % JOB_STEPS] is the newest */
	uint64_t bytes_sent, bytes_recv;
	int result_here;
	/*
	 * (loop) The end is agreed (docs/daemon.md, "Failure"): a party's
	 * thread ending well makes it done_here and it tells the proposer
	 * (JobDone); the proposer marks done[] and, once every compute party
	 * is done, finishes and sends JobDone to all, which finishes them.
	 */
	int done_here;
	int done[JOB_MAX_EP];
	struct net_stats st[NET_PH_COUNT]; /* the thread's counters, at its end */
	/* rows in chunks (mu): the plan, rows revealed, when the rows began and last moved */
	uint64_t rows_total, rows_done, chunk_rows, plan_bytes;
	uint32_t chunks, chunks_done;
	size_t mat_peak;               /* words of correlated randomness held at once, at most */
	double rows_t0, rows_at;       /* net_now() */
};

/* job_chunk.c: a compute party's result file, written as chunks finish. */
struct job_res {
	struct job *j;
	const struct model_value *ov;
	size_t total, written;         /* output values */
	int mine;                      /* this node is a recipient */
	FILE *f;
	char path[4096], tmp[4112];
};

/* The handlers links call (server.h): frames, lost peers, raw chunks. */
extern const struct link_handlers job_link_handlers;

/* ctl entry points (loop thread); errors as one line in err. */
int job_submit(struct server *s, const Mpcctlpb__Submit *req, char *id, char *err, size_t errlen);
int job_approve(struct server *s, const char *id, char *err, size_t errlen);
int job_cancel(struct server *s, const char *id, char *err, size_t errlen);
struct job *job_find(struct server *s, const char *id);
void job_info(struct job *j, Mpcctlpb__JobInfo *info, char *buf, size_t buflen);
/*
 * job_progress.c: the steps after `since` into info (st and pst hold
 * JOB_STEPS each), and whom a job not running yet waits for (names holds
 * 2 * JOB_MAX_EP pointers).
 */
void job_info_progress(struct job *j, uint64_t since, Mpcctlpb__JobInfo *info,
		       Mpcctlpb__Step *st, Mpcctlpb__Step **pst, char **names);
const char *job_state_name(enum job_state st);

/* Internal to job*.c */
/* job_data.c: the raw-frame handlers of job_link_handlers. */
uint8_t *job__chunk_begin(struct server *s, struct peer *from, const struct link_chunk *c);
void job__chunk_end(struct server *s, struct peer *from, const struct link_chunk *c, int ok);
Mpcpb__JobSpec *job__spec_dup(const Mpcpb__JobSpec *s);
int job__ep_of(const struct job *j, const char *node);
/* 0, or the audit log could not take the line (logged here). */
int job__audit(struct job *j, const char *event, const char *reason);
/* Why a node refuses jobs while its audit log cannot be written. */
#define JOB_NO_AUDIT "cannot write its audit log"
void job__free(struct job *j);
struct job *job__new(struct server *s, const Mpcpb__JobSpec *spec, char *why, size_t len);
int job__send_all(struct job *j, const Mpcpb__Frame *f);
void job__release(struct job *j);
void job_msg_free(struct jmsg *m);
/* Tell the proposer this node refuses (the reason is cut to WIRE_MAX_REASON). */
void job__answer_refuse(struct server *s, struct peer *to, const char *id, const char *why);
void job__set_state(struct job *j, enum job_state st, const char *reason);
/* Loop thread: count a job that reached finished or aborted from `was` (srv->stats). */
void job__count_end(struct job *j, enum job_state was);
void job__abort(struct job *j, const char *reason, int broadcast);
/*
 * A failure here: peers get pub (a public, fixed-format line), the local
 * log and `mpcctl status` also show detail (NULL: none).
 */
void job__fail(struct job *j, const char *pub, const char *detail);
int job__parse_ref(const char *s, char *node, char *name);
/*
 * job_contrib.c: this node's part (the model's graph, datasets' shapes),
 * read on a libuv worker thread: done runs on the loop when the read
 * ended, unless the job ended meanwhile (then what was read is dropped),
 * with ret 0 or an error, why the public line (sent to peers), detail the
 * local one. 0 when queued (or a read is already under way).
 */
typedef void job_loaded_fn(struct job *j, int ret, const char *why, const char *detail);
int job__contribute_async(struct job *j, job_loaded_fn *done);
int job__policy(struct job *j, int *manual, char *why, size_t len);
int job__answer(struct job *j);
/*
 * job_answer.c: once this node's part is read, what else it can check: its
 * parts' shapes against the model's inputs, and a link up to every
 * participant (why: a public line).
 */
int job__check_ready(struct job *j, char *why, size_t len);
/* job_answer.c: the operator's approval of a checked job: the accept goes out (err: why not). */
int job__approve_send(struct job *j, char *err, size_t errlen);
void job__on_answer(struct job *j, struct peer *from, const Mpcpb__JobAnswer *a);
/* Proposer: Start once every endpoint answered (this node too). */
void job__maybe_start(struct job *j);
/* job_data.c: a JobData header without a raw frame (an empty message) */
void job__on_data(struct server *s, struct peer *from, const Mpcpb__JobData *d);

/*
 * Every input the spec binds names a graph input of m, or why says which
 * and lists the model's data inputs (MPC_E_ARG): a wrong name is refused
 * here, not later as a missing weight or a count of inputs.
 */
int job_bind_check(const struct model *m, const Mpcpb__JobSpec *spec, char *why, size_t wlen);
/*
 * job_graph.c: the public graph, straight from the model owner to each
 * party (docs/wire.md). Check a public graph received for a job: its
 * SHA-256 is hash, it parses, and it fits the job (one output, the
 * spec's inputs, weights of fixed shape; array sizes from the arrays).
 * The ONE place a received graph is parsed: on arrival and again on the
 * job thread. 0 with *out the parsed model (out may be NULL), or an error
 * with a public line in why (the graph and the spec are public). wexp:
 * the owner's weight magnitudes sent with it (NULL or "": none), checked
 * and applied to the model.
 */
int job_graph_check(const uint8_t *graph, size_t len, const char *hash, const char *wexp,
		    const Mpcpb__JobSpec *spec, struct model **out, char *why, size_t wlen);
/*
 * This node's parts (parts[input][part], read) against the model's
 * declared input shapes: the rank, and every declared dim but the
 * joined axis of a pooled input. 0, or a public line (names and shapes)
 * in why.
 */
int job_parts_check(const struct model *m, const Mpcpb__JobSpec *spec, const char *self,
		    const struct ftensor (*parts)[WIRE_MAX_PARTS], char *why, size_t wlen);
/* Ask the model owner for the graph (once). */
void job__graph_request(struct job *j);
/* The graph is here and checked, or this node owns it: go on. */
void job__graph_ready(struct job *j);
void job__on_get_model(struct server *s, struct peer *from, const Mpcpb__JobGetModel *g);
void job__on_model(struct server *s, struct peer *from, const Mpcpb__JobModel *m);
/* Proposer: the model owner's answer to the first proposal gave the hash. */
void job__propose_rest(struct job *j);
/* This node's datasets read, checked and answered (or refused). */
int job__answer_when_ready(struct job *j);

/* job_progress.c: the job thread's progress hooks (struct net on_phase, mpc on_layer). */
void job__on_phase(void *arg, enum net_phase ph);
void job__on_layer(void *arg, size_t done, size_t total);
/* Under j->mu: a chunk was revealed (chunks_done counts it). */
void job__chunk_step_locked(struct job *j);

/*
 * job_record.c: DataDir/jobs/ID.job, written atomically when a job starts
 * and whenever it ends (a restored job's record is not rewritten), removed
 * with the job (ResultRetention, JobHistory).
 */
void job__record_save(struct job *j);
void job__record_drop(struct job *j);
/* At start: every record into the job list; a corrupt one is skipped with a log line. */
int job_records_load(struct server *s);

/* job_end.c: a JobDone from a participant. */
void job__on_done(struct job *j, struct peer *from);
/* The result file is removed (an aborted job's, or an expired one's). */
void job__drop_result(struct job *j);

/* job_run.c */
/*
 * The model this node evaluates, inferred for the job's rows, BatchNorm
 * folded: the owner's own (with weights), or the public graph checked
 * again; public_only takes the public graph even on the owner (shapes).
 * Free with model_free unless it is j->model.
 */
int job__model(struct job *j, int public_only, struct model **out);
int job__start_thread(struct job *j);
void job__abort_local(struct job *j, const char *reason);
int job__result_path(struct job *j, char *buf, size_t len);

/*
 * job_chunk.c. The proposer, at Start: chunk_rows from the smallest
 * JobMemory of the compute parties (their answers) when the submitter
 * gave none, and the plan checked against every node's JobMemory, so a
 * job that does not fit is refused before any byte of it moves (why: a
 * public line with the numbers).
 */
int job__pick_rows(struct job *j, char *why, size_t len);
/* The plan, checked against this node's JobMemory (a public refusal with the numbers). */
int job__plan(struct job *j, const struct model *md, struct eval_plan *p);
int job__res_open(struct job *j, const struct model *md, struct job_res *r);
int job__res_close(struct job_res *r, int ok);
/* eval_chunk_fn: reveal a chunk's output, append it to the result file. */
int job__chunk_done(void *arg, struct mpc *m, size_t k, size_t first, size_t rows,
		    struct eval_out *outs, size_t n_outs);

#endif
