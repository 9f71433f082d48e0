-- recipes/tag-entities.lua: tag dates, numbers and person names in fortunes (Debian `fortunes`) with a
-- token classifier (nn.TokenClassifier on a word-level GPT trunk) trained on silver BIO labels that a few
-- rules produce — no hand labels: DATE (month and weekday names, a day number or year next to a month,
-- years 1000-2099), NUM (other numbers, number words), PER (the capitalised words of an attribution line
-- "-- Mark Twain, ..."). Then entity-level precision/recall/F1 (seqeval's default mode, llm.metrics) of
-- the model against the rules on held-out quotes, and the token accuracy.
-- Every knob can be overridden: llmscript recipes/tag-entities.lua --steps=1000
local supervised = require 'llm.supervised'

local config = llm.config({
  files = 'people,wisdom,literature,politics,computers,science',   -- fortune files to read quotes from
  maxQuotes = 1500,         -- quotes used (those with a rule entity first, then others)
  testFraction = 0.2,       -- share of quotes held out for the metrics
  blockSize = 48,           -- words per quote (the start of the quote)
  vocab = 3000,             -- most frequent words kept; others map to a word-shape id
  layers = 2,               -- transformer blocks of the trunk
  heads = 4,                -- attention heads per block
  dim = 64,                 -- embedding width
  batchSize = 16,           -- quotes per step
  steps = 600,              -- optimizer steps
  lr = 3e-3,                -- AdamW learning rate (constant after warmup)
  warmup = 30,              -- linear warmup steps
  weightDecay = 0.05,       -- AdamW weight decay
  entityWeight = 3.0,       -- loss weight of the B-/I- labels relative to O (class weights)
  logEvery = 100,           -- steps between log lines
  seed = 1337,              -- seed of the split, initialization and batches
}, arg)

llm.manualSeed(config.seed)

-- the silver labels: rules over word tokens
local months = {}
for m in ('january february march april may june july august september october november december jan feb mar apr jun jul aug sep sept oct nov dec'):gmatch('%a+') do months[m] = true end
local weekdays = {}
for d in ('monday tuesday wednesday thursday friday saturday sunday'):gmatch('%a+') do weekdays[d] = true end
local numberWords = {}
for w in ('one two three four five six seven eight nine ten eleven twelve twenty thirty forty fifty hundred thousand million billion dozen'):gmatch('%a+') do numberWords[w] = true end

local function isYear(w) local n = tonumber(w) return w:match('^%d%d%d%d$') and n >= 1000 and n < 2100 end
local function isDay(w) return w:match('^%d%d?$') or w:match('^%d%d?[snrt][tdh]$') end
-- month names count only when capitalised ('may', 'march' are verbs)
local function isMonth(w) return months[w:lower()] and w:match('^%u') end

-- tokens of a quote (with '--' kept as a token) and their rule tags
local function label(text)
  local words = {}
  for piece in text:gmatch('%S+') do
    if piece:match('^%-%-') then words[#words + 1] = '--'; piece = piece:sub(3) end
    for w in piece:gmatch("[%w']+") do words[#words + 1] = w end
    if piece:match(',$') then words[#words + 1] = ',' end
  end
  local tags = {}
  for i = 1, #words do tags[i] = 'O' end
  local i = 1
  while i <= #words do
    local w = words[i]
    if w == '--' then   -- attribution: the capitalised words that follow, up to a comma or a lower-case word
      local j = i + 1
      while j <= #words and words[j]:match('^%u[%a%.\']*$') and not months[words[j]:lower()] do
        tags[j] = j == i + 1 and 'B-PER' or 'I-PER'
        j = j + 1
      end
      i = math.max(j, i + 1)
    elseif isMonth(w) or weekdays[w:lower()] and w:match('^%u') then
      tags[i] = 'B-DATE'
      local j = i + 1
      while j <= #words and (isDay(words[j]) or isYear(words[j])) do tags[j] = 'I-DATE'; j = j + 1 end
      if i > 1 and isDay(words[i - 1]) and tags[i - 1] == 'O' then tags[i - 1], tags[i] = 'B-DATE', 'I-DATE' end
      i = j
    elseif isYear(w) then
      tags[i] = 'B-DATE'; i = i + 1
    elseif w:match('^%d[%d,%.]*$') or numberWords[w:lower()] then
      tags[i] = 'B-NUM'
      local j = i + 1
      while j <= #words and (words[j]:match('^%d[%d,%.]*$') or numberWords[words[j]:lower()]) do tags[j] = 'I-NUM'; j = j + 1 end
      i = j
    else
      i = i + 1
    end
  end
  return words, tags
end

-- data: quotes with a date or number first (the rarer types), then those with a name, then others
local withEntity, withName, without = {}, {}, {}
for file in config.files:gmatch('[^,%s]+') do
  for _, q in ipairs(supervised.quotes(file)) do
    local words, tags = label(q)
    local n = math.min(#words, config.blockSize)
    words, tags = table.move(words, 1, n, 1, {}), table.move(tags, 1, n, 1, {})
    local kinds = {}
    for _, t in ipairs(tags) do kinds[t:sub(3)] = true end
    local set = (kinds.DATE or kinds.NUM) and withEntity or kinds.PER and withName or without
    if n > 0 then set[#set + 1] = {words = words, tags = tags} end
  end
end
local examples = {}
for _, set in ipairs({withEntity, withName, without}) do
  for _, e in ipairs(set) do if #examples < config.maxQuotes then examples[#examples + 1] = e end end
end
local train, test = supervised.split(examples, config.testFraction, config.seed)

-- word vocabulary (case kept: capitals matter for names) plus word-shape ids for the rest
local shapes = {'<pad>', '<Cap>', '<low>', '<num>', '<other>'}
local counts = {}
for _, e in ipairs(train) do for _, w in ipairs(e.words) do counts[w] = (counts[w] or 0) + 1 end end
local byCount = {}
for w, c in pairs(counts) do if c >= 2 then byCount[#byCount + 1] = w end end
table.sort(byCount, function(a, b) return counts[a] > counts[b] or (counts[a] == counts[b] and a < b) end)
local ids = {}
for i, s in ipairs(shapes) do ids[s] = i - 1 end
for i = 1, math.min(#byCount, config.vocab) do ids[byCount[i]] = #shapes + i - 1 end
local vocabSize = #shapes + math.min(#byCount, config.vocab)
local function wordId(w)
  return ids[w] or (w:match('^%u') and ids['<Cap>']) or (w:match('^%l') and ids['<low>']) or (w:match('^%d') and ids['<num>']) or ids['<other>']
end

local labels = {'O', 'B-DATE', 'I-DATE', 'B-NUM', 'I-NUM', 'B-PER', 'I-PER'}
local labelId = {}
for i, l in ipairs(labels) do labelId[l] = i - 1 end
for _, set in ipairs({train, test}) do
  for _, e in ipairs(set) do
    e.x, e.y = {}, {}
    for i, w in ipairs(e.words) do e.x[i], e.y[i] = wordId(w), labelId[e.tags[i]] end
  end
end
local silver = {}
for _, e in ipairs(examples) do for _, t in ipairs(e.tags) do if t:sub(1, 2) == 'B-' then silver[t:sub(3)] = (silver[t:sub(3)] or 0) + 1 end end end
print(string.format('data: %d quotes (of %d with a rule date/number, %d with a name only), train %d / test %d, vocabulary %d words',
  #examples, #withEntity, #withName, #train, #test, vocabSize))
print(string.format('silver entities: DATE %d, NUM %d, PER %d', silver.DATE or 0, silver.NUM or 0, silver.PER or 0))

local weight = {}
for i, l in ipairs(labels) do weight[i] = l == 'O' and 1 or config.entityWeight end
local trunk = nn.GPT{vocab = vocabSize, blockSize = config.blockSize, layers = config.layers, heads = config.heads, dim = config.dim}
local model = nn.TokenClassifier{trunk = trunk, labels = labels, weight = weight}
print(string.format('model: %d parameters', model:numParameters()))

local function batchOf(list)
  local xs, ys = {}, {}
  for i, e in ipairs(list) do xs[i], ys[i] = e.x, e.y end
  local x = supervised.pad(xs, config.blockSize)
  local y = supervised.pad(ys, config.blockSize, {fill = -100})
  return x, y
end

local opt = optim.AdamW(model:parameters(), {lr = config.lr, weightDecay = config.weightDecay})
local order, cursor, running, t0 = supervised.shuffle(train, config.seed), 1, 0, llm.clock()
for step = 1, config.steps do
  local list = {}
  for b = 1, config.batchSize do
    if cursor > #order then order, cursor = supervised.shuffle(train, config.seed + step), 1 end
    list[b], cursor = order[cursor], cursor + 1
  end
  local x, y = batchOf(list)
  opt:setLR(config.lr * math.min(1, step / config.warmup))
  local _, loss = model(x, y)
  opt:zeroGrad(); loss:backward(); opt:step()
  running = running + loss:item()
  if step % config.logEvery == 0 or step == config.steps then
    print(string.format('step %d/%d | loss %.4f', step, config.steps, running / ((step - 1) % config.logEvery + 1)))
    running = 0
  end
end
print(string.format('done: step %d, %s', config.steps, require('llm.progress').duration(llm.clock() - t0)))

-- metrics: the model's tags against the rules' tags on the held-out quotes
model:eval()
local gold, pred, goldFlat, predFlat = {}, {}, {}, {}
for first = 1, #test, 64 do
  local list = table.move(test, first, math.min(first + 63, #test), 1, {})
  local x = batchOf(list)
  for i, row in ipairs(model:predict(x)) do
    local g, p = {}, {}
    for t = 1, #list[i].tags do
      g[t], p[t] = list[i].tags[t], labels[row[t] + 1]
      goldFlat[#goldFlat + 1], predFlat[#predFlat + 1] = g[t], p[t]
    end
    gold[#gold + 1], pred[#pred + 1] = g, p
  end
end
local scores = llm.metrics.entityScores(gold, pred)
print(string.format('test: entity precision %.4f, recall %.4f, F1 %.4f; token accuracy %.4f',
  scores.precision, scores.recall, scores.f1, llm.metrics.accuracy(goldFlat, predFlat)))
print(llm.metrics.table(scores))
