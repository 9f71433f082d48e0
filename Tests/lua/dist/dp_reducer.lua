-- dp_reducer.lua: run by dist_dp_spec.lua under `mpirun -np 2`. dist.GradReducer on hand-made
-- gradients, printing `rank <r> <key> <values>` lines for the spec to compare:
--   unused: a parameter only rank 0 has a gradient for is averaged with zeros, one no rank has keeps nil;
--   topk:   top-k (k = 2 of 8) with error feedback over two steps, exact values;
--   errors: options that differ between ranks, arm() with all-reduces in flight, a second backward.
local rank = dist.init()
local function show(key, v)
  if llm.isTensor(v) then v = table.concat(v:totable(), ',') end
  print(string.format('rank %d %s %s', rank, key, tostring(v)))
end

-- unused parameters: a (used by both), b (rank 0 only), c (by nobody); buckets [c, b] and [a]
do
  local a, b, c = llm.zeros(3, {requiresGrad = true}), llm.zeros(2, {requiresGrad = true}), llm.zeros(2, {requiresGrad = true})
  local r = dist.GradReducer({a, b, c}, {bucketSize = 4})
  show('buckets', table.concat(r:bucketSizes(), ','))
  r:arm()
  local loss = (a * llm.tensor(rank == 0 and {1, 2, 3} or {3, 2, 1})):sum()
  if rank == 0 then loss = loss + b:sum() end
  loss:backward()
  r:finish()
  show('a', a.grad)
  show('b', b.grad)
  show('c', c.grad == nil and 'nil' or c.grad)
  local s = r:stats()
  show('unusedstats', s.steps .. ',' .. s.collectives .. ',' .. s.startedInBackward)
end

-- top-k with error feedback: k = ceil(0.25 * 8) = 2 entries per rank and step
do
  local w = llm.zeros(8, {requiresGrad = true})
  local r = dist.GradReducer({w}, {compress = 'topk', topk = 0.25})
  local g = rank == 0 and {1, -5, 2, 0, 0, 3, 0, 0} or {0, 0, 0, 4, 0, 0, -6, 1}
  for step = 1, 2 do
    w.grad = llm.tensor(g)
    r:finish()
    show('topk' .. step, w.grad)
  end
end

-- errors
do
  local ok, err = pcall(dist.GradReducer, {llm.zeros(4, {requiresGrad = true}), llm.zeros(4, {requiresGrad = true})},
    {bucketSize = rank == 0 and 4 or 8})
  show('mismatch', tostring(ok) .. ' ' .. tostring(err))
  local x = llm.ones(4, {requiresGrad = true})
  local r = dist.GradReducer({x})
  r:arm()
  x:sum():backward()
  ok, err = pcall(function() x:sum():backward() end)
  show('twice', tostring(ok) .. ' ' .. tostring(err))
  ok, err = pcall(r.arm, r)
  show('rearm', tostring(ok) .. ' ' .. tostring(err))
  r:finish()
  show('after', x.grad)
end
