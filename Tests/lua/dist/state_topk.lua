-- state_topk.lua: run by dist_state_spec.lua under `mpirun -np N`. Trains zero_setup's model (AdamW groups,
-- clipping, gradient accumulation) with dist.dataParallel{compress = 'topk'} on dist.shardBatches of the
-- global batch, optionally writing checkpoints (every zero_setup.half steps) or resuming one, and writes
-- <out>/rank<r>.safetensors: parameters, losses, gradient norms, and this rank's top-k residuals at the
-- start of run() (after a resume restored them) and at the end.
--   state_topk.lua <out folder> <run folder | -> <checkpoint to resume | -> <steps> [reset | split]
-- reset: the extension ignores the checkpoint's residuals (what a resume did before they were saved);
-- split: data parallel over dist.split(0) (a sub-communicator of every rank) instead of the world.
local out = assert(arg[1], 'usage: state_topk.lua <out folder> <run folder | -> <resume from | -> <steps> [reset | split]')
local runDir = arg[2] ~= '-' and arg[2] or nil
local resume = arg[3] ~= '-' and arg[3] or nil
local steps = math.tointeger(tonumber(arg[4]))
local setup = dofile(debug.getinfo(1, 'S').source:match('^@(.*/)') .. 'zero_setup.lua')
local rank = dist.init()
local model, opt, batches = setup.build(7 + rank * 100)
local dp = dist.dataParallel(model, {compress = 'topk', topk = 0.05, bucketSize = 300, comm = arg[5] == 'split' and dist.split(0) or nil})
if arg[5] == 'reset' then dp.loadStateDict = function() end end
local extra = {}
local probe = {name = 'probe', onRunStart = function() extra.residualsAtStart = dp:residuals() or llm.zeros(1) end}
local losses, norms = setup.train(model, opt, dist.shardBatches(batches), {extensions = {dp, probe}, runDir = runDir, resume = resume, steps = steps})
extra.residualsAtEnd = dp:residuals() or llm.zeros(1)
llm.save(string.format('%s/rank%d.safetensors', out, rank), setup.result(model, losses, norms, extra))
print(string.format('rank %d done', rank))
