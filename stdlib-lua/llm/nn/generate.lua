-- Text generation for nn.GPT with a KV cache: the prompt is run once, then each new token costs one
-- position of forward work. When the context reaches blockSize, the cache is rebuilt from the last
-- half of the context (a sliding window), so generation can run past blockSize.
-- Sampling: temperature (0 = greedy), topK, topP (nucleus), seeded with its own generator (llm.nn.decode's
-- sampler, shared with continuous batching: `llmscript serve` and `llmscript generate`).
-- Works for any model with a config's blockSize and forward(idx, nil, {cache, positions, keyMask})
-- (nn.GPT, nn.Llama). A list of prompts of different lengths is decoded as one left-padded batch:
-- the key mask hides the padding and per-row positions count only real tokens.
local options = require 'llm.nn.options'

local sample = require('llm.nn.decode').sample   -- the one sampler (llm/nn/decode.lua)

-- Left-pads a list of 1-D prompts into ids (B,L) and keyMask (B,L) (0 = padding).
local function leftPad(prompts)
  local width = 0
  for i, p in ipairs(prompts) do
    if not llm.isTensor(p) or p:dim() ~= 1 or p:numel() == 0 then
      error(string.format('generate: prompt %d must be a non-empty 1-D tensor of token ids', i), 3)
    end
    width = math.max(width, p:numel())
  end
  local ids, mask = llm.zeros(#prompts, width, {dtype = 'int64'}), llm.zeros(#prompts, width)
  for i, p in ipairs(prompts) do
    ids:select(1, i):narrow(1, width - p:numel() + 1, p:numel()):copy_(p:long())
    mask:select(1, i):narrow(1, width - p:numel() + 1, p:numel()):fill_(1)
  end
  return ids, mask
end

-- Per-row positions of the real tokens (padding counts for nothing; pads get 0): cumsum(mask) − 1.
local function positionsOf(mask)
  return (mask:cumsum(2) - 1):clamp(0, math.huge):long()
end

return function(GPT)
  --- Continues prompt ids ((T) or (B,T), 0-based) by maxTokens tokens; returns the ids (same rank as prompt).
  --- A list of 1-D prompts of different lengths is decoded as one batch (left-padded, per-row positions
  --- and a key mask) and gives a list of 1-D results, each as the prompt alone would (with greedy decoding).
  function GPT:generate(prompt, opts)
    local o = options.check('generate', opts, {maxTokens = 100, temperature = 1.0, topK = options.NONE,
                                               topP = options.NONE, seed = options.NONE})
    local list = type(prompt) == 'table' and not llm.isTensor(prompt)
    if list and #prompt == 0 then error('generate: the list of prompts is empty', 2) end
    if not list and (not llm.isTensor(prompt) or prompt:dim() < 1 or prompt:dim() > 2 or prompt:numel() == 0) then
      error('generate: prompt must be a non-empty 1-D or 2-D tensor of token ids, or a list of 1-D tensors', 2)
    end
    if o.temperature < 0 then error("generate: Invalid 'temperature': expected a non-negative number, got " .. o.temperature, 2) end
    if o.topK ~= nil and (math.type(o.topK) ~= 'integer' or o.topK < 1) then error("generate: Invalid 'topK': expected a positive integer, got " .. tostring(o.topK), 2) end
    if o.topP ~= nil and (type(o.topP) ~= 'number' or o.topP <= 0 or o.topP > 1) then error("generate: Invalid 'topP': expected a number in (0, 1], got " .. tostring(o.topP), 2) end
    if type(o.maxTokens) ~= 'number' or o.maxTokens < 0 or o.maxTokens % 1 ~= 0 then error("generate: Invalid 'maxTokens': expected a non-negative integer, got " .. tostring(o.maxTokens), 2) end
    local generator = o.seed and llm.Generator(o.seed) or nil
    local oneD = not list and prompt:dim() == 1
    local ids, mask
    if list then ids, mask = leftPad(prompt) else ids = (oneD and prompt:unsqueeze(1) or prompt):long() end
    local blockSize = self._config.blockSize
    local wasTraining = self.training
    self:eval()
    local ok, result = pcall(llm.noGrad, function()
      -- runs the context (its last columns of ids/mask) from an empty cache
      local function prefill(from)
        local cache = {length = 0}
        local context = ids:narrow(2, from, ids:size(2) - from + 1)
        local m = mask and mask:narrow(2, from, ids:size(2) - from + 1):contiguous()
        local fo = {cache = cache}
        if m then fo.keyMask, fo.positions = m, positionsOf(m) end
        return self:forward(context, nil, fo), cache, m
      end
      local n = ids:size(2)
      local logits, cache, m = prefill(n > blockSize and n - blockSize + 1 or 1)
      for _ = 1, o.maxTokens do
        local nextId = sample(logits:select(2, logits:size(2)), o, generator)
        ids = llm.cat({ids, nextId}, 2)
        if mask then mask = llm.cat({mask, llm.ones(ids:size(1), 1)}, 2) end
        if cache.length >= blockSize then
          local keep = math.max(1, blockSize // 2)
          logits, cache, m = prefill(ids:size(2) - keep + 1)
        elseif mask then
          local positions = m:sum(2, true):long()   -- the real tokens before this one
          m = llm.cat({m, llm.ones(ids:size(1), 1)}, 2)
          logits = self:forward(nextId, nil, {cache = cache, keyMask = m, positions = positions})
        else
          logits = self:forward(nextId, nil, {cache = cache})
        end
      end
      return ids
    end)
    self:train(wasTraining)
    if not ok then error(result, 0) end
    if list then
      local out = {}
      for i, p in ipairs(prompt) do
        local len = p:numel() + o.maxTokens
        out[i] = result:select(1, i):narrow(1, result:size(2) - len + 1, len):contiguous()
      end
      return out
    end
    return oneD and result:squeeze(1) or result
  end
end
