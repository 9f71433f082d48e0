-- scripts/bench/gpt_step.lua: times full GPT training steps (forward + loss, backward, AdamW) of nn.GPT
-- on a random int64 batch, a 1024³ sgemm probe, and optionally KV-cache generation; prints one JSON line.
-- Mirror of scripts/bench/gpt_step.py (same shapes, init, optimizer). Driven by train_bench.sh.
-- Usage: llmscript scripts/bench/gpt_step.lua --config=tiny|char|gpt2|gen --steps=N --warmup=W [--threads=2] [--floor=0]
--          [--gemm=auto|openblas|onednn|ab]   (ab: training steps alternate OpenBLAS-only and the automatic
--          GEMM rule in one process, reported as msPerStepOpenBLAS / msPerStepAuto: an A/B in the same host state)
-- With PERF_CTL=<fifo> (perf record --control), perf samples only the timed steps (train_bench.sh's Lua share).
local cfgs = {
  tiny = {vocab = 512, blockSize = 128, layers = 4, heads = 4, dim = 128, batch = 32, seq = 128},
  char = {vocab = 65, blockSize = 256, layers = 6, heads = 6, dim = 384, batch = 16, seq = 256},
  gpt2 = {vocab = 50257, blockSize = 1024, layers = 12, heads = 12, dim = 768, batch = 1, seq = 256},
  -- generation: the char model with room for a 64-token prompt + 256 new tokens
  gen = {vocab = 65, blockSize = 320, layers = 6, heads = 6, dim = 384, batch = 1, seq = 64},
}

local opts = {config = 'tiny', steps = 10, warmup = 2, threads = 2, floor = 1, gemm = 'auto'}
local bench = dofile(debug.getinfo(1, 'S').source:match('^@(.*/)') .. 'benchlib.lua')
bench.options(opts, arg)
local c = assert(cfgs[opts.config], 'unknown config ' .. tostring(opts.config))
llm.setThreads(opts.threads)
if opts.gemm ~= 'ab' then llm.setGEMM(opts.gemm) end
llm.manualSeed(1337)

local median = bench.median

local function peakRSSKiB()
  local f = io.open('/proc/self/status', 'r')
  if not f then return -1 end
  local kb = -1
  for line in f:lines() do
    local v = line:match('^VmHWM:%s*(%d+)')
    if v then kb = tonumber(v) end
  end
  f:close()
  return kb
end

-- sgemm probe: 1024×1024×1024, best of 5 (the machine's reachable matmul throughput right now)
local function sgemmProbe()
  local a, b = llm.randn(1024, 1024), llm.randn(1024, 1024)
  a:matmul(b)
  local best = math.huge
  for _ = 1, 5 do
    local t0 = llm.clock()
    a:matmul(b)
    best = math.min(best, llm.clock() - t0)
  end
  return 2 * 1024 ^ 3 / best / 1e9
end

-- matmul FLOPs of one training step (forward ×3 for forward+backward), full T×T attention scores
local function stepFlops()
  local B, T, C, L, V = c.batch, c.seq, c.dim, c.layers, c.vocab
  local perLayer = 2 * B * T * C * (3 * C + C + 4 * C + 4 * C) + 2 * 2 * B * T * T * C
  return 3 * (L * perLayer + 2 * B * T * C * V)
end

-- The projection-GEMM floor of one step: the isolated time of the matmuls of every Linear and the tied head
-- (forward x·Wᵀ, backward g·W and gᵀ·x) at the step's shapes, each the best of 3 — what any engine calling
-- this BLAS for those GEMMs spends at least, before attention, norms, activations, the loss and the optimizer.
local function projectionFloorMs()
  local M, C = c.batch * c.seq, c.dim
  local shapes = {{C, 3 * C, c.layers}, {C, C, c.layers}, {C, 4 * C, c.layers}, {4 * C, C, c.layers}, {C, c.vocab, 1}}
  local total = 0
  for _, s in ipairs(shapes) do
    local k, n, times = s[1], s[2], s[3]
    local x, w, g = llm.randn(M, k), llm.randn(n, k), llm.randn(M, n)
    for _, pair in ipairs{{x, w:transpose()}, {g, w}, {g:transpose(), x}} do
      pair[1]:matmul(pair[2])
      local best = math.huge
      for _ = 1, 3 do
        local t0 = llm.clock()
        pair[1]:matmul(pair[2])
        best = math.min(best, llm.clock() - t0)
      end
      total = total + best * times
    end
    x:free(); w:free(); g:free()
  end
  return total * 1000
end

local model = nn.GPT{vocab = c.vocab, blockSize = c.blockSize, layers = c.layers, heads = c.heads, dim = c.dim}
local result = {impl = 'llmscript', config = opts.config, threads = llm.getThreads(), params = model:numParameters()}
local sys = llm.system()   -- what ran: recorded in every result (CPU model, SIMD level, kernels, BLAS core)
result.cpu, result.simd, result.kernels, result.blasCore = sys.cpu, sys.simd, sys.kernels, sys.blasCore
result.gemm = opts.gemm == 'ab' and 'ab' or sys.gemm

if opts.config == 'gen' then
  local prompt = llm.randint(0, c.vocab, {1, 64})
  model:generate(prompt, {maxTokens = 8, temperature = 0})   -- warm up
  local times = {}
  for _ = 1, math.max(1, opts.steps) do
    local t0 = llm.clock()
    local out = model:generate(prompt, {maxTokens = 256, temperature = 0})
    times[#times + 1] = llm.clock() - t0
    assert(out:size(2) == 64 + 256)
  end
  result.genSeconds = median(times)
  result.genTokensPerSec = 256 / result.genSeconds
  result.peakRSSMiB = peakRSSKiB() / 1024
  print(llm.json.encode(result))
  return
end

local groups = optim.paramGroups(model, {{match = function(_, p) return p:dim() < 2 end, weightDecay = 0}})
local opt = optim.AdamW(groups, {lr = 3e-4, betas = {0.9, 0.99}, weightDecay = 0.1})
local x = llm.randint(0, c.vocab, {c.batch, c.seq})
local y = llm.randint(0, c.vocab, {c.batch, c.seq})

-- perf control: sample only the timed steps (not model construction, init, warm-up or the probes)
local perfCtl = os.getenv('PERF_CTL') and assert(io.open(os.getenv('PERF_CTL'), 'w'))
local function perf(cmd) if perfCtl then perfCtl:write(cmd, '\n'); perfCtl:flush() end end

local fwd, bwd, upd, total = {}, {}, {}, {}
local byPolicy = {openblas = {}, auto = {}}
for i = 1, opts.warmup + opts.steps do
  if i == opts.warmup + 1 then perf('enable') end
  local policy = i % 2 == 0 and 'openblas' or 'auto'
  if opts.gemm == 'ab' then llm.setGEMM(policy) end
  local t0 = llm.clock()
  opt:zeroGrad()
  local _, loss = model(x, y)
  local t1 = llm.clock()
  loss:backward()
  local t2 = llm.clock()
  opt:step()
  local t3 = llm.clock()
  if i > opts.warmup then
    fwd[#fwd + 1], bwd[#bwd + 1], upd[#upd + 1], total[#total + 1] = t1 - t0, t2 - t1, t3 - t2, t3 - t0
    table.insert(byPolicy[policy], t3 - t0)
  end
  result.loss = loss:item()
end

perf('disable')

local ms = median(total) * 1000
result.msPerStep = ms
result.forwardMs, result.backwardMs, result.optimizerMs = median(fwd) * 1000, median(bwd) * 1000, median(upd) * 1000
result.tokensPerSec = c.batch * c.seq / (ms / 1000)
result.gflops = stepFlops() / (ms / 1000) / 1e9
result.peakRSSMiB = peakRSSKiB() / 1024   -- before the probe's buffers
result.sgemmGflops = sgemmProbe()
if opts.floor ~= 0 then result.projectionFloorMs = projectionFloorMs() end
result.stepTimes = total
if opts.gemm == 'ab' then
  result.msPerStepOpenBLAS, result.msPerStepAuto = median(byPolicy.openblas) * 1000, median(byPolicy.auto) * 1000
end
print(llm.json.encode(result))
