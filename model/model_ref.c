/* SPDX-License-Identifier: MIT */
/* Copyright (C) 2026 The mpcd authors. */
/*
 * Plaintext reference evaluator in double precision: the yardstick for the
 * secure evaluator's accuracy and the baseline of the benchmarks. It trusts
 * the shapes model_infer() checked; each value lives in one double buffer
 * from the node that makes it to its last use.
 */
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "model.h"
#include "model_int.h"

struct rctx {
	const struct model *m;
	const struct model_node *n;
	double **buf;
};

#define VAL(c, i) (&(c)->m->values[(c)->n->in[i]])
#define INB(c, i) ((c)->buf[(c)->n->in[i]])
#define YV(c) (&(c)->m->values[(c)->n->out])
#define YB(c) ((c)->buf[(c)->n->out])

static size_t count(const struct model_value *v)
{
	size_t n = 1;
	int i;

	for (i = 0; i < v->ndim; i++)
		n *= (size_t)v->dims[i];
	return n;
}

static size_t span(const struct model_value *v, int from, int to)
{
	size_t n = 1;

	for (; from < to; from++)
		n *= (size_t)v->dims[from];
	return n;
}

/*
 * The two inner loops of Gemm and Conv. Unrolled by hand with restrict so
 * that -O2 vectorises them; the partial sums of dot() add in another order
 * than a plain loop, which is immaterial in double precision.
 */
static void axpy(double *restrict y, const double *restrict x, double a, size_t n)
{
	size_t i = 0;

	for (; i + 4 <= n; i += 4) {
		y[i] += a * x[i];
		y[i + 1] += a * x[i + 1];
		y[i + 2] += a * x[i + 2];
		y[i + 3] += a * x[i + 3];
	}
	for (; i < n; i++)
		y[i] += a * x[i];
}

static double dot(const double *restrict a, const double *restrict b, size_t n)
{
	double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
	size_t i = 0;

	for (; i + 4 <= n; i += 4) {
		s0 += a[i] * b[i];
		s1 += a[i + 1] * b[i + 1];
		s2 += a[i + 2] * b[i + 2];
		s3 += a[i + 3] * b[i + 3];
	}
	for (; i < n; i++)
		s0 += a[i] * b[i];
	return (s0 + s1) + (s2 + s3);
}

/* Y = alpha * op(A) op(B) [+ beta * C]; MatMul is the plain M x K x N case. */
static int k_gemm(struct rctx *c)
{
	const struct model_node *n = c->n;
	const struct model_value *bv = VAL(c, 1), *yv = YV(c);
	const double *a = INB(c, 0), *b = INB(c, 1);
	int gemm = n->op == MOP_GEMM, ta = gemm && n->trans_a, tb = gemm && n->trans_b;
	double alpha = gemm ? n->alpha : 1.0, *y = YB(c), *row = NULL;
	size_t N = (size_t)yv->dims[yv->ndim - 1], M = count(yv) / (N ? N : 1);
	size_t K = (size_t)(tb ? bv->dims[1] : bv->dims[0]), i, j, k;

	if (ta && !(row = malloc((K ? K : 1) * sizeof(*row))))
		return mpc_fail(MPC_E_NOMEM, "out of memory");
	for (i = 0; i < M; i++) {
		double *yr = y + i * N;
		const double *ar = a + i * K;

		if (ta) {
			for (k = 0; k < K; k++)
				row[k] = a[k * M + i];
			ar = row;
		}
		if (tb) {
			for (j = 0; j < N; j++)
				yr[j] = alpha * dot(ar, b + j * K, K);
			continue;
		}
		memset(yr, 0, N * sizeof(*yr));
		for (k = 0; k < K; k++)
			axpy(yr, b + k * N, ar[k], N);
		for (j = 0; j < N && alpha != 1.0; j++)
			yr[j] *= alpha;
	}
	free(row);
	if (gemm && n->n_in > 2 && n->in[2] >= 0) {
		const struct model_value *cv = VAL(c, 2);
		const double *cb = INB(c, 2);
		size_t si = cv->ndim == 2 && cv->dims[0] != 1 ? (size_t)cv->dims[1] : 0;
		size_t sj = cv->ndim >= 1 && cv->dims[cv->ndim - 1] != 1;

		for (i = 0; i < M; i++)
			for (j = 0; j < N; j++)
				y[i * N + j] += n->beta * cb[i * si + j * sj];
	}
	return 0;
}

