-- recipes/tune-gpt.lua: tunes the learning rate, warmup, weight decay and batch size of the character GPT of
-- recipes/gpt-char.lua (same model, same data) with TPE + ASHA (tune.sampler.tpe, tune.pruner.asha), within a
-- wall-time budget and a budget of optimizer steps, then reports the best configuration and its validation
-- loss against the recipe's defaults (the baseline: the defaults below, trained the same way).
-- Each trial trains at most trialSteps steps and reports its val loss every evalEvery steps (tune.reporter);
-- ASHA stops the trials that trail at a rung. The study is stored in --study (SQLite): running the recipe
-- again continues it (finished trials are kept, also after a kill). Plots: llmscript tune show runs/tune-gpt.sqlite
--   llmscript recipes/tune-gpt.lua --minutes=30 --trials=40
local config = llm.config({
  corpus = 'fortunes',      -- 'fortunes' (English quotes), 'fortunes-zh', 'fortunes-all' or a text file/folder
  valFraction = 0.1,        -- share of the text held out for validation (the end of the corpus)
  blockSize = 64,           -- context length in characters
  layers = 4,               -- transformer blocks
  heads = 4,                -- attention heads per block
  dim = 128,                -- embedding width
  steps = 3000,             -- optimizer steps of the whole study (all trials; the baseline not counted)
  trialSteps = 300,         -- optimizer steps of one trial at most (the ASHA maximum resource)
  trials = 20,              -- trials at most
  minutes = 10.0,           -- wall-time budget in minutes (no trial starts after it)
  evalEvery = 50,           -- steps between validation reports (ASHA's rungs: evalEvery * 3^k)
  evalBatches = 8,          -- validation batches per report
  lr = 3e-3,                -- baseline peak learning rate (the recipe default)
  warmup = 100,             -- baseline warmup steps (scaled to trialSteps like gpt-char's 100 of 1500)
  weightDecay = 0.1,        -- baseline AdamW weight decay
  batchSize = 16,           -- baseline sequences per step
  minLR = 3e-4,             -- final learning rate of the cosine schedule (not tuned)
  seed = 1337,              -- seed of the sampler, initialization and batches
  study = 'runs/tune-gpt.sqlite',   -- study file (continued when it exists)
}, arg)

local t0 = llm.clock()
local text = require('llm.corpus').text(config.corpus)
local tokenizer = llm.data.CharTokenizer(text)
local ids = tokenizer:encode(text)
local trainIds, valIds = llm.data.split(ids, config.valFraction)
print(string.format('corpus: %d characters, vocabulary %d, train %d / val %d tokens',
  utf8.len(text) or #text, tokenizer:vocabSize(), trainIds:numel(), valIds:numel()))

local trialSteps = math.min(config.trialSteps, config.steps)
local evalEvery = math.min(config.evalEvery, trialSteps)

-- One training run with hyper-parameters hp = {lr, warmup, weightDecay, batchSize}; extensions: e.g. the
-- tune reporter. Returns the best validation loss and the steps trained.
local function train(hp, extensions)
  llm.manualSeed(config.seed)
  local model = nn.GPT{vocab = tokenizer:vocabSize(), blockSize = config.blockSize, layers = config.layers,
                       heads = config.heads, dim = config.dim}
  local groups = optim.paramGroups(model, {{match = function(_, p) return p:dim() < 2 end, weightDecay = 0}})
  local opt = optim.AdamW(groups, {lr = hp.lr, betas = {0.9, 0.99}, weightDecay = hp.weightDecay})
  local schedule = optim.schedule.warmupCosine{maxLR = hp.lr, minLR = math.min(config.minLR, hp.lr),
                                               warmupSteps = math.min(hp.warmup, trialSteps - 1), totalSteps = trialSteps}
  local trainer = llm.Trainer{
    model = model, optimizer = opt, schedule = schedule, steps = trialSteps, clip = 1.0,
    train = llm.data.Batcher(trainIds, {batchSize = hp.batchSize, blockSize = config.blockSize, seed = config.seed}),
    val = llm.data.evalWindows(valIds, 16, config.blockSize), evalEvery = evalEvery, evalBatches = config.evalBatches,
    logEvery = trialSteps, progress = false, extensions = extensions,
  }
  local result = trainer:run()
  return result.bestValLoss, result.step
end

-- the baseline: the defaults, with warmup scaled to the trial length as in gpt-char (100 of 1500 steps)
local baseWarmup = math.floor(config.warmup * trialSteps / 1500 + 0.5)
local baseline = {lr = config.lr, warmup = baseWarmup, weightDecay = config.weightDecay, batchSize = config.batchSize}
local baseLoss = train(baseline)
print(string.format('baseline (defaults): val loss %.4f', baseLoss))

llm.makeDirs(config.study:match('^(.*)/[^/]*$') or '.')
local study = tune.study{name = 'tune-gpt', storage = config.study, direction = 'minimize',
                         sampler = tune.sampler.tpe{seed = config.seed, nStartup = 5},
                         pruner = tune.pruner.asha{minResource = evalEvery, reductionFactor = 3}}
local space = {
  lr = tune.logUniform(3e-4, 1e-2),
  warmup = tune.int(0, math.max(1, trialSteps // 4)),
  weightDecay = tune.uniform(0, 0.3),
  batchSize = tune.choice{8, 16, 32},
}
local trained = 0
local function objective(trial, hp)
  local loss, steps = train(hp, {tune.reporter(trial, {metric = 'valLoss'})})
  trained = trained + steps
  print(string.format('trial %d: lr %.2e, warmup %d, weightDecay %.3f, batchSize %d -> val loss %.4f%s', trial.number,
    hp.lr, hp.warmup, hp.weightDecay, hp.batchSize, loss, trial.pruned and (' (pruned at step ' .. steps .. ')') or ''))
  return loss
end

local deadline = t0 + config.minutes * 60
local started = 0
while started < config.trials and trained < config.steps and llm.clock() < deadline do
  study:optimize(objective, {trials = 1, space = space})
  started = started + 1
end

local best = study:best()
local s = study:summary()
print(string.format('study %s: %d complete, %d pruned, %d failed (%d steps trained this run, %s)', config.study,
  s.complete, s.pruned, s.failed, trained, require('llm.progress').duration(llm.clock() - t0)))
if best then
  local p = best.params
  print(string.format('best: trial %d, lr %.3e, warmup %d, weightDecay %.3f, batchSize %d: val loss %.4f vs %.4f with the defaults (%+.1f%%)',
    best.number, p.lr, p.warmup, p.weightDecay, p.batchSize, best.values[1], baseLoss, 100 * (best.values[1] - baseLoss) / baseLoss))
else
  print('best: no trial completed within the budget')
end
