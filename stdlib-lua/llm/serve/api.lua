-- llm.serve.api: the OpenAI request and response shapes of `llmscript serve`, kept apart from the
-- transport (LLMServe, llm.serve.*) and the decoding (llm.nn.decode).
--   api.parse(path, body, ctx) -> request | nil, {status, body}: checks a /v1/completions or
--     /v1/chat/completions body against the served model (ctx = {model, blockSize, tokenizer, template,
--     eos, maxTokens}) and returns {chat, stream, includeUsage, prompt (1-D int64 ids), maxTokens,
--     sampling = {temperature, topK, topP, seed}, stop = {strings}, created, model, logprobs (top count or nil:
--     none; completions `logprobs: 0..5`, chat `logprobs: true` + `top_logprobs: 0..20`), echo (completions;
--     max_tokens may then be 0: the prompt is scored only), promptText (with echo or logprobs)}; errors are OpenAI
--     error bodies: {"error": {"message", "type", "param", "code"}} with status 400 (bad field, prompt too
--     long for the context), 404 (unknown model).
--   api.error(status, message, [param], [code], [type]) -> {status, body}
--   api.result(request, id, text, finish, promptTokens, completionTokens, [logprobs]) -> JSON text
--   api.chunk(request, id, text | nil, finish | nil, [first], [logprobs]) -> one server-sent event; api.usageChunk,
--   api.done ('data: [DONE]').
local chat = require 'llm.chat'

local M = {}
local null = llm.json.null

function M.error(status, message, param, code, kind)
  return {status = status, body = llm.json.encode({error = {message = message, type = kind or 'invalid_request_error',
    param = param or null, code = code or null}})}
end

local function given(v) return v ~= nil and v ~= null end

local function bad(message, param, code) return nil, M.error(400, message, param, code or 'invalid_value') end

-- The prompt's token ids (1-D int64) of a completions request, or nil, error.
local function completionPrompt(t, ctx)
  local p = t.prompt
  if type(p) == 'table' and #p == 1 and (type(p[1]) == 'string' or type(p[1]) == 'table') then p = p[1] end
  if type(p) == 'string' then return p end
  if type(p) == 'table' and #p > 0 then
    local vocab = ctx.tokenizer:vocabSize()
    for i, id in ipairs(p) do
      if math.type(id) ~= 'integer' then
        return nil, select(2, bad("'prompt' must be a string, a list of one string, or a list of token ids (several prompts are not supported; send one request each)", 'prompt'))
      end
      if id < 0 or id >= vocab then return nil, select(2, bad(string.format("'prompt' token %d at index %d is outside the vocabulary (0..%d)", id, i - 1, vocab - 1), 'prompt')) end
    end
    return llm.tensor(p, {dtype = 'int64'})
  end
  return nil, select(2, bad("'prompt' must be a string, a list of one string, or a list of token ids", 'prompt', given(p) and 'invalid_value' or 'missing_required_parameter'))
end

-- Reads logprobs / top_logprobs / echo into r.logprobs (top count, or nil: none) and r.echo; false, message, param.
local function logprobOptions(t, r)
  if r.chat then
    if given(t.echo) and t.echo ~= false then return false, "'echo' is a /v1/completions parameter", 'echo' end
    if given(t.logprobs) and type(t.logprobs) ~= 'boolean' then return false, "'logprobs' must be a boolean", 'logprobs' end
    local k = t.top_logprobs
    if given(k) then
      if math.type(k) ~= 'integer' or k < 0 or k > 20 then return false, "'top_logprobs' must be an integer in [0, 20]", 'top_logprobs' end
      if t.logprobs ~= true then return false, "'top_logprobs' needs 'logprobs' set to true", 'top_logprobs' end
    end
    if t.logprobs == true then r.logprobs = given(k) and k or 0 end
    return true
  end
  if given(t.echo) and type(t.echo) ~= 'boolean' then return false, "'echo' must be a boolean", 'echo' end
  r.echo = t.echo == true
  local k = t.logprobs
  if given(k) and k ~= false then   -- false: none, as before logprobs existed
    if math.type(k) ~= 'integer' or k < 0 or k > 5 then return false, "'logprobs' must be an integer in [0, 5]", 'logprobs' end
    r.logprobs = k
  end
  return true
