-- dp_modes.lua: run by dist_dp_spec.lua under `mpirun -np 2`. Trains tiny_gpt with dist.dataParallel in
-- several modes, one after the other in the same job (each from a different seed per rank: the
-- broadcast from rank 0 must make them equal), on dist.shardBatches of the global batch, and writes
-- <out>/<mode>.rank<r>.safetensors: the losses, the final parameters ('param.<name>'), the reducer's
-- stats, and per micro-batch the number of collectives dataParallel had issued after that micro-batch's
-- forward and after its backward ('comm.<step>.<micro>' = {after forward, after backward}).
--   dp_modes.lua <out folder> <mode>...    modes: overlap, nooverlap, accum4, f16, bf16, topk, subcomm
local out = assert(arg[1], 'usage: dp_modes.lua <out folder> <mode>...')
local tiny = dofile(debug.getinfo(1, 'S').source:match('^@(.*/)') .. 'tiny_gpt.lua')
local rank = dist.init()

local modes = {
  overlap = {opts = {bucketSize = 300}},
  nooverlap = {opts = {bucketSize = 300, overlap = false}},
  accum4 = {opts = {bucketSize = 300}, gradAccum = 4},
  f16 = {opts = {bucketSize = 300, compress = 'f16'}},
  bf16 = {opts = {bucketSize = 300, compress = 'bf16'}},
  topk = {opts = {bucketSize = 300, compress = 'topk', topk = 0.1}},
  subcomm = {opts = {bucketSize = 300}, split = true},
}

-- Counts dataParallel's collectives after each micro-batch's forward and backward.
local function counter(dp, record)
  local ext = {name = 'commCounter'}
  local function count()
    local s = dp:stats()
    return s.collectives + s.lossAllReduces
  end
  function ext.afterForward(_, trainer, batch) record[string.format('comm.%d.%d', trainer.step + 1, batch.micro)] = {count()} end
  function ext.afterBackward(_, trainer, batch)
    local r = record[string.format('comm.%d.%d', trainer.step + 1, batch.micro)]
    r[2] = count()
  end
  return ext
end

for i = 2, #arg do
  local name = arg[i]
  local mode = assert(modes[name], 'unknown mode ' .. name)
  local opts = {}
  for k, v in pairs(mode.opts) do opts[k] = v end
  if mode.split then opts.comm = dist.split(0) end
  local accum = tiny.gradAccum
  tiny.gradAccum = mode.gradAccum or accum
  local model, opt, batches = tiny.build(7 + rank * 100)
  local dp = dist.dataParallel(model, opts)
  local comm = {}
  local losses = tiny.train(model, opt, dist.shardBatches(batches), {dp, counter(dp, comm)})
  tiny.gradAccum = accum
  local state = {}
  for pname, t in pairs(model:stateDict()) do state['param.' .. pname] = t end
  for k, v in pairs(comm) do state[k] = llm.tensor(v) end
  state.losses = llm.tensor(losses)
  local s = dp:stats()
  state.stats = llm.tensor({s.steps, s.collectives, s.startedInBackward, s.buckets, s.lossAllReduces})
  llm.save(string.format('%s/%s.rank%d.safetensors', out, name, rank), state)
end
print(string.format('rank %d done', rank))
