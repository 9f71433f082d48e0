-- scripts/bench/prune_shrink.lua: what structured pruning buys once the model is shrunk (compress.shrink).
-- For one config it builds the dense nn.GPT, prunes `--amount` of the attention heads and of the MLP neurons
-- by L2 norm (compress.prune, structure 'heads' then 'neurons'), and times, for the dense model, the masked
-- model (same shapes: no faster) and the shrunk one: a training step (forward + loss, backward, AdamW, the
-- masked optimizer path for the masked model) in tokens/s, a no-grad forward in tokens/s, and KV-cache
-- generation (batch 1) in tokens/s; medians of --repeats rounds (each round times every model in turn)
-- after one warm-up. Also checks that the shrunk
-- model's logits equal the masked model's. Prints a markdown table and one JSON line per model.
-- Usage: llmscript scripts/bench/prune_shrink.lua --config=char|medium [--amount=0.5] [--repeats=5] [--threads=2]
local cfgs = {
  -- recipes/gpt-char.lua's default model (vocabulary of the fortunes corpus) and batch
  char = {vocab = 127, blockSize = 64, layers = 4, heads = 4, dim = 128, batch = 16, seq = 64, gen = 48},
  -- a wider model (scripts/bench/gpt_step.lua's 'char' shape), where the matrices dominate
  medium = {vocab = 65, blockSize = 256, layers = 6, heads = 6, dim = 384, batch = 8, seq = 128, gen = 128},
}

local opts = {config = 'char', amount = 0.5, repeats = 5, threads = 2}
local bench = dofile(debug.getinfo(1, 'S').source:match('^@(.*/)') .. 'benchlib.lua')
bench.options(opts, arg)
local c = assert(cfgs[opts.config], 'unknown config ' .. tostring(opts.config))
llm.setThreads(opts.threads)

local median = bench.median

llm.manualSeed(1337)
local x = llm.randint(0, c.vocab, {c.batch, c.seq})
local y = llm.randint(0, c.vocab, {c.batch, c.seq})
local prompt = llm.randint(0, c.vocab, {8})

-- The three timed workloads of a model (masked: gradients masked, the optimizer's masked path attached).
local function workloads(model, masked)
  local opt = optim.AdamW(model:parameters(), {lr = 1e-4})
  if masked then compress.attach(model, opt) end
  return {
    train = function()
      model:train()
      local _, loss = model(x, y)
      loss:backward()
      if masked then compress.maskGradients(model) end
      opt:step()
      opt:zeroGrad()
    end,
    forward = function() model:eval(); llm.noGrad(function() return model(x) end) end,
    generate = function() model:eval(); model:generate(prompt, {maxTokens = c.gen, temperature = 0}) end,
  }
end

local dense = nn.GPT{vocab = c.vocab, blockSize = c.blockSize, layers = c.layers, heads = c.heads, dim = c.dim}
llm.manualSeed(1337)
local pruned = nn.GPT{vocab = c.vocab, blockSize = c.blockSize, layers = c.layers, heads = c.heads, dim = c.dim}
compress.prune(pruned, {amount = opts.amount, structure = 'heads'})
compress.prune(pruned, {amount = opts.amount, structure = 'neurons'})
local small, info = compress.shrink(pruned)
pruned:eval(); small:eval()
local diff = llm.noGrad(function() return (pruned(x) - small(x)):abs():max():item() end)

local pct = string.format('%.0f%%', 100 * opts.amount)
local models = {{name = 'dense', model = dense}, {name = pct .. ' heads+MLP masked', model = pruned, masked = true},
                {name = pct .. ' heads+MLP shrunk', model = small}}
local kinds = {'train', 'forward', 'generate'}
-- round-robin: each repeat times every model in turn, so that the machine's load changes hit all alike
local times = {}
for i, m in ipairs(models) do
  m.work = workloads(m.model, m.masked)
  times[i] = {train = {}, forward = {}, generate = {}}
  for _, k in ipairs(kinds) do m.work[k]() end   -- warm-up
end
for _ = 1, opts.repeats do
  for i, m in ipairs(models) do
    for _, k in ipairs(kinds) do
      local t0 = llm.clock()
      m.work[k]()
      times[i][k][#times[i][k] + 1] = llm.clock() - t0
    end
  end
end
local rows = {}
for i, m in ipairs(models) do
  local tokens = c.batch * c.seq
  rows[i] = {name = m.name, params = m.model:numParameters(), train = tokens / median(times[i].train),
             forward = tokens / median(times[i].forward), generate = c.gen / median(times[i].generate)}
end

print(string.format('config %s: layers %d, heads %d -> %d, dim %d, MLP %d -> %d, batch %d x %d, %d threads; max |logits(shrunk) - logits(masked)| = %.2e',
  opts.config, c.layers, c.heads, info.heads[1], c.dim, 4 * c.dim, info.hidden[1], c.batch, c.seq, opts.threads, diff))
print('| model | parameters | train tok/s | forward tok/s | generate tok/s |')
print('|---|---:|---:|---:|---:|')
for _, r in ipairs(rows) do
  print(string.format('| %s | %d | %.0f | %.0f | %.1f |', r.name, r.params, r.train, r.forward, r.generate))
end
for _, r in ipairs(rows) do
  print(llm.json.encode({config = opts.config, model = r.name, params = r.params, trainTokPerSec = r.train,
                         forwardTokPerSec = r.forward, generateTokPerSec = r.generate, maxLogitDiff = diff}))
end
