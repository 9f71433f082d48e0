-- llm.annotate.steps: the luaStep module behind annotate.step(moduleName). Indexing it with an LF module's
-- name gives that module's step function (built once per worker state): doc -> doc with
-- doc.meta[field] = the JSON list of the LFs' labels (ABSTAIN = -1), in the module's LF order.
local lf = require 'llm.annotate.lf'
local worker = require 'llm.annotate.worker'

local M = {field = 'labels'}

--- M.stepOf(lfs, field) -> function(doc) -> doc: the labels of doc's LFs stored as JSON in doc.meta[field].
function M.stepOf(lfs, field)
  local n = 0
  return function(doc)
    n = n + 1
    if type(doc) == 'string' then doc = {text = doc} end
    local row = lf.row(lfs, doc, doc.id ~= nil and ("'" .. tostring(doc.id) .. "'") or n)
    doc.meta = doc.meta or {}
    doc.meta[field] = llm.json.encode(row)
    return doc
  end
end

return setmetatable(M, {__index = function(t, module)
  local step = M.stepOf(worker.lfs(module), M.field)
  rawset(t, module, step)
  return step
end})
