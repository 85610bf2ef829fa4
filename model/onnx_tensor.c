/* SPDX-License-Identifier: MIT */
/* Copyright (C) 2026 The mpcd authors. */
/*
 * ONNX tensors and declared types: TensorProto data (raw little endian or
 * the typed fields) into float constants, with every count and dim checked
 * against what the message really holds.
 */
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "onnx_int.h"

typedef Mpconnx__TensorProto tproto;
typedef Mpconnx__ValueInfoProto viproto;

static float half_to_float(uint16_t h)
{
	unsigned e = (h >> 10) & 0x1f, f = h & 0x3ff;
	float v;

	if (e == 0)
		v = ldexpf((float)f, -24);
	else if (e == 31)
		v = f ? NAN : INFINITY;
	else
		v = ldexpf((float)(f | 0x400), (int)e - 25);
	return (h & 0x8000) ? -v : v;
}

static uint64_t le_get(const uint8_t *p, size_t w)
{
	uint64_t v = 0;

	while (w--)
		v = (v << 8) | p[w];
	return v;
}

/* One element of raw little-endian data, widened to double. */
static double raw_elem(const uint8_t *p, int type)
{
	uint64_t u;
	uint32_t u32;
	double d;
	float f;

	switch (type) {
	case MPCONNX__TENSOR_PROTO__DATA_TYPE__FLOAT:
		u32 = (uint32_t)le_get(p, 4);
		memcpy(&f, &u32, 4);
		return f;
	case MPCONNX__TENSOR_PROTO__DATA_TYPE__DOUBLE:
		u = le_get(p, 8);
		memcpy(&d, &u, 8);
		return d;
	case MPCONNX__TENSOR_PROTO__DATA_TYPE__FLOAT16:
		return half_to_float((uint16_t)le_get(p, 2));
	case MPCONNX__TENSOR_PROTO__DATA_TYPE__INT64:
		return (double)(int64_t)le_get(p, 8);
	case MPCONNX__TENSOR_PROTO__DATA_TYPE__INT32:
		return (double)(int32_t)(uint32_t)le_get(p, 4);
	default: /* BOOL */
		return p[0] != 0;
	}
}

static size_t elem_size(int type)
{
	switch (type) {
	case MPCONNX__TENSOR_PROTO__DATA_TYPE__FLOAT:
	case MPCONNX__TENSOR_PROTO__DATA_TYPE__INT32:
		return 4;
	case MPCONNX__TENSOR_PROTO__DATA_TYPE__DOUBLE:
	case MPCONNX__TENSOR_PROTO__DATA_TYPE__INT64:
		return 8;
	case MPCONNX__TENSOR_PROTO__DATA_TYPE__FLOAT16:
		return 2;
	case MPCONNX__TENSOR_PROTO__DATA_TYPE__BOOL:
		return 1;
	}
	return 0;
}

/* The typed field a data_type is stored in, and its length. */
static size_t typed_count(const tproto *t, int type)
{
	switch (type) {
	case MPCONNX__TENSOR_PROTO__DATA_TYPE__FLOAT:
		return t->n_float_data;
	case MPCONNX__TENSOR_PROTO__DATA_TYPE__DOUBLE:
		return t->n_double_data;
	case MPCONNX__TENSOR_PROTO__DATA_TYPE__INT64:
		return t->n_int64_data;
	default:
		return t->n_int32_data;
	}
}

static double typed_elem(const tproto *t, int type, size_t i)
{
	switch (type) {
	case MPCONNX__TENSOR_PROTO__DATA_TYPE__FLOAT:
		return t->float_data[i];
	case MPCONNX__TENSOR_PROTO__DATA_TYPE__DOUBLE:
		return t->double_data[i];
	case MPCONNX__TENSOR_PROTO__DATA_TYPE__INT64:
		return (double)t->int64_data[i];
	case MPCONNX__TENSOR_PROTO__DATA_TYPE__FLOAT16:
		return half_to_float((uint16_t)t->int32_data[i]);
	case MPCONNX__TENSOR_PROTO__DATA_TYPE__BOOL:
		return t->int32_data[i] != 0;
	default:
		return t->int32_data[i];
	}
}

/* Exact value of element i of an INT64, INT32 or BOOL tensor (public integers). */
static int64_t int_elem(const tproto *t, int type, size_t i)
{
	if (type == MPCONNX__TENSOR_PROTO__DATA_TYPE__BOOL)
		return t->has_raw_data ? t->raw_data.data[i] != 0 : t->int32_data[i] != 0;
	if (type == MPCONNX__TENSOR_PROTO__DATA_TYPE__INT64)
		return t->has_raw_data ? (int64_t)le_get(t->raw_data.data + i * 8, 8)
				       : t->int64_data[i];
	return t->has_raw_data ? (int32_t)(uint32_t)le_get(t->raw_data.data + i * 4, 4)
			       : t->int32_data[i];
}

/*
 * A TensorProto into a float constant of value idx. Integer tensors that
 * could be a Reshape shape also keep their exact int64 values.
 */
