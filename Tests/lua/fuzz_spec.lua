-- fuzz_spec.lua: a seeded fuzz of the Lua boundary. Calls every function in `llm` and every method in
-- llm.Tensor (names starting with '_' are reached through the metatable paths t.x, t.x = v, t[i],
-- t[i] = v and the operators instead) with random argument lists drawn from hostile values, each call
-- under pcall. A failure must be a Lua error whose message is a string; a crash (trap, SIGSEGV) kills
-- the run, and the last call is left in $LLM_FUZZ_LOG (default /tmp/llm_fuzz_last.txt) to reproduce it.
-- Sizes: functions that allocate from size arguments draw them from a small set only, so that no call
-- succeeds with a multi-GB allocation (the engine only refuses what exceeds the machine's memory).
-- Count and size parameters of every namespace get their own sweep of huge/negative/NaN values in a
-- sandboxed child process (fuzz_counts.lua, under --max-memory 64M).
-- Runs under busted, or standalone (`llmscript Tests/lua/fuzz_spec.lua`, strict globals on) through
-- the minimal describe/it stand-in defined below.
-- Run: llmscript --no-strict /usr/bin/busted Tests/lua/fuzz_spec.lua

-- busted when present; otherwise (a plain `llmscript` run, strict globals) a minimal stand-in.
local function global(name) local ok, v = pcall(function() return _ENV[name] end); return ok and v or nil end
local describe = global('describe') or function(name, body) print('fuzz: ' .. name); body() end
local it = global('it') or function(name, body) body(); print('  ok: ' .. name) end
local function check(cond, msg) if not cond then error(msg or 'check failed', 2) end end

local CALLS_PER_FUNCTION = tonumber(os.getenv('LLM_FUZZ_CALLS') or '') or 30   -- ~190 functions: > 5,000 calls
local POOL_REFRESH = 40            -- rebuild the tensor pool this often (calls free/mutate it)
local SEED = tonumber(os.getenv('LLM_FUZZ_SEED') or '') or 20261129   -- vary it to fuzz more

local logPath = os.getenv('LLM_FUZZ_LOG') or '/tmp/llm_fuzz_last.txt'
local logFile = io.open(logPath, 'w')

local function fmt(v)
  local tv = type(v)
  if tv == 'string' then return string.format('%q', v) end
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
  if tv == 'table' then
    local parts = {}
    for k, x in pairs(v) do parts[#parts + 1] = (type(k) == 'string' and k .. '=' or '') .. fmt(x) end
    return '{' .. table.concat(parts, ', ') .. '}'
  end
  return tv
end

local function log(desc)
  if not logFile then return end
  logFile:seek('set')
  logFile:write(desc, '\n', string.rep(' ', 200), '\n')
  logFile:flush()
end

-- A fresh pool of tensors of various shapes and dtypes (and one freed tensor).
local function makePool()
  local freed = llm.zeros(2)
  freed:free()
  return {
    llm.tensor(2.5),                                   -- 0-d
    llm.zeros(0),                                      -- 1-D empty
    llm.tensor{{1, 2, 3}, {4, 5, 6}},                  -- 2x3
    llm.tensor{{1}, {-2}, {3}},                        -- 3x1
    llm.tensor({0, 2, 1}, {dtype = 'int64'}),          -- int64 ids
    llm.tensor({{0, 1}, {1, 0}}, {dtype = 'int32'}),
    llm.ones(2, 3, {requiresGrad = true}),
    llm.tensor{{1, 2}, {3, 4}}:transpose(),            -- non-contiguous view
    llm.zeros(3, 0),
    freed,
  }
end

local pool = makePool()
local fn = function(...) return ... end
local co = coroutine.create(function() end)

local general = {
  function() return nil end, function() return true end, function() return false end,
  function() return 0 end, function() return -1 end, function() return 1 end, function() return 2 end,
  function() return 1.5 end, function() return -7 end, function() return 1e300 end, function() return -1e300 end,
  function() return 0 / 0 end, function() return math.huge end, function() return -math.huge end,
  function() return 2 ^ 31 end, function() return 2 ^ 53 end, function() return math.mininteger end,
  function() return math.maxinteger end, function() return 2147483648 end,
  function() return '' end, function() return 'abc' end, function() return 'float32' end, function() return 'int64' end,
  function() return {} end, function() return {1, 2} end, function() return {{1}, {2, 3}} end,
  function() return {dtype = 'int64'} end, function() return {keepdim = true} end, function() return {bogus = 1} end,
  function() return {retainGraph = true} end, function() return {alpha = 2} end,
  function() return fn end, function() return co end,
  function() return {pool[3], pool[3]} end,             -- a list of tensors (cat/stack/gradcheck)
}
for i = 1, 10 do general[#general + 1] = function() return pool[i] end end
-- tensors are the common case: weight them up
for i = 1, 10 do general[#general + 1] = function() return pool[math.random(#pool)] end end

-- Small values only, for arguments that become allocation sizes (2^31 floats would succeed: 8 GB).
local small = {
  function() return nil end, function() return 0 end, function() return 1 end, function() return 2 end,
  function() return 3 end, function() return -1 end, function() return -7 end, function() return 1.5 end,
  function() return 0 / 0 end, function() return math.huge end, function() return 1e300 end,
  function() return 2 ^ 53 end, function() return math.maxinteger end, function() return math.mininteger end,
  function() return 'abc' end, function() return true end, function() return {} end, function() return {1, 2} end,
  function() return {2, 3} end, function() return {-1} end, function() return {{1}, {2, 3}} end,
  function() return {dtype = 'int64'} end, function() return {bogus = 1} end, function() return fn end,
  function() return pool[3] end, function() return pool[5] end, function() return pool[10] end,
}
local sizeTaking = {
  zeros = true, ones = true, full = true, rand = true, randn = true, randint = true, arange = true,
  linspace = true, eye = true, reshape = true, view = true, expand = true, oneHot = true,
  multinomial = true,   -- n samples per row: multinomial(2^31) allocates 16 GB and loops 2^31 times
}
-- NOTE: a new function whose integer argument becomes an allocation or loop size belongs in this list.

local function draw(set) return set[math.random(#set)]() end

local function args(name)
  local set = sizeTaking[name] and small or general
  local n = math.random(0, 4)
  local a = {n = n}
  for i = 1, n do
    -- methods: usually a tensor first, so the later arguments are what gets fuzzed
    if i == 1 and not sizeTaking[name] and math.random() < 0.7 then a[i] = pool[math.random(#pool)]
    else a[i] = draw(set) end
  end
  return a
end

local stats = {calls = 0, ok = 0, failed = 0}
local silent = function() end

-- Calls f(table.unpack(a)) under pcall; asserts that a failure carries a string message.
local function probe(desc, f, ...)
  log(desc)
  stats.calls = stats.calls + 1
  local ok, err = pcall(f, ...)
  if ok then stats.ok = stats.ok + 1 return end
  stats.failed = stats.failed + 1
  if type(err) ~= 'string' then
    error('non-string error (' .. type(err) .. ') from ' .. desc, 0)
  end
end

local function callAll(tbl, prefix, names)
  for _, name in ipairs(names) do
    local f = tbl[name]
    for _ = 1, CALLS_PER_FUNCTION do
      if stats.calls % POOL_REFRESH == 0 then pool = makePool() end
      local a = args(name)
      local parts = {}
      for i = 1, a.n do parts[i] = fmt(a[i]) end
      local desc = prefix .. name .. '(' .. table.concat(parts, ', ') .. ')'
      local savedPrint = _G.print     -- help() prints through the global print
      if name == 'help' then _G.print = silent end
      probe(desc, f, table.unpack(a, 1, a.n))
      _G.print = savedPrint
    end
  end
end

local function publicNames(tbl)
  local names = {}
  for k, v in pairs(tbl) do
    if type(k) == 'string' and k:sub(1, 1) ~= '_' and type(v) == 'function' then names[#names + 1] = k end
  end
  table.sort(names)
  return names
end

local ops = {
  ['+'] = function(a, b) return a + b end, ['-'] = function(a, b) return a - b end,
  ['*'] = function(a, b) return a * b end, ['/'] = function(a, b) return a / b end,
  ['^'] = function(a, b) return a ^ b end, ['unm'] = function(a) return -a end,
  ['#'] = function(a) return #a end, ['tostring'] = function(a) return tostring(a) end,
  ['=='] = function(a, b) return a == b end, ['<'] = function(a, b) return a < b end,
  ['..'] = function(a, b) return a .. b end, ['()'] = function(a, b) return a(b) end,
  ['t.x'] = function(a, b) return a[b] end,
  ['t.x = v'] = function(a, b, c) a[b] = c end,
}
local keys = {
  function() return 'grad' end, function() return 'requiresGrad' end, function() return 'isLeaf' end,
  function() return 'gradFn' end, function() return 'bogus' end, function() return 'shape' end,
  function() return 1 end, function() return 2 end, function() return 0 end, function() return -1 end,
  function() return 1.5 end, function() return math.maxinteger end, function() return math.mininteger end,
  function() return 0 / 0 end, function() return true end, function() return {} end,
}

describe('fuzz of the Lua boundary', function()
  it('every llm function and llm.Tensor method survives random arguments', function()
    math.randomseed(SEED)
    llm.manualSeed(7)
    local before = stats.calls
    local threads = llm.getThreads and llm.getThreads()
    callAll(llm, 'llm.', publicNames(llm))
    callAll(llm.Tensor, 'llm.Tensor.', publicNames(llm.Tensor))
    if threads then llm.setThreads(threads) end   -- the fuzz may have changed global state
    llm.manualSeed(0)
    check(stats.calls - before >= 5000, 'only ' .. (stats.calls - before) .. ' calls')
    check(stats.ok > 0 and stats.failed > 0, 'expected both successes and failures')
  end)

  it('metatable paths (t.x, t.x = v, t[i], t[i] = v, operators) survive random operands', function()
    math.randomseed(SEED + 1)
    local names = {}
    for k in pairs(ops) do names[#names + 1] = k end
    table.sort(names)
    for i = 1, 1500 do
      if i % POOL_REFRESH == 0 then pool = makePool() end
      local name = names[math.random(#names)]
      local a = pool[math.random(#pool)]
      local b = (name == 't.x' or name == 't.x = v') and draw(keys) or draw(general)
      local c = draw(general)
      if math.random() < 0.3 and name ~= 't.x' and name ~= 't.x = v' then a, b = b, a end
      probe(string.format('%s with %s, %s, %s', name, fmt(a), fmt(b), fmt(c)), ops[name], a, b, c)
    end
  end)

  it('every count or size parameter survives huge, negative, NaN and infinite values (sandboxed child)', function()
    -- In a child under --max-memory 64M: a hostile count must be an error, never a crash, and nothing can
    -- allocate gigabytes even where a huge count is valid. The child names the call it was making.
    local here = debug.getinfo(1, 'S').source:match('^@(.*/)') or './'
    local h = dofile(here .. 'helpers.lua')
    local dir = os.tmpname()
    os.remove(dir)
    check(os.execute('mkdir -p ' .. h.shq(dir)), 'cannot create ' .. dir)
    local cmd = table.concat({h.shq(h.binary()), '--sandbox', '--max-memory', '64M', '--allow-write', h.shq(dir),
      h.shq(here .. 'fuzz_counts.lua'), h.shq(dir)}, ' ')
    local p = assert(io.popen(cmd .. ' 2>&1'))
    local out = p:read('a')
    local _, how, code = p:close()
    os.execute('rm -rf ' .. h.shq(dir))
    local last = nil
    for line in out:gmatch('CALL ([^\n]*)') do last = line end
    local calls = tonumber(out:match('DONE\t(%d+)'))
    check(how == 'exit' and code == 0 and calls, string.format('count fuzz died (%s %s) during %s:\n%s', how, code,
      tostring(last), out:sub(-2000)))
    check(calls >= 1000, 'only ' .. calls .. ' count calls')
  end)

  it('memory stays bounded after the fuzz', function()
    pool = makePool()
    collectgarbage(); collectgarbage()
    check(llm.memory() < 64 * 1024 * 1024, 'live bytes ' .. llm.memory())
    if os.getenv('LLM_FUZZ_VERBOSE') then
      print(string.format('fuzz: seed %d, %d calls, %d returned, %d raised', SEED, stats.calls, stats.ok, stats.failed))
    end
    if logFile then logFile:close(); logFile = nil end
  end)
end)

