/* SPDX-License-Identifier: MIT */
/* Copyright (C) 2026 The mpcd authors. */
/*
 * A daemon job's rows in chunks (protocol/eval.h, docs/protocols.md): the
 * proposer's pick of chunk_rows at Start, every node's check of the plan
 * against its own JobMemory before setup, and a compute party's chunk
 * callback: each chunk's output revealed to the recipients and appended to
 * the result file as it finishes, so the result is never whole in memory;
 * progress in rows for `mpcctl wait`.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fxp.h"
#include "job.h"

#define MIB(b) (((size_t)(b) + ((size_t)1 << 20) - 1) >> 20)

/*
 * The chunk the proposer aims at: the plan's bytes for one party at most
 * a quarter of the smallest JobMemory and at most 64 MiB. A larger chunk
 * buys no speed (each row costs the same and a chunk's rounds are few),
 * and measured on LeNet through daemons it is slower: 16 rows a chunk
 * (50 MB planned) ran at 2 to 2.5 times the rows/s of 356 (the whole
 * 1 GiB), whose buffers miss the caches and are faulted in again each
 * chunk. A daemon's peak RSS is about twice the plan (party n-1 holds the
 * next chunk's corrections while this one runs, and the links' queues):
 * the quarter keeps it within JobMemory.
 */
#define JOB_CHUNK_TARGET ((uint64_t)64 << 20)

static const char *who(const struct job *j, int ep)
{
	return ep == j->n ? "at the dealer" : "per party";
}

/* The endpoint's name: a compute party's, or the dealer's. */
static const char *ep_name(const struct job *j, int ep)
{
	return ep < j->n ? j->spec->parties[ep] : j->spec->dealer;
}

/*
 * chunk_rows, and the plan's bytes against every JobMemory known (the
 * proposer's own, the others' from their answers). Public numbers only:
 * the plan follows the public graph and the spec.
 */
int job__pick_rows(struct job *j, char *why, size_t len)
{
	uint64_t budget = 0;
	size_t rows, pb[2] = { 0 }, db[2] = { 0 };
	struct model *md = NULL;
	int ret;

	j->ep_memory[j->me] = j->srv->cfg->node.job_memory;
	for (int e = 0; e < j->n; e++)
		if (j->ep_memory[e] && (!budget || j->ep_memory[e] < budget))
			budget = j->ep_memory[e];
	/* The public graph: its shapes alone decide the plan, as on every party. */
	if ((ret = job__model(j, 1, &md)) != 0) {
		snprintf(why, len, "%s", mpc_errpub(ret));
		return ret;
	}
	rows = (size_t)md->values[md->inputs[0]].dims[0];
	if (!j->spec->chunk_rows) {
		uint64_t aim = budget / 4 < JOB_CHUNK_TARGET ? budget / 4 : JOB_CHUNK_TARGET;
		size_t pick = 0;

		ret = eval_plan_pick(md, j->spec->frac_bits, j->n, 1, 0, (size_t)aim, 0, &pick);
		/* One row over the aim: the most that fit in JobMemory itself. */
		if (ret == MPC_E_TOOBIG)
			ret = eval_plan_pick(md, j->spec->frac_bits, j->n, 1, 0, (size_t)budget, 0,
					     &pick);
		j->spec->chunk_rows = pick;
		if (ret == MPC_E_TOOBIG)
			ret = 0; /* one row does not fit: the numbers below */
		else if (ret)
			goto out;
	}
	if ((ret = eval_chunk_mem(md, j->spec->frac_bits, j->n, 1, &pb[0], &db[0])) != 0 ||
	    (ret = eval_chunk_mem(md, j->spec->frac_bits, j->n,
				  j->spec->chunk_rows && j->spec->chunk_rows < rows ?
				  (size_t)j->spec->chunk_rows : rows, &pb[1], &db[1])) != 0)
		goto out;
	for (int e = 0; e < j->n_ep && !ret; e++) {
		uint64_t mem = j->ep_memory[e];
		size_t one = e == j->n ? db[0] : pb[0], need = e == j->n ? db[1] : pb[1];

		if (!mem || need <= mem)
			continue;
		ret = MPC_E_TOOBIG;
		if (one > mem || !j->spec->chunk_rows || j->spec->chunk_rows == 1)
			snprintf(why, len, "one row needs %zu MiB of correlated randomness and "
				 "buffers %s, the JobMemory of %s is %llu MiB", MIB(one), who(j, e),
				 ep_name(j, e), (unsigned long long)(mem >> 20));
		else
			snprintf(why, len, "chunks of %llu rows need %zu MiB of correlated "
				 "randomness and buffers %s (one row needs %zu MiB), the JobMemory "
				 "of %s is %llu MiB", (unsigned long long)j->spec->chunk_rows,
				 MIB(need), who(j, e), MIB(one), ep_name(j, e),
				 (unsigned long long)(mem >> 20));
	}
	if (!ret && !j->spec->chunk_rows)
		j->spec->chunk_rows = rows;
out:
	if (ret && ret != MPC_E_TOOBIG)
		snprintf(why, len, "%s", mpc_errpub(ret));
	model_free(md);
	return ret;
}

