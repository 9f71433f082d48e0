-- optim.paramGroups: parameter groups chosen by predicates over parameter paths, for any optimizer.
--   optim.AdamW(optim.paramGroups(model, {
--     {match = function(path, p) return p:dim() < 2 end, weightDecay = 0},   -- biases and norms
--   }), {lr = 3e-4, weightDecay = 0.1})
-- Each parameter goes to the first rule whose match(path, tensor) is true; the rest form a last group
-- that uses the optimizer's defaults. Empty groups are dropped. Paths are the model's dotted paths.
return function(model, rules)
  if type(model) ~= 'table' or type(model.parameterNames) ~= 'function' then
    error("bad argument #1 to 'paramGroups' (nn.Module expected, got " .. type(model) .. ")", 2)
  end
  if type(rules) ~= 'table' then error("bad argument #2 to 'paramGroups' (table of rules expected, got " .. type(rules) .. ")", 2) end
  for i, rule in ipairs(rules) do
    if type(rule) ~= 'table' or type(rule.match) ~= 'function' then
      error(string.format("paramGroups: rule %d needs a 'match' function(path, tensor)", i), 2)
    end
  end
  local named = model:namedParameters()
  local groups, rest = {}, {}
  for i in ipairs(rules) do groups[i] = {} end
  for _, path in ipairs(model:parameterNames()) do
    local p, placed = named[path], false
    for i, rule in ipairs(rules) do
      if rule.match(path, p) then groups[i][#groups[i] + 1] = p; placed = true; break end
    end
    if not placed then rest[#rest + 1] = p end
  end
  local out = {}
  for i, rule in ipairs(rules) do
    if #groups[i] > 0 then
      local g = {params = groups[i]}
      for k, v in pairs(rule) do if k ~= 'match' then g[k] = v end end
      out[#out + 1] = g
    end
  end
  if #rest > 0 then out[#out + 1] = {params = rest} end
  return out
end
