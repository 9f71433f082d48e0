-- annotate.analysis(L, [gold]) -> report: Snorkel's LFAnalysis columns per labelling function, in column
-- order: name, polarity (sorted labels it emitted), coverage (fraction of docs it labels), overlaps
-- (fraction of docs it labels where another LF labels too), conflicts (fraction of docs it labels where
-- another LF gives a different label), and with gold labels (a list, ABSTAIN/nil = unknown) correct,
-- incorrect and empAcc = correct / (correct + incorrect) over the docs with a gold label.
-- report:format() -> a table as text; report.rows[j] (fields above); report.byName[name].
local lfmod = require 'llm.annotate.lf'
local ABSTAIN = lfmod.ABSTAIN
local M = {}

local Report = {}
Report.__index = Report
Report.__name = 'annotate.Report'

local function sortLabels(t)
  table.sort(t, function(a, b) if type(a) == type(b) then return a < b end return type(a) == 'number' end)
  return t
end

--- annotate.analysis(L, [gold]) -> Report: per-LF polarity, coverage, overlaps, conflicts (and correct, incorrect, empAcc with gold); report:format()
function M.analysis(L, gold)
  if not lfmod.isLabelMatrix(L) then error('annotate.analysis: expected an annotate.LabelMatrix (from annotate.apply)', 2) end
  if gold ~= nil and type(gold) ~= 'table' then
    error(('annotate.analysis: gold must be a list of %d labels (one per document; nil or ABSTAIN = unknown)'):format(L.n), 2)
  end
  local rows, byName = {}, {}
  for j, name in ipairs(L.names) do
    local r = {name = name, j = j, labelled = 0, overlapN = 0, conflictN = 0}
    local pol = {}
    if gold then r.correct, r.incorrect = 0, 0 end
    for i, row in ipairs(L.rows) do
      local v = row[j]
      if v ~= ABSTAIN then
        r.labelled = r.labelled + 1
        pol[v] = true
        local over, conf = false, false
        for k, w in ipairs(row) do
          if k ~= j and w ~= ABSTAIN then over = true; if w ~= v then conf = true end end
        end
        if over then r.overlapN = r.overlapN + 1 end
        if conf then r.conflictN = r.conflictN + 1 end
        local g = gold and gold[i]
        if g ~= nil and g ~= ABSTAIN then
          if g == v then r.correct = r.correct + 1 else r.incorrect = r.incorrect + 1 end
        end
      end
    end
    local p = {}
    for v in pairs(pol) do p[#p + 1] = v end
    r.polarity = sortLabels(p)
    local n = math.max(L.n, 1)
    r.coverage, r.overlaps, r.conflicts = r.labelled / n, r.overlapN / n, r.conflictN / n
    if gold then
      local c = r.correct + r.incorrect
      r.empAcc = c > 0 and r.correct / c or nil
    end
    rows[j], byName[name] = r, r
  end
  return setmetatable({rows = rows, byName = byName, n = L.n, gold = gold ~= nil}, Report)
end

--- report:format() -> text: one line per LF (j, polarity, coverage, overlaps, conflicts[, correct, incorrect, empAcc]).
function Report:format()
  local w = 4
  for _, r in ipairs(self.rows) do w = math.max(w, #r.name) end
  local head = ('%-' .. w .. 's %3s  %-16s %8s %8s %9s'):format('name', 'j', 'polarity', 'coverage', 'overlaps', 'conflicts')
  if self.gold then head = head .. ('  %7s %9s %7s'):format('correct', 'incorrect', 'empAcc') end
  local lines = {head}
  for _, r in ipairs(self.rows) do
    local pol = {}
    for k, v in ipairs(r.polarity) do pol[k] = tostring(v) end
    local s = ('%-' .. w .. 's %3d  %-16s %8.3f %8.3f %9.3f'):format(r.name, r.j, '[' .. table.concat(pol, ',') .. ']',
      r.coverage, r.overlaps, r.conflicts)
    if self.gold then
      s = s .. ('  %7d %9d %7s'):format(r.correct, r.incorrect, r.empAcc and ('%.3f'):format(r.empAcc) or '-')
    end
    lines[#lines + 1] = s
  end
  return table.concat(lines, '\n')
end
Report.__tostring = Report.format

return M
