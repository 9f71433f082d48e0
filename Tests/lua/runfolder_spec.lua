-- runfolder_spec.lua: a training run's folder (stdlib-lua/llm/runlog.lua, llm.checkpoint.lock): the
-- exclusive lock (a second run on the same folder fails at start, in this process and in another one;
-- release, <close>, garbage collection), removal of the stale temporaries of interrupted checkpoint
-- writes once the lock is held (an orphaned `.old-` checkpoint is restored), and the metrics file:
-- wall-clock timestamps, the resume record and replayed steps after --resume.
-- Run: llmscript test Tests/lua/runfolder_spec.lua

local helpers = dofile(debug.getinfo(1, 'S').source:match('^@(.*/)') .. 'helpers.lua')
local fails = helpers.fails
teardown(helpers.removeTmpdirs)

local shq = helpers.shq

local function exists(path)
  return os.execute('test -e ' .. shq(path)) == true
end

local function mkfile(path, content)
  local f = assert(io.open(path, 'wb')); f:write(content or 'x'); f:close()
end

local records = helpers.jsonLines

local function quiet(fn) return select(2, helpers.captured(fn)) end

local text = string.rep('sphinx of black quartz, judge my vow. ', 12)
local tokenizer = llm.data.CharTokenizer(text)
local ids = tokenizer:encode(text)

local function trainer(opts)
  llm.manualSeed(1)
  local model = nn.GPT{vocab = tokenizer:vocabSize(), blockSize = 8, layers = 1, heads = 2, dim = 8}
  local o = {model = model, optimizer = optim.SGD(model:parameters(), {lr = 0.1}), progress = false,
             train = llm.data.Batcher(ids, {batchSize = 2, blockSize = 8, seed = 2}), steps = 2}
  for k, v in pairs(opts) do o[k] = v end
  return llm.Trainer(o)
end

-- this process's pid (the lock file records it)
local function mypid()
  local f = assert(io.open('/proc/self/stat', 'r'))
  local pid = f:read('a'):match('^(%d+)')
  f:close()
  return pid
end

describe('llm.checkpoint.lock', function()
  it('is exclusive: a second lock on the folder fails, naming the folder and the holder; release frees it', function()
    local dir = helpers.tmpdir('lock') .. '/run'
    local lock = llm.checkpoint.lock(dir)             -- creates the folder
    assert.is_true(lock:held())
    assert.are.equal(dir, lock:dir())
    fails(function() llm.checkpoint.lock(dir) end, "run folder '" .. dir .. "' is in use by another run",
      '(pid ' .. mypid() .. ': this process)')
    fails(function() llm.checkpoint.lock(dir .. '/') end, 'is in use by another run')
    lock:release()
    assert.is_false(lock:held())
    assert.matches('released', tostring(lock))
    local again = llm.checkpoint.lock(dir)
    again:release()
  end)

  it('is dropped by <close> and by the garbage collector', function()
    local dir = helpers.tmpdir('lock')
    do
      local l <close> = llm.checkpoint.lock(dir)
      fails(function() llm.checkpoint.lock(dir) end, 'is in use')
    end
    llm.checkpoint.lock(dir)                          -- not kept: collected
    collectgarbage(); collectgarbage()
    llm.checkpoint.lock(dir):release()
  end)

  it('makes another process fail at start, with the holder pid: a lock call, and a whole training recipe', function()
    local dir = helpers.tmpdir('lock')
    local corpus = dir .. '/corpus.txt'
    mkfile(corpus, string.rep('a tiny corpus for a tiny model. ', 40))
    local lock = llm.checkpoint.lock(dir .. '/run')
    local code, _, err = helpers.runCode('llm.checkpoint.lock(' .. string.format('%q', dir .. '/run') .. ')')
    assert.are_not.equal(0, code)
    assert.truthy(err:find("run folder '" .. dir .. "/run' is in use by another run (pid " .. mypid() .. ')', 1, true), err)
    local here = debug.getinfo(1, 'S').source:match('^@(.*/)') or './'
    local recipe = {shq(helpers.binary()), shq(here .. '../../recipes/gpt-char.lua'), '--corpus=' .. shq(corpus), '--steps=2',
                    '--layers=1', '--dim=8', '--heads=2', '--blockSize=8', '--batchSize=2', '--samples=0', '--out=' .. shq(dir .. '/run')}
    local errFile = dir .. '/stderr.txt'
    assert.is_not_true(os.execute(table.concat(recipe, ' ') .. ' >/dev/null 2>' .. shq(errFile)))
    local f = assert(io.open(errFile, 'r')); err = f:read('a'); f:close()
    assert.truthy(err:find("run folder '" .. dir .. "/run' is in use by another run (pid " .. mypid() .. ')', 1, true), err)
    assert.is_false(exists(dir .. '/run/metrics.jsonl'))      -- nothing written
    lock:release()
    assert.are.equal(0, (helpers.runCode('llm.checkpoint.lock(' .. string.format('%q', dir .. '/run') .. ')')))   -- free again
  end)

  it('removeStale deletes leftovers of interrupted writes and restores an orphaned .old- checkpoint', function()
    local dir = helpers.tmpdir('lock')
    llm.makeDirs(dir .. '/step-000002.tmp-4242'); mkfile(dir .. '/step-000002.tmp-4242/model.safetensors')
    llm.makeDirs(dir .. '/step-000001.deleting-77'); mkfile(dir .. '/step-000001.deleting-77/x')
    mkfile(dir .. '/.metrics.jsonl.tmp-31')
    llm.makeDirs(dir .. '/step-000004.old-9'); mkfile(dir .. '/step-000004.old-9/checkpoint.json', '{}')  -- the only copy
    llm.makeDirs(dir .. '/step-000003'); llm.makeDirs(dir .. '/step-000003.old-9')                        -- a superseded copy
    mkfile(dir .. '/notes.tmp'); mkfile(dir .. '/a.tmp-x')                                                   -- not ours
    local lock = llm.checkpoint.lock(dir)
    local done = lock:removeStale()
    table.sort(done)
    assert.are.same({dir .. '/.metrics.jsonl.tmp-31', dir .. '/step-000001.deleting-77', dir .. '/step-000002.tmp-4242',
                     dir .. '/step-000003.old-9', dir .. '/step-000004.old-9'}, done)
    for _, p in ipairs(done) do assert.is_false(exists(p), p) end
    assert.is_true(exists(dir .. '/step-000004/checkpoint.json'))
    assert.is_true(exists(dir .. '/step-000003'))
    assert.is_true(exists(dir .. '/notes.tmp')); assert.is_true(exists(dir .. '/a.tmp-x'))
    lock:release()
    fails(function() lock:removeStale() end, 'the lock was released')
  end)
end)

