-- pipeline_step.lua: a luaStep module for parallel_spec (runs in the pipeline's worker states).
local M = {}
function M.shout(doc)
  if doc.id == '7' then return nil, 'seven' end
  doc.text = doc.text:upper()
  doc.meta.n = #doc.text
  doc.meta.threads = llm.getThreads()
  return doc
end
return M
