/* SPDX-License-Identifier: MIT */
/* Copyright (C) 2026 The mpcd authors. */
#ifndef MPC_MODEL_INT_H
#define MPC_MODEL_INT_H

/* Private to model/model*.c. */

#include "model.h"

#define MODEL_SHAPE_STR 200
/* Largest kernel extent taken from a weight shape (matches the importer). */
#define MODEL_KERNEL_MAX (1 << 20)

int model_find_value(const struct model *m, const char *name);
/* 1 when some node computes value v. */
int model_produced(const struct model *m, int v);
/* Does a concrete shape fit v's declared shape (kept in v->init, see model.c)? */
int model_decl_match(const struct model_value *v, int ndim, const int64_t *dims);
const char *model_decl_str(const struct model_value *v, char *buf, size_t len);

/* "node 'n' (Op): ..." */
int model_node_fail(const struct model_node *n, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
size_t model_numel(const struct model_value *v);
/* Public input `slot` of n as at most FT_MAX_DIMS integers (what: "axes", for messages). */
int model_public_list(const struct model *m, const struct model_node *n, int slot,
		      const char *what, int64_t *out, int *cnt);
/* model_layout.c: output shape of Transpose, Slice, Squeeze, Unsqueeze, Expand, Gather. */
int model_infer_layout(struct model *m, struct model_node *n);
/*
 * model_fold.c. At import: which values are public integers and which
 * nodes are computed in public (refusing a public slot fed by a secret
 * value, and ops that exist only for public integers on secret ones).
 * At inference: the output shape of the public-only ops, and the values
 * of every folded node.
 */
int model_mark_public(struct model *m, const char *file);
int model_infer_public(struct model *m, struct model_node *n);
int model_fold_node(struct model *m, struct model_node *n);
/*
 * The transformer ops (model_infer_tf.c, model_ref_tf.c): shape inference
 * of Reduce*, LayerNormalization, Gather and batched MatMul, and their
 * plaintext kernels with those of the element-wise ones (buf: per value).
 */
int model_infer_tf(struct model *m, struct model_node *n);
int model_ref_tf(const struct model *m, const struct model_node *n, double **buf);

#endif
