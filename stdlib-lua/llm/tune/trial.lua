-- llm.tune.trial: the trial object an objective receives (one run of the objective, stored as it goes).
--   trial.number, trial.params (name -> value suggested so far)
--   trial:suggest(name, dist), trial:suggestFloat(name, lo, hi, [{log =, step =}]),
--   trial:suggestInt(name, lo, hi, [{log =, step =}]), trial:suggestCategorical(name, choices)
--     -> the value: from the sampler's joint proposal at trial start (sampleRelative), else
--        sampler:sampleIndependent; suggesting a name again returns the same value (with the same
--        distribution; a different one is an error)
--   trial:report(step, value)     an intermediate value (step: integer >= 0) for the pruner
--   trial:shouldPrune() -> bool   asks the study's pruner; true marks the trial as pruned: the study records it
--                                 'pruned' when the objective ends (by returning, or by trial:prune())
--   trial:prune()                 raises tune.TrialPruned (ends the objective; recorded as pruned)
--   trial:setAttr(key, value)     a user attribute (JSON-encodable), shown by `llmscript tune show`
--   trial:record()                the record samplers and pruners read (see study.lua)
local space = require 'llm.tune.space'

local Trial = {}
Trial.__index = Trial

local M = {}

--- tune.TrialPruned: the value an objective raises to end a pruned trial.
M.Pruned = setmetatable({}, {__tostring = function() return 'tune.TrialPruned' end, __name = 'tune.TrialPruned'})

--- A trial of study with its storage id and number; relative: values proposed jointly at start.
function M.new(study, id, number)
  local self = setmetatable({study = study, id = id, number = number, params = {}, distributions = {}, intermediate = {},
                             relative = {}, relativeSpace = {}, pruned = false, checkedRungs = {}}, Trial)
  local sampler = study.sampler
  if sampler.inferRelativeSpace then
    local rs = sampler:inferRelativeSpace(study, self:record())
    if rs and next(rs) then
      self.relativeSpace = rs
      self.relative = sampler:sampleRelative(study, self:record(), rs) or {}
    end
  end
  return self
end

function Trial:record()
  return {number = self.number, state = 'running', params = self.params, distributions = self.distributions,
          intermediate = self.intermediate, id = self.id}
end

--- The value of parameter name drawn from dist by the study's sampler (the same value when suggested again).
function Trial:suggest(name, dist)
  if type(name) ~= 'string' or name == '' then error('trial:suggest: the parameter name must be a non-empty string, got ' .. tostring(name), 2) end
  space.check(dist, name, 2)
  local known = self.distributions[name]
  if known then
    if not space.same(known, dist) then error("trial:suggest: parameter '" .. name .. "' was already suggested with another distribution", 2) end
    return self.params[name]
  end
  local v = self.relative[name]
  if v == nil or not self.relativeSpace[name] or not space.same(self.relativeSpace[name], dist) or not space.contains(dist, v) then
    v = self.study.sampler:sampleIndependent(self.study, self:record(), name, dist)
  end
  if not space.contains(dist, v) then
    error(string.format("tune: the sampler proposed %s for parameter '%s', outside its distribution", tostring(v), name), 2)
  end
  if dist.kind == 'int' then v = math.tointeger(v) elseif dist.kind == 'float' then v = v + 0.0 end
  self.params[name], self.distributions[name] = v, dist
  self.study.store:setParam(self.id, name, space.toStored(dist, v), dist)
  return v
end

local function rangeDist(kind, lo, hi, opts, fn)
  opts = opts or {}
  if type(opts) ~= 'table' then error(fn .. ': options must be a table {log =, step =}', 3) end
  if kind == 'int' then return {kind = 'int', low = math.tointeger(lo) or lo, high = math.tointeger(hi) or hi, log = opts.log == true, step = opts.step or 1} end
  return {kind = 'float', low = lo, high = hi, log = opts.log == true, step = opts.step}
end

--- (name, lo, hi, [{log, step}]) -> number: trial:suggest with a float distribution.
function Trial:suggestFloat(name, lo, hi, opts) return self:suggest(name, rangeDist('float', lo, hi, opts, 'trial:suggestFloat')) end
--- (name, lo, hi, [{log, step}]) -> integer: trial:suggest with an int distribution.
function Trial:suggestInt(name, lo, hi, opts) return self:suggest(name, rangeDist('int', lo, hi, opts, 'trial:suggestInt')) end
--- (name, choices) -> one of the choices.
function Trial:suggestCategorical(name, choices)
  if type(choices) ~= 'table' then error('trial:suggestCategorical: expected a list of choices, got ' .. type(choices), 2) end
  return self:suggest(name, {kind = 'categorical', choices = choices})
end

--- Records an intermediate value (step: integer >= 0) for the pruner.
function Trial:report(step, value)
  if math.type(step) ~= 'integer' and not (type(step) == 'number' and math.tointeger(step)) then
    error('trial:report: step must be an integer, got ' .. tostring(step), 2)
  end
  step = math.tointeger(step)
  if step < 0 then error('trial:report: step must be >= 0, got ' .. step, 2) end
  if type(value) ~= 'number' then error('trial:report: value must be a number, got ' .. type(value), 2) end
  self.intermediate[step] = value
  self.lastStep = step
  self.study.store:report(self.id, step, value)
end

--- True when the pruner stops this trial (then recorded as pruned).
function Trial:shouldPrune()
  local pruner = self.study.pruner
  if not pruner or self.lastStep == nil then return self.pruned end
  if not self.pruned and pruner:prune(self.study, self) then self.pruned = true end
  return self.pruned
end

--- Raises tune.TrialPruned: ends the objective, the trial is recorded as pruned.
function Trial:prune()
  self.pruned = true
  error(M.Pruned, 0)
end

--- Stores a JSON-encodable user attribute with the trial.
function Trial:setAttr(key, value)
  if type(key) ~= 'string' then error('trial:setAttr: key must be a string', 2) end
  self.study.store:setTrialAttr(self.id, key, value)
end

return M
