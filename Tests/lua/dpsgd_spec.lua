-- dpsgd_spec.lua: DP-SGD (llm/privacy): vectorised per-example gradients of Linear, Embedding, LayerNorm,
-- RMSNorm, a GPT with attention and tied weights, and a Llama against a per-example loop; clipping to C against the
-- loop's clipped sum; the noise's mean and standard deviation (seeded); the RDP accountant against Opacus
-- (Tests/Fixtures/opacus_rdp.json, scripts/reference/make_opacus_fixtures.py); Poisson batch sizes; the
-- Trainer extension end to end (variable and empty batches, ε in the step fields, resume of the accountant).
-- Run: llmscript test Tests/lua/dpsgd_spec.lua

local helpers = dofile(debug.getinfo(1, 'S').source:match('^@(.*/)') .. 'helpers.lua')
local fails = helpers.fails
teardown(helpers.removeTmpdirs)
local privacy = require 'llm.privacy'
local persample, accountant = privacy.persample, privacy.accountant

local root = debug.getinfo(1, 'S').source:match('^@(.*/)') .. '../../'

local function maxDiff(a, b) return (a - b):abs():max():item() end

-- per-example gradients of model via the hooks, and via one backward per example; the worst difference
local function compareWithLoop(model, x, lossOf)
  local b = x:size(1)
  local cap = persample.capture(model, b)
  lossOf(model, x, 1, b):backward()
  local grads = cap:gradients()
  cap:remove()
  model:zeroGrad()
  local worst = 0
  for i = 1, b do
    lossOf(model, x:narrow(1, i, 1), i, 1):backward()
    for path, p in pairs(model:namedParameters()) do
      assert(grads[p], 'no per-example gradient for ' .. path)
      worst = math.max(worst, maxDiff(grads[p]:select(1, i), p.grad))
    end
    model:zeroGrad()
  end
  return worst, grads
end

describe('per-example gradients', function()
  it('Linear, LayerNorm, RMSNorm and Embedding match a per-example loop', function()
    llm.manualSeed(1)
    local Net = nn.Module:extend('Net')
    function Net:init()
      self.emb = nn.Embedding(7, 6); self.ln = nn.LayerNorm(6); self.lin = nn.Linear(6, 5); self.rms = nn.RMSNorm(5)
      self.out = nn.Linear(5, 1, {bias = false})
    end
    function Net:forward(idx) return self.out(self.rms(self.lin(self.ln(self.emb(idx))):tanh())) end
    local net = Net()
    local idx = llm.randint(0, 7, {4, 3}, {dtype = 'int64'})
    local target = llm.randn(4, 3, 1)
    local worst = compareWithLoop(net, idx, function(m, x, i, n)
      local d = m(x) - target:narrow(1, i, n)
      return (d * d):sum()
    end)
    assert.is_true(worst < 1e-5, 'worst ' .. worst)
  end)

  -- a language model's per-example gradients of each example's mean token loss, against the loop
  local function lmMatchesLoop(model)
    local x = llm.randint(0, 9, {3, 5}, {dtype = 'int64'})
    local y = llm.randint(0, 9, {3, 5}, {dtype = 'int64'})
    local worst = compareWithLoop(model, x, function(m, xs, i, n)
      local _, loss = m(xs, y:narrow(1, i, n))
      return loss * n
    end)
    assert.is_true(worst < 1e-5, 'worst ' .. worst)
  end

  it('a GPT (attention, learned positions, tied embedding/head) matches the loop for each example mean loss', function()
    llm.manualSeed(2)
    lmMatchesLoop(nn.GPT{vocab = 9, blockSize = 6, layers = 2, heads = 2, dim = 8})
  end)

  it('a Llama (RMSNorm, rotary grouped-query attention, SwiGLU, untied head) matches the loop', function()
    llm.manualSeed(4)
    lmMatchesLoop(nn.Llama{vocab = 9, maxSeq = 6, layers = 1, heads = 2, kvHeads = 1, dim = 8})
  end)

  it('clipSum writes Σ_b min(1, C/‖g_b‖) g_b, as a per-example loop clips', function()
    llm.manualSeed(3)
    local model = nn.GPT{vocab = 9, blockSize = 6, layers = 1, heads = 2, dim = 8}
    local x = llm.randint(0, 9, {4, 5}, {dtype = 'int64'})
    local y = llm.randint(0, 9, {4, 5}, {dtype = 'int64'})
    local params = model:parameters()
    local cap = persample.capture(model, 4)
    local _, loss = model(x, y)
    ;(loss * 4):backward()
    local clip = 0.5
    local norms, factors = persample.clipSum(params, cap:gradients(), clip)
    cap:remove()
    local got = {}
    for i, p in ipairs(params) do got[i] = p.grad; p.grad = nil end
    -- the loop: one example at a time, its global norm, clipped, summed
    local sums = {}
    local clippedSome = false
    for b = 1, 4 do
      local _, l = model(x:narrow(1, b, 1), y:narrow(1, b, 1))
      l:backward()
      local sq = 0
      for _, p in ipairs(params) do sq = sq + (p.grad * p.grad):sum():item() end
      local norm = math.sqrt(sq)
      assert.is_true(math.abs(norm - norms[b]) < 1e-4 * math.max(1, norm))
      local f = math.min(1, clip / (norm + 1e-6))
      if f < 1 then clippedSome = true end
      assert.is_true(math.abs(f - factors[b]) < 1e-5)
      for i, p in ipairs(params) do sums[i] = sums[i] and (sums[i] + p.grad * f) or (p.grad * f) end
      model:zeroGrad()
    end
    assert.is_true(clippedSome, 'the test should clip some example')
    for i = 1, #params do assert.is_true(maxDiff(got[i], sums[i]) < 1e-5) end
    -- the clipped per-example norms are at most C
    for b = 1, 4 do assert.is_true(norms[b] * factors[b] <= clip + 1e-5) end
  end)

  it('a parameter outside the supported modules is a clear error', function()
    local Odd = nn.Module:extend('Odd')
    function Odd:init() self.w = llm.randn(3, {requiresGrad = true}); self.lin = nn.Linear(3, 1) end
    function Odd:forward(x) return self.lin(x * self.w) end
    local odd = Odd()
    local cap = persample.capture(odd, 2)
    odd(llm.randn(2, 3)):sum():backward()
    fails(function() persample.clipSum(odd:parameters(), cap:gradients(), 1) end, 'has no per-example gradient', 'nn.Linear')
    cap:remove()
  end)
end)

