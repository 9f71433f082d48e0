-- trainer_extensions_spec.lua: llm.Trainer extensions (stdlib-lua/llm/extensions.lua): the order of every
-- hook inside a run (with gradient accumulation, evaluation, checkpoints, several extensions and the
-- onStep/onEval/onCheckpoint callbacks), what hooks may change (inputs, the loss, gradients before
-- clipping), stopping, eval fields in the metrics, extension state through checkpoint + resume (tensors
-- and values; also for an extension added after resume), and the errors of bad extensions.
-- Tiny models (1 layer, dim 8, blockSize 8, batch 2), a few steps each.
-- Run: llmscript test Tests/lua/trainer_extensions_spec.lua

local helpers = dofile(debug.getinfo(1, 'S').source:match('^@(.*/)') .. 'helpers.lua')
local fails = helpers.fails
teardown(helpers.removeTmpdirs)

local text = string.rep('pack my box with five dozen liquor jugs; the quick brown fox. ', 10)
local tokenizer = llm.data.CharTokenizer(text)
local trainIds, valIds = llm.data.split(tokenizer:encode(text), 0.2)
local T, B = 8, 2

local function build(seed)
  llm.manualSeed(seed or 3)
  local model = nn.GPT{vocab = tokenizer:vocabSize(), blockSize = T, layers = 1, heads = 2, dim = 8}
  local opt = optim.SGD(model:parameters(), {lr = 0.1})
  local batches = llm.data.Batcher(trainIds, {batchSize = B, blockSize = T, seed = 5})
  return model, opt, batches
end

local function trainer(opts)
  local model, opt, batches = build(opts.seed)
  local o = {model = model, optimizer = opt, train = batches, steps = 2, progress = false}
  for k, v in pairs(opts) do if k ~= 'seed' then o[k] = v end end
  return llm.Trainer(o)
end

-- Runs fn with io.stdout silenced (progress lines); returns fn's results.
local function quiet(fn) return select(2, helpers.captured(fn)) end

