-- scripts/bench/compress_table.lua: one size/speed/quality table for recipes/gpt-char.lua's model (fortunes,
-- 4 layers, 4 heads, dim 128, block 64, batch 16; its seed, AdamW betas (0.9, 0.99), weight decay 0.1 on
-- matrices, warmup + cosine 3e-3 -> 3e-4, clip 1.0), every trained row on the same batches for --steps steps:
--   dense; GMP unstructured 50/75/90% (compress.pruner, cubic schedule from 20% to 70% of the steps);
--   50% heads+MLP neurons (two L2 pruners on the same schedule), then compress.shrink;
--   int8, Q8_0, Q4_0: compress.quantize of the trained dense model (post-training, no calibration);
--   a 2-layer student distilled from the dense model (compress.distill, alpha 0.5, T 2);
--   SET and RigL at 80% sparsity (ERK) and a dense model of about their non-zero parameter count (a smaller dim).
-- Columns: parameters (non-zero ones for the sparse rows), the file as saved (llm.save of the state dict, or
-- compress.saveQuantized), val loss (first --valBatches validation windows of 16 x 64), training tokens/s
-- (the whole Trainer run: steps x 16 x 64 / wall time, pruner/distillation work included) and generation
-- tokens/s (model:generate, 1 sequence, --genTokens greedy tokens after '\n'; median of --repeats rounds, each
-- round decoding with every model in turn; one untimed training run first). Ratios are to the dense row. Prints a markdown table, then one
-- JSON line per row. Files go to --out (default /tmp/compress_table).
-- Usage: llmscript scripts/bench/compress_table.lua [--steps=300] [--threads=2] [--genTokens=200] [--repeats=7]
local opts = {steps = 300, threads = 2, genTokens = 200, repeats = 7, valBatches = 40, out = '/tmp/compress_table'}
local bench = dofile(debug.getinfo(1, 'S').source:match('^@(.*/)') .. 'benchlib.lua')
bench.options(opts, arg)
llm.setThreads(opts.threads)
os.execute('mkdir -p ' .. opts.out)

local text = require('llm.corpus').text('fortunes')
local tokenizer = llm.data.CharTokenizer(text)
local trainIds, valIds = llm.data.split(tokenizer:encode(text), 0.1)
local cfg = {vocab = tokenizer:vocabSize(), blockSize = 64, layers = 4, heads = 4, dim = 128}
local steps = opts.steps
local start = math.floor(0.2 * steps)
local stop = math.max(start + 1, math.floor(0.7 * steps))
local every = math.max(1, math.floor(0.02 * steps))

local median = bench.median

local function gpt(over)
  local c = {}
  for k, v in pairs(cfg) do c[k] = v end
  for k, v in pairs(over or {}) do c[k] = v end
  llm.manualSeed(1337)
  return nn.GPT(c)
end

