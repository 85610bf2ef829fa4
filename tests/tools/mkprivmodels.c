/* SPDX-License-Identifier: MIT */
/* Copyright (C) 2026 The mpcd authors. */
/*
 * mkprivmodels: writes tests/fixtures/privacy/ (see its README.md), two
 * models whose weights a daemon must never send to another party:
 *
 *   constant_gemm  Gemm(input, W, B), W [4, 6] and B [4] float32 values of
 *                  Constant nodes
 *   int64_gemm     Gemm(input, W), W [4, 6] an INT64 initializer
 *
 * each with NAME.onnx, NAME.input.npy ([8, 6] float32), NAME.expected.npy
 * (the logits [8, 4], computed here in double precision from the exact
 * float32 inputs and weights, then checked against model_ref_eval) and
 * NAME.weights.hex: the weight tensors' raw bytes as they sit in the
 * file, 16 bytes (32 hex digits) a line, what test_privacy.sh looks for.
 *
 *   mkprivmodels DIR
 *
 * Built without make (from the top of the tree, after `make bin/mpcctl`
 * made build/gen and build/rel/libmpc.a): see the fixtures' README.md.
 * Exit status: 0 done, 2 usage; on an error it names it on stderr and aborts
 * (onnx_build.c's assertions).
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "err.h"
#include "model.h"
#include "npy.h"
#include "onnx_build.h"
#include "test.h"

#define ROWS 8
#define COLS 6
#define OUTS 4

/* Digits of well-known constants: no run of them looks like anything else. */
static const float wf[OUTS * COLS] = {
	3.14159274f,  -2.71828175f, 1.41421354f,  -1.73205078f, 2.23606801f,  -0.577215672f,
	1.61803401f,  -4.66920161f, 0.693147182f, -2.50290775f, 1.20205688f,  -0.915965617f,
	3.35988569f,  -1.30357718f, 0.261497215f, -2.68545198f, 1.09861231f,  -0.366512907f,
	4.11325026f,  -1.90211308f, 0.841470957f, -3.03576589f, 2.50662827f,  -1.14472985f,
};
static const float bf[OUTS] = { 0.618033989f, -0.434294482f, 0.918938533f, -0.785398163f };
/* Odd primes of both signs under 100 (no byte 0x0a: grep reads lines). */
static const int64_t wi[OUTS * COLS] = {
	37, -53, 71, -19, 83, -67, 29, -41, 97, -13, 59, -89,
	43, -31, 61, -79, 17, -47, 73, -23, 89, -11, 53, -97,
};

static const char *dir;

static void path(char *buf, size_t len, const char *name, const char *ext)
{
	if ((size_t)snprintf(buf, len, "%s/%s.%s", dir, name, ext) >= len)
		TEST_FAIL("path too long: %s/%s.%s", dir, name, ext);
}

static void write_file(const char *name, const char *ext, const void *data, size_t len)
{
	char p[1024];
	FILE *f;

	path(p, sizeof(p), name, ext);
	if (!(f = fopen(p, "wb")) || fwrite(data, 1, len, f) != len || fclose(f) != 0)
		TEST_FAIL("%s: cannot write", p);
}

/* 16 bytes a line; a shorter tail is left out (the tensors are multiples). */
static void write_hex(const char *name, const void *const *parts, const size_t *lens, int n)
{
	char p[1024];
	FILE *f;
	int i;
	size_t k;

	path(p, sizeof(p), name, "weights.hex");
	if (!(f = fopen(p, "w")))
		TEST_FAIL("%s: cannot write", p);
	for (i = 0; i < n; i++) {
		const uint8_t *b = parts[i];

		if (lens[i] % 16)
			TEST_FAIL("%s: part %d is %zu bytes, not a multiple of 16", name, i, lens[i]);
		for (k = 0; k < lens[i]; k++) {
			if (b[k] == '\n')
				TEST_FAIL("%s: part %d has a newline byte at %zu", name, i, k);
			fprintf(f, "%02x%s", b[k], k % 16 == 15 ? "\n" : "");
		}
	}
	if (fclose(f) != 0)
		TEST_FAIL("%s: cannot write", p);
}

/* A fixed generator: inputs in (-4, 4) with no short binary expansion. */
static void inputs(float *x, uint32_t seed)
{
	int i;

	for (i = 0; i < ROWS * COLS; i++) {
		seed = seed * 1664525u + 1013904223u;
		x[i] = (float)(((double)(seed >> 8) / (double)(1u << 24)) * 8.0 - 4.0);
	}
}

