-- compress structured units: groups of weights pruned, penalised (group lasso) and removed together.
--   rows     output rows of each targeted nn.Linear (weight row i and bias i)
--   neurons  MLP channels of each nn.MLP: fc row i (both halves i and hidden+i when gated), fc bias i,
--            proj column i
--   heads    attention heads of each nn.CausalSelfAttention. kvHeads == heads (multi-head): the q, k, v rows
--            of head h (and their biases) and proj columns of head h. Grouped-query (kvHeads < heads, query
--            head h reads key/value head h // (heads/kvHeads)): a unit is one query head, its q rows (and q
--            bias) and its proj columns; the shared key/value rows stay. Options (structure = 'heads' only):
--            groups = true    a unit is one key/value group: the key/value head's k and v rows with the q rows
--                             and proj columns of every query head of its group (amount: a fraction of
--                             the groups; at least one group per attention stays)
--            balanced = true  the same number of query heads pruned in every group (round(amount ·
--                             heads/kvHeads), at most all but one per group; scope 'global': per attention
--                             a multiple of kvHeads, ranked by the mean norm of the next head of each group),
--                             so compress.shrink removes every pruned head; without it a group may lose any
--                             number, and shrink keeps (zeroed) those beyond the fullest group's count
--            Both act per attention: multi-head attentions (every head its own group) prune heads as before.
--            Masks only grow: heads pruned earlier (score −∞) go first, so balanced stays balanced when
--            every pruning of the model was (a group that lost more before keeps its extra zeroed heads).
-- A unit family is one module's units: {path, n, pieces, group}; each piece says how a parameter's elements
-- map to the units: {path, param, layout, groups, range}, layout 'rows' | 'cols' | 'vec' (a bias) with an
-- optional group count (fused qkv: 3, gated fc: 2) — the parameter's unit axis is groups × n × (elements per
-- unit) — and an optional row range {first, count} (1-based) of the parameter that the piece covers (the q
-- rows of a GQA qkv); group = query heads per key/value group when balanced (nil otherwise).
local targets = require 'llm.compress.targets'
local criteria = require 'llm.compress.criteria'

local M = {}

