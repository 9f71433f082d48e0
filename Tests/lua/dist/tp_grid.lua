-- tp_grid.lua: run under `mpirun -np 4 --oversubscribe` by dist_tp_spec.lua. A DP=2 x TP=2 grid
-- (dist.grid): each tensor-parallel pair holds one converted copy of the model, the two pairs see
-- different halves of each global batch and average their gradients over the data-parallel group
-- (dist.dataParallel with comm = grid.dp). Every rank also trains the dense model alone on the whole
-- global batches and prints its place in the grid and the largest differences (losses, final weights
-- gathered to the dense layout).
local tiny = dofile(debug.getinfo(1, 'S').source:match('^@(.*/)') .. 'tiny_gpt.lua')
local g = dist.grid{dp = 2, tp = 2}
print(string.format('rank %d grid dp %d/%d tp %d/%d pp %d/%d sizes %d %d %d', g.rank, g.dpRank, g.dpSize, g.tpRank,
  g.tpSize, g.ppRank, g.ppSize, g.dp:size(), g.tp:size(), g.pp:size()))

local function build()
  llm.manualSeed(7)
  return nn.GPT{vocab = 32, blockSize = tiny.T, layers = 2, heads = 4, dim = 16}
end

-- This data-parallel rank's rows of every global batch (the same source on every rank).
local function shard(source)
  return {next = function()
    local x, y = source:next()
    local b = x:size(1) // g.dpSize
    return x:narrow(1, g.dpRank * b + 1, b), y:narrow(1, g.dpRank * b + 1, b)
  end}
end

local function train(model, source, extensions)
  local opt = optim.AdamW(model:parameters(), {lr = 1e-2, weightDecay = 0.1})
  return tiny.train(model, opt, source, extensions)
end

local dense = build()
local _, _, b1 = tiny.build(7)
local denseLosses = train(dense, b1)

local model = dist.tensorParallel(build(), {comm = g.tp})
local _, _, b2 = tiny.build(7)
local losses = train(model, shard(b2), {dist.dataParallel(model, {comm = g.dp}), model:trainerExtension()})

local lw, ww, wd = 0, 0, dense:stateDict()
for i = 1, tiny.steps do lw = math.max(lw, math.abs(denseLosses[i] - losses[i])) end
for path, t in pairs(model:denseStateDict()) do ww = math.max(ww, (t - wd[path]):abs():max():item()) end
print(string.format('rank %d trainloss %.3g', g.rank, lw))
print(string.format('rank %d trainweights %.3g', g.rank, ww))
