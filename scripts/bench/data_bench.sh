#!/usr/bin/env bash
# scripts/bench/data_bench.sh: MB/s of llmscript's data stages (release build) on the fortunes corpus
# (/usr/share/games/fortunes, split at `%` lines, repeated N times so exact dedup has work) side by side
# with Python peers on the same documents: (1) clean (NFC, controls, whitespace) + Gopher quality + Gopher
# repetition + exact dedup, vs a plain-Python regex implementation of the same rules; (2) MinHash-LSH
# dedup (word 5-grams, 128 permutations, threshold 0.8), vs datasketch (in the peers' venv, scripts/reference/venv.sh).
# Prints a Markdown section; --append adds it to BENCHMARKS.md.
# Usage: scripts/bench/data_bench.sh [--repeat=3] [--no-build] [--append]
set -euo pipefail
cd "$(dirname "$0")/../.."

REPEAT=3; BUILD=1; APPEND=0
for a in "$@"; do
  case "$a" in
    --repeat=*) REPEAT="${a#*=}" ;;
    --no-build) BUILD=0 ;;
    --append) APPEND=1 ;;
    *) echo "unknown option $a (choices: --repeat=N --no-build --append)" >&2; exit 2 ;;
  esac
done
SCRATCH="${BENCH_SCRATCH:-.build-clean-rel}"
WORK="$(mktemp -d /tmp/data-bench.XXXXXX)"
trap 'rm -rf "$WORK"' EXIT

source scripts/bench/common.sh
bench_binary "$SCRATCH" "$BUILD"
PY=$(scripts/reference/venv.sh datasketch)   # the peers' venv (PEER_VENV, default /tmp/torchvenv)
CORPUS="$WORK/corpus.txt"
bench_fortunes "$REPEAT" 1 "$CORPUS"

