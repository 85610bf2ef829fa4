/* SPDX-License-Identifier: MIT */
/* Copyright (C) 2026 The mpcd authors. */
#ifndef MPC_MODEL_H
#define MPC_MODEL_H

#include <stddef.h>
#include <stdint.h>

#include "ftensor.h"

/*
 * A neural network as imported from ONNX (the supported subset), with its
 * weights bound and its shapes inferred. This is plaintext, public
 * structure plus the model owner's float weights; the protocol layer turns
 * it into secret-shared evaluation, and model_ref_eval() evaluates it in
 * double precision as the plaintext reference.
 *
 * Life cycle:
 *   model_load_onnx()        parse + validate every node and attribute
 *   model_bind_safetensors() optional: weights for graph inputs by name
 *   model_infer()            concrete data-input shapes -> every shape
 *   model_ref_eval()         optional plaintext reference
 *   model_free()
 */

#define MODEL_MAX_IN 8
/* Most outputs of a Split. */
#define MODEL_MAX_SPLIT 64

enum model_op {
	MOP_GEMM,      /* in: A, B[, C]; alpha, beta, trans_a, trans_b */
	MOP_MATMUL,    /* in: A, B (numpy matmul, rank 2 or batched rank>2 with B rank 2) */
	MOP_ADD,       /* in: A, B, numpy broadcasting */
	MOP_SUB,       /* in: A, B, numpy broadcasting */
	MOP_MUL,       /* in: A, B; broadcasting; at least one side constant */
	MOP_RELU,
	MOP_CONV,      /* in: X[N,C,H,W], W[M,C/group,kh,kw][, B[M]]; or 1-D: X[N,C,L], W[M,C/g,k] */
	MOP_MAXPOOL,   /* 1-D [N,C,L] or 2-D [N,C,H,W] */
	MOP_AVGPOOL,   /* 1-D [N,C,L] or 2-D [N,C,H,W] */
	MOP_GAVGPOOL,  /* GlobalAveragePool: [N,C,H,W] -> [N,C,1,1], [N,C,L] -> [N,C,1] */
	MOP_BATCHNORM, /* in: X, scale, B, mean, var (all constants but X); epsilon */
	MOP_FLATTEN,   /* axis */
	MOP_RESHAPE,   /* in: X, shape (public; resolved into node->shape by model_infer, 0 and -1 too) */
	MOP_CONCAT,    /* axis (normalised to >= 0 by model_infer) */
	MOP_IDENTITY,  /* Identity and Dropout (inference: identity) */
	MOP_SIGMOID,
	MOP_SOFTMAX,   /* axis, normalised >= 0; rows: model_softmax_rows */
	MOP_LOGSOFTMAX, /* axis, as Softmax */
	MOP_PAD,        /* constant 0; pads (all begins, then all ends) in shape[], shape_n */
	/* Data movement (model_layout.c): the same elements, moved; local on shares. */
	MOP_TRANSPOSE, /* perm */
	MOP_SLICE,     /* Slice, and each output of a Split (split_n > 0): sl_* after model_infer */
	MOP_SQUEEZE,   /* axes (attribute, or input 1 from opset 13) */
	MOP_UNSQUEEZE, /* axes (attribute, or input 1 from opset 13) */
	MOP_EXPAND,    /* in: X, shape (public) */
	MOP_GATHER,    /* in: data, indices: public (model_layout.c), or secret ids into a weight table (eval_tf_norm.c) */
	/* Public structure only: folded by model_infer (node->folded), never secret. */
	MOP_SHAPE,     /* shape_start, shape_end (opset 15) */
	MOP_CAST,      /* to; on a secret tensor only to a float type (identity) */
	MOP_DIV,       /* public integers: folded; else A / B on shares (eval_tf.c) */
	MOP_CONSTOFSHAPE, /* fill (an integer value) */
	MOP_RANGE,
	MOP_EQUAL,
	MOP_WHERE,
	/* transformer ops (model_infer_tf.c, model_ref_tf.c, protocol/eval_tf*.c) */
	MOP_POW,       /* in: X; exponent 2, 3 or 0.5 from its constant input */
	MOP_SQRT,
	MOP_ERF,
	MOP_TANH,
	MOP_GELU,      /* gelu_tanh: approximate="tanh" */
	MOP_REDUCEMEAN, /* axes as in the file (model_reduce_sel), keepdims */
	MOP_REDUCESUM,
	MOP_REDUCEMAX,
	MOP_LAYERNORM, /* in: X, Scale[, B]; axis (normalised >= 0), epsilon */
	MOP_COUNT_
};

