-- sandbox_memory_spec.lua: `--max-memory` holds for every allocation-heavy binding. Each case runs in its
-- own child process (`llmscript --sandbox --max-memory 64M`), asks for far more than the limit through one
-- binding, and must get a clear memory-limit error while the child's peak RSS (llm.peakMemory, getrusage)
-- stays within LIMIT + MARGIN of an idle child's peak. Also: the budget is per state (a luaStep pipeline's
-- worker states draw from the caller's remaining budget, and their teardown leaves the limit in place),
-- and size/count arguments are checked before anything is allocated.
-- Run: llmscript test Tests/lua/sandbox_memory_spec.lua
local h = dofile((debug.getinfo(1, 'S').source:match('^@(.*/)') or './') .. 'helpers.lua')

local LIMIT = 64 * 1024 * 1024
-- Documented in SECURITY.md ("Memory limit"): peak RSS above the idle process stays under LIMIT + MARGIN.
local MARGIN = 16 * 1024 * 1024
local FLAGS = {'--sandbox', '--max-memory', '64M'}

-- Runs `code` in a sandboxed child; it prints "RESULT <ok> <message>" and "PEAK <bytes>". Returns ok
-- (boolean), the message, the peak, and the child's stderr.
local function child(code, extra)
  local wrapped = 'local ok, err = pcall(function() ' .. code .. ' end)\n'
    .. 'collectgarbage()\n'
    .. "print('RESULT', ok, (tostring(err):gsub('%s', ' ')))\n"
    .. "print('PEAK', llm.peakMemory())\n"
  local flags = {table.unpack(FLAGS)}
  for _, f in ipairs(extra or {}) do flags[#flags + 1] = f end
  local status, out, err = h.runCode(wrapped, flags)
  local ok, msg = out:match('RESULT\t(%a+)\t([^\n]*)')
  local peak = tonumber(out:match('PEAK\t(%d+)'))
  assert(status == 0 and peak, 'child failed (status ' .. tostring(status) .. '): ' .. out .. err)
  return ok == 'true', msg, peak, err
end

local baseline
local function idle()
  if not baseline then
    local _, _, peak = child('return 1')
    baseline = peak
  end
  return baseline
end

-- The case fails with the memory-limit error and the peak stays within the limit plus the margin.
local function refused(code, fragment, extra)
  local ok, msg, peak = child(code, extra)
  assert(not ok, 'expected a memory-limit error, the call succeeded (peak ' .. peak .. ')')
  assert(msg:find(fragment or 'memory limit of ' .. LIMIT .. ' bytes exceeded', 1, true), 'unexpected message: ' .. msg)
  local grown = peak - idle()
  assert(grown <= LIMIT + MARGIN, string.format('peak RSS grew by %.1f MB over the idle %.1f MB (limit %d MB + margin %d MB)',
    grown / 2^20, idle() / 2^20, LIMIT // 2^20, MARGIN // 2^20))
  if os.getenv('LLM_MEMORY_VERBOSE') then print(string.format('  %-60s +%.1f MB', code:sub(1, 60), grown / 2^20)) end
  return msg
end

describe('--max-memory 64M holds on every allocation-heavy binding', function()
  it('llm.json.decode checks the size of the result (and its parse tree) before building it', function()
    refused("llm.json.decode('[' .. string.rep('1,', 3e6) .. '1]')")
    refused([[llm.json.decode('[' .. string.rep('{"key":"some text here"},', 4e5) .. '1]')]])
  end)

  it('llm.json.decode of a fitting text still works under the limit', function()
    local ok, msg = child("assert(#llm.json.decode('[' .. string.rep('1,', 1e5) .. '1]') == 100001)")
    assert(ok, msg)
  end)

  it('llm.json.encode counts its Swift tree and text', function()
    refused('local t = {} for i = 1, 1e6 do t[i] = i end llm.json.encode(t)')
  end)

  it('t:totable() checks the tables it will build', function()
    refused('llm.zeros(4e6):totable()')
  end)

  it('text splitting checks the pieces before splitting', function()
    refused("llm.text.chars(string.rep('a', 4e6))")
    refused("llm.text.words(string.rep('ab ', 3e6))")
    refused("llm.text.tokenize(string.rep('ab ', 2e6))")
  end)

  it('string transforms and filters hold their Swift copies against the budget', function()
    refused("llm.data.filters.words(string.rep('ab ', 4e6))")
    refused("llm.data.pii.scrub(string.rep('a@b.com x ', 2e6))")
    refused("llm.data.clean.squashPunctuation(string.rep('Hello,   World!!! ', 1e6))")
    refused("llm.data.dedup.hash(string.rep('x', 30e6))")
  end)

  it('a pipeline stops collecting kept documents at the limit', function()
    refused("local s = string.rep('ab ', 2e6) local docs = {} for i = 1, 4 do docs[i] = s .. i end s = nil "
      .. "llm.data.pipeline{llm.data.readers.list(docs), quiet = true}:run()")
    refused("local docs = {} for i = 1, 3e5 do docs[i] = 'doc ' .. i end llm.data.pipeline{llm.data.readers.list(docs), "
      .. 'llm.data.dedup.Exact{}, llm.data.dedup.MinHash{}, quiet = true}:run()')
  end)

  it('tokenizers, corpus reading and shard writing count their buffers', function()
    refused("llm.data.ByteTokenizer():decode(llm.zeros(8e6, {dtype = 'int64'}))")
    refused("local t = llm.data.ByteTokenizer():encode(string.rep('abc ', 4e6))")
    local dir = h.tmpdir('sandbox_memory_files')
    local f = assert(io.open(dir .. '/big.txt', 'w'))
    local line = string.rep('abcdefghij', 10) .. '\n'
    for _ = 1, 3e5 do f:write(line) end   -- 30 MB: more than a third of the budget
    f:close()
    refused(string.format('llm.data.readText(%q)', dir .. '/big.txt'), nil, {'--allow-read', dir})
    refused(string.format("local w = llm.data.ShardWriter(%q, {vocabSize = 1000}) local t = llm.zeros(1e6, {dtype = 'int32'}) "
      .. 'for i = 1, 40 do w:add(t) end w:finish()', dir .. '/shards'), nil, {'--allow-write', dir})
  end)

  it('schedule values check the table they build', function()
    refused('optim.schedule.values(optim.schedule.constant{lr = 0.1}, 2^24)')
  end)

  it('llm.text.sample checks the result size; a small sample of a huge range needs no huge pool', function()
    refused('llm.text.sample(1e8, 1e7)')
    local ok, msg = child('local s = llm.text.sample(2^40, 5); assert(#s == 5)')
    assert(ok, msg)
  end)

  it('llm.text.maskTokens checks its buffers', function()
    refused('llm.text.maskTokens(llm.zeros(6e6), {rate = 0.5, maskId = 1})')
  end)

  it('filling the budget with tensors, tables or strings stops at the limit', function()
    refused('local ts = {} for i = 1, 1000 do ts[i] = llm.zeros(1e6) end')
    refused('local t = {} for i = 1, 1e8 do t[i] = i end')
    refused("local t = {} for i = 1, 1e5 do t[i] = string.rep('x', 1e5) .. i end")
    refused('local t = {} for i = 1, 1e7 do t[i] = {i} end')
  end)

  it('tensor storages count against the same budget as the Lua heap', function()
    refused('llm.zeros(3e7)')
    refused("local s = string.rep('x', 40e6); local t = llm.zeros(8e6)")
  end)
end)

describe('the memory budget is per state', function()
  local dir = h.tmpdir('sandbox_memory')
  local function file(name, text) local f = assert(io.open(dir .. '/' .. name, 'w')); f:write(text); f:close() end
  file('memstep.lua', [[
local M = {}
function M.grow(doc)   -- a worker that builds a 32 MB table
  local t = {}
  for i = 1, 2e6 do t[i] = i end
  return doc
end
function M.same(doc) return doc end
return M
]])

  local function script(body)
    file('main.lua', 'local ok, err = pcall(function() ' .. body .. ' end)\n'
      .. "print('RESULT', ok, (tostring(err):gsub('%s', ' ')))\n")
    local parts = {h.shq(h.binary())}
    for _, f in ipairs(FLAGS) do parts[#parts + 1] = h.shq(f) end
    parts[#parts + 1] = h.shq(dir .. '/main.lua')
    local p = assert(io.popen(table.concat(parts, ' ') .. ' 2>&1'))
    local out = p:read('a')
    p:close()
    local ok, msg = out:match('RESULT\t(%a+)\t([^\n]*)')
    assert(ok, 'no result: ' .. out)
    return ok == 'true', msg
  end

  it("a luaStep pipeline's teardown leaves the caller's limit in place", function()
    local ok, msg = script([[
      local step = llm.data.luaStep{module = 'memstep', fn = 'same'}
      llm.data.pipeline{llm.data.readers.list{'a', 'b', 'c'}, step, threads = 2, quiet = true}:run()
      step = nil
      collectgarbage(); collectgarbage()
      local t = llm.zeros(3e7)   -- 120 MB: must still be refused
    ]])
    assert(not ok, 'the limit was gone after the pipeline')
    assert(msg:find('memory limit of ' .. LIMIT .. ' bytes exceeded', 1, true), msg)
  end)

  it("worker states draw from the caller's remaining budget", function()
    local ok, msg = script([[
      local hold = string.rep('x', 40e6)   -- 40 MB held by the caller
      llm.data.pipeline{llm.data.readers.list{'a'}, llm.data.luaStep{module = 'memstep', fn = 'grow'}, threads = 1, quiet = true}:run()
    ]])
    assert(not ok, 'a worker allocated past what the caller had left')
    assert(msg:find('memory limit', 1, true), msg)
    local ok2, msg2 = script([[
      llm.data.pipeline{llm.data.readers.list{'a'}, llm.data.luaStep{module = 'memstep', fn = 'grow'}, threads = 1, quiet = true}:run()
    ]])
    assert(ok2, msg2)
  end)

  teardown(function() h.removeTmpdirs() end)
end)
