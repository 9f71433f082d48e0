-- nn.CausalSelfAttention: multi-head causal self-attention on the fused Swift kernel (llm.attention).
-- x (B,T,C) -> qkv (B,T,3C) -> q,k,v (B,H,T,D) -> attention (B,H,T,D) -> (B,T,C) -> proj.
-- Optional per-call {cache=table} appends this call's keys/values (for generation with a KV cache)
-- and {keyMask=Tensor (B,S)} marks padding keys with 0.
local Module = require 'llm.nn.Module'
local Linear = require 'llm.nn.Linear'
local options = require 'llm.nn.options'
local dropout = require('llm.nn.Activations').dropout

local Attention = Module:extend('nn.CausalSelfAttention')

-- Appends this call's keys/values (B,H,T,D) to `cache` and returns all cached keys/values. Under llm.noGrad
-- (generation) they live in one buffer per cache that grows by doubling, and the cache hands out views of
-- it: each new token copies only its own keys/values (a concatenation would copy the whole cache every
-- token). With gradients enabled, concatenation keeps the autograd graph.
local function appendToCache(cache, k, v)
  local len, t = cache.k and cache.k:size(3) or 0, k:size(3)
  if llm.isGradEnabled() then
    if cache.k then k = llm.cat({cache.k, k}, 3); v = llm.cat({cache.v, v}, 3) end
    cache.k, cache.v, cache.kbuf, cache.vbuf = k, v, nil, nil
    return k, v
  end
  if not cache.kbuf or len + t > cache.kbuf:size(3) then
    local cap = math.max(64, len + t, 2 * (cache.kbuf and cache.kbuf:size(3) or 0))
    local kb, vb = llm.zeros(k:size(1), k:size(2), cap, k:size(4)), llm.zeros(v:size(1), v:size(2), cap, v:size(4))
    if len > 0 then kb:narrow(3, 1, len):copy_(cache.k); vb:narrow(3, 1, len):copy_(cache.v) end
    cache.kbuf, cache.vbuf = kb, vb
  end
  cache.kbuf:narrow(3, len + 1, t):copy_(k)
  cache.vbuf:narrow(3, len + 1, t):copy_(v)
  cache.k, cache.v = cache.kbuf:narrow(3, 1, len + t), cache.vbuf:narrow(3, 1, len + t)
  return cache.k, cache.v
end

--- nn.CausalSelfAttention(dim, heads, [{bias=true, dropout=0}]): multi-head causal self-attention.
function Attention:init(dim, heads, opts)
  options.positiveInt('nn.CausalSelfAttention', 'dim', dim, 3)
  options.positiveInt('nn.CausalSelfAttention', 'heads', heads, 3)
  local o = options.check('nn.CausalSelfAttention', opts, {bias = true, dropout = 0}, 3)
  if dim % heads ~= 0 then
    error(string.format('nn.CausalSelfAttention: dim (%d) must be divisible by heads (%d)', dim, heads), 3)
  end
  self._dim, self._heads, self._dropout = dim, heads, o.dropout
  self.qkv = Linear(dim, 3 * dim, {bias = o.bias})
  self.proj = Linear(dim, dim, {bias = o.bias})
end

function Attention:forward(x, opts)
  local o = options.check('nn.CausalSelfAttention', opts, {cache = options.NONE, keyMask = options.NONE})
  if not llm.isTensor(x) or x:dim() ~= 3 or x:size(3) ~= self._dim then
    error(string.format('expected input of shape [batch, time, %d], got %s', self._dim,
      llm.isTensor(x) and ('[' .. table.concat(x:shape(), ', ') .. ']') or type(x)), 2)
  end
  local b, t, c = x:size(1), x:size(2), x:size(3)
  local h = self._heads
  local d = c // h
  local qkv = self.qkv(x):chunk(3, 3)
  local function heads(z) return z:reshape(b, t, h, d):transpose(2, 3) end
  local q, k, v = heads(qkv[1]), heads(qkv[2]), heads(qkv[3])
  if o.cache then k, v = appendToCache(o.cache, k, v) end
  local y = llm.attention(q, k, v, {causal = true, keyMask = o.keyMask})
  y = y:transpose(2, 3):reshape(b, t, c)
  return dropout(self.proj(y), self._dropout, self.training)
end

function Attention:extraRepr() return string.format('dim=%d, heads=%d', self._dim, self._heads) end

return Attention