const char *model_op_name(enum model_op op);

struct model;
struct model_node;
/*
 * Softmax and LogSoftmax of an inferred node as [outer, k, inner], the
 * middle axis normalised: opset >= 13 one axis; before, every axis from
 * axis on flattened into k (inner 1).
 */
void model_softmax_rows(const struct model *m, const struct model_node *n, size_t *outer,
			size_t *k, size_t *inner);

enum model_auto_pad {
	MODEL_PAD_NOTSET,
	MODEL_PAD_VALID,
	MODEL_PAD_SAME_UPPER,
	MODEL_PAD_SAME_LOWER,
};

struct model_value {
	char *name;
	int ndim;                  /* -1 until known */
	int64_t dims[FT_MAX_DIMS]; /* after model_infer(): all >= 0 */
	struct ftensor init;       /* constant data (initializer / bound weight); init.data NULL if none */
	int is_data_input;         /* a graph input the user supplies (not a weight) */
	/*
	 * Public integers (docs/security.md): an integer constant's exact
	 * values (INT64, INT32, BOOL initializers; owned, init.n of them),
	 * is_public when the value is such a constant or computed only from
	 * them and from shapes (set at import), and after model_infer() the
	 * values of every public one in known (ints, or folded).
	 */
	int64_t *ints;
	int is_public;
	const int64_t *known;
	int is_output;             /* a graph output */
	int decl_type;             /* a graph input's or output's declared ONNX element type, 0 if none */
	int shape_only;            /* a weight known by its declared shape, no data (another party's) */
};

struct model_node {
	enum model_op op;
	char *name;       /* ONNX node name, or "<op>_<index>" when empty */
	int n_in;
	int in[MODEL_MAX_IN]; /* value indices; -1 for an omitted optional input */
	int out;              /* value index */

	/* Gemm */
	float alpha, beta;
	int trans_a, trans_b;
	/*
	 * Conv / pools, always in 2-D layout: pads = {top, left, bottom,
	 * right}. A 1-D op is the 2-D one on a height of 1 (index 0 is 1 for
	 * kernel, strides, dilations and 0 for pads). sdims: the attributes'
	 * spatial rank (1 or 2), 0 when none was given. auto_pad SAME_* pads
	 * are computed into pads by model_infer.
	 */
	int kernel[2], strides[2], pads[4], dilations[2], group;
	int sdims, ceil_mode, auto_pad; /* auto_pad: enum model_auto_pad */
	int count_include_pad; /* AveragePool */
	/* Flatten, Concat, Softmax */
	int axis;
	/* BatchNormalization */
	float epsilon;
	/*
	 * Gemm, MatMul, Conv with a weight as second operand, Mul by a weight,
	 * BatchNormalization not folded (wexp: max |a|, max |b|):
	 * the model owner's published magnitudes (docs/security.md), as the
	 * evaluator uses the weights (alpha, beta applied; BatchNormalization
	 * folded): wexp[0] = ceil(log2 of the largest L1 norm of the weights
	 * one output sums; for Mul max |c|), wexp[1] = ceil(log2 max |bias|);
	 * MODEL_WEXP_NONE for none or all zeros. MODEL_WEXP_UNSET: not
	 * published (the weights take the activations' scale).
	 */
	int wexp[2];
	/* Reshape and Expand: target shape from the public second input (model_infer); Pad: its pads */
	int shape_n;
	int64_t shape[FT_MAX_DIMS];
	/* Computed in public by model_infer (Shape, and every op on public integers only): skipped by the evaluators. */
	int folded;
	/* Transpose */
	int perm_n, perm[FT_MAX_DIMS];
	/* Squeeze/Unsqueeze (opset < 13) and Slice (opset < 10) attributes; axes_n -1 if absent */
	int axes_n, starts_n, ends_n;
	int64_t axes[FT_MAX_DIMS], starts[FT_MAX_DIMS], ends[FT_MAX_DIMS];
	/* Split lowered to Slices: output split_k of split_n; sizes from split (attribute) or input 1 */
	int split_n, split_k, split_attr_n;
	int64_t split_attr[FT_MAX_DIMS];
	/* Slice/Split after model_infer: per input axis, first element and step */
	int64_t sl_start[FT_MAX_DIMS], sl_step[FT_MAX_DIMS];
	/* Shape (opset 15), Cast, ConstantOfShape */
	int64_t shape_start, shape_end; /* shape_end INT64_MAX: to the end */
	int cast_to;
	int64_t fill;
	/* Pow: the exponent, from its constant second input */
	float exponent;
	/* ReduceMean/Sum/Max: axes above (attribute or constant input), keepdims */
	int keepdims, noop_empty;
	/* Gelu */
	int gelu_tanh;
	/*
	 * 1 when input 2 of the file's node (Pow's exponent, Reduce's axes)
	 * was a constant read at import: the public graph carries it.
	 */
	int const_in;
};

