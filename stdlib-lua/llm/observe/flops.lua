-- llm.observe.flops: training FLOPs counted from a model's modules, a measured matmul peak, and MFU.
--   flops.perToken(model, T) -> total, {matmul =, attention =}
--       counted module by module: every nn.Linear (in x out weight) costs 2·in·out FLOPs per token
--       forward; every attention (nn.CausalSelfAttention) 2·2·T'·heads·headDim (scores QKᵀ and the weighted
--       sum of V, T' = min(T, window)), with the full causal square counted as PaLM and nanoGPT do. Training
--       = forward + backward = 3x forward. For a GPT this is exactly 6·N + 12·L·T·d per token, N the
--       Linear weights (the LM head included, embeddings' lookups free). Norms, activations, softmax and
--       the loss are left out (well under 1% at realistic sizes).
--   flops.peak([{n = 512, reps = 5}]) -> FLOP/s of a float32 n x n matmul (best of reps), measured once per
--       Lua state and cached (the number of BLAS threads at the time is part of the cache key).
--   flops.mfu(flopsPerStep, seconds, peak) -> fraction
local M = {}

local function walk(m, fn)
  fn(m)
  for _, c in ipairs(m:children()) do walk(c, fn) end
end

--- Training FLOPs per token of model at sequence length T.
function M.perToken(model, T)
  if type(model) ~= 'table' or type(model.children) ~= 'function' then error('flops.perToken: expected an nn.Module, got ' .. type(model), 2) end
  if math.type(T) ~= 'integer' or T < 1 then error('flops.perToken: T must be a positive integer, got ' .. tostring(T), 2) end
  local matmul, attention = 0, 0
  walk(model, function(m)
    local name = m.__name
    if name == 'nn.Linear' or rawget(m, '_in') and rawget(m, '_out') then
      matmul = matmul + 2 * m._in * m._out
    elseif name == 'nn.CausalSelfAttention' or rawget(m, '_heads') and rawget(m, '_headDim') then
      local t = m._window and math.min(T, m._window) or T
      attention = attention + 4 * t * m._heads * m._headDim
    end
  end)
  return 3 * (matmul + attention), {matmul = 3 * matmul, attention = 3 * attention}
end

local cache = {}

--- Measured float32 matmul FLOP/s (cached).
function M.peak(opts)
  local n, reps = (opts and opts.n) or 512, (opts and opts.reps) or 5
  local key = n .. ':' .. llm.getThreads()
  if cache[key] then return cache[key] end
  local a, b = llm.randn(n, n), llm.randn(n, n)
  local best = math.huge
  llm.noGrad(function()
    a:matmul(b)   -- warm up (BLAS threads, caches)
    for _ = 1, reps do
      local t0 = llm.clock()
      a:matmul(b)
      best = math.min(best, llm.clock() - t0)
    end
  end)
  cache[key] = 2 * n ^ 3 / math.max(best, 1e-9)
  return cache[key]
end

--- Model FLOPs utilization: achieved FLOP/s over the peak.
function M.mfu(flopsPerStep, seconds, peak)
  if not (seconds and seconds > 0 and peak and peak > 0) then return nil end
  return flopsPerStep / seconds / peak
end

return M
