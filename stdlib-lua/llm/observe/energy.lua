-- llm.observe.energy: energy meters and CO2. A meter's :read() returns the joules used since it was made.
--   energy.rapl{root = '/sys/class/powercap'} -> meter or nil, why
--       Linux RAPL (powercap): sums the package zones intel-rapl:N (not their subzones core/uncore/dram,
--       which the package already counts) from energy_uj; a counter that went down wrapped at
--       max_energy_range_uj, so the step adds max - last + now. The root may also come from the
--       LLMSCRIPT_RAPL_ROOT environment variable (tests point it at a fake sysfs folder). kind = 'rapl'.
--   energy.estimate{wattsPerCore = 10, cpuTime = os.clock} -> meter
--       When RAPL is not readable (containers, VMs, non-Intel/AMD): an ESTIMATE = process CPU seconds (all
--       threads, os.clock) x wattsPerCore. 10 W per busy core is a round figure for a server core under a
--       BLAS load (a 200-280 W CPU package / 24-32 cores); it leaves out idle, memory and cooling power.
--       kind = 'estimate', label 'estimate (CPU time x 10 W/core)'.
--   energy.meter{rapl = root, estimate = false, wattsPerCore =} -> meter   RAPL when readable, else the estimate
--   energy.co2(joules, gPerKWh) -> grams CO2e = joules / 3.6e6 x gPerKWh
--   energy.gridIntensity(value) -> g/kWh: value, else LLMSCRIPT_GRID_INTENSITY, else 475 (IEA world average)
local M = {}

M.defaultGridIntensity = 475
M.defaultWattsPerCore = 10

local function readNumber(path)
  local f = io.open(path, 'r')
  if not f then return nil end
  local s = f:read('l')
  f:close()
  return s and math.tointeger(tonumber(s)) or nil
end

local function listZones(root)
  -- the package zones: intel-rapl:<n> (subzones have a second ':')
  local zones = {}
  for n = 0, 63 do
    local dir = root .. '/intel-rapl:' .. n
    local uj = readNumber(dir .. '/energy_uj')
    if uj then
      zones[#zones + 1] = {dir = dir, last = uj, max = readNumber(dir .. '/max_energy_range_uj') or (1 << 32)}
    end
  end
  return zones
end

local Rapl = {}
Rapl.__index = Rapl

--- A RAPL meter over root's package zones, or nil and the reason when none is readable.
function M.rapl(opts)
  local root = (opts and opts.root) or os.getenv('LLMSCRIPT_RAPL_ROOT') or '/sys/class/powercap'
  local ok, zones = pcall(listZones, root)
  if not ok or #zones == 0 then return nil, 'no readable RAPL zone (intel-rapl:N/energy_uj) under ' .. root end
  return setmetatable({kind = 'rapl', label = 'RAPL (' .. #zones .. ' package zone' .. (#zones > 1 and 's' or '') .. ')',
                       root = root, zones = zones, microjoules = 0}, Rapl)
end

--- Joules since the meter was made (each zone's counter wrap-around handled).
function Rapl:read()
  for _, z in ipairs(self.zones) do
    local now = readNumber(z.dir .. '/energy_uj')
    if now then
      local d = now - z.last
      if d < 0 then d = d + z.max end   -- wrapped at max_energy_range_uj
      self.microjoules = self.microjoules + d
      z.last = now
    end
  end
  return self.microjoules / 1e6
end

local Estimate = {}
Estimate.__index = Estimate

--- The CPU-time estimate meter.
function M.estimate(opts)
  opts = opts or {}
  local w = opts.wattsPerCore or M.defaultWattsPerCore
  if type(w) ~= 'number' or w <= 0 then error('energy.estimate: wattsPerCore must be a positive number, got ' .. tostring(w), 2) end
  local cpu = opts.cpuTime or os.clock
  return setmetatable({kind = 'estimate', label = string.format('estimate (CPU time x %g W/core)', w), watts = w,
                       cpu = cpu, start = cpu()}, Estimate)
end

function Estimate:read() return (self.cpu() - self.start) * self.watts end

--- RAPL when readable (unless estimate = true), else the estimate.
function M.meter(opts)
  opts = opts or {}
  if not opts.estimate then
    local m = M.rapl{root = opts.rapl}
    if m then return m end
  end
  return M.estimate{wattsPerCore = opts.wattsPerCore, cpuTime = opts.cpuTime}
end

--- Grid carbon intensity in g CO2e per kWh.
function M.gridIntensity(v)
  v = v or tonumber(os.getenv('LLMSCRIPT_GRID_INTENSITY') or '') or M.defaultGridIntensity
  if type(v) ~= 'number' or v < 0 or v ~= v then error('energy: gridIntensity must be a non-negative number (g CO2e/kWh), got ' .. tostring(v), 3) end
  return v
end

--- Grams of CO2e for joules at gPerKWh.
function M.co2(joules, gPerKWh)
  return joules / 3.6e6 * M.gridIntensity(gPerKWh)
end

return M
