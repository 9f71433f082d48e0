-- compress_spec.lua: the compress namespace (stdlib-lua/llm/compress): masks (zeroing, gradients, the
-- optimizers' masked path: Adam's moments do not regrow a pruned weight), every criterion (magnitude
-- layer/global, random, taylor, movement; structured rows/neurons/heads by L1/L2), every schedule (one-shot,
-- iterative, GMP's cubic, lottery ticket with rewinding), the pruner extension through checkpoint + resume,
-- removeMasks, sparsity, shrink (same logits as the masked model; a shrunk model through a Trainer
-- checkpoint and recipes/sample.lua), group lasso, SET/RigL keeping their densities, ERK, the KD loss against
-- a PyTorch fixture (Tests/Fixtures/kd_loss.lua) and the distill extension; bad input errors change nothing.
-- Tiny models (dim 8-16), a few steps each.
-- Run: llmscript test Tests/lua/compress_spec.lua

local here = debug.getinfo(1, 'S').source:match('^@(.*/)')
local helpers = dofile(here .. 'helpers.lua')
local cli = dofile(here .. 'cli.lua')
local fails = helpers.fails
teardown(helpers.removeTmpdirs)

local text = string.rep('pack my box with five dozen liquor jugs; the quick brown fox. ', 10)
local tokenizer = llm.data.CharTokenizer(text)
local trainIds, valIds = llm.data.split(tokenizer:encode(text), 0.2)
local T, B = 8, 2

local function gpt(seed, opts)
  llm.manualSeed(seed or 3)
  local cfg = {vocab = tokenizer:vocabSize(), blockSize = T, layers = 2, heads = 4, dim = 16}
  for k, v in pairs(opts or {}) do cfg[k] = v end
  return nn.GPT(cfg)
end

local function quiet(fn) return select(2, helpers.captured(fn)) end

local function trainer(model, opts)
  local o = {model = model, optimizer = optim.AdamW(model:parameters(), {lr = 0.01, weightDecay = 0.1}),
             train = llm.data.Batcher(trainIds, {batchSize = B, blockSize = T, seed = 5}), steps = 4, progress = false}
  for k, v in pairs(opts or {}) do o[k] = v end
  return llm.Trainer(o)
end

local function zeros(t) return math.floor(t:eq(0):sum():item() + 0.5) end
local function maxAbs(t) return t:abs():max():item() end
local function sameTensor(a, b, tol) return maxAbs(a - b) <= (tol or 0) end

describe('compress masks', function()
  it('setMask zeroes the weights; sparsity per path and total; masks() copies; removeMasks keeps the zeros', function()
    local m = gpt()
    local w = m.blocks[1].mlp.fc.weight
    local mask = llm.ones(w:shape())
    mask:narrow(1, 1, 16):fill_(0)
    compress.setMask(m, 'blocks.0.mlp.fc.weight', mask)
    assert.are.equal(16 * 16, zeros(w))
    local s = compress.sparsity(m)
    assert.are.equal(256, s.paths['blocks.0.mlp.fc.weight'].zeros)
    assert.are.equal(0.25, s.paths['blocks.0.mlp.fc.weight'].sparsity)
    assert.are.equal(0, s.paths['blocks.1.attn.qkv.weight'].zeros)
    assert.are.equal(256, s.total.zeros)
    assert.is_nil(s.paths['tokEmb.weight'])   -- embeddings are not pruning targets by default
    local copies = compress.masks(m)
    copies['blocks.0.mlp.fc.weight']:fill_(1)   -- a copy: the model's mask is unchanged
    assert.are.equal(256, zeros(compress.masks(m)['blocks.0.mlp.fc.weight']))
    assert.are.equal(1, compress.removeMasks(m))
    assert.is_nil(next(compress.masks(m)))
    assert.are.equal(256, zeros(w))
  end)

  it('a masked parameter and its Adam moments stay zero through optimizer steps (the native masked path)', function()
    local m = gpt()
    local opt = optim.Adam(m:parameters(), {lr = 0.05})
    compress.prune(m, {amount = 0.5})
    compress.attach(m, opt)
    local x, y = llm.data.Batcher(trainIds, {batchSize = B, blockSize = T, seed = 1}):next()
    for _ = 1, 3 do   -- gradients are not masked here: the optimizer alone must keep the zeros
      local _, loss = m(x, y); loss:backward(); opt:step(); opt:zeroGrad()
    end
    local w = m.blocks[1].attn.qkv.weight
    local mask = compress.masks(m)['blocks.0.attn.qkv.weight']
    assert.are.equal(w:numel() // 2, zeros(w))
    assert.are.equal(0, maxAbs(w * (1 - mask)))
    local index
    for i, p in ipairs(opt:parameters()) do if rawequal(p, w) then index = i - 1 end end
    local sd = opt:stateDict()
    for _, buf in ipairs({'exp_avg', 'exp_avg_sq'}) do
      local b = sd['state.' .. index .. '.' .. buf]
      assert.are.equal(0, maxAbs(b * (1 - mask)))   -- no momentum builds up where pruned
      assert.is_true(maxAbs(b * mask) > 0)
    end
    assert.is_not_nil(opt:mask(w))
    compress.removeMasks(m)
    assert.is_nil(opt:mask(w))   -- the optimizer lets go too
  end)

  it('bad input: amount outside [0, 1], a missing path, a mask of another shape; nothing changes', function()
    local m = gpt()
    local before = m.blocks[1].mlp.fc.weight:clone()
    fails(function() compress.prune(m, {amount = 1.5}) end, "compress.prune: Invalid 'amount': expected a number in [0, 1], got 1.5")
    fails(function() compress.prune(m, {amount = -0.1}) end, "Invalid 'amount'")
    fails(function() compress.prune(m, {amount = 0.5, params = {'blocks.9.mlp.fc.weight'}}) end,
      "compress.prune: no parameter 'blocks.9.mlp.fc.weight' in the model")
    fails(function() compress.setMask(m, 'nope.weight', llm.ones(2)) end, "no parameter 'nope.weight'")
    fails(function() compress.setMask(m, 'blocks.0.mlp.fc.weight', llm.zeros(3, 3)) end,
      "has shape [3, 3] but the parameter has shape [64, 16] (masks from another model?)")
    fails(function() compress.prune(m, {amount = 0.5, criterion = 'size'}) end, "Invalid 'criterion'")
    fails(function() compress.prune(m, {amount = 0.5, scope = 'all'}) end, "Invalid 'scope'")
    fails(function() compress.prune(m, {amount = 0.5, structure = 'columns'}) end, "Invalid 'structure'")
    fails(function() compress.prune(m, {amount = 0.5, criterion = 'taylor'}) end, "criterion 'taylor' needs gradients")
    assert.is_true(sameTensor(before, m.blocks[1].mlp.fc.weight))
    assert.is_nil(next(compress.masks(m)))
  end)
end)

describe('compress criteria', function()
  it('magnitude, layer-wise: exactly round(amount·n) per matrix, the smallest |w|', function()
    local m = gpt()
    compress.prune(m, {amount = 0.3})
    for path, p in pairs(m:namedParameters()) do
      local mask = compress.masks(m)[path]
      if mask then
        assert.are.equal(math.floor(0.3 * p:numel() + 0.5), zeros(mask))
        local orig = gpt():namedParameters()[path]:abs()
        local prunedMax = (orig * (1 - mask)):max():item()
        local keptMin = llm.where(mask, orig, math.huge):min():item()
        assert.is_true(prunedMax <= keptMin, path)
      end
    end
  end)

  it('magnitude, global: one threshold over all targets, the total exact', function()
    local m = gpt()
    compress.prune(m, {amount = 0.4, scope = 'global'})
    local s = compress.sparsity(m)
    assert.are.equal(math.floor(0.4 * s.total.numel + 0.5), s.total.zeros)
    local rates = {}
    for _, v in pairs(s.paths) do rates[#rates + 1] = v.sparsity end
    table.sort(rates)
    assert.is_true(rates[#rates] - rates[1] > 0.05)   -- layers differ (smaller init std: the residual projections)
    local orig, prunedMax, keptMin = gpt():namedParameters(), 0, math.huge
    for path, mask in pairs(compress.masks(m)) do
      local a = orig[path]:abs()
      prunedMax = math.max(prunedMax, (a * (1 - mask)):max():item())
      keptMin = math.min(keptMin, llm.where(mask, a, math.huge):min():item())
    end
    assert.is_true(prunedMax <= keptMin)
  end)

  it('random: the exact count, not the magnitude choice; masks only grow sparser', function()
    local a, b = gpt(), gpt()
    compress.prune(a, {amount = 0.5, criterion = 'random'})
    compress.prune(b, {amount = 0.5})
    local ma, mb = compress.masks(a)['blocks.0.mlp.fc.weight'], compress.masks(b)['blocks.0.mlp.fc.weight']
    assert.are.equal(512, zeros(ma))
    assert.is_true(maxAbs(ma - mb) > 0)
    compress.prune(a, {amount = 0.25})   -- less than reached: every pruned weight stays pruned
    assert.are.equal(0, maxAbs(compress.masks(a)['blocks.0.mlp.fc.weight'] - ma))
    compress.prune(a, {amount = 0.75})
    local m2 = compress.masks(a)['blocks.0.mlp.fc.weight']
    assert.are.equal(768, zeros(m2))
    assert.are.equal(0, maxAbs(m2 * (1 - ma)))   -- the new mask lies inside the old one
  end)

  it('taylor |w·g| and movement −w·g rank by the gradient', function()
    local lin = nn.Linear(4, 1, {bias = false})
    llm.noGrad(function() lin.weight:copy_(llm.tensor{{1, -2, 3, -4}}) end)
    lin.weight.grad = llm.tensor{{4, 1, -0.1, 1}}   -- w·g = 4, -2, -0.3, -4
    compress.prune(lin, {amount = 0.5, criterion = 'taylor', params = {'weight'}})
    assert.are.same({{1, 0, 0, 1}}, compress.masks(lin).weight:totable())   -- |w·g| 0.3 and 2 go
    compress.removeMasks(lin)
    llm.noGrad(function() lin.weight:copy_(llm.tensor{{1, -2, 3, -4}}) end)
    compress.prune(lin, {amount = 0.5, criterion = 'movement', params = {'weight'}})
    assert.are.same({{0, 1, 0, 1}}, compress.masks(lin).weight:totable())   -- −w·g = -4, 2, 0.3, 4: -4 and 0.3 go
  end)

  it('structured: rows, MLP neurons and attention heads, by L1 and L2 norm, whole units', function()
    local m = gpt()
    compress.prune(m, {amount = 0.5, structure = 'heads'})
    for i = 1, 2 do
      local proj = compress.masks(m)['blocks.' .. (i - 1) .. '.attn.proj.weight']   -- (16, 4 heads × 4)
      local perHead = proj:reshape(16, 4, 4):sum(3):sum(1):totable()
      local dead = 0
      for _, v in ipairs(perHead) do
        assert.is_true(v == 0 or v == 64)
        if v == 0 then dead = dead + 1 end
      end
      assert.are.equal(2, dead)
      local qkvMask = compress.masks(m)['blocks.' .. (i - 1) .. '.attn.qkv.weight']:reshape(3, 4, 4 * 16):sum(3):sum(1):totable()
      for h = 1, 4 do assert.are.equal(perHead[h] == 0, qkvMask[h] == 0) end
    end
    local n = gpt()
    compress.prune(n, {amount = 0.25, structure = 'neurons', criterion = 'l1'})
    local fc = compress.masks(n)['blocks.0.mlp.fc.weight']:sum(2):totable()
    local cols = compress.masks(n)['blocks.0.mlp.proj.weight']:sum(1):totable()
    local dead = 0
    for j = 1, 64 do
      assert.are.equal(fc[j] == 0, cols[j] == 0)
      if fc[j] == 0 then dead = dead + 1 end
    end
    assert.are.equal(16, dead)
    -- the pruned neurons are those of least L1 norm (fc row + fc bias + proj column)
    local o = gpt()
    local l1 = (o.blocks[1].mlp.fc.weight:abs():sum(2) + o.blocks[1].mlp.fc.bias:abs() + o.blocks[1].mlp.proj.weight:abs():sum(1)):totable()
    local deadMax, aliveMin = 0, math.huge
    for j = 1, 64 do
      if fc[j] == 0 then deadMax = math.max(deadMax, l1[j]) else aliveMin = math.min(aliveMin, l1[j]) end
    end
    assert.is_true(deadMax <= aliveMin)
    local r = gpt()
    compress.prune(r, {amount = 0.5, structure = 'rows', params = {'blocks.1.mlp.proj.weight'}})
    local rows = compress.masks(r)['blocks.1.mlp.proj.weight']:sum(2):totable()
    local deadRows = 0
    for _, v in ipairs(rows) do if v == 0 then deadRows = deadRows + 1 else assert.are.equal(64, v) end end
    assert.are.equal(8, deadRows)
    assert.are.equal(8, zeros(compress.masks(r)['blocks.1.mlp.proj.bias']))
  end)
end)

describe('compress.schedule', function()
  it('oneShot, iterative, gmp (cubic) and lotteryTicket values', function()
    local one = compress.schedule.oneShot{at = 3, amount = 0.6}
    assert.are.same({0, 0, 0.6, 0.6}, {one(0), one(2), one(3), one(100)})
    local it = compress.schedule.iterative{start = 2, every = 5, rounds = 3, amount = 0.875}
    assert.are.equal(0, it(6))
    assert.is_true(math.abs(it(7) - 0.5) < 1e-12)     -- 1 − 0.125^(1/3)
    assert.is_true(math.abs(it(12) - 0.75) < 1e-12)
    assert.is_true(math.abs(it(17) - 0.875) < 1e-12)
    assert.is_true(math.abs(it(99) - 0.875) < 1e-12)
    local g = compress.schedule.gmp{initial = 0.1, final = 0.9, start = 10, stop = 50, every = 10}
    local function zhu(t) return 0.9 + (0.1 - 0.9) * (1 - (t - 10) / 40) ^ 3 end
    assert.are.equal(0, g(9))
    assert.is_true(math.abs(g(10) - 0.1) < 1e-12)
    assert.is_true(math.abs(g(25) - zhu(20)) < 1e-12)   -- held between pruning steps
    assert.is_true(math.abs(g(30) - zhu(30)) < 1e-12)
    assert.is_true(math.abs(g(50) - 0.9) < 1e-12 and math.abs(g(80) - 0.9) < 1e-12)
    local lt = compress.schedule.lotteryTicket{rewindTo = 1, every = 3, rounds = 2, amount = 0.75}
    assert.are.equal(1, lt.rewindTo)
    assert.are.same({0, 0.5, 0.75}, {lt(2), lt(3), lt(6)})
  end)

  it('bad schedule options are errors', function()
    fails(function() compress.schedule.oneShot{amount = 2} end, "compress.schedule.oneShot: Invalid 'amount': expected a number in [0, 1], got 2")
    fails(function() compress.schedule.gmp{final = 0.5, start = 5, stop = 5} end, "'stop' (5) must be after 'start' (5)")
    fails(function() compress.schedule.gmp{final = 1.2, stop = 5} end, "Invalid 'final'")
    fails(function() compress.schedule.iterative{every = 0, rounds = 2, amount = 0.5} end, "Invalid 'every'")
    fails(function() compress.schedule.lotteryTicket{rewindTo = 9, every = 3, rounds = 2, amount = 0.5} end, "must come before the first pruning")
    fails(function() compress.pruner{model = gpt(), schedule = 0.5} end, "Invalid 'schedule'")
  end)
end)

describe('compress.pruner (a Trainer extension)', function()
  it('GMP during training: the target reached, pruned weights and Adam moments zero, kept weights learn', function()
    local m = gpt()
    local tr = trainer(m, {steps = 6, extensions = {compress.pruner{model = m, schedule = compress.schedule.gmp{final = 0.8, start = 1, stop = 4, every = 1}}}})
    quiet(function() tr:run() end)
    local s = compress.sparsity(m)
    assert.is_true(math.abs(s.total.sparsity - 0.8) < 1e-3)
    local sd = tr.optimizer:stateDict()
    for i, p in ipairs(tr.optimizer:parameters()) do
      local mask
      for path, q in pairs(m:namedParameters()) do if rawequal(p, q) then mask = compress.masks(m)[path] end end
      if mask then
        assert.are.equal(0, maxAbs(p * (1 - mask)))
        assert.are.equal(0, maxAbs(sd['state.' .. (i - 1) .. '.exp_avg'] * (1 - mask)))
        assert.are.equal(0, maxAbs(sd['state.' .. (i - 1) .. '.exp_avg_sq'] * (1 - mask)))
      end
    end
  end)

  it('masks and scores survive checkpoint + resume: the resumed run equals the uninterrupted one', function()
    local dir = helpers.tmpdir('prune-resume')
    local function make()
      local m = gpt()
      local ext = compress.pruner{model = m, criterion = 'movement',
                                  schedule = compress.schedule.iterative{start = 0, every = 2, rounds = 2, amount = 0.5}}
      return m, ext
    end
    local m1, e1 = make()
    local t1 = trainer(m1, {steps = 4, extensions = {e1}})
    local full = quiet(function() return t1:run() end)
    local m2, e2 = make()
    local t2 = trainer(m2, {steps = 3, extensions = {e2}, checkpointDir = dir, checkpointEvery = 3})
    quiet(function() t2:run() end)
    local m3, e3 = make()
    local t3 = trainer(m3, {steps = 4, extensions = {e3}, checkpointDir = dir})
    t3:resume(dir)
    assert.is_true(math.abs(e3.reached - (1 - 0.5 ^ 0.5)) < 1e-12)   -- the first round's sparsity, restored
    for path, mask in pairs(compress.masks(m2)) do assert.are.equal(0, maxAbs(compress.masks(m3)[path] - mask)) end
    local resumed = quiet(function() return t3:run() end)
    assert.is_true(math.abs(resumed.loss - full.loss) < 1e-5)
    for path, mask in pairs(compress.masks(m1)) do assert.are.equal(0, maxAbs(compress.masks(m3)[path] - mask)) end
  end)

  it('a checkpoint with masks of another model is refused, naming the problem; the masks stay', function()
    local dir = helpers.tmpdir('prune-other')
    local m = gpt()
    local t = trainer(m, {steps = 2, checkpointDir = dir, extensions = {compress.pruner{model = m, schedule = compress.schedule.oneShot{amount = 0.5}}}})
    quiet(function() t:run() end)
    local ck = llm.checkpoint.read(llm.checkpoint.latest(dir))
    local other = gpt(3, {dim = 8, heads = 2})
    local ext = compress.pruner{model = other, schedule = compress.schedule.oneShot{amount = 0.1}}
    local Extensions = require 'llm.extensions'
    fails(function() ext:loadStateDict(Extensions.stateOf(ext, ck['trainer.json'].extensions, ck['extensions.safetensors'])) end,
      'compress.pruner', 'masks from another model')
    assert.is_nil(next(compress.masks(other)))
  end)

  it('taylor pruning inside a run, and lottery-ticket rewinding to the weights of step k', function()
    local m = gpt()
    local tr = trainer(m, {steps = 3, extensions = {compress.pruner{model = m, criterion = 'taylor', schedule = compress.schedule.oneShot{at = 2, amount = 0.5}}}})
    quiet(function() tr:run() end)
    assert.is_true(math.abs(compress.sparsity(m).total.sparsity - 0.5) < 1e-3)
    local l = gpt()
    local saved
    local spy = {name = 'spy', afterStep = function(_, _, info)
      if info.step == 1 then saved = l.blocks[1].mlp.fc.weight:clone() end
    end}
    local lt = compress.pruner{model = l, schedule = compress.schedule.lotteryTicket{rewindTo = 1, every = 3, rounds = 1, amount = 0.5}}
    local t2 = trainer(l, {steps = 3, extensions = {lt, spy}})
    quiet(function() t2:run() end)   -- pruned after step 3, then rewound to the step-1 weights
    local mask = compress.masks(l)['blocks.0.mlp.fc.weight']
    assert.is_true(sameTensor(l.blocks[1].mlp.fc.weight, saved * mask))
    assert.are.equal(512, zeros(l.blocks[1].mlp.fc.weight))
  end)
end)

describe('compress.shrink', function()
  it('removes pruned heads and neurons: fewer parameters, the same logits', function()
    local m = gpt()
    compress.prune(m, {amount = 0.5, structure = 'heads'})
    compress.prune(m, {amount = 0.5, structure = 'neurons'})
    m:eval()
    local x = llm.data.Batcher(trainIds, {batchSize = B, blockSize = T, seed = 1}):next()
    local masked = llm.noGrad(function() return m(x) end)
    local small, info = compress.shrink(m)
    assert.are.same({2, 2}, info.heads)
    assert.are.same({32, 32}, info.hidden)
    assert.is_true(small:numParameters() < m:numParameters())
    assert.are.same({heads = 2, hidden = 32}, small:config().layerConfig[1])
    local out = llm.noGrad(function() return small(x) end)
    assert.is_true(maxAbs(out - masked) < 1e-5)
    local gen1 = m:generate(llm.tensor({1}, {dtype = 'int64'}), {maxTokens = 5, temperature = 0})
    local gen2 = small:generate(llm.tensor({1}, {dtype = 'int64'}), {maxTokens = 5, temperature = 0})
    assert.are.same(gen1:totable(), gen2:totable())
  end)

  it('a shrunk model goes through a Trainer checkpoint and recipes/sample.lua loads it', function()
    local m = gpt()
    compress.prune(m, {amount = 0.5, structure = 'heads'})
    local small = compress.shrink(m)
    local dir = helpers.tmpdir('shrunk')
    local t = trainer(small, {steps = 1, checkpointDir = dir,
      extra = {model = small:config(), modelClass = small.__name, tokenizer = tokenizer:toTable()}})
    quiet(function() t:run() end)
    local ck = llm.checkpoint.read(llm.checkpoint.latest(dir))
    local again = nn.GPT(ck['trainer.json'].extra.model)
    again:loadStateDict(ck['model.safetensors'])
    assert.are.equal(small:numParameters(), again:numParameters())
    local code, stdout, stderr = cli.run({cli.root .. 'recipes/sample.lua', '--checkpoint=' .. dir, '--tokens=4', '--samples=1', '--prompt=the'})
    assert(code == 0, stderr)
    assert.truthy(stdout:find('loaded ' .. dir, 1, true))
    assert.truthy(stdout:find('--- sample 1 ---', 1, true))
  end)
end)

describe('compress.groupLasso', function()
  it('λ·Σ √|g|·‖w_g‖ over rows, as a penalty and as an extension adding it to the loss', function()
    local lin = nn.Linear(3, 2)
    llm.noGrad(function() lin.weight:copy_(llm.tensor{{3, 4, 0}, {0, 0, 0}}); lin.bias:copy_(llm.tensor{0, 0}) end)
    local gl = compress.groupLasso{model = lin, lambda = 0.5, params = {'weight'}}
    assert.is_true(math.abs(gl:penalty():item() - 0.5 * 2 * (5 + 1e-6)) < 1e-4)   -- √(4 elements per row) = 2
    local pen = gl:penalty(); pen:backward()
    assert.is_true(maxAbs(lin.weight.grad:narrow(1, 1, 1) - llm.tensor{{0.6, 0.8, 0}}) < 1e-5)
    local m = gpt()
    local ext = compress.groupLasso{model = m, structure = 'heads', lambda = 0.01}
    local out = {loss = llm.tensor(1)}
    ext:afterForward(nil, nil, out)
    assert.is_true(out.loss:item() > 1)
    fails(function() compress.groupLasso{model = m, lambda = -1} end, "Invalid 'lambda'")
  end)
end)

describe('compress dynamic sparse training', function()
  it('ERK densities average to the target; dense where they would exceed 1', function()
    local m = gpt()
    local d = compress.erk(m, 0.9)
    local kept, total = 0, 0
    for path, p in pairs(m:namedParameters()) do
      if d[path] then kept, total = kept + d[path] * p:numel(), total + p:numel() end
    end
    assert.is_true(math.abs(kept / total - 0.1) < 1e-9)
    assert.is_true(d['blocks.0.attn.proj.weight'] > d['blocks.0.mlp.fc.weight'])   -- (16+16)/256 > (64+16)/1024
  end)

  for _, method in ipairs({'set', 'rigl'}) do
    it(method .. ': every layer keeps its density through drop/grow updates; the masks move', function()
      local m = gpt()
      local ext = compress[method]{model = m, sparsity = 0.8, every = 2, dropFraction = 0.5, stop = 4}
      local t = trainer(m, {steps = 5, extensions = {ext}})
      local first
      local spy = {name = 'spy', onRunStart = function() first = compress.masks(m) end}
      t:use(spy)
      quiet(function() t:run() end)
      assert.are.equal(2, ext.updates)
      local moved = false
      for path, mask in pairs(compress.masks(m)) do
        local p = m:namedParameters()[path]
        assert.are.equal(math.floor(ext.density[path] * p:numel() + 0.5), p:numel() - zeros(mask), path)
        assert.are.equal(0, maxAbs(p * (1 - mask)))
        if maxAbs(mask - first[path]) > 0 then moved = true end
      end
      assert.is_true(moved)
    end)
  end
end)

describe('compress dynamic sparse training state', function()
  it('RigL masks come back from a checkpoint; a fresh run of the resumed trainer does not redraw them', function()
    local dir = helpers.tmpdir('rigl-resume')
    local m = gpt()
    local t = trainer(m, {steps = 2, checkpointDir = dir, extensions = {compress.rigl{model = m, sparsity = 0.7, every = 1, stop = 2}}})
    quiet(function() t:run() end)
    local saved = compress.masks(m)
    local m2 = gpt(11)
    local ext = compress.rigl{model = m2, sparsity = 0.7, every = 1, stop = 2}
    local t2 = trainer(m2, {steps = 3, checkpointDir = dir, extensions = {ext}})
    t2:resume(dir)
    for path, mask in pairs(saved) do assert.are.equal(0, maxAbs(compress.masks(m2)[path] - mask), path) end
    assert.is_true(ext.started)
    quiet(function() t2:run() end)   -- step 3 is past stop: the masks stay
    for path, mask in pairs(saved) do assert.are.equal(0, maxAbs(compress.masks(m2)[path] - mask), path) end
  end)
end)

describe('compress distillation', function()
  local fixture = dofile(here .. '../Fixtures/kd_loss.lua')

  it('kdLoss equals PyTorch (value and gradient)', function()
    for _, c in ipairs(fixture) do
      local s = helpers.fixtureTensor(c.student):requiresGrad_(true)
      local tt = helpers.fixtureTensor(c.teacher)
      local y = helpers.fixtureTensor(c.targets)
      local loss = compress.kdLoss(s, tt, y, {alpha = c.alpha, temperature = c.temperature})
      assert.is_true(math.abs(loss:item() - c.loss) < 1e-5 * math.max(1, math.abs(c.loss)), 'loss ' .. loss:item() .. ' vs ' .. c.loss)
      loss:backward()
      assert.is_true(maxAbs(s.grad - helpers.fixtureTensor(c.grad)) < 1e-6)
    end
    fails(function() compress.kdLoss(llm.zeros(2, 3), llm.zeros(2, 4), llm.zeros(2, {dtype = 'int64'})) end, 'must have the same shape')
    fails(function() compress.kdLoss(llm.zeros(2, 3), llm.zeros(2, 3), llm.zeros(2, {dtype = 'int64'}), {alpha = 2}) end, "Invalid 'alpha'")
  end)

  it('the distill extension trains a student on the KD loss (and hidden-state matching)', function()
    local teacher = gpt(7, {layers = 3})
    local student = gpt(8, {layers = 1})
    local seen = {}
    local spy = {name = 'spy', beforeBackward = function(_, _, batch, out)
      local ce = select(2, student(batch.x, batch.y))
      local tl = llm.noGrad(function() return teacher(batch.x) end)
      seen[#seen + 1] = {out.loss:item(), compress.kdLoss(student(batch.x), tl, batch.y, {alpha = 0.7, temperature = 3}):item(), ce:item()}
    end}
    local t = trainer(student, {steps = 2, extensions = {compress.distill{teacher = teacher, alpha = 0.7, temperature = 3}, spy}})
    quiet(function() t:run() end)
    for _, v in ipairs(seen) do assert.is_true(math.abs(v[1] - v[2]) < 1e-5 and math.abs(v[1] - v[3]) > 1e-4) end
    assert.is_false(teacher.training)
    local hs = gpt(9, {layers = 1})
    local withHidden = {}
    local spy2 = {name = 'spy', beforeBackward = function(_, _, _, out) withHidden[#withHidden + 1] = out.loss:item() end}
    local t2 = trainer(hs, {steps = 1, extensions = {compress.distill{teacher = teacher, alpha = 0, hidden = {[1] = 3}, hiddenWeight = 1}, spy2}})
    quiet(function() t2:run() end)
    assert.is_true(withHidden[1] > 0)
    fails(function() compress.distill{teacher = 3} end, "compress.distill: Invalid 'model'")
  end)
end)