static double binop(enum model_op op, double x, double z)
{
	return op == MOP_ADD ? x + z : op == MOP_SUB ? x - z : op == MOP_DIV ? x / z : x * z;
}

/* numpy broadcasting: walk the output, stepping each operand by its strides (0 where broadcast). */
static int k_binary(struct rctx *c)
{
	const struct model_value *av = VAL(c, 0), *bv = VAL(c, 1), *yv = YV(c);
	const double *a = INB(c, 0), *b = INB(c, 1);
	size_t sa[FT_MAX_DIMS] = { 0 }, sb[FT_MAX_DIMS] = { 0 }, idx[FT_MAX_DIMS] = { 0 };
	size_t total = count(yv), inner, oa = 0, ob = 0, i, j, stra = 1, strb = 1;
	enum model_op op = c->n->op;
	double *y = YB(c);
	int r = yv->ndim, d;

	if (count(av) == total && count(bv) == total) {
		for (i = 0; i < total; i++)
			y[i] = binop(op, a[i], b[i]);
		return 0;
	}
	if (r == 0) {
		y[0] = binop(op, a[0], b[0]);
		return 0;
	}
	for (d = r - 1; d >= 0; d--) {
		int ia = d - (r - av->ndim), ib = d - (r - bv->ndim);

		if (ia >= 0) {
			sa[d] = av->dims[ia] == 1 ? 0 : stra;
			stra *= (size_t)av->dims[ia];
		}
		if (ib >= 0) {
			sb[d] = bv->dims[ib] == 1 ? 0 : strb;
			strb *= (size_t)bv->dims[ib];
		}
	}
	inner = (size_t)yv->dims[r - 1];
	for (i = 0; i < total; i += inner) {
		for (j = 0; j < inner; j++)
			y[i + j] = binop(op, a[oa + j * sa[r - 1]], b[ob + j * sb[r - 1]]);
		for (d = r - 2; d >= 0; d--) {
			oa += sa[d];
			ob += sb[d];
			if (++idx[d] < (size_t)yv->dims[d])
				break;
			oa -= sa[d] * idx[d];
			ob -= sb[d] * idx[d];
			idx[d] = 0;
		}
	}
	return 0;
}

/* Height and width of a 1-D [N, C, L] (height 1) or 2-D [N, C, H, W] tensor. */
static void plane(const struct model_value *v, int64_t *h, int64_t *w)
{
	*h = v->ndim == 4 ? v->dims[2] : 1;
	*w = v->dims[v->ndim - 1];
}

/* Patch matrix of a conv tile: at most this many doubles, to stay in cache. */
#define CONV_COL_MAX (1 << 15)

/*
 * col[k][t] = input cell under kernel tap k = (ch, i, j) for output pixel
 * p0 + t of one image and group (0 in the padding).
 */
static void conv_cols(const struct model_node *n, const double *x, int64_t Cg, int64_t H, int64_t W,
		      int64_t OW, int64_t p0, int64_t nt, double *col)
{
	int64_t kh = n->kernel[0], kw = n->kernel[1], ch, i, j, t;

	for (ch = 0; ch < Cg; ch++) {
		for (i = 0; i < kh; i++) {
			for (j = 0; j < kw; j++) {
				int64_t oh = p0 / OW, ow = p0 % OW;
				const double *xp = x + ch * H * W;

				for (t = 0; t < nt; t++) {
					int64_t ih = oh * n->strides[0] - n->pads[0] +
						     i * n->dilations[0];
					int64_t iw = ow * n->strides[1] - n->pads[1] +
						     j * n->dilations[1];

					col[t] = ih >= 0 && ih < H && iw >= 0 && iw < W
							 ? xp[ih * W + iw]
							 : 0;
					if (++ow == OW) {
						ow = 0;
						oh++;
					}
				}
				col += nt;
			}
		}
	}
}

