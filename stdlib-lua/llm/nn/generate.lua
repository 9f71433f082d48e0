-- Text generation for nn.GPT with a KV cache: the prompt is run once, then each new token costs one
-- position of forward work. When the context reaches blockSize, the cache is rebuilt from the last
-- half of the context (a sliding window), so generation can run past blockSize.
-- Sampling: temperature (0 = greedy), topK, topP (nucleus), seeded with its own generator.
local options = require 'llm.nn.options'

--- Picks the next token ids (B,1) from logits (B,V).
local function sample(logits, o, generator)
  if o.temperature == 0 then return logits:argmax(2, true) end
  logits = logits / o.temperature
  local v = logits:size(2)
  if o.topK and o.topK < v then
    local top = logits:topk(o.topK, 2)
    logits = llm.where(logits:lt(top:narrow(2, o.topK, 1)), -math.huge, logits)
  end
  local probs = logits:softmax(2)
  if o.topP and o.topP < 1 then
    local sorted, order = probs:sort(2, true)
    local before = sorted:cumsum(2) - sorted          -- mass strictly before each entry
    local kept = llm.where(before:lt(o.topP), sorted, 0)
    probs = llm.zeros(probs:shape()):scatterAdd(2, order, kept)
  end
  return probs:multinomial(1, {generator = generator})
end

return function(GPT)
  --- Continues prompt ids ((T) or (B,T), 0-based) by maxTokens tokens; returns the ids (same rank as prompt).
  function GPT:generate(prompt, opts)
    local o = options.check('generate', opts, {maxTokens = 100, temperature = 1.0, topK = options.NONE,
                                               topP = options.NONE, seed = options.NONE})
    if not llm.isTensor(prompt) or prompt:dim() < 1 or prompt:dim() > 2 or prompt:numel() == 0 then
      error('generate: prompt must be a non-empty 1-D or 2-D tensor of token ids', 2)
    end
    if o.temperature < 0 then error("generate: Invalid 'temperature': expected a non-negative number, got " .. o.temperature, 2) end
    if o.topK ~= nil and (math.type(o.topK) ~= 'integer' or o.topK < 1) then error("generate: Invalid 'topK': expected a positive integer, got " .. tostring(o.topK), 2) end
    if o.topP ~= nil and (type(o.topP) ~= 'number' or o.topP <= 0 or o.topP > 1) then error("generate: Invalid 'topP': expected a number in (0, 1], got " .. tostring(o.topP), 2) end
    local generator = o.seed and llm.Generator(o.seed) or nil
    local oneD = prompt:dim() == 1
    local ids = (oneD and prompt:unsqueeze(1) or prompt):long()
    local blockSize = self._config.blockSize
    local wasTraining = self.training
    self:eval()
    local ok, result = pcall(llm.noGrad, function()
      local function prefill(context)
        local cache = {length = 0}
        return self:forward(context, nil, {cache = cache}), cache
      end
      local n = ids:size(2)
      local logits, cache = prefill(n > blockSize and ids:narrow(2, n - blockSize + 1, blockSize) or ids)
      for _ = 1, o.maxTokens do
        local nextId = sample(logits:select(2, logits:size(2)), o, generator)
        ids = llm.cat({ids, nextId}, 2)
        if cache.length >= blockSize then
          local keep = math.max(1, blockSize // 2)
          logits, cache = prefill(ids:narrow(2, ids:size(2) - keep + 1, keep))
        else
          logits = self:forward(nextId, nil, {cache = cache})
        end
      end
      return ids
    end)
    self:train(wasTraining)
    if not ok then error(result, 0) end
    return oneD and result:squeeze(1) or result
  end
end
