-- arch_spec.lua: model structure as a recipe choice — nn.Llama and nn.GPT's structure options against
-- PyTorch (Tests/Fixtures/arch_llama.lua, arch_variants.lua from scripts/reference/make_arch_fixtures.py:
-- logits, loss and every parameter gradient), nn.lora against PyTorch (forward, gradients, merge), the
-- options and their errors, the one position/mask interface (KV cache, per-row positions, key masks,
-- segments), generation (with cache == without; batched prompts of different lengths == one by one),
-- LoRA freezing, merging, adapter-only state dicts and Trainer checkpoints.
-- Run: llmscript test Tests/lua/arch_spec.lua   (from the repository root)
--
-- Tolerance: |got − want| ≤ 1e-6 + 1e-5·|want| per element against the float64 reference; PyTorch's
-- own float32 run lies within 3.5e-6 (logits), 1.2e-6 (loss), 6.8e-7 (grads) and 2.3e-7 (10 AdamW losses) of it
-- (the fixtures' f32 fields).

local dir = debug.getinfo(1, 'S').source:match('^@(.*/)') or './'
local helpers = dofile(dir .. 'helpers.lua')
local fails = helpers.fails
local llamaFx = dofile(dir .. '../Fixtures/arch_llama.lua')
local variantFx = dofile(dir .. '../Fixtures/arch_variants.lua')
local RTOL, ATOL = 1e-5, 1e-6

local T, flatten = helpers.fixtureTensor, helpers.flatten

-- got (tensor) against want (fixture tensor or tensor), elementwise within the tolerance
local function close(what, got, want, rtol, atol)
  rtol, atol = rtol or RTOL, atol or ATOL
  assert(llm.isTensor(got), what .. ': no tensor')
  local wshape = llm.isTensor(want) and want:shape() or want.shape
  assert.are.same(wshape, got:shape(), what .. ': shape')
  local g, w = flatten(got), llm.isTensor(want) and flatten(want) or want.data
  for i = 1, #w do
    local err, tol = math.abs(g[i] - w[i]), atol + rtol * math.abs(w[i])
    if not (err <= tol) then
      error(string.format('%s: element %d is %.9g, want %.9g (|diff| %.3g > tol %.3g)', what, i, g[i], w[i], err, tol), 2)
    end
  end
end

-- the fixture model with its parameters loaded (strict: every path of ours is in the fixture)
local function fixtureModel(case)
  local m = case.kind == 'llama' and nn.Llama(case.config) or nn.GPT(case.config)
  local sd = {}
  for path, spec in pairs(case.params) do sd[path] = T(spec) end
  if (case.config.tied or case.config.tieWeights) then sd['head.weight'] = sd['tokEmb.weight'] end
  m:loadStateDict(sd)
  return m
end

local function checkCase(name, case)
  local m = fixtureModel(case)
  local logits, loss = m(T(case.idx), T(case.targets))
  close(name .. ' logits', logits, case.logits)
  close(name .. ' loss', loss, case.loss)
  loss:backward()
  local params = m:namedParameters()
  for path, want in pairs(case.grads) do
    assert(params[path], name .. ': no parameter ' .. path)
    close(name .. ' grad ' .. path, params[path].grad, want)
  end
  local count = 0
  for _ in pairs(params) do count = count + 1 end
  local want = 0
  for _ in pairs(case.grads) do want = want + 1 end
  assert.are.equal(want, count, name .. ': parameter count')
end

describe('model structures against PyTorch', function()
  it('nn.Llama: RoPE, grouped-query attention, SwiGLU, RMSNorm, untied head (one step)', function()
    checkCase('llama', llamaFx.models.llama)
  end)
  it('nn.Llama: follows PyTorch over 10 AdamW steps (decay on dim >= 2 parameters only)', function()
    local case = llamaFx.models.llama
    local a = case.adamw
    local losses = helpers.adamwLosses(fixtureModel(case), T(case.idx), T(case.targets), a)
    close('adamw losses', llm.tensor(losses), {shape = {#a.losses}, data = a.losses})
    assert.is_true(losses[#losses] < losses[1])
  end)

  it('nn.Llama: multi-query, NTK-scaled RoPE, sliding window, qkNorm, tied head', function()
    checkCase('llamaVariant', llamaFx.models.llamaVariant)
  end)
  it('nn.Llama: linear RoPE scaling', function()
    checkCase('llamaLinear', variantFx.models.llamaLinear)
  end)
  it('nn.GPT: ALiBi, post-norm, GeGLU, tied head', function()
    checkCase('gptAlibi', variantFx.models.gptAlibi)
  end)
end)

local function llama(extra)
  local cfg = {vocab = 17, dim = 16, layers = 2, heads = 4, kvHeads = 2, hidden = 24, maxSeq = 32}
  for k, v in pairs(extra or {}) do cfg[k] = v end
  llm.manualSeed(3)
  return nn.Llama(cfg)
end

describe('structure options', function()
  it('kvHeads sizes the fused qkv Linear and the KV cache', function()
    local a = nn.CausalSelfAttention(16, 4, {kvHeads = 2})
    assert.are.same({(4 + 2 * 2) * 4, 16}, a.qkv.weight:shape())
    local cache = {}
    a(llm.randn(2, 5, 16), {cache = cache})
    assert.are.same({2, 2, 5, 4}, cache.k:shape())
    local mqa = nn.CausalSelfAttention(16, 4, {kvHeads = 1})
    assert.are.same({6 * 4, 16}, mqa.qkv.weight:shape())
    -- the default is GPT-2's layout
    assert.are.same({48, 16}, nn.CausalSelfAttention(16, 4).qkv.weight:shape())
  end)

  it('bad structure options are errors naming the option', function()
    fails(function() nn.CausalSelfAttention(16, 4, {kvHeads = 3}) end, 'heads (4) must be divisible by kvHeads (3)')
    fails(function() nn.CausalSelfAttention(16, 4, {kvHeads = 0}) end, "Invalid 'kvHeads'")
    fails(function() nn.CausalSelfAttention(16, 4, {positions = 'rotary'}) end, "Invalid 'positions'", "'rope'")
    fails(function() nn.CausalSelfAttention(16, 4, {window = 0}) end, "Invalid 'window'")
    fails(function() nn.CausalSelfAttention(12, 4, {positions = 'rope'}) end, 'even head size')
    fails(function() nn.CausalSelfAttention(16, 4, {ropeScaling = 2}) end, "Invalid 'ropeScaling'")
    fails(function() nn.MLP(16, {activation = 'swish'}) end, "Invalid 'activation'", "'swiglu'", "'geglu'")
    fails(function() nn.Block(16, 4, {norm = 'batch'}) end, "Invalid 'norm'", "'rms'")
    fails(function() nn.GPT{vocab = 5, blockSize = 8, layers = 1, heads = 2, dim = 8, positions = 'rotary'} end, "Invalid 'positions'")
    fails(function() nn.Llama{vocab = 5, dim = 8, layers = 1, heads = 2, bias = true} end, "unknown option 'bias'")
    fails(function() nn.Llama{vocab = 5, dim = 8, layers = 1} end, "Invalid 'heads'")
    fails(function() nn.Llama{vocab = 5, dim = 16, layers = 1, heads = 3} end, 'nn.Llama: dim (16) must be divisible by heads (3)')
    fails(function() nn.Llama{vocab = 5, dim = 16, layers = 1, heads = 4, kvHeads = 3} end, 'nn.Llama: heads (4) must be divisible by kvHeads (3)')
    fails(function() nn.GPT{vocab = 5, blockSize = 4, dim = 8, layers = 1, heads = 2, kvHeads = 0} end, "nn.GPT: Invalid 'kvHeads'")
  end)

  it('gated MLPs use one fused gate+up Linear of 2·hidden; swiglu = silu(gate)·up', function()
    llm.manualSeed(1)
    local m = nn.MLP(8, {hidden = 6, activation = 'swiglu', bias = false})
    assert.are.same({12, 8}, m.fc.weight:shape())
    assert.are.same({8, 6}, m.proj.weight:shape())
    local x = llm.randn(2, 3, 8)
    local h = m.fc(x)
    local gate, up = h:narrow(3, 1, 6), h:narrow(3, 7, 6)
    close('swiglu', m(x), m.proj(gate:silu() * up))
  end)

  it('nn.Llama: no biases, RMSNorm, hidden = 8/3·dim rounded up to multipleOf, untied by default', function()
    llm.manualSeed(1)
    local m = nn.Llama{vocab = 11, dim = 64, layers = 1, heads = 4}
    assert.are.same({2 * 256, 64}, m.blocks[1].mlp.fc.weight:shape())
    assert.are.same({2 * 192, 64}, nn.Llama{vocab = 11, dim = 64, layers = 1, heads = 4, multipleOf = 32}.blocks[1].mlp.fc.weight:shape())
    for _, path in ipairs(m:parameterNames()) do assert.is_nil(path:match('bias'), path) end
    assert.are.equal('nn.RMSNorm', m.lnF.__name)
    assert.are_not.equal(m.head.weight, m.tokEmb.weight)
    assert.is_nil(rawget(m, 'posEmb'))
    assert.are.same({vocab = 11, dim = 64, layers = 1, heads = 4, multipleOf = 256, ropeBase = 10000, rmsEps = 1e-6,
                     tied = false, maxSeq = 2048, dropout = 0, qkNorm = false}, m:config())
  end)

  it('nn.Llama: HF LlamaForCausalLM names and config; loading them back gives the same model', function()
    local m = llama({qkNorm = true})
    local sd = m:hfStateDict()
    assert.are.same({16, 16}, sd['model.layers.0.self_attn.q_proj.weight']:shape())
    assert.are.same({8, 16}, sd['model.layers.1.self_attn.k_proj.weight']:shape())
    assert.are.same({8, 16}, sd['model.layers.1.self_attn.v_proj.weight']:shape())
    assert.are.same({24, 16}, sd['model.layers.0.mlp.gate_proj.weight']:shape())
    assert.are.same({16, 24}, sd['model.layers.0.mlp.down_proj.weight']:shape())
    assert.are.same({4}, sd['model.layers.0.self_attn.q_norm.weight']:shape())
    assert.truthy(sd['lm_head.weight'] and sd['model.norm.weight'] and sd['model.embed_tokens.weight'])
    close('v_proj rows', sd['model.layers.1.self_attn.v_proj.weight'], m.blocks[2].attn.qkv.weight:narrow(1, 25, 8), 0, 0)
    close('up_proj rows', sd['model.layers.0.mlp.up_proj.weight'], m.blocks[1].mlp.fc.weight:narrow(1, 25, 24), 0, 0)
    llm.manualSeed(99)
    local other = nn.Llama{vocab = 17, dim = 16, layers = 2, heads = 4, kvHeads = 2, hidden = 24, maxSeq = 32, qkNorm = true}
    local x = llm.tensor({{1, 5, 9, 2, 6, 5}}, {dtype = 'int64'})
    assert.is_true((other(x) - m(x)):abs():max():item() > 1e-3)
    other:loadHFStateDict(sd)
    close('HF round trip', other(x), m(x), 0, 0)
    sd['model.layers.0.mlp.up_proj.weight'] = nil
    fails(function() other:loadHFStateDict(sd) end, 'loadHFStateDict: missing keys: model.layers.0.mlp.up_proj.weight')
    local cfg = m:hfConfig()
    assert.are.equal(2, cfg.num_key_value_heads)
    assert.are.equal(24, cfg.intermediate_size)
    assert.are.equal(10000, cfg.rope_theta)
    assert.is_false(cfg.tie_word_embeddings)
    assert.is_nil(llama({tied = true}):hfStateDict()['lm_head.weight'])
  end)

  it('nn.GPT positions: sinusoidal is a fixed table (no parameter), rope/alibi have no position embedding', function()
    local cfg = {vocab = 7, blockSize = 8, layers = 1, heads = 2, dim = 8}
    cfg.positions = 'sinusoidal'
    local s = nn.GPT(cfg)
    assert.is_nil(rawget(s, 'posEmb'))
    local tbl = s._sinusoid:totable()
    assert.is_true(math.abs(tbl[2][1] - math.sin(1)) < 1e-6)
    assert.is_true(math.abs(tbl[2][2] - math.cos(1)) < 1e-6)
    assert.is_true(math.abs(tbl[4][3] - math.sin(3 / 10000 ^ (2 / 8))) < 1e-6)
    assert.is_true(math.abs(tbl[4][4] - math.cos(3 / 10000 ^ (2 / 8))) < 1e-6)
    for _, kind in ipairs({'rope', 'alibi'}) do
      cfg.positions = kind
      local m = nn.GPT(cfg)
      assert.is_nil(rawget(m, 'posEmb'))
      assert.are.same({2, 4, 7}, m(llm.zeros(2, 4, {dtype = 'int64'})):shape())
    end
    local ln = nn.GPT{vocab = 7, blockSize = 8, layers = 1, heads = 2, dim = 8, norm = 'rms', postNorm = true}
    assert.are.equal('nn.RMSNorm', ln.blocks[1].ln1.__name)
    assert.is_nil(rawget(ln, 'lnF'))
  end)
end)

-- argmax decoding by full forwards (no cache)
local function greedyFull(m, ids, n)
  ids = ids:unsqueeze(1)
  llm.noGrad(function()
    for _ = 1, n do
      local logits = m(ids)
      ids = llm.cat({ids, logits:select(2, ids:size(2)):argmax(2, true)}, 2)
    end
  end)
  return ids:squeeze(1)
end

describe('the position/mask interface and generation', function()
  local prompts = {llm.tensor({3, 1, 4}, {dtype = 'int64'}), llm.tensor({1, 5, 9, 2, 6, 5}, {dtype = 'int64'}),
                   llm.tensor({8}, {dtype = 'int64'})}
  local models = {
    llama = function() return llama() end,
    llamaWindow = function() return llama({window = 3, kvHeads = 1, qkNorm = true}) end,
    gpt = function() llm.manualSeed(4); return nn.GPT{vocab = 17, blockSize = 32, layers = 2, heads = 2, dim = 16} end,
    gptAlibi = function()
      llm.manualSeed(5)
      return nn.GPT{vocab = 17, blockSize = 32, layers = 2, heads = 2, dim = 16, positions = 'alibi', activation = 'geglu'}
    end,
  }
  for name, make in pairs(models) do
    it(name .. ': greedy generation with the KV cache == full forwards', function()
      local m = make()
      m:eval()
      local got = m:generate(prompts[2], {maxTokens = 8, temperature = 0})
      assert.are.same(flatten(greedyFull(m, prompts[2], 8)), flatten(got))
    end)

    it(name .. ': batched decoding of prompts of different lengths == one by one', function()
      local m = make()
      local batched = m:generate(prompts, {maxTokens = 6, temperature = 0})
      assert.are.equal(#prompts, #batched)
      for i, p in ipairs(prompts) do
        local alone = m:generate(p, {maxTokens = 6, temperature = 0})
        assert.are.same(flatten(alone), flatten(batched[i]), name .. ' prompt ' .. i)
      end
    end)
  end

  it('left padding with keyMask + per-row positions gives the unpadded logits', function()
    local m = llama()
    m:eval()
    local seq = prompts[2]:unsqueeze(1)
    local want = m(seq)
    local padded = llm.cat({llm.zeros(1, 3, {dtype = 'int64'}), seq}, 2)
    local mask = llm.tensor({{0, 0, 0, 1, 1, 1, 1, 1, 1}})
    local pos = llm.tensor({{0, 0, 0, 0, 1, 2, 3, 4, 5}}, {dtype = 'int64'})
    local got = m(padded, nil, {keyMask = mask, positions = pos})
    close('padded logits', got:narrow(2, 4, 6), want, 1e-4, 1e-5)
  end)

  it('segments: packed examples attend only within their own segment', function()
    local m = llama()
    m:eval()
    local a, b = prompts[1]:unsqueeze(1), prompts[2]:unsqueeze(1)
    local packed = llm.cat({a, b}, 2)
    local seg = llm.tensor({{0, 0, 0, 1, 1, 1, 1, 1, 1}}, {dtype = 'int64'})
    local pos = llm.tensor({{0, 1, 2, 0, 1, 2, 3, 4, 5}}, {dtype = 'int64'})
    local got = m(packed, nil, {segments = seg, positions = pos})
    close('segment 1', got:narrow(2, 1, 3), m(a), 1e-4, 1e-5)
    close('segment 2', got:narrow(2, 4, 6), m(b), 1e-4, 1e-5)
  end)

  it('offset = n is positions n..n+T-1: RoPE and ALiBi models are shift-invariant, learned positions shift', function()
    local m = llama()
    m:eval()
    local seq = prompts[2]:unsqueeze(1)
    close('rope offset', m(seq, nil, {offset = 7}), m(seq), 1e-4, 1e-5)
    llm.manualSeed(2)
    local g = nn.GPT{vocab = 17, blockSize = 16, layers = 1, heads = 2, dim = 8}
    local pos = llm.tensor({{3, 4, 5, 6, 7, 8}}, {dtype = 'int64'})
    close('learned offset', g(seq, nil, {offset = 3}), g(seq, nil, {positions = pos}), 0, 0)
    assert.is_true((g(seq, nil, {offset = 3}) - g(seq)):abs():max():item() > 1e-3)
    fails(function() g(seq, nil, {offset = 11}) end, 'sequence length 17 exceeds blockSize 16')
    fails(function() g(seq, nil, {offset = -1}) end, "Invalid 'offset'")
    fails(function() g(seq, nil, {offset = 1, positions = pos}) end, "'positions' or 'offset', not both")
    local a = nn.CausalSelfAttention(8, 2, {positions = 'rope'})
    local x = llm.randn(1, 4, 8)
    close('attention offset', a(x, {offset = 5}), a(x), 1e-4, 1e-5)
  end)

  it('bad per-call positions are errors', function()
    local m = llama()
    fails(function() m(llm.zeros(1, 4, {dtype = 'int64'}), nil, {positions = llm.zeros(1, 3, {dtype = 'int64'})}) end, "Invalid 'positions'")
    fails(function() m(llm.zeros(1, 4, {dtype = 'int64'}), nil, {offsets = 2}) end, "unknown option 'offsets'")
    fails(function() m:generate({}, {maxTokens = 1}) end, 'list of prompts is empty')
    fails(function() m:generate({llm.zeros(2, 2, {dtype = 'int64'})}, {maxTokens = 1}) end, 'prompt 1 must be a non-empty 1-D tensor')
  end)
end)

describe('nn.lora', function()
  local fx = variantFx.lora

  it('forward, gradients and merge against PyTorch', function()
    local c = fx.config
    local seq = nn.Sequential(nn.Linear(c.inFeatures, c.outFeatures))
    seq:loadStateDict({['0.weight'] = T(fx.weight), ['0.bias'] = T(fx.bias)})
    nn.lora(seq, {rank = c.rank, alpha = c.alpha, targets = {'0'}})
    nn.lora.loadStateDict(seq, {['0.lora_A.weight'] = T(fx.A), ['0.lora_B.weight'] = T(fx.B)})
    local x = T(fx.x):requiresGrad_(true)
    local out = seq(x)
    close('lora out', out, fx.out)
    local objective = (out * T(fx.upstream)):sum()
    objective:backward()
    close('lora grad x', x.grad, fx.grads.x)
    close('lora grad A', seq[1].lora_A.weight.grad, fx.grads.A)
    close('lora grad B', seq[1].lora_B.weight.grad, fx.grads.B)
    assert.is_nil(seq[1].weight.grad)
    assert.is_nil(seq[1].bias.grad)
    nn.lora.merge(seq)
    assert.are.equal('nn.Linear', seq[1].__name)
    close('merged weight', seq[1].weight, fx.merged)
    close('merged out', seq(T(fx.x)), fx.out)
  end)

  local function tiny()
    local m = llama()
    return m, llm.randint(0, 17, {2, 6}):long()
  end

  it('trains only the adapters: parameters() holds them, the base stays put, merge keeps the outputs', function()
    local m, x = tiny()
    local base = m:forward(x)
    local full = m:numParameters()
    nn.lora(m, {rank = 2, alpha = 4, targets = {'attn.qkv', 'attn.proj'}})
    local names = m:parameterNames()
    assert.are.equal(8, #names)
    for _, n in ipairs(names) do assert.truthy(n:match('%.lora_[AB]%.weight$'), n) end
    assert.are.equal(2 * ((2 * 16 + 32 * 2) + (2 * 16 + 16 * 2)), m:numParameters())
    close('B = 0 at start', m(x), base, 0, 0)
    local before = m.blocks[1].attn.qkv.weight:clone()
    local opt = optim.AdamW(m:parameters(), {lr = 1e-2})
    for _ = 1, 3 do
      opt:zeroGrad()
      local _, loss = m(x, x)
      loss:backward()
      opt:step()
    end
    close('frozen base weight', m.blocks[1].attn.qkv.weight, before, 0, 0)
    local tuned = m(x)
    assert.is_true((tuned - base):abs():max():item() > 1e-4)
    nn.lora.merge(m)
    assert.are.equal(full, m:numParameters())
    assert.are.equal('nn.Linear', m.blocks[1].attn.qkv.__name)
    close('merged outputs', m(x), tuned, 1e-4, 1e-5)
  end)

  it('state dicts: adapters only, with PEFT-like paths; loading checks keys and shapes first', function()
    local m = tiny()
    nn.lora(m, {rank = 2, targets = function(path) return path == 'blocks.1.mlp.fc' end})
    local sd = nn.lora.stateDict(m)
    local keys = {}
    for k in pairs(sd) do keys[#keys + 1] = k end
    assert.are.same({'blocks.1.mlp.fc.lora_A.weight', 'blocks.1.mlp.fc.lora_B.weight'}, keys)
    -- the full state dict still holds the base weights under their own paths
    assert.truthy(m:stateDict()['blocks.1.mlp.fc.weight'])
    local other = tiny()
    nn.lora(other, {rank = 2, targets = {'blocks.1.mlp.fc'}})
    llm.noGrad(function() sd['blocks.1.mlp.fc.lora_B.weight']:fill_(0.5) end)
    nn.lora.loadStateDict(other, sd)
    close('loaded', other.blocks[2].mlp.fc.lora_B.weight, sd['blocks.1.mlp.fc.lora_B.weight'], 0, 0)
    fails(function() nn.lora.loadStateDict(other, {['blocks.1.mlp.fc.lora_A.weight'] = sd['blocks.1.mlp.fc.lora_A.weight']}) end,
      'missing keys: blocks.1.mlp.fc.lora_B.weight')
    fails(function() nn.lora.loadStateDict(other, {['blocks.1.mlp.fc.lora_A.weight'] = llm.zeros(3, 3),
                                                  ['blocks.1.mlp.fc.lora_B.weight'] = sd['blocks.1.mlp.fc.lora_B.weight']}) end,
      "'blocks.1.mlp.fc.lora_A.weight' has shape [3, 3]")
  end)

  it("stateDict='adapters': Trainer checkpoints hold only the adapters and resume from them", function()
    local m = tiny()
    nn.lora(m, {rank = 2, targets = {'attn.qkv'}, stateDict = 'adapters'})
    local data = llm.randint(0, 17, {4, 7}):long()
    local batches = {next = function() return data:narrow(2, 1, 6):contiguous(), data:narrow(2, 2, 6):contiguous() end}
    local out = helpers.tmpdir('lora')
    helpers.captured(function()
      llm.Trainer{model = m, optimizer = optim.AdamW(m:parameters(), {lr = 1e-2}), train = batches, steps = 2,
                  checkpointDir = out, progress = false}:run()
    end)
    local ck = llm.checkpoint.read(out .. '/step-000002')
    local keys = {}
    for k in pairs(ck['model.safetensors']) do keys[#keys + 1] = k end
    table.sort(keys)
    assert.are.same({'blocks.0.attn.qkv.lora_A.weight', 'blocks.0.attn.qkv.lora_B.weight',
                     'blocks.1.attn.qkv.lora_A.weight', 'blocks.1.attn.qkv.lora_B.weight'}, keys)
    local fresh = tiny()
    nn.lora(fresh, {rank = 2, targets = {'attn.qkv'}, stateDict = 'adapters'})
    local trainer = llm.Trainer{model = fresh, optimizer = optim.AdamW(fresh:parameters(), {lr = 1e-2}), train = batches,
                                steps = 2, progress = false}
    trainer:resume(out)
    close('resumed adapter', fresh.blocks[1].attn.qkv.lora_B.weight, m.blocks[1].attn.qkv.lora_B.weight, 0, 0)
    nn.lora.merge(fresh)
    assert.truthy(fresh:stateDict()['blocks.0.attn.qkv.weight'])
    helpers.removeTmpdirs()
  end)

  it('dropout on the adapter input acts in training only; alpha defaults to rank', function()
    local m = tiny()
    nn.lora(m, {rank = 4, targets = {'mlp.fc'}, dropout = 0.5})
    local fc = m.blocks[1].mlp.fc
    assert.are.equal(1, fc._scale)
    llm.noGrad(function() fc.lora_B.weight:fill_(0.1) end)
    local x = llm.randn(2, 3, 16)
    fc:eval()
    local a, b = fc(x), fc(x)
    close('eval: no dropout', a, b, 0, 0)
    fc:train()
    assert.is_true((fc(x) - a):abs():max():item() > 1e-4)
  end)

  it('bad uses are errors', function()
    local m = tiny()
    fails(function() nn.lora(m, {rank = 0, targets = {'attn.qkv'}}) end, "Invalid 'rank'")
    fails(function() nn.lora(m, {rank = 2, targets = {}}) end, "Invalid 'targets'")
    fails(function() nn.lora(m, {rank = 2, targets = {'nothing'}}) end, 'no nn.Linear matches the targets')
    fails(function() nn.lora(m, {rank = 2, targets = {'attn.qkv'}, stateDict = 'some'}) end, "Invalid 'stateDict'")
    fails(function() nn.lora(m, {rank = 2, targets = {'attn.qkv'}, ranks = 2}) end, "unknown option 'ranks'")
    fails(function() nn.lora.merge(m) end, 'has no LoRA adapters')
    nn.lora(m, {rank = 2, targets = {'attn.qkv'}})
    fails(function() nn.lora(m, {rank = 2, targets = {'attn.proj'}}) end, 'already has LoRA adapters')
    local tied = nn.GPT{vocab = 7, blockSize = 8, layers = 1, heads = 2, dim = 8}
    fails(function() nn.lora(tied, {rank = 2, targets = {'head'}}) end, "'head' has a tied weight")
  end)
end)

describe('recipes/sample.lua on a Llama checkpoint', function()
  it('rebuilds the class named by extra.modelClass and samples with the KV cache', function()
    local cli = dofile(dir .. 'cli.lua')
    local out = helpers.tmpdir('llama_sample')
    local tok = llm.data.CharTokenizer('abcdefgh ')
    local m = nn.Llama{vocab = tok:vocabSize(), dim = 16, layers = 1, heads = 2, kvHeads = 1, hidden = 24, maxSeq = 32}
    llm.checkpoint.write(out .. '/step-000001', {
      ['model.safetensors'] = m:stateDict(),
      ['trainer.json'] = {step = 1, extra = {model = m:config(), modelClass = m.__name, tokenizer = tok:toTable()}},
    })
    local code, stdout, stderr = cli.run({cli.root .. 'recipes/sample.lua', '--checkpoint=' .. out, '--prompt=ab',
                                          '--samples=1', '--tokens=5'})
    assert.are.equal(0, code, stderr)
    assert.truthy(stdout:find('--- sample 1 ---', 1, true), stdout)
    assert.truthy(stdout:find(string.format('%d parameters', m:numParameters()), 1, true), stdout)
    llm.checkpoint.write(out .. '/step-000002', {
      ['model.safetensors'] = m:stateDict(),
      ['trainer.json'] = {step = 2, extra = {model = m:config(), modelClass = 'nn.Mystery', tokenizer = tok:toTable()}},
    })
    local _
    code, _, stderr = cli.run({cli.root .. 'recipes/sample.lua', '--checkpoint=' .. out})
    assert.are_not.equal(0, code)
    assert.truthy(stderr:find("class 'nn.Mystery'", 1, true), stderr)
    helpers.removeTmpdirs()
  end)
end)
