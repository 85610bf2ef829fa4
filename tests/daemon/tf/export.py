# SPDX-License-Identifier: MIT
# Regenerates the transformer-op models of tests/daemon/test_tf.sh with
# Debian's PyTorch 1.13 (run with /usr/bin/python3 from this directory):
# two LayerNorm + GELU MLPs (opset 14: LayerNorm decomposed, GELU as
# Div/Erf/Add/Mul/Mul; opset 17: LayerNormalization, GELU tanh form) and
# an embedding model (Embedding, mean over tokens, Linear; int64 ids).
# Each model's expected.npy is PyTorch's own output.
import numpy as np
import torch
import torch.nn as nn

torch.manual_seed(7)


class Mlp(nn.Module):
    def __init__(self, approx):
        super().__init__()
        self.a = nn.Linear(8, 16)
        self.ln = nn.LayerNorm(16)
        self.g = nn.GELU(approximate=approx)
        self.b = nn.Linear(16, 3)

    def forward(self, x):
        return self.b(torch.tanh(self.g(self.ln(self.a(x)))))


class Emb(nn.Module):
    def __init__(self):
        super().__init__()
        self.e = nn.Embedding(50, 8)
        self.l = nn.Linear(8, 3)

    def forward(self, ids):
        return self.l(self.e(ids).mean(dim=1))


x = torch.randn(16, 8) * 2
np.save("x.npy", x.numpy())
for name, opset, approx in (("ln14", 14, "none"), ("ln17", 17, "tanh")):
    m = Mlp(approx).eval()
    torch.onnx.export(m, x, name + ".onnx", opset_version=opset, input_names=["input"],
                      output_names=["out"], dynamic_axes={"input": {0: "batch"}})
    np.save(name + "_expected.npy", m(x).detach().numpy())
e = Emb().eval()
ids = torch.randint(0, 50, (12, 6))
np.save("ids.npy", ids.numpy())
torch.onnx.export(e, ids, "emb.onnx", opset_version=14, input_names=["ids"],
                  output_names=["out"], dynamic_axes={"ids": {0: "batch"}})
np.save("emb_expected.npy", e(ids).detach().numpy())

# A transformer encoder layer (2 heads, GELU, LayerNorm; attention through
# Shape/Gather/Reshape/Transpose and batched MatMuls) and a linear head.
torch.manual_seed(1)


class Enc(nn.Module):
    def __init__(self):
        super().__init__()
        self.l = nn.TransformerEncoderLayer(d_model=16, nhead=2, dim_feedforward=32, dropout=0.0,
                                            activation="gelu", batch_first=True)
        self.h = nn.Linear(16, 3)

    def forward(self, x):
        return self.h(self.l(x).mean(dim=1))


enc = Enc().eval()
xs = torch.randn(6, 5, 16)
np.save("seq.npy", xs.numpy())
for opset in (14, 17):
    torch.onnx.export(enc, xs, "enc%d.onnx" % opset, opset_version=opset, input_names=["input"],
                      output_names=["out"], dynamic_axes={"input": {0: "batch"}})
np.save("enc_expected.npy", enc(xs).detach().numpy())
