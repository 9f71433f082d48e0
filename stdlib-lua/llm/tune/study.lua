-- llm.tune.study: tune.study{...} and the study object.
--   tune.study{name = 'study', storage = 'path.sqlite' | nil (in memory), sampler =, pruner =,
--              directions = {'minimize', ...} | direction = 'minimize', seed = 0}
--     opens the study `name` in storage (created when missing; an existing study keeps its directions and a
--     different request is an error). Opening marks failed every trial left 'running' by a process that is
--     gone (kill -9): finished trials are kept. Default sampler: tune.sampler.tpe{seed = seed}.
--   study:optimize(objective, {trials =, maxTrials =, timeout =, space =, workers =, cores =, threads =,
--                              trialTimeout =, memoryMB =, quiet =})
--     objective: function(trial, params) -> number | {v1, v2, ...} (one value per direction), run in this
--     process; or the path of a Lua file returning such a function (or {objective = fn, space = table}),
--     run as one child process per trial (llm/tune/parallel.lua) — needed for workers > 1.
--     trials: trials this call runs; maxTrials: stop once the study has that many finished (complete or
--     pruned) trials; timeout: seconds after which no new trial starts. space: a declarative space
--     (llm/tune/space.lua) suggested before the objective runs, its values passed as `params`.
--     An objective that raises records the trial 'failed' (with the error) and the study continues;
--     tune.TrialPruned (trial:prune()) or a trial:shouldPrune() that returned true records it 'pruned';
--     a NaN or ill-shaped result records it 'failed'.
--   study:trials([{states = {...}}]) -> records {number, state, params, distributions, values, intermediate,
--     attrs, error, started, finished}; study:best() -> the best complete record (single objective);
--   study:paretoFront() -> the complete records no other complete record dominates, by number;
--   study:summary() -> {complete =, pruned =, failed =, running =}; study.directions, study.name.
local space = require 'llm.tune.space'
local trialMod = require 'llm.tune.trial'
local storage = require 'llm.tune.storage'

local M = {}
local Study = {}
Study.__index = Study

local function fail(msg, level) error('tune.study: ' .. msg, (level or 1) + 1) end

local function directionsOf(opts)
  local dirs = opts.directions or {opts.direction or 'minimize'}
  if opts.directions and opts.direction then fail("give 'direction' or 'directions', not both", 3) end
  if type(dirs) ~= 'table' or #dirs == 0 then fail("'directions' must be a non-empty list of 'minimize' / 'maximize'", 3) end
  for i, d in ipairs(dirs) do
    if d ~= 'minimize' and d ~= 'maximize' then fail(string.format("direction %d must be 'minimize' or 'maximize', got %s", i, tostring(d)), 3) end
  end
  return dirs
end

-- Rebuilds a sampler or pruner from its stored spec {name, options} (worker processes).
local function fromSpec(kind, spec)
  local ns = kind == 'sampler' and tune.sampler or tune.pruner
  local ctor = spec and ns[spec.name]
  if not ctor then error('tune: cannot rebuild the study ' .. kind .. ' ' .. tostring(spec and spec.name), 0) end
  return ctor(spec.options)
end

