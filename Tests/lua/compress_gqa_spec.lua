-- compress_gqa_spec.lua: structured head pruning of grouped-query attention (stdlib-lua/llm/compress/
-- structured.lua through compress.prune / compress.pruner / compress.groupLasso) on nn.Llama and nn.GPT with
-- kvHeads < heads: query heads by L2/L1 norm (their q rows and proj columns; the shared k/v rows stay),
-- balanced = true (the same number per key/value group, scope 'layer' and 'global'), groups = true (whole
-- key/value groups with their k/v rows and biases); masks stay zero through AdamW steps of a Trainer with the
-- pruner extension; prune -> compress.shrink gives the masked model's logits within 1e-5 with fewer
-- parameters (and prunes again on the shrunk model); pruner state through checkpoint + resume; multi-head attentions are unchanged by the options;
-- bad options are errors that change nothing. Tiny models (dim 32, 2 blocks).
-- Run: llmscript test Tests/lua/compress_gqa_spec.lua

local here = debug.getinfo(1, 'S').source:match('^@(.*/)')
local helpers = dofile(here .. 'helpers.lua')
local fails = helpers.fails
teardown(helpers.removeTmpdirs)

local tiny = dofile(here .. 'compress/tiny.lua')   -- shared text, tokenizer, batch and Llama builder
local tokenizer, ids, T, B, x = tiny.tokenizer, tiny.ids, tiny.T, tiny.B, tiny.x
-- heads 8, kvHeads 2 (4 query heads per group), head size 4, no biases
local llama = tiny.llama

-- heads 8, kvHeads 4 (2 query heads per group), head size 4, biases
local function gpt(opts)
  llm.manualSeed(11)
  local cfg = {vocab = tokenizer:vocabSize(), blockSize = 16, dim = 32, layers = 2, heads = 8, kvHeads = 4}
  for k, v in pairs(opts or {}) do cfg[k] = v end
  return nn.GPT(cfg)
end

local function maxAbs(t) return t:abs():max():item() end
local function logits(m) return llm.noGrad(function() return m(x) end) end
local function mask(m, block, name) return compress.masks(m)['blocks.' .. (block - 1) .. '.attn.' .. name] end

-- Per query head of block i: whether it is pruned (proj columns masked), checking that the q rows (and q
-- bias) agree and that the whole head is masked or not at all.
local function prunedHeads(m, i)
  local attn = m.blocks[i].attn
  local h, d, dim = attn._heads, attn._headDim, attn._dim
  local cols = mask(m, i, 'proj.weight'):reshape(dim, h, d):sum(3):sum(1):totable()
  local rows = mask(m, i, 'qkv.weight'):narrow(1, 1, h * d):reshape(h, d * dim):sum(2):totable()
  local bias = mask(m, i, 'qkv.bias')
  local out = {}
  for j = 1, h do
    assert.is_true(cols[j] == 0 or cols[j] == d * dim)
    assert.are.equal(cols[j], rows[j])
    if bias then assert.are.equal(cols[j] == 0, bias:narrow(1, (j - 1) * d + 1, d):sum():item() == 0) end
    out[j] = cols[j] == 0
  end
  return out
end

-- Pruned query heads per key/value group of block i (a list of counts).
local function perGroup(m, i)
  local attn = m.blocks[i].attn
  local r, counts = attn._heads // attn._kvHeads, {}
  for j, dead in ipairs(prunedHeads(m, i)) do
    local g = (j - 1) // r + 1
    counts[g] = (counts[g] or 0) + (dead and 1 or 0)
  end
  return counts
end

-- Key/value rows of block i that the mask zeroes.
local function kvZeros(m, i)
  local attn = m.blocks[i].attn
  local h, hkv, d = attn._heads, attn._kvHeads, attn._headDim
  return math.floor(mask(m, i, 'qkv.weight'):narrow(1, h * d + 1, 2 * hkv * d):eq(0):sum():item() + 0.5)
end

-- L2 norm of each query head of block i (q rows, q bias, proj columns), before pruning.
local function headNorms(m, i)
  local attn = m.blocks[i].attn
  local h, d, dim = attn._heads, attn._headDim, attn._dim
  local sq = (attn.qkv.weight:narrow(1, 1, h * d):reshape(h, d * dim) ^ 2):sum(2)
  sq = sq + (attn.proj.weight:reshape(dim, h, d) ^ 2):sum(3):sum(1)
  if attn.qkv.bias then sq = sq + (attn.qkv.bias:narrow(1, 1, h * d):reshape(h, d) ^ 2):sum(2) end
  return sq:sqrt():totable()
end

