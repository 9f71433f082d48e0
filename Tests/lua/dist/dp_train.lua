-- dp_train.lua: run under `mpirun -np 2` by dist_spec.lua. Trains tiny_gpt with dist.dataParallel (each
-- rank a different initial seed: the broadcast from rank 0 must make them equal) on dist.shardBatches of
-- the global batch (checkpoints and metrics in the run folder when given: rank 0 alone writes them), then writes its losses and final parameters to <out>/rank<r>.safetensors.
local out = assert(arg[1], 'usage: dp_train.lua <out folder> [bucketSize] [run folder]')
local tiny = dofile(debug.getinfo(1, 'S').source:match('^@(.*/)') .. 'tiny_gpt.lua')
local rank = dist.init()
local model, opt, batches = tiny.build(7 + rank * 100)
local dp = dist.dataParallel(model, {bucketSize = tonumber(arg[2] or '300')})
local losses = tiny.train(model, opt, dist.shardBatches(batches), {dp}, arg[3])
local state = {}
for name, t in pairs(model:stateDict()) do state['param.' .. name] = t end
state.losses = llm.tensor(losses)
state.allReduceCalls = llm.tensor({dp.allReduceCalls})
llm.save(string.format('%s/rank%d.safetensors', out, rank), state)
print(string.format('rank %d done: %d gradient all-reduces', rank, dp.allReduceCalls))
