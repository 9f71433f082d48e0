-- llm.nn.decode: the one decoding path of llmscript (model:generate, `llmscript generate`,
-- recipes/sample.lua through generate, and `llmscript serve`).
--   decode.sample(logits (B,V), {temperature, topK, topP}, [generator]) -> ids (B,1): temperature 0 is
--     greedy; topK keeps the k most likely; topP keeps the smallest set whose mass reaches topP.
--   decode.Batch(model) -> batch: continuous batching for any model with forward(idx, nil, {cache,
--     positions, keyMask}) and a config's blockSize (nn.GPT, nn.Llama). Sequences join at any step
--     (batch:add(prompt, opts) runs the prompt alone, samples its first token and merges its KV cache into
--     the batch's, left-padding the shorter side) and leave at any step (batch:remove(row)); batch:step()
--     runs ONE forward for all rows (per-row positions, a key mask over the padding) and samples each row's
--     next token with the row's own options and generator. A row is a table: row.next (the token just
--     sampled, 0-based, not yet fed), row.length (tokens in the cache), row.tokens (all sampled tokens).
--     A row added with {logits = true} also keeps the raw logits its `next` was sampled from (row.logits,
--     (1,V)) and, from batch:add, those of every prompt position (row.promptLogits, (n,V)); rows without
--     it keep nothing. batch:score(prompt) -> logits (n,V) of the prompt alone (no row, no cache kept).
--     Leading cache columns that are padding in every row are dropped when rows leave, so the cache width
--     stays the longest row's length; a row may not grow past blockSize (the caller stops it).
-- Everything runs under llm.noGrad (no autograd tape) with the model in eval mode.
local M = {}

--- Picks the next token ids (B,1) from logits (B,V).
function M.sample(logits, o, generator)
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

-- t with n zero columns prepended along dim
local function padLeft(t, dim, n)
  if n == 0 then return t end
  local shape = t:shape()
  shape[dim] = n
  return llm.cat({llm.zeros(shape, {dtype = t:dtype()}), t}, dim)
end

