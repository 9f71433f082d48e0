-- scripts/bench/quant_decode.lua: decoding speed of quantized weights (compress.quantize) against float32.
-- Builds the gpt2-sized nn.GPT (12 layers, 768 dim, 12 heads, vocab 50257; random GPT-2 init — speed does
-- not depend on the values), then for float32 and each format ('q8_0', 'q4_0', 'int8', 'f16') generates
-- --tokens tokens greedily after a 1-token prompt with the KV cache (nn.GPT:generate) on --threads threads,
-- and reports tokens/s (median of --repeats rounds after one warm-up; each round times every format in turn) and the weight bytes of the
-- quantized Linear layers. Every nn.Linear is quantized (the tied LM head included: the embedding table
-- stays float32). Prints a markdown table and one JSON line per format.
-- Usage: llmscript scripts/bench/quant_decode.lua [--tokens=32] [--repeats=3] [--threads=2] [--formats=q8_0,q4_0,int8,f16]
--        [--config=gpt2|char]
local cfgs = {
  gpt2 = {vocab = 50257, blockSize = 1024, layers = 12, heads = 12, dim = 768},
  char = {vocab = 127, blockSize = 64, layers = 4, heads = 4, dim = 128},
}
local opts = {tokens = 32, repeats = 3, threads = 2, formats = 'q8_0,q4_0,int8,f16', config = 'gpt2'}
local bench = dofile(debug.getinfo(1, 'S').source:match('^@(.*/)') .. 'benchlib.lua')
bench.options(opts, arg)
local c = assert(cfgs[opts.config], 'unknown config ' .. tostring(opts.config))
llm.setThreads(opts.threads)

local median = bench.median

local function model()
  llm.manualSeed(0)
  local m = nn.GPT(c)
  m:eval()
  return m
end

local prompt = llm.tensor({1}, {dtype = 'int64'})
local function timeOnce(m)
  local t0 = llm.clock()
  m:generate(prompt, {maxTokens = opts.tokens, temperature = 0})
  return opts.tokens / (llm.clock() - t0)
end

-- every model is built first, then each round times every model in turn (the machine's load drifts)
local rows = {}
do
  local m = model()
  local bytes = 0
  for _, p in ipairs(m:parameters()) do bytes = bytes + p:numel() * 4 end
  rows[1] = {format = 'float32', model = m, bytes = bytes, rates = {}}
end
for f in opts.formats:gmatch('[^,]+') do
  local m = model()
  local _, info = compress.quantize(m, {format = f})
  collectgarbage()
  rows[#rows + 1] = {format = f, model = m, bytes = info.bytes, linearFloatBytes = info.floatBytes, rates = {}}
end
for _, r in ipairs(rows) do r.model:generate(prompt, {maxTokens = 4, temperature = 0}) end   -- warm-up
for _ = 1, opts.repeats do
  for _, r in ipairs(rows) do r.rates[#r.rates + 1] = timeOnce(r.model) end
end
for _, r in ipairs(rows) do r.tps = median(r.rates) end
local f32 = rows[1].tps

print(string.format('| format (%s, %d threads) | decode tok/s | speed-up vs float32 | quantized Linear weights (MB) |', opts.config, opts.threads))
print('|---|---:|---:|---:|')
for _, r in ipairs(rows) do
  print(string.format('| %s | %.1f | %.2fx | %s |', r.format, r.tps, r.tps / f32,
    r.linearFloatBytes and string.format('%.1f (float32: %.1f)', r.bytes / 1e6, r.linearFloatBytes / 1e6) or '-'))
end
for _, r in ipairs(rows) do
  print(llm.json.encode({bench = 'quant_decode', config = opts.config, threads = opts.threads, format = r.format,
    tokensPerSecond = r.tps, speedup = r.tps / f32, bytes = r.bytes}))
end
