-- export_spec.lua: llm.export (hf, gguf, safetensors), import of Hugging Face GPT-2 folders
-- (nn.GPT.fromPretrained, llmscript import) and the CLI. Fixtures: Tests/Fixtures/export, made by
-- scripts/reference/make_export_fixtures.py with transformers and gguf-py (logits of two GPT2LMHeadModel
-- folders; the quantizers' bit-exactness is Tests/LLMFormatsTests/GGUFTests.swift's).
-- With LLMS_EXPORT_CHECK=DIR set, the 'writes an export for the Python checker' test leaves an hf folder,
-- GGUF files, ids/logits and a text sample in DIR for `make_export_fixtures.py --check DIR`.
local here = debug.getinfo(1, 'S').source:match('^@(.*/)') or './'
local h = dofile(here .. 'helpers.lua')
local cli = dofile(here .. 'cli.lua')
local fixtures = here .. '../Fixtures/export/'

teardown(h.removeTmpdirs)

local function maxDiff(a, b) return (a - b):abs():max():item() end

-- A small BPE GPT (and its tokenizer) trained from the fixture tokenizer's vocabulary.
local function bpeModel(opts)
  llm.manualSeed(3)
  local tok = llm.data.BPETokenizer.fromFile(fixtures .. 'hf_gpt2/tokenizer.json')
  local cfg = {vocab = tok:vocabSize(), blockSize = 16, layers = 2, heads = 2, dim = 32}
  for k, v in pairs(opts or {}) do cfg[k] = v end
  local m = nn.GPT(cfg)
  -- non-trivial norms and biases, so a wrong mapping shows in the logits
  llm.noGrad(function()
    for name, p in pairs(m:namedParameters()) do
      if name:match('ln') or name:match('bias$') then p:add_(llm.randn(p:shape()) * 0.1) end
    end
  end)
  return m:eval(), tok
end

local ids = llm.tensor({{5, 17, 250, 3, 499, 0, 42, 7}}, {dtype = 'int64'})

-- A checkpoint as the recipes write it (model config, class and tokenizer in trainer.json's extra; more
-- extra fields from `more`, e.g. chatTemplate).
local function checkpoint(model, tok, more)
  local dir = h.tmpdir('ck')
  local sd = {}
  for k, v in pairs(model:stateDict()) do if k ~= 'head.weight' or not model._config.tieWeights then sd[k] = v end end
  llm.checkpoint.write(dir .. '/step-000010', {['model.safetensors'] = sd,
    ['trainer.json'] = {step = 10, extra = {model = model:config(), modelClass = model.__name, tokenizer = tok and tok:toTable()}}})
  if more then
    local ck = llm.checkpoint.read(dir .. '/step-000010')
    for k, v in pairs(more) do ck['trainer.json'].extra[k] = v end
    llm.checkpoint.write(dir .. '/step-000020', ck)
  end
  return dir
end

