-- llm.tune.samplers.random: tune.sampler.random{seed = 0, sobol = false, scramble = true}
-- Independent uniform draws (log-uniform on log distributions, every grid point / integer / choice equally
-- likely), from a local generator seeded by (seed, trial number, parameter name): the same seed gives the same
-- study, in any parameter order, after a resume too.
-- sobol = true: quasi-random. Once a trial has completed, its parameters (the intersection of the completed
-- trials' spaces, names sorted) are drawn jointly as point `trial.number` of the Sobol sequence (llm.tune.
-- samplers.sobol, Joe-Kuo directions, 21 dimensions; parameters past the 21st are drawn uniformly);
-- scramble = true applies a digital shift drawn from the seed (scramble = false: the plain sequence, trial 0 is
-- the lower corner). Parameters outside that space (e.g. in the first trial) are drawn uniformly.
local common = require 'llm.tune.samplers.common'
local sobol = require 'llm.tune.samplers.sobol'

local Random = {}
Random.__index = Random

local KNOWN = {seed = true, sobol = true, scramble = true}

local function new(opts)
  opts = opts or {}
  if type(opts) ~= 'table' then error('tune.sampler.random: expected an options table', 2) end
  for k in pairs(opts) do if not KNOWN[k] then error("tune.sampler.random: unknown option '" .. tostring(k) .. "'", 2) end end
  local self = setmetatable({seed = opts.seed or 0, sobol = opts.sobol or false, scramble = opts.scramble ~= false}, Random)
  if self.sobol and self.scramble then
    local r = common.rng(self.seed, 'sobol-shift')
    self.shift = {}
    for j = 1, sobol.maxDim do self.shift[j] = r:next64() & 0xFFFFFFFF end
  end
  return self
end

function Random:sampleIndependent(_, trial, name, dist)
  common.checkDist(dist, name)
  return common.uniformDraw(common.rng(self.seed, 'random', trial.number, name), dist)
end

function Random:inferRelativeSpace(study)
  if not self.sobol then return {} end
  return common.intersectionSpace(common.completed(study))
end

function Random:sampleRelative(_, trial, space)
  local names = common.sortedNames(space or {})
  if #names == 0 then return {} end
  local u = sobol.point(trial.number, math.min(#names, sobol.maxDim), self.shift)
  local out, rng = {}, common.rng(self.seed, 'sobol-extra', trial.number)
  for j, name in ipairs(names) do
    local dist = space[name]
    local lo, hi = common.unitBounds(dist)
    local x = lo + (hi - lo) * (u[j] or rng:uniform())
    out[name] = common.fromInternal(dist, x)
  end
  return out
end

return new
