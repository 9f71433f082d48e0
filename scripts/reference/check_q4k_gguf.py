#!/usr/bin/env python3
"""Checks llmscript's Q4_K GGUF export against the reference tools (issue 15's optional k-quant).

DIR comes from `LLMS_Q4K_CHECK=DIR llmscript test Tests/lua/quant_k_spec.lua`: q4k.gguf (an untied nn.GPT, dim 256,
2 layers, the fixture BPE vocabulary, exported with dtype q4_k), dequant.safetensors (llmscript's reading of it),
ours.safetensors (llmscript's teacher-forced logits and greedy ids of the same weights with every Linear quantized
to Q4_K, `compress.quantize`, and the embedding table set to token_embd's Q4_K values as llama.cpp looks it up).
1. gguf.GGUFReader: the matrices are Q4_K (type 12), general.file_type 14, and gguf.quants.dequantize of each Q4_K
   tensor equals llmscript's dequantization bit for bit.
2. llama.cpp (llama-cpp-python): teacher-forced logits vs llmscript's (both quantize activations: llama.cpp to
   Q8_K per 256 values, llmscript to int8 per 32), next-token argmax agreement, and the greedy continuation of the
   prompt, which should equal llmscript's token for token.
Usage: /tmp/torchvenv/bin/python scripts/reference/check_q4k_gguf.py DIR

The model is trained 30 steps on a repeating 10-token pattern first, so that its greedy continuation is not a
string of near-ties (on a random init, activation quantization differences flip near-tied argmaxes).

Last run (gguf 0.19.0, llama-cpp-python 0.3.36, numpy 2.4.6):
    general.file_type 14
    gguf-py: 10 Q4_K tensors, dequantized values equal llmscript's bit for bit
    llama.cpp teacher-forced logits: max |diff| 0.0671 (logit range 11.7), next-token argmax agrees 32/32
    greedy continuation (24 tokens): llama.cpp == llmscript: True (27/27 positions)
"""
import os
import sys

import numpy as np
from safetensors.numpy import load_file


def main():
    d = sys.argv[1]
    import gguf
    r = gguf.GGUFReader(os.path.join(d, "q4k.gguf"))
    deq = load_file(os.path.join(d, "dequant.safetensors"))
    ft = r.fields["general.file_type"]
    print("general.file_type", int(ft.parts[ft.data[0]][0]))
    nq, worst = 0, 0.0
    for t in r.tensors:
        if t.tensor_type != gguf.GGMLQuantizationType.Q4_K:
            print(f"  {t.name}: {t.tensor_type.name}")
            continue
        nq += 1
        got = gguf.quants.dequantize(t.data, t.tensor_type).reshape(deq[t.name].shape)
        same = np.array_equal(got.view(np.uint32), deq[t.name].astype(np.float32).view(np.uint32))
        worst = max(worst, float(np.abs(got - deq[t.name]).max()))
        assert same, f"{t.name}: gguf-py's Q4_K dequantization differs from llmscript's (max |diff| {worst})"
    print(f"gguf-py: {nq} Q4_K tensors, dequantized values equal llmscript's bit for bit")

    from llama_cpp import Llama
    ours = load_file(os.path.join(d, "ours.safetensors"))
    ids, want = ours["ids"][0], ours["logits"]
    llm = Llama(model_path=os.path.join(d, "q4k.gguf"), n_ctx=64, logits_all=True, verbose=False, n_threads=1)
    llm.eval([int(t) for t in ids])
    got = np.array(llm.scores[: len(ids)], dtype=np.float32)
    diff = float(np.abs(got - want).max())
    agree = int((got.argmax(-1) == want.argmax(-1)).sum())
    print(f"llama.cpp teacher-forced logits: max |diff| {diff:.3g} (logit range {float(np.abs(want).max()):.3g}), "
          f"next-token argmax agrees {agree}/{len(ids)}")
    llm.reset()
    prompt = [int(t) for t in ours["prompt"]]
    seq = list(prompt)
    llm.eval(prompt)
    n = len(ours["greedy"]) - len(prompt)
    for _ in range(n):
        nxt = int(np.argmax(llm.scores[llm.n_tokens - 1]))
        seq.append(nxt)
        llm.eval([nxt])
    mine = [int(t) for t in ours["greedy"]]
    same = sum(a == b for a, b in zip(seq, mine))
    print(f"greedy continuation ({n} tokens): llama.cpp == llmscript: {seq == mine} ({same}/{len(mine)} positions)")
    if seq != mine:
        print("  llama.cpp:", seq)
        print("  llmscript:", mine)


if __name__ == "__main__":
    main()
