#!/usr/bin/env python3
"""Export/import fixtures (issue 16), made with the reference packages, and a checker for llmscript exports.

Fixtures (written under Tests/Fixtures/export/):
1. quant.json: Q8_0 and Q4_0 blocks from `gguf.quants.quantize` (the gguf package's port of ggml's
   reference quantizers) for edge-case rows (zeros, a spike, .5 boundaries, negative max, subnormals,
   values whose scale overflows f16) and random rows: inputs as f32 bit patterns, outputs as hex.
   Read by Tests/LLMFormatsTests/BlockQuantTests.swift (bit-exact comparison).
2. gguf_py.gguf (+ gguf_py.json): a GGUF file written by gguf.GGUFWriter with scalar, string and
   array KVs and F32/F16/Q8_0/Q4_0 tensors; GGUFTests.swift parses it with llmscript's reader.
3. hf_gpt2/ and hf_gpt2_untied/: GPT2LMHeadModel folders (transformers save_pretrained, safetensors,
   random init, no hub download) with the 500-token BPE tokenizer of Tests/Fixtures/tokenizers, and
   logits.safetensors holding input ids and transformers' logits. hf_gpt2 is GPT-2's defaults (tied,
   gelu_new); hf_gpt2_untied has tie_word_embeddings=False, activation_function='gelu' (exact) and
   n_inner=48. Tests/lua/export_spec.lua imports them and compares logits.

Check mode (`--check DIR`): DIR holds an llmscript export made by export_spec.lua's companion
(`LLMS_EXPORT_CHECK=DIR llmscript test Tests/lua/export_spec.lua`): hf/ must open in
GPT2LMHeadModel.from_pretrained and AutoTokenizer with the same logits (ids.safetensors, logits written
by llmscript) and the same token ids for a sample text; model*.gguf must parse with gguf.GGUFReader
with the expected keys, tensor names, types and shapes; and, when llama-cpp-python is installed (it builds
llama.cpp from source: `CMAKE_ARGS="-DGGML_NATIVE=OFF -DLLAMA_CURL=OFF" pip install llama-cpp-python`),
llama.cpp must give teacher-forced logits within LLAMA_CPP_TOLERANCE of llmscript's for each GGUF dtype.

Rerun (from the repository root):
    PY=$(scripts/reference/venv.sh gguf transformers safetensors) && "$PY" scripts/reference/make_export_fixtures.py

Last run (gguf 0.19.0, transformers 5.25.0, torch 2.15.0, numpy 2.4.6, llama-cpp-python 0.3.36), --check:
    hf: GPT2LMHeadModel.from_pretrained logits max |diff| vs llmscript = 8.94e-08
    hf: AutoTokenizer (GPT2Tokenizer) ids equal llmscript's: True
    model_{f16,f32,q4_0,q8_0}.gguf: GGUFReader: arch gpt2, 28 tensors, keys present, tensor names: True
    hf_llama: LlamaForCausalLM.from_pretrained logits max |diff| vs llmscript = 1.79e-07
    llama.cpp llama_f32.gguf: teacher-forced logits max |diff| 0.000141, next-token argmax agrees 16/16
    llama.cpp llama_q8_0.gguf: 0.0117, 16/16
    llama.cpp model_f32.gguf: 1.3e-05; model_f16.gguf: 0.000138; model_q8_0.gguf: 0.00299;
    model_q4_0.gguf: 0.0408 — next-token argmax agrees 16/16 for each
"""
import json
import os
import shutil
import struct
import sys

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OUT = os.path.join(ROOT, "Tests", "Fixtures", "export")
TOKENIZER = os.path.join(ROOT, "Tests", "Fixtures", "tokenizers", "hf_bpe500.json")


def quant_rows():
    rng = np.random.default_rng(16)
    rows = {
        "zeros": np.zeros(32, np.float32),
        "spike": np.array([0.0] * 31 + [3.0], np.float32),
        "negative_max": np.linspace(-5.0, 2.0, 32, dtype=np.float32),
        # x / d lands exactly on .5 for Q8_0 (d = 127/127 = 1)
        "half_boundaries": np.array([127.0] + [k + 0.5 for k in range(-15, 16)], np.float32),
        "subnormal": np.full(32, 1e-40, np.float32) * np.arange(32, dtype=np.float32),
        "huge": np.array([1e30, -2e30] + [1.0] * 30, np.float32),
        "tiny_scale": np.full(32, 1e-6, np.float32) * np.arange(-16, 16, dtype=np.float32),
        "random_normal": rng.standard_normal(256).astype(np.float32),
        "random_uniform": rng.uniform(-1, 1, 512).astype(np.float32),
        "ties_in_max": np.array([2.0, -2.0] + [0.25] * 30, np.float32),
    }
    return rows