int job__plan(struct job *j, const struct model *md, struct eval_plan *p)
{
	uint64_t mem = j->srv->cfg->node.job_memory;
	char why[WIRE_MAX_REASON + 1];
	size_t need, one, pb = 0, db = 0;
	int ret;

	if ((ret = eval_plan_init(p, md, j->spec->frac_bits, j->n,
				  (size_t)j->spec->chunk_rows)) != 0)
		return ret;
	need = j->me == j->n ? p->dealer_bytes : p->party_bytes;
	pthread_mutex_lock(&j->mu);
	j->rows_total = p->rows;
	j->chunks = (uint32_t)p->n_chunks;
	j->chunk_rows = p->chunk_rows;
	j->plan_bytes = need;
	pthread_mutex_unlock(&j->mu);
	if (need <= mem)
		return 0;
	/*
	 * The proposer checked every JobMemory it was told; this node checks
	 * its own again (a proposer that did not). Public numbers: the plan
	 * follows the public graph; JobMemory is this node's limit.
	 */
	one = p->chunk_rows == 1 ? need : 0;
	if (!one && eval_chunk_mem(md, j->spec->frac_bits, j->n, 1, &pb, &db) == 0)
		one = j->me == j->n ? db : pb;
	if (one > mem || p->chunk_rows == 1)
		snprintf(why, sizeof(why), "one row needs %zu MiB of correlated randomness and "
			 "buffers %s, JobMemory is %llu MiB", MIB(one), who(j, j->me),
			 (unsigned long long)(mem >> 20));
	else
		snprintf(why, sizeof(why), "chunks of %zu rows need %zu MiB of correlated "
			 "randomness and buffers %s (one row needs %zu MiB), JobMemory is %llu MiB",
			 p->chunk_rows, MIB(need), who(j, j->me), MIB(one),
			 (unsigned long long)(mem >> 20));
	eval_plan_free(p);
	mpc_fail(MPC_E_TOOBIG, "%s", why);
	return mpc_public(MPC_E_TOOBIG, "%s", why);
}

/* numpy's '<f4' C-order header for the output's dims (format 1.0). */
static int npy_header(FILE *f, const struct model_value *ov)
{
	char shape[FT_MAX_DIMS * 24 + 4], hdr[FT_MAX_DIMS * 24 + 160];
	size_t used = 0, hl;

	shape[0] = '\0';
	for (int d = 0; d < ov->ndim; d++)
		used += (size_t)snprintf(shape + used, sizeof(shape) - used, "%s%lld%s",
					 d ? ", " : "", (long long)ov->dims[d],
					 ov->ndim == 1 ? "," : "");
	hl = (size_t)snprintf(hdr, sizeof(hdr) - 66, "{'descr': '<f4', 'fortran_order': False, "
			      "'shape': (%s), }", shape);
	/* The data starts on a 64-byte boundary, as numpy writes it. */
	while ((10 + hl + 1) % 64)
		hdr[hl++] = ' ';
	hdr[hl++] = '\n';
	return fwrite("\x93NUMPY\x01\x00", 1, 8, f) != 8 || fputc((int)(hl & 0xff), f) == EOF ||
	       fputc((int)(hl >> 8), f) == EOF || fwrite(hdr, 1, hl, f) != hl ? -1 : 0;
}

