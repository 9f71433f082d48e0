-- scripts/bench/attention_variants.lua: times the fused grouped-query attention, rope and swiglu (forward +
-- backward) against the same math composed from general ops, at a char-model size. Prints one line per case:
-- name, best-of-N milliseconds. Peer: scripts/bench/attention_variants.py (PyTorch, same shapes).
-- Run: .build/release/llmscript scripts/bench/attention_variants.lua [threads]
local threads = tonumber(arg and arg[1]) or llm.getThreads()
llm.setThreads(threads)
llm.manualSeed(0)
local B, H, HKV, T, D, F = 16, 6, 2, 256, 64, 1024
local REPEAT = 7
local sys = llm.system()   -- what ran, printed with every result
print(string.format('cpu %s, simd %s, kernels %s, BLAS core %s, %d threads', sys.cpu, sys.simd, sys.kernels, sys.blasCore, threads))

local function bench(name, make, fn)
  local inputs = make()
  local best = math.huge
  for r = 1, REPEAT + 1 do
    for _, x in ipairs(inputs) do x.grad = nil end
    local t0 = llm.clock()
    local out = fn(table.unpack(inputs))
    out:sum():backward()
    local dt = llm.clock() - t0
    if r > 1 then best = math.min(best, dt) end   -- first run warms up
  end
  print(string.format('%-34s %8.2f ms', name, best * 1000))
end

local function leaves(...)
  local shapes = {...}
  return function()
    local t = {}
    for i, s in ipairs(shapes) do t[i] = llm.randn(table.unpack(s)):requiresGrad_() end
    return t
  end
end

local qkv = leaves({B, H, T, D}, {B, HKV, T, D}, {B, HKV, T, D})
local function repeatKV(x)   -- (B,Hkv,T,D) -> (B,H,T,D), each kv head repeated H/Hkv times (a copy)
  return x:unsqueeze(3):expand(B, HKV, H // HKV, T, D):reshape(B, H, T, D)
end
local causal = llm.ones(T, T):tril():reshape(1, 1, T, T)
local bias = (causal - 1) * 1e9

bench('gqa fused', qkv, function(q, k, v) return llm.attention(q, k, v, {causal = true}) end)
bench('gqa repeat kv + fused MHA', qkv, function(q, k, v) return llm.attention(q, repeatKV(k), repeatKV(v), {causal = true}) end)
bench('gqa composed (matmul/softmax)', qkv, function(q, k, v)
  return (q:matmul(repeatKV(k):transpose(3, 4)) * (1 / math.sqrt(D)) + bias):softmax(4):matmul(repeatKV(v))
end)
bench('gqa fused, window 64', qkv, function(q, k, v) return llm.attention(q, k, v, {causal = true, window = 64}) end)
bench('gqa fused, alibi', qkv, function(q, k, v) return llm.attention(q, k, v, {causal = true, alibi = true}) end)

local x1 = leaves({B, H, T, D})
local cosT, sinT = {}, {}
for i = 0, T - 1 do
  local cr, sr = {}, {}
  for k = 0, D - 1 do
    local a = i * 10000 ^ (-2 * (k % (D // 2)) / D)
    cr[k + 1], sr[k + 1] = math.cos(a), math.sin(a)
  end
  cosT[i + 1], sinT[i + 1] = cr, sr
end
local cos, sin = llm.tensor(cosT), llm.tensor(sinT)
bench('rope fused', x1, function(x) return llm.rope(x) end)
bench('rope composed (rotate_half)', x1, function(x)
  local rot = llm.cat({-x:narrow(4, D // 2 + 1, D // 2), x:narrow(4, 1, D // 2)}, 4)
  return x * cos + rot * sin
end)

local xg = leaves({B, T, 2 * F})
bench('swiglu fused', xg, function(x) return llm.swiglu(x) end)
bench('swiglu composed (silu(a)*b)', xg, function(x) return x:narrow(3, 1, F):silu() * x:narrow(3, F + 1, F) end)
bench('geglu fused', xg, function(x) return llm.geglu(x) end)