-- Shrinks m (eval mode): the same logits within 1e-5, fewer parameters; returns the small model and info.
local function shrinkSame(m)
  m:eval()
  local before = logits(m)
  local small, info = compress.shrink(m)
  assert.is_true(maxAbs(logits(small) - before) < 1e-5)
  assert.is_true(small:numParameters() < m:numParameters())
  return small, info
end

describe('compress.prune structure = heads on grouped-query attention', function()
  it('query heads: the lowest-norm heads go (q rows, proj columns); shared k/v rows stay', function()
    local m = llama()
    local norms = headNorms(m, 1)
    compress.prune(m, {amount = 0.5, structure = 'heads'})
    for i = 1, 2 do
      local dead, n = prunedHeads(m, i), 0
      for _, v in ipairs(dead) do if v then n = n + 1 end end
      assert.are.equal(4, n)
      assert.are.equal(0, kvZeros(m, i))
    end
    local dead = prunedHeads(m, 1)
    local deadMax, aliveMin = 0, math.huge
    for j = 1, 8 do
      if dead[j] then deadMax = math.max(deadMax, norms[j]) else aliveMin = math.min(aliveMin, norms[j]) end
    end
    assert.is_true(deadMax <= aliveMin)
    local small, info = shrinkSame(m)   -- unbalanced groups: shrink keeps what it must (zeroed)
    assert.are.equal('nn.Llama', small.__name)
    for i = 1, 2 do assert.are.equal(4, info.heads[i] - info.zeroHeads[i]) end
  end)

  it('balanced: the same number per group (the lowest of each group), all removed by shrink', function()
    local m = llama()
    local norms = headNorms(m, 2)
    compress.prune(m, {amount = 0.5, structure = 'heads', balanced = true, criterion = 'l2'})
    for i = 1, 2 do
      assert.are.same({2, 2}, perGroup(m, i))
      assert.are.equal(0, kvZeros(m, i))
    end
    local dead = prunedHeads(m, 2)
    for g = 0, 1 do
      local deadMax, aliveMin = 0, math.huge
      for j = g * 4 + 1, g * 4 + 4 do
        if dead[j] then deadMax = math.max(deadMax, norms[j]) else aliveMin = math.min(aliveMin, norms[j]) end
      end
      assert.is_true(deadMax <= aliveMin)
    end
    local small, info = shrinkSame(m)
    assert.are.same({4, 4}, info.heads)
    assert.are.same({2, 2}, info.kvHeads)
    assert.are.same({0, 0}, info.zeroHeads)
    assert.are.same({}, info.notes)
    assert.are.same({(4 + 2 * 2) * 4, 32}, small.blocks[1].attn.qkv.weight:shape())
    -- amount 1: all but one head per group; L1 norm; nn.GPT with biases
    local g = gpt()
    compress.prune(g, {amount = 1, structure = 'heads', balanced = true, criterion = 'l1'})
    for i = 1, 2 do assert.are.same({1, 1, 1, 1}, perGroup(g, i)) end
    local _, ginfo = shrinkSame(g)
    assert.are.same({4, 4}, ginfo.heads)
    assert.are.same({4, 4}, ginfo.kvHeads)
    assert.are.same({0, 0}, ginfo.zeroHeads)
  end)

  it('balanced, scope global: whole levels (one head of every group) ranked across blocks', function()
    local m = llama()
    compress.prune(m, {amount = 0.6, structure = 'heads', balanced = true, scope = 'global'})   -- 10 of 16 heads
    local total = 0
    for i = 1, 2 do
      local c = perGroup(m, i)
      assert.are.equal(c[1], c[2])
      assert.is_true(c[1] <= 3)
      total = total + c[1] + c[2]
    end
    assert.are.equal(10, total)
    local _, info = shrinkSame(m)
    assert.are.same({0, 0}, info.zeroHeads)
    -- GPT: 16 heads, round(0.3·16) = 5, levels of 4 heads: one level fits
    local g = gpt()
    compress.prune(g, {amount = 0.3, structure = 'heads', balanced = true, scope = 'global'})
    local a, b = perGroup(g, 1), perGroup(g, 2)
    local sum = 0
    for j = 1, 4 do
      assert.are.equal(a[1], a[j])
      assert.are.equal(b[1], b[j])
      sum = sum + a[j] + b[j]
    end
    assert.are.equal(4, sum)
  end)

  it('groups: whole key/value groups (k/v rows and biases with their query heads), then shrink', function()
    local g = gpt()
    compress.prune(g, {amount = 0.5, structure = 'heads', groups = true})
    for i = 1, 2 do
      local c = perGroup(g, i)
      local gone = 0
      for _, n in ipairs(c) do
        assert.is_true(n == 0 or n == 2)
        if n == 2 then gone = gone + 1 end
      end
      assert.are.equal(2, gone)
      assert.are.equal(2 * 2 * 4 * 32, kvZeros(g, i))   -- k and v rows of 2 kv heads
      local bias, zeros = mask(g, i, 'qkv.bias'), 0
      for k = 1, 4 do
        local kb = bias:narrow(1, 8 * 4 + (k - 1) * 4 + 1, 4):sum():item()
        local vb = bias:narrow(1, 12 * 4 + (k - 1) * 4 + 1, 4):sum():item()
        assert.are.equal(kb, vb)
        assert.are.equal(kb == 0, c[k] == 2)
        if kb == 0 then zeros = zeros + 1 end
      end
      assert.are.equal(2, zeros)
    end
    local small, info = shrinkSame(g)
    assert.are.same({4, 4}, info.heads)
    assert.are.same({2, 2}, info.kvHeads)
    assert.are.equal('nn.GPT', small.__name)
    -- the shrunk model prunes again (per-block layerConfig): balanced, then shrink once more
    compress.prune(small, {amount = 0.5, structure = 'heads', balanced = true})
    for i = 1, 2 do assert.are.same({1, 1}, perGroup(small, i)) end
    local smaller, info2 = shrinkSame(small)
    assert.are.same({2, 2}, info2.heads)
    assert.are.same({2, 2}, info2.kvHeads)
    assert.are.equal(2, smaller.blocks[1].attn._heads)
    -- Llama, scope global: 4 groups in all, 2 go, at least one per block stays
    local m = llama()
    compress.prune(m, {amount = 0.5, structure = 'heads', groups = true, scope = 'global', criterion = 'l1'})
    local _, linfo = shrinkSame(m)
    assert.are.same({1, 1}, linfo.kvHeads)
    assert.are.same({4, 4}, linfo.heads)
  end)

  it('multi-head attentions: groups and balanced change nothing (every head its own group)', function()
    local plain, grouped, balanced = llama({kvHeads = 8}), llama({kvHeads = 8}), llama({kvHeads = 8})
    compress.prune(plain, {amount = 0.5, structure = 'heads'})
    compress.prune(grouped, {amount = 0.5, structure = 'heads', groups = true})
    compress.prune(balanced, {amount = 0.5, structure = 'heads', balanced = true})
    for path, t in pairs(compress.masks(plain)) do
      assert.is_true(maxAbs(compress.masks(grouped)[path] - t) == 0, path)
      assert.is_true(maxAbs(compress.masks(balanced)[path] - t) == 0, path)
    end
  end)
end)