static void save(const char *name, const char *ext, int nd, const int64_t *dims, const float *v)
{
	char p[1024];
	struct ftensor t = ob_tensor(nd, dims, v);

	path(p, sizeof(p), name, ext);
	ASSERT_OK(npy_save_f32(p, &t));
	ftensor_free(&t);
}

/*
 * Pack, write NAME.onnx, NAME.input.npy and NAME.expected.npy; the plaintext
 * evaluation of the file as imported must agree with the double reference.
 */
static void finish(struct ob *b, const char *name, const float *x, const double *want)
{
	static const int64_t dx[] = { ROWS, COLS }, dy[] = { ROWS, OUTS };
	float y[ROWS * OUTS];
	size_t len;
	uint8_t *buf = ob_pack(b, &len);
	struct model *m = NULL;
	struct ftensor tx, ty;
	int i;

	write_file(name, "onnx", buf, len);
	for (i = 0; i < ROWS * OUTS; i++)
		y[i] = (float)want[i];
	save(name, "input.npy", 2, dx, x);
	save(name, "expected.npy", 2, dy, y);
	ASSERT_OK(model_parse_onnx(buf, len, name, &m));
	tx = ob_tensor(2, dx, x);
	ty = ob_eval(m, &tx, 1);
	ob_expect(&ty, 2, dy, y, 1e-3);
	ftensor_free(&tx);
	ftensor_free(&ty);
	model_free(m);
	free(buf);
	ob_free(b);
}

static struct ob *gemm(void)
{
	static const int64_t dx[] = { -1, COLS }, dy[] = { -1, OUTS };
	struct ob *b = ob_new(13);

	ob_io(b, 0, "input", 2, dx);
	ob_io(b, 1, "logits", 2, dy);
	return b;
}

static void constant_gemm(void)
{
	static const int64_t dw[] = { OUTS, COLS }, db[] = { OUTS };
	const void *parts[2] = { wf, bf };
	size_t lens[2] = { sizeof(wf), sizeof(bf) };
	struct ob *b = gemm();
	Mpconnx__NodeProto *nd;
	float x[ROWS * COLS];
	double want[ROWS * OUTS];
	int r, o, c;

	/* Constant nodes first: the graph is in topological order. */
	nd = ob_node(b, "Constant", "weight", "", "W");
	ob_t(b, nd, "value",
	     ob_raw_tensor(b, "", MPCONNX__TENSOR_PROTO__DATA_TYPE__FLOAT, 2, dw, wf, sizeof(wf)));
	nd = ob_node(b, "Constant", "bias", "", "B");
	ob_t(b, nd, "value",
	     ob_raw_tensor(b, "", MPCONNX__TENSOR_PROTO__DATA_TYPE__FLOAT, 1, db, bf, sizeof(bf)));
	nd = ob_node(b, "Gemm", "fc", "input,W,B", "logits");
	ob_i(b, nd, "transB", 1);
	inputs(x, 8);
	for (r = 0; r < ROWS; r++)
		for (o = 0; o < OUTS; o++) {
			double s = bf[o];

			for (c = 0; c < COLS; c++)
				s += (double)x[r * COLS + c] * (double)wf[o * COLS + c];
			want[r * OUTS + o] = s;
		}
	write_hex("constant_gemm", parts, lens, 2);
	finish(b, "constant_gemm", x, want);
}

static void int64_gemm(void)
{
	static const int64_t dw[] = { OUTS, COLS };
	const void *parts[1] = { wi };
	size_t lens[1] = { sizeof(wi) };
	struct ob *b = gemm();
	Mpconnx__NodeProto *nd;
	float x[ROWS * COLS];
	double want[ROWS * OUTS];
	int r, o, c;

	ob_raw_init(b, "W", MPCONNX__TENSOR_PROTO__DATA_TYPE__INT64, 2, dw, wi, sizeof(wi));
	nd = ob_node(b, "Gemm", "fc", "input,W", "logits");
	ob_i(b, nd, "transB", 1);
	inputs(x, 64);
	for (r = 0; r < ROWS; r++)
		for (o = 0; o < OUTS; o++) {
			double s = 0;

			for (c = 0; c < COLS; c++)
				s += (double)x[r * COLS + c] * (double)wi[o * COLS + c];
			want[r * OUTS + o] = s;
		}
	write_hex("int64_gemm", parts, lens, 1);
	finish(b, "int64_gemm", x, want);
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: mkprivmodels DIR\n");
		return 2;
	}
	dir = argv[1];
	constant_gemm();
	int64_gemm();
	return 0;
}
