-- recipes_spec.lua: the recipes in recipes/ run as a user runs them — `llmscript recipes/<name>.lua --flags`
-- in a subprocess — with tiny overrides (1 layer, dim 16, a few steps) on a small corpus in a temp folder:
-- exit status, progress/log lines, samples, checkpoints, --resume continuing (and matching an uninterrupted
-- run), sample.lua loading a checkpoint, and the errors of bad flags and missing files (on stderr, exit != 0).
-- Every recipe file present is also checked for --help and an unknown flag.
-- The llmscript binary: $LLMSCRIPT_BIN, else the interpreter running this spec (arg at its lowest negative
-- index, as `llmscript --no-strict busted` sets it), else /proc/<parent>/exe, else .build/debug/llmscript.
-- Run: llmscript --no-strict /usr/bin/busted Tests/lua/recipes_spec.lua

local here = debug.getinfo(1, 'S').source:match('^@(.*/)') or './'
local root = here .. '../../'

local function shq(s) return "'" .. tostring(s):gsub("'", "'\\''") .. "'" end

local function readAll(path)
  local f = io.open(path, 'rb')
  if not f then return nil end
  local s = f:read('a'); f:close()
  return s
end

local function exists(path)
  local f = io.open(path, 'rb')
  if f then f:close() return true end
  return false
end

local function isExecutable(path)
  return path and os.execute('test -x ' .. shq(path)) == true
end

local function findBinary()
  local env = os.getenv('LLMSCRIPT_BIN')
  if env and env ~= '' then return env end
  if type(arg) == 'table' then
    local lowest = 0
    while arg[lowest - 1] ~= nil do lowest = lowest - 1 end
    local interp = arg[lowest]
    if lowest < 0 and type(interp) == 'string' and interp:match('llmscript$') and isExecutable(interp) then return interp end
  end
  local p = io.popen('readlink /proc/$PPID/exe 2>/dev/null')
  if p then
    local exe = (p:read('a') or ''):gsub('%s+$', '')
    p:close()
    if exe:match('llmscript$') then return exe end
  end
  return root .. '.build/debug/llmscript'
end
local BIN = findBinary()