def make_quant(gguf):
    cases = []
    for name, x in quant_rows().items():
        case = {"name": name, "bits": [int(v) for v in x.view(np.uint32)]}
        for qt, key in ((gguf.GGMLQuantizationType.Q8_0, "q8_0"), (gguf.GGMLQuantizationType.Q4_0, "q4_0")):
            with np.errstate(all="ignore"):
                case[key] = gguf.quants.quantize(x.reshape(1, -1), qt).tobytes().hex()
        cases.append(case)
    with open(os.path.join(OUT, "quant.json"), "w") as f:
        json.dump({"generator": f"gguf {version('gguf')}", "cases": cases}, f, indent=1)
        f.write("\n")


def make_gguf(gguf):
    path = os.path.join(OUT, "gguf_py.gguf")
    w = gguf.GGUFWriter(path, "gpt2")
    w.add_uint32("gpt2.block_count", 2)
    w.add_float32("gpt2.attention.layer_norm_epsilon", 1e-5)
    w.add_string("general.name", "fixture")
    w.add_bool("test.flag", True)
    w.add_int32("test.negative", -7)
    w.add_uint64("test.big", 2 ** 40)
    w.add_array("test.strings", ["a", "Ġb", "é"])
    w.add_array("test.ints", [1, 2, 3])
    rng = np.random.default_rng(7)
    tensors = {
        "f32.vector": (np.arange(5, dtype=np.float32) - 2) / 4,
        "f16.matrix": rng.standard_normal((3, 8)).astype(np.float16),
        "q8.matrix": rng.standard_normal((2, 64)).astype(np.float32),
        "q4.matrix": rng.standard_normal((3, 32)).astype(np.float32),
    }
    w.add_tensor("f32.vector", tensors["f32.vector"])
    w.add_tensor("f16.matrix", tensors["f16.matrix"])
    for name, qt in (("q8.matrix", gguf.GGMLQuantizationType.Q8_0), ("q4.matrix", gguf.GGMLQuantizationType.Q4_0)):
        q = gguf.quants.quantize(tensors[name], qt)
        w.add_tensor(name, q, raw_shape=q.shape, raw_dtype=qt)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    expected = {}
    for name, t in tensors.items():
        qt = {"q8.matrix": gguf.GGMLQuantizationType.Q8_0, "q4.matrix": gguf.GGMLQuantizationType.Q4_0}.get(name)
        values = gguf.quants.dequantize(gguf.quants.quantize(t, qt), qt) if qt else t.astype(np.float32)
        expected[name] = {"shape": list(t.shape), "values": [float(v) for v in np.asarray(values, np.float32).ravel()]}
    with open(os.path.join(OUT, "gguf_py.json"), "w") as f:
        json.dump({"generator": f"gguf {version('gguf')}", "tensors": expected}, f, indent=1)
        f.write("\n")


def make_hf(name, **cfg):
    import torch
    from safetensors.torch import save_file
    from transformers import GPT2Config, GPT2LMHeadModel, PreTrainedTokenizerFast

    torch.manual_seed(16)
    folder = os.path.join(OUT, name)
    shutil.rmtree(folder, ignore_errors=True)
    config = GPT2Config(n_layer=2, n_head=2, n_embd=32, vocab_size=500, n_positions=32, bos_token_id=0, eos_token_id=0, **cfg)
    model = GPT2LMHeadModel(config).eval()
    with torch.no_grad():   # non-trivial norms and biases, so a wrong mapping shows
        for n, p in model.named_parameters():
            if "ln_" in n or n.endswith(".bias"):
                p.add_(torch.randn_like(p) * 0.1)
    model.save_pretrained(folder, safe_serialization=True)
    tok = PreTrainedTokenizerFast(tokenizer_file=TOKENIZER, eos_token="<|endoftext|>", bos_token="<|endoftext|>")
    tok.save_pretrained(folder)
    shutil.copy(TOKENIZER, os.path.join(folder, "tokenizer.json"))   # as written by tokenizers (ByteLevel post-processor)
    for extra in ("generation_config.json", "special_tokens_map.json"):
        if os.path.exists(os.path.join(folder, extra)):
            os.remove(os.path.join(folder, extra))
    ids = torch.tensor([[5, 17, 250, 3, 499, 0, 42, 7], [1, 2, 3, 4, 5, 6, 7, 8]])
    with torch.no_grad():
        logits = model(ids).logits
    save_file({"ids": ids.to(torch.int64).contiguous(), "logits": logits.contiguous()}, os.path.join(folder, "logits.safetensors"))
    for f in os.listdir(folder):
        os.chmod(os.path.join(folder, f), 0o644)


def version(pkg):
    from importlib.metadata import version as v
    return v(pkg)


