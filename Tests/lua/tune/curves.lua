-- Tests/lua/tune/curves.lua: an objective file with a declarative space and pruning, for tune_study_spec's
-- parallel study: the worker processes rebuild the study's sampler and pruner from the specs stored in it.
return {
  space = {x = tune.uniform(-2, 2), k = tune.choice{'a', 'b'}},
  objective = function(trial, p)
    local v
    for s = 1, 9 do
      v = (p.x - 0.5) ^ 2 + (p.k == 'a' and 0 or 1) + 1 / s
      trial:report(s, v)
      if trial:shouldPrune() then trial:prune() end
    end
    return v
  end,
}
