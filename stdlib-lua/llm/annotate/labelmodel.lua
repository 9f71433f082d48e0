-- annotate label models: combine the votes of a LabelMatrix into one label per document.
-- annotate.majorityVote(L, {classes=, tieBreak='abstain'|'first'|'random', seed=}) -> labels, probs
--   ties (and rows where every LF abstains) give ABSTAIN by default; 'first' takes the tied class that
--   comes first in `classes`; 'random' a seeded choice among the tied classes. probs: vote fractions.
-- annotate.LabelModel{classes=, iters=100, tol=1e-6, smoothing=1}: the generative model. It is the
--   one-coin Dawid-Skene model fitted by EM (Snorkel's idea of learning LF accuracies from their
--   agreements, without gold labels): each LF j, when it votes, is right with probability acc[j] and
--   otherwise picks one of the other K-1 classes uniformly; abstains carry no information; class priors
--   are learnt too. E-step: P(y | votes) ∝ prior[y] · Π_j (acc[j] if vote = y else (1-acc[j])/(K-1));
--   M-step: acc[j] = expected fraction of j's votes that are right, prior = mean posterior (with
--   `smoothing` pseudo-counts). It starts from the majority-vote distribution.
--   model:fit(L) -> model; model:predictProba(L) -> {{p per class}}; model:predict(L) -> labels, probs
--   (ABSTAIN where every LF abstains); model.accuracies[name], model.prior[class], model.classes.
local ABSTAIN = require('llm.annotate.lf').ABSTAIN
local lfmod = require 'llm.annotate.lf'
local M = {}

local function classIndex(L, classes, where)
  if classes == nil then classes = L:labels() end
  if type(classes) ~= 'table' or #classes < 2 then error(where .. ': need at least two classes (give classes={...})', 3) end
  local idx = {}
  for k, c in ipairs(classes) do idx[c] = k end
  for i, r in ipairs(L.rows) do
    for j, v in ipairs(r) do
      if v ~= ABSTAIN and not idx[v] then
        error(("%s: LF '%s' voted %s on document %d, which is not in classes"):format(where, L.names[j], tostring(v), i), 3)
      end
    end
  end
  return classes, idx
end

local function checkL(L, where)
  if not lfmod.isLabelMatrix(L) then error(where .. ': expected an annotate.LabelMatrix (from annotate.apply)', 3) end
end

-- A tiny seeded generator (xorshift) so that tie-breaking does not touch math.random's state.
local function rng(seed)
  local s = (seed or 1) * 2654435761 % 4294967296
  if s == 0 then s = 1 end
  return function(n)
    s = s ~ ((s << 13) & 0xffffffff); s = s ~ (s >> 17); s = s ~ ((s << 5) & 0xffffffff)
    return s % n + 1
  end
end

