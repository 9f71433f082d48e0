-- zero_train.lua: run by dist_zero_spec.lua under `mpirun -np 2` (or alone: one rank). Trains zero_setup's
-- model with dist.dataParallel{zero = 1} on dist.shardBatches of the global batch (each rank a different
-- initial seed: the broadcast from rank 0 must make them equal) and writes <out>/rank<r>.safetensors:
-- parameters, losses, gradient norms and the memory report. With 'split', ZeRO shards over
-- dist.split(0) (a sub-communicator of every rank) instead of the world: the same numbers are expected
-- (the wrapped dist.dataParallel is kept on the world, so only ZeRO's own collectives use the
-- sub-communicator). With 'plain', it is
-- dist.dataParallel without ZeRO (gradients all-reduced), for the resume checks of plain data parallelism.
--   zero_train.lua <out folder> [run folder | -] [checkpoint to resume | -] [split | plain]
local out = assert(arg[1], 'usage: zero_train.lua <out folder> [run folder | -] [resume from | -]')
local runDir = arg[2] ~= '-' and arg[2] or nil
local resume = arg[3] ~= '-' and arg[3] or nil
local setup = dofile(debug.getinfo(1, 'S').source:match('^@(.*/)') .. 'zero_setup.lua')
local rank = dist.init()
local model, opt, batches = setup.build(7 + rank * 100)
local ext
if arg[4] == 'split' then
  local plainOnWorld = {dataParallel = function(m, o) return dist.dataParallel(m, {bucketSize = o.bucketSize}) end}
  ext = require('llm.dist.zero').wrap(plainOnWorld)(model, {zero = 1, comm = dist.split(0)})
elseif arg[4] == 'plain' then
  ext = dist.dataParallel(model)
else
  ext = dist.dataParallel(model, {zero = 1})
end
local losses, norms = setup.train(model, opt, dist.shardBatches(batches), {extensions = {ext}, runDir = runDir, resume = resume})
local m = ext.memory and ext:memory() or {stateFloats = 0, unshardedStateFloats = 0, size = dist.size()}
llm.save(string.format('%s/rank%d.safetensors', out, rank), setup.result(model, losses, norms, {
  memory = llm.tensor({m.stateFloats, m.unshardedStateFloats, m.size}),
  reduceScatterCalls = llm.tensor({ext.reduceScatterCalls or 0}),
  allReduceCalls = llm.tensor({ext.allReduceCalls or 0}),  -- dataParallel's gradient all-reduces
}))
print(string.format('rank %d done: optimizer state %d of %d floats', rank, m.stateFloats, m.unshardedStateFloats))
