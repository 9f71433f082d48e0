-- recipes_spec.lua: the recipes in recipes/ run as a user runs them — `llmscript recipes/<name>.lua --flags`
-- in a subprocess — with tiny overrides (1 layer, dim 16, a few steps) on a small corpus in a temp folder:
-- exit status, progress/log lines, samples, checkpoints, --resume continuing (and matching an uninterrupted
-- run), sample.lua loading a checkpoint, and the errors of bad flags and missing files (on stderr, exit != 0).
-- Every recipe file present is also checked for --help and an unknown flag.
-- The llmscript binary: see cli.lua.
-- Run: llmscript --no-strict /usr/bin/busted Tests/lua/recipes_spec.lua

local cli = dofile(debug.getinfo(1, 'S').source:match('^@(.*/)') .. 'cli.lua')
local root, shq, has = cli.root, cli.shq, cli.has

local function exists(path)
  local f = io.open(path, 'rb')
  if f then f:close() return true end
  return false
end

-- Runs `llmscript <script> <args...>` (opts: cwd, env); returns the exit code, stdout and stderr.
local function run(script, args, opts)
  local all = {script}
  for _, a in ipairs(args or {}) do all[#all + 1] = a end
  return cli.run(all, opts)
end

-- a fresh temp folder holding a small English-like corpus
local helpers = dofile(debug.getinfo(1, 'S').source:match('^@(.*/)') .. 'helpers.lua')
local function workdir()
  local dir = helpers.tmpdir('recipes')
  helpers.syntheticCorpus(dir, {'the', 'a', 'fox', 'dog', 'cat', 'runs', 'jumps', 'over', 'under', 'quickly', 'brown', 'lazy',
                                'red', 'small'}, 150, 9, 12345)
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

local metrics = helpers.jsonLines

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

describe('recipes/compare-architectures.lua', function()
  it('trains a GPT-2-style and a Llama-style model of the same size for --steps=20 and prints the table', function()
    local dir = workdir()
    local code, stdout, stderr = run(root .. 'recipes/compare-architectures.lua', {'--steps=20', '--warmup=1', '--layers=1',
      '--dim=16', '--heads=2', '--kvHeads=1', '--blockSize=16', '--batchSize=4', '--evalBatches=1', '--corpus=' .. dir .. '/corpus.txt'})
    assert(code == 0, 'exit ' .. tostring(code) .. '\n' .. stderr)
    has(stdout, '| model ')
    local gptParams = tonumber(stdout:match('| GPT%-2 style%s+|%s+(%d+) |'))
    local llamaParams = tonumber(stdout:match('| Llama style %(hidden %d+%)%s+|%s+(%d+) |'))
    assert(gptParams and llamaParams, 'both rows expected:\n' .. stdout)
    assert(math.abs(gptParams - llamaParams) <= 0.05 * gptParams, stdout)
  end)
end)

-- every recipe file: --help lists each knob with its type, its default and the comment beside it in the
-- recipe; an unknown or ill-typed flag is a one-line usage error on stderr (exit 2, no traceback) that
-- suggests the closest knob
local recipeNames = {}
do
  local p = io.popen('ls ' .. shq(root .. 'recipes'))
  for name in p:lines() do if name:match('%.lua$') then recipeNames[#recipeNames + 1] = name end end
  p:close()
end

-- The knobs written in a recipe's config table, read here independently of llm.config: one per line as
-- `key = default, -- comment`; the type is that of the literal (integer, number, string, boolean).
local function knobs(path)
  local out = {}
  for line in io.lines(path) do
    local key, literal, comment = line:match('^%s*([%a_][%w_]*)%s*=%s*(.-),%s*%-%-%s*(.-)%s*$')
    if key then
      local kind = literal:match("^llm%.config%.optional%('(%a+)'%)$")
        or (literal:match('^[\'"]') and 'string') or ((literal == 'true' or literal == 'false') and 'boolean')
        or (math.type(tonumber(literal)) == 'integer' and 'integer') or (tonumber(literal) and 'number')
      if kind then out[#out + 1] = {key = key, kind = kind, comment = comment, literal = literal} end
    end
  end
  return out
end

describe('every recipe in recipes/', function()
  it('includes gpt-char.lua', function() assert.truthy(table.concat(recipeNames, ' '):find('gpt-char.lua', 1, true)) end)
  for _, name in ipairs(recipeNames) do
    local path = root .. 'recipes/' .. name
    it(name .. ': --help lists every knob with its type, default and comment', function()
      local code, stdout, stderr = run(path, {'--help'})
      assert(code == 0, name .. ' --help: exit ' .. tostring(code) .. '\n' .. stderr)
      has(stdout, 'options:')
      local list = knobs(path)
      assert(#list >= 5, name .. ': expected a commented config table')
      for _, k in ipairs(list) do
        local line = stdout:match('\n  %-%-' .. k.key .. ' [^\n]*')
        assert(line, name .. ': no line for --' .. k.key .. ' in\n' .. stdout)
        has(line, ' ' .. k.kind .. ' ')
        has(line, k.comment)
      end
    end)

    it(name .. ': an unknown or ill-typed flag exits 2 with one line, suggesting the closest knob', function()
      local list = knobs(path)
      local key = list[2].key
      local typo = key:sub(1, 1) .. key:sub(3, 3) .. key:sub(2, 2) .. key:sub(4)   -- two letters swapped
      local code, stdout, stderr = run(path, {'--' .. typo .. '=1'})
      assert.are.equal(2, code)
      assert.are.equal('', stdout)
      has(stderr, "unknown option '--" .. typo .. "' (did you mean '--" .. key .. "'?)")
      assert.is_nil(stderr:find('traceback', 1, true))
      assert.are.equal(1, select(2, stderr:gsub('\n', '')), 'one line: ' .. stderr)
      for _, k in ipairs(list) do
        if k.kind == 'integer' or k.kind == 'number' then
          local code2, _, stderr2 = run(path, {'--' .. k.key .. '=lots'})
          assert.are.equal(2, code2)
          has(stderr2, "Invalid '--" .. k.key .. "': expected a number, got 'lots'")
          assert.are.equal(1, select(2, stderr2:gsub('\n', '')), 'one line: ' .. stderr2)
          break
        end
      end
    end)
  end
end)

describe('llm.config --help of a recipe run through dofile (no arg[0])', function()
  it('still finds the comments in the calling file', function()
    local dir = helpers.tmpdir('dofile')
    local f = assert(io.open(dir .. '/wrap.lua', 'w'))
    f:write("rawset(_G, 'arg', {'--help'}); dofile(" .. string.format('%q', root .. 'recipes/sample.lua') .. ")\n")
    f:close()
    local code, stdout, stderr = cli.run({dir .. '/wrap.lua'})
    assert(code == 0, stderr)
    has(stdout, 'usage: llmscript recipe.lua')
    has(stdout, 'text to continue')   -- the comment beside `prompt` in recipes/sample.lua
  end)
end)

-- The shipped recipes as a user runs them in a fresh folder (outputs land in its runs/ and data/):
-- each training recipe on its default corpus and model with --steps=20, and the chain prepare-data
-- (a small input) -> gpt-bpe -> sample.lua on the checkpoint gpt-bpe wrote.
describe('the shipped recipes, run as a user runs them with --steps=20', function()
  local chain = {['prepare-data.lua'] = true, ['gpt-bpe.lua'] = true, ['sample.lua'] = true}

  -- every other recipe with a `steps` knob trains on its defaults: a one-script character vocabulary when
  -- it reads a corpus by name, a checkpoint at step 20 under its `out` folder when it has one
  for _, name in ipairs(recipeNames) do
    if not chain[name] then
      local defaults = {}
      for _, k in ipairs(knobs(root .. 'recipes/' .. name)) do defaults[k.key] = k.literal end
      it(name .. (defaults.steps and ' trains 20 steps on its defaults' or ' is run by this spec'), function()
        assert(defaults.steps, name .. ' has no --steps knob and is not in the data chain: add it to this spec')
        local dir = helpers.tmpdir('user')
        local code, stdout, stderr = run(root .. 'recipes/' .. name, {'--steps=20'}, {cwd = dir})
        assert(code == 0, name .. ': exit ' .. tostring(code) .. '\n' .. stderr)
        if defaults.corpus then
          local vocab = tonumber(stdout:match('vocabulary (%d+)'))
          assert(vocab and vocab < 200, name .. ': a one-script character vocabulary expected:\n' .. stdout)
        end
        if defaults.sampleTokens then has(stdout, '--- sample') end
        local out = defaults.out and defaults.out:match("^'(.*)'$")
        if out then
          has(stdout, 'done: step 20')
          assert.are.equal(dir .. '/' .. out .. '/step-000020', llm.checkpoint.latest(dir .. '/' .. out))
        end
      end)
    end
  end

  it('prepare-data (small input) -> gpt-bpe --steps=20 -> sample.lua on the checkpoint it wrote', function()
    local dir = helpers.tmpdir('chain')
    -- a small input: the first quotes of two fortune files, English and Chinese (Debian fortunes, fortunes-zh)
    local quotes = {}
    for file, n in pairs{science = 300, chinese = 100} do
      local text = assert(cli.readAll('/usr/share/games/fortunes/' .. file), file)
      local taken = 0
      for quote in text:gmatch('(.-)\n%%\n') do
        if taken == n then break end
        quotes[#quotes + 1], taken = quote, taken + 1
      end
    end
    local f = assert(io.open(dir .. '/quotes.txt', 'w')); f:write(table.concat(quotes, '\n%\n'), '\n'); f:close()

    local code, stdout, stderr = run(root .. 'recipes/prepare-data.lua', {'--input=quotes.txt'}, {cwd = dir})
    assert(code == 0, 'prepare-data: ' .. stderr)
    has(stdout, 'data/fortunes/tokenizer.json')
    code, stdout, stderr = run(root .. 'recipes/gpt-bpe.lua', {'--steps=20'}, {cwd = dir})
    assert(code == 0, 'gpt-bpe: ' .. stderr)
    has(stdout, 'done: step 20')
    has(stdout, '--- sample 1 ---')
    assert.are.equal(dir .. '/runs/gpt-bpe/step-000020', llm.checkpoint.latest(dir .. '/runs/gpt-bpe'))
    code, stdout, stderr = run(root .. 'recipes/sample.lua', {'--checkpoint=runs/gpt-bpe', '--prompt=The '}, {cwd = dir})
    assert(code == 0, 'sample: ' .. stderr)
    has(stdout, 'loaded runs/gpt-bpe/step-000020 (step 20, ')
    has(stdout, '--- sample 3 ---\nThe ')
  end)
end)
