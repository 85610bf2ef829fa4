/* SPDX-License-Identifier: MIT */
/* Copyright (C) 2026 The mpcd authors. */
#ifndef MPC_PRIM_MODELS_H
#define MPC_PRIM_MODELS_H

#include <stddef.h>

/* Write the ONNX model of a primitive: "relu" or "mul" on [n], or "matmul"
 * (128x784 by a 784x64 weight). 0 or -1. */
int prim_model_write(const char *path, const char *kind, size_t n);

#endif
