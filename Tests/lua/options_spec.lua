-- options_spec.lua: the one options reader (LuaOptions) as every binding uses it — typed getters for
-- tensors, lists and pairs with `Invalid 'key': ...` wording, optimizer hyper-parameters typed in
-- LLMOptim (betas a pair, checked once), and raw reads: an options table whose metatable raises or
-- supplies values is read as the plain table it is (no metamethod runs inside a native call).
-- Run: llmscript test Tests/lua/options_spec.lua
local h = dofile(debug.getinfo(1, 'S').source:match('^@(.*/)') .. 'helpers.lua')

local trap = {__index = function() error('metamethod ran') end}

describe('options tables', function()
  it('a tensor option names the key and the type it got', function()
    local q = llm.randn(1, 1, 2, 4)
    h.fails(function() return llm.attention(q, q, q, {keyMask = 3}) end, "Invalid 'keyMask': expected an llm.Tensor, got 3")
    local out = llm.attention(q, q, q, {keyMask = llm.ones(1, 2)})
    assert.are.same({1, 1, 2, 4}, out:shape())
  end)

  it('list options name the bad element', function()
    h.fails(function() return optim.schedule.multiStep{lr = 1, milestones = {10, 'x'}} end,
      "Invalid 'milestones': element 2 is 'x', expected a list of integers")
    h.fails(function() return optim.schedule.multiStep{lr = 1, milestones = 5} end,
      "Invalid 'milestones': expected a list of integers, got 5")
    h.fails(function() return llm.text.maskTokens({1, 2, 3}, {protect = {1.5}}) end, "Invalid 'protect': element 1 is 1.5")
  end)

  it('betas is a typed pair: shape and values are checked once, in the optimizer schema', function()
    local p = llm.randn(2):requiresGrad_()
    h.fails(function() return optim.Adam({p}, {betas = {0.9}}) end, "Invalid 'betas': expected a table of 2 numbers, got a table of 1")
    h.fails(function() return optim.Adam({p}, {betas = 0.9}) end, "Invalid 'betas': expected a table of 2 numbers, got 0.9")
    h.fails(function() return optim.Adam({p}, {betas = {0.9, 1.5}}) end, "Invalid 'beta2': expected a number in [0, 1), got 1.5")
    h.fails(function() return optim.AdamW({{params = {p}, betas = {2, 0.9}}}) end, "group 1: Invalid 'beta1'")
    local opt = optim.Adam({p}, {betas = {0.8, 0.99}, amsgrad = true})
    assert.are.equal(0.8, opt:get('beta1'))
    assert.are.equal(0.99, opt:get('beta2'))
    assert.truthy(tostring(opt):find('betas=(0.8, 0.99)', 1, true))
    assert.truthy(tostring(opt):find('amsgrad=true', 1, true))
  end)

  it('reads options raw: metamethods of an options table never run inside a native call', function()
    local q = llm.randn(1, 1, 2, 4)
    assert.are.same({1, 1, 2, 4}, llm.attention(q, q, q, setmetatable({}, trap)):shape())
    local p = llm.randn(2):requiresGrad_()
    assert.truthy(optim.Adam({p}, setmetatable({lr = 0.1}, trap)))
    assert.truthy(optim.SGD({setmetatable({params = {p}}, trap)}, {lr = 0.1}))
    assert.truthy(optim.schedule.multiStep(setmetatable({lr = 1, milestones = setmetatable({3}, trap)}, trap)))
    local dir = h.tmpdir('options')
    local f = assert(io.open(dir .. '/in.jsonl', 'w')); f:write('{"text": "hello"}\n'); f:close()
    local spec = setmetatable({llm.data.readers.jsonl(dir .. '/in.jsonl'), function(d) return d end, quiet = true}, trap)
    local report = llm.data.pipeline(spec):run()
    assert.are.equal(1, report.read)
    assert.are.equal(1, report.kept)
    h.removeTmpdirs()
  end)
end)
