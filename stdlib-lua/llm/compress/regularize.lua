-- compress.groupLasso{model, structure='rows'|'neurons'|'heads', lambda, params, groups, name='groupLasso'}: the group
-- lasso penalty λ·Σ_g √|g|·‖w_g‖₂ over the structured units (llm/compress/structured.lua; |g| = weights per
-- unit), which drives whole rows/neurons/heads to zero so that structured pruning then removes them with
-- little loss (groups = true: whole key/value groups of grouped-query attentions). A Trainer extension:
-- afterForward adds the penalty to the loss; ext:penalty() returns it (a differentiable scalar tensor) for a
-- hand-written loop. optim.l1Penalty is the element-wise counterpart.
local options = require 'llm.nn.options'
local masks = require 'llm.compress.masks'
local structured = require 'llm.compress.structured'
local check = require 'llm.compress.check'

local M = {}

local GroupLasso = {}
GroupLasso.__index = GroupLasso

--- {model, structure='rows'|'neurons'|'heads', lambda, params, groups, name='groupLasso'}: a Trainer extension adding λ·Σ √|g|·‖w_g‖₂ to the loss; ext:penalty() returns it.
function M.groupLasso(opts)
  local who = 'compress.groupLasso'
  local o = options.check(who, opts, {model = options.NONE, structure = 'rows', lambda = options.NONE, params = options.NONE,
                                      groups = options.NONE, name = 'groupLasso'}, 2)
  masks.checkModel(who, o.model, 2)
  check.oneOf(who, 'structure', o.structure, {'rows', 'neurons', 'heads'}, 2)
  if type(o.lambda) ~= 'number' or not (o.lambda >= 0) then
    error(who .. ": Invalid 'lambda': expected a non-negative number, got " .. tostring(o.lambda), 2)
  end
  local families = structured.families(who, o.model, o.structure, o.params, 2, {groups = o.groups})
  local weights = {}
  for i, fam in ipairs(families) do weights[i] = math.sqrt(structured.unitSize(fam)) end
  return setmetatable({name = o.name, lambda = o.lambda, families = families, weights = weights}, GroupLasso)
end

--- λ·Σ_g √|g|·‖w_g‖₂ (a scalar tensor; ε = 1e-12 under the root keeps the gradient of a zero group finite).
function GroupLasso:penalty()
  local total
  for i, fam in ipairs(self.families) do
    local norms = (structured.unitSums(fam, function(x) return x * x end) + 1e-12):sqrt():sum() * self.weights[i]
    total = total and (total + norms) or norms
  end
  return total * self.lambda
end

function GroupLasso:afterForward(_, _, out)
  if self.lambda > 0 then out.loss = out.loss + self:penalty() end
end

return M
