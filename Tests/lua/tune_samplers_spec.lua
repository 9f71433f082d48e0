-- tune_samplers_spec.lua: the samplers of the `tune` namespace (stdlib-lua/llm/tune/samplers, linalg.lua):
-- the numerics against closed forms (Cholesky, solves, inverse, log-det; erfc / Phi / Phi^-1 / log Phi / log EI;
-- Matern 5/2; the GP's marginal-likelihood gradient against finite differences; the posterior of one point),
-- Sobol points against the published sequence (scipy.stats.qmc.Sobol, Joe-Kuo directions) and their
-- stratification, grid enumeration, every sampler's bounds / log / step / int / categorical handling and
-- seeded reproducibility, TPE and GP beating random search on a 2-D quadratic (fixed seeds, no timing),
-- the GP's warm-started kernel-fit chain (one fit per trial; a resumed SQLite study proposes what an uninterrupted
-- one does, with and without cold starts; a reused sampler is unaffected), its noise-aware log-EI incumbent, and
-- the errors for bad options and multi-objective GP. Studies are in-memory tune.study objects; the benchmark's
-- stand-in study (scripts/bench/tune_study_stub.lua) is checked to drive every sampler to the same proposals.
-- Run: llmscript test Tests/lua/tune_samplers_spec.lua
local h = dofile(debug.getinfo(1, 'S').source:match('^@(.*/)') .. 'helpers.lua')
local root = debug.getinfo(1, 'S').source:match('^@(.*/)') .. '../../'
local stub = dofile(root .. 'scripts/bench/tune_study_stub.lua')
local samplers = require 'llm.tune.samplers'
local linalg = require 'llm.tune.linalg'
local stats = require 'llm.tune.samplers.stats'
local sobol = require 'llm.tune.samplers.sobol'
local common = require 'llm.tune.samplers.common'

local function close(a, b, tol)
  tol = tol or 1e-12
  assert(math.abs(a - b) <= tol * math.max(1, math.abs(b)), string.format('got %.17g, expected %.17g', a, b))
end

-- runs n trials of objective(params) over the declarative space with sampler in an in-memory tune.study
local function run(sampler, space, objective, n, directions)
  local study = tune.study{sampler = sampler, directions = directions}
  study:optimize(function(_, params) return objective(params) end, {trials = n, space = space, quiet = true})
  return study
end

