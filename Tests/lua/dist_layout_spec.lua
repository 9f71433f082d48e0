-- dist_layout_spec.lua: dist.parallelize (one entry point for dp x tp x pp layouts, llm/dist/layout.lua),
-- tensor-parallel Trainer checkpoints (llm/dist/tp.lua) and recipes/gpt-char.lua's --dp/--tp/--pp flags.
-- In one process: the layouts that cannot combine are refused before MPI is touched, and a 1 x 1 x 1
-- layout outside mpirun changes nothing. Under `mpirun -np 2` (Tests/lua/dist/layout_tp.lua; pending when
-- mpirun is not installed): a tensor-parallel run's checkpoint holds the single-process format (weights
-- and AdamW moments equal to a one-process run's checkpoint) and resumes in one process, on 2 ranks, and a
-- one-process checkpoint resumes on 2 ranks, each continuing like the uninterrupted run. The recipe runs
-- under -np 2 with --dp=2, --tp=2, --pp=2 (and no flags: dp = 2, with --zero=1) and -np 4 with --dp=2
-- --tp=2: rank 0 alone prints, and its val loss is the one-process run's.
-- Float32 tolerance: the split layers sum partial products in another order than the dense model (about
-- 1e-7 relative), which AdamW's division by sqrt(v) amplifies over 6 steps: losses and weights within
-- 1e-4 of the dense run (measured: 5e-9 in the losses, 5.1e-6 in the weights, 1.4e-8 in the moments); the
-- same layout resumed repeats the uninterrupted run within 1e-6 (measured: bit for bit).
local here = debug.getinfo(1, 'S').source:match('^@(.*/)')
local h = dofile(here .. 'helpers.lua')
local mpi = dofile(here .. 'dist/mpirun.lua')
local setup = dofile(here .. 'dist/layout_setup.lua')

local TOL, SAME_TOL = 1e-4, 1e-6

local function maxDiff(a, b, from)
  local m = 0
  for s = from or 1, setup.steps do
    assert(a[s] and b[s], 'missing loss of step ' .. s)
    m = math.max(m, math.abs(a[s] - b[s]))
  end
  return m
end

-- max |a - b| over the tensors of two checkpoint files (the same keys; at least a few tensors)
local function fileDiff(a, b)
  local m, n = 0, 0
  for k, t in pairs(a) do
    if llm.isTensor(t) then
      assert(b[k] ~= nil, 'missing ' .. k)
      assert.are.same(t:shape(), b[k]:shape(), k)
      m = math.max(m, (t - b[k]):abs():max():item())
      n = n + 1
    end
  end
  for k in pairs(b) do assert(a[k] ~= nil, 'unexpected ' .. k) end
  assert.is_true(n > 5)
  return m
end

describe('dist.parallelize (one process)', function()
  local model = setup.model()
  it('refuses layouts that cannot combine, before touching MPI', function()
    h.fails(function() dist.parallelize(model, {tp = 2, pp = 2}) end, 'dist.parallelize: tp = 2 with pp = 2 is not supported',
      'use dp x tp or dp x pp')
    h.fails(function() dist.parallelize(model, {zero = 1, tp = 2}) end, 'dist.parallelize: zero = 1 combines with data parallel only')
    h.fails(function() dist.parallelize(model, {microBatches = 4}) end, "'microBatches' applies to pipeline parallel: set pp > 1")
    h.fails(function() dist.parallelize(model, {schedule = 'gpipe'}) end, "'schedule' applies to pipeline parallel")
    h.fails(function() dist.parallelize(model, {dp = 0}) end, "dist.parallelize: Invalid 'dp': expected a positive integer, got 0")
    h.fails(function() dist.parallelize(model, {zero = 2}) end, "Invalid 'zero': expected 0 or 1")
    h.fails(function() dist.parallelize(model, {layers = 2}) end, "dist.parallelize: unknown option 'layers'")
    h.fails(function() dist.parallelize(42) end, "dist.parallelize: Invalid 'model': expected an nn.Module")
    assert.is_false(dist.initialized())
  end)

  it('leaves a single process alone: no extensions, the batches unchanged, MPI untouched', function()
    if os.getenv('OMPI_COMM_WORLD_SIZE') then return end  -- the spec itself runs under mpirun
    local layout = dist.parallelize(model, {})
    assert.are.same({}, layout.extensions)
    assert.is_true(layout.primary)
    local source = {next = function() end}
    assert.are.equal(source, layout:shard(source))
    assert.are.equal(model, layout:denseModel())
    assert.are.equal('dp 1 x tp 1 x pp 1 (1 process)', layout:describe())
    assert.is_false(dist.initialized())
  end)
end)

