-- gpt_reference_spec.lua: one tiny nn.GPT against PyTorch (Tests/Fixtures/gpt_step.lua, written by
-- scripts/reference/make_nn_fixtures.py): logits, loss and every parameter gradient after one backward,
-- then the losses of 10 optim.AdamW steps (nanoGPT param groups) on the same batch; and generation:
-- greedy decoding with the KV cache equals an argmax loop of full forwards, and seeded sampling repeats.
-- Run: llmscript --no-strict /usr/bin/busted Tests/lua/gpt_reference_spec.lua   (from the repository root)
-- Set NN_REPORT=1 to print the largest deviations from PyTorch.
--
-- Tolerance: |got − want| ≤ 1e-6 + 1e-5·|want| per element. The reference is float64 on float32
-- parameters; PyTorch's own float32 run lies within 2.2e-6 (logits, |logits| up to ~6), 1.2e-7 (grads)
-- and 7.1e-7 (the 10 AdamW losses) of it.

-- the fixture lives in Tests/Fixtures, next to this file's directory (works from any working directory)
local fx = dofile((debug.getinfo(1, 'S').source:match('^@(.*[/\\])') or './') .. '../Fixtures/gpt_step.lua')
local RTOL, ATOL = 1e-5, 1e-6

local helpers = dofile((debug.getinfo(1, 'S').source:match('^@(.*[/\\])') or './') .. 'helpers.lua')
local T, flatten = helpers.fixtureTensor, helpers.flatten

local report = {}

