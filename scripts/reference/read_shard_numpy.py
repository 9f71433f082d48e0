#!/usr/bin/env python3
"""Checks docs/formats/token-shards.md against llmscript: the NumPy reader printed there must read back
exactly the documents llmscript's ShardWriter was given.

Writes two shard folders with the llmscript binary (vocab 1000 -> u16 ids; vocab 70000 -> u32 ids),
each with several train and val shards (small shardTokens, documents forced to a split, empty documents
included), extracts the first ```python block of the format page, executes it, and compares every
document of both splits. Exit status 0 when all match. Needs NumPy (not part of CI, which checks the
layout without NumPy in Tests/lua/shard_format_spec.lua).

Run: python3 scripts/reference/read_shard_numpy.py [path/to/llmscript]   (default .build/debug/llmscript)
"""
import os
import random
import re
import subprocess
import sys
import tempfile

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
DOC = os.path.join(ROOT, "docs", "formats", "token-shards.md")


def documents(vocab, seed):
    rng = random.Random(seed)
    docs = []
    for i in range(60):
        n = 0 if i % 17 == 5 else rng.randrange(1, 40)
        split = "val" if i % 4 == 3 else "train"
        ids = [rng.randrange(vocab) for _ in range(n)] + ([vocab - 1] if n else [])   # the largest id too
        docs.append((split, ids))
    return docs


def write_with_llmscript(binary, folder, vocab, docs):
    lua = ["local w = llm.data.ShardWriter(%r, {vocabSize = %d, shardTokens = 100, seed = 3})" % (folder, vocab)]
    for split, ids in docs:
        lua.append("w:add({%s}, %r)" % (", ".join(map(str, ids)), split))
    lua.append("w:finish()")
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as f:
        f.write("\n".join(lua) + "\n")
        script = f.name
    try:
        subprocess.run([binary, script], check=True)
    finally:
        os.unlink(script)


def main():
    binary = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, ".build", "debug", "llmscript")
    with open(DOC, encoding="utf-8") as f:
        snippet = re.search(r"```python\n(.*?)```", f.read(), re.S).group(1)
    ns = {}
    exec(compile(snippet, DOC, "exec"), ns)
    import numpy
    ok = True
    with tempfile.TemporaryDirectory() as tmp:
        for vocab in (1000, 70000):
            folder = os.path.join(tmp, f"v{vocab}")
            docs = documents(vocab, vocab)
            write_with_llmscript(binary, folder, vocab, docs)
            for split in ("train", "val"):
                want = [ids for s, ids in docs if s == split]
                got = ns["read_split"](folder, split)
                files = sorted(n for n in os.listdir(folder) if n.startswith(split))
                same = len(got) == len(want) and all(g.tolist() == w for g, w in zip(got, want))
                dtype = got[0].dtype if got else None
                print(f"vocab {vocab} {split}: {len(files)} shards, {len(want)} documents, dtype {dtype}: "
                      f"{'equal' if same else 'DIFFERENT'}")
                ok &= same and len(files) > 1
    print(f"numpy {numpy.__version__}, python {sys.version.split()[0]}: {'all equal' if ok else 'MISMATCH'}")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
