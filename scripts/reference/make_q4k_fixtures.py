#!/usr/bin/env python3
"""Q4_K fixture: rows quantized by llama.cpp's own C quantizer (libggml-base from the llama-cpp-python package,
through ctypes: `quantize_row_q4_K_ref`, the reference path `ggml_quantize_chunk` takes without an importance
matrix, and `dequantize_row_q4_K`). The `gguf` package has no k-quant quantizer, hence the C library.

Writes Tests/Fixtures/q4_k.json: {"generator", "cases": [{"name", "x": f32 little-endian hex, "q4_k": the
144-byte super-blocks as hex, "dequant": dequantize_row_q4_K's f32 values as hex}]}. Cases: zeros, constant
rows (positive and negative), negatives only, positives only, huge (1e18) and tiny (1e-30, whose d rounds
to 0 in f16) magnitudes, values near f32 overflow of x² (1e30), one spike, sub-blocks of very different
ranges, random normal and uniform rows (several super-blocks), NaN and ±inf inputs. Read by
Tests/LLMCoreTests/BlockQuantQ4KTests.swift and Tests/lua/quant_k_spec.lua (bit-exact bytes and dequantized values).

Rerun (from the repository root; llama-cpp-python 0.3.36 ships libggml-base.so):
    /tmp/torchvenv/bin/python scripts/reference/make_q4k_fixtures.py
"""
import ctypes
import glob
import json
import os
from importlib.metadata import version

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OUT = os.path.join(ROOT, "Tests", "Fixtures", "q4_k.json")


def load_ggml():
    import llama_cpp
    libdir = os.path.join(os.path.dirname(llama_cpp.__file__), "lib")
    lib = ctypes.CDLL(sorted(glob.glob(os.path.join(libdir, "libggml-base.so*")))[0])
    fp = ctypes.POINTER(ctypes.c_float)
    lib.quantize_row_q4_K_ref.argtypes = [fp, ctypes.c_void_p, ctypes.c_int64]
    lib.quantize_row_q4_K_ref.restype = None
    lib.dequantize_row_q4_K.argtypes = [ctypes.c_void_p, fp, ctypes.c_int64]
    lib.dequantize_row_q4_K.restype = None
    return lib


def q4k(lib, x):
    x = np.ascontiguousarray(x, np.float32)
    blocks = ctypes.create_string_buffer(x.size // 256 * 144)
    lib.quantize_row_q4_K_ref(x.ctypes.data_as(ctypes.POINTER(ctypes.c_float)), blocks, x.size)
    out = np.zeros(x.size, np.float32)
    lib.dequantize_row_q4_K(blocks, out.ctypes.data_as(ctypes.POINTER(ctypes.c_float)), x.size)
    return blocks.raw, out


def rows():
    rng = np.random.default_rng(15)
    spread = np.concatenate([rng.standard_normal(32) * s for s in (1e-3, 0.1, 1, 10, 100, 0.5, 3, 1e-5)])
    return {
        "zeros": np.zeros(256),
        "constant": np.full(256, 0.75),
        "constant_negative": np.full(256, -2.5),
        "negatives_only": -rng.uniform(0.5, 4, 256),
        "positives_only": rng.uniform(1, 2, 256),
        "huge": rng.standard_normal(256) * 1e18,
        "overflowing_squares": rng.standard_normal(256) * 1e30,
        "tiny": rng.standard_normal(256) * 1e-30,
        "spike": np.array([0.0] * 200 + [7.0] + [0.01] * 55),
        "spread_subblocks": spread,
        "ramp": np.linspace(-3, 5, 256),
        "random_normal": rng.standard_normal(768),
        "random_uniform": rng.uniform(-1, 1, 512),
        "non_finite": np.concatenate([[np.nan, 1.0, np.inf], rng.standard_normal(61), [-np.inf], rng.standard_normal(191)]),
    }


def main():
    lib = load_ggml()
    cases = []
    for name, x in rows().items():
        x = np.asarray(x, np.float32)
        blocks, deq = q4k(lib, x)
        cases.append({"name": name, "x": x.tobytes().hex(), "q4_k": blocks.hex(), "dequant": deq.tobytes().hex()})
    with open(OUT, "w") as f:
        json.dump({"generator": f"llama.cpp libggml-base quantize_row_q4_K_ref (llama-cpp-python {version('llama-cpp-python')})",
                   "cases": cases}, f, indent=1)
        f.write("\n")
    print(f"wrote {OUT}: {len(cases)} cases")


if __name__ == "__main__":
    main()
