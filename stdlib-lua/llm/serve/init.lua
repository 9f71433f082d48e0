-- llm.serve: the engine of `llmscript serve CHECKPOINT [--host 127.0.0.1] [--port 8080] [--api-key KEY]
-- [--max-concurrency 8] [--max-queue 64] [--max-body BYTES] [--max-tokens N] [--timeout S] [--grace S]
-- [--model-name ID] [--chat-template chatml|llama|plain] [--threads N]`. --host is a numeric IPv4 or IPv6
-- address (::1 loopback, :: every interface, IPv4 included) or localhost.
-- One thread (this Lua state) owns the model: it loops taking queued requests from the HTTP server
-- (llm.serve.poll), checks them (llm.serve.api), joins each to one continuous batch (llm.nn.decode.Batch:
-- one batched forward per token step for every active request) and answers: a whole body, or
-- server-sent events as tokens arrive. Requests whose client left (or timed out) leave the batch at the
-- next step. On SIGTERM/SIGINT it stops taking requests (503), lets running ones finish for --grace
-- seconds, ends the rest, and returns. The API key may also come from $LLMSCRIPT_API_KEY.
--   main(words) -> exit status (messages printed; 0 done, 1 an error, 2 a usage error)
local api = require 'llm.serve.api'
local args = require 'llm.serve.args'
local chat = require 'llm.chat'
local decode = require 'llm.nn.decode'
local logprobs = require 'llm.serve.logprobs'

local M = {}

local spec = {host = 'string', port = 'integer', ['api-key'] = 'string', ['max-concurrency'] = 'integer', ['max-queue'] = 'integer',
  ['max-body'] = 'integer', ['max-tokens'] = 'integer', timeout = 'number', grace = 'number', ['model-name'] = 'string',
  ['chat-template'] = 'string', threads = 'integer', help = 'flag'}

M.usage = 'usage: llmscript serve CHECKPOINT [--host 127.0.0.1] [--port 8080] [--api-key KEY] [--max-concurrency 8] [--max-queue 64]\n'
  .. '         [--max-body 1048576] [--max-tokens N] [--timeout 600] [--grace 30] [--model-name ID] [--chat-template chatml|llama|plain] [--threads N]'

-- The end-of-text token id of a tokenizer, if it has one.
local function eosOf(tokenizer)
  local t = tokenizer:toTable()
  for _, a in ipairs(t.added or {}) do if a.content == '<|endoftext|>' then return a.id end end
  return nil
end

