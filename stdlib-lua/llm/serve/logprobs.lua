-- llm.serve.logprobs: token log-probabilities for `llmscript serve` in the OpenAI wire formats.
-- A logprob is log_softmax of the model's raw logits at that position (temperature 1, no top-k/top-p:
-- the distribution the model computed, before any sampling change), as OpenAI and vLLM report them;
-- -inf is written as -9999.0 (JSON has no infinity). Only requests that ask for logprobs pay for them.
--   logprobs.entries(logits (m,V), ids {m 0-based ids}, k, tokenizer) -> {entry...}: entry = {id, token,
--     logprob, top = {{id, token, logprob}... k, most likely first}}
--   logprobs.prompt(logits (n,V), ids (1-D int64, n), k, tokenizer) -> entries of every prompt token (the
--     first has no logprob and no top: nothing precedes it)
--   logprobs.completion(entries, offset) -> {tokens, token_logprobs, top_logprobs, text_offset}, offset after:
--     the /v1/completions object; top_logprobs maps token text to logprob (the k most likely and the chosen
--     token, so up to k+1 keys); text_offset counts characters (UTF-8 code points) of prompt + completion.
--   logprobs.chat(entries) -> {content = {{token, logprob, bytes, top_logprobs = {{token, logprob, bytes}}}}, refusal}
-- Token text is the tokenizer's decoding of the token alone (a token that is part of a UTF-8 sequence
-- decodes to U+FFFD).
local M = {}
local null = llm.json.null

local function finite(x) return x == -math.huge and -9999.0 or x end

local function text(tokenizer, id)
  local cache = M._texts[tokenizer]
  if not cache then cache = {}; M._texts[tokenizer] = cache end
  local t = cache[id]
  if not t then t = tokenizer:decode({id}); cache[id] = t end
  return t
end
M._texts = setmetatable({}, {__mode = 'k'})

function M.entries(logits, ids, k, tokenizer)
  local m = #ids
  if m == 0 then return {} end
  local lp = logits:float():logSoftmax(2)
  local chosen = lp:gather(2, llm.tensor(ids, {dtype = 'int64'}):unsqueeze(2)):totable()
  local values, index
  if k > 0 then
    local v, i = lp:topk(k, 2)
    values, index = v:totable(), i:totable()
  end
  local out = {}
  for r = 1, m do
    local top = {}
    for j = 1, k do top[j] = {id = index[r][j], token = text(tokenizer, index[r][j]), logprob = finite(values[r][j])} end
    out[r] = {id = ids[r], token = text(tokenizer, ids[r]), logprob = finite(chosen[r][1]), top = top}
  end
  return out
end

function M.prompt(logits, ids, k, tokenizer)
  local list = ids:totable()
  local n = #list
  local rest = n > 1 and M.entries(logits:narrow(1, 1, n - 1), table.move(list, 2, n, 1, {}), k, tokenizer) or {}
  table.insert(rest, 1, {id = list[1], token = text(tokenizer, list[1])})
  return rest
end

local function chars(s) return utf8.len(s) or #s end

function M.completion(entries, offset)
  local o = {tokens = {}, token_logprobs = {}, top_logprobs = {}, text_offset = {}}
  for i, e in ipairs(entries) do
    o.tokens[i], o.token_logprobs[i], o.text_offset[i] = e.token, e.logprob or null, offset
    if e.top then
      local top = {[e.token] = e.logprob}
      for _, t in ipairs(e.top) do
        if top[t.token] == nil or top[t.token] < t.logprob then top[t.token] = t.logprob end
      end
      o.top_logprobs[i] = top
    else
      o.top_logprobs[i] = null
    end
    offset = offset + chars(e.token)
  end
  for _, v in pairs(o) do llm.json.array(v) end
  return o, offset
end

local function bytes(s) return llm.json.array({s:byte(1, -1)}) end

function M.chat(entries)
  local content = {}
  for i, e in ipairs(entries) do
    local top = {}
    for j, t in ipairs(e.top) do top[j] = {token = t.token, logprob = t.logprob, bytes = bytes(t.token)} end
    content[i] = {token = e.token, logprob = e.logprob, bytes = bytes(e.token), top_logprobs = llm.json.array(top)}
  end
  return {content = llm.json.array(content), refusal = null}
end

return M
