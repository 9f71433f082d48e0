-- nn.CausalSelfAttention: multi-head causal self-attention on the fused Swift kernel (llm.attention).
-- x (B,T,C) -> one fused Linear qkv (B,T,(H+2·Hkv)·D) split in that order into q (B,H,T,D), k and v
-- (B,Hkv,T,D) -> attention (B,H,T,D) -> (B,T,C) -> proj. With kvHeads == heads (the default) the qkv
-- Linear is GPT-2's (dim -> 3·dim); fewer kvHeads give grouped-query (or, with 1, multi-query) attention:
-- llm.attention shares each key/value head among heads/kvHeads query heads without repeating them, and
-- the KV cache holds only the kvHeads heads.
-- Construction options choose the position scheme ('none'/'learned'/'sinusoidal': positions are the
-- model's business; 'rope': rotary q and k, applied before the keys enter the cache; 'alibi': linear
-- biases), a sliding `window`, and `qkNorm` (an RMSNorm over each head's q and k, before RoPE).
-- `headDim` (default dim/heads) decouples the head size from dim: heads·headDim may differ from dim (a
-- model whose heads were pruned away, llm/compress/shrink.lua): qkv is dim -> (H+2·Hkv)·headDim, proj
-- H·headDim -> dim.
-- Per-call options are the one position/mask interface (passed through to llm.attention):
--   cache = {}          appends this call's keys/values (generation with a KV cache)
--   positions (B,T)     int64 position of each token (per row: batched decoding of sequences of
--                       different lengths, restarting positions of packed examples); default: the
--                       cache length + 0..T−1. The cache keeps the key positions when given.
--   offset = n          positions n..n+T−1 for every row (instead of the cache length)
--   keyMask (B,S)       0 marks padding keys (S = cached + new keys)
--   segments (B,T)      segment id of each token: tokens attend only within their segment (packing)
local Module = require 'llm.nn.Module'
local Linear = require 'llm.nn.Linear'
local RMSNorm = require('llm.nn.Normalization').RMSNorm
local options = require 'llm.nn.options'
local dropout = require('llm.nn.Activations').dropout

local Attention = Module:extend('nn.CausalSelfAttention')

local positionKinds = {none = true, learned = true, sinusoidal = true, rope = true, alibi = true}

-- Appends this call's keys/values (B,Hkv,T,D) to `cache` and returns all cached keys/values. Under
-- llm.noGrad (generation) they live in one buffer per cache that grows by doubling, and the cache hands
-- out views of it: each new token copies only its own keys/values (a concatenation would copy the whole
-- cache every token). With gradients enabled, concatenation keeps the autograd graph.
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

-- Appends a (B,T) per-token tensor (positions, segments) to cache[key]; returns all of them (B,S).
-- `fill` makes the entries of earlier calls that passed none (their defaults).
local function appendRows(cache, key, x, len, fill)
  if not cache then return x end
  local old = cache[key]
  if old == nil and len > 0 then old = fill(len) end
  cache[key] = old and llm.cat({old, x}, 2) or x
  return cache[key]
end

local function checkRows(name, x, b, t, level)
  if x ~= nil and (not llm.isTensor(x) or x:dim() ~= 2 or x:size(1) ~= b or x:size(2) ~= t) then
    error(string.format("Invalid '%s': expected a tensor of shape [%d, %d], got %s", name, b, t,
      llm.isTensor(x) and ('[' .. table.concat(x:shape(), ', ') .. ']') or type(x)), level + 1)
  end
end

--- Positions offset..offset+t−1 for each of b rows, (b,t) int64; a bad offset is an error at `level`.
function Attention.rowPositions(offset, b, t, level)
  if math.type(offset) ~= 'integer' or offset < 0 then
    error("Invalid 'offset': expected a non-negative integer, got " .. tostring(offset), (level or 1) + 1)
  end
  return llm.arange(offset, offset + t, {dtype = 'int64'}):unsqueeze(1):expand(b, t)
end

--- The attention probabilities (B,H,T,S) of q (B,H,T,D) and k (B,Hkv,S,D) under llm.attention's options
--- `mask` (causal, keyMask, positions, window, segments, alibi, scale): softmax(q·kᵀ·scale + bias + mask),
--- computed by the same kernel with v the identity, so the masking is exactly the fused attention's; a query
--- that sees no key gets a row of zeros. No gradient. Recording: set attn:recordAttention(true) (or use
--- llm.inspect.attentionMaps); each forward then keeps attn:lastAttention(). Off, forward pays one rawget.
function Attention.probabilities(q, k, mask)
  return llm.noGrad(function()
    local b, h, t, d = q:size(1), q:size(2), q:size(3), q:size(4)
    local hkv, s = k:size(2), k:size(3)
    local w = math.max(d, s)
    local function pad(z, n, rows)
      if w == d then return z end
      return llm.cat({z, llm.zeros(b, n, rows, w - d)}, 4)
    end
    local eye = llm.eye(s)
    if w > s then eye = llm.cat({eye, llm.zeros(s, w - s)}, 2) end
    local v = eye:reshape(1, 1, s, w):expand(b, hkv, s, w):contiguous()
    local o = {}
    for key, val in pairs(mask or {}) do o[key] = val end
    o.scale = o.scale or 1 / math.sqrt(d)
    return llm.attention(pad(q, h, t), pad(k, hkv, s), v, o):narrow(4, 1, s):contiguous()
  end)
end

--- attn:recordAttention([flag=true]): keep the probabilities of every later forward (attn:lastAttention()).
function Attention:recordAttention(flag)
  rawset(self, '_recordAttention', flag ~= false or nil)
  if flag == false then rawset(self, '_attentionProbs', nil) end
  return self
end

--- The probabilities (B,H,T,S) of the last forward while recording (nil otherwise).
function Attention:lastAttention() return rawget(self, '_attentionProbs') end

--- nn.CausalSelfAttention(dim, heads, [{bias=true, dropout=0, kvHeads=heads, positions='none', ropeBase=10000, ropeScaling, window,
--- qkNorm=false, normEps=1e-6, headDim=dim/heads}]): multi-head causal self-attention.
function Attention:init(dim, heads, opts)
  local name = 'nn.CausalSelfAttention'
  options.positiveInt(name, 'dim', dim, 3)
  options.positiveInt(name, 'heads', heads, 3)
  local o = options.check(name, opts, {bias = true, dropout = 0, kvHeads = heads, positions = 'none',
    ropeBase = 10000, ropeScaling = options.NONE, window = options.NONE, qkNorm = false, normEps = 1e-6,
    headDim = options.NONE}, 3)
  if o.headDim ~= nil then options.positiveInt(name, 'headDim', o.headDim, 3)
  elseif dim % heads ~= 0 then
    error(string.format('%s: dim (%d) must be divisible by heads (%d)', name, dim, heads), 3)
  end
  options.positiveInt(name, 'kvHeads', o.kvHeads, 3)
  if heads % o.kvHeads ~= 0 then
    error(string.format('%s: heads (%d) must be divisible by kvHeads (%d)', name, heads, o.kvHeads), 3)
  end
  if not positionKinds[o.positions] then
    error(string.format("%s: Invalid 'positions': expected one of: 'none', 'learned', 'sinusoidal', 'rope', 'alibi', got '%s'", name, tostring(o.positions)), 3)
  end
  if o.window ~= nil then options.positiveInt(name, 'window', o.window, 3) end
  if not (o.ropeBase > 0) then error(string.format("%s: Invalid 'ropeBase': expected a positive number, got %s", name, tostring(o.ropeBase)), 3) end
  if o.ropeScaling ~= nil and type(o.ropeScaling) ~= 'table' then
    error(string.format("%s: Invalid 'ropeScaling': expected a table {type='linear'|'ntk', factor}, got %s", name, type(o.ropeScaling)), 3)
  end
  local d = o.headDim or dim // heads
  if o.positions == 'rope' and d % 2 ~= 0 then
    error(string.format('%s: rotary positions need an even head size, got %d', name, d), 3)
  end
  self._dim, self._heads, self._kvHeads, self._dropout, self._headDim = dim, heads, o.kvHeads, o.dropout, d
  self._positions, self._window = o.positions, o.window
  self._rope = o.positions == 'rope' and {base = o.ropeBase, scaling = o.ropeScaling} or nil
  self.qkv = Linear(dim, (heads + 2 * o.kvHeads) * d, {bias = o.bias})
  self.proj = Linear(heads * d, dim, {bias = o.bias})
  if o.qkNorm then
    self.qNorm = RMSNorm(d, {eps = o.normEps})
    self.kNorm = RMSNorm(d, {eps = o.normEps})
  end
end

function Attention:forward(x, opts)
  local o = options.check('nn.CausalSelfAttention', opts, {cache = options.NONE, keyMask = options.NONE,
                                                           positions = options.NONE, segments = options.NONE,
                                                           offset = options.NONE})
  if not llm.isTensor(x) or x:dim() ~= 3 or x:size(3) ~= self._dim then
    error(string.format('expected input of shape [batch, time, %d], got %s', self._dim,
      llm.isTensor(x) and ('[' .. table.concat(x:shape(), ', ') .. ']') or type(x)), 2)
  end
  local b, t = x:size(1), x:size(2)
  local h, hkv = self._heads, self._kvHeads
  local d = self._headDim
  checkRows('positions', o.positions, b, t, 2)
  if o.offset ~= nil then
    if o.positions ~= nil then error("give 'positions' or 'offset', not both", 2) end
    o.positions = Attention.rowPositions(o.offset, b, t, 2)
  end
  checkRows('segments', o.segments, b, t, 2)
  local function heads(z, n) return z:reshape(b, t, n, d):transpose(2, 3) end
  local q, k, v
  if hkv == h then
    local qkv = self.qkv(x):chunk(3, 3)
    q, k, v = heads(qkv[1], h), heads(qkv[2], h), heads(qkv[3], h)
  else
    local qkv = self.qkv(x):split({h * d, hkv * d, hkv * d}, 3)
    q, k, v = heads(qkv[1], h), heads(qkv[2], hkv), heads(qkv[3], hkv)
  end
  if rawget(self, 'qNorm') then q, k = self.qNorm(q), self.kNorm(k) end
  local cached = o.cache and o.cache.k and o.cache.k:size(3) or 0
  if self._rope then
    local ro = {base = self._rope.base, scaling = self._rope.scaling}
    if o.positions then ro.positions = o.positions else ro.offset = cached end
    q, k = llm.rope(q, ro), llm.rope(k, ro)
  end
  local attn = {causal = true, keyMask = o.keyMask, window = self._window}
  if self._positions == 'alibi' then attn.alibi = true end
  -- explicit positions/segments: the cache keeps those of the keys (earlier calls without them: defaults)
  local cache = o.cache
  if o.positions or (cache and cache.positions) then
    local pos = o.positions or Attention.rowPositions(cached, b, t)
    attn.positions = pos
    attn.keyPositions = appendRows(cache, 'positions', pos, cached, function(n) return Attention.rowPositions(0, b, n) end)
  end
  if o.segments or (cache and cache.segments) then
    local seg = o.segments or llm.zeros(b, t, {dtype = 'int64'})
    attn.querySegments = seg
    attn.segments = appendRows(cache, 'segments', seg, cached, function(n) return llm.zeros(b, n, {dtype = 'int64'}) end)
  end
  if cache then k, v = appendToCache(cache, k, v) end
  if rawget(self, '_recordAttention') then rawset(self, '_attentionProbs', Attention.probabilities(q, k, attn)) end
  local y = llm.attention(q, k, v, attn)
  y = y:transpose(2, 3):reshape(b, t, h * d)
  return dropout(self.proj(y), self._dropout, self.training)
end

function Attention:extraRepr()
  local s = string.format('dim=%d, heads=%d', self._dim, self._heads)
  if self._kvHeads ~= self._heads then s = s .. ', kvHeads=' .. self._kvHeads end
  if self._headDim * self._heads ~= self._dim then s = s .. ', headDim=' .. self._headDim end
  if self._positions == 'rope' or self._positions == 'alibi' then s = s .. ', positions=' .. self._positions end
  if self._window then s = s .. ', window=' .. self._window end
  return s
end

return Attention
