-- recipes/compare-architectures.lua: model structure as a recipe choice. Trains a GPT-2-style model
-- (learned positions, LayerNorm, GELU MLP, biases, tied head) and a Llama-style one (nn.Llama: RoPE,
-- RMSNorm, SwiGLU, grouped-query attention, no biases, untied head) on the English fortunes, character
-- level, with the same parameter count (the Llama MLP width is solved for it, within 5%), the same data
-- order, optimizer, schedule and step budget, then prints a table: parameters, validation loss,
-- training tokens/s and peak tensor memory (native tensor bytes sampled after every forward and backward).
--   llmscript recipes/compare-architectures.lua --steps=300   (default 1000: about 2 min on 2 cores)
local config = llm.config({
  corpus = 'fortunes',      -- 'fortunes' (English quotes), 'fortunes-zh', 'fortunes-all' or a text file/folder
  valFraction = 0.1,        -- share of the text held out for validation (the end of the corpus)
  blockSize = 64,           -- context length in characters
  batchSize = 16,           -- sequences per step
  layers = 4,               -- transformer blocks (both models)
  heads = 4,                -- attention heads per block (both models)
  kvHeads = 2,              -- key/value heads of the Llama-style model (grouped-query attention)
  dim = 96,                 -- embedding width (both models)
  steps = 1000,             -- optimizer steps (both models)
  lr = 3e-3,                -- peak learning rate (linear warmup, then cosine decay)
  minLR = 3e-4,             -- final learning rate
  warmup = 50,              -- warmup steps
  weightDecay = 0.1,        -- AdamW weight decay on matrices
  clip = 1.0,               -- max gradient norm (0 disables clipping)
  evalBatches = 20,         -- validation batches at the end
  logEvery = 100,           -- steps between log lines when not on a terminal
  seed = 1337,              -- seed of initialization and batches (the same for both models)
}, arg)

local text = require('llm.corpus').text(config.corpus)
local tokenizer = llm.data.CharTokenizer(text)
local ids = tokenizer:encode(text)
local trainIds, valIds = llm.data.split(ids, config.valFraction)
local vocab = tokenizer:vocabSize()
print(string.format('corpus: %d characters, vocabulary %d, train %d / val %d tokens',
  utf8.len(text) or #text, vocab, trainIds:numel(), valIds:numel()))

local function gpt()
  return nn.GPT{vocab = vocab, blockSize = config.blockSize, layers = config.layers, heads = config.heads, dim = config.dim}
end

local function llama(hidden)
  return nn.Llama{vocab = vocab, maxSeq = config.blockSize, layers = config.layers, heads = config.heads,
                  kvHeads = config.kvHeads, dim = config.dim, hidden = hidden}
end

-- The Llama MLP width that gives the GPT's parameter count: parameters grow by 3·dim·layers per unit
-- of hidden (gate, up and down projections, no biases).
local target = gpt():numParameters()
local slope = 3 * config.dim * config.layers
local hidden = math.max(1, math.floor((target - (llama(1):numParameters() - slope)) / slope + 0.5))

-- Peak native tensor memory, sampled where activations and gradients are alive.
local function memoryProbe()
  local probe = {name = 'memoryProbe', peak = llm.memory()}
  local function sample(self) self.peak = math.max(self.peak, llm.memory()) end
  probe.afterForward, probe.afterBackward, probe.afterOptimizerStep = sample, sample, sample
  return probe
end

local function train(name, build)
  llm.manualSeed(config.seed)
  local model = build()
  local batches = llm.data.Batcher(trainIds, {batchSize = config.batchSize, blockSize = config.blockSize, seed = config.seed})
  local val = llm.data.evalWindows(valIds, config.batchSize, config.blockSize)
  local groups = optim.paramGroups(model, {{match = function(_, p) return p:dim() < 2 end, weightDecay = 0}})
  local opt = optim.AdamW(groups, {lr = config.lr, betas = {0.9, 0.99}, weightDecay = config.weightDecay})
  local probe = memoryProbe()
  local rates = {}
  local trainer = llm.Trainer{
    model = model, optimizer = opt, train = batches, val = val, steps = config.steps, clip = config.clip,
    schedule = optim.schedule.warmupCosine{maxLR = config.lr, minLR = config.minLR,
                                           warmupSteps = math.min(config.warmup, config.steps), totalSteps = config.steps},
    evalEvery = config.steps, evalBatches = config.evalBatches, logEvery = config.logEvery,
    extensions = {probe}, onStep = function(_, info) rates[#rates + 1] = info.tokensPerSec end,
  }
  print(string.format('--- %s: %d parameters', name, model:numParameters()))
  local result = trainer:run()
  -- tokens/s: the median step (the first steps warm up the allocator and thread pool)
  table.sort(rates)
  return {name = name, params = model:numParameters(), valLoss = result.valLoss or result.bestValLoss,
          tokensPerSec = rates[(#rates + 1) // 2] or 0, peak = probe.peak}
end

local rows = {
  train('GPT-2 style', gpt),
  train(string.format('Llama style (hidden %d)', hidden), function() return llama(hidden) end),
}
local drift = math.abs(rows[2].params - rows[1].params) / rows[1].params
assert(drift <= 0.05, string.format('parameter counts differ by %.1f%% (> 5%%)', 100 * drift))

print(string.format('\n%d steps x %d sequences x %d characters, %s', config.steps, config.batchSize, config.blockSize, config.corpus))
print(string.format('| %-28s | %10s | %8s | %9s | %14s |', 'model', 'parameters', 'val loss', 'tokens/s', 'peak tensor MB'))
print('|' .. string.rep('-', 30) .. '|' .. string.rep('-', 12) .. '|' .. string.rep('-', 10) .. '|'
  .. string.rep('-', 11) .. '|' .. string.rep('-', 16) .. '|')
for _, r in ipairs(rows) do
  print(string.format('| %-28s | %10d | %8.4f | %9.0f | %14.1f |', r.name, r.params, r.valLoss, r.tokensPerSec, r.peak / 2 ^ 20))
end