describe('GQA head masks through training', function()
  it('the pruner keeps pruned heads at zero through AdamW steps; masks grow balanced; shrink gives the same logits', function()
    local m = llama()
    local opt = optim.AdamW(m:parameters(), {lr = 0.01, weightDecay = 0.1})
    local ext = compress.pruner{model = m, structure = 'heads', balanced = true,
                                schedule = compress.schedule.iterative{start = 1, every = 2, rounds = 2, amount = 0.5}}
    local kvBefore = m.blocks[1].attn.qkv.weight:narrow(1, 8 * 4 + 1, 2 * 2 * 4):clone()
    local tr = llm.Trainer{model = m, optimizer = opt, train = llm.data.Batcher(ids, {batchSize = B, blockSize = T, seed = 5}),
                           steps = 6, progress = false, extensions = {ext}}
    select(2, helpers.captured(function() tr:run() end))
    for i = 1, 2 do
      local c = perGroup(m, i)
      assert.are.equal(c[1], c[2])
      assert.is_true(c[1] >= 2)   -- two rounds: 2 per group, then more
      for path, mk in pairs(compress.masks(m)) do
        local w = m:namedParameters()[path]
        assert.are.equal(0, maxAbs(w * (1 - mk)), path)   -- every pruned weight is exactly zero
      end
    end
    -- Adam's moments of pruned weights stay zero too (the optimizer's masked path)
    local sd = opt:stateDict()
    for i, p in ipairs(opt:parameters()) do
      for path, q in pairs(m:namedParameters()) do
        local mk = rawequal(p, q) and compress.masks(m)[path]
        if mk then
          assert.are.equal(0, maxAbs(sd['state.' .. (i - 1) .. '.exp_avg'] * (1 - mk)), path)
          assert.are.equal(0, maxAbs(sd['state.' .. (i - 1) .. '.exp_avg_sq'] * (1 - mk)), path)
        end
      end
    end
    -- the shared k/v rows are not masked: they trained
    assert.is_true(maxAbs(m.blocks[1].attn.qkv.weight:narrow(1, 8 * 4 + 1, 2 * 2 * 4) - kvBefore) > 0)
    local _, info = shrinkSame(m)
    assert.are.same({0, 0}, info.zeroHeads)
  end)

  it('groups pruning survives checkpoint + resume: the resumed run equals the uninterrupted one', function()
    local dir = helpers.tmpdir('gqa-resume')
    local function run(steps, opts)
      local m = gpt()
      local ext = compress.pruner{model = m, structure = 'heads', groups = true, scope = 'global',
                                  schedule = compress.schedule.iterative{start = 1, every = 2, rounds = 2, amount = 0.5}}
      local o = {model = m, optimizer = optim.AdamW(m:parameters(), {lr = 0.01}), steps = steps, progress = false,
                 train = llm.data.Batcher(ids, {batchSize = B, blockSize = T, seed = 5}), extensions = {ext}}
      for k, v in pairs(opts or {}) do o[k] = v end
      return m, llm.Trainer(o)
    end
    local m1, t1 = run(5)
    local full = select(2, helpers.captured(function() return t1:run() end))
    local _, t2 = run(3, {checkpointDir = dir, checkpointEvery = 3})
    helpers.captured(function() t2:run() end)
    local m3, t3 = run(5, {checkpointDir = dir})
    t3:resume(dir)
    local resumed = select(2, helpers.captured(function() return t3:run() end))
    assert.is_true(math.abs(resumed.loss - full.loss) < 1e-5)
    for path, mk in pairs(compress.masks(m1)) do assert.are.equal(0, maxAbs(compress.masks(m3)[path] - mk), path) end
    local _, info = shrinkSame(m3)
    assert.is_true(info.kvHeads[1] + info.kvHeads[2] < 8)
  end)

  it('groupLasso groups = true: λ·Σ √|g|·‖w_g‖₂ over whole key/value groups', function()
    local g = gpt({layers = 1})
    local ext = compress.groupLasso{model = g, structure = 'heads', groups = true, lambda = 0.5}
    local attn = g.blocks[1].attn
    local expected = 0
    local size = (2 * 4 + 2 * 4) * 32 + (2 * 4 + 2 * 4) + 32 * 2 * 4   -- q, k, v rows, their biases, proj columns
    for k = 0, 3 do
      local rows = {attn.qkv.weight:narrow(1, k * 8 + 1, 8), attn.qkv.weight:narrow(1, 32 + k * 4 + 1, 4),
                    attn.qkv.weight:narrow(1, 48 + k * 4 + 1, 4), attn.qkv.bias:narrow(1, k * 8 + 1, 8),
                    attn.qkv.bias:narrow(1, 32 + k * 4 + 1, 4), attn.qkv.bias:narrow(1, 48 + k * 4 + 1, 4),
                    attn.proj.weight:narrow(2, k * 8 + 1, 8)}
      local sq = 0
      for _, t in ipairs(rows) do sq = sq + (t ^ 2):sum():item() end
      expected = expected + math.sqrt(sq)
    end
    expected = 0.5 * math.sqrt(size) * expected
    assert.is_true(math.abs(ext:penalty():item() - expected) < 1e-4 * expected)
  end)
