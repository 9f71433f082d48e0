-- quant_k_spec.lua: the k-quant Q4_K through Lua: llm.quant 'q4_k' bit-exact with llama.cpp's quantizer
-- (Tests/Fixtures/q4_k.json, scripts/reference/make_q4k_fixtures.py), its product close to the dequantized one;
-- compress.quantize 'q4_k' and `llmscript generate --quantize q4_k` (the same greedy text as a model holding the
-- dequantized weights as float), saveQuantized/loadQuantized; GGUF export --dtype q4_k (type q4_k read back, bytes
-- equal llm.quant's, rows not a multiple of 256 fall back to q4_0); bad input (rows not a multiple of 256) errors
-- and changes nothing.
-- Run: llmscript test Tests/lua/quant_k_spec.lua

local here = debug.getinfo(1, 'S').source:match('^@(.*/)') or './'
local h = dofile(here .. 'helpers.lua')
local cli = dofile(here .. 'cli.lua')
teardown(h.removeTmpdirs)

local function maxDiff(a, b) return (a - b):abs():max():item() end

local function unhex(s) return (s:gsub('..', function(c) return string.char(tonumber(c, 16)) end)) end
local function floats(s)
  local b, out = unhex(s), {}
  for i = 1, #b, 4 do out[#out + 1] = string.unpack('<f', b, i) end
  return out
end

describe("llm.quant 'q4_k'", function()
  it("quantizes as llama.cpp's quantize_row_q4_K_ref and dequantizes as dequantize_row_q4_K, exactly", function()
    local f = assert(io.open(here .. '../Fixtures/q4_k.json'))
    local fixture = llm.json.decode(f:read('a'))
    f:close()
    for _, c in ipairs(fixture.cases) do
      local x = floats(c.x)
      local q = llm.quant.quantize(llm.tensor(x):reshape(1, #x), 'q4_k')
      assert.are.same({1, #x // 256 * 144}, q:shape())
      local bytes = {}
      for i, v in ipairs(q:reshape(-1):totable()) do bytes[i] = string.char(v) end
      assert.are.equal(unhex(c.q4_k), table.concat(bytes), c.name)
      local d = {}   -- compared as f32 bytes: the overflowing case dequantizes to NaN, as llama.cpp's
      for i, v in ipairs(llm.quant.dequantize(q, 'q4_k'):reshape(-1):totable()) do d[i] = string.pack('<f', v) end
      assert.are.equal(unhex(c.dequant), table.concat(d), c.name)
    end
  end)

  it('gives products close to the dequantized weight\'s and refuses rows not a multiple of 256', function()
    llm.manualSeed(5)
    local w, x = llm.randn(12, 512), llm.randn(4, 512)
    local q = llm.quant.quantize(w, 'q4_k')
    local wd = llm.quant.dequantize(q, 'q4_k')
    assert(maxDiff(wd, w) < 0.5)
    local y = llm.noGrad(function() return llm.quant.linear(x, q, {format = 'q4_k'}) end)
    local ref = llm.linear(x, wd)
    assert(maxDiff(y, ref) / ref:abs():max():item() < 0.01)
    h.fails(function() llm.quant.quantize(llm.randn(4, 96), 'q4_k') end, 'not a multiple of the block size 256')
    h.fails(function() llm.quant.linear(llm.randn(2, 256), q, {format = 'q4_k'}) end, 'does not match')
  end)
end)

-- A checkpoint (byte tokenizer) whose Linear rows are multiples of 256.
local function makeModel()
  local dir = h.tmpdir('q4k')
  local code, out, err = cli.run({cli.root .. 'scripts/bench/make_serve_model.lua', '--out=' .. dir, '--class=nn.GPT',
    '--dim=256', '--layers=1', '--heads=4', '--blockSize=32'})
  assert(code == 0, out .. err)
  return dir
end

describe("compress.quantize 'q4_k' and generate --quantize q4_k", function()
  it('generates the greedy text of a model holding the dequantized weights', function()
    local dir = makeModel()
    local code, out, err = cli.run({'generate', dir, '--prompt', 'Hi', '--max-tokens', '12', '--temperature', '0', '--quantize', 'q4_k'})
    assert.are.equal(0, code, err)
    -- the same model with each Linear's weight replaced by its Q4_K dequantization, run in float
    local model, tok = require('llm.checkpointmodel')(dir)
    local quantized = require('llm.checkpointmodel')(dir)
    local _, info = compress.quantize(quantized, {format = 'q4_k'})
    assert.are.equal(1 * 4 + 1, info.layers)
    assert(info.bytes < info.floatBytes / 6)
    local mods = {}
    for _, e in ipairs(require('llm.compress.quant').eachModule(quantized)) do mods[e[1]] = e[2] end
    llm.noGrad(function()
      for _, e in ipairs(require('llm.compress.quant').eachModule(model)) do
        local q = mods[e[1]]
        if q and q.__name == 'compress.QuantLinear' then e[2].weight:copy_(q:dequantized()) end
      end
    end)
    local ids = tok:encode('Hi')
    local viaFloat = tok:decode(model:generate(ids, {maxTokens = 12, temperature = 0}))
    assert.are.equal(viaFloat .. '\n', out)
    assert.are.equal(viaFloat, tok:decode(quantized:generate(ids, {maxTokens = 12, temperature = 0})))
  end)

  it('saves and loads a q4_k model with the same logits', function()
    local cfg = {vocab = 40, blockSize = 16, layers = 1, heads = 2, dim = 256}
    llm.manualSeed(2)
    local m = nn.GPT(cfg):eval()
    compress.quantize(m, {format = 'q4_k'})
    local idx = llm.tensor({{1, 5, 9, 3}}, {dtype = 'int64'})
    local path = h.tmpdir('q4ksave') .. '/m.safetensors'
    compress.saveQuantized(m, path)
    local loaded = compress.loadQuantized(nn.GPT(cfg):eval(), path)
    assert.are.equal('q4_k', compress.quantization(loaded).format)
    assert.are.equal(0, maxDiff(llm.noGrad(function() return m(idx) end), llm.noGrad(function() return loaded(idx) end)))
  end)

  it('refuses a layer whose rows are not a multiple of 256 and changes nothing', function()
    local m = nn.Sequential(nn.Linear(256, 32), nn.Linear(32, 256))
    h.fails(function() compress.quantize(m, {format = 'q4_k'}) end, "'1' has rows of 32 values", 'multiple of the block size 256')
    for _, e in ipairs(require('llm.compress.quant').eachModule(m)) do assert.are.equal('nn.Linear', e[2].__name) end
  end)
end)

describe('GGUF export --dtype q4_k', function()
  it('writes Q4_K matrices (bytes as llm.quant), Q4_0 for rows of a multiple of 32 only, and reads them back', function()
    llm.manualSeed(3)
    local tok = llm.data.BPETokenizer.fromFile(here .. '../Fixtures/export/hf_gpt2/tokenizer.json')
    local m = nn.GPT{vocab = tok:vocabSize(), blockSize = 16, layers = 1, heads = 4, dim = 256, hidden = 288}
    m:eval()
    local path = h.tmpdir('q4kgguf') .. '/m.gguf'
    local r = llm.export(m, {format = 'gguf', out = path, tokenizer = tok, dtype = 'q4_k'})
    assert.are.equal(1, #r.notes)
    assert.truthy(r.notes[1]:find('blk.0.ffn_down.weight stays q4_0: its rows have 288 values, not a multiple of 256', 1, true))
    local g = llm.gguf.read(path, {raw = true})
    local kinds = {}
    for _, i in ipairs(g.infos) do kinds[i.name] = i.type end
    assert.are.equal('q4_k', kinds['blk.0.attn_qkv.weight'])
    assert.are.equal('q4_k', kinds['token_embd.weight'])
    assert.are.equal('q4_0', kinds['blk.0.ffn_down.weight'])
    assert.are.equal('f32', kinds['position_embd.weight'])
    assert.are.equal(14, g.metadata['general.file_type'])
    local w = m.blocks[1].attn.qkv.weight
    assert.are.same(llm.quant.quantize(w, 'q4_k'):reshape(-1):totable(), g.raw['blk.0.attn_qkv.weight']:reshape(-1):totable())
    assert.are.equal(0, maxDiff(g.tensors['blk.0.attn_qkv.weight'], llm.quant.dequantize(llm.quant.quantize(w, 'q4_k'), 'q4_k')))
    h.fails(function() llm.gguf.write(path .. '2', {tensors = {{'w', llm.zeros(2, 64), 'q4_k'}}}) end, 'not a multiple of 256')
  end)
end)

describe('llama.cpp companion', function()
  -- LLMS_Q4K_CHECK=DIR: writes DIR/q4k.gguf and what llmscript computes on it for
  -- scripts/reference/check_q4k_gguf.py (gguf-py read-back, llama.cpp logits and greedy text).
  it('writes a Q4_K GGUF and llmscript\'s logits and greedy ids for the Python checker', function()
    local dir = os.getenv('LLMS_Q4K_CHECK')
    if not dir then return end
    llm.makeDirs(dir)
    llm.manualSeed(11)
    local tok = llm.data.BPETokenizer.fromFile(here .. '../Fixtures/export/hf_gpt2/tokenizer.json')
    local m = nn.GPT{vocab = tok:vocabSize(), blockSize = 64, layers = 2, heads = 4, dim = 256, tieWeights = false}
    -- a few steps on a repeating 10-token pattern, so that the greedy continuation is not a string of near-ties
    local pattern, seq = {5, 17, 250, 3, 499, 42, 7, 100, 33, 61}, {}
    for i = 1, 49 do seq[i] = pattern[(i - 1) % #pattern + 1] end
    local x = llm.tensor({{table.unpack(seq, 1, 48)}}, {dtype = 'int64'})
    local y = llm.tensor({{table.unpack(seq, 2, 49)}}, {dtype = 'int64'})
    local opt = optim.AdamW(m:parameters(), {lr = 3e-3})
    for _ = 1, 30 do
      opt:zeroGrad()
      local _, loss = m(x, y)
      loss:backward()
      opt:step()
    end
    m:eval()
    llm.export(m, {format = 'gguf', out = dir .. '/q4k.gguf', tokenizer = tok, dtype = 'q4_k', force = true})
    local g = llm.gguf.read(dir .. '/q4k.gguf')
    llm.save(dir .. '/dequant.safetensors', g.tensors)
    -- llama.cpp looks the embeddings up in the Q4_K table: give ours the same values, then quantize every Linear
    llm.noGrad(function() m.tokEmb.weight:copy_(g.tensors['token_embd.weight']) end)
    compress.quantize(m, {format = 'q4_k'})
    local ids = llm.tensor({{5, 17, 250, 3, 499, 0, 42, 7, 9, 100, 33, 61, 2, 8, 400, 21, table.unpack(seq, 1, 16)}}, {dtype = 'int64'})
    local logits = llm.noGrad(function() return m(ids) end)
    local prompt = llm.tensor({5, 17, 250}, {dtype = 'int64'})
    local greedy = m:generate(prompt, {maxTokens = 24, temperature = 0})
    llm.save(dir .. '/ours.safetensors', {ids = ids, logits = logits[1], prompt = prompt, greedy = greedy})
  end)
end)