/* im2col in tiles, then each output channel is a row of W times the patch matrix. */
static int k_conv(struct rctx *c)
{
	const struct model_node *n = c->n;
	const struct model_value *xv = VAL(c, 0), *yv = YV(c);
	const double *w = INB(c, 1);
	const double *bias = n->n_in > 2 && n->in[2] >= 0 ? INB(c, 2) : NULL;
	int64_t N = xv->dims[0], C = xv->dims[1], H, W, OH, OW;
	int64_t M = yv->dims[1], P;
	int64_t Cg = C / n->group, Mg = M / n->group, K = Cg * n->kernel[0] * n->kernel[1];
	int64_t T, b, g, m, k, t, p0, nt;
	double *col;

	plane(xv, &H, &W);
	plane(yv, &OH, &OW);
	P = OH * OW;
	T = K * P <= CONV_COL_MAX ? P : (CONV_COL_MAX / K ? CONV_COL_MAX / K : 1);
	if (!(col = malloc((size_t)(K * T + 1) * sizeof(*col))))
		return mpc_fail(MPC_E_NOMEM, "out of memory");
	for (b = 0; b < N; b++) {
		for (g = 0; g < n->group; g++) {
			const double *x = INB(c, 0) + (b * C + g * Cg) * H * W;

			for (p0 = 0; p0 < P; p0 += nt) {
				nt = P - p0 < T ? P - p0 : T;
				conv_cols(n, x, Cg, H, W, OW, p0, nt, col);
				for (m = g * Mg; m < (g + 1) * Mg; m++) {
					double *y = YB(c) + (b * M + m) * P + p0;
					const double *wr = w + m * K;

					for (t = 0; t < nt; t++)
						y[t] = bias ? bias[m] : 0.0;
					for (k = 0; k < K; k++)
						axpy(y, col + k * nt, wr[k], (size_t)nt);
				}
			}
		}
	}
	free(col);
	return 0;
}

/*
 * Max ignores padded cells; the mean divides by the real cells, or with
 * count_include_pad by the window clipped to the padded input (a ceil-mode
 * window reaching past the padding counts only what it covers, as in
 * PyTorch and onnxruntime).
 */
/* A cell a dilated MaxPool window (oh, ow) reads: on its grid of taps. */
static int on_grid(const struct model_node *n, int64_t oh, int64_t ow, int64_t h, int64_t w)
{
	int64_t dh = h - (oh * n->strides[0] - n->pads[0]), dw = w - (ow * n->strides[1] - n->pads[1]);

	return dh % n->dilations[0] == 0 && dw % n->dilations[1] == 0;
}

static int k_pool(struct rctx *c)
{
	const struct model_node *n = c->n;
	const struct model_value *xv = VAL(c, 0), *yv = YV(c);
	int64_t planes = xv->dims[0] * xv->dims[1], H, W, OH, OW, p, oh, ow, h, w;
	int is_max = n->op == MOP_MAXPOOL;

	plane(xv, &H, &W);
	plane(yv, &OH, &OW);
	for (p = 0; p < planes; p++) {
		const double *x = INB(c, 0) + p * H * W;
		double *y = YB(c) + p * OH * OW;

		for (oh = 0; oh < OH; oh++) {
			int64_t hs = oh * n->strides[0] - n->pads[0],
				he = hs + (int64_t)n->dilations[0] * (n->kernel[0] - 1) + 1;
			int64_t fh = (he < H + n->pads[2] ? he : H + n->pads[2]) - hs;

			hs = hs < 0 ? 0 : hs;
			he = he > H ? H : he;
			for (ow = 0; ow < OW; ow++) {
				int64_t ws = ow * n->strides[1] - n->pads[1],
					we = ws + (int64_t)n->dilations[1] * (n->kernel[1] - 1) + 1;
				int64_t fw = (we < W + n->pads[3] ? we : W + n->pads[3]) - ws;
				double acc = is_max ? -INFINITY : 0.0, div;

				ws = ws < 0 ? 0 : ws;
				we = we > W ? W : we;
				for (h = hs; h < he; h++) {
					const double *xr = x + h * W;

					for (w = ws; w < we; w++)
						if (!is_max)
							acc += xr[w];
						else if (xr[w] > acc && on_grid(n, oh, ow, h, w))
							acc = xr[w];
				}
				div = n->count_include_pad ? (double)(fh * fw) :
							     (double)((he - hs) * (we - ws));
				y[oh * OW + ow] = is_max ? acc : acc / div;
			}
		}
	}
	return 0;
}

