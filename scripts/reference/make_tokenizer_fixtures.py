#!/usr/bin/env python3
"""Byte-level BPE fixtures from Hugging Face `tokenizers`, and the reverse check of llmscript's export.

Writes into Tests/Fixtures/tokenizers/ (all small):
  train.txt                  the fixed training text (English, Chinese, emoji, code, whitespace runs)
  hf_bpe500.json             HF BpeTrainer(vocab_size=500, min_frequency=2, special_tokens=[<|endoftext|>],
                             initial_alphabet=ByteLevel.alphabet()), ByteLevel(add_prefix_space=False),
                             saved by tokenizers (merges as ["a", "b"] pairs)
  hf_bpe500_legacy.json      the same tokenizer with merges rewritten as legacy "a b" strings
  hf_bpe500_cases.json       [{"text", "ids"}] HF encodings of tricky strings (add_special_tokens=True)
  pretokenize_cases.json     [{"text", "pieces"}] the GPT-2 regex split by the Python `regex` module
  llmscript_bpe500.json      the tokenizer llmscript trains on train.txt with the same settings (if the
                             llmscript binary is found), checked here by loading it into `tokenizers`

Run:  swift build --product llmscript
      PY=$(scripts/reference/venv.sh tokenizers regex) && "$PY" scripts/reference/make_tokenizer_fixtures.py [path/to/llmscript]

Result recorded with tokenizers 0.23.3, regex 2025.x, llmscript debug build:
  llmscript's trained tokenizer == HF's (same vocab, same merges in the same order);
  HF loading llmscript_bpe500.json encodes all cases exactly as llmscript and as hf_bpe500.json do.
  The `regex` split and HF's ByteLevel split agree on every case here (they differ only on a few
  code points assigned in recent Unicode versions, e.g. U+0558, U+088F, U+0C5C).
"""
import json
import os
import subprocess
import sys
import tempfile

import regex
from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OUT = os.path.join(ROOT, "Tests", "Fixtures", "tokenizers")
GPT2_PAT = r"""'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"""

TRAIN_PARTS = [
    "The quick brown fox jumps over the lazy dog. The dog didn't care; it's the fox's problem.\n",
    "We're sure they'll say it's fine, but I'm not. You've seen what they'd do.\n",
    "In 1969, 3 astronauts flew 384400 km to the Moon and back in 8 days.\n",
    "def tokenize(text):\n    return [t for t in text.split()  if t]\n\n",
    "Whitespace   runs\tand\ttabs\n\n\nand trailing spaces   \n",
    "人工智能正在改变世界。我们今天学习分词器，明天训练模型。\n",
    "机器学习和深度学习都需要大量的数据。数据清洗很重要！\n",
    "Emoji time: 😀 😃 😄 👍🏽 👨‍👩‍👧 ❤️ 🎉🎉🎉 and ünïcödé café naïve résumé.\n",
    "<|endoftext|>",
    "Numbers: 12345 67890 3.14159 2,718 -42 +7 1e10; dates 2024-01-31.\n",
    "Punctuation!!! Really??? ... --- *** ((nested)) [brackets] {braces} <angles> \"quotes\" 'single'\n",
]
TRAIN_TEXT = "".join(TRAIN_PARTS * 6)

CASES = [
    "", " ", "  ", "\n", "\t", "hello", " hello", "hello ", "Hello world", "Hello  world",
    "Hello   world   ", "it's they're we've I'm you'll he'd don't IT'S 'sa ''s",
    "line one\nline two\n\n  indented\n", "tabs\tand\t\ttabs", "trailing space ",
    "12345 678 3.14 1e10", "mixed123abc 123abc abc123", "人工智能正在改变世界。", "你好，世界！ 数据清洗",
    "emoji 😀👍🏽 family 👨‍👩‍👧 flag 🇫🇷", "combining e\u0301 a\u0308 n\u0303", "café naïve résumé",
    "<|endoftext|>", "before<|endoftext|>after", "a <|endoftext|> b <|endoftext|><|endoftext|>",
    "def f(x):\n    return x  # comment\n", "   leading spaces", "\u00a0nbsp\u3000ideographic\u2003em",
    "\x1c\x1d\x1e\x1f controls \x00 \x7f", "ＦＵＬＬＷＩＤＴＨ ｔｅｘｔ", "Ω≈ç√∫˜µ≤≥÷ ¡™£¢∞§¶•ªº",
    "The quick brown fox jumps over the lazy dog.",
    # long pieces (more than 48 bytes: the heap merge path)
    "a" * 120, "the" * 40, "数据" * 30, "😀" * 20, " " * 70 + "x", "1234567890" * 8,
]