--- annotate.majorityVote(L, [{classes=, tieBreak='abstain'|'first'|'random', seed=}]) -> labels, probs: the most frequent vote per document (vote fractions as probs)
function M.majorityVote(L, opts)
  checkL(L, 'annotate.majorityVote')
  opts = opts or {}
  local tie = opts.tieBreak or 'abstain'
  if tie ~= 'abstain' and tie ~= 'first' and tie ~= 'random' then
    error("annotate.majorityVote: tieBreak must be 'abstain', 'first' or 'random'", 2)
  end
  local classes, idx = classIndex(L, opts.classes, 'annotate.majorityVote')
  local pick, K = rng(opts.seed), #classes
  local labels, probs = {}, {}
  for i, r in ipairs(L.rows) do
    local c, total = {}, 0
    for k = 1, K do c[k] = 0 end
    for _, v in ipairs(r) do if v ~= ABSTAIN then c[idx[v]] = c[idx[v]] + 1; total = total + 1 end end
    local p, best, tied = {}, -1, {}
    for k = 1, K do
      p[k] = total > 0 and c[k] / total or 1 / K
      if c[k] > best then best, tied = c[k], {k} elseif c[k] == best then tied[#tied + 1] = k end
    end
    probs[i] = p
    if total == 0 then labels[i] = ABSTAIN
    elseif #tied == 1 or tie == 'first' then labels[i] = classes[tied[1]]
    elseif tie == 'random' then labels[i] = classes[tied[pick(#tied)]]
    else labels[i] = ABSTAIN end
  end
  return labels, probs
end

local LabelModel = {}
LabelModel.__index = LabelModel
LabelModel.__name = 'annotate.LabelModel'
function LabelModel.__tostring(self) return ('annotate.LabelModel(%d classes%s)'):format(#(self.classes or {}), self.fitted and ', fitted' or '') end

--- annotate.LabelModel{classes=, iters=100, tol=1e-6, smoothing=1} -> LabelModel: the generative label model (one-coin Dawid-Skene EM); :fit(L), :predict(L), :predictProba(L), .accuracies, .prior
function M.LabelModel(opts)
  opts = opts or {}
  if type(opts) ~= 'table' then error('annotate.LabelModel{...}: options must be a table', 2) end
  return setmetatable({opts = opts, iters = opts.iters or 100, tol = opts.tol or 1e-6, smoothing = opts.smoothing or 1}, LabelModel)
end

-- Posterior rows for L with accuracies acc (by column) and prior.
local function posterior(L, idx, K, acc, prior)
  local out = {}
  local logPrior, logRight, logWrong = {}, {}, {}
  for k = 1, K do logPrior[k] = math.log(prior[k]) end
  for j = 1, L.m do logRight[j] = math.log(acc[j]); logWrong[j] = math.log((1 - acc[j]) / (K - 1)) end
  for i, r in ipairs(L.rows) do
    local lp = {}
    for k = 1, K do lp[k] = logPrior[k] end
    for j, v in ipairs(r) do
      if v ~= ABSTAIN then
        local c = idx[v]
        for k = 1, K do lp[k] = lp[k] + (k == c and logRight[j] or logWrong[j]) end
      end
    end
    local mx = -math.huge
    for k = 1, K do if lp[k] > mx then mx = lp[k] end end
    local s, p = 0, {}
    for k = 1, K do p[k] = math.exp(lp[k] - mx); s = s + p[k] end
    for k = 1, K do p[k] = p[k] / s end
    out[i] = p
  end
  return out
end

--- model:fit(L) -> model: EM on the label matrix (no gold labels needed).
function LabelModel:fit(L)
  checkL(L, 'LabelModel:fit')
  local classes, idx = classIndex(L, self.opts.classes, 'LabelModel:fit')
  local K, a = #classes, self.smoothing
  local _, q = M.majorityVote(L, {classes = classes})
  local acc, prior = {}, {}
  local iter, prevAcc = 0, {}
  for it = 1, self.iters do
    iter = it
    -- M-step
    local ps = {}
    for k = 1, K do ps[k] = a end
    for i = 1, L.n do for k = 1, K do ps[k] = ps[k] + q[i][k] end end
    local tot = L.n + a * K
    for k = 1, K do prior[k] = ps[k] / tot end
    for j = 1, L.m do
      local right, votes = a, 2 * a
      for i, r in ipairs(L.rows) do
        local v = r[j]
        if v ~= ABSTAIN then right = right + q[i][idx[v]]; votes = votes + 1 end
      end
      acc[j] = math.min(1 - 1e-4, math.max(1e-4, right / votes))
    end
    -- E-step
    q = posterior(L, idx, K, acc, prior)
    local change = 0
    for j = 1, L.m do change = math.max(change, math.abs(acc[j] - (prevAcc[j] or math.huge))) end
    for j = 1, L.m do prevAcc[j] = acc[j] end
    if change < self.tol then break end
  end
  self.classes, self.idx, self.acc, self.priorList, self.iterations = classes, idx, acc, prior, iter
  self.accuracies, self.prior = {}, {}
  for j, nm in ipairs(L.names) do self.accuracies[nm] = acc[j] end
  for k, c in ipairs(classes) do self.prior[c] = prior[k] end
  self.names, self.fitted = L.names, true
  return self
end

local function checkFitted(self, L, where)
  if not self.fitted then error(where .. ': fit the model first (model:fit(L))', 3) end
  checkL(L, where)
  if L.m ~= #self.names then error(('%s: the model was fitted on %d LFs, this matrix has %d'):format(where, #self.names, L.m), 3) end
  for i, r in ipairs(L.rows) do
    for j, v in ipairs(r) do
      if v ~= ABSTAIN and not self.idx[v] then error(("%s: LF '%s' voted %s on document %d, an unknown class"):format(where, L.names[j], tostring(v), i), 3) end
    end
  end
end

--- model:predictProba(L) -> probs (probs[i][k]: P(classes[k] | votes of doc i))
function LabelModel:predictProba(L)
  checkFitted(self, L, 'LabelModel:predictProba')
  return posterior(L, self.idx, #self.classes, self.acc, self.priorList)
end

--- model:predict(L) -> labels, probs (ABSTAIN where every LF abstains)
function LabelModel:predict(L)
  local probs = self:predictProba(L)
  local labels = {}
  for i, p in ipairs(probs) do
    local any = false
    for _, v in ipairs(L.rows[i]) do if v ~= ABSTAIN then any = true; break end end
    if any then
      local best = 1
      for k = 2, #p do if p[k] > p[best] then best = k end end
      labels[i] = self.classes[best]
    else
      labels[i] = ABSTAIN
    end
  end
  return labels, probs
end

return M
