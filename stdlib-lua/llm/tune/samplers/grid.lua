-- llm.tune.samplers.grid: tune.sampler.grid(space)
-- space: name -> array of values, or name -> distribution (categorical: its choices; int: every integer /
-- step from low to high; float: needs a step). The grid is the Cartesian product over the names in sorted
-- order, the first name varying slowest; trial number k gets point (k mod size) + 1, so any `size`
-- consecutive trials (e.g. trials 0..size-1) visit every point exactly once, in parallel too, and a resumed
-- study goes on where it stopped. sampler.size is the number of points, sampler:points() lists them.
-- The whole point is proposed at trial start (sampleRelative over the grid's names); asking for a parameter
-- that is not in the grid is an error.
local common = require 'llm.tune.samplers.common'

local Grid = {}
Grid.__index = Grid

local function valuesOf(name, entry)
  if type(entry) ~= 'table' then error("tune.sampler.grid: parameter '" .. tostring(name) .. "' needs a list of values or a distribution", 3) end
  if entry.kind == nil then
    if #entry == 0 then error("tune.sampler.grid: parameter '" .. tostring(name) .. "' has no values", 3) end
    return {table.unpack(entry)}, {kind = 'categorical', choices = {table.unpack(entry)}}
  end
  common.checkDist(entry, name)
  if entry.kind == 'categorical' then return {table.unpack(entry.choices)}, entry end
  local step = entry.step or (entry.kind == 'int' and 1 or nil)
  if not step or entry.log then
    error("tune.sampler.grid: parameter '" .. tostring(name) .. "' is continuous: give it a step or a list of values", 3)
  end
  local vals, k = {}, 0
  while true do
    local v = entry.low + k * step
    if v > entry.high + 1e-9 * math.abs(step) then break end
    vals[#vals + 1] = entry.kind == 'int' and math.tointeger(v) or v
    k = k + 1
  end
  return vals, entry
end

local function new(space)
  if type(space) ~= 'table' or next(space) == nil then error('tune.sampler.grid: expected a non-empty table name -> values', 2) end
  local self = setmetatable({names = common.sortedNames(space), values = {}, dists = {}, size = 1}, Grid)
  for _, name in ipairs(self.names) do
    self.values[name], self.dists[name] = valuesOf(name, space[name])
    self.size = self.size * #self.values[name]
  end
  return self
end

-- the grid point with 0-based index i (mixed radix, last name fastest)
function Grid:point(i)
  local out = {}
  for j = #self.names, 1, -1 do
    local name = self.names[j]
    local vals = self.values[name]
    out[name] = vals[i % #vals + 1]
    i = i // #vals
  end
  return out
end

function Grid:points()
  local out = {}
  for i = 0, self.size - 1 do out[#out + 1] = self:point(i) end
  return out
end

function Grid:inferRelativeSpace() return self.dists end

function Grid:sampleRelative(_, trial) return self:point(math.tointeger(trial.number) % self.size) end

function Grid:sampleIndependent(_, trial, name)
  if not self.values[name] then error("tune.sampler.grid: parameter '" .. tostring(name) .. "' is not in the grid", 2) end
  return self:point(math.tointeger(trial.number) % self.size)[name]
end

return new
