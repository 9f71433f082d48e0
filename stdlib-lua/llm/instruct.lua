-- llm.data.instructions: instruction fine-tuning data — conversations rendered with a chat template
-- (llm/chat.lua, the server's), the prompt tokens' targets masked out of the loss, short examples packed
-- into one row with segment ids (attention stays inside each example, positions restart per example).
--   local data = llm.data.instructions(records, {tokenizer, template='plain', blockSize, batchSize=8,
--                                               pack=false, padId=0, seed=1, shuffle=true})
--   records: a list of {prompt=, response=, [system=]} | {instruction=, [input=], output=} |
--            {messages = {{role, content}, ...}} (every assistant turn is trained on)
--   data:next() -> x (B,T) int64, y (B,T) int64 (−100 = ignored: prompt tokens, padding), opts
--     opts = {segments (B,T), positions (B,T)} when packed, else nil; pass it on:
--     local logits, loss = model(x, y, opts)       (nn.GPT / nn.Llama per-call options, Attention.lua)
--   data:numBatches(), data:batch(i) -> x, y, opts   (every row once, in order: evaluation)
--   data:state() / data:setState(s)                  (exact resume); data.rows, data.examples, data.truncated
-- Each assistant turn contributes the tokens of its content plus the template's end marker (chatml's
-- <|im_end|>, llama's </s>, plain's newline) as targets; the text before it (system, user turns, the
-- template's assistant cue) is context only. Pieces are tokenized one by one, so the answer tokens are
-- the same whether or not the prompt is masked. An example longer than blockSize + 1 tokens is cut
-- (data.truncated counts them). Unpacked rows hold one example each, padded with padId (right padding:
-- under causal attention the padding never reaches the example's tokens).
local chat = require 'llm.chat'
local supervised = require 'llm.supervised'

local M = {}
local IGNORE = -100

-- The messages of one record, or an error naming it.
local function messagesOf(r, i)
  if type(r) ~= 'table' then error(string.format('llm.data.instructions: record %d is a %s, expected a table', i, type(r)), 4) end
  if r.messages then return r.messages end
  local prompt = r.prompt or r.instruction
  local answer = r.response or r.output
  if type(prompt) ~= 'string' or type(answer) ~= 'string' then
    error(string.format('llm.data.instructions: record %d needs prompt/response, instruction/output or messages', i), 4)
  end
  if r.input and r.input ~= '' then prompt = prompt .. '\n\n' .. r.input end
  local list = {}
  if r.system then list[1] = {role = 'system', content = r.system} end
  list[#list + 1] = {role = 'user', content = prompt}
  list[#list + 1] = {role = 'assistant', content = answer}
  return list
end

--- The pieces of a conversation under a template: a list of {text, train} (train: an assistant turn's content and end marker).
function M.pieces(messages, template)
  local t = chat.templates[template]
  if not t then error("llm.data.instructions: unknown template '" .. tostring(template) .. "' (chatml, llama, plain)", 3) end
  local list, msg = chat.normalize(messages)
  if not list then error('llm.data.instructions: ' .. msg, 3) end
  local out, done = {}, ''
  local function take(text, train)
    if text:sub(1, #done) ~= done then error("llm.data.instructions: template '" .. template .. "' does not render prefixes stably", 4) end
    if #text > #done then out[#out + 1] = {text = text:sub(#done + 1), train = train} end
    done = text
  end
  for i, m in ipairs(list) do
    local upto = table.move(list, 1, i, 1, {})
    if m.role == 'assistant' then take(t.render(table.move(list, 1, i - 1, 1, {}), true), false) end
    take(t.render(upto, false), m.role == 'assistant')
  end
  return out
end

-- token ids and train flags of one record
local function encode(tokenizer, pieces)
  local ids, train = {}, {}
  for _, p in ipairs(pieces) do
    local enc = tokenizer:encode(p.text)
    for _, id in ipairs(llm.isTensor(enc) and enc:totable() or enc) do ids[#ids + 1] = id; train[#train + 1] = p.train end
  end
  return ids, train
end

-- rows: lists of examples ({x = {...}, y = {...}}) that fit blockSize together (one each unless packing)
local function layout(examples, blockSize, pack)
  local rows, current, used = {}, nil, 0
  for _, e in ipairs(examples) do
    if not pack or not current or used + #e.x > blockSize then
      current, used = {}, 0
      rows[#rows + 1] = current
    end
    current[#current + 1] = e
    used = used + #e.x
  end
  return rows
end

local Source = {}
Source.__index = Source

-- tensors of the rows at positions list (indices into self.rows)
function Source:_tensors(list)
  local T, x, y, seg, pos = self.blockSize, {}, {}, {}, {}
  for r, index in ipairs(list) do
    local xr, yr, sr, pr = {}, {}, {}, {}
    for s, e in ipairs(self.rows[index]) do
      for j = 1, #e.x do xr[#xr + 1], yr[#yr + 1], sr[#sr + 1], pr[#pr + 1] = e.x[j], e.y[j], s, j - 1 end
    end
    local n = #xr
    for j = n + 1, T do xr[j], yr[j], sr[j], pr[j] = self.padId, IGNORE, 0, j - n - 1 end
    x[r], y[r], seg[r], pos[r] = xr, yr, sr, pr
  end
  local opts = nil
  if self.pack then opts = {segments = llm.tensor(seg, {dtype = 'int64'}), positions = llm.tensor(pos, {dtype = 'int64'})} end
  return llm.tensor(x, {dtype = 'int64'}), llm.tensor(y, {dtype = 'int64'}), opts
end

function Source:_reorder()
  local order = {}
  for i = 1, #self.rows do order[i] = i end
  self._order = self.shuffle and supervised.shuffle(order, self.seed * 1000003 + self._epoch) or order
end

--- The next training batch: x, y, opts (opts nil unless packed).
function Source:next()
  local list = {}
  for b = 1, self.batchSize do
    if self._cursor > #self._order then self._epoch, self._cursor = self._epoch + 1, 1; self:_reorder() end
    list[b] = self._order[self._cursor]
    self._cursor = self._cursor + 1
  end
  return self:_tensors(list)
end

--- Number of evaluation batches (every row once).
function Source:numBatches() return (#self.rows + self.batchSize - 1) // self.batchSize end

--- Evaluation batch i (1-based; rows in their stored order, the last batch may be smaller).
function Source:batch(i)
  local list = {}
  for r = (i - 1) * self.batchSize + 1, math.min(i * self.batchSize, #self.rows) do list[#list + 1] = r end
  return self:_tensors(list)
end

function Source:state() return {epoch = self._epoch, cursor = self._cursor} end

function Source:setState(s)
  self._epoch, self._cursor = s.epoch, s.cursor
  self:_reorder()
end

--- Instruction fine-tuning batches (:next() -> x, y, opts): records rendered with a chat template, prompt tokens' targets −100,
--- optionally packed with segments; opts {tokenizer, blockSize, template='plain', batchSize=8, pack=false, padId=0, seed=1, shuffle=true}.
function M.instructions(records, opts)
  if type(records) ~= 'table' or #records == 0 then error('llm.data.instructions: expected a non-empty list of records', 2) end
  if type(opts) ~= 'table' or not opts.tokenizer then error('llm.data.instructions: opts.tokenizer is required', 2) end
  local o = {template = 'plain', batchSize = 8, pack = false, padId = 0, seed = 1, shuffle = true}
  for k, v in pairs(opts) do
    if o[k] == nil and k ~= 'tokenizer' and k ~= 'blockSize' then error("llm.data.instructions: unknown option '" .. tostring(k) .. "'", 2) end
    o[k] = v
  end
  if math.type(o.blockSize) ~= 'integer' or o.blockSize < 2 then error("llm.data.instructions: Invalid 'blockSize': expected an integer >= 2", 2) end
  if math.type(o.batchSize) ~= 'integer' or o.batchSize < 1 then error("llm.data.instructions: Invalid 'batchSize': expected a positive integer", 2) end
  local examples, truncated = {}, 0
  for i, r in ipairs(records) do
    local ids, train = encode(o.tokenizer, M.pieces(messagesOf(r, i), o.template))
    if #ids > o.blockSize + 1 then truncated = truncated + 1 end
    local n = math.min(#ids, o.blockSize + 1)
    local e = {x = {}, y = {}}
    for j = 1, n - 1 do e.x[j] = ids[j]; e.y[j] = train[j + 1] and ids[j + 1] or IGNORE end
    if n >= 2 then examples[#examples + 1] = e end
  end
  local self = setmetatable({blockSize = o.blockSize, batchSize = o.batchSize, pack = o.pack and true or false, padId = o.padId,
    seed = o.seed, shuffle = o.shuffle, examples = #examples, truncated = truncated, _epoch = 0, _cursor = 1}, Source)
  self.rows = layout(examples, o.blockSize, self.pack)
  self:_reorder()
  return self
end

return M