-- Installs full tensors as a layer cache (Attention.lua's appendToCache grows kbuf/vbuf from here).
local function setLayer(layer, k, v, positions)
  layer.kbuf, layer.vbuf, layer.k, layer.v, layer.positions = k, v, k, v, positions
end

local Batch = {}
Batch.__index = Batch

--- decode.Batch(model): an empty continuous batch over `model` (see the module header).
function M.Batch(model)
  if type(model) ~= 'table' or type(model.forward) ~= 'function' or type(model._config) ~= 'table' then
    error('decode.Batch: expected a model (nn.GPT or nn.Llama)', 2)
  end
  return setmetatable({model = model, rows = {}, blockSize = model._config.blockSize}, Batch)
end

local function sampleRow(row, logits)
  return M.sample(logits, row.options, row.generator):item()
end

local function checkOptions(o)
  o = o or {}
  local t = o.temperature or 1.0
  if type(t) ~= 'number' or t < 0 then error("decode: Invalid 'temperature': expected a non-negative number, got " .. tostring(t), 3) end
  if o.topK ~= nil and (math.type(o.topK) ~= 'integer' or o.topK < 1) then error("decode: Invalid 'topK': expected a positive integer, got " .. tostring(o.topK), 3) end
  if o.topP ~= nil and (type(o.topP) ~= 'number' or o.topP <= 0 or o.topP > 1) then error("decode: Invalid 'topP': expected a number in (0, 1], got " .. tostring(o.topP), 3) end
  return {temperature = t, topK = o.topK, topP = o.topP, logits = o.logits == true}, o.seed
end

-- Runs fn with no tape and the model in eval mode, restoring its mode.
function Batch:_run(fn)
  local wasTraining = self.model.training
  self.model:eval()
  local ok, result = pcall(llm.noGrad, fn)
  self.model:train(wasTraining)
  if not ok then error(result, 0) end
  return result
end

local function checkPrompt(self, prompt)
  if not llm.isTensor(prompt) or prompt:dim() ~= 1 or prompt:numel() == 0 then
    error('decode: prompt must be a non-empty 1-D tensor of token ids', 3)
  end
  local n = prompt:numel()
  if n > self.blockSize then error(string.format('decode: the prompt has %d tokens; the model reads at most %d', n, self.blockSize), 3) end
  return n
end

--- batch:score(prompt) -> logits (n,V): one forward of the prompt (1-D token ids) alone; the batch is unchanged.
function Batch:score(prompt)
  checkPrompt(self, prompt)
  return self:_run(function() return self.model:forward(prompt:long():unsqueeze(1)):select(1, 1) end)
end

--- batch:add(prompt, [{temperature=1, topK, topP, seed, logits=false}]) -> row: runs the prompt (1-D token
--- ids), samples its first token (row.next) and joins the batch.
function Batch:add(prompt, opts)
  local n = checkPrompt(self, prompt)
  local options, seed = checkOptions(opts)
  local row = {options = options, generator = seed and llm.Generator(seed) or nil, length = n, tokens = {}}
  self:_run(function()
    local cache = {length = 0}
    local mask = llm.ones(1, n)
    local positions = llm.arange(0, n, {dtype = 'int64'}):unsqueeze(1)
    local logits = self.model:forward(prompt:long():unsqueeze(1), nil, {cache = cache, keyMask = mask, positions = positions})
    row.next = sampleRow(row, logits:select(2, n))
    if options.logits then row.promptLogits, row.logits = logits:select(1, 1), logits:select(2, n) end
    self:_merge(cache, mask)
  end)
  row.tokens[1] = row.next
  self.rows[#self.rows + 1] = row
  return row
end

-- Appends a one-row cache (and its mask) below the batch's, left-padding the narrower side.
function Batch:_merge(cache, mask)
  if not self.cache then self.cache, self.mask = cache, mask; return end
  local s, s1 = self.mask:size(2), mask:size(2)
  local w = math.max(s, s1)
  for i, layer in ipairs(self.cache.layers) do
    local l1 = cache.layers[i]
    setLayer(layer, llm.cat({padLeft(layer.k, 3, w - s), padLeft(l1.k, 3, w - s1)}, 1),
      llm.cat({padLeft(layer.v, 3, w - s), padLeft(l1.v, 3, w - s1)}, 1),
      llm.cat({padLeft(layer.positions, 2, w - s), padLeft(l1.positions, 2, w - s1)}, 1))
  end
  self.mask = llm.cat({padLeft(self.mask, 2, w - s), padLeft(mask, 2, w - s1)}, 1)
  self.cache.length = w
end

--- batch:step(): feeds every row's `next` token in one forward and samples each row's following token.
function Batch:step()
  local b = #self.rows
  if b == 0 then return end
  for _, row in ipairs(self.rows) do
    if row.length >= self.blockSize then error(string.format('decode: a row reached blockSize (%d); remove it first', self.blockSize), 2) end
  end
  self:_run(function()
    local ids, positions = {}, {}
    for i, row in ipairs(self.rows) do ids[i], positions[i] = {row.next}, {row.length} end
    self.mask = llm.cat({self.mask, llm.ones(b, 1)}, 2)
    local logits = self.model:forward(llm.tensor(ids, {dtype = 'int64'}), nil,
      {cache = self.cache, keyMask = self.mask, positions = llm.tensor(positions, {dtype = 'int64'})}):select(2, 1)
    local greedy   -- one argmax for all greedy rows
    for i, row in ipairs(self.rows) do
      row.length = row.length + 1
      if row.options.temperature == 0 then
        greedy = greedy or logits:argmax(2):totable()
        row.next = greedy[i]
      else
        row.next = sampleRow(row, logits:narrow(1, i, 1))
      end
      row.tokens[#row.tokens + 1] = row.next
      if row.options.logits then row.logits = logits:narrow(1, i, 1) end
    end
  end)
end

--- batch:size() -> number of rows.
function Batch:size() return #self.rows end

--- batch:remove(row): the row leaves the batch (its cache rows are dropped; all-padding columns trimmed).
function Batch:remove(row)
  local keep, at = {}, nil
  for i, r in ipairs(self.rows) do
    if r == row then at = i else keep[#keep + 1] = r end
  end
  if not at then return end
  self.rows = keep
  if #keep == 0 then self.cache, self.mask = nil, nil; return end
  local index = {}
  local w = self.mask:size(2)
  local lead = w
  for i = 1, #self.rows + 1 do
    if i ~= at then index[#index + 1] = i - 1 end
  end
  for _, r in ipairs(keep) do lead = math.min(lead, w - r.length) end
  local sel = llm.tensor(index, {dtype = 'int64'})
  local function cut(t, dim) return t:indexSelect(1, sel):narrow(dim, lead + 1, w - lead):contiguous() end
  for _, layer in ipairs(self.cache.layers) do
    setLayer(layer, cut(layer.k, 3), cut(layer.v, 3), cut(layer.positions, 2))
  end
  self.mask = cut(self.mask, 2)
  self.cache.length = w - lead
end

return M
