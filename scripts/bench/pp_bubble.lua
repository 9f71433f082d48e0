-- pp_bubble.lua: the pipeline bubble as measured, against (p-1)/(m+p-1). Under mpirun (one stage per rank):
--   OPENBLAS_NUM_THREADS=1 mpirun -np 2 --bind-to none llmscript scripts/bench/pp_bubble.lua <microBatches> [gpipe|1f1b]
-- A 4-block GPT (dim 128, T 64, char vocabulary), one batch of 32 rows per step, 6 steps (the first is not
-- timed). Stage 0 prints the share of its schedule time spent waiting for activations and gradients (the
-- bubble plus communication) and the most micro-batches whose activations it held at once.
local m, schedule = math.tointeger(tonumber(arg[1] or '4')), arg[2] or '1f1b'
local rank, size = dist.init()
llm.manualSeed(1)
local text = string.rep('the quick brown fox jumps over the lazy dog; pack my box with five dozen liquor jugs. ', 200)
local tok = llm.data.CharTokenizer(text)
local model = nn.GPT{vocab = tok:vocabSize(), blockSize = 64, layers = 4, heads = 4, dim = 128, dropout = 0}
local pp = dist.pipelineParallel(model, {microBatches = m, schedule = schedule})
local source = llm.data.Batcher(tok:encode(text), {batchSize = 32, blockSize = 64, seed = 3})
for step = 1, 6 do
  local x, y = source:next()
  if step == 2 then pp.waitSeconds, pp.scheduleSeconds = 0, 0 end
  pp:forwardBackward(nil, {{x = x, y = y, micro = 1, last = true}})
  model:zeroGrad()
end
if rank == 0 then
  print(string.format('p=%d m=%d %s: stage 0 waited %.2f of its schedule time (theory (p-1)/(m+p-1) = %.2f); peak live micro-batches %d',
    size, m, schedule, pp.waitSeconds / pp.scheduleSeconds, (size - 1) / (m + size - 1), pp.peakLive))
end