-- Trains model for `steps` (the recipe's optimizer and schedule, fresh batches of the same seed) with the given
-- Trainer extensions; returns the training tokens/s.
local function train(model, extensions)
  local groups = optim.paramGroups(model, {{match = function(_, p) return p:dim() < 2 end, weightDecay = 0}})
  local opt = optim.AdamW(groups, {lr = 3e-3, betas = {0.9, 0.99}, weightDecay = 0.1})
  local trainer = llm.Trainer{
    model = model, optimizer = opt, steps = steps, clip = 1.0, logEvery = steps, progress = false, extensions = extensions,
    schedule = optim.schedule.warmupCosine{maxLR = 3e-3, minLR = 3e-4, warmupSteps = math.min(100, steps // 3), totalSteps = steps},
    train = llm.data.Batcher(trainIds, {batchSize = 16, blockSize = 64, seed = 1337}),
  }
  local t0 = llm.clock()
  trainer:run()
  model:eval()
  return steps * 16 * 64 / (llm.clock() - t0)
end

local function valLoss(model)
  local total, n = 0, 0
  model:eval()
  llm.noGrad(function()
    for x, y in llm.data.evalWindows(valIds, 16, 64) do
      local _, loss = model(x, y)
      total, n = total + loss:item(), n + 1
      if n >= opts.valBatches then break end
    end
  end)
  return total / n
end

local function fileSize(path)
  local f = assert(io.open(path, 'rb'))
  local size = f:seek('end')
  f:close()
  return size
end

local function saveFloat(model, name)
  local path = opts.out .. '/' .. name .. '.safetensors'
  llm.save(path, model:stateDict())
  return fileSize(path)
end

local function nonZero(model)
  local s = compress.sparsity(model)
  return model:numParameters() - s.total.zeros
end

local rows = {}
local function add(row)
  row.loss = valLoss(row.model)
  rows[#rows + 1] = row
  io.stderr:write(string.format('%-34s params %8d  file %8d B  val %.4f  train %s tok/s\n', row.name, row.params, row.bytes,
    row.loss, row.trainRate and string.format('%.0f', row.trainRate) or '-'))
end

-- an untimed warm-up run (thread pools, allocator), so that the dense row is not the only one paying for it
do
  local saved = steps
  steps = math.min(20, saved)
  train(gpt())
  steps = saved
end

-- dense
local dense = gpt()
local rate = train(dense)
add{name = 'dense', model = dense, params = dense:numParameters(), bytes = saveFloat(dense, 'dense'), trainRate = rate}

-- unstructured GMP while training
for _, s in ipairs{0.5, 0.75, 0.9} do
  local m = gpt()
  local gmp = compress.schedule.gmp{final = s, start = start, stop = stop, every = every}
  rate = train(m, {compress.pruner{model = m, criterion = 'magnitude', scope = 'layer', schedule = gmp}})
  local name = string.format('GMP %.0f%% unstructured', 100 * s)
  add{name = name, model = m, params = nonZero(m), bytes = saveFloat(m, string.format('gmp%.0f', 100 * s)), trainRate = rate}
end

-- structured: 50% of the heads and of the MLP neurons, then shrunk
do
  local m = gpt()
  local gmp = compress.schedule.gmp{final = 0.5, start = start, stop = stop, every = every}
  rate = train(m, {compress.pruner{model = m, structure = 'heads', criterion = 'l2', schedule = gmp, name = 'pruner-heads'},
                   compress.pruner{model = m, structure = 'neurons', criterion = 'l2', schedule = gmp, name = 'pruner-neurons'}})
  local small = compress.shrink(m)
  small:eval()
  add{name = '50% heads+MLP, shrunk', model = small, params = small:numParameters(), bytes = saveFloat(small, 'shrunk50'), trainRate = rate}
end

-- post-training quantization of the dense model
for _, f in ipairs{'int8', 'q8_0', 'q4_0'} do
  local m = gpt()
  m:loadStateDict(dense:stateDict())
  m:eval()
  compress.quantize(m, {format = f})
  local path = opts.out .. '/dense-' .. f .. '.safetensors'
  compress.saveQuantized(m, path)
  add{name = f == 'int8' and 'int8 (PTQ)' or (f:upper() .. ' (PTQ)'), model = m, params = dense:numParameters(), bytes = fileSize(path)}
end

-- 2-layer student distilled from the dense model
do
  local student = gpt({layers = 2})
  dense:eval()
  rate = train(student, {compress.distill{teacher = dense, alpha = 0.5, temperature = 2.0}})
  add{name = '2-layer student, distilled', model = student, params = student:numParameters(), bytes = saveFloat(student, 'student2'),
      trainRate = rate}
end

-- dynamic sparse training at 80%, and a dense model of about the same non-zero count
local sparseParams
for _, method in ipairs{'set', 'rigl'} do
  local m = gpt()
  rate = train(m, {compress.sparseTraining{model = m, method = method, sparsity = 0.8, every = every, stop = stop}})
  sparseParams = nonZero(m)
  add{name = method:upper() == 'RIGL' and 'RigL 80% (ERK)' or 'SET 80% (ERK)', model = m, params = sparseParams,
      bytes = saveFloat(m, method .. '80'), trainRate = rate}
end
do
  local best, bestDim
  for d = 16, 128, 4 do
    local n = gpt({dim = d}):numParameters()
    if not best or math.abs(n - sparseParams) < math.abs(best - sparseParams) then best, bestDim = n, d end
  end
  local m = gpt({dim = bestDim})
  rate = train(m)
  add{name = string.format('dense, dim %d (same params)', bestDim), model = m, params = m:numParameters(),
      bytes = saveFloat(m, 'dense-dim' .. bestDim), trainRate = rate}
end

-- generation, round-robin over the models
local prompt = tokenizer:encode('\n')
local gen = {}
for i, r in ipairs(rows) do
  r.model:generate(prompt, {maxTokens = 8, temperature = 0})   -- warm-up
  gen[i] = {}
end
for _ = 1, opts.repeats do
  for i, r in ipairs(rows) do
    local t0 = llm.clock()
    r.model:generate(prompt, {maxTokens = opts.genTokens, temperature = 0})
    gen[i][#gen[i] + 1] = opts.genTokens / (llm.clock() - t0)
  end
end

local d = rows[1]
print(string.format('| gpt-char model, %d steps, %d threads | parameters | file (KB) | val loss | Δ vs dense | train tok/s | generate tok/s |',
  steps, opts.threads))
print('|---|---:|---:|---:|---:|---:|---:|')
for i, r in ipairs(rows) do
  r.genRate = median(gen[i])
  print(string.format('| %s | %d (%.2f×) | %.0f (%.2f×) | %.4f | %+.4f | %s | %.0f (%.2f×) |', r.name, r.params, r.params / d.params,
    r.bytes / 1024, r.bytes / d.bytes, r.loss, r.loss - d.loss,
    r.trainRate and string.format('%.0f (%.2f×)', r.trainRate, r.trainRate / d.trainRate) or '—', r.genRate, r.genRate / d.genRate))
end
for _, r in ipairs(rows) do
  print(llm.json.encode({bench = 'compress_table', steps = steps, threads = opts.threads, name = r.name, parameters = r.params,
                         fileBytes = r.bytes, valLoss = r.loss, trainTokensPerSecond = r.trainRate, generateTokensPerSecond = r.genRate}))
end
