-- compress structured units: groups of weights pruned, penalised (group lasso) and removed together.
--   rows     output rows of each targeted nn.Linear (weight row i and bias i)
--   neurons  MLP channels of each nn.MLP: fc row i (both halves i and hidden+i when gated), fc bias i,
--            proj column i
--   heads    attention heads of each nn.CausalSelfAttention (kvHeads == heads): the q, k, v rows of
--            head h (and their biases) and proj columns of head h
-- A unit family is one module's units: {path, n, pieces}; each piece says how a parameter's elements map to
-- the units: {path, param, layout}, layout 'rows' | 'cols' | 'vec' (a bias) with an optional group count
-- (fused qkv: 3, gated fc: 2) — the parameter's unit axis is groups × n × (elements per unit).
local targets = require 'llm.compress.targets'
local criteria = require 'llm.compress.criteria'

local M = {}

-- The piece's elements as (groups, n, rest) (rows/vec) or (out, n, rest) (cols): unit axis in the middle.
local function unitView(piece, n)
  local p, g = piece.param, piece.groups or 1
  if piece.layout == 'cols' then return p:reshape(p:size(1), n, p:size(2) // n) end
  return p:reshape(g, n, p:numel() // (g * n))
end

--- Per-unit sum of f(w) over a family's pieces (a tensor (n); differentiable): f = abs or square.
function M.unitSums(family, f)
  local total
  for _, piece in ipairs(family.pieces) do
    local s = f(unitView(piece, family.n)):sum(3):sum(1)
    total = total and (total + s) or s
  end
  return total
end

--- Per-unit norm: 'l1' (sum of |w|) or 'l2' (sqrt of the sum of squares).
function M.unitNorms(family, norm)
  if norm == 'l1' then return M.unitSums(family, function(x) return x:abs() end) end
  return M.unitSums(family, function(x) return x * x end):sqrt()
end

--- Element masks (path -> tensor) of a family from keep (n) of 0/1.
function M.masksOf(family, keep)
  local out = {}
  for _, piece in ipairs(family.pieces) do
    local p, n = piece.param, family.n
    local m
    if piece.layout == 'cols' then
      m = keep:reshape(1, n, 1):expand(p:size(1), n, p:size(2) // n)
    else
      local g = piece.groups or 1
      m = keep:reshape(1, n, 1):expand(g, n, p:numel() // (g * n))
    end
    out[piece.path] = m:contiguous():reshape(p:shape())
  end
  return out
end

local function join(prefix, name) return (prefix == nil or prefix == '') and name or (prefix .. '.' .. name) end

local function piece(prefix, linear, name, layout, groups)
  local p = rawget(linear, name)
  if not p then return nil end
  return {path = join(prefix, name), param = p, layout = layout, groups = groups}
end

local function add(list, x) if x then list[#list + 1] = x end end

--- The unit families of `model` for unit 'rows' | 'neurons' | 'heads' (params: as targets.select, rows only).
function M.families(who, model, unit, params, level)
  level = level + 1
  local out = {}
  if unit == 'rows' then
    local mods = {}
    for _, e in ipairs(targets.modules(model)) do mods[e[1] or ''] = e[2] end
    for _, t in ipairs(targets.select(who, model, params, level)) do
      local prefix = t[1] == 'weight' and '' or t[1]:match('^(.*)%.weight$')
      local lin = prefix and mods[prefix]
      if not (lin and lin.__name == 'nn.Linear') then
        error(string.format("%s: row pruning acts on nn.Linear weights; '%s' is not one", who, t[1]), level)
      end
      local pieces = {piece(prefix, lin, 'weight', 'rows')}
      add(pieces, piece(prefix, lin, 'bias', 'vec'))
      out[#out + 1] = {path = prefix, n = t[2]:size(1), pieces = pieces}
    end
  elseif unit == 'neurons' or unit == 'heads' then
    for _, e in ipairs(targets.modules(model)) do
      local path, m = e[1] or '', e[2]
      if unit == 'neurons' and m.__name == 'nn.MLP' then
        local gated = m.fc.weight:size(1) ~= m.proj.weight:size(2)
        local pieces = {piece(join(path, 'fc'), m.fc, 'weight', 'rows', gated and 2 or 1)}
        add(pieces, piece(join(path, 'fc'), m.fc, 'bias', 'vec', gated and 2 or 1))
        add(pieces, piece(join(path, 'proj'), m.proj, 'weight', 'cols'))
        out[#out + 1] = {path = path, n = m.proj.weight:size(2), pieces = pieces}
      elseif unit == 'heads' and m.__name == 'nn.CausalSelfAttention' then
        if m._kvHeads ~= m._heads then
          error(string.format("%s: head pruning needs kvHeads == heads ('%s' has %d heads, %d kvHeads)", who, path, m._heads, m._kvHeads), level)
        end
        local pieces = {piece(join(path, 'qkv'), m.qkv, 'weight', 'rows', 3)}
        add(pieces, piece(join(path, 'qkv'), m.qkv, 'bias', 'vec', 3))
        add(pieces, piece(join(path, 'proj'), m.proj, 'weight', 'cols'))
        out[#out + 1] = {path = path, n = m._heads, pieces = pieces}
      end
    end
  else
    error(string.format("%s: Invalid 'structure': expected one of: 'rows', 'neurons', 'heads', got %s", who,
      type(unit) == 'string' and ("'" .. unit .. "'") or type(unit)), level)
  end
  if #out == 0 then error(string.format("%s: the model has no %s to prune", who, unit), level) end
  return out
end

--- Masks (path -> tensor) removing the fraction `amount` of the units of each family (scope 'layer') or of
--- all families together ('global', comparing norms), keeping at least one unit per family. Units whose
--- proj/weight is masked already score −∞ (pruned first). getMask(path) -> the current mask or nil.
function M.masks(families, amount, norm, scope, getMask)
  local scores = {}
  for i, fam in ipairs(families) do
    local s = llm.noGrad(function() return M.unitNorms(fam, norm) end)
    local last = fam.pieces[#fam.pieces]
    local m = getMask(last.path)
    if m then  -- units already pruned (no kept element in the last piece)
      local alive = unitView({param = m, layout = last.layout, groups = last.groups}, fam.n):sum(3):sum(1)
      s = llm.where(alive, s, -math.huge)
    end
    scores[i] = s
  end
  local out = {}
  local function put(fam, keep) for path, t in pairs(M.masksOf(fam, keep)) do out[path] = t end end
  if scope == 'layer' then
    for i, fam in ipairs(families) do put(fam, criteria.lowestZeroed(scores[i], math.min(math.floor(amount * fam.n + 0.5), fam.n - 1))) end
    return out
  end
  local total = 0
  for _, fam in ipairs(families) do total = total + fam.n end
  local k = math.floor(amount * total + 0.5)
  local _, idx = llm.cat(scores, 1):sort()
  local order = idx:totable()
  local owner, keeps, left = {}, {}, {}
  local base = 0
  for i, fam in ipairs(families) do
    for j = 0, fam.n - 1 do owner[base + j] = {i, j} end
    keeps[i], left[i] = {}, fam.n
    for j = 1, fam.n do keeps[i][j] = 1 end
    base = base + fam.n
  end
  for _, g in ipairs(order) do
    if k == 0 then break end
    local i, j = owner[g][1], owner[g][2]
    if left[i] > 1 then keeps[i][j + 1], left[i], k = 0, left[i] - 1, k - 1 end
  end
  for i, fam in ipairs(families) do put(fam, llm.tensor(keeps[i])) end
  return out
end

return M
