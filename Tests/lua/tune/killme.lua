-- Tests/lua/tune/killme.lua STORAGE: a study that runs its trials in this process; trials 0-2 finish at once,
-- trial 3 waits forever (the spec kills this process with SIGKILL while trial 3 is 'running', then resumes).
local study = tune.study{name = 'resume', storage = arg[1], sampler = tune.sampler.random{seed = 7}}
study:optimize(function(trial)
  local x = trial:suggestFloat('x', 0, 1)
  trial:report(1, x)
  if trial.number == 3 then while true do tune.sleep(0.05) end end
  return x
end, {trials = 10})
