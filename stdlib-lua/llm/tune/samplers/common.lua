-- llm.tune.samplers.common: what every sampler shares.
--   rng(...) -> Rng        a local xoshiro256** generator seeded (through splitmix64) from any mix of integers,
--                          numbers and strings, e.g. rng(seed, trial.number, name): the samplers never touch the
--                          global llm / math RNG, so a study is reproducible from (seed, trial number, history).
--     Rng:uniform() in [0, 1), Rng:int(n) in 1..n, Rng:normal(), Rng:categorical(weights) -> index
--   numeric(dist) -> {low, high, step, log, isInt, dist}: the sampler-internal form of a float/int
--     distribution: values live on a log axis when log (then step is nil); low/high are the bounds on that
--     axis; step is the grid spacing on a linear axis (int: 1 unless given).
--   toInternal(dist, value) -> number   (categorical: the 1-based index of value in choices)
--   fromInternal(dist, x) -> value      rounds to the step / integer, clamps into the bounds, maps back
--   unitBounds(dist) -> lo, hi          internal interval that the unit cube maps onto (half a step wider on
--                                       each side for stepped values, so every grid point gets equal room)
--   checkDist(dist, name)               a clear error for something that is not a distribution
--   completed(study) -> trials          the finished trials (complete, then pruned) in trial-number order
--   directions(study) -> {'minimize'|'maximize', ...}
--   losses(study, trial) -> {number...} values turned into losses (negated where maximize)
--   intersectionSpace(trials) -> {name = dist}  parameters with the same distribution in every finished (complete or pruned) trial
--   sortedNames(space) -> {name...}
local M = {}

local MASK53 = 2.0 ^ -53

local function splitmix(x)
  x = x + 0x9E3779B97F4A7C15
  local z = x
  z = (z ~ (z >> 30)) * 0xBF58476D1CE4E5B9
  z = (z ~ (z >> 27)) * 0x94D049BB133111EB
  return x, z ~ (z >> 31)
end
M.splitmix = splitmix

local function mix(h, v)
  if math.type(v) == 'integer' then
    h = h ~ v
  elseif type(v) == 'number' then
    h = h ~ string.unpack('<i8', string.pack('<d', v))
  else
    v = tostring(v)
    for i = 1, #v do h = (h ~ v:byte(i)) * 0x100000001B3 end -- FNV-1a
  end
  local _, z = splitmix(h)
  return z
end

local Rng = {}
Rng.__index = Rng

function M.rng(...)
  local h = 0x6A09E667F3BCC909
  for i = 1, select('#', ...) do h = mix(h, (select(i, ...))) end
  local s, st = h, {}
  for i = 1, 4 do s, st[i] = splitmix(s) end
  return setmetatable({s = st}, Rng)
end

local function rotl(x, k) return (x << k) | (x >> (64 - k)) end

function Rng:next64()
  local s = self.s
  local result = rotl(s[2] * 5, 7) * 9
  local t = s[2] << 17
  s[3] = s[3] ~ s[1]; s[4] = s[4] ~ s[2]; s[2] = s[2] ~ s[3]; s[1] = s[1] ~ s[4]
  s[3] = s[3] ~ t; s[4] = rotl(s[4], 45)
  return result
end

function Rng:uniform() return (self:next64() >> 11) * MASK53 end

function Rng:int(n) return 1 + math.floor(self:uniform() * n) end

function Rng:normal()
  local u1 = 1 - self:uniform()
  return math.sqrt(-2 * math.log(u1)) * math.cos(2 * math.pi * self:uniform())
end

function Rng:categorical(w)
  local total = 0
  for i = 1, #w do total = total + w[i] end
  local u, acc = self:uniform() * total, 0
  for i = 1, #w do acc = acc + w[i]; if u < acc then return i end end
  return #w
end

function M.checkDist(dist, name)
  local where = name and (" for parameter '" .. tostring(name) .. "'") or ''
  if type(dist) ~= 'table' then error('tune sampler: expected a distribution table' .. where .. ', got ' .. type(dist), 3) end
  if dist.kind == 'categorical' then
    if type(dist.choices) ~= 'table' or #dist.choices == 0 then error('tune sampler: categorical distribution' .. where .. ' has no choices', 3) end
  elseif dist.kind == 'float' or dist.kind == 'int' then
    if type(dist.low) ~= 'number' or type(dist.high) ~= 'number' or not (dist.low <= dist.high) then
      error('tune sampler: ' .. dist.kind .. ' distribution' .. where .. ' needs numbers low <= high', 3)
    end
    if dist.log and not (dist.low > 0) then error('tune sampler: log distribution' .. where .. ' needs low > 0', 3) end
  else
    error("tune sampler: unknown distribution kind '" .. tostring(dist.kind) .. "'" .. where, 3)
  end
