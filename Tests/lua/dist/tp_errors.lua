-- tp_errors.lua: run under `mpirun -np 2` by dist_tp_spec.lua. Sizes that do not divide among 2
-- tensor-parallel ranks, ALiBi, a grid whose product is not the job size, an optimizer created before
-- the conversion: each call's error is printed (rank 0 only) as "error <case> <message>".
local rank = dist.init()
local function try(name, f)
  local ok, err = pcall(f)
  if rank == 0 then print('error ' .. name .. ' ' .. (ok and 'none' or tostring(err))) end
end
local function gpt(over)
  llm.manualSeed(1)
  local c = {vocab = 32, blockSize = 8, layers = 1, heads = 2, dim = 8}
  for k, v in pairs(over) do c[k] = v end
  return nn.GPT(c)
end
try('heads', function() dist.tensorParallel(gpt{heads = 1}) end)
try('vocab', function() dist.tensorParallel(gpt{vocab = 31}) end)
try('hidden', function() dist.tensorParallel(gpt{hidden = 15}) end)
try('kvHeads', function() dist.tensorParallel(gpt{heads = 4, kvHeads = 1}) end)
try('alibi', function() dist.tensorParallel(gpt{positions = 'alibi'}) end)
try('column', function() dist.ColumnParallelLinear(4, 5) end)
try('row', function() dist.RowParallelLinear(3, 4) end)
try('embedding', function() dist.VocabParallelEmbedding(7, 4) end)
try('scatter', function() dist.scatterToParallel(llm.zeros(2, 3)) end)
try('grid', function() dist.grid{dp = 2, tp = 2} end)
-- an optimizer created before the conversion holds the dense tensors: refused at the start of run()
local dense = gpt{}
local early = optim.SGD(dense:parameters(), {lr = 0.1})
local split = dist.tensorParallel(dense)
try('optimizer', function()
  llm.Trainer{model = split, optimizer = early, steps = 1, progress = false,
              train = {next = function() return llm.zeros(2, 4, {dtype = 'int64'}), llm.zeros(2, 4, {dtype = 'int64'}) end},
              extensions = {split:trainerExtension()}}:run()
end)
-- a failed conversion changes nothing: the model still runs dense
local m = gpt{vocab = 31}
pcall(dist.tensorParallel, m)
try('unchanged', function() assert(m.tokEmb.weight:size(1) == 31 and m(llm.zeros(1, 4, {dtype = 'int64'})):size(3) == 31) end)
-- a dense state dict of another model's shapes: the error names the path and both shapes
local small = dist.tensorParallel(gpt{})
try('loaddense', function() small:loadDenseStateDict(gpt{vocab = 64}:stateDict()) end)
