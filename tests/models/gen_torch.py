#!/usr/bin/python3
# SPDX-License-Identifier: MIT
# Copyright (C) 2026 The mpcd authors.
"""Models exported by PyTorch, one per habit of issue 10, for the tests.

Trains small models on scikit-learn's bundled datasets (load_digits,
load_breast_cancer: no download) and exports each with torch.onnx.export
as a data scientist would, into tests/fixtures/torch/<name>/:

    model.onnx     the export (opset 13 unless the model says otherwise)
    input.npy      64 rows or fewer; the first axis is the batch
    expected.npy   PyTorch's own output on input.npy, float32

and the table of tests/fixtures/torch/README.md.

Rerun (Debian bookworm: python3-torch 1.13.1, python3-onnx 1.12,
python3-sklearn 1.2, python3-numpy 1.24; not the pyenv python3 on PATH):

    /usr/bin/python3 tests/models/gen_torch.py [OUTDIR]

OUTDIR defaults to tests/fixtures/torch. Every seed is fixed and training
runs on one thread, so a rerun on the same packages gives the same files.
"""
import io
import math
import os
import sys

import numpy as np
import onnx
import torch
import torch.nn as nn
import torch.nn.functional as F
from sklearn.datasets import load_breast_cancer, load_digits
from sklearn.model_selection import train_test_split

torch.set_num_threads(1)
HERE = os.path.dirname(os.path.abspath(__file__))
OUT = sys.argv[1] if len(sys.argv) > 1 else os.path.join(HERE, "..", "fixtures", "torch")


def digits(rows):
    """Digits scaled to [0, 1]: train x, train y, test x, test y (`rows` test rows)."""
    d = load_digits()
    x = (d.data / 16.0).astype(np.float32)
    xtr, xte, ytr, yte = train_test_split(x, d.target, test_size=rows, random_state=11,
                                          stratify=d.target)
    return xtr, ytr.astype(np.int64), xte, yte


def train(model, x, y, epochs=300, lr=0.01, loss=None, batch=256):
    """Adam, minibatches in a fixed order per epoch (seeded)."""
    torch.manual_seed(1)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    loss = loss or nn.CrossEntropyLoss()
    xt, yt = torch.as_tensor(x), torch.as_tensor(y)
    model.train()
    for _ in range(epochs):
        perm = torch.randperm(len(xt))
        for i in range(0, len(xt), batch):
            idx = perm[i:i + batch]
            opt.zero_grad()
            loss(model(xt[idx]), yt[idx]).backward()
            opt.step()
    model.eval()
    return model


def export(name, model, x, what, opset=13, names=True, dynamic=True, labels=None):
    """Export, check, and write model.onnx, input.npy, expected.npy."""
    d = os.path.join(OUT, name)
    os.makedirs(d, exist_ok=True)
    xt = torch.as_tensor(x)
    with torch.no_grad():
        expected = model(xt).numpy().astype(np.float32)
    buf = io.BytesIO()
    kw = {}
    if names:
        kw = dict(input_names=["input"], output_names=["logits"])
        if dynamic:
            kw["dynamic_axes"] = {"input": {0: "batch"}, "logits": {0: "batch"}}
    torch.onnx.export(model, (xt,), buf, opset_version=opset, do_constant_folding=True, **kw)
    m = onnx.load_from_string(buf.getvalue())
    onnx.checker.check_model(m, full_check=True)
    data = buf.getvalue()
    assert len(data) < 1 << 20, name + ": model.onnx over 1 MB"
    with open(os.path.join(d, "model.onnx"), "wb") as f:
        f.write(data)
    np.save(os.path.join(d, "input.npy"), x)
    np.save(os.path.join(d, "expected.npy"), expected)
    ops = []
    for n in m.graph.node:
        if n.op_type not in ops:
            ops.append(n.op_type)
    inp = m.graph.input[0]
    dims = [dd.dim_param or dd.dim_value for dd in inp.type.tensor_type.shape.dim]
    margin = np.sort(expected.reshape(len(expected), -1), axis=1)
    margin = margin[:, -1] - margin[:, -2] if margin.shape[1] > 1 else margin[:, 0]
    acc = "" if labels is None else ", accuracy %.3f" % (
        expected.argmax(axis=1) == labels[:len(expected)]).mean()
    print("%-18s %7d bytes, input '%s' %s, output %s%s, ops %s" %
          (name, len(data), inp.name, dims, list(expected.shape), acc, " ".join(ops)))
    return "| `%s` | %s | opset %d | `%s` %s %s | %s |" % (
        name, what, opset, inp.name, "x".join(str(v) for v in dims), x.dtype, ", ".join(ops))


