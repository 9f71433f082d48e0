-- fuzz_counts.lua: run by fuzz_spec.lua in a child process (`llmscript --sandbox --max-memory 64M
-- --allow-write DIR fuzz_counts.lua DIR`). Calls every binding parameter that is a count or a size
-- (element counts, dims, sample sizes, batch/block sizes, vocabulary sizes, thread counts, limits ...)
-- with hostile values: huge, negative, NaN, infinite, fractional. Each call runs under pcall; a failure
-- must be a Lua error with a string message. The child prints each call before making it (so a crash
-- names it) and "DONE <calls> <raised>" at the end. Not a spec itself (busted runs *_spec.lua).
-- A new binding that takes a count belongs in `cases` below.
local dir = assert(arg and arg[1], 'usage: fuzz_counts.lua DIR (a writable folder)')
local data, text, dedup, sched = llm.data, llm.text, llm.data.dedup, optim.schedule

local HOSTILE = {
  2^31, 2^32 + 1, 2^53, 2^62, math.maxinteger, math.mininteger, math.mininteger + 1,
  -1, -2^31, -2^40, 0 / 0, math.huge, -math.huge, 1e300, -1e300, 0.5, 2^31 - 1, 3e9,
}

local function t23() return llm.tensor{{1, 2, 3}, {4, 5, 6}} end
local function ids() return llm.tensor({1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}, {dtype = 'int64'}) end
local function probs() return llm.tensor{{0.2, 0.8}, {0.5, 0.5}} end
local corpus = 'the cat sat on the mat. the dog sat on the log. '
local tok = data.CharTokenizer(corpus)
local cosine = sched.warmupCosine{maxLR = 0.1, warmupSteps = 2, totalSteps = 10}
local shardN = 0
local textFile, jsonlFile = dir .. '/in.txt', dir .. '/in.jsonl'
do
  local f = assert(io.open(textFile, 'w')); f:write(corpus); f:close()
  f = assert(io.open(jsonlFile, 'w')); f:write('{"text": "a b c"}\n{"text": "d e"}\n'); f:close()
end
local shardFolder = dir .. '/fixed-shards'
do
  local w = data.ShardWriter(shardFolder, {vocabSize = 50})
  w:add(ids()); w:add(ids())
  w:finish()
end
local function shards() return data.ShardLoader(shardFolder, {batchSize = 1, blockSize = 2}) end
local opt = optim.AdamW({llm.zeros(2, {requiresGrad = true})}, {lr = 0.01})
local function shardDir() shardN = shardN + 1; return dir .. '/shards' .. shardN end

