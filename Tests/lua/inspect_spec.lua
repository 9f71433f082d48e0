-- inspect_spec.lua: forward hooks (Module:hook: add, remove, replaced output, order, errors), the attention
-- probabilities recorded from the fused attention (equal to a plain-Lua softmax(q·kᵀ·scale + causal mask),
-- also with a sliding window and ALiBi; rows sum to 1, recording off leaves nothing behind), the SVG heat map, the logit lens (its last layer is
-- the model's logits), integrated-gradients completeness, saliency on a toy model whose output depends on
-- token 2 only, activation statistics against hand-computed values (llm/inspect.lua), and recipes/inspect.lua
-- run as a user runs it (--steps=20).
-- Run: llmscript test Tests/lua/inspect_spec.lua

local helpers = dofile(debug.getinfo(1, 'S').source:match('^@(.*/)') .. 'helpers.lua')
local fails = helpers.fails
teardown(helpers.removeTmpdirs)
local inspect = require 'llm.inspect'
local Attention = require 'llm.nn.Attention'

local function tiny(seed)
  llm.manualSeed(seed or 1)
  return nn.GPT{vocab = 11, blockSize = 8, layers = 2, heads = 2, dim = 16}
end

local function maxDiff(a, b) return (a - b):abs():max():item() end

describe('Module:hook', function()
  it('runs after forward, can replace the output, runs in order and is removed by its handle', function()
    local lin = nn.Linear(3, 2)
    local x = llm.randn(4, 3)
    local plain = lin(x)
    local seen = {}
    local h1 = lin:hook('forward', function(m, input, output)
      seen[#seen + 1] = 'first'
      assert.are.equal(lin, m); assert.are.equal(x, input)
      assert.is_true(maxDiff(output, plain) == 0)
      return output * 2
    end)
    local h2 = lin:hook('forward', function(_, _, output)
      seen[#seen + 1] = 'second'
      return output + 1     -- sees the first hook's replacement
    end)
    assert.is_true(maxDiff(lin(x), plain * 2 + 1) < 1e-6)
    assert.are.same({'first', 'second'}, seen)
    assert.are.equal(2, lin:numHooks())
    h1:remove()
    assert.is_true(maxDiff(lin(x), plain + 1) < 1e-6)
    h2:remove(); h2:remove()   -- twice is harmless
    assert.are.equal(0, lin:numHooks())
    assert.is_nil(rawget(lin, '_forwardHooks'))
    assert.is_true(maxDiff(lin(x), plain) == 0)
  end)

  it('a hook returning nil observes only; hooks on children of a model see their calls; nothing in the state dict', function()
    local model = tiny()
    local calls = 0
    local h = model.blocks[2].mlp:hook('forward', function() calls = calls + 1 end)
    local idx = llm.tensor({{1, 2, 3}}, {dtype = 'int64'})
    local a = model(idx)
    h:remove()
    assert.are.equal(1, calls)
    assert.is_true(maxDiff(a, model(idx)) == 0)
    for path in pairs(model:stateDict()) do assert.is_nil(path:find('Hook')) end
  end)

  it('bad arguments and failing hooks are clear errors', function()
    local lin = nn.Linear(3, 2)
    fails(function() lin:hook('backward', function() end) end, "expected 'forward'")
    fails(function() lin:hook('forward', 3) end, 'function expected')
    local h = lin:hook('forward', function() error('boom') end)
    fails(function() lin(llm.randn(1, 3)) end, 'forward hook of nn.Linear', 'boom')
    h:remove()
  end)
end)

-- the reference: softmax(q·kᵀ/√D) with the causal mask, in plain tensors
local function referenceProbs(q, k)
  local d, t = q:size(4), q:size(3)
  local scores = llm.matmul(q, k:transpose(3, 4)) / math.sqrt(d)
  local mask = llm.ones(t, t):triu(1) * -1e9
  return (scores + mask):softmax(4)
end

describe('attention probabilities', function()
  it('Attention.probabilities equals softmax(q·kᵀ·scale + causal mask); rows sum to 1; masked entries are 0', function()
    llm.manualSeed(3)
    local q, k = llm.randn(2, 3, 5, 4), llm.randn(2, 3, 5, 4)
    local p = Attention.probabilities(q, k, {causal = true})
    assert.are.same({2, 3, 5, 5}, p:shape())
    assert.is_true(maxDiff(p, referenceProbs(q, k)) < 1e-5)
    assert.is_true(maxDiff(p:sum(4), llm.ones(2, 3, 5)) < 1e-5)
    assert.are.equal(0, p:select(3, 1):narrow(3, 2, 4):abs():max():item())
    -- more keys than the head size (S > D), and grouped-query keys (Hkv = 1)
    local q2, k2 = llm.randn(1, 2, 9, 2), llm.randn(1, 1, 9, 2)
    local p2 = Attention.probabilities(q2, k2, {causal = true})
    assert.is_true(maxDiff(p2, referenceProbs(q2, k2:expand(1, 2, 9, 2):contiguous())) < 1e-5)
  end)

  it('sliding window and ALiBi: the same masking and bias as llm.attention (reference in plain Lua)', function()
    llm.manualSeed(8)
    local q, k = llm.randn(1, 2, 5, 3), llm.randn(1, 2, 5, 3)
    local p = Attention.probabilities(q, k, {causal = true, window = 2, alibi = true}):totable()
    local slopes = {2 ^ -4, 2 ^ -8}   -- the standard slopes for 2 heads
    local qt, kt = q:totable(), k:totable()
    for h = 1, 2 do
      for i = 1, 5 do
        local logits, z = {}, 0
        for j = 1, 5 do
          if j <= i and i - j < 2 then
            local dot = 0
            for d = 1, 3 do dot = dot + qt[1][h][i][d] * kt[1][h][j][d] end
            logits[j] = math.exp(dot / math.sqrt(3) - slopes[h] * (i - j))
            z = z + logits[j]
          end
        end
        for j = 1, 5 do
          local want = logits[j] and logits[j] / z or 0
          assert.is_true(math.abs(p[1][h][i][j] - want) < 1e-5, string.format('head %d query %d key %d: %g vs %g', h, i, j, p[1][h][i][j], want))
        end
      end
    end
  end)

  it('attentionMaps records each layer of a GPT forward (the layer output is unchanged) and then stops recording', function()
    local model = tiny(4)
    local idx = llm.tensor({{1, 5, 2, 7, 3, 3}}, {dtype = 'int64'})
    local before = model(idx)
    local maps, out = inspect.attentionMaps(model, idx)
    assert.are.equal(2, #maps)
    assert.are.equal('blocks.0.attn', maps[1].path)
    assert.is_true(maxDiff(out, before) == 0)
    -- layer 1 by hand: q, k of ln1(embed(idx))
    local attn = model.blocks[1].attn
    local x = model.blocks[1].ln1(model:embed(idx))
    local qkv = attn.qkv(x):chunk(3, 3)
    local function heads(z) return z:reshape(1, 6, 2, 8):transpose(2, 3) end
    assert.is_true(maxDiff(maps[1].probs, referenceProbs(heads(qkv[1]), heads(qkv[2]))) < 1e-5)
    for _, m in ipairs(maps) do assert.is_true(maxDiff(m.probs:sum(4), llm.ones(1, 2, 6)) < 1e-5) end
    assert.is_nil(attn:lastAttention())
    assert.is_nil(rawget(attn, '_recordAttention'))
    fails(function() inspect.attentionMaps(nn.Linear(2, 2), idx) end, 'no nn.CausalSelfAttention')
  end)

  it('attentionSVG draws a heat map labelled by the tokens', function()
    local p = Attention.probabilities(llm.randn(1, 2, 3, 4), llm.randn(1, 2, 3, 4), {causal = true})
    local svg = inspect.attentionSVG(p, {head = 2, tokens = {'a', '<b>', 'c'}, title = 'L0 H1'})
    assert.truthy(svg:find('^<svg'))
    assert.truthy(svg:find('&lt;b&gt;', 1, true))
    local _, cells = svg:gsub('<rect x="%d+" y="%d+" width="%d+" height="%d+" fill="#%x+"><title>', '')
    assert.are.equal(9, cells)
    fails(function() inspect.attentionSVG(p, {head = 3}) end, 'out of range')
  end)
end)

describe('logit lens', function()
  it('has the embedding and every block; the last layer equals the model logits; top tokens are sorted', function()
    local model = tiny(5)
    local idx = llm.tensor({{1, 2, 3, 4}}, {dtype = 'int64'})
    local lens = inspect.logitLens(model, idx, {topK = 3})
    assert.are.equal(3, #lens)
    assert.are.equal('embed', lens[1].layer)
    assert.is_true(maxDiff(lens[3].logits, model(idx)) < 1e-6)
    local top = lens[3].top
    assert.are.equal(3, #top)
    assert.is_true(top[1].prob >= top[2].prob and top[2].prob >= top[3].prob)
    assert.are.equal(model(idx):select(1, 1):select(1, 4):argmax():item(), top[1].id)
    assert.is_true(maxDiff(lens[1].logits, model:headLogits(model:embed(idx))) < 1e-6)
    assert.are.equal(0, model.blocks[1]:numHooks())
  end)
end)

describe('saliency', function()
  it('integrated gradients are complete: their sum is f(x) − f(baseline)', function()
    local model = tiny(6)
    local idx = llm.tensor({{3, 1, 4, 1, 5}}, {dtype = 'int64'})
    local ig = inspect.saliency(model, idx, {steps = 64, target = 2})
    assert.are.equal(5, #ig.scores)
    local gap = ig.f - ig.fBaseline
    assert.is_true(math.abs(ig.sum - gap) < 1e-3 * math.max(1, math.abs(gap)), ig.sum .. ' vs ' .. gap)
    assert.are.equal(0, model.tokEmb:numHooks())
    -- f is the target's logit at the last position
    assert.is_true(math.abs(ig.f - model(idx):select(1, 1):select(1, 5):select(1, 3):item()) < 1e-5)
  end)

  it('a toy model whose output depends only on token 2 gets all the attribution on token 2', function()
    llm.manualSeed(7)
    local Toy = nn.Module:extend('Toy')
    function Toy:init() self.emb = nn.Embedding(6, 4); self.out = nn.Linear(4, 1) end
    function Toy:forward(idx) return self.out(self.emb(idx):select(2, 2):tanh()):reshape(idx:size(1)) end
    local toy = Toy()
    local idx = llm.tensor({{0, 3, 5, 1}}, {dtype = 'int64'})
    local output = function(out) return out end
    for _, method in ipairs({'ig', 'gradxinput'}) do
      local s = inspect.saliency(toy, idx, {method = method, embedding = toy.emb, output = output, steps = 50})
      assert.is_true(math.abs(s.scores[2]) > 1e-4, method .. ': token 2 gets ' .. s.scores[2])
      for _, i in ipairs({1, 3, 4}) do assert.are.equal(0, s.scores[i], method .. ': token ' .. i) end
    end
    local ig = inspect.saliency(toy, idx, {embedding = toy.emb, output = output, steps = 50})
    assert.is_true(math.abs(ig.scores[2] - (ig.f - ig.fBaseline)) < 1e-4)
    fails(function() inspect.saliency(toy, idx, {method = 'lime', embedding = toy.emb, output = output}) end, "Invalid 'method'")
    fails(function() inspect.saliency(toy, llm.tensor({{1, 2}, {3, 4}}, {dtype = 'int64'}), {embedding = toy.emb}) end, 'batch 1')
  end)
end)

describe('activation statistics', function()
  it('mean / std / max / fraction of zeros per module, over every call, hooks removed after', function()
    local Net = nn.Module:extend('Net')
    function Net:init() self.lin = nn.Linear(2, 3) end
    function Net:forward(x) return self.lin(x):relu() end
    local net = Net()
    llm.noGrad(function()
      net.lin.weight:copy_(llm.tensor({{1, 0}, {0, 1}, {-1, -1}}))
      net.lin.bias:zero_()
    end)
    local x = llm.tensor({{1, 2}, {3, -1}})
    local stats = inspect.activationStats(net, function() net(x) end)
    local byPath = {}
    for _, s in ipairs(stats) do byPath[s.path] = s end
    -- lin: {{1, 2, -3}, {3, -1, -2}}; net (after relu): {{1, 2, 0}, {3, 0, 0}}
    local lin, top = byPath['lin'], byPath['(model)']
    assert.are.equal(6, lin.count)
    assert.is_true(math.abs(lin.mean - 0) < 1e-6)
    assert.is_true(math.abs(lin.std - math.sqrt(28 / 6)) < 1e-5)
    assert.are.equal(3, lin.max); assert.are.equal(-3, lin.min)
    assert.is_true(math.abs(top.fracZero - 0.5) < 1e-9)
    assert.is_true(math.abs(top.mean - 1) < 1e-6)
    assert.are.equal(0, net.lin:numHooks())
    local twice = inspect.activationStats(net, function() net(x); net(x) end, {filter = function(path) return path == 'lin' end})
    assert.are.equal(1, #twice)
    assert.are.equal(12, twice[1].count)
  end)
end)

describe('recipes/inspect.lua', function()
  it('trains a tiny char model for --steps=20, writes the heat maps and prints lens, saliency and stats', function()
    local cli = dofile(debug.getinfo(1, 'S').source:match('^@(.*/)') .. 'cli.lua')
    local dir = helpers.tmpdir('inspect')
    helpers.syntheticCorpus(dir, {'the', 'a', 'fox', 'dog', 'cat', 'runs', 'over'}, 60, 8, 3)
    local code, stdout, stderr = cli.run({cli.root .. 'recipes/inspect.lua', '--steps=20', '--dim=16', '--blockSize=16',
                                          '--corpus=' .. dir .. '/corpus.txt', '--prompt=the cat', '--out=' .. dir .. '/out'})
    assert(code == 0, stderr)
    for _, want in ipairs({'logit lens', 'block 1', 'IG completeness', 'activation statistics', 'blocks.0.attn.qkv'}) do
      assert.truthy(stdout:find(want, 1, true), want .. ' missing in\n' .. stdout)
    end
    local sum, gap = stdout:match('IG completeness: sum (%S+) vs f%(x%) %- f%(baseline%) = (%S+)')
    assert.is_true(math.abs(tonumber(sum) - tonumber(gap)) < 0.02 * math.max(1, math.abs(tonumber(gap))))
    for _, f in ipairs({'attention-L0.svg', 'attention-L1.svg', 'saliency.svg'}) do
      local svg = cli.readAll(dir .. '/out/' .. f)
      assert(svg and svg:find('^<svg') and svg:find('</svg>%s*$'), f)
    end
  end)
end)