# ---- the models ----

class ViewFlatten(nn.Module):
    """Conv, then the most common PyTorch flatten: x.view(x.size(0), -1)."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(1, 4, 3)
        self.fc = nn.Linear(4 * 6 * 6, 10)

    def forward(self, x):
        x = F.relu(self.conv(x))
        return self.fc(x.view(x.size(0), -1))


class MaxPoolCeil(nn.Module):
    """8x8 -> MaxPool2d(3, 2, ceil_mode=True) -> 4x4 (floor mode gives 3x3)."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(1, 4, 3, padding=1)
        self.pool = nn.MaxPool2d(3, stride=2, ceil_mode=True)
        self.flat = nn.Flatten()
        self.fc = nn.Linear(4 * 4 * 4, 10)

    def forward(self, x):
        return self.fc(self.flat(self.pool(F.relu(self.conv(x)))))


class Conv1dPools(nn.Module):
    """A digit as a 1-D signal of 64 samples: Conv1d, MaxPool1d, AvgPool1d."""

    def __init__(self):
        super().__init__()
        self.c1 = nn.Conv1d(1, 4, 5, padding=2)
        self.p1 = nn.MaxPool1d(2)
        self.c2 = nn.Conv1d(4, 8, 3, padding=1)
        self.p2 = nn.AvgPool1d(4)
        self.flat = nn.Flatten()
        self.fc = nn.Linear(8 * 8, 10)

    def forward(self, x):
        x = self.p1(F.relu(self.c1(x)))
        x = self.p2(F.relu(self.c2(x)))
        return self.fc(self.flat(x))


class BatchedMatMul(nn.Module):
    """Rank-3 times rank-3, both operands computed from the input."""

    def __init__(self):
        super().__init__()
        self.a = nn.Linear(8, 8)
        self.b = nn.Linear(8, 8)
        self.flat = nn.Flatten()
        self.fc = nn.Linear(64, 10)

    def forward(self, x):
        x = x.reshape(-1, 8, 8)
        return self.fc(self.flat(torch.matmul(self.a(x), self.b(x))))


class Gap224(nn.Module):
    """A 1x1 convolution, then a global average over 224x224."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 1)
        self.gap = nn.AdaptiveAvgPool2d(1)
        self.flat = nn.Flatten()
        self.fc = nn.Linear(4, 2)

    def forward(self, x):
        return self.fc(self.flat(self.gap(self.conv(x))))


class Attention(nn.Module):
    """Multi-head self-attention written with matmul and softmax."""

    def __init__(self, d, heads, tokens):
        super().__init__()
        self.t, self.h, self.dh = tokens, heads, d // heads
        self.q, self.k, self.v, self.o = (nn.Linear(d, d) for _ in range(4))

    def split(self, x):
        # [N, T, d] -> [N, heads, T, dh]; -1 and a Python int keep the
        # batch axis symbolic without a Shape node (x.shape[1] would add one).
        return x.reshape(-1, self.t, self.h, self.dh).transpose(1, 2)

    def forward(self, x):
        q, k, v = self.split(self.q(x)), self.split(self.k(x)), self.split(self.v(x))
        att = torch.softmax(torch.matmul(q, k.transpose(-2, -1)) / math.sqrt(self.dh), dim=-1)
        y = torch.matmul(att, v).transpose(1, 2)
        return self.o(y.reshape(-1, self.t, self.h * self.dh))


class EncoderLayer(nn.Module):
    def __init__(self, d, heads, ff):
        super().__init__()
        self.att = Attention(d, heads, 8)
        self.n1, self.n2 = nn.LayerNorm(d), nn.LayerNorm(d)
        self.f1, self.f2 = nn.Linear(d, ff), nn.Linear(ff, d)

    def forward(self, x):
        x = self.n1(x + self.att(x))
        return self.n2(x + self.f2(F.gelu(self.f1(x))))


class Encoder(nn.Module):
    """A digit's 8 rows as 8 tokens of 8 features: 2 layers, 2 heads."""

    def __init__(self, d=16, heads=2, ff=32, layers=2):
        super().__init__()
        self.embed = nn.Linear(8, d)
        self.pos = nn.Parameter(torch.zeros(8, d))
        self.layers = nn.ModuleList(EncoderLayer(d, heads, ff) for _ in range(layers))
        self.fc = nn.Linear(d, 10)

    def forward(self, x):
        x = self.embed(x.reshape(-1, 8, 8)) + self.pos
        for layer in self.layers:
            x = layer(x)
        return self.fc(x.mean(dim=1))


