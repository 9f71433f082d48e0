-- recipes/classify-fortunes.lua: which fortune file does a quote come from? A character-level GPT trunk
-- with a pooled classification head (nn.SequenceClassifier) over a dozen Debian `fortunes` files, class
-- weights against their imbalance, then accuracy, macro-F1, the per-class table and the confusion matrix
-- on a held-out split (llm.metrics). Every knob can be overridden: llmscript recipes/classify-fortunes.lua --steps=1000
local supervised = require 'llm.supervised'

local config = llm.config({
  classes = 'art,computers,definitions,drugs,education,food,law,linux,politics,science,startrek,zippy',  -- fortune files, one class each
  maxPerClass = 200,        -- quotes taken per file (the first ones)
  testFraction = 0.2,       -- share of each class held out for the metrics
  blockSize = 96,           -- characters read per quote (the start of the quote)
  layers = 2,               -- transformer blocks of the trunk
  heads = 4,                -- attention heads per block
  dim = 48,                 -- embedding width
  pooling = 'mean',         -- 'mean' over the quote's characters or 'last' (the final character)
  batchSize = 16,           -- quotes per step
  steps = 600,              -- optimizer steps
  lr = 2e-3,                -- AdamW learning rate (constant after warmup)
  warmup = 30,              -- linear warmup steps
  weightDecay = 0.05,       -- AdamW weight decay
  dropout = 0.1,            -- dropout in the trunk and on the pooled features
  logEvery = 100,           -- steps between log lines
  seed = 1337,              -- seed of the split, initialization and batches
}, arg)

llm.manualSeed(config.seed)

-- data: the quotes of each file, split per class so every class is in the test set
local names, train, test = {}, {}, {}
for name in config.classes:gmatch('[^,%s]+') do names[#names + 1] = name end
local counts = {}
for c, name in ipairs(names) do
  local quotes = supervised.quotes(name)
  local taken = table.move(quotes, 1, math.min(#quotes, config.maxPerClass), 1, {})
  local tr, te = supervised.split(taken, config.testFraction, config.seed + c)
  for _, q in ipairs(tr) do train[#train + 1] = {text = q, label = c - 1} end
  for _, q in ipairs(te) do test[#test + 1] = {text = q, label = c - 1} end
  counts[c] = #tr
end

local all = {}
for _, ex in ipairs(train) do all[#all + 1] = ex.text end
for _, ex in ipairs(test) do all[#all + 1] = ex.text end
local tokenizer = llm.data.CharTokenizer(table.concat(all, '\n'))
local trunk = nn.GPT{vocab = tokenizer:vocabSize(), blockSize = config.blockSize, layers = config.layers, heads = config.heads,
                     dim = config.dim, dropout = config.dropout}
local function encode(text)
  local ids = tokenizer:encode(text:sub(1, config.blockSize * 2)):totable()
  return table.move(ids, 1, math.min(#ids, config.blockSize), 1, {})
end
for _, set in ipairs({train, test}) do for _, ex in ipairs(set) do ex.ids = encode(ex.text) end end

-- class weights: total / (classes x count), so each class carries the same share of the loss
local weight = {}
for c = 1, #names do weight[c] = #train / (#names * counts[c]) end
local model = nn.SequenceClassifier{trunk = trunk, classes = names, pooling = config.pooling, weight = weight, dropout = config.dropout}
print(string.format('data: %d classes, train %d / test %d quotes, vocabulary %d', #names, #train, #test, tokenizer:vocabSize()))
print(string.format('model: %d parameters', model:numParameters()))

local function batchOf(list)
  local rows, labels = {}, {}
  for i, ex in ipairs(list) do rows[i], labels[i] = ex.ids, ex.label end
  local x, mask = supervised.pad(rows, config.blockSize)
  return x, mask, llm.tensor(labels, {dtype = 'int64'})
end

local groups = optim.paramGroups(model, {{match = function(_, p) return p:dim() < 2 end, weightDecay = 0}})
local opt = optim.AdamW(groups, {lr = config.lr, weightDecay = config.weightDecay})
local order, cursor = supervised.shuffle(train, config.seed), 1
local t0, running = llm.clock(), 0
model:train()
for step = 1, config.steps do
  local list = {}
  for b = 1, config.batchSize do
    if cursor > #order then order, cursor = supervised.shuffle(train, config.seed + step), 1 end
    list[b], cursor = order[cursor], cursor + 1
  end
  local x, mask, y = batchOf(list)
  opt:setLR(config.lr * math.min(1, step / config.warmup))
  local _, loss = model(x, y, {mask = mask})
  opt:zeroGrad(); loss:backward(); opt:step()
  running = running + loss:item()
  if step % config.logEvery == 0 or step == config.steps then
    print(string.format('step %d/%d | loss %.4f', step, config.steps, running / ((step - 1) % config.logEvery + 1)))
    running = 0
  end
end
print(string.format('done: step %d, %s', config.steps, require('llm.progress').duration(llm.clock() - t0)))

-- metrics on the held-out quotes
model:eval()
local gold, pred = {}, {}
for first = 1, #test, 64 do
  local list = table.move(test, first, math.min(first + 63, #test), 1, {})
  local x, mask = batchOf(list)
  for i, c in ipairs(model:predict(x, {mask = mask})) do
    gold[#gold + 1], pred[#pred + 1] = names[list[i].label + 1], names[c + 1]
  end
end
local scores = llm.metrics.f1(gold, pred, names)
print(string.format('test: accuracy %.4f, macro-F1 %.4f (chance %.4f)', scores.accuracy, scores.macroF1, 1 / #names))
print(llm.metrics.table(scores))
print('confusion matrix (rows: true file, columns: predicted):')
print(llm.metrics.confusion(gold, pred, names):table())
