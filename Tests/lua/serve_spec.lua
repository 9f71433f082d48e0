-- serve_spec.lua: `llmscript serve` over HTTP with curl (CI has no openai package; the openai-client test
-- is scripts/serve_openai_test.sh), `llmscript generate`, the continuous batch (llm.nn.decode), the chat
-- templates (llm.chat) and the request checks (llm.serve.api). The server runs on a free loopback port
-- (--port 0; the port is read from its first line) with a tiny byte-level GPT written by
-- scripts/bench/make_serve_model.lua. Greedy answers are compared with model:generate in this process, so
-- batched and streamed decoding must give exactly the single-sequence text.
local here = debug.getinfo(1, 'S').source:match('^@(.*/)') or './'
local h = dofile(here .. 'helpers.lua')
local cli = dofile(here .. 'cli.lua')
local decode = require 'llm.nn.decode'
local chat = require 'llm.chat'

teardown(h.removeTmpdirs)

local function makeModel(class)
  local dir = h.tmpdir('serve')
  local code, out, err = cli.run({cli.root .. 'scripts/bench/make_serve_model.lua', '--out=' .. dir, '--class=' .. (class or 'nn.GPT'),
    '--dim=32', '--layers=2', '--heads=2', '--blockSize=64'})
  assert(code == 0, out .. err)
  return dir
end

local function sh(cmd)
  local p = assert(io.popen(cmd))
  local out = p:read('a')
  p:close()
  return out
end

