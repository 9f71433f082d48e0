-- zero_one.lua: run by dist_zero_spec.lua as one process (dist.init() without mpirun: rank 0 of 1, where
-- the collectives are the identity). Prints one line per check:
--   same <optimizer> <max |weight difference|>   ZeRO-1 against the plain optimizer, no clipping (expected: 0)
--   clipped <max |weight difference|>            the same with clipping (the norm is summed in other blocks)
--   error <message>                              ZeRO-1 with an optimizer it cannot shard
--   steps <message>                              ZeRO-1 from a state whose parameters have different step counts
--   twice <max |weight difference|>              run() to step 3 then again to 6 against 6 plain steps (expected: 0)
--   masked <max |weight difference|>             an extension zeroing weights after each step, plain and ZeRO (expected: 0)
local setup = dofile(debug.getinfo(1, 'S').source:match('^@(.*/)') .. 'zero_setup.lua')
local ok, err = pcall(dist.init)
if not ok then print('NOMPI ' .. tostring(err)) return end

local function maxDiff(a, b)
  local m = 0
  for name, t in pairs(a:stateDict()) do m = math.max(m, (t - b:stateDict()[name]):abs():max():item()) end
  return m
end

local makers = {
  AdamW = function(_, opt) return opt end,
  SGD = function(model)
    return optim.SGD(optim.paramGroups(model, {{match = function(_, p) return p:dim() < 2 end, weightDecay = 0}}),
                     {lr = 0.1, momentum = 0.9, nesterov = true, weightDecay = 1e-2})
  end,
  Adagrad = function(model) return optim.Adagrad(model:parameters(), {lr = 0.05, weightDecay = 1e-3}) end,
}
local function compare(name, clip)
  setup.clip = clip
  local m1, o1, b1 = setup.build(7)
  setup.train(m1, makers[name](m1, o1), b1)
  local m2, o2, b2 = setup.build(7)
  setup.train(m2, makers[name](m2, o2), dist.shardBatches(b2), {extensions = {dist.dataParallel(m2, {zero = 1})}})
  return maxDiff(m1, m2)
end
for _, name in ipairs{'AdamW', 'SGD', 'Adagrad'} do print('same ' .. name .. ' ' .. compare(name, 0)) end
print('clipped ' .. compare('AdamW', 0.5))

local model, _, batches = setup.build(7)
local luaOptimizer = {getLR = function() return 0.1 end, setLR = function() end, step = function() end,
                      zeroGrad = function() end, stateDict = function() return {} end}
local okRun, msg = pcall(setup.train, model, luaOptimizer, batches, {extensions = {dist.dataParallel(model, {zero = 1})}})
print('error ' .. tostring(okRun) .. ' ' .. tostring(msg))

-- an optimizer state in which one parameter of a group was updated once more than the others
local m3, o3, b3 = setup.build(7)
local first = o3:parameters(1)[1]
first.grad = llm.zeros(first:shape())
o3:step()
o3:zeroGrad()
local okSteps, msgSteps = pcall(setup.train, m3, o3, b3, {extensions = {dist.dataParallel(m3, {zero = 1})}})
print('steps ' .. tostring(okSteps) .. ' ' .. tostring(msgSteps))

-- run() twice on one Trainer continues (the blocks keep their state), and weights changed by an
-- extension after the optimizer step are the ones the next step starts from
setup.clip = 0
local function mask() return {afterOptimizerStep = function(_, tr) llm.noGrad(function() tr.params[1]:narrow(1, 1, 1):zero_() end) end} end
local function twice(zero, masked)
  local m, o, b = setup.build(7)
  local exts = {}
  if zero then exts[#exts + 1] = dist.dataParallel(m, {zero = 1}) end
  if masked then exts[#exts + 1] = mask() end
  local tr = llm.Trainer{model = m, optimizer = o, train = dist.shardBatches(b), steps = 3, gradAccum = setup.gradAccum,
                         progress = false, extensions = exts}
  tr:run()
  tr.steps = setup.steps
  tr:run()
  return m
end
print('twice ' .. maxDiff(twice(false), twice(true)))
print('masked ' .. maxDiff(twice(false, true), twice(true, true)))
