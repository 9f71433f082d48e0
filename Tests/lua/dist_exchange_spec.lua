-- dist_exchange_spec.lua: the collectives beyond broadcast/allReduce/allGather — reduceScatter, send/recv,
-- isend/irecv/iallReduce with dist.Request, and the 16-bit wire formats of allReduce — run under
-- `mpirun -np 2` (Tests/lua/dist/exchange.lua); pending only when mpirun is not installed.
local h = dofile(debug.getinfo(1, 'S').source:match('^@(.*/)') .. 'helpers.lua')
local here = debug.getinfo(1, 'S').source:match('^@(.*/)')

local MPIRUN = 'OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1 '
  .. 'OPENBLAS_NUM_THREADS=1 timeout 120 mpirun -np 2 --oversubscribe --allow-run-as-root '
  .. '--mca btl self,vader --mca mpi_yield_when_idle 1 '
local hasMPIRun = os.execute('command -v mpirun >/dev/null 2>&1') == true

describe('dist exchange (one process)', function()
  it('refuses point-to-point with itself and reduce-scatter of an indivisible tensor only by rule', function()
    local status, out = h.runCode([[
      dist.init()
      print(pcall(dist.send, llm.zeros(1), 0))
      print(dist.reduceScatter(llm.tensor({1, 2, 3}), {op = 'sum'}):totable()[3])
      local q = dist.iallReduce(llm.tensor({4}), {op = 'avg'}); print(q:wait()[1]:item(), q:test())
      print(dist.allReduce(llm.tensor({1 / 3}), {compress = 'f16'})[1]:item())
    ]])
    assert.are.equal(0, status, out)
    assert.truthy(out:find('dist.send: destination 0 is this rank itself', 1, true), out)
    assert.truthy(out:find('\n3.0\n', 1, true) or out:find('\n3\n', 1, true), out)
    assert.truthy(out:find('4.0\ttrue', 1, true), out)
  end)
end)

describe('dist exchange under mpirun -np 2', function()
  if not hasMPIRun then
    pending('mpirun is not installed (scripts/setup.sh installs openmpi-bin)')
    return
  end
  it('reduce-scatters, sends and receives (blocking and not), reduces in 16-bit formats', function()
    local p = assert(io.popen(MPIRUN .. h.shq(h.binary()) .. ' ' .. h.shq(here .. 'dist/exchange.lua') .. ' 2>&1', 'r'))
    local out = p:read('a')
    p:close()
    local expected = {
      'rank 0 rs_sum 11,22', 'rank 1 rs_sum 33,44', 'rank 0 rs_avg 5.5,11', 'rank 1 rs_avg 16.5,22',
      'rank 0 rs_max 10,20', 'rank 1 rs_max 30,40',
      'rank 0 rs_odd false dist.reduceScatter: 3 elements do not divide among 2 ranks',
      'rank 1 recv 1.5,2.5,3.5', 'rank 0 recv -1,-2',
      'rank 0 irecv true 2 2 true', 'rank 1 irecv true 1 1 true',
      'rank 0 iavg 1.5,1', 'rank 1 iavg 1.5,1',
      'rank 0 f16 2,-4,2000', 'rank 1 bf16 1,-2,1000',
      'rank 0 f16round 0.666503906', 'rank 1 bf16round 0.66796875', 'rank 0 f16big inf',
      "rank 0 compressmax false dist.allReduce: compress='f16' supports op 'sum' and 'avg', not 'max'",
      "rank 1 compressbad false Invalid 'compress': expected 'f16' or 'bf16', got 'int8'",
      'rank 1 self false dist.send: destination 1 is this rank itself',
      'rank 0 norank false dist.send: destination 5 is not a rank (size 2)',
      'rank 0 badtag false dist.send: tag must be in 0...32767, got -1',
      'rank 1 short false dist.recv: expected 8 floats from rank 0, received 5 (the tensors differ in size)',
      'rank 0 sub_rs 11,22', 'rank 1 sub_rs 33,44', 'rank 0 done', 'rank 1 done',
    }
    for _, line in ipairs(expected) do assert.truthy(out:find(line, 1, true), line .. '\n--- output:\n' .. out) end
  end)
end)
