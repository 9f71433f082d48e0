-- attention_variants_spec.lua: llm.attention's position/mask options and grouped-query heads, llm.rope and
-- llm.swiglu / llm.geglu against PyTorch (Tests/Fixtures/attention_variants.lua, written by
-- scripts/reference/make_attention_fixtures.py: float64 reference on float32 inputs), outputs and the
-- gradients of sum(out·upstream) within 1e-5 (absolute + relative); plus the option errors.
-- Run: llmscript test Tests/lua/attention_variants_spec.lua

local FIXTURES = (debug.getinfo(1, 'S').source:match('^@(.*[/\\])') or './') .. '../Fixtures/attention_variants.lua'
local TOL = 1e-5

local function T(spec, requiresGrad)
  local t = llm.tensor(spec.data, {dtype = spec.dtype}):reshape(table.unpack(spec.shape))
  if requiresGrad then t:requiresGrad_() end
  return t
end

local function compare(name, what, got, want)
  assert(llm.isTensor(got), name .. ' ' .. what .. ': no tensor')
  assert.are.same(want.shape, got:shape(), name .. ' ' .. what .. ': shape')
  local g = got:contiguous():reshape(-1):totable()
  for i = 1, #want.data do
    local w = want.data[i]
    local err = math.abs(g[i] - w)
    assert(err <= TOL + TOL * math.abs(w),
      string.format('%s %s element %d: got %.9g, expected %.9g', name, what, i, g[i], w))
  end
end

local function errorOf(f)
  local ok, err = pcall(f)
  assert.is_false(ok, 'expected an error')
  return tostring(err)
end

local TENSOR_OPTIONS = {'positions', 'keyPositions', 'keyMask', 'segments', 'querySegments'}

describe('attention variants against PyTorch', function()
  local fx = dofile(FIXTURES)

  local function run(name)
    local c = fx.cases[name]
    local inputs = {}
    for k, spec in pairs(c.inputs) do inputs[k] = T(spec, c.grads[k] ~= nil) end
    local opts = {}
    for k, v in pairs(c.opts) do opts[k] = v end
    local out
    if c.kind == 'attention' then
      for _, k in ipairs(TENSOR_OPTIONS) do opts[k] = inputs[k] end
      out = llm.attention(inputs.q, inputs.k, inputs.v, opts)
    elseif c.kind == 'rope' then
      opts.positions = inputs.positions
      out = llm.rope(inputs.x, opts)
    else
      out = llm[c.kind](inputs.x)
    end
    compare(name, 'output', out, c.out)
    ;(out * T(c.upstream)):sum():backward()
    for k, want in pairs(c.grads) do compare(name, 'grad ' .. k, inputs[k].grad, want) end
  end

  for _, name in ipairs{'gqa', 'mqa', 'window', 'alibi', 'segments', 'positions', 'maskedRow',
                        'rope', 'ropeLinear', 'ropeNtk', 'ropeOffset', 'swiglu', 'geglu'} do
    it(name, function() run(name) end)
  end

  it('covers every fixture case', function()
    local n = 0
    for _ in pairs(fx.cases) do n = n + 1 end
    assert.are.equal(13, n)
  end)
end)

describe('attention options', function()
  local q, kv = llm.randn(1, 4, 3, 2), llm.randn(1, 2, 3, 2)

  it('a fully masked query row is 0, not NaN', function()
    local out = llm.attention(q, kv, kv, {keyMask = llm.zeros(1, 3)})
    assert.are.equal(0, out:abs():sum():item())
  end)

  it('custom ALiBi slopes equal the standard ones when they are the same numbers', function()
    local a = llm.attention(q, kv, kv, {causal = true, alibi = true})
    local b = llm.attention(q, kv, kv, {causal = true, alibi = llm.tensor{0.25, 0.0625, 0.015625, 0.00390625}})
    assert.is_true((a - b):abs():max():item() < 1e-7)
  end)

  it('rejects bad options with the option name', function()
    assert.truthy(errorOf(function() llm.attention(q, kv, kv, {window = 0}) end):find("Invalid 'window'", 1, true))
    assert.truthy(errorOf(function() llm.attention(q, kv, kv, {alibi = 'yes'}) end):find("Invalid 'alibi'", 1, true))
    assert.truthy(errorOf(function() llm.attention(q, kv, kv, {alibi = llm.ones(3)}) end):find('alibi slopes', 1, true))
    assert.truthy(errorOf(function() llm.attention(q, kv, kv, {positions = llm.zeros(2, 3)}) end):find('positions', 1, true))
    assert.truthy(errorOf(function() llm.attention(q, kv, kv, {positions = llm.tensor{{0.5, 1, 2}}}) end)
      :find("Invalid 'positions'", 1, true))
    assert.truthy(errorOf(function() llm.attention(llm.randn(1, 3, 3, 2), kv, kv) end):find('multiple of Hkv', 1, true))
    assert.truthy(errorOf(function() llm.attention(q, kv, kv, {windw = 2}) end):find("unknown option 'windw'", 1, true))
  end)

  it('rope, swiglu and geglu reject bad input', function()
    local x = llm.randn(1, 1, 3, 4)
    assert.truthy(errorOf(function() llm.rope(x, {scaling = {type = 'yarn', factor = 2}}) end):find("Invalid 'type'", 1, true))
    assert.truthy(errorOf(function() llm.rope(x, {scaling = {type = 'linear'}}) end):find("Invalid 'factor'", 1, true))
    assert.truthy(errorOf(function() llm.rope(x, {base = -1}) end):find("Invalid 'base'", 1, true))
    assert.truthy(errorOf(function() llm.rope(x, {offset = 1, positions = llm.tensor({0, 1, 2}, {dtype = 'int64'})}) end)
      :find("Invalid 'offset'", 1, true))
    assert.truthy(errorOf(function() llm.rope(llm.randn(1, 1, 3, 5)) end):find('even headDim', 1, true))
    assert.truthy(errorOf(function() llm.swiglu(llm.randn(2, 3)) end):find('even size', 1, true))
    assert.truthy(errorOf(function() llm.geglu(llm.randn(2, 3)) end):find('even size', 1, true))
  end)
end)
