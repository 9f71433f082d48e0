-- quant_spec.lua: quantization (stdlib-lua/llm/compress/quant*.lua, llm.quant): the round/floor/ceil/sign ops
-- and int8 casts; compress.quantize with every format (layers replaced, logits close to float32, smaller weights,
-- generate works); llm.quant against gguf-exact dequantization; observers (min/max, moving average, percentile)
-- and static calibration; saving and loading a quantized model (same logits, generate after loading);
-- quantization-aware training (compress.fakeQuantize against torch.fake_quantize_per_channel_affine from
-- Tests/Fixtures/fake_quant.lua, qat + a Trainer-free training step, convert to the same int8 model); bad input
-- (already quantized, rows not a multiple of 32, unknown options/paths) errors and changes nothing.
-- Run: llmscript test Tests/lua/quant_spec.lua

local here = debug.getinfo(1, 'S').source:match('^@(.*/)')
local helpers = dofile(here .. 'helpers.lua')
local fails = helpers.fails
teardown(helpers.removeTmpdirs)

local cfg = {vocab = 40, blockSize = 16, layers = 2, heads = 2, dim = 32}
local function gpt(seed)
  llm.manualSeed(seed or 1)
  local m = nn.GPT(cfg)
  m:eval()
  return m
end
local idx = llm.tensor({{1, 5, 9, 3, 7, 2, 30, 11}}, {dtype = 'int64'})
local function logits(m) return llm.noGrad(function() return m(idx) end) end
local function maxDiff(a, b) return (a - b):abs():max():item() end
local function classes(m)
  local out = {}
  for _, e in ipairs(compress.QuantLinear and require('llm.compress.quant').eachModule(m) or {}) do out[e[1]] = e[2].__name end
  return out
end

describe('ops', function()
  it('round halves to even, floor, ceil, sign; gradient 0', function()
    local t = llm.tensor({-2.5, -1.5, -0.5, 0.5, 1.5, 2.5, 0.49, -0.51}, {requiresGrad = true})
    assert.are.same({-2, -2, 0, 0, 2, 2, 0, -1}, t:round():totable())
    assert.are.same({-3, -2, -1, 0, 1, 2, 0, -1}, t:floor():totable())
    assert.are.same({-2, -1, 0, 1, 2, 3, 1, 0}, t:ceil():totable())
    assert.are.same({-1, -1, -1, 1, 1, 1, 1, -1}, t:sign():totable())
    ;(t:round() + t:floor() + t:ceil() + t:sign()):sum():backward()
    assert.are.same({0, 0, 0, 0, 0, 0, 0, 0}, t.grad:totable())
  end)
  it("to('int8') truncates toward zero and saturates", function()
    assert.are.same({-3, 3, 127, -128, 0}, llm.tensor{-3.9, 3.9, 300, -300, -0.7}:to('int8'):totable())
  end)
end)

describe('llm.quant', function()
  it('quantizes and dequantizes each format; products are close to the float product', function()
    llm.manualSeed(3)
    local w, x = llm.randn(16, 64), llm.randn(3, 64)
    for _, f in ipairs{'q8_0', 'q4_0', 'int8'} do
      local q, s = llm.quant.quantize(w, f)
      local wd = llm.quant.dequantize(q, f, s)
      local y = llm.noGrad(function() return llm.quant.linear(x, q, {format = f, scales = s}) end)
      local rel = maxDiff(y, llm.linear(x, wd)) / llm.linear(x, wd):abs():max():item()
      assert(rel < 0.03, f .. ' relative error ' .. rel)
      assert(maxDiff(wd, w) < (f == 'q4_0' and 0.5 or 0.05), f)
    end
    assert.are.equal('uint8', llm.quant.quantize(w, 'q4_0'):dtype())
    assert.are.same({16, 2 * 18}, llm.quant.quantize(w, 'q4_0'):shape())
  end)
  it('refuses already quantized data, rows not a multiple of 32, unknown formats, gradients', function()
    local q = llm.quant.quantize(llm.randn(4, 64), 'q8_0')
    fails(function() llm.quant.quantize(q, 'q8_0') end, 'already quantized')
    fails(function() llm.quant.quantize(llm.randn(4, 40), 'q4_0') end, 'not a multiple of the block size 32')
    fails(function() llm.quant.quantize(llm.randn(4, 64), 'q5_1') end, "Invalid format 'q5_1'")
    fails(function() llm.quant.linear(llm.randn(2, 64, {requiresGrad = true}), q, {format = 'q8_0'}) end, 'no gradient')
    fails(function() llm.quant.linear(llm.randn(2, 32), q, {format = 'q8_0'}) end, 'does not match')
  end)
end)

