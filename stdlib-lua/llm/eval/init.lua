-- llm.eval: scoring a causal language model (anything callable as model(ids (B,T)) -> logits (B,T,V), with
-- model._config.blockSize or maxSeq as its context) on text and on multiple-choice tasks. All logs are natural.
--   eval.tokenLogprobs(model, ids, {stride, batch}) -> {lp...}: lp[i] = log p(ids[i+1] | ids[<=i]) for the n-1
--     predictable tokens of a list of 0-based ids. A text longer than the context is scored in sliding windows
--     (Hugging Face's "perplexity of fixed-length models"): windows of L input tokens (the context length) whose
--     ends advance by stride (default L/2); each window scores only the tokens the previous ones did not, so
--     every token after the first L + 1 is predicted from at least L - stride + 1 tokens; stride = L gives
--     disjoint windows.
--   eval.text(model, tokenizer, text, opts) -> {tokens, bytes, nll, ppl, bitsPerToken, bitsPerByte}: the first
--     token is the context of the rest (there is no BOS), so `bytes` counts the UTF-8 bytes of the original text
--     after the first character/token; bitsPerByte = nll / ln 2 / bytes (tokenizer independent), ppl = exp(nll /
--     (tokens - 1)). Unknown characters must map to an unk id (eval.withUnk).
--   eval.continuationLogprob(model, tokenizer, context, continuation) -> sum, {per-token lp}: lm-evaluation-
--     harness's loglikelihood request: trailing spaces of the context move to the continuation, the pair is
--     encoded whole and the continuation is the tokens after those of the context (left-truncated to the
--     context length + 1).
--   eval.multipleChoice(model, tokenizer, docs, {delimiter=' ', bins=10}) -> summary, perDoc: docs are
--     {context, choices, gold (0-based), [delimiter]}; each choice is scored as delimiter .. choice (a document's
--     own delimiter first: lm-eval's target_delimiter). acc: argmax of the summed
--     logprob; acc_norm: argmax of logprob / the choice's length in characters (lm-eval's acc_norm: len() of the
--     choice string, without the delimiter); acc_bytes: over UTF-8 bytes. Ties go to the first choice (numpy
--     argmax). Calibration: the chosen (acc) answer's probability under a softmax over the choices' summed
--     logprobs, eval.ece over `bins` equal-width bins.
--   eval.ece(conf, correct, bins) -> ece, rows: expected calibration error sum_b (n_b / N) |acc_b - conf_b| over
--     bins (k-1)/B < p <= k/B (p = 0 goes to the first bin); rows = {lo, hi, n, acc, conf} per non-empty bin.
--   eval.withUnk(tokenizer, unk) -> tokenizer, unkId: a character tokenizer without an unk id gets one (unk: a
--     character of its vocabulary or an id; default U+FFFD when the vocabulary holds it, else the space, else id
--     0); other tokenizers are returned as they are. Old checkpoints load unchanged; the id is only added here.
--   eval.unknownCount(tokenizerTable, text) -> n: characters of text outside a char tokenizer's vocabulary.
local M = {}

local LN2 = math.log(2)

local function contextLength(model)
  local c = model._config or {}
  local L = c.blockSize or c.maxSeq
  if not math.tointeger(L) or L < 2 then error('eval: the model has no usable context length (blockSize/maxSeq)', 3) end
  return L
end
M.contextLength = contextLength

-- log p of each target row: inputs is a list of equal-length id lists, targets likewise; returns lists of lps.
local function forward(model, inputs, targets)
  return llm.noGrad(function()
    local logits = model(llm.tensor(inputs, {dtype = 'int64'}))
    local lp = logits:logSoftmax(3)
    local idx = llm.tensor(targets, {dtype = 'int64'}):reshape({#targets, #targets[1], 1})
    local picked = lp:gather(3, idx):totable()
    local out = {}
    for b = 1, #picked do
      local row = {}
      for t = 1, #picked[b] do row[t] = picked[b][t][1] end
      out[b] = row
    end
    return out
  end)
end

--- Per-token logprobs of ids[2..n] given the preceding ids, in sliding windows (see the header).
function M.tokenLogprobs(model, ids, opts)
  opts = opts or {}
  local L = contextLength(model)
  local stride = opts.stride or math.max(1, L // 2)
  if not math.tointeger(stride) or stride < 1 or stride > L then error('eval: stride must be an integer in 1..' .. L, 2) end
  local batch = opts.batch or 8
  local n = #ids
  local windows = {}   -- {s, e, first}: input ids[s..e-1], targets ids[s+1..e], score targets with index >= first
  local prevEnd, e = 1, math.min(n, L + 1)
  while n >= 2 do
    local s = math.max(1, e - L)
    windows[#windows + 1] = {s = s, e = e, first = prevEnd + 1}
    if e == n then break end
    prevEnd = e
    e = math.min(n, e + stride)
  end
  local lps = {}
  local i = 1
  while i <= #windows do
    local len = windows[i].e - windows[i].s
    local group = {}
    while i <= #windows and #group < batch and windows[i].e - windows[i].s == len do group[#group + 1] = windows[i]; i = i + 1 end
    local inputs, targets = {}, {}
    for g, w in ipairs(group) do
      local x, y = {}, {}
      for k = w.s, w.e - 1 do x[#x + 1] = ids[k]; y[#y + 1] = ids[k + 1] end
      inputs[g], targets[g] = x, y
    end
    local rows = forward(model, inputs, targets)
    for g, w in ipairs(group) do
      for k = w.first, w.e do lps[k - 1] = rows[g][k - w.s] end
    end
  end
  return lps
end

local function firstTokenBytes(tokenizer, text, ids)
  local t = tokenizer:toTable()
  if t.type == 'char' then return #text:match('^' .. utf8.charpattern) end
  return #tokenizer:decode({ids[1]})
end

local function idList(tokenizer, text)
  return tokenizer:encode(text):totable()
end

--- Perplexity and bits per byte of one text (see the header).
function M.text(model, tokenizer, text, opts)
  if type(text) ~= 'string' then error('eval.text: expected a string', 2) end
  local ids = idList(tokenizer, text)
  if #ids < 2 then error('eval.text: the text is shorter than two tokens', 2) end
  local lps = M.tokenLogprobs(model, ids, opts)
  local nll = 0
  for _, v in ipairs(lps) do nll = nll - v end
  local bytes = #text - firstTokenBytes(tokenizer, text, ids)
  local predicted = #ids - 1
  return {tokens = #ids, predicted = predicted, bytes = bytes, nll = nll, ppl = math.exp(nll / predicted),
          bitsPerToken = nll / LN2 / predicted, bitsPerByte = nll / LN2 / bytes}
end

--- lm-eval's loglikelihood of continuation given context: sum and per-token logprobs.
function M.continuationLogprob(model, tokenizer, context, continuation)
  if context == '' then error('eval: an empty context (lm-eval conditions on a BOS/EOS token; this tokenizer has none)', 2) end
  local stripped = context:gsub('%s+$', '')
  if stripped ~= context then
    continuation = context:sub(#stripped + 1) .. continuation
    context = stripped
    if context == '' then error('eval: a context of white space only', 2) end
  end
  local whole = idList(tokenizer, context .. continuation)
  local nctx = #idList(tokenizer, context)
  local ncont = #whole - nctx
  if ncont < 1 then error("eval: the continuation '" .. continuation .. "' encodes to no tokens", 2) end
  local L = contextLength(model)
  -- lm-eval: inp = (context_enc + continuation_enc)[-(max_length + 1):][:-1]
  local start = math.max(1, #whole - L)
  local x, y = {}, {}
  for k = start, #whole - 1 do x[#x + 1] = whole[k]; y[#y + 1] = whole[k + 1] end
  local row = forward(model, {x}, {y})[1]
  local per, sum = {}, 0
  for k = #row - ncont + 1, #row do per[#per + 1] = row[k]; sum = sum + row[k] end
  return sum, per
end

local function argmax(xs)
  local best = 1
  for i = 2, #xs do if xs[i] > xs[best] then best = i end end
  return best
end

--- Expected calibration error over equal-width bins (see the header).
function M.ece(conf, correct, bins)
  bins = bins or 10
  if not math.tointeger(bins) or bins < 1 then error('eval.ece: bins must be a positive integer', 2) end
  if #conf ~= #correct then error('eval.ece: conf and correct differ in length', 2) end
  if #conf == 0 then return 0, {} end
  local n, sc, sa = {}, {}, {}
  for b = 1, bins do n[b], sc[b], sa[b] = 0, 0, 0 end
  for i, p in ipairs(conf) do
    if p < 0 or p > 1 then error('eval.ece: a confidence outside [0, 1]: ' .. tostring(p), 2) end
    local b = math.min(bins, math.max(1, math.ceil(p * bins - 1e-12)))
    n[b] = n[b] + 1; sc[b] = sc[b] + p; sa[b] = sa[b] + (correct[i] and 1 or 0)
  end
  local ece, rows = 0, {}
  for b = 1, bins do
    if n[b] > 0 then
      local acc, c = sa[b] / n[b], sc[b] / n[b]
      ece = ece + n[b] / #conf * math.abs(acc - c)
      rows[#rows + 1] = {lo = (b - 1) / bins, hi = b / bins, n = n[b], acc = acc, conf = c}
    end
  end
  return ece, rows
end

--- Multiple-choice scoring (see the header).
function M.multipleChoice(model, tokenizer, docs, opts)
  opts = opts or {}
  local delimiter = opts.delimiter or ' '
  local perDoc, confs, corrects = {}, {}, {}
  local acc, accNorm, accBytes = 0, 0, 0
  for d, doc in ipairs(docs) do
    local lls, chars, bytes = {}, {}, {}
    for c, choice in ipairs(doc.choices) do
      lls[c] = M.continuationLogprob(model, tokenizer, doc.context, (doc.delimiter or delimiter) .. choice)
      chars[c], bytes[c] = utf8.len(choice), #choice
    end
    local norm, byteNorm = {}, {}
    for c = 1, #lls do norm[c] = lls[c] / chars[c]; byteNorm[c] = lls[c] / bytes[c] end
    local pred, predNorm, predBytes = argmax(lls), argmax(norm), argmax(byteNorm)
    local gold = doc.gold + 1
    local m, z = lls[pred], 0
    for c = 1, #lls do z = z + math.exp(lls[c] - m) end
    confs[d], corrects[d] = 1 / z, pred == gold
    acc = acc + (pred == gold and 1 or 0)
    accNorm = accNorm + (predNorm == gold and 1 or 0)
    accBytes = accBytes + (predBytes == gold and 1 or 0)
    perDoc[d] = {loglikelihoods = lls, pred = pred - 1, predNorm = predNorm - 1, gold = doc.gold, confidence = confs[d]}
  end
  local ece, rows = M.ece(confs, corrects, opts.bins or 10)
  local n = #docs
  return {docs = n, acc = acc / n, acc_norm = accNorm / n, acc_bytes = accBytes / n, ece = ece, bins = opts.bins or 10,
          calibration = rows}, perDoc
end

--- A char tokenizer with an unk id (see the header); returns tokenizer, unkId (nil for other kinds).
function M.withUnk(tokenizer, unk)
  local t = tokenizer:toTable()
  if t.type ~= 'char' then return tokenizer, nil end
  if t.unk and unk == nil then return tokenizer, t.unk end
  local index = {}
  for i, ch in ipairs(t.vocab) do index[ch] = i - 1 end
  local id
  if unk == nil then id = index['\u{FFFD}'] or index[' '] or 0
  elseif math.tointeger(tonumber(unk)) and not index[unk] then id = math.tointeger(tonumber(unk))
  else id = index[unk] end
  if id == nil or id < 0 or id >= #t.vocab then
    error("eval: unk '" .. tostring(unk) .. "' is neither a character of the vocabulary nor an id in 0.." .. (#t.vocab - 1), 2)
  end
  t.unk = id
  return llm.data.tokenizerFromTable(t), id
end

--- Characters of text outside a char tokenizer table's vocabulary (0 for other kinds).
function M.unknownCount(t, text)
  if t.type ~= 'char' then return 0 end
  local known, n = {}, 0
  for _, ch in ipairs(t.vocab) do known[ch] = true end
  for _, c in utf8.codes(text) do if not known[utf8.char(c)] then n = n + 1 end end
  return n
end

return M