end

--- Checks a request body; see the module header.
function M.parse(path, body, ctx)
  local ok, t = pcall(llm.json.decode, body)
  if not ok or type(t) ~= 'table' or getmetatable(t) ~= nil or #t > 0 then return bad('The request body must be a JSON object', nil, 'invalid_json') end
  local isChat = path == '/v1/chat/completions'
  if type(t.model) ~= 'string' then return bad("you must provide a 'model' parameter", 'model', 'missing_required_parameter') end
  if t.model ~= ctx.model then
    return nil, M.error(404, string.format("The model '%s' does not exist (this server serves '%s')", t.model, ctx.model), 'model', 'model_not_found')
  end
  if given(t.n) and t.n ~= 1 then return bad("'n' must be 1: this server returns one choice per request", 'n', 'unsupported_value') end
  if given(t.best_of) and t.best_of ~= 1 then return bad("'best_of' must be 1", 'best_of', 'unsupported_value') end
  if given(t.stream) and type(t.stream) ~= 'boolean' then return bad("'stream' must be a boolean", 'stream') end
  local r = {chat = isChat, stream = t.stream == true, created = os.time(), model = ctx.model, stop = {}}
  local okLp, lpMessage, lpParam = logprobOptions(t, r)
  if not okLp then return bad(lpMessage, lpParam) end
  if given(t.stream_options) then
    if type(t.stream_options) ~= 'table' then return bad("'stream_options' must be an object", 'stream_options') end
    r.includeUsage = t.stream_options.include_usage == true
  end
  local s = {temperature = 1.0, logits = r.logprobs ~= nil}   -- the batch keeps raw logits only for logprobs
  if given(t.temperature) then
    if type(t.temperature) ~= 'number' or t.temperature < 0 or t.temperature > 2 then return bad("'temperature' must be a number in [0, 2]", 'temperature') end
    s.temperature = t.temperature
  end
  if given(t.top_p) then
    if type(t.top_p) ~= 'number' or t.top_p <= 0 or t.top_p > 1 then return bad("'top_p' must be a number in (0, 1]", 'top_p') end
    if t.top_p < 1 then s.topP = t.top_p end
  end
  if given(t.top_k) then
    if math.type(t.top_k) ~= 'integer' or t.top_k < 0 then return bad("'top_k' must be a non-negative integer (0: off)", 'top_k') end
    if t.top_k > 0 then s.topK = t.top_k end
  end
  if given(t.seed) then
    if math.type(t.seed) ~= 'integer' then return bad("'seed' must be an integer", 'seed') end
    s.seed = t.seed
  end
  r.sampling = s
  local stop = t.stop
  if type(stop) == 'string' then stop = {stop} end
  if given(stop) then
    if type(stop) ~= 'table' or #stop > 4 then return bad("'stop' must be a string or a list of at most 4 strings", 'stop') end
    for _, x in ipairs(stop) do
      if type(x) ~= 'string' or x == '' then return bad("'stop' entries must be non-empty strings", 'stop') end
      r.stop[#r.stop + 1] = x
    end
  end
  local text, ids, err
  if isChat then
    local messages, msg, param = chat.normalize(t.messages)
    if not messages then return bad(msg, param, given(t.messages) and 'invalid_value' or 'missing_required_parameter') end
    local template = chat.templates[ctx.template]
    text = template.render(messages, true)
    for _, x in ipairs(template.stop) do r.stop[#r.stop + 1] = x end
  else
    text, err = completionPrompt(t, ctx)
    if not text then return nil, err end
  end
  if type(text) == 'string' then
    if text == '' then
      if not ctx.eos then return bad("'prompt' is empty (this model has no end-of-text token to start from)", 'prompt') end
      ids = llm.tensor({ctx.eos}, {dtype = 'int64'})
    else
      local okEnc, encoded = pcall(ctx.tokenizer.encode, ctx.tokenizer, text)
      if not okEnc then return bad('The prompt cannot be tokenized: ' .. tostring(encoded), isChat and 'messages' or 'prompt') end
      ids = encoded
    end
  else
    ids = text
  end
  local n = ids:numel()
  local maxTokens = t.max_completion_tokens
  if not given(maxTokens) then maxTokens = t.max_tokens end
  local param = given(t.max_completion_tokens) and 'max_completion_tokens' or 'max_tokens'
  local least = r.echo and 0 or 1   -- max_tokens 0 with echo scores the prompt only
  if given(maxTokens) and (math.type(maxTokens) ~= 'integer' or maxTokens < least) then
    return bad(string.format("'%s' must be a %s integer", param, r.echo and 'non-negative' or 'positive'), param)
  end
  if n > ctx.blockSize or (n == ctx.blockSize and maxTokens ~= 0) then
    return bad(string.format("This model's maximum context length is %d tokens. However, your prompt has %d tokens, which leaves no room for a completion.",
      ctx.blockSize, n), isChat and 'messages' or 'prompt', 'context_length_exceeded')
  end
  if given(maxTokens) then
    if maxTokens > ctx.maxTokens then return bad(string.format("'%s' is %d; this server allows at most %d", param, maxTokens, ctx.maxTokens), param) end
    if n + maxTokens > ctx.blockSize then
      return bad(string.format("This model's maximum context length is %d tokens. However, you requested %d tokens "
        .. '(%d in the prompt, %d for the completion). Reduce the prompt or the completion length.',
        ctx.blockSize, n + maxTokens, n, maxTokens), param, 'context_length_exceeded')
    end
  else
    maxTokens = math.min(isChat and ctx.blockSize - n or 16, ctx.blockSize - n, ctx.maxTokens)
  end
  r.prompt, r.maxTokens = ids, maxTokens
  if r.echo or r.logprobs then r.promptText = type(text) == 'string' and text or ctx.tokenizer:decode(ids) end
  return r
end

local function envelope(r, id)
  return {id = (r.chat and 'chatcmpl-' or 'cmpl-') .. id, created = r.created, model = r.model}
end

local function usage(p, c) return {prompt_tokens = p, completion_tokens = c, total_tokens = p + c} end

--- The JSON body of a finished non-streamed request.
function M.result(r, id, text, finish, promptTokens, completionTokens, logprobs)
  local e = envelope(r, id)
  if r.chat then
    e.object = 'chat.completion'
    e.choices = {{index = 0, message = {role = 'assistant', content = text}, logprobs = logprobs or null, finish_reason = finish}}
  else
    e.object = 'text_completion'
    e.choices = {{index = 0, text = text, logprobs = logprobs or null, finish_reason = finish}}
  end
  e.usage = usage(promptTokens, completionTokens)
  return llm.json.encode(e)
end

--- One server-sent event of a stream: new text (or nil) and/or the finish reason (or nil).
function M.chunk(r, id, text, finish, first, logprobs)
  local e = envelope(r, id)
  if r.chat then
    e.object = 'chat.completion.chunk'
    local delta = {}
    if first then delta.role = 'assistant' end
    if text then delta.content = text end
    e.choices = {{index = 0, delta = delta, logprobs = logprobs or null, finish_reason = finish or null}}
  else
    e.object = 'text_completion'
    e.choices = {{index = 0, text = text or '', logprobs = logprobs or null, finish_reason = finish or null}}
  end
  return 'data: ' .. llm.json.encode(e) .. '\n\n'
end

--- The last event of a stream that asked for usage (stream_options.include_usage): no choices.
function M.usageChunk(r, id, promptTokens, completionTokens)
  local e = envelope(r, id)
  e.object = r.chat and 'chat.completion.chunk' or 'text_completion'
  e.choices = llm.json.array({})
  e.usage = usage(promptTokens, completionTokens)
  return 'data: ' .. llm.json.encode(e) .. '\n\n'
end

M.done = 'data: [DONE]\n\n'

return M
