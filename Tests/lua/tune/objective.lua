-- Tests/lua/tune/objective.lua: the objective file of tune_study_spec's parallel trials (one child process per
-- trial): a quadratic in x; trial 1 crashes its process (exit status 3) and trial 2 hangs (killed by the
-- trial timeout) when TUNE_SPEC_FAULTS is set, so that the spec sees those end only their own trial.
return function(trial)
  local x = trial:suggestFloat('x', -2, 2)
  if os.getenv('TUNE_SPEC_FAULTS') then
    if trial.number == 1 then os.exit(3) end
    if trial.number == 2 then while true do end end
  end
  trial:setAttr('pid', tune.pid())
  trial:setAttr('threads', llm.getThreads())
  tune.sleep(0.2)   -- long enough for the trials of the batch to overlap
  return (x - 0.5) ^ 2
end
