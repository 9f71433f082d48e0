-- sandboxed_worker.lua: the init module of sandboxed.lua's pool (runs sandboxed, with the caller's policy).
local M = {}
function M.execute() return os.execute('true') end
function M.debugLibrary() return rawget(_G, 'debug') == nil end
function M.read(path) local f = assert(io.open(path, 'r')); f:close(); return true end
function M.grow() local t = {} for i = 1, 1e7 do t[i] = i end return #t end
function M.allocate(n) return llm.zeros(n / 4):numel() * 4 end
function M.nested(path)
  local inner <close> = parallel.pool{init = 'sandboxed_worker', workers = 1}
  return inner:submit('read', path):wait()
end
return M