local cases = {
  -- tensor creation: element counts and dims
  {'llm.zeros(n)', function(n) return llm.zeros(n) end},
  {'llm.zeros(2, n)', function(n) return llm.zeros(2, n) end},
  {'llm.zeros{n, n}', function(n) return llm.zeros{n, n} end},
  {'llm.ones(n, 3)', function(n) return llm.ones(n, 3) end},
  {'llm.full({n}, 1)', function(n) return llm.full({n}, 1) end},
  {'llm.rand(n)', function(n) return llm.rand(n) end},
  {'llm.randn(3, n)', function(n) return llm.randn(3, n) end},
  {'llm.randint(0, 5, {n})', function(n) return llm.randint(0, 5, {n}) end},
  {'llm.randint(0, n, {3})', function(n) return llm.randint(0, n, {3}) end},
  {'llm.arange(n)', function(n) return llm.arange(n) end},
  {'llm.arange(0, n, 1)', function(n) return llm.arange(0, n, 1) end},
  {'llm.arange(0, 1, 1 / n)', function(n) return llm.arange(0, 1, 1 / n) end},
  {'llm.linspace(0, 1, n)', function(n) return llm.linspace(0, 1, n) end},
  {'llm.eye(n)', function(n) return llm.eye(n) end},
  {'llm.eye(2, n)', function(n) return llm.eye(2, n) end},
  -- views and shape arguments
  {'t:reshape(n, -1)', function(n) return t23():reshape(n, -1) end},
  {'t:view(n)', function(n) return t23():view(n) end},
  {'t:expand(n, 3)', function(n) return llm.ones(1, 3):expand(n, 3) end},
  {'t:expand(n, n)', function(n) return llm.ones(1, 1):expand(n, n) end},
  {'t:narrow(2, 1, n)', function(n) return t23():narrow(2, 1, n) end},
  {'t:narrow(2, n, 1)', function(n) return t23():narrow(2, n, 1) end},
  {'t:select(1, n)', function(n) return t23():select(1, n) end},
  {'t:chunk(n)', function(n) return t23():chunk(n) end},
  {'t:split(n)', function(n) return t23():split(n) end},
  {'t:split{n, 1}', function(n) return t23():split{n, 1} end},
  {'t:topk(n)', function(n) return t23():topk(n) end},
  {'t:tril(n)', function(n) return t23():tril(n) end},
  {'t:triu(n)', function(n) return t23():triu(n) end},
  {'t:size(n)', function(n) return t23():size(n) end},
  {'t:sum(n)', function(n) return t23():sum(n) end},
  {'t:flatten(n)', function(n) return t23():flatten(n) end},
  {'t:unsqueeze(n)', function(n) return t23():unsqueeze(n) end},
  {'t:permute(n, 1)', function(n) return t23():permute(n, 1) end},
  {'ids:oneHot(n)', function(n) return ids():oneHot(n) end},
  {'probs:multinomial(n)', function(n) return probs():multinomial(n) end},
  {'t[n]', function(n) return t23()[n] end},
  {'t[n] = 1', function(n) local t = t23(); t[n] = 1 end},
  {'llm.cat({t, t}, n)', function(n) local t = t23(); return llm.cat({t, t}, n) end},
  -- generators and seeds
  {'llm.manualSeed(n)', function(n) return llm.manualSeed(n) end},
  {'llm.Generator(n)', function(n) return llm.Generator(n) end},
  {'llm.setThreads(n)', function(n) local before = llm.getThreads and llm.getThreads(); llm.setThreads(n); if before then llm.setThreads(before) end end},
  -- llm.text
  {'llm.text.sample(n, 3)', function(n) return text.sample(n, 3) end},
  {'llm.text.sample(10, n)', function(n) return text.sample(10, n) end},
  {'llm.text.sample(n, n)', function(n) return text.sample(n, n) end},
  {'llm.text.randint(n)', function(n) return text.randint(n) end},
  {'llm.text.maskTokens(ids, {maskId = n})', function(n) return text.maskTokens({1, 2, 3, 4}, {rate = 0.5, maskId = n}) end},
  {'llm.text.maskTokens(ids, {vocabSize = n})', function(n) return text.maskTokens({1, 2, 3, 4}, {rate = 0.5, mode = 'random', vocabSize = n}) end},
  {'llm.text.maskTokens(ids, {rate = n})', function(n) return text.maskTokens({1, 2, 3, 4}, {rate = n, maskId = 0}) end},
  -- llm.data: windows, batches, tokenizers, dedup, filters, shards, pipelines
  {'llm.data.randomWindows(ids, n, 2)', function(n) return data.randomWindows(ids(), n, 2) end},
  {'llm.data.randomWindows(ids, 2, n)', function(n) return data.randomWindows(ids(), 2, n) end},
  {'llm.data.evalWindows(ids, n, 2)', function(n) return data.evalWindows(ids(), n, 2) end},
  {'llm.data.evalWindows(ids, 2, n)', function(n) return data.evalWindows(ids(), 2, n) end},
  {'llm.data.evalWindows(ids, 2, 2, {start = n})', function(n) return data.evalWindows(ids(), 2, 2, {start = n}) end},
  {'llm.data.Batcher{batchSize = n}', function(n) return data.Batcher(ids(), {batchSize = n, blockSize = 2}) end},
  {'llm.data.Batcher{blockSize = n}', function(n) return data.Batcher(ids(), {batchSize = 2, blockSize = n}) end},
  {'llm.data.BPETokenizer.train{vocabSize = n}', function(n) return data.BPETokenizer.train(corpus, {vocabSize = n}) end},
  {'llm.data.BPETokenizer.train{minFrequency = n}', function(n) return data.BPETokenizer.train(corpus, {vocabSize = 300, minFrequency = n}) end},
  {'llm.data.CharTokenizer(s, {unk = n})', function(n) return data.CharTokenizer(corpus, {unk = n}) end},
  {'tok:idToToken(n)', function(n) return tok:idToToken(n) end},
  {'tok:decode{n}', function(n) return tok:decode{n} end},
  {'dedup.Exact{bits = n}', function(n) return dedup.Exact{bits = n} end},
  {'dedup.MinHash{numPerm = n}', function(n) return dedup.MinHash{numPerm = n} end},
  {'dedup.MinHash{shingle = n}', function(n) return dedup.MinHash{shingle = n} end},
  {'dedup.MinHash{bands = n, rows = 2}', function(n) return dedup.MinHash{numPerm = 8, bands = n, rows = 2} end},
  {'dedup.similarity(a, b, {numPerm = n})', function(n) return dedup.similarity(corpus, corpus, {numPerm = n}) end},
  {'dedup.similarity(a, b, {shingle = n})', function(n) return dedup.similarity(corpus, corpus, {shingle = n}) end},
  {'dedup.jaccard(a, b, {shingle = n})', function(n) return dedup.jaccard(corpus, corpus, {shingle = n}) end},
  {'dedup.hash(s, n)', function(n) return dedup.hash(corpus, n) end},
  {'dedup.optimalBands(0.8, n)', function(n) return dedup.optimalBands(0.8, n) end},
  {'llm.data.ShardWriter{vocabSize = n}', function(n) return data.ShardWriter(shardDir(), {vocabSize = n}) end},
  {'llm.data.ShardWriter{shardTokens = n}', function(n) return data.ShardWriter(shardDir(), {vocabSize = 100, shardTokens = n}) end},
  {'llm.data.pipeline{threads = n}', function(n) return data.pipeline{data.readers.list{'a', 'b'}, threads = n, quiet = true}:run() end},
  {'llm.data.pipeline{chunkSize = n}', function(n) return data.pipeline{data.readers.list{'a', 'b'}, chunkSize = n, quiet = true}:run() end},
  {'loader:batch(n)', function(n) return shards():batch(n) end},
  {'ShardLoader{batchSize = n}', function(n) return data.ShardLoader(shardFolder, {batchSize = n, blockSize = 2}) end},
  {'ShardLoader{blockSize = n}', function(n) return data.ShardLoader(shardFolder, {batchSize = 1, blockSize = n}) end},
  {'ShardLoader{prefetch = n}', function(n) return data.ShardLoader(shardFolder, {batchSize = 1, blockSize = 2, prefetch = n}) end},
  {'ShardLoader{rank = n}', function(n) return data.ShardLoader(shardFolder, {batchSize = 1, blockSize = 2, rank = n, worldSize = 2}) end},
  {'ShardLoader{worldSize = n}', function(n) return data.ShardLoader(shardFolder, {batchSize = 1, blockSize = 2, worldSize = n}) end},
  {'readers.text(f, {maxBytes = n})', function(n) return data.pipeline{data.readers.text(textFile, {maxBytes = n}), quiet = true}:run() end},
  {'readers.jsonl(f, {maxLineBytes = n})', function(n) return data.pipeline{data.readers.jsonl(jsonlFile, {maxLineBytes = n}), quiet = true}:run() end},
  {'llm.data.readText(f, {maxBytes = n})', function(n) return data.readText(textFile, {maxBytes = n}) end},
  {'llm.data.split(ids, n)', function(n) return data.split(ids(), n) end},
  {'clean.Cleaner{punctuation = n}', function(n) return data.clean.Cleaner{punctuation = n} end},
  {'clean.squashPunctuation(s, n)', function(n) return data.clean.squashPunctuation('a!!!!', n) end},
  {'llm.loadData(s, {maxInstructions = n})', function(n) return llm.loadData('return {1}', {maxInstructions = n}) end},
  {'llm.loadData(s, {maxMemory = n})', function(n) return llm.loadData('return {1}', {maxMemory = n}) end},
  {'opt:get(key, n)', function(n) return opt:get('lr', n) end},
  {'opt:setLR(lr, n)', function(n) return opt:setLR(0.1, n) end},
  {'opt:parameters(n)', function(n) return opt:parameters(n) end},
  -- optim.schedule
  {'optim.schedule.values(s, n)', function(n) return sched.values(cosine, n) end},
  {'s:values(n)', function(n) return cosine:values(n) end},
  {'s:lr(n)', function(n) return cosine:lr(n) end},
  {'s(n)', function(n) return cosine(n) end},
  {'warmupCosine{totalSteps = n}', function(n) return sched.warmupCosine{maxLR = 0.1, warmupSteps = 2, totalSteps = n} end},
  {'warmupCosine{warmupSteps = n}', function(n) return sched.warmupCosine{maxLR = 0.1, warmupSteps = n, totalSteps = 10} end},
  -- checkpoints, JSON, Lua's own
  {'llm.checkpoint.stepName(n)', function(n) return llm.checkpoint.stepName(n) end},
  {'llm.json.encode(n)', function(n) return llm.json.encode{n} end},
  {"string.rep('x', n)", function(n) return string.rep('x', n) end},
  {"string.rep('xy', n, ',')", function(n) return string.rep('xy', n, ',') end},
}
-- the document filters' integer options, through the function form (the stage form parses the same options)
for name, keys in pairs{gopherQuality = {'minWords', 'maxWords', 'minStopWords'}, length = {'minChars', 'maxChars', 'minWords', 'maxWords'},
                        script = {'minLetters'}, badWords = {'maxHits'}, c4 = {'minSentences', 'minWordsPerLine', 'maxWordLength'},
                        gopherRepetition = {'topNGrams', 'dupNGrams'}} do
  for _, key in ipairs(keys) do
    cases[#cases + 1] = {'filters.' .. name .. '(s, {' .. key .. ' = n})', function(n)
      local opts = {[key] = n}
      if name == 'badWords' then opts.words = {'mat'} end
      return data.filters[name](corpus, opts)
    end}
  end
end
table.sort(cases, function(a, b) return a[1] < b[1] end)   -- a fixed order whatever pairs() did

local calls, raised = 0, 0
for _, case in ipairs(cases) do
  for _, n in ipairs(HOSTILE) do
    io.write('CALL ', case[1], ' with n = ', string.format('%.17g', n), '\n')
    io.stdout:flush()
    calls = calls + 1
    local ok, err = pcall(case[2], n)
    if not ok then
      raised = raised + 1
      if type(err) ~= 'string' then error('non-string error (' .. type(err) .. ') from ' .. case[1], 0) end
    end
    collectgarbage()
  end
end
print('DONE', calls, raised)