describe('layouts under mpirun', function()
  if not mpi.available then
    pending('mpirun is not installed (scripts/setup.sh installs openmpi-bin): multi-process layout specs skipped')
    return
  end
  teardown(h.removeTmpdirs)

  it('-np 2: tensor-parallel checkpoints are single-process ones and resume on 1 process, on 2, and from 1 on 2', function()
    local dir = h.tmpdir('layout_tp')
    local dense = select(2, h.captured(function() return setup.train(setup.model(), {runDir = dir .. '/dense'}) end))
    local status, out = mpi.run(2, 'layout_tp.lua', dir, dir .. '/dense')
    assert.are.equal(0, status, out)
    local tp, tptp, densetp = setup.parse('tp', out), setup.parse('tptp', out), setup.parse('densetp', out)
    assert.is_true(maxDiff(tp, dense) < TOL, out)                   -- tensor parallel trains like one process
    assert.is_true(maxDiff(tptp, tp, setup.at + 1) < SAME_TOL, out)  -- resumed on 2 ranks
    assert.is_true(maxDiff(densetp, dense, setup.at + 1) < TOL, out)  -- a one-process checkpoint on 2 ranks
    -- rank 0 wrote the dense layout: the weights and AdamW moments of the one-process run's checkpoint
    for _, file in ipairs({'model.safetensors', 'optimizer.safetensors'}) do
      local a = llm.checkpoint.read(dir .. '/tp/step-000003')[file]
      local b = llm.checkpoint.read(dir .. '/dense/step-000003')[file]
      assert.is_true(fileDiff(a, b) < TOL, file)
    end
    -- the tensor-parallel checkpoint resumed in one process continues like the uninterrupted 2-rank run
    local resumed = select(2, h.captured(function()
      return setup.train(setup.model(), {runDir = dir .. '/one', resume = dir .. '/tp/step-000003'})
    end))
    assert.is_true(maxDiff(resumed, tp, setup.at + 1) < TOL)
    local final = llm.checkpoint.read(dir .. '/tp/step-000006')['model.safetensors']
    assert.is_true(fileDiff(llm.checkpoint.read(dir .. '/one/step-000006')['model.safetensors'], final) < TOL)
  end)

  describe('recipes/gpt-char.lua --dp/--tp/--pp', function()
    local dir, corpus
    local recipe = '../../../recipes/gpt-char.lua'  -- relative to Tests/lua/dist (mpi.run's folder)
    local function args(extra)
      local a = {'--warmup=1', '--layers=2', '--dim=16', '--heads=2', '--blockSize=16', '--batchSize=4', '--steps=4',
                 '--evalEvery=2', '--evalBatches=2', '--samples=1', '--sampleTokens=8', '--corpus=' .. corpus,
                 '--out=' .. h.tmpdir('layout_run')}
      for _, x in ipairs(extra) do a[#a + 1] = x end
      return table.unpack(a)
    end
    local function valLoss(out)
      local _, n = out:gsub('done: step 4', '')
      assert.are.equal(1, n, 'rank 0 alone prints:\n' .. out)
      return tonumber(out:match('done: step 4, train loss %S+, val loss (%S+) '))
    end
    local reference
    lazy_setup(function()
      dir = h.tmpdir('layout_corpus')
      corpus = h.syntheticCorpus(dir, {'the', 'a', 'fox', 'dog', 'cat', 'runs', 'jumps', 'over', 'brown', 'lazy'}, 150, 9, 12345)
      local cmd = {h.shq(h.binary()), h.shq(here .. 'dist/' .. recipe)}   -- one process, no mpirun
      for _, a in ipairs({args({})}) do cmd[#cmd + 1] = h.shq(a) end
      local status, out = mpi.sh(table.concat(cmd, ' '))
      assert.are.equal(0, status, out)
      reference = valLoss(out)
    end)

    for _, case in ipairs({{2, {'--dp=2'}, 'dp 2 x tp 1 x pp 1'}, {2, {'--tp=2'}, 'dp 1 x tp 2 x pp 1'},
                           {2, {'--pp=2', '--microBatches=2'}, 'dp 1 x tp 1 x pp 2'}, {2, {'--zero=1'}, 'dp 2 x tp 1 x pp 1'},
                           {4, {'--dp=2', '--tp=2'}, 'dp 2 x tp 2 x pp 1'}}) do
      local np, flags, layout = case[1], case[2], case[3]
      it(string.format('-np %d %s: rank 0 prints the one-process val loss', np, table.concat(flags, ' ')), function()
        local status, out = mpi.run(np, recipe, args(flags))
        assert.are.equal(0, status, out)
        assert.truthy(out:find('layout: ' .. layout .. ' (' .. np .. ' processes)', 1, true), out)
        assert.truthy(out:find('--- sample 1 ---', 1, true), out)
        assert.is_true(math.abs(valLoss(out) - reference) <= 2e-4, out)  -- printed with 4 decimals
      end)
    end

    it('-np 2 --dp=3: the error names the process count', function()
      local status, out = mpi.run(2, recipe, args({'--dp=3'}))
      assert.are_not.equal(0, status)
      assert.truthy(out:find('dp (3) x tp (1) x pp (1) = 3 processes, but the job has 2', 1, true), out)
    end)
  end)
end)
