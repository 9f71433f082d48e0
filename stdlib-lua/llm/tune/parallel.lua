-- llm.tune.parallel: parallel trials, one child process per trial (study:optimize(path, {workers = n})).
-- The parent allocates each trial in the study file, then starts `llmscript --threads=T llm/tune/worker.lua
-- STORAGE STUDY NUMBER OBJECTIVE` (worker.lua opens the study, rebuilds its sampler and pruner from the specs
-- stored in it, runs that one trial of the objective file and records the result). At most `workers` children
-- run at once; each gets T = threads or floor(cores / workers) BLAS threads (cores: the core budget, default
-- tune.cores()), so workers x T <= cores. A child that crashes, exceeds memoryMB (address space) or runs past
-- trialTimeout seconds (a hang: killed) ends its own trial only: the parent records that trial 'failed' with
-- the reason and the tail of its log (<storage>.logs/trial-N.log) and the study goes on.
local M = {}

local function fail(msg) error('tune.study: optimize: ' .. msg, 4) end

local function lastLine(path)
  local f = io.open(path, 'r')
  if not f then return '' end
  local last = ''
  for line in f:lines() do if line:match('%S') then last = line end end
  f:close()
  return last
end

local function reason(exit, opts, log)
  local tail = lastLine(log)
  local why
  if exit.timedOut then
    why = string.format('timed out after %g s (killed)', opts.trialTimeout)
  elseif exit.signal then
    why = 'its process was killed by signal ' .. exit.signal
  elseif opts.memoryMB and tail:find('not enough memory', 1, true) then
    why = string.format('exceeded its memory limit (%d MB)', opts.memoryMB)
  else
    why = 'its process exited with status ' .. tostring(exit.code)
  end
  return why .. (tail ~= '' and (': ' .. tail) or '') .. ' (log: ' .. log .. ')'
end

function M.optimize(study, path, opts, deadline)
  if not study.storage then fail('trials in child processes need a study file: give tune.study{storage = ...}') end
  if not study.sampler._spec then fail('trials in child processes need a sampler made by tune.sampler.* (its options are stored for the workers)') end
  if study.pruner and not study.pruner._spec then fail('trials in child processes need a pruner made by tune.pruner.*') end
  local f = io.open(path, 'r')
  if not f then fail("cannot read the objective file '" .. path .. "'") end
  f:close()
  local workers = opts.workers or 1
  local cores = opts.cores or tune.cores()
  if workers > cores then fail(string.format('%d workers exceed the core budget of %d cores', workers, cores)) end
  local threads = opts.threads or math.max(1, cores // workers)
  if workers * threads > cores then
    fail(string.format('%d workers x %d threads exceed the core budget of %d cores', workers, threads, cores))
  end
  local worker = assert(package.searchpath('llm.tune.worker', package.path), 'tune: llm/tune/worker.lua not found')
  local logs = study.storage .. '.logs'
  llm.makeDirs(logs)
  local exe = tune.executable()
  local running, started = {}, 0
  local function launch()
    local number, id = study.store:createTrial(study.id, tune.pid())
    local log = string.format('%s/trial-%d.log', logs, number)
    local p = tune.spawn({exe, '--threads=' .. threads, worker, study.storage, study.name, tostring(number), path},
      {log = log, timeout = opts.trialTimeout, memoryMB = opts.memoryMB, env = {OPENBLAS_NUM_THREADS = tostring(threads)}})
    study.store:setPid(id, p:pid())
    running[#running + 1] = {p = p, id = id, number = number, log = log}
    started = started + 1
  end
  while true do
    while #running < workers do
      opts.running = #running
      local ok = study:mayStart(opts, started, deadline)
      opts.running = nil
      if not ok then break end
      launch()
    end
    if #running == 0 then break end
    tune.sleep(0.05)
    for i = #running, 1, -1 do
      local r = running[i]
      local exit = r.p:poll()
      if exit then
        table.remove(running, i)
        if study.store:finish(r.id, 'failed', nil, 'trial ' .. r.number .. ': ' .. reason(exit, opts, r.log)) and not opts.quiet then
          io.stderr:write(string.format('tune: trial %d failed: %s\n', r.number, reason(exit, opts, r.log)))
        end
      end
    end
  end
  return study
end

return M
