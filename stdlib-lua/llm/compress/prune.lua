-- compress.prune and the pruning extension compress.pruner.
-- compress.prune(model, {amount, criterion='magnitude', scope='layer', params, structure}): prunes once,
--   now (masks combine with the masks the model has); returns compress.sparsity(model).total.sparsity.
--   structure = 'rows' | 'neurons' | 'heads' prunes whole units (llm/compress/structured.lua) ranked by
--   criterion 'l1' | 'l2' (default 'l2') norm; otherwise criterion is one of llm/compress/criteria.lua.
--   Grouped-query attention: structure = 'heads' prunes query heads; groups = true whole key/value groups,
--   balanced = true the same number of query heads in every group (so compress.shrink removes them all).
-- compress.pruner{model, schedule, criterion, scope, params, structure, groups, balanced, rewindTo, name='pruner'}: a Trainer
--   extension (llm/extensions.lua). Each step: transformGradients accumulates the taylor/movement scores
--   from the raw gradients and masks the gradients; afterOptimizerStep re-zeroes pruned weights, then, when
--   schedule(step) (steps completed) exceeds the sparsity reached, prunes to it (and, with rewindTo or a
--   lotteryTicket schedule, resets the kept weights and the optimizer state to those saved after rewindTo
--   steps; through ext:optimizerState / ext:loadOptimizerState when an extension holds that state, as
--   dist.dataParallel{zero = 1} does). onRunStart attaches the trainer's optimizer (its masked path keeps Adam's moments of pruned
--   weights at 0) and applies schedule(step) when it asks for more already (oneShot{at=0}). Masks,
--   accumulated scores and the rewind point are saved in checkpoints and restored on resume.
local options = require 'llm.nn.options'
local masks = require 'llm.compress.masks'
local targets = require 'llm.compress.targets'
local criteria = require 'llm.compress.criteria'
local structured = require 'llm.compress.structured'
local check = require 'llm.compress.check'

local M = {}
local NONE = options.NONE

-- Checked pruning options (errors at `level`).
local function spec(who, o, level)
  level = level + 1
  masks.checkModel(who, o.model, level)
  check.oneOf(who, 'scope', o.scope, {'layer', 'global'}, level)
  structured.headOptions(who, o.structure, o, level)
  if o.structure ~= nil then
    check.oneOf(who, 'structure', o.structure, {'rows', 'neurons', 'heads'}, level)
    o.criterion = o.criterion == 'magnitude' and 'l2' or o.criterion
    check.oneOf(who, 'criterion', o.criterion, {'l1', 'l2'}, level)
    o.families = structured.families(who, o.model, o.structure, o.params, level, o)
  else
    o.score = criteria.resolve(who, o.criterion, level)
    o.targets = targets.select(who, o.model, o.params, level)
  end
  return o
end

-- Prunes o.model to `amount` (the masks only grow); acc: accumulated scores by path (or nil).
local function pruneTo(who, o, amount, acc)
  local model = o.model
  local new
  if o.families then
    new = structured.masks(o.families, amount, o.criterion, o.scope, function(path) return masks.get(model, path) end)
  else
    local entries = {}
    llm.noGrad(function()
      for i, t in ipairs(o.targets) do
        local path, p = t[1], t[2]
        local ok, score = pcall(o.score, path, p, {grad = p.grad, accumulated = acc and acc[path] or nil})
        if not ok then error(who .. ': ' .. tostring(score), 0) end
        entries[i] = {path = path, param = p, score = score, mask = masks.get(model, path)}
      end
    end)
    new = criteria.masks(entries, amount, o.scope)
  end
  masks.setMany(who, model, new, {combine = true}, 2)
end

local pruneDefaults = {model = NONE, amount = NONE, criterion = 'magnitude', scope = 'layer', params = NONE, structure = NONE,
                      groups = NONE, balanced = NONE}

--- (model, {amount, criterion='magnitude'|'random'|'taylor'|'movement'|'l1'|'l2', scope='layer'|'global', params,
--- structure='rows'|'neurons'|'heads', groups, balanced}) -> sparsity: prunes once, now (masks only grow); the total sparsity of the prunable parameters.
--- GQA heads: groups=true prunes whole key/value groups, balanced=true equally many query heads per group.
function M.prune(model, opts)
  local who = 'compress.prune'
  if type(opts) ~= 'table' then error(who .. ': expected (model, {amount, ...}), got ' .. type(opts) .. ' as options', 2) end
  local o = options.check(who, opts, pruneDefaults, 2)
  o.model = model
  check.fraction(who, 'amount', o.amount, 2)
  spec(who, o, 2)
  pruneTo(who, o, o.amount, nil)
  return require('llm.compress.sparsity').sparsity(model).total.sparsity
end

local Pruner = {}
Pruner.__index = Pruner
local stateOwner

local pruner = {model = NONE, schedule = NONE, criterion = 'magnitude', scope = 'layer', params = NONE, structure = NONE,
                groups = NONE, balanced = NONE, rewindTo = NONE, name = 'pruner'}

--- {model, schedule, criterion='magnitude', scope='layer', params, structure, groups, balanced, rewindTo, name='pruner'}: a Trainer extension
--- pruning to schedule(step) as training goes (masks, scores and the rewind point saved in checkpoints).
function M.pruner(opts)
  local who = 'compress.pruner'
  local o = options.check(who, opts, pruner, 2)
  local sched = o.schedule
  local callable = type(sched) == 'function' or (type(sched) == 'table' and getmetatable(sched) and getmetatable(sched).__call)
  if not callable then error(who .. ": Invalid 'schedule': expected a function step -> sparsity (compress.schedule.*), got " .. type(sched), 2) end
  spec(who, o, 2)
  local rewindTo = o.rewindTo or (type(sched) == 'table' and sched.rewindTo) or nil
  if rewindTo ~= nil then check.step(who, 'rewindTo', rewindTo, 2) end
  local self = setmetatable({name = o.name, who = who, o = o, schedule = sched, rewindTo = rewindTo, reached = 0,
                             acc = {}, accSteps = 0}, Pruner)
  self.accumulate = type(o.criterion) == 'string' and criteria.accumulate[o.criterion] or nil
  return self
