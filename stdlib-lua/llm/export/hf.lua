-- llm/export/hf.lua: Hugging Face folders. export(model, tok, o): config.json, model.safetensors and
-- tokenizer files for GPT2LMHeadModel (nn.GPT: Conv1D weights stored [in, out], the tied head omitted)
-- or LlamaForCausalLM (nn.Llama: Llama.lua's hfStateDict/hfConfig); tokenizer_config.json's chat_template is
-- llm.chat's template o.chatTemplate (llm.export's choice). import(folder): the model and
-- tokenizer of such a folder (model.safetensors or shards listed in model.safetensors.index.json; keys
-- with or without 'transformer.', attn.bias/masked_bias ignored). The model is built without init
-- (nn.withoutInit) and filled from the folder's tensors; every parameter is checked to be loaded.
local U = require 'llm.export.util'
local fail = U.fail

local H = {}

-- nn.GPT activations and HF GPT-2's activation_function names, both ways.
local toHF = {geluTanh = 'gelu_new', geluExact = 'gelu', relu = 'relu', silu = 'silu'}
local fromHF = {gelu_new = 'geluTanh', gelu_pytorch_tanh = 'geluTanh', gelu = 'geluExact', relu = 'relu', silu = 'silu', swish = 'silu'}

-- {ours, HF GPT-2's, transposed (Conv1D)} for every nn.GPT parameter.
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

local function gpt2StateDict(model)
  local sd, out = model:stateDict(), {}
  for _, e in ipairs(gpt2Names(model._config)) do
    local t = sd[e[1]] or U.zeroBias(sd, e[1])
    out[e[2]] = e[3] and t:transpose(1, 2):contiguous() or t
  end
  return out
end

local function gpt2Config(model, tok)
  local c = model._config
  local eot = U.endOfText(tok) or llm.json.null
  return {architectures = {'GPT2LMHeadModel'}, model_type = 'gpt2', vocab_size = c.vocab, n_positions = c.blockSize,
    n_ctx = c.blockSize, n_embd = c.dim, n_layer = c.layers, n_head = c.heads,
    n_inner = (c.hidden and c.hidden ~= 4 * c.dim) and c.hidden or llm.json.null,
    activation_function = toHF[c.activation], layer_norm_epsilon = c.normEps or 1e-5,
    resid_pdrop = c.dropout, embd_pdrop = c.dropout, attn_pdrop = c.dropout, scale_attn_weights = true,
    tie_word_embeddings = c.tieWeights, bos_token_id = eot, eos_token_id = eot}
end

--- The tensors of sd converted to dtype (a torch dtype name).
function H.cast(sd, dtype)
  local out = {}
  for k, t in pairs(sd) do out[k] = dtype == 'float32' and t or t:to(dtype) end
  return out
end

local function writeTokenizer(out, tok, maxLength, files, template)
  if not tok then return end
  if tok.type == 'bpe' then
    llm.data.tokenizerFromTable(tok):save(out .. '/tokenizer.json')
    local eot = U.endOfText(tok) and '<|endoftext|>' or llm.json.null
    U.writeJSON(out .. '/tokenizer_config.json', {tokenizer_class = 'GPT2Tokenizer', model_max_length = maxLength,
      bos_token = eot, eos_token = eot, unk_token = eot, add_prefix_space = tok.addPrefixSpace or false,
      chat_template = require('llm.chat').templates[template].jinja})   -- llm.export's choice (llm/chat.lua)
    files[#files + 1] = 'tokenizer.json'
    files[#files + 1] = 'tokenizer_config.json'
  else
    U.writeJSON(out .. '/llmscript_tokenizer.json', tok)
    files[#files + 1] = 'llmscript_tokenizer.json'
  end
end

--- Writes the folder o.out for model (dtype o.torchDtype) with tokenizer table tok; returns its file names.
function H.export(model, tok, o)
  local config, sd
  if model.__name == 'nn.Llama' then
    U.checkLlama(model, 'the Hugging Face LlamaForCausalLM layout')
    config, sd = model:hfConfig(), {}
    for k, t in pairs(model:hfStateDict()) do sd[k] = t:contiguous() end
  else
    U.checkGPT2(model._config, "Hugging Face's GPT-2", toHF)
    config, sd = gpt2Config(model, tok), gpt2StateDict(model)
  end
  config.torch_dtype = o.torchDtype
  llm.makeDirs(o.out)
  llm.save(o.out .. '/model.safetensors', H.cast(sd, o.torchDtype), {metadata = {format = 'pt'}})
  U.writeJSON(o.out .. '/config.json', config)
  local files = {'config.json', 'model.safetensors'}
  writeTokenizer(o.out, tok, model._config.blockSize, files, o.chatTemplate)
  return files
end

-- One copy of the weights: the loaded tensors own separate, writable storages (llm.load), so a dtype
-- conversion frees its source at once, and a Conv1D weight [in, out] is transposed into its own storage
-- through a scratch copy (freed right away; kind by kind, so every scratch reuses the last one's memory):
-- fresh storages per tensor would leave holes in malloc's heap and peak near two copies.
local function converted(t)
  local f = t:to('float32')
  if not rawequal(f, t) then t:free() end
  return f
end

local function transposed(t)
  local f = converted(t)
  local view = f:transpose(1, 2)
  local scratch = view:contiguous()
  view:free()
  local out = f:view(f:size(2), f:size(1))
  out:copy_(scratch)
  scratch:free()
  if not rawequal(out, f) then f:free() end   -- a square matrix's view is f itself
  return out
end

-- The entries of gpt2Names kind by kind (every layer's c_attn, then every layer's c_proj, ...), so
-- consecutive scratch copies have the same size.
local function kindMajor(names)
  local kinds, byKind = {}, {}
  for _, e in ipairs(names) do
    local kind = e[1]:gsub('^blocks%.%d+%.', '')
    if not byKind[kind] then kinds[#kinds + 1] = kind; byKind[kind] = {} end
    table.insert(byKind[kind], e)
  end
  local out = {}
  for _, kind in ipairs(kinds) do for _, e in ipairs(byKind[kind]) do out[#out + 1] = e end end
  return out
end

local function importGPT2(cfg, tensors, folder)
  local function refuse(what) fail("llmscript import: '" .. folder .. "' uses " .. what .. ', which nn.GPT does not implement') end
  if cfg.scale_attn_by_inverse_layer_idx then refuse('scale_attn_by_inverse_layer_idx') end
  if cfg.scale_attn_weights == false then refuse('scale_attn_weights = false') end
  local act = fromHF[cfg.activation_function or 'gelu_new']
  if not act then refuse("activation_function '" .. tostring(cfg.activation_function) .. "'") end
  local sd = {}
  for name, t in pairs(tensors) do
    local n = name:gsub('^transformer%.', '')
    if not (n:match('%.attn%.bias$') or n:match('%.attn%.masked_bias$')) then sd[n] = t end
  end
  local inner = cfg.n_inner ~= llm.json.null and cfg.n_inner or nil
  local model = nn.withoutInit(nn.GPT, {vocab = cfg.vocab_size, blockSize = cfg.n_positions, layers = cfg.n_layer, heads = cfg.n_head,
    dim = cfg.n_embd, hidden = inner, normEps = cfg.layer_norm_epsilon or 1e-5, activation = act,
    tieWeights = cfg.tie_word_embeddings ~= false})
  if sd['lm_head.weight'] and model._config.tieWeights then   -- tied: the same values as wte
    sd['lm_head.weight']:free()
    sd['lm_head.weight'] = nil
  end
  local own = {}
  for _, e in ipairs(kindMajor(gpt2Names(model._config))) do
    local key = e[2]:gsub('^transformer%.', '')
    local t = sd[key]
    if t == nil then fail("llmscript import: '" .. folder .. "' has no tensor '" .. key .. "' (with or without the transformer. prefix)") end
    sd[key] = nil
    own[e[1]] = e[3] and transposed(t) or converted(t)
  end
  local extra = U.sortedKeys(sd)
  if #extra > 0 then fail("llmscript import: '" .. folder .. "' has tensors GPT-2 does not: " .. table.concat(extra, ', ', 1, math.min(5, #extra))) end
  nn.adoptStateDict(model, own)
  return model
end

local function importLlama(cfg, tensors)
  local scaling = cfg.rope_scaling ~= llm.json.null and cfg.rope_scaling or nil
  local model = nn.withoutInit(nn.Llama, {vocab = cfg.vocab_size, dim = cfg.hidden_size, layers = cfg.num_hidden_layers,
    heads = cfg.num_attention_heads, kvHeads = cfg.num_key_value_heads, hidden = cfg.intermediate_size,
    ropeBase = cfg.rope_theta or 10000, rmsEps = cfg.rms_norm_eps or 1e-6, tied = cfg.tie_word_embeddings == true,
    maxSeq = cfg.max_position_embeddings or 2048,
    ropeScaling = scaling and {type = scaling.rope_type or scaling.type, factor = scaling.factor} or nil})
  if model._llama.tied and tensors['lm_head.weight'] then   -- tied: the same values as embed_tokens
    tensors['lm_head.weight']:free()
    tensors['lm_head.weight'] = nil
  end
  model:loadHFStateDict(tensors, {adopt = true})   -- one copy: tensors adopted, or converted/stacked and freed one by one
  require('llm.nn.noinit').assertLoaded(model, 'llmscript import')   -- loadHFStateDict's strict check makes this a guarantee
  return model
end

-- The tensors of model.safetensors, or of the shards model.safetensors.index.json lists.
local function loadWeights(folder)
  if U.exists(folder .. '/model.safetensors') then return llm.load(folder .. '/model.safetensors') end
  if not U.exists(folder .. '/model.safetensors.index.json') then
    fail("llmscript import: '" .. folder .. "' has no model.safetensors (only safetensors is read; convert .bin/.pt files outside llmscript)")
  end
  local index = llm.json.decode(U.readText(folder .. '/model.safetensors.index.json'))
  if type(index) ~= 'table' or type(index.weight_map) ~= 'table' then
    fail("llmscript import: '" .. folder .. "/model.safetensors.index.json' has no weight_map")
  end
  local out, loaded = {}, {}
  for _, file in pairs(index.weight_map) do
    if type(file) ~= 'string' or file:find('/', 1, true) or file:find('..', 1, true) then
      fail("llmscript import: '" .. folder .. "/model.safetensors.index.json' names a shard outside the folder: " .. tostring(file))
    end
    if not loaded[file] then
      loaded[file] = true
      for k, t in pairs(llm.load(folder .. '/' .. file)) do out[k] = t end
    end
  end
  return out
end

--- The llm.chat template name whose Jinja is the folder's tokenizer_config.json chat_template (as H.export
--- writes it); nil when there is none or it is not one of llm.chat's.
function H.chatTemplateName(folder)
  local path = folder:gsub('/+$', '') .. '/tokenizer_config.json'
  if not U.exists(path) then return nil end
  local ok, cfg = pcall(llm.json.decode, U.readText(path))
  if not ok or type(cfg) ~= 'table' or type(cfg.chat_template) ~= 'string' then return nil end
  for name, t in pairs(require('llm.chat').templates) do if t.jinja == cfg.chat_template then return name end end
  return nil
end

--- The model and tokenizer (nil when the folder has none) of a Hugging Face GPT-2 or Llama folder.
function H.import(folder)
  if type(folder) ~= 'string' then fail('nn.GPT.fromPretrained: expected a folder path, got ' .. type(folder)) end
  folder = folder:gsub('/+$', '')
  if not U.exists(folder .. '/config.json') then fail("llmscript import: '" .. folder .. "' has no config.json (a Hugging Face model folder)") end
  local cfg = llm.json.decode(U.readText(folder .. '/config.json'))
  local tensors = loadWeights(folder)
  local model
  if cfg.model_type == 'gpt2' then model = importGPT2(cfg, tensors, folder)
  elseif cfg.model_type == 'llama' then model = importLlama(cfg, tensors)
  else fail("llmscript import: '" .. folder .. "' holds model_type '" .. tostring(cfg.model_type) .. "'; import reads gpt2 and llama") end
  local tok
  if U.exists(folder .. '/tokenizer.json') then tok = llm.data.BPETokenizer.fromFile(folder .. '/tokenizer.json')
  elseif U.exists(folder .. '/llmscript_tokenizer.json') then
    tok = llm.data.tokenizerFromTable(llm.json.decode(U.readText(folder .. '/llmscript_tokenizer.json')))
  end
  if tok and tok:vocabSize() > model._config.vocab then
    fail(string.format("llmscript import: '%s' has a tokenizer of %d tokens for a model of %d", folder, tok:vocabSize(), model._config.vocab))
  end
  return model, tok
end

return H
