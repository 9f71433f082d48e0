-- llm.tune.samplers.tpe: tune.sampler.tpe{seed = 0, multivariate = false, nStartup = 10, nEICandidates = 24,
--   gamma = function(n) min(ceil(0.1 n), 25) end | fraction, weights = function(n) -> array, priorWeight = 1,
--   considerMagicClip = true, considerEndpoints = false}
-- The tree-structured Parzen estimator with Optuna's defaults (TPESampler, Optuna 3.x/4.x):
-- - the first nStartup finished (complete or pruned) trials are drawn uniformly (as tune.sampler.random);
-- - then the finished trials are split: the gamma(n) best are "below" (complete trials ranked by their loss,
--   then pruned ones by their last reported step, deepest first, and value), the rest "above";
-- - each side becomes a Parzen mixture: one truncated Gaussian kernel per observation (on the log axis for log
--   parameters; stepped and int parameters as a discrete distribution on their grid, kernels half a step wider)
--   plus a prior kernel (mean mid-range, width = range) of weight priorWeight; kernel weights ramp for old
--   trials past 25 (Optuna's default_weights); kernel widths from the distance to the neighbours (independent)
--   or 0.2 n^(-1/(d+4)) range (multivariate), clipped to [range / min(100, n + 2), range] (the magic clip);
--   categorical parameters get per-kernel choice probabilities (priorWeight/(n+1) smoothing);
-- - nEICandidates draws from the "below" mixture, the one maximising log l(x) - log g(x) is proposed.
-- multivariate = true: the parameters common to all completed trials are sampled jointly (one kernel choice for
-- all of them) at trial start; the others independently.
-- Multi-objective studies (several directions): the split ranks complete trials by non-dominated sorting; the
-- last front that does not fit whole is cut by crowding distance (NSGA-II's rule, where Optuna's MOTPE uses
-- hypervolume contributions); kernel weights are uniform within "below".
-- Every draw comes from a local generator seeded by (seed, trial number, parameter name): reproducible.
local common = require 'llm.tune.samplers.common'
local stats = require 'llm.tune.samplers.stats'

local TPE = {}
TPE.__index = TPE

local function defaultGamma(n) return math.min(math.ceil(0.1 * n), 25) end

local function defaultWeights(n)
  local w = {}
  if n < 25 then
    for i = 1, n do w[i] = 1 end
  else
    local m = n - 25
    for i = 1, m do w[i] = m == 1 and 1 / n or 1 / n + (1 - 1 / n) * (i - 1) / (m - 1) end
    for i = m + 1, n do w[i] = 1 end
  end
  return w
end

local KNOWN = {seed = true, multivariate = true, nStartup = true, nEICandidates = true, gamma = true, weights = true,
  priorWeight = true, considerMagicClip = true, considerEndpoints = true}

local function new(opts)
  opts = opts or {}
  if type(opts) ~= 'table' then error('tune.sampler.tpe: expected an options table', 2) end
  for k in pairs(opts) do if not KNOWN[k] then error("tune.sampler.tpe: unknown option '" .. tostring(k) .. "'", 2) end end
  local gamma = opts.gamma or defaultGamma
  if type(gamma) == 'number' then
    if not (gamma > 0 and gamma <= 1) then error('tune.sampler.tpe: gamma must be a fraction in (0, 1] or a function', 2) end
    local frac = gamma
    gamma = function(n) return math.ceil(frac * n) end
  elseif type(gamma) ~= 'function' then
    error('tune.sampler.tpe: gamma must be a fraction in (0, 1] or a function', 2)
  end
  local nStartup, nEI = opts.nStartup or 10, opts.nEICandidates or 24
  if math.type(nStartup) ~= 'integer' or nStartup < 0 then error('tune.sampler.tpe: nStartup must be an integer >= 0', 2) end
  if math.type(nEI) ~= 'integer' or nEI < 1 then error('tune.sampler.tpe: nEICandidates must be an integer >= 1', 2) end
  return setmetatable({
    seed = opts.seed or 0, multivariate = opts.multivariate or false, nStartup = nStartup, nEI = nEI, gamma = gamma,
    weights = opts.weights or defaultWeights, priorWeight = opts.priorWeight or 1,
    magicClip = opts.considerMagicClip ~= false, endpoints = opts.considerEndpoints or false,
  }, TPE)
end

-- ---------------------------------------------------------------- splitting the history

local function lastStep(t)
  local best
  for step in pairs(t.intermediate or {}) do if not best or step > best then best = step end end
  return best
end

local function dominates(a, b)
  local better = false
  for i = 1, #a do
    if a[i] > b[i] then return false end
    if a[i] < b[i] then better = true end
  end
  return better
end

-- complete trials in non-dominated fronts; the last partial front cut by crowding distance
local function moRank(complete, nBelow)
  local rest, ranked = {}, {}
  for i, t in ipairs(complete) do rest[i] = t end
  while #rest > 0 and #ranked < nBelow do
    local front, others = {}, {}
    for _, t in ipairs(rest) do
      local dom = false
      for _, o in ipairs(rest) do if o ~= t and dominates(o.loss, t.loss) then dom = true; break end end
      if dom then others[#others + 1] = t else front[#front + 1] = t end
    end
    if #ranked + #front > nBelow then
      local crowd = {}
      for _, t in ipairs(front) do crowd[t] = 0 end
      for m = 1, #front[1].loss do
        table.sort(front, function(a, b) if a.loss[m] ~= b.loss[m] then return a.loss[m] < b.loss[m] end return a.number < b.number end)
        local span = front[#front].loss[m] - front[1].loss[m]
        crowd[front[1]], crowd[front[#front]] = math.huge, math.huge
        for i = 2, #front - 1 do
          if span > 0 then crowd[front[i]] = crowd[front[i]] + (front[i + 1].loss[m] - front[i - 1].loss[m]) / span end
        end
      end
      table.sort(front, function(a, b) if crowd[a] ~= crowd[b] then return crowd[a] > crowd[b] end return a.number < b.number end)
    end
    for _, t in ipairs(front) do ranked[#ranked + 1] = t end
    rest = others
  end
  for _, t in ipairs(rest) do ranked[#ranked + 1] = t end
  return ranked
end

-- below, above (each in trial-number order)
function TPE:split(study, trials)
  local nObj = #common.directions(study)
  local complete, pruned = {}, {}
  for _, t in ipairs(trials) do
    if t.state == 'complete' then
      complete[#complete + 1] = {t = t, number = t.number, loss = common.losses(study, t)}
    else
      local s = lastStep(t)
      local v = s and t.intermediate[s]
      if v and common.directions(study)[1] == 'maximize' then v = -v end
      pruned[#pruned + 1] = {t = t, number = t.number, step = s or -math.huge, value = v or math.huge}
    end
  end
  local nBelow = math.min(self.gamma(#complete + #pruned), #complete + #pruned)
  local ranked
  if nObj == 1 then
    table.sort(complete, function(a, b) if a.loss[1] ~= b.loss[1] then return a.loss[1] < b.loss[1] end return a.number < b.number end)
    ranked = complete
  else
    ranked = moRank(complete, nBelow)
  end
  table.sort(pruned, function(a, b)
    if a.step ~= b.step then return a.step > b.step end
    if a.value ~= b.value then return a.value < b.value end
    return a.number < b.number
  end)
  for _, p in ipairs(pruned) do ranked[#ranked + 1] = p end
  local below, above = {}, {}
  for i, r in ipairs(ranked) do
    if i <= nBelow then below[#below + 1] = r.t else above[#above + 1] = r.t end
  end
  table.sort(below, function(a, b) return a.number < b.number end)
  table.sort(above, function(a, b) return a.number < b.number end)
  return below, above
end

-- ---------------------------------------------------------------- the Parzen estimator

-- sigmas of the independent (univariate) estimator, as Optuna's _calculate_numerical_distributions
function TPE:univariateSigmas(mus, low, high, step)
  local n = #mus
  local idx = {}
  local all = {table.unpack(mus)}
  all[n + 1] = 0.5 * (low + high)
  for i = 1, n + 1 do idx[i] = i end
  table.sort(idx, function(a, b) if all[a] ~= all[b] then return all[a] < all[b] end return a < b end)
  local ep = {low - step / 2}
  for i = 1, n + 1 do ep[i + 1] = all[idx[i]] end
  ep[n + 3] = high + step / 2
  local sorted = {}
  for i = 1, n + 1 do sorted[i] = math.max(ep[i + 1] - ep[i], ep[i + 2] - ep[i + 1]) end
  if not self.endpoints and #ep >= 4 then
    sorted[1] = ep[3] - ep[2]
    sorted[n + 1] = ep[n + 2] - ep[n + 1]
  end
  local sig = {}
  for i = 1, n + 1 do sig[idx[i]] = sorted[i] end
  sig[n + 1] = nil
  return sig
end

function TPE:estimator(space, names, trials)
  local obs = {}
  for _, t in ipairs(trials) do
    local ok = true
    for _, name in ipairs(names) do if t.params[name] == nil then ok = false; break end end
    if ok then obs[#obs + 1] = t end
  end
  local n = #obs
  local w = n > 0 and self.weights(n) or {}
  w[n + 1] = self.priorWeight
  local total = 0
  for i = 1, n + 1 do total = total + w[i] end
  local logw = {}
  for i = 1, n + 1 do logw[i] = math.log(w[i] / total) end
  local dims = {}
  for j, name in ipairs(names) do
    local dist = space[name]
    local dim = {dist = dist}
    if dist.kind == 'categorical' then
      local K = #dist.choices
      local probs = {}
      for i = 1, n + 1 do
        local row = {}
        for k = 1, K do row[k] = self.priorWeight / (n + 1) end
        if i <= n then
          local c = common.toInternal(dist, obs[i].params[name])
          if c then row[c] = row[c] + 1 end
        end
        local s = 0
        for k = 1, K do s = s + row[k] end
        for k = 1, K do row[k] = math.log(row[k] / s) end
        probs[i] = row
      end
      dim.logProbs = probs
    else
      local nd = common.numeric(dist)
      local step = nd.step or 0
      local range = nd.high - nd.low + step
      local mus = {}
      for i = 1, n do mus[i] = common.toInternal(dist, obs[i].params[name]) end
      local sig
      if self.multivariate then
        sig = {}
        local s = 0.2 * math.max(n, 1) ^ (-1 / (#names + 4)) * range
        for i = 1, n do sig[i] = s end
      else
        sig = self:univariateSigmas(mus, nd.low, nd.high, step)
      end
      local maxs = range
      local mins = self.magicClip and range / math.min(100, n + 2) or 1e-12
      for i = 1, n do sig[i] = math.min(math.max(sig[i], mins), maxs) end
      mus[n + 1], sig[n + 1] = 0.5 * (nd.low + nd.high), range
      if range <= 0 then for i = 1, n + 1 do sig[i] = 1 end end
      dim.mus, dim.sigmas, dim.low, dim.high, dim.step = mus, sig, nd.low, nd.high, nd.step
      dim.tlow, dim.thigh = nd.low - step / 2, nd.high + step / 2
      dim.logNorm = {} -- log of each kernel's mass inside the bounds, and of its width
      for i = 1, n + 1 do
        dim.logNorm[i] = stats.logMass((dim.tlow - mus[i]) / sig[i], (dim.thigh - mus[i]) / sig[i]) + (nd.step and 0 or math.log(sig[i]))
      end
    end
    dims[j] = dim
  end
  return {dims = dims, logw = logw, n = n}
end

local function snap(dim, x)
  if dim.step then
    local top = math.floor((dim.high - dim.low) / dim.step + 1e-9)
    local k = math.min(math.max(math.floor((x - dim.low) / dim.step + 0.5), 0), top)
    return dim.low + k * dim.step
  end
  return math.min(math.max(x, dim.low), dim.high)
end

local function sampleEstimator(est, rng, count)
  local w = {}
  for i, lw in ipairs(est.logw) do w[i] = math.exp(lw) end
  local out = {}
  for c = 1, count do
    local k = rng:categorical(w)
    local x = {}
    for j, dim in ipairs(est.dims) do
      if dim.logProbs then
        local p = {}
        for q, lp in ipairs(dim.logProbs[k]) do p[q] = math.exp(lp) end
        x[j] = rng:categorical(p)
      elseif dim.thigh > dim.tlow then
        x[j] = snap(dim, stats.truncnormSample(rng:uniform(), dim.mus[k], dim.sigmas[k], dim.tlow, dim.thigh))
      else
        x[j] = dim.low
      end
    end
    out[c] = x
  end
  return out
end

local function logPdf(est, x)
  local terms, top = {}, -math.huge
  for k, lw in ipairs(est.logw) do
    local s = lw
    for j, dim in ipairs(est.dims) do
      if dim.logProbs then
        s = s + dim.logProbs[k][x[j]]
      elseif dim.thigh > dim.tlow then
        local mu, sg = dim.mus[k], dim.sigmas[k]
        if dim.step then
          s = s + stats.logMass((x[j] - dim.step / 2 - mu) / sg, (x[j] + dim.step / 2 - mu) / sg) - dim.logNorm[k]
        else
          s = s + stats.logNormPdf((x[j] - mu) / sg) - dim.logNorm[k]
        end
      end
    end
    terms[k] = s
    if s > top then top = s end
  end
  if top == -math.huge then return top end
  local acc = 0
  for _, s in ipairs(terms) do acc = acc + math.exp(s - top) end
  return top + math.log(acc)
end

-- proposes values for names (sorted) of space from the finished trials; rng drives the draws
function TPE:propose(study, trials, space, names, rng)
  local below, above = self:split(study, trials)
  local lEst = self:estimator(space, names, below)
  local gEst = self:estimator(space, names, above)
  local best, bestScore
  for _, x in ipairs(sampleEstimator(lEst, rng, self.nEI)) do
    local score = logPdf(lEst, x) - logPdf(gEst, x)
    if bestScore == nil or score > bestScore then best, bestScore = x, score end
  end
  local out = {}
  for j, name in ipairs(names) do out[name] = common.fromInternal(space[name], best[j]) end
  return out
end

function TPE:sampleIndependent(study, trial, name, dist)
  common.checkDist(dist, name)
  local trials = common.completed(study)
  local rng = common.rng(self.seed, 'tpe', trial.number, name)
  if #trials < self.nStartup or common.countComplete(trials) == 0 then return common.uniformDraw(rng, dist) end
  return self:propose(study, trials, {[name] = dist}, {name}, rng)[name]
end

function TPE:inferRelativeSpace(study)
  if not self.multivariate then return {} end
  local trials = common.completed(study)
  if #trials < self.nStartup or common.countComplete(trials) == 0 then return {} end
  return common.intersectionSpace(trials)
end

function TPE:sampleRelative(study, trial, space)
  local names = common.sortedNames(space or {})
  if #names == 0 then return {} end
  local trials = common.completed(study)
  return self:propose(study, trials, space, names, common.rng(self.seed, 'tpe-joint', trial.number))
end

return new
