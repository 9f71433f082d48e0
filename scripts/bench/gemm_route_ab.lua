-- scripts/bench/gemm_route_ab.lua: the Linear GEMMs of one GPT training step through the engine's matmul,
-- each product timed with OpenBLAS only (llm.setGEMM('openblas')) and with the automatic rule
-- (llm.setGEMM('auto'): oneDNN where GEMMRoute sends it), alternating call by call in one process so both
-- see the same host state; medians over --reps calls. Per Linear (in K, out N) with M = batch·seq rows:
-- forward x·Wᵀ (NT), dx = g·W (NN), dW = gᵀ·x (TN). Prints one line per product and the step's sums.
-- Usage: llmscript scripts/bench/gemm_route_ab.lua [--config=tiny|char|gpt2] [--reps=30] [--threads=2]
local cfgs = {
  tiny = {vocab = 512, dim = 128, layers = 4, rows = 32 * 128},
  char = {vocab = 65, dim = 384, layers = 6, rows = 16 * 256},
  gpt2 = {vocab = 50257, dim = 768, layers = 12, rows = 256},
}
local opts = {config = 'tiny', reps = 30, threads = 2}
local bench = dofile(debug.getinfo(1, 'S').source:match('^@(.*/)') .. 'benchlib.lua')
bench.options(opts, arg)
local c = assert(cfgs[opts.config], 'unknown config ' .. tostring(opts.config))
llm.setThreads(opts.threads)
print(llm.system().gemm)
local M, C = c.rows, c.dim
local total = {openblas = 0, auto = 0}
for _, s in ipairs{{C, 3 * C, c.layers}, {C, C, c.layers}, {C, 4 * C, c.layers}, {4 * C, C, c.layers}, {C, c.vocab, 1}} do
  local k, n, times = s[1], s[2], s[3]
  local x, w, g = llm.randn(M, k), llm.randn(n, k), llm.randn(M, n)
  for _, p in ipairs{{x, w:transpose(), 'NT', M, n, k}, {g, w, 'NN', M, k, n}, {g:transpose(), x, 'TN', n, k, M}} do
    local t = {openblas = {}, auto = {}}
    for _ = 1, opts.reps do
      for _, policy in ipairs{'openblas', 'auto'} do
        llm.setGEMM(policy)
        local t0 = llm.clock()
        local y = p[1]:matmul(p[2])
        table.insert(t[policy], llm.clock() - t0)
        y:free()
      end
    end
    local a, b = bench.median(t.openblas) * 1e3, bench.median(t.auto) * 1e3
    total.openblas, total.auto = total.openblas + a * times, total.auto + b * times
    print(string.format('%s %5d x %5d x %5d (x%d): openblas %.2f ms, auto %.2f ms (%+.0f%%)', p[3], p[4], p[5], p[6], times, a, b, (a / b - 1) * 100))
  end
  x:free(); w:free(); g:free()
end
llm.setGEMM('auto')
print(string.format('step sum: openblas %.1f ms, auto %.1f ms (%.3fx)', total.openblas, total.auto, total.openblas / total.auto))