describe('import of Hugging Face GPT-2 folders', function()
  it('gives transformers\' logits (tied gelu_new, and untied exact gelu with n_inner)', function()
    for _, name in ipairs{'hf_gpt2', 'hf_gpt2_untied'} do
      local m, tok = nn.GPT.fromPretrained(fixtures .. name)
      local ref = llm.load(fixtures .. name .. '/logits.safetensors')
      assert.is_true(maxDiff(m(ref.ids), ref.logits) < 1e-4, name)
      assert.are.equal(500, tok:vocabSize())
    end
    local m = nn.GPT.fromPretrained(fixtures .. 'hf_gpt2_untied')
    assert.are.equal('geluExact', m:config().activation)
    assert.are.equal(48, m:config().hidden)
    assert.is_false(m:config().tieWeights)
  end)

  it('accepts keys without the transformer. prefix and ignores attn.bias / attn.masked_bias buffers', function()
    local dir = h.tmpdir('noprefix')
    local sd = llm.load(fixtures .. 'hf_gpt2/model.safetensors')
    local out = {}
    for k, t in pairs(sd) do out[(k:gsub('^transformer%.', ''))] = t end
    out['h.0.attn.bias'] = llm.ones(1, 1, 32, 32)
    out['h.1.attn.masked_bias'] = llm.tensor({-1e4})
    llm.save(dir .. '/model.safetensors', out)
    for _, f in ipairs{'config.json', 'tokenizer.json'} do
      local src = assert(io.open(fixtures .. 'hf_gpt2/' .. f, 'rb')); local s = src:read('a'); src:close()
      local dst = assert(io.open(dir .. '/' .. f, 'wb')); dst:write(s); dst:close()
    end
    local m = nn.GPT.fromPretrained(dir)
    local ref = llm.load(fixtures .. 'hf_gpt2/logits.safetensors')
    assert.is_true(maxDiff(m(ref.ids), ref.logits) < 1e-4)
  end)

  it('reads sharded weights (model.safetensors.index.json)', function()
    local dir = h.tmpdir('shards')
    local sd = llm.load(fixtures .. 'hf_gpt2/model.safetensors')
    local a, b, map = {}, {}, {}
    for k, t in pairs(sd) do
      local first = k:match('%.h%.0%.') ~= nil
      if first then a[k] = t else b[k] = t end
      map[k] = first and 'model-00001-of-00002.safetensors' or 'model-00002-of-00002.safetensors'
    end
    llm.save(dir .. '/model-00001-of-00002.safetensors', a)
    llm.save(dir .. '/model-00002-of-00002.safetensors', b)
    local f = assert(io.open(dir .. '/model.safetensors.index.json', 'w'))
    f:write(llm.json.encode({metadata = {total_size = 0}, weight_map = map})); f:close()
    f = assert(io.open(dir .. '/config.json', 'w')); f:write(cli.readAll(fixtures .. 'hf_gpt2/config.json')); f:close()
    local m, tok = nn.GPT.fromPretrained(dir)
    assert.is_nil(tok)
    local ref = llm.load(fixtures .. 'hf_gpt2/logits.safetensors')
    assert.is_true(maxDiff(m(ref.ids), ref.logits) < 1e-4)
  end)

  it('refuses folders it cannot read, naming the problem', function()
    local dir = h.tmpdir('bad')
    h.fails(function() nn.GPT.fromPretrained(dir) end, 'has no config.json')
    local f = assert(io.open(dir .. '/config.json', 'w')); f:write('{"model_type": "bert"}'); f:close()
    h.fails(function() nn.GPT.fromPretrained(dir) end, 'has no model.safetensors')
    llm.save(dir .. '/model.safetensors', {x = llm.zeros(2)})
    h.fails(function() nn.GPT.fromPretrained(dir) end, "model_type 'bert'", 'gpt2 and llama')
  end)

  it('llmscript import writes a checkpoint that export and sample read', function()
    local out = h.tmpdir('imp') .. '/run'
    local code, stdout, stderr = cli.run({'import', fixtures .. 'hf_gpt2', out})
    assert.are.equal(0, code, stderr)
    cli.has(stdout, 'imported')
    local m, info = llm.export.load(out)
    assert.are.equal(0, info.step)
    assert.are.equal('bpe', info.tokenizer.type)
    local ref = llm.load(fixtures .. 'hf_gpt2/logits.safetensors')
    assert.is_true(maxDiff(m(ref.ids), ref.logits) < 1e-4)
    code, stdout = cli.run({cli.root .. 'recipes/sample.lua', '--checkpoint=' .. out, '--samples=1', '--tokens=3', '--prompt=the'})
    assert.are.equal(0, code, stdout)
    code, stdout, stderr = cli.run({'import', fixtures .. 'hf_gpt2', out})
    assert.are.equal(1, code)
    cli.has(stderr, 'exists; pass --force')
    -- fine-tuning starts from the imported weights with a fresh optimizer
    local x = llm.tensor({{5, 17, 250, 3, 499, 0, 42, 7, 9}}, {dtype = 'int64'})
    local trainer = llm.Trainer{model = m, optimizer = optim.AdamW(m:parameters(), {lr = 1e-2}), steps = 3,
      train = {next = function() return x:narrow(2, 1, 8), x:narrow(2, 2, 8) end}}
    local before = select(2, m(x:narrow(2, 1, 8), x:narrow(2, 2, 8))):item()
    h.captured(function() trainer:run() end)
    assert.is_true(select(2, m(x:narrow(2, 1, 8), x:narrow(2, 2, 8))):item() < before)
  end)
end)