/*
 * sel[d] = 1 for each axis d a Reduce node reduces, for an input of rank
 * r (checked by model_infer): its axes, or all when it has none (unless
 * noop_with_empty_axes, then none).
 */
void model_reduce_sel(const struct model_node *n, int r, int sel[FT_MAX_DIMS]);

struct model {
	size_t n_values;
	struct model_value *values;
	size_t n_nodes;
	struct model_node *nodes; /* topological order */
	size_t n_inputs;
	int *inputs;              /* data inputs, in graph order */
	size_t n_outputs;
	int *outputs;
	int64_t opset;
	char *path;               /* where it was loaded from, for messages */
	int64_t **fold;           /* per value: folded values made by model_infer (owned) */
};

/*
 * Parse an ONNX ModelProto (proto/onnx.proto subset via protobuf-c),
 * default domain only, opset 7..21. Initializers as raw_data (little
 * endian) or typed float_data / double_data / int64_data / int32_data;
 * FLOAT, DOUBLE, FLOAT16, INT64, INT32 element types. Every node's op and
 * attributes are checked here: an unsupported op, attribute or attribute
 * value fails with MPC_E_UNSUPPORTED and a message naming the node, the op
 * and what is missing, e.g.
 *   "model.onnx: node 'einsum0': unsupported operator 'Einsum'".
 * Constant nodes become initializers. Integer constants and what is
 * computed from them and from Shape are public (value.is_public, folded
 * nodes, model_fold.c): a shape, axes, slice bounds or Gather indices must
 * be public, or the node is refused. A Split becomes one Slice per output.
 * Graph inputs that are initializers are weights.
 */
int model_load_onnx(const char *path, struct model **out);
int model_parse_onnx(const uint8_t *buf, size_t len, const char *name, struct model **out);

/*
 * Bind weights by name from a safetensors file: every graph input that is
 * not yet constant and has a tensor of the same name gets it (shape must
 * match the declared one: MPC_E_SHAPE naming the tensor). Tensors naming
 * no input are an error (MPC_E_FORMAT) so a wrong weights file is caught.
 */
int model_bind_safetensors(struct model *m, const char *path);

/*
 * Given the concrete shape of each data input (in m->inputs order), fill
 * every value's dims. Checks that each declared input shape is compatible
 * (a symbolic or -1 dim accepts anything, others must match) and every
 * op's operand shapes; also fails if a non-data graph input still has no
 * weight ("weight '0.weight' is not bound: pass --weights"). Folds every
 * public node for these shapes (value.known; Reshape and Expand targets
 * into node.shape, Slice bounds into node.sl_*): call it again for other
 * rows, a chunk's Shape is the chunk's.
 * Errors: MPC_E_SHAPE "node 'Gemm_0' (Gemm): A [64, 13] and B [8, 12] ..."
 */
int model_infer(struct model *m, const int64_t (*in_dims)[FT_MAX_DIMS], const int *in_ndim);

/*
 * Plaintext reference in double precision: inputs in m->inputs order,
 * outputs allocated in m->outputs order (caller frees each with
 * ftensor_free). Requires model_infer() first.
 */
int model_ref_eval(const struct model *m, const struct ftensor *inputs, struct ftensor *outputs);
/*
 * The same, and absmax[v] (m->n_values entries, set by the caller) raised
 * to the largest |x| each node's output v took: what `simulate` checks
 * against the safe fixed-point range.
 */
int model_ref_eval_range(const struct model *m, const struct ftensor *inputs,
			 struct ftensor *outputs, double *absmax);

