-- compress criteria (unstructured): a score per weight, higher = more important; pruning to sparsity s
-- zeroes the s·n lowest-scored weights of each tensor (scope 'layer') or of all targeted tensors together
-- (scope 'global'). Weights pruned already score −∞, so masks only grow sparser.
--   magnitude  |w|
--   random     uniform noise from the seeded generator (llm.manualSeed)
--   taylor     |w·g|, first-order Taylor estimate of the loss change (Molchanov et al. 2019): the mean of
--              w·g over the steps since the last pruning (accumulated by the pruner), else the current grad
--   movement   −Σ w·g over the steps since the last pruning (Sanh et al. 2020, movement pruning: weights
--              that training moves toward zero score low); without accumulated steps, −w·g
-- A custom criterion is a function(path, p, ctx) -> score tensor of p's shape (ctx.grad, ctx.accumulated).
local M = {}

local function needGrad(name, path, g)
  if not g then
    error(string.format("criterion '%s' needs gradients: '%s' has none (prune after a backward, e.g. at a step >= 1 of a run)", name, path), 0)
  end
  return g
end

M.builtin = {
  magnitude = function(_, p) return p:abs() end,
  random = function(_, p) return llm.rand(p:shape()) end,
  taylor = function(path, p, ctx)
    if ctx.accumulated then return ctx.accumulated:abs() end
    return (p * needGrad('taylor', path, ctx.grad)):abs()
  end,
  movement = function(path, p, ctx)
    if ctx.accumulated then return ctx.accumulated end
    return -(p * needGrad('movement', path, ctx.grad))
  end,
}

--- What a criterion accumulates per step from (w, g) (nil: nothing): taylor the mean of w·g, movement −Σ w·g.
M.accumulate = {
  taylor = function(acc, p, g, n) local x = p * g; return acc and (acc * ((n - 1) / n) + x / n) or x end,
  movement = function(acc, p, g) local x = -(p * g); return acc and (acc + x) or x end,
}

--- The criterion function named or given by `c` (errors at `level` name `who`).
function M.resolve(who, c, level)
  if type(c) == 'function' then return c end
  if M.builtin[c] then return M.builtin[c] end
  error(string.format("%s: Invalid 'criterion': expected one of: 'magnitude', 'random', 'taylor', 'movement' or a function(path, p, ctx), got %s",
    who, type(c) == 'string' and ("'" .. c .. "'") or type(c)), level + 1)
end

--- A 0/1 mask of n elements with the k lowest of the flat (n) scores zeroed.
function M.lowestZeroed(flat, k)
  local n = flat:numel()
  if k <= 0 then return llm.ones(n) end
  local _, idx = flat:sort()
  return llm.ones(n):scatterAdd(1, idx:narrow(1, 1, k), llm.full({k}, -1))
end

-- The score of an entry, −∞ where its current mask prunes already.
local function scoreOf(e)
  local s = e.score:to('float32')
  if e.mask then s = llm.where(e.mask, s, -math.huge) end
  return s
end

--- Masks (path -> tensor) pruning entries {path, param, score, mask} to `amount` (scope 'layer' | 'global').
function M.masks(entries, amount, scope)
  local out = {}
  if scope == 'layer' then
    for _, e in ipairs(entries) do
      local n = e.param:numel()
      out[e.path] = M.lowestZeroed(scoreOf(e):reshape(n), math.floor(amount * n + 0.5)):reshape(e.param:shape())
    end
    return out
  end
  local flats, total = {}, 0
  for i, e in ipairs(entries) do
    flats[i] = scoreOf(e):reshape(e.param:numel())
    total = total + e.param:numel()
  end
  local all = M.lowestZeroed(llm.cat(flats, 1), math.floor(amount * total + 0.5))
  local offset = 1
  for _, e in ipairs(entries) do
    local n = e.param:numel()
    out[e.path] = all:narrow(1, offset, n):reshape(e.param:shape())
    offset = offset + n
  end
  return out
end

return M