end

function M.numeric(dist)
  local isInt = dist.kind == 'int'
  if dist.log then
    return {low = math.log(dist.low), high = math.log(dist.high), log = true, isInt = isInt, dist = dist}
  end
  local step = dist.step or (isInt and 1 or nil)
  return {low = dist.low, high = dist.high, step = step, isInt = isInt, dist = dist}
end

function M.toInternal(dist, value)
  if dist.kind == 'categorical' then
    for i, c in ipairs(dist.choices) do if c == value then return i end end
    return nil
  end
  return dist.log and math.log(value) or value
end

function M.fromInternal(dist, x)
  if dist.kind == 'categorical' then
    local i = math.min(math.max(math.floor(x + 0.5), 1), #dist.choices)
    return dist.choices[i]
  end
  local v = dist.log and math.exp(x) or x
  local low, high = dist.low, dist.high
  local step = dist.step or (dist.kind == 'int' and not dist.log and 1 or nil)
  if step then
    local top = math.floor((high - low) / step + 1e-9)
    local k = math.min(math.max(math.floor((v - low) / step + 0.5), 0), top)
    v = low + k * step
  elseif dist.kind == 'int' then
    v = math.floor(v + 0.5)
  end
  v = math.min(math.max(v, low), high)
  if dist.kind == 'int' then v = math.tointeger(math.floor(v + 0.5)) end
  return v
end

function M.unitBounds(dist)
  if dist.kind == 'categorical' then return 0.5, #dist.choices + 0.5 end
  local nd = M.numeric(dist)
  if nd.log and nd.isInt then return math.log(dist.low - 0.5 > 0 and dist.low - 0.5 or dist.low), math.log(dist.high + 0.5) end
  local half = nd.step and nd.step / 2 or 0
  return nd.low - half, nd.high + half
end

function M.directions(study)
  local d = study.directions
  if d == nil then d = {study.direction or 'minimize'} end
  return d
end

function M.losses(study, trial)
  local dirs, out = M.directions(study), {}
  local vals = trial.values or {trial.value}
  for i, dir in ipairs(dirs) do
    local v = vals[i]
    out[i] = dir == 'maximize' and -v or v
  end
  return out
end

local function byNumber(a, b) return a.number < b.number end

function M.completed(study)
  local all = study:trials{states = {'complete', 'pruned'}}
  local out = {}
  for _, t in ipairs(all) do if t.state == 'complete' or t.state == 'pruned' then out[#out + 1] = t end end
  table.sort(out, byNumber)
  return out
end

function M.countComplete(trials)
  local n = 0
  for _, t in ipairs(trials) do if t.state == 'complete' then n = n + 1 end end
  return n
end

local sameDist = require('llm.tune.space').same

function M.intersectionSpace(trials)
  local space
  for _, t in ipairs(trials) do
    if (t.state == 'complete' or t.state == 'pruned') and t.distributions then
      if not space then
        space = {}
        for k, d in pairs(t.distributions) do space[k] = d end
      else
        for k, d in pairs(space) do
          local o = t.distributions[k]
          if not o or not sameDist(o, d) then space[k] = nil end
        end
      end
    end
  end
  space = space or {}
  -- single-valued parameters need no sampling
  for k, d in pairs(space) do
    if (d.kind == 'categorical' and #d.choices == 1) or (d.kind ~= 'categorical' and d.low == d.high) then space[k] = nil end
  end
  return space
end

function M.sortedNames(space)
  local names = {}
  for k in pairs(space) do names[#names + 1] = k end
  table.sort(names, function(a, b) return tostring(a) < tostring(b) end)
  return names
end

-- a uniform draw of one distribution from rng (the random sampler's and the startup trials' draw)
function M.uniformDraw(rng, dist)
  if dist.kind == 'categorical' then return dist.choices[rng:int(#dist.choices)] end
  local lo, hi = M.unitBounds(dist)
  return M.fromInternal(dist, lo + (hi - lo) * rng:uniform())
end

return M