describe('llm.export hf', function()
  it('round-trips an nn.GPT through the GPT-2 layout (Conv1D transposes, tied head omitted)', function()
    local m, tok = bpeModel()
    local out = h.tmpdir('hf') .. '/m'
    local r = llm.export(m, {format = 'hf', out = out, tokenizer = tok})
    assert.are.same({'config.json', 'model.safetensors', 'tokenizer.json', 'tokenizer_config.json'}, r.files)
    local sd = llm.load(out .. '/model.safetensors')
    assert.is_nil(sd['lm_head.weight'])
    assert.are.same({32, 96}, sd['transformer.h.0.attn.c_attn.weight']:shape())
    assert.are.same({128, 32}, sd['transformer.h.1.mlp.c_proj.weight']:shape())
    local cfg = llm.json.decode(cli.readAll(out .. '/config.json'))
    assert.are.equal('gelu_new', cfg.activation_function)
    assert.are.equal(0, cfg.eos_token_id)
    local back, tok2 = nn.GPT.fromPretrained(out)
    assert.is_true(maxDiff(m(ids), back(ids)) < 1e-5)
    assert.are.same(tok:encode('the quick fox'):totable(), tok2:encode('the quick fox'):totable())
  end)

  it('maps untied heads, exact GELU and bias-free models; f16 and bf16 weights', function()
    local m = bpeModel({tieWeights = false, activation = 'geluExact', bias = false})
    local out = h.tmpdir('hf2') .. '/m'
    llm.export(m, {format = 'hf', out = out, dtype = 'f16'})
    local sd = llm.load(out .. '/model.safetensors')
    assert.are.equal('float16', sd['lm_head.weight']:dtype())
    assert.are.same(llm.zeros(96):totable(), sd['transformer.h.0.attn.c_attn.bias']:to('float32'):totable())
    local cfg = llm.json.decode(cli.readAll(out .. '/config.json'))
    assert.are.equal('gelu', cfg.activation_function)
    assert.is_false(cfg.tie_word_embeddings)
    assert.are.equal('float16', cfg.torch_dtype)
    local back = nn.GPT.fromPretrained(out)
    assert.is_true(maxDiff(m(ids), back(ids)) < 5e-2)
    llm.export(m, {format = 'hf', out = out, dtype = 'bf16', force = true})
    assert.are.equal('bfloat16', llm.load(out .. '/model.safetensors')['transformer.wte.weight']:dtype())
  end)

  it('exports a character-tokenizer model with its vocabulary as JSON and no HF tokenizer', function()
    local tok = llm.data.CharTokenizer('abc d')
    local m = nn.GPT{vocab = tok:vocabSize(), blockSize = 8, layers = 1, heads = 2, dim = 16}
    local out = h.tmpdir('char') .. '/m'
    local r = llm.export(m, {format = 'hf', out = out, tokenizer = tok})
    assert.are.same({'config.json', 'model.safetensors', 'llmscript_tokenizer.json'}, r.files)
    assert.is_nil(io.open(out .. '/tokenizer.json'))
    local back, tok2 = nn.GPT.fromPretrained(out)
    assert.are.same(tok:encode('bad'):totable(), tok2:encode('bad'):totable())
    local x = tok:encode('abcd'):reshape(1, 4)
    assert.is_true(maxDiff(m(x), back(x)) < 1e-6)
  end)

  it('refuses options GPT-2 cannot express, naming them', function()
    local cases = {{{positions = 'rope'}, "positions = 'rope'"}, {{norm = 'rms'}, "norm = 'rms'"},
                   {{activation = 'swiglu'}, "activation = 'swiglu'"}, {{kvHeads = 1}, 'grouped-query attention'},
                   {{postNorm = true}, 'postNorm'}, {{window = 4}, 'sliding-window'}}
    for _, c in ipairs(cases) do
      local cfg = {vocab = 8, blockSize = 8, layers = 1, heads = 2, dim = 8}
      for k, v in pairs(c[1]) do cfg[k] = v end
      local m = nn.GPT(cfg)
      h.fails(function() llm.export(m, {format = 'hf', out = h.tmpdir('refuse') .. '/m'}) end, "Hugging Face's GPT-2 cannot express", c[2])
    end
  end)

  it('exports nn.Llama in LlamaForCausalLM\'s layout', function()
    llm.manualSeed(5)
    local m = nn.Llama{vocab = 40, dim = 32, layers = 1, heads = 4, kvHeads = 2, multipleOf = 16, maxSeq = 16}
    local out = h.tmpdir('llama') .. '/m'
    llm.export(m, {format = 'hf', out = out})
    local cfg = llm.json.decode(cli.readAll(out .. '/config.json'))
    assert.are.equal('llama', cfg.model_type)
    local back = nn.GPT.fromPretrained(out)
    local x = llm.tensor({{1, 2, 3, 39}}, {dtype = 'int64'})
    assert.are.equal('nn.Llama', back.__name)
    assert.is_true(maxDiff(m(x), back(x)) < 1e-6)
  end)

  it('imports nn.Llama with the folder\'s tensors exactly (f32 adopted, f16 converted; tied), nothing unloaded', function()
    llm.manualSeed(6)
    for _, tied in ipairs({false, true}) do
      local m = nn.Llama{vocab = 40, dim = 32, layers = 2, heads = 4, kvHeads = 2, multipleOf = 16, maxSeq = 16, tied = tied}
      local dir = h.tmpdir('llama-values')
      for _, dtype in ipairs({'float32', 'f16'}) do
        llm.export(m, {format = 'hf', out = dir .. '/' .. dtype, dtype = dtype ~= 'float32' and dtype or nil, force = true})
        local src = llm.load(dir .. '/' .. dtype .. '/model.safetensors')
        local back = nn.GPT.fromPretrained(dir .. '/' .. dtype)
        assert.are.same({}, nn.unloaded(back))
        local got, n = back:hfStateDict(), 0
        for name, t in pairs(src) do
          assert.are.same(t:shape(), got[name]:shape(), name)
          assert.are.equal('float32', got[name]:dtype(), name)
          assert.are.equal(0, maxDiff(t:to('float32'), got[name]), name)
          n = n + 1
        end
        for _ in pairs(got) do n = n - 1 end
        assert.are.equal(0, n)   -- the same names both ways
        if tied then assert.is_true(rawequal(back.head.weight, back.tokEmb.weight)) end
      end
    end
  end)

  it('loadHFStateDict copies a caller\'s state dict and leaves it usable; {adopt = true} takes its tensors', function()
    llm.manualSeed(7)
    local cfg = {vocab = 40, dim = 32, layers = 1, heads = 4, kvHeads = 2, multipleOf = 16, maxSeq = 16}
    local m = nn.Llama(cfg)
    local sd = m:hfStateDict()
    local copy = nn.withoutInit(nn.Llama, cfg):loadHFStateDict(sd)
    local x = llm.tensor({{1, 2, 3, 39}}, {dtype = 'int64'})
    assert.are.equal(0, maxDiff(m(x), copy(x)))
    assert.are.equal(0, maxDiff(sd['model.layers.0.self_attn.k_proj.weight'], copy:hfStateDict()['model.layers.0.self_attn.k_proj.weight']))
    local own = {}
    for k, t in pairs(sd) do own[k] = t:detach():clone() end   -- leaves: adopted as they are
    local adopted = nn.withoutInit(nn.Llama, cfg):loadHFStateDict(own, {adopt = true})
    assert.are.same({}, nn.unloaded(adopted))
    assert.is_true(rawequal(own['model.embed_tokens.weight'], adopted.tokEmb.weight))
    assert.are.equal(0, maxDiff(m(x), adopted(x)))
    h.fails(function() m:loadHFStateDict(sd, {copy = true}) end, "loadHFStateDict: unknown option 'copy'")
    h.fails(function() m:loadHFStateDict(sd, 'adopt') end, "bad argument #2 to 'loadHFStateDict'")
  end)
end)