cat > "$WORK/bench.lua" <<'EOF'
local path, threads = arg[1], tonumber(arg[2])
local h = assert(io.open(path, 'rb')); local text = h:read('a'); h:close()
local docs = {}
for d in text:gmatch('(.-)\n%%\n') do if d:find('%S') then docs[#docs + 1] = d end end
local bytes = 0
for i = 1, #docs do bytes = bytes + #docs[i] end
local D = llm.data
local function run(steps)
  local spec = {D.readers.list(docs), threads = threads, quiet = true}
  for _, s in ipairs(steps) do spec[#spec + 1] = s end
  local t0 = llm.clock()
  local _, kept = D.pipeline(spec):run()
  return llm.clock() - t0, #kept
end
local t1, k1 = run{D.clean.Cleaner{normalize = 'NFC'}, D.filters.GopherQuality{minWords = 5},
                   D.filters.GopherRepetition(), D.dedup.Exact()}
local t2, k2 = run{D.dedup.MinHash{threshold = 0.8, numPerm = 128, shingle = 5}}
print(string.format('docs=%d bytes=%d filter_s=%.4f filter_kept=%d minhash_s=%.4f minhash_kept=%d', #docs, bytes, t1, k1, t2, k2))
EOF

cat > "$WORK/filters.py" <<'EOF'
# Plain-Python regex implementation of the same rules: NFC + control removal + whitespace collapse,
# Gopher quality (minWords=5, other datatrove defaults) and repetition, exact dedup (md5 of lowercased text).
import re, sys, time, unicodedata, hashlib
from collections import Counter
text = open(sys.argv[1], encoding='utf-8', errors='replace').read()
docs = [d for d in re.split(r'\n%\n', text) if d.strip()]
CTRL = re.compile(r'[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2060-\u2064\ufeff\u00ad]')
SP = re.compile(r'[ \t\u00a0\u3000]+'); NL = re.compile(r' *\n *'); NL3 = re.compile(r'\n{3,}')
STOP = {'the', 'be', 'to', 'of', 'and', 'that', 'have', 'with'}
PUNCT = set('!"#$%&\'()*+,-./:;<=>?@[\\]^_`{|}~')
def clean(t):
    t = unicodedata.normalize('NFC', t); t = CTRL.sub('', t.replace('\r\n', '\n'))
    return NL3.sub('\n\n', NL.sub('\n', SP.sub(' ', t))).strip()
def quality(t):
    words = t.split(); n = len(words)
    ns = [w for w in words if any(c not in PUNCT for c in w)]
    if len(ns) < 5 or len(ns) > 100000: return False
    m = sum(len(w) for w in ns) / len(ns)
    if m < 3 or m > 10: return False
    if t.count('#') / n > 0.1 or (t.count('...') + t.count('…')) / n > 0.1: return False
    lines = t.splitlines()
    if sum(l.lstrip().startswith(('•', '-')) for l in lines) / len(lines) > 0.9: return False
    if sum(l.rstrip().endswith(('...', '…')) for l in lines) / len(lines) > 0.3: return False
    if sum(any(c.isalpha() for c in w) for w in words) / n < 0.8: return False
    return sum(w.lower() in STOP for w in words) >= 2
def dups(xs):
    seen, d, c = set(), 0, 0
    for x in xs:
        if x in seen: d += 1; c += len(x)
        else: seen.add(x)
    return d, c
def repetition(t):
    L = len(t); paras = re.split(r'\n{2,}', t.strip()); d, c = dups(paras)
    if d / len(paras) > 0.3 or c / L > 0.2: return False
    lines = re.split(r'\n+', t); d, c = dups(lines)
    if d / len(lines) > 0.3 or c / L > 0.2: return False
    words = t.split()
    for n, f in ((2, .2), (3, .18), (4, .16)):
        grams = [' '.join(words[i:i + n]) for i in range(len(words) - n + 1)]
        if grams:
            g, k = Counter(grams).most_common(1)[0]
            if k > 1 and len(g) * k / L > f: return False
    for n, f in ((5, .15), (6, .14), (7, .13), (8, .12), (9, .11), (10, .10)):
        seen, rep, i = set(), 0, 0
        while i < len(words) - n + 1:
            g = ''.join(words[i:i + n])
            if g in seen: rep += len(g); i += n
            else: seen.add(g); i += 1
        if rep / L > f: return False
    return True
t0 = time.perf_counter(); seen = set(); kept = 0
for d in docs:
    d = clean(d)
    if not d or not quality(d) or not repetition(d): continue
    h = hashlib.md5(' '.join(d.lower().split()).encode()).digest()
    if h in seen: continue
    seen.add(h); kept += 1
print(f'filter_s={time.perf_counter() - t0:.4f} filter_kept={kept}')
EOF

cat > "$WORK/minhash.py" <<'EOF'
# datasketch MinHash + MinHashLSH (threshold 0.8, 128 permutations), word 5-gram shingles, keep first.
import re, sys, time
from datasketch import MinHash, MinHashLSH
text = open(sys.argv[1], encoding='utf-8', errors='replace').read()
docs = [d for d in re.split(r'\n%\n', text) if d.strip()]
t0 = time.perf_counter()
lsh = MinHashLSH(threshold=0.8, num_perm=128); kept = 0
for i, d in enumerate(docs):
    w = d.lower().split()
    sh = {' '.join(w[j:j + 5]) for j in range(max(1, len(w) - 4))}
    m = MinHash(num_perm=128); m.update_batch([s.encode('utf-8') for s in sh])
    if lsh.query(m): continue
    lsh.insert(str(i), m); kept += 1
print(f'minhash_s={time.perf_counter() - t0:.4f} minhash_kept={kept}')
EOF

get() { echo "$1" | tr ' ' '\n' | sed -n "s/^$2=//p"; }
L1=$("$LLMS" "$WORK/bench.lua" "$CORPUS" 1)
L2=$("$LLMS" "$WORK/bench.lua" "$CORPUS" 2)
P=$(python3 "$WORK/filters.py" "$CORPUS")
if "$PY" -c 'import datasketch' 2>/dev/null; then
  DS=$("$PY" "$WORK/minhash.py" "$CORPUS"); DSV=$("$PY" -c 'import datasketch; print(datasketch.__version__)')
else DS="minhash_s=nan minhash_kept=-"; DSV="not installed"; fi
BYTES=$(get "$L1" bytes); DOCS=$(get "$L1" docs)
mbs() { python3 -c "import sys; b,s=float(sys.argv[1]),float(sys.argv[2]); print('%.1f' % (b/s/1e6) if s==s and s>0 else '-')" "$BYTES" "$1"; }
OUT="$WORK/section.md"
{
  echo "## Data cleaning, filtering and dedup (issue 4)"
  echo
  echo "Command: \`scripts/bench/data_bench.sh --repeat=$REPEAT\` (release build; $(nproc) cores; $(date -u +%Y-%m-%d))."
  echo "Machine: $(bench_identity "$LLMS")."
  echo "Input: the fortunes corpus (/usr/share/games/fortunes) repeated $REPEAT×, split at \`%\` lines: $DOCS documents, $BYTES bytes."
  echo "Filter chain: clean (NFC, controls, whitespace) → Gopher quality (minWords 5) → Gopher repetition → exact dedup."
  echo "MinHash: word 5-grams, 128 permutations, threshold 0.8 (LSH 9 bands × 13 rows in both), keep first."
  echo
  echo "| stage | llmscript 1 thread | llmscript 2 threads | Python peer | peer |"
  echo "|---|---|---|---|---|"
  echo "| clean+filters+exact dedup, MB/s | $(mbs "$(get "$L1" filter_s)") | $(mbs "$(get "$L2" filter_s)") | $(mbs "$(get "$P" filter_s)") | plain Python regex |"
  echo "| (documents kept) | $(get "$L1" filter_kept) | $(get "$L2" filter_kept) | $(get "$P" filter_kept) | |"
  echo "| MinHash-LSH dedup, MB/s | $(mbs "$(get "$L1" minhash_s)") | $(mbs "$(get "$L2" minhash_s)") | $(mbs "$(get "$DS" minhash_s)") | datasketch $DSV |"
  echo "| (documents kept) | $(get "$L1" minhash_kept) | $(get "$L2" minhash_kept) | $(get "$DS" minhash_kept) | |"
  echo
  echo "MinHash dedup is an ordered stage (one thread), so its two columns differ only by noise. Kept counts differ"
  echo "where the rules differ: the corpus holds Chinese fortunes, which the Python peer (str.split words) drops on"
  echo "mean word length while llmscript counts each CJK character as a word; a few bullet/n-gram edge cases;"
  echo "MinHash shingle hashing and permutations. The 2-thread column is only meaningful on an idle machine."
} > "$OUT"
cat "$OUT"
if [ "$APPEND" = 1 ]; then
  [ -f BENCHMARKS.md ] || echo "# Benchmarks" > BENCHMARKS.md
  { echo; cat "$OUT"; } >> BENCHMARKS.md
fi
