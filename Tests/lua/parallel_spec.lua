-- parallel_spec.lua: parallel.pool, the one way to run Lua in parallel. Results in order whatever the
-- completion order (more tasks than workers); calls running at once; futures (several results, nil
-- holes, timeout); errors raised again with the worker's traceback; cancellation (a queued task never
-- runs, a running one's results are dropped); values cross by copy and tensors by shared, read-only
-- storage in both directions; clear copy errors; the thread budget shared by the workers (never
-- oversubscribed; llm.setThreads disabled in them); close and use after close; the sandbox and memory
-- budget inherited (a --sandbox child process); the data pipeline's luaStep on the same worker states.
-- Run: llmscript test Tests/lua/parallel_spec.lua
local here = debug.getinfo(1, 'S').source:match('^@(.*/)') or './'
local h = dofile(here .. 'helpers.lua')
local fails = h.fails
package.path = here .. 'parallel/?.lua;' .. package.path

local budget = llm.getThreads()
local function withThreads(n, fn)
  llm.setThreads(n)
  local ok, err = pcall(fn)
  llm.setThreads(budget)
  if not ok then error(err, 0) end
end

describe('parallel.pool', function()
  it('maps over more items than workers, results in list order', function()
    withThreads(2, function()
      local pool <close> = parallel.pool{init = 'worker'}
      assert.are.equal(2, pool:workers())
      local list = {}
      for i = 1, 200 do list[i] = i end
      local r = pool:map('square', list)
      assert.are.equal(200, #r)
      for i = 1, 200 do assert.are.equal(i * i, r[i]) end
      local uneven = pool:map('uneven', list)   -- completion order differs from list order
      for i = 1, 200 do assert.are.equal(i, uneven[i]) end
      assert.are.same({}, pool:map('square', {}))
      assert.are.same({'A', 'B'}, pool:map('nested.deeper.upper', {'a', 'b'}))
      assert.is_nil(pool:each('square', {1, 2, 3}))
    end)
  end)

  it('submits calls: futures return every result, keep nils, integers and floats', function()
    local pool <close> = parallel.pool{init = 'worker', workers = 1}
    local f = pool:submit('pair', 3, 4)
    assert.are.same({7, 12}, {f:wait()})
    assert.is_true(f:done()); assert.is_false(f:cancelled())
    assert.are.same({7, 12}, {f:wait()})   -- waiting again gives the results again
    local n = select('#', pool:submit('echo', 1, nil, 'x', nil):wait())
    assert.are.equal(4, n)
    assert.are.equal(3, pool:submit('count', nil, nil, nil):wait())
    assert.are.equal('integer', pool:submit('typeOf', 3):wait())
    assert.are.equal('float', pool:submit('typeOf', 3.0):wait())
    local nested = {a = {b = {1, 2, {c = 'deep'}}}, [10] = true, bytes = 'a\0b\255'}
    assert.are.same(nested, pool:submit('echo', nested):wait())
    assert.matches('parallel.Future%(\'pair\', finished%)', tostring(f))
  end)

  it('raises a worker error in the caller with the worker traceback', function()
    llm.setThreads(2)
    local pool <close> = parallel.pool{init = 'worker', workers = 2}
    llm.setThreads(budget)
    local err = fails(function() pool:map('fail', {1, 2, 3, 4, 5}) end,
      "map('fail'): item 3 failed in a worker", 'worker.lua:13: worker failed on 3', 'stack traceback', "in function 'worker.fail'")
    assert.matches('parallel_spec.lua:%d+: parallel:', err)
    fails(function() pool:submit('fail', 3):wait() end, "'fail' failed in a worker", 'worker failed on 3', 'stack traceback')
    fails(function() pool:submit('nope'):wait() end, "module 'worker' has no function 'nope'")
    fails(function() pool:submit('nested.nope'):wait() end, "has no function 'nested.nope'")
    assert.are.equal(4, pool:submit('square', 2):wait())   -- the worker survives its errors
  end)

  it('cancels: a queued call never runs, a running one finishes but its results are dropped', function()
    local pool <close> = parallel.pool{init = 'worker', workers = 1}
    local gate = llm.zeros(1)
    local busy = pool:submit('waitGate', gate, 'busy')
    local queued = pool:submit('mark', 'queued')
    assert.is_true(queued:cancel())
    assert.is_true(queued:done()); assert.is_true(queued:cancelled())
    while not tostring(busy):find('running') do end
    assert.is_false(busy:cancel())            -- already running: it finishes, its results are dropped
    assert.is_false(busy:done())
    gate[1] = 1
    fails(function() busy:wait() end, "'waitGate' was cancelled")
    fails(function() queued:wait() end, "'mark' was cancelled")
    assert.are.same({}, pool:submit('marks'):wait())   -- 'queued' never ran
    local done = pool:submit('square', 3)
    assert.are.equal(9, done:wait())
    assert.is_false(done:cancel())           -- finished: the results stay
    assert.are.equal(9, done:wait())
  end)

  it('runs calls at the same time, one per worker', function()
    withThreads(2, function()
      local pool <close> = parallel.pool{init = 'worker', workers = 2}
      local gate = llm.zeros(1)
      local a, b = pool:submit('waitGate', gate, 'a'), pool:submit('waitGate', gate, 'b')
      while not (tostring(a):find('running') and tostring(b):find('running')) do end   -- both in flight at once
      gate[1] = 1
      assert.are.same({'a', 'b'}, {a:wait(), b:wait()})
    end)
  end)

  it('times out a wait without stopping the call', function()
    local pool <close> = parallel.pool{init = 'worker', workers = 1}
    local gate = llm.zeros(1)
    local f = pool:submit('waitGate', gate, 'late')
    fails(function() f:wait(0.01) end, "'waitGate' is not done after 0.01 s")
    gate[1] = 1
    assert.are.equal('late', f:wait())
    fails(function() f:wait(-1) end, 'timeout in seconds')
  end)
end)

describe('values crossing states', function()
  local pool
  setup(function() pool = parallel.pool{init = 'worker', workers = 1} end)
  teardown(function() pool:close() end)

  it('shares tensors read-only in the worker', function()
    local t = llm.ones(4)
    assert.are.equal(4, pool:submit('sum', t):wait())
    for _, fn in ipairs{'addInPlace', 'copyInto', 'setIndex', 'viewInPlace'} do
      fails(function() pool:submit(fn, t):wait() end, 'failed in a worker', 'the tensor is read-only', 'clone()')
    end
    assert.are.equal(8, pool:submit('clonePlusOne', t):wait())   -- a clone is the worker's own, writable
    assert.are.same({1, 1, 1, 1}, t:totable())                    -- the caller's tensor is unchanged
    t:add_(1)                                                     -- and still writable here
    assert.are.equal(8, pool:submit('sum', t):wait())             -- shared storage: the worker sees the write
  end)

  it('shares result tensors read-only in the caller', function()
    local r = pool:submit('keepAndReturn', 3):wait()
    assert.are.same({1, 1, 1}, r:totable())
    fails(function() r:add_(1) end, 'add_: the tensor is read-only')
    fails(function() r[1] = 2 end, 'the tensor is read-only')
    fails(function() r:narrow(1, 1, 2):zero_() end, 'read-only')
    local c = r:clone(); c:add_(1)
    assert.are.same({2, 2, 2}, c:totable())
    assert.are.same({1, 1, 1}, pool:map('ones', {3})[1]:totable())
    -- optimizers and clipping write through raw pointers: they refuse read-only tensors too, changing nothing
    local p = pool:submit('keepAndReturn', 2):wait()
    p:requiresGrad_(true)
    p.grad = llm.ones(2)
    fails(function() optim.SGD({p}, {lr = 0.1}):step() end, 'SGD.step: a parameter is read-only')
    assert.are.same({1, 1}, p:totable())
    local w = llm.ones(2):requiresGrad_(true)
    w.grad = pool:submit('keepAndReturn', 2):wait()
    fails(function() optim.clipGradNorm({w}, 0.1) end, 'clipGradNorm: a gradient is read-only')
    if pcall(dist.init) then  -- where libmpi is installed (rank 0 of 1 without mpirun)
      fails(function() dist.allReduce(w.grad) end, 'dist.allReduce: the tensor is read-only')
      fails(function() dist.broadcast(w.grad) end, 'dist.broadcast: the tensor is read-only')
    end
  end)

  it('refuses what cannot be copied, naming where it sat', function()
    fails(function() pool:submit('echo', print) end, 'cannot copy a function in argument 1', 'tensors cross')
    fails(function() pool:submit('echo', 1, {a = {cb = print}}) end, 'cannot copy a function in argument 2.a.cb')
    fails(function() pool:submit('echo', coroutine.create(print)) end, 'cannot copy a thread')
    local cyc = {}; cyc.next = {back = cyc}
    fails(function() pool:submit('echo', cyc) end, 'a table that contains itself (a cycle) in argument 1.next.back')
    fails(function() pool:submit('echo', io.stdout) end, 'cannot copy a FILE*', 'only tensors among userdata')
    fails(function() pool:map('echo', {1, print}) end, 'cannot copy a function in item 2')
    fails(function() pool:submit('returnsFunction'):wait() end, 'failed in a worker', 'cannot copy a function in result 1')
    fails(function() pool:submit('returnsCycle'):wait() end, 'a cycle')
    pool:each('returnsFunction', {1, 2})                      -- each copies no results back
    assert.are.same({1, 2}, pool:map('firstOnly', {1, 2}))   -- map copies the first result only
    local t = llm.ones(2); t:free()
    fails(function() pool:submit('echo', t) end, 'cannot copy a tensor that was already freed in argument 1')
    local shared = {1, 2}   -- the same table twice (no cycle) is copied twice
    assert.are.same({shared, shared}, pool:submit('echo', {shared, shared}):wait())
  end)
end)

describe('the thread budget', function()
  it('is shared by the workers, never oversubscribed', function()
    withThreads(2, function()
      local two <close> = parallel.pool{init = 'worker', workers = 2}
      for _, r in ipairs(two:map('threads', {1, 2, 3, 4})) do assert.are.equal(1, r) end
      local a, b = two:submit('threads'):wait()
      assert.are.same({1, 1}, {a, b})          -- llm.getThreads() and llm.system().threads in a worker
      local one <close> = parallel.pool{init = 'worker', workers = 1}
      assert.are.equal(2, one:submit('threads'):wait())
      assert.are.equal(2, llm.getThreads())    -- the caller keeps the whole budget
      fails(function() parallel.pool{init = 'worker', workers = 3} end, "3 workers would oversubscribe the thread budget of 2")
      fails(function() one:submit('setThreads', 8):wait() end, 'llm.setThreads: not available in a parallel worker')
      assert.are.equal(2, llm.getThreads())
    end)
  end)

  it('defaults the workers to the budget', function()
    withThreads(1, function()
      local pool <close> = parallel.pool{init = 'worker'}
      assert.are.equal(1, pool:workers())
      assert.are.equal(1, pool:submit('threads'):wait())
    end)
  end)
end)

describe('pool lifetime and arguments', function()
  it('closes: queued calls finish, later uses are errors, closing twice is fine', function()
    local pool = parallel.pool{init = 'worker', workers = 1}
    local futures = {}
    for i = 1, 10 do futures[i] = pool:submit('square', i) end
    pool:close()
    for i = 1, 10 do assert.are.equal(i * i, futures[i]:wait()) end
    assert.matches('closed', tostring(pool))
    fails(function() pool:map('square', {1}) end, 'parallel.Pool: the pool is closed')
    fails(function() pool:submit('square', 1) end, 'the pool is closed')
    fails(function() pool:each('square', {1}) end, 'the pool is closed')
    pool:close()
    do
      local scoped <close> = parallel.pool{init = 'worker', workers = 1}
      pool = scoped
    end
    fails(function() pool:submit('square', 1) end, 'the pool is closed')
    local collected = parallel.pool{init = 'worker', workers = 1}:submit('square', 5)
    collectgarbage(); collectgarbage()
    assert.are.equal(25, collected:wait())   -- a collected pool drains its queue
  end)

  it('checks its arguments', function()
    fails(function() parallel.pool() end, 'expected an options table')
    fails(function() parallel.pool{workers = 1} end, "Invalid 'init'")
    fails(function() parallel.pool{init = 'worker', workers = 0} end, "Invalid 'workers'")
    fails(function() parallel.pool{init = 'worker', threads = 1} end, "unknown option 'threads'")
    fails(function() parallel.pool{init = 'no.such.module', workers = 1} end, "cannot load module 'no.such.module' in a worker state", 'not found')
    local pool <close> = parallel.pool{init = 'worker', workers = 1}
    fails(function() pool:map(42, {}) end, 'expected the name of a function')
    fails(function() pool:map('square', 'abc') end, 'expected a list of items')
    fails(function() pool.map(42, 'square', {}) end, 'parallel.Pool expected')
  end)
end)

describe('confinement', function()
  it('gives worker states the sandbox and memory budget of a sandboxed caller', function()
    -- the script's folder is the recipe folder: its pool's init module is found there
    local p = assert(io.popen(h.shq(h.binary()) .. ' --sandbox --max-memory 64M ' .. h.shq(here .. 'parallel/sandboxed.lua') .. ' 2>&1'))
    local out = p:read('a')
    local _, _, status = p:close()
    assert.are.equal(0, status, out)
    local checks = {}
    for name, ok, msg in out:gmatch('CHECK\t([^\t]+)\t(%a+)\t([^\n]*)') do checks[name] = {ok == 'true', msg} end
    local function expect(name, ok, ...)
      assert(checks[name], 'no check ' .. name .. ' in ' .. out)
      assert.are.equal(ok, checks[name][1], name .. ': ' .. checks[name][2])
      for _, frag in ipairs{...} do assert(checks[name][2]:find(frag, 1, true), name .. ': ' .. checks[name][2]) end
    end
    expect('os.execute', false, 'os.execute is disabled')
    expect('debug', true)
    expect('read outside', false, "reading '/etc/passwd' is not allowed")
    expect('read inside', true)
    expect('worker budget', false, 'memory limit')
    expect('after a failure', true)
    expect('caller budget shared', false, 'memory limit')
    expect('caller budget released', true)
    expect('nested pool', false, "reading '/etc/passwd' is not allowed")
  end)
end)

describe('the data pipeline', function()
  it("runs luaStep on the pool's worker states", function()
    local list = {}
    for i = 1, 50 do list[i] = 'doc ' .. i end
    local step = llm.data.luaStep{module = 'pipeline_step', fn = 'shout'}
    local _, docs = llm.data.pipeline{llm.data.readers.list(list), step, threads = 3, quiet = true}:run()
    assert.are.equal(49, #docs)
    assert.are.same({text = 'DOC 1', id = '1', meta = {n = '5', threads = '1'}}, docs[1])
  end)
end)
