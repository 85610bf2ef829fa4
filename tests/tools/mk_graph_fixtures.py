#!/usr/bin/python3
# SPDX-License-Identifier: MIT
# Issue 10's graph fixtures, as a data scientist exports them with Debian's
# torch 1.13 (run with /usr/bin/python3 from the repository root):
#   graph_view/   Conv, ReLU, x.view(x.size(0), -1), Linear; batch axis dynamic
#                 (Shape -> Gather -> Unsqueeze -> Concat -> Reshape), opset 13
#   graph_plain/  Linear, ReLU, Linear exported without input_names: the input
#                 is called 'onnx::Gemm_0'
#   graph_cls/    a learned CLS row expanded to the batch and joined to the
#                 data (Shape, ConstantOfShape, Mul, Equal, Where, Expand of
#                 a weight, Concat), permute, slice, x[:, 0] + x[:, -1]
# Each with input.npy (sklearn's digits, 12 rows, scaled to [0, 1]),
# expected.npy (torch's output) and input_part0/1.npy (two column blocks of
# graph_plain's input). Deterministic: fixed seeds, a few epochs of Adam.
import numpy as np
import torch
from sklearn.datasets import load_digits

torch.manual_seed(10)
X, y = load_digits(return_X_y=True)
X = (X / 16.0).astype(np.float32)
xt, yt = torch.from_numpy(X), torch.from_numpy(y)


class View(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = torch.nn.Conv2d(1, 4, 3)
        self.fc = torch.nn.Linear(4 * 6 * 6, 10)

    def forward(self, x):
        x = torch.relu(self.conv(x))
        x = x.view(x.size(0), -1)
        return self.fc(x)


class Cls(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.cls = torch.nn.Parameter(torch.randn(1, 1, 8))
        self.fc = torch.nn.Linear(8, 10)

    def forward(self, x):
        c = self.cls.expand(x.size(0), -1, -1)
        h = torch.cat([c, x], dim=1)
        h = h.permute(0, 2, 1)[:, :, 1:].transpose(1, 2)
        return self.fc(h[:, 0] + h[:, -1])


class Plain(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = torch.nn.Linear(64, 16)
        self.fc2 = torch.nn.Linear(16, 10)

    def forward(self, x):
        return self.fc2(torch.relu(self.fc1(x)))


def train(m, inp):
    opt = torch.optim.Adam(m.parameters(), lr=0.01)
    for _ in range(60):
        opt.zero_grad()
        loss = torch.nn.functional.cross_entropy(m(inp), yt)
        loss.backward()
        opt.step()
    return m.eval()


def save(d, m, inp, **kw):
    x = inp[:12]
    torch.onnx.export(m, x, f"tests/fixtures/{d}/model.onnx", opset_version=13, **kw)
    np.save(f"tests/fixtures/{d}/input.npy", x.numpy())
    with torch.no_grad():
        np.save(f"tests/fixtures/{d}/expected.npy", m(x).numpy())
    return x.numpy()


img = xt.reshape(-1, 1, 8, 8)
save("graph_view", train(View(), img), img, input_names=["input"],
     output_names=["logits"], dynamic_axes={"input": {0: "batch"}, "logits": {0: "batch"}})
x = save("graph_plain", train(Plain(), xt), xt)
np.save("tests/fixtures/graph_plain/input_part0.npy", np.ascontiguousarray(x[:, :40]))
np.save("tests/fixtures/graph_plain/input_part1.npy", np.ascontiguousarray(x[:, 40:]))
seq = xt.reshape(-1, 8, 8)
save("graph_cls", train(Cls(), seq), seq, input_names=["x"], output_names=["logits"],
     dynamic_axes={"x": {0: "batch"}, "logits": {0: "batch"}})
