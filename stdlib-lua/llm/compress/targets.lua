-- compress targets: which parameters a pruner, a criterion or a sparse-training extension acts on.
-- `params` is nil (the default: the weight of every nn.Linear whose weight is not also an embedding
-- table — a GPT's attention and MLP matrices, not its tied LM head), a list of parameter paths, a Lua
-- pattern matched against paths, or a function(path, p) -> boolean. A path that does not exist is an error.
local M = {}

-- Paths of the weights of nn.Embedding modules (tied heads share them).
local function embeddingWeights(model)
  local out = {}
  model:apply(function(m)
    if m.__name == 'nn.Embedding' and rawget(m, 'weight') then out[rawget(m, 'weight')] = true end
  end)
  return out
end

-- Ordered {path, module} of every module of the tree (parents first).
function M.modules(model)
  local out = {}
  local function walk(m, prefix)
    out[#out + 1] = {prefix, m}
    for _, c in ipairs(m:namedChildren()) do walk(c[2], prefix and (prefix .. '.' .. c[1]) or c[1]) end
  end
  walk(model, nil)
  return out
end

--- Ordered list of {path, param} selected by `params` (see the header); errors at `level` name `who`.
function M.select(who, model, params, level)
  level = level + 1
  local named = model:namedParameters()
  local out = {}
  if params == nil then
    local emb = embeddingWeights(model)
    for _, e in ipairs(M.modules(model)) do
      local w = e[2].__name == 'nn.Linear' and rawget(e[2], 'weight')
      local path = w and (e[1] and (e[1] .. '.weight') or 'weight')
      if w and not emb[w] and named[path] then out[#out + 1] = {path, w} end
    end
  elseif type(params) == 'table' then
    for i, path in ipairs(params) do
      if type(path) ~= 'string' then
        error(string.format("%s: Invalid 'params[%d]': expected a parameter path, got %s", who, i, type(path)), level)
      end
      if not named[path] then error(string.format("%s: no parameter '%s' in the model", who, path), level) end
      out[#out + 1] = {path, named[path]}
    end
  elseif type(params) == 'string' or type(params) == 'function' then
    for path, p in pairs(named) do
      local hit
      if type(params) == 'string' then hit = path:match(params) ~= nil else hit = params(path, p) end
      if hit then out[#out + 1] = {path, p} end
    end
  else
    error(string.format("%s: Invalid 'params': expected a list of paths, a pattern or a function(path, p), got %s", who, type(params)), level)
  end
  if #out == 0 then error(string.format('%s: no parameter to prune (params selected none)', who), level) end
  return out
end

return M
