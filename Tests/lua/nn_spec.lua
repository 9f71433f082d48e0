-- nn_spec.lua: the `nn` namespace from Lua: the Module API (paths, tied weights, children, modes,
-- zeroGrad, state dicts and their errors, numParameters, printing), modules defined in Lua, error paths
-- inside containers, every layer and loss against PyTorch (Tests/Fixtures/nn_layers.lua, written by
-- scripts/reference/make_nn_fixtures.py), nn.init statistics, dropout modes and bad input.
-- Run: llmscript --no-strict /usr/bin/busted Tests/lua/nn_spec.lua   (from the repository root)
-- Set NN_REPORT=1 to print the largest deviation from PyTorch per fixture case.
--
-- Tolerance against PyTorch: |got − want| ≤ 1e-6 + 1e-5·|want| per element (numpy allclose form). The
-- reference is float64 on float32 inputs; PyTorch's own float32 run lies within 2.1e-6 absolute of it
-- (largest: bce with reduction 'none', gradients of magnitude ~50), always inside this tolerance.

-- the fixture lives in Tests/Fixtures, next to this file's directory (works from any working directory)
local FIXTURES = (debug.getinfo(1, 'S').source:match('^@(.*[/\\])') or './') .. '../Fixtures/nn_layers.lua'
local RTOL, ATOL = 1e-5, 1e-6

local function errorOf(f, ...)
  local ok, err = pcall(f, ...)
  assert.is_false(ok, 'expected an error')
  return tostring(err)
end

local function contains(haystack, needle)
  assert(haystack:find(needle, 1, true), string.format('expected %q in %q', needle, haystack))
end

-- fixture tensor {shape, data, dtype} -> llm.Tensor
local function T(spec, requiresGrad)
  local t
  if #spec.shape == 0 then
    t = llm.tensor(spec.data[1], {dtype = spec.dtype})
  else
    t = llm.tensor(spec.data, {dtype = spec.dtype}):reshape(table.unpack(spec.shape))
  end
  if requiresGrad then t:requiresGrad_() end
  return t
end

local deviations = {}   -- case -> {abs = max |got − want|, ratio = max |got − want| / tolerance}

local function flatten(t)
  local v = t:contiguous():reshape(-1):totable()
  if type(v) ~= 'table' then v = {v} end
  return v
end