-- The longest suffix of text that begins one of the stop strings (held back while streaming).
local function pendingStop(text, stops)
  local hold = 0
  for _, s in ipairs(stops) do
    for k = math.min(#s - 1, #text), 1, -1 do
      if k > hold and text:sub(-k) == s:sub(1, k) then hold = k; break end
    end
  end
  return hold
end

--- A server over a loaded model: its handle(request), step() and the live requests (`live`).
function M.engine(model, tokenizer, ctx, limits)
  local e = {batch = decode.Batch(model), live = {}}
  local transport = llm.serve

  -- The logprobs object of entries (the request's wire format), or nil when the request has none.
  local function lpObject(s, entries)
    if not s.req.logprobs then return nil end
    if s.req.chat then return logprobs.chat(entries) end
    local o
    o, s.offset = logprobs.completion(entries, s.offset)
    return o
  end

  -- The pending logprob entries of tokens that start before byte `upto` of the completion text.
  local function take(s, upto)
    local out, keep = {}, {}
    for _, x in ipairs(s.pending) do
      if x.at < upto then out[#out + 1] = x else keep[#keep + 1] = x end
    end
    s.pending = keep
    return out
  end

  local function close(s, finish)
    local r, id = s.req, s.id
    local pt, ct = r.prompt:numel(), s.count
    transport.tokens(pt, ct)
    if s.row then e.batch:remove(s.row) end
    e.live[s] = nil
    local lp = take(s, s.cut and #s.text or math.huge)
    if not r.stream then
      if s.promptEntries then lp = table.move(lp, 1, #lp, #s.promptEntries + 1, s.promptEntries) end
      transport.answer(id, 200, api.result(r, id, (s.prefix or '') .. s.text, finish, pt, ct, lpObject(s, lp)))
      return
    end
    local rest = s.text:sub(s.sent + 1)
    if rest ~= '' or #lp > 0 then transport.write(id, api.chunk(r, id, rest, nil, s.sent == 0 and not s.started, lpObject(s, lp))) end
    transport.write(id, api.chunk(r, id, nil, finish))
    if r.includeUsage then transport.write(id, api.usageChunk(r, id, pt, ct)) end
    transport.write(id, api.done)
    transport.finish(id)
  end

  -- Takes the row's newest token: stop, length, or more text (streamed when safe).
  local function consume(s)
    local tok = s.row.next
    s.count = s.count + 1
    if tok == ctx.eos then return close(s, 'stop') end
    if s.req.logprobs then
      local x = logprobs.entries(s.row.logits, {tok}, s.req.logprobs, tokenizer)[1]
      x.at = #s.text
      s.pending[#s.pending + 1] = x
    end
    s.ids[#s.ids + 1] = tok
    local text = tokenizer:decode(s.ids)
    for _, stop in ipairs(s.req.stop) do
      local at = text:find(stop, math.max(1, #s.text - #stop), true)
      if at then s.text, s.cut = text:sub(1, at - 1), true; return close(s, 'stop') end
    end
    s.text = text
    if s.count >= s.req.maxTokens then return close(s, 'length') end
    if s.req.stream then
      local safe = #text - pendingStop(text, s.req.stop)
      if text:sub(safe - 2, safe) == '\xEF\xBF\xBD' then safe = safe - 3 end   -- an incomplete UTF-8 sequence so far
      if safe > s.sent then
        if not transport.write(s.id, api.chunk(s.req, s.id, text:sub(s.sent + 1, safe), nil, not s.started, lpObject(s, take(s, safe)))) then
          e.batch:remove(s.row); e.live[s] = nil
          return
        end
        s.started, s.sent = true, safe
      end
    end
  end

  --- Checks and starts one request taken from the queue ({id, path, body}).
  function e.handle(q)
    local r, err = api.parse(q.path, q.body, ctx)
    if not r then return transport.answer(q.id, err.status, err.body) end
    local s = {id = q.id, req = r, ids = {}, text = '', sent = 0, count = 0, pending = {}}
    if r.echo then s.prefix = r.promptText end
    if r.logprobs and not r.chat then s.offset = r.echo and 0 or utf8.len(r.promptText) or #r.promptText end
    if r.stream and not transport.begin(q.id) then return end
    local promptLogits
    if r.maxTokens == 0 then
      promptLogits = r.logprobs and e.batch:score(r.prompt)
    else
      s.row = e.batch:add(r.prompt, r.sampling)
      promptLogits, s.row.promptLogits = s.row.promptLogits, nil
    end
    if r.echo and r.logprobs then s.promptEntries = logprobs.prompt(promptLogits, r.prompt, r.logprobs, tokenizer) end
    if r.echo and r.stream then
      transport.write(q.id, api.chunk(r, q.id, s.prefix, nil, true, lpObject(s, s.promptEntries or {})))
      s.started, s.promptEntries = true, nil
    end
    if not s.row then return close(s, 'length') end
    e.live[s] = true
    consume(s)
  end

  --- One batched decoding step for every live request (those whose client left are dropped first).
  function e.step()
    for s in pairs(e.live) do
      if transport.gone(s.id) then e.batch:remove(s.row); e.live[s] = nil end
    end
    if e.batch:size() == 0 then return end
    e.batch:step()
    for s in pairs(e.live) do consume(s) end
  end

  --- Ends every live request (shutdown or an engine failure): 500 for whole answers, a closed stream.
  function e.abort(message)
    for s in pairs(e.live) do
      if s.req.stream then transport.finish(s.id) else
        local x = api.error(500, message, nil, 'engine_error', 'server_error')
        transport.answer(s.id, x.status, x.body)
      end
      e.live[s] = nil
    end
    e.batch = decode.Batch(model)
  end

  function e.count()
    local n = 0
    for _ in pairs(e.live) do n = n + 1 end
    return n
  end

  e.limits = limits
  return e
end

--- Runs the server until a shutdown; see the module header.
local function run(words)
  local o, pos = args.parse(words, spec)
  if not o then return 2, pos .. '\n' .. M.usage end
  if o.help then return 0, M.usage end
  if #pos ~= 1 then return 2, 'expected one CHECKPOINT\n' .. M.usage end
  if o['chat-template'] and not chat.templates[o['chat-template']] then
    return 2, "unknown --chat-template '" .. o['chat-template'] .. "' (chatml, llama, plain)"
  end
  for _, k in ipairs({'max-concurrency', 'max-queue', 'max-body', 'max-tokens', 'threads'}) do
    if o[k] ~= nil and o[k] < 1 then return 2, string.format("'--%s' must be a positive integer", k) end
  end
  if o.threads then llm.setThreads(o.threads) end
  local t0 = llm.clock()
  local okLoad, model, tokenizer, info = pcall(require('llm.checkpointmodel'), pos[1])
  if not okLoad then return 1, tostring(model) end
  local blockSize = model._config.blockSize
  local name = o['model-name'] or (pos[1]:gsub('/+$', ''):match('([^/]+)$'))
  local ctx = {model = name, blockSize = blockSize, tokenizer = tokenizer, template = o['chat-template'] or chat.forModel(info),
    eos = eosOf(tokenizer), maxTokens = o['max-tokens'] or blockSize}
  local host = o.host or '127.0.0.1'
  host = host:match('^%[(.*)%]$') or host   -- [::1] as in a URL
  local okStart, port = pcall(llm.serve.start, {host = host, port = o.port or 8080, apiKey = o['api-key'] or os.getenv('LLMSCRIPT_API_KEY'),
    model = name, maxQueue = o['max-queue'] or 64, maxBody = o['max-body'] or 1048576, timeout = o.timeout or 600})
  if not okStart then return 1, tostring(port) end
  llm.serve.handleSignals()
  print(string.format("llmscript serve: '%s' (%s, %d parameters, context %d, chat template %s) loaded in %.2f s; listening on http://%s:%d",
    name, info.extra.modelClass or 'nn.GPT', info.parameters, blockSize, ctx.template, llm.clock() - t0, host:find(':') and '[' .. host .. ']' or host, port))
  io.stdout:flush()
  local e = M.engine(model, tokenizer, ctx)
  local maxActive, grace = o['max-concurrency'] or 8, o.grace or 30
  local deadline
  while true do
    if not deadline and llm.serve.stopping() then
      llm.serve.shutdown()
      deadline = llm.clock() + grace
      print(string.format('llmscript serve: shutting down (%d running; up to %g s to finish)', e.count(), grace))
      io.stdout:flush()
    end
    if deadline and (e.count() == 0 or llm.clock() > deadline) then break end
    local taken = llm.serve.poll(e.count() > 0 and 0 or 0.05, deadline and 0 or maxActive - e.count())
    for _, q in ipairs(taken) do
      local ok, err = pcall(e.handle, q)
      if not ok then
        local x = api.error(500, 'internal error: ' .. tostring(err), nil, 'engine_error', 'server_error')
        llm.serve.answer(q.id, x.status, x.body)
        io.stderr:write('llmscript serve: ', tostring(err), '\n')
      end
    end
    local ok, err = pcall(e.step)
    if not ok then
      io.stderr:write('llmscript serve: decoding failed: ', tostring(err), '\n')
      e.abort('internal error: ' .. tostring(err))
    end
  end
  e.abort('the server is shutting down')
  llm.serve.stop()
  return 0, 'llmscript serve: stopped'
end

--- Runs the command; prints its message and returns the exit status (0 done, 1 an error, 2 a usage error).
function M.main(words) return args.report('serve', run(words)) end

return M