static int k_gavgpool(struct rctx *c)
{
	const struct model_value *xv = VAL(c, 0);
	size_t planes = span(xv, 0, 2), hw = span(xv, 2, xv->ndim), p, i;

	for (p = 0; p < planes; p++) {
		const double *x = INB(c, 0) + p * hw;
		double s = 0;

		for (i = 0; i < hw; i++)
			s += x[i];
		YB(c)[p] = s / (double)hw;
	}
	return 0;
}

static int k_batchnorm(struct rctx *c)
{
	const struct model_value *xv = VAL(c, 0);
	const double *sc = INB(c, 1), *bi = INB(c, 2), *mean = INB(c, 3), *var = INB(c, 4);
	size_t C = (size_t)xv->dims[1], inner = span(xv, 2, xv->ndim), outer = (size_t)xv->dims[0];
	size_t o, ch, i;

	for (o = 0; o < outer; o++) {
		for (ch = 0; ch < C; ch++) {
			double a = sc[ch] / sqrt(var[ch] + c->n->epsilon),
			       b = bi[ch] - mean[ch] * a;
			const double *x = INB(c, 0) + (o * C + ch) * inner;
			double *y = YB(c) + (o * C + ch) * inner;

			for (i = 0; i < inner; i++)
				y[i] = x[i] * a + b;
		}
	}
	return 0;
}

static int k_concat(struct rctx *c)
{
	const struct model_value *yv = YV(c);
	int ax = c->n->axis, k;
	size_t outer = span(yv, 0, ax), inner = span(yv, ax + 1, yv->ndim), o;
	double *y = YB(c);

	for (o = 0; o < outer; o++) {
		for (k = 0; k < c->n->n_in; k++) {
			size_t blk = (size_t)VAL(c, k)->dims[ax] * inner;

			memcpy(y, INB(c, k) + o * blk, blk * sizeof(*y));
			y += blk;
		}
	}
	return 0;
}

static int k_softmax(struct rctx *c)
{
	int lg = c->n->op == MOP_LOGSOFTMAX;
	size_t outer, D, inner, o, i, d;

	model_softmax_rows(c->m, c->n, &outer, &D, &inner);

	for (o = 0; o < outer; o++) {
		for (i = 0; i < inner; i++) {
			const double *x = INB(c, 0) + o * D * inner + i;
			double *y = YB(c) + o * D * inner + i, mx = -INFINITY, s = 0;

			for (d = 0; d < D; d++)
				mx = x[d * inner] > mx ? x[d * inner] : mx;
			for (d = 0; d < D; d++)
				s += (y[d * inner] = exp(x[d * inner] - mx));
			for (d = 0; d < D; d++)
				y[d * inner] = lg ? x[d * inner] - mx - log(s) : y[d * inner] / s;
		}
	}
	return 0;
}

/* Pad: each input row (last axis) lands at its offset in a zeroed output. */
static int k_pad(struct rctx *c)
{
	const struct model_value *xv = VAL(c, 0), *yv = YV(c);
	const struct model_node *n = c->n;
	size_t total = count(yv), inner, rows, idx[FT_MAX_DIMS] = { 0 };
	int r = xv->ndim;

	memset(YB(c), 0, total * sizeof(double));
	if (r == 0 || !count(xv))
		return 0;
	inner = (size_t)xv->dims[r - 1];
	rows = count(xv) / inner;
	for (size_t i = 0; i < rows; i++) {
		size_t off = 0;

		for (int d = 0; d < r; d++)
			off = off * (size_t)yv->dims[d] + (d < r - 1 ? idx[d] : 0) + (size_t)n->shape[d];
		memcpy(YB(c) + off, INB(c, 0) + i * inner, inner * sizeof(double));
		for (int d = r - 2; d >= 0 && ++idx[d] == (size_t)xv->dims[d]; d--)
			idx[d] = 0;
	}
	return 0;
}

static int k_unary(struct rctx *c)
{
	size_t n = count(YV(c)), i;
	const double *x = INB(c, 0);
	double *y = YB(c);

	switch (c->n->op) {
	case MOP_RELU:
		for (i = 0; i < n; i++)
			y[i] = x[i] > 0 ? x[i] : 0.0;
		break;
	case MOP_SIGMOID:
		for (i = 0; i < n; i++)
			y[i] = 1.0 / (1.0 + exp(-x[i]));
		break;
	default: /* Identity, Flatten, Reshape: same elements, new shape */
		if (y != x)
			memcpy(y, x, n * sizeof(*y));
		break;
	}
	return 0;
}