-- An extension that appends "<tag>:<hook>[:detail]" to log for every hook.
local function recorder(tag, log)
  local ext = {name = tag}
  local detail = {
    beforeStep = function(info) return info.step end,
    beforeForward = function(batch) return batch.micro end,
    afterForward = function(batch) return batch.micro end,
    beforeBackward = function(batch) return batch.micro end,
    afterBackward = function(batch) return batch.micro end,
    transformGradients = function(info) return info.step end,
    afterOptimizerStep = function(info) return info.step end,
    afterStep = function(info) return info.step end,
    onEval = function(info) return info.step end,
    onCheckpoint = function(info) return info.step end,
    beforeCheckpoint = function(info) return info.step end,
    onRunEnd = function(result) return result.step end,
  }
  local E = require 'llm.extensions'
  for _, h in ipairs(E.hooks) do
    if not E.replacing[h] then ext[h] = function(self, tr, a)
      assert(self == ext, 'hooks are called as methods')
      assert(type(tr.run) == 'function' and math.type(tr.step) == 'integer', 'the trainer is the first argument')
      local d = detail[h] and detail[h](a)
      log[#log + 1] = tag .. ':' .. h .. (d and (':' .. d) or '')
    end end  -- not the hooks that replace part of the step (one extension each)
  end
  return ext
end

describe('llm.Trainer extensions', function()
  it('call every hook in order: per step, per micro-batch, around evaluation and checkpoints, in registration order', function()
    local log = {}
    local dir = helpers.tmpdir('ext')
    local tr = trainer{steps = 2, gradAccum = 2, val = llm.data.evalWindows(valIds, B, T), evalEvery = 2, evalBatches = 1,
                       checkpointDir = dir, checkpointEvery = 2,
                       onStep = function(_, info) log[#log + 1] = 'cb:onStep:' .. info.step end,
                       onEval = function(_, info) log[#log + 1] = 'cb:onEval:' .. info.step end,
                       onCheckpoint = function(_, info) log[#log + 1] = 'cb:onCheckpoint:' .. info.step end,
                       extensions = {recorder('a', log)}}
    tr:use(recorder('b', log))
    quiet(function() tr:run() end)
    local expected = {'a:onRunStart', 'b:onRunStart'}
    local function both(h) expected[#expected + 1] = 'a:' .. h; expected[#expected + 1] = 'b:' .. h end
    for step = 1, 2 do
      both('beforeStep:' .. step)
      for micro = 1, 2 do
        for _, h in ipairs({'beforeForward', 'afterForward', 'beforeBackward', 'afterBackward'}) do both(h .. ':' .. micro) end
      end
      both('transformGradients:' .. step)
      both('afterOptimizerStep:' .. step)
      if step == 2 then
        expected[#expected + 1] = 'cb:onEval:2'; both('onEval:2')
        both('beforeCheckpoint:2')
        expected[#expected + 1] = 'cb:onCheckpoint:2'; both('onCheckpoint:2')   -- the best; the periodic one is the same folder
      end
      expected[#expected + 1] = 'cb:onStep:' .. step; both('afterStep:' .. step)
    end
    both('onRunEnd:2')
    assert.are.same(expected, log)
  end)

  it('beforeForward may replace the batch and afterForward the loss (which is what is logged and optimized)', function()
    local seen = {}
    local Spy = nn.Module:extend('Spy')
    function Spy:init(inner) self.inner = inner end
    function Spy:forward(x, y) seen[#seen + 1] = x; return self.inner(x, y) end
    local model, opt, batches = build()
    local fixedX, fixedY = batches:next()
    local losses = {}
    quiet(function()
      llm.Trainer{model = Spy(model), optimizer = opt, train = batches, steps = 2, progress = false,
                  onStep = function(_, info) losses[info.step] = info.loss end,
                  extensions = {{beforeForward = function(_, _, batch) batch.x, batch.y = fixedX, fixedY end,
                                 afterForward = function(_, _, _, out) out.loss = out.loss * 0 + 5 end}}}:run()
    end)
    assert.are.equal(fixedX, seen[1]); assert.are.equal(fixedX, seen[2])
    assert.are.same({5, 5}, losses)
  end)

  it('transformGradients runs before clipping and the optimizer step; afterOptimizerStep still sees the gradients', function()
    local model = build()
    local before = model:parameters()[1]:clone()
    local sawGrad
    local tr = trainer{steps = 1, clip = 1.0, extensions = {{
      transformGradients = function(_, t) for _, p in ipairs(t.params) do p.grad:mul_(0) end end,
      afterOptimizerStep = function(_, t) sawGrad = t.params[1].grad ~= nil end}}}
    quiet(function() tr:run() end)
    assert.are.equal(0, tr.gradNorm)                      -- the clip measured the transformed (zero) gradients
    assert.is_true(sawGrad)
    assert.is_nil(tr.params[1].grad)                      -- zeroed after afterOptimizerStep
    assert.are.equal(0, (tr.params[1] - before):abs():max():item())   -- SGD with zero gradients: unchanged
  end)

  it('afterStep returning false stops the run; onEval fields go into the eval metrics record', function()
    local dir = helpers.tmpdir('ext')
    local tr = trainer{steps = 5, val = llm.data.evalWindows(valIds, B, T), evalEvery = 1, evalBatches = 1,
                       metrics = dir .. '/metrics.jsonl', extensions = {{
                         onEval = function(_, _, info) info.perplexity = math.exp(info.valLoss) end,
                         afterStep = function(_, _, info) return info.step < 3 end}}}
    local result = quiet(function() return tr:run() end)
    assert.are.equal(3, result.step)
    local evals = {}
    for line in io.lines(dir .. '/metrics.jsonl') do
      local r = llm.json.decode(line)
      if r.type == 'eval' then evals[#evals + 1] = r end
    end
    assert.are.equal(3, #evals)
    assert.is_true(math.abs(evals[1].perplexity - math.exp(evals[1].valLoss)) < 1e-9)
  end)

  it('save their state in checkpoints (values in trainer.json, tensors in extensions.safetensors) and get it back on resume', function()
    local dir = helpers.tmpdir('ext')
    -- a stateful extension: a step counter and a tensor (a mask), as a class with methods; it changes its
    -- state in afterOptimizerStep, which precedes the step's checkpoint (afterStep comes after it)
    local Counter = {}
    Counter.__index = Counter
    local function counter() return setmetatable({name = 'counter', count = 0, mask = llm.zeros(3)}, Counter) end
    function Counter:afterOptimizerStep()
      self.count = self.count + 1
      local m = self.mask:totable(); m[self.count] = self.count; self.mask = llm.tensor(m)
    end
    function Counter:stateDict() return {count = self.count, mask = self.mask, note = 'hi'} end
    function Counter:loadStateDict(s) self.count, self.note = s.count, s.note; self.mask = s.mask:clone() end
    local first = counter()
    quiet(function() trainer{steps = 2, checkpointDir = dir, extensions = {first}}:run() end)
    local ck = llm.checkpoint.read(dir .. '/step-000002')
    assert.are.equal(2, ck['trainer.json'].extensions.counter.count)
    assert.are.same({1, 2, 0}, ck['extensions.safetensors']['counter.mask']:totable())
    -- resume with a fresh extension given to the constructor, and one added afterwards with use()
    local again, late = counter(), counter()
    late.name = 'late'
    local tr = trainer{steps = 3, checkpointDir = dir, extensions = {again}}
    tr:resume(dir)
    assert.are.equal(2, again.count); assert.are.equal('hi', again.note)
    assert.are.same({1, 2, 0}, again.mask:totable())
    tr:use(late)                                       -- no saved state under 'late': left as it is
    assert.are.equal(0, late.count)
    quiet(function() tr:run() end)
    assert.are.equal(3, again.count)
    assert.are.same({1, 2, 3}, again.mask:totable())
    local tr2 = trainer{steps = 4, checkpointDir = dir}
    tr2:resume(dir)
    local third = counter()
    tr2:use(third)                                      -- added after resume: gets the checkpoint's state
    assert.are.equal(3, third.count)
  end)

  it('errors name the extension and the hook', function()
    local tr = trainer{steps = 1, extensions = {{name = 'boom', afterStep = function() error('kaput') end}}}
    fails(function() quiet(function() tr:run() end) end, "in extension 'boom' (afterStep):", 'kaput')
  end)

  it('reject bad extensions', function()
    fails(function() trainer{extensions = 3} end, "Invalid 'extensions': expected a list of extension tables, got number")
    fails(function() trainer{extensions = {5}} end, "Invalid 'extensions[1]': expected a table of hooks, got number")
    fails(function() trainer{extensions = {{beforeFoward = function() end}}} end,
      "extension 1: unknown hook 'beforeFoward'; expected one of:", "'beforeForward'", "'transformGradients'")
    fails(function() trainer{extensions = {{afterStep = 1}}} end, "'afterStep' must be a function, got number")
    fails(function() trainer{extensions = {{stateDict = function() return {} end, loadStateDict = function() end}}} end,
      "has state (stateDict) but no 'name'")
    fails(function() trainer{extensions = {{name = 'x', stateDict = function() return {} end}}} end,
      "stateDict and loadStateDict go together")
    fails(function() trainer{extensions = {{name = 'a b'}}} end, "Invalid 'name' of extension 1")
    fails(function() trainer{extensions = {{name = 'x'}, {name = 'x'}}} end, "two extensions are named 'x'")
    fails(function() trainer{onStep = function() end, extensions = {{name = 'callbacks'}}} end, "two extensions are named 'callbacks'")
    local tr = trainer{}
    fails(function() tr:use({onEvall = function() end}) end, "unknown hook 'onEvall'")
    local dir = helpers.tmpdir('ext')
    local bad = trainer{steps = 1, checkpointDir = dir, extensions = {{name = 'bad', stateDict = function() return 5 end,
                                                                        loadStateDict = function() end}}}
    fails(function() quiet(function() bad:run() end) end, "extension 'bad': stateDict() must return a table, got number")
  end)
end)
