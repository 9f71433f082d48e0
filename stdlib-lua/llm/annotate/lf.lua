-- annotate.lf: labelling functions and their application. An LF is `annotate.lf(name, fn)` with
-- fn(doc) -> label | annotate.ABSTAIN | nil (nil abstains too); labels are strings or integers other than
-- ABSTAIN (-1, Snorkel's convention). annotate.apply(lfs, docs [, opts]) -> LabelMatrix (docs x LFs):
-- in this state for inline functions, or in parallel.pool worker states with opts.module (a module that
-- returns a list of annotate.lf objects or a table name -> function; it is required in every worker).
local M = {}

M.ABSTAIN = -1

local LF = {}
LF.__index = LF
LF.__name = 'annotate.LF'
function LF.__call(self, doc) return self.fn(doc) end
function LF.__tostring(self) return ('annotate.LF(%s)'):format(self.name) end

--- annotate.lf(name, fn) -> LF: a named labelling function; lf(doc) calls fn(doc).
function M.lf(name, fn)
  if type(name) ~= 'string' or name == '' then error('annotate.lf: name must be a non-empty string', 2) end
  if type(fn) ~= 'function' then error(("annotate.lf('%s'): fn must be a function, got %s"):format(name, type(fn)), 2) end
  return setmetatable({name = name, fn = fn}, LF)
end
function M.isLF(x) return getmetatable(x) == LF end

-- A list of LFs from: a list of annotate.lf objects, or a table name -> function (sorted by name).
function M.normalize(lfs, where)
  if type(lfs) ~= 'table' then error(('%s: labelling functions must be a table, got %s'):format(where, type(lfs)), 3) end
  local out, seen = {}, {}
  if #lfs > 0 then
    for i, f in ipairs(lfs) do
      if not M.isLF(f) then error(('%s: item %d is not an annotate.lf(name, fn)'):format(where, i), 3) end
      out[i] = f
    end
  else
    local names = {}
    for k, f in pairs(lfs) do
      if type(k) ~= 'string' or type(f) ~= 'function' then
        error(('%s: expected a list of annotate.lf or a table name -> function (key %s)'):format(where, tostring(k)), 3)
      end
      names[#names + 1] = k
    end
    table.sort(names)
    for i, k in ipairs(names) do out[i] = M.lf(k, lfs[k]) end
  end
  if #out == 0 then error(where .. ': no labelling functions', 3) end
  for _, f in ipairs(out) do
    if seen[f.name] then error(("%s: two labelling functions named '%s'"):format(where, f.name), 3) end
    seen[f.name] = true
  end
  return out
end

local function asDoc(d, i)
  if type(d) == 'string' then return {text = d, id = i} end
  if type(d) ~= 'table' then error(('annotate.apply: document %d must be a string or a table, got %s'):format(i, type(d)), 4) end
  return d
end

-- One row of the label matrix: every LF on doc (i: its index or id, for messages).
function M.row(lfs, doc, i)
  local row = {}
  for j, f in ipairs(lfs) do
    local ok, v = pcall(f.fn, doc)
    if not ok then error(("annotate: labelling function '%s' failed on document %s: %s"):format(f.name, i, tostring(v)), 0) end
    if v == nil then v = M.ABSTAIN end
    local t = math.type(v)
    if type(v) ~= 'string' and t ~= 'integer' and not (t == 'float' and v == math.floor(v)) then
      error(("annotate: labelling function '%s' returned a %s on document %s (a label is a string or an integer, or annotate.ABSTAIN)")
        :format(f.name, type(v), i), 0)
    end
    if t == 'float' then v = math.tointeger(v) end
    row[j] = v
  end
  return row
end

local LabelMatrix = {}
LabelMatrix.__index = LabelMatrix
LabelMatrix.__name = 'annotate.LabelMatrix'
function LabelMatrix.__tostring(self) return ('annotate.LabelMatrix(%d docs x %d LFs)'):format(self.n, self.m) end

--- annotate.labelMatrix(rows, names) -> LabelMatrix: rows[i][j] the label of LF j on doc i (ABSTAIN = -1).
function M.labelMatrix(rows, names)
  if type(rows) ~= 'table' or type(names) ~= 'table' then error('annotate.labelMatrix(rows, names): two tables expected', 2) end
  for i, r in ipairs(rows) do
    if type(r) ~= 'table' or #r ~= #names then
      error(('annotate.labelMatrix: row %d must have %d labels (one per LF)'):format(i, #names), 2)
    end
  end
  return setmetatable({rows = rows, names = names, n = #rows, m = #names}, LabelMatrix)
end
function M.isLabelMatrix(x) return getmetatable(x) == LabelMatrix end

--- L:get(i, j) -> label; L:column(name|j) -> list; L:labels() -> sorted list of the labels seen.
function LabelMatrix:get(i, j) return self.rows[i][j] end
function LabelMatrix:column(j)
  if type(j) == 'string' then
    for k, nm in ipairs(self.names) do if nm == j then j = k; break end end
    if type(j) == 'string' then error(("LabelMatrix:column: no labelling function '%s'"):format(j), 2) end
  end
  local c = {}
  for i = 1, self.n do c[i] = self.rows[i][j] end
  return c
end
function LabelMatrix:labels()
  return require('llm.metrics')._distinctLabels(self.rows, M.ABSTAIN)
end

--- annotate.apply(lfs, docs, [{module=, workers=, chunk=}]) -> LabelMatrix: every LF on every doc, in this state or (module=) in parallel.pool workers
function M.apply(lfs, docs, opts)
  opts = opts or {}
  if type(docs) ~= 'table' then error('annotate.apply: docs must be a list of strings or document tables', 2) end
  if opts.module ~= nil then
    if type(opts.module) ~= 'string' then error('annotate.apply: module must be a module name (string)', 2) end
    local names = require('llm.annotate.worker').names(opts.module)
    local n = #docs
    local pool <close> = parallel.pool{init = 'llm.annotate.worker', workers = opts.workers}
    local size = opts.chunk or math.max(1, math.ceil(n / (pool:workers() * 4)))
    local futures = {}
    for s = 1, n, size do
      local chunk = {}
      for i = s, math.min(n, s + size - 1) do chunk[#chunk + 1] = docs[i] end
      futures[#futures + 1] = pool:submit('apply', opts.module, chunk, s)
    end
    local rows = {}
    for _, f in ipairs(futures) do
      for _, r in ipairs(f:wait()) do rows[#rows + 1] = r end
    end
    return M.labelMatrix(rows, names)
  end
  lfs = M.normalize(lfs, 'annotate.apply')
  local rows = {}
  for i, d in ipairs(docs) do rows[i] = M.row(lfs, asDoc(d, i), i) end
  local names = {}
  for j, f in ipairs(lfs) do names[j] = f.name end
  return M.labelMatrix(rows, names)
end

M.asDoc = asDoc
return M