describe('llm.export gguf', function()
  it('writes llama.cpp gpt2 keys, tokenizer and tensors that llm.gguf.read parses back', function()
    local m, tok = bpeModel()
    local path = h.tmpdir('gguf') .. '/m.gguf'
    llm.export(m, {format = 'gguf', out = path, tokenizer = tok, dtype = 'q8_0'})
    local g = llm.gguf.read(path)
    assert.are.equal(3, g.version)
    assert.are.equal(32, g.alignment)
    local md, types = g.metadata, g.types
    assert.are.equal('gpt2', md['general.architecture'])
    assert.are.equal(7, md['general.file_type'])
    assert.are.equal(2, md['general.quantization_version'])
    for k, v in pairs{['gpt2.context_length'] = 16, ['gpt2.embedding_length'] = 32, ['gpt2.block_count'] = 2,
                      ['gpt2.feed_forward_length'] = 128, ['gpt2.attention.head_count'] = 2} do
      assert.are.equal(v, md[k], k)
      assert.are.equal('uint32', types[k], k)
    end
    assert.are.equal('float32', types['gpt2.attention.layer_norm_epsilon'])
    assert.are.equal('gpt2', md['tokenizer.ggml.model'])
    assert.are.equal('array:string', types['tokenizer.ggml.tokens'])
    assert.are.equal(500, #md['tokenizer.ggml.tokens'])
    assert.are.equal(tok:idToToken(300), md['tokenizer.ggml.tokens'][301])
    assert.are.equal(3, md['tokenizer.ggml.token_type'][1])   -- <|endoftext|> is a control token
    assert.are.equal(1, md['tokenizer.ggml.token_type'][2])
    assert.are.equal(#tok:toTable().merges, #md['tokenizer.ggml.merges'])
    assert.are.equal(0, md['tokenizer.ggml.eos_token_id'])
    assert.are.equal(require('llm.chat').templates.chatml.jinja, md['tokenizer.chat_template'])   -- the Jinja llama.cpp reads
    assert.are.equal('string', types['tokenizer.chat_template'])
    local kinds = {}
    for _, i in ipairs(g.infos) do kinds[i.name] = i.type end
    assert.are.equal('q8_0', kinds['token_embd.weight'])
    assert.are.equal('f32', kinds['position_embd.weight'])
    assert.are.equal('q8_0', kinds['blk.1.ffn_down.weight'])
    assert.are.equal('f32', kinds['blk.0.attn_norm.bias'])
    assert.is_nil(kinds['output.weight'])   -- tied: llama.cpp uses token_embd
    assert.are.same({96, 32}, g.tensors['blk.0.attn_qkv.weight']:shape())
    local sd = m:stateDict()
    assert.is_true(maxDiff(g.tensors['blk.0.attn_qkv.weight'], sd['blocks.0.attn.qkv.weight']) < 0.01)
    assert.are.same(sd['blocks.1.ln2.bias']:totable(), g.tensors['blk.1.ffn_norm.bias']:totable())
  end)

  it('writes f32 bytes exactly, q4_0 within its step, and f16 fallbacks for rows not a multiple of 32', function()
    local m, tok = bpeModel({dim = 48, heads = 2})
    local dir = h.tmpdir('gguf2')
    llm.export(m, {format = 'gguf', out = dir .. '/f32.gguf', tokenizer = tok})
    local g = llm.gguf.read(dir .. '/f32.gguf')
    assert.are.equal(0, maxDiff(g.tensors['token_embd.weight'], m.tokEmb.weight))
    local r = llm.export(m, {format = 'gguf', out = dir .. '/q4.gguf', tokenizer = tok, dtype = 'q4_0'})
    assert.is_true(#r.notes > 0)
    assert.truthy(r.notes[1]:find('not a multiple of 32', 1, true))
    local kinds = {}
    for _, i in ipairs(llm.gguf.read(dir .. '/q4.gguf').infos) do kinds[i.name] = i.type end
    assert.are.equal('f16', kinds['blk.0.attn_qkv.weight'])   -- rows of 48 values
    assert.are.equal('q4_0', kinds['blk.0.ffn_down.weight'])  -- rows of 192 values
    local q4 = llm.gguf.read(dir .. '/q4.gguf').tensors['blk.0.ffn_down.weight']
    local w = m.blocks[1].mlp.proj.weight
    assert.is_true(maxDiff(q4, w) <= w:abs():max():item() / 8 + 1e-3)
  end)

  it('pads the vocabulary up to the model\'s and writes an untied head as output.weight', function()
    local m, tok = bpeModel({vocab = 512, tieWeights = false})
    local path = h.tmpdir('gguf3') .. '/m.gguf'
    llm.export(m, {format = 'gguf', out = path, tokenizer = tok, dtype = 'f16'})
    local g = llm.gguf.read(path)
    assert.are.equal(512, #g.metadata['tokenizer.ggml.tokens'])
    assert.are.equal('[PAD511]', g.metadata['tokenizer.ggml.tokens'][512])
    assert.are.equal(5, g.metadata['tokenizer.ggml.token_type'][512])
    assert.truthy(g.tensors['output.weight'])
  end)

  it('writes nn.Llama as llama.cpp\'s llama architecture, q/k rows in llama.cpp\'s RoPE order', function()
    llm.manualSeed(5)
    local tok = llm.data.BPETokenizer.fromFile(fixtures .. 'hf_gpt2/tokenizer.json')
    local m = nn.Llama{vocab = 500, dim = 64, layers = 1, heads = 4, kvHeads = 2, multipleOf = 32, maxSeq = 16}
    local path = h.tmpdir('gguf-llama') .. '/m.gguf'
    llm.export(m, {format = 'gguf', out = path, tokenizer = tok, dtype = 'f32'})
    local g = llm.gguf.read(path)
    assert.are.equal('llama', g.metadata['general.architecture'])
    assert.are.equal(2, g.metadata['llama.attention.head_count_kv'])
    assert.are.equal(require('llm.chat').templates.llama.jinja, g.metadata['tokenizer.chat_template'])
    assert.are.equal(16, g.metadata['llama.rope.dimension_count'])
    assert.are.equal(m:config().hidden or m._config.hidden, g.metadata['llama.feed_forward_length'])
    local hf = m:hfStateDict()
    -- llama.cpp's order: within each head, rows (i, i + d/2) of HF's rotate-half layout become (2i, 2i+1)
    local q, k = g.tensors['blk.0.attn_q.weight'], hf['model.layers.0.self_attn.q_proj.weight']
    assert.are.same(k:narrow(1, 1, 1):totable(), q:narrow(1, 1, 1):totable())
    assert.are.same(k:narrow(1, 9, 1):totable(), q:narrow(1, 2, 1):totable())
    assert.are.same(k:narrow(1, 16 + 9, 1):totable(), q:narrow(1, 16 + 2, 1):totable())
    assert.are.same({32, 64}, g.tensors['blk.0.attn_k.weight']:shape())
    assert.are.equal(0, maxDiff(g.tensors['blk.0.ffn_gate.weight'], hf['model.layers.0.mlp.gate_proj.weight']))
    assert.truthy(g.tensors['output.weight'])
  end)

  it('refuses character models, exact GELU and non-GPT-2 options with clear messages', function()
    local tok = llm.data.CharTokenizer('abc')
    local m = nn.GPT{vocab = tok:vocabSize(), blockSize = 8, layers = 1, heads = 2, dim = 32}
    h.fails(function() llm.export(m, {format = 'gguf', out = h.tmpdir('r') .. '/m.gguf', tokenizer = tok}) end,
      'gguf needs a BPE tokenizer', "'char'")
    local m2, tok2 = bpeModel({activation = 'geluExact'})
    h.fails(function() llm.export(m2, {format = 'gguf', out = h.tmpdir('r') .. '/m.gguf', tokenizer = tok2}) end,
      "llama.cpp's gpt2 architecture cannot express", "activation = 'geluExact'")
  end)
end)

describe('llm.gguf', function()
  it('reads a file written by the gguf Python package', function()
    local g = llm.gguf.read(fixtures .. 'gguf_py.gguf', {raw = true})
    assert.are.equal('gpt2', g.metadata['general.architecture'])
    assert.are.same({'a', 'Ġb', 'é'}, g.metadata['test.strings'])
    assert.are.equal('array:string', g.types['test.strings'])
    assert.are.same({2, 64}, g.tensors['q8.matrix']:shape())
    assert.are.equal(2 * 2 * 34, g.raw['q8.matrix']:size(1))
  end)

  it('refuses bad input with messages naming it', function()
    local dir = h.tmpdir('gguf-bad')
    local f = assert(io.open(dir .. '/x.gguf', 'wb')); f:write('not a gguf file at all'); f:close()
    h.fails(function() llm.gguf.read(dir .. '/x.gguf') end, 'not a GGUF file (bad magic)', 'x.gguf')
    h.fails(function() llm.gguf.write(dir .. '/y.gguf', {metadata = {{'k', 'uint33', 1}}}) end, "unknown type 'uint33'")
    h.fails(function() llm.gguf.write(dir .. '/y.gguf', {metadata = {{'k', 'uint8', 300}}}) end, 'expected a uint8 value')
    h.fails(function() llm.gguf.write(dir .. '/y.gguf', {metadata = {{'k', 'array', {1}}}}) end, 'element type')
    h.fails(function() llm.gguf.write(dir .. '/y.gguf', {tensors = {{'w', llm.zeros(2, 3), 'q4_0'}}}) end, 'not a multiple of 32')
    h.fails(function() llm.gguf.write(dir .. '/y.gguf', {tensors = {{'w', llm.zeros(2), 'q5_k'}}}) end, "unknown tensor type 'q5_k'")
  end)
end)

describe('llm.export safetensors and checkpoints', function()
  it('round-trips a checkpoint through our own safetensors layout (f32 exact, bf16 close)', function()
    local m, tok = bpeModel()
    local ck = checkpoint(m, tok)
    local dir = h.tmpdir('st')
    llm.export(ck, {format = 'safetensors', out = dir .. '/m.safetensors'})
    local back, info = llm.export.load(dir .. '/m.safetensors')
    assert.are.equal(0, maxDiff(m(ids), back(ids)))
    assert.are.equal('bpe', info.tokenizer.type)
    llm.export(ck, {format = 'safetensors', out = dir .. '/b.safetensors', dtype = 'bf16'})
    assert.are.equal('bfloat16', llm.load(dir .. '/b.safetensors')['head.weight']:dtype())   -- tied: saved once, as checkpoints do
    assert.is_true(maxDiff(m(ids), llm.export.load(dir .. '/b.safetensors')(ids)) < 0.1)
  end)

  it('loads old checkpoints whose config says activation = \'gelu\' as the tanh form', function()
    local m, tok = bpeModel()
    local ck = checkpoint(m, tok)
    local old = llm.checkpoint.read(ck .. '/step-000010')
    old['trainer.json'].extra.model.activation = 'gelu'
    llm.checkpoint.write(ck .. '/step-000020', old)
    local back = llm.export.load(ck)
    assert.are.equal('geluTanh', back:config().activation)
    assert.are.equal(0, maxDiff(m(ids), back(ids)))
    assert.are.equal('geluTanh', nn.GPT{vocab = 5, blockSize = 4, layers = 1, heads = 1, dim = 4, activation = 'gelu'}:config().activation)
  end)

  it('refuses unknown formats and dtypes, existing outputs and paths that are not checkpoints', function()
    local m, tok = bpeModel()
    local dir = h.tmpdir('errs')
    h.fails(function() llm.export(m, {format = 'onnx', out = dir .. '/x'}) end, "unknown format 'onnx'", 'hf, gguf, safetensors')
    h.fails(function() llm.export(m, {format = 'hf', dtype = 'q8_0', out = dir .. '/x'}) end, "format 'hf' takes dtype bf16, f16, f32, got 'q8_0'")
    h.fails(function() llm.export(m, {format = 'gguf', dtype = 'int4', out = dir .. '/x'}) end, "got 'int4'")
    h.fails(function() llm.export(m, {format = 'hf', out = dir, tokenizer = tok}) end, 'exists; pass force = true')
    h.fails(function() llm.export(m, {format = 'hf', outt = dir}) end, "unknown option 'outt'")
    h.fails(function() llm.export(dir, {format = 'hf', out = dir .. '/x'}) end, 'is not a checkpoint')
    h.fails(function() llm.export(dir .. '/none', {format = 'hf', out = dir .. '/x'}) end, 'does not exist')
    h.fails(function() llm.export({}, {format = 'hf', out = dir .. '/x'}) end, 'expected a checkpoint path or an nn.GPT')
  end)
end)

describe('llm.export chat templates, per-block sizes and import values', function()
  local templates = require('llm.chat').templates
  local function hfTemplate(folder) return llm.json.decode(cli.readAll(folder .. '/tokenizer_config.json')).chat_template end

  it('writes the checkpoint\'s chat template into GGUF, HF and safetensors; chatTemplate / --chat-template win', function()
    local m, tok = bpeModel()
    local ck, dir = checkpoint(m, tok, {chatTemplate = 'plain'}), h.tmpdir('tmpl')
    local r = llm.export(ck, {format = 'gguf', out = dir .. '/m.gguf'})
    assert.are.equal('plain', r.chatTemplate)
    assert.are.equal(templates.plain.jinja, llm.gguf.read(dir .. '/m.gguf').metadata['tokenizer.chat_template'])
    llm.export(ck, {format = 'hf', out = dir .. '/hf'})
    assert.are.equal(templates.plain.jinja, hfTemplate(dir .. '/hf'))
    llm.export(ck, {format = 'safetensors', out = dir .. '/m.safetensors'})
    assert.are.equal('plain', select(2, llm.export.load(dir .. '/m.safetensors')).chatTemplate)
    -- llmscript import keeps it: the checkpoint names the template whose Jinja tokenizer_config.json holds
    assert.are.equal(0, (cli.run({'import', dir .. '/hf', dir .. '/imported'})))
    assert.are.equal('plain', select(2, llm.export.load(dir .. '/imported')).chatTemplate)
    -- an explicit template wins over the checkpoint's
    llm.export(ck, {format = 'hf', out = dir .. '/hf', force = true, chatTemplate = 'llama'})
    assert.are.equal(templates.llama.jinja, hfTemplate(dir .. '/hf'))
    local code, _, stderr = cli.run({'export', ck, '--format', 'gguf', '--chat-template', 'llama', '--force', dir .. '/m.gguf'})
    assert.are.equal(0, code, stderr)
    assert.are.equal(templates.llama.jinja, llm.gguf.read(dir .. '/m.gguf').metadata['tokenizer.chat_template'])
    code, _, stderr = cli.run({'export', ck, '--format', 'gguf', '--chat-template=zephyr', '--force', dir .. '/m.gguf'})
    assert.are.equal(1, code)
    cli.has(stderr, "unknown chatTemplate 'zephyr' (expected chatml, llama, plain)")
    -- no template in the checkpoint: the family's (nn.GPT: chatml; nn.Llama: llama, in HF as in GGUF); an unknown name: a note
    llm.export(checkpoint(m, tok), {format = 'hf', out = dir .. '/hf2'})
    assert.are.equal(templates.chatml.jinja, hfTemplate(dir .. '/hf2'))
    r = llm.export(checkpoint(m, tok, {chatTemplate = 'zephyr'}), {format = 'gguf', out = dir .. '/z.gguf'})
    assert.are.equal('chatml', r.chatTemplate)
    assert.truthy(r.notes[1]:find("chat template 'zephyr' is not one of llm.chat's", 1, true))
    local lm = nn.Llama{vocab = 500, dim = 32, layers = 1, heads = 2, multipleOf = 16, maxSeq = 16}
    llm.export(lm, {format = 'hf', out = dir .. '/hf_llama', tokenizer = tok})
    assert.are.equal(templates.llama.jinja, hfTemplate(dir .. '/hf_llama'))
    h.fails(function() llm.export(m, {format = 'gguf', out = dir .. '/x.gguf', tokenizer = tok, chatTemplate = 1}) end, 'unknown chatTemplate')
  end)

  it('refuses per-block sizes (layerConfig, as compress.shrink writes) in hf and gguf, naming the block', function()
    local m, tok = bpeModel({layerConfig = {{}, {heads = 1, hidden = 64}}})
    local dir = h.tmpdir('shrunk')
    h.fails(function() llm.export(m, {format = 'hf', out = dir .. '/hf', tokenizer = tok}) end,
      "Hugging Face's GPT-2 cannot express per-block sizes", 'blocks.1 has 1 heads (1 key/value), MLP hidden 64, the model 2 (2), 128',
      "export format 'safetensors' or a checkpoint keeps them")
    h.fails(function() llm.export(m, {format = 'gguf', out = dir .. '/m.gguf', tokenizer = tok}) end,
      "llama.cpp's gpt2 architecture cannot express per-block sizes", 'blocks.1')
    assert.is_nil(io.open(dir .. '/hf/config.json'))
    llm.export(m, {format = 'safetensors', out = dir .. '/m.safetensors', tokenizer = tok})
    assert.are.equal(0, maxDiff(m(ids), llm.export.load(dir .. '/m.safetensors')(ids)))
    -- a layerConfig that repeats the model's sizes describes a plain GPT-2
    local same = bpeModel({layerConfig = {{heads = 2}, {hidden = 128}}})
    llm.export(same, {format = 'hf', out = dir .. '/same', tokenizer = tok})
    assert.is_true(maxDiff(same(ids), nn.GPT.fromPretrained(dir .. '/same')(ids)) < 1e-5)
    local lm = nn.Llama{vocab = 500, dim = 32, layers = 2, heads = 2, multipleOf = 16, maxSeq = 16, layerConfig = {{heads = 1}, {}}}
    h.fails(function() llm.export(lm, {format = 'gguf', out = dir .. '/l.gguf', tokenizer = tok}) end,
      "llama.cpp's llama architecture cannot express per-block sizes", 'blocks.0 has 1 heads')
    h.fails(function() llm.export(lm, {format = 'hf', out = dir .. '/l', tokenizer = tok}) end,
      'the Hugging Face LlamaForCausalLM layout cannot express per-block sizes', 'blocks.0')
  end)

  it('imports every weight unchanged (Conv1D transposes made in place, square and not; f16 sources)', function()
    local m, tok = bpeModel({tieWeights = false})
    local dir = h.tmpdir('values')
    llm.export(m, {format = 'hf', out = dir .. '/f32', tokenizer = tok})
    local back = nn.GPT.fromPretrained(dir .. '/f32')
    local sd, got = m:stateDict(), back:stateDict()
    for name, t in pairs(sd) do
      assert.are.same(t:shape(), got[name]:shape(), name)
      assert.are.equal(0, maxDiff(t, got[name]), name)
      assert.is_true(got[name]:isContiguous(), name)
    end
    llm.export(m, {format = 'hf', out = dir .. '/f16', tokenizer = tok, dtype = 'f16'})
    local hf16 = llm.load(dir .. '/f16/model.safetensors')
    got = nn.GPT.fromPretrained(dir .. '/f16'):stateDict()
    assert.are.equal(0, maxDiff(hf16['transformer.h.1.attn.c_proj.weight']:to('float32'):transpose(1, 2), got['blocks.1.attn.proj.weight']))
    assert.are.equal(0, maxDiff(hf16['transformer.h.0.mlp.c_fc.weight']:to('float32'):transpose(1, 2), got['blocks.0.mlp.fc.weight']))
    assert.are.equal('float32', got['blocks.0.mlp.fc.weight']:dtype())
  end)
end)

describe('llmscript export', function()
  it('exports a checkpoint from the command line; usage errors exit 2, refusals 1', function()
    local m, tok = bpeModel()
    local ck = checkpoint(m, tok)
    local dir = h.tmpdir('cli')
    local code, stdout, stderr = cli.run({'export', ck, '--format', 'gguf', '--dtype=q4_0', dir .. '/m.gguf'})
    assert.are.equal(0, code, stderr)
    cli.has(stdout, 'exported')
    assert.are.equal('q4_0', llm.gguf.read(dir .. '/m.gguf').infos[1].type)
    code, stdout, stderr = cli.run({'export', ck, '--format', 'gguf', dir .. '/m.gguf'})
    assert.are.equal(1, code)
    cli.has(stderr, 'exists; pass force = true (--force)')
    code = cli.run({'export', ck, '--format', 'gguf', '--force', dir .. '/m.gguf'})
    assert.are.equal(0, code)
    code, stdout, stderr = cli.run({'export', ck, dir .. '/y'})
    assert.are.equal(2, code)
    cli.has(stderr, 'missing --format')
    code, stdout, stderr = cli.run({'export', ck, '--format', 'hf', '--bogus', '1', dir .. '/y'})
    assert.are.equal(2, code)
    cli.has(stderr, "unknown option '--bogus'")
    code, stdout = cli.run({'export', '--help'})
    assert.are.equal(0, code)
    cli.has(stdout, 'usage: llmscript export')
  end)

  it('writes an export for the Python checker (LLMS_EXPORT_CHECK=DIR)', function()
    local dir = os.getenv('LLMS_EXPORT_CHECK')
    if not dir then return end
    local m, tok = bpeModel()
    llm.makeDirs(dir)
    llm.export(m, {format = 'hf', out = dir .. '/hf', tokenizer = tok, force = true})
    for _, d in ipairs{'f32', 'f16', 'q8_0', 'q4_0'} do
      llm.export(m, {format = 'gguf', out = dir .. '/model_' .. d .. '.gguf', tokenizer = tok, dtype = d, force = true})
    end
    local x = llm.tensor({{5, 17, 250, 3, 499, 0, 42, 7}, {1, 2, 3, 4, 5, 6, 7, 8}}, {dtype = 'int64'})
    llm.save(dir .. '/logits.safetensors', {ids = x, logits = m(x)})
    llm.manualSeed(6)
    local lm = nn.Llama{vocab = 500, dim = 64, layers = 2, heads = 4, kvHeads = 2, multipleOf = 32, maxSeq = 16}
    llm.export(lm, {format = 'hf', out = dir .. '/hf_llama', tokenizer = tok, force = true})
    llm.export(lm, {format = 'gguf', out = dir .. '/llama_f32.gguf', tokenizer = tok, force = true})
    llm.export(lm, {format = 'gguf', out = dir .. '/llama_q8_0.gguf', tokenizer = tok, force = true, dtype = 'q8_0'})
    llm.save(dir .. '/llama_logits.safetensors', {ids = x, logits = lm(x)})
    local text = 'The quick brown fox, said 3 wise men!'
    local f = assert(io.open(dir .. '/text.json', 'w'))
    f:write(llm.json.encode({text = text, ids = tok:encode(text):totable()}))
    f:close()
  end)
end)
