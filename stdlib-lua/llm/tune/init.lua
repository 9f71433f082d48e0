-- llm.tune: the Lua part of the `tune` namespace (hyper-parameter tuning); the native part (tune.sqlite,
-- tune.spawn, ...) is Sources/LLMLua/Bindings/tune. Installed into the global `tune` by llm/init.lua.
--   spaces:    tune.uniform, tune.logUniform, tune.quniform, tune.int, tune.choice   (llm/tune/space.lua)
--   studies:   tune.study{...}, study:optimize / trials / best / paretoFront        (llm/tune/study.lua)
--   trials:    trial:suggest*, trial:report, trial:shouldPrune, trial:prune          (llm/tune/trial.lua)
--   samplers:  tune.sampler.grid / random / tpe / gp                                 (llm/tune/samplers)
--   pruners:   tune.pruner.median / asha / hyperband / none                          (llm/tune/pruners.lua)
--   tune.TrialPruned: raise it to end a pruned trial; tune.reporter(trial, {metric = 'valLoss'}): a Trainer
--   extension that reports the metric at every evaluation and stops the run once the trial is pruned (the
--   study then records it 'pruned'); tune.show(path, opts): what `llmscript tune show` prints and plots.
local space = require 'llm.tune.space'
local trial = require 'llm.tune.trial'

return function(ns)
  ns.uniform, ns.logUniform, ns.quniform, ns.int, ns.choice = space.uniform, space.logUniform, space.quniform, space.int, space.choice
  ns.study = require('llm.tune.study').new
  ns.TrialPruned = trial.Pruned
  ns.pruner = require 'llm.tune.pruners'

  -- samplers: each constructor records {name, options} on the sampler (_spec), so worker processes can rebuild it
  ns.sampler = {}
  for name, ctor in pairs(require 'llm.tune.samplers') do
    --- (opts) -> sampler: see stdlib-lua/llm/tune/samplers/<name>.lua; records {name, options} for worker processes.
    ns.sampler[name] = function(opts)
      local s = ctor(opts)
      if type(s) == 'table' and rawget(s, '_spec') == nil then
        local ok, json = pcall(llm.json.encode, opts or {})
        if ok then rawset(s, '_spec', {name = name, options = llm.json.decode(json)}) end
      end
      return s
    end
  end

  --- (trial, [{metric = 'valLoss'}]) -> a Trainer extension reporting the metric at each evaluation, stopping the run once pruned.
  function ns.reporter(t, opts)
    opts = opts or {}
    if type(t) ~= 'table' or type(t.report) ~= 'function' then error('tune.reporter: expected a trial, got ' .. type(t), 2) end
    local metric = opts.metric or 'valLoss'
    return {
      name = 'tuneReporter',
      onEval = function(_, _, info)
        local v = info[metric]
        if type(v) ~= 'number' then error("tune.reporter: the evaluation has no number '" .. tostring(metric) .. "'", 0) end
        t:report(info.step, v)
        t:shouldPrune()
      end,
      afterStep = function() if t.pruned then return false end end,
    }
  end

  ns.show = function(...) return require('llm.tune.show').show(...) end
  return ns
end