int job__res_open(struct job *j, const struct model *md, struct job_res *r)
{
	int fd;

	memset(r, 0, sizeof(*r));
	r->j = j;
	r->ov = &md->values[md->outputs[0]];
	r->total = 1;
	for (int d = 0; d < r->ov->ndim; d++)
		r->total *= (size_t)r->ov->dims[d];
	for (size_t i = 0; i < j->spec->n_recipients; i++)
		r->mine |= job__ep_of(j, j->spec->recipients[i]) == j->me;
	if (!r->mine)
		return 0;
	if (job__result_path(j, r->path, sizeof(r->path)) ||
	    snprintf(r->tmp, sizeof(r->tmp), "%s.part", r->path) >= (int)sizeof(r->tmp))
		return mpc_fail(MPC_E_ARG, "result path too long");
	/* 0600 like every result file: only this node's operator reads it. */
	fd = open(r->tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0 || !(r->f = fdopen(fd, "wb"))) {
		if (fd >= 0)
			close(fd);
		return mpc_fail(MPC_E_IO, "%s: %s", r->tmp, strerror(errno));
	}
	if (npy_header(r->f, r->ov))
		return mpc_fail(MPC_E_IO, "%s: %s", r->tmp, strerror(errno));
	return 0;
}

/* Little-endian float32, in pieces through a small buffer. */
static int put_f32(FILE *f, const float *x, size_t n)
{
	uint8_t b[4096];
	size_t k = 0;

	for (size_t i = 0; i < n; i++) {
		uint32_t u;

		memcpy(&u, &x[i], 4);
		b[k++] = (uint8_t)u;
		b[k++] = (uint8_t)(u >> 8);
		b[k++] = (uint8_t)(u >> 16);
		b[k++] = (uint8_t)(u >> 24);
		if (k == sizeof(b) || i + 1 == n) {
			if (fwrite(b, 1, k, f) != k)
				return -1;
			k = 0;
		}
	}
	return 0;
}

int job__res_close(struct job_res *r, int ok)
{
	int ret = 0;

	if (!r->f)
		return 0;
	if (ok && r->written != r->total)
		ret = mpc_fail(MPC_E_INTERNAL, "the result has %zu of %zu values", r->written,
			       r->total);
	/* Synced before the rename: a crash leaves the old name or the whole file. */
	if (ok && !ret && (fflush(r->f) || fsync(fileno(r->f))))
		ret = mpc_fail(MPC_E_IO, "%s: %s", r->tmp, strerror(errno));
	if (fclose(r->f) && ok && !ret)
		ret = mpc_fail(MPC_E_IO, "%s: %s", r->tmp, strerror(errno));
	r->f = NULL;
	if (ok && !ret && rename(r->tmp, r->path))
		ret = mpc_fail(MPC_E_IO, "%s: %s", r->path, strerror(errno));
	if (!ok || ret)
		unlink(r->tmp);
	else
		r->j->result_here = 1;
	return ret;
}

/*
 * A chunk's output: revealed to every recipient in turn (one round each),
 * decoded and appended to the result file on a recipient; then the rows
 * count as done.
 */
int job__chunk_done(void *arg, struct mpc *m, size_t k, size_t first, size_t rows,
		    struct eval_out *outs, size_t n_outs)
{
	struct job_res *r = arg;
	struct job *j = r->j;
	const Mpcpb__JobSpec *sp = j->spec;
	uint64_t *plain = NULL;
	float *dec = NULL;
	size_t n = outs[0].n;
	int ret = 0;

	(void)first;
	if (n_outs != 1 || r->written + n > r->total)
		return mpc_fail(MPC_E_INTERNAL, "chunk %zu: %zu outputs of %zu values, %zu of %zu "
				"written", k, n_outs, n, r->written, r->total);
	net_set_phase(m->net, NET_PH_OUTPUT);
	if (!(plain = mpc_alloc(n ? n : 1)) || (r->mine && !(dec = malloc((n ? n : 1) * 4)))) {
		ret = mpc_fail(MPC_E_NOMEM, "chunk %zu: the output", k);
		goto out;
	}
	for (size_t i = 0; i < sp->n_recipients && !ret; i++)
		ret = mpc_reveal_to(m, job__ep_of(j, sp->recipients[i]), outs[0].share, n, plain);
	if (!ret && r->mine) {
		fxp_decode(dec, plain, n, outs[0].bits);
		if (put_f32(r->f, dec, n))
			ret = mpc_fail(MPC_E_IO, "%s: %s", r->tmp, strerror(errno));
	}
	r->written += n;
	pthread_mutex_lock(&j->mu);
	j->rows_done += rows;
	j->chunks_done = (uint32_t)k + 1;
	j->mat_peak = m->mat_peak;
	j->rows_at = net_now();
	job__chunk_step_locked(j);
	pthread_mutex_unlock(&j->mu);
out:
	if (dec) {
		memset(dec, 0, (n ? n : 1) * 4); /* the recipient's plaintext */
		free(dec);
	}
	mpc_free_words(plain, n ? n : 1);
	return ret;
}
