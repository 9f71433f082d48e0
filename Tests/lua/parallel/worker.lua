-- worker.lua: the init module of parallel_spec's pools (required in every worker state).
local M = {}

function M.square(x) return x * x end
function M.uneven(i)   -- odd items take longer, so later items finish first
  local s = 0
  for k = 1, (i % 2 == 1 and 20000 or 10) do s = s + k end
  return i, s
end
function M.pair(a, b) return a + b, a * b end
function M.echo(...) return ... end
function M.count(...) return select('#', ...) end
function M.fail(x) if x == 3 then error('worker failed on ' .. tostring(x)) end return x end
function M.returnsFunction() return print end
function M.firstOnly(x) return x, print end
function M.returnsCycle() local t = {}; t.self = t; return t end
function M.threads() return llm.getThreads(), llm.system().threads end
function M.setThreads(n) llm.setThreads(n) end
function M.sum(t) return t:sum():item() end
function M.addInPlace(t) t:add_(1) return true end
function M.copyInto(t) t:copy_(llm.zeros(t:shape())) return true end
function M.setIndex(t) t[1] = 5 return true end
function M.viewInPlace(t) t:narrow(1, 1, 1):fill_(2) return true end
function M.clonePlusOne(t) local c = t:clone(); c:add_(1); return c:sum():item() end
function M.ones(n) return llm.ones(n) end
function M.keepAndReturn(n)   -- keeps a reference: the caller's copy must stay read-only
  M.kept = llm.ones(n)
  return M.kept
end
function M.typeOf(v) return math.type(v) or type(v) end

-- Spins until gate[1] becomes non-zero (the caller writes its own tensor; the worker reads it shared),
-- then returns tag. Lets the spec hold a worker busy without timing assumptions.
function M.waitGate(gate, tag)
  while gate[1]:item() == 0 do end
  return tag
end

-- Records that it ran by returning it; used to prove that a cancelled task never ran.
M.ran = {}
function M.mark(tag) M.ran[#M.ran + 1] = tag; return tag end
function M.marks() return M.ran end

M.nested = {deeper = {upper = function(s) return s:upper() end}}

return M
