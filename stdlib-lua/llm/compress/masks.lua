-- compress masks: the sparsity masks that belong to a model's parameters. A mask is a float32 0/1 tensor
-- of its parameter's shape (0 = pruned), kept in a registry beside the model (not in the module tree, so
-- the model's own state dict and checkpoints loaded without compress are unchanged; the pruning
-- extensions save masks with their own state).
-- How a mask acts (the choice: re-zeroing, not multiplying in forward): setting a mask zeroes the pruned
-- weights in place, so forward runs on the plain weights at no extra cost and pruned weights contribute
-- nothing. Gradients are masked (maskGradients, the extensions' transformGradients), the attached
-- optimizers zero the update and the state of pruned weights (opt:setMask, the native masked path), and
-- applyMasks re-zeroes after anything else that writes the weights (a loadStateDict, a replaced optimizer
-- step). Everything that takes several masks checks them all before changing anything.
local Module = require 'llm.nn.Module'

local M = {}

-- model -> {paths = {ordered paths}, entries = {path -> {param, mask}}, optimizers = {opt...}}
local registry = setmetatable({}, {__mode = 'k'})

local function stateOf(model, create)
  local s = registry[model]
  if not s and create then
    s = {paths = {}, entries = {}, optimizers = {}}
    registry[model] = s
  end
  return s
end

local function shapeString(t) return '[' .. table.concat(t:shape(), ', ') .. ']' end

--- Checks that `model` is an nn.Module (errors at `level` name `who`).
function M.checkModel(who, model, level)
  if not Module.isModule(model) then
    error(string.format("%s: Invalid 'model': expected an nn.Module, got %s", who, type(model)), level + 1)
  end
end

--- The parameter at `path` of `model` (error naming the path when there is none).
function M.param(who, model, path, level)
  local p = type(path) == 'string' and model:namedParameters()[path] or nil
  if not p then
    error(string.format("%s: no parameter '%s' in the model", who, tostring(path)), level + 1)
  end
  return p
end

-- The checked float32 copy of `mask` for parameter `path`.
local function checkedMask(who, model, path, mask, level)
  local p = M.param(who, model, path, level + 1)
  if not llm.isTensor(mask) then
    error(string.format("%s: the mask of '%s' must be a tensor, got %s", who, path, type(mask)), level + 1)
  end
  if shapeString(mask) ~= shapeString(p) then
    error(string.format("%s: the mask of '%s' has shape %s but the parameter has shape %s (masks from another model?)",
      who, path, shapeString(mask), shapeString(p)), level + 1)
  end
  return p, mask:to('float32'):ne(0)
end

local function optimizerHas(opt, p)
  for _, q in ipairs(opt:parameters()) do if rawequal(q, p) then return true end end
  return false
end

-- Zeroes the pruned weights of one entry and gives the mask to the attached optimizers.
local function install(s, path, p, mask)
  if not s.entries[path] then s.paths[#s.paths + 1] = path end
  s.entries[path] = {param = p, mask = mask}
  llm.noGrad(function() p:mul_(mask) end)
  for _, opt in ipairs(s.optimizers) do if optimizerHas(opt, p) then opt:setMask(p, mask) end end
end

--- Sets the masks of a table path -> mask (all checked first: a bad one changes nothing); a parameter that
--- has a mask already gets the new one (combine = true: the product of both).
function M.setMany(who, model, masks, opts, level)
  level = (level or 1) + 1
  M.checkModel(who, model, level)
  local checked, order = {}, {}
  for path, mask in pairs(masks) do
    local p, m = checkedMask(who, model, path, mask, level)
    checked[path] = {p, m}
    order[#order + 1] = path
  end
  table.sort(order)
  local s = stateOf(model, true)
  for _, path in ipairs(order) do
    local p, m = checked[path][1], checked[path][2]
    if opts and opts.combine and s.entries[path] then m = m * s.entries[path].mask end
    install(s, path, p, m)
  end
end

--- The mask of `path` (the registry's tensor: do not modify it), or nil.
function M.get(model, path)
  local s = stateOf(model)
  return s and s.entries[path] and s.entries[path].mask or nil
end

--- Ordered list of {path, param, mask} of every masked parameter.
function M.list(model)
  local s, out = stateOf(model), {}
  if not s then return out end
  for _, path in ipairs(s.paths) do
    local e = s.entries[path]
    if e then out[#out + 1] = {path, e.param, e.mask} end
  end
  return out
end

--- Re-zeroes every pruned weight (after anything that wrote the weights).
function M.apply(model)
  llm.noGrad(function() for _, e in ipairs(M.list(model)) do e[2]:mul_(e[3]) end end)
end

--- Zeroes the gradients of pruned weights (the parameters' current grads).
function M.maskGradients(model)
  llm.noGrad(function()
    for _, e in ipairs(M.list(model)) do
      if e[2].grad then e[2].grad:mul_(e[3]) end
    end
  end)
end

--- Gives every mask to `opt` (an optim optimizer: its update keeps pruned weights and their state at 0);
--- later masks reach it too.
function M.attach(model, opt)
  local s = stateOf(model, true)
  for _, o in ipairs(s.optimizers) do if rawequal(o, opt) then return end end
  s.optimizers[#s.optimizers + 1] = opt
  for _, e in ipairs(M.list(model)) do if optimizerHas(opt, e[2]) then opt:setMask(e[2], e[3]) end end
end

--- Drops the masks (the zeros stay in the weights: pruning made permanent); returns how many were dropped.
function M.remove(model)
  local s = stateOf(model)
  if not s then return 0 end
  local n = 0
  for _, e in ipairs(M.list(model)) do
    n = n + 1
    for _, opt in ipairs(s.optimizers) do if optimizerHas(opt, e[2]) then opt:setMask(e[2], nil) end end
  end
  registry[model] = nil
  return n
end

--- Copies of the masks: path -> tensor.
function M.copies(model)
  local out, put = Module.orderedTable()
  for _, e in ipairs(M.list(model)) do put(e[1], e[3]:clone()) end
  return out
end

return M