local function paramsOf(study)
  local out = {}
  for _, t in ipairs(study:trials()) do out[#out + 1] = t.params end
  return out
end

local MIXED = {
  lr = {kind = 'float', low = 1e-5, high = 1e-1, log = true},
  q = {kind = 'float', low = 0, high = 1, step = 0.25},
  layers = {kind = 'int', low = 1, high = 6, step = 1},
  width = {kind = 'int', low = 16, high = 512, log = true},
  even = {kind = 'int', low = 2, high = 10, step = 2},
  act = {kind = 'categorical', choices = {'relu', 'gelu', 'tanh'}},
  x = {kind = 'float', low = -2, high = 3},
}

local function mixedObjective(p)
  return (math.log(p.lr, 10) + 3) ^ 2 + (p.q - 0.5) ^ 2 + (p.layers - 4) ^ 2 / 10 + (p.act == 'gelu' and 0 or 1)
    + math.abs(math.log(p.width / 128)) + (p.even - 6) ^ 2 / 20 + (p.x - 1) ^ 2
end

local function checkMixed(p)
  assert(p.lr >= 1e-5 and p.lr <= 1e-1)
  assert(p.q == 0 or p.q == 0.25 or p.q == 0.5 or p.q == 0.75 or p.q == 1, tostring(p.q))
  assert.are.equal('integer', math.type(p.layers)); assert(p.layers >= 1 and p.layers <= 6)
  assert.are.equal('integer', math.type(p.width)); assert(p.width >= 16 and p.width <= 512)
  assert.are.equal('integer', math.type(p.even)); assert(p.even >= 2 and p.even <= 10 and p.even % 2 == 0)
  assert(p.act == 'relu' or p.act == 'gelu' or p.act == 'tanh')
  assert(p.x >= -2 and p.x <= 3)
end

local function quadratic(p) return (p.x - 0.3) ^ 2 + (p.y + 0.2) ^ 2 end
local QSPACE = {x = {kind = 'float', low = -1, high = 1}, y = {kind = 'float', low = -1, high = 1}}

local function bestValue(study)
  local best = math.huge
  for _, t in ipairs(study:trials()) do best = math.min(best, t.values[1]) end
  return best
end

describe('tune linalg', function()
  local A = {4, 12, -16, 12, 37, -43, -16, -43, 98}
  it('Cholesky, solves, inverse and log-det match the closed forms', function()
    local L = linalg.cholesky(A, 3)
    local want = {2, 0, 0, 6, 1, 0, -8, 5, 3}
    for i = 1, 9 do close(L[i], want[i]) end
    close(linalg.logDet(L, 3), math.log(36))
    local x = linalg.cholSolve(L, 3, {1, 2, 3}) -- A x = b
    for i = 1, 3 do close(A[(i - 1) * 3 + 1] * x[1] + A[(i - 1) * 3 + 2] * x[2] + A[(i - 1) * 3 + 3] * x[3], i, 1e-10) end
    local Ai = linalg.cholInverse(L, 3)
    for i = 1, 3 do
      for j = 1, 3 do
        local s = 0
        for k = 1, 3 do s = s + A[(i - 1) * 3 + k] * Ai[(k - 1) * 3 + j] end
        close(s, i == j and 1 or 0, 1e-10)
      end
    end
  end)
  it('returns nil for a matrix that is not positive definite', function()
    assert.is_nil(linalg.cholesky({1, 2, 2, 1}, 2))
  end)
end)

describe('tune normal numerics', function()
  it('match scipy.special / mpmath', function()
    close(stats.ndtr(0), 0.5)
    close(stats.ndtr(1.96), 0.9750021048517795, 1e-14)
    close(stats.erfc(0.5), 0.4795001221869535, 1e-14)
    close(stats.erfc(4), 1.541725790028002e-08, 1e-12)
    close(stats.erfc(-2.5), 1.999593047982555, 1e-14)
    close(stats.erfcx(10), 0.05614099274382259, 1e-13)
    close(stats.ndtri(0.975), 1.959963984540054, 1e-12)
    close(stats.ndtri(1e-10), -6.361340902404056, 1e-10)
    close(stats.logNdtr(-40), -804.6084420137539, 1e-12)
    close(stats.logNdtr(-6), -20.73676894997471, 1e-12)
  end)
  it('log EI equals log(z Phi(z) + phi(z)) and its derivative Phi / (z Phi + phi)', function()
    local want = {[0] = -0.91893853320467274, [2] = 0.69738354578822831, [-5] = -16.74430116266099,
      [-30] = -457.724653760598, [-100] = -5010.1295788002498}
    for z, v in pairs(want) do close(stats.logEI(z), v, 1e-10) end
    for _, z in ipairs{1.5, -3, -40} do
      close(stats.logEIGrad(z), (stats.logEI(z + 1e-6) - stats.logEI(z - 1e-6)) / 2e-6, 1e-5)
    end
  end)
  it('truncated normal draws stay inside their bounds, also far in the tail', function()
    for _, c in ipairs{{0, 1, -1, 1}, {0, 0.01, 0.5, 1}, {0, 0.01, -1, -0.5}, {5, 2, -1, 0}} do
      for _, u in ipairs{0, 0.001, 0.5, 0.999} do
        local x = stats.truncnormSample(u, c[1], c[2], c[3], c[4])
        assert(x >= c[3] and x <= c[4], string.format('%g outside [%g, %g]', x, c[3], c[4]))
      end
    end
  end)
end)

describe('tune GP numerics', function()
  local GP = getmetatable(samplers.gp{})
  it('Matern 5/2 matches its closed form and derivative', function()
    local m, g = GP.matern(0)
    close(m, 1); close(g, -5 / 6)
    m, g = GP.matern(1)
    close(m, (1 + math.sqrt(5) + 5 / 3) * math.exp(-math.sqrt(5)))
    local mp = GP.matern(1 + 1e-6); local mm = GP.matern(1 - 1e-6)
    close(g, (mp - mm) / 2e-6, 1e-6)
  end)
  it('the marginal-likelihood gradient matches finite differences', function()
    local r = common.rng(7)
    local X, y, D = {}, {}, {{}, {}, {}}
    for i = 1, 8 do X[i] = {r:uniform(), r:uniform(), r:int(3)}; y[i] = r:normal() end
    local cat = {false, false, true}
    for k = 1, 3 do
      local c = 0
      for i = 1, 8 do for j = i + 1, 8 do c = c + 1; D[k][c] = cat[k] and (X[i][k] == X[j][k] and 0 or 1) or (X[i][k] - X[j][k]) ^ 2 end end
    end
    local theta = {0.3, -0.5, 0.1, 0.2, math.log(0.05)}
    local _, g = GP.negLogPost(theta, X, y, D, 3, false)
    for k = 1, #theta do
      local tp, tm = {table.unpack(theta)}, {table.unpack(theta)}
      tp[k] = tp[k] + 1e-6; tm[k] = tm[k] - 1e-6
      close(g[k], (GP.negLogPost(tp, X, y, D, 3, false) - GP.negLogPost(tm, X, y, D, 3, false)) / 2e-6, 1e-5)
    end
  end)
  it('the posterior of one observation and its log EI match the closed forms', function()
    local theta = {0, 0, math.log(2), math.log(0.1)} -- rho = 1, s = 2, noise = 0.1 + 1e-6
    local model = GP.model({{0.2, 0.4}}, {1.5}, {false, false}, theta, false)
    local noise = 0.1 + 1e-6
    local x = {0.5, 0.0}
    local k = 2 * GP.matern(0.3 ^ 2 + 0.4 ^ 2)
    local mean, var = model:predict(x)
    close(mean, k * 1.5 / (2 + noise), 1e-12)
    close(var, 2 - k * k / (2 + noise), 1e-12)
    local z = (0.5 - mean) / math.sqrt(var)
    local ei = math.sqrt(var) * (z * stats.ndtr(z) + math.exp(stats.logNormPdf(z)))
    local v, grad = model:logEI(x, 0.5, true)
    close(v, math.log(ei), 1e-12)
    for j = 1, 2 do
      local xp, xm = {x[1], x[2]}, {x[1], x[2]}
      xp[j] = xp[j] + 1e-6; xm[j] = xm[j] - 1e-6
      close(grad[j], (model:logEI(xp, 0.5) - model:logEI(xm, 0.5)) / 2e-6, 1e-5)
    end
  end)
end)

describe('tune Sobol sequence', function()
  it('its first points are the published ones (Joe-Kuo directions, Gray-code order)', function()
    local want = {{0, 0, 0}, {0.5, 0.5, 0.5}, {0.75, 0.25, 0.25}, {0.25, 0.75, 0.75}, {0.375, 0.375, 0.625},
      {0.875, 0.875, 0.125}, {0.625, 0.125, 0.875}, {0.125, 0.625, 0.375}}
    for i, w in ipairs(want) do assert.are.same(w, sobol.point(i - 1, 3)) end
    -- dimensions 16..21 of points 5, 11 and 15 (scipy.stats.qmc.Sobol(d=21, scramble=False))
    local tail = {[5] = {0.375, 0.875, 0.375, 0.375, 0.625, 0.625}, [11] = {0.1875, 0.5625, 0.0625, 0.6875, 0.5625, 0.9375},
      [15] = {0.8125, 0.9375, 0.9375, 0.3125, 0.6875, 0.8125}}
    for i, w in pairs(tail) do
      local p = sobol.point(i, 21)
      assert.are.same(w, {table.unpack(p, 16, 21)})
    end
    h.fails(function() sobol.point(0, 22) end, 'at most 21 dimensions')
  end)
  it('is low-discrepancy: 16 points put exactly one in each sixteenth of every axis, also scrambled', function()
    local shift = {}
    local r = common.rng(3)
    for j = 1, 21 do shift[j] = r:next64() & 0xFFFFFFFF end
    for _, sh in ipairs{false, true} do
      for d = 1, 21 do
        local seen = {}
        for i = 0, 15 do
          local u = sobol.point(i, 21, sh and shift or nil)[d]
          local cell = math.floor(u * 16)
          assert.is_nil(seen[cell], 'dimension ' .. d)
          seen[cell] = true
        end
      end
    end
  end)
  it('drives tune.sampler.random{sobol = true} once the space is known', function()
    local space = {a = {kind = 'float', low = 0, high = 1}, b = {kind = 'float', low = 0, high = 1}}
    local study = run(samplers.random{sobol = true, scramble = false}, space, function(p) return p.a end, 8)
    local ps = paramsOf(study)
    for i = 2, 8 do assert.are.same(sobol.point(i - 1, 2), {ps[i].a, ps[i].b}) end
    -- scrambled (the default): a digital shift drawn from the seed, reproducible, different per seed
    local function sob(seed) return paramsOf(run(samplers.random{sobol = true, seed = seed}, space, function(p) return p.a end, 6)) end
    assert.are.same(sob(3), sob(3))
    assert.are_not.same(sob(3), sob(4))
  end)
end)

describe('tune.sampler.grid', function()
  it('enumerates the product exactly once in any `size` consecutive trials', function()
    local g = samplers.grid{a = {1, 2, 3}, b = {kind = 'int', low = 0, high = 1}, c = {kind = 'categorical', choices = {'x', 'y'}},
      d = {kind = 'float', low = 0, high = 0.5, step = 0.25}}
    assert.are.equal(36, g.size)
    local space = {a = {kind = 'categorical', choices = {1, 2, 3}}, b = {kind = 'int', low = 0, high = 1},
      c = {kind = 'categorical', choices = {'x', 'y'}}, d = {kind = 'float', low = 0, high = 0.5, step = 0.25}}
    local study = run(g, space, function() return 0 end, 37)
    local seen, ps = {}, paramsOf(study)
    for i = 1, 36 do
      local key = string.format('%s|%s|%s|%s', ps[i].a, ps[i].b, ps[i].c, ps[i].d)
      assert.is_nil(seen[key], key)
      seen[key] = true
    end
    assert.are.same(ps[1], ps[37])
    assert.are.same({a = 1, b = 0, c = 'x', d = 0.0}, ps[1])
    assert.are.same({a = 1, b = 0, c = 'x', d = 0.25}, ps[2])
    assert.are.equal(36, #g:points())
  end)
  it('refuses continuous parameters, empty grids and unknown names', function()
    h.fails(function() samplers.grid{x = {kind = 'float', low = 0, high = 1}} end, "'x' is continuous")
    h.fails(function() samplers.grid{} end, 'non-empty')
    h.fails(function() samplers.grid{x = {}} end, "'x' has no values")
    local g = samplers.grid{x = {1, 2}}
    h.fails(function() g:sampleIndependent(nil, {number = 0}, 'y', {kind = 'float', low = 0, high = 1}) end, "'y' is not in the grid")
  end)
end)

describe('tune.sampler.random', function()
  it('respects bounds, log, step, int and categorical, and is reproducible from its seed', function()
    local a = run(samplers.random{seed = 5}, MIXED, mixedObjective, 200)
    local b = run(samplers.random{seed = 5}, MIXED, mixedObjective, 200)
    local c = run(samplers.random{seed = 6}, MIXED, mixedObjective, 200)
    assert.are.same(paramsOf(a), paramsOf(b))
    assert.are_not.same(paramsOf(a), paramsOf(c))
    local logs, acts = {}, {}
    for _, p in ipairs(paramsOf(a)) do
      checkMixed(p)
      logs[#logs + 1] = math.log(p.lr, 10)
      acts[p.act] = (acts[p.act] or 0) + 1
    end
    table.sort(logs)
    assert(math.abs(logs[100] + 3) < 0.5, 'log-uniform median near 1e-3, got 1e' .. logs[100])
    for _, k in ipairs{'relu', 'gelu', 'tanh'} do assert(acts[k] > 40, k) end
  end)
  it('rejects unknown options and bad distributions', function()
    h.fails(function() samplers.random{sed = 1} end, "unknown option 'sed'")
    h.fails(function() samplers.random{}:sampleIndependent(nil, {number = 0}, 'x', {kind = 'float', low = 2, high = 1}) end, "'x'", 'low <= high')
    h.fails(function() samplers.random{}:sampleIndependent(nil, {number = 0}, 'x', {kind = 'beta'}) end, "unknown distribution kind 'beta'")
  end)
end)

describe('tune.sampler.tpe', function()
  it('respects the space on mixed parameters and is reproducible (independent and multivariate)', function()
    for _, mv in ipairs{false, true} do
      local a = run(samplers.tpe{seed = 3, multivariate = mv}, MIXED, mixedObjective, 40)
      local b = run(samplers.tpe{seed = 3, multivariate = mv}, MIXED, mixedObjective, 40)
      assert.are.same(paramsOf(a), paramsOf(b))
      for _, p in ipairs(paramsOf(a)) do checkMixed(p) end
      -- the good categorical choice dominates the last trials
      local gelu = 0
      for i = 31, 40 do if paramsOf(a)[i].act == 'gelu' then gelu = gelu + 1 end end
      assert(gelu >= 5, 'gelu chosen ' .. gelu .. ' times in the last 10 trials')
    end
  end)
  it('beats random search on a 2-D quadratic (3 seeds, 40 trials)', function()
    for _, mv in ipairs{false, true} do
      local wins = 0
      for seed = 1, 3 do
        local t = bestValue(run(samplers.tpe{seed = seed, multivariate = mv}, QSPACE, quadratic, 40))
        local r = bestValue(run(samplers.random{seed = seed}, QSPACE, quadratic, 40))
        if t < r then wins = wins + 1 end
      end
      assert(wins >= 2, 'TPE won ' .. wins .. ' of 3')
    end
  end)
  it('handles several objectives and maximisation', function()
    local study = run(samplers.tpe{seed = 1}, QSPACE, function(p) return {p.x ^ 2, (p.x - 1) ^ 2 + p.y ^ 2} end, 25, {'minimize', 'minimize'})
    for _, p in ipairs(paramsOf(study)) do assert(p.x >= -1 and p.x <= 1 and p.y >= -1 and p.y <= 1) end
    local maxi = run(samplers.tpe{seed = 1}, QSPACE, function(p) return -quadratic(p) end, 40, {'maximize'})
    local mini = run(samplers.tpe{seed = 1}, QSPACE, quadratic, 40)
    assert.are.same(paramsOf(mini), paramsOf(maxi))
  end)
  it('rejects bad options', function()
    h.fails(function() samplers.tpe{nStartup = -1} end, 'nStartup')
    h.fails(function() samplers.tpe{gamma = 2} end, 'gamma')
    h.fails(function() samplers.tpe{nEICandidate = 3} end, "unknown option 'nEICandidate'")
  end)
end)

describe('tune.sampler.gp', function()
  it('beats random search on a 2-D quadratic (3 seeds, 25 trials) and is reproducible', function()
    local wins, first = 0, nil
    for seed = 1, 3 do
      local study = run(samplers.gp{seed = seed}, QSPACE, quadratic, 25)
      first = first or paramsOf(study)
      local g = bestValue(study)
      local r = bestValue(run(samplers.random{seed = seed}, QSPACE, quadratic, 25))
      if g < r then wins = wins + 1 end
      assert(g < 0.01, 'GP best ' .. g)
    end
    assert(wins >= 2, 'GP won ' .. wins .. ' of 3')
    assert.are.same(first, paramsOf(run(samplers.gp{seed = 1}, QSPACE, quadratic, 25)))
  end)
  it('warm-starts each kernel fit from the previous one, and a resumed study proposes what an uninterrupted one does', function()
    local function quad(p) return (p.x - 0.3) ^ 2 + 2 * (p.y + 0.2) ^ 2 end
    local objective = function(_, params) return quad(params) end
    -- coldStartEvery 20: one chain from trial 5; 4: cold starts at 5, 9, 13, 17 bound the recomputation
    for _, case in ipairs{{every = 20, resumedFits = 13}, {every = 4, resumedFits = 5}} do
      local opts = {seed = 3, nStartup = 5, nCandidates = 128, coldStartEvery = case.every}
      local whole = samplers.gp(opts)
      local expected = paramsOf(run(whole, QSPACE, quad, 18))
      assert.are.equal(13, whole.fits) -- one kernel fit per GP trial: the chain is extended, not recomputed
      local path = h.tmpdir('gp-resume') .. '/gp' .. case.every .. '.sqlite'
      local first = tune.study{name = 'gp', storage = path, sampler = samplers.gp(opts)}
      first:optimize(objective, {trials = 14, space = QSPACE, quiet = true})
      first:close()
      local fresh = samplers.gp(opts)
      local again = tune.study{name = 'gp', storage = path, sampler = fresh}
      again:optimize(objective, {trials = 4, space = QSPACE, quiet = true})
      local got = paramsOf(again)
      again:close()
      assert.are.same(expected, got)
      assert.are.equal(case.resumedFits, fresh.fits) -- the chain since the last cold start recomputed once, then extended
      if case.every == 20 then
        -- a sampler reused on another study does not warm-start from the first study's chain
        local function shifted(p) return quad(p) + p.x * p.y end
        assert.are.same(paramsOf(run(samplers.gp(opts), QSPACE, shifted, 8)), paramsOf(run(whole, QSPACE, shifted, 8)))
      end
    end
    h.fails(function() samplers.gp{coldStartEvery = 0} end, 'coldStartEvery')
  end)
  it('takes the smallest posterior mean as the log-EI incumbent for a noisy objective, the best loss for a deterministic one', function()
    local GP = getmetatable(samplers.gp{})
    local X, y = {}, {}
    for i = 0, 10 do X[#X + 1] = {i / 10}; y[#y + 1] = 4 * (i / 10 - 0.5) ^ 2 - 0.5 end
    y[10] = -1 -- x = 0.9: a lucky draw far below its neighbours
    local noisy = GP.model(X, y, {false}, {0, 0, math.log(0.3)}, false)
    local best, point = GP.incumbent(noisy, X, y, false)
    assert(point[1] ~= 0.9, 'the lucky point is the incumbent')
    close(best, (noisy:predict(point)))
    for _, x in ipairs(X) do assert(noisy:predict(x) >= best) end
    assert(best > -0.9, 'incumbent ' .. best)
    local exact = GP.model(X, y, {false}, {0, 0}, true)
    best, point = GP.incumbent(exact, X, y, true)
    assert.are.same({-1, 0.9}, {best, point[1]})
  end)
  it('respects the space on mixed parameters', function()
    local study = run(samplers.gp{seed = 2, nStartup = 5, nCandidates = 128}, MIXED, mixedObjective, 12)
    for _, p in ipairs(paramsOf(study)) do checkMixed(p) end
  end)
  it('refuses several objectives and bad options', function()
    h.fails(function() run(samplers.gp{nStartup = 1}, QSPACE, function(p) return {p.x, p.y} end, 3, {'minimize', 'minimize'}) end,
      'single-objective')
    h.fails(function() samplers.gp{nCandidates = 0} end, 'nCandidates')
    h.fails(function() samplers.gp{kernel = 'rbf'} end, "unknown option 'kernel'")
  end)
end)

describe('the benchmark stand-in study', function()
  it('drives every sampler to the same proposals as tune.study', function()
    local space = {x = {kind = 'float', low = -1, high = 1}, n = {kind = 'int', low = 1, high = 5}, c = {kind = 'categorical', choices = {'a', 'b'}}}
    local function f(p) return (p.x - 0.3) ^ 2 + p.n / 10 + (p.c == 'a' and 0 or 0.5) end
    for _, name in ipairs{'random', 'tpe', 'gp'} do
      local a = paramsOf(run(samplers[name]{seed = 4}, space, f, 13))
      local b = paramsOf(stub.optimize(stub.study{}, samplers[name]{seed = 4}, space, f, 13))
      assert.are.same(a, b, name)
    end
  end)
end)
