-- recipes/generalisation.lua: a generalisation study on the character model. Trains the same GPT on a small
-- slice of the English fortunes (so it can overfit) with one change at a time — none (baseline), dropout,
-- weight decay, label smoothing, data augmentation (a keyboard-typo/word-swap copy of every training quote
-- added, llm.augment) and early stopping (patience evaluations without improvement, best weights restored) —
-- on one budget: the same steps, batches, seed and schedule. Prints a table (train and validation loss at the
-- end and at the best evaluation, the gap, validation bits per byte and out-of-distribution bits per byte on
-- the Chinese fortunes, via llm.eval) and writes the curves (validation and train loss per evaluation,
-- llm.plot) to PLOTS/curves.svg and the rows to PLOTS/results.json.
-- The tokenizer holds U+FFFD as its unknown id, so the Chinese text scores (every unseen character is that
-- id; bits per byte counts the bytes of the original text: see llm/eval/init.lua).
--   llmscript recipes/generalisation.lua               (default 600 steps x 6 runs: ~15 min on 2 busy cores)
--   llmscript recipes/generalisation.lua --steps=300 --runs=baseline,dropout
local plot = require 'llm.plot'
local eval = require 'llm.eval'

local config = llm.config({
  corpus = 'fortunes',      -- 'fortunes' (English quotes), 'fortunes-zh', 'fortunes-all' or a text file/folder
  ood = 'fortunes-zh',      -- out-of-distribution text for bits per byte ('' to skip)
  maxChars = 100000,        -- characters of the corpus used (a small slice, so the model can overfit)
  valFraction = 0.1,        -- share of the slice held out for validation (its end)
  blockSize = 64,           -- context length in characters
  batchSize = 16,           -- sequences per step
  layers = 2,               -- transformer blocks
  heads = 4,                -- attention heads per block
  dim = 96,                 -- embedding width
  steps = 600,              -- optimizer steps of every run (the budget)
  lr = 2e-3,                -- peak learning rate (linear warmup, then cosine decay)
  minLR = 2e-4,             -- final learning rate
  warmup = 50,              -- warmup steps
  clip = 1.0,               -- max gradient norm
  evalEvery = 50,           -- steps between evaluations (the curves' points)
  evalBatches = 4,          -- validation batches per evaluation
  dropout = 0.2,            -- dropout of the 'dropout' run
  weightDecay = 0.1,        -- AdamW weight decay (matrices) of the 'weightDecay' run
  labelSmoothing = 0.1,     -- label smoothing of the 'labelSmoothing' run
  augmentRate = 0.1,        -- share of words changed by the 'augment' run's augmenter
  patience = 3,             -- evaluations without improvement before the 'earlyStopping' run stops
  evalChars = 2000,         -- characters of the validation and OOD texts scored for bits per byte
  runs = 'baseline,dropout,weightDecay,labelSmoothing,augment,earlyStopping',   -- runs, in order
  plots = 'runs/generalisation',   -- folder of curves.svg and results.json
  seed = 1337,              -- seed of initialization, batches and augmentation (the same for every run)
}, arg)

local known = {'baseline', 'dropout', 'weightDecay', 'labelSmoothing', 'augment', 'earlyStopping'}
local names = {}
for name in config.runs:gmatch('[^,%s]+') do
  local ok = false
  for _, k in ipairs(known) do ok = ok or k == name end
  if not ok then
    io.stderr:write("llmscript: recipes/generalisation.lua: unknown run '", name, "' in --runs; known: ", table.concat(known, ', '), '\n')
    os.exit(2)
  end
  names[#names + 1] = name
end

-- the data: a slice of the corpus, split by position; the augmented copy of the training quotes
local full = require('llm.corpus').text(config.corpus)
local text = full:sub(1, (utf8.offset(full, config.maxChars + 1) or #full + 1) - 1)
local cut = utf8.offset(text, math.floor(utf8.len(text) * (1 - config.valFraction)) + 1)
local trainText, valText = text:sub(1, cut - 1), text:sub(cut)
local augmenter = augment.sequential{augment.KeyboardTypos{wordRate = config.augmentRate, rate = 0.2},
                                     augment.RandomSwap{alpha = config.augmentRate}, seed = config.seed}
local noisy = {}
for quote in (trainText .. '\n\n'):gmatch('(.-)\n\n') do
  if quote:match('%S') then noisy[#noisy + 1] = augmenter:apply(quote) end
end
local augText = trainText .. '\n\n' .. table.concat(noisy, '\n\n')
local tokenizer = llm.data.CharTokenizer(augText .. valText .. '\u{FFFD}', {unk = '\u{FFFD}'})
local vocab = tokenizer:vocabSize()
local trainIds, augIds, valIds = tokenizer:encode(trainText), tokenizer:encode(augText), tokenizer:encode(valText)
print(string.format('corpus: %s slice of %d characters, vocabulary %d, train %d (augmented %d) / val %d tokens',
  config.corpus, utf8.len(text), vocab, trainIds:numel(), augIds:numel(), valIds:numel()))
local oodText = config.ood ~= '' and require('llm.corpus').text(config.ood) or nil

local function prefix(s, n) return s:sub(1, (utf8.offset(s, n + 1) or #s + 1) - 1) end

-- mean cross-entropy of the model on the first n windows
local function lossOn(model, windows, n)
  model:eval()
  local sum, count = 0, math.min(n, windows:numBatches())
  llm.noGrad(function()
    for i = 1, count do
      local x, y = windows:batch(i)
      local _, loss = model(x, y)
      sum = sum + loss:item()
    end
  end)
  return sum / count
end

local runs = {
  baseline = {},
  dropout = {dropout = config.dropout},
  weightDecay = {weightDecay = config.weightDecay},
  labelSmoothing = {labelSmoothing = config.labelSmoothing},
  augment = {augment = true},
  earlyStopping = {earlyStopping = config.patience},
}

local function train(name)
  local r = runs[name]
  llm.manualSeed(config.seed)
  local model = nn.GPT{vocab = vocab, blockSize = config.blockSize, layers = config.layers, heads = config.heads,
                       dim = config.dim, dropout = r.dropout or 0}
  if r.labelSmoothing then   -- smoothed targets in training; evaluation keeps the plain cross-entropy
    local forward = model.forward
    model.forward = function(self, idx, targets, opts)
      if targets == nil or not self.training then return forward(self, idx, targets, opts) end
      local logits = forward(self, idx, nil, opts)
      return logits, llm.crossEntropy(logits, targets, {labelSmoothing = r.labelSmoothing, ignoreIndex = -100})
    end
  end
  local ids = r.augment and augIds or trainIds
  local batches = llm.data.Batcher(ids, {batchSize = config.batchSize, blockSize = config.blockSize, seed = config.seed})
  local val = llm.data.evalWindows(valIds, config.batchSize, config.blockSize)
  local trainWindows = llm.data.evalWindows(trainIds, config.batchSize, config.blockSize)
  local groups = optim.paramGroups(model, {{match = function(_, p) return p:dim() < 2 end, weightDecay = 0}})
  local opt = optim.AdamW(groups, {lr = config.lr, betas = {0.9, 0.99}, weightDecay = r.weightDecay or 0})
  local curve = {step = {}, val = {}, train = {}}
  local best, bestState = math.huge, nil
  local trainer = llm.Trainer{
    model = model, optimizer = opt, train = batches, val = val, steps = config.steps, clip = config.clip,
    schedule = optim.schedule.warmupCosine{maxLR = config.lr, minLR = config.minLR,
                                           warmupSteps = math.min(config.warmup, config.steps), totalSteps = config.steps},
    evalEvery = math.min(config.evalEvery, config.steps), evalBatches = config.evalBatches, logEvery = config.evalEvery,
    earlyStopping = r.earlyStopping or 0,
    onEval = function(_, info)
      curve.step[#curve.step + 1] = info.step
      curve.val[#curve.val + 1] = info.valLoss
      curve.train[#curve.train + 1] = lossOn(model, trainWindows, config.evalBatches)
      model:train()
      if info.valLoss < best then
        best, bestState = info.valLoss, {}
        for k, v in pairs(model:stateDict()) do bestState[k] = v:clone() end
      end
    end,
  }
  print(string.format('--- %s', name))
  local result = trainer:run()
  local final = {val = curve.val[#curve.val], train = curve.train[#curve.train]}
  if r.earlyStopping and bestState then model:loadStateDict(bestState) end   -- early stopping keeps the best weights
  model:eval()
  local row = {name = name, steps = result.step, stoppedEarly = result.stoppedEarly, finalVal = final.val,
               finalTrain = final.train, bestVal = best, curve = curve}
  row.val = lossOn(model, val, math.huge)
  row.train = lossOn(model, trainWindows, val:numBatches())
  row.valBpb = eval.text(model, tokenizer, prefix(valText, config.evalChars), {batch = config.batchSize}).bitsPerByte
  if oodText then row.oodBpb = eval.text(model, tokenizer, prefix(oodText, config.evalChars), {batch = config.batchSize}).bitsPerByte end
  return row
end

local rows = {}
for _, name in ipairs(names) do rows[#rows + 1] = train(name) end

print(string.format('\n%d steps x %d sequences x %d characters, %s (%d characters), model %dx%d',
  config.steps, config.batchSize, config.blockSize, config.corpus, utf8.len(text), config.layers, config.dim))
print(string.format('| %-15s | %5s | %10s | %8s | %8s | %9s | %8s | %8s |', 'run', 'steps', 'train loss', 'val loss',
  'gap', 'best val', 'val bpb', 'OOD bpb'))
print('|' .. string.rep('-', 17) .. '|' .. string.rep('-', 7) .. '|' .. string.rep('-', 12) .. '|' .. string.rep('-', 10) .. '|'
  .. string.rep('-', 10) .. '|' .. string.rep('-', 11) .. '|' .. string.rep('-', 10) .. '|' .. string.rep('-', 10) .. '|')
for _, r in ipairs(rows) do
  print(string.format('| %-15s | %5d | %10.4f | %8.4f | %8.4f | %9.4f | %8.4f | %8s |', r.name, r.steps, r.train, r.val,
    r.val - r.train, r.bestVal, r.valBpb, r.oodBpb and string.format('%.4f', r.oodBpb) or '-'))
end

llm.makeDirs(config.plots)
local valSeries, trainSeries = {}, {}
for i, r in ipairs(rows) do
  local color = plot.palette[(i - 1) % #plot.palette + 1]
  valSeries[i] = {name = r.name, x = r.curve.step, y = r.curve.val, color = color}
  trainSeries[i] = {name = r.name, x = r.curve.step, y = r.curve.train, color = color, dash = true}
end
plot.save(config.plots .. '/curves.svg', plot.grid{columns = 2, title = 'generalisation: ' .. config.corpus, charts = {
  plot.line{series = valSeries, title = 'validation loss', xlabel = 'step', ylabel = 'loss (nats/char)'},
  plot.line{series = trainSeries, title = 'train loss (eval windows)', xlabel = 'step', ylabel = 'loss (nats/char)'},
}})
local f = assert(io.open(config.plots .. '/results.json', 'w'))
f:write(llm.json.encode({config = config, rows = rows}), '\n')
f:close()
print('curves: ' .. config.plots .. '/curves.svg, rows: ' .. config.plots .. '/results.json')
