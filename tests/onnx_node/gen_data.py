#!/usr/bin/python3
# SPDX-License-Identifier: MIT
# Copyright (C) 2026 The mpcd authors.
"""`python3 -m onnx.backend.test.cmd_tools generate-data -o OUTDIR` under numpy >= 1.24.

python3-onnx 1.12's test cases still name numpy's aliases of the builtin
types (np.float, np.int, np.bool, np.object, ...), which numpy 1.24
removed: put them back, then run onnx's own command.

    gen_data.py OUTDIR      (the node tests land in OUTDIR/node/test_*)
"""
import sys

import numpy as np

for alias, builtin in (("float", float), ("int", int), ("bool", bool), ("object", object),
                       ("complex", complex), ("str", str), ("long", int), ("unicode", str)):
    if alias not in np.__dict__:
        setattr(np, alias, builtin)

from onnx.backend.test import cmd_tools  # noqa: E402 (after the aliases)

if len(sys.argv) != 2:
    sys.exit("usage: gen_data.py OUTDIR")
sys.argv = ["onnx.backend.test.cmd_tools", "generate-data", "-o", sys.argv[1]]
cmd_tools.main()
