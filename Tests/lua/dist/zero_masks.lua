-- zero_masks.lua: run by dist_state_spec.lua under `mpirun -np 2` (mode zero) or as one plain process (mode
-- single: the reference, no MPI). Trains zero_setup's model (AdamW groups, clipping, gradient accumulation)
-- with a compress.pruner (magnitude, gradual schedule: masks grow at steps 1..4, so weights that had Adam
-- moments get pruned) and, in mode zero, dist.dataParallel{zero = 1} on dist.shardBatches; checkpoints
-- every zero_setup.half steps into <run folder>. A probe extension registered BEFORE the pruner (whose
-- afterOptimizerStep re-zeroes pruned weights) records the largest |weight| at masked positions right after
-- each optimizer step (what the optimizer itself left). Writes <out>/rank<r>.safetensors: parameters,
-- losses, gradient norms, masks ('mask.<path>') and maskedAfterStep (per step).
-- Schedule 'lottery' instead: a lottery ticket (rewind point after step 1, prunings to 40% and 64% at steps
-- 3 and 5, each followed by a rewind of the kept weights and the optimizer state: ZeRO-1's shard state too).
-- With a checkpoint folder as 5th argument the run resumes from it (Trainer:resume).
--   zero_masks.lua <out folder> <run folder> zero | single [gmp | lottery] [checkpoint]
local out, runDir, mode, schedule, resume = assert(arg[1]), assert(arg[2]), assert(arg[3]), arg[4] or 'gmp', arg[5]
local setup = dofile(debug.getinfo(1, 'S').source:match('^@(.*/)') .. 'zero_setup.lua')
local rank, batches = 0, nil
if mode == 'zero' then rank = dist.init() end
local model, opt
model, opt, batches = setup.build(7 + rank * 100)
local exts = {}
if mode == 'zero' then
  exts[1] = dist.dataParallel(model, {zero = 1})
  batches = dist.shardBatches(batches)
end
local worst = {}
exts[#exts + 1] = {name = 'probe', afterOptimizerStep = function(_, _, info)
  local m = 0
  for path, mask in pairs(compress.masks(model)) do
    local w = model:namedParameters()[path]
    m = math.max(m, (w * (mask:eq(0):to('float32'))):abs():max():item())
  end
  worst[info.step] = m
end}
local schedules = {gmp = function() return compress.schedule.gmp{final = 0.6, start = 0, stop = 4} end,
  lottery = function() return compress.schedule.lotteryTicket{rewindTo = 1, start = 1, every = 2, rounds = 2, amount = 0.64} end}
exts[#exts + 1] = compress.pruner{model = model, schedule = assert(schedules[schedule], 'schedule: gmp or lottery')()}
local losses, norms = setup.train(model, opt, batches, {extensions = exts, runDir = runDir, resume = resume})
local extra = {}
for path, mask in pairs(compress.masks(model)) do extra['mask.' .. path] = mask end
local w = {}
for i = 1, setup.steps do w[i] = worst[i] or -1 end
extra.maskedAfterStep = llm.tensor(w)
llm.save(string.format('%s/rank%d.safetensors', out, rank), setup.result(model, losses, norms, extra))
print(string.format('rank %d done, sparsity %.3f', rank, compress.sparsity(model).total.sparsity))
