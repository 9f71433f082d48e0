-- dist_allreduce.lua: llmscript's dist.allReduce (sum, in place) of N floats, same protocol as
-- allreduce.c (5 warm-up ops, barrier before each timed op, median). Run:
--   mpirun -np 2 --oversubscribe --allow-run-as-root --mca btl self,vader llmscript scripts/bench/dist_allreduce.lua 1048576 50
local n, iters = tonumber(arg[1] or '1048576'), tonumber(arg[2] or '50')
local rank = dist.init()
local buf = llm.ones(n)
for _ = 1, 5 do dist.allReduce(buf) end
local times = {}
for i = 1, iters do
  dist.barrier()
  local t0 = llm.clock()
  dist.allReduce(buf)
  times[i] = llm.clock() - t0
end
table.sort(times)
local med = times[iters // 2 + 1]
if rank == 0 then
  print(string.format('llmscript dist.allReduce %d floats: median %.3f ms (%.2f GB/s algbw)', n, med * 1e3, 4 * n / med / 1e9))
end