-- Compares tensor got with the fixture tensor want; records the deviation under caseName.
local function compare(caseName, what, got, want)
  assert(llm.isTensor(got), string.format('%s %s: no tensor (got %s)', caseName, what, tostring(got)))
  assert.are.same(want.shape, got:shape(), string.format('%s %s: shape', caseName, what))
  local g = flatten(got)
  assert.are.equal(#want.data, #g)
  local d = deviations[caseName] or {abs = 0, ratio = 0}
  deviations[caseName] = d
  for i = 1, #g do
    local w = want.data[i]
    local err = math.abs(g[i] - w)
    local tol = ATOL + RTOL * math.abs(w)
    d.abs = math.max(d.abs, err)
    d.ratio = math.max(d.ratio, err / tol)
    if not (err <= tol) then
      error(string.format('%s %s: element %d is %.9g, PyTorch gives %.9g (|diff| %.3g > tol %.3g)',
        caseName, what, i, g[i], w, err, tol), 2)
    end
  end
end

local function gpt(extra)
  local cfg = {vocab = 13, blockSize = 8, layers = 2, heads = 2, dim = 16}
  for k, v in pairs(extra or {}) do cfg[k] = v end
  return nn.GPT(cfg)
end

local function keys(t)
  local out = {}
  for k in pairs(t) do out[#out + 1] = k end
  table.sort(out)
  return out
end

describe('nn.Module API', function()
  it('names parameters with dotted, 0-based paths in assignment order', function()
    local seq = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1, {bias = false}))
    assert.are.same({'0.weight', '0.bias', '2.weight'}, seq:parameterNames())
    assert.are.same({'0.bias', '0.weight', '2.weight'}, keys(seq:namedParameters()))
    assert.are.equal(seq[1].weight, seq:namedParameters()['0.weight'])

    local m = gpt()
    local names = m:parameterNames()
    assert.are.equal('tokEmb.weight', names[1])
    assert.are.equal('posEmb.weight', names[2])
    assert.are.equal('blocks.0.ln1.weight', names[3])
    local np = m:namedParameters()
    for _, path in ipairs{'blocks.0.attn.qkv.weight', 'blocks.0.attn.qkv.bias', 'blocks.1.attn.proj.weight',
                          'blocks.1.mlp.fc.bias', 'blocks.1.ln2.bias', 'lnF.weight', 'lnF.bias'} do
      assert.is_true(llm.isTensor(np[path]), path)
    end
    assert.are.equal(m.blocks[2].mlp.fc.bias, np['blocks.1.mlp.fc.bias'])
  end)

  it('parameters() and namedParameters() list a tied weight once; stateDict lists it under each path', function()
    local m = gpt()
    assert.are.equal(m.tokEmb.weight, m.head.weight)
    assert.is_nil(m:namedParameters()['head.weight'])
    local sd = m:stateDict()
    assert.are.equal(sd['tokEmb.weight'], sd['head.weight'])
    local n = 0
    for _ in pairs(m:namedParameters()) do n = n + 1 end
    assert.are.equal(n, #m:parameters())
    assert.are.equal(#keys(sd), n + 1)
    local untied = gpt{tieWeights = false}
    assert.are_not.equal(untied.tokEmb.weight, untied.head.weight)
    assert.are.equal(#m:parameters() + 1, #untied:parameters())
  end)

  it('counts parameters (tied weights once)', function()
    local v, t, d, L = 13, 8, 16, 2
    local perBlock = 2 * d + (d * 3 * d + 3 * d) + (d * d + d) + 2 * d + (d * 4 * d + 4 * d) + (4 * d * d + d)
    local expected = v * d + t * d + L * perBlock + 2 * d
    assert.are.equal(expected, gpt():numParameters())
    assert.are.equal(expected + v * d, gpt{tieWeights = false}:numParameters())
    assert.are.equal(4 * 5 + 5, nn.Linear(4, 5):numParameters())
  end)

  it('lists children in order', function()
    local m = gpt()
    local kids = m:children()
    assert.are.equal(5, #kids)
    assert.are.equal(m.tokEmb, kids[1]); assert.are.equal(m.posEmb, kids[2]); assert.are.equal(m.blocks, kids[3])
    assert.are.equal(m.lnF, kids[4]); assert.are.equal(m.head, kids[5])
    local named = m.blocks[1]:namedChildren()
    assert.are.same({'ln1', 'attn', 'ln2', 'mlp'}, {named[1][1], named[2][1], named[3][1], named[4][1]})
    assert.are.equal(2, #m.blocks)
    assert.are.equal('0', m.blocks:namedChildren()[1][1])
  end)

  it('propagates train() and eval() to every descendant', function()
    local m = gpt()
    assert.is_true(m.training)
    m:eval()
    assert.is_false(m.training); assert.is_false(m.blocks[2].attn.qkv.training); assert.is_false(m.lnF.training)
    m:train()
    assert.is_true(m.blocks[2].attn.qkv.training); assert.is_true(m.blocks[1].mlp.training)
    m:train(false)
    assert.is_false(m.blocks[1].mlp.fc.training)
  end)

  it('zeroGrad clears every gradient', function()
    local m = gpt()
    local idx = llm.tensor({{1, 2, 3, 4}}, {dtype = 'int64'})
    local _, loss = m(idx, llm.tensor({{2, 3, 4, 5}}, {dtype = 'int64'}))
    loss:backward()
    for path, p in pairs(m:namedParameters()) do assert.is_true(llm.isTensor(p.grad), path) end
    m:zeroGrad()
    for path, p in pairs(m:namedParameters()) do assert.is_nil(p.grad, path) end
  end)

  it('stateDict / loadStateDict round-trips, copying values (no aliasing)', function()
    llm.manualSeed(1)
    local a = gpt()
    llm.manualSeed(2)
    local b = gpt()
    local idx = llm.tensor({{0, 5, 12, 3}}, {dtype = 'int64'})
    local ya, yb = a(idx), b(idx)
    assert.is_true((ya - yb):abs():max():item() > 1e-3)
    local missing, unexpected = b:loadStateDict(a:stateDict())
    assert.are.same({}, missing); assert.are.same({}, unexpected)
    assert.are.equal(0, (a(idx) - b(idx)):abs():max():item())
    assert.are.equal(b.tokEmb.weight, b.head.weight)   -- still tied after loading
    assert.are_not.equal(a.lnF.weight, b.lnF.weight)
    llm.noGrad(function() a.lnF.weight:fill_(3) end)
    assert.are.equal(1, b.lnF.weight:max():item())
  end)

  it('strict loading names missing and unexpected keys; shape errors give both shapes', function()
    local m = gpt()
    local sd = {}
    for k, v in pairs(m:stateDict()) do sd[k] = v end
    sd['lnF.bias'] = nil
    sd['blocks.0.attn.qkv.bias'] = nil
    sd['extra.weight'] = llm.zeros(2)
    local err = errorOf(function() m:loadStateDict(sd) end)
    contains(err, 'missing keys: blocks.0.attn.qkv.bias, lnF.bias')
    contains(err, 'unexpected keys: extra.weight')
    local missing, unexpected = m:loadStateDict(sd, {strict = false})
    assert.are.same({'blocks.0.attn.qkv.bias', 'lnF.bias'}, missing)
    assert.are.same({'extra.weight'}, unexpected)

    local sd2 = {}
    for k, v in pairs(m:stateDict()) do sd2[k] = v end
    sd2['blocks.1.mlp.fc.weight'] = llm.zeros(16, 64)
    err = errorOf(function() m:loadStateDict(sd2) end)
    contains(err, "'blocks.1.mlp.fc.weight' has shape [16, 64] in the state dict but [64, 16] in the model")
    contains(errorOf(function() m:loadStateDict(sd2, {strict = false}) end), '[16, 64]')
    contains(errorOf(function() m:loadStateDict(m:stateDict(), {strick = true}) end), "unknown option 'strick'")
    contains(errorOf(function() m:loadStateDict('weights.safetensors') end), 'table expected, got string')
    sd2['blocks.1.mlp.fc.weight'] = 5
    contains(errorOf(function() m:loadStateDict(sd2) end), "'blocks.1.mlp.fc.weight' is a number")
  end)

  it('prints the tree with classes, options, shapes and the parameter count', function()
    local s = tostring(gpt())
    contains(s, 'nn.GPT(vocab=13, blockSize=8, layers=2, heads=2, dim=16')
    contains(s, '(blocks): nn.ModuleList(')
    contains(s, '(1): nn.Block(')
    contains(s, '(attn): nn.CausalSelfAttention(dim=16, heads=2')
    contains(s, '(qkv): nn.Linear(16 -> 48; weight=[48, 16] bias=[48])')
    contains(s, '(head): nn.Linear(16 -> 13, bias=false; weight=[13, 16])')
    contains(s, '-- 6928 parameters')
    contains(tostring(nn.GELU({approximate = 'tanh'})), "nn.GELU(approximate='tanh')")
    contains(tostring(nn.Dropout(0.25)), 'nn.Dropout(p=0.25)')
  end)
end)

describe('modules defined in Lua', function()
  local TwoLayer = nn.Module:extend('TwoLayer')
  function TwoLayer:init(nIn, hidden, nOut)
    self.fc1 = nn.Linear(nIn, hidden)
    self.fc2 = nn.Linear(hidden, nOut)
    self.scale = llm.ones(nOut, {requiresGrad = true})
  end
  function TwoLayer:forward(x) return self.fc2(self.fc1(x):tanh()) * self.scale end

  it('appear in namedParameters, also inside containers', function()
    local m = TwoLayer(3, 8, 1)
    -- a module's own tensors come before its children's, as in PyTorch's named_parameters()
    assert.are.same({'scale', 'fc1.weight', 'fc1.bias', 'fc2.weight', 'fc2.bias'}, m:parameterNames())
    local seq = nn.Sequential(nn.Linear(3, 3), TwoLayer(3, 4, 1))
    assert.are.equal(seq[2].scale, seq:namedParameters()['1.scale'])
    assert.are.equal(seq[2].fc2.weight, seq:namedParameters()['1.fc2.weight'])
    contains(tostring(seq), '(1): TwoLayer(')
    assert.are.equal('class TwoLayer', tostring(TwoLayer))
  end)

  it('train with autograd: plain SGD in Lua lowers the loss over 50 steps', function()
    llm.manualSeed(3)
    local m = TwoLayer(3, 16, 1)
    local x = llm.randn(64, 3)
    local y = (x:narrow(2, 1, 1) * 2 - x:narrow(2, 2, 1) + x:narrow(2, 3, 1) * 0.5):tanh()
    local lr = 0.1
    local losses = {}
    for step = 1, 50 do
      local loss = nn.mse(m(x), y)
      losses[step] = loss:item()
      m:zeroGrad()
      loss:backward()
      llm.noGrad(function()
        for _, p in ipairs(m:parameters()) do p:add_(p.grad * -lr) end
      end)
    end
    assert(losses[50] < 0.5 * losses[1], string.format('loss %.4f -> %.4f', losses[1], losses[50]))
    for i = 2, 50 do assert(losses[i] <= losses[i - 1] + 1e-6, 'loss went up at step ' .. i) end
  end)

  it('a missing forward is a clear error', function()
    local Empty = nn.Module:extend('Empty')
    contains(errorOf(function() return Empty()(llm.zeros(1)) end), 'Empty: forward is not implemented')
    contains(errorOf(nn.Module.extend, nn.Module, 5), "bad argument #1 to 'extend' (string expected, got number)")
  end)
end)

describe('errors inside containers', function()
  it('carry the module path and class', function()
    local m = gpt()
    assert.are.equal('in blocks.0.attn (nn.CausalSelfAttention): expected input of shape [batch, time, 16], got [1, 4, 7]',
      errorOf(function() return m.blocks[1].attn(llm.randn(1, 4, 7)) end))
    local err = errorOf(function() return m.blocks[2](llm.randn(1, 4, 7)) end)
    contains(err, 'in blocks.1.ln1 (nn.LayerNorm): ')
    contains(err, 'layerNorm: weight has shape [16], expected [7]')
    contains(errorOf(function() return m(llm.tensor({{1, 2, 13}}, {dtype = 'int64'})) end), 'in tokEmb (nn.Embedding): ')
    local seq = nn.Sequential(nn.Linear(4, 4), nn.Sequential(nn.ReLU(), nn.Linear(3, 2)))
    contains(errorOf(function() return seq(llm.randn(2, 4)) end), 'in 1.1 (nn.Linear): ')
    -- the innermost path wins; the message is not prefixed twice
    assert.is_nil(errorOf(function() return seq(llm.randn(2, 4)) end):find('in 1 (', 1, true))
  end)
end)

describe('layers and losses against PyTorch', function()
  local fx = dofile(FIXTURES)
  local cases = fx.cases

  teardown(function()
    if os.getenv('NN_REPORT') then
      print(string.format('\nnn_layers.lua (torch %s): max |got - want| and max |diff|/tol per case', fx.meta.torch))
      for _, name in ipairs(keys(deviations)) do
        print(string.format('  %-20s abs %.3g  ratio %.3f  (torch f32 vs f64: %.3g)', name, deviations[name].abs,
          deviations[name].ratio, fx.f32[name] or 0))
      end
    end
  end)

  -- builds the layer of a fixture case
  local builders = {
    Linear = function(c) return nn.Linear(c.inFeatures, c.outFeatures, {bias = c.bias}) end,
    Embedding = function(c) return nn.Embedding(c.num, c.dim) end,
    LayerNorm = function(c) return nn.LayerNorm(c.dim, {eps = c.eps}) end,
    RMSNorm = function(c) return nn.RMSNorm(c.dim, {eps = c.eps}) end,
    GELU = function(c) return nn.GELU({approximate = c.approximate}) end,
    ReLU = function() return nn.ReLU() end,
    SiLU = function() return nn.SiLU() end,
    Tanh = function() return nn.Tanh() end,
    CausalSelfAttention = function(c) return nn.CausalSelfAttention(c.dim, c.heads) end,
    MLP = function(c) return nn.MLP(c.dim, {activation = c.activation}) end,
    Block = function(c) return nn.Block(c.dim, c.heads) end,
  }

  local function checkLayer(name)
    local c = cases[name]
    local m = builders[c.kind](c.config or {})
    if c.params then
      local sd = {}
      for path, spec in pairs(c.params) do sd[path] = T(spec) end
      m:loadStateDict(sd)   -- strict: the fixture names exactly our parameters
    end
    local inputs = {}
    for k, spec in pairs(c.inputs) do inputs[k] = T(spec, c.grads[k] ~= nil) end
    local x = inputs.x or inputs.ids
    local out = inputs.keyMask and m(x, {keyMask = inputs.keyMask}) or m(x)
    compare(name, 'output', out, c.out)
    ;(out * T(c.upstream)):sum():backward()
    local np = m:namedParameters()
    for k, want in pairs(c.grads) do
      local t = inputs[k] or np[k]
      assert(t, name .. ': nothing named ' .. k)
      compare(name, 'grad ' .. k, t.grad, want)
    end
    for path in pairs(np) do assert(c.grads[path], name .. ': fixture has no gradient for ' .. path) end
  end

  for _, name in ipairs{'linear', 'linearNoBias', 'embedding', 'layerNorm', 'rmsNorm', 'gelu', 'geluTanh', 'relu',
                        'silu', 'tanh', 'attention', 'attentionKeyMask', 'mlp', 'block'} do
    it(name .. ': forward and gradients', function() checkLayer(name) end)
  end

  local lossFns = {
    crossEntropy = function(i, o) return nn.crossEntropy(i.logits, i.targets, o) end,
    mse = function(i, o) return nn.mse(i.input, i.target, o) end,
    klDiv = function(i, o) return nn.klDiv(i.student, i.teacher, o) end,
    bce = function(i, o) return nn.bce(i.input, i.target, o) end,
    bceWithLogits = function(i, o) return nn.bceWithLogits(i.input, i.target, o) end,
  }

  local lossNames = {}
  for name, c in pairs(cases) do if lossFns[c.kind] then lossNames[#lossNames + 1] = name end end
  table.sort(lossNames)
  assert(#lossNames >= 18, 'loss cases missing from the fixture')

  for _, name in ipairs(lossNames) do
    it(name .. ': loss value and gradients', function()
      local c = cases[name]
      local inputs = {}
      for k, spec in pairs(c.inputs) do inputs[k] = T(spec, spec.dtype == nil) end   -- teacher too: must stay gradient-free
      local out = lossFns[c.kind](inputs, c.config)
      compare(name, 'loss', out, c.out)
      if c.upstream then (out * T(c.upstream)):sum():backward() else out:backward() end
      for k, want in pairs(c.grads) do compare(name, 'grad ' .. k, inputs[k].grad, want) end
      if c.kind == 'klDiv' then assert.is_nil(inputs.teacher.grad) end   -- the teacher is detached
    end)
  end
end)

describe('nn.init', function()
  local function stats(t)
    local mean = t:mean():item()
    local d = t - mean
    return mean, math.sqrt((d * d):mean():item()), t:abs():max():item(), t:min():item(), t:max():item()
  end

  it('calculateGain matches torch.nn.init.calculate_gain', function()
    -- torch: linear 1, relu sqrt(2), tanh 5/3, leaky_relu(0.2) sqrt(2/(1+0.2^2)), selu 3/4, sigmoid 1
    local g = nn.init.calculateGain
    assert.are.equal(1, g('linear')); assert.are.equal(1, g('sigmoid'))
    assert.are.equal(math.sqrt(2), g('relu'))
    assert.are.equal(5 / 3, g('tanh'))
    assert.is_true(math.abs(g('leakyRelu', 0.2) - math.sqrt(2 / 1.04)) < 1e-15)
    assert.is_true(math.abs(g('leakyRelu') - math.sqrt(2 / (1 + 0.01 ^ 2))) < 1e-15)
    assert.are.equal(0.75, g('selu'))
    contains(errorOf(g, 'swish'), "Invalid nonlinearity 'swish'")
  end)

  it('xavierUniform_ stays within gain·sqrt(6/(fanIn+fanOut)) with the uniform std', function()
    llm.manualSeed(10)
    local w = llm.zeros(200, 300, {requiresGrad = true})
    nn.init.xavierUniform_(w)
    local bound = math.sqrt(6 / 500)
    local mean, std, amax = stats(w)
    assert.is_true(amax <= bound * (1 + 1e-6) and amax > 0.99 * bound, 'max |w| ' .. amax)
    assert.is_true(math.abs(std - bound / math.sqrt(3)) < 0.02 * bound / math.sqrt(3), 'std ' .. std)
    assert.is_true(math.abs(mean) < 0.02 * bound)
    assert.is_true(w.requiresGrad and w.isLeaf)   -- in place, outside the tape
    nn.init.xavierUniform_(w, {gain = 2})
    assert.is_true(w:abs():max():item() > 1.5 * bound)
    nn.init.xavierNormal_(w)
    local _, s2 = stats(w)
    assert.is_true(math.abs(s2 - math.sqrt(2 / 500)) < 0.02 * math.sqrt(2 / 500), 'xavierNormal std ' .. s2)
  end)

  it('kaimingNormal_ / kaimingUniform_ use gain/sqrt(fan) for fanIn and fanOut', function()
    llm.manualSeed(11)
    local w = llm.zeros(400, 200)   -- fanIn 200, fanOut 400
    local gains = {linear = 1, relu = math.sqrt(2), tanh = 5 / 3, leakyRelu = math.sqrt(2 / 1.04), selu = 0.75}
    for nonlin, gain in pairs(gains) do
      for mode, fan in pairs{fanIn = 200, fanOut = 400} do
        local opts = {mode = mode, nonlinearity = nonlin}
        if nonlin == 'leakyRelu' then opts.a = 0.2 end
        nn.init.kaimingNormal_(w, opts)
        local mean, std = stats(w)
        local want = gain / math.sqrt(fan)
        assert(math.abs(std - want) < 0.02 * want, string.format('%s %s: std %.5f, want %.5f', nonlin, mode, std, want))
        assert(math.abs(mean) < 0.02 * want)
        nn.init.kaimingUniform_(w, opts)
        local _, ustd, amax = stats(w)
        local bound = math.sqrt(3) * want
        assert(amax <= bound * (1 + 1e-6) and amax > 0.99 * bound, string.format('%s %s uniform: max %.5f, bound %.5f', nonlin, mode, amax, bound))
        assert(math.abs(ustd - want) < 0.02 * want)
      end
    end
    -- default: leakyRelu with a = 0 (gain sqrt 2), fanIn
    nn.init.kaimingNormal_(w)
    local _, std = stats(w)
    assert.is_true(math.abs(std - math.sqrt(2 / 200)) < 0.02 * math.sqrt(2 / 200))
    contains(errorOf(nn.init.kaimingNormal_, w, {mode = 'fan_in'}), "Invalid 'mode'")
    contains(errorOf(nn.init.kaimingNormal_, w, {nonlinearity = 'gelu'}), "Invalid nonlinearity 'gelu'")
    contains(errorOf(nn.init.kaimingNormal_, llm.zeros(5)), 'at least 2 dims')
  end)

  it('fans count the receptive field like PyTorch', function()
    local fanIn, fanOut = nn.init.fans(llm.zeros(8, 3, 5, 5))
    assert.are.equal(75, fanIn); assert.are.equal(200, fanOut)
  end)

  it('truncNormal_ stays within [a, b]', function()
    llm.manualSeed(12)
    local w = llm.zeros(100, 100)
    nn.init.truncNormal_(w, {mean = 0.5, std = 1, a = -0.5, b = 1.0})
    local mean, _, _, mn, mx = stats(w)
    assert.is_true(mn >= -0.5 and mx <= 1.0, string.format('range [%g, %g]', mn, mx))
    assert.is_true(mn < -0.45 and mx > 0.95)
    -- N(0.5, 1) truncated to [-0.5, 1]: mean = 0.5 + (phi(-1) - phi(0.5)) / (Phi(0.5) - Phi(-1)) = 0.2934
    assert.is_true(math.abs(mean - 0.2934) < 0.02, 'mean ' .. mean)   -- ~5 standard errors
    nn.init.truncNormal_(w, {std = 0.02, a = -0.04, b = 0.04})
    local m2, s2, amax = stats(w)
    assert.is_true(amax <= 0.04 and math.abs(m2) < 0.001)
    assert.is_true(math.abs(s2 - 0.0176) < 0.001, 'std ' .. s2)   -- N(0, 0.02²) cut at ±2σ: 0.880·σ
  end)

  it('orthogonal_ gives orthonormal rows for a wide matrix (W·Wᵀ = gain²·I)', function()
    llm.manualSeed(13)
    for _, gain in ipairs{1, 2} do
      local w = llm.zeros(6, 20)
      nn.init.orthogonal_(w, {gain = gain})
      local diff = (w:matmul(w:transpose(1, 2)) - llm.eye(6) * (gain * gain)):abs():max():item()
      assert(diff < 1e-5, 'max |W·Wᵀ − gain²·I| = ' .. diff)
    end
    local tall = llm.zeros(20, 6)
    nn.init.orthogonal_(tall)
    assert.is_true((tall:transpose(1, 2):matmul(tall) - llm.eye(6)):abs():max():item() < 1e-5)
  end)
end)

describe('the KV cache of nn.CausalSelfAttention', function()
  local function maxDiff(a, b) return (a - b):abs():max():item() end

  -- feeding 100 positions in pieces (a 20-token prompt, then one at a time: the buffer grows past 64)
  -- gives the outputs of one full forward, with and without gradients
  for _, mode in ipairs{'noGrad', 'grad'} do
    it('step-by-step outputs equal a full forward (' .. mode .. ')', function()
      llm.manualSeed(7)
      local attn = nn.CausalSelfAttention(16, 2)
      local x = llm.randn(2, 100, 16)
      local function run()
        local full = attn(x)
        local cache = {}
        local pieces = {attn(x:narrow(2, 1, 20), {cache = cache})}
        for i = 21, 100 do pieces[#pieces + 1] = attn(x:narrow(2, i, 1), {cache = cache}) end
        return full, llm.cat(pieces, 2), cache
      end
      local full, stepped, cache
      if mode == 'noGrad' then full, stepped, cache = llm.noGrad(run) else full, stepped, cache = run() end
      assert.is_true(maxDiff(full, stepped) < 1e-5)
      assert.are.same({2, 2, 100, 8}, cache.k:shape())
      if mode == 'noGrad' then
        assert.is_true(cache.kbuf:size(3) >= 100 and cache.kbuf:size(3) <= 200)   -- grown by doubling
      else
        assert.is_nil(cache.kbuf)
        stepped:sum():backward()                                                  -- the graph is intact
        assert.is_not_nil(attn.qkv.weight.grad)
      end
    end)
  end
end)

describe('dropout', function()
  it('zeroes about p of the elements and scales the rest in training; identity in eval', function()
    llm.manualSeed(20)
    local d = nn.Dropout(0.25)
    local x = llm.ones(100, 100)
    local y = d(x)
    local kept = y:ne(0):sum():item()
    assert.is_true(math.abs(kept / 10000 - 0.75) < 0.03, 'kept ' .. kept)
    assert.is_true(math.abs(y:max():item() - 1 / 0.75) < 1e-6)
    assert.is_true(math.abs(y:sum():item() / 10000 - 1) < 0.05)
    d:eval()
    assert.are.equal(0, (d(x) - x):abs():max():item())
    local seq = nn.Sequential(nn.Linear(4, 4), nn.Dropout(0.9))
    seq:eval()
    assert.is_false(seq[2].training)
    local z = llm.randn(3, 4)
    assert.are.equal(0, (seq(z) - seq(z)):abs():max():item())
    assert.are.equal(0, (nn.Dropout(0)(x) - x):abs():max():item())
    assert.are.equal(0, nn.Dropout(1)(x):abs():max():item())
  end)

  it('in a GPT: random in training, deterministic in eval', function()
    llm.manualSeed(22)
    local m = gpt{dropout = 0.2}
    local idx = llm.tensor({{1, 2, 3, 4, 5}}, {dtype = 'int64'})
    assert.is_true((m(idx) - m(idx)):abs():max():item() > 0)
    m:eval()
    assert.are.equal(0, (m(idx) - m(idx)):abs():max():item())
    local plain = gpt()
    plain:loadStateDict(m:stateDict())
    assert.is_true((m(idx) - plain(idx)):abs():max():item() < 1e-6)   -- eval dropout is the identity
  end)

  it('gradients flow through the kept elements only', function()
    llm.manualSeed(21)
    local x = llm.ones(50, {requiresGrad = true})
    local y = nn.dropout(x, 0.5, true)
    y:sum():backward()
    local g, v = x.grad:totable(), y:detach():totable()
    for i = 1, 50 do assert.are.equal(v[i], g[i]) end
  end)

  it('rejects a bad p', function()
    contains(errorOf(nn.Dropout, 1.5), "nn.Dropout: Invalid 'p': expected a number in [0, 1], got 1.5")
    contains(errorOf(nn.Dropout, 'half'), "Invalid 'p'")
    contains(errorOf(nn.dropout, llm.ones(2), -0.1, true), "dropout: Invalid 'p'")
  end)
end)

describe('bad input', function()
  it('wrong shapes into layers name the op and both shapes', function()
    contains(errorOf(function() return nn.Linear(4, 5)(llm.randn(2, 3)) end),
      'linear: input [2, 3] does not match weight [5, 4] (expected last dim 4)')
    contains(errorOf(function() return nn.LayerNorm(4)(llm.randn(2, 3)) end), 'layerNorm: weight has shape [4], expected [3]')
    contains(errorOf(function() return nn.RMSNorm(4)(llm.randn(2, 3)) end), 'rmsNorm: weight has shape [4], expected [3]')
    contains(errorOf(function() return nn.CausalSelfAttention(8, 2)(llm.randn(2, 8)) end),
      'expected input of shape [batch, time, 8], got [2, 8]')
    contains(errorOf(function() return nn.Block(8, 2)(llm.randn(1, 3, 6)) end), 'in ln1 (nn.LayerNorm)')
    local m = gpt()
    contains(errorOf(function() return m(llm.zeros(1, 9, {dtype = 'int64'})) end), 'sequence length 9 exceeds blockSize 8')
    contains(errorOf(function() return m(llm.zeros(8, {dtype = 'int64'})) end), 'expected token ids of shape [batch, time], got [8]')
    contains(errorOf(function() return m(llm.zeros(1, 4, {dtype = 'int64'}), llm.zeros(1, 5, {dtype = 'int64'})) end),
      'crossEntropy: targets of shape [1, 5] do not match logits [1, 4, 13]')
  end)

  it('vocab indices out of range are errors, not crashes', function()
    local e = nn.Embedding(5, 3)
    contains(errorOf(function() return e(llm.tensor({0, 5}, {dtype = 'int64'})) end), 'index 5 is out of range for size 5')
    contains(errorOf(function() return e(llm.tensor({-1}, {dtype = 'int64'})) end), 'index -1 is out of range for size 5')
    contains(errorOf(function() return e(llm.tensor({0.5})) end), 'index tensor must hold integers')
    contains(errorOf(function() return gpt()(llm.tensor({{1, 2, 13}}, {dtype = 'int64'})) end), 'index 13 is out of range for size 13')
    contains(errorOf(nn.crossEntropy, llm.randn(2, 3), llm.tensor({0, 3}, {dtype = 'int64'})),
      'crossEntropy: target 3.0 is out of range for 3 classes')
  end)

  it('bad constructor arguments and options', function()
    contains(errorOf(nn.Linear, 0, 3), "nn.Linear: Invalid 'inFeatures': expected a positive integer, got 0")
    contains(errorOf(nn.Linear, 3, 2.5), "nn.Linear: Invalid 'outFeatures': expected a positive integer, got 2.5")
    contains(errorOf(nn.Linear, 3, 4, {bais = true}), "nn.Linear: unknown option 'bais'; expected one of: 'bias'")
    contains(errorOf(nn.Linear, 3, 4, {bias = 'yes'}), "nn.Linear: Invalid 'bias': expected a boolean, got 'yes'")
    contains(errorOf(nn.Embedding, 10, -1), "nn.Embedding: Invalid 'dim'")
    contains(errorOf(nn.LayerNorm, 8, {epsilon = 1e-6}), "unknown option 'epsilon'")
    contains(errorOf(nn.GELU, {approximate = 'fast'}), "nn.GELU: Invalid 'approximate': expected one of: 'none', 'tanh', got 'fast'")
    contains(errorOf(nn.CausalSelfAttention, 10, 3), 'nn.CausalSelfAttention: dim (10) must be divisible by heads (3)')
    contains(errorOf(nn.MLP, 8, {activation = 'swish'}), "nn.MLP: Invalid 'activation'")
    contains(errorOf(nn.GPT, {vocab = 13}), "nn.GPT: Invalid 'blockSize': expected a positive integer, got nil")
    contains(errorOf(nn.GPT, {vocab = 13, blockSize = 8, layers = 1, heads = 2, dim = 16, tieWeight = true}),
      "nn.GPT: unknown option 'tieWeight'")
    contains(errorOf(nn.Sequential, nn.Linear(2, 3), 5), 'nn.Sequential: element 2 is a number, expected an nn.Module')
    -- the position is the caller's line, not a line of the nn package
    local err = errorOf(function() local s = nn.ModuleList({nn.ReLU(), 'relu'}); return s end)
    assert(err:match('^[^:]*nn_spec%.lua:%d+: nn%.ModuleList: element 2 is a string'), err)
    err = errorOf(function() local l = nn.Linear(3, 4, {bias = 1}); return l end)
    assert(err:match('^[^:]*nn_spec%.lua:%d+: nn%.Linear: Invalid'), err)
    contains(errorOf(function() return nn.ModuleList(nn.ReLU())(llm.zeros(1)) end), 'nn.ModuleList has no forward')
  end)

  it('bad loss arguments', function()
    contains(errorOf(nn.mse, llm.randn(2, 3), llm.randn(3, 2)), 'mse: input [2, 3] and target [3, 2] must have the same shape')
    contains(errorOf(nn.mse, llm.randn(2), llm.randn(2), {reduction = 'avg'}), "mse: Invalid 'reduction': expected one of: 'mean', 'sum', 'none', got 'avg'")
    contains(errorOf(nn.klDiv, llm.randn(2, 3), llm.randn(2, 3), {temperature = 0}), "klDiv: Invalid 'temperature'")
    contains(errorOf(nn.crossEntropy, llm.randn(2, 3), llm.tensor({0, 1}, {dtype = 'int64'}), {reduction = 'avg'}),
      "Invalid 'reduction': expected one of: 'mean', 'sum', 'none', got 'avg'")
    contains(errorOf(nn.crossEntropy, llm.randn(2, 3), llm.tensor({0, 1}, {dtype = 'int64'}), {labelSmoothing = 1.5}),
      "Invalid 'labelSmoothing'")
    contains(errorOf(nn.crossEntropy, llm.randn(2, 3), llm.tensor({0, 1}, {dtype = 'int64'}), {ignore = 1}),
      "unknown option 'ignore'")
    contains(errorOf(nn.bce, llm.rand(3), llm.rand(4)), 'bce: input [3] and target [4] must have the same shape')
  end)
end)
