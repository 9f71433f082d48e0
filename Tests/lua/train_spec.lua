-- train_spec.lua: llm.Trainer (stdlib-lua/llm/train.lua) and llm.config (stdlib-lua/llm/config.lua) from Lua:
-- exact resume (losses and parameters of a resumed run == an uninterrupted run, with dropout), gradient
-- accumulation == one big batch, clipping, evaluation + best checkpoint + metrics JSONL, early stopping,
-- NaN/Inf losses (stop / skip), callbacks, and the errors of bad input (options, checkpoints, flags).
-- Tiny models (1 layer, dim 16, blockSize 16, batch 4) on a tiny corpus, a handful of steps each.
-- Run: llmscript --no-strict /usr/bin/busted Tests/lua/train_spec.lua

local helpers = dofile(debug.getinfo(1, 'S').source:match('^@(.*/)') .. 'helpers.lua')
local fails = helpers.fails
local function tmpdir() return helpers.tmpdir('train') end

local function exists(path)
  local f = io.open(path, 'rb')
  if f then f:close() return true end
  return false
end

local captured = helpers.captured

-- the corpus: a few sentences, character level
local text = string.rep('the quick brown fox jumps over the lazy dog; pack my box with five dozen liquor jugs. ', 12)
local tokenizer = llm.data.CharTokenizer(text)
local ids = tokenizer:encode(text)
local trainIds, valIds = llm.data.split(ids, 0.2)
local V, T, B = tokenizer:vocabSize(), 16, 4

local function gpt(opts)
  opts = opts or {}
  return nn.GPT{vocab = V, blockSize = T, layers = 1, heads = 2, dim = opts.dim or 16, dropout = opts.dropout or 0}
end

-- model, AdamW optimizer, batcher: the same every time for the same seed
local function build(opts)
  opts = opts or {}
  llm.manualSeed(opts.seed or 7)
  local model = gpt(opts)
  local opt = optim.AdamW(model:parameters(), {lr = opts.lr or 1e-2, weightDecay = 0.1})
  local batches = llm.data.Batcher(trainIds, {batchSize = B, blockSize = T, seed = 11})
  return model, opt, batches
end

