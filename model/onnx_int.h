/* SPDX-License-Identifier: MIT */
/* Copyright (C) 2026 The mpcd authors. */
#ifndef MPC_ONNX_INT_H
#define MPC_ONNX_INT_H

/*
 * Private to the ONNX importer (model/onnx*.c), the only code that sees the
 * protobuf-c types: never include elsewhere.
 */

#include "model.h"
#include "onnx.pb-c.h"

/* Largest kernel, stride, pad, dilation or group taken from a file. */
#define ONNX_ATTR_MAX (1 << 20)
/* Most outputs of a Split. */
#define ONNX_MAX_SPLIT MODEL_MAX_SPLIT

struct onnx_op {
	const char *name;
	enum model_op op;
	int min_in, max_in;
	int dropout; /* Dropout: identity, informational attributes */
	const char *attrs; /* accepted attribute names, space separated */
};

enum { V_INPUT, V_CONST, V_NODE };

/* What the loader knows about a value beyond struct model_value. */
struct vinfo {
	int kind;
	int uses, param_uses;
};

struct ld {
	const char *file;
	struct model *m;
	struct vinfo *vi;
	size_t cap;
	int *hash; /* value index + 1; 0 marks an empty slot */
	size_t hmask;
	const char **dead; /* Dropout mask outputs: named but unusable */
	size_t n_dead;
	const char *nname, *nop; /* node being read, for messages */
};

const struct onnx_op *onnx_op_find(const char *name);
/* 1 when input slot i of op holds a parameter (a weight), not data. */
int onnx_param_slot(enum model_op op, int i);
void onnx_node_defaults(struct model_node *n, const struct onnx_op *oi, int64_t opset);
int onnx_node_attrs(struct ld *l, const Mpconnx__NodeProto *np, const struct onnx_op *oi,
		    struct model_node *n);
int onnx_load_tensor(struct ld *l, const Mpconnx__TensorProto *t, int idx);
/* Declared type of a graph input or output; the shape goes into init (data NULL). */
int onnx_load_decl(struct ld *l, const Mpconnx__ValueInfoProto *vp, int idx);
/*
 * onnx_tf.c, the transformer ops: an attribute of theirs (1 when the
 * name is none of theirs), and a node's constant inputs read after its
 * attributes (Pow's exponent, Reduce's axes from opset 13/18).
 */
int onnx_tf_attr(struct ld *l, const Mpconnx__AttributeProto *a, struct model_node *n);
int onnx_tf_node(struct ld *l, struct model_node *n);
int onnx_nfail(struct ld *l, int err, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#endif
