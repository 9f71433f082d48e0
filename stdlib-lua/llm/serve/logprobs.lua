-- llm.serve.logprobs: token log-probabilities for `llmscript serve` in the OpenAI wire formats.
-- A logprob is log_softmax of the model's raw logits at that position (temperature 1, no top-k/top-p:
-- the distribution the model computed, before any sampling change), as OpenAI and vLLM report them;
-- -inf is written as -9999.0 (JSON has no infinity). Only requests that ask for logprobs pay for them.
--   logprobs.entries(logits (m,V), ids {m 0-based ids}, k, tokenizer) -> {entry...}: entry = {text, logprob,
--     top = {{text, logprob}... k, most likely first}}; text = {token, bytes (raw), chars}
--   logprobs.prompt(logits (n,V), ids (1-D int64, n), k, tokenizer) -> entries of every prompt token (the
--     first has no logprob and no top: nothing precedes it)
--   logprobs.completion(entries, offset) -> {tokens, token_logprobs, top_logprobs, text_offset}, offset after:
--     the /v1/completions object; top_logprobs maps token text to logprob (the k most likely and the chosen
--     token, so up to k+1 keys); text_offset counts characters (UTF-8 code points) of prompt + completion.
--   logprobs.chat(entries) -> {content = {{token, logprob, bytes, top_logprobs = {{token, logprob, bytes}}}}, refusal}
-- A token's bytes are its raw bytes (a byte tokenizer's byte, a byte-level BPE token's bytes; other
-- tokenizers: the decoded text); its text is those bytes when they are valid UTF-8, else OpenAI's
-- 'bytes:\xNN...' form (a token that is part of a character).
local M = {}
local null = llm.json.null

local function finite(x) return x == -math.huge and -9999.0 or x end

-- GPT-2's byte alphabet, inverted: the code point standing for a byte -> the byte.
local gpt2 = (function()
  local map, n = {}, 0
  for b = 0, 255 do
    if (b >= 33 and b <= 126) or (b >= 161 and b <= 172) or (b >= 174) then map[b] = b else map[256 + n] = b; n = n + 1 end
  end
  return map
end)()

-- The raw bytes of a token: a byte tokenizer's byte, a byte-level BPE token's bytes, else its decoded text.
local function rawBytes(tokenizer, t, id)
  if t.type == 'byte' and id < 256 then return string.char(id) end
  local piece = t.type == 'bpe' and t.vocab and t.vocab[id + 1]
  if piece and not t.addedIds[id] then
    local out = {}
    for _, c in utf8.codes(piece) do
      if not gpt2[c] then return tokenizer:decode({id}) end
      out[#out + 1] = string.char(gpt2[c])
    end
    return table.concat(out)
  end
  return tokenizer:decode({id})
end

-- {token, bytes, chars} of an id: token is the text, or 'bytes:\xNN...' (OpenAI's form) for a token that is
-- part of a UTF-8 sequence; chars counts the code points it starts (its UTF-8 lead bytes).
local function text(tokenizer, id)
  local cache = M._texts[tokenizer]
  if not cache then
    local t = tokenizer:toTable()
    t.addedIds = {}
    for _, a in ipairs(t.added or {}) do t.addedIds[a.id] = true end
    cache = {table = t}
    M._texts[tokenizer] = cache
  end
  local x = cache[id]
  if not x then
    local raw = rawBytes(tokenizer, cache.table, id)
    local chars = select(2, raw:gsub('[^\x80-\xBF]', ''))
    x = {token = utf8.len(raw) and raw or 'bytes:' .. raw:gsub('.', function(c) return string.format('\\x%02x', c:byte()) end), bytes = raw, chars = chars}
    cache[id] = x
  end
  return x
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
    for j = 1, k do top[j] = {text = text(tokenizer, index[r][j]), logprob = finite(values[r][j])} end
    out[r] = {text = text(tokenizer, ids[r]), logprob = finite(chosen[r][1]), top = top}
  end
  return out
end

function M.prompt(logits, ids, k, tokenizer)
  local list = ids:totable()
  local n = #list
  local rest = n > 1 and M.entries(logits:narrow(1, 1, n - 1), table.move(list, 2, n, 1, {}), k, tokenizer) or {}
  table.insert(rest, 1, {text = text(tokenizer, list[1])})
  return rest
end

function M.completion(entries, offset)
  local o = {tokens = {}, token_logprobs = {}, top_logprobs = {}, text_offset = {}}
  for i, e in ipairs(entries) do
    o.tokens[i], o.token_logprobs[i], o.text_offset[i] = e.text.token, e.logprob or null, offset
    if e.top then
      local top = {[e.text.token] = e.logprob}
      for _, t in ipairs(e.top) do
        local k = t.text.token
        if top[k] == nil or top[k] < t.logprob then top[k] = t.logprob end
      end
      o.top_logprobs[i] = top
    else
      o.top_logprobs[i] = null
    end
    offset = offset + e.text.chars
  end
  for _, v in pairs(o) do llm.json.array(v) end
  return o, offset
end

local function item(e) return {token = e.text.token, logprob = e.logprob, bytes = llm.json.array({e.text.bytes:byte(1, -1)})} end

function M.chat(entries)
  local content = {}
  for i, e in ipairs(entries) do
    local top = {}
    for j, t in ipairs(e.top) do top[j] = item(t) end
    content[i] = item(e)
    content[i].top_logprobs = llm.json.array(top)
  end
  return {content = llm.json.array(content), refusal = null}
end

return M
