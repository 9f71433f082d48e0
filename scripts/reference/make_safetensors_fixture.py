#!/usr/bin/env python3
"""safetensors interop fixtures for LLMFormats, checked against the reference implementation.

1. Writes Tests/Fixtures/reference.safetensors with the `safetensors` package (the HF reference, Rust
   core) from numpy arrays: one tensor per dtype llmscript reads (F32, F16, I64, I32, I8, U8; BF16 is
   not expressible in numpy and is covered by the Swift round-trip tests), a rank-0 and an empty tensor,
   and __metadata__. Tests/LLMFormatsTests/InteropTests.swift reads it and checks every value.
2. Verifies Tests/Fixtures/llmscript_written.safetensors, written by llmscript's own writer (regenerate
   with `LLMS_WRITE_FIXTURES=1 swift test --filter InteropTests`): the reference implementation must open
   it (its validator checks header, offsets and EOF), and every tensor and metadata value must match.

Rerun (from the repository root; safetensors + numpy from PyPI in the peers' venv):
    PY=$(scripts/reference/venv.sh safetensors) && "$PY" scripts/reference/make_safetensors_fixture.py

Last run (safetensors 0.8.0, numpy 2.4.6, Python 3.11.7):
    wrote Tests/Fixtures/reference.safetensors
    llmscript_written.safetensors: opened by safetensors 0.8.0; 9 tensors and metadata match: OK
"""
import json
import os
import struct
import sys

import numpy as np
import safetensors
from safetensors import safe_open
from safetensors.numpy import save_file

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FIXTURES = os.path.join(ROOT, "Tests", "Fixtures")


def expected():
    """The tensors both fixtures hold (llmscript_written.safetensors adds a BF16 tensor)."""
    return {
        "f32.matrix": (np.arange(6, dtype=np.float32).reshape(2, 3) * 0.5 - 1.0),
        "f16.vector": np.array([0.5, -1.25, 65504.0, 6.103515625e-05], dtype=np.float16),
        "i64.big": np.array([-(2 ** 40), 0, 2 ** 62], dtype=np.int64),
        "i32.grid": np.array([[-7, 0], [7, 2 ** 31 - 1]], dtype=np.int32),
        "i8.edges": np.array([-128, 0, 127], dtype=np.int8),
        "u8.edges": np.array([0, 255], dtype=np.uint8),
        "scalar": np.array(3.25, dtype=np.float32),
        "empty": np.zeros((0, 3), dtype=np.float32),
    }


METADATA = {"format": "pt", "source": "make_safetensors_fixture.py"}
BF16 = ("bf16.vector", [1.0, -2.5, 0.15625])


def write_reference():
    path = os.path.join(FIXTURES, "reference.safetensors")
    save_file(expected(), path, metadata=METADATA)
    print("wrote", os.path.relpath(path, ROOT))


def verify_llmscript_written():
    path = os.path.join(FIXTURES, "llmscript_written.safetensors")
    if not os.path.exists(path):
        print("skip: no", os.path.relpath(path, ROOT))
        return True
    ok = True
    with safe_open(path, framework="np") as f:           # the reference validator runs here
        if f.metadata() != METADATA:
            print("metadata mismatch:", f.metadata()); ok = False
        keys = set(f.keys())
        want = set(expected()) | {BF16[0]}
        if keys != want:
            print("keys mismatch:", sorted(keys ^ want)); ok = False
        for name, ref in expected().items():
            got = f.get_tensor(name)
            if got.dtype != ref.dtype or got.shape != ref.shape or not np.array_equal(got, ref):
                print("tensor mismatch:", name, got.dtype, got.shape, got); ok = False
    # BF16: numpy has no bfloat16, so decode its bytes by hand (upper 16 bits of a float32).
    with open(path, "rb") as fh:
        data = fh.read()
    n = struct.unpack("<Q", data[:8])[0]
    header = json.loads(data[8:8 + n])
    info = header[BF16[0]]
    begin, end = info["data_offsets"]
    raw = np.frombuffer(data[8 + n + begin:8 + n + end], dtype=np.uint16).astype(np.uint32) << 16
    if info["dtype"] != "BF16" or raw.view(np.float32).tolist() != BF16[1]:
        print("bf16 mismatch:", info, raw.view(np.float32)); ok = False
    if n % 8 != 0 or data[8:9] != b"{":
        print("header not aligned or not starting with '{'"); ok = False
    print("llmscript_written.safetensors: opened by safetensors %s; %d tensors and metadata match: %s"
          % (safetensors.__version__, len(expected()) + 1, "OK" if ok else "FAILED"))
    return ok


if __name__ == "__main__":
    write_reference()
    sys.exit(0 if verify_llmscript_written() else 1)
