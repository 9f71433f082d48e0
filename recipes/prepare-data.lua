-- recipes/prepare-data.lua: raw text -> clean, deduplicated, byte-level-BPE-tokenized token shards.
-- Default input: the Debian fortunes corpus, English and Chinese (fortunes, fortunes-zh), split into
-- quotes at the '%' lines; both scripts on purpose, to show the Script filter and a byte-level BPE that
-- covers both (the character recipes train on the English quotes only). Steps: strip terminal colour
-- codes, clean (NFC, control characters, whitespace, URLs masked), scrub PII, length and script
-- filters, exact and MinHash dedup; every dropped document goes to rejects.jsonl with its reason.
-- Then a BPE tokenizer is trained on the kept text and the documents are written as train/val shards
-- (split by document), ready for recipes/gpt-bpe.lua.
--   llmscript recipes/prepare-data.lua --out=data/fortunes --vocab=4096
local config = llm.config({
  input = '/usr/share/games/fortunes',  -- a file or folder of text
  split = 'separator',                  -- one document per 'file', 'line' or 'separator'
  separator = '%',                      -- the separator line (fortunes: %)
  out = 'data/fortunes',                -- output folder: clean.jsonl, rejects.jsonl, tokenizer.json, shards/
  minChars = 20,                        -- drop shorter documents
  maxChars = 20000,                     -- drop longer documents
  minhashThreshold = 0.8,               -- near-duplicate Jaccard threshold
  vocab = 4096,                         -- BPE vocabulary size
  valFraction = 0.05,                   -- share of documents held out
  threads = 2,                          -- worker threads for the built-in stages
  seed = 1,                             -- seed of the MinHash permutations and the train/val split
}, arg)

llm.makeDirs(config.out)
local data = llm.data

-- 1. clean and filter; the fortunes files carry ANSI colour codes (ESC [ ... m)
local report = data.pipeline{
  data.readers.text(config.input, {split = config.split, separator = config.separator}),
  function(doc) doc.text = doc.text:gsub('\27%[[%d;]*m', ''); return doc end,
  data.clean.Cleaner{normalize = 'NFC', urls = 'mask'},
  data.pii.Scrubber{},
  data.filters.Length{minChars = config.minChars, maxChars = config.maxChars},
  data.filters.Script{allowed = {'latin', 'cjk'}},
  data.dedup.Exact{},
  data.dedup.MinHash{threshold = config.minhashThreshold, seed = config.seed},
  data.writers.jsonl(config.out .. '/clean.jsonl'),
  rejects = config.out .. '/rejects.jsonl', threads = config.threads,
}:run()

-- 2. a byte-level BPE tokenizer trained on the kept text
local texts = {}
data.pipeline{data.readers.jsonl(config.out .. '/clean.jsonl'),
              function(doc) texts[#texts + 1] = doc.text; return doc end, quiet = true}:run()
local t0 = llm.clock()
local tok = data.BPETokenizer.train(texts, {vocabSize = config.vocab, specialTokens = {'<|endoftext|>'}})
tok:save(config.out .. '/tokenizer.json')
print(string.format('tokenizer: %d tokens trained on %d documents in %.1f s -> %s/tokenizer.json',
  tok:vocabSize(), #texts, llm.clock() - t0, config.out))

-- 3. shards: each document followed by <|endoftext|>, split into train/val by document
local eot = tok:tokenToId('<|endoftext|>')
local writer = data.ShardWriter(config.out .. '/shards', {vocabSize = tok:vocabSize(), valFraction = config.valFraction, seed = config.seed})
local tokens = 0
for _, text in ipairs(texts) do
  local ids = tok:encode(text):totable()
  ids[#ids + 1] = eot
  tokens = tokens + #ids
  writer:add(ids)
end
local shards = writer:finish()
print(string.format('shards: %d documents, %d tokens (%.2f bytes per token), %d train and %d val shard files in %s/shards',
  shards.documents, tokens, #table.concat(texts) / tokens, shards.train, shards.val, config.out))
return report
