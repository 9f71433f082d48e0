-- scripts/bench/tune_study_stub.lua: a minimal in-memory study driving a tune sampler (the sampler interface of
-- stdlib-lua/llm/tune/samplers), for the sampler spec and benchmark until/unless tune.study is used.
--   local stub = dofile('scripts/bench/tune_study_stub.lua')
--   local study = stub.study{directions = {'minimize'}}
--   stub.optimize(study, sampler, space, objective, nTrials)   -- space: name -> distribution (sorted walk);
--     objective(params, trial) -> value | {v1, v2}; trials numbered from 0
local M = {}

local Study = {}
Study.__index = Study

function M.study(opts)
  opts = opts or {}
  return setmetatable({directions = opts.directions or {'minimize'}, list = {}}, Study)
end

function Study:trials(filter)
  local want
  if filter and filter.states then
    want = {}
    for _, s in ipairs(filter.states) do want[s] = true end
  end
  local out = {}
  for _, t in ipairs(self.list) do if not want or want[t.state] then out[#out + 1] = t end end
  return out
end

function M.optimize(study, sampler, space, objective, nTrials)
  local names = {}
  for k in pairs(space) do names[#names + 1] = k end
  table.sort(names)
  for _ = 1, nTrials do
    local trial = {number = #study.list, state = 'running', params = {}, distributions = {}, intermediate = {}}
    study.list[#study.list + 1] = trial
    local rel = sampler.inferRelativeSpace and sampler:inferRelativeSpace(study, trial) or {}
    local relValues = next(rel) and sampler:sampleRelative(study, trial, rel) or {}
    for _, name in ipairs(names) do
      local v = relValues[name]
      if v == nil or not rel[name] then v = sampler:sampleIndependent(study, trial, name, space[name]) end
      trial.params[name], trial.distributions[name] = v, space[name]
    end
    local v = objective(trial.params, trial)
    trial.values = type(v) == 'table' and v or {v}
    trial.state = 'complete'
  end
  return study
end

return M
