-- llm/export/util.lua: helpers shared by the exporters and importers (llm/export/*.lua): refusals as
-- errors without a position (they are user-facing messages), file existence and JSON files, a model's
-- tensors each once, the end-of-text token, and the checks of the nn.GPT / nn.Llama options GPT-2 and
-- Llama (Hugging Face's or llama.cpp's) can express (per-block sizes from compress.shrink included).
local U = {}

--- Raises msg as is (no file:line prefix).
function U.fail(msg) error(msg, 0) end

--- True when path exists (a file or a folder).
function U.exists(path)
  local f = io.open(path, 'r')
  if f then f:close() end
  return f ~= nil
end

function U.readText(path)
  local f, err = io.open(path, 'rb')
  if not f then U.fail('cannot read ' .. path .. ': ' .. tostring(err)) end
  local s = f:read('a')
  f:close()
  return s
end

function U.writeJSON(path, value)
  local f, err = io.open(path, 'wb')
  if not f then U.fail('cannot write ' .. path .. ': ' .. tostring(err)) end
  f:write(llm.json.encode(value, {indent = true}), '\n')
  f:close()
end

function U.sortedKeys(t)
  local keys = {}
  for k in pairs(t) do keys[#keys + 1] = k end
  table.sort(keys)
  return keys
end

--- The model's tensors, each once (a tied weight under its first name in sorted order, as checkpoints do).
function U.uniqueTensors(model)
  local sd, out, seen = model:stateDict(), {}, {}
  for _, name in ipairs(U.sortedKeys(sd)) do
    if not seen[sd[name]] then seen[sd[name]] = true; out[name] = sd[name] end
  end
  return out
end

--- The id of '<|endoftext|>' in a tokenizer table (its :toTable()), the bos/eos token; nil if absent.
function U.endOfText(tok)
  for _, a in ipairs(tok and tok.added or {}) do if a.content == '<|endoftext|>' then return a.id end end
  return nil
end

--- Zeros standing for the bias `name` of a bias-free model (its size is the matching weight's rows).
function U.zeroBias(sd, name)
  return llm.zeros(sd[name:gsub('%.bias$', '.weight')]:size(1))
end

--- Refuses a model whose blocks have their own sizes (c.layerConfig, e.g. from compress.shrink) that differ
--- from the model-wide heads / kvHeads / hidden of config c (an nn.GPT config; nn.Llama's model:config()
--- too): `target` has one size for all blocks. Names the first such block (blocks.N, as its parameters).
function U.checkUniformBlocks(c, target)
  local want = {heads = c.heads, kvHeads = c.kvHeads or c.heads, hidden = c.hidden or 4 * c.dim}
  for i, lc in ipairs(c.layerConfig or {}) do
    local heads = lc.heads or want.heads
    local got = {heads = heads, kvHeads = lc.kvHeads or (want.kvHeads ~= want.heads and want.kvHeads or heads), hidden = lc.hidden or want.hidden}
    if got.heads ~= want.heads or got.kvHeads ~= want.kvHeads or got.hidden ~= want.hidden then
      U.fail(string.format("llm.export: %s cannot express per-block sizes (layerConfig, e.g. from compress.shrink): blocks.%d has " ..
        "%d heads (%d key/value), MLP hidden %d, the model %d (%d), %d; export format 'safetensors' or a checkpoint keeps them",
        target, i - 1, got.heads, got.kvHeads, got.hidden, want.heads, want.kvHeads, want.hidden))
    end
  end
end

--- Refuses (naming it) the first nn.GPT option `target` (GPT-2 in some tool) cannot express;
--- `activations` are the activation names it can.
function U.checkGPT2(c, target, activations)
  local function refuse(what) U.fail(string.format("llm.export: %s cannot express %s; export format 'safetensors' keeps every option", target, what)) end
  if c.positions ~= 'learned' then refuse("positions = '" .. c.positions .. "' (GPT-2 has learned positions)") end
  if c.norm ~= 'layer' then refuse("norm = '" .. c.norm .. "' (GPT-2 uses LayerNorm)") end
  if c.postNorm then refuse('postNorm = true (GPT-2 is pre-norm)') end
  if c.kvHeads and c.kvHeads ~= c.heads then refuse('grouped-query attention (kvHeads = ' .. c.kvHeads .. ')') end
  if c.window then refuse('sliding-window attention (window = ' .. c.window .. ')') end
  if c.qkNorm then refuse('qkNorm = true') end
  if not activations[c.activation] then refuse("activation = '" .. c.activation .. "'") end
  U.checkUniformBlocks(c, target)
end

--- Refuses the options of an nn.Llama `model` that `target` (a Llama implementation) cannot express.
function U.checkLlama(model, target)
  local c = model._llama
  U.checkUniformBlocks(model._config, target)
  if c.window then U.fail('llm.export: ' .. target .. ' cannot express sliding-window attention (window = ' .. c.window .. ')') end
  if c.qkNorm then U.fail('llm.export: ' .. target .. ' cannot express qkNorm = true') end
  if c.ropeScaling and c.ropeScaling.type ~= 'linear' then
    U.fail('llm.export: ' .. target .. " cannot express ropeScaling type '" .. tostring(c.ropeScaling.type) .. "' exactly")
  end
end

return U