def check(dir_):
    import torch
    import gguf
    from safetensors.torch import load_file
    from transformers import AutoTokenizer, GPT2LMHeadModel

    ok = True
    hf = os.path.join(dir_, "hf")
    ref = load_file(os.path.join(dir_, "logits.safetensors"))
    model = GPT2LMHeadModel.from_pretrained(hf).eval()
    with torch.no_grad():
        logits = model(ref["ids"]).logits
    diff = (logits - ref["logits"]).abs().max().item()
    print(f"hf: GPT2LMHeadModel.from_pretrained logits max |diff| vs llmscript = {diff:.3g}")
    ok &= diff < 1e-4
    tok = AutoTokenizer.from_pretrained(hf)
    with open(os.path.join(dir_, "text.json")) as f:
        sample = json.load(f)
    ids = tok.encode(sample["text"])
    print(f"hf: AutoTokenizer ({type(tok).__name__}) ids equal llmscript's: {ids == sample['ids']}")
    ok &= ids == sample["ids"]
    for name in sorted(os.listdir(dir_)):
        if not name.startswith("model_"):
            continue
        r = gguf.GGUFReader(os.path.join(dir_, name))
        arch = bytes(r.fields["general.architecture"].parts[-1]).decode()
        kinds = sorted({t.tensor_type.name for t in r.tensors})
        names = {t.name for t in r.tensors}
        need = {"token_embd.weight", "position_embd.weight", "blk.0.attn_qkv.weight", "blk.0.ffn_down.weight", "output_norm.bias"}
        keys_ok = all(k in r.fields for k in ("gpt2.context_length", "gpt2.embedding_length", "gpt2.block_count",
                                                "gpt2.feed_forward_length", "gpt2.attention.head_count",
                                                "gpt2.attention.layer_norm_epsilon", "tokenizer.ggml.tokens",
                                                "tokenizer.ggml.merges", "tokenizer.ggml.token_type"))
        emb = next(t for t in r.tensors if t.name == "token_embd.weight")
        print(f"{name}: GGUFReader: arch {arch}, {len(r.tensors)} tensors {kinds}, keys present {keys_ok}, "
              f"tensor names {need <= names}, token_embd shape {list(emb.shape)}")
        ok &= arch == "gpt2" and keys_ok and need <= names
    if os.path.isdir(os.path.join(dir_, "hf_llama")):
        from transformers import LlamaForCausalLM
        lref = load_file(os.path.join(dir_, "llama_logits.safetensors"))
        with torch.no_grad():
            got = LlamaForCausalLM.from_pretrained(os.path.join(dir_, "hf_llama")).eval()(lref["ids"]).logits
        diff = (got - lref["logits"]).abs().max().item()
        print(f"hf_llama: LlamaForCausalLM.from_pretrained logits max |diff| vs llmscript = {diff:.3g}")
        ok &= diff < 1e-4
    ok &= check_llama_cpp(dir_, ref)
    print("OK" if ok else "FAILED")
    return 0 if ok else 1


# Largest |logit difference| llama.cpp may show per dtype (f16 KV cache and activations; quantized weights).
LLAMA_CPP_TOLERANCE = {"f32": 1e-3, "f16": 1e-2, "q8_0": 0.1, "q4_0": 0.5}


def check_llama_cpp(dir_, ref):
    """Teacher-forced logits of each model*.gguf in llama.cpp (llama-cpp-python) vs llmscript's."""
    try:
        from llama_cpp import Llama
    except ImportError:
        print("llama.cpp: llama-cpp-python is not installed; skipped")
        return True
    from safetensors.torch import load_file
    ok = True
    for name in sorted(os.listdir(dir_)):
        if not name.endswith(".gguf"):
            continue
        dtype = name.split("_", 1)[1][: -len(".gguf")]
        if name.startswith("llama_"):
            lref = load_file(os.path.join(dir_, "llama_logits.safetensors"))
            ids, want = lref["ids"].numpy(), lref["logits"].numpy()
        else:
            ids, want = ref["ids"].numpy(), ref["logits"].numpy()
        llm = Llama(model_path=os.path.join(dir_, name), n_ctx=16, logits_all=True, verbose=False, n_threads=1)
        worst, agree, total = 0.0, 0, 0
        for row in range(ids.shape[0]):
            llm.reset()
            llm.eval([int(t) for t in ids[row]])
            got = np.array(llm.scores[: ids.shape[1]], dtype=np.float32)
            worst = max(worst, float(np.abs(got - want[row]).max()))
            agree += int((got.argmax(-1) == want[row].argmax(-1)).sum())
            total += ids.shape[1]
        good = worst <= LLAMA_CPP_TOLERANCE[dtype]
        print(f"llama.cpp {name}: teacher-forced logits max |diff| {worst:.3g} (tolerance {LLAMA_CPP_TOLERANCE[dtype]}), "
              f"next-token argmax agrees {agree}/{total}: {'ok' if good else 'FAILED'}")
        ok &= good
    return ok


def main():
    if len(sys.argv) == 3 and sys.argv[1] == "--check":
        sys.exit(check(sys.argv[2]))
    import gguf
    os.makedirs(OUT, exist_ok=True)
    make_quant(gguf)
    make_gguf(gguf)
    make_hf("hf_gpt2")
    make_hf("hf_gpt2_untied", tie_word_embeddings=False, activation_function="gelu", n_inner=48)
    print(f"wrote {OUT} (gguf {version('gguf')}, transformers {version('transformers')}, torch {version('torch')}, numpy {version('numpy')})")


if __name__ == "__main__":
    main()