/*
 * The public graph: what the model owner sends the other parties of a job
 * instead of its file. Built new from an allowlist (model/model_public.c
 * lists it): the nodes, their scalar and list attributes, the data inputs
 * and outputs with their declared shapes, every weight (any value no node
 * computes: initializers of every type, Constant nodes, bound safetensors)
 * as a graph input with its shape and no data, and as the only data the
 * public integer constants (Reshape targets, axes, indices, the inputs of
 * shape computations) as INT64. No doc strings, metadata, producer or unknown
 * fields. The same graph and weight shapes give the same bytes however
 * the weights are stored. m is the model imported from onnx (weights
 * bound: they tell weights from data), or NULL to import it here. Refused
 * (MPC_E_UNSUPPORTED, naming the tensor or node) when a weight would have
 * to be shown: an attribute holding a tensor or graph, a constant used both
 * as a shape and as an operand; MPC_E_SHAPE for a weight without a fixed
 * shape. *out is malloc'd; NULL and 0 on failure.
 */
int model_public_graph(const uint8_t *onnx, size_t len, const struct model *m, uint8_t **out,
		       size_t *out_len);

/*
 * The structural limits a job relies on, checked by every party on the
 * model it holds or received (MPC_E_UNSUPPORTED, naming what is wrong):
 * exactly one graph output, computed by a node (not an input or a weight
 * revealed as it is), and at least one data input.
 */
int model_check_job(const struct model *m);

/*
 * The public graph hash: lowercase hex SHA-256 of the public graph's bytes
 * exactly as the model owner sends them (what `mpcctl inspect` prints and
 * `[Policy] AllowModels` lists). hex has MODEL_HASH_HEX bytes with the NUL.
 */
#define MODEL_HASH_HEX 65
void model_public_hash(const uint8_t *pub, size_t len, char hex[MODEL_HASH_HEX]);

/*
 * On a party without the weights: every graph input not named in
 * data_inputs is a weight known by its declared shape only (all dims must
 * be fixed: MPC_E_SHAPE otherwise). model_infer then accepts them without
 * data and the secure evaluator shares them from their owner;
 * model_ref_eval refuses such a model.
 */
int model_declare_weights(struct model *m, const char *const *data_inputs, size_t n);

/* Weight magnitudes (struct model_node.wexp). */
#define MODEL_WEXP_NONE (-1024)
#define MODEL_WEXP_UNSET 1024

/*
 * On the weights' owner, before BatchNormalization is folded (the result
 * is what the folded weights need, computed the way eval_fold_batchnorm
 * folds them): every eligible node's wexp from its weights' values; nodes
 * whose weights have no data here get MODEL_WEXP_UNSET.
 */
void model_weight_exps(struct model *m);
/* The same into exps[k][0..1] for node k, m unchanged. */
void model_weight_exps_of(const struct model *m, int (*exps)[2]);
/*
 * The nodes' wexp as text, "node:wexp0:wexp1" joined by ';' (malloc'd,
 * "" when none; NULL when out of memory): what the model owner sends
 * beside the public graph (JobModel.weight_exp), and its strict reader on
 * the others (MPC_E_FORMAT naming what is wrong; every node not named is
 * unset).
 */
char *model_weight_exps_format(const struct model *m);
int model_weight_exps_parse(struct model *m, const char *text);

/*
 * BatchNormalization folding, decided on the graph and the weights' shapes
 * only (every party decides alike): the Conv or Gemm node the BatchNorm
 * node bn folds into, or NULL; its coefficients a = scale / sqrt(var +
 * eps), b = B - mean a per channel (the owner only: ch floats each); the
 * channel of element i of the linear node's weight.
 */
struct model_node *model_fold_target(const struct model *m, const struct model_node *bn);
void model_fold_coeffs(const struct model *m, const struct model_node *bn, float *a, float *b);
size_t model_fold_chan(const struct model *m, const struct model_node *lin, size_t i);

void model_free(struct model *m);
/* Frees what model_infer() folded (m->fold); known pointers into it are cleared. */
void model_fold_free(struct model *m);

/*
 * Data movement (Transpose, Slice, Expand, Gather) after model_infer():
 * for each output element (C order) the index of the input element it
 * copies, map has the output's element count. The plaintext reference,
 * the folding of public integers and the secure evaluator all use it.
 */
int model_layout_map(const struct model *m, const struct model_node *n, size_t *map);
/* 1 when input slot i of op n takes public structure (a shape, axes, indices), not data. */
int model_public_slot(const struct model_node *n, int i);
/* The name of an ONNX element type ("INT64"), "type N" if unknown. */
const char *model_type_name(int type);

#endif
