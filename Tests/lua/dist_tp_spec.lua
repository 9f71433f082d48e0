-- dist_tp_spec.lua: tensor parallelism (llm/dist/tp.lua on the differentiable collectives of
-- Bindings/dist/ParallelOpsBindings.swift) and process grids. Option errors are checked in this process
-- before MPI is touched; a single-process run (rank 0 of 1) must change nothing; under `mpirun -np 2` the
-- converted GPT and Llama equal the dense model (logits, loss, every gradient, greedy generation,
-- Trainer steps), bad sizes
-- are refused on every rank; under `mpirun -np 4 --oversubscribe` a DP=2 x TP=2 grid trains like one dense
-- process with the same global batch. The multi-process checks are pending when mpirun is absent.
local h = dofile(debug.getinfo(1, 'S').source:match('^@(.*/)') .. 'helpers.lua')
local here = debug.getinfo(1, 'S').source:match('^@(.*/)')
local mpi = dofile(here .. 'dist/mpirun.lua')

-- float32 tolerances. The split matmuls sum in another order than the dense ones and the vocab-parallel
-- cross-entropy is composed of exp/sum/log where the dense model uses the fused kernel: about 1e-7
-- relative per value (measured: logits 6e-8, gradients 5e-7 of each gradient's largest entry). AdamW's
-- division by sqrt(v) amplifies that over 5 steps to about 1e-5 in the weights (measured: 1.1e-5).
local LOGITS_TOL, LOSS_TOL, GRAD_TOL, TRAIN_LOSS_TOL, WEIGHT_TOL = 1e-5, 1e-5, 1e-5, 1e-4, 1e-4

-- 'rank <r> <key> <value>' lines of a fixture's output -> results[r][key] = value (number when numeric).
local function results(out)
  local got = {}
  for line in out:gmatch('[^\n]+') do
    local r, key, rest = line:match('^rank (%d+) (%S+) ?(.*)$')
    if r then
      got[tonumber(r)] = got[tonumber(r)] or {}
      got[tonumber(r)][key] = tonumber(rest) or rest
    end
  end
  return got
end

local function below(got, ranks, key, tol, out)
  for r = 0, ranks - 1 do
    local v = got[r] and got[r][key]
    assert.is_true(type(v) == 'number' and v <= tol, string.format('rank %d %s = %s (tolerance %g)\n%s', r, key, tostring(v), tol, out))
  end
end

describe('dist tensor parallel (one process)', function()
  it('checks models and options before touching MPI', function()
    h.fails(function() dist.tensorParallel(42) end, "dist.tensorParallel: Invalid 'model': expected an nn.GPT or nn.Llama, got number")
    h.fails(function() dist.tensorParallel(nn.Linear(2, 2)) end, "Invalid 'model': expected an nn.GPT or nn.Llama, got nn.Linear")
    local alibi = nn.GPT{vocab = 8, blockSize = 4, layers = 1, heads = 2, dim = 8, positions = 'alibi'}
    h.fails(function() dist.tensorParallel(alibi) end, 'ALiBi positions are not supported')
    local gpt = nn.GPT{vocab = 8, blockSize = 4, layers = 1, heads = 2, dim = 8}
    h.fails(function() dist.tensorParallel(gpt, {gather = true}) end, "dist.tensorParallel: unknown option 'gather'")
    h.fails(function() dist.grid{dp = 0} end, "dist.grid: Invalid 'dp': expected a positive integer, got 0")
    h.fails(function() dist.grid{data = 2} end, "dist.grid: unknown option 'data'")
    assert.is_false(dist.initialized())
  end)

  it('as rank 0 of 1 changes nothing: the converted model equals the dense one; grids and bad communicators', function()
    local code = [[
      local ok, err = pcall(dist.init)
      if not ok then print('NOMPI ' .. tostring(err)) return end
      llm.manualSeed(5)
      local dense = nn.GPT{vocab = 12, blockSize = 6, layers = 1, heads = 2, dim = 8}
      llm.manualSeed(5)
      local tp = dist.tensorParallel(nn.GPT{vocab = 12, blockSize = 6, layers = 1, heads = 2, dim = 8})
      local x = llm.tensor({{1, 2, 3, 4}}):long()
      local y = llm.tensor({{2, 3, 4, 5}}):long()
      local a, la = dense(x, y)
      local b, lb = tp(x, y)
      print('same', (a - b):abs():max():item(), math.abs(la:item() - lb:item()))
      print('layout', tp.blocks[1].attn.__name, tp.tokEmb.__name, tp.head.weight == tp.tokEmb.weight)
      print('again', select(2, pcall(dist.tensorParallel, tp)))
      print('comm', select(2, pcall(dist.tensorParallel, dense, {comm = 3})))
      local g = dist.grid{}
      print('grid', g.rank, g.size, g.dpRank, g.tpRank, g.ppRank, g.dp:size(), g.tp:size(), g.pp:size(), g.world:size())
      print('mismatch', select(2, pcall(dist.grid, {tp = 2})))
      local v = llm.tensor({{1, 2, 3}}):requiresGrad_()
      local z = dist.reduceFromParallel(dist.copyToParallel(v, g.tp) * 2, g.tp)
      z = dist.scatterToParallel(dist.gatherFromParallel(z))
      z:sum():backward()
      print('ops', table.concat(z:shape(), 'x'), table.concat(v.grad:reshape(3):totable(), ','))
      print('badcomm', select(2, pcall(dist.copyToParallel, v, 3)))
    ]]
    local status, out, err = h.runCode(code)
    assert.are.equal(0, status, err)
    if out:find('^NOMPI') then
      assert.truthy(out:find('libopenmpi-dev', 1, true), out)
      return
    end
    assert.truthy(out:find('same\t0.0\t0.0', 1, true), out)
    assert.truthy(out:find('layout\tdist.ParallelAttention\tdist.VocabParallelEmbedding\ttrue', 1, true), out)
    assert.truthy(out:find('dist.tensorParallel: the model is already tensor parallel', 1, true), out)
    assert.truthy(out:find("dist.tensorParallel: Invalid 'comm': expected a dist.Communicator (dist.split, dist.grid), got number", 1, true), out)
    assert.truthy(out:find('grid\t0\t1\t0\t0\t0\t1\t1\t1\t1', 1, true), out)
    assert.truthy(out:find('dist.grid: dp (1) x tp (2) x pp (1) = 2 processes, but the job has 1 (dist.size())', 1, true), out)
    assert.truthy(out:find('ops\t1x3\t2.0,2.0,2.0', 1, true), out)  -- one rank: the operators are the identity
    assert.truthy(out:find('dist.Communicator expected, got number', 1, true), out)
  end)
end)

describe('dist tensor parallel under mpirun', function()
  if not mpi.available then
    pending('mpirun is not installed (scripts/setup.sh installs openmpi-bin): multi-process tensor-parallel specs skipped')
    return
  end
  teardown(h.removeTmpdirs)

  for _, kind in ipairs({'gpt', 'llama'}) do
    it('-np 2: the ' .. kind .. ' split over 2 ranks equals the dense model: layers, logits, loss, gradients, training', function()
      local status, out = mpi.run(2, 'tp_check.lua', kind)
      assert.are.equal(0, status, out)
      local got = results(out)
      below(got, 2, 'layers', LOGITS_TOL, out)
      below(got, 2, 'layersgrad', LOGITS_TOL, out)
      below(got, 2, 'logits', LOGITS_TOL, out)
      below(got, 2, 'fulllogits', LOGITS_TOL, out)
      below(got, 2, 'loss', LOSS_TOL, out)
      below(got, 2, 'grads', GRAD_TOL, out)
      below(got, 2, 'gradnorm', GRAD_TOL, out)
      below(got, 2, 'generate', 0, out)  -- greedy decoding with the KV cache gives the same tokens
      below(got, 2, 'trainloss', TRAIN_LOSS_TOL, out)
      below(got, 2, 'trainweights', WEIGHT_TOL, out)
      below(got, 2, 'loaddense', LOGITS_TOL, out)
      assert.are.equal(kind == 'gpt' and 28 or 15, got[0].ngrads, out)  -- every parameter compared
    end)
  end

  it('-np 2: refuses sizes that do not divide among the ranks and a grid of the wrong size', function()
    local status, out = mpi.run(2, 'tp_errors.lua')
    assert.are.equal(0, status, out)
    for _, frag in ipairs({
      'error heads .-dist.tensorParallel: heads %(1%) must be divisible by the tensor%-parallel size %(2%)',
      'error vocab .-vocab %(31%) must be divisible by the tensor%-parallel size %(2%)',
      'error hidden .-the MLP hidden size %(15%) must be divisible',
      'error kvHeads .-kvHeads %(1%) must be divisible',
      'error alibi .-ALiBi positions are not supported',
      'error column .-dist.ColumnParallelLinear: outFeatures %(5%) must be divisible',
      'error row .-dist.RowParallelLinear: inFeatures %(3%) must be divisible',
      'error embedding .-dist.VocabParallelEmbedding: num %(7%) must be divisible',
      'error scatter .-dist.scatterToParallel: the last dimension %(3%) is not divisible by the group size %(2%)',
      'error grid .-dist.grid: dp %(2%) x tp %(2%) x pp %(1%) = 4 processes, but the job has 2',
      'error optimizer .-the optimizer holds a parameter that is not in the converted model: create it after dist.tensorParallel',
      'error unchanged none',
      "error loaddense .-loadDenseStateDict: 'tokEmb.weight' has shape %[64, 8%] in the state dict but %[32, 8%] in the dense model",
    }) do
      assert.truthy(out:find(frag), frag .. '\n' .. out)
    end
  end)

  it('-np 4: a DP=2 x TP=2 grid trains like one dense process with the same global batch', function()
    local status, out = mpi.run(4, 'tp_grid.lua')
    assert.are.equal(0, status, out)
    local got = results(out)
    local places = {}
    for r = 0, 3 do places[r + 1] = got[r] and got[r].grid end
    assert.are.same({'dp 0/2 tp 0/2 pp 0/1 sizes 2 2 1', 'dp 0/2 tp 1/2 pp 0/1 sizes 2 2 1',
                     'dp 1/2 tp 0/2 pp 0/1 sizes 2 2 1', 'dp 1/2 tp 1/2 pp 0/1 sizes 2 2 1'}, places)
    below(got, 4, 'trainloss', TRAIN_LOSS_TOL, out)
    below(got, 4, 'trainweights', WEIGHT_TOL, out)
  end)
end)