-- Compares numbers got[i] with want[i]; records the largest deviation under `what`.
local function compareNumbers(what, got, want)
  assert.are.equal(#want, #got, what .. ': element count')
  local worst = report[what] or {abs = 0, ratio = 0}
  report[what] = worst
  for i = 1, #want do
    local err = math.abs(got[i] - want[i])
    local tol = ATOL + RTOL * math.abs(want[i])
    worst.abs, worst.ratio = math.max(worst.abs, err), math.max(worst.ratio, err / tol)
    if not (err <= tol) then
      error(string.format('%s: element %d is %.9g, PyTorch gives %.9g (|diff| %.3g > tol %.3g)', what, i, got[i], want[i], err, tol), 2)
    end
  end
end

local function compare(what, got, want)
  assert(llm.isTensor(got), what .. ': no tensor')
  assert.are.same(want.shape, got:shape(), what .. ': shape')
  compareNumbers(what, flatten(got), want.data)
end

local function stateDict()
  local sd = {}
  for path, spec in pairs(fx.params) do sd[path] = T(spec) end
  sd['head.weight'] = sd['tokEmb.weight']   -- tied: the fixture stores it once
  return sd
end

-- nn.GPT with the fixture parameters; tokScale scales the token embedding (and so the tied head)
local function model(tokScale)
  local m = nn.GPT(fx.config)
  local sd = stateDict()
  if tokScale then
    sd['tokEmb.weight'] = sd['tokEmb.weight'] * tokScale
    sd['head.weight'] = sd['tokEmb.weight']
  end
  m:loadStateDict(sd)
  return m
end

local function errorOf(f, ...)
  local ok, err = pcall(f, ...)
  assert.is_false(ok, 'expected an error')
  return tostring(err)
end

describe('nn.GPT against PyTorch', function()
  teardown(function()
    if os.getenv('NN_REPORT') then
      print(string.format('\ngpt_step.lua (torch %s): max |got - want| and max |diff|/tol', fx.meta.torch))
      local names = {}
      for k in pairs(report) do names[#names + 1] = k end
      table.sort(names)
      for _, k in ipairs(names) do print(string.format('  %-40s abs %.3g  ratio %.3f', k, report[k].abs, report[k].ratio)) end
    end
  end)

  it('loads the fixture parameters (the tied head.weight included)', function()
    local m = nn.GPT(fx.config)
    local sd = stateDict()
    sd['head.weight'] = nil   -- a tied tensor is covered by any of its paths
    assert.are.same({}, (m:loadStateDict(sd)))
    assert.are.equal(0, (m.head.weight - T(fx.params['tokEmb.weight'])):abs():max():item())
    m = model()
    assert.are.equal(m.tokEmb.weight, m.head.weight)
    local n = 0
    for path, p in pairs(m:namedParameters()) do
      n = n + 1
      assert(fx.params[path], 'fixture lacks ' .. path)
      assert.are.equal(0, (p - T(fx.params[path])):abs():max():item(), path)
    end
    local fn = 0
    for _ in pairs(fx.params) do fn = fn + 1 end
    assert.are.equal(fn, n)
  end)

  it('gives PyTorch logits, loss and every parameter gradient', function()
    local m = model()
    local logits, loss = m(T(fx.idx), T(fx.targets))
    compare('logits', logits, fx.logits)
    compare('loss', loss, fx.loss)
    loss:backward()
    local n = 0
    for path, p in pairs(m:namedParameters()) do
      n = n + 1
      assert(fx.grads[path], 'fixture has no gradient for ' .. path)
      compare('grad ' .. path, p.grad, fx.grads[path])   -- tokEmb.weight: embedding + tied head
    end
    local fn = 0
    for _ in pairs(fx.grads) do fn = fn + 1 end
    assert.are.equal(fn, n)
  end)

  it('follows PyTorch over 10 AdamW steps (decay on dim >= 2 params only)', function()
    local m = model()
    local a = fx.adamw
    local losses, decay, noDecay = helpers.adamwLosses(m, T(fx.idx), T(fx.targets), a)
    assert.are.equal(2 + 2 * 4, #decay)     -- tokEmb (= head), posEmb, 4 weights per block
    assert.are.equal(2 * 8 + 2, #noDecay)   -- 8 biases and norm weights per block, lnF
    compareNumbers('adamw losses', losses, a.losses)
    assert.is_true(losses[#losses] < losses[1])
  end)
end)

describe('nn.GPT generation', function()
  local function ids(rows) return llm.tensor(rows, {dtype = 'int64'}) end

  -- Greedy decoding by full forwards (no KV cache), with generate's context policy: the context starts
  -- as the last blockSize prompt tokens; after a forward over a full blockSize context, the next
  -- context is the last blockSize // 2 tokens (including the new one).
  local function argmaxLoop(m, prompt, n)
    local blockSize = fx.config.blockSize
    local out = prompt
    local start = math.max(1, prompt:size(2) - blockSize + 1)
    llm.noGrad(function()
      for _ = 1, n do
        local len = out:size(2) - start + 1
        local last = m(out:narrow(2, start, len)):select(2, len)
        local nextId = last:argmax(2, true)
        -- a clear winner, so float rounding (cache or not) cannot flip the argmax
        local top = last:topk(2, 2)
        local margin = (top:narrow(2, 1, 1) - top:narrow(2, 2, 1)):min():item()
        assert(margin > 1e-4, 'near-tie in the argmax reference: margin ' .. margin)
        out = llm.cat({out, nextId}, 2)
        if len >= blockSize then start = out:size(2) - blockSize // 2 + 1 end
      end
    end)
    return out
  end

  -- the fixture model with the token embedding scaled by 0.3: flatter distributions, varied outputs
  local SCALE = 0.3

  it('is deterministic with temperature 0 and equals an argmax loop without the cache', function()
    local m = model(SCALE)
    local prompt = ids{{1, 5, 7}, {12, 0, 3}}
    -- within blockSize: every step sees the whole sequence
    local got = m:generate(prompt, {maxTokens = 5, temperature = 0})
    assert.are.same({2, 8}, got:shape())
    assert.are.same(flatten(argmaxLoop(m, prompt, 5)), flatten(got))
    assert.are.same(flatten(got), flatten(m:generate(prompt, {maxTokens = 5, temperature = 0})))
    assert.are.same({1, 5, 7}, flatten(got:narrow(1, 1, 1):narrow(2, 1, 3)))
    -- past blockSize: the cache is rebuilt from the sliding window
    local long = m:generate(prompt, {maxTokens = 20, temperature = 0})
    assert.are.same(flatten(argmaxLoop(m, prompt, 20)), flatten(long))
    -- a 1-D prompt gives a 1-D result; a prompt longer than blockSize is cut to its last blockSize ids
    local one = m:generate(ids{4, 4, 9, 1, 0, 2, 6, 11, 3, 10}, {maxTokens = 4, temperature = 0})
    assert.are.same({14}, one:shape())
    assert.are.same(flatten(argmaxLoop(m, ids{{4, 4, 9, 1, 0, 2, 6, 11, 3, 10}}, 4)), flatten(one))
    assert.is_true(m.training)   -- generate restores the mode
  end)

  it('repeats with the same seed (also with topK and topP)', function()
    local m = model(SCALE)
    local prompt = ids{3, 1}
    for _, o in ipairs{{}, {topK = 4}, {topP = 0.8}, {topK = 6, topP = 0.9, temperature = 0.7}} do
      local a = m:generate(prompt, {maxTokens = 12, seed = 42, temperature = o.temperature, topK = o.topK, topP = o.topP})
      local b = m:generate(prompt, {maxTokens = 12, seed = 42, temperature = o.temperature, topK = o.topK, topP = o.topP})
      assert.are.same(flatten(a), flatten(b))
      for _, v in ipairs(flatten(a)) do assert.is_true(v >= 0 and v < fx.config.vocab) end
    end
    local a = m:generate(prompt, {maxTokens = 12, seed = 1})
    local b = m:generate(prompt, {maxTokens = 12, seed = 2})
    assert.are_not.same(flatten(a), flatten(b))
  end)

  it('rejects bad options', function()
    local m = model()
    local p = ids{1, 2}
    assert.matches("Invalid 'temperature'", errorOf(function() return m:generate(p, {temperature = -1}) end), 1, true)
    assert.matches("Invalid 'topK'", errorOf(function() return m:generate(p, {topK = 0}) end), 1, true)
    assert.matches("Invalid 'topP'", errorOf(function() return m:generate(p, {topP = 1.5}) end), 1, true)
    assert.matches("unknown option 'maxTokenz'", errorOf(function() return m:generate(p, {maxTokenz = 3}) end), 1, true)
    assert.matches('prompt must be a non-empty', errorOf(function() return m:generate(llm.zeros(0, {dtype = 'int64'})) end), 1, true)
    assert.matches('out of range', errorOf(function() return m:generate(ids{1, 13}, {maxTokens = 1}) end), 1, true)
  end)
end)
