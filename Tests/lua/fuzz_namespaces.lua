-- fuzz_namespaces.lua: run by fuzz_namespaces_spec.lua in a child process whose working folder is a fresh
-- temporary folder (`cd DIR && llmscript fuzz_namespaces.lua DIR`), so that relative paths a call writes
-- (databases, checkpoints, shards, locks, JSONL) land there. A seeded fuzz of every native binding outside
-- `llm` and llm.Tensor (those are fuzz_spec's): it finds every C function reachable from the global
-- namespaces (llm.data.*, llm.checkpoint, llm.json, llm.quant, llm.serve, llm.text, llm.gguf, llm.wordnet,
-- optim.*, parallel, dist, tune, ...) and every method and metamethod of every native class in the
-- registry (optimizers, schedules, tokenizers, batchers, windows, shard writers/loaders, stages, locks,
-- databases, processes, pools, futures, generators, communicators, requests, reducers, WordNet), and calls
-- each with random argument lists drawn from hostile values: wrong types, nil holes, NaN/inf/huge/negative
-- numbers, empty, huge and binary strings, cyclic, deeply nested and wrong-shaped tables, tables whose
-- metamethods raise, freed tensors and freed objects, read-only (mmapped and worker-shared) tensors and
-- userdata of every other class. Each call runs under pcall; a failure must be a Lua error whose message
-- is a string. A crash kills the child, and the last call is left in $LLM_FUZZ_LOG (default
-- DIR/last_call.txt) to reproduce it. The child prints "DONE <calls> <returned> <raised>" at the end.
-- Not called: dist.init (needs mpirun; every other dist function must refuse clearly before it),
-- llm.serve.start except on 127.0.0.1 port 0. Count arguments get small values here (the huge ones are
-- fuzz_counts.lua's, under a memory limit); timeouts never block for long.
-- Not a spec itself (busted runs *_spec.lua). Environment: LLM_FUZZ_SEED, LLM_FUZZ_CALLS (per function), or
-- arguments: fuzz_namespaces.lua DIR [SEED [CALLS]].
local dir = assert(arg and arg[1], 'usage: fuzz_namespaces.lua DIR (the working folder, writable)')
-- Sandboxed (--sandbox) there is no debug library: native functions are then told by llm._doc, and the
-- classes and their methods come from llm._methods of the fixture objects (no metamethods).
local dbg = rawget(_G, 'debug')
-- a sandboxed state reads no environment: the spec passes seed and calls as arguments 2 and 3 there
local SEED = tonumber(arg[2] or os.getenv('LLM_FUZZ_SEED') or '') or 20261207   -- arg[2] 'default': this one
local CALLS = tonumber(arg[3] or os.getenv('LLM_FUZZ_CALLS') or '') or 60
local logFile = io.open(os.getenv('LLM_FUZZ_LOG') or (dir .. '/last_call.txt'), 'w')
math.randomseed(SEED)
llm.manualSeed(7)
local data = llm.data

-- ---------------------------------------------------------------- fixtures (one of every native class)
local function write(path, text) local f = assert(io.open(path, 'w')); f:write(text); f:close() end
write(dir .. '/fuzzworker.lua', [[
local M = {}
function M.echo(...) return ... end
function M.fail(x) error('fuzz worker failed on ' .. tostring(x)) end
function M.ones() return llm.ones(2, 2) end
M.nested = {echo = function(...) return ... end}
return M
]])
write(dir .. '/in.txt', 'the cat sat on the mat.\nthe dog sat on the log.\n')
write(dir .. '/in.jsonl', '{"text": "a b c"}\n{"text": "d e"}\nnot json\n')
package.path = dir .. '/?.lua;' .. package.path
local corpus = 'the cat sat on the mat. the dog sat on the log. the cat ate the rat.'
local function ids() return llm.tensor({1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}, {dtype = 'int64'}) end
do
  local w = data.ShardWriter(dir .. '/shards', {vocabSize = 50, valFraction = 0.5})
  w:add(ids()); w:add(ids()); w:add(ids(), 'val')
  w:finish()
end
llm.checkpoint.write(dir .. '/ckpt', {['model.safetensors'] = {w = llm.ones(2, 3), b = llm.zeros(3)}, ['meta.json'] = {step = 1}, note = 'x'})
local mapped = llm.checkpoint.read(dir .. '/ckpt', {mmap = true})['model.safetensors'].w       -- read-only, mmapped
local okPool, sharedPool = pcall(parallel.pool, {init = 'fuzzworker', workers = 1})
local shared = okPool and sharedPool:submit('ones'):wait() or llm.ones(2, 2)     -- read-only, shared
local okWn, wordnet = pcall(llm.wordnet.open)
local dbOk, database = pcall(tune.sqlite, dir .. '/fixture.db')
local procOk, process = pcall(tune.spawn, {'/bin/true'})

-- Makes one object of every class; `freed` ones are freed at once (every later use must be refused).
local function makeObjects(freeThem)
  local p = llm.zeros(2, {requiresGrad = true})
  local objs = {
    optim.AdamW({p}, {lr = 0.01}), optim.SGD({llm.zeros(2, {requiresGrad = true})}, {lr = 0.1, momentum = 0.9}),
    optim.schedule.warmupCosine{maxLR = 0.1, warmupSteps = 2, totalSteps = 10},
    optim.schedule.reduceOnPlateau{lr = 0.1},
    data.CharTokenizer(corpus), data.ByteTokenizer(), data.BPETokenizer.train(corpus, {vocabSize = 270, minFrequency = 1}),
    data.Batcher(ids(), {batchSize = 2, blockSize = 2}), data.evalWindows(ids(), 2, 2),
    data.ShardWriter(dir .. '/w' .. math.random(1e9), {vocabSize = 50}),
    data.ShardLoader(dir .. '/shards', {batchSize = 1, blockSize = 2}),
    data.clean.Cleaner{}, data.filters.Length{minWords = 1}, data.pii.Scrubber{}, data.dedup.Exact{}, data.dedup.MinHash{},
    llm.checkpoint.lock(dir .. '/lock' .. math.random(1e9)),
    llm.Generator(3),
  }
  if okPool then objs[#objs + 1] = sharedPool:submit('echo', 1) end
  if dbOk then objs[#objs + 1] = tune.sqlite(':memory:') end
  if procOk then objs[#objs + 1] = tune.spawn({'/bin/true'}) end
  if freeThem then for _, o in ipairs(objs) do pcall(o.free, o) end end
  return objs
end
local objects = makeObjects(false)
local freedObjects = makeObjects(true)
local tables = {data.readers.list{'a', 'b'}, data.writers.jsonl(dir .. '/out.jsonl'),
  data.pipeline{data.readers.list{'a'}, quiet = true}, llm.json.array{1, 2}}
if okWn then objects[#objects + 1] = wordnet end
if dbOk then objects[#objects + 1] = database end
if procOk then objects[#objects + 1] = process end
if okPool then objects[#objects + 1] = sharedPool end

-- ---------------------------------------------------------------- hostile values
local quantized, scales = llm.quant.quantize(llm.randn(4, 64), 'int8')   -- int8 weights and their scales
local function makeTensors()
  local freed = llm.zeros(2)
  freed:free()
  return {
    llm.tensor(2.5), llm.zeros(0), llm.tensor{{1, 2, 3}, {4, 5, 6}}, llm.tensor({0, 2, 1}, {dtype = 'int64'}),
    llm.tensor({{0, 1}, {1, 0}}, {dtype = 'int32'}), llm.ones(2, 3, {requiresGrad = true}),
    llm.tensor{{1, 2}, {3, 4}}:transpose(), llm.zeros(3, 0), freed, mapped, shared,
    llm.tensor({1, 2, 3, 4, 5, 6, 7, 8}, {dtype = 'int64'}), llm.arange(40, {dtype = 'int64'}), llm.zeros(4, {requiresGrad = true}),
    llm.randn(4, 64), quantized, scales,
  }
end
local tensors = makeTensors()
local cyclic = {}; cyclic[1] = cyclic; cyclic.self = cyclic; cyclic.text = cyclic
local deep = {}
do local t = deep; for _ = 1, 100000 do t[1] = {}; t = t[1] end end
local long = {}
for i = 1, 5000 do long[i] = i % 7 end
local raising = setmetatable({}, {__index = function(_, k) error('raising __index for ' .. tostring(k)) end,
  __len = function() error('raising __len') end, __pairs = function() error('raising __pairs') end})
local weirdLen = setmetatable({1, 2}, {__len = function() return 'not a number' end, __index = function() return 1e300 end})
local bigString = string.rep('x', 1 << 20)
local deepJSON = string.rep('[', 100000) .. string.rep(']', 100000)
local fn = function(...) return ... end
local co = coroutine.create(function() end)
local function pick(list) return list[math.random(#list)] end

local general = {
  function() return nil end, function() return true end, function() return false end,
  function() return 0 end, function() return -1 end, function() return 1 end, function() return 2 end,
  function() return 1.5 end, function() return -7 end, function() return 1e300 end, function() return -1e300 end,
  function() return 0 / 0 end, function() return math.huge end, function() return -math.huge end,
  function() return 2 ^ 31 end, function() return 2 ^ 53 end, function() return math.mininteger end,
  function() return math.maxinteger end, function() return 2147483648 end, function() return -0.0 end,
  function() return '' end, function() return 'abc' end, function() return 'float32' end, function() return 'a\0b' end,
  function() return '\255\254\192' end, function() return bigString end, function() return deepJSON end,
  function() return '{"a": [1, 2, {"b": null}]}' end, function() return 'text' end, function() return 'train' end,
  function() return 'q8_0' end, function() return 'int8' end, function() return 'echo' end, function() return 'lr' end,
  function() return 'SELECT 1' end, function() return '%' end, function() return 'ckpt' end, function() return 'shards' end,
  function() return {} end, function() return {1, 2} end, function() return {{1}, {2, 3}} end, function() return {'a', 'b'} end,
  function() return {text = 'a b c', id = 1} end, function() return {text = 1e300} end, function() return {0 / 0} end,
  function() return {dtype = 'int64'} end, function() return {bogus = 1} end, function() return {lr = -1} end,
  function() return {batchSize = 2, blockSize = 2} end, function() return {epoch = -1, batch = 1e300} end,
  function() return {1, nil, 3} end, function() return {[0] = 1, [-1] = 2, [1.5] = 3} end,
  function() return cyclic end, function() return deep end, function() return long end,
  function() return raising end, function() return weirdLen end,
  function() return fn end, function() return co end, function() return io.stdout end,
  function() return {pick(tensors), pick(tensors)} end,
  function() return pick(tables) end,
}
-- tensors and objects are the common case: weight them up
for _ = 1, 12 do general[#general + 1] = function() return pick(tensors) end end
for _ = 1, 8 do general[#general + 1] = function() return pick(objects) end end
for _ = 1, 4 do general[#general + 1] = function() return pick(freedObjects) end end

-- Small numbers only, for arguments that become allocation or loop sizes (the huge ones: fuzz_counts.lua).
local small = {
  function() return nil end, function() return 0 end, function() return 1 end, function() return 2 end,
  function() return 3 end, function() return -1 end, function() return -7 end, function() return 1.5 end,
  function() return 0 / 0 end, function() return -math.huge end, function() return -1e300 end,
  function() return math.mininteger end, function() return 'abc' end, function() return true end,
  function() return {} end, function() return {1, 2} end, function() return cyclic end, function() return raising end,
  function() return {2, 3} end, function() return {-1} end, function() return {bogus = 1} end, function() return fn end,
  function() return {batchSize = 2, blockSize = 2} end, function() return {vocabSize = 260} end,
  function() return {threads = 1} end, function() return {workers = 1, init = 'fuzzworker'} end,
  function() return pick(tensors) end, function() return pick(tensors) end, function() return pick(objects) end,
  function() return pick(freedObjects) end, function() return corpus end, function() return '' end,
}
-- Seconds for calls that block that long: never more than a few milliseconds when valid.
local timeouts = {
  function() return nil end, function() return 0 end, function() return 0.001 end, function() return -1 end,
  function() return 0 / 0 end, function() return -math.huge end, function() return -1e300 end,
  function() return math.mininteger end, function() return 'abc' end, function() return {} end, function() return true end,
  function() return math.huge end, function() return 1e300 end, function() return 2 ^ 63 end, function() return 1e10 end,
}

-- Per-function argument sets (by key 'namespace.name' or 'Class:method'); the rest use `general`.
local sizeTaking = {
  'llm.text.sample', 'llm.text.randint', 'llm.text.maskTokens', 'llm.data.randomWindows', 'llm.data.evalWindows',
  'llm.data.Batcher', 'llm.data.BPETokenizer.train', 'llm.data.CharTokenizer', 'llm.data.dedup.Exact',
  'llm.data.dedup.MinHash', 'llm.data.dedup.similarity', 'llm.data.dedup.jaccard', 'llm.data.dedup.hash',
  'llm.data.dedup.optimalBands', 'llm.data.ShardWriter', 'llm.data.ShardLoader', 'llm.data.pipeline',
  'llm.data.readers.text', 'llm.data.readers.jsonl', 'llm.data.readText', 'llm.data.fortunes', 'llm.data.split',
  'llm.data.clean.Cleaner', 'llm.data.clean.squashPunctuation', 'llm.checkpoint.stepName', 'optim.schedule.values',
  'optim.schedule.warmupCosine', 'optim.schedule.oneCycle', 'optim.schedule.multiStep', 'optim.schedule.step',
  'optim.schedule.exponential', 'optim.schedule.constant', 'optim.schedule.reduceOnPlateau',
  'parallel.pool', 'llm.quant.quantize', 'llm.quant.dequantize', 'llm.quant.linear', 'tune.spawn',
  'optim.schedule.Schedule:values', 'llm.data.ShardLoader:batch', 'llm.data.EvalWindows:batch',
  'optim.Optimizer:get', 'optim.Optimizer:setLR', 'optim.Optimizer:parameters', 'optim.Optimizer:set',
  'optim.Optimizer:getLR', 'llm.data.filters.*', 'llm.data.Batcher:setState', 'llm.data.ShardLoader:setState',
  'llm.Generator:seed', 'llm.data.BPETokenizer:idToToken', 'llm.data.CharTokenizer:idToToken',
  'llm.data.ByteTokenizer:idToToken', 'llm.wordnet.open', 'llm.wordnet.available',
}
local argSets = {}
for _, k in ipairs(sizeTaking) do argSets[k] = small end
for _, k in ipairs{'tune.sleep', 'llm.serve.poll', 'parallel.Future:wait'} do argSets[k] = timeouts end

-- Whole argument lists for calls with side effects the fuzz must bound.
local custom = {}
custom['llm.serve.start'] = function()
  local opts = {host = pick{'127.0.0.1', 'localhost', '', 'abc', '::1', '300.1.1.1'}, port = 0}
  for _, key in ipairs{'maxQueue', 'maxBody', 'timeout', 'idleTimeout', 'connections', 'apiKey', 'model'} do
    if math.random() < 0.3 then opts[key] = small[math.random(#small)]() end
  end
  if math.random() < 0.2 then opts.port = pick{-1, 65536, 0 / 0, 1.5, 'x', math.maxinteger} end
  return {opts, n = 1}
end
custom['tune.spawn'] = function()
  local argv = pick{{'/bin/true'}, {'/bin/false'}, {dir .. '/nonexistent'}, {}, {'/bin/true', 'a\0b'}, {1, 2}, cyclic,
    {'/bin/true', raising}, 'abc', raising}
  local opts = pick{nil, {timeout = pick{-1, 0 / 0, math.huge, 0.5, 'x'}}, {memoryMB = pick{-1, 0, 1.5, 0 / 0, 2 ^ 63}},
    {log = pick{dir .. '/spawn.log', '', dir}}, {env = pick{{A = 'b'}, {1, 2}, {A = cyclic}, cyclic, raising}}, {bogus = 1}}
  return {argv, opts, n = 2}
end
custom['parallel.pool'] = function()
  local opts = pick{{init = 'fuzzworker', workers = pick{1, 0, -1, 0 / 0, 1.5, 'x', math.huge, 2 ^ 63}},
    {init = pick{'nope', '', 'fuzzworker.nope', cyclic, 1}}, {workers = 1}, raising, cyclic, 'fuzzworker', nil}
  return {opts, n = 1}
end
-- A worker pool runs what it is told; the function names cover success, errors and missing names.
local workerFns = {'echo', 'fail', 'ones', 'nested.echo', 'nope', '', 'nested', 'nested.nope.deeper'}
for _, m in ipairs{'parallel.Pool:submit', 'parallel.Pool:map', 'parallel.Pool:each'} do
  custom[m] = function()
    local a = {pick(objects), math.random() < 0.8 and pick(workerFns) or general[math.random(#general)](), n = math.random(2, 5)}
    if math.random() < 0.7 then a[1] = sharedPool end
    for i = 3, a.n do a[i] = general[math.random(#general)]() end
    return a
  end
end

-- ---------------------------------------------------------------- the calls
local function fmt(v)
  local tv = type(v)
  if tv == 'string' then return #v > 40 and string.format('<string of %d bytes>', #v) or string.format('%q', v) end
  if tv == 'number' then
    if v ~= v then return '0/0' end
    if v == math.huge then return 'math.huge' elseif v == -math.huge then return '-math.huge' end
    if math.type(v) == 'integer' then
      if v == math.mininteger then return 'math.mininteger' elseif v == math.maxinteger then return 'math.maxinteger' end
      return tostring(v)
    end
    return string.format('%.17g', v)
  end
  if llm.isTensor(v) then
    local ok, s = pcall(function() return 'tensor' .. table.concat(v:shape(), 'x') .. ':' .. v:dtype() end)
    return ok and s or 'freedTensor'
  end
  if v == cyclic then return 'cyclic' elseif v == deep then return 'deep' elseif v == long then return 'long'
  elseif v == raising then return 'raising' elseif v == weirdLen then return 'weirdLen' end
  if tv == 'table' then
    local ok, s = pcall(function()
      local parts = {}
      for k, x in next, v do parts[#parts + 1] = (type(k) == 'string' and k .. '=' or '') .. fmt(x) end
      return '{' .. table.concat(parts, ', ') .. '}'
    end)
    return ok and s or 'table'
  end
  if tv == 'userdata' then
    local ok, s = pcall(tostring, v)
    return ok and s:gsub(': 0x%x+', '') or 'userdata'
  end
  return tv
end

local function log(desc)
  if not logFile then return end
  logFile:seek('set')
  logFile:write(desc, '\n', string.rep(' ', 300), '\n')
  logFile:flush()
end

local stats = {calls = 0, ok = 0, failed = 0}
local returnedBy = {}   -- key -> calls that returned (LLM_FUZZ_VERBOSE lists the keys that never did)
local function probe(key, desc, f, ...)
  log(desc)
  stats.calls = stats.calls + 1
  local ok, err = pcall(f, ...)
  returnedBy[key] = (returnedBy[key] or 0) + (ok and 1 or 0)
  if ok then stats.ok = stats.ok + 1 return end
  stats.failed = stats.failed + 1
  if type(err) ~= 'string' then error('non-string error (' .. type(err) .. ') from ' .. desc, 0) end
end

local function setFor(key)
  if argSets[key] then return argSets[key] end
  local prefix = key:match('^(.*)%.[^.]+$')
  return prefix and argSets[prefix .. '.*'] or general
end

-- Signature-aware arguments: llm._doc(f) gives the signature ("name(a: Tensor, {k1, k2: int}) -> ..."),
-- parsed into parameters (a type, or the keys of an options table). Most values then fit their type, so
-- the calls get past the first checks; each argument or option value is still hostile now and then.
local function closing(s, i)
  local depth = 0
  for j = i, #s do
    local c = s:sub(j, j)
    if c == '{' or c == '[' or c == '(' then depth = depth + 1
    elseif c == '}' or c == ']' or c == ')' then depth = depth - 1; if depth == 0 then return j end end
  end
end
local function splitTop(s)
  local parts, depth, start = {}, 0, 1
  for i = 1, #s do
    local c = s:sub(i, i)
    if c == '{' or c == '[' or c == '(' then depth = depth + 1
    elseif c == '}' or c == ']' or c == ')' then depth = depth - 1
    elseif c == ',' and depth == 0 then parts[#parts + 1] = s:sub(start, i - 1); start = i + 1 end
  end
  parts[#parts + 1] = s:sub(start)
  return parts
end
local function trim(s) return (s:gsub('^%s+', ''):gsub('%s+$', '')) end
local typeWords = {Tensor = true, string = true, int = true, integer = true, number = true, boolean = true, table = true}
local function optionKeys(text)    -- '{a, b: int = 2, [c=true]}' -> {a = '', b = 'int', c = ''}
  local open = text:find('{', 1, true)
  local close = open and closing(text, open)
  if not close then return nil end
  local keys = {}
  for _, entry in ipairs(splitTop(text:sub(open + 1, close - 1))) do
    local k, rest = trim(entry):gsub('^%[', ''):match('^([%a_][%w_]*)%s*(.*)$')
    if k and not typeWords[k] then keys[k] = rest:match('^:%s*(.*)$') or '' end
  end
  return next(keys) and keys or nil
end
local function parseSignature(sig)
  local open = sig and sig:find('[({]')
  local close = open and closing(sig, open)
  if not close then return nil end
  local inner = sig:sub(open, close)
  local list = inner:sub(1, 1) == '(' and inner:sub(2, -2) or inner
  local params = {}
  if trim(list) == '' then return params end
  for _, raw in ipairs(splitTop(list)) do
    local p = trim(raw):gsub('^%[(.*)%]$', '%1')
    if p:sub(1, 1) == '{' then params[#params + 1] = {keys = optionKeys(p)}
    elseif p == '...' then params[#params + 1] = {vararg = true}
    else
      local name = p:match('^([%w_]+)%??%s*:') or ''
      local ty = p:match('^[%w_]+%??%s*:%s*(.*)$') or p:match('^[%w_]+%s*=') and 'value' or p
      params[#params + 1] = ty:sub(1, 1) == '{' and optionKeys(ty) and {keys = optionKeys(ty), listOf = ty} or {type = ty, name = name}
    end
  end
  return params
end

local strings = {'', 'x', 'the cat sat', 'in.txt', 'in.jsonl', 'ckpt', 'shards', 'out.jsonl', 'new/dir', 'db.sqlite',
  'q8_0', 'q4_0', 'int8', 'f16', 'bf16', 'train', 'val', 'text', 'echo', 'lr', 'mask', 'bert', 'random', 'file', 'line',
  'separator', 'repair', 'reject', 'plain', 'fortunes', 'f32', 'a\0b', '\255\254', 'SELECT ?', 'CREATE TABLE IF NOT EXISTS t(a)',
  'a', 'é', '中', '{"a": [1, 2.5, null, true], "b": {"c": "d"}}', '[1, 2]', '"x"', '1e400', '-0', '"\\ud800"', '[1, 2'}
local function objectOf(ty)   -- an object whose class name ends with a word of ty ('Generator', 'Schedule')
  local found = {}
  for word in ty:gmatch('[%a_][%w_.]*') do
    for _, o in ipairs(objects) do
      local ok, name = pcall(getmetatable, o)
      if ok and type(name) == 'string' and #word > 3 and name:sub(-#word) == word then found[#found + 1] = o end
    end
  end
  return #found > 0 and pick(found) or nil
end
local function plausible(ty, set, name)
  ty, name = ty or '', name or ''
  if math.random() < 0.2 then return set[math.random(#set)]() end     -- hostile now and then
  if ty:find('Tensor', 1, true) and ty:sub(1, 1) == '{' then
    return math.random() < 0.6 and {llm.zeros(4, {requiresGrad = true}), llm.ones(2, 2, {requiresGrad = true})} or {pick(tensors), pick(tensors)}
  end
  if ty:find('Tensor', 1, true) and (name:find('token') or name:find('ids')) and math.random() < 0.7 then
    return pick{llm.arange(40, {dtype = 'int64'}), llm.tensor({3, 1, 2, 0}, {dtype = 'int64'})}
  end
  if ty:find('Tensor', 1, true) then return pick(tensors) end
  local object = not typeWords[ty] and objectOf(ty)
  if type(object) == 'userdata' then return object end
  if ty:find('^{') then return pick{{'a', 'b'}, {1, 2, 3}, {0.5}, {}} end
  local literals = {}
  for lit in ty:gmatch("'([^']*)'") do literals[#literals + 1] = lit end   -- 'q8_0'|'q4_0': one of them
  if #literals > 0 and math.random() < 0.8 then return pick(literals) end
  if ty:find('string', 1, true) or ty:find("^'") then return pick(strings) end
  if ty:find('boolean', 1, true) then return math.random() < 0.5 end
  if ty:find('int', 1, true) or ty:find('number', 1, true) then return pick{0, 1, 2, 3, 8, 0.5, 0.1, -1} end
  return pick{1, 2, 0.5, true, false, 'x', pick(strings), pick(tensors), {}}
end
local function optionsTable(keys, set)
  local t = {}
  for k, ty in pairs(keys) do if math.random() < 0.75 then t[k] = plausible(ty, set, k) end end
  return t
end
local signatures = {}
local function typedArgs(key, f, set)
  if signatures[key] == nil then
    local ok, sig = pcall(llm._doc, f)
    signatures[key] = ok and parseSignature(sig) or false
  end
  local params = signatures[key]
  if not params then return nil end
  local a = {n = #params}
  for i, p in ipairs(params) do
    if p.keys and not p.listOf then a[i] = optionsTable(p.keys, set)
    elseif p.listOf then a[i] = math.random() < 0.5 and {optionsTable(p.keys, set), optionsTable(p.keys, set)} or plausible(p.listOf, set)
    elseif p.vararg then a[i] = plausible('', set)
    else a[i] = plausible(p.type, set, p.name) end
    if math.random() < 0.05 then a[i] = nil end                             -- a nil hole
  end
  if math.random() < 0.15 then a.n = math.random(0, a.n) end               -- missing trailing arguments
  if math.random() < 0.1 then a.n = a.n + 1; a[a.n] = set[math.random(#set)]() end   -- one too many
  return a
end

local function argsFor(key, f, isMethod)
  if custom[key] then return custom[key]() end
  local set = setFor(key)
  if set ~= timeouts and math.random() < 0.7 then   -- typed values would sleep for seconds
    local a = typedArgs(key, f, set)
    if a then
      if isMethod then   -- a receiver goes first
        for i = a.n, 1, -1 do a[i + 1] = a[i] end
        a[1] = nil; a.n = a.n + 1
      end
      return a
    end
  end
  local n = math.random(0, 4)
  local a = {n = n}
  for i = 1, n do a[i] = set[math.random(#set)]() end
  if isMethod and n >= 1 and math.random() < 0.75 then a[1] = nil end   -- filled with a receiver by the caller
  return a
end

local function run(key, f, receivers)
  for _ = 1, CALLS do
    if stats.calls % 50 == 0 then tensors = makeTensors() end
    local a = argsFor(key, f, receivers ~= nil)
    if receivers and (a.n == 0 or a[1] == nil) and #receivers > 0 and math.random() < 0.9 then
      a[1] = pick(receivers); a.n = math.max(a.n, 1)
    end
    local parts = {}
    for i = 1, a.n do parts[i] = fmt(a[i]) end
    probe(key, key .. '(' .. table.concat(parts, ', ') .. ')', f, table.unpack(a, 1, a.n))
  end
end

-- Every C function under the global namespaces, except Lua's own libraries and what fuzz_spec covers.
local skipRoots = {string = true, table = true, math = true, io = true, os = true, coroutine = true, utf8 = true,
  debug = true, package = true, _G = true}
local never = {['dist.init'] = true}
local functions = {}
local function walk(t, path, seen)
  if seen[t] then return end
  seen[t] = true
  for k, v in next, t do
    if type(k) == 'string' and k:sub(1, 1) ~= '_' then
      local p = path and (path .. '.' .. k) or k
      local native = type(v) == 'function' and (dbg and dbg.getinfo(v, 'S').what == 'C' or not dbg and llm._doc(v) ~= nil)
      if native and path and path ~= 'llm' and not never[p] then
        functions[#functions + 1] = {p, v}
      elseif type(v) == 'table' and not (path == nil and skipRoots[k]) and not getmetatable(v) then
        -- a class's published methods table (llm.Tensor, optim.Optimizer, ...) is the class loop's
        local mt = dbg and dbg.getregistry()[p]
        if not (type(mt) == 'table' and rawget(mt, '__name') == p) then walk(v, p, seen) end
      end
    end
  end
end
walk(_G, nil, {})
table.sort(functions, function(x, y) return x[1] < y[1] end)

-- Every native class in the registry: its methods and metamethods, called with its own instances as
-- receivers most of the time (fresh, freed) and anything else otherwise.
local classes = {}
local registry = dbg and dbg.getregistry() or {}
if not dbg then
  for _, group in ipairs{objects, tables} do
    for _, o in ipairs(group) do
      local name, methods = llm._methods(o)
      if name and not registry[name] then registry[name] = {__name = name, __index = methods} end
    end
  end
end
for name, mt in next, registry do
  if type(name) == 'string' and type(mt) == 'table' and rawget(mt, '__name') == name and name ~= 'llm.Tensor'
     and name ~= 'FILE*' and name:find('.', 1, true) then
    classes[#classes + 1] = {name, mt}
  end
end
table.sort(classes, function(x, y) return x[1] < y[1] end)
local function instancesOf(name)
  local list = {}
  for _, group in ipairs{objects, freedObjects, tables} do
    for _, o in ipairs(group) do
      local ok, mtName = pcall(getmetatable, o)
      if ok and mtName == name then list[#list + 1] = o end
    end
  end
  return list
end

local order = {}
for _, entry in ipairs(functions) do
  if entry[1]:sub(1, 9) ~= 'llm.serve' then order[#order + 1] = entry end
end
-- the server last but one: start (port 0) first so that its other functions reach a live server
for _, entry in ipairs(functions) do if entry[1] == 'llm.serve.start' then order[#order + 1] = entry end end
for _, entry in ipairs(functions) do
  local last = {['llm.serve.start'] = true, ['llm.serve.shutdown'] = true, ['llm.serve.stop'] = true}
  if entry[1]:sub(1, 9) == 'llm.serve' and not last[entry[1]] then order[#order + 1] = entry end
end
for _, entry in ipairs(functions) do if entry[1] == 'llm.serve.shutdown' then order[#order + 1] = entry end end
for _, entry in ipairs(functions) do if entry[1] == 'llm.serve.stop' then order[#order + 1] = entry end end

-- Live requests for answer/begin/write/finish/gone: a server of our own on port 0, fed by curl (when
-- present) in the background; each gives up after 2 s.
local serverPort, liveIds = nil, {}
local hasCurl = dbg and os.execute('command -v curl >/dev/null 2>&1') == true
local function feedRequests()
  if not serverPort then
    pcall(llm.serve.stop)
    local ok, port = pcall(llm.serve.start, {host = '127.0.0.1', port = 0})
    serverPort = ok and port or nil
  end
  if not (serverPort and hasCurl) then return end
  for i = 1, 3 do
    local path = i == 3 and '/v1/chat/completions' or '/v1/completions'
    os.execute(string.format("curl -s -m 2 -o /dev/null -X POST http://127.0.0.1:%d%s -d '{\"prompt\": \"x\"}' >/dev/null 2>&1 &",
      serverPort, path))
  end
  for _ = 1, 20 do
    local ok, got = pcall(llm.serve.poll, 0.05, 8)
    if ok then for _, r in ipairs(got) do liveIds[#liveIds + 1] = r.id end end
    if not ok or #liveIds >= 3 then break end
  end
end
local function liveId() return #liveIds > 0 and math.random() < 0.8 and pick(liveIds) or general[math.random(#general)]() end
local statuses = {200, 400, 404, 500, 503, 599, 100, 0, -1, 99, 600, 2 ^ 31, math.maxinteger, math.mininteger, 1.5, 0 / 0}
custom['llm.serve.answer'] = function() return {liveId(), pick(statuses), pick(strings), n = 3} end
custom['llm.serve.write'] = function() return {liveId(), pick(strings), n = 2} end
for _, name in ipairs{'begin', 'finish', 'gone'} do custom['llm.serve.' .. name] = function() return {liveId(), n = 1} end end
local feeds = {['llm.serve.answer'] = true, ['llm.serve.begin'] = true, ['llm.serve.write'] = true,
  ['llm.serve.finish'] = true, ['llm.serve.gone'] = true}

io.write(string.format('fuzz_namespaces: seed %d, %d functions, %d classes\n', SEED, #functions, #classes))
for _, entry in ipairs(order) do
  if feeds[entry[1]] then feedRequests() end
  run(entry[1], entry[2])
end
local methodCount = 0
for _, c in ipairs(classes) do
  local name, mt = c[1], c[2]
  local receivers = instancesOf(name)
  local idx = rawget(mt, '__index')
  local names = {}
  if type(idx) == 'table' then
    for k, v in next, idx do if type(v) == 'function' then names[#names + 1] = k end end
  end
  -- free and close last: they end the receivers
  table.sort(names, function(x, y)
    local fx, fy = (x == 'free' or x == 'close') and 1 or 0, (y == 'free' or y == 'close') and 1 or 0
    if fx ~= fy then return fx < fy end
    return x < y
  end)
  for _, mm in ipairs{'__call', '__len', '__tostring', '__index', '__newindex'} do
    local f = rawget(mt, mm)
    if type(f) == 'function' then methodCount = methodCount + 1; run(name .. '.' .. mm, f, receivers) end
  end
  for _, m in ipairs(names) do methodCount = methodCount + 1; run(name .. ':' .. m, idx[m], receivers) end
  for _, mm in ipairs{'__close', '__gc'} do   -- last: they end the receivers
    local f = rawget(mt, mm)
    if type(f) == 'function' then methodCount = methodCount + 1; run(name .. '.' .. mm, f, receivers) end
  end
end
if okPool then pcall(sharedPool.close, sharedPool) end
pcall(llm.serve.stop)
io.write(string.format('fuzz_namespaces: %d methods and metamethods\n', methodCount))
if os.getenv('LLM_FUZZ_VERBOSE') then
  local silent = {}
  for k, n in pairs(returnedBy) do if n == 0 then silent[#silent + 1] = k end end
  table.sort(silent)
  io.write('never returned: ', table.concat(silent, ' '), '\n')
end
print('DONE', stats.calls, stats.ok, stats.failed)
if logFile then logFile:close() end
