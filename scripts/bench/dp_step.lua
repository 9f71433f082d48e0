-- dp_step.lua: data-parallel step time on a GPT, for BENCHMARKS.md (peer: ddp_step.py). Same global batch in both layouts:
--   1 process x 2 threads:  llmscript scripts/bench/dp_step.lua 2 single [config] [dataParallel options as key=value...]
--   2 ranks x 1 thread:     mpirun -np 2 ... llmscript scripts/bench/dp_step.lua 1 dp [config] [key=value...]
-- config: tinydp (default: 2 layers, dim 128, char vocabulary, 16 x 64) or char (the gpt-char recipe's model, 16 x 256).
-- Prints the median step time (ms) over the timed steps (after 3 warm-up steps) on rank 0.
local threads, mode = tonumber(arg[1] or '1'), arg[2]
llm.setThreads(threads)
local configs = {tinydp = {B = 16, T = 64, layers = 2, heads = 4, dim = 128},
                 char = {B = 16, T = 256, layers = 6, heads = 6, dim = 384}}
local cfg = assert(configs[arg[3] or 'tinydp'], 'unknown config ' .. tostring(arg[3]))
local dpOpts = {}
for i = 4, #arg do
  local k, v = arg[i]:match('^(%w+)=(.*)$')
  dpOpts[k] = tonumber(v) or (v == 'true' and true) or (v == 'false' and false) or v
end
local B, T, steps = cfg.B, cfg.T, tonumber(os.getenv('LLMS_DP_STEPS') or '') or 23
local text = string.rep('the quick brown fox jumps over the lazy dog; pack my box with five dozen liquor jugs. ', 200)
local tok = llm.data.CharTokenizer(text)
llm.manualSeed(1)
local model = nn.GPT{vocab = tok:vocabSize(), blockSize = T, layers = cfg.layers, heads = cfg.heads, dim = cfg.dim, dropout = 0}
local opt = optim.AdamW(model:parameters(), {lr = 1e-3})
local batches = llm.data.Batcher(tok:encode(text), {batchSize = B, blockSize = T, seed = 3})
local exts, rank = {}, 0
if mode == 'dp' then
  rank = dist.init()
  batches = dist.shardBatches(batches)
  exts = {dist.dataParallel(model, dpOpts)}
end
local times, last = {}, nil
llm.Trainer{model = model, optimizer = opt, train = batches, steps = steps, progress = false, logEvery = 1000,
            extensions = exts, onStep = function(_, info)
              local now = llm.clock()
              if last and info.step > 3 then times[#times + 1] = now - last end
              last = now
            end}:run()
table.sort(times)
if rank == 0 then
  print(string.format('%s %s: median step %.1f ms (global batch %dx%d, %d params)', arg[3] or 'tinydp', mode == 'dp' and '2 ranks x 1 thread' or
    (threads .. ' thread(s), 1 process'), times[#times // 2 + 1] * 1e3, B, T, #model:parameters()))
end
