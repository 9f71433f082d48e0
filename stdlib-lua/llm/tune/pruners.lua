-- llm.tune.pruners: early stopping of trials, tune.pruner.median / asha / hyperband / none. A pruner is an
-- object with pruner:prune(study, trial) -> boolean, asked by trial:shouldPrune() after trial:report(step, v);
-- it reads trial.intermediate / trial.lastStep and the other trials' records (study:trials()). With several
-- objectives the intermediate values are compared in the direction of the first.
--   median{nStartup = 5, nWarmup = 0, interval = 1}: prunes when the trial's best intermediate value so far is
--     worse than the median of the completed trials' values at the same step (Optuna's MedianPruner); no
--     pruning before nStartup trials completed nor before step nWarmup, and only every interval steps.
--   asha{minResource = 1, reductionFactor = 3, minEarlyStoppingRate = 0}: asynchronous successive halving.
--     Rung k sits at step minResource * reductionFactor^(minEarlyStoppingRate + k); when a trial first
--     reports at or past a rung, its value there competes with the values of every trial that reached that
--     rung (any state but failed); it goes on only when it is among the best 1/reductionFactor of them
--     (the first trial at a rung always goes on), as in Optuna's SuccessiveHalvingPruner.
--   hyperband{minResource = 1, maxResource = 'auto' | number, reductionFactor = 3}: several ASHA brackets
--     with minEarlyStoppingRate 0..n-1, n = floor(log_eta(maxResource / minResource)) + 1; a trial's bracket
--     is drawn from its number (a seeded hash) with Hyperband's budget weights, and trials compete only
--     within their bracket. maxResource 'auto': the largest step a completed trial reported (no pruning
--     before one completes). Unlike Optuna, the sampler still sees the trials of every bracket.
-- Each constructor validates its options; pruner._spec records them for worker processes.
local M = {}

local function fail(msg) error('tune.pruner.' .. msg, 3) end

