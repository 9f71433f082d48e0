-- llm.tune.samplers.gp: tune.sampler.gp{seed = 0, nStartup = 10, deterministic = false, nCandidates = 1024,
--   nLocalSearch = 5, fitStarts = 1, coldStartEvery = 20}
-- Gaussian-process Bayesian optimisation (single objective; a study with several directions is an error):
-- - the first nStartup complete trials, and any parameter outside the search space common to all completed
--   trials, are drawn uniformly (as tune.sampler.random);
-- - inputs are scaled to [0, 1] (log parameters on their log axis, stepped / int parameters with half a step
--   of room on each side); categorical parameters enter the kernel through a 0/1 mismatch distance;
-- - losses (values, negated for 'maximize') are standardised;
-- - the kernel is Matern 5/2 with one inverse squared length scale per dimension (ARD), a signal scale and a
--   noise variance (>= 1e-6; fixed at 1e-6 with deterministic = true), fitted by maximising the log marginal
--   likelihood plus Optuna's GPSampler log prior (gamma priors) with L-BFGS on the log parameters (stopping
--   at a projected gradient of 1e-2, Optuna's gtol), plus fitStarts - 1 seeded random starts;
-- - the fit is warm-started (as Optuna's): the fit on the first k usable trials (by number) starts from the
--   fit on the first k - 1, except at k = nStartup + i * coldStartEvery, which start from the default
--   (1, 1, 1). The sampler caches this chain and extends it by one fit per trial; a fresh sampler (a resumed
--   study, a parallel worker process) or one whose history changed order recomputes it from the last cold
--   start or the first difference (at most coldStartEvery fits), so resumed and uninterrupted studies
--   propose the same trials; sampler.fits counts the fits made;
-- - the next point maximises log expected improvement (the latent posterior, noise excluded) over an
--   incumbent: the best standardised loss with deterministic = true (as Optuna), otherwise the smallest
--   posterior mean at an observed point (Optuna takes the best observed loss there too, but with noise that
--   is a lucky draw below the function, EI near the optimum collapses and the search drifts to far corners
--   instead of refining); nCandidates scrambled-Sobol points, then L-BFGS (analytic gradients) from the
--   incumbent's point and the nLocalSearch best candidates; stepped values snapped to their grid, each
--   categorical choice tried in turn.
-- Reproducible from (seed, trial number, history): the cached fit chain is a function of the history alone.
local common = require 'llm.tune.samplers.common'
local stats = require 'llm.tune.samplers.stats'
local linalg = require 'llm.tune.linalg'
local optimize = require 'llm.tune.samplers.optimize'
local sobol = require 'llm.tune.samplers.sobol'

local GP = {}
GP.__index = GP

local MIN_NOISE = 1e-6
local SQRT5 = math.sqrt(5)
local LOG_2PI = math.log(2 * math.pi)
local FIT_GTOL = 1e-2 -- the kernel fit stops at this projected-gradient size (Optuna's gtol)

local KNOWN = {seed = true, nStartup = true, deterministic = true, nCandidates = true, nLocalSearch = true, fitStarts = true,
  coldStartEvery = true}

local function new(opts)
  opts = opts or {}
  if type(opts) ~= 'table' then error('tune.sampler.gp: expected an options table', 2) end
  for k in pairs(opts) do if not KNOWN[k] then error("tune.sampler.gp: unknown option '" .. tostring(k) .. "'", 2) end end
  local self = setmetatable({seed = opts.seed or 0, nStartup = opts.nStartup or 10, deterministic = opts.deterministic or false,
    nCandidates = opts.nCandidates or 1024, nLocalSearch = opts.nLocalSearch or 5, fitStarts = opts.fitStarts or 1,
    coldStartEvery = opts.coldStartEvery or 20}, GP)
  for _, k in ipairs{'nStartup', 'nCandidates', 'nLocalSearch', 'fitStarts', 'coldStartEvery'} do
    if math.type(self[k]) ~= 'integer' or self[k] < (k == 'nStartup' and 0 or 1) then error('tune.sampler.gp: ' .. k .. ' must be a positive integer', 2) end
  end
  return self
end

-- ---------------------------------------------------------------- the kernel

-- Matern 5/2 of r2 = r^2 and its derivative in r2
local function matern(r2)
  local r = math.sqrt(r2)
  local e = math.exp(-SQRT5 * r)
  return (1 + SQRT5 * r + 5 / 3 * r2) * e, -5 / 6 * (1 + SQRT5 * r) * e
end
GP.matern = matern

-- a fitted model: X (n points, each an array of d coordinates), cat[j] (categorical dims), theta
local Model = {}
Model.__index = Model

local function sqdiff(a, b, isCat) if isCat then return a == b and 0 or 1 end local t = a - b; return t * t end

-- per-dimension squared differences of all pairs (i < j), flat
local function pairDiffs(X, cat, d)
  local n, D = #X, {}
  for k = 1, d do
    local col, c = {}, 0
    for i = 1, n do
      for j = i + 1, n do c = c + 1; col[c] = sqdiff(X[i][k], X[j][k], cat[k]) end
    end
    D[k] = col
  end
  return D
end

-- negative log posterior (marginal likelihood + prior) and its gradient in theta = (log rho_1..d, log s, [log noise'])
local function negLogPost(theta, X, y, D, d, fixedNoise)
  local n = #X
  local rho = {}
  for k = 1, d do rho[k] = math.exp(theta[k]) end
  local s = math.exp(theta[d + 1])
  local noiseRaw = fixedNoise and 0 or math.exp(theta[d + 2])
  local noise = MIN_NOISE + noiseRaw
  local K, G, M = {}, {}, {}
  local c = 0
  for i = 1, n do
    K[(i - 1) * n + i] = s + noise
    for j = i + 1, n do
      c = c + 1
      local r2 = 0
      for k = 1, d do r2 = r2 + rho[k] * D[k][c] end
      local m, g = matern(r2)
      M[c], G[c] = m, g
      K[(i - 1) * n + j] = s * m; K[(j - 1) * n + i] = s * m
    end
  end
  local L = linalg.cholesky(K, n)
  if not L then return math.huge, nil end
  local alpha = linalg.cholSolve(L, n, y)
  local f = 0.5 * linalg.dot(y, alpha, n) + 0.5 * linalg.logDet(L, n) + 0.5 * n * LOG_2PI
  local Ki = linalg.cholInverse(L, n)
  -- dNLL/dtheta = 0.5 tr(W dK/dtheta), W = K^-1 - alpha alpha^T
  local gr = {}
  for k = 1, d + 2 do gr[k] = 0 end
  local trW = 0
  for i = 1, n do trW = trW + Ki[(i - 1) * n + i] - alpha[i] * alpha[i] end
  c = 0
  local gs = 0.5 * s * trW -- the diagonal part of dK/dlog s (m(0) = 1)
  for i = 1, n do
    local ri, ai = (i - 1) * n, alpha[i]
    for j = i + 1, n do
      c = c + 1
      local w = Ki[ri + j] - ai * alpha[j] -- counted twice (ij and ji): 0.5 * 2
      gs = gs + w * s * M[c]
      local wg = w * s * G[c]
      for k = 1, d do gr[k] = gr[k] + wg * D[k][c] end
    end
  end
  for k = 1, d do gr[k] = gr[k] * rho[k] end
  gr[d + 1] = gs
  -- log prior (Optuna's GPSampler default): -(0.1/rho + 0.1 rho) per dim, Gamma(2, 1) on s, Gamma(1.1, 30) on noise
  for k = 1, d do
    f = f + 0.1 / rho[k] + 0.1 * rho[k]
    gr[k] = gr[k] - 0.1 / rho[k] + 0.1 * rho[k]
  end
  f = f - (math.log(s) - s)
  gr[d + 1] = gr[d + 1] - (1 - s)
  if fixedNoise then
    gr[d + 2] = nil
  else
    f = f - (0.1 * math.log(noise) - 30 * noise)
    gr[d + 2] = 0.5 * trW * noiseRaw - (0.1 / noise - 30) * noiseRaw
  end
  return f, gr
end
GP.negLogPost = negLogPost

-- the default kernel parameters (Optuna's): unit inverse squared length scales, signal and noise variance
local function defaultTheta(d, fixedNoise)
  local t = {}
  for k = 1, d + (fixedNoise and 1 or 2) do t[k] = 0 end
  return t
end

-- fits the kernel to X, y from opts.start (a theta of the same size; default: defaultTheta) and, with
-- opts.starts > 1, from seeded random starts too; returns the fitted theta
function GP.fitTheta(X, y, cat, opts)
  opts = opts or {}
  local d = #cat
  local fixedNoise = opts.deterministic
  local D = pairDiffs(X, cat, d)
  local np = d + (fixedNoise and 1 or 2)
  local lo, hi = {}, {}
  for k = 1, d do lo[k], hi[k] = -9, 9 end
  lo[d + 1], hi[d + 1] = -9, 5
  if not fixedNoise then lo[d + 2], hi[d + 2] = -14, 2 end
  local s0 = defaultTheta(d, fixedNoise)
  local starts = {opts.start and #opts.start == np and opts.start or s0}
  local rng = opts.rng
  for q = 2, opts.starts or 1 do
    local s = {}
    for k = 1, np do s[k] = lo[k] + (hi[k] - lo[k]) * (0.3 + 0.4 * rng:uniform()) end
    starts[q] = s
  end
  local function fg(theta) return negLogPost(theta, X, y, D, d, fixedNoise) end
  local best, bestF
  for q, s in ipairs(starts) do
    local th, fv = optimize.minimize(fg, s, {lower = lo, upper = hi, maxIter = opts.maxIter or 60, tol = FIT_GTOL})
    if q == 1 and not (fv < math.huge) and starts[1] ~= s0 then -- a warm start that failed: Optuna's fallback
      th, fv = optimize.minimize(fg, s0, {lower = lo, upper = hi, maxIter = opts.maxIter or 60, tol = FIT_GTOL})
    end
    if bestF == nil or fv < bestF then best, bestF = th, fv end
  end
  if not (bestF < math.huge) then
    -- the default start was not positive definite either: a large noise always is
    best = s0
    if not fixedNoise then best[d + 2] = 0 end
  end
  return best
end

-- fits the kernel to X, y; returns a Model ready to predict
function GP.fit(X, y, cat, opts)
  opts = opts or {}
  return GP.model(X, y, cat, GP.fitTheta(X, y, cat, opts), opts.deterministic)
end

function GP.model(X, y, cat, theta, fixedNoise)
  local d, n = #cat, #X
  local self = setmetatable({X = X, cat = cat, d = d, n = n, theta = theta}, Model)
  self.rho = {}
  for k = 1, d do self.rho[k] = math.exp(theta[k]) end
  self.s = math.exp(theta[d + 1])
  self.noise = MIN_NOISE + (fixedNoise and 0 or math.exp(theta[d + 2]))
  local K = {}
  for i = 1, n do
    for j = 1, n do
      K[(i - 1) * n + j] = i == j and self.s + self.noise or self.s * matern(self:r2(X[i], X[j]))
    end
  end
  local L = linalg.cholesky(K, n)
  local jitter = 1e-8
  while not L do -- only reached for a degenerate fallback: add jitter until positive definite
    for i = 1, n do K[(i - 1) * n + i] = K[(i - 1) * n + i] + jitter end
    jitter = jitter * 10
    L = linalg.cholesky(K, n)
  end
  self.L, self.alpha = L, linalg.cholSolve(L, n, y)
  return self
end

function Model:r2(a, b)
  local r2 = 0
  for k = 1, self.d do r2 = r2 + self.rho[k] * sqdiff(a[k], b[k], self.cat[k]) end
  return r2
end

-- posterior mean and variance of the latent function at x; with wantGrad also their gradients in x
function Model:predict(x, wantGrad)
  local n, X = self.n, self.X
  local ks, gs = {}, {}
  for i = 1, n do
    local m, g = matern(self:r2(x, X[i]))
    ks[i], gs[i] = self.s * m, self.s * g
  end
  local mean = linalg.dot(ks, self.alpha, n)
  local v = linalg.solveLower(self.L, n, ks)
  local var = math.max(self.s - linalg.dot(v, v, n), 1e-12)
  if not wantGrad then return mean, var end
  local kinv = linalg.solveUpper(self.L, n, v)
  local dm, dv = {}, {}
  for k = 1, self.d do
    local am, av = 0, 0
    if not self.cat[k] then
      local xk = x[k]
      for i = 1, n do
        local dk = gs[i] * 2 * self.rho[k] * (xk - X[i][k])
        am = am + self.alpha[i] * dk
        av = av + kinv[i] * dk
      end
    end
    dm[k], dv[k] = am, -2 * av
  end
  return mean, var, dm, dv
end

-- log EI (minimisation, incumbent best) at x and its gradient
function Model:logEI(x, best, wantGrad)
  local mean, var, dm, dv = self:predict(x, wantGrad)
  local sd = math.sqrt(var)
  local z = (best - mean) / sd
  local v = math.log(sd) + stats.logEI(z)
  if not wantGrad then return v end
  local h = stats.logEIGrad(z)
  local g = {}
  for k = 1, self.d do
    local dsd = dv[k] / (2 * sd)
    g[k] = -h / sd * dm[k] + (1 / sd - h * z / sd) * dsd
  end
  return v, g
end

-- ---------------------------------------------------------------- the sampler

function GP:sampleIndependent(_, trial, name, dist)
  common.checkDist(dist, name)
  return common.uniformDraw(common.rng(self.seed, 'gp', trial.number, name), dist)
end

local function checkSingle(study)
  if #common.directions(study) ~= 1 then
    error('tune.sampler.gp: single-objective studies only (this study has ' .. #common.directions(study) .. ' directions); use tune.sampler.tpe', 3)
  end
end

function GP:inferRelativeSpace(study)
  checkSingle(study)
  local trials = common.completed(study)
  if common.countComplete(trials) < math.max(self.nStartup, 1) then return {} end
  return common.intersectionSpace(trials)
end

-- the unit-cube coordinate of a value and back
local function encode(dist, value)
  if dist.kind == 'categorical' then return common.toInternal(dist, value) end
  local lo, hi = common.unitBounds(dist)
  return (common.toInternal(dist, value) - lo) / (hi - lo)
end

local function decode(dist, u)
  if dist.kind == 'categorical' then return dist.choices[u] end
  local lo, hi = common.unitBounds(dist)
  return common.fromInternal(dist, lo + u * (hi - lo))
end

-- snaps numeric coordinates to what their parameters can take (grid points / integers)
local function snapPoint(space, names, u)
  local out = {}
  for k, name in ipairs(names) do
    local dist = space[name]
    out[k] = dist.kind == 'categorical' and u[k] or encode(dist, decode(dist, u[k]))
  end
  return out
end

-- losses standardised to mean 0, sd 1 (population sd; 1 when constant), and the smallest standardised loss
local function standardise(losses, n)
  local mean, var = 0, 0
  for i = 1, n do mean = mean + losses[i] end
  mean = mean / n
  for i = 1, n do var = var + (losses[i] - mean) ^ 2 end
  local sd = math.sqrt(var / n)
  if not (sd > 0) then sd = 1 end
  local y, best = {}, math.huge
  for i = 1, n do y[i] = (losses[i] - mean) / sd; best = math.min(best, y[i]) end
  return y, best
end

-- the kernel parameters for the first n points, warm-started along a chain that is a function of the history
-- alone: theta_k (the fit on the first k points by trial number, k >= k0) starts from theta_(k-1), theta_k0 from
-- the default. A sequential study extends the cached chain by one fit per trial; after a resume (or when
-- trials completed out of order) the chain is recomputed from the first point where it differs, so a resumed
-- study proposes what an uninterrupted one would.
function GP:chainTheta(X, losses, numbers, cat, names)
  local n = #X
  local k0 = math.max(1, math.min(self.nStartup, n))
  local sig = table.concat(names, '\0') .. '\0' .. k0
  local chain = self.chain
  if not chain or chain.sig ~= sig then chain = {sig = sig, points = {}, theta = {}}; self.chain = chain end
  local function same(k) -- the k-th point (trial number, loss, coordinates) is the cached one
    local c = chain.points[k]
    if not c or c.number ~= numbers[k] or c.loss ~= losses[k] then return false end
    for i = 1, #cat do if c.x[i] ~= X[k][i] then return false end end
    return true
  end
  local j = 0 -- the cached prefix still valid
  while j < n and same(j + 1) do j = j + 1 end
  for k = j + 1, #chain.points do chain.points[k], chain.theta[k] = nil, nil end
  for k = j + 1, n do chain.points[k] = {number = numbers[k], loss = losses[k], x = X[k]} end
  local R = self.coldStartEvery
  local anchor = k0 + (n - k0) // R * R -- the last cold start at or before n
  local from = math.max(j + 1, k0, anchor)
  if from > anchor and not chain.theta[from - 1] then from = anchor end
  for k = from, n do
    local Xk = {table.unpack(X, 1, k)}
    local yk = standardise(losses, k)
    chain.theta[k] = GP.fitTheta(Xk, yk, cat, {deterministic = self.deterministic, starts = self.fitStarts,
      start = (k - k0) % R ~= 0 and chain.theta[k - 1] or nil, rng = common.rng(self.seed, 'gp-fit', k)})
  end
  self.fits = (self.fits or 0) + math.max(0, n - from + 1)
  return chain.theta[n]
end

-- the incumbent of log EI and its point: the best standardised loss (deterministic), else the smallest
-- posterior mean at an observed point
function GP.incumbent(model, X, y, deterministic)
  local best, point = math.huge, nil
  for i = 1, #X do
    local v = deterministic and y[i] or model:predict(X[i])
    if v < best then best, point = v, X[i] end
  end
  return best, point
end

function GP:sampleRelative(study, trial, space)
  checkSingle(study)
  local names = common.sortedNames(space or {})
  if #names == 0 then return {} end
  local cat = {}
  for k, name in ipairs(names) do cat[k] = space[name].kind == 'categorical' end
  local X, losses, numbers = {}, {}, {}
  for _, t in ipairs(common.completed(study)) do
    if t.state == 'complete' then
      local ok, x = true, {}
      for k, name in ipairs(names) do
        local v = t.params[name]
        x[k] = v ~= nil and encode(space[name], v) or nil
        if x[k] == nil then ok = false; break end
      end
      local loss = common.losses(study, t)[1]
      if ok and loss == loss and math.abs(loss) < math.huge then X[#X + 1] = x; losses[#losses + 1] = loss; numbers[#numbers + 1] = t.number end
    end
  end
  local rng = common.rng(self.seed, 'gp-relative', trial.number)
  if #X == 0 then return {} end
  local n = #X
  local y = standardise(losses, n)
  local model = GP.model(X, y, cat, self:chainTheta(X, losses, numbers, cat, names), self.deterministic)
  local best, incumbent = GP.incumbent(model, X, y, self.deterministic)
  local u = self:maximizeAcquisition(model, space, names, cat, best, rng, incumbent)
  local out = {}
  for k, name in ipairs(names) do out[name] = decode(space[name], u[k]) end
  return out
end

function GP:maximizeAcquisition(model, space, names, cat, best, rng, incumbent)
  local d = #names
  local shift = {}
  for j = 1, sobol.maxDim do shift[j] = rng:next64() & 0xFFFFFFFF end
  local cands = {}
  for i = 1, self.nCandidates do
    local p = d <= sobol.maxDim and sobol.point(i, d, shift) or {}
    local u = {}
    for k = 1, d do
      local r = p[k] or rng:uniform()
      u[k] = cat[k] and math.min(math.floor(r * #space[names[k]].choices) + 1, #space[names[k]].choices) or r
    end
    u = snapPoint(space, names, u)
    cands[i] = {u = u, v = model:logEI(u, best)}
  end
  table.sort(cands, function(a, b) return a.v > b.v end)
  local lo, hi = {}, {}
  for k = 1, d do
    if cat[k] then lo[k], hi[k] = -math.huge, math.huge else lo[k], hi[k] = 0, 1 end
  end
  local bestU, bestV = cands[1].u, cands[1].v
  local starts = {}
  if incumbent then starts[1] = {table.unpack(incumbent)} end
  for s = 1, math.min(self.nLocalSearch, #cands) do starts[#starts + 1] = cands[s].u end
  for _, u0 in ipairs(starts) do
    local fixed = {}
    for k = 1, d do fixed[k] = u0[k] end
    local function fg(u)
      for k = 1, d do if cat[k] then u[k] = fixed[k] end end
      local v, g = model:logEI(u, best, true)
      for k = 1, d do g[k] = cat[k] and 0 or -g[k] end
      return -v, g
    end
    local u = optimize.minimize(fg, u0, {lower = lo, upper = hi, maxIter = 40})
    for k = 1, d do if cat[k] then u[k] = fixed[k] end end
    u = snapPoint(space, names, u)
    local v = model:logEI(u, best)
    -- categorical coordinates: try every choice in turn
    for k = 1, d do
      if cat[k] then
        for c = 1, #space[names[k]].choices do
          local old = u[k]
          u[k] = c
          local vc = model:logEI(u, best)
          if vc > v then v = vc else u[k] = old end
        end
      end
    end
    if v > bestV then bestU, bestV = u, v end
  end
  return bestU
end

return new
