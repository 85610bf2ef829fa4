/* SPDX-License-Identifier: MIT */
/* Copyright (C) 2026 The mpcd authors. */
#include "files_check.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "err.h"
#include "ftensor.h"
#include "model.h"
#include "npy.h"
#include "wire.h"

/* As job_contrib.c reads a model for a job: the same calls, the same limits. */
static int check_model(const struct cfg_model *cm)
{
	uint8_t *buf = NULL, *graph = NULL;
	size_t blen = 0, glen = 0;
	struct model *m = NULL;
	int ret;

	if ((ret = file_read_all(cm->path, (size_t)1 << 30, &buf, &blen)) == 0 &&
	    (ret = model_parse_onnx(buf, blen, cm->path, &m)) == 0 &&
	    (!cm->weights || (ret = model_bind_safetensors(m, cm->weights)) == 0) &&
	    (ret = model_check_job(m)) == 0 &&
	    (ret = model_public_graph(buf, blen, m, &graph, &glen)) == 0 && glen > WIRE_MAX_GRAPH)
		ret = mpc_fail(MPC_E_TOOBIG, "%s: its public graph has %zu bytes, over %zu",
			       cm->path, glen, (size_t)WIRE_MAX_GRAPH);
	free(graph);
	model_free(m);
	ftensor_wipe_free(buf, blen); /* the weights' bytes */
	return ret;
}

static int check_dataset(const struct cfg_dataset *d, int full)
{
	struct ftensor t = { 0 };
	struct stat st;
	int fd, ret;

	if (full) {
		if ((ret = input_load(d->path, &t)) == 0)
			ftensor_free(&t);
		return ret;
	}
	/* Start-up and reload: a big dataset is read by the job that needs it. */
	if ((fd = open(d->path, O_RDONLY | O_CLOEXEC)) < 0)
		return mpc_fail(MPC_E_IO, "%s: %s", d->path, strerror(errno));
	ret = fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) ?
	      mpc_fail(MPC_E_IO, "%s: not a regular file", d->path) : 0;
	close(fd);
	return ret;
}

/* The message, prefixed with the path when the reader did not name it. */
static void report_one(files_report_fn *report, void *arg, const struct cfg *c, unsigned line,
		       const char *kind, const char *name, const char *path, int ret)
{
	char buf[1024];
	const char *msg = mpc_errmsg(ret);

	snprintf(buf, sizeof(buf), "%s:%u: [%s] '%s': %s%s%s", c->path ? c->path : "config", line,
		 kind, name, strstr(msg, path) ? "" : path, strstr(msg, path) ? "" : ": ", msg);
	report(arg, buf);
}

size_t files_check(const struct cfg *c, int full, files_report_fn *report, void *arg)
{
	size_t bad = 0;
	int ret;

	for (size_t i = 0; i < c->n_models; i++)
		if ((ret = check_model(&c->models[i])) != 0) {
			report_one(report, arg, c, c->models[i].line, "Model", c->models[i].name,
				   c->models[i].path, ret);
			bad++;
		}
	for (size_t i = 0; i < c->n_datasets; i++)
		if ((ret = check_dataset(&c->datasets[i], full)) != 0) {
			report_one(report, arg, c, c->datasets[i].line, "Dataset",
				   c->datasets[i].name, c->datasets[i].path, ret);
			bad++;
		}
	return bad;
}