end

-- Prunes to schedule(step) when it asks for more than reached; rewinds when a rewind point is saved.
function Pruner:maybePrune(trainer, step)
  local target = self.schedule(step)
  if type(target) ~= 'number' or target ~= target or target < 0 or target > 1 then
    error(string.format("%s: the schedule returned %s at step %d; expected a sparsity in [0, 1]", self.who, tostring(target), step), 0)
  end
  if target <= self.reached + 1e-12 then return end
  pruneTo(self.who, self.o, target, self.accSteps > 0 and self.acc or nil)
  self.reached, self.acc, self.accSteps = target, {}, 0
  if self.rewind then
    local named = self.o.model:namedParameters()
    llm.noGrad(function()
      for path, w in pairs(self.rewind.weights) do named[path]:copy_(w) end
    end)
    local owner = stateOwner(trainer)
    if owner then owner:loadOptimizerState(trainer, self.rewind.optimizer) else trainer.optimizer:loadStateDict(self.rewind.optimizer) end
    masks.apply(self.o.model)
  end
end

-- The extension holding the optimizer state in place of the Trainer's optimizer (one defining
-- optimizerState and loadOptimizerState: dist.dataParallel{zero = 1} shards it), or nil.
function stateOwner(trainer)
  for _, ext in ipairs(trainer.extensions or {}) do
    if type(ext.optimizerState) == 'function' and type(ext.loadOptimizerState) == 'function' then return ext end
  end
  return nil
end

-- Saves the rewind point: the targeted weights and the optimizer state (the whole state, in the
-- optimizer's stateDict format, also when an extension holds it sharded).
function Pruner:saveRewind(trainer)
  local weights, named = {}, self.o.model:namedParameters()
  for _, path in ipairs(self:paths()) do weights[path] = named[path]:clone() end
  local owner, opt = stateOwner(trainer), {}
  for k, v in pairs(owner and owner:optimizerState(trainer) or trainer.optimizer:stateDict()) do opt[k] = v end
  self.rewind = {weights = weights, optimizer = opt}
end

-- Paths of the parameters this pruner masks.
function Pruner:paths()
  local out = {}
  if self.o.families then
    for _, fam in ipairs(self.o.families) do for _, pc in ipairs(fam.pieces) do out[#out + 1] = pc.path end end
  else
    for _, t in ipairs(self.o.targets) do out[#out + 1] = t[1] end
  end
  return out
end

function Pruner:onRunStart(trainer)
  masks.attach(self.o.model, trainer.optimizer)
  masks.apply(self.o.model)
  if self.rewindTo == trainer.step and not self.rewind then self:saveRewind(trainer) end
  self:maybePrune(trainer, trainer.step)
end

function Pruner:beforeStep(trainer, info)
  if self.rewindTo == info.step - 1 and not self.rewind then self:saveRewind(trainer) end
end

function Pruner:transformGradients()
  if self.accumulate then
    self.accSteps = self.accSteps + 1
    llm.noGrad(function()
      for _, t in ipairs(self.o.targets) do
        if t[2].grad then self.acc[t[1]] = self.accumulate(self.acc[t[1]], t[2], t[2].grad, self.accSteps) end
      end
    end)
  end
  masks.maskGradients(self.o.model)
end

function Pruner:afterOptimizerStep(trainer, info)
  masks.apply(self.o.model)
  self:maybePrune(trainer, info.step)
end

--- State in checkpoints: 'mask.<path>', 'score.<path>', 'rewind.<path>', 'rewindOpt.<key>' tensors; reached,
--- accSteps and the optimizer snapshot's numbers.
function Pruner:stateDict()
  local sd = {reached = self.reached, accSteps = self.accSteps}
  for _, e in ipairs(masks.list(self.o.model)) do sd['mask.' .. e[1]] = e[3] end
  for path, t in pairs(self.acc) do sd['score.' .. path] = t end
  if self.rewind then
    for path, w in pairs(self.rewind.weights) do sd['rewind.' .. path] = w end
    local nums = {}
    for k, v in pairs(self.rewind.optimizer) do
      if llm.isTensor(v) then sd['rewindOpt.' .. k] = v else nums[k] = v end
    end
    sd.rewindOptValues = nums
  end
  return sd
end

function Pruner:loadStateDict(sd)
  local m, acc, rw, ro = {}, {}, {}, nil
  local named = self.o.model:namedParameters()
  for k, v in pairs(sd) do
    local kind, rest = k:match('^(%a+)%.(.+)$')
    if kind == 'mask' then m[rest] = v
    elseif kind == 'score' or kind == 'rewind' then
      if not named[rest] then error(string.format("%s: the checkpoint has state for '%s', which the model does not have (masks from another model?)", self.who, rest), 0) end
      if kind == 'score' then acc[rest] = v else rw[rest] = v end
    elseif kind == 'rewindOpt' then ro = ro or {}; ro[rest] = v end
  end
  masks.setMany(self.who, self.o.model, m, nil, 2)   -- checks every mask first: a bad one changes nothing
  self.reached, self.acc, self.accSteps = sd.reached or 0, acc, sd.accSteps or 0
  if next(rw) then
    for k, v in pairs(sd.rewindOptValues or {}) do ro = ro or {}; ro[k] = v end
    self.rewind = {weights = rw, optimizer = ro or {}}
  end
end

return M
