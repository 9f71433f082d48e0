-- dist_zero_spec.lua: ZeRO stage 1 (dist.dataParallel{zero = 1}, stdlib-lua/llm/dist/zero.lua) and
-- checkpoints that resume on another number of ranks. One-process checks run everywhere (with libmpi:
-- rank 0 of 1; without it they are skipped with the loader's message); the two-rank checks run
-- Tests/lua/dist/zero_train.lua under `mpirun -np 2` and are pending when mpirun is not installed; the
-- resume checks cover plain dist.dataParallel too (its checkpoints, rank 0's, are single-process ones).
-- Float32 tolerance: two ranks average half-batch gradients (a different summation order than one process
-- over the whole batch, about 1e-7 relative) and the clipping norm is summed over other blocks; AdamW's
-- division by sqrt(v) amplifies that over 6 steps to about 1e-5 in the weights (measured: 1.1e-5 for two
-- ranks, 4.9e-6 for one rank with clipping; without clipping one rank is bit for bit equal).
local h = dofile(debug.getinfo(1, 'S').source:match('^@(.*/)') .. 'helpers.lua')
local here = debug.getinfo(1, 'S').source:match('^@(.*/)')
local mpi = dofile(here .. 'dist/mpirun.lua')
local setup = dofile(here .. 'dist/zero_setup.lua')

local LOSS_TOL, NORM_TOL, PARAM_TOL = 1e-5, 1e-5, 1e-4

-- max |a - b| over the 'param.*' tensors of two result tables (at least a few of them)
local function paramDiff(a, b)
  local m, n = 0, 0
  for k, t in pairs(a) do
    if k:match('^param%.') then m = math.max(m, (t - b[k]):abs():max():item()); n = n + 1 end
  end
  assert.is_true(n > 5)
  return m
end

-- the single-process reference: plain AdamW on the whole global batch (optionally from a checkpoint,
-- writing checkpoints to runDir)
local function singleProcess(o)
  local model, opt, batches = setup.build(7)
  local _, losses, norms = h.captured(function() return setup.train(model, opt, batches, o) end)
  return setup.result(model, losses, norms)
end

describe('dist.dataParallel{zero = 1} (one process)', function()
  it('checks its options before touching MPI', function()
    local model = setup.build(1)
    h.fails(function() dist.dataParallel(model, {zero = 2}) end, "dist.dataParallel: zero = 2 is not supported: only stage 1")
    h.fails(function() dist.dataParallel(model, {zero = 'yes'}) end, "dist.dataParallel: Invalid 'zero': expected 0 or 1 (ZeRO stage), got yes")
    h.fails(function() dist.dataParallel(model, {zero = 1, compress = 'f16'}) end,
      "dist.dataParallel: option 'compress' is not supported with zero = 1 (supported: 'zero', 'bucketSize', 'comm')")
    local err = h.fails(function() dist.dataParallel(42, {zero = 1}) end, "dist.dataParallel: Invalid 'model': expected an nn.Module, got number")
    assert.truthy(err:find('dist_zero_spec.lua', 1, true), err)  -- the error names the caller's line
    h.fails(function() dist.dataParallel(model, {zero = 1, bucketSize = 0}) end, "Invalid 'bucketSize': expected a positive integer")
    assert.is_false(dist.initialized())
  end)

  it('lets one extension replace clipping and optimizer:step() (optimizerStep), and no more than one', function()
    local model, opt, batches = setup.build(3)
    local calls = {}
    local stepper = {name = 'stepper',
      optimizerStep = function(_, trainer, info) calls[#calls + 1] = info.step; trainer.optimizer:step() end,
      beforeCheckpoint = function(_, _, info) calls[#calls + 1] = 'ck' .. info.step end}
    local run = h.tmpdir('zero_hook')
    h.captured(function() setup.train(model, opt, batches, {extensions = {stepper}, runDir = run, steps = 3}) end)
    assert.are.same({1, 2, 3, 'ck3'}, calls)
    h.fails(function() llm.Trainer{model = model, optimizer = opt, train = batches, steps = 1, extensions = {stepper, {optimizerStep = function() end}}} end,
      "llm.Trainer: extension 'stepper' and extension 2 both define optimizerStep")
  end)

  it('equals the plain optimizer on one rank (AdamW, SGD, Adagrad with groups: bit for bit); refuses an optimizer or a state it cannot shard', function()
    local status, out = mpi.sh(h.shq(h.binary()) .. ' ' .. h.shq(here .. 'dist/zero_one.lua'))
    assert.are.equal(0, status, out)
    if out:find('^NOMPI') then
      assert.truthy(out:find('libopenmpi-dev', 1, true), out)
      return
    end
    for _, name in ipairs{'AdamW', 'SGD', 'Adagrad'} do assert.are.equal(0, tonumber(out:match('same ' .. name .. ' (%S+)')), out) end
    for _, check in ipairs{'twice', 'masked'} do assert.are.equal(0, tonumber(out:match(check .. ' (%S+)')), out) end
    local clipped = tonumber(out:match('clipped (%S+)'))
    assert.is_true(clipped < PARAM_TOL, out)
    assert.truthy(out:find("error false in extension 'dataParallel' (onRunStart): dist.dataParallel{zero = 1}: the optimizer must be one of "
      .. 'optim.SGD, optim.Adam, optim.AdamW, optim.RMSprop, optim.Adagrad (ZeRO-1 shards its state), got table', 1, true), out)
    assert.truthy(out:find('ZeRO-1: optimizer state 8064 floats on rank 0, 8064 unsharded (1.000 with 1 ranks)', 1, true), out)
    assert.truthy(out:find("steps false in extension 'dataParallel' (onRunStart): dist.dataParallel{zero = 1}: cannot shard the optimizer "
      .. 'state of group 1: its parameter 1 has 1 steps but parameter 2 has no state (ZeRO-1 keeps one step count per group)', 1, true), out)
  end)
end)

describe('dist.dataParallel{zero = 1} under mpirun -np 2', function()
  if not mpi.available then
    pending('mpirun is not installed (scripts/setup.sh installs openmpi-bin): ZeRO-1 specs skipped')
    return
  end
  teardown(h.removeTmpdirs)

  -- runs zero_train.lua on 2 ranks; returns both ranks' results
  local function zero2(out, runDir, resume, split)
    local status, log = mpi.run(2, 'zero_train.lua', out, runDir or '-', resume or '-', split)
    assert.are.equal(0, status, log)
    return llm.load(out .. '/rank0.safetensors'), llm.load(out .. '/rank1.safetensors'), log
  end

  local function close(a, b, from)
    for i = from or 1, setup.steps do
      assert.is_true(math.abs(a.losses[i]:item() - b.losses[i]:item()) < LOSS_TOL, 'step ' .. i .. ' loss')
      assert.is_true(math.abs(a.norms[i]:item() - b.norms[i]:item()) < NORM_TOL, 'step ' .. i .. ' gradient norm')
    end
    assert.is_true(paramDiff(a, b) < PARAM_TOL, 'weights differ by ' .. paramDiff(a, b))
  end

  local single, r0, r1, log
  local runS, runA = h.tmpdir('zero_runS'), h.tmpdir('zero_runA')

  it('equals plain AdamW in one process with the same global batch (weight-decay groups, clipping); state per rank is half; also over a sub-communicator', function()
    single = singleProcess({runDir = runS})
    r0, r1, log = zero2(h.tmpdir('zero_A'), runA)
    close(single, r0)
    assert.are.equal(0, paramDiff(r0, r1), 'the ranks hold different weights')
    for i = 1, setup.steps do
      assert.is_true(r0.norms[i]:item() > setup.clip, 'clipping is active at step ' .. i)  -- every step is clipped
      assert.are.equal(r0.losses[i]:item(), r1.losses[i]:item())
    end
    -- two groups, one reduce-scatter each per step
    assert.are.equal(2 * setup.steps, r0.reduceScatterCalls:item())
    assert.are.equal(0, r0.allReduceCalls:item())  -- and no gradient all-reduce of dist.dataParallel's on top
    -- AdamW keeps two floats per weight: 8064 unsharded, half of them (padded to the rank count) per rank
    for _, r in ipairs{r0, r1} do
      local mine, whole, size = table.unpack(r.memory:totable())
      assert.are.equal(2, size)
      assert.are.equal(8064, whole)
      assert.is_true(mine >= whole / 2 and mine <= whole / 2 + 2 * 2, 'state floats ' .. mine)
    end
    assert.truthy(log:find('ZeRO-1: optimizer state 4032 floats on rank 0, 8064 unsharded (0.500 with 2 ranks)', 1, true), log)
    -- sharding over a sub-communicator of both ranks (dist.split) computes the same
    local s0 = zero2(h.tmpdir('zero_split'), nil, nil, 'split')
    assert.are.equal(0, paramDiff(r0, s0))
    local records = h.jsonLines(runA .. '/metrics.jsonl')
    assert.are.equal('zero', records[1].type)
    assert.are.same({2, 4032, 8064, 0.5}, {records[1].ranks, records[1].stateFloats, records[1].unshardedStateFloats, records[1].fraction})
  end)

  it('writes checkpoints in the single-process format: 2 ranks resume on 1, 1 on 2, 2 on 2 exactly', function()
    assert.truthy(single and r0, 'needs the previous spec')
    local ckA, ckS = runA .. '/step-000003', runS .. '/step-000003'
    -- the same optimizer state dict as one process: keys, shapes, step counts, values within the tolerance
    local a, s = llm.checkpoint.read(ckA), llm.checkpoint.read(ckS)
    local n = 0
    for k, t in pairs(s['optimizer.safetensors']) do
      local u = a['optimizer.safetensors'][k]
      assert.truthy(u, 'missing ' .. k)
      assert.are.same(t:shape(), u:shape())
      assert.is_true((t - u):abs():max():item() < PARAM_TOL, k)
      n = n + 1
    end
    for _ in pairs(a['optimizer.safetensors']) do n = n - 1 end
    assert.are.equal(0, n, 'the ZeRO checkpoint has other optimizer tensors')
    assert.are.same(s['trainer.json'].optimizer, a['trainer.json'].optimizer)
    assert.are.same(s['trainer.json'].data, a['trainer.json'].data)  -- the global batch position
    -- 2 ranks -> 1 process (plain AdamW): continues like the uninterrupted runs of either layout
    local resumed1 = singleProcess({resume = ckA})
    assert.are.equal(0, resumed1.losses[3]:item())  -- the steps before the checkpoint are not run again
    close(r0, resumed1, 4)
    close(single, resumed1, 4)
    -- the first resumed loss is the checkpoint's weights on the next global batch: only summation order differs
    assert.is_true(math.abs(resumed1.losses[4]:item() - r0.losses[4]:item()) < 1e-6)
    -- 1 process -> 2 ranks
    local b0, b1 = zero2(h.tmpdir('zero_B'), nil, ckS)
    close(single, b0, 4)
    assert.are.equal(0, paramDiff(b0, b1))
    -- 2 ranks -> 2 ranks: bit for bit the uninterrupted run
    local c0 = zero2(h.tmpdir('zero_C'), nil, ckA)
    for i = 4, setup.steps do assert.are.equal(r0.losses[i]:item(), c0.losses[i]:item(), 'step ' .. i) end
    assert.are.equal(0, paramDiff(r0, c0))
  end)

  it('plain data parallelism (no ZeRO) resumes on another number of ranks too: 2 -> 1 and 1 -> 2', function()
    assert.truthy(single, 'needs the first spec')
    local runP = h.tmpdir('zero_runP')
    local p0 = zero2(h.tmpdir('zero_P'), runP, nil, 'plain')
    close(single, p0)
    assert.is_true(p0.allReduceCalls:item() >= setup.steps)  -- the counter the ZeRO run finds at 0
    local resumed1 = singleProcess({resume = runP .. '/step-000003'})
    close(p0, resumed1, 4)
    assert.is_true(math.abs(resumed1.losses[4]:item() - p0.losses[4]:item()) < 1e-6)
    local q0 = zero2(h.tmpdir('zero_Q'), nil, runS .. '/step-000003', 'plain')
    close(single, q0, 4)
    assert.is_true(math.abs(q0.losses[4]:item() - single.losses[4]:item()) < 1e-6)
  end)
end)
