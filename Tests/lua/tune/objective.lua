-- Tests/lua/tune/objective.lua: the objective file of tune_study_spec's parallel trials (one child process per
-- trial): a quadratic in x; trial 1 crashes its process (exit status 3) and trial 2 hangs (killed by the
-- trial timeout) when TUNE_SPEC_FAULTS is set; trial 0 allocates without bound when TUNE_SPEC_MEMORY is set
-- (stopped by the memory limit): the spec checks that each ends only its own trial.
return function(trial)
  local x = trial:suggestFloat('x', -2, 2)
  if os.getenv('TUNE_SPEC_FAULTS') then
    if trial.number == 1 then os.exit(3) end
    if trial.number == 2 then while true do end end
  end
  if os.getenv('TUNE_SPEC_MEMORY') and trial.number == 0 then
    local t = {}
    for i = 1, 1e9 do t[i] = i end
  end
  trial:setAttr('pid', tune.pid())
  trial:setAttr('threads', llm.getThreads())
  tune.sleep(0.2)   -- long enough for the trials of the batch to overlap
  return (x - 0.5) ^ 2
end
