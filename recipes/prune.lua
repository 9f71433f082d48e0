-- recipes/prune.lua: gradual magnitude pruning (Zhu & Gupta 2017) of the character GPT of gpt-char.lua
-- (same data, model and optimizer) while it trains: the sparsity of its attention and MLP matrices rises
-- on the cubic schedule from pruneStart to pruneStop, every pruneEvery steps, to `sparsity`; the masks
-- keep pruned weights (and their Adam moments) at zero. It prints the sparsity per matrix and in total,
-- and the validation loss. With --structure=heads+neurons (or heads, neurons) it prunes whole attention
-- heads and MLP neurons by L2 norm instead, then removes them (compress.shrink) and reports the smaller
-- model's parameters and validation loss. --method=set or rigl trains sparse from the start instead
-- (compress.set / compress.rigl: ERK densities, masks updated every pruneEvery share of the steps until
-- pruneStop). llmscript recipes/prune.lua --sparsity=0.9 --steps=3000
local config = llm.config({
  corpus = 'fortunes',      -- 'fortunes' (English quotes), 'fortunes-zh', 'fortunes-all' or a text file/folder
  valFraction = 0.1,        -- share of the text held out for validation (the end of the corpus)
  blockSize = 64,           -- context length in characters
  batchSize = 16,           -- sequences per micro-batch
  layers = 4,               -- transformer blocks
  heads = 4,                -- attention heads per block
  dim = 128,                -- embedding width
  steps = 1500,             -- optimizer steps
  lr = 3e-3,                -- peak learning rate (linear warmup, then cosine decay)
  minLR = 3e-4,             -- final learning rate
  warmup = 100,             -- warmup steps
  weightDecay = 0.1,        -- AdamW decoupled weight decay (on matrices)
  clip = 1.0,               -- max gradient norm (0 disables clipping)
  sparsity = 0.75,          -- final sparsity of the pruned matrices
  method = 'gmp',           -- 'gmp' (prune while training), 'set' or 'rigl' (dynamic sparse training)
  criterion = 'magnitude',  -- 'magnitude', 'random', 'taylor' or 'movement'
  scope = 'layer',          -- 'layer' (each matrix to the target) or 'global' (all matrices together)
  structure = 'none',       -- 'none' (single weights), or whole units: 'heads', 'neurons', 'heads+neurons'
  pruneStart = 0.2,         -- pruning starts after this share of the steps
  pruneStop = 0.7,          -- and reaches `sparsity` after this share (then the model fine-tunes)
  pruneEvery = 0.02,        -- share of the steps between pruning events (at least 1 step)
  evalEvery = 250,          -- steps between validation passes
  evalBatches = 20,         -- validation batches per pass
  logEvery = 50,            -- steps between log lines when not on a terminal
  seed = 1337,              -- seed of initialization, batches and pruning
  out = 'runs/prune',       -- folder for checkpoints (masks included) and metrics.jsonl
  checkpointEvery = 500,    -- steps between checkpoints
  resume = llm.config.optional('string'),   -- checkpoint (or run folder) to continue from
}, arg)

llm.manualSeed(config.seed)

