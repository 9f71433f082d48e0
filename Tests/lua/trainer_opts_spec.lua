-- trainer_opts_spec.lua: per-batch forward options through the Trainer (llm/train.lua: batch.opts, the
-- third value of a batch source) and every extension that handles batches. On packed llm.data.instructions
-- batches ({segments, positions}, targets −100 on prompts and padding): the Trainer's losses and weights
-- equal a hand loop calling model(x, y, opts) (and differ from one that drops opts); a model that records
-- its calls sees the opts in training and evaluation and nil from a two-value source; the validation loss
-- is the mean over all scored targets; dist.shardBatches cuts opts like x and y; a one-stage pipeline with
-- micro-batches (chunks cut with their opts, losses summed over the batch's scored targets) trains like
-- the model itself; DP-SGD's per-example gradients are each row's own mean over its scored tokens, with
-- the row's opts; distillation's teacher gets the opts. The multi-process checks (TP/PP with ignored
-- targets) are in dist_opts_spec.lua.
-- Run: llmscript test Tests/lua/trainer_opts_spec.lua
local here = debug.getinfo(1, 'S').source:match('^@(.*/)')
local h = dofile(here .. 'helpers.lua')
local setup = dofile(here .. 'dist/opts_setup.lua')
local batchopts = require 'llm.batchopts'

local function maxDiff(a, b) return (a - b):abs():max():item() end

-- The largest difference between two models' parameters (same architecture).
local function weightDiff(a, b)
  local worst, pb = 0, b:namedParameters()
  for name, p in pairs(a:namedParameters()) do worst = math.max(worst, maxDiff(p, pb[name])) end
  return worst
end

-- A module that logs each forward call ({training, opts}) into `log` and runs the inner model.
local Recorder = nn.Module:extend('Recorder')
function Recorder:init(inner, log)
  self.inner = inner
  rawset(self, '_log', log)
end
function Recorder:forward(x, y, opts)
  local log = rawget(self, '_log')
  log[#log + 1] = {training = self.training, opts = opts}
  return self.inner(x, y, opts)
end

-- Trains with the Trainer (extensions optional); returns the per-step losses.
local function trainerLosses(model, data, steps, extensions, gradAccum)
  local losses = {}
  h.captured(function()
    llm.Trainer{model = model, optimizer = optim.AdamW(model:parameters(), {lr = 1e-2}), train = data, steps = steps,
                gradAccum = gradAccum or 2, progress = false, extensions = extensions,
                onStep = function(_, info) losses[info.step] = info.loss end}:run()
  end)
  return losses
end

-- The same training by hand: model(x, y, opts) per micro-batch (withOpts = false drops them).
local function handLosses(model, data, steps, withOpts, gradAccum)
  gradAccum = gradAccum or 2
  local opt, losses = optim.AdamW(model:parameters(), {lr = 1e-2}), {}
  for s = 1, steps do
    local total = 0
    for _ = 1, gradAccum do
      local x, y, opts = data:next()
      local _, loss = model(x, y, withOpts and opts or nil)
      local scaled = loss / gradAccum
      scaled:backward()
      total = total + loss:item()
    end
    opt:step(); opt:zeroGrad()
    losses[s] = total / gradAccum
  end
  return losses
end

local function sameLosses(a, b, tol, what)
  assert.are.equal(#b, #a, what)
  for i = 1, #b do assert(math.abs(a[i] - b[i]) <= tol, string.format('%s step %d: %.8f vs %.8f', what, i, a[i], b[i])) end
end

describe('Trainer batch options (batch.opts)', function()
  it('trains a packed instructions source exactly like a hand loop passing model(x, y, opts)', function()
    local x, _, opts = setup.data():next()
    assert.is_true(opts.segments:max():item() >= 2, 'the rows hold several packed examples')
    local model = setup.model(5)
    local losses = trainerLosses(model, setup.data(), 3)
    local hand = setup.model(5)
    sameLosses(losses, handLosses(hand, setup.data(), 3, true), 1e-6, 'trainer vs hand loop')
    assert.is_true(weightDiff(model, hand) <= 1e-6)
    -- dropping the opts lets packed examples see each other: another loss
    local without = handLosses(setup.model(5), setup.data(), 3, false)
    assert.is_true(math.abs(without[1] - losses[1]) > 1e-5, string.format('%.8f vs %.8f', without[1], losses[1]))
    assert.are.equal(setup.B, x:size(1))
  end)

  it('hands the opts to the model in training and evaluation, nil from a two-value source', function()
    local log = {}
    local model = Recorder(setup.model(5), log)
    local data, val = setup.data(), setup.data({shuffle = false})
    h.captured(function()
      llm.Trainer{model = model, optimizer = optim.SGD(model:parameters(), {lr = 0.1}), train = data, val = val,
                  steps = 2, gradAccum = 2, progress = false}:run()
    end)
    local train, eval = 0, 0
    for _, call in ipairs(log) do
      assert.is_table(call.opts)
      assert.are.same({setup.B, setup.T}, call.opts.segments:shape())
      assert.are.same({setup.B, setup.T}, call.opts.positions:shape())
      if call.training then train = train + 1 else eval = eval + 1 end
    end
    assert.are.equal(4, train)              -- 2 steps x 2 micro-batches
    assert.are.equal(val:numBatches(), eval)
    -- the evaluated opts are those of the validation batches, in order
    local _, _, first = val:batch(1)
    assert.are.equal(0, maxDiff(first.segments, log[5].opts.segments))

    local plain = {}
    local m2 = Recorder(setup.model(5), plain)
    local ids = llm.tensor({1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18}, {dtype = 'int64'})
    h.captured(function()
      llm.Trainer{model = m2, optimizer = optim.SGD(m2:parameters(), {lr = 0.1}), train = llm.data.Batcher(ids, {batchSize = 2, blockSize = 4, seed = 1}),
                  val = llm.data.evalWindows(ids, 2, 4), steps = 2, progress = false}:run()
    end)
    assert.is_true(#plain >= 3)
    for _, call in ipairs(plain) do assert.is_nil(call.opts) end
  end)

  it('a two-value source trains as before (Trainer equals the hand loop)', function()
    local ids = llm.tensor({5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24}, {dtype = 'int64'})
    local function source() return llm.data.Batcher(ids, {batchSize = 2, blockSize = 6, seed = 2}) end
    local a, b = setup.model(9), setup.model(9)
    sameLosses(trainerLosses(a, source(), 3), handLosses(b, source(), 3, true), 1e-6, 'two-value source')
    assert.is_true(weightDiff(a, b) <= 1e-6)
  end)

  it('the validation loss is the mean over every scored target of the validation batches', function()
    local model = setup.model(5)
    local val = setup.data({shuffle = false, batchSize = 3})   -- 8 rows: batches of 3, 3 and 2 rows
    local trainer = llm.Trainer{model = model, optimizer = optim.SGD(model:parameters(), {lr = 0.1}), train = setup.data(),
                                val = val, steps = 1, progress = false}
    local sum, count = 0, 0
    for i = 1, val:numBatches() do
      local x, y, opts = val:batch(i)
      sum = sum + llm.crossEntropy(model(x, nil, opts), y, {ignoreIndex = -100, reduction = 'sum'}):item()
      count = count + y:ne(-100):sum():item()
    end
    assert.is_true(math.abs(trainer:evaluate() - sum / count) <= 1e-5, string.format('%.7f vs %.7f', trainer:evaluate(), sum / count))
  end)
end)

describe('extensions carry batch.opts', function()
  it('llm.batchopts.narrow cuts the (B, ...) tensors and passes the rest through', function()
    local opts = {segments = llm.arange(0, 8, {dtype = 'int64'}):reshape(4, 2), other = llm.zeros(3, 2), tag = 'keep'}
    local got = batchopts.narrow(opts, 4, 3, 2)
    assert.are.same({{4, 5}, {6, 7}}, got.segments:totable())
    assert.are.equal(opts.other, got.other)
    assert.are.equal('keep', got.tag)
    assert.is_nil(batchopts.narrow(nil, 4, 1, 2))
    h.fails(function() batchopts.narrow(5, 4, 1, 2, 'dist.shardBatches') end, "dist.shardBatches: the batch options (the source's third value) must be a table, got number")
  end)

  it('dist.shardBatches returns each rank its rows of x, y and the opts tensors', function()
    local code = [[
      local ok, err = pcall(dist.init)
      if not ok then print('NOMPI ' .. tostring(err)) return end
      local function comm(rank, size) return {rank = function() return rank end, size = function() return size end} end
      local rows = llm.arange(0, 4, {dtype = 'int64'}):reshape(4, 1):expand(4, 3):contiguous()
      local function plus(k) return (rows + k):long() end
      local src = {next = function() return rows, plus(10), {segments = plus(20), positions = plus(30), keep = llm.zeros(2), n = 7} end}
      local x, y, o = dist.shardBatches(src, {comm = comm(1, 2)}):next()
      print('x', table.concat(x:reshape(6):totable(), ','), 'y', y[1][1]:item(), 'seg', table.concat(o.segments:reshape(6):totable(), ','),
            'pos', o.positions[2][3]:item(), 'keep', o.keep:numel(), 'n', o.n)
      local two = {next = function() return rows, rows end}
      print('two', select('#', dist.shardBatches(two, {comm = comm(0, 2)}):next()), select(3, dist.shardBatches(two, {comm = comm(0, 2)}):next()))
      local bad = {next = function() return rows, rows, 'packed' end}
      print('bad', select(2, pcall(function() return dist.shardBatches(bad, {comm = comm(0, 2)}):next() end)))
    ]]
    local status, out, err = h.runCode(code)
    assert.are.equal(0, status, err)
    if out:find('^NOMPI') then return end
    assert.truthy(out:find('x\t2,2,2,3,3,3\ty\t12\tseg\t22,22,22,23,23,23\tpos\t33\tkeep\t2\tn\t7', 1, true), out)
    assert.truthy(out:find('two\t3\tnil', 1, true), out)
    assert.truthy(out:find("bad\t[^\n]*dist.shardBatches: the batch options %(the source's third value%) must be a table, got string"), out)
  end)

  it('a one-stage pipeline with 2 micro-batches trains a packed source like the model itself', function()
    local fake = {size = function() return 1 end, rank = function() return 0 end}
    local model = setup.model(5)
    local pp = trainerLosses(model, setup.data(), 3, {dist.pipelineParallel(model, {comm = fake, microBatches = 2})})
    local ref = setup.model(5)
    sameLosses(pp, trainerLosses(ref, setup.data(), 3), 1e-5, 'pipeline vs model')
    -- AdamW's division by sqrt(v) amplifies the summation-order differences (about 1e-7) over 3 steps
    assert.is_true(weightDiff(model, ref) <= 1e-4, tostring(weightDiff(model, ref)))
    -- evaluation through the pipeline's evaluateBatch: the same validation loss
    local function valLoss(m, ext)
      return llm.Trainer{model = m, optimizer = optim.SGD(m:parameters(), {lr = 0}), train = setup.data(), val = setup.data({shuffle = false}),
                         steps = 1, progress = false, extensions = ext}:evaluate()
    end
    assert.is_true(math.abs(valLoss(model, {dist.pipelineParallel(model, {comm = fake})}) - valLoss(ref)) <= 1e-5)
    -- options a stage cannot pass on are refused by name
    local cached = {next = function() local x, y = setup.data():next(); return x, y, {cache = {}} end}
    local m3 = setup.model(5)
    h.fails(function() trainerLosses(m3, cached, 1, {dist.pipelineParallel(m3, {comm = fake})}, 1) end,
      "dist.pipelineParallel: the batch option 'cache' is not supported by the pipeline (only positions, segments, keyMask)")
  end)

  it('DP-SGD: per-example gradients are each row\'s own mean over its scored tokens, with the row\'s opts', function()
    local model = setup.model(5)
    local x, y, opts = setup.data():next()
    local ext = require('llm.privacy').DPSGD{noise = 0, clip = 1e6, sampleRate = 0.5, datasetSize = 8}
    local trainer = {model = model, params = model:parameters()}
    ext:forwardBackward(trainer, {{x = x, y = y, opts = opts}})
    local got = {}
    for name, p in pairs(model:namedParameters()) do got[name] = p.grad:clone() end
    model:zeroGrad()
    local b = x:size(1)
    for r = 1, b do
      local ro = batchopts.narrow(opts, b, r, 1)
      local _, loss = model(x:narrow(1, r, 1), y:narrow(1, r, 1), ro)
      loss:backward()   -- accumulates Σ_r grad(mean loss of row r)
    end
    local worst = 0
    for name, p in pairs(model:namedParameters()) do
      worst = math.max(worst, maxDiff(got[name], p.grad) / (p.grad:abs():max():item() + 1e-12))
    end
    assert.is_true(worst <= 1e-4, 'relative gradient difference ' .. worst)
  end)

  it('distillation: the teacher forward gets the batch opts; kdLoss ignores -100 targets', function()
    local log = {}
    local teacher = Recorder(setup.model(6), log)
    local student = setup.model(5)
    trainerLosses(student, setup.data(), 1, {compress.distill{teacher = teacher}}, 1)
    assert.are.equal(1, #log)
    assert.are.same({setup.B, setup.T}, log[1].opts.segments:shape())
    local x, y, opts = setup.data():next()
    local s, t = student(x, nil, opts), teacher.inner(x, nil, opts)
    local kd = compress.kdLoss(s, t, y, {alpha = 0})
    assert.is_true(math.abs(kd:item() - llm.crossEntropy(s, y, {ignoreIndex = -100}):item()) <= 1e-6)
  end)
end)
