/* SPDX-License-Identifier: MIT */
/* Copyright (C) 2026 The mpcd authors. */
/*
 * Model import and the plaintext reference on the public fixtures and the
 * benchmark models, the malformed ONNX files, and mutated model bytes.
 */
#include <math.h>
#include <stdint.h>

#include "err.h"
#include "ftensor.h"
#include "model.h"
#include "npy.h"
#include "test.h"

#define ASSERT_FAIL(call, code, word)                                                             \
	do {                                                                                      \
		int rf_ = (call);                                                                 \
		if (rf_ != (code))                                                                \
			TEST_FAIL("%s: %d != %s (%s)", #call, rf_, #code, mpc_errmsg(rf_));       \
		if (!strstr(mpc_errmsg(rf_), (word)))                                             \
			TEST_FAIL("%s: message '%s' lacks '%s'", #call, mpc_errmsg(rf_), (word)); \
	} while (0)

static const char *const fixtures[] = {
	"digits_mlp", "tiny_cnn", "digits_resavg", "digits_bn_softmax", "iris_logreg", "wine_mlp",
};
#define NFX (sizeof(fixtures) / sizeof(fixtures[0]))

static const char *fpath(const char *dir, const char *file)
{
	static char buf[4][512];
	static unsigned k;
	char *b = buf[k++ % 4];

	snprintf(b, sizeof(buf[0]), "%s/%s", dir, file);
	return test_fixture(b);
}

static int infer1(struct model *m, const struct ftensor *x)
{
	return model_infer(m, (const int64_t(*)[FT_MAX_DIMS]) & x->dims, &x->ndim);
}

static double max_abs_diff(const struct ftensor *a, const struct ftensor *b)
{
	double d = 0;
	size_t i;

	ASSERT_EQ(a->ndim, b->ndim);
	ASSERT(!memcmp(a->dims, b->dims, (size_t)a->ndim * sizeof(int64_t)));
	for (i = 0; i < a->n; i++)
		d = fmax(d, test_diff(a->data[i], b->data[i]));
	return d;
}

static void check_fixture(const char *dir, int noweights)
{
	struct ftensor x = { 0 }, want = { 0 }, y = { 0 };
	struct model *m = NULL;
	double d;

	ASSERT_OK(
		model_load_onnx(fpath(dir, noweights ? "model_noweights.onnx" : "model.onnx"), &m));
	if (noweights)
		ASSERT_OK(model_bind_safetensors(m, fpath(dir, "weights.safetensors")));
	ASSERT_EQ(m->n_inputs, 1);
	ASSERT_EQ(m->n_outputs, 1);
	ASSERT_EQ(m->opset, 13);
	ASSERT_OK(npy_load(fpath(dir, "input.npy"), &x));
	ASSERT_OK(npy_load(fpath(dir, "expected.npy"), &want));
	ASSERT_OK(infer1(m, &x));
	ASSERT_OK(model_ref_eval(m, &x, &y));
	d = max_abs_diff(&y, &want);
	if (d > 1e-4)
		TEST_FAIL("%s%s: max abs diff %g", dir, noweights ? " (noweights)" : "", d);
	ftensor_free(&y);
	/* A second inference at another batch reuses the loaded model. */
	x.dims[0] = 3;
	ASSERT_OK(infer1(m, &x));
	ASSERT_EQ(m->values[m->outputs[0]].dims[0], 3);
	ftensor_free(&x);
	ftensor_free(&want);
	model_free(m);
}

TEST(model_fixtures_ref)
{
	size_t i;

	for (i = 0; i < NFX; i++)
		check_fixture(fixtures[i], 0);
	return 0;
}

TEST(model_fixtures_noweights_bind)
{
	size_t i;

	for (i = 0; i < NFX; i++)
		check_fixture(fixtures[i], 1);
	return 0;
}

TEST(model_noweights_unbound)
{
	struct ftensor x = { 0 };
	struct model *m = NULL;

	ASSERT_OK(model_load_onnx(fpath("digits_mlp", "model_noweights.onnx"), &m));
	/* The weights are graph inputs but not data inputs. */
	ASSERT_EQ(m->n_inputs, 1);
	ASSERT_OK(npy_load(fpath("digits_mlp", "input.npy"), &x));
	ASSERT_FAIL(infer1(m, &x), MPC_E_ARG, "weight '0.weight' is not bound: pass --weights");
	/* Weights for another model: names match nothing here. */
	ASSERT_FAIL(model_bind_safetensors(m, fpath("tiny_cnn", "weights.safetensors")),
		    MPC_E_FORMAT, "conv.");
	ASSERT_FAIL(infer1(m, &x), MPC_E_ARG, "is not bound");
	ASSERT_OK(model_bind_safetensors(m, fpath("digits_mlp", "weights.safetensors")));
	ASSERT_OK(infer1(m, &x));
	/* Binding twice is refused: the weights are already there. */
	ASSERT_FAIL(model_bind_safetensors(m, fpath("digits_mlp", "weights.safetensors")),
		    MPC_E_FORMAT, "already");
	model_free(m);
	/* Same-named tensors of the wrong shape (iris and wine share names). */
	ASSERT_OK(model_load_onnx(fpath("iris_logreg", "model_noweights.onnx"), &m));
	ASSERT_FAIL(model_bind_safetensors(m, fpath("digits_mlp", "weights.safetensors")),
		    MPC_E_SHAPE, "but the model declares");
	model_free(m);
	ftensor_free(&x);
	return 0;
}

static void bench_model(const char *path, int ndim, const int64_t *dims1)
{
	struct ftensor x1 = { 0 }, x64 = { 0 }, y1 = { 0 }, y64 = { 0 };
	int64_t d[FT_MAX_DIMS] = { 0 };
	struct model *m = NULL;
	size_t i, per;

	ASSERT_OK(model_load_onnx(path, &m));
	ASSERT_EQ(m->n_inputs, 1);
	memcpy(d, dims1, (size_t)ndim * sizeof(*d));
	ASSERT_OK(ftensor_alloc(&x1, ndim, d));
	d[0] = 64;
	ASSERT_OK(ftensor_alloc(&x64, ndim, d));
	per = x1.n;
	for (i = 0; i < x64.n; i++)
		x64.data[i] = (float)((i * 2654435761u) % 1000) / 1000.0f;
	memcpy(x1.data, x64.data + 5 * per, per * sizeof(float));
	ASSERT_OK(infer1(m, &x1));
	ASSERT_OK(model_ref_eval(m, &x1, &y1));
	ASSERT_OK(infer1(m, &x64));
	ASSERT_OK(model_ref_eval(m, &x64, &y64));
	ASSERT_EQ(y1.ndim, 2);
	ASSERT_EQ(y1.dims[0], 1);
	ASSERT_EQ(y64.dims[0], 64);
	ASSERT_EQ(y64.dims[1], y1.dims[1]);
	for (i = 0; i < y1.n; i++) {
		ASSERT(isfinite(y1.data[i]));
		ASSERT_NEAR(y1.data[i], y64.data[5 * y1.n + i], 1e-5);
	}
	/* The declared fixed dims are enforced. */
	d[0] = 1;
	d[ndim - 1] += 1;
	ASSERT_FAIL(model_infer(m, (const int64_t(*)[FT_MAX_DIMS]) & d, &ndim), MPC_E_SHAPE,
		    "declares");
	ftensor_free(&x1);
	ftensor_free(&x64);
	ftensor_free(&y1);
	ftensor_free(&y64);
	model_free(m);
}

TEST(model_bench_models)
{
	static const int64_t lenet[] = { 1, 1, 28, 28 }, secureml[] = { 1, 784 };

	bench_model("bench/models/lenet.onnx", 4, lenet);
	bench_model("bench/models/secureml.onnx", 2, secureml);
	return 0;
}

TEST(onnx_malformed_fixtures)
{
	struct model *m = NULL;

	ASSERT_FAIL(model_load_onnx(test_fixture("malformed/onnx_truncated.onnx"), &m),
		    MPC_E_FORMAT, "protobuf");
	ASSERT(!m);
	ASSERT_FAIL(model_load_onnx(test_fixture("malformed/onnx_unsupported_op.onnx"), &m),
		    MPC_E_UNSUPPORTED, "Einsum");
	ASSERT(strstr(mpc_errmsg(MPC_E_UNSUPPORTED), "einsum0"));
	ASSERT(!m);
	ASSERT_FAIL(model_load_onnx(test_fixture("no-such-model.onnx"), &m), MPC_E_IO, "");
	ASSERT_FAIL(model_parse_onnx((const uint8_t *)"", 0, "empty.onnx", &m), MPC_E_UNSUPPORTED,
		    "opset");
	return 0;
}

/* Parse (and when it parses, infer and maybe evaluate) mutated bytes. */
static unsigned try_bytes(const uint8_t *b, size_t len, const struct ftensor *x)
{
	struct ftensor y[4];
	struct model *m = NULL;
	size_t i, total = 0;
	int ret, ok = 1;

	ret = model_parse_onnx(b, len, "mutant.onnx", &m);
	if (ret) {
		ASSERT(ret < 0 && !m);
		ASSERT(*mpc_errmsg(ret));
		return 0;
	}
	if (m->n_inputs == 1 && infer1(m, x) == 0 && m->n_outputs <= 4) {
		for (i = 0; i < m->n_values; i++)
			total += ftensor_count(m->values[i].ndim, m->values[i].dims, &ok);
		/* Only cheap mutants are evaluated: dims may have grown. */
		if (ok && total < ((size_t)1 << 21)) {
			memset(y, 0, sizeof(y));
			ASSERT_OK(model_ref_eval(m, x, y));
			for (i = 0; i < m->n_outputs; i++)
				ftensor_free(&y[i]);
		}
	}
	model_free(m);
	return 1;
}

TEST(onnx_mutation)
{
	uint64_t s = 0x9e3779b97f4a7c15ull;
	size_t f, i, len;
	unsigned parsed = 0, tries = 0;

	for (f = 0; f < NFX; f++) {
		struct ftensor x = { 0 };
		uint8_t *orig = NULL, *b;

		ASSERT_OK(file_read_all(fpath(fixtures[f], "model.onnx"), 1 << 20, &orig, &len));
		ASSERT_OK(npy_load(fpath(fixtures[f], "input.npy"), &x));
		x.dims[0] = 2; /* keep the data: only the first two rows are read */
		b = malloc(len);
		ASSERT(b);
		for (i = 0; i < len; i += 1 + len / 2000, tries++) {
			memcpy(b, orig, len);
			b[i] ^= (uint8_t)(1u << (i % 8));
			parsed += try_bytes(b, len, &x);
		}
		for (i = 0; i < 400; i++, tries++) {
			int k, nmut = 1 + (int)(s % 4);

			memcpy(b, orig, len);
			for (k = 0; k < nmut; k++) {
				s = s * 6364136223846793005ull + 1442695040888963407ull;
				b[(s >> 20) % len] = (uint8_t)(s >> 40);
			}
			parsed += try_bytes(b, len, &x);
		}
		for (i = 0; i < len; i += 1 + len / 1000, tries++)
			parsed += try_bytes(orig, i, &x);
		free(b);
		free(orig);
		ftensor_free(&x);
	}
	printf("# onnx_mutation: %u of %u mutants parsed\n", parsed, tries);
	return 0;
}