--- {name, storage, sampler, pruner, directions | direction, seed, busyTimeout} -> study: opens or creates a study (in memory without storage); marks the trials of dead processes failed.
function M.new(opts)
  opts = opts or {}
  if type(opts) ~= 'table' then fail('options must be a table', 2) end
  local allowed = {name = true, storage = true, sampler = true, pruner = true, directions = true, direction = true, seed = true, busyTimeout = true}
  for k in pairs(opts) do if not allowed[k] then fail("unknown option '" .. tostring(k) .. "'", 2) end end
  local name = opts.name or 'study'
  if type(name) ~= 'string' or name == '' then fail("'name' must be a non-empty string", 2) end
  if opts.storage ~= nil and (type(opts.storage) ~= 'string' or opts.storage == '') then fail("'storage' must be a file path", 2) end
  local seed = opts.seed or 0
  if math.tointeger(seed) == nil then fail("'seed' must be an integer", 2) end
  local store = storage.open(opts.storage, {busyTimeout = opts.busyTimeout})
  local row = store:study(name)
  local dirs
  if row and not opts.directions and not opts.direction then
    dirs = row.directions
  else
    local ok, d = pcall(directionsOf, opts)
    if not ok then store:close(); error(d, 2) end
    dirs = d
  end
  if row and table.concat(row.directions, ',') ~= table.concat(dirs, ',') then
    store:close()
    fail(string.format("study '%s' in %s has directions {%s}, not {%s}", name, opts.storage, table.concat(row.directions, ', '), table.concat(dirs, ', ')), 2)
  end
  row = row or store:createStudy(name, dirs)
  local self = setmetatable({name = name, id = row.id, directions = dirs, store = store, storage = opts.storage, seed = seed}, Study)
  local attrs = store:studyAttrs(row.id)
  self.sampler = opts.sampler or (attrs.sampler and not opts.sampler and fromSpec('sampler', attrs.sampler)) or tune.sampler.tpe{seed = seed}
  self.pruner = opts.pruner or (attrs.pruner and fromSpec('pruner', attrs.pruner)) or nil
  if type(self.sampler) ~= 'table' or type(self.sampler.sampleIndependent) ~= 'function' then fail("'sampler' must have a sampleIndependent method", 2) end
  if self.pruner ~= nil and (type(self.pruner) ~= 'table' or type(self.pruner.prune) ~= 'function') then fail("'pruner' must have a prune method", 2) end
  if self.sampler._spec and (opts.sampler or not attrs.sampler) then store:setStudyAttr(row.id, 'sampler', self.sampler._spec) end
  if opts.pruner and opts.pruner._spec then store:setStudyAttr(row.id, 'pruner', self.pruner._spec) end
  self.failedOnOpen = store:failStale(row.id, tune.alive)
  return self
end

--- ([{states = {...}}]) -> trial records {number, state, params, distributions, values, intermediate, attrs, error}, by number.
function Study:trials(filter)
  local states
  if filter ~= nil then
    if type(filter) ~= 'table' then fail('trials: expected {states = {...}}', 2) end
    if filter.states then
      states = {}
      for _, s in ipairs(filter.states) do states[s] = true end
    end
  end
  return self.store:trials(self.id, states)
end

--- Trial counts by state: {complete, pruned, failed, running}.
function Study:summary()
  local out = {complete = 0, pruned = 0, failed = 0, running = 0}
  for _, r in ipairs(self.store.db:exec('SELECT state, COUNT(*) AS n FROM trials WHERE study = ? GROUP BY state', self.id)) do out[r.state] = r.n end
  return out
end

--- The best complete trial record (single objective).
function Study:best()
  if #self.directions > 1 then fail('best: the study has several objectives; use study:paretoFront()', 2) end
  local best
  local max = self.directions[1] == 'maximize'
  for _, t in ipairs(self:trials{states = {'complete'}}) do
    local v = t.values[1]
    if best == nil or (max and v > best.values[1]) or (not max and v < best.values[1]) then best = t end
  end
  return best
end

--- True when record a dominates b (no worse in every objective, better in one).
function M.dominates(directions, a, b)
  local strictly = false
  for i, d in ipairs(directions) do
    local x, y = a.values[i], b.values[i]
    if d == 'maximize' then x, y = -x, -y end
    if x > y then return false end
    if x < y then strictly = true end
  end
  return strictly
end

