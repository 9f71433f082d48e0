-- collectives.lua: run under `mpirun -np 2` by dist_spec.lua. Each rank prints one line per check,
-- 'rank <r> <check> <values>', which the spec compares with the expected values for both ranks.
local r, s = dist.init()
local function show(name, t)
  local parts = {}
  for _, v in ipairs(t:reshape(t:numel()):totable()) do parts[#parts + 1] = string.format('%g', v) end
  print(string.format('rank %d %s %s', r, name, table.concat(parts, ',')))
end
print(string.format('rank %d size %d %d %d', r, s, dist.rank(), dist.size()))
show('broadcast', dist.broadcast(llm.tensor({{r + 10, r + 20}, {r + 30, r + 40}}), 1))
show('sum', dist.allReduce(llm.tensor({r + 1, 2 * r, -r}), {op = 'sum'}))
show('avg', dist.allReduce(llm.tensor({r + 1, 2 * r, -r}), {op = 'avg'}))
show('max', dist.allReduce(llm.tensor({r + 1, 2 * r, -r}), {op = 'max'}))
show('min', dist.allReduce(llm.tensor({r + 1, 2 * r, -r}), {op = 'min'}))
-- in place, on a contiguous view (a row of a matrix): the other row is untouched
local m = llm.tensor({{r, r}, {5, 5}})
dist.allReduce(m:select(1, 1), {op = 'sum'})
show('view', m)
local g = dist.allGather(llm.tensor({{r, r + 0.5}}))
print(string.format('rank %d gathershape %s', r, table.concat(g:shape(), 'x')))
show('gather', g)
local sub = dist.split(r % 2)
print(string.format('rank %d split %d %d', r, sub:rank(), sub:size()))
show('subsum', sub:allReduce(llm.tensor({r + 1}), {op = 'sum'}))
local all = dist.split(0, -r)  -- one group, ranks ordered by key: reversed
print(string.format('rank %d reversed %d %d', r, all:rank(), all:size()))
local ok, err = pcall(dist.allReduce, llm.zeros(r + 2), {op = 'sum'})
print(string.format('rank %d mismatch %s %s', r, tostring(ok), tostring(err)))
ok, err = pcall(dist.allReduce, llm.zeros(3), {op = r == 0 and 'sum' or 'max'})
print(string.format('rank %d opmismatch %s %s', r, tostring(ok), tostring(err)))
-- still usable after the refused calls
show('after', dist.allReduce(llm.tensor({1}), {op = 'sum'}))
dist.barrier()
