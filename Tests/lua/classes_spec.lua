-- classes_spec.lua: every class the host declares (LuaClass) — one instance of each, built as a user
-- would. Checks that the type name is the constructor path, that getmetatable gives only that name
-- (the real metatable, with __gc/__close/__index, is protected), that no metamethod or method
-- dereferences a value of another type (file handles, other classes, tables) — run in a child process
-- so a crash fails the spec instead of killing the suite — and that free() checks its receiver.
-- Run: llmscript test Tests/lua/classes_spec.lua
local h = dofile(debug.getinfo(1, 'S').source:match('^@(.*/)') .. 'helpers.lua')

-- Lua source that builds one instance of each class into the local `objs` (name -> value); shared by this
-- process and the child processes below.
local BUILD = [[
local dir = os.tmpname(); os.remove(dir); llm.makeDirs(dir)
local w = llm.data.ShardWriter(dir, {vocabSize = 50, valFraction = 0.25, shardTokens = 32, seed = 1})
for d = 1, 12 do
  local ids = {}
  for i = 1, 16 do ids[i] = (d + i) % 50 end
  w:add(llm.tensor(ids, {dtype = 'int64'}))
end
w:finish()
local tokens = llm.tensor({1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}, {dtype = 'int64'})
local p = llm.randn(3, 2):requiresGrad_()
local f = assert(io.open(dir .. '/in.jsonl', 'w')); f:write('{"text": "a"}\n'); f:close()
local reader = llm.data.readers.jsonl(dir .. '/in.jsonl')
local objs = {
  ['llm.Tensor'] = llm.zeros(2, 2),
  ['llm.Generator'] = llm.Generator(1),
  ['llm.data.CharTokenizer'] = llm.data.CharTokenizer('abc'),
  ['llm.data.ByteTokenizer'] = llm.data.ByteTokenizer(),
  ['llm.data.BPETokenizer'] = llm.data.BPETokenizer.train('aa bb aa bb cc aa', {vocabSize = 260, minFrequency = 1}),
  ['llm.data.Batcher'] = llm.data.Batcher(tokens, {batchSize = 2, blockSize = 3, seed = 1}),
  ['llm.data.EvalWindows'] = llm.data.evalWindows(tokens, 1, 3),
  ['llm.data.ShardWriter'] = llm.data.ShardWriter(dir .. '/w2', {vocabSize = 50}),
  ['llm.data.ShardLoader'] = llm.data.ShardLoader(dir, {batchSize = 1, blockSize = 4, prefetch = 0}),
  ['llm.data.Stage'] = llm.data.clean.Cleaner{},
  ['llm.data.Pipeline'] = llm.data.pipeline{reader, function(d) return d end},
  ['llm.data.Reader'] = reader,
  ['llm.data.Writer'] = llm.data.writers.jsonl(dir .. '/out.jsonl'),
  ['optim.Optimizer'] = optim.SGD({p}, {lr = 0.1}),
  ['optim.schedule.Schedule'] = optim.schedule.constant{lr = 1},
}
if llm.wordnet.available() then objs['llm.WordNet'] = llm.wordnet.open() end
]]
local RETURN = 'return objs'

local objs
local function build()
  if not objs then
    objs = assert(load(BUILD .. RETURN, 'build', 't'))()
  end
  return objs
end

describe('declared classes', function()
  it('each type name is the path of its constructor or class table', function()
    local function resolve(path)
      local v = _G
      for part in path:gmatch('[^.]+') do v = type(v) == 'table' and v[part] or nil end
      return v
    end
    for _, name in ipairs{'llm.Tensor', 'llm.Generator', 'llm.data.CharTokenizer', 'llm.data.ByteTokenizer',
                          'llm.data.BPETokenizer', 'llm.data.Batcher', 'llm.data.ShardWriter', 'llm.data.ShardLoader',
                          'optim.Optimizer', 'optim.schedule.Schedule'} do
      assert.is_truthy(build()[name], name)
      assert.is_not_nil(resolve(name), name .. ' is not reachable from the globals')
      assert.are.equal(name, (llm._methods(build()[name])))
    end
    assert.truthy(tostring(build()['llm.data.ShardWriter']):find('llm.data.ShardWriter', 1, true))
  end)

  it('getmetatable returns the type name, never the metatable; setmetatable is refused', function()
    for name, v in pairs(build()) do
      assert.are.equal(name, getmetatable(v))
      if type(v) == 'table' then
        assert.has_error(function() setmetatable(v, {}) end, 'cannot change a protected metatable')
      end
    end
  end)

  it('llm._methods gives the methods table of an object and nil for anything else', function()
    local name, methods = llm._methods(llm.zeros(1))
    assert.are.equal('llm.Tensor', name)
    assert.are.equal(llm.Tensor, methods)
    local _, cm = llm._methods(build()['llm.data.CharTokenizer'])
    assert.are.equal('function', type(cm.encode))
    assert.is_nil(llm._methods(io.stdout))
    assert.is_nil(llm._methods({}))
    assert.is_nil(llm._methods(setmetatable({}, {__name = 'llm.Tensor'})))
  end)

  it('free() checks its receiver and a freed object errors on use', function()
    local tok = llm.data.CharTokenizer('xyz')
    assert.has_error(function() tok.free(io.stdout) end)
    assert.has_error(function() tok.free(llm.zeros(1)) end)
    tok:free()
    local again, msg = pcall(tok.free, tok)   -- one free for every class: a second one is an error too
    assert.is_false(again)
    assert.truthy(tostring(msg):find('already freed', 1, true))
    local ok, err = pcall(tok.encode, tok, 'x')
    assert.is_false(ok)
    assert.truthy(tostring(err):find('already freed', 1, true))
  end)

  it('no metamethod or method of any class dereferences a value of another type (child process)', function()
    -- debug.getmetatable reaches the real metatables in a trusted state; call every function in them
    -- and in the methods tables with foreign values: file handles, other classes' objects, tables.
    local code = BUILD .. [[
local foreign = {io.stdout, io.stderr, {}, 1, 'x', true, print}
for _, v in pairs(objs) do foreign[#foreign + 1] = v end
local calls = 0
for name, v in pairs(objs) do
  local mt = debug.getmetatable(v)
  local fns = {}
  for k, f in pairs(mt) do if type(f) == 'function' and k ~= '__index' and k ~= '__newindex' then fns[#fns + 1] = f end end
  local _, methods = llm._methods(v)
  for _, f in pairs(methods or {}) do if type(f) == 'function' then fns[#fns + 1] = f end end
  for _, f in ipairs(fns) do
    for _, x in ipairs(foreign) do
      if rawequal(debug.getmetatable(x), mt) then goto skip end
      pcall(f, x); pcall(f, x, x); calls = calls + 1
      ::skip::
    end
  end
end
collectgarbage(); collectgarbage()
io.write('calls ', calls, '\n')
]]
    local status, out, err = h.runCode(code)
    assert.are.equal(0, status, 'child failed: ' .. err)
    assert.truthy(tonumber(out:match('calls (%d+)')) > 500)
  end)

  it('a finalizer installed through debug.setmetatable on a bridged type cannot be reached from Lua', function()
    for _, v in pairs(build()) do
      assert.has_error(function() getmetatable(v).__gc = print end)
    end
  end)
end)