local function options(name, opts, defaults)
  opts = opts or {}
  if type(opts) ~= 'table' then fail(name .. ': options must be a table') end
  local out = {}
  for k, v in pairs(opts) do
    if defaults[k] == nil then
      local keys = {}
      for d in pairs(defaults) do keys[#keys + 1] = d end
      table.sort(keys)
      fail(string.format("%s: unknown option '%s' (expected %s)", name, tostring(k), table.concat(keys, ', ')))
    end
    out[k] = v
  end
  for k, v in pairs(defaults) do if out[k] == nil then out[k] = v end end
  return out
end

local function positive(name, key, v, integer)
  if type(v) ~= 'number' or v <= 0 or (integer and math.tointeger(v) == nil) then
    fail(string.format("%s: '%s' must be a positive %s, got %s", name, key, integer and 'integer' or 'number', tostring(v)))
  end
end

local function better(study)  -- a < b in the first objective's direction
  if study.directions[1] == 'maximize' then return function(a, b) return a > b end end
  return function(a, b) return a < b end
end

local function steps(intermediate)
  local s = {}
  for k in pairs(intermediate) do s[#s + 1] = k end
  table.sort(s)
  return s
end

-- median ----------------------------------------------------------------------------------------------
local Median = {}
Median.__index = Median

--- {nStartup = 5, nWarmup = 0, interval = 1}: prunes a trial worse than the median of the complete trials at its step.
function M.median(opts)
  local o = options('median', opts, {nStartup = 5, nWarmup = 0, interval = 1})
  if math.tointeger(o.nStartup) == nil or o.nStartup < 0 then fail("median: 'nStartup' must be an integer >= 0") end
  if math.tointeger(o.nWarmup) == nil or o.nWarmup < 0 then fail("median: 'nWarmup' must be an integer >= 0") end
  positive('median', 'interval', o.interval, true)
  return setmetatable({nStartup = o.nStartup, nWarmup = o.nWarmup, interval = o.interval, _spec = {name = 'median', options = o}}, Median)
end

function Median:prune(study, trial)
  local step = trial.lastStep
  if step == nil or step < self.nWarmup or (step - self.nWarmup) % self.interval ~= 0 then return false end
  local done = study:trials{states = {'complete'}}
  if #done < self.nStartup then return false end
  local lt = better(study)
  local others = {}
  for _, t in ipairs(done) do
    local v = t.intermediate[step]
    if v ~= nil and v == v then others[#others + 1] = v end
  end
  if #others == 0 then return false end
  table.sort(others)
  local n = #others
  local median = n % 2 == 1 and others[(n + 1) // 2] or (others[n // 2] + others[n // 2 + 1]) / 2
  local best
  for _, s in ipairs(steps(trial.intermediate)) do
    local v = trial.intermediate[s]
    if s <= step and v == v and (best == nil or lt(v, best)) then best = v end
  end
  if best == nil then return true end  -- only NaN so far
  return lt(median, best)
end

-- successive halving (ASHA) -----------------------------------------------------------------------------

-- The trial's value at rung resource r: its value at the first reported step >= r (nil when none).
local function rungValue(intermediate, r)
  local at
  for s in pairs(intermediate) do if s >= r and (at == nil or s < at) then at = s end end
  return at and intermediate[at]
end

-- One successive-halving decision for trial among competitors (records), rung resources from rate.
local function halving(study, trial, cfg, competitors)
  local step = trial.lastStep
  local lt = better(study)
  local k = 0
  while true do
    local r = cfg.minResource * cfg.reductionFactor ^ (cfg.rate + k)
    if step < r then return false end
    if not trial.checkedRungs[k] then
      trial.checkedRungs[k] = true
      local mine = rungValue(trial.intermediate, r)
      if mine == nil or mine ~= mine then return true end
      local values = {mine}
      for _, t in ipairs(competitors) do
        if t.number ~= trial.number then
          local v = rungValue(t.intermediate, r)
          if v ~= nil and v == v then values[#values + 1] = v end
        end
      end
      table.sort(values, lt)
      local idx = math.max(1, #values // cfg.reductionFactor)
      if lt(values[idx], mine) then return true end
    end
    k = k + 1
  end
end

local ASHA = {}
ASHA.__index = ASHA

local function checkHalving(name, o)
  positive(name, 'minResource', o.minResource, true)
  positive(name, 'reductionFactor', o.reductionFactor, true)
  if o.reductionFactor < 2 then fail(name .. ": 'reductionFactor' must be >= 2") end
end

--- {minResource = 1, reductionFactor = 3, minEarlyStoppingRate = 0}: asynchronous successive halving.
function M.asha(opts)
  local o = options('asha', opts, {minResource = 1, reductionFactor = 3, minEarlyStoppingRate = 0})
  checkHalving('asha', o)
  if math.tointeger(o.minEarlyStoppingRate) == nil or o.minEarlyStoppingRate < 0 then fail("asha: 'minEarlyStoppingRate' must be an integer >= 0") end
  return setmetatable({minResource = o.minResource, reductionFactor = o.reductionFactor, rate = o.minEarlyStoppingRate,
                       _spec = {name = 'asha', options = o}}, ASHA)
end

--- The rung resources (steps) up to maxStep.
function ASHA:rungs(maxStep)
  local out, k = {}, 0
  while true do
    local r = self.minResource * self.reductionFactor ^ (self.rate + k)
    if r > maxStep then return out end
    out[#out + 1] = math.tointeger(r) or r
    k = k + 1
  end
end

function ASHA:prune(study, trial)
  if trial.lastStep == nil then return false end
  return halving(study, trial, self, study:trials{states = {'complete', 'pruned', 'running'}})
end

-- hyperband -----------------------------------------------------------------------------------------------
local Hyperband = {}
Hyperband.__index = Hyperband

--- {minResource = 1, maxResource = 'auto', reductionFactor = 3}: ASHA brackets of different early-stopping rates.
function M.hyperband(opts)
  local o = options('hyperband', opts, {minResource = 1, maxResource = 'auto', reductionFactor = 3})
  checkHalving('hyperband', o)
  if o.maxResource ~= 'auto' then
    positive('hyperband', 'maxResource', o.maxResource, true)
    if o.maxResource < o.minResource then fail("hyperband: 'maxResource' must be >= 'minResource'") end
  end
  return setmetatable({minResource = o.minResource, maxResource = o.maxResource, reductionFactor = o.reductionFactor,
                       _spec = {name = 'hyperband', options = o}}, Hyperband)
end

--- The number of brackets for a maximum resource.
function Hyperband:brackets(maxResource)
  local n = 0
  while self.minResource * self.reductionFactor ^ (n + 1) <= maxResource + 1e-9 do n = n + 1 end
  return n + 1
end

-- splitmix64 of the trial number: a fixed, well-mixed hash (so brackets do not depend on the process).
local function hash(n)
  local z = (n + 0x9E3779B97F4A7C15)
  z = (z ~ (z >> 30)) * 0xBF58476D1CE4E5B9
  z = (z ~ (z >> 27)) * 0x94D049BB133111EB
  return z ~ (z >> 31)
end

--- The bracket (0-based: its minEarlyStoppingRate) of trial number for nBrackets brackets.
function Hyperband:bracketOf(number, nBrackets)
  local budgets, total = {}, 0
  for i = 0, nBrackets - 1 do
    local s = nBrackets - 1 - i
    budgets[i] = math.ceil(nBrackets * self.reductionFactor ^ s / (s + 1))
    total = total + budgets[i]
  end
  local h = (hash(number) >> 1) % total
  for i = 0, nBrackets - 1 do
    if h < budgets[i] then return i end
    h = h - budgets[i]
  end
  return nBrackets - 1
end

function Hyperband:prune(study, trial)
  if trial.lastStep == nil then return false end
  local maxR = self.maxResource
  local all = study:trials{states = {'complete', 'pruned', 'running'}}
  if maxR == 'auto' then
    maxR = nil
    for _, t in ipairs(all) do
      if t.state == 'complete' then for s in pairs(t.intermediate) do if maxR == nil or s > maxR then maxR = s end end end
    end
    if maxR == nil then return false end
  end
  local n = self:brackets(maxR)
  local b = self:bracketOf(trial.number, n)
  local same = {}
  for _, t in ipairs(all) do if self:bracketOf(t.number, n) == b then same[#same + 1] = t end end
  return halving(study, trial, {minResource = self.minResource, reductionFactor = self.reductionFactor, rate = b}, same)
end

-- none ----------------------------------------------------------------------------------------------------
--- A pruner that never prunes.
function M.none() return {prune = function() return false end, _spec = {name = 'none', options = {}}} end

return M
