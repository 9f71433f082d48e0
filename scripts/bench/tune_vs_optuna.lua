-- scripts/bench/tune_vs_optuna.lua: llmscript's side of the tuning-sampler benchmark (scripts/bench/tune_vs_optuna.sh).
-- Runs tune.sampler.tpe / gp / random (defaults, seeded) on Branin (2-D), Hartmann-6 and a noisy 4-D sphere
-- (the definitions and noise stream of scripts/bench/tune_vs_optuna.py) through the in-memory study of
-- scripts/bench/tune_study_stub.lua and prints one JSON line per (function, sampler, seed): the simple regret
-- (true value of the best observed trial minus the optimum) at each checkpoint, and the sampler's overhead per
-- trial (loop time minus objective time, CPU seconds of this process from os.clock, and wall from llm.time when
-- present).
-- Usage: llmscript scripts/bench/tune_vs_optuna.lua SAMPLER FUNC [SEEDS=20] [TRIALS=100] [FIRST_SEED=1]
local samplers = require 'llm.tune.samplers'
local here = debug.getinfo(1, 'S').source:match('^@(.*/)') or './'
local stub = dofile(here .. 'tune_study_stub.lua')
local splitmix = require('llm.tune.samplers.common').splitmix

local samplerName, funcName = arg[1], arg[2]
local nSeeds, nTrials, firstSeed = tonumber(arg[3] or 20), tonumber(arg[4] or 100), tonumber(arg[5] or 1)

local function noise(seed, number)
  local _, a = splitmix(seed * 1000003 + number)
  local _, b = splitmix(a)
  local u1 = ((a >> 11) + 1) * 2.0 ^ -53
  local u2 = (b >> 11) * 2.0 ^ -53
  return math.sqrt(-2 * math.log(u1)) * math.cos(2 * math.pi * u2)
end

local function branin(x)
  local b, c, t = 5.1 / (4 * math.pi ^ 2), 5 / math.pi, 1 / (8 * math.pi)
  return (x[2] - b * x[1] ^ 2 + c * x[1] - 6) ^ 2 + 10 * (1 - t) * math.cos(x[1]) + 10
end

local H6A = {{10, 3, 17, 3.5, 1.7, 8}, {0.05, 10, 17, 0.1, 8, 14}, {3, 3.5, 1.7, 10, 17, 8}, {17, 8, 0.05, 10, 0.1, 14}}
local H6P = {{1312, 1696, 5569, 124, 8283, 5886}, {2329, 4135, 8307, 3736, 1004, 9991},
  {2348, 1451, 3522, 2883, 3047, 6650}, {4047, 8828, 8732, 5743, 1091, 381}}
local H6ALPHA = {1.0, 1.2, 3.0, 3.2}

local function hartmann6(x)
  local total = 0
  for i = 1, 4 do
    local inner = 0
    for j = 1, 6 do inner = inner + H6A[i][j] * (x[j] - H6P[i][j] * 1e-4) ^ 2 end
    total = total - H6ALPHA[i] * math.exp(-inner)
  end
  return total
end

local SPHERE_C = {1.0, -2.0, 0.5, 3.0}
local function sphere4(x)
  local s = 0
  for i = 1, 4 do s = s + (x[i] - SPHERE_C[i]) ^ 2 end
  return s
end

local FUNCS = {
  branin = {f = branin, bounds = {{-5, 10}, {0, 15}}, fmin = 0.39788735772973816, sd = 0},
  hartmann6 = {f = hartmann6, bounds = {{0, 1}, {0, 1}, {0, 1}, {0, 1}, {0, 1}, {0, 1}}, fmin = -3.3223680114155147, sd = 0},
  noisy = {f = sphere4, bounds = {{-5, 5}, {-5, 5}, {-5, 5}, {-5, 5}}, fmin = 0, sd = 0.5},
}

local spec = FUNCS[funcName]
if not spec or not samplers[samplerName] then
  io.stderr:write('usage: llmscript tune_vs_optuna.lua tpe|gp|random branin|hartmann6|noisy [seeds] [trials] [first seed]\n')
  os.exit(2)
end

local space, names = {}, {}
for i, b in ipairs(spec.bounds) do
  local name = string.format('x%d', i - 1)
  space[name] = {kind = 'float', low = b[1], high = b[2], log = false}
  names[i] = name
end
local checkpoints = {}
for _, c in ipairs{20, 50, 100} do if c <= nTrials then checkpoints[c] = true end end
checkpoints[nTrials] = true

local wall = rawget(_G, 'llm') and llm.time or nil

for seed = firstSeed, firstSeed + nSeeds - 1 do
  local sampler = samplerName == 'gp' and samplers.gp{seed = seed, deterministic = spec.sd == 0} or samplers[samplerName]{seed = seed}
  local study = stub.study{directions = {'minimize'}}
  local truth, objCpu = {}, 0
  local function objective(params, trial)
    local c0 = os.clock()
    local x = {}
    for i, name in ipairs(names) do x[i] = params[name] end
    local v = spec.f(x)
    truth[trial.number] = v
    if spec.sd > 0 then v = v + spec.sd * noise(seed, trial.number) end
    objCpu = objCpu + os.clock() - c0
    return v
  end
  local c0, w0 = os.clock(), wall and wall()
  stub.optimize(study, sampler, space, objective, nTrials)
  local cpu, w = os.clock() - c0, wall and wall() - w0
  local parts, bestObs, bestTrue = {}, math.huge, math.huge
  for _, t in ipairs(study:trials()) do
    if t.values[1] < bestObs then bestObs, bestTrue = t.values[1], truth[t.number] end
    if checkpoints[t.number + 1] then parts[#parts + 1] = string.format('"%d": %.17g', t.number + 1, bestTrue - spec.fmin) end
  end
  print(string.format('{"impl": "llmscript", "sampler": "%s", "func": "%s", "seed": %d, "regret": {%s}, "overhead_cpu_ms": %.6g%s}',
    samplerName, funcName, seed, table.concat(parts, ', '), 1000 * (cpu - objCpu) / nTrials,
    w and string.format(', "overhead_ms": %.6g', 1000 * (w - objCpu) / nTrials) or ''))
  io.stdout:flush()
end
