#!/usr/bin/python3
# SPDX-License-Identifier: MIT
# Copyright (C) 2026 The mpcd authors.
"""ONNX backend node tests as mpcctl simulate cases (tests/onnx_node/run.sh).

    pb2npy.py NODEDIR OUTDIR OPS [NAME...]

NODEDIR holds the node tests as python3-onnx generates them
(test_X/model.onnx, test_X/test_data_set_0/input_N.pb, output_N.pb). The
selection is every test whose nodes all have an op type in OPS (a comma
list), plus every NAME given (the claimed tests, converted even when not
selected). For each, OUTDIR/test_X/ gets:

    model.onnx     the test's graph with every input but the first made an
                   initializer: in a model those are the owner's weights
                   and, for integer tensors (Reshape's shape), public
                   constants; the first input stays the parties' data
    input.npy      input 0 in its own dtype; when the test has no input or
                   input 0 is a sequence or an optional, one float 0 (the
                   model is what mpcctl must refuse, not a missing file)
    input.name     input 0's name ("input" when there is none)
    expected.npy   output 0 as float32 (absent when it is not a tensor)

and stdout has one line per test: NAME selected|claimed.
"""
import os
import sys

import numpy as np
import onnx
from onnx import numpy_helper


def read_tensor(path):
    t = onnx.TensorProto()
    with open(path, "rb") as f:
        t.ParseFromString(f.read())
    return numpy_helper.to_array(t)


def convert(src, dst):
    m = onnx.load(os.path.join(src, "model.onnx"))
    data = os.path.join(src, "test_data_set_0")
    os.makedirs(dst, exist_ok=True)
    g = m.graph
    inputs = list(g.input)
    for k, vi in enumerate(inputs):
        if not vi.type.HasField("tensor_type"):
            continue  # a sequence or optional: left for the loader to refuse
        arr = read_tensor(os.path.join(data, "input_%d.pb" % k))
        if k == 0:
            np.save(os.path.join(dst, "input.npy"), arr)
            continue
        g.initializer.append(numpy_helper.from_array(arr, vi.name))
        g.input.remove(vi)
    if not inputs or not inputs[0].type.HasField("tensor_type"):
        np.save(os.path.join(dst, "input.npy"), np.zeros(1, np.float32))
    with open(os.path.join(dst, "input.name"), "w") as f:
        f.write((inputs[0].name if inputs else "input") + "\n")
    if g.output and g.output[0].type.HasField("tensor_type"):
        out = read_tensor(os.path.join(data, "output_0.pb"))
        np.save(os.path.join(dst, "expected.npy"), out.astype(np.float32))
    onnx.save(m, os.path.join(dst, "model.onnx"))


def main():
    if len(sys.argv) < 4:
        sys.exit("usage: pb2npy.py NODEDIR OUTDIR OPS [NAME...]")
    src, dst, ops = sys.argv[1], sys.argv[2], set(sys.argv[3].split(","))
    claimed = set(sys.argv[4:])
    for name in sorted(os.listdir(src)):
        path = os.path.join(src, name, "model.onnx")
        if not os.path.isfile(path):
            continue
        types = {n.op_type for n in onnx.load(path).graph.node}
        selected = bool(types) and types <= ops
        if not selected and name not in claimed:
            continue
        convert(os.path.join(src, name), os.path.join(dst, name))
        print(name, "selected" if selected else "claimed")
    missing = claimed - set(os.listdir(src))
    for name in sorted(missing):
        print(name, "missing")


if __name__ == "__main__":
    main()
