-- noinit_spec.lua: models built without initialising their weights (nn.withoutInit, llm/nn/noinit.lua), then
-- loaded: the same outputs as the saved model; a missing tensor and a use before loading are errors naming
-- the tensor; the loaders (llm.checkpointmodel, llm.export.load, importHF) build this way and take the
-- loaded tensors; llm.empty.
local here = debug.getinfo(1, 'S').source:match('^@(.*/)') or './'
local h = dofile(here .. 'helpers.lua')

teardown(h.removeTmpdirs)

local ids = llm.tensor({{3, 1, 4, 1, 5, 9, 2, 6}}, {dtype = 'int64'})
local gptCfg = {vocab = 40, blockSize = 16, layers = 2, heads = 2, dim = 16}
local llamaCfg = {vocab = 40, dim = 16, layers = 2, heads = 4, kvHeads = 2, multipleOf = 8, maxSeq = 16}

local function maxDiff(a, b) return (a - b):abs():max():item() end

-- A model with non-trivial norms and biases (so a wrong or missing load shows in the logits), in eval mode.
local function trained(Class, cfg, seed)
  llm.manualSeed(seed or 7)
  local m = Class(cfg)
  llm.noGrad(function()
    for _, p in pairs(m:namedParameters()) do p:add_(llm.randn(p:shape()) * 0.1) end
  end)
  return m:eval()
end

-- A copy of the model's state dict (tied tensors once, as checkpoints store them).
local function savedState(m)
  local sd, seen = {}, {}
  for k, v in pairs(m:stateDict()) do
    if not seen[v] then seen[v] = true; sd[k] = llm.noGrad(function() return v:clone() end) end
  end
  return sd
end

local function logits(m) return llm.noGrad(function() return m(ids) end) end

-- A checkpoint as the recipes write it (llm.checkpointmodel reads it).
local function checkpoint(m, drop)
  local dir = h.tmpdir('noinit')
  local sd = savedState(m)
  if drop then sd[drop] = nil end
  llm.checkpoint.write(dir .. '/step-000001', {['model.safetensors'] = sd,
    ['trainer.json'] = {step = 1, extra = {model = m:config(), modelClass = m.__name, tokenizer = llm.data.ByteTokenizer():toTable()}}})
  return dir
end

describe('llm.empty', function()
  it('allocates a tensor of the shape, dtype and requiresGrad asked for', function()
    local t = llm.empty(3, 4, {requiresGrad = true})
    assert.same({3, 4}, t:shape())
    assert.is_true(t.requiresGrad)
    assert.equal('int64', llm.empty({2}, {dtype = 'int64'}):dtype())
    t = llm.empty{5}
    llm.noGrad(function() t:fill_(2) end)
    assert.equal(10, t:sum():item())
  end)

  it('gives zeros in a sandboxed script (no stale memory of freed tensors)', function()
    local code = [[
      local stale = 0
      for _ = 1, 20 do
        local a = llm.full({1000}, 7.5); a = nil; collectgarbage()
        stale = stale + llm.empty(1000):eq(7.5):sum():item() + llm.empty(1000):ne(0):sum():item()
      end
      print(string.format('stale %d', stale))]]
    local code1, out, err = h.runCode(code, {'--sandbox'})
    assert.equal(0, code1, err)
    assert.equal('stale 0', out:match('stale %d+'))
  end)
end)

