-- compress.shrink(model): a smaller nn.GPT with the pruned attention heads and MLP neurons removed. A head
-- goes when its columns of attn.proj.weight are all zero, a neuron when its column of mlp.proj.weight is
-- (structured pruning leaves exactly that; at least one of each stays per block): their contribution to
-- the output was zero, so the shrunk model computes the same logits, faster. The new model's config has a
-- per-block layerConfig ({heads, hidden}: nn.GPT), so it saves and loads like any GPT (a Trainer checkpoint
-- with extra.model = model:config(), recipes/sample.lua). It carries no masks (other zeros stay zeros).
-- Returns the new model and {heads = {per block}, hidden = {per block}}; the given model is unchanged.
local masks = require 'llm.compress.masks'

local M = {}

-- 0-based indices of the units (groups of `width` columns of w) with a non-zero column; at least one.
local function aliveUnits(w, n)
  local alive = w:ne(0):reshape(w:size(1), n, w:size(2) // n):sum(3):sum(1):totable()
  local keep = {}
  for i, v in ipairs(alive) do if v > 0 then keep[#keep + 1] = i - 1 end end
  if #keep == 0 then keep[1] = 0 end
  return keep
end

-- Row indices (0-based) of a fused parameter whose unit axis is groups × n × width, keeping units `keep`.
local function rowsOf(keep, n, width, groups)
  local out = {}
  for g = 0, groups - 1 do
    for _, u in ipairs(keep) do
      for j = 0, width - 1 do out[#out + 1] = (g * n + u) * width + j end
    end
  end
  return llm.tensor(out, {dtype = 'int64'})
end

--- (model) -> smaller nn.GPT, {heads, hidden}: removes the heads/MLP neurons whose proj columns are zero (per-block layerConfig); same logits.
function M.shrink(model)
  local who = 'compress.shrink'
  masks.checkModel(who, model, 2)
  if model.__name ~= 'nn.GPT' then error(who .. ': expected an nn.GPT model, got ' .. tostring(model.__name), 2) end
  local cfg = model:config()
  if cfg.kvHeads and cfg.kvHeads ~= cfg.heads then error(who .. ': a grouped-query model (kvHeads ~= heads) cannot lose heads', 2) end
  local d = cfg.dim // cfg.heads
  local select, layerConfig, info = {}, {}, {heads = {}, hidden = {}}
  for i = 1, #model.blocks do
    local b, pre = model.blocks[i], 'blocks.' .. (i - 1) .. '.'
    local h, hidden = b.attn._heads, b.mlp.proj.weight:size(2)
    local gated = b.mlp.fc.weight:size(1) ~= hidden
    local heads, neurons = aliveUnits(b.attn.proj.weight, h), aliveUnits(b.mlp.proj.weight, hidden)
    select[pre .. 'attn.qkv.weight'] = {1, rowsOf(heads, h, d, 3)}
    select[pre .. 'attn.qkv.bias'] = {1, rowsOf(heads, h, d, 3)}
    select[pre .. 'attn.proj.weight'] = {2, rowsOf(heads, h, d, 1)}
    select[pre .. 'mlp.fc.weight'] = {1, rowsOf(neurons, hidden, 1, gated and 2 or 1)}
    select[pre .. 'mlp.fc.bias'] = {1, rowsOf(neurons, hidden, 1, gated and 2 or 1)}
    select[pre .. 'mlp.proj.weight'] = {2, rowsOf(neurons, hidden, 1, 1)}
    layerConfig[i] = {heads = #heads, hidden = #neurons}
    info.heads[i], info.hidden[i] = #heads, #neurons
  end
  cfg.layerConfig = layerConfig
  local rng = llm.getRngState()
  local small = getmetatable(model)(cfg)   -- its random init is overwritten below; the RNG stream is kept
  llm.setRngState(rng)
  local old = model:stateDict()
  llm.noGrad(function()
    for path, t in pairs(small:stateDict()) do
      local src, sel = old[path], select[path]
      if sel then src = src:indexSelect(sel[1], sel[2]) end
      t:copy_(src)
    end
  end)
  small:train(model.training)
  return small, info
end

return M
