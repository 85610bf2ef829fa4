#!/usr/bin/python3
# SPDX-License-Identifier: MIT
# The residual average-pool CNN of issue 9 at Fashion-MNIST's size, seeded
# random weights (its speed and memory do not depend on them):
#   Conv(1,8,3,p1)-ReLU -> h; ReLU(Conv(8,8,3,p1)(h) + h); AvgPool(2);
#   Conv(8,16,3,p1)-ReLU; AvgPool(2); GlobalAveragePool; Flatten; Linear(16,10)
# on [N,1,28,28]. Writes resavg28.onnx beside this file:
#   /usr/bin/python3 bench/models/mkresavg28.py
import os

import onnx
import torch
import torch.nn as nn


class ResAvg28(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 8, 3, padding=1)
        self.conv2 = nn.Conv2d(8, 8, 3, padding=1)
        self.conv3 = nn.Conv2d(8, 16, 3, padding=1)
        self.fc = nn.Linear(16, 10)

    def forward(self, x):
        h = torch.relu(self.conv1(x))
        h = torch.relu(self.conv2(h) + h)
        h = nn.functional.avg_pool2d(h, 2)
        h = torch.relu(self.conv3(h))
        h = nn.functional.avg_pool2d(h, 2)
        h = nn.functional.adaptive_avg_pool2d(h, 1)
        return self.fc(torch.flatten(h, 1))


torch.manual_seed(9)
m = ResAvg28().eval()
out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "resavg28.onnx")
torch.onnx.export(m, torch.zeros(1, 1, 28, 28), out, opset_version=13,
                  input_names=["input"], output_names=["logits"],
                  dynamic_axes={"input": {0: "batch"}, "logits": {0: "batch"}})

# torch 1.13 puts a Pad of zeros before each AveragePool: dropped (it pads
# nothing), the pool reads the Pad's input.
g = onnx.load(out)
nodes = g.graph.node
pads = {n.output[0]: n for n in nodes if n.op_type == "Pad"}
drop = []
for n in nodes:
    for i, name in enumerate(n.input):
        if name in pads:
            n.input[i] = pads[name].input[0]
for p in pads.values():
    drop.append(p)
    drop.extend(n for n in nodes if n.op_type == "Constant" and n.output[0] in p.input[1:])
for n in drop:
    nodes.remove(n)
onnx.checker.check_model(g)
onnx.save(g, out)
