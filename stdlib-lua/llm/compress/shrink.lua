-- compress.shrink(model): a smaller nn.GPT or nn.Llama with the pruned attention heads and MLP neurons
-- removed. A query head is pruned when its columns of attn.proj.weight (o_proj) are all zero, a neuron when
-- its column of mlp.proj.weight (down_proj) is (structured pruning leaves exactly that): their contribution
-- to the output was zero, so the shrunk model computes the same logits, faster. A neuron takes its fc rows
-- with it (both the gate and the up row of a gated MLP: SwiGLU/GeGLU). With grouped-query attention
-- (kvHeads < heads, query head i reads key/value head i // (heads/kvHeads)) a key/value head goes only with
-- all the query heads of its group; the attention needs the same number of query heads in every group, so
-- each kept group keeps as many as the fullest one: pruned query heads beyond that stay, zeroed, and are
-- reported (info.zeroHeads, info.notes). Without GQA every head is its own group: each pruned head goes.
-- At least one head and one neuron stay per block. The new model's config has a per-block layerConfig
-- ({heads, kvHeads, hidden}: nn.GPT's option, which nn.Llama passes on), so it saves and loads like any
-- model of its class (a Trainer checkpoint with extra.model = model:config() and extra.modelClass,
-- checkpointmodel.lua, recipes/sample.lua; export format 'safetensors'). It carries no masks (other zeros
-- stay zeros). Any other model type is an error.
-- Returns the new model and info = {heads, kvHeads, hidden, zeroHeads = {per block}, notes = {strings}};
-- the given model is unchanged (the new one is built with nn.withoutInit, then loaded: no random draws, no
-- tensor shared with it).
local masks = require 'llm.compress.masks'
local noinit = require 'llm.nn.noinit'

local M = {}

local shrinkable = {['nn.GPT'] = true, ['nn.Llama'] = true}

-- Per unit (groups of `width` columns of w, n units), whether any column is non-zero: a list of booleans.
local function aliveFlags(w, n)
  local out = {}
  for i, v in ipairs(w:ne(0):reshape(w:size(1), n, w:size(2) // n):sum(3):sum(1):totable()) do out[i] = v > 0 end
  return out
end

-- 0-based indices of the alive units; at least one (unit 0 when none is alive).
local function aliveUnits(w, n)
  local keep = {}
  for i, alive in ipairs(aliveFlags(w, n)) do if alive then keep[#keep + 1] = i - 1 end end
  if #keep == 0 then keep[1] = 0 end
  return keep
end

-- Appends to `out` the indices base + u·width .. base + u·width + width − 1 of each unit u in `units`.
local function addRows(out, units, width, base)
  for _, u in ipairs(units) do
    for j = 0, width - 1 do out[#out + 1] = base + u * width + j end
  end
  return out
end

local function int64(list) return llm.tensor(list, {dtype = 'int64'}) end

-- The heads an attention keeps: {q = 0-based query heads, kv = 0-based key/value heads, zero = pruned query
-- heads kept, note = string or nil}. Groups with no alive query head go (with their key/value head); every
-- kept group keeps n = the most alive heads of a group, its alive ones first, then pruned ones (zeroed).
local function keptHeads(attn, block)
  local h, hkv = attn._heads, attn._kvHeads
  local r = h // hkv
  local alive = aliveFlags(attn.proj.weight, h)
  local groups, n, counts = {}, 0, {}
  for g = 0, hkv - 1 do
    local live, dead = {}, {}
    for j = g * r, g * r + r - 1 do
      local list = alive[j + 1] and live or dead
      list[#list + 1] = j
    end
    if #live > 0 then
      groups[#groups + 1] = {g = g, live = live, dead = dead}
      n = math.max(n, #live)
    end
  end
  if #groups == 0 then groups[1], n = {g = 0, live = {0}, dead = {}}, 1 end
  local out = {q = {}, kv = {}, zero = 0}
  for _, grp in ipairs(groups) do
    local heads = {}
    for i = 1, n do heads[i] = grp.live[i] or grp.dead[i - #grp.live] end
    table.sort(heads)
    for _, j in ipairs(heads) do out.q[#out.q + 1] = j end
    out.kv[#out.kv + 1] = grp.g
    out.zero = out.zero + n - #grp.live
    counts[#counts + 1] = #grp.live
  end
  if out.zero > 0 then
    out.note = string.format('block %d: %d pruned query head(s) kept (zeroed): the kept groups have %s alive query heads, ' ..
      'and the attention needs the same number in every group', block, out.zero, table.concat(counts, ', '))
  end
  return out
end

--- (model) -> smaller nn.GPT/nn.Llama, info {heads, kvHeads, hidden, zeroHeads, notes}: drops heads (GQA: whole groups, or equally per group) and MLP neurons with zero proj columns; same logits.
function M.shrink(model)
  local who = 'compress.shrink'
  masks.checkModel(who, model, 2)
  if not shrinkable[model.__name] then
    error(who .. ': expected an nn.GPT or nn.Llama model, got ' .. tostring(model.__name), 2)
  end
  local cfg = model:config()
  local grouped = cfg.kvHeads and cfg.kvHeads ~= cfg.heads
  local select, layerConfig = {}, {}
  local info = {heads = {}, kvHeads = {}, hidden = {}, zeroHeads = {}, notes = {}}
  for i = 1, #model.blocks do
    local b, pre = model.blocks[i], 'blocks.' .. (i - 1) .. '.'
    local attn, hidden = b.attn, b.mlp.proj.weight:size(2)
    local h, hkv, d = attn._heads, attn._kvHeads, attn._headDim
    local kept = keptHeads(attn, i)
    local q = addRows({}, kept.q, d, 0)
    local qkv = addRows(addRows(addRows({}, kept.q, d, 0), kept.kv, d, h * d), kept.kv, d, (h + hkv) * d)
    select[pre .. 'attn.qkv.weight'] = {1, int64(qkv)}
    select[pre .. 'attn.qkv.bias'] = select[pre .. 'attn.qkv.weight']
    select[pre .. 'attn.proj.weight'] = {2, int64(q)}
    local neurons = aliveUnits(b.mlp.proj.weight, hidden)
    local fcRows = addRows({}, neurons, 1, 0)
    if b.mlp.fc.weight:size(1) ~= hidden then addRows(fcRows, neurons, 1, hidden) end   -- gated: gate rows, then up rows
    select[pre .. 'mlp.fc.weight'] = {1, int64(fcRows)}
    select[pre .. 'mlp.fc.bias'] = select[pre .. 'mlp.fc.weight']
    select[pre .. 'mlp.proj.weight'] = {2, int64(addRows({}, neurons, 1, 0))}
    local lc = {heads = #kept.q, hidden = #neurons}
    if grouped or #kept.kv ~= #kept.q then lc.kvHeads = #kept.kv end
    layerConfig[i] = lc
    info.heads[i], info.kvHeads[i], info.hidden[i], info.zeroHeads[i] = #kept.q, #kept.kv, #neurons, kept.zero
    if kept.note then info.notes[#info.notes + 1] = kept.note end
  end
  cfg.layerConfig = layerConfig
  local sd = {}
  for path, t in pairs(model:stateDict()) do
    local sel = select[path]
    sd[path] = sel and t:indexSelect(sel[1], sel[2]) or t
  end
  -- built without init (no RNG draws, no fills): every tensor is written by the load (copies: nothing shared)
  local small = noinit.withoutInit(getmetatable(model), cfg)
  small:loadStateDict(sd)
  small:train(model.training)
  return small, info
end

return M
