-- compress.sparsity(model, [{params}]): the zeros of the prunable parameters — the default targets
-- (llm/compress/targets.lua) and every masked parameter, or those `params` selects — per path and in total:
-- {paths = {[path] = {zeros, numel, sparsity}} (pairs() in model order), total = {zeros, numel, sparsity}}.
local Module = require 'llm.nn.Module'
local masks = require 'llm.compress.masks'
local targets = require 'llm.compress.targets'
local options = require 'llm.nn.options'

local M = {}

--- (model, [{params}]) -> {paths = {[path] = {zeros, numel, sparsity}}, total = {zeros, numel, sparsity}}: zeros of the prunable (or selected) parameters.
function M.sparsity(model, opts)
  local who = 'compress.sparsity'
  masks.checkModel(who, model, 2)
  local o = options.check(who, opts, {params = options.NONE}, 2)
  local chosen = {}
  if o.params ~= nil then
    for _, t in ipairs(targets.select(who, model, o.params, 2)) do chosen[t[1]] = true end
  else
    local ok, list = pcall(targets.select, who, model, nil, 1)
    if ok then for _, t in ipairs(list) do chosen[t[1]] = true end end
    for _, e in ipairs(masks.list(model)) do chosen[e[1]] = true end
  end
  local paths, put = Module.orderedTable()
  local zeros, numel = 0, 0
  for path, p in pairs(model:namedParameters()) do
    if chosen[path] then
      local z, n = p:eq(0):sum():item(), p:numel()
      z = math.floor(z + 0.5)
      put(path, {zeros = z, numel = n, sparsity = z / n})
      zeros, numel = zeros + z, numel + n
    end
  end
  return {paths = paths, total = {zeros = zeros, numel = numel, sparsity = numel > 0 and zeros / numel or 0}}
end

return M