describe('nn.withoutInit', function()
  it('builds the same structure (names, shapes, tying) with every tensor unloaded', function()
    local ref, m = nn.GPT(gptCfg), nn.withoutInit(nn.GPT, gptCfg)
    assert.same(ref:parameterNames(), m:parameterNames())
    for k, t in pairs(ref:stateDict()) do assert.same(t:shape(), m:stateDict()[k]:shape()) end
    assert.is_true(rawequal(m.head.weight, m.tokEmb.weight))
    local paths = {}
    for k in pairs(m:stateDict()) do paths[#paths + 1] = k end
    table.sort(paths)
    assert.same(paths, nn.unloaded(m))   -- every path, the tied head.weight too
    assert.is_true(m.tokEmb.weight.requiresGrad)
    -- a function works as well as a class, and gives back every result
    local a, b = nn.withoutInit(function(x) return nn.Linear(2, 3), x end, 'extra')
    assert.same({'bias', 'weight'}, nn.unloaded(a))
    assert.equal('extra', b)
  end)

  it('a model built without init, then loaded, gives the saved model\'s outputs (GPT tied and untied, Llama)', function()
    for _, case in ipairs({{nn.GPT, gptCfg}, {nn.GPT, {vocab = 40, blockSize = 16, layers = 1, heads = 2, dim = 16, tieWeights = false}},
                           {nn.Llama, llamaCfg}}) do
      local ref = trained(case[1], case[2])
      local m = nn.withoutInit(case[1], case[2])
      m:loadStateDict(savedState(ref))
      m:eval()
      assert.same({}, nn.unloaded(m))
      assert.equal(0, maxDiff(logits(ref), logits(m)))
    end
  end)

  it('using a module before its weights are loaded is an error naming the tensor', function()
    local m = nn.withoutInit(nn.GPT, gptCfg)
    h.fails(function() m(ids) end, "'tokEmb.weight' was never loaded", 'nn.withoutInit')
    -- a partial load leaves the rest unloaded: the first unloaded module called names its tensor
    local sd = savedState(trained(nn.GPT, gptCfg))
    sd['blocks.1.mlp.fc.bias'] = nil
    m:loadStateDict(sd, {strict = false})
    assert.same({'blocks.1.mlp.fc.bias'}, nn.unloaded(m))
    h.fails(function() m(ids) end, "in blocks.1.mlp.fc (nn.Linear): 'blocks.1.mlp.fc.bias' was never loaded")
  end)

  it('skips the initialisers of heads and leaves models built outside it initialised', function()
    local trunk = nn.withoutInit(nn.GPT, gptCfg)
    local clf = nn.withoutInit(nn.SequenceClassifier, {trunk = trunk, classes = 3})
    assert.is_true(#nn.unloaded(clf) > #clf:parameterNames())   -- every parameter (the tied head under both paths)
    assert.equal('head.bias', nn.unloaded(clf)[1])
    -- an error inside withoutInit ends the mode: the next model is initialised as usual
    h.fails(function() nn.withoutInit(nn.GPT, {vocab = 40}) end, 'blockSize')
    llm.manualSeed(1)
    local a = nn.GPT(gptCfg)
    llm.manualSeed(1)
    local b = nn.GPT(gptCfg)
    assert.same({}, nn.unloaded(a))
    assert.equal(0, maxDiff(logits(a:eval()), logits(b:eval())))
    h.fails(function() nn.withoutInit(42) end, 'function or class expected')
  end)
end)

describe('nn.adoptStateDict', function()
  it('takes the tensors of the state dict (no copy) and gives the saved outputs', function()
    local ref = trained(nn.Llama, llamaCfg)
    local sd = savedState(ref)
    local m = nn.adoptStateDict(nn.withoutInit(nn.Llama, llamaCfg), sd):eval()
    assert.is_true(m.blocks[1].attn.qkv.weight.requiresGrad)
    assert.is_true(m.blocks[1].attn.qkv.weight.isLeaf)
    assert.equal(0, maxDiff(logits(ref), logits(m)))
    -- the model's tensor is the state dict's memory: a write to one shows in the other
    llm.noGrad(function() sd['blocks.0.attn.qkv.weight']:fill_(0.5) end)
    assert.equal(0.5, m.blocks[1].attn.qkv.weight:mean():item())
  end)

  it('copies tensors of another dtype, detaches non-leaves, and refuses a missing tensor naming it before changing anything', function()
    local ref = trained(nn.GPT, gptCfg)
    llm.noGrad(function() ref.lnF.weight:copy_(ref.lnF.weight:to('float16'):to('float32')) end)   -- exact in float16
    local sd = savedState(ref)
    sd['lnF.weight'] = sd['lnF.weight']:to('float16')
    sd['blocks.0.mlp.fc.weight'] = ref.blocks[1].mlp.fc.weight * 1   -- not a leaf: adopted detached
    local m = nn.adoptStateDict(nn.withoutInit(nn.GPT, gptCfg), sd):eval()
    assert.equal('float32', m.lnF.weight:dtype())
    assert.equal(0, maxDiff(logits(ref), logits(m)))
    sd['blocks.0.attn.proj.weight'] = nil
    local fresh = nn.withoutInit(nn.GPT, gptCfg)
    h.fails(function() nn.adoptStateDict(fresh, sd) end, 'adoptStateDict: missing keys: blocks.0.attn.proj.weight')
    local n = 0
    for _ in pairs(fresh:stateDict()) do n = n + 1 end
    assert.equal(n, #nn.unloaded(fresh))
  end)
end)

describe('loaders build without init', function()
  it('llm.checkpointmodel (with and without mmap) gives the saved logits; a missing tensor is an error naming it', function()
    for _, case in ipairs({{nn.GPT, gptCfg}, {nn.Llama, llamaCfg}}) do
      local ref = trained(case[1], case[2])
      local dir = checkpoint(ref)
      for _, mmap in ipairs({false, true}) do
        local m = require('llm.checkpointmodel')(dir, {mmap = mmap})
        assert.same({}, nn.unloaded(m))
        assert.equal(0, maxDiff(logits(ref), logits(m)))
      end
      -- nothing is left in the registry of unloaded tensors (not even the tied head's own weight), so loaded
      -- models pay nothing per call (collected first: the unloaded models of the tests above)
      collectgarbage(); collectgarbage()
      assert.is_nil(next(require('llm.nn.noinit').registry))
      local bad = checkpoint(ref, 'blocks.1.ln2.weight')
      h.fails(function() require('llm.checkpointmodel')(bad) end, 'missing keys: blocks.1.ln2.weight')
    end
  end)

  it('llm.export.load and importHF (GPT-2 and Llama) give the saved logits', function()
    for _, case in ipairs({{nn.GPT, gptCfg}, {nn.Llama, llamaCfg}}) do
      local ref = trained(case[1], case[2])
      local out = h.tmpdir('noinit_export')
      llm.export(ref, {format = 'safetensors', out = out .. '/m.safetensors'})
      local m = require('llm.export').load(out .. '/m.safetensors')
      assert.equal(0, maxDiff(logits(ref), logits(m:eval())))
      llm.export(ref, {format = 'hf', out = out .. '/hf'})
      local imported = require('llm.export').importHF(out .. '/hf')
      assert.same({}, nn.unloaded(imported))
      assert.is_true(maxDiff(logits(ref), logits(imported:eval())) < 1e-5)
    end
  end)

  it('importHF refuses a folder with a tensor missing, naming it', function()
    local ref = trained(nn.GPT, gptCfg)
    local out = h.tmpdir('noinit_hf')
    llm.export(ref, {format = 'hf', out = out .. '/hf'})
    local tensors = llm.load(out .. '/hf/model.safetensors')
    tensors['transformer.h.1.mlp.c_proj.bias'] = nil
    llm.save(out .. '/hf/model.safetensors', tensors)
    h.fails(function() require('llm.export').importHF(out .. '/hf') end, "has no tensor 'h.1.mlp.c_proj.bias'")
  end)
end)