describe('llm.Trainer run folder', function()
  it('holds the lock while it runs: a second run on the folder fails at start; the lock is dropped after run() and after an error', function()
    local dir = helpers.tmpdir('run')
    local inner
    local tr = trainer{checkpointDir = dir, onStep = function()
      inner = select(2, pcall(function() trainer{checkpointDir = dir}:run() end))
    end}
    quiet(function() tr:run() end)
    assert.matches("run folder '" .. dir:gsub('%p', '%%%0') .. "' is in use by another run", inner)
    quiet(function() trainer{checkpointDir = dir}:run() end)   -- released after the run
    local failing = trainer{checkpointDir = dir, onStep = function() error('stop here') end}
    fails(function() quiet(function() failing:run() end) end, 'stop here')
    quiet(function() trainer{checkpointDir = dir}:run() end)   -- released after the error
    -- without a checkpoint folder, the metrics file's folder is the run folder
    local mdir = helpers.tmpdir('run')
    local held = llm.checkpoint.lock(mdir)
    fails(function() quiet(function() trainer{metrics = mdir .. '/m.jsonl'}:run() end) end, "run folder '" .. mdir .. "' is in use")
    held:release()
  end)

  it('works in the sandbox (the lock checks its path like every file function)', function()
    local dir = helpers.tmpdir('run')
    local code = [[
      local text = string.rep('sphinx of black quartz, judge my vow. ', 12)
      local tok = llm.data.CharTokenizer(text)
      local model = nn.GPT{vocab = tok:vocabSize(), blockSize = 8, layers = 1, heads = 2, dim = 8}
      llm.Trainer{model = model, optimizer = optim.SGD(model:parameters(), {lr = 0.1}), steps = 2, progress = false,
                  train = llm.data.Batcher(tok:encode(text), {batchSize = 2, blockSize = 8, seed = 2}),
                  checkpointDir = ]] .. string.format('%q', dir) .. [[}:run()
    ]]
    local status, _, err = helpers.runCode(code, {'--sandbox', '--allow-write', dir})
    assert.are.equal(0, status, err)
    assert.is_true(exists(dir .. '/step-000002/checkpoint.json'))
    assert.is_true(exists(dir .. '/.lock'))
  end)

  it('removes stale temporaries at start, once the lock is held', function()
    local dir = helpers.tmpdir('run')
    llm.makeDirs(dir .. '/step-000002.tmp-999999')
    local out = helpers.captured(function() trainer{checkpointDir = dir}:run() end)
    assert.is_false(exists(dir .. '/step-000002.tmp-999999'))
    assert.truthy(out:find('removed stale temporaries of interrupted checkpoint writes: ' .. dir .. '/step-000002.tmp-999999', 1, true))
  end)

  it('metrics records carry a wall-clock time; a resume is recorded and re-logged steps are marked as replays', function()
    local dir = helpers.tmpdir('run')
    local metrics = dir .. '/metrics.jsonl'
    local t0 = llm.time()
    quiet(function() trainer{steps = 4, logEvery = 1, checkpointDir = dir, checkpointEvery = 2, keepLast = 3, metrics = metrics}:run() end)
    local recs = records(metrics)
    assert.are.equal(4, #recs)
    for _, r in ipairs(recs) do
      assert.are.equal('train', r.type); assert.is_nil(r.replay)
      assert.is_true(r.time >= t0 - 1 and r.time <= llm.time() + 1)
    end
    -- resume from step 2 into the same folder and run to 6: steps 3 and 4 are replays, 5 and 6 are new
    local tr = trainer{steps = 6, logEvery = 1, checkpointDir = dir, checkpointEvery = 2, keepLast = 3, metrics = metrics}
    tr:resume(dir .. '/step-000002')
    quiet(function() tr:run() end)
    recs = records(metrics)
    assert.are.equal(4 + 1 + 4, #recs)
    local resume = recs[5]
    assert.are.equal('resume', resume.type); assert.are.equal(2, resume.step)
    assert.are.equal(dir .. '/step-000002', resume.from); assert.is_number(resume.time)
    local replays = {}
    for i = 6, 9 do replays[#replays + 1] = recs[i].step .. '=' .. tostring(recs[i].replay) end
    assert.are.same({'3=true', '4=true', '5=nil', '6=nil'}, replays)
    -- a second run() of the same trainer does not record the resume again
    tr.steps = 7
    quiet(function() tr:run() end)
    recs = records(metrics)
    assert.are.equal('train', recs[#recs].type); assert.are.equal(7, recs[#recs].step)
  end)
end)
