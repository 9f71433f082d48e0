-- llm.annotate.worker: the parallel.pool init module behind annotate.apply{module=}: requires the user's LF
-- module (a list of annotate.lf or a table name -> function) once per worker state and applies it to chunks.
local lf = require 'llm.annotate.lf'
local M = {}

local cache = {}
local function load(module)
  -- worker states may start without the global (LF modules use annotate.lf / annotate.ABSTAIN)
  if not rawget(_G, 'annotate') then rawset(_G, 'annotate', require 'llm.annotate') end
  if not cache[module] then cache[module] = lf.normalize(require(module), "annotate.apply: module '" .. module .. "'") end
  return cache[module]
end

--- lfs(module) -> the module's LFs (a list of annotate.lf), loaded once per state.
M.lfs = load

--- names(module) -> the LF names of module, in column order.
function M.names(module)
  local out = {}
  for j, f in ipairs(load(module)) do out[j] = f.name end
  return out
end

--- apply(module, docs, first) -> rows: the label rows of docs (document first has index `first`).
function M.apply(module, docs, first)
  local lfs, rows = load(module), {}
  for k, d in ipairs(docs) do rows[k] = lf.row(lfs, lf.asDoc(d, first + k - 1), first + k - 1) end
  return rows
end

return M
