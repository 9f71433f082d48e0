-- llm.metrics: classification and entity-recognition metrics over plain Lua lists of labels (any
-- comparable values: class ids or names). Pure functions; nothing is trained here.
--   metrics.accuracy(gold, pred) -> fraction of equal entries
--   metrics.confusion(gold, pred, [labels]) -> {labels = {...}, counts = {[g] = {[p] = n}}} with
--     :table() -> printable text (rows gold, columns predicted) and :get(g, p) -> count
--   metrics.f1(gold, pred, [labels]) -> {perClass = {[label] = {precision, recall, f1, support}},
--     macroF1, microF1, weightedF1, accuracy}   (macro: unweighted mean over the labels; a label never
--     predicted has precision 0, as scikit-learn's zero_division=0)
--   metrics.macroF1(gold, pred, [labels]) -> number
--   metrics.entities(tags) -> list of {type, first, last} (1-based, inclusive) from BIO/IOBES tags, by
--     seqeval's default (conlleval-compatible) chunking: an I- without a B- starts an entity, a type
--     change ends one and starts another, a bare 'B'/'I' has type '_'. tags may be a list of sentences
--     (lists of tags): they are joined with an 'O' between them, as seqeval does.
--   metrics.entityScores(goldTags, predTags) -> {perType = {[type] = {precision, recall, f1, support}},
--     precision, recall, f1 (micro: seqeval's default), macroF1, weightedF1, support} — exact-match
--     entity scores as seqeval.metrics.classification_report (default mode).
--   metrics.table(scores) -> printable text of f1's or entityScores' result (per label, then averages)
-- Checked against seqeval and scikit-learn on Tests/Fixtures/seqeval_cases.json (scripts/reference/seqeval_fixtures.py).
local M = {}

local function checkPair(gold, pred, who)
  if type(gold) ~= 'table' or type(pred) ~= 'table' then error(who .. ': expected two lists (gold, predicted)', 3) end
  if #gold ~= #pred then error(string.format('%s: gold has %d entries, predicted %d', who, #gold, #pred), 3) end
end

--- Fraction of positions where pred equals gold (0 for empty lists).
function M.accuracy(gold, pred)
  checkPair(gold, pred, 'metrics.accuracy')
  local hit = 0
  for i = 1, #gold do if gold[i] == pred[i] then hit = hit + 1 end end
  return #gold > 0 and hit / #gold or 0
end

-- The distinct values of the lists (skipping `skip`), sorted: numbers before strings. Shared with
-- llm.annotate's LabelMatrix:labels().
local function distinctLabels(lists, skip)
  local seen, out = {}, {}
  for _, list in ipairs(lists) do
    for _, v in ipairs(list) do if v ~= skip and not seen[v] then seen[v] = true; out[#out + 1] = v end end
  end
  table.sort(out, function(a, b)
    if type(a) == type(b) then return a < b end
    return type(a) == 'number'
  end)
  return out
end
M._distinctLabels = distinctLabels

-- The sorted labels seen in gold and pred (numbers before strings), unless given.
local function labelsOf(gold, pred, labels)
  return labels or distinctLabels({gold, pred})
end

local Confusion = {}
Confusion.__index = Confusion

--- Count of gold label g predicted as p.
function Confusion:get(g, p) return (self.counts[g] or {})[p] or 0 end

--- The matrix as text: one row per gold label, one column per predicted label.
function Confusion:table()
  local names = {}
  local width = 4
  for i, l in ipairs(self.labels) do names[i] = tostring(l); width = math.max(width, #names[i]) end
  local cell = 1
  for _, g in ipairs(self.labels) do for _, p in ipairs(self.labels) do cell = math.max(cell, #tostring(self:get(g, p))) end end
  local lines = {}
  local head = {string.format('%-' .. width .. 's', 'gold\\pred')}
  local cw = {}
  for i, n in ipairs(names) do cw[i] = math.max(#n, cell); head[#head + 1] = string.format('%' .. cw[i] .. 's', n) end
  lines[1] = table.concat(head, ' ')
  width = #head[1]
  for i, g in ipairs(self.labels) do
    local row = {string.format('%-' .. width .. 's', names[i])}
    for j, p in ipairs(self.labels) do row[#row + 1] = string.format('%' .. cw[j] .. 'd', self:get(g, p)) end
    lines[#lines + 1] = table.concat(row, ' ')
  end
  return table.concat(lines, '\n')
end

--- The confusion matrix of gold and predicted labels (labels: their order; default sorted).
function M.confusion(gold, pred, labels)
  checkPair(gold, pred, 'metrics.confusion')
  local out = setmetatable({labels = labelsOf(gold, pred, labels), counts = {}}, Confusion)
  for i = 1, #gold do
    local row = out.counts[gold[i]] or {}
    out.counts[gold[i]] = row
    row[pred[i]] = (row[pred[i]] or 0) + 1
  end
  return out
end

local function prf(tp, npred, ngold)
  local p = npred > 0 and tp / npred or 0
  local r = ngold > 0 and tp / ngold or 0
  return {precision = p, recall = r, f1 = (p + r) > 0 and 2 * p * r / (p + r) or 0, support = ngold}
end

-- macro and support-weighted means of f1 (and precision, recall) over a per-label table
local function averages(per, keys)
  local macro, weighted, total = {precision = 0, recall = 0, f1 = 0}, {precision = 0, recall = 0, f1 = 0}, 0
  for _, k in ipairs(keys) do total = total + per[k].support end
  for _, k in ipairs(keys) do
    for _, m in ipairs({'precision', 'recall', 'f1'}) do
      macro[m] = macro[m] + per[k][m] / #keys
      if total > 0 then weighted[m] = weighted[m] + per[k][m] * per[k].support / total end
    end
  end
  return macro, weighted, total
end

--- Per-class precision/recall/F1/support and the macro, micro and weighted F1 (plus accuracy).
function M.f1(gold, pred, labels)
  checkPair(gold, pred, 'metrics.f1')
  labels = labelsOf(gold, pred, labels)
  local tp, np, ng = {}, {}, {}
  for i = 1, #gold do
    local g, p = gold[i], pred[i]
    ng[g] = (ng[g] or 0) + 1
    np[p] = (np[p] or 0) + 1
    if g == p then tp[g] = (tp[g] or 0) + 1 end
  end
  local per, sumTp, sumP, sumG = {}, 0, 0, 0
  for _, l in ipairs(labels) do
    per[l] = prf(tp[l] or 0, np[l] or 0, ng[l] or 0)
    sumTp, sumP, sumG = sumTp + (tp[l] or 0), sumP + (np[l] or 0), sumG + (ng[l] or 0)
  end
  local macro, weighted, total = averages(per, labels)
  local micro = prf(sumTp, sumP, sumG)
  return {perClass = per, labels = labels, macroF1 = macro.f1, macro = macro, weighted = weighted, weightedF1 = weighted.f1,
          microF1 = micro.f1, micro = micro, accuracy = M.accuracy(gold, pred), support = total}
end

--- Macro-averaged F1 over the labels (default: those in gold or pred).
function M.macroF1(gold, pred, labels)
  checkPair(gold, pred, 'metrics.macroF1')
  return M.f1(gold, pred, labels).macroF1
end

-- seqeval's chunk boundaries (seqeval/metrics/sequence_labeling.py: end_of_chunk, start_of_chunk)
local function endOfChunk(prevTag, tag, prevType, typ)
  if prevTag == 'E' or prevTag == 'S' then return true end
  if (prevTag == 'B' or prevTag == 'I') and (tag == 'B' or tag == 'S' or tag == 'O') then return true end
  return prevTag ~= 'O' and prevTag ~= '.' and prevType ~= typ
end

local function startOfChunk(prevTag, tag, prevType, typ)
  if tag == 'B' or tag == 'S' then return true end
  if (prevTag == 'E' or prevTag == 'S' or prevTag == 'O') and (tag == 'E' or tag == 'I') then return true end
  return tag ~= 'O' and tag ~= '.' and prevType ~= typ
end

-- one flat list of tags ('O' between sentences when given a list of lists)
local function flatten(tags, who)
  if type(tags) ~= 'table' then error(who .. ': expected a list of tags or of sentences (lists of tags)', 3) end
  if type(tags[1]) ~= 'table' then return tags end
  local out = {}
  for _, sentence in ipairs(tags) do
    for _, t in ipairs(sentence) do out[#out + 1] = t end
    out[#out + 1] = 'O'
  end
  return out
end

--- The entities of a tag sequence: a list of {type, first, last} (1-based positions, inclusive).
function M.entities(tags)
  local seq = flatten(tags, 'metrics.entities')
  local chunks, prevTag, prevType, begin = {}, 'O', '', 1
  for i = 1, #seq + 1 do
    local chunk = seq[i] or 'O'
    if type(chunk) ~= 'string' or chunk == '' then
      error(string.format('metrics.entities: tag %d is not a non-empty string (%s)', i, tostring(chunk)), 2)
    end
    local tag = chunk:sub(1, 1)
    local rest = chunk:sub(2)
    local typ = rest:match('^[^-]*%-(.*)$') or rest   -- the text after the first '-' (split('-', 1)[-1])
    if typ == '' then typ = '_' end
    if endOfChunk(prevTag, tag, prevType, typ) then chunks[#chunks + 1] = {type = prevType, first = begin, last = i - 1} end
    if startOfChunk(prevTag, tag, prevType, typ) then begin = i end
    prevTag, prevType = tag, typ
  end
  return chunks
end

--- Entity-level precision/recall/F1 (exact span and type) of predicted against gold tags, per type and averaged.
function M.entityScores(goldTags, predTags)
  local g, p = flatten(goldTags, 'metrics.entityScores'), flatten(predTags, 'metrics.entityScores')
  checkPair(g, p, 'metrics.entityScores')
  local function keyed(list)
    local set, types = {}, {}
    for _, e in ipairs(list) do
      set[e.type .. '\0' .. e.first .. '\0' .. e.last] = e.type
      types[e.type] = true
    end
    return set, types
  end
  local gold, gTypes = keyed(M.entities(g))
  local pred, pTypes = keyed(M.entities(p))
  local types, seen = {}, {}
  for _, t in ipairs({gTypes, pTypes}) do for k in pairs(t) do if not seen[k] then seen[k] = true; types[#types + 1] = k end end end
  table.sort(types)
  local tp, np, ng = {}, {}, {}
  for k, t in pairs(gold) do ng[t] = (ng[t] or 0) + 1; if pred[k] then tp[t] = (tp[t] or 0) + 1 end end
  for _, t in pairs(pred) do np[t] = (np[t] or 0) + 1 end
  local per, sTp, sP, sG = {}, 0, 0, 0
  for _, t in ipairs(types) do
    per[t] = prf(tp[t] or 0, np[t] or 0, ng[t] or 0)
    sTp, sP, sG = sTp + (tp[t] or 0), sP + (np[t] or 0), sG + (ng[t] or 0)
  end
  local macro, weighted = averages(per, types)
  local micro = prf(sTp, sP, sG)
  return {perType = per, labels = types, precision = micro.precision, recall = micro.recall, f1 = micro.f1, micro = micro,
          macro = macro, macroF1 = macro.f1, weighted = weighted, weightedF1 = weighted.f1, support = sG}
end

--- A printable table of metrics.f1's or metrics.entityScores' result: label, precision, recall, f1, support, then the averages.
function M.table(scores)
  if type(scores) ~= 'table' or not scores.labels or not (scores.perClass or scores.perType) then
    error('metrics.table: expected the result of metrics.f1 or metrics.entityScores', 2)
  end
  local per = scores.perClass or scores.perType
  local width = 12
  for _, l in ipairs(scores.labels) do width = math.max(width, #tostring(l)) end
  local fmt = '%-' .. width .. 's %9s %9s %9s %8s'
  local row = '%-' .. width .. 's %9.4f %9.4f %9.4f %8d'
  local lines = {string.format(fmt, '', 'precision', 'recall', 'f1', 'support')}
  for _, l in ipairs(scores.labels) do
    local s = per[l]
    lines[#lines + 1] = string.format(row, tostring(l), s.precision, s.recall, s.f1, s.support)
  end
  lines[#lines + 1] = ''
  if scores.perClass then lines[#lines + 1] = string.format('%-' .. width .. 's %9s %9s %9.4f %8d', 'accuracy', '', '', scores.accuracy, scores.support) end
  lines[#lines + 1] = string.format(row, 'micro avg', scores.micro.precision, scores.micro.recall, scores.micro.f1, scores.support)
  lines[#lines + 1] = string.format(row, 'macro avg', scores.macro.precision, scores.macro.recall, scores.macro.f1, scores.support)
  lines[#lines + 1] = string.format(row, 'weighted avg', scores.weighted.precision, scores.weighted.recall, scores.weighted.f1, scores.support)
  return table.concat(lines, '\n')
end

return M
