-- llm.tune.samplers.tpe: tune.sampler.tpe{seed = 0, multivariate = (one objective), nStartup = 10,
--   nEICandidates = 24, gamma = function(n) min(ceil(0.1 n), 25) end | fraction, weights = function(n) -> array,
--   priorWeight = 1, considerMagicClip = true, considerEndpoints = false}
-- The tree-structured Parzen estimator as Optuna's TPESampler (5.x, its defaults):
-- - the first nStartup finished (complete or pruned) trials are drawn uniformly (as tune.sampler.random);
-- - then the finished trials are split: the gamma(n) best are "below" (complete trials ranked by their loss,
--   then pruned ones by their last reported step, deepest first, and value), the rest "above";
--   multi-objective: gamma(n) = ceil(0.1 n);
-- - each side becomes a Parzen mixture: one truncated Gaussian kernel per observation (on the log axis for log
--   parameters; stepped and int parameters as a discrete distribution on their grid, bounds half a step wider)
--   plus a prior kernel (mean mid-range, width = range) of weight priorWeight; kernel weights ramp up from
--   1/n for all but the newest 25 trials (Optuna's default_weights); kernel widths are the distance to the
--   farther neighbour (nearer one at the ends), clipped to [range / min(100, n + 2), range] (the magic clip);
--   categorical parameters get per-kernel choice probabilities (priorWeight/(n+1) smoothing);
-- - nEICandidates draws from the "below" mixture, the one maximising log l(x) - log g(x) is proposed.
-- multivariate (default: true for one objective, false for several, as Optuna 5): the parameters common to all
-- finished trials are sampled jointly (one kernel choice for all of them) at trial start; the others
-- independently. multivariate = false: every parameter on its own.
-- Multi-objective studies (several directions): the split ranks complete trials by non-dominated sorting; the
-- last front that does not fit whole is cut by crowding distance (NSGA-II's rule, where Optuna's MOTPE solves
-- a hypervolume subset selection); kernel weights are uniform within "below" (as Optuna).
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
  local gamma = opts.gamma
  if gamma == nil then
    gamma = nil
  elseif type(gamma) == 'number' then
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
    seed = opts.seed or 0, multivariate = opts.multivariate, nStartup = nStartup, nEI = nEI, gamma = gamma,
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
  local gamma = self.gamma or (nObj == 1 and defaultGamma or function(n) return math.ceil(0.1 * n) end)
  local nBelow = math.min(gamma(#complete + #pruned), #complete + #pruned)
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

-- kernel widths from the distances to the neighbouring observations on the (log) axis, the bounds standing in
-- for the outermost neighbours; then the magic clip (Optuna's _calculate_numerical_distributions)
function TPE:sigmas(mus, alow, ahigh)
  local n = #mus
  local idx = {}
  for i = 1, n do idx[i] = i end
  table.sort(idx, function(a, b) if mus[a] ~= mus[b] then return mus[a] < mus[b] end return a < b end)
  local ep = {alow}
  for i = 1, n do ep[i + 1] = mus[idx[i]] end
  ep[n + 2] = ahigh
  local sorted = {}
  for i = 1, n do sorted[i] = math.max(ep[i + 1] - ep[i], ep[i + 2] - ep[i + 1]) end
  if not self.endpoints and n >= 2 then
    sorted[1] = ep[3] - ep[2]
    sorted[n] = ep[n + 1] - ep[n]
  end
  local range = ahigh - alow
  local mins = self.magicClip and range / math.min(100, n + 2) or 1e-12
  local sig = {}
  for i = 1, n do sig[idx[i]] = math.min(math.max(sorted[i], mins), range) end
  return sig
end

-- a Parzen mixture over names of space from the trials that have all of them; numeric values stay on their
-- own axis (linear values; log parameters are transformed inside), categorical ones are choice indices
function TPE:estimator(space, names, trials, uniform)
  local obs = {}
  for _, t in ipairs(trials) do
    local ok = true
    for _, name in ipairs(names) do if t.params[name] == nil then ok = false; break end end
    if ok then obs[#obs + 1] = t end
  end
  local n = #obs
  local w = {}
  if n > 0 then
    w = uniform and {} or self.weights(n)
    if uniform then for i = 1, n do w[i] = 1 end end
    w[n + 1] = self.priorWeight
  else
    w[1] = 1
  end
  local total = 0
  for i = 1, #w do total = total + w[i] end
  local logw = {}
  for i = 1, #w do logw[i] = math.log(w[i] / total) end
  local K = #w -- kernels: the observations, then the prior
  local dims = {}
  for j, name in ipairs(names) do
    local dist = space[name]
    local dim = {dist = dist}
    if dist.kind == 'categorical' then
      local C = #dist.choices
      local probs = {}
      for i = 1, K do
        local row = {}
        for c = 1, C do row[c] = n > 0 and self.priorWeight / K or 1 / C end
        if i <= n then
          local c = common.toInternal(dist, obs[i].params[name])
          if c then row[c] = row[c] + 1 end
        end
        local sum = 0
        for c = 1, C do sum = sum + row[c] end
        for c = 1, C do row[c] = math.log(row[c] / sum) end
        probs[i] = row
      end
      dim.logProbs = probs
    else
      local step = dist.step or (dist.kind == 'int' and 1 or nil)
      local tf = dist.log and math.log or function(v) return v end
      local half = step and step / 2 or 0
      local alow, ahigh = tf(dist.low - half), tf(dist.high + half)
      local mus = {}
      for i = 1, n do mus[i] = tf(obs[i].params[name]) end
      local sig = self:sigmas(mus, alow, ahigh)
      mus[n + 1], sig[n + 1] = 0.5 * (alow + ahigh), ahigh - alow
      if not (ahigh > alow) then for i = 1, n + 1 do sig[i] = 1 end end
      dim.mus, dim.sigmas, dim.step, dim.tf = mus, sig, step, tf
      dim.alow, dim.ahigh = alow, ahigh
      dim.logNorm = {} -- per kernel: log of its mass inside the bounds (+ log of its width for densities)
      for i = 1, K do
        dim.logNorm[i] = stats.logMass((alow - mus[i]) / sig[i], (ahigh - mus[i]) / sig[i]) + (step and 0 or math.log(sig[i]))
      end
    end
    dims[j] = dim
  end
  return {dims = dims, logw = logw}
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
      else
        local d = dim.dist
        local z = dim.ahigh > dim.alow and stats.truncnormSample(rng:uniform(), dim.mus[k], dim.sigmas[k], dim.alow, dim.ahigh) or dim.alow
        local v = d.log and math.exp(z) or z
        if dim.step then v = d.low + math.floor((v - d.low) / dim.step + 0.5) * dim.step end
        x[j] = math.min(math.max(v, d.low), d.high)
      end
    end
    out[c] = x
  end
  return out
end

local function logPdf(est, x)
  local terms, top = {}, -math.huge
  for k, lw in ipairs(est.logw) do terms[k] = lw end
  for j, dim in ipairs(est.dims) do
    local v = x[j]
    if dim.logProbs then
      for k = 1, #terms do terms[k] = terms[k] + dim.logProbs[k][v] end
    elseif dim.ahigh > dim.alow then
      local mus, sig, norm = dim.mus, dim.sigmas, dim.logNorm
      if dim.step then
        local a, b = dim.tf(v - dim.step / 2), dim.tf(v + dim.step / 2)
        for k = 1, #terms do terms[k] = terms[k] + stats.logMass((a - mus[k]) / sig[k], (b - mus[k]) / sig[k]) - norm[k] end
      else
        local t = dim.tf(v)
        for k = 1, #terms do terms[k] = terms[k] + stats.logNormPdf((t - mus[k]) / sig[k]) - norm[k] end
      end
    end
  end
  for k = 1, #terms do if terms[k] > top then top = terms[k] end end
  if top == -math.huge then return top end
  local acc = 0
  for _, s in ipairs(terms) do acc = acc + math.exp(s - top) end
  return top + math.log(acc)
end

-- proposes values for names (sorted) of space from the finished trials; rng drives the draws
function TPE:propose(study, trials, space, names, rng)
  local below, above = self:split(study, trials)
  local multi = #common.directions(study) > 1
  local lEst = self:estimator(space, names, below, multi)
  local gEst = self:estimator(space, names, above)
  local best, bestScore
  for _, x in ipairs(sampleEstimator(lEst, rng, self.nEI)) do
    local score = logPdf(lEst, x) - logPdf(gEst, x)
    if bestScore == nil or score > bestScore then best, bestScore = x, score end
  end
  local out = {}
  for j, name in ipairs(names) do
    local dist = space[name]
    if dist.kind == 'categorical' then out[name] = dist.choices[best[j]]
    elseif dist.kind == 'int' then out[name] = math.tointeger(math.floor(best[j] + 0.5))
    else out[name] = best[j] end
  end
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
  local mv = self.multivariate
  if mv == nil then mv = #common.directions(study) == 1 end
  if not mv then return {} end
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