/* Transpose, Slice, Expand, Gather: each output element copies one input element. */
static int k_layout(struct rctx *c)
{
	size_t n = count(YV(c)), *map = malloc((n ? n : 1) * sizeof(*map));
	const double *x = INB(c, 0);
	double *y = YB(c);
	int ret;

	if (!map)
		return mpc_fail(MPC_E_NOMEM, "out of memory");
	if ((ret = model_layout_map(c->m, c->n, map)) == 0)
		for (size_t i = 0; i < n; i++)
			y[i] = x[map[i]];
	free(map);
	return ret;
}

static int run_node(struct rctx *c)
{
	switch (c->n->op) {
	case MOP_GATHER: /* secret indices: model_ref_tf.c */
		if (!VAL(c, 1)->known)
			return model_ref_tf(c->m, c->n, c->buf);
		return k_layout(c);
	case MOP_TRANSPOSE:
	case MOP_SLICE:
	case MOP_EXPAND:
		return k_layout(c);
	case MOP_GEMM:
		return k_gemm(c);
	case MOP_MATMUL:
		if (VAL(c, 1)->ndim != 2)
			return model_ref_tf(c->m, c->n, c->buf);
		return k_gemm(c);
	case MOP_ADD:
	case MOP_SUB:
	case MOP_MUL:
	case MOP_DIV:
		return k_binary(c);
	case MOP_CONV:
		return k_conv(c);
	case MOP_MAXPOOL:
	case MOP_AVGPOOL:
		return k_pool(c);
	case MOP_GAVGPOOL:
		return k_gavgpool(c);
	case MOP_BATCHNORM:
		return k_batchnorm(c);
	case MOP_CONCAT:
		return k_concat(c);
	case MOP_SOFTMAX:
	case MOP_LOGSOFTMAX:
		return k_softmax(c);
	case MOP_PAD:
		return k_pad(c);
	case MOP_POW:
	case MOP_SQRT:
	case MOP_ERF:
	case MOP_TANH:
	case MOP_GELU:
	case MOP_REDUCEMEAN:
	case MOP_REDUCESUM:
	case MOP_REDUCEMAX:
	case MOP_LAYERNORM:
		return model_ref_tf(c->m, c->n, c->buf);
	default:
		return k_unary(c);
	}
}

static double *to_double(const float *src, size_t n)
{
	double *d = malloc((n ? n : 1) * sizeof(*d));
	size_t i;

	for (i = 0; d && i < n; i++)
		d[i] = src[i];
	return d;
}

static float to_float(double d)
{
	if (d > FLT_MAX)
		return INFINITY;
	if (d < -FLT_MAX)
		return -INFINITY;
	return (float)d;
}

/*
 * Ops whose output element i depends only on input element i: they may
 * overwrite an input that dies with them, which spares fresh pages.
 */
static int elementwise(enum model_op op)
{
	return op == MOP_RELU || op == MOP_SIGMOID || op == MOP_IDENTITY || op == MOP_FLATTEN ||
	       op == MOP_RESHAPE || op == MOP_SQUEEZE || op == MOP_UNSQUEEZE || op == MOP_CAST;
}

/* Data inputs and constants as doubles. */
static int load_buffers(struct rctx *c, const struct ftensor *inputs)
{
	const struct model *m = c->m;
	size_t i;

	for (i = 0; i < m->n_inputs; i++) {
		const struct model_value *v = &m->values[m->inputs[i]];

		if (!(c->buf[m->inputs[i]] = to_double(inputs[i].data, count(v))))
			return mpc_fail(MPC_E_NOMEM, "out of memory");
	}
	for (i = 0; i < m->n_values; i++) {
		const struct ftensor *t = &m->values[i].init;

		if (t->data && !(c->buf[i] = to_double(t->data, t->n)))
			return mpc_fail(MPC_E_NOMEM, "out of memory");
	}
	return 0;
}

