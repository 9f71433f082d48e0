-- shrink_spec.lua: compress.shrink (stdlib-lua/llm/compress/shrink.lua) beyond nn.GPT's multi-head case
-- (that one is in compress_spec.lua): nn.Llama with multi-head and grouped-query attention, its SwiGLU MLP
-- and no biases; a GQA head goes only with its whole group, query heads go within groups only when every
-- group keeps as many (else they stay zeroed and are reported); an nn.GPT with GQA, SwiGLU and biases;
-- structured pruning (compress.prune) then shrink; the shrunk Llama through a Trainer checkpoint
-- (llm.checkpointmodel) and export format 'safetensors' (HF formats refuse it by name); per-block kvHeads in
-- layerConfig; other models are errors. Every shrunk model gives the masked model's logits within 1e-5.
-- Tiny models (dim 16-32, 2 blocks).
-- Run: llmscript test Tests/lua/shrink_spec.lua

local here = debug.getinfo(1, 'S').source:match('^@(.*/)')
local helpers = dofile(here .. 'helpers.lua')
local fails = helpers.fails
teardown(helpers.removeTmpdirs)

local tiny = dofile(here .. 'compress/tiny.lua')   -- shared text, tokenizer, batch and Llama builder
local tokenizer, ids, T, B, x = tiny.tokenizer, tiny.ids, tiny.T, tiny.B, tiny.x
local llama = tiny.llama

local function maxAbs(t) return t:abs():max():item() end
local function logits(m) return llm.noGrad(function() return m(x) end) end

-- Zeroes query head j (0-based) of block i: its q rows and its columns of attn.proj.weight (o_proj).
local function pruneHead(m, i, j)
  local attn = m.blocks[i].attn
  local d = attn._headDim
  llm.noGrad(function()
    attn.qkv.weight:narrow(1, j * d + 1, d):zero_()
    attn.proj.weight:narrow(2, j * d + 1, d):zero_()
  end)
end

-- Shrinks m and checks: the same logits (within 1e-5) and greedy generation, fewer parameters.
local function shrinkSame(m)
  m:eval()
  local before = logits(m)
  local rng = llm.getRngState()
  local small, info = compress.shrink(m)
  local after = llm.rand(4)
  llm.setRngState(rng)
  assert.is_true(maxAbs(llm.rand(4) - after) == 0)   -- built without init: no random draws
  assert.are.same({}, nn.unloaded(small))
  assert.is_true(maxAbs(logits(small) - before) < 1e-5)
  assert.is_true(small:numParameters() < m:numParameters())
  local start = llm.tensor({1}, {dtype = 'int64'})
  assert.are.same(m:generate(start, {maxTokens = 6, temperature = 0}):totable(),
    small:generate(start, {maxTokens = 6, temperature = 0}):totable())
  return small, info
end

