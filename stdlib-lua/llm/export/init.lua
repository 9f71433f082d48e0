-- llm.export: export a trained model for other tools, and import Hugging Face GPT-2 / Llama weights.
--   llm.export(src, {format = 'hf'|'gguf'|'safetensors', out = path, [dtype], [tokenizer], [force], [name], [chatTemplate]})
--     src: a checkpoint folder (a step-NNNNNN folder or a run folder: its newest), a .safetensors file
--     written by format 'safetensors', or a model (nn.GPT / nn.Llama; then opts.tokenizer is its
--     tokenizer, a tokenizer object or its :toTable()). Returns {format, dtype, out, files, notes, chatTemplate}.
--     chatTemplate (`--chat-template`): an llm.chat template name for tokenizer_config.json's chat_template
--     (hf), tokenizer.chat_template (gguf) and llmscript.chatTemplate (safetensors metadata); default: the
--     checkpoint's extra.chatTemplate (or the .safetensors file's), else llm.chat's family default
--     (chat.forModel: chatml, llama for nn.Llama, plain for character tokenizers), as `llmscript serve` picks.
--     A model whose blocks have their own sizes (layerConfig, e.g. from compress.shrink) is refused by hf
--     and gguf, naming the block (safetensors and checkpoints keep it).
--     - 'hf': a folder transformers opens — config.json, model.safetensors in GPT2LMHeadModel's layout
--       (Conv1D weights [in, out], tied head omitted; untied: lm_head.weight and tie_word_embeddings
--       false; no biases: zero biases; activation geluTanh -> 'gelu_new', geluExact -> 'gelu', relu,
--       silu), tokenizer.json + tokenizer_config.json (BPE models; other tokenizers: their :toTable() in
--       llmscript_tokenizer.json, no HF tokenizer); nn.Llama: LlamaForCausalLM (Llama.lua's hfStateDict).
--       dtype f32 | f16 | bf16. Options GPT-2 cannot express (other positions, RMSNorm, post-norm,
--       grouped-query attention, windows, qkNorm, gated MLPs) are refused naming the option.
--     - 'gguf': GGUF v3 for llama.cpp's gpt2 architecture (nn.Llama: llama; BPE models only): hyper-parameters, the BPE
--       vocabulary and merges under tokenizer.ggml.*, tensors f32 | f16 | q8_0 | q4_0 | q4_k (1-D tensors
--       stay F32; position_embd stays F32 when quantizing; a matrix whose rows are not a multiple of the
--       block (32; q4_k 256) falls back to Q4_0 (q4_k, rows a multiple of 32) or F16, listed in notes). The vocabulary is padded with [PAD<i>] tokens up to the model's.
--     - 'safetensors': llmscript's own parameter names; metadata holds the model class, config and
--       tokenizer as JSON, so M.load(file) rebuilds the model. dtype f32 | f16 | bf16.
--     An existing out is refused unless force = true.
--   M.load(src) -> model, info {tokenizer (table), modelClass, step, path, chatTemplate}: the model of a checkpoint or
--     of an exported .safetensors file (built without init, nn.withoutInit; it takes the file's tensors).
--   M.importHF(folder) -> model, tokenizer: a HF GPT-2 (GPT2LMHeadModel, keys with or without the
--     'transformer.' prefix; attn.bias / attn.masked_bias buffers ignored) or LlamaForCausalLM folder
--     (config.json, model.safetensors, tokenizer.json or llmscript_tokenizer.json). nn.GPT.fromPretrained.
--   M.importCheckpoint(folder, out, [{force}]) -> dir: importHF, then a checkpoint (step-000000 under out)
--     that recipes/sample.lua reads and M.load loads (fine-tune it with a fresh optimizer); its
--     extra.chatTemplate is the llm.chat template whose Jinja the folder's tokenizer_config.json holds.
--   M.main(cmd, args): the `llmscript export` / `llmscript import` command lines (ExportCommand.swift).
-- The formats live in llm/export/hf.lua and llm/export/gguf.lua, shared helpers in llm/export/util.lua.
local U = require 'llm.export.util'
local HF = require 'llm.export.hf'
local GGUF = require 'llm.export.gguf'
local fail = U.fail

local M = {}

local dtypesFor = {hf = {f32 = 'float32', f16 = 'float16', bf16 = 'bfloat16'},
                   safetensors = {f32 = 'float32', f16 = 'float16', bf16 = 'bfloat16'},
                   gguf = {f32 = 'f32', f16 = 'f16', q8_0 = 'q8_0', q4_0 = 'q4_0', q4_k = 'q4_k'}}
local classes = {['nn.GPT'] = function() return nn.GPT end, ['nn.Llama'] = function() return nn.Llama end}

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
--- goes with it: {tokenizer = table, modelClass, config, step, path, chatTemplate}.
function M.load(src)
  if type(src) ~= 'string' then fail('llm.export.load: expected a checkpoint path, got ' .. type(src)) end
  if not U.exists(src) then fail("'" .. src .. "' does not exist") end
  if src:match('%.safetensors$') then
    local tensors, meta = llm.load(src, {metadata = true})
    if not meta['llmscript.config'] then
      fail("'" .. src .. "' is not an llmscript export (its metadata has no llmscript.config; HF folders: llmscript import)")
    end
    local Model = modelClass(meta['llmscript.modelClass'], "'" .. src .. "'")
    local model = nn.withoutInit(Model, llm.json.decode(meta['llmscript.config']))
    nn.adoptStateDict(model, tensors)
    local tok = meta['llmscript.tokenizer'] and llm.json.decode(meta['llmscript.tokenizer']) or nil
    return model, {tokenizer = tok, modelClass = model.__name, config = model:config(), path = src, chatTemplate = meta['llmscript.chatTemplate']}
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
  local model = nn.withoutInit(Model, extra.model)
  nn.adoptStateDict(model, ck['model.safetensors'])
  return model, {tokenizer = extra.tokenizer, modelClass = model.__name, config = model:config(), step = state.step, path = dir,
    chatTemplate = extra.chatTemplate}
end

local function exportSafetensors(model, tok, o)
  local meta = {format = 'pt', ['llmscript.modelClass'] = model.__name, ['llmscript.config'] = llm.json.encode(model:config())}
  if tok then meta['llmscript.tokenizer'] = llm.json.encode(tok) end
  if o.chatTemplateStored then meta['llmscript.chatTemplate'] = o.chatTemplate end
  llm.save(o.out, HF.cast(U.uniqueTensors(model), o.torchDtype), {metadata = meta})
  return {o.out:match('[^/]+$')}
end

local exporters = {hf = HF.export, gguf = GGUF.export, safetensors = exportSafetensors}

-- The chat template's name: opts.chatTemplate (checked), else the source's (a checkpoint's extra.chatTemplate),
-- else llm.chat's default for the model; the second result says whether it was chosen (not a default), the
-- third is a note when the source's name is not one of llm.chat's.
local function chatTemplate(model, tok, info, opts)
  local chat = require 'llm.chat'
  local name = opts.chatTemplate
  if name ~= nil then
    if type(name) ~= 'string' or not chat.templates[name] then
      fail(string.format("llm.export: unknown chatTemplate '%s' (expected %s)", tostring(name), table.concat(U.sortedKeys(chat.templates), ', ')))
    end
    return name, true
  end
  local default = chat.forModel({extra = {modelClass = model.__name, tokenizer = tok}})
  if info.chatTemplate == nil then return default, false end
  if chat.templates[info.chatTemplate] then return info.chatTemplate, true end
  return default, false, string.format("the source's chat template '%s' is not one of llm.chat's; wrote the default '%s'", tostring(info.chatTemplate), default)
end

--- llm.export(src, {format, out, [dtype='f32'], [tokenizer], [force=false], [name], [chatTemplate]}): see the header.
function M.export(src, opts)
  if type(opts) ~= 'table' then fail('llm.export: expected an options table {format, out, [dtype]}, got ' .. type(opts)) end
  for k in pairs(opts) do
    if not ({format = 1, out = 1, dtype = 1, tokenizer = 1, force = 1, name = 1, chatTemplate = 1})[k] then
      fail("llm.export: unknown option '" .. tostring(k) .. "' (expected format, out, dtype, tokenizer, force, name, chatTemplate)")
    end
  end
  local format = opts.format
  if not exporters[format] then fail("llm.export: unknown format '" .. tostring(format) .. "' (expected hf, gguf, safetensors)") end
  local dtype = opts.dtype or 'f32'
  if not dtypesFor[format][dtype] then
    fail(string.format("llm.export: format '%s' takes dtype %s, got '%s'", format, table.concat(U.sortedKeys(dtypesFor[format]), ', '), tostring(dtype)))
  end
  if type(opts.out) ~= 'string' or opts.out == '' then fail("llm.export: 'out' must be a path") end
  if U.exists(opts.out) and not opts.force then fail("llm.export: '" .. opts.out .. "' exists; pass force = true (--force) to overwrite it") end
  local model, info
  if type(src) == 'string' then
    model, info = M.load(src)
  elseif type(src) == 'table' and classes[src.__name] then
    model, info = src, {tokenizer = tokenizerTable(opts.tokenizer)}
  else
    fail('llm.export: expected a checkpoint path or an nn.GPT / nn.Llama model, got ' .. (type(src) == 'table' and tostring(src.__name) or type(src)))
  end
  local tok = opts.tokenizer and tokenizerTable(opts.tokenizer) or info.tokenizer
  local template, chosen, note = chatTemplate(model, tok, info, opts)
  local o = {out = opts.out, dtype = dtype, torchDtype = dtypesFor[format][dtype], name = opts.name, chatTemplate = template, chatTemplateStored = chosen}
  local files, notes = exporters[format](model, tok, o)
  notes = notes or {}
  if note then table.insert(notes, 1, note) end
  return {format = format, dtype = dtype, out = opts.out, files = files, notes = notes, chatTemplate = template}
end

--- The model and tokenizer (nil when the folder has none) of a Hugging Face GPT-2 or Llama folder.
M.importHF = HF.import

--- importHF(folder), then a checkpoint out/step-000000 (model, config, class, tokenizer) the recipes read.
function M.importCheckpoint(folder, out, opts)
  if type(out) ~= 'string' or out == '' then fail("llmscript import: expected an output folder") end
  if U.exists(out) and not (opts and opts.force) then fail("llmscript import: '" .. out .. "' exists; pass --force to write into it") end
  local model, tok = M.importHF(folder)
  llm.makeDirs(out)
  return llm.checkpoint.write(out .. '/' .. llm.checkpoint.stepName(0), {
    ['model.safetensors'] = U.uniqueTensors(model),
    ['trainer.json'] = {step = 0, extra = {model = model:config(), modelClass = model.__name,
      tokenizer = tok and tok:toTable() or nil, importedFrom = folder, chatTemplate = HF.chatTemplateName(folder)}},
  }), model
end

local usage = {
  export = 'usage: llmscript export CHECKPOINT --format hf|gguf|safetensors [--dtype f32|f16|bf16|q8_0|q4_0|q4_k] [--chat-template chatml|llama|plain] [--force] OUT',
  import = 'usage: llmscript import FOLDER OUT [--force]   (a Hugging Face GPT-2 or Llama folder -> an llmscript checkpoint)',
}

-- Splits the command line into words and --key[=value] options ('--force' takes no value).
local function parseArgs(cmd, args)
  local words, o, i = {}, {}, 1
  while i <= #args do
    local a = args[i]
    local k, v = a:match('^%-%-([%w_%-]+)=(.*)$')
    if k then o[k] = v
    elseif a == '--force' then o.force = true
    elseif a:match('^%-%-[%w_%-]+$') then
      k = a:sub(3)
      if args[i + 1] == nil then return nil, "option --" .. k .. " needs a value" end
      o[k] = args[i + 1]
      i = i + 1
    elseif a:match('^%-') then return nil, "unknown option '" .. a .. "'"
    else words[#words + 1] = a end
    i = i + 1
  end
  local allowed = cmd == 'export' and {format = 1, dtype = 1, force = 1, name = 1, ['chat-template'] = 1} or {force = 1}
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
      local r = M.export(words[1], {format = o.format, dtype = o.dtype, out = words[2], force = o.force, name = o.name, chatTemplate = o['chat-template']})
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
