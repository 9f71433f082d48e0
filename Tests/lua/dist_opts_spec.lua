-- dist_opts_spec.lua: packed supervised batches (per-batch opts {segments, positions}, targets −100 on
-- prompts and padding) under the distributed extensions. Under `mpirun -np 2` (Tests/lua/dist/opts_check.lua;
-- pending when mpirun is not installed), for a GPT (tied, learned positions) and a Llama (RoPE, untied):
-- dist.shardBatches gives each rank its rows of x, y and the opts; a tensor-parallel model's loss leaves the
-- ignored targets out (dist.vocabParallelCrossEntropy's ignoreIndex) and its loss and every gradient equal
-- the dense model's; a 2-stage pipeline step (2 micro-batches scoring different numbers of targets, the
-- opts cut with them and fed to both stages) gives the dense losses and gradients. The one-process checks
-- (Trainer, one-stage pipeline, DP-SGD, distillation) are in trainer_opts_spec.lua.
local here = debug.getinfo(1, 'S').source:match('^@(.*/)')
local h = dofile(here .. 'helpers.lua')
local mpi = dofile(here .. 'dist/mpirun.lua')

-- float32 tolerances as in dist_tp_spec / dist_pp_spec: split matmuls, the composed vocab-parallel
-- cross-entropy and the pipeline's chunk sums add in another order than one process (measured: losses
-- equal to 9 digits, gradients 6e-7 of each gradient's largest entry).
local LOSS_TOL, GRAD_TOL = 1e-5, 1e-5

describe('dist.vocabParallelCrossEntropy ignoreIndex (one process)', function()
  it('equals llm.crossEntropy with ignoreIndex (loss, gradient; NaN when every target is ignored)', function()
    local code = [[
      local ok, err = pcall(dist.init)
      if not ok then print('NOMPI ' .. tostring(err)) return end
      llm.manualSeed(3)
      local a = llm.randn(2, 3, 8):requiresGrad_()
      local b = a:detach():clone():requiresGrad_()
      local y = llm.tensor({{1, -100, 3}, {-100, -100, 7}}, {dtype = 'int64'})
      local la, lb = dist.vocabParallelCrossEntropy(a, y, {ignoreIndex = -100}), llm.crossEntropy(b, y, {ignoreIndex = -100})
      la:backward(); lb:backward()
      print('same', math.abs(la:item() - lb:item()) < 1e-6, (a.grad - b.grad):abs():max():item() < 1e-6)
      local none = llm.full({2, 3}, -100):long()
      local v = dist.vocabParallelCrossEntropy(a, none, {ignoreIndex = -100}):item()
      print('allignored', v ~= v)
      print('bad', select(2, pcall(dist.vocabParallelCrossEntropy, a, y, {ignoreIndex = 0.5})))
    ]]
    local status, out, err = h.runCode(code)
    assert.are.equal(0, status, err)
    if out:find('^NOMPI') then return end
    assert.truthy(out:find('same\ttrue\ttrue', 1, true), out)
    assert.truthy(out:find('allignored\ttrue', 1, true), out)
    assert.truthy(out:find("dist.vocabParallelCrossEntropy: Invalid 'ignoreIndex': expected an integer, got 0.5", 1, true), out)
  end)
end)

describe('packed batches with ignored targets under mpirun', function()
  if not mpi.available then
    pending('mpirun is not installed (scripts/setup.sh installs openmpi-bin): multi-process batch-option specs skipped')
    return
  end

  for _, kind in ipairs({'gpt', 'llama'}) do
    it('-np 2 (' .. kind .. '): shardBatches cuts the opts; TP=2 and PP=2 give the dense loss and gradients', function()
      local status, out = mpi.run(2, 'opts_check.lua', kind)
      assert.are.equal(0, status, out)
      local got = mpi.rankLines(out)
      local function below(key, tol)
        for r = 0, 1 do
          local v = tonumber(got[r .. ' ' .. key])
          assert.is_true(v ~= nil and v <= tol, string.format('rank %d %s = %s (tolerance %g)\n%s', r, key, tostring(v), tol, out))
        end
      end
      below('shard', 0)
      below('tploss', LOSS_TOL)
      below('tpgrads', GRAD_TOL)
      below('pploss', LOSS_TOL)
      below('ppgrads', GRAD_TOL)
      for r = 0, 1 do assert.is_true(tonumber(got[r .. ' ignored']) > 0, out) end
    end)
  end
end)
