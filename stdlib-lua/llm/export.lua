-- llm.export: export a trained model for other tools, and import Hugging Face GPT-2 / Llama weights.
--   llm.export(src, {format = 'hf'|'gguf'|'safetensors', out = path, [dtype], [tokenizer], [force], [name]})
--     src: a checkpoint folder (a step-NNNNNN folder or a run folder: its newest), a .safetensors file
--     written by format 'safetensors', or a model (nn.GPT / nn.Llama; then opts.tokenizer is its
--     tokenizer, a tokenizer object or its :toTable()). Returns {format, dtype, out, files, notes}.
--     - 'hf': a folder transformers opens — config.json, model.safetensors in GPT2LMHeadModel's layout
--       (Conv1D weights [in, out], tied head omitted; untied: lm_head.weight and tie_word_embeddings
--       false; no biases: zero biases; activation geluTanh -> 'gelu_new', geluExact -> 'gelu', relu,
--       silu), tokenizer.json + tokenizer_config.json (BPE models; other tokenizers: their :toTable() in
--       llmscript_tokenizer.json, no HF tokenizer); nn.Llama: LlamaForCausalLM (Llama.lua's hfStateDict).
--       dtype f32 | f16 | bf16. Options GPT-2 cannot express (other positions, RMSNorm, post-norm,
--       grouped-query attention, windows, qkNorm, gated MLPs) are refused naming the option.
--     - 'gguf': GGUF v3 for llama.cpp's gpt2 architecture (BPE models only): hyper-parameters, the BPE
--       vocabulary and merges under tokenizer.ggml.*, tensors f32 | f16 | q8_0 | q4_0 (1-D tensors stay
--       F32; position_embd stays F32 when quantizing; a matrix whose rows are not a multiple of 32 falls
--       back to F16, listed in notes). The vocabulary is padded with [PAD<i>] tokens up to the model's.
--     - 'safetensors': llmscript's own parameter names; metadata holds the model class, config and
--       tokenizer as JSON, so M.load(file) rebuilds the model. dtype f32 | f16 | bf16.
--     An existing out is refused unless force = true.
--   M.load(src) -> model, info {tokenizer (table), modelClass, step, path}: the model of a checkpoint or
--     of an exported .safetensors file.
--   M.importHF(folder) -> model, tokenizer: a HF GPT-2 (GPT2LMHeadModel, keys with or without the
--     'transformer.' prefix; attn.bias / attn.masked_bias buffers ignored) or LlamaForCausalLM folder
--     (config.json, model.safetensors, tokenizer.json or llmscript_tokenizer.json). nn.GPT.fromPretrained.
--   M.importCheckpoint(folder, out, [{force}]) -> dir: importHF, then a checkpoint (step-000000 under out)
--     that recipes/sample.lua reads and nn.GPT.fromPretrained-free code loads with M.load.
--   M.main(args): the `llmscript export` / `llmscript import` command lines (ExportCommand.swift).
local M = {}

local dtypesFor = {hf = {f32 = 'float32', f16 = 'float16', bf16 = 'bfloat16'},
                   safetensors = {f32 = 'float32', f16 = 'float16', bf16 = 'bfloat16'},
                   gguf = {f32 = 'f32', f16 = 'f16', q8_0 = 'q8_0', q4_0 = 'q4_0'}}
local classes = {['nn.GPT'] = function() return nn.GPT end, ['nn.Llama'] = function() return nn.Llama end}

local function fail(msg) error(msg, 0) end

local function exists(path)
  local f = io.open(path, 'r')
  if f then f:close() end
  return f ~= nil
end

local function readText(path)
  local f, err = io.open(path, 'rb')
  if not f then fail('cannot read ' .. path .. ': ' .. tostring(err)) end
  local s = f:read('a')
  f:close()
  return s
end

local function writeText(path, text)
  local f, err = io.open(path, 'wb')
  if not f then fail('cannot write ' .. path .. ': ' .. tostring(err)) end
  f:write(text)
  f:close()
end

local function writeJSON(path, value) writeText(path, llm.json.encode(value, {indent = true}) .. '\n') end

local function sortedKeys(t)
  local keys = {}
  for k in pairs(t) do keys[#keys + 1] = k end
  table.sort(keys)
  return keys
end

-- The model's tensors, each once (a tied weight under its first name in sorted order, as checkpoints do).
local function uniqueTensors(model)
  local sd, out, seen = model:stateDict(), {}, {}
  for _, name in ipairs(sortedKeys(sd)) do
    if not seen[sd[name]] then seen[sd[name]] = true; out[name] = sd[name] end
  end
  return out
end

local function tokenizerTable(tok)
  if tok == nil or type(tok) == 'table' then return tok end
  if type(tok) == 'userdata' and tok.toTable then return tok:toTable() end
  fail("llm.export: 'tokenizer' must be a tokenizer or its :toTable(), got " .. type(tok))
end

local function modelClass(name, where)
  local get = classes[name or 'nn.GPT']
  if not get then fail(where .. " holds a model of class '" .. tostring(name) .. "'; export knows nn.GPT and nn.Llama") end
  return get()
end

--- The model of a checkpoint (or of a .safetensors file written by format 'safetensors') and what
--- goes with it: {tokenizer = table, modelClass, config, step, path}.
function M.load(src)
  if type(src) ~= 'string' then fail('llm.export.load: expected a checkpoint path, got ' .. type(src)) end
  if not exists(src) then fail("'" .. src .. "' does not exist") end
  if src:match('%.safetensors$') then
    local tensors, meta = llm.load(src, {metadata = true})
    if not meta['llmscript.config'] then
      fail("'" .. src .. "' is not an llmscript export (its metadata has no llmscript.config; HF folders: llmscript import)")
    end
    local Model = modelClass(meta['llmscript.modelClass'], "'" .. src .. "'")
    local model = Model(llm.json.decode(meta['llmscript.config']))
    model:loadStateDict(tensors)
    local tok = meta['llmscript.tokenizer'] and llm.json.decode(meta['llmscript.tokenizer']) or nil
    return model, {tokenizer = tok, modelClass = model.__name, config = model:config(), path = src}
  end
  local dir = llm.checkpoint.latest(src) or src
  local ok, ck = pcall(llm.checkpoint.read, dir)
  if not ok then fail("'" .. dir .. "' is not a checkpoint: " .. tostring(ck)) end
  local state = ck['trainer.json']
  local extra = type(state) == 'table' and state.extra or nil
  if type(extra) ~= 'table' or type(extra.model) ~= 'table' or ck['model.safetensors'] == nil then
    fail("'" .. dir .. "' is not a model checkpoint (it needs model.safetensors and trainer.json with extra.model, as the recipes write)")
  end
  local Model = modelClass(extra.modelClass, "'" .. dir .. "'")
  local model = Model(extra.model)
  model:loadStateDict(ck['model.safetensors'])
  return model, {tokenizer = extra.tokenizer, modelClass = model.__name, config = model:config(), step = state.step, path = dir}
end

-- GPT-2 (HF and llama.cpp) expresses only some nn.GPT options; the first one it cannot is an error.
local hfActivations = {geluTanh = 'gelu_new', geluExact = 'gelu', relu = 'relu', silu = 'silu'}
local function checkGPT2(c, target, activations)
  local function refuse(what) fail(string.format('llm.export: %s cannot express %s; export format \'safetensors\' keeps every option', target, what)) end
  if c.positions ~= 'learned' then refuse("positions = '" .. c.positions .. "' (GPT-2 has learned positions)") end
  if c.norm ~= 'layer' then refuse("norm = '" .. c.norm .. "' (GPT-2 uses LayerNorm)") end
  if c.postNorm then refuse('postNorm = true (GPT-2 is pre-norm)') end
  if c.kvHeads and c.kvHeads ~= c.heads then refuse('grouped-query attention (kvHeads = ' .. c.kvHeads .. ')') end
  if c.window then refuse('sliding-window attention (window = ' .. c.window .. ')') end
  if c.qkNorm then refuse('qkNorm = true') end
  if not activations[c.activation] then refuse("activation = '" .. c.activation .. "'") end
end

-- (ours, theirs, transpose) pairs of nn.GPT parameters and HF GPT2LMHeadModel's names.
local function gpt2Names(c)
  local out = {{'tokEmb.weight', 'transformer.wte.weight'}, {'posEmb.weight', 'transformer.wpe.weight'}}
  local per = {{'ln1.weight', 'ln_1.weight'}, {'ln1.bias', 'ln_1.bias'}, {'attn.qkv.weight', 'attn.c_attn.weight', true},
    {'attn.qkv.bias', 'attn.c_attn.bias'}, {'attn.proj.weight', 'attn.c_proj.weight', true}, {'attn.proj.bias', 'attn.c_proj.bias'},
    {'ln2.weight', 'ln_2.weight'}, {'ln2.bias', 'ln_2.bias'}, {'mlp.fc.weight', 'mlp.c_fc.weight', true}, {'mlp.fc.bias', 'mlp.c_fc.bias'},
    {'mlp.proj.weight', 'mlp.c_proj.weight', true}, {'mlp.proj.bias', 'mlp.c_proj.bias'}}
  for i = 0, c.layers - 1 do
    for _, e in ipairs(per) do out[#out + 1] = {'blocks.' .. i .. '.' .. e[1], 'transformer.h.' .. i .. '.' .. e[2], e[3]} end
  end
  out[#out + 1] = {'lnF.weight', 'transformer.ln_f.weight'}
  out[#out + 1] = {'lnF.bias', 'transformer.ln_f.bias'}
  if not c.tieWeights then out[#out + 1] = {'head.weight', 'lm_head.weight'} end
  return out
end

-- The HF GPT-2 state dict of an nn.GPT (missing biases of a bias-free model are zeros).
local function gpt2StateDict(model)
  local sd, out = model:stateDict(), {}
  for _, e in ipairs(gpt2Names(model._config)) do
    local t = sd[e[1]]
    if t == nil then   -- a bias the model does not have: zeros of the matching weight's output size
      local w = sd[e[1]:gsub('%.bias$', '.weight')]
      t = llm.zeros(w:size(1))
    end
    out[e[2]] = e[3] and t:transpose(1, 2):contiguous() or t
  end
  return out
end

-- The special token used as bos/eos: '<|endoftext|>' if the tokenizer has it.
local function endOfText(tok)
  for _, a in ipairs(tok and tok.added or {}) do if a.content == '<|endoftext|>' then return a.id end end
  return nil
end

local function gpt2Config(model, tok)
  local c = model._config
  local eot = endOfText(tok)
  return {architectures = {'GPT2LMHeadModel'}, model_type = 'gpt2', vocab_size = c.vocab, n_positions = c.blockSize,
    n_ctx = c.blockSize, n_embd = c.dim, n_layer = c.layers, n_head = c.heads,
    n_inner = (c.hidden and c.hidden ~= 4 * c.dim) and c.hidden or llm.json.null,
    activation_function = hfActivations[c.activation], layer_norm_epsilon = c.normEps or 1e-5,
    resid_pdrop = c.dropout, embd_pdrop = c.dropout, attn_pdrop = c.dropout, scale_attn_weights = true,
    tie_word_embeddings = c.tieWeights, bos_token_id = eot or llm.json.null, eos_token_id = eot or llm.json.null}
end

local function castAll(sd, dtype)
  local out = {}
  for k, t in pairs(sd) do out[k] = dtype == 'float32' and t or t:to(dtype) end
  return out
end

local function writeTokenizerFiles(out, tok, maxLength, files)
  if not tok then return end
  if tok.type == 'bpe' then
    llm.data.tokenizerFromTable(tok):save(out .. '/tokenizer.json')
    local eot = endOfText(tok) and '<|endoftext|>' or llm.json.null
    writeJSON(out .. '/tokenizer_config.json', {tokenizer_class = 'GPT2Tokenizer', model_max_length = maxLength,
      bos_token = eot, eos_token = eot, unk_token = eot, add_prefix_space = tok.addPrefixSpace or false})
    files[#files + 1] = 'tokenizer.json'
    files[#files + 1] = 'tokenizer_config.json'
  else
    writeJSON(out .. '/llmscript_tokenizer.json', tok)
    files[#files + 1] = 'llmscript_tokenizer.json'
  end
end

local function exportHF(model, tok, o)
  local dtype = o.torchDtype
  local config, sd
  if model.__name == 'nn.Llama' then
    local c = model._llama
    if c.window then fail('llm.export: Hugging Face LlamaForCausalLM cannot express sliding-window attention (window = ' .. c.window .. ')') end
    if c.qkNorm then fail('llm.export: Hugging Face LlamaForCausalLM cannot express qkNorm = true') end
    if c.ropeScaling and c.ropeScaling.type ~= 'linear' then
      fail("llm.export: Hugging Face LlamaForCausalLM cannot express ropeScaling type '" .. tostring(c.ropeScaling.type) .. "' exactly")
    end
    config, sd = model:hfConfig(), {}
    for k, t in pairs(model:hfStateDict()) do sd[k] = t:contiguous() end
  else
    checkGPT2(model._config, "Hugging Face's GPT-2", hfActivations)
    config, sd = gpt2Config(model, tok), gpt2StateDict(model)
  end
  config.torch_dtype = dtype
  llm.makeDirs(o.out)
  llm.save(o.out .. '/model.safetensors', castAll(sd, dtype), {metadata = {format = 'pt'}})
  writeJSON(o.out .. '/config.json', config)
  local files = {'config.json', 'model.safetensors'}
  writeTokenizerFiles(o.out, tok, model._config.blockSize, files)
  return files
end

-- llama.cpp gpt2 tensor names of nn.GPT parameters: {ours, gguf, isMatrix}.
local function ggufNames(c)
  local out = {{'tokEmb.weight', 'token_embd.weight', true}, {'posEmb.weight', 'position_embd.weight', true}}
  local per = {{'ln1.weight', 'attn_norm.weight'}, {'ln1.bias', 'attn_norm.bias'}, {'attn.qkv.weight', 'attn_qkv.weight', true},
    {'attn.qkv.bias', 'attn_qkv.bias'}, {'attn.proj.weight', 'attn_output.weight', true}, {'attn.proj.bias', 'attn_output.bias'},
    {'ln2.weight', 'ffn_norm.weight'}, {'ln2.bias', 'ffn_norm.bias'}, {'mlp.fc.weight', 'ffn_up.weight', true},
    {'mlp.fc.bias', 'ffn_up.bias'}, {'mlp.proj.weight', 'ffn_down.weight', true}, {'mlp.proj.bias', 'ffn_down.bias'}}
  for i = 0, c.layers - 1 do
    for _, e in ipairs(per) do out[#out + 1] = {'blocks.' .. i .. '.' .. e[1], 'blk.' .. i .. '.' .. e[2], e[3]} end
  end
  out[#out + 1] = {'lnF.weight', 'output_norm.weight'}
  out[#out + 1] = {'lnF.bias', 'output_norm.bias'}
  if not c.tieWeights then out[#out + 1] = {'head.weight', 'output.weight', true} end
  return out
end

local fileTypes = {f32 = 0, f16 = 1, q4_0 = 2, q8_0 = 7}

local function exportGGUF(model, tok, o)
  if model.__name ~= 'nn.GPT' then fail('llm.export: gguf export supports nn.GPT (llama.cpp gpt2); ' .. model.__name .. ' is not supported yet') end
  if not tok or tok.type ~= 'bpe' then
    fail("llm.export: gguf needs a BPE tokenizer (llama.cpp has no character vocabulary); this model's tokenizer is '"
      .. tostring(tok and tok.type) .. "' — export format 'hf' or 'safetensors' instead")
  end
  local c = model._config
  checkGPT2(c, "llama.cpp's gpt2 architecture", {geluTanh = true})
  if #tok.vocab > c.vocab then fail(string.format('llm.export: the tokenizer has %d tokens but the model only %d', #tok.vocab, c.vocab)) end
  local special = {}
  for _, a in ipairs(tok.added or {}) do if a.special then special[a.id] = true end end
  local tokens, types = {}, {}
  for i = 1, c.vocab do
    tokens[i] = tok.vocab[i] or ('[PAD' .. (i - 1) .. ']')
    types[i] = tok.vocab[i] == nil and 5 or (special[i - 1] and 3 or 1)
  end
  local eot = endOfText(tok)
  local quantized = o.dtype == 'q8_0' or o.dtype == 'q4_0'
  local meta = {
    {'general.architecture', 'string', 'gpt2'}, {'general.name', 'string', o.name or 'llmscript-gpt2'},
    {'general.file_type', 'uint32', fileTypes[o.dtype]},
    {'gpt2.context_length', 'uint32', c.blockSize}, {'gpt2.embedding_length', 'uint32', c.dim},
    {'gpt2.feed_forward_length', 'uint32', c.hidden or 4 * c.dim}, {'gpt2.block_count', 'uint32', c.layers},
    {'gpt2.attention.head_count', 'uint32', c.heads}, {'gpt2.attention.layer_norm_epsilon', 'float32', c.normEps or 1e-5},
    {'tokenizer.ggml.model', 'string', 'gpt2'}, {'tokenizer.ggml.pre', 'string', 'gpt-2'},
    {'tokenizer.ggml.tokens', 'array', tokens, 'string'}, {'tokenizer.ggml.token_type', 'array', types, 'int32'},
    {'tokenizer.ggml.merges', 'array', llm.json.array(tok.merges), 'string'},
  }
  if eot then
    meta[#meta + 1] = {'tokenizer.ggml.bos_token_id', 'uint32', eot}
    meta[#meta + 1] = {'tokenizer.ggml.eos_token_id', 'uint32', eot}
  end
  if quantized then meta[#meta + 1] = {'general.quantization_version', 'uint32', 2} end
  local sd, tensors, notes = model:stateDict(), {}, {}
  for _, e in ipairs(ggufNames(c)) do
    local t = sd[e[1]]
    if t == nil then t = llm.zeros(sd[e[1]:gsub('%.bias$', '.weight')]:size(1)) end   -- a bias-free model: zero biases
    local kind = 'f32'
    if e[3] then
      kind = o.dtype
      if quantized and e[2] == 'position_embd.weight' then kind = 'f32'
      elseif quantized and t:size(t:dim()) % 32 ~= 0 then
        kind = 'f16'
        notes[#notes + 1] = string.format('%s stays f16: its rows have %d values, not a multiple of 32', e[2], t:size(t:dim()))
      end
    end
    tensors[#tensors + 1] = {e[2], t, kind}
  end
  llm.gguf.write(o.out, {metadata = meta, tensors = tensors})
  return {o.out:match('[^/]+$')}, notes
end

local function exportSafetensors(model, tok, o)
  local meta = {format = 'pt', ['llmscript.modelClass'] = model.__name, ['llmscript.config'] = llm.json.encode(model:config())}
  if tok then meta['llmscript.tokenizer'] = llm.json.encode(tok) end
  llm.save(o.out, castAll(uniqueTensors(model), o.torchDtype), {metadata = meta})
  return {o.out:match('[^/]+$')}
end

local exporters = {hf = exportHF, gguf = exportGGUF, safetensors = exportSafetensors}

--- llm.export(src, {format, out, [dtype='f32'], [tokenizer], [force=false], [name]}): see the header.
function M.export(src, opts)
  if type(opts) ~= 'table' then fail('llm.export: expected an options table {format, out, [dtype]}, got ' .. type(opts)) end
  for k in pairs(opts) do
    if not ({format = 1, out = 1, dtype = 1, tokenizer = 1, force = 1, name = 1})[k] then
      fail("llm.export: unknown option '" .. tostring(k) .. "' (expected format, out, dtype, tokenizer, force, name)")
    end
  end
  local format = opts.format
  if not exporters[format] then fail("llm.export: unknown format '" .. tostring(format) .. "' (expected hf, gguf, safetensors)") end
  local dtype = opts.dtype or 'f32'
  if not dtypesFor[format][dtype] then
    fail(string.format("llm.export: format '%s' takes dtype %s, got '%s'", format, table.concat(sortedKeys(dtypesFor[format]), ', '), tostring(dtype)))
  end
  if type(opts.out) ~= 'string' or opts.out == '' then fail("llm.export: 'out' must be a path") end
  if exists(opts.out) and not opts.force then fail("llm.export: '" .. opts.out .. "' exists; pass force = true (--force) to overwrite it") end
  local model, info
  if type(src) == 'string' then
    model, info = M.load(src)
  elseif type(src) == 'table' and classes[src.__name] then
    model, info = src, {tokenizer = tokenizerTable(opts.tokenizer)}
  else
    fail('llm.export: expected a checkpoint path or an nn.GPT / nn.Llama model, got ' .. (type(src) == 'table' and tostring(src.__name) or type(src)))
  end
  local tok = opts.tokenizer and tokenizerTable(opts.tokenizer) or info.tokenizer
  local o = {out = opts.out, dtype = dtype, torchDtype = dtypesFor[format][dtype], name = opts.name}
  local files, notes = exporters[format](model, tok, o)
  return {format = format, dtype = dtype, out = opts.out, files = files, notes = notes or {}}
end

-- HF GPT-2 activation names -> nn.GPT's.
local fromHFActivation = {gelu_new = 'geluTanh', gelu_pytorch_tanh = 'geluTanh', gelu_fast = nil, gelu = 'geluExact',
                          relu = 'relu', silu = 'silu', swish = 'silu'}

local function importGPT2(cfg, tensors, folder)
  local function refuse(what) fail("llmscript import: '" .. folder .. "' uses " .. what .. ', which nn.GPT does not implement') end
  if cfg.scale_attn_by_inverse_layer_idx then refuse('scale_attn_by_inverse_layer_idx') end
  if cfg.scale_attn_weights == false then refuse('scale_attn_weights = false') end
  local act = fromHFActivation[cfg.activation_function or 'gelu_new']
  if not act then refuse("activation_function '" .. tostring(cfg.activation_function) .. "'") end
  local sd = {}
  for name, t in pairs(tensors) do
    local n = name:gsub('^transformer%.', '')
    if not (n:match('%.attn%.bias$') or n:match('%.attn%.masked_bias$')) then sd[n] = t end
  end
  local tied = cfg.tie_word_embeddings ~= false
  local inner = cfg.n_inner ~= nil and cfg.n_inner ~= llm.json.null and cfg.n_inner or nil
  local model = nn.GPT{vocab = cfg.vocab_size, blockSize = cfg.n_positions, layers = cfg.n_layer, heads = cfg.n_head,
    dim = cfg.n_embd, hidden = inner, normEps = cfg.layer_norm_epsilon or 1e-5, activation = act, tieWeights = tied}
  local own = {}
  for _, e in ipairs(gpt2Names(model._config)) do
    local key = e[2]:gsub('^transformer%.', '')
    local t = sd[key]
    if t == nil and key == 'lm_head.weight' then fail("llmscript import: '" .. folder .. "' has tie_word_embeddings = false but no lm_head.weight") end
    if t == nil then fail("llmscript import: '" .. folder .. "' has no tensor '" .. key .. "' (with or without the transformer. prefix)") end
    sd[key] = nil
    t = t:to('float32')
    own[e[1]] = e[3] and t:transpose(1, 2):contiguous() or t
  end
  sd['lm_head.weight'] = nil   -- tied: the same values as wte
  local extra = sortedKeys(sd)
  if #extra > 0 then fail("llmscript import: '" .. folder .. "' has tensors GPT-2 does not: " .. table.concat(extra, ', ', 1, math.min(5, #extra))) end
  model:loadStateDict(own)
  return model
end

local function importLlama(cfg, tensors)
  local scaling = cfg.rope_scaling
  if scaling == llm.json.null then scaling = nil end
  local model = nn.Llama{vocab = cfg.vocab_size, dim = cfg.hidden_size, layers = cfg.num_hidden_layers,
    heads = cfg.num_attention_heads, kvHeads = cfg.num_key_value_heads, hidden = cfg.intermediate_size,
    ropeBase = cfg.rope_theta or 10000, rmsEps = cfg.rms_norm_eps or 1e-6, tied = cfg.tie_word_embeddings == true,
    maxSeq = cfg.max_position_embeddings or 2048,
    ropeScaling = scaling and {type = scaling.rope_type or scaling.type, factor = scaling.factor} or nil}
  local sd = {}
  for k, t in pairs(tensors) do
    if not (model._llama.tied and k == 'lm_head.weight') then sd[k] = t:to('float32') end
  end
  model:loadHFStateDict(sd)
  return model
end

--- The model and tokenizer (nil when the folder has none) of a Hugging Face GPT-2 or Llama folder.
function M.importHF(folder)
  if type(folder) ~= 'string' then fail('nn.GPT.fromPretrained: expected a folder path, got ' .. type(folder)) end
  folder = folder:gsub('/+$', '')
  if not exists(folder .. '/config.json') then fail("llmscript import: '" .. folder .. "' has no config.json (a Hugging Face model folder)") end
  if not exists(folder .. '/model.safetensors') then
    fail("llmscript import: '" .. folder .. "' has no model.safetensors (only safetensors is read; convert .bin/.pt files outside llmscript)")
  end
  local cfg = llm.json.decode(readText(folder .. '/config.json'))
  local tensors = llm.load(folder .. '/model.safetensors')
  local model
  if cfg.model_type == 'gpt2' then model = importGPT2(cfg, tensors, folder)
  elseif cfg.model_type == 'llama' then model = importLlama(cfg, tensors)
  else fail("llmscript import: '" .. folder .. "' holds model_type '" .. tostring(cfg.model_type) .. "'; import reads gpt2 and llama") end
  local tok
  if exists(folder .. '/tokenizer.json') then tok = llm.data.BPETokenizer.fromFile(folder .. '/tokenizer.json')
  elseif exists(folder .. '/llmscript_tokenizer.json') then
    tok = llm.data.tokenizerFromTable(llm.json.decode(readText(folder .. '/llmscript_tokenizer.json')))
  end
  if tok and tok:vocabSize() > model._config.vocab then
    fail(string.format("llmscript import: '%s' has a tokenizer of %d tokens for a model of %d", folder, tok:vocabSize(), model._config.vocab))
  end
  return model, tok
end

--- importHF(folder), then a checkpoint out/step-000000 (model, config, class, tokenizer) the recipes read.
function M.importCheckpoint(folder, out, opts)
  if type(out) ~= 'string' or out == '' then fail("llmscript import: expected an output folder") end
  if exists(out) and not (opts and opts.force) then fail("llmscript import: '" .. out .. "' exists; pass --force to write into it") end
  local model, tok = M.importHF(folder)
  llm.makeDirs(out)
  return llm.checkpoint.write(out .. '/' .. llm.checkpoint.stepName(0), {
    ['model.safetensors'] = uniqueTensors(model),
    ['trainer.json'] = {step = 0, extra = {model = model:config(), modelClass = model.__name,
      tokenizer = tok and tok:toTable() or nil, importedFrom = folder}},
  }), model
end

local usage = {
  export = 'usage: llmscript export CHECKPOINT --format hf|gguf|safetensors [--dtype f32|f16|bf16|q8_0|q4_0] [--force] OUT',
  import = 'usage: llmscript import FOLDER OUT [--force]   (a Hugging Face GPT-2 or Llama folder -> an llmscript checkpoint)',
}

-- Splits the command line into words and --key[=value] options ('--force' takes no value).
local function parseArgs(cmd, args)
  local words, o, i = {}, {}, 1
  while i <= #args do
    local a = args[i]
    local k, v = a:match('^%-%-([%w_]+)=(.*)$')
    if k then o[k] = v
    elseif a == '--force' then o.force = true
    elseif a:match('^%-%-[%w_]+$') then
      k = a:sub(3)
      if args[i + 1] == nil then return nil, "option --" .. k .. " needs a value" end
      o[k] = args[i + 1]
      i = i + 1
    elseif a:match('^%-') then return nil, "unknown option '" .. a .. "'"
    else words[#words + 1] = a end
    i = i + 1
  end
  local allowed = cmd == 'export' and {format = 1, dtype = 1, force = 1, name = 1} or {force = 1}
  for key in pairs(o) do if not allowed[key] then return nil, "unknown option '--" .. key .. "'" end end
  return words, o
end

--- The `llmscript export|import` command line: returns the exit status (0, 1 a refusal, 2 usage) and the message.
function M.main(cmd, args)
  if args[1] == '-h' or args[1] == '--help' then return 0, usage[cmd] end
  local words, o = parseArgs(cmd, args)
  if not words then return 2, o .. '\n' .. usage[cmd] end
  if #words ~= 2 then return 2, 'expected ' .. (cmd == 'export' and 'CHECKPOINT and OUT' or 'FOLDER and OUT') .. '\n' .. usage[cmd] end
  if cmd == 'export' and not o.format then return 2, 'missing --format\n' .. usage[cmd] end
  local ok, result = pcall(function()
    if cmd == 'export' then
      local r = M.export(words[1], {format = o.format, dtype = o.dtype, out = words[2], force = o.force, name = o.name})
      local lines = {string.format('exported %s as %s (%s) to %s', words[1], r.format, r.dtype, r.out)}
      for _, n in ipairs(r.notes) do lines[#lines + 1] = '  note: ' .. n end
      return table.concat(lines, '\n')
    end
    local dir, model = M.importCheckpoint(words[1], words[2], {force = o.force})
    return string.format('imported %s (%s, %d parameters) to %s', words[1], model.__name, model:numParameters(), dir)
  end)
  if not ok then return 1, tostring(result) end
  return 0, result
end

return setmetatable(M, {__call = function(_, ...) return M.export(...) end})
