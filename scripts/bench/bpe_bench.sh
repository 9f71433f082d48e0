#!/usr/bin/env bash
# scripts/bench/bpe_bench.sh: byte-level BPE training and encoding speed of llmscript (release build)
# side by side with Hugging Face `tokenizers` (single-threaded and default threads) on the same input:
# the fortunes corpus (/usr/share/games/fortunes) repeated to a few MB, split into documents at the
# `%` lines, vocab 8k, minFrequency 2. Prints a Markdown section; --append adds it to BENCHMARKS.md.
# Usage: scripts/bench/bpe_bench.sh [--repeat=2] [--vocab=8000] [--no-build] [--append]
set -euo pipefail
cd "$(dirname "$0")/../.."

REPEAT=2; VOCAB=8000; BUILD=1; APPEND=0
for a in "$@"; do
  case "$a" in
    --repeat=*) REPEAT="${a#*=}" ;;
    --vocab=*) VOCAB="${a#*=}" ;;
    --no-build) BUILD=0 ;;
    --append) APPEND=1 ;;
    *) echo "unknown option $a (choices: --repeat=N --vocab=N --no-build --append)" >&2; exit 2 ;;
  esac
done
SCRATCH="${BENCH_SCRATCH:-.build-bpe}"
WORK="$(mktemp -d /tmp/bpe-bench.XXXXXX)"
trap 'rm -rf "$WORK"' EXIT

source scripts/bench/common.sh
bench_binary "$SCRATCH" "$BUILD"
PY=$(scripts/reference/venv.sh tokenizers regex)   # the peers' venv (PEER_VENV, default /tmp/torchvenv)
CORPUS="$WORK/corpus.txt"
bench_fortunes "$REPEAT" 0 "$CORPUS"
BYTES=$(wc -c < "$CORPUS")

cat > "$WORK/bench.lua" <<'EOF'
local path, vocab, out = arg[1], tonumber(arg[2]), arg[3]
local h = assert(io.open(path, 'rb')); local text = h:read('a'); h:close()
local docs = {}
for d in (text .. '\n%\n'):gmatch('(.-)\n%%\n') do docs[#docs + 1] = d end
local t0 = llm.clock()
local tok = llm.data.BPETokenizer.train(docs, {vocabSize = vocab, minFrequency = 2, specialTokens = {'<|endoftext|>'}})
local t1 = llm.clock()
local ids = tok:encode(text)
local t2 = llm.clock()
local n = 0
for i = 1, #docs do n = n + tok:encode(docs[i]):size(1) end
local t3 = llm.clock()
tok:save(out)
print(string.format('train=%.3f encode_whole=%.3f encode_docs=%.3f tokens=%d docs=%d', t1 - t0, t2 - t1, t3 - t2, ids:size(1), #docs))
EOF

cat > "$WORK/bench.py" <<'EOF'
import json, os, sys, time
path, vocab, mode, ours = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
text = open(path, encoding="utf-8", errors="replace").read()
docs = (text + "\n%\n").split("\n%\n")[:-1]
tok = Tokenizer(models.BPE())
tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
tok.decoder = decoders.ByteLevel()
tr = trainers.BpeTrainer(vocab_size=vocab, min_frequency=2, special_tokens=["<|endoftext|>"],
                         initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
t0 = time.perf_counter(); tok.train_from_iterator(docs, tr); t1 = time.perf_counter()
ids = tok.encode(text).ids; t2 = time.perf_counter()
n = sum(len(e.ids) for e in tok.encode_batch(docs)); t3 = time.perf_counter()
mine = Tokenizer.from_file(ours)
same_model = json.loads(mine.to_str())["model"] == json.loads(tok.to_str())["model"]
same_ids = mine.encode(text).ids == ids
print(f"train={t1-t0:.3f} encode_whole={t2-t1:.3f} encode_docs={t3-t2:.3f} tokens={len(ids)} "
      f"same_model={same_model} same_ids={same_ids}")
EOF

echo "corpus: $BYTES bytes (fortunes x$REPEAT), vocab $VOCAB" >&2
OURS=$("$LLMS" "$WORK/bench.lua" "$CORPUS" "$VOCAB" "$WORK/ours.json")
echo "llmscript: $OURS" >&2
HF1=""; HFN=""
if "$PY" -c 'import tokenizers' 2>/dev/null; then
  HF1=$(RAYON_NUM_THREADS=1 "$PY" "$WORK/bench.py" "$CORPUS" "$VOCAB" 1 "$WORK/ours.json")
  echo "tokenizers (1 thread): $HF1" >&2
  HFN=$("$PY" "$WORK/bench.py" "$CORPUS" "$VOCAB" default "$WORK/ours.json")
  echo "tokenizers (default threads): $HFN" >&2
  HFV=$("$PY" -c 'import tokenizers; print(tokenizers.__version__)')
fi

field() { echo "$1" | tr ' ' '\n' | sed -n "s/^$2=//p"; }
mbs() { awk -v b="$BYTES" -v s="$1" 'BEGIN { if (s > 0) printf "%.1f", b / s / 1e6; else print "-" }'; }
row() { # name, result line
  local tr ew ed
  tr=$(field "$2" train); ew=$(field "$2" encode_whole); ed=$(field "$2" encode_docs)
  echo "| $1 | $tr s ($(mbs "$tr") MB/s) | $ew s ($(mbs "$ew") MB/s) | $ed s ($(mbs "$ed") MB/s) |"
}
SECTION="$WORK/section.md"
{
  echo
  echo "## BPE tokenizer: training and encoding (issue 4)"
  echo
  echo "$(date -u +%Y-%m-%d), $(nproc) cores, release build. Machine: $(bench_identity "$LLMS")."
  echo "Input: the fortunes corpus x$REPEAT ($BYTES bytes, split into documents at the \`%\` lines); byte-level BPE,"
  echo "GPT-2 pre-tokenization, vocab $VOCAB, minFrequency 2, special token \`<|endoftext|>\`."
  echo "Command: \`scripts/bench/bpe_bench.sh --repeat=$REPEAT --vocab=$VOCAB\`"
  echo
  echo "| tool | train | encode (whole text, one call) | encode (per document) |"
  echo "|---|---|---|---|"
  row "llmscript (1 thread)" "$OURS"
  if [ -n "$HF1" ]; then
    row "tokenizers $HFV, RAYON_NUM_THREADS=1" "$HF1"
    row "tokenizers $HFV, default threads (encode_batch)" "$HFN"
    echo
    echo "Same model as tokenizers (vocab and merges in order): $(field "$HF1" same_model);"
    echo "tokenizers loading llmscript's tokenizer.json encodes the corpus identically: $(field "$HF1" same_ids)."
  else
    echo
    echo "tokenizers not installed in $(dirname "$(dirname "$PY")"); no comparison."
  fi
  echo "llmscript's per-document column includes one Lua call and one tensor per document."
} > "$SECTION"
cat "$SECTION"
if [ "$APPEND" = 1 ]; then
  [ -f BENCHMARKS.md ] || printf '# Benchmarks\n\nEach section: the command, the machine and the numbers.\n' > BENCHMARKS.md
  cat "$SECTION" >> BENCHMARKS.md
  echo "appended to BENCHMARKS.md" >&2
fi
