/* SPDX-License-Identifier: MIT */
/* Copyright (C) 2026 The mpcd authors. */
/*
 * Issue 10, the graph front end: what stays refused says which node and
 * why (secret indices, a float weight as a shape, a cast of data to an
 * integer, a shape used as data, an index out of range, an integer data
 * input), and data that moves across the rows cannot run in chunks.
 */
#include <string.h>

#include "eval.h"
#include "model.h"
#include "onnx_build.h"
#include "test.h"

#define I64 MPCONNX__TENSOR_PROTO__DATA_TYPE__INT64

static const int64_t k_ax0[1] = { 0 }, d1[1] = { 1 };

static void i64_scalar(struct ob *b, const char *name, const int64_t *v)
{
	ob_raw_init(b, name, I64, 0, NULL, v, sizeof(*v));
}

/* ---- refusals name the node and say why ---- */

static void refuse_case(struct ob *b, int code, const char *word, const char *node)
{
	struct model *m = NULL;
	int ret = ob_parse(b, &m);

	if (ret == 0) {
		static const int64_t dx[] = { 2, 4 };
		int nd = 2;

		ret = model_infer(m, (const int64_t(*)[FT_MAX_DIMS])dx, &nd);
	}
	if (ret != code)
		TEST_FAIL("%d != %d (%s)", ret, code, mpc_errmsg(ret));
	if (!strstr(mpc_errmsg(ret), word) || !strstr(mpc_errmsg(ret), node))
		TEST_FAIL("'%s' lacks '%s' or '%s'", mpc_errmsg(ret), word, node);
	model_free(m);
	ob_free(b);
}

static struct ob *b_x(void)
{
	static const int64_t dx[] = { -1, 4 };
	struct ob *b = ob_new(13);

	ob_io(b, 0, "x", 2, dx);
	ob_io(b, 1, "y", -1, NULL);
	return b;
}

TEST(layout_refusals)
{
	static const int64_t dw[] = { 4 }, idx = 7;
	static float w[4] = { 1, 2, 3, 4 };
	struct ob *b;
	Mpconnx__NodeProto *n;

	/* Secret indices (here computed from the data): tf-nonlin's one-hot, not this. */
	b = b_x();
	n = ob_node(b, "Relu", "r", "x", "r0");
	ob_node(b, "Gather", "g", "x,r0", "y");
	refuse_case(b, MPC_E_UNSUPPORTED, "depends on the data or a float weight", "'g' (Gather)");
	/* A float weight never becomes public structure. */
	b = b_x();
	ob_const(b, "w", 1, dw, w);
	ob_node(b, "Reshape", "rs", "x,w", "y");
	refuse_case(b, MPC_E_UNSUPPORTED, "input 'w' must be computed from shapes", "'rs'");
	/* A cast of secret data to an integer. */
	b = b_x();
	n = ob_node(b, "Cast", "c", "x", "y");
	ob_i(b, n, "to", 7);
	refuse_case(b, MPC_E_UNSUPPORTED, "to INT64 is not supported", "'c' (Cast)");
	/* A shape used as data. */
	b = b_x();
	ob_node(b, "Shape", "s", "x", "s0");
	ob_node(b, "Add", "a", "x,s0", "y");
	refuse_case(b, MPC_E_UNSUPPORTED, "public integer computed from shapes", "'a' (Add)");
	/* An index out of range, at inference. */
	b = b_x();
	i64_scalar(b, "i", &idx);
	n = ob_node(b, "Gather", "g", "x,i", "y");
	ob_i(b, n, "axis", 1);
	refuse_case(b, MPC_E_SHAPE, "out of range for axis 1 of size 4", "'g' (Gather)");
	/* Squeezing an axis that is not 1. */
	b = b_x();
	ob_shape_const(b, "ax", 1, d1);
	ob_node(b, "Squeeze", "q", "x,ax", "y");
	refuse_case(b, MPC_E_SHAPE, "is not of size 1", "'q' (Squeeze)");
	/* A string data input: the type by name, and what is accepted (token ids too). */
	b = b_x();
	b->tt[0][0].elem_type = MPCONNX__TENSOR_PROTO__DATA_TYPE__STRING;
	ob_node(b, "Identity", "id", "x", "y");
	refuse_case(b, MPC_E_UNSUPPORTED, "graph input 'x': element type STRING is not supported",
		    "token ids");
	return 0;
}

/*
 * Rows reversed by a Slice (step -1 on axis 0) keep every shape: only the
 * op itself says the rows cannot run in chunks. One chunk of all rows runs.
 */
TEST(layout_rows_moved_refused_in_chunks)
{
	static const int64_t dx[] = { 4, 4 }, st = -1, en = INT64_MIN, ax = 0, sp = -1;
	struct ob *b = b_x();
	struct model *m, *cm = NULL;
	int nd = 2;

	ob_raw_init(b, "st", I64, 1, d1, &st, sizeof(st));
	ob_raw_init(b, "en", I64, 1, d1, &en, sizeof(en));
	ob_raw_init(b, "ax", I64, 1, d1, &ax, sizeof(ax));
	ob_raw_init(b, "sp", I64, 1, d1, &sp, sizeof(sp));
	ob_node(b, "Slice", "rev", "x,st,en,ax,sp", "y");
	m = ob_load(b);
	ASSERT_OK(model_infer(m, (const int64_t(*)[FT_MAX_DIMS])dx, &nd));
	ASSERT_FAIL(eval_model_rows(m, 2, &cm), MPC_E_UNSUPPORTED,
		    "node 'rev' (Slice) moves data across the rows");
	ASSERT_OK(eval_model_rows(m, 4, &cm));
	eval_model_rows_free(cm);
	model_free(m);
	/*
	 * Unsqueeze on axis 0 moves the rows to axis 1: no op is refused, the
	 * chunk's shapes show it, and the plan runs all rows in one chunk
	 * (before: the pick failed with "output 'y' has shape [1, 1, 4]").
	 */
	b = ob_new(13);
	ob_io(b, 0, "x", 2, (const int64_t[]){ -1, 4 });
	ob_io(b, 1, "y", 3, (const int64_t[]){ 1, 4, 4 });
	ob_shape_const(b, "ax", 1, k_ax0);
	ob_node(b, "Unsqueeze", "u", "x,ax", "y");
	m = ob_load(b);
	ASSERT_OK(model_infer(m, (const int64_t(*)[FT_MAX_DIMS])dx, &nd));
	{
		size_t rows = 0;

		ASSERT_OK(eval_plan_pick(m, 16, 2, 2, 1, (size_t)1 << 30, 0, &rows));
		ASSERT_EQ(rows, 4);
		ASSERT_FAIL(eval_model_rows(m, 2, &cm), MPC_E_SHAPE, "cannot run in chunks of 2");
	}
	model_free(m);
	return 0;
}