describe('compress.quantize', function()
  for _, f in ipairs{'q8_0', 'q4_0', 'int8', 'f16', 'bf16'} do
    it(f .. ': replaces the Linears, stays close to float32, is smaller, generates', function()
      local ref = logits(gpt())
      local m = gpt()
      local _, info = compress.quantize(m, {format = f})
      assert.are.equal(2 * 4 + 1, info.layers)   -- qkv, proj, fc, proj per block + the head
      assert(info.bytes < info.floatBytes / (f:match('^q4') and 6 or (f == 'f16' or f == 'bf16') and 1.9 or 3.5), f .. ' bytes')
      local names = classes(m)
      assert.are.equal('compress.QuantLinear', names['blocks.0.attn.qkv'])
      assert.are.equal('compress.QuantLinear', names['head'])
      local dtypes = {f16 = 'float16', bf16 = 'bfloat16', int8 = 'int8'}
      assert.are.equal(dtypes[f] or 'uint8', m.blocks[1].attn.qkv.qweight:dtype())
      assert.are.equal('nn.Embedding', names['tokEmb'])
      local tol = ({q8_0 = 0.05, int8 = 0.05, q4_0 = 0.4, f16 = 0.01, bf16 = 0.05})[f]
      assert(maxDiff(logits(m), ref) < tol, f .. ' logits differ by ' .. maxDiff(logits(m), ref))
      local out = m:generate(idx[1], {maxTokens = 5, temperature = 0})
      assert.are.equal(13, out:numel())
      assert.are.equal(f, compress.quantization(m).format)
    end)
  end
  it('targets select layers; the embedding stays float', function()
    local m = gpt()
    local _, info = compress.quantize(m, {format = 'q8_0', targets = 'mlp'})
    assert.are.equal(4, info.layers)
    assert.are.equal('nn.Linear', classes(m)['blocks.0.attn.qkv'])
    assert.are.equal('compress.QuantLinear', classes(m)['blocks.1.mlp.fc'])
  end)
  it('bad input errors and changes nothing', function()
    local m = gpt()
    local before = logits(m)
    fails(function() compress.quantize(m, {format = 'q3'}) end, "Invalid 'format'")
    fails(function() compress.quantize(m, {format = 'q8_0', bogus = 1}) end, "Invalid 'option'")
    fails(function() compress.quantize(m, {format = 'q8_0', targets = {'blocks.9.attn.qkv'}}) end, "no module 'blocks.9.attn.qkv'")
    fails(function() compress.quantize(m, {format = 'q8_0', targets = {'tokEmb'}}) end, 'not an nn.Linear')
    -- a layer whose rows are not a multiple of 32: the error names it and no layer is replaced
    local odd = nn.Sequential(nn.Linear(64, 32), nn.Linear(32, 40), nn.Linear(40, 64))
    fails(function() compress.quantize(odd, {format = 'q4_0'}) end, "'2' has rows of 40 values", 'multiple of the block size 32')
    for _, e in ipairs(require('llm.compress.quant').eachModule(odd)) do assert.are.equal('nn.Linear', e[2].__name) end
    compress.quantize(odd, {format = 'int8'})   -- int8 has no block constraint
    assert.are.equal(0, maxDiff(logits(m), before))
    compress.quantize(m, {format = 'q8_0'})
    local q = logits(m)
    fails(function() compress.quantize(m, {format = 'q4_0'}) end, 'already quantized')
    fails(function() compress.qat(m) end, 'already quantized')
    assert.are.equal(0, maxDiff(logits(m), q))
  end)
end)

