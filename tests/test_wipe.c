/* SPDX-License-Identifier: MIT */
/* Copyright (C) 2026 The mpcd authors. */
/*
 * Plaintext is wiped before it is freed, as shares are: datasets (npy,
 * CSV: the tensor and the file's bytes), weights (the ONNX and
 * safetensors files' bytes, protobuf-c's copies, the model's tensors),
 * the scaled copies of weights made while sharing them, and results
 * (ftensor_free). Each free path goes through ftensor_wipe_free, whose
 * byte count these tests read around the normal loading and running
 * paths; a path that frees without wiping leaves the count short.
 */
#include <stdio.h>

#include "eval.h"
#include "files_util.h"
#include "ftensor.h"
#include "model.h"
#include "npy.h"
#include "sim_model.h"
#include "test.h"

static size_t file_size(const char *path)
{
	size_t len = 0;
	uint8_t *b = slurp(path, &len);

	free(b);
	return len;
}

/* Bytes of every weight tensor the model holds. */
static uint64_t weight_bytes(const struct model *m)
{
	uint64_t w = 0;

	for (size_t i = 0; i < m->n_values; i++)
		if (m->values[i].init.data)
			w += m->values[i].init.n * sizeof(float);
	return w;
}

TEST(wipe_datasets)
{
	struct ftensor t = { 0 }, back = { 0 };
	int64_t d[2] = { 16, 5 };
	const char *npy = tmp_path("rows.npy"), *csv = tmp_path("rows.csv");
	uint64_t w0, w1, w2;
	FILE *f;

	ASSERT_OK(ftensor_alloc(&t, 2, d));
	fill_seq(&t, 1.5f);
	ASSERT_OK(npy_save_f32(npy, &t));
	w0 = ftensor_wiped_bytes();
	ASSERT_OK(npy_load(npy, &back));
	w1 = ftensor_wiped_bytes();
	/* the file's bytes, once parsed */
	ASSERT_U64_EQ(w1 - w0, file_size(npy));
	ftensor_free(&back);
	w2 = ftensor_wiped_bytes();
	/* the records themselves */
	ASSERT_U64_EQ(w2 - w1, 16 * 5 * sizeof(float));
	ASSERT(!back.data);

	ASSERT((f = fopen(csv, "w")));
	fputs("1.5,2\n3,4\n5,6.25\n", f);
	ASSERT(fclose(f) == 0);
	w0 = ftensor_wiped_bytes();
	ASSERT_OK(csv_load(csv, &back));
	w1 = ftensor_wiped_bytes();
	ASSERT_U64_EQ(w1 - w0, file_size(csv));
	ftensor_free(&back);
	ASSERT_U64_EQ(ftensor_wiped_bytes() - w1, 6 * sizeof(float));
	ftensor_free(&t);
	tmp_cleanup();
	return 0;
}

TEST(wipe_weights)
{
	struct model *m = NULL;
	const char *onnx = test_fixture("wine_mlp/model.onnx");
	uint64_t w0, w1, wb;

	/* weights inside the ONNX file: its bytes and protobuf-c's copies of them */
	w0 = ftensor_wiped_bytes();
	ASSERT_OK(model_load_onnx(onnx, &m));
	w1 = ftensor_wiped_bytes();
	wb = weight_bytes(m);
	ASSERT(wb > 0);
	ASSERT(w1 - w0 >= file_size(onnx) + wb);
	/* the model's own tensors */
	model_free(m);
	ASSERT(ftensor_wiped_bytes() - w1 >= wb);

	/* weights from safetensors: the file's bytes once bound, the tensors at the end */
	m = NULL;
	ASSERT_OK(model_load_onnx(test_fixture("digits_mlp/model_noweights.onnx"), &m));
	w0 = ftensor_wiped_bytes();
	ASSERT_OK(model_bind_safetensors(m, test_fixture("digits_mlp/weights.safetensors")));
	w1 = ftensor_wiped_bytes();
	ASSERT(w1 - w0 >= file_size(test_fixture("digits_mlp/weights.safetensors")));
	wb = weight_bytes(m);
	model_free(m);
	ASSERT(ftensor_wiped_bytes() - w1 >= wb);
	return 0;
}

/* Sharing the weights makes scaled (and transposed) float copies: wiped too. */
TEST(wipe_scaled_weights)
{
	struct ftensor x0, x1;
	struct model *m = NULL;
	uint64_t w0, wb;

	ASSERT_OK(npy_load(test_fixture("wine_mlp/input_party0.npy"), &x0));
	ASSERT_OK(npy_load(test_fixture("wine_mlp/input_party1.npy"), &x1));
	ASSERT_OK(model_load_onnx(test_fixture("wine_mlp/model.onnx"), &m));
	{
		struct eval_part part[2] = {
			{ .owner = 0, .ndim = 2, .dims = { 64, 7 }, .data = x0.data },
			{ .owner = 1, .ndim = 2, .dims = { 64, 6 }, .data = x1.data },
		};
		struct eval_input in = { .n_parts = 2, .axis = 1, .parts = part };
		struct sim_model s = { .md = m, .n_parties = 2, .frac = 16, .owner = 1,
				       .inputs = &in };
		int64_t d[1][FT_MAX_DIMS] = { { 64, 13 } };
		int nd = 2;

		ASSERT_OK(model_infer(m, (const int64_t(*)[FT_MAX_DIMS])d, &nd));
		wb = weight_bytes(m);
		w0 = ftensor_wiped_bytes();
		ASSERT_OK(sim_model_run(&s));
		/* every weight went through a scaled copy, wiped after sharing */
		ASSERT(ftensor_wiped_bytes() - w0 >= wb);
		w0 = ftensor_wiped_bytes();
		/* the revealed result is plaintext: wiped when freed */
		sim_model_free(&s);
		ASSERT(ftensor_wiped_bytes() - w0 >= 64 * 3 * sizeof(float));
	}
	model_free(m);
	ftensor_free(&x0);
	ftensor_free(&x1);
	return 0;
}