describe('compress.shrink on nn.Llama', function()
  it('multi-head: structured pruning of heads and SwiGLU neurons, then shrink; no biases appear', function()
    local m = llama({heads = 4, kvHeads = 4})   -- kvHeads == heads: multi-head
    compress.prune(m, {amount = 0.5, structure = 'heads'})
    compress.prune(m, {amount = 0.5, structure = 'neurons'})
    local small, info = shrinkSame(m)
    assert.are.same({2, 2}, info.heads)
    assert.are.same({2, 2}, info.kvHeads)
    assert.are.same({12, 12}, info.hidden)
    assert.are.same({0, 0}, info.zeroHeads)
    assert.are.same({heads = 2, hidden = 12}, small:config().layerConfig[1])
    assert.are.equal('nn.Llama', small.__name)
    local b = small.blocks[1]
    assert.are.same({(2 + 2 * 2) * 8, 32}, b.attn.qkv.weight:shape())
    assert.are.same({2 * 12, 32}, b.mlp.fc.weight:shape())   -- gate and up rows of the kept neurons
    assert.are.same({32, 12}, b.mlp.proj.weight:shape())
    for path in pairs(small:namedParameters()) do assert.is_nil(path:match('bias$'), path) end
    assert.is_true(small._llama.layerConfig ~= nil)
  end)

  it('grouped-query: a whole pruned group takes its key/value head; equal groups lose query heads', function()
    local m = llama()   -- 8 query heads, 2 key/value heads: groups {0..3}, {4..7}
    for _, j in ipairs({0, 1, 2, 3}) do pruneHead(m, 1, j) end   -- block 1: group 0 entirely
    for _, j in ipairs({1, 2, 5, 6}) do pruneHead(m, 2, j) end   -- block 2: two heads of each group
    compress.prune(m, {amount = 0.25, structure = 'neurons'})
    local small, info = shrinkSame(m)
    assert.are.same({4, 4}, info.heads)
    assert.are.same({1, 2}, info.kvHeads)
    assert.are.same({0, 0}, info.zeroHeads)
    assert.are.same({}, info.notes)
    assert.are.same({heads = 4, kvHeads = 1, hidden = 18}, small:config().layerConfig[1])
    assert.are.equal(1, small.blocks[1].attn._kvHeads)
    assert.are.same({(4 + 2 * 1) * 4, 32}, small.blocks[1].attn.qkv.weight:shape())
    assert.are.same({(4 + 2 * 2) * 4, 32}, small.blocks[2].attn.qkv.weight:shape())
  end)

  it('grouped-query: unequal groups keep pruned query heads, zeroed, and report them', function()
    local m = llama()
    pruneHead(m, 1, 0)                                          -- block 1: groups keep 3 and 4 alive
    for _, j in ipairs({0, 1, 2, 4, 5, 6, 7}) do pruneHead(m, 2, j) end   -- block 2: group 1 goes; group 0 keeps 1
    local small, info = shrinkSame(m)
    assert.are.same({8, 1}, info.heads)
    assert.are.same({2, 1}, info.kvHeads)
    assert.are.same({1, 0}, info.zeroHeads)
    assert.are.equal(1, #info.notes)
    assert.truthy(info.notes[1]:find('block 1: 1 pruned query head(s) kept (zeroed)', 1, true), info.notes[1])
    assert.are.same({heads = 1, kvHeads = 1, hidden = 24}, small:config().layerConfig[2])
  end)

  it('every head pruned: one head (its group) stays per block; tied embeddings stay tied, nothing is shared', function()
    local m = llama({tied = true})
    for j = 0, 7 do pruneHead(m, 1, j) end
    local small, info = shrinkSame(m)
    assert.are.same({1, 8}, info.heads)
    assert.are.same({1, 2}, info.kvHeads)
    assert.is_true(rawequal(small.head.weight, small.tokEmb.weight))
    local saved = m.tokEmb.weight:clone()
    llm.noGrad(function() small.tokEmb.weight:fill_(0) end)
    assert.is_true(maxAbs(m.tokEmb.weight - saved) == 0)
  end)

  it('through a Trainer checkpoint (llm.checkpointmodel) and export format safetensors; HF formats refuse it', function()
    local m = llama()
    for _, j in ipairs({4, 5, 6, 7}) do pruneHead(m, 1, j) end
    compress.prune(m, {amount = 0.5, structure = 'neurons'})
    m:eval()
    local small = compress.shrink(m)
    local want = logits(small)
    local dir = helpers.tmpdir('shrunk-llama')
    local t = llm.Trainer{model = small, optimizer = optim.SGD(small:parameters(), {lr = 0}), steps = 1, progress = false,
      train = llm.data.Batcher(ids, {batchSize = B, blockSize = T, seed = 5}), checkpointDir = dir,
      extra = {model = small:config(), modelClass = small.__name, tokenizer = tokenizer:toTable()}}
    select(2, helpers.captured(function() t:run() end))
    local again, _, ckInfo = require('llm.checkpointmodel')(dir)
    assert.are.equal('nn.Llama', again.__name)
    assert.are.equal(small:numParameters(), ckInfo.parameters)
    again:eval()
    assert.is_true(maxAbs(logits(again) - want) < 1e-6)
    local file = helpers.tmpdir('shrunk-export') .. '/model.safetensors'
    llm.export(small, {format = 'safetensors', out = file, tokenizer = tokenizer})
    local loaded = llm.export.load(file)
    loaded:eval()
    assert.is_true(maxAbs(logits(loaded) - want) < 1e-6)
    fails(function() small:hfStateDict() end, 'has no Hugging Face LlamaForCausalLM layout')
    fails(function() small:hfConfig() end, "export format 'safetensors'")
    fails(function() llm.export(small, {format = 'hf', out = helpers.tmpdir('shrunk-hf') .. '/hf', tokenizer = tokenizer}) end,
      'LlamaForCausalLM layout')
  end)
end)

describe('compress.shrink on other models', function()
  it('nn.GPT with grouped-query attention, a SwiGLU MLP and biases', function()
    llm.manualSeed(4)
    local m = nn.GPT{vocab = tokenizer:vocabSize(), blockSize = T, layers = 2, heads = 4, kvHeads = 2, dim = 16,
      activation = 'swiglu', hidden = 20}
    pruneHead(m, 1, 2); pruneHead(m, 1, 3)
    pruneHead(m, 2, 1); pruneHead(m, 2, 3)
    compress.prune(m, {amount = 0.5, structure = 'neurons'})
    local small, info = shrinkSame(m)
    assert.are.same({2, 2}, info.heads)
    assert.are.same({1, 2}, info.kvHeads)
    assert.are.same({10, 10}, info.hidden)
    assert.are.same({(2 + 2 * 2) * 4}, small.blocks[2].attn.qkv.bias:shape())
    assert.are.same({2 * 10}, small.blocks[1].mlp.fc.bias:shape())
  end)

  it('layerConfig kvHeads is checked; other models and bad input are clear errors', function()
    local cfg = {vocab = 10, dim = 16, layers = 1, heads = 4, kvHeads = 2, hidden = 8, maxSeq = 8}
    cfg.layerConfig = {{heads = 3}}
    fails(function() nn.Llama(cfg) end, "'layerConfig[1]': heads (3) must be divisible by kvHeads (2)")
    cfg.layerConfig = {{kvHeads = 0}}
    fails(function() nn.Llama(cfg) end, 'layerConfig[1].kvHeads')
    cfg.layerConfig = {{heads = 2, kvHeads = 1, hidden = 4}}
    local b = nn.Llama(cfg).blocks[1]
    assert.are.same({2, 1, 4}, {b.attn._heads, b.attn._kvHeads, b.mlp.proj.weight:size(2)})
    fails(function() compress.shrink(nn.Linear(4, 4)) end, 'compress.shrink: expected an nn.GPT or nn.Llama model, got nn.Linear')
    fails(function() compress.shrink(42) end, "compress.shrink: Invalid 'model'")
  end)
end)