local text = require('llm.corpus').text(config.corpus)
local tokenizer = llm.data.CharTokenizer(text)
local ids = tokenizer:encode(text)
local trainIds, valIds = llm.data.split(ids, config.valFraction)
local batches = llm.data.Batcher(trainIds, {batchSize = config.batchSize, blockSize = config.blockSize, seed = config.seed})
local val = llm.data.evalWindows(valIds, config.batchSize, config.blockSize)
print(string.format('corpus: %d characters, vocabulary %d, train %d / val %d tokens',
  utf8.len(text) or #text, tokenizer:vocabSize(), trainIds:numel(), valIds:numel()))

local model = nn.GPT{vocab = tokenizer:vocabSize(), blockSize = config.blockSize, layers = config.layers,
                     heads = config.heads, dim = config.dim}
print(string.format('model: %d parameters', model:numParameters()))

local groups = optim.paramGroups(model, {{match = function(_, p) return p:dim() < 2 end, weightDecay = 0}})
local opt = optim.AdamW(groups, {lr = config.lr, betas = {0.9, 0.99}, weightDecay = config.weightDecay})
local schedule = optim.schedule.warmupCosine{maxLR = config.lr, minLR = config.minLR,
                                             warmupSteps = math.min(config.warmup, config.steps), totalSteps = config.steps}

-- the pruning schedule: step -> target sparsity (any Lua function would do)
local start = math.floor(config.pruneStart * config.steps)
local stop = math.max(start + 1, math.floor(config.pruneStop * config.steps))
local every = math.max(1, math.floor(config.pruneEvery * config.steps))
local gmp = compress.schedule.gmp{final = config.sparsity, start = start, stop = stop, every = every}
local structures = {none = {}, heads = {'heads'}, neurons = {'neurons'}, ['heads+neurons'] = {'heads', 'neurons'}}
local units = structures[config.structure]
if not units then error("Invalid '--structure': expected one of: 'none', 'heads', 'neurons', 'heads+neurons', got '" .. config.structure .. "'", 0) end
local pruners = {}
if config.method == 'set' or config.method == 'rigl' then
  units = {}
  pruners[1] = compress.sparseTraining{model = model, method = config.method, sparsity = config.sparsity, every = every, stop = stop}
elseif config.method ~= 'gmp' then
  error("Invalid '--method': expected one of: 'gmp', 'set', 'rigl', got '" .. config.method .. "'", 0)
elseif #units == 0 then
  pruners[1] = compress.pruner{model = model, criterion = config.criterion, scope = config.scope, schedule = gmp}
end
for _, unit in ipairs(units) do   -- structured: one pruner per kind of unit, ranked by L2 norm
  pruners[#pruners + 1] = compress.pruner{model = model, structure = unit, criterion = 'l2', scope = config.scope,
                                          schedule = gmp, name = 'pruner-' .. unit}
end
if config.method == 'gmp' then
  print(string.format('pruning: %s (%s, %s) to %.0f%% sparsity from step %d to %d, every %d steps', config.structure == 'none'
    and config.criterion or 'l2', config.structure, config.scope, 100 * config.sparsity, start, stop, every))
else
  print(string.format('sparse training: %s at %.0f%% sparsity (ERK), masks updated every %d steps until step %d', config.method,
    100 * config.sparsity, every, stop))
end

local trainer = llm.Trainer{
  model = model, optimizer = opt, schedule = schedule, train = batches, val = val,
  steps = config.steps, clip = config.clip, evalEvery = config.evalEvery, evalBatches = config.evalBatches,
  logEvery = config.logEvery, checkpointDir = config.out, checkpointEvery = config.checkpointEvery,
  metrics = config.out .. '/metrics.jsonl', extensions = pruners,
  extra = {config = config, model = model:config(), modelClass = model.__name, tokenizer = tokenizer:toTable()},
}
if config.resume then
  local state = trainer:resume(config.resume)
  print(string.format('resumed from %s at step %d', config.resume, state.step))
end

local t0 = llm.clock()
local result = trainer:run()
print(string.format('done: step %d, train loss %.4f, val loss %.4f (best %.4f), %s',
  result.step, result.loss or 0 / 0, result.valLoss or 0 / 0, result.bestValLoss, require('llm.progress').duration(llm.clock() - t0)))

local s = compress.sparsity(model)
for path, v in pairs(s.paths) do print(string.format('  %-28s %6.2f%% zeros (%d of %d)', path, 100 * v.sparsity, v.zeros, v.numel)) end
print(string.format('sparsity: %.2f%% of %d pruned weights; val loss %.4f', 100 * s.total.sparsity, s.total.numel, result.valLoss or 0 / 0))

if #units > 0 then   -- remove the pruned heads/neurons: a smaller model with the same outputs
  local small, info = compress.shrink(model)
  trainer.model = small
  print(string.format('shrunk: %d -> %d parameters (heads per block %s, MLP width %s); val loss %.4f', model:numParameters(),
    small:numParameters(), table.concat(info.heads, ','), table.concat(info.hidden, ','), trainer:evaluate()))
end
