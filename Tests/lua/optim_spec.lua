-- optim_spec.lua: the `optim` namespace from Lua: optimizer constructors and options (including errors
-- for bad values, unknown keys and wrong types), parameter groups, step/zeroGrad, learning-rate access,
-- state dict round trip (identical subsequent steps), clipping, L1/L2 penalties, schedules (callable,
-- printable, values, plateau), Lua functions as schedules, and a tiny regression fit with AdamW.
-- Run: llmscript --no-strict /usr/bin/busted Tests/lua/optim_spec.lua

local function rg(data) return llm.tensor(data, {requiresGrad = true}) end

local function close(a, b, tol)
  tol = tol or 1e-6
  assert(math.abs(a - b) <= tol * math.max(1, math.abs(b)), string.format('got %.9g, expected %.9g', a, b))
end

local function closeTables(got, want, tol)
  assert.are.equal(#want, #got)
  for i = 1, #want do close(got[i], want[i], tol) end
end

-- loss = sum((p - 1)^2); backward fills p.grad = 2 (p - 1)
local function quadratic(params)
  for _, p in ipairs(params) do
    local d = p - 1
    ;(d * d):sum():backward()
  end
end

local function errorOf(f, ...)
  local ok, err = pcall(f, ...)
  assert.is_false(ok)
  return tostring(err)
end

describe('optim namespace', function()
  it('is a preloaded global, also returned by require', function()
    assert.are.equal('table', type(optim))
    assert.are.equal(optim, require('llm.optim'))
    for _, name in ipairs{'SGD', 'Adam', 'AdamW', 'RMSprop', 'Adagrad', 'clipGradNorm', 'l1Penalty', 'l2Penalty'} do
      assert.are.equal('function', type(optim[name]), name)
    end
    assert.is_not_nil(llm._doc(optim.AdamW))
  end)
end)

describe('optimizers', function()
  it('SGD takes one step as in PyTorch', function()
    local p = rg{1, 2, 3}
    local opt = optim.SGD({p}, {lr = 0.1})
    quadratic{p}
    opt:step()
    closeTables(p:totable(), {1, 1.8, 2.6})
  end)

  it('every optimizer decreases a quadratic', function()
    for _, make in ipairs{
      function(ps) return optim.SGD(ps, {lr = 0.05, momentum = 0.9, nesterov = true, weightDecay = 0.01}) end,
      function(ps) return optim.Adam(ps, {lr = 0.05, betas = {0.9, 0.99}, amsgrad = true}) end,
      function(ps) return optim.AdamW(ps, {lr = 0.05, weightDecay = 0.1}) end,
      function(ps) return optim.RMSprop(ps, {lr = 0.01, momentum = 0.9, centered = true}) end,
      function(ps) return optim.Adagrad(ps, {lr = 0.3, lrDecay = 0.01}) end,
    } do
      local p = rg{3, -2, 0.5}
      local opt = make{p}
      local function loss() local d = p - 1; return (d * d):sum():item() end
      local before = loss()
      for _ = 1, 20 do opt:zeroGrad(); quadratic{p}; opt:step() end
      assert(loss() < before, tostring(opt))
    end
  end)

  it('skips parameters without a gradient and zeroGrad clears grads', function()
    local a, b = rg{1, 2}, rg{5}
    local opt = optim.AdamW({a, b}, {lr = 0.1})
    quadratic{a}
    opt:step()
    assert.are.same({5}, b:totable())
    opt:zeroGrad()
    assert.is_nil(a.grad)
  end)

  it('gets and sets the learning rate and other hyper-parameters', function()
    local p = rg{1}
    local opt = optim.Adam({p}, {lr = 0.01})
    assert.are.equal(0.01, opt:getLR())
    opt:setLR(0.5)
    assert.are.equal(0.5, opt:getLR(1))
    assert.are.equal(0.9, opt:get('beta1'))
    assert.is_false(opt:get('amsgrad'))
    opt:set('amsgrad', true)
    assert.is_true(opt:get('amsgrad'))
    assert.are.equal(1, #opt:parameters())
    assert.matches('^Adam%(lr=0.5, betas=%(0.9, 0.999%)', tostring(opt))
  end)

  it('supports parameter groups that inherit the defaults', function()
    local w, bias = rg{1, 2}, rg{3}
    local opt = optim.AdamW({{params = {w}}, {params = {bias}, weightDecay = 0, lr = 0.5}}, {lr = 0.01, weightDecay = 0.1})
    assert.are.equal(2, opt:numGroups())
    assert.are.equal(0.01, opt:getLR(1))
    assert.are.equal(0.5, opt:getLR(2))
    assert.are.equal(0.1, opt:get('weightDecay', 1))
    assert.are.equal(0, opt:get('weightDecay', 2))
    assert.are.equal(0.999, opt:get('beta2', 2))
    opt:setLR(0.2)
    assert.are.equal(0.2, opt:getLR(2))
    opt:setLR(0.3, 1)
    assert.are.equal(0.3, opt:getLR(1))
    assert.are.equal(0.2, opt:getLR(2))
    assert.matches('2 groups, 2 params', tostring(opt))
  end)
end)

describe('optimizer errors', function()
  local p = rg{1, 2}
  it('reject bad hyper-parameters with the value', function()
    assert.matches("Invalid 'lr': expected a non%-negative number, got %-1", errorOf(optim.SGD, {p}, {lr = -1}))
    assert.matches("Invalid 'beta2': expected a number in %[0, 1%), got 1", errorOf(optim.Adam, {p}, {betas = {0.9, 1}}))
    assert.matches("Invalid 'betas'", errorOf(optim.Adam, {p}, {betas = 0.9}))
    assert.matches("Invalid 'momentum': expected a number, got 'x'", errorOf(optim.SGD, {p}, {momentum = 'x'}))
    assert.matches('Nesterov momentum requires a momentum', errorOf(optim.SGD, {p}, {nesterov = true}))
    assert.matches("Invalid 'lr'", errorOf(function() optim.SGD({p}):setLR(-3) end))
  end)
  it('reject unknown option keys', function()
    assert.matches("unknown option 'weight_decay'", errorOf(optim.AdamW, {p}, {weight_decay = 0.1}))
    assert.matches("group 1: unknown option 'wd'", errorOf(optim.AdamW, {{params = {p}, wd = 0}}))
  end)
  it('reject bad parameter lists', function()
    assert.matches('non%-empty list', errorOf(optim.SGD, {}))
    assert.matches('element 2 is a number', errorOf(optim.SGD, {p, 3}))
    assert.matches('appears more than once', errorOf(optim.SGD, {p, p}))
  end)
  it('name the expected type', function()
    assert.matches("bad argument #1 to 'step' %(optim.Optimizer expected, got number%)",
      errorOf(function() local opt = optim.SGD({p}); opt.step(1) end))
    assert.matches('optim.Optimizer expected, got llm.Tensor', errorOf(function() optim.SGD({p}).zeroGrad(p) end))
  end)
end)

describe('state dict', function()
  it('round trip gives identical subsequent steps', function()
    local p = rg{0.5, -1, 2}
    local opt = optim.AdamW({p}, {lr = 0.05, amsgrad = true})
    for _ = 1, 3 do opt:zeroGrad(); quadratic{p}; opt:step() end
    local sd = opt:stateDict()
    assert.are.equal(3, sd['state.0.step'])
    assert.are.equal(0.05, sd['group.0.lr'])
    assert.are.same({3}, sd['state.0.exp_avg']:shape())
    local saved = p:totable()
    local after = {}
    for k = 1, 3 do opt:zeroGrad(); quadratic{p}; opt:step(); after[k] = p:totable() end
    local q = rg(saved)
    local fresh = optim.AdamW({q})
    fresh:loadStateDict(sd)
    assert.are.equal(0.05, fresh:getLR())
    for k = 1, 3 do
      fresh:zeroGrad(); quadratic{q}; fresh:step()
      assert.are.same(after[k], q:totable())
    end
  end)
  it('validates shapes and keys', function()
    local opt = optim.Adam({rg{1, 2}})
    quadratic(opt:parameters()); opt:step()
    local sd = opt:stateDict()
    local other = optim.Adam({rg{1, 2, 3}})
    assert.matches('has shape %[2%] but parameter 0 has shape %[3%]', errorOf(function() other:loadStateDict(sd) end))
    sd['state.0.bogus'] = 1
    assert.matches('unknown buffer', errorOf(function() opt:loadStateDict(sd) end))
    sd['state.0.bogus'] = nil
    sd['group.0.lr'] = 'fast'
    assert.matches("value of 'group.0.lr' is a string", errorOf(function() opt:loadStateDict(sd) end))
  end)
end)

describe('clipping and penalties', function()
  it('clipGradNorm returns the pre-clip norm and scales', function()
    local a = rg{0, 0}
    a.grad = llm.tensor{3, 4}
    close(optim.clipGradNorm({a}, 1), 5)
    closeTables(a.grad:totable(), {0.6, 0.8}, 1e-5)
    a.grad = llm.tensor{3, -4}
    close(optim.clipGradNorm({a}, 1, {normType = math.huge}), 4)
    assert.matches("unknown option 'norm'", errorOf(optim.clipGradNorm, {a}, 1, {norm = 2}))
  end)
  it('l1Penalty and l2Penalty are differentiable', function()
    local w = rg{1, -2}
    local l1, l2 = optim.l1Penalty({w}, 0.5), optim.l2Penalty({w}, 0.5)
    close(l1:item(), 1.5)
    close(l2:item(), 2.5)
    ;(l1 + l2):backward()
    closeTables(w.grad:totable(), {0.5 + 1, -0.5 - 2})
    assert.matches("Invalid 'lambda'", errorOf(optim.l2Penalty, {w}, -1))
  end)
end)

describe('schedules', function()
  local S = optim.schedule
  it('are callable, printable and give values', function()
    local s = S.warmupCosine{maxLR = 6e-4, warmupSteps = 100, totalSteps = 5000, minLR = 6e-5}
    assert.are.equal('WarmupCosine(maxLR=6e-4, warmup=100, total=5000, minLR=6e-5)', tostring(s))
    close(s(0), 6e-4 / 101)
    close(s(100), 6e-4)
    close(s(6000), 6e-5)
    local v = s:values(200)
    assert.are.equal(200, #v)
    close(v[101], 6e-4)
    close(s:lr(7), s(7))
  end)
  it('cover the PyTorch families', function()
    closeTables(S.step{lr = 1, stepSize = 2, gamma = 0.5}:values(5), {1, 1, 0.5, 0.5, 0.25})
    closeTables(S.multiStep{lr = 1, milestones = {1, 3}, gamma = 0.1}:values(4), {1, 0.1, 0.1, 0.01})
    closeTables(S.exponential{lr = 1, gamma = 0.5}:values(3), {1, 0.5, 0.25})
    closeTables(S.constant{lr = 0.3}:values(2), {0.3, 0.3})
    local oc = S.oneCycle{maxLR = 1, totalSteps = 100}
    close(oc(0), 0.04)
    close(oc(30 - 1), 1)
    assert.matches('^OneCycle%(maxLR=1, total=100', tostring(oc))
  end)
  it('reduceOnPlateau steps on a metric', function()
    local s = S.reduceOnPlateau{lr = 1, factor = 0.5, patience = 1}
    assert.are.equal(1, s:step(10))
    assert.are.equal(1, s:step(10))
    assert.are.equal(0.5, s:step(10))
    assert.are.equal(0.5, s(0))
    assert.matches('only reduceOnPlateau', errorOf(function() S.constant{lr = 1}:step(1) end))
  end)
  it('warmupCosine clamps a warmup longer than the run to the run', function()
    local s = S.warmupCosine{maxLR = 1, minLR = 0.1, warmupSteps = 100, totalSteps = 3}
    closeTables(s:values(5), {0.25, 0.5, 0.75, 0.1, 0.1})
    assert.are.equal('WarmupCosine(maxLR=1, warmup=3 (clamped from 100), total=3, minLR=0.1)', tostring(s))
  end)
  it('accept Lua functions wherever a schedule is', function()
    closeTables(S.values(function(step) return 0.1 / (step + 1) end, 3), {0.1, 0.05, 0.1 / 3})
    closeTables(S.values(S.constant{lr = 2}, 2), {2, 2})
  end)
  it('reject bad options', function()
    assert.matches("Invalid 'totalSteps'", errorOf(S.warmupCosine, {maxLR = 1, warmupSteps = 10, totalSteps = -5}))
    assert.matches("Invalid 'maxLR': expected a number, got nil", errorOf(S.oneCycle, {totalSteps = 5}))
    assert.matches("unknown option 'warmup'", errorOf(S.warmupCosine, {maxLR = 1, warmup = 10, totalSteps = 5}))
    assert.matches("Invalid 'mode': expected one of 'min', 'max', got 'down'", errorOf(S.reduceOnPlateau, {lr = 1, mode = 'down'}))
    assert.matches('step must be an integer', errorOf(function() S.constant{lr = 1}(-1) end))
  end)
end)

describe('training', function()
  it('AdamW fits y = 2x + 1 with a linear model', function()
    local xs, ys = {}, {}
    for i = 1, 16 do local x = (i - 8) / 4; xs[i] = {x}; ys[i] = {2 * x + 1} end
    local x, y = llm.tensor(xs), llm.tensor(ys)
    local w, b = rg{{0.0}}, rg{0.0}
    local opt = optim.AdamW({w, b}, {lr = 0.1, weightDecay = 0})
    local sched = optim.schedule.step{lr = 0.1, stepSize = 100, gamma = 0.5}
    local loss
    for step = 0, 299 do
      opt:setLR(sched(step))
      opt:zeroGrad()
      local d = x:matmul(w) + b - y
      loss = (d * d):mean()
      loss:backward()
      optim.clipGradNorm({w, b}, 10)
      opt:step()
    end
    assert(loss:item() < 1e-4, 'final loss ' .. loss:item())
    close(w:item(), 2, 1e-2)
    close(b:item(), 1, 1e-2)
  end)
end)