-- Runs `llmscript <script> <args...>`; returns the exit code, stdout and stderr.
local function run(script, args)
  local errFile = os.tmpname()
  local parts = {shq(BIN), shq(script)}
  for _, a in ipairs(args or {}) do parts[#parts + 1] = shq(a) end
  local p = assert(io.popen(table.concat(parts, ' ') .. ' 2>' .. shq(errFile), 'r'))
  local out = p:read('a')
  local _, how, code = p:close()
  local err = readAll(errFile) or ''
  os.remove(errFile)
  if how ~= 'exit' then code = 128 + (code or 0) end
  return code, out, err
end

local function has(text, fragment)
  assert(text:find(fragment, 1, true), 'output does not contain ' .. string.format('%q', fragment) .. ':\n' .. text)
end

-- a fresh temp folder holding a small English-like corpus
local helpers = dofile(debug.getinfo(1, 'S').source:match('^@(.*/)') .. 'helpers.lua')
local function workdir()
  local dir = helpers.tmpdir('recipes')
  local words = {'the', 'a', 'fox', 'dog', 'cat', 'runs', 'jumps', 'over', 'under', 'quickly', 'brown', 'lazy', 'red', 'small'}
  local lines, state = {}, 12345
  for _ = 1, 150 do
    local w = {}
    for i = 1, 9 do state = (state * 1103515245 + 12345) % 2147483648; w[i] = words[state % #words + 1] end
    lines[#lines + 1] = table.concat(w, ' ') .. '.'
  end
  local f = assert(io.open(dir .. '/corpus.txt', 'wb')); f:write(table.concat(lines, '\n'), '\n'); f:close()
  return dir
end
teardown(helpers.removeTmpdirs)

-- tiny overrides shared by the training recipes
local function tiny(dir, extra)
  local args = {'--warmup=1', '--layers=1', '--dim=16', '--heads=2', '--blockSize=16', '--batchSize=4',
                '--evalEvery=2', '--evalBatches=1', '--sampleTokens=8', '--corpus=' .. dir .. '/corpus.txt'}
  for _, a in ipairs(extra or {}) do args[#args + 1] = a end
  return args
end

local function metrics(path)
  local out = {}
  for line in io.lines(path) do out[#out + 1] = llm.json.decode(line) end
  return out
end

local gptChar = root .. 'recipes/gpt-char.lua'

describe('recipes/gpt-char.lua', function()
  local dir, out
  lazy_setup(function() dir = workdir(); out = dir .. '/run' end)

  it('trains, shows progress, evaluates, checkpoints and samples', function()
    local code, stdout, stderr = run(gptChar, tiny(dir, {'--steps=4', '--checkpointEvery=2', '--samples=1', '--logEvery=2', '--out=' .. out}))
    assert(code == 0, 'exit ' .. tostring(code) .. '\n' .. stderr)
    has(stdout, 'corpus: ')
    has(stdout, 'model: ')
    has(stdout, 'step 2/4 | loss ')       -- not a terminal: plain log lines every logEvery steps
    has(stdout, 'step 4/4 | loss ')
    has(stdout, 'tok/s')
    has(stdout, 'step 2: val loss ')
    has(stdout, 'done: step 4, train loss ')
    local sample = stdout:match('%-%-%- sample 1 %-%-%-\n(.*)$')
    assert(sample and #sample >= 8, 'no sample printed:\n' .. stdout)
    assert.is_nil(stdout:find('--- sample 2 ---', 1, true))
    assert.are.equal(out .. '/step-000004', llm.checkpoint.latest(out))
    assert.is_true(exists(out .. '/step-000002/model.safetensors'))
    local state = llm.checkpoint.read(out .. '/step-000004')['trainer.json']
    assert.are.equal(4, state.step)
    assert.are.equal(16, state.extra.config.dim)
    assert.is_table(state.extra.tokenizer)
    local recs, evals, trains = metrics(out .. '/metrics.jsonl'), {}, {}
    for _, r in ipairs(recs) do if r.type == 'eval' then evals[#evals + 1] = r.step else trains[#trains + 1] = r.step end end
    assert.are.same({2, 4}, evals)
    assert.are.same({2, 4}, trains)
  end)

  it('--resume continues from the saved step', function()
    local code, stdout, stderr = run(gptChar, tiny(dir, {'--steps=6', '--checkpointEvery=2', '--samples=1', '--logEvery=2',
                                                         '--out=' .. out, '--resume=' .. out}))
    assert(code == 0, 'exit ' .. tostring(code) .. '\n' .. stderr)
    has(stdout, 'resumed from ' .. out .. ' at step 4')
    assert.is_nil(stdout:find('step 2/6', 1, true))
    assert.is_nil(stdout:find('step 4/6', 1, true))
    has(stdout, 'step 6/6 | loss ')
    has(stdout, 'step 6: val loss ')
    has(stdout, 'done: step 6')
    has(stdout, '--- sample 1 ---')
    assert.are.equal(out .. '/step-000006', llm.checkpoint.latest(out))
    local evals = {}
    for _, r in ipairs(metrics(out .. '/metrics.jsonl')) do if r.type == 'eval' then evals[#evals + 1] = r.step end end
    assert.are.same({2, 4, 6}, evals)     -- the metrics file is appended to
  end)

  it('a run resumed from a middle checkpoint logs the same losses as the uninterrupted run (dropout on)', function()
    local a, b = dir .. '/full', dir .. '/resumed'
    local flags = {'--steps=6', '--checkpointEvery=2', '--keepLast=3', '--samples=0', '--logEvery=1', '--dropout=0.1'}
    local code, _, stderr = run(gptChar, tiny(dir, {'--out=' .. a, table.unpack(flags)}))
    assert(code == 0, stderr)
    local code2, stdout2, stderr2 = run(gptChar, tiny(dir, {'--out=' .. b, '--resume=' .. a .. '/step-000004', table.unpack(flags)}))
    assert(code2 == 0, stderr2)
    has(stdout2, 'at step 4')
    local function losses(path)
      local t = {}
      for _, r in ipairs(metrics(path)) do if r.type == 'train' then t[r.step] = r.loss end end
      return t
    end
    local full, resumed = losses(a .. '/metrics.jsonl'), losses(b .. '/metrics.jsonl')
    assert.is_nil(resumed[4])
    for step = 5, 6 do
      assert(full[step] and full[step] == resumed[step], string.format('step %d: %s vs %s', step, tostring(full[step]), tostring(resumed[step])))
    end
  end)

  it('an unknown flag exits non-zero with the error (and the known flags) on stderr', function()
    local code, stdout, stderr = run(gptChar, {'--stpes=4', '--out=' .. dir .. '/never'})
    assert.are_not.equal(0, code)
    has(stderr, "unknown option '--stpes'")
    has(stderr, '--steps')
    assert.is_nil(stdout:find('corpus:', 1, true))
    assert.is_false(exists(dir .. '/never'))
  end)

  it('a flag of the wrong type exits non-zero naming it', function()
    local code, _, stderr = run(gptChar, {'--steps=abc'})
    assert.are_not.equal(0, code)
    has(stderr, "Invalid '--steps': expected a number, got 'abc'")
  end)

  it('a missing corpus file is a clear error and creates nothing', function()
    local missing = dir .. '/no-such-corpus.txt'
    local code, _, stderr = run(gptChar, {'--corpus=' .. missing, '--out=' .. dir .. '/never2'})
    assert.are_not.equal(0, code)
    has(stderr, 'corpus: no such file or directory: ' .. missing)
    assert.is_false(exists(dir .. '/never2'))
  end)

  it('resuming from a missing folder is a clear error', function()
    local code, _, stderr = run(gptChar, tiny(dir, {'--steps=2', '--samples=0', '--out=' .. dir .. '/r2', '--resume=' .. dir .. '/nothing-here'}))
    assert.are_not.equal(0, code)
    has(stderr, dir .. '/nothing-here')
    has(stderr, 'does not exist')
  end)
end)

if exists(root .. 'recipes/sample.lua') then
  describe('recipes/sample.lua', function()
    local dir, out
    lazy_setup(function()
      dir = workdir(); out = dir .. '/run'
      local code, _, stderr = run(gptChar, tiny(dir, {'--steps=2', '--samples=0', '--out=' .. out}))
      assert(code == 0, stderr)
    end)

    it('loads a checkpoint (or a run folder: its newest) and prints seeded samples', function()
      local args = {'--checkpoint=' .. out, '--samples=2', '--tokens=8', '--prompt=the '}
      local code, stdout, stderr = run(root .. 'recipes/sample.lua', args)
      assert(code == 0, stderr)
      has(stdout, 'loaded ' .. out .. '/step-000002 (step 2, ')
      has(stdout, '--- sample 1 ---\nthe ')
      has(stdout, '--- sample 2 ---\nthe ')
      local _, again = run(root .. 'recipes/sample.lua', args)
      assert.are.equal(stdout, again)
      local code2, stdout2 = run(root .. 'recipes/sample.lua', {'--checkpoint=' .. out .. '/step-000002', '--samples=1', '--tokens=4'})
      assert(code2 == 0)
      has(stdout2, '--- sample 1 ---')
    end)

    it('a missing checkpoint is a clear error', function()
      local code, _, stderr = run(root .. 'recipes/sample.lua', {'--checkpoint=' .. dir .. '/none'})
      assert.are_not.equal(0, code)
      has(stderr, dir .. '/none')
      has(stderr, 'does not exist')
    end)

    it('a corrupt checkpoint is a clear error naming the file', function()
      local bad = dir .. '/bad'
      os.execute('cp -r ' .. shq(out .. '/step-000002') .. ' ' .. shq(bad))
      local f = assert(io.open(bad .. '/model.safetensors', 'wb')); f:write('xx'); f:close()
      local code, _, stderr = run(root .. 'recipes/sample.lua', {'--checkpoint=' .. bad})
      assert.are_not.equal(0, code)
      has(stderr, bad .. '/model.safetensors')
    end)
  end)
end

if exists(root .. 'recipes/lua-model.lua') then
  describe('recipes/lua-model.lua', function()
    it('trains the Lua-defined model, evaluates, checkpoints and samples', function()
      local dir = workdir()
      local out = dir .. '/run'
      local code, stdout, stderr = run(root .. 'recipes/lua-model.lua', tiny(dir, {'--steps=4', '--logEvery=2', '--out=' .. out}))
      assert(code == 0, 'exit ' .. tostring(code) .. '\n' .. stderr)
      has(stdout, 'parameters')
      has(stdout, 'step 4/4 | loss ')
      has(stdout, 'step 4: val loss ')
      has(stdout, 'done: step 4')
      has(stdout, '--- sample ---')
      assert.are.equal(out .. '/step-000004', llm.checkpoint.latest(out))
      assert.is_true(exists(out .. '/metrics.jsonl'))
    end)
  end)
end

-- every recipe file: --help lists its flags and exits 0; an unknown flag is an error on stderr
describe('every recipe in recipes/', function()
  local names = {}
  local p = io.popen('ls ' .. shq(root .. 'recipes'))
  for name in p:lines() do if name:match('%.lua$') then names[#names + 1] = name end end
  p:close()
  it('includes gpt-char.lua', function() assert.truthy(table.concat(names, ' '):find('gpt-char.lua', 1, true)) end)
  for _, name in ipairs(names) do
    it(name .. ': --help exits 0 listing the options; an unknown flag exits non-zero', function()
      local code, stdout, stderr = run(root .. 'recipes/' .. name, {'--help'})
      assert(code == 0, name .. ' --help: exit ' .. tostring(code) .. '\n' .. stderr)
      has(stdout, 'options:')
      local code2, _, stderr2 = run(root .. 'recipes/' .. name, {'--noSuchFlag=1'})
      assert.are_not.equal(0, code2)
      has(stderr2, "unknown option '--noSuchFlag'")
    end)
  end
end)
