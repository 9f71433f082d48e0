-- annotate in the data pipeline: annotate.step(lfs | moduleName) -> a llm.data.pipeline step that stores
-- each document's labels in doc.meta.labels (a JSON list, one label per LF, ABSTAIN = -1). A module name
-- gives a llm.data.luaStep that runs in the pipeline's worker Lua states (in parallel); a list of LFs
-- (or a table name -> function) gives an in-process Lua step. annotate.fromDocs(docs, lfs | moduleName)
-- -> LabelMatrix from the documents a pipeline run returned (or read back from its JSONL output).
local lf = require 'llm.annotate.lf'
local steps = require 'llm.annotate.steps'
local M = {}

local function names(lfs, where)
  if type(lfs) == 'string' then return require('llm.annotate.worker').names(lfs) end
  local out = {}
  for j, f in ipairs(lf.normalize(lfs, where)) do out[j] = f.name end
  return out
end

--- annotate.step(lfs | moduleName) -> step: a llm.data.pipeline step storing the LFs' labels in doc.meta.labels (a module name runs in worker states)
function M.step(lfs)
  if type(lfs) == 'string' then
    require('llm.annotate.worker').names(lfs)     -- a broken module fails here, not in a worker
    return llm.data.luaStep{module = 'llm.annotate.steps', fn = lfs, name = 'annotate ' .. lfs}
  end
  return steps.stepOf(lf.normalize(lfs, 'annotate.step'), steps.field)
end

--- annotate.fromDocs(docs, lfs | moduleName) -> LabelMatrix: the matrix from documents labelled by annotate.step
function M.fromDocs(docs, lfs)
  local nm = names(lfs, 'annotate.fromDocs')
  if type(docs) ~= 'table' then error('annotate.fromDocs: docs must be a list of documents', 2) end
  local rows = {}
  for i, d in ipairs(docs) do
    local s = type(d) == 'table' and type(d.meta) == 'table' and d.meta[steps.field]
    if type(s) ~= 'string' then error(('annotate.fromDocs: document %d has no meta.%s (run annotate.step first)'):format(i, steps.field), 2) end
    local ok, row = pcall(llm.json.decode, s)
    if not ok or type(row) ~= 'table' or #row ~= #nm then
      error(('annotate.fromDocs: document %d: meta.%s is not a list of %d labels'):format(i, steps.field, #nm), 2)
    end
    rows[i] = row
  end
  return lf.labelMatrix(rows, nm)
end

return M
