/* SPDX-License-Identifier: MIT */
/* Copyright (C) 2026 The mpcd authors. */
#ifndef MPC_EVAL_TF_H
#define MPC_EVAL_TF_H

/* The transformer ops' handlers (eval_tf.c, eval_tf_norm.c), private to protocol/eval*.c. */
#include "eval-int.h"

/* Div, Pow, Sqrt, Erf, Tanh, Gelu, Reduce*, LayerNormalization, Gather. */
int ev__tf_node(struct ectx *c, const struct model_node *nd) MPC_MUST_CHECK;
/* MatMul whose second operand has batch dims (rank > 2). */
int ev__bmatmul(struct ectx *c, const struct model_node *nd) MPC_MUST_CHECK;
int ev__layernorm(struct ectx *c, const struct model_node *nd) MPC_MUST_CHECK;
int ev__gather(struct ectx *c, const struct model_node *nd) MPC_MUST_CHECK;

/*
 * Secret indices (a data input read only as Gather's indices into a
 * weight table): the table's row count V, else 0. Their owners share the
 * one-hot rows instead ([numel, V], integers at scale 0).
 */
size_t ev__onehot_rows(const struct ectx *c, int vid);
/* The same on a model alone (the memory estimate). */
size_t ev__onehot_width(const struct model *md, int vid);
int ev__share_onehot(struct ectx *c, int vid, const struct eval_input *in) MPC_MUST_CHECK;

/* Extra fractional bits a variance keeps for the inverse square root. */
int ev__var_xb(const struct ectx *c);
const struct model_value *ev__mv(struct ectx *c, int vid);
void ev__free_owned(uint64_t *p, size_t n, int owned);
/* z = a * b broadcast to the current node's output shape (1 round), either mode. */
int ev__mul_bcast(struct ectx *c, const uint64_t *a, const struct model_value *av,
		  const uint64_t *b, const struct model_value *bv, uint64_t *z) MPC_MUST_CHECK;

#endif