-- The part of `t` (the piece's parameter or a mask of its shape) that the piece covers.
local function covered(piece, t)
  return piece.range and t:narrow(1, piece.range[1], piece.range[2]) or t
end

-- The piece's elements of `t` (default: its parameter) as (groups, n, rest) (rows/vec) or (out, n, rest)
-- (cols): unit axis in the middle.
local function unitView(piece, n, t)
  local p, g = covered(piece, t or piece.param), piece.groups or 1
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

--- The number of weights in one unit of a family (the √|g| of the group lasso).
function M.unitSize(family)
  local size = 0
  for _, piece in ipairs(family.pieces) do size = size + covered(piece, piece.param):numel() end
  return size // family.n
end

--- Element masks (path -> tensor) of a family from keep (n) of 0/1 (elements outside a piece's range: 1).
function M.masksOf(family, keep)
  local out = {}
  llm.noGrad(function()
    for _, piece in ipairs(family.pieces) do
      local v = unitView(piece, family.n)
      local m = keep:reshape(1, family.n, 1):expand(v:size(1), family.n, v:size(3)):contiguous()
      if piece.range then
        local full = out[piece.path] or llm.ones(piece.param:shape())
        covered(piece, full):copy_(m:reshape(covered(piece, full):shape()))
        out[piece.path] = full
      else
        out[piece.path] = m:reshape(piece.param:shape())
      end
    end
  end)
  return out
end

local function join(prefix, name) return (prefix == nil or prefix == '') and name or (prefix .. '.' .. name) end

local function piece(prefix, linear, name, layout, groups, range)
  local p = rawget(linear, name)
  if not p then return nil end
  return {path = join(prefix, name), param = p, layout = layout, groups = groups, range = range}
end

local function add(list, x) if x then list[#list + 1] = x end end

local function quoted(v) return type(v) == 'string' and ("'" .. v .. "'") or tostring(v) end

--- Checks the head options opts.groups and opts.balanced (booleans, structure = 'heads' only, not both) for
--- structure `unit` (nil: unstructured); errors at `level` name `who`.
function M.headOptions(who, unit, opts, level)
  level = level + 1
  for _, k in ipairs({'groups', 'balanced'}) do
    local v = opts and opts[k]
    if v ~= nil and type(v) ~= 'boolean' then
      error(string.format("%s: Invalid '%s': expected a boolean, got %s", who, k, type(v)), level)
    end
    if v and unit ~= 'heads' then
      error(string.format("%s: '%s = true' applies to structure = 'heads', got structure = %s", who, k, quoted(unit)), level)
    end
  end
  if opts and opts.groups and opts.balanced then
    error(string.format("%s: 'groups' and 'balanced' exclude each other (groups = true prunes whole key/value groups, " ..
      "balanced = true the same number of query heads in every group)", who), level)
  end
end

-- The head family of attention m at `path` (see the header).
local function headFamily(path, m, opts)
  local h, hkv, d = m._heads, m._kvHeads, m._headDim
  local qkv, pieces = join(path, 'qkv'), {}
  local n, group = h, nil
  if hkv == h then   -- multi-head: every head owns its q, k and v rows
    add(pieces, piece(qkv, m.qkv, 'weight', 'rows', 3))
    add(pieces, piece(qkv, m.qkv, 'bias', 'vec', 3))
  else
    local q, kv = {1, h * d}, {h * d + 1, 2 * hkv * d}
    add(pieces, piece(qkv, m.qkv, 'weight', 'rows', 1, q))
    add(pieces, piece(qkv, m.qkv, 'bias', 'vec', 1, q))
    if opts.groups then   -- one unit per key/value head: its k and v rows join its query heads' q rows
      n = hkv
      add(pieces, piece(qkv, m.qkv, 'weight', 'rows', 2, kv))
      add(pieces, piece(qkv, m.qkv, 'bias', 'vec', 2, kv))
    elseif opts.balanced then
      group = h // hkv
    end
  end
  add(pieces, piece(join(path, 'proj'), m.proj, 'weight', 'cols'))
  return {path = path, n = n, pieces = pieces, group = group}
end

--- The unit families of `model` for unit 'rows' | 'neurons' | 'heads' (params: as targets.select, rows only;
--- opts: {groups, balanced} for heads, see the header).
function M.families(who, model, unit, params, level, opts)
  level = level + 1
  local out = {}
  if unit == 'rows' or unit == 'neurons' or unit == 'heads' then M.headOptions(who, unit, opts, level) end
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
        out[#out + 1] = headFamily(path, m, opts or {})
      end
    end
  else
    error(string.format("%s: Invalid 'structure': expected one of: 'rows', 'neurons', 'heads', got %s", who,
      type(unit) == 'string' and ("'" .. unit .. "'") or type(unit)), level)
  end
  if #out == 0 then error(string.format("%s: the model has no %s to prune", who, unit), level) end
  return out
end

-- 0-based unit indices of each group of a balanced family (n units, `r` per group), ascending by score
-- (ties: the lower index first).
local function groupOrders(s, n, r)
  local orders = {}
  for g = 0, n // r - 1 do
    local o = {}
    for j = g * r, g * r + r - 1 do o[#o + 1] = j end
    table.sort(o, function(a, b) if s[a + 1] ~= s[b + 1] then return s[a + 1] < s[b + 1] end return a < b end)
    orders[g + 1] = o
  end
  return orders
end

-- Keep lists (1-based tables of 0/1) pruning `k` units over all families by one ranking: a plain family's
-- candidates are its units (one at a time, at least one stays); a balanced family's are its levels (the
-- next-lowest head of every group at once, kvHeads units, ranked by their mean score; all but one per
-- group at most).
local function globalKeeps(families, scores, k)
  local cands, state, keeps = {}, {}, {}
  for i, fam in ipairs(families) do
    local s = scores[i]:totable()
    keeps[i] = {}
    for j = 1, fam.n do keeps[i][j] = 1 end
    if fam.group then
      local orders = groupOrders(s, fam.n, fam.group)
      state[i] = {orders = orders, taken = 0}
      for lv = 1, fam.group - 1 do
        local sum = 0
        for _, o in ipairs(orders) do sum = sum + s[o[lv] + 1] end
        cands[#cands + 1] = {score = sum / #orders, fam = i}
      end
    else
      state[i] = {left = fam.n}
      for j = 1, fam.n do cands[#cands + 1] = {score = s[j], fam = i, unit = j} end
    end
  end
  for idx, c in ipairs(cands) do c.idx = idx end
  table.sort(cands, function(a, b) if a.score ~= b.score then return a.score < b.score end return a.idx < b.idx end)
  for _, c in ipairs(cands) do
    if k <= 0 then break end
    local st, fam = state[c.fam], families[c.fam]
    if st.orders then
      if st.taken < fam.group - 1 and #st.orders <= k then
        st.taken = st.taken + 1
        for _, o in ipairs(st.orders) do keeps[c.fam][o[st.taken] + 1] = 0 end
        k = k - #st.orders
      end
    elseif st.left > 1 then
      keeps[c.fam][c.unit], st.left, k = 0, st.left - 1, k - 1
    end
  end
  return keeps
end

-- Keep (n) of a family pruning round(amount · n) units (scope 'layer'; at least one stays; balanced: per group
-- round(amount · group), all but one at most).
local function layerKeep(fam, s, amount)
  if not fam.group then return criteria.lowestZeroed(s, math.min(math.floor(amount * fam.n + 0.5), fam.n - 1)) end
  local r = fam.group
  local c = math.min(math.floor(amount * r + 0.5), r - 1)
  local keep = {}
  for _, o in ipairs(groupOrders(s:totable(), fam.n, r)) do
    for rank, j in ipairs(o) do keep[j + 1] = rank <= c and 0 or 1 end
  end
  return llm.tensor(keep)
end

--- Masks (path -> tensor) removing the fraction `amount` of the units of each family (scope 'layer') or of
--- all families together ('global', comparing norms), keeping at least one unit per family (balanced
--- families: one head per group). Units whose proj/weight is masked already score −∞ (pruned first).
--- getMask(path) -> the current mask or nil.
function M.masks(families, amount, norm, scope, getMask)
  local scores = {}
  for i, fam in ipairs(families) do
    local s = llm.noGrad(function() return M.unitNorms(fam, norm) end)
    local last = fam.pieces[#fam.pieces]
    local m = getMask(last.path)
    if m then  -- units already pruned (no kept element in the last piece)
      s = llm.where(unitView(last, fam.n, m):sum(3):sum(1), s, -math.huge)
    end
    scores[i] = s
  end
  local out = {}
  local function put(fam, keep) for path, t in pairs(M.masksOf(fam, keep)) do out[path] = t end end
  if scope == 'layer' then
    for i, fam in ipairs(families) do put(fam, layerKeep(fam, scores[i], amount)) end
    return out
  end
  local total = 0
  for _, fam in ipairs(families) do total = total + fam.n end
  local keeps = globalKeeps(families, scores, math.floor(amount * total + 0.5))
  for i, fam in ipairs(families) do put(fam, llm.tensor(keeps[i])) end
  return out
end

return M
