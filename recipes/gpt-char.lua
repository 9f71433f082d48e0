-- recipes/gpt-char.lua: a character-level GPT trained on the fortunes corpus (Debian `fortunes`), on
-- a CPU, in a few minutes; then it prints samples. Every knob below can be overridden from the command
-- line: llmscript recipes/gpt-char.lua --steps=3000 --lr=1e-3 --resume=runs/gpt-char
-- On several processes: mpirun -np 2 llmscript recipes/gpt-char.lua (data parallel over both), or pick a
-- layout with --dp, --tp, --pp (dist.parallelize, README "Choosing a layout"): mpirun -np 4 ... --dp=2 --tp=2.
-- Only rank 0 prints, writes checkpoints and samples; checkpoints resume on any layout.
local config = llm.config({
  corpus = 'fortunes',      -- 'fortunes' (English quotes), 'fortunes-zh', 'fortunes-all' or a text file/folder
  valFraction = 0.1,        -- share of the text held out for validation (the end of the corpus)
  blockSize = 64,           -- context length in characters
  batchSize = 16,           -- sequences per micro-batch
  gradAccum = 1,            -- micro-batches per optimizer step
  layers = 4,               -- transformer blocks
  heads = 4,                -- attention heads per block
  dim = 128,                -- embedding width
  dropout = 0.0,            -- dropout in attention/MLP outputs (small data: try 0.1)
  steps = 1500,             -- optimizer steps
  lr = 3e-3,                -- peak learning rate (linear warmup, then cosine decay)
  minLR = 3e-4,             -- final learning rate
  warmup = 100,             -- warmup steps
  weightDecay = 0.1,        -- AdamW decoupled weight decay (on matrices; not on biases and norm weights)
  clip = 1.0,               -- max gradient norm (0 disables clipping)
  evalEvery = 250,          -- steps between validation passes
  evalBatches = 20,         -- validation batches per pass
  logEvery = 50,            -- steps between log lines when not on a terminal
  seed = 1337,              -- seed of initialization, batches and dropout
  out = 'runs/gpt-char',    -- folder for checkpoints and metrics.jsonl
  checkpointEvery = 500,    -- steps between checkpoints (plus the last and the best)
  keepLast = 2,             -- checkpoints kept besides the best
  resume = llm.config.optional('string'),   -- checkpoint (or run folder) to continue from
  samples = 2,              -- samples printed at the end
  sampleTokens = 300,       -- characters per sample
  temperature = 0.8,        -- sampling temperature
  topK = 40,                -- sample among the k most likely characters
  dp = llm.config.optional('integer'),            -- data-parallel ranks (default: the processes / (tp x pp))
  tp = 1,                   -- tensor-parallel ranks (heads, MLP and vocabulary split across them)
  pp = 1,                   -- pipeline stages (consecutive blocks per rank)
  zero = 0,                 -- 1: ZeRO stage 1 (optimizer state sharded over the data-parallel ranks)
  microBatches = llm.config.optional('integer'),  -- pipeline micro-batches per batch (pp > 1; default 1)
  schedule = llm.config.optional('string'),       -- pipeline schedule: '1f1b' (default) or 'gpipe'
}, arg)

llm.manualSeed(config.seed)

-- data: text -> character ids -> train/val split -> random windows of blockSize+1. The corpus is English
-- on purpose: the fortunes folder also holds the Chinese fortunes-zh quotes, and a character model over
-- both scripts gets a 6k-symbol vocabulary and samples of random CJK characters (llm/corpus.lua).
local text = require('llm.corpus').text(config.corpus)
local tokenizer = llm.data.CharTokenizer(text)
local ids = tokenizer:encode(text)
local trainIds, valIds = llm.data.split(ids, config.valFraction)
local batches = llm.data.Batcher(trainIds, {batchSize = config.batchSize, blockSize = config.blockSize, seed = config.seed})
local val = llm.data.evalWindows(valIds, config.batchSize, config.blockSize)

-- model, then the layout (one process: nothing changes; tensor parallel converts the model in place, so
-- the optimizer comes after it)
-- tensor parallel splits the vocabulary: pad it to a multiple of tp (as Megatron does; unused rows)
local vocab = (tokenizer:vocabSize() + config.tp - 1) // config.tp * config.tp
local model = nn.GPT{vocab = vocab, blockSize = config.blockSize, layers = config.layers,
                     heads = config.heads, dim = config.dim, dropout = config.dropout}
local numParameters = model:numParameters()
local layout = dist.parallelize(model, {dp = config.dp, tp = config.tp, pp = config.pp, zero = config.zero,
                                        microBatches = config.microBatches, schedule = config.schedule})
local say = layout.primary and print or function() end
say(string.format('corpus: %d characters, vocabulary %d, train %d / val %d tokens',
  utf8.len(text) or #text, tokenizer:vocabSize(), trainIds:numel(), valIds:numel()))
say(string.format('model: %d parameters', numParameters))
if layout.size > 1 then say('layout: ' .. layout:describe()) end

-- optimizer: weight decay on matrices only, not on biases and norm weights (nanoGPT's grouping)
local groups = optim.paramGroups(model, {{match = function(_, p) return p:dim() < 2 end, weightDecay = 0}})
local opt = optim.AdamW(groups, {lr = config.lr, betas = {0.9, 0.99}, weightDecay = config.weightDecay})
local schedule = optim.schedule.warmupCosine{maxLR = config.lr, minLR = config.minLR,
                                             warmupSteps = config.warmup, totalSteps = config.steps}

local trainer = llm.Trainer{
  model = model, optimizer = opt, schedule = schedule, train = layout:shard(batches), val = val, extensions = layout.extensions,
  steps = config.steps, gradAccum = config.gradAccum, clip = config.clip,
  evalEvery = config.evalEvery, evalBatches = config.evalBatches, logEvery = config.logEvery,
  checkpointDir = config.out, checkpointEvery = config.checkpointEvery, keepLast = config.keepLast,
  metrics = config.out .. '/metrics.jsonl',
  extra = {config = config, model = model:config(), modelClass = model.__name, tokenizer = tokenizer:toTable()},
}
if config.resume then
  local state = trainer:resume(config.resume)
  say(string.format('resumed from %s at step %d', config.resume, state.step))
end

local t0 = llm.clock()
local result = trainer:run()
say(string.format('done: step %d, train loss %.4f, val loss %.4f (best %.4f), %s',
  result.step, result.loss or 0 / 0, result.valLoss or 0 / 0, result.bestValLoss, require('llm.progress').duration(llm.clock() - t0)))

-- samples (rank 0, from the whole trained model)
local sampler = layout:denseModel()
for i = 1, sampler and config.samples or 0 do
  local prompt = tokenizer:encode('\n')
  local out = sampler:generate(prompt, {maxTokens = config.sampleTokens, temperature = config.temperature,
                                        topK = config.topK, seed = config.seed + i})
  print(string.format('--- sample %d ---\n%s', i, tokenizer:decode(out)))
end
