-- scripts/bench/quant_valloss.lua: what quantization costs in validation loss on recipes/gpt-char.lua's model
-- (fortunes, 4 layers, 4 heads, dim 128, block 64, batch 16; its seed, AdamW betas (0.9, 0.99), weight decay 0.1
-- on matrices, warmup + cosine to 3e-4), trained for --steps steps (fewer than the recipe's 1500: a short run).
-- Then the float32 val loss (all validation windows) beside the same weights quantized by compress.quantize
-- ('q8_0', 'q4_0', 'int8', 'int8' with static activation scales calibrated on 8 training batches, 'f16', 'bf16'),
-- and QAT: --qatSteps more steps under int8 fake quantization (compress.qat, STE) then compress.convert,
-- against the float model trained the same extra steps. Also the no-grad forward tokens/s of each on one
-- validation batch (16 × 64 tokens: prefill-shaped work). Prints a markdown table and one JSON line per row.
-- Usage: llmscript scripts/bench/quant_valloss.lua [--steps=600] [--qatSteps=100] [--threads=2]
local opts = {steps = 600, qatSteps = 100, threads = 2}
local bench = dofile(debug.getinfo(1, 'S').source:match('^@(.*/)') .. 'benchlib.lua')
bench.options(opts, arg)
llm.setThreads(opts.threads)
llm.manualSeed(1337)
local text = require('llm.corpus').text('fortunes')
local tokenizer = llm.data.CharTokenizer(text)
local trainIds, valIds = llm.data.split(tokenizer:encode(text), 0.1)
local batches = llm.data.Batcher(trainIds, {batchSize = 16, blockSize = 64, seed = 1337})
local cfg = {vocab = tokenizer:vocabSize(), blockSize = 64, layers = 4, heads = 4, dim = 128}

local function train(model, steps, lr0)
  local groups = optim.paramGroups(model, {{match = function(_, p) return p:dim() < 2 end, weightDecay = 0}})
  local opt = optim.AdamW(groups, {lr = lr0, betas = {0.9, 0.99}, weightDecay = 0.1})
  local sched = optim.schedule.warmupCosine{maxLR = lr0, minLR = 3e-4, warmupSteps = math.min(100, steps // 5), totalSteps = steps}
  model:train()
  for step = 1, steps do
    opt:setLR(sched(step))
    local x, y = batches:next()
    local _, loss = model(x, y)
    opt:zeroGrad()
    loss:backward()
    optim.clipGradNorm(model:parameters(), 1.0)
    opt:step()
  end
  model:eval()
end

local function valLoss(model)
  local total, n = 0, 0
  llm.noGrad(function()
    for x, y in llm.data.evalWindows(valIds, 16, 64) do
      local _, loss = model(x, y)
      total, n = total + loss:item(), n + 1
    end
  end)
  return total / n
end

local function forwardRate(model)
  local x = llm.data.evalWindows(valIds, 16, 64)()
  llm.noGrad(function() model(x) end)
  local t0 = llm.clock()
  for _ = 1, 3 do llm.noGrad(function() model(x) end) end
  return 3 * x:numel() / (llm.clock() - t0)
end

local function copyOf(model)
  local m = nn.GPT(cfg)
  m:loadStateDict(model:stateDict())
  m:eval()
  return m
end

local base = nn.GPT(cfg)
train(base, opts.steps, 3e-3)
local rows = {{name = 'float32', loss = valLoss(base), rate = forwardRate(base), bytes = 0}}
for _, p in ipairs(base:parameters()) do rows[1].bytes = rows[1].bytes + p:numel() * 4 end
local calib = {}
for i = 1, 8 do calib[i] = batches:next() end
for _, f in ipairs{'q8_0', 'q4_0', 'int8', 'int8-static', 'f16', 'bf16'} do
  local m = copyOf(base)
  local q = {format = f == 'int8-static' and 'int8' or f}
  if f == 'int8-static' then q.calibrate = function(model) for _, x in ipairs(calib) do model(x) end end end
  local _, info = compress.quantize(m, q)
  rows[#rows + 1] = {name = f, loss = valLoss(m), rate = forwardRate(m), bytes = rows[1].bytes - info.floatBytes + info.bytes}
end
-- QAT against the same extra float steps
local more = copyOf(base)
train(more, opts.qatSteps, 3e-4)
rows[#rows + 1] = {name = string.format('float32 +%d steps', opts.qatSteps), loss = valLoss(more), rate = forwardRate(more), bytes = rows[1].bytes}
local qat = copyOf(base)
compress.qat(qat)
train(qat, opts.qatSteps, 3e-4)
local _, info = compress.convert(qat)
rows[#rows + 1] = {name = string.format('int8 QAT +%d steps', opts.qatSteps), loss = valLoss(qat), rate = forwardRate(qat),
                   bytes = rows[1].bytes - info.floatBytes + info.bytes}

print(string.format('| gpt-char model, %d steps (%d threads) | val loss | Δ vs float32 | forward tok/s | weights (KB) |', opts.steps, opts.threads))
print('|---|---:|---:|---:|---:|')
for _, r in ipairs(rows) do
  print(string.format('| %s | %.4f | %+.4f | %.0f | %.0f |', r.name, r.loss, r.loss - rows[1].loss, r.rate, r.bytes / 1024))
end
for _, r in ipairs(rows) do
  print(llm.json.encode({bench = 'quant_valloss', steps = opts.steps, name = r.name, valLoss = r.loss, forwardTokensPerSecond = r.rate, bytes = r.bytes}))
end