-- flat list of every parameter value, in order
local function flatParams(model)
  local out = {}
  local function add(v) if type(v) == 'table' then for _, e in ipairs(v) do add(e) end else out[#out + 1] = v end end
  for _, name in ipairs(model:parameterNames()) do add(model:namedParameters()[name]:totable()) end
  return out
end

-- A Lua module around a GPT whose loss can be scripted: `poison[k]` adds that value (NaN, Inf) to the
-- loss of the k-th training forward; `valLosses[k]` replaces the loss of the k-th evaluation forward.
local Scripted = nn.Module:extend('Scripted')
function Scripted:init(inner, script)
  self.inner = inner
  self._script = script
  self._trainCalls, self._evalCalls = 0, 0
end
function Scripted:forward(x, y)
  local logits, loss = self.inner(x, y)
  if self.training then
    self._trainCalls = self._trainCalls + 1
    local bad = self._script.poison and self._script.poison[self._trainCalls]
    if bad then loss = loss + bad end
  else
    self._evalCalls = self._evalCalls + 1
    local v = self._script.valLosses and self._script.valLosses[self._evalCalls]
    if v then loss = loss * 0 + v end
  end
  return logits, loss
end

-- a batch source over a fixed list of {x, y} (no :state(): the trainer must not need one)
local function fixedSource(list)
  local i = 0
  return {next = function() i = i + 1; return list[i][1], list[i][2] end}
end

teardown(helpers.removeTmpdirs)

describe('llm.Trainer exact resume', function()
  it('a run resumed from the step-6 checkpoint has exactly the losses and parameters of the uninterrupted run', function()
    local dir = tmpdir()
    local model, opt, batches = build{dropout = 0.1}
    local losses = {}
    captured(function()
      llm.Trainer{model = model, optimizer = opt, train = batches, steps = 12, checkpointDir = dir, checkpointEvery = 6,
                  keepLast = 5, progress = false, logEvery = 100,
                  schedule = optim.schedule.warmupCosine{maxLR = 1e-2, minLR = 1e-3, warmupSteps = 3, totalSteps = 12},
                  onStep = function(_, info) losses[info.step] = info.loss end}:run()
    end)
    assert.are.equal(12, #losses)
    assert.is_true(exists(dir .. '/step-000006/model.safetensors'))
    assert.is_true(exists(dir .. '/step-000012/model.safetensors'))

    -- a fresh model/optimizer/batcher (another seed, so nothing is shared by accident) resumed at step 6
    local model2, opt2, batches2 = build{dropout = 0.1, seed = 12345}
    local resumed = {}
    local trainer = llm.Trainer{model = model2, optimizer = opt2, train = batches2, steps = 12, progress = false, logEvery = 100,
                                schedule = optim.schedule.warmupCosine{maxLR = 1e-2, minLR = 1e-3, warmupSteps = 3, totalSteps = 12},
                                onStep = function(_, info) resumed[info.step] = info.loss end}
    local state = trainer:resume(dir .. '/step-000006')
    assert.are.equal(6, state.step)
    assert.are.equal(6, trainer.step)
    local out, result = captured(function() return trainer:run() end)
    assert.are.equal(12, result.step)
    assert.truthy(out:find('step 12/12', 1, true))
    for step = 1, 6 do assert.is_nil(resumed[step]) end
    for step = 7, 12 do
      assert(resumed[step] == losses[step], string.format('step %d: resumed loss %.17g ~= uninterrupted %.17g', step, resumed[step], losses[step]))
    end
    local a, b = flatParams(model), flatParams(model2)
    assert.are.equal(#a, #b)
    for i = 1, #a do assert(a[i] == b[i], 'parameter value ' .. i .. ' differs after resuming') end
  end)

  it('resume(parentFolder) continues from the newest checkpoint', function()
    local dir = tmpdir()
    local model, opt, batches = build()
    captured(function()
      llm.Trainer{model = model, optimizer = opt, train = batches, steps = 4, checkpointDir = dir, checkpointEvery = 2, progress = false}:run()
    end)
    local model2, opt2, batches2 = build()
    local trainer = llm.Trainer{model = model2, optimizer = opt2, train = batches2, steps = 6, progress = false}
    assert.are.equal(4, trainer:resume(dir).step)
    assert.are.equal(4, trainer.step)
  end)
end)

describe('llm.Trainer gradient accumulation', function()
  it('gradAccum=2 with batch B equals one step with batch 2B (dropout 0)', function()
    local big = llm.data.Batcher(trainIds, {batchSize = 2 * B, blockSize = T, seed = 5})
    local X, Y = big:next()
    local halves = {{X:narrow(1, 1, B):contiguous(), Y:narrow(1, 1, B):contiguous()},
                    {X:narrow(1, B + 1, B):contiguous(), Y:narrow(1, B + 1, B):contiguous()}}
    local function oneStep(gradAccum, list)
      llm.manualSeed(3)
      local model = gpt()
      local opt = optim.SGD(model:parameters(), {lr = 0.5})
      local loss
      captured(function()
        llm.Trainer{model = model, optimizer = opt, train = fixedSource(list), steps = 1, gradAccum = gradAccum, progress = false,
                    onStep = function(_, info) loss = info.loss end}:run()
      end)
      return loss, flatParams(model)
    end
    local lossAccum, pAccum = oneStep(2, halves)
    local lossBig, pBig = oneStep(1, {{X, Y}})
    assert.is_true(math.abs(lossAccum - lossBig) < 1e-6, string.format('loss %.9g vs %.9g', lossAccum, lossBig))
    local maxDiff, moved = 0, 0
    llm.manualSeed(3)
    local init = flatParams(gpt())
    for i = 1, #pBig do
      maxDiff = math.max(maxDiff, math.abs(pAccum[i] - pBig[i]))
      moved = math.max(moved, math.abs(pBig[i] - init[i]))
    end
    assert.is_true(moved > 1e-4, 'the step changed nothing')
    assert.is_true(maxDiff < 1e-6, 'parameters differ by ' .. maxDiff)
  end)
end)

describe('llm.Trainer clipping', function()
  it('records the pre-clip norm and clips the update to maxNorm', function()
    llm.manualSeed(3)
    local model = gpt()
    local before = flatParams(model)
    local trainer = llm.Trainer{model = model, optimizer = optim.SGD(model:parameters(), {lr = 1}), steps = 1, clip = 1e-3,
                                train = llm.data.Batcher(trainIds, {batchSize = B, blockSize = T, seed = 1}), progress = false}
    captured(function() trainer:run() end)
    assert.is_number(trainer.gradNorm)
    assert.is_true(trainer.gradNorm > 1e-3)
    -- SGD with lr 1: the update is the clipped gradient, whose norm is maxNorm
    local after, sq = flatParams(model), 0
    for i = 1, #after do sq = sq + (after[i] - before[i]) ^ 2 end
    assert.is_true(math.abs(math.sqrt(sq) - 1e-3) < 1e-5, 'update norm ' .. math.sqrt(sq))
  end)
  it('clip = 0 does not clip (and records no norm)', function()
    llm.manualSeed(3)
    local model = gpt()
    local trainer = llm.Trainer{model = model, optimizer = optim.SGD(model:parameters(), {lr = 1}), steps = 1,
                                train = llm.data.Batcher(trainIds, {batchSize = B, blockSize = T, seed = 1}), progress = false}
    captured(function() trainer:run() end)
    assert.is_nil(trainer.gradNorm)
  end)
end)

describe('llm.Trainer evaluation', function()
  it('computes val loss, calls onEval, keeps the best checkpoint through pruning, writes metrics JSONL', function()
    local dir = tmpdir()
    local metrics = dir .. '/logs/metrics.jsonl'
    local model, opt, batches = build()
    -- evaluations at steps 2, 4, 6 report 3.0, 1.0, 2.0: the best is step 4, not the last
    local scripted = Scripted(model, {valLosses = {3.0, 1.0, 2.0}})
    local evals, checkpoints = {}, {}
    local out, result = captured(function()
      return llm.Trainer{model = scripted, optimizer = opt, train = batches, steps = 6, logEvery = 2, progress = false,
                         val = llm.data.evalWindows(valIds, B, T), evalEvery = 2, evalBatches = 1,
                         checkpointDir = dir, checkpointEvery = 2, keepLast = 1, metrics = metrics,
                         onEval = function(_, info) evals[#evals + 1] = info end,
                         onCheckpoint = function(_, info) checkpoints[#checkpoints + 1] = info end}:run()
    end)
    assert.are.equal(3, #evals)
    assert.are.same({2, 4, 6}, {evals[1].step, evals[2].step, evals[3].step})
    assert.are.same({3.0, 1.0, 2.0}, {evals[1].valLoss, evals[2].valLoss, evals[3].valLoss})
    assert.are.same({true, true, false}, {evals[1].improved, evals[2].improved, evals[3].improved})
    assert.are.equal(2.0, result.valLoss)
    assert.are.equal(1.0, result.bestValLoss)
    assert.truthy(out:find('step 4: val loss 1.0000 (best)', 1, true))
    assert.truthy(out:find('step 6: val loss 2.0000\n', 1, true))
    -- one evaluation batch per pass
    assert.are.equal(3, rawget(scripted, '_evalCalls'))
    -- checkpoints: written at 2, 4, 6; keepLast=1 keeps step 6, and the best (step 4) survives
    assert.is_true(#checkpoints >= 3)
    local steps = {}
    for _, e in ipairs(llm.checkpoint.list(dir)) do steps[#steps + 1] = e.step end
    table.sort(steps)
    assert.are.same({4, 6}, steps)
    assert.is_true(llm.checkpoint.read(dir .. '/step-000004')['trainer.json'].best)
    -- metrics: train records every logEvery steps and one eval record per evaluation
    local train, eval = {}, {}
    for line in io.lines(metrics) do
      local rec = llm.json.decode(line)
      if rec.type == 'train' then train[#train + 1] = rec elseif rec.type == 'eval' then eval[#eval + 1] = rec
      else error('unexpected metrics record ' .. line) end
    end
    assert.are.same({2, 4, 6}, {train[1].step, train[2].step, train[3].step})
    assert.is_number(train[1].loss); assert.is_number(train[1].lr); assert.is_number(train[1].tokensPerSec)
    assert.are.equal(3, #eval)
    assert.are.same({2, 4, 6}, {eval[1].step, eval[2].step, eval[3].step})
    assert.are.equal(1.0, eval[2].valLoss)
  end)

  it('a resumed run still keeps the best checkpoint of the run it continues', function()
    local dir = tmpdir()
    local model, opt, batches = build()
    captured(function()
      llm.Trainer{model = Scripted(model, {valLosses = {3.0, 1.0, 2.0}}), optimizer = opt, train = batches, steps = 6,
                  val = llm.data.evalWindows(valIds, B, T), evalEvery = 2, evalBatches = 1, progress = false,
                  checkpointDir = dir, checkpointEvery = 2, keepLast = 1}:run()
    end)
    local model2, opt2, batches2 = build()
    local trainer = llm.Trainer{model = Scripted(model2, {valLosses = {5.0}}), optimizer = opt2, train = batches2, steps = 8,
                                val = llm.data.evalWindows(valIds, B, T), evalEvery = 2, evalBatches = 1, progress = false,
                                checkpointDir = dir, checkpointEvery = 2, keepLast = 1}
    assert.are.equal(6, trainer:resume(dir).step)
    assert.are.equal(1.0, trainer.bestValLoss)
    local _, result = captured(function() return trainer:run() end)
    assert.are.equal(1.0, result.bestValLoss)
    local steps = {}
    for _, e in ipairs(llm.checkpoint.list(dir)) do steps[#steps + 1] = e.step end
    table.sort(steps)
    assert.are.same({4, 8}, steps)
  end)

  it('evaluate() is the mean loss over the validation windows, in eval mode, and restores training mode', function()
    local model = build()
    local val = llm.data.evalWindows(valIds, B, T)
    local trainer = llm.Trainer{model = model, optimizer = optim.SGD(model:parameters()), train = fixedSource({}), steps = 1, val = val}
    local total, count = 0, 0
    model:eval()
    for i = 1, val:numBatches() do
      local x, y = val:batch(i)
      local _, loss = model(x, y)
      total, count = total + loss:item() * y:numel(), count + y:numel()
    end
    model:train()
    assert.is_true(math.abs(trainer:evaluate() - total / count) < 1e-6)
    assert.is_true(model.training)
  end)
end)

describe('llm.Trainer early stopping', function()
  it('stops after earlyStopping evaluations without improvement (lr 0: nothing improves)', function()
    local model, opt, batches = build()
    local evals, steps = 0, 0
    local out, result = captured(function()
      return llm.Trainer{model = model, optimizer = opt, train = batches, steps = 20, schedule = function() return 0 end,
                         val = llm.data.evalWindows(valIds, B, T), evalEvery = 1, evalBatches = 1, earlyStopping = 2,
                         progress = false, onEval = function() evals = evals + 1 end,
                         onStep = function(_, info) steps = info.step end}:run()
    end)
    -- step 1 improves (first evaluation); steps 2 and 3 do not -> stop after step 3
    assert.is_true(result.stoppedEarly)
    assert.are.equal(3, result.step)
    assert.are.equal(3, evals)
    assert.are.equal(3, steps)
    assert.truthy(out:find('early stopping at step 3', 1, true))
  end)
end)

describe('llm.Trainer non-finite losses', function()
  for _, bad in ipairs({0 / 0, math.huge}) do
    it(string.format("nonFinite='stop' errors naming the step (%s) and leaves the last checkpoint intact", tostring(bad)), function()
      local dir = tmpdir()
      local model, opt, batches = build()
      local scripted = Scripted(model, {poison = {[5] = bad}})
      local err = fails(function()
        captured(function()
          llm.Trainer{model = scripted, optimizer = opt, train = batches, steps = 8, checkpointDir = dir, checkpointEvery = 2,
                      progress = false}:run()
        end)
      end, 'non-finite loss', 'at step 5', 'last checkpoint is intact')
      assert.truthy(err:find(bad ~= bad and 'nan' or 'inf', 1, true))
      assert.are.equal(dir .. '/step-000004', llm.checkpoint.latest(dir))
      assert.is_false(exists(dir .. '/step-000005/trainer.json'))
      -- the last checkpoint reads and resumes
      local model2, opt2, batches2 = build{seed = 99}
      local trainer = llm.Trainer{model = Scripted(model2, {}), optimizer = opt2, train = batches2, steps = 8, progress = false}
      assert.are.equal(4, trainer:resume(dir).step)
      local out = captured(function() trainer:run() end)
      assert.truthy(out:find('step 8/8', 1, true))
    end)
  end

  it("nonFinite='skip' skips the step (no update) and continues", function()
    local model, opt, batches = build()
    local scripted = Scripted(model, {poison = {[3] = 0 / 0}})
    local infos, sums = {}, {}
    local trainer = llm.Trainer{model = scripted, optimizer = opt, train = batches, steps = 5, nonFinite = 'skip', progress = false,
                                onStep = function(_, info)
                                  infos[info.step] = info
                                  local s = 0
                                  for _, p in ipairs(model:parameters()) do s = s + p:abs():sum():item() end
                                  sums[info.step] = s
                                end}
    local out, result = captured(function() return trainer:run() end)
    assert.are.equal(5, result.step)
    assert.are.equal(1, trainer.skipped)
    assert.is_nil(infos[3].loss)
    for _, s in ipairs({1, 2, 4, 5}) do assert.is_number(infos[s].loss) end
    assert.are.equal(sums[2], sums[3])            -- the skipped step changed no parameter
    assert.are_not.equal(sums[3], sums[4])
    assert.truthy(out:find('step 3: non-finite loss', 1, true))
    assert.truthy(out:find('step skipped', 1, true))
    for _, p in ipairs(model:parameters()) do assert.is_nil(p.grad) end
  end)
end)

describe('llm.Trainer callbacks', function()
  it('onStep returning false stops the run', function()
    local model, opt, batches = build()
    local calls = 0
    local _, result = captured(function()
      return llm.Trainer{model = model, optimizer = opt, train = batches, steps = 10, progress = false,
                         onStep = function(trainer, info)
                           calls = calls + 1
                           assert.are.equal(trainer.step, info.step)
                           if info.step == 3 then return false end
                         end}:run()
    end)
    assert.are.equal(3, calls)
    assert.are.equal(3, result.step)
    assert.is_false(result.stoppedEarly)
  end)
  it('onStep returning nothing (or true) continues', function()
    local model, opt, batches = build()
    local calls = 0
    captured(function()
      llm.Trainer{model = model, optimizer = opt, train = batches, steps = 3, progress = false,
                  onStep = function() calls = calls + 1; return calls == 1 or nil end}:run()
    end)
    assert.are.equal(3, calls)
  end)
end)

describe('llm.Trainer bad input', function()
  local model, opt, batches = build()
  local base = {model = model, optimizer = opt, train = batches, steps = 2}
  local function with(changes)
    local o = {}
    for k, v in pairs(base) do o[k] = v end
    for k, v in pairs(changes) do if v == 'nil' then o[k] = nil else o[k] = v end end
    return o
  end

  it('an unknown option is an error listing the choices', function()
    fails(function() return llm.Trainer(with{stpes = 3}) end, "llm.Trainer: unknown option 'stpes'", "expected one of:", "'steps'", "'gradAccum'", "'onStep'")
  end)
  it('a missing required option is named', function()
    for _, k in ipairs({'model', 'optimizer', 'train', 'steps'}) do
      fails(function() return llm.Trainer(with{[k] = 'nil'}) end, "llm.Trainer: missing required option '" .. k .. "'")
    end
  end)
  it('bad values are errors', function()
    fails(function() return llm.Trainer(with{steps = 0}) end, "Invalid 'steps': expected a positive integer, got 0")
    fails(function() return llm.Trainer(with{steps = 2.5}) end, "Invalid 'steps'")
    fails(function() return llm.Trainer(with{gradAccum = 0}) end, "Invalid 'gradAccum'")
    fails(function() return llm.Trainer(with{nonFinite = 'ignore'}) end, "Invalid 'nonFinite'", "'stop', 'skip'", "'ignore'")
    fails(function() return llm.Trainer(with{clip = 'big'}) end, "Invalid 'clip'")
    fails(function() return llm.Trainer(with{clip = -1}) end, "Invalid 'clip': expected a non-negative number")
    fails(function() return llm.Trainer(with{logEvery = 0}) end, "Invalid 'logEvery': expected a positive integer, got 0")
    fails(function() return llm.Trainer(with{keepLast = 0}) end, "Invalid 'keepLast': expected a positive integer, got 0")
    for _, k in ipairs({'evalEvery', 'evalBatches', 'earlyStopping', 'checkpointEvery'}) do
      fails(function() return llm.Trainer(with{[k] = -1}) end, "Invalid '" .. k .. "': expected a non-negative integer, got -1")
      fails(function() return llm.Trainer(with{[k] = 1.5}) end, "Invalid '" .. k .. "'")
    end
    fails(function() return llm.Trainer(42) end, 'options must be a table')
  end)

  it('resuming from a missing folder is a clear error', function()
    local trainer = llm.Trainer(with{})
    fails(function() trainer:resume('/nonexistent/run/step-000006') end, "'/nonexistent/run/step-000006' does not exist")
  end)

  it('resuming from an empty folder or a folder that is not a checkpoint is a clear error', function()
    local dir = tmpdir()
    local trainer = llm.Trainer(with{})
    local err = fails(function() trainer:resume(dir) end, dir)
    assert.truthy(err:find('checkpoint', 1, true))
  end)

  describe('from checkpoints on disk', function()
    local dir
    lazy_setup(function()
      dir = tmpdir()
      local m, o, b = build()
      captured(function() llm.Trainer{model = m, optimizer = o, train = b, steps = 2, checkpointDir = dir, progress = false}:run() end)
    end)

    it('a truncated model.safetensors is an error naming the file; nothing of the model changes', function()
      local bad = tmpdir() .. '/step-000002'
      os.execute(string.format("cp -r '%s/step-000002' '%s'", dir, bad))
      local path = bad .. '/model.safetensors'
      local f = assert(io.open(path, 'rb')); local bytes = f:read('a'); f:close()
      f = assert(io.open(path, 'wb')); f:write(bytes:sub(1, #bytes // 2)); f:close()
      local m, o, b = build{seed = 5}
      local before = flatParams(m)
      local trainer = llm.Trainer{model = m, optimizer = o, train = b, steps = 4}
      fails(function() trainer:resume(bad) end, path)
      assert.are.same(before, flatParams(m))
      assert.are.equal(0, trainer.step)
    end)

    it('a checkpoint of another architecture names the parameter and both shapes', function()
      local m, o, b = build{dim = 32}
      local trainer = llm.Trainer{model = m, optimizer = o, train = b, steps = 4}
      local optBefore = o:stateDict()
      local err = fails(function() trainer:resume(dir .. '/step-000002') end, 'loadStateDict', 'in the state dict but')
      -- nothing was loaded: the optimizer state is the one it had (the weights are checked before it loads)
      local optAfter = o:stateDict()
      for k, v in pairs(optBefore) do
        if llm.isTensor(v) then assert.are.same(v:totable(), optAfter[k]:totable()) else assert.are.equal(v, optAfter[k]) end
      end
      local name, saved, own = err:match("'([%w%.]+)' has shape %[([%d, ]+)%] in the state dict but %[([%d, ]+)%] in the model")
      assert(name, 'no parameter and shapes in: ' .. err)
      assert.are.equal(table.concat(m:stateDict()[name]:shape(), ', '), own)
      assert.are.equal(table.concat(gpt{dim = 16}:stateDict()[name]:shape(), ', '), saved)
      assert.are_not.equal(saved, own)
      assert.are.equal(0, trainer.step)
    end)
  end)
end)

describe('llm.config', function()
  local defaults = {steps = 100, lr = 1e-3, name = 'run', verbose = false, dropout = 0.0,
                    resume = llm.config.optional('string'), layers = llm.config.optional('integer'),
                    debug = llm.config.optional('boolean')}

  it('returns the defaults without arguments, optional keys stay nil', function()
    local c = llm.config(defaults, {})
    assert.are.same({steps = 100, lr = 1e-3, name = 'run', verbose = false, dropout = 0.0}, c)
    assert.is_nil(c.resume)
    assert.are.same(c, llm.config(defaults))
  end)
  it('--key=value and --key value overrides, typed like the default', function()
    local c = llm.config(defaults, {'--steps=2000', '--lr', '3e-4', '--name=a=b', '--dropout=1'})
    assert.are.equal(2000, c.steps); assert.are.equal('integer', math.type(c.steps))
    assert.are.equal(3e-4, c.lr)
    assert.are.equal('a=b', c.name)
    assert.are.equal(1, c.dropout)
    assert.are.equal(1000, llm.config(defaults, {'--steps=1e3'}).steps)
    assert.are.equal('integer', math.type(llm.config(defaults, {'--steps=1e3'}).steps))
  end)
  it('boolean flags: --flag, --flag=false, --flag=yes', function()
    assert.is_true(llm.config(defaults, {'--verbose'}).verbose)
    assert.is_false(llm.config(defaults, {'--verbose=false'}).verbose)
    assert.is_true(llm.config(defaults, {'--verbose=yes'}).verbose)
    assert.is_true(llm.config(defaults, {'--debug'}).debug)
    assert.is_true(llm.config(defaults, {'--verbose', '--steps=3'}).verbose)
    fails(function() return llm.config(defaults, {'--verbose=maybe'}) end, "Invalid '--verbose': expected true or false, got 'maybe'")
  end)
  it('optional keys take values of their kind', function()
    local c = llm.config(defaults, {'--resume=runs/x', '--layers', '4'})
    assert.are.equal('runs/x', c.resume)
    assert.are.equal(4, c.layers)
    fails(function() return llm.config(defaults, {'--layers=2.5'}) end, "Invalid '--layers': expected an integer, got '2.5'")
  end)
  it('a wrong type is an error naming the flag and the value', function()
    fails(function() return llm.config(defaults, {'--steps=abc'}) end, "Invalid '--steps': expected a number, got 'abc'")
    fails(function() return llm.config(defaults, {'--steps=1.5'}) end, "Invalid '--steps': expected an integer, got '1.5'")
    fails(function() return llm.config(defaults, {'--lr=fast'}) end, "Invalid '--lr': expected a number, got 'fast'")
  end)
  it('an unknown flag is an error listing the known options', function()
    local err = fails(function() return llm.config(defaults, {'--step=10'}) end, "unknown option '--step'", 'known options:',
                      '--steps', '--lr', '--resume', '--verbose')
    assert.is_nil(err:find('--step,', 1, true))
  end)
  it('malformed arguments and a missing value are errors', function()
    fails(function() return llm.config(defaults, {'steps=10'}) end, "must look like --key=value, got 'steps=10'")
    fails(function() return llm.config(defaults, {'--lr'}) end, "missing value for '--lr'")
    fails(function() return llm.config(42) end, 'table expected, got number')
    fails(function() return llm.config.optional('float') end, "Invalid kind 'float'", "'string', 'number', 'integer', 'boolean'")
  end)
end)