/* Each input's shape must be the one model_infer() was given. */
static int check_inputs(const struct model *m, const struct ftensor *inputs)
{
	char a[MODEL_SHAPE_STR], b[MODEL_SHAPE_STR];
	size_t i;

	for (i = 0; i < m->n_values; i++)
		if (m->values[i].ndim < 0)
			return mpc_fail(MPC_E_ARG, "model_ref_eval: run model_infer() first");
	for (i = 0; i < m->n_inputs; i++) {
		const struct model_value *v = &m->values[m->inputs[i]];

		if (inputs[i].ndim != v->ndim ||
		    memcmp(inputs[i].dims, v->dims, (size_t)v->ndim * sizeof(int64_t)) ||
		    (count(v) && !inputs[i].data))
			return mpc_fail(
				MPC_E_SHAPE,
				"input '%s' has shape %s but the model was inferred for %s",
				v->name,
				ftensor_shape_str(inputs[i].ndim, inputs[i].dims, a, sizeof(a)),
				ftensor_shape_str(v->ndim, v->dims, b, sizeof(b)));
	}
	return 0;
}

int model_ref_eval(const struct model *m, const struct ftensor *inputs, struct ftensor *outputs)
{
	return model_ref_eval_range(m, inputs, outputs, NULL);
}

int model_ref_eval_range(const struct model *m, const struct ftensor *inputs,
			 struct ftensor *outputs, double *absmax)
{
	struct rctx c = { .m = m };
	size_t i, k, nout = 0;
	size_t *last = NULL;
	int ret = MPC_E_INTERNAL;

	for (i = 0; i < m->n_values; i++)
		if (m->values[i].shape_only) {
			ret = mpc_fail(MPC_E_ARG, "weight '%s' has no data here", m->values[i].name);
			goto out;
		}
	if ((ret = check_inputs(m, inputs)) != 0)
		goto out;
	if (!(c.buf = calloc(m->n_values + 1, sizeof(*c.buf))) ||
	    !(last = calloc(m->n_values + 1, sizeof(*last)))) {
		ret = mpc_fail(MPC_E_NOMEM, "out of memory");
		goto out;
	}
	for (i = 0; i < m->n_nodes; i++)
		for (k = 0; k < (size_t)m->nodes[i].n_in; k++)
			if (m->nodes[i].in[k] >= 0)
				last[m->nodes[i].in[k]] = i;
	for (i = 0; i < m->n_outputs; i++)
		last[m->outputs[i]] = m->n_nodes;
	if ((ret = load_buffers(&c, inputs)) != 0)
		goto out;
	for (i = 0; i < m->n_nodes; i++) {
		size_t n;
		int inplace;

		c.n = &m->nodes[i];
		if (c.n->folded)
			continue; /* public: its value is in known, read where it is used */
		n = count(YV(&c));
		inplace = elementwise(c.n->op) && last[c.n->in[0]] == i && !VAL(&c, 0)->init.data;
		if (inplace) {
			YB(&c) = INB(&c, 0);
		} else if (!(YB(&c) = malloc((n ? n : 1) * sizeof(double)))) {
			ret = mpc_fail(MPC_E_NOMEM, "out of memory");
			goto out;
		}
		ret = run_node(&c);
		if (inplace)
			INB(&c, 0) = NULL; /* now owned as the output */
		if (ret)
			goto out;
		for (k = 0; absmax && k < n; k++)
			absmax[c.n->out] = fmax(absmax[c.n->out], fabs(YB(&c)[k]));
		/* Free what no later node reads; constants are cheap to keep. */
		for (k = 0; k < (size_t)c.n->n_in; k++) {
			int v = c.n->in[k];

			if (v >= 0 && last[v] == i && !m->values[v].init.data) {
				free(c.buf[v]);
				c.buf[v] = NULL;
			}
		}
	}
	for (nout = 0; nout < m->n_outputs; nout++) {
		const struct model_value *v = &m->values[m->outputs[nout]];

		if (!c.buf[m->outputs[nout]]) {
			ret = mpc_fail(MPC_E_UNSUPPORTED,
				       "graph output '%s' is computed from shapes only: an output "
				       "that does not depend on the data is not supported",
				       v->name);
			goto out;
		}
		if ((ret = ftensor_alloc(&outputs[nout], v->ndim, v->dims)) != 0)
			goto out;
		for (k = 0; k < outputs[nout].n; k++)
			outputs[nout].data[k] = to_float(c.buf[m->outputs[nout]][k]);
	}
	ret = 0;
out:
	if (ret)
		for (k = 0; k < nout; k++)
			ftensor_free(&outputs[k]);
	for (i = 0; c.buf && i < m->n_values; i++)
		free(c.buf[i]);
	free(c.buf);
	free(last);
	return ret;
}
