-- tune_study_spec.lua: the study side of `tune` (stdlib-lua/llm/tune, Sources/LLMLua/Bindings/tune): spaces
-- and their errors, define-by-run and conditional parameters, the pruners on fixed intermediate curves
-- (median, ASHA rungs, Hyperband brackets), multi-objective Pareto fronts, failing trials, SQLite storage
-- round trips, resuming after kill -9, locked and corrupt study files, parallel trials in child processes
-- (concurrency limit, threads, a crashing, a hanging and an out-of-memory trial), the Trainer reporter, llm.plot's SVG and
-- `llmscript tune show`. Samplers are T1's (tune_samplers_spec); here a random sampler or a scripted one.
-- Run: llmscript test Tests/lua/tune_study_spec.lua
local here = debug.getinfo(1, 'S').source:match('^@(.*/)')
local h = dofile(here .. 'helpers.lua')
local cli = dofile(here .. 'cli.lua')
local plot = require 'llm.plot'
teardown(h.removeTmpdirs)

-- a sampler that returns scripted values: values[name][trial.number + 1] (the sampler interface)
local function scripted(values)
  return {sampleIndependent = function(_, _, trial, name) return values[name][trial.number + 1] end}
end

local function states(study)
  local out = {}
  for _, t in ipairs(study:trials()) do out[#out + 1] = t.state end
  return out
end

local function readAll(path)
  local f = assert(io.open(path, 'rb'))
  local s = f:read('a')
  f:close()
  return s
end

local function exists(path)
  local f = io.open(path, 'rb')
  if f then f:close() end
  return f ~= nil
end

-- asserts that svg is one well-formed <svg> element (balanced tags, no raw '&' outside entities)
local function wellFormed(svg)
  assert(svg:match('^<svg xmlns="http://www.w3.org/2000/svg"'), 'not an SVG document')
  local stack = {}
  for close, name, _, selfClose in svg:gmatch('<(/?)([%w:]+)([^<>]-)(/?)>') do
    if close == '/' then
      assert(table.remove(stack) == name, 'unbalanced </' .. name .. '>')
    elseif selfClose == '' then
      stack[#stack + 1] = name
    end
  end
  assert(#stack == 0, 'unclosed <' .. tostring(stack[#stack]) .. '>')
  assert(not svg:gsub('&%a+;', ''):gsub('&#%d+;', ''):find('&', 1, true), 'raw & in the SVG')
end

describe('tune spaces', function()
  it('constructs distributions and rejects invalid ones with clear errors', function()
    assert.are.same({kind = 'float', low = 0, high = 1, log = false}, tune.uniform(0, 1))
    assert.are.same({kind = 'float', low = 1e-4, high = 1, log = true}, tune.logUniform(1e-4, 1))
    assert.are.same({kind = 'int', low = 1, high = 8, log = true, step = 1}, tune.int(1, 8, {log = true}))
    assert.are.same({kind = 'categorical', choices = {'a', 'b'}}, tune.choice{'a', 'b'})
    assert.are.equal(0.25, tune.quniform(0, 1, 0.25).step)
    h.fails(function() tune.uniform(1, 0) end, 'empty range', 'low 1 > high 0')
    h.fails(function() tune.logUniform(0, 1) end, 'log distribution needs low > 0')
    h.fails(function() tune.choice{} end, 'non-empty list of choices')
    h.fails(function() tune.int(1.5, 3) end, 'integer low, high and step')
    h.fails(function() tune.quniform(0, 1, -1) end, 'step must be a positive number')
    h.fails(function() tune.choice{{}} end, 'choice 1 must be a string, a finite number or a boolean')
    h.fails(function() tune.uniform(0, 0 / 0) end, 'finite numbers low and high')
  end)

  it('an empty or invalid space is an error before any trial runs', function()
    local study = tune.study{sampler = tune.sampler.random{seed = 1}}
    h.fails(function() study:optimize(function() return 0 end, {trials = 1, space = {}}) end, 'empty search space')
    h.fails(function() study:optimize(function() return 0 end, {trials = 1, space = {x = {kind = 'normal'}}}) end,
      "unknown distribution kind 'normal' for parameter 'x'")
    h.fails(function() study:optimize(function() return 0 end, {trials = 1, space = {x = 3}}) end, "for parameter 'x', got number")
    h.fails(function() study:optimize(function() return 0 end, {trials = 1, bogus = 1}) end, "unknown option 'bogus'")
    h.fails(function() study:optimize(function() return 0 end, {}) end, "give 'trials', 'maxTrials' or 'timeout'")
    assert.are.equal(0, #study:trials())
    h.fails(function() tune.study{direction = 'up'} end, "must be 'minimize' or 'maximize'")
    h.fails(function() tune.study{colour = 1} end, "unknown option 'colour'")
  end)

  it('resolves conditional parameters after the ones they read; inactive ones are absent', function()
    local study = tune.study{sampler = tune.sampler.random{seed = 5}}
    local space = {
      model = tune.choice{'mlp', 'linear'},
      depth = function(p) if p.width then return tune.int(1, p.width) end end,   -- reads width: resolved after it
      width = function(p) if p.model == 'mlp' then return tune.int(2, 6) end end,
    }
    local seen = {}
    study:optimize(function(_, params)
      seen[#seen + 1] = params
      return 0
    end, {trials = 16, space = space})
    local kinds = {}
    for _, p in ipairs(seen) do
      kinds[p.model] = true
      if p.model == 'mlp' then
        assert(p.width >= 2 and p.width <= 6 and p.depth >= 1 and p.depth <= p.width)
      else
        assert.is_nil(p.width); assert.is_nil(p.depth)
      end
    end
    assert.is_true(kinds.mlp and kinds.linear)
    local cyc = {a = function(p) return p.b and tune.uniform(0, 1) end, b = function(p) return p.a and tune.uniform(0, 1) end}
    study:optimize(function() return 0 end, {trials = 1, space = cyc, quiet = true})
    local last = study:trials()[#study:trials()]
    assert.are.equal('failed', last.state)
    assert.truthy(last.error:find('cycle: a, b', 1, true))
  end)

  it('define-by-run: a name suggested twice gives the same value; another range is an error', function()
    local study = tune.study{sampler = tune.sampler.random{seed = 2}}
    study:optimize(function(trial)
      local a = trial:suggestFloat('lr', 1e-4, 1e-1, {log = true})
      assert.are.equal(a, trial:suggestFloat('lr', 1e-4, 1e-1, {log = true}))
      local n = trial:suggestInt('n', 1, 9, {step = 2})
      assert.are.equal('integer', math.type(n)); assert.are.equal(1, n % 2)
      local c = trial:suggestCategorical('act', {'relu', true, 3})
      assert.truthy(c == 'relu' or c == true or c == 3)
      h.fails(function() trial:suggestFloat('lr', 0, 1) end, "parameter 'lr' was already suggested with another distribution")
      h.fails(function() trial:suggestInt('m', 5, 1) end, "empty range for parameter 'm'")
      return a
    end, {trials = 3})
    assert.are.same({'complete', 'complete', 'complete'}, states(study))
  end)
end)

-- curves: value of trial k at step s = base[k + 1] + 1 / s
local function curveStudy(pruner, bases, maxStep, directions)
  local study = tune.study{sampler = tune.sampler.random{seed = 1}, pruner = pruner, directions = directions}
  study:optimize(function(trial)
    trial:suggestFloat('x', 0, 1)
    local v
    for s = 1, maxStep do
      v = bases[trial.number + 1] + 1 / s
      trial:report(s, v)
      if trial:shouldPrune() then trial:prune() end
    end
    return v
  end, {trials = #bases})
  return study
end

local function lastSteps(study)
  local out = {}
  for _, t in ipairs(study:trials()) do
    local m = 0
    for s in pairs(t.intermediate) do m = math.max(m, s) end
    out[#out + 1] = m
  end
  return out
end

describe('tune pruners', function()
  it('median: after nStartup complete trials, prunes a trial worse than the median at its step', function()
    local study = curveStudy(tune.pruner.median{nStartup = 2}, {1, 2, 3, 0.5, 0.9}, 4)
    -- trial 1 is worse than trial 0 but only one trial had completed; trial 2 trails the median (2.5 at step 1)
    assert.are.same({'complete', 'complete', 'pruned', 'complete', 'complete'}, states(study))
    assert.are.same({4, 4, 1, 4, 4}, lastSteps(study))
    h.fails(function() tune.pruner.median{nStartup = -1} end, "'nStartup' must be an integer >= 0")
    h.fails(function() tune.pruner.median{warmup = 1} end, "unknown option 'warmup'")
  end)

  it('median: maximize flips the comparison; nWarmup delays pruning', function()
    local study = curveStudy(tune.pruner.median{nStartup = 1, nWarmup = 3}, {3, 1}, 4, {'maximize'})
    assert.are.same({'complete', 'pruned'}, states(study))
    assert.are.same({4, 3}, lastSteps(study))
  end)

  it('ASHA: rungs at minResource * eta^k; a trial goes on only among the top 1/eta at each rung', function()
    local asha = tune.pruner.asha{minResource = 1, reductionFactor = 2}
    assert.are.same({1, 2, 4, 8}, asha:rungs(8))
    assert.are.same({3, 9}, tune.pruner.asha{minResource = 1, reductionFactor = 3, minEarlyStoppingRate = 1}:rungs(10))
    local study = curveStudy(asha, {1.0, 2.0, 0.5, 1.5, 0.8}, 8)
    -- rung 1 (step 1): trial 1 (3.0) trails trial 0 (2.0); trial 3 (2.5) is not in the best half of {1.5, 2, 2.5, 3};
    -- trial 4 (1.8) is among the best 2 of 5 at step 1, but not the best 1 of {1.0, 1.3, 1.5} at step 2
    assert.are.same({'complete', 'pruned', 'complete', 'pruned', 'pruned'}, states(study))
    assert.are.same({8, 1, 8, 1, 2}, lastSteps(study))
    h.fails(function() tune.pruner.asha{reductionFactor = 1} end, "'reductionFactor' must be >= 2")
  end)

  it('Hyperband: brackets by trial number with budget weights; trials compete within their bracket', function()
    local hb = tune.pruner.hyperband{minResource = 1, maxResource = 9, reductionFactor = 3}
    assert.are.equal(3, hb:brackets(9))
    local count = {[0] = 0, [1] = 0, [2] = 0}
    for n = 0, 1699 do local b = hb:bracketOf(n, 3); count[b] = count[b] + 1 end
    -- budgets 9 : 5 : 3 (Hyperband's n_i for s = 2, 1, 0)
    assert(count[0] > count[1] and count[1] > count[2] and count[2] > 0, string.format('%d %d %d', count[0], count[1], count[2]))
    assert.are.equal(hb:bracketOf(42, 3), hb:bracketOf(42, 3))
    -- find two trial numbers in bracket 0 and one in bracket 1; a bad trial in bracket 0 is pruned at step 1 (its
    -- bracket's first rung) when a good one of its bracket has reported there
    local b0, b1 = {}, nil
    for n = 0, 50 do
      local b = hb:bracketOf(n, 3)
      if b == 0 then b0[#b0 + 1] = n elseif b == 1 and not b1 then b1 = n end
    end
    local first, second = b0[1], b0[2]
    assert(first < second)
    local bases = {}
    for n = 0, second do bases[n + 1] = 5 end   -- every trial before `second` is bad...
    bases[first + 1] = 0                          -- ...but the first of bracket 0
    local study = curveStudy(hb, bases, 9)
    local byNumber = study:trials()
    assert.are.equal('complete', byNumber[first + 1].state)
    assert.are.equal('pruned', byNumber[second + 1].state)
    assert.are.same({1}, (function() local s = {} for k in pairs(byNumber[second + 1].intermediate) do s[#s + 1] = k end return s end)())
    h.fails(function() tune.pruner.hyperband{minResource = 4, maxResource = 2} end, "'maxResource' must be >= 'minResource'")
  end)
end)

describe('tune studies', function()
  it('multi-objective: the Pareto front is the non-dominated complete trials', function()
    local xs, ys = {1, 2, 3, 4, 2, 5}, {5, 3, 4, 1, 3.5, 0.5}
    local study = tune.study{directions = {'minimize', 'minimize'}, sampler = scripted{x = xs, y = ys}}
    study:optimize(function(trial) return {trial:suggestFloat('x', 0, 10), trial:suggestFloat('y', 0, 10)} end, {trials = 6})
    local front = {}
    for _, t in ipairs(study:paretoFront()) do front[#front + 1] = t.number end
    assert.are.same({0, 1, 3, 5}, front)
    h.fails(function() study:best() end, 'use study:paretoFront()')
    local maxi = tune.study{directions = {'maximize', 'minimize'}, sampler = scripted{x = xs, y = ys}}
    maxi:optimize(function(trial) return {trial:suggestFloat('x', 0, 10), trial:suggestFloat('y', 0, 10)} end, {trials = 6})
    front = {}
    for _, t in ipairs(maxi:paretoFront()) do front[#front + 1] = t.number end
    assert.are.same({5}, front)   -- (5, 0.5): the largest x and the smallest y dominates every other point
  end)

  it('a failing objective records the trial failed and the study continues', function()
    local study = tune.study{sampler = tune.sampler.random{seed = 4}}
    study:optimize(function(trial)
      local x = trial:suggestFloat('x', 0, 1)
      if trial.number == 1 then error('diverged at step 7') end
      if trial.number == 2 then return 0 / 0 end
      if trial.number == 3 then return {1, 2} end
      return x
    end, {trials = 5, quiet = true})
    assert.are.same({'complete', 'failed', 'failed', 'failed', 'complete'}, states(study))
    local t = study:trials()
    assert.truthy(t[2].error:find('diverged at step 7', 1, true))
    assert.truthy(t[3].error:find('objective value 1 is nan', 1, true) or t[3].error:find('objective value 1 is -nan', 1, true))
    assert.truthy(t[4].error:find('returned 2 value(s) for 1 objective(s)', 1, true))
    assert.is_nil(t[2].values)
    assert.are.same({'complete'}, {study:best().state})
    assert.are.same({complete = 2, failed = 3, pruned = 0, running = 0}, study:summary())
  end)

  it('stores trials in SQLite: params of every kind, values, intermediate values and attributes round-trip', function()
    local path = h.tmpdir('store') .. '/s.sqlite'
    local study = tune.study{name = 'rt', storage = path, sampler = tune.sampler.random{seed = 9}, direction = 'maximize'}
    study:optimize(function(trial)
      local lr = trial:suggestFloat('lr', 1e-5, 1e-1, {log = true})
      trial:suggestInt('layers', 1, 8)
      trial:suggestCategorical('act', {'gelu', false, 2.5})
      trial:report(0, 1.5); trial:report(10, 0.25)
      trial:setAttr('note', {tag = 'x<&>', n = 3})
      return lr
    end, {trials = 4})
    local before = study:trials()
    study:close()
    local again = tune.study{name = 'rt', storage = path}
    assert.are.same({'maximize'}, again.directions)
    local after = again:trials()
    assert.are.equal(4, #after)
    for i, t in ipairs(after) do
      local b = before[i]
      assert.are.equal(b.params.lr, t.params.lr)
      assert.are.equal('float', math.type(t.params.lr))
      assert.are.equal('integer', math.type(t.params.layers))
      assert.are.equal(b.params.layers, t.params.layers)
      assert.are.equal(b.params.act, t.params.act)
      assert.are.same(b.distributions, t.distributions)
      assert.are.same({t.params.lr}, t.values)
      assert.are.same({[0] = 1.5, [10] = 0.25}, t.intermediate)
      assert.are.same({tag = 'x<&>', n = 3}, t.attrs.note)
    end
    assert.are.equal(again:best().number, (function()
      local best = after[1]
      for _, t in ipairs(after) do if t.values[1] > best.values[1] then best = t end end
      return best.number end)())
    h.fails(function() tune.study{name = 'rt', storage = path, direction = 'minimize'} end, "study 'rt'", 'has directions {maximize}, not {minimize}')
    again:close()
  end)

  it('resumes after kill -9: finished trials are kept, the running one is marked failed', function()
    local path = h.tmpdir('resume') .. '/r.sqlite'
    local p = tune.spawn({cli.bin, here .. 'tune/killme.lua', path}, {timeout = 60, log = path .. '.log'})
    local running
    for _ = 1, 600 do   -- until trial 3 is running (at most 30 s)
      tune.sleep(0.05)
      if exists(path) then
        local ok, study = pcall(tune.study, {name = 'resume', storage = path})
        if ok then
          local t = study:trials()
          study:close()
          if #t >= 4 and t[4].state == 'running' then running = true; break end
        end
      end
      assert.is_nil(p:poll(), 'the study process ended early: ' .. readAll(path .. '.log'))
    end
    assert.is_true(running)
    p:kill()
    assert.are.equal(9, p:wait().signal)
    local study = tune.study{name = 'resume', storage = path, sampler = tune.sampler.random{seed = 7}}
    assert.are.same({3}, study.failedOnOpen)
    local t = study:trials()
    assert.are.same({'complete', 'complete', 'complete', 'failed'}, states(study))
    for i = 1, 3 do assert.are.same({t[i].params.x}, t[i].values) end
    assert.truthy(t[4].error:find('ended before it finished', 1, true))
    study:optimize(function(trial) return trial:suggestFloat('x', 0, 1) end, {trials = 2})
    t = study:trials()
    assert.are.equal(6, #t)
    assert.are.same({4, 5}, {t[5].number, t[6].number})
    assert.are.equal('complete', t[6].state)
    study:close()
  end)

  it('a corrupt study file is a clear error and stays unchanged', function()
    local dir = h.tmpdir('corrupt')
    local path = dir .. '/bad.sqlite'
    local bytes = string.rep('not a database, ', 300)
    local f = assert(io.open(path, 'wb')); f:write(bytes); f:close()
    h.fails(function() tune.study{storage = path} end, "'" .. path .. "' is not a valid SQLite study database", 'left unchanged')
    assert.are.equal(bytes, readAll(path))
    assert.is_false(exists(path .. '-wal'))
    local code, _, stderr = cli.run({'tune', 'show', path})
    assert.are.equal(1, code)
    cli.has(stderr, 'is not a valid SQLite study database')
    assert.are.equal(bytes, readAll(path))
  end)

  it('a study file locked by another writer is a clear error and nothing changes', function()
    local path = h.tmpdir('locked') .. '/l.sqlite'
    local study = tune.study{name = 'l', storage = path, sampler = tune.sampler.random{seed = 1}}
    study:optimize(function(trial) return trial:suggestFloat('x', 0, 1) end, {trials = 2})
    study:close()
    local other = tune.sqlite(path)
    other:exec('BEGIN EXCLUSIVE')
    h.fails(function() tune.study{name = 'l', storage = path, busyTimeout = 0.2} end,
      "the study file '" .. path .. "' is locked by another process", 'nothing was changed')
    other:exec('ROLLBACK')
    other:close()
    local again = tune.study{name = 'l', storage = path}
    assert.are.same({'complete', 'complete'}, states(again))
    again:close()
  end)
end)

describe('tune parallel trials', function()
  it('one process per trial, at most `workers` at once, threads = cores / workers; a crash and a hang end only their trial', function()
    local path = h.tmpdir('parallel') .. '/p.sqlite'
    local code, stdout, stderr = cli.run({here .. 'tune/driver.lua', path, here .. 'tune/objective.lua', '2', '6', '1.5'},
      {env = {TUNE_SPEC_FAULTS = '1'}})
    assert(code == 0, stderr)
    cli.has(stdout, "tune.Study('parallel': 4 complete, 0 pruned, 2 failed, 0 running)")
    local study = tune.study{name = 'parallel', storage = path}
    local t = study:trials()
    assert.are.same({'complete', 'failed', 'failed', 'complete', 'complete', 'complete'}, states(study))
    assert.truthy(t[2].error:find('exited with status 3', 1, true), t[2].error)
    assert.truthy(t[3].error:find('timed out after 1.5 s (killed)', 1, true), t[3].error)
    local pids = {}
    for _, r in ipairs(t) do
      if r.state == 'complete' then
        assert.are.equal(1, r.attrs.threads)          -- 2 cores / 2 workers
        assert.is_nil(pids[r.attrs.pid]); pids[r.attrs.pid] = true
        assert.are.same({(r.params.x - 0.5) ^ 2}, r.values)
      end
    end
    -- concurrency: at no instant more than 2 trials between their start and their end
    local events = {}
    for _, r in ipairs(t) do events[#events + 1] = {r.started, 1}; events[#events + 1] = {r.finished, -1} end
    table.sort(events, function(a, b) if a[1] ~= b[1] then return a[1] < b[1] end return a[2] < b[2] end)
    local now, most = 0, 0
    for _, e in ipairs(events) do now = now + e[2]; most = math.max(most, now) end
    assert(most <= 2, 'more than 2 trials ran at once: ' .. most)
    assert.truthy(exists(path .. '.logs/trial-1.log'))
    study:close()
  end)

  it('workers rebuild the sampler and pruner stored in the study (TPE + ASHA) and run a declarative space', function()
    local path = h.tmpdir('workers') .. '/w.sqlite'
    local study = tune.study{name = 'w', storage = path, sampler = tune.sampler.tpe{seed = 2, nStartup = 3},
                             pruner = tune.pruner.asha{reductionFactor = 3}}
    study:optimize(here .. 'tune/curves.lua', {trials = 8, workers = 2, cores = 2})
    local s = study:summary()
    assert.are.equal(8, s.complete + s.pruned)
    assert(s.pruned >= 1, 'ASHA pruned nothing in the workers')
    for _, t in ipairs(study:trials()) do
      assert(t.params.k == 'a' or t.params.k == 'b')
      if t.state == 'complete' then assert.are.same({(t.params.x - 0.5) ^ 2 + (t.params.k == 'a' and 0 or 1) + 1 / 9}, t.values) end
    end
    study:close()
    local again = tune.study{name = 'w', storage = path}
    assert.are.equal('tpe', again.sampler._spec.name)
    assert.are.same({name = 'asha', options = {minResource = 1, reductionFactor = 3, minEarlyStoppingRate = 0}}, again.pruner._spec)
    again:close()
  end)

  it('a trial past its memory limit fails alone; the next one runs', function()
    local path = h.tmpdir('memory') .. '/m.sqlite'
    local code, stdout, stderr = cli.run({here .. 'tune/driver.lua', path, here .. 'tune/objective.lua', '1', '2', '30', '400'},
      {env = {TUNE_SPEC_MEMORY = '1'}})
    assert(code == 0, stderr)
    cli.has(stdout, "tune.Study('parallel': 1 complete, 0 pruned, 1 failed, 0 running)")
    local study = tune.study{name = 'parallel', storage = path}
    local t = study:trials()
    -- the allocation fails in the child (Lua's memory error, recorded by the worker, or the process dies of it)
    assert.truthy(t[1].error:find('not enough memory', 1, true), t[1].error)
    assert.are.equal('complete', t[2].state)
    study:close()
  end)

  it('refuses parallel trials without a study file, a function objective or more workers than cores', function()
    local study = tune.study{sampler = tune.sampler.random{seed = 1}}
    h.fails(function() study:optimize(function() return 0 end, {trials = 2, workers = 2}) end, 'pass the objective as the path of a Lua file')
    h.fails(function() study:optimize(here .. 'tune/objective.lua', {trials = 2, workers = 2}) end, 'need a study file')
    local path = h.tmpdir('cores') .. '/c.sqlite'
    local s2 = tune.study{storage = path, sampler = tune.sampler.random{seed = 1}}
    h.fails(function() s2:optimize(here .. 'tune/objective.lua', {trials = 2, workers = 3, cores = 2}) end, '3 workers exceed the core budget of 2 cores')
    h.fails(function() s2:optimize(here .. 'tune/objective.lua', {trials = 2, workers = 2, cores = 4, threads = 3}) end, '2 workers x 3 threads exceed')
    s2:close()
  end)
end)

describe('tune.reporter', function()
  it('reports the metric at each evaluation and stops the run once the trial is pruned', function()
    local study = tune.study{sampler = tune.sampler.random{seed = 1}, pruner = tune.pruner.median{nStartup = 1}}
    local stopped = {}
    study:optimize(function(trial)
      local ext = tune.reporter(trial, {metric = 'valLoss'})
      require('llm.extensions').check(ext, 1)
      local base = trial.number == 0 and 1 or 2
      for step = 10, 30, 10 do
        ext:onEval(nil, {step = step, valLoss = base + 1 / step})
        if ext:afterStep() == false then stopped[trial.number] = step; break end
      end
      return base
    end, {trials = 2})
    assert.are.same({'complete', 'pruned'}, states(study))
    assert.are.same({[1] = 10}, stopped)
    assert.are.same({[10] = 2.1}, study:trials()[2].intermediate)
  end)
end)

describe('llm.plot and llmscript tune show', function()
  it('renders well-formed SVG with escaped text, log axes and an empty chart', function()
    local svg = plot.line{title = 'a <b> & "c"', logY = true, xlabel = 'step', ylabel = 'loss',
                          series = {{name = 'train & val', x = {1, 2, 3, 4}, y = {10, 1, 0.1, -1}}, {name = 'other', x = {1, 2}, y = {5, 0 / 0}}}}
    wellFormed(svg)
    cli.has(svg, 'a &lt;b&gt; &amp; &quot;c&quot;')
    cli.has(svg, 'train &amp; val')
    wellFormed(plot.scatter{series = {{x = {}, y = {}}}})
    cli.has(plot.scatter{series = {{x = {}, y = {}}}}, 'no data')
    wellFormed(plot.bar{labels = {'lr', 'wd<'}, values = {0.7, 0.3}})
    wellFormed(plot.parallel{axes = {{name = 'lr', values = {1e-3, 1e-2}, log = true}, {name = 'act', values = {1, 2}, labels = {'relu', 'gelu'}}},
                             color = {1, 2}, colorLabel = 'loss'})
    h.fails(function() plot.bar{} end, 'plot.bar: expected {labels')
  end)

  it('tune show prints the best trials and writes history, importance, parallel coordinates and Pareto SVGs', function()
    local dir = h.tmpdir('show')
    local path = dir .. '/s.sqlite'
    local study = tune.study{name = 'one', storage = path, sampler = tune.sampler.random{seed = 3}}
    study:optimize(function(trial)
      local x = trial:suggestFloat('x', -1, 1)
      local k = trial:suggestCategorical('kind', {'a<b', 'c'})
      return x * x + (k == 'c' and 1 or 0)
    end, {trials = 12})
    local best = study:best()
    study:close()
    local code, stdout, stderr = cli.run({'tune', 'show', path, '--out', dir .. '/plots', '--top', '3'})
    assert(code == 0, stderr)
    cli.has(stdout, "study 'one' in " .. path .. ': minimize; 12 trials: 12 complete')
    cli.has(stdout, 'best trials (top 3):')
    cli.has(stdout, string.format('1. trial %-4d value %-12s', best.number, string.format('%.6g', best.values[1])))
    cli.has(stdout, 'parameter importance (first-order variance share):')
    for _, name in ipairs{'history', 'importance', 'parallel'} do
      local svg = readAll(dir .. '/plots/' .. name .. '.svg')
      wellFormed(svg)
    end
    cli.has(readAll(dir .. '/plots/parallel.svg'), 'a&lt;b')
    -- several objectives: the Pareto front and pareto.svg, in a file with two studies (--study picks one)
    local multi = tune.study{name = 'two', storage = path, directions = {'minimize', 'maximize'}, sampler = tune.sampler.random{seed = 4}}
    multi:optimize(function(trial) local x = trial:suggestFloat('x', 0, 1) return {x, x * x} end, {trials = 5})
    multi:close()
    code, stdout = cli.run({'tune', 'show', path, '--study=two', '--out=' .. dir .. '/two'})
    assert.are.equal(0, code)
    cli.has(stdout, 'Pareto front (5 trials):')
    wellFormed(readAll(dir .. '/two/pareto.svg'))
    local _, _, err = cli.run({'tune', 'show', path})
    cli.has(err, 'holds several studies, choose one with --study: one, two')
    code, _, err = cli.run({'tune', 'show'})
    assert.are.equal(2, code)
    cli.has(err, 'usage: llmscript tune show STUDY_FILE')
    code, _, err = cli.run({'tune', 'show', dir .. '/missing.sqlite'})
    assert.are.equal(1, code)
    cli.has(err, "no study file '" .. dir .. "/missing.sqlite'")
  end)
end)
