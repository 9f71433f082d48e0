-- pp_train.lua: run under mpirun by dist_pp_spec.lua. Trains pp_setup's model with dist.pipelineParallel
-- (pp = 2 stages; with dp = 2 on 4 ranks also dist.dataParallel across the two pipelines: DP x PP) and
-- writes each rank's losses, last validation loss, the final values of the parameters its stage owns and
-- (stage 0, after gatherWeights) the whole model to <out>/rank<r>.safetensors.
--   pp_train.lua <out> <schedule> <microBatches> <dp> [<run folder> [<steps> [<checkpoint to resume>]]]
-- The stages of one pipeline build the model from the same seed (each stage initialises its own part, as
-- the one process would); data-parallel replicas use different seeds, so dist.dataParallel's broadcast
-- from replica 0 must make them equal.
local out, schedule, m, dp = arg[1], arg[2], math.tointeger(tonumber(arg[3])), math.tointeger(tonumber(arg[4]))
local runDir, steps, resume = arg[5], arg[6] and math.tointeger(tonumber(arg[6])), arg[7]
local setup = dofile(debug.getinfo(1, 'S').source:match('^@(.*/)') .. 'pp_setup.lua')
local rank, size = dist.init()
local pp = size // dp
-- the grid: ranks r = d * pp + s (pipelines of consecutive ranks); the replicas of stage s are s, s + pp, ...
local grid = dist.grid{dp = dp, pp = pp}
local ppComm, dpComm = grid.pp, grid.dp
local model, opt, batches = setup.build(7 + (rank // pp) * 100)
local exts = {}
if dp > 1 then exts[#exts + 1] = dist.dataParallel(model, {comm = dpComm}) end
local pipe = dist.pipelineParallel(model, {comm = ppComm, microBatches = m, schedule = schedule})
exts[#exts + 1] = pipe
if dp > 1 then  -- this replica's rows of every global batch (the same source on every rank)
  local source, b = batches, setup.B // dp
  batches = {next = function()
    local x, y = source:next()
    return x:narrow(1, dpComm:rank() * b + 1, b), y:narrow(1, dpComm:rank() * b + 1, b)
  end}
end
local losses, valLoss = setup.train(model, opt, batches, exts, runDir ~= '-' and runDir or nil, steps, resume)
local state, owned = {}, {}
for _, p in ipairs(pipe:parameters()) do owned[p] = true end
for name, p in pairs(model:namedParameters()) do
  if owned[p] then state['param.' .. name] = p:clone() end
end
pipe:gatherWeights()  -- stage 0's model becomes the whole trained model
if pipe.stage == 0 then
  for name, p in pairs(model:namedParameters()) do state['whole.' .. name] = p end
end
local list = {}
for i = 1, steps or setup.steps do list[i] = losses[i] or -1 end
state.losses = llm.tensor(list)
state.valLoss = llm.tensor({valLoss})
llm.save(string.format('%s/rank%d.safetensors', out, rank), state)
print(string.format('rank %d: stage %d of %d, replica %d of %d', rank, pipe.stage, pipe.stages, dpComm:rank(), dpComm:size()))