class EmbedMean(nn.Module):
    """Token ids -> embedding, mean over the tokens, Linear."""

    def __init__(self):
        super().__init__()
        self.emb = nn.Embedding(256, 16)
        self.fc = nn.Linear(16, 10)

    def forward(self, ids):
        return self.fc(self.emb(ids).mean(dim=1))


def main():
    torch.manual_seed(0)
    np.random.seed(0)
    lines = []
    xtr, ytr, xte, yte = digits(64)
    img = lambda a: a.reshape(-1, 1, 8, 8)

    torch.manual_seed(0)
    lines.append(export("flatten_view", train(ViewFlatten(), img(xtr), ytr, 60), img(xte),
                        "`x.view(x.size(0), -1)` with a dynamic batch axis: Shape, Gather, "
                        "Unsqueeze, Concat feeding Reshape", labels=yte))

    torch.manual_seed(0)
    mlp = nn.Sequential(nn.Linear(64, 32), nn.ReLU(), nn.Linear(32, 10), nn.LogSoftmax(dim=1))
    lines.append(export("logsoftmax", train(mlp, xtr, ytr, 60, loss=nn.NLLLoss()), xte,
                        "`nn.LogSoftmax(dim=1)` as the output (log-probabilities)", labels=yte))

    torch.manual_seed(0)
    lines.append(export("maxpool_ceil", train(MaxPoolCeil(), img(xtr), ytr, 60), img(xte),
                        "`MaxPool2d(3, stride=2, ceil_mode=True)`: 8x8 to 4x4, the last "
                        "window partly outside", labels=yte))

    torch.manual_seed(0)
    seq = lambda a: a.reshape(-1, 1, 64)
    lines.append(export("conv1d_pool1d", train(Conv1dPools(), seq(xtr), ytr, 60), seq(xte),
                        "Conv1d, MaxPool1d, AvgPool1d on a digit as a 64-sample signal", labels=yte))

    torch.manual_seed(0)
    lines.append(export("batched_matmul", train(BatchedMatMul(), xtr, ytr, 60), xte,
                        "`torch.matmul` of two rank-3 tensors [N,8,8] both computed from "
                        "the input (MatMul secret x secret, batched)", labels=yte))

    torch.manual_seed(0)
    mlp = nn.Sequential(nn.Linear(64, 32), nn.ReLU(), nn.Linear(32, 10))
    lines.append(export("plain_export", train(mlp, xtr, ytr, 60), xte,
                        "`torch.onnx.export(model, x, f)` with no input_names or "
                        "dynamic_axes: the input is `onnx::Gemm_0`, the batch fixed at 64",
                        names=False, labels=yte))

    # 224x224 RGB images: digits blown up 28 times, each channel a
    # different tint; the class is whether a digit has more ink than the
    # median, which the global average sees. Two test rows keep input.npy
    # at 1.2 MB.
    torch.manual_seed(0)
    d = load_digits()
    big = lambda a: np.kron(a.reshape(-1, 1, 8, 8), np.ones((1, 1, 28, 28), np.float32))
    rgb = lambda a: np.concatenate([big(a), 0.5 * big(a), 1.0 - big(a)], axis=1).astype(np.float32)
    x = (d.data / 16.0).astype(np.float32)
    ink = x.mean(axis=1)
    y = (ink > np.median(ink)).astype(np.int64)
    lines.append(export("gap224", train(Gap224(), rgb(x[:200]), y[:200], 60, lr=0.05, batch=100),
                        rgb(x[1700:1702]),
                        "`AdaptiveAvgPool2d(1)` over 224x224 (GlobalAveragePool of 50176 "
                        "cells) after a 1x1 Conv; 2 rows; checked within 1e-3", labels=y[1700:1702]))

    # Breast cancer, raw features (areas in the thousands, fractal
    # dimensions in the hundredths); the training set's standardisation
    # is folded into the first Linear, as a data scientist ships it.
    torch.manual_seed(0)
    bc = load_breast_cancer()
    bx, by = bc.data.astype(np.float32), bc.target.astype(np.int64)
    btr, bte, bytr, byte = train_test_split(bx, by, test_size=64, random_state=11, stratify=by)
    mu, sd = btr.mean(axis=0), btr.std(axis=0)
    net = nn.Sequential(nn.Linear(30, 16), nn.ReLU(), nn.Linear(16, 2))
    train(net, ((btr - mu) / sd).astype(np.float32), bytr, 100)
    with torch.no_grad():
        w, b = net[0].weight.numpy().copy(), net[0].bias.numpy().copy()
        net[0].weight.copy_(torch.as_tensor(w / sd))
        net[0].bias.copy_(torch.as_tensor(b - (w * (mu / sd)).sum(axis=1)))
        aw = np.abs(net[0].weight.numpy())
    lines.append(export("tabular_folded", net, bte,
                        "breast cancer, raw features; standardisation folded into the first "
                        "Linear (weights of magnitude %.0e to %.0e)" % (aw.min(), aw.max()), labels=byte))

    torch.manual_seed(0)
    enc = train(Encoder(), xtr, ytr, 40, lr=0.005)
    xs = xte[:32]
    for opset in (14, 17):
        lines.append(export("transformer_op%d" % opset, enc, xs,
                            "encoder classifier: 8 tokens of 8 features, 2 layers, 2 heads, "
                            "GELU, LayerNorm, attention with matmul/softmax; 32 rows",
                            opset=opset, labels=yte))

    torch.manual_seed(0)
    # A digit as 16 tokens: half-row k (4 pixels, each on when >= 0.5)
    # is token 16 * k + its 4-bit pattern, so the vocabulary is 256.
    bits = np.array([8, 4, 2, 1])
    ids = lambda a: (16 * np.arange(16) + ((a.reshape(-1, 16, 4) >= 0.5) @ bits)).astype(np.int64)
    lines.append(export("embedding_mean", train(EmbedMean(), ids(xtr), ytr, 60), ids(xte[:32]),
                        "`nn.Embedding(256, 16)` on int64 token ids (16 half-rows of a "
                        "digit), mean over the tokens, Linear; 32 rows", labels=yte))

    with open(os.path.join(OUT, "README.md"), "w") as f:
        f.write(README_HEAD)
        f.write("| folder | what it exercises | opset | input | ONNX ops |\n")
        f.write("| --- | --- | --- | --- | --- |\n")
        f.write("\n".join(lines) + "\n")


README_HEAD = """# Models exported by PyTorch (issue 10)

Made by `tests/models/gen_torch.py` (Debian's python3-torch 1.13.1,
python3-onnx 1.12, python3-sklearn 1.2, python3-numpy 1.24; fixed seeds,
one thread): rerun with

    /usr/bin/python3 tests/models/gen_torch.py

Each folder holds `model.onnx` (torch.onnx.export, the weights inside),
`input.npy` (float32 or int64, the first axis the batch) and `expected.npy`
(PyTorch's own output on it, float32). Trained on scikit-learn's bundled
digits and breast-cancer data. The tests: `tests/cli/test_torch.sh`
(`mpcctl simulate`) and `tests/daemon/test_torch.sh` (daemon jobs), 2 and 3
parties at default settings, compared by `tests/tools/npycmp` (argmax on
every row whose top-2 margin exceeds 1e-2, max abs error 0.02; gap224
within 1e-3). Do not edit these files by hand.

"""

if __name__ == "__main__":
    main()