def train_hf(text):
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=500, min_frequency=2, special_tokens=["<|endoftext|>"],
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
    tok.train_from_iterator([text], trainer)
    return tok


def write_json(name, obj):
    with open(os.path.join(OUT, name), "w", encoding="utf-8") as f:
        json.dump(obj, f, ensure_ascii=False, indent=1)
        f.write("\n")


def find_llmscript():
    if len(sys.argv) > 1:
        return sys.argv[1]
    for d in sorted(os.listdir(ROOT)):
        p = os.path.join(ROOT, d, "debug", "llmscript")
        if d.startswith(".build") and os.path.exists(p):
            return p
    return None


def check_llmscript(hf, exe):
    """Trains the same tokenizer in llmscript, loads its export into tokenizers, compares encodings."""
    out_json = os.path.join(OUT, "llmscript_bpe500.json")
    with tempfile.TemporaryDirectory() as tmp:
        lua = os.path.join(tmp, "export.lua")
        cases_path = os.path.join(tmp, "cases.json")
        with open(os.path.join(tmp, "cases_in.json"), "w", encoding="utf-8") as f:
            json.dump(CASES, f)
        with open(lua, "w") as f:
            f.write(f"""
local function read(p) local h = assert(io.open(p, 'rb')); local s = h:read('a'); h:close(); return s end
local tok = llm.data.BPETokenizer.train(read({json.dumps(os.path.join(OUT, 'train.txt'))}),
    {{vocabSize = 500, minFrequency = 2, specialTokens = {{'<|endoftext|>'}}}})
tok:save({json.dumps(out_json)})
local out = {{}}
for i, s in ipairs(llm.json.decode(read({json.dumps(os.path.join(tmp, 'cases_in.json'))}))) do
  local ids = {{}}
  local t = tok:encode(s)
  for k = 1, t:size(1) do ids[k] = t[k]:item() end
  out[i] = llm.json.array(ids)
end
local h = assert(io.open({json.dumps(cases_path)}, 'w')); h:write(llm.json.encode(out)); h:close()
""")
        subprocess.run([exe, lua], check=True)
        with open(cases_path, encoding="utf-8") as f:
            ours = json.load(f)
    theirs = Tokenizer.from_file(out_json)
    same_model = json.loads(theirs.to_str())["model"] == json.loads(hf.to_str())["model"]
    bad = [s for s, ids in zip(CASES, ours) if theirs.encode(s).ids != ids or hf.encode(s).ids != ids]
    print(f"llmscript export: model identical to HF-trained: {same_model}; "
          f"encodings differing from llmscript's own: {len(bad)} of {len(CASES)} {bad[:3]}")
    return same_model and not bad


def main():
    os.makedirs(OUT, exist_ok=True)
    with open(os.path.join(OUT, "train.txt"), "w", encoding="utf-8") as f:
        f.write(TRAIN_TEXT)
    hf = train_hf(TRAIN_TEXT)
    hf.save(os.path.join(OUT, "hf_bpe500.json"))
    doc = json.loads(hf.to_str())
    doc["model"]["merges"] = [" ".join(m) if isinstance(m, list) else m for m in doc["model"]["merges"]]
    write_json("hf_bpe500_legacy.json", doc)
    write_json("hf_bpe500_cases.json", [{"text": s, "ids": hf.encode(s).ids} for s in CASES])
    # Decoding round trip in HF (special tokens kept), as a sanity check of the cases.
    for s in CASES:
        assert hf.decode(hf.encode(s).ids, skip_special_tokens=False) == s, s
    pat = regex.compile(GPT2_PAT)
    pre = pre_tokenizers.ByteLevel(add_prefix_space=False)
    cases = []
    for s in CASES:
        pieces = pat.findall(s)
        hf_pieces = [p for p, _ in pre.pre_tokenize_str(s)]
        mapped = ["".join(p for p, _ in pre.pre_tokenize_str(x)) for x in pieces]
        if mapped != hf_pieces:
            print("regex and HF ByteLevel split differ on", repr(s))
        cases.append({"text": s, "pieces": pieces})
    write_json("pretokenize_cases.json", cases)
    info = doc["model"]
    print(f"hf_bpe500: {len(info['vocab'])} tokens, {len(info['merges'])} merges")
    exe = find_llmscript()
    if exe:
        ok = check_llmscript(hf, exe)
        print("llmscript check:", "PASS" if ok else "FAIL")
        sys.exit(0 if ok else 1)
    print("llmscript binary not found; skipped the export check")


if __name__ == "__main__":
    main()