-- Starts `llmscript serve dir --port 0 extra...` in the background; returns {pid, port, log}.
local function start(dir, extra)
  local log = os.tmpname()
  local words = {}
  for _, w in ipairs(extra or {}) do words[#words + 1] = cli.shq(w) end
  local pid = sh(string.format('%s serve %s --port 0 %s >%s 2>&1 & echo $!', cli.shq(cli.bin), cli.shq(dir), table.concat(words, ' '), cli.shq(log))):match('%d+')
  for _ = 1, 600 do
    local text = cli.readAll(log) or ''
    local port = text:match('listening on http://%S+:(%d+)')
    if port then return {pid = pid, port = port, log = log} end
    if sh('kill -0 ' .. pid .. ' 2>/dev/null && echo up') == '' then error('the server exited: ' .. text) end
    os.execute('sleep 0.05')
  end
  error('the server did not start: ' .. (cli.readAll(log) or ''))
end

-- Sends SIGTERM and waits for the process to end; returns its log.
local function stop(s)
  os.execute('kill -TERM ' .. s.pid)
  for _ = 1, 600 do
    if sh('kill -0 ' .. s.pid .. ' 2>/dev/null && echo up') == '' then break end
    os.execute('sleep 0.05')
  end
  local text = cli.readAll(s.log) or ''
  os.remove(s.log)
  return text
end

-- curl a path; returns status, body. opts: body (a string or a table, sent as JSON), key, method.
local function request(s, path, opts)
  opts = opts or {}
  local parts = {'curl -s -S --max-time 60 -w "\\n%{http_code}"'}
  if opts.key then parts[#parts + 1] = '-H ' .. cli.shq('Authorization: Bearer ' .. opts.key) end
  local file
  if opts.body then
    file = os.tmpname()
    local f = assert(io.open(file, 'wb'))
    f:write(type(opts.body) == 'table' and llm.json.encode(opts.body) or opts.body)
    f:close()
    parts[#parts + 1] = '-H "Content-Type: application/json" --data-binary @' .. cli.shq(file)
  end
  if opts.method then parts[#parts + 1] = '-X ' .. opts.method end
  if s.host then parts[#parts + 1] = '-g' end   -- [::1] is an address, not a curl glob
  parts[#parts + 1] = cli.shq('http://' .. (s.host or '127.0.0.1') .. ':' .. s.port .. path)
  local out = sh(table.concat(parts, ' '))
  if file then os.remove(file) end
  local body, status = out:match('^(.*)\n(%d+)$')
  return tonumber(status), body
end

local function json(body) return llm.json.decode(body) end

-- The events of an SSE body: decoded JSON objects, and whether it ended with [DONE].
local function events(body)
  local list, done = {}, false
  for data in body:gmatch('data: ([^\n]*)\n\n') do
    if data == '[DONE]' then done = true else list[#list + 1] = json(data) end
  end
  return list, done
end

describe('llmscript serve', function()
  local dir, s, model, tok
  local key = 'sk-test-123'

  setup(function()
    dir = makeModel()
    model, tok = require('llm.checkpointmodel')(dir)
    s = start(dir, {'--api-key', key, '--max-body', '4096', '--max-concurrency', '4'})
  end)
  teardown(function() if s then stop(s) end end)

  local name = function() return dir:match('([^/]+)$') end
  local function greedy(prompt, n)
    local ids = tok:encode(prompt)
    local out = model:generate(ids, {maxTokens = n, temperature = 0})
    return tok:decode(out:narrow(1, ids:numel() + 1, n))
  end

  -- log_softmax of a direct forward of the model over ids (0-based): rows (n, V) as Lua tables.
  local function reference(ids)
    model:eval()
    return llm.noGrad(function() return model:forward(llm.tensor(ids, {dtype = 'int64'}):unsqueeze(1)):select(1, 1):logSoftmax(2):totable() end)
  end
  local function near(a, b) return math.abs(a - b) < 1e-5 end
  local function greedyIds(prompt, n)
    local ids = tok:encode(prompt)
    return ids:totable(), model:generate(ids, {maxTokens = n, temperature = 0}):narrow(1, ids:numel() + 1, n):totable()
  end
  -- the k largest values of a reference row, largest first
  local function best(row, k)
    local v = table.move(row, 1, #row, 1, {})
    table.sort(v, function(a, b) return a > b end)
    return table.move(v, 1, k, 1, {})
  end
  -- the values of a completions top_logprobs object, largest first
  local function values(top)
    local v = {}
    for _, x in pairs(top) do v[#v + 1] = x end
    table.sort(v, function(a, b) return a > b end)
    return v
  end

  it('answers /health, /v1/models and /metrics', function()
    local status, body = request(s, '/health')
    assert.are.equal(200, status)
    assert.are.equal('ok', json(body).status)
    status, body = request(s, '/v1/models', {key = key})
    assert.are.equal(200, status)
    assert.are.equal(name(), json(body).data[1].id)
    status, body = request(s, '/metrics')
    assert.are.equal(200, status)
    cli.has(body, '# TYPE llmscript_requests_total counter')
    cli.has(body, 'llmscript_queue_depth 0')
    cli.has(body, 'llmscript_request_duration_seconds_bucket{le="+Inf"}')
  end)

  it('refuses a missing or wrong API key with 401 in the OpenAI error shape', function()
    for _, k in ipairs({false, 'sk-wrong'}) do
      local status, body = request(s, '/v1/completions', {key = k or nil, body = {model = name(), prompt = 'a'}})
      assert.are.equal(401, status)
      local e = json(body).error
      assert.are.equal('invalid_api_key', e.code)
      assert.are.equal('invalid_request_error', e.type)
      assert.are.equal(llm.json.null, e.param)
      assert.is_string(e.message)
    end
  end)

  it('completes a prompt as model:generate does (greedy), with usage', function()
    local status, body = request(s, '/v1/completions', {key = key, body = {model = name(), prompt = 'Hello', max_tokens = 12, temperature = 0}})
    assert.are.equal(200, status, body)
    local r = json(body)
    assert.are.equal('text_completion', r.object)
    assert.are.equal(greedy('Hello', 12), r.choices[1].text)
    assert.are.equal('length', r.choices[1].finish_reason)
    assert.are.same({prompt_tokens = 5, completion_tokens = 12, total_tokens = 17}, r.usage)
  end)

  it('answers a chat with the template the model family uses', function()
    local messages = {{role = 'system', content = 'Be brief.'}, {role = 'user', content = 'Hi'}}
    local status, body = request(s, '/v1/chat/completions', {key = key, body = {model = name(), messages = messages, max_tokens = 6, temperature = 0}})
    assert.are.equal(200, status, body)
    local r = json(body)
    assert.are.equal('chat.completion', r.object)
    assert.are.equal('assistant', r.choices[1].message.role)
    local prompt = chat.render(messages, {template = 'plain'})   -- byte tokenizer: the plain template
    assert.are.equal(#tok:encode(prompt):totable(), r.usage.prompt_tokens)
    assert.are.equal(greedy(prompt, 6), r.choices[1].message.content)
  end)

  it('streams server-sent events ending with [DONE], the same text, and usage when asked', function()
    local status, body = request(s, '/v1/completions', {key = key, body = {model = name(), prompt = 'Hello', max_tokens = 12, temperature = 0,
      stream = true, stream_options = {include_usage = true}}})
    assert.are.equal(200, status)
    local list, done = events(body)
    assert.is_true(done)
    local text = {}
    for _, e in ipairs(list) do if e.choices[1] then text[#text + 1] = e.choices[1].text end end
    assert.are.equal(greedy('Hello', 12), table.concat(text))
    assert.are.equal('length', list[#list - 1].choices[1].finish_reason)
    assert.are.equal(12, list[#list].usage.completion_tokens)
    status, body = request(s, '/v1/chat/completions', {key = key, body = {model = name(), messages = {{role = 'user', content = 'Hi'}},
      max_tokens = 5, stream = true, seed = 3}})
    list, done = events(body)
    assert.is_true(done)
    assert.are.equal('assistant', list[1].choices[1].delta.role)
    assert.are.equal('chat.completion.chunk', list[1].object)
  end)

  it('stops at a stop string, which the answer leaves out', function()
    local full = greedy('Hello', 20)
    local cut = full:sub(6, 7)
    local status, body = request(s, '/v1/completions', {key = key, body = {model = name(), prompt = 'Hello', max_tokens = 20, temperature = 0, stop = {cut}}})
    assert.are.equal(200, status)
    local r = json(body)
    assert.are.equal('stop', r.choices[1].finish_reason)
    assert.are.equal(full:sub(1, full:find(cut, 1, true) - 1), r.choices[1].text)
  end)

  it('gives seeded samples that repeat', function()
    local b = {model = name(), prompt = 'Hello', max_tokens = 10, temperature = 1, top_p = 0.9, seed = 42}
    local _, one = request(s, '/v1/completions', {key = key, body = b})
    local _, two = request(s, '/v1/completions', {key = key, body = b})
    assert.are.equal(json(one).choices[1].text, json(two).choices[1].text)
  end)

  it('decodes concurrent streams in one batch with the single-stream results', function()
    local files, cmds = {}, {}
    for i = 1, 6 do
      files[i] = os.tmpname()
      local b = llm.json.encode({model = name(), prompt = 'Prompt number ' .. i, max_tokens = 10 + 3 * i, temperature = 0, stream = i % 2 == 0,
        logprobs = i % 2 == 1 and 1 or nil})   -- the whole answers also carry logprobs, computed in the batch
      cmds[#cmds + 1] = string.format('curl -s --max-time 60 -H %s -H "Content-Type: application/json" -d %s http://127.0.0.1:%s/v1/completions > %s &',
        cli.shq('Authorization: Bearer ' .. key), cli.shq(b), s.port, cli.shq(files[i]))
    end
    os.execute(table.concat(cmds, ' ') .. ' wait')
    for i = 1, 6 do
      local body = cli.readAll(files[i])
      os.remove(files[i])
      local text
      if i % 2 == 0 then
        local parts = {}
        for _, e in ipairs((events(body))) do parts[#parts + 1] = e.choices[1].text end
        text = table.concat(parts)
      else
        text = json(body).choices[1].text
        local prompt, gen = greedyIds('Prompt number ' .. i, 10 + 3 * i)
        local ref = reference(table.move(gen, 1, #gen, #prompt + 1, table.move(prompt, 1, #prompt, 1, {})))
        local lp = json(body).choices[1].logprobs.token_logprobs
        assert.are.equal(#gen, #lp)
        for j = 1, #gen do assert.is_true(near(ref[#prompt + j - 1][gen[j] + 1], lp[j]), j) end
      end
      assert.are.equal(greedy('Prompt number ' .. i, 10 + 3 * i), text)
    end
  end)

  it('scores a prompt with echo and max_tokens 0: logprobs of a direct forward, the first null', function()
    local prompt = 'Hello world'
    local ids = tok:encode(prompt):totable()
    local ref = reference(ids)
    for _, p in ipairs({prompt, ids}) do   -- text, and token ids
      local status, body = request(s, '/v1/completions', {key = key, body = {model = name(), prompt = p, max_tokens = 0, echo = true, logprobs = 3}})
      assert.are.equal(200, status, body)
      local c = json(body).choices[1]
      assert.are.equal(prompt, c.text)
      assert.are.equal(0, json(body).usage.completion_tokens)
      local lp = c.logprobs
      assert.are.equal(#ids, #lp.tokens)
      assert.are.equal(prompt, table.concat(lp.tokens))
      assert.are.equal(llm.json.null, lp.token_logprobs[1])
      assert.are.equal(llm.json.null, lp.top_logprobs[1])
      for i = 2, #ids do
        assert.is_true(near(ref[i - 1][ids[i] + 1], lp.token_logprobs[i]), i)
        assert.are.equal(i - 1, lp.text_offset[i])
        local top, want = lp.top_logprobs[i], best(ref[i - 1], 3)
        assert.are.equal(lp.token_logprobs[i], top[lp.tokens[i]])   -- the chosen token is always there
        local got = values(top)
        assert.is_true(#got == 3 or #got == 4)
        for j = 1, 3 do assert.is_true(near(want[j], got[j]), j) end
      end
    end
  end)

  it('gives the logprobs of generated tokens, whole and streamed, and echoes the prompt in a stream', function()
    local prompt, gen = greedyIds('Hello', 8)
    local ref = reference(table.move(gen, 1, #gen, #prompt + 1, table.move(prompt, 1, #prompt, 1, {})))
    local b = {model = name(), prompt = 'Hello', max_tokens = 8, temperature = 0, logprobs = 2}
    local status, body = request(s, '/v1/completions', {key = key, body = b})
    assert.are.equal(200, status, body)
    local lp = json(body).choices[1].logprobs
    assert.are.equal(8, #lp.tokens)
    for i = 1, 8 do
      assert.is_true(near(ref[#prompt + i - 1][gen[i] + 1], lp.token_logprobs[i]), i)
      assert.are.equal(lp.token_logprobs[i], values(lp.top_logprobs[i])[1])   -- greedy: the most likely token
    end
    assert.are.equal(5, lp.text_offset[1])   -- offsets count from the start of the prompt
    b.stream = true
    local _, sbody = request(s, '/v1/completions', {key = key, body = b})
    local tokens, logps, offsets = {}, {}, {}
    for _, e in ipairs((events(sbody))) do
      local x = e.choices[1].logprobs
      if x ~= llm.json.null then
        for i, t in ipairs(x.tokens) do tokens[#tokens + 1], logps[#logps + 1], offsets[#offsets + 1] = t, x.token_logprobs[i], x.text_offset[i] end
      end
    end
    assert.are.same(lp.tokens, tokens)
    assert.are.same(lp.text_offset, offsets)
    for i = 1, 8 do assert.is_true(near(lp.token_logprobs[i], logps[i]), i) end
    b.echo, b.max_tokens = true, 3
    local list = events((select(2, request(s, '/v1/completions', {key = key, body = b}))))
    assert.are.equal('Hello', list[1].choices[1].text)
    assert.are.same({'H', 'e', 'l', 'l', 'o'}, list[1].choices[1].logprobs.tokens)
    assert.are.equal(llm.json.null, list[1].choices[1].logprobs.token_logprobs[1])
  end)

  it('gives chat logprobs with sorted top_logprobs and bytes, whole and streamed', function()
    local messages = {{role = 'user', content = 'Hi'}}
    local prompt, gen = greedyIds(chat.render(messages, {template = 'plain'}), 6)
    local ref = reference(table.move(gen, 1, #gen, #prompt + 1, table.move(prompt, 1, #prompt, 1, {})))
    local b = {model = name(), messages = messages, max_tokens = 6, temperature = 0, logprobs = true, top_logprobs = 3}
    local status, body = request(s, '/v1/chat/completions', {key = key, body = b})
    assert.are.equal(200, status, body)
    local content = json(body).choices[1].logprobs.content
    assert.are.equal(6, #content)
    for i, c in ipairs(content) do
      assert.is_true(near(ref[#prompt + i - 1][gen[i] + 1], c.logprob), i)
      assert.are.same({gen[i]}, c.bytes)   -- byte tokenizer: the token's byte
      assert.are.equal(3, #c.top_logprobs)
      local want = best(ref[#prompt + i - 1], 3)
      for j, t in ipairs(c.top_logprobs) do
        assert.is_true(near(want[j], t.logprob), j)
        if j > 1 then assert.is_true(c.top_logprobs[j - 1].logprob >= t.logprob) end
      end
      assert.are.equal(c.logprob, c.top_logprobs[1].logprob)   -- greedy
    end
    b.stream = true
    local streamed = {}
    for _, e in ipairs((events(select(2, request(s, '/v1/chat/completions', {key = key, body = b}))))) do
      local x = e.choices[1] and e.choices[1].logprobs
      if x and x ~= llm.json.null then for _, c in ipairs(x.content) do streamed[#streamed + 1] = c end end
    end
    assert.are.equal(6, #streamed)
    for i, c in ipairs(streamed) do
      assert.are.equal(content[i].token, c.token)
      assert.is_true(near(content[i].logprob, c.logprob))
    end
    status, body = request(s, '/v1/chat/completions', {key = key, body = {model = name(), messages = messages, max_tokens = 2}})
    assert.are.equal(llm.json.null, json(body).choices[1].logprobs)   -- not asked: none
  end)

  it('refuses bad logprobs, top_logprobs and echo values with 400 naming the parameter', function()
    local m = {{role = 'user', content = 'x'}}
    local cases = {
      {'/v1/completions', {model = name(), prompt = 'a', logprobs = 6}, 'logprobs'},
      {'/v1/completions', {model = name(), prompt = 'a', logprobs = -1}, 'logprobs'},
      {'/v1/completions', {model = name(), prompt = 'a', logprobs = true}, 'logprobs'},
      {'/v1/completions', {model = name(), prompt = 'a', echo = 'yes'}, 'echo'},
      {'/v1/completions', {model = name(), prompt = 'a', max_tokens = 0, logprobs = 1}, 'max_tokens'},   -- 0 only with echo
      {'/v1/chat/completions', {model = name(), messages = m, logprobs = true, top_logprobs = 21}, 'top_logprobs'},
      {'/v1/chat/completions', {model = name(), messages = m, top_logprobs = 2}, 'top_logprobs'},
      {'/v1/chat/completions', {model = name(), messages = m, logprobs = 1}, 'logprobs'},
      {'/v1/chat/completions', {model = name(), messages = m, echo = true}, 'echo'},
    }
    for _, c in ipairs(cases) do
      local status, body = request(s, c[1], {key = key, body = c[2]})
      assert.are.equal(400, status, body)
      local e = json(body).error
      assert.are.equal(c[3], e.param, body)
      assert.are.equal('invalid_request_error', e.type)
      cli.has(e.message, "'" .. c[3] .. "'")
    end
  end)

  it('listens on IPv6 with --host ::1', function()
    local lines = cli.readAll('/proc/net/if_inet6') or ''   -- Linux: the IPv6 addresses of this machine
    if not lines:find('00000000000000000000000000000001', 1, true) then return pending('this machine has no IPv6 loopback (::1)') end
    local v6 = start(dir, {'--host', '::1', '--api-key', key})
    v6.host = '[::1]'
    local status, body = request(v6, '/v1/completions', {key = key, body = {model = name(), prompt = 'Hello', max_tokens = 4, temperature = 0}})
    local log = stop(v6)
    assert.are.equal(200, status, body)
    assert.are.equal(greedy('Hello', 4), json(body).choices[1].text)
    cli.has(log, 'listening on http://[::1]:')
    local code, _, err = cli.run({'serve', dir, '--host', 'not-an-address', '--port', '0'})
    assert.are.equal(1, code)
    cli.has(err, "'not-an-address' is not a numeric IPv4 or IPv6 address")
  end)

  it('answers bad requests with 4xx OpenAI errors and keeps serving', function()
    local cases = {
      {400, 'invalid_json', '{"model": '},
      {400, 'invalid_json', '[1, 2]'},
      {404, 'model_not_found', {model = 'gpt-9', prompt = 'a'}},
      {400, 'unsupported_value', {model = name(), prompt = 'a', n = 2}},
      {400, 'missing_required_parameter', {prompt = 'a'}},
      {400, 'invalid_value', {model = name(), prompt = 'a', temperature = 5}},
      {400, 'invalid_value', {model = name(), prompt = 'a', max_tokens = 0}},
      {400, 'context_length_exceeded', {model = name(), prompt = 'a', max_tokens = 64}},
      {400, 'context_length_exceeded', {model = name(), prompt = string.rep('x', 80)}},
      {400, 'invalid_value', {model = name(), prompt = {'a', 'b'}}},
      {400, 'invalid_value', {model = name(), prompt = {1, 300}}},
      {413, 'request_too_large', {model = name(), prompt = string.rep('x', 5000)}},
    }
    for _, c in ipairs(cases) do
      local status, body = request(s, '/v1/completions', {key = key, body = c[3]})
      assert.are.equal(c[1], status, body)
      assert.are.equal(c[2], json(body).error.code, body)
    end
    local status, body = request(s, '/v1/chat/completions', {key = key, body = {model = name(), messages = {{role = 'robot', content = 'x'}}}})
    assert.are.equal(400, status)
    assert.are.equal('messages[0].role', json(body).error.param)
    status = request(s, '/v1/nothing', {key = key})
    assert.are.equal(404, status)
    status = request(s, '/v1/completions', {key = key, method = 'GET'})
    assert.are.equal(405, status)
    status = request(s, '/health')
    assert.are.equal(200, status)
  end)

  it('drops a request whose client leaves, and goes on serving', function()
    sh(string.format('curl -s --max-time 0.2 -N -H %s -d %s http://127.0.0.1:%s/v1/completions >/dev/null 2>&1; true',
      cli.shq('Authorization: Bearer ' .. key), cli.shq(llm.json.encode({model = name(), prompt = 'x', max_tokens = 60, stream = true})), s.port))
    local status, body = request(s, '/v1/completions', {key = key, body = {model = name(), prompt = 'Hello', max_tokens = 12, temperature = 0}})
    assert.are.equal(200, status)
    assert.are.equal(greedy('Hello', 12), json(body).choices[1].text)
  end)

  it('finishes a running request on SIGTERM, then exits', function()
    local other = start(dir, {'--api-key', key})
    local file = os.tmpname()
    os.execute(string.format('(curl -s --max-time 60 -H %s -d %s http://127.0.0.1:%s/v1/completions > %s) & sleep 0.3; kill -TERM %s; wait',
      cli.shq('Authorization: Bearer ' .. key), cli.shq(llm.json.encode({model = name(), prompt = 'Hello', max_tokens = 50, temperature = 0})),
      other.port, cli.shq(file), other.pid))
    local log = stop(other)
    cli.has(log, 'shutting down')
    cli.has(log, 'llmscript serve: stopped')
    local body = cli.readAll(file)
    os.remove(file)
    assert.are.equal(greedy('Hello', 50), json(body).choices[1].text)
  end)
end)

describe('llmscript serve and generate command lines', function()
  it('explain usage errors', function()
    local code, _, err = cli.run({'serve'})
    assert.are.equal(2, code)
    cli.has(err, 'usage: llmscript serve CHECKPOINT')
    code, _, err = cli.run({'serve', 'x', '--port', 'abc'})
    assert.are.equal(2, code)
    cli.has(err, "'--port' expects an integer")
    code, _, err = cli.run({'generate', 'x'})
    assert.are.equal(2, code)
    cli.has(err, "'--prompt' is required")
  end)

  it('generate prints the greedy continuation and its statistics', function()
    local dir = makeModel('nn.Llama')
    local model, tok = require('llm.checkpointmodel')(dir)
    local code, out, err = cli.run({'generate', dir, '--prompt', 'Hi', '--max-tokens', '9', '--temperature', '0', '--stats'})
    assert.are.equal(0, code, err)
    local ids = tok:encode('Hi')
    assert.are.equal(tok:decode(model:generate(ids, {maxTokens = 9, temperature = 0})) .. '\n', out)
    cli.has(err, 'tokens/s')
    cli.has(err, 'peak RSS')
  end)

  it('generate --mmap gives the same text, from read-only weights in the mapped checkpoint', function()
    local dir = makeModel('nn.GPT')
    local args = {'generate', dir, '--prompt', 'Hi', '--max-tokens', '9', '--temperature', '0'}
    local _, copied = cli.run(args)
    table.insert(args, '--mmap')
    local code, mapped, err = cli.run(args)
    assert.are.equal(0, code, err)
    assert.are.equal(copied, mapped)
    local model = require('llm.checkpointmodel')(dir, {mmap = true})
    local w = model:parameters()[1]
    assert.is_true(w.requiresGrad)
    local ok, e = pcall(function() w:fill_(0) end)
    assert.is_false(ok)
    cli.has(tostring(e), 'read-only')
    local ck = llm.checkpoint.read(llm.checkpoint.latest(dir), {mmap = true})['model.safetensors']
    local plain = llm.checkpoint.read(llm.checkpoint.latest(dir))['model.safetensors']
    for k, t in pairs(plain) do assert.are.equal(0, (t - ck[k]):abs():max():item(), k) end
  end)
end)

describe('llm.nn.decode.Batch', function()
  it('gives each row the tokens model:generate gives it alone, as rows join and leave', function()
    llm.manualSeed(5)
    local m = nn.GPT({vocab = 40, blockSize = 32, dim = 32, heads = 4, layers = 2, positions = 'learned'})
    local prompts = {llm.tensor({1, 2, 3, 4, 5}, {dtype = 'int64'}), llm.tensor({7}, {dtype = 'int64'}), llm.tensor({9, 10, 11, 12, 13, 14, 15, 16}, {dtype = 'int64'})}
    local b = decode.Batch(m)
    local r1 = b:add(prompts[1], {temperature = 0})
    b:step(); b:step()
    local r2 = b:add(prompts[2], {temperature = 0})
    b:step()
    local r3 = b:add(prompts[3], {temperature = 0})
    b:step(); b:step()
    b:remove(r1)
    b:step()
    b:remove(r3)
    b:step()
    assert.are.equal(r2.length, b.mask:size(2))   -- padding columns were trimmed
    for i, r in ipairs({r1, r2, r3}) do
      local alone = m:generate(prompts[i], {maxTokens = #r.tokens, temperature = 0})
      assert.are.same(alone:narrow(1, prompts[i]:numel() + 1, #r.tokens):totable(), r.tokens)
    end
  end)

  it('keeps raw logits only for rows that ask, equal to a lone forward while batched', function()
    llm.manualSeed(7)
    local m = nn.GPT({vocab = 40, blockSize = 32, dim = 32, heads = 4, layers = 2, positions = 'learned'})
    m:eval()
    local b = decode.Batch(m)
    local p1, p2 = llm.tensor({1, 2, 3, 4, 5}, {dtype = 'int64'}), llm.tensor({7, 8}, {dtype = 'int64'})
    local r1 = b:add(p1, {temperature = 0, logits = true})
    local r2 = b:add(p2, {temperature = 0})
    assert.is_nil(r2.logits)
    assert.are.same({5, 40}, r1.promptLogits:shape())
    local lone = llm.noGrad(function() return m:forward(p1:unsqueeze(1)):select(1, 1) end)
    assert.is_true((r1.promptLogits - lone):abs():max():item() < 1e-5)
    assert.is_true((b:score(p1) - lone):abs():max():item() < 1e-5)
    b:step(); b:step()
    local seq = llm.cat({p1, llm.tensor({r1.tokens[1], r1.tokens[2]}, {dtype = 'int64'})}, 1)
    local want = llm.noGrad(function() return m:forward(seq:unsqueeze(1)):select(1, 1):select(1, 7) end)
    assert.is_true((r1.logits:reshape(-1) - want):abs():max():item() < 1e-5)
    assert.is_nil(r2.logits)
  end)

  it('names bad prompts and options', function()
    local b = decode.Batch(nn.GPT({vocab = 10, blockSize = 8, dim = 8, heads = 2, layers = 1}))
    h.fails(function() b:add(llm.zeros(0, {dtype = 'int64'})) end, 'non-empty 1-D tensor')
    h.fails(function() b:add(llm.zeros(9, {dtype = 'int64'})) end, 'reads at most 8')
    h.fails(function() b:add(llm.zeros(2, {dtype = 'int64'}), {temperature = -1}) end, "Invalid 'temperature'")
  end)
end)

describe('llm.chat', function()
  it('renders each family template and checks messages', function()
    local m = {{role = 'system', content = 'S'}, {role = 'user', content = {{type = 'text', text = 'U'}}}}
    assert.are.equal('<|im_start|>system\nS<|im_end|>\n<|im_start|>user\nU<|im_end|>\n<|im_start|>assistant\n', chat.render(m))
    assert.are.equal('<s>[INST] <<SYS>>\nS\n<</SYS>>\n\nU [/INST]', chat.render(m, {template = 'llama'}))
    assert.are.equal('System: S\nUser: U\nAssistant:', chat.render(m, {template = 'plain'}))
    assert.are.equal('plain', chat.forModel({extra = {tokenizer = {type = 'byte'}}}))
    assert.are.equal('llama', chat.forModel({extra = {modelClass = 'nn.Llama', tokenizer = {type = 'bpe'}}}))
    h.fails(function() chat.render({}) end, 'non-empty array')
    h.fails(function() chat.render(m, {template = 'nope'}) end, "unknown template 'nope'")
  end)
end)