describe('observers and calibration', function()
  it('min/max, moving average and percentile', function()
    local mm = compress.observer('minmax')
    mm:observe(llm.tensor{-1, 0.5}); mm:observe(llm.tensor{0.2, 3})
    assert.are.equal(3, mm:bound()); assert.is_true(math.abs(mm:scale() - 3 / 127) < 1e-12)
    local ma = compress.observer{kind = 'movingAverage', momentum = 0.5}
    ma:observe(llm.tensor{-2, 2}); ma:observe(llm.tensor{-4, 6})
    assert.are.equal(4, ma:bound())   -- max: 2 + 0.5·(6 − 2); min: −2 + 0.5·(−4 + 2) = −3
    local pc = compress.observer{kind = 'percentile', percentile = 90}
    pc:observe(llm.arange(1, 101))
    assert.are.equal(90, pc:bound())
    fails(function() compress.observer('histogram') end, "Invalid 'kind'")
    fails(function() compress.observer{kind = 'movingAverage', momentum = 2} end, "Invalid 'momentum'")
    fails(function() compress.observer():scale() end, 'nothing was observed')
  end)
  it('calibrate sets static activation scales (int8)', function()
    local m = gpt()
    local ref = logits(m)
    local calls = 0
    compress.quantize(m, {format = 'int8', observer = 'minmax', calibrate = function(model) calls = calls + 1; model(idx) end})
    assert.are.equal(1, calls)
    local s = m.blocks[1].attn.qkv._activationScale
    assert(type(s) == 'number' and s > 0)
    assert(maxDiff(logits(m), ref) < 0.1)
    fails(function() compress.quantize(gpt(), {format = 'q8_0', calibrate = function() end}) end, "needs format 'int8'")
  end)
end)

describe('saving', function()
  for _, f in ipairs{'q4_0', 'int8'} do
    it(f .. ': saveQuantized + loadQuantized give the same logits; generate after loading', function()
      local m = gpt(1)
      compress.quantize(m, {format = f, calibrate = f == 'int8' and function(model) model(idx) end or nil})
      local path = helpers.tmpdir('quant') .. '/model.safetensors'
      compress.saveQuantized(m, path)
      local other = gpt(2)   -- different float weights: everything comes from the file
      compress.loadQuantized(other, path)
      assert.are.equal(0, maxDiff(logits(other), logits(m)))
      assert.are.same(m:generate(idx[1], {maxTokens = 4, temperature = 0}):totable(),
        other:generate(idx[1], {maxTokens = 4, temperature = 0}):totable())
      fails(function() compress.loadQuantized(other, path) end, 'already quantized')
      fails(function() compress.saveQuantized(gpt(), path) end, 'not quantized')
      -- a model of another shape: the load fails and the model stays float
      local wide = nn.GPT{vocab = 40, blockSize = 16, layers = 2, heads = 2, dim = 64}
      fails(function() compress.loadQuantized(wide, path) end, 'compress.loadQuantized', 'shape')
      assert.is_nil(compress.quantization(wide))
      assert.are.equal('nn.Linear', wide.blocks[1].attn.qkv.__name)
    end)
  end
end)

describe('quantization-aware training', function()
  it('fakeQuantize matches torch.fake_quantize_per_channel_affine (values and straight-through gradients)', function()
    for i, c in ipairs(dofile(here .. '../Fixtures/fake_quant.lua')) do
      local w = helpers.fixtureTensor(c.w):detach()
      w.requiresGrad = true
      local scale = helpers.fixtureTensor(c.scale):reshape(-1, 1)
      local out = compress.fakeQuantize(w, scale, c.qmin, c.qmax)
      ;(out * helpers.fixtureTensor(c.g)):sum():backward()
      assert(maxDiff(out, helpers.fixtureTensor(c.out)) < 1e-6, 'case ' .. i .. ' values')
      assert(maxDiff(w.grad, helpers.fixtureTensor(c.grad)) < 1e-6, 'case ' .. i .. ' gradients')
    end
  end)
  it('qat trains through fake quantization; convert gives the int8 model it simulated', function()
    local m = gpt()
    m:train()
    local _, n = compress.qat(m)
    assert.are.equal(9, n)
    local opt = optim.AdamW(m:parameters(), {lr = 1e-2})
    local y = llm.tensor({{5, 9, 3, 7, 2, 30, 11, 4}}, {dtype = 'int64'})
    local first, last
    for step = 1, 5 do
      local _, loss = m(idx, y)
      opt:zeroGrad(); loss:backward(); opt:step()
      first, last = first or loss:item(), loss:item()
      assert(m.blocks[1].attn.qkv.weight.grad:abs():sum():item() > 0, 'step ' .. step)
    end
    assert(last < first)
    m:eval()
    local fq = logits(m)
    local w = m.blocks[1].mlp.fc.weight
    local simulated = llm.noGrad(function() return compress.fakeQuantize(w, w:abs():max(2, true) / 127) end)
    compress.convert(m)
    assert.are.equal('compress.QuantLinear', m.blocks[1].mlp.fc.__name)
    assert(maxDiff(m.blocks[1].mlp.fc:dequantized(), simulated) < 1e-6)
    assert(maxDiff(logits(m), fq) < 0.05)
    fails(function() compress.convert(m) end, 'no compress.FakeQuantLinear')
  end)
end)