int onnx_load_tensor(struct ld *l, const tproto *t, int idx)
{
	struct model_value *v = &l->m->values[idx];
	int64_t dims[FT_MAX_DIMS];
	size_t n, i, esz, nsrc;
	int type = t->data_type, ok = 1, ret;
	int is_int = type == MPCONNX__TENSOR_PROTO__DATA_TYPE__INT64 ||
		     type == MPCONNX__TENSOR_PROTO__DATA_TYPE__INT32 ||
		     type == MPCONNX__TENSOR_PROTO__DATA_TYPE__BOOL;

	if ((t->has_data_location &&
	     t->data_location == MPCONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL) ||
	    t->n_external_data)
		return mpc_fail(MPC_E_UNSUPPORTED,
				"%s: tensor '%s': external data is not supported (save the model "
				"with its weights inside)",
				l->file, v->name);
	if (t->segment)
		return mpc_fail(MPC_E_UNSUPPORTED,
				"%s: tensor '%s': segmented tensors are not supported", l->file,
				v->name);
	if (!(esz = elem_size(type)))
		return mpc_fail(MPC_E_UNSUPPORTED,
				"%s: tensor '%s': element type %s is not supported (FLOAT, DOUBLE, "
				"FLOAT16, INT64, INT32 and BOOL are)",
				l->file, v->name, model_type_name(type));
	if (t->n_dims > FT_MAX_DIMS)
		return mpc_fail(MPC_E_UNSUPPORTED, "%s: tensor '%s': rank %zu (at most %d)",
				l->file, v->name, t->n_dims, FT_MAX_DIMS);
	for (i = 0; i < t->n_dims; i++) {
		if (t->dims[i] < 0)
			return mpc_fail(MPC_E_FORMAT, "%s: tensor '%s': negative dim %lld", l->file,
					v->name, (long long)t->dims[i]);
		dims[i] = t->dims[i];
	}
	n = ftensor_count((int)t->n_dims, dims, &ok);
	if (!ok || n > FT_MAX_ELEMS)
		return mpc_fail(MPC_E_TOOBIG, "%s: tensor '%s': too many elements", l->file,
				v->name);
	if (n == 0)
		return mpc_fail(MPC_E_UNSUPPORTED,
				"%s: tensor '%s' has no elements (empty tensors are not supported)",
				l->file, v->name);
	nsrc = !!t->has_raw_data + !!t->n_float_data + !!t->n_int32_data + !!t->n_int64_data +
	       !!t->n_double_data + !!t->n_uint64_data + !!t->n_string_data;
	if (nsrc != 1)
		return mpc_fail(MPC_E_FORMAT, "%s: tensor '%s': %s", l->file, v->name,
				nsrc ? "data in more than one field" : "no data");
	if (t->has_raw_data ? t->raw_data.len != n * esz : typed_count(t, type) != n)
		return mpc_fail(MPC_E_FORMAT,
				"%s: tensor '%s': data does not hold the %zu elements of its shape",
				l->file, v->name, n);
	if ((ret = ftensor_alloc(&v->init, (int)t->n_dims, dims)) != 0)
		return mpc_fail_ctx(ret, "%s: tensor '%s'", l->file, v->name);
	if (is_int && !(v->ints = calloc(n, sizeof(*v->ints))))
		return mpc_fail(MPC_E_NOMEM, "%s: tensor '%s'", l->file, v->name);
	for (i = 0; i < n; i++) {
		double d = t->has_raw_data ? raw_elem(t->raw_data.data + i * esz, type)
					   : typed_elem(t, type, i);

		if (!isfinite(d) || fabs(d) > FLT_MAX)
			return mpc_fail(MPC_E_RANGE,
					"%s: tensor '%s': element %zu is not a finite float",
					l->file, v->name, i);
		v->init.data[i] = (float)d;
		if (is_int)
			v->ints[i] = int_elem(t, type, i);
	}
	v->ndim = v->init.ndim;
	memcpy(v->dims, v->init.dims, sizeof(v->dims));
	return 0;
}

/* Declared type of a graph input or output; the shape goes into init (data NULL). */
int onnx_load_decl(struct ld *l, const viproto *vp, int idx)
{
	struct model_value *v = &l->m->values[idx];
	const Mpconnx__TypeProto__Tensor *tt;
	size_t i;

	if (!vp->type || vp->type->value_case != MPCONNX__TYPE_PROTO__VALUE_TENSOR_TYPE ||
	    !vp->type->tensor_type)
		return mpc_fail(MPC_E_UNSUPPORTED, "%s: graph value '%s' is not a tensor", l->file,
				v->name);
	tt = vp->type->tensor_type;
	if (tt->has_elem_type && tt->elem_type != MPCONNX__TENSOR_PROTO__DATA_TYPE__FLOAT &&
	    tt->elem_type != MPCONNX__TENSOR_PROTO__DATA_TYPE__DOUBLE &&
	    tt->elem_type != MPCONNX__TENSOR_PROTO__DATA_TYPE__FLOAT16 &&
	    tt->elem_type != MPCONNX__TENSOR_PROTO__DATA_TYPE__INT64 &&
	    tt->elem_type != MPCONNX__TENSOR_PROTO__DATA_TYPE__INT32)
		return mpc_fail(
			MPC_E_UNSUPPORTED,
			"%s: graph %s '%s': element type %s is not supported (FLOAT, DOUBLE, "
			"FLOAT16%s)",
			l->file, v->is_output ? "output" : "input", v->name,
			model_type_name(tt->elem_type),
			v->is_output ? "" : ", or INT64 and INT32 such as token ids");
	v->decl_type = tt->has_elem_type ? tt->elem_type : 0;
	if (!tt->shape)
		return 0;
	if (tt->shape->n_dim > FT_MAX_DIMS)
		return mpc_fail(MPC_E_UNSUPPORTED, "%s: graph value '%s': rank %zu (at most %d)",
				l->file, v->name, tt->shape->n_dim, FT_MAX_DIMS);
	v->init.ndim = (int)tt->shape->n_dim;
	for (i = 0; i < tt->shape->n_dim; i++) {
		const Mpconnx__TensorShapeProto__Dimension *d = tt->shape->dim[i];

		int fixed =
			d->value_case == MPCONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE &&
			d->dim_value >= 0;

		v->init.dims[i] = fixed ? d->dim_value : -1;
	}
	return 0;
}
