-- fuzz_namespaces_spec.lua: the seeded fuzz of every native binding outside `llm` and llm.Tensor
-- (fuzz_namespaces.lua: every C function of llm.data.*, llm.checkpoint, llm.json, llm.quant, llm.serve,
-- llm.text, llm.gguf, llm.wordnet, optim.*, parallel, dist, tune, and every method and metamethod of every
-- native class) in a child process working in a fresh temporary folder, then again under --sandbox. A failure must be a Lua error
-- with a string message; a crash (trap, SIGSEGV) or a hang fails the spec and names the last call.
-- Regression cases for the crashes that fuzz found follow, each named after its call.
-- Seeds: LLM_FUZZ_SEED (default fixed in fuzz_namespaces.lua); calls per function: LLM_FUZZ_CALLS.
-- Run: llmscript test Tests/lua/fuzz_namespaces_spec.lua
local here = debug.getinfo(1, 'S').source:match('^@(.*/)') or './'
local h = dofile(here .. 'helpers.lua')

describe('fuzz of every native namespace and class', function()
  teardown(h.removeTmpdirs)

  -- Runs fuzz_namespaces.lua in a fresh folder with the given interpreter flags; asserts a clean end.
  local function fuzz(flags, calls)
    local dir = h.tmpdir('fuzzns')
    local cwd = os.getenv('PWD') or '.'
    local function absolute(path) return path:sub(1, 1) == '/' and path or (cwd .. '/' .. path) end
    local log = dir .. '/last_call.txt'
    -- SIGKILL after 240 s: the fuzz calls llm.serve.handleSignals, after which SIGTERM no longer ends it
    local cmd = table.concat({'cd', h.shq(dir), '&&', 'LLM_FUZZ_LOG=' .. h.shq(log),
      'timeout -s KILL 240', h.shq(absolute(h.binary())), (flags:gsub('DIR', h.shq(dir))),
      h.shq(absolute(here .. 'fuzz_namespaces.lua')), h.shq(dir),
      h.shq(os.getenv('LLM_FUZZ_SEED') or 'default'), calls or ''}, ' ')
    local p = assert(io.popen(cmd .. ' 2>&1'))
    local out = p:read('a')
    local _, how, code = p:close()
    local f = io.open(log)
    local last = f and f:read('l') or '?'
    if f then f:close() end
    local total, returned, raised = out:match('DONE\t(%d+)\t(%d+)\t(%d+)')
    assert(how == 'exit' and code == 0 and total,
      string.format('namespace fuzz died (%s %s) during %s:\n%s', how, code, last, out:sub(-2000)))
    assert.is_true(tonumber(total) >= 5000, 'only ' .. total .. ' calls')
    assert.is_true(tonumber(returned) > 0 and tonumber(raised) > 0, 'expected both successes and failures')
  end

  it('survives random hostile arguments (child process; crash or hang names the last call)', function()
    fuzz('')
  end)

  it('survives them sandboxed too (--sandbox, writes only in its folder, 512 MB; no debug library)', function()
    fuzz('--sandbox --allow-write DIR --max-memory 512M', 30)
  end)
end)

describe('regressions found by the namespace fuzz', function()
  it('llm.serve.poll(1e300, 0): a timeout out of 0..3600 s is an argument error, not a trap', function()
    local port = llm.serve.start{host = '127.0.0.1', port = 0}
    assert.is_true(port > 0)
    for _, t in ipairs{1e300, math.huge, 2 ^ 63, -1, 0 / 0, 3601} do
      h.fails(function() llm.serve.poll(t, 0) end, 'expected a timeout of 0..3600 seconds')
    end
    assert.are.same({}, llm.serve.poll(0, 1))
    llm.serve.stop()
  end)

  it('llm.serve.tokens(2147483648, math.maxinteger): the /metrics totals saturate instead of trapping on overflow', function()
    llm.serve.start{host = '127.0.0.1', port = 0}
    llm.serve.tokens(2147483648, math.maxinteger)
    llm.serve.tokens(math.maxinteger, math.maxinteger)
    h.fails(function() llm.serve.tokens(-1, 0) end, 'bad argument #1', 'expected a token count >= 0, got -1')
    h.fails(function() llm.serve.tokens(0, math.mininteger) end, 'bad argument #2', 'expected a token count >= 0')
    -- llm.serve.answer(id, -1, body): the HTTP layer takes a UInt32 status (a trap in the server thread)
    for _, status in ipairs{-1, 0, 99, 600, 2 ^ 31, math.maxinteger} do
      h.fails(function() llm.serve.answer(1, status, '{}') end, 'bad argument #2', 'expected an HTTP status 100..599')
    end
    llm.serve.stop()
  end)

  it('llm.text.sample(): a missing argument is reported as "got no value", not as the type name the binding pushed', function()
    h.fails(function() llm.text.sample() end, 'bad argument #1', 'number expected, got no value')
    h.fails(function() llm.text.sample(2) end, 'bad argument #2', 'number expected, got no value')
    h.fails(function() llm.data.split() end, 'got no value')
    h.fails(function() llm.text.sample(2, {}) end, 'number expected, got table')
  end)

  it('llm.serve.finish(id) of a request never begun: it gets a 500 and llm.serve.stop() returns (it waited forever)', function()
    if os.execute('command -v curl >/dev/null 2>&1') ~= true then return end   -- needs a client
    local script = table.concat({
      "local port = llm.serve.start{host = '127.0.0.1', port = 0}",
      "os.execute(string.format(\"curl -s -m 5 -o /dev/null -w 'status %%{http_code}\\\\n' -X POST http://127.0.0.1:%d/v1/completions -d '{}' &\", port))",
      'local got = {}',
      'for _ = 1, 200 do got = llm.serve.poll(0.05, 8); if #got > 0 then break end end',
      'llm.serve.finish(got[1].id)',
      "os.execute('sleep 0.3')",
      'llm.serve.stop()',
      "print('stopped')"}, '\n')
    local p = assert(io.popen('timeout -s KILL 30 ' .. h.shq(h.binary()) .. ' -e ' .. h.shq(script) .. ' 2>&1'))
    local out = p:read('a')
    p:close()
    assert.matches('status 500', out)
    assert.matches('stopped', out)
  end)
end)
