-- llm.tune.importance: parameter importance of a study, a fANOVA-lite: for each parameter, the share of the
-- objective's variance explained by that parameter alone (its first-order effect, the correlation ratio eta^2):
-- the complete trials are grouped by the parameter (a categorical: one group per choice; a number: equal-count
-- bins over its value, on a log scale for log distributions, min(8, floor(sqrt(n))) bins), and
-- eta^2 = sum over groups n_g (mean_g - mean)^2 / sum over trials (y - mean)^2. The shares are then normalised
-- to sum to 1. Interactions are ignored (unlike full fANOVA), and with few trials the shares are noisy.
--   importance(records, objective = 1) -> {{name =, importance =}, ...} sorted by importance, largest first
local M = {}

local function eta2(pairs_)
  local n = #pairs_
  if n < 2 then return 0 end
  local mean, total = 0, 0
  for _, p in ipairs(pairs_) do mean = mean + p.y end
  mean = mean / n
  for _, p in ipairs(pairs_) do total = total + (p.y - mean) ^ 2 end
  if total <= 0 then return 0 end
  local groups = {}
  for _, p in ipairs(pairs_) do
    local g = groups[p.g] or {sum = 0, n = 0}
    g.sum, g.n = g.sum + p.y, g.n + 1
    groups[p.g] = g
  end
  local between = 0
  for _, g in pairs(groups) do between = between + g.n * (g.sum / g.n - mean) ^ 2 end
  return between / total
end

function M.importance(records, objective)
  objective = objective or 1
  local byName = {}
  for _, t in ipairs(records) do
    local y = t.values and t.values[objective]
    if y and y == y then
      for name, v in pairs(t.params) do
        local d = t.distributions[name]
        local list = byName[name] or {dist = d}
        list[#list + 1] = {x = v, y = y}
        byName[name] = list
      end
    end
  end
  local out, sum = {}, 0
  for name, list in pairs(byName) do
    local d = list.dist
    if d.kind == 'categorical' then
      for _, p in ipairs(list) do p.g = tostring(p.x) end
    else
      local key = function(p) return d.log and math.log(p.x) or p.x end
      table.sort(list, function(a, b) return key(a) < key(b) end)
      local bins = math.max(1, math.min(8, math.floor(math.sqrt(#list))))
      for i, p in ipairs(list) do p.g = math.floor((i - 1) * bins / #list) end
      -- equal values share a bin (the bin of their first occurrence)
      for i = 2, #list do if list[i].x == list[i - 1].x then list[i].g = list[i - 1].g end end
    end
    local e = eta2(list)
    out[#out + 1] = {name = name, importance = e}
    sum = sum + e
  end
  for _, r in ipairs(out) do r.importance = sum > 0 and r.importance / sum or 0 end
  table.sort(out, function(a, b) if a.importance ~= b.importance then return a.importance > b.importance end return a.name < b.name end)
  return out
end

return M
