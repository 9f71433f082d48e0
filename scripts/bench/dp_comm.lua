-- dp_comm.lua: data-parallel communication, for BENCHMARKS.md ("Data parallel: overlap and compression").
-- Trains nn.GPT on the fortunes character corpus with dist.dataParallel on 2 ranks, once per mode (each
-- from the same seed and data), and prints per mode on rank 0: median step time, the gradient reduction's
-- time per step blocked in finish() (waits; blocking compressed collectives) and in the gradient hooks,
-- the time from the first bucket started during backward to finish() (the compute an all-reduce could
-- hide behind if MPI progressed on its own), the buckets started during backward, the train loss (mean of the last 10 steps) and the validation loss.
--   mpirun -np 2 ... llmscript scripts/bench/dp_comm.lua <config> <steps> [bucket=<floats>] <mode>...
-- config: char (the gpt-char recipe's model: 4 layers, dim 128, 16 x 64 per micro-batch) or wide
-- (4 layers, dim 512, 4 x 32: little compute per gradient float, so communication weighs); modes:
-- overlap, nooverlap (dense float32), f16, bf16, topk (1%), topk10 (10%). Share of the all-reduce
-- hidden behind backward = 1 - wait(overlap) / wait(nooverlap).
local configs = {char = {B = 16, T = 64, layers = 4, heads = 4, dim = 128, bucketSize = 1048576},
                 wide = {B = 4, T = 32, layers = 4, heads = 8, dim = 512, bucketSize = 1048576}}
local cfg = assert(configs[arg[1] or 'char'], 'unknown config ' .. tostring(arg[1]))
local steps = tonumber(arg[2] or '200')
local modes = {overlap = {}, nooverlap = {overlap = false}, f16 = {compress = 'f16'}, bf16 = {compress = 'bf16'},
               topk = {compress = 'topk', topk = 0.01}, topk10 = {compress = 'topk', topk = 0.1}}
local rank = dist.init()
llm.setThreads(1)

local text = require('llm.corpus').text('fortunes')
local tok = llm.data.CharTokenizer(text)
local trainIds, valIds = llm.data.split(tok:encode(text), 0.1)
local val = llm.data.evalWindows(valIds, 16, cfg.T)

local function median(xs)
  table.sort(xs)
  return xs[#xs // 2 + 1] or 0
end

if rank == 0 then
  print(string.format('config %s: %d layers, dim %d, global batch %d x %d on %d ranks, %d steps', arg[1] or 'char',
    cfg.layers, cfg.dim, cfg.B, cfg.T, dist.size(), steps))
end
for i = 3, #arg do
  local name = arg[i]
  local bucket = name:match('^bucket=(%d+)$')
  if bucket then cfg.bucketSize = math.tointeger(tonumber(bucket)); goto continue end
  local opts = assert(modes[name], 'unknown mode ' .. name)
  opts.bucketSize = cfg.bucketSize
  llm.manualSeed(1)
  local model = nn.GPT{vocab = tok:vocabSize(), blockSize = cfg.T, layers = cfg.layers, heads = cfg.heads, dim = cfg.dim, dropout = 0}
  local opt = optim.AdamW(model:parameters(), {lr = 1e-3, weightDecay = 0.1})
  local batches = dist.shardBatches(llm.data.Batcher(trainIds, {batchSize = cfg.B, blockSize = cfg.T, seed = 3}))
  local dp = dist.dataParallel(model, opts)
  local times, losses, last, base = {}, {}, nil, nil
  local result = llm.Trainer{model = model, optimizer = opt, train = batches, steps = steps, progress = false, logEvery = 1000000,
    val = val, evalBatches = 20, clip = 1.0, extensions = {dp},
    onStep = function(_, info)
      local now = llm.clock()
      if info.step == 3 then base = dp:stats() end
      if last and info.step > 3 then times[#times + 1] = now - last end
      last = now
      losses[#losses + 1] = info.loss
    end}:run()
  local s, timed = dp:stats(), steps - 3
  local tail, first = 0, math.max(1, #losses - 9)
  for k = first, #losses do tail = tail + losses[k] / (#losses - first + 1) end
  if rank == 0 then
    local function perStep(k) return (s[k] - base[k]) / timed * 1e3 end
    print(string.format('%-9s step %7.1f ms | wait %6.2f ms/step | hooks %5.2f ms/step | window %6.2f ms/step | '
      .. 'in backward %d/%d buckets | train loss %.4f | val loss %.4f', name, median(times) * 1e3, perStep('waitSeconds'),
      perStep('hookSeconds'), perStep('overlapWindowSeconds'), s.startedInBackward // math.max(s.steps, 1), s.buckets, tail, result.valLoss))
  end
  ::continue::
end