end)

describe('GQA head pruning options: errors change nothing', function()
  it('bad option values and combinations are errors naming them', function()
    local m = llama()
    fails(function() compress.prune(m, {amount = 0.5, structure = 'heads', groups = 'yes'}) end, "Invalid 'groups'", 'boolean')
    fails(function() compress.prune(m, {amount = 0.5, structure = 'heads', balanced = 1}) end, "Invalid 'balanced'", 'boolean')
    fails(function() compress.prune(m, {amount = 0.5, structure = 'heads', groups = true, balanced = true}) end,
      "'groups' and 'balanced' exclude each other")
    fails(function() compress.prune(m, {amount = 0.5, structure = 'neurons', balanced = true}) end,
      "'balanced = true' applies to structure = 'heads'", "'neurons'")
    fails(function() compress.prune(m, {amount = 0.5, groups = true}) end, "'groups = true' applies to structure = 'heads'", 'nil')
    fails(function() compress.pruner{model = m, structure = 'rows', groups = true, schedule = compress.schedule.oneShot{amount = 0.5}} end,
      'compress.pruner', "'groups = true' applies to structure = 'heads'")
    fails(function() compress.groupLasso{model = m, structure = 'heads', balanced = true, lambda = 0.1} end, 'balanced')
    fails(function() compress.groupLasso{model = m, structure = 'heads', groups = 2, lambda = 0.1} end, "Invalid 'groups'")
    fails(function() compress.prune(m, {amount = 2, structure = 'heads', balanced = true}) end, "Invalid 'amount'")
    assert.is_nil(next(compress.masks(m)))
    assert.are.equal(0, compress.sparsity(m).total.zeros)
  end)
end)
