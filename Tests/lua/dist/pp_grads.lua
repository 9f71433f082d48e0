-- pp_grads.lua: run under mpirun by dist_pp_spec.lua. One pipeline step (forwardBackward of the pipeline
-- extension on pp_setup's first gradAccum batches) with the given schedule, micro-batch count and model
-- kind (pp_setup.build: 'gpt' or 'llama'), optionally blocks per stage ('2,1,1'); every rank writes its
-- batch losses and the gradients of the parameters its stage owns to <out>/rank<r>.safetensors.
local out, schedule, m = assert(arg[1], 'usage: pp_grads.lua <out> <schedule> <microBatches> <kind> [balance]'), arg[2], tonumber(arg[3])
local balance
if arg[5] then
  balance = {}
  for n in arg[5]:gmatch('%d+') do balance[#balance + 1] = math.tointeger(tonumber(n)) end
end
local setup = dofile(debug.getinfo(1, 'S').source:match('^@(.*/)') .. 'pp_setup.lua')
local rank = dist.init()
local model, _, source = setup.build(7, arg[4])
local pp = dist.pipelineParallel(model, {microBatches = math.tointeger(m), schedule = schedule, balance = balance})
local batches = setup.batches(source)
pp:forwardBackward(nil, batches)
local state = {losses = llm.tensor({batches[1].loss, batches[2].loss})}
local owned = {}
for _, p in ipairs(pp:parameters()) do owned[p] = true end
for name, p in pairs(model:namedParameters()) do
  if owned[p] then state['grad.' .. name] = p.grad end
end
llm.save(string.format('%s/rank%d.safetensors', out, rank), state)
print(string.format('rank %d stage %d of %d: blocks %d..%d', rank, pp.stage, pp.stages, pp.blocks[1], pp.blocks[2]))
print(string.format('rank %d peak live micro-batches %d', rank, pp.peakLive))