describe('RDP accountant', function()
  it('matches Opacus RDPAccountant for every fixture case and a two-phase history', function()
    local f = assert(io.open(root .. 'Tests/Fixtures/opacus_rdp.json'))
    local fx = llm.json.decode(f:read('a')); f:close()
    assert.is_true(#fx.cases >= 6)
    for _, c in ipairs(fx.cases) do
      local acc = accountant.new()
      acc:step(c.sigma, c.q, math.tointeger(c.steps))
      local eps, alpha = acc:epsilon(c.delta)
      assert.is_true(math.abs(eps - c.epsilon) <= 1e-6 * math.max(1, c.epsilon),
        string.format('sigma %g q %g steps %d delta %g: %.9g vs Opacus %.9g', c.sigma, c.q, c.steps, c.delta, eps, c.epsilon))
      assert.are.equal(c.alpha, alpha)
    end
    local acc = accountant.new()
    for _, h in ipairs(fx.history.steps) do acc:step(h[1], h[2], math.tointeger(h[3])) end
    local eps = acc:epsilon(fx.history.delta)
    assert.is_true(math.abs(eps - fx.history.epsilon) <= 1e-6 * fx.history.epsilon)
    assert.are.equal(800, acc:steps())
    fails(function() acc:epsilon(2) end, "Invalid 'delta'")
  end)
end)

describe('Poisson sampling', function()
  it('draws each window with probability q: batch sizes vary around q·N, reproducibly per seed, with resume', function()
    local ids = llm.arange(0, 2001, {dtype = 'int64'})
    local loader = privacy.PoissonLoader(ids, {blockSize = 10, sampleRate = 0.05, seed = 7})
    assert.are.equal(200, loader:size())
    local sizes, sum, sumSq = {}, 0, 0
    local n = 250
    for i = 1, n do
      local x, y = loader:next()
      sizes[i] = x:size(1)
      sum, sumSq = sum + sizes[i], sumSq + sizes[i] ^ 2
      if sizes[i] > 0 then
        assert.are.equal(10, x:size(2))
        assert.is_true(maxDiff(y, x + 1) == 0)           -- windows of consecutive ids
        assert.are.equal(0, x:select(1, 1):select(1, 1):item() % 10)   -- windows start at multiples of blockSize
      end
    end
    local mean, var = sum / n, sumSq / n - (sum / n) ^ 2
    -- Binomial(200, 0.05): mean 10, variance 9.5
    assert.is_true(math.abs(mean - 10) < 0.6, 'mean ' .. mean)
    assert.is_true(var > 6 and var < 13, 'variance ' .. var)
    local distinct = {}
    for _, s in ipairs(sizes) do distinct[s] = true end
    assert.is_true(#sizes > 0 and next(distinct) ~= nil)
    local count = 0
    for _ in pairs(distinct) do count = count + 1 end
    assert.is_true(count > 5)
    -- the same seed draws the same batches; state/setState resumes the stream
    local a = privacy.PoissonLoader(ids, {blockSize = 10, sampleRate = 0.05, seed = 7})
    local b = privacy.PoissonLoader(ids, {blockSize = 10, sampleRate = 0.05, seed = 7})
    a:next(); b:next()
    local s = a:state()
    local x1 = a:next()
    b:setState(s)
    assert.is_true(maxDiff(x1, b:next()) == 0)
    -- a tiny rate gives empty batches
    local sparse = privacy.PoissonLoader(ids, {blockSize = 10, sampleRate = 0.001, seed = 1})
    local empty = 0
    for _ = 1, 20 do if sparse:next():size(1) == 0 then empty = empty + 1 end end
    assert.is_true(empty > 0)
    fails(function() privacy.PoissonLoader(ids, {blockSize = 10, sampleRate = 1.5}) end, "Invalid 'sampleRate'")
  end)
end)

describe('the DP-SGD extension', function()
  local function setup(opts)
    llm.manualSeed(11)
    local ids = llm.randint(0, 9, {401}, {dtype = 'int64'})
    local loader = privacy.PoissonLoader(ids, {blockSize = 8, sampleRate = 0.05, seed = 3})
    local model = nn.GPT{vocab = 9, blockSize = 8, layers = 1, heads = 2, dim = 8}
    local dp = privacy.DPSGD{noise = opts.noise or 1.0, clip = opts.clip or 1.0, sampleRate = 0.05, datasetSize = loader:size(), delta = 1e-5}
    return model, loader, dp
  end

  it('the noise added to the clipped sum is N(0, (σC)²) per coordinate, scaled by 1/(qN) (seeded)', function()
    local model, _, dp = setup({noise = 2.0, clip = 0.5})
    local params = model:parameters()
    for _, p in ipairs(params) do p.grad = llm.zeros(table.unpack(p:shape())) end
    llm.manualSeed(5)
    dp:transformGradients({model = model, params = params, stepFields = {}})
    local sum, sumSq, n = 0, 0, 0
    for _, p in ipairs(params) do
      local g = p.grad * (0.05 * 50)
      sum, sumSq, n = sum + g:sum():item(), sumSq + (g * g):sum():item(), n + g:numel()
    end
    local mean, std = sum / n, math.sqrt(sumSq / n - (sum / n) ^ 2)
    assert.is_true(n > 1000)
    assert.is_true(math.abs(mean) < 4 * 1.0 / math.sqrt(n), 'mean ' .. mean)
    assert.is_true(math.abs(std - 1.0) < 0.05, 'std ' .. std)   -- σ·C = 1
    assert.are.equal(1, dp.acc:steps())
  end)

  it('trains through the Trainer with variable batch sizes; ε grows with the steps and matches the accountant; resume', function()
    local model, loader, dp = setup({})
    local dir = helpers.tmpdir('dpsgd')
    local trainer = llm.Trainer{model = model, optimizer = optim.SGD(model:parameters(), {lr = 0.1}), train = loader,
                                steps = 6, clip = 0, extensions = {dp}, checkpointDir = dir, logEvery = 100, checkpointEvery = 3}
    local seen = {}
    trainer:use({afterStep = function(_, t) seen[#seen + 1] = t.stepFields.epsilon end})
    trainer:run()
    assert.are.equal(6, #seen)
    for i = 2, 6 do assert.is_true(seen[i] > seen[i - 1]) end
    local ref = accountant.new(); ref:step(1.0, 0.05, 6)
    assert.is_true(math.abs(dp:epsilon() - ref:epsilon(1e-5)) < 1e-12)
    -- a fresh extension resumed from the checkpoint continues the accountant's history
    local model2, loader2, dp2 = setup({})
    local t2 = llm.Trainer{model = model2, optimizer = optim.SGD(model2:parameters(), {lr = 0.1}), train = loader2,
                           steps = 6, clip = 0, extensions = {dp2}, checkpointDir = dir .. "-2", logEvery = 100}
    t2:resume(dir)
    assert.are.equal(6, dp2.acc:steps())
    -- global clipping is refused
    local model3, loader3, dp3 = setup({})
    local t3 = llm.Trainer{model = model3, optimizer = optim.SGD(model3:parameters(), {lr = 0.1}), train = loader3,
                           steps = 1, clip = 1, extensions = {dp3}, checkpointDir = dir .. "-3", logEvery = 100}
    fails(function() t3:run() end, 'clip = 0')
    fails(function() privacy.DPSGD{noise = 1, clip = 0, sampleRate = 0.1, datasetSize = 10} end, "Invalid 'clip'")
    fails(function() privacy.DPSGD{noise = 1, clip = 1, sampleRate = 0.1, datasetSize = 10, sigma = 1} end, "unknown option 'sigma'")
  end)
end)