--- The complete trial records that no other complete trial dominates (several objectives).
function Study:paretoFront()
  local done = self:trials{states = {'complete'}}
  local front = {}
  for _, a in ipairs(done) do
    local dominated = false
    for _, b in ipairs(done) do
      if b ~= a and M.dominates(self.directions, b, a) then dominated = true; break end
    end
    if not dominated then front[#front + 1] = a end
  end
  return front
end

-- The objective's result as a list of finite numbers (one per direction), or nil and why not.
function M.values(directions, result)
  local list = type(result) == 'table' and result or {result}
  if #list ~= #directions then return nil, string.format('the objective returned %d value(s) for %d objective(s)', #list, #directions) end
  for i, v in ipairs(list) do
    if type(v) ~= 'number' or v ~= v then return nil, string.format('objective value %d is %s, not a number', i, tostring(v)) end
  end
  return list
end

local function warn(quiet, fmt, ...)
  if not quiet then io.stderr:write(string.format(fmt, ...), '\n') end
end

--- Runs one trial of objective in this process; returns its final record state.
function Study:runTrial(objective, opts, existing)
  local t
  if existing then
    t = trialMod.new(self, existing.id, existing.number)
  else
    local number, id = self.store:createTrial(self.id, tune.pid())
    t = trialMod.new(self, id, number)
  end
  local ok, result = xpcall(function()
    local params = opts.space and space.resolve(opts.space, function(n, d) return t:suggest(n, d) end) or t.params
    return objective(t, params)
  end, function(e) return e == trialMod.Pruned and e or debug.traceback(tostring(e), 2) end)
  local state, values, err
  if ok and t.pruned or result == trialMod.Pruned then
    state = 'pruned'
  elseif not ok then
    state, err = 'failed', tostring(result)
    warn(opts.quiet, 'tune: trial %d failed: %s', t.number, err)
  else
    values, err = M.values(self.directions, result)
    state = values and 'complete' or 'failed'
    if not values then warn(opts.quiet, 'tune: trial %d failed: %s', t.number, err) end
  end
  self.store:finish(t.id, state, values, err)
  return state
end

local function checkOptions(opts)
  if type(opts) ~= 'table' then fail('optimize: options must be a table', 3) end
  local allowed = {trials = true, maxTrials = true, timeout = true, space = true, workers = true, cores = true, threads = true,
                   trialTimeout = true, memoryMB = true, quiet = true}
  for k in pairs(opts) do if not allowed[k] then fail("optimize: unknown option '" .. tostring(k) .. "'", 3) end end
  for _, k in ipairs{'trials', 'maxTrials', 'workers', 'cores', 'threads', 'memoryMB'} do
    local v = opts[k]
    if v ~= nil and (math.tointeger(v) == nil or v < 1) then fail(string.format("optimize: '%s' must be a positive integer, got %s", k, tostring(v)), 3) end
  end
  for _, k in ipairs{'timeout', 'trialTimeout'} do
    local v = opts[k]
    if v ~= nil and (type(v) ~= 'number' or not (v > 0)) then fail(string.format("optimize: '%s' must be a positive number of seconds", k), 3) end
  end
  if opts.trials == nil and opts.maxTrials == nil and opts.timeout == nil then fail("optimize: give 'trials', 'maxTrials' or 'timeout'", 3) end
  if opts.space ~= nil then space.checkSpace(opts.space, 3) end
end

--- Finished (complete or pruned) trials of the study.
function Study:finished()
  local s = self:summary()
  return s.complete + s.pruned
end

--- Whether another trial may start: started (by this call) < trials, finished < maxTrials, before the deadline.
function Study:mayStart(opts, started, deadline)
  if opts.trials and started >= opts.trials then return false end
  if opts.maxTrials and self:finished() + (opts.running or 0) >= opts.maxTrials then return false end
  if deadline and llm.clock() >= deadline then return false end
  return true
end

--- (objective: function(trial, params) or a Lua file path, {trials, maxTrials, timeout, space, workers, cores, threads, trialTimeout, memoryMB, quiet}) -> study: runs trials.
function Study:optimize(objective, opts)
  opts = opts or {}
  checkOptions(opts)
  local deadline = opts.timeout and llm.clock() + opts.timeout
  if type(objective) == 'string' then return require('llm.tune.parallel').optimize(self, objective, opts, deadline) end
  if type(objective) ~= 'function' then fail('optimize: the objective must be a function or the path of a Lua file', 2) end
  if opts.workers and opts.workers > 1 then
    fail('optimize: parallel trials run in child processes: pass the objective as the path of a Lua file returning function(trial)', 2)
  end
  local started = 0
  while self:mayStart(opts, started, deadline) do
    self:runTrial(objective, opts)
    started = started + 1
  end
  return self
end

function Study:close() self.store:close() end

function Study:__tostring()
  local s = self:summary()
  return string.format("tune.Study('%s': %d complete, %d pruned, %d failed, %d running)", self.name, s.complete, s.pruned, s.failed, s.running)
end

return M
