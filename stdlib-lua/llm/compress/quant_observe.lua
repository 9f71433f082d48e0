-- compress quantization observers: record the range of the tensors a layer sees during calibration and turn it
-- into a symmetric int8 scale (scale = bound/127). Kinds (as torch.ao.quantization's observers):
--   'minmax'         bound = max |x| over everything observed (MinMaxObserver, symmetric)
--   'movingAverage'  min and max are exponential moving averages of each batch's (momentum, default 0.01:
--                    the first batch sets them; MovingAverageMinMaxObserver's averaging_constant)
--   'percentile'     bound = the running maximum over batches of the `percentile` (default 99.99) of |x|
--                    (a few outliers do not stretch the scale)
--   compress.observer({kind, momentum, percentile} | kind) -> observer with :observe(x), :bound(), :scale(), :count()
--   M.calibrate(model, layers, fn, spec, level) -> {path = scale}: runs fn(model) with every layer's input observed
local check = require 'llm.compress.check'

local M = {}
local Observer = {}
Observer.__index = Observer
Observer.__name = 'compress.Observer'

--- compress.observer(spec): spec is a kind name or {kind='minmax'|'movingAverage'|'percentile', momentum=0.01, percentile=99.99}.
function M.observer(spec, level)
  level = (level or 1) + 1
  local who = 'compress.observer'
  if type(spec) == 'string' or spec == nil then spec = {kind = spec or 'minmax'} end
  if type(spec) ~= 'table' then error(who .. ": Invalid 'spec': expected a kind name or a table, got " .. type(spec), level) end
  for k in pairs(spec) do check.oneOf(who, 'option', k, {'kind', 'momentum', 'percentile'}, level) end
  local kind = check.oneOf(who, 'kind', spec.kind or 'minmax', {'minmax', 'movingAverage', 'percentile'}, level)
  local momentum = spec.momentum or 0.01
  if type(momentum) ~= 'number' or momentum <= 0 or momentum > 1 then
    error(who .. ": Invalid 'momentum': expected a number in (0, 1], got " .. tostring(momentum), level)
  end
  local pct = spec.percentile or 99.99
  if type(pct) ~= 'number' or pct <= 0 or pct > 100 then
    error(who .. ": Invalid 'percentile': expected a number in (0, 100], got " .. tostring(pct), level)
  end
  return setmetatable({kind = kind, momentum = momentum, percentile = pct, n = 0}, Observer)
end

--- Records one tensor (any shape).
function Observer:observe(x)
  local lo, hi
  llm.noGrad(function()
    local flat = x:detach():float():reshape(-1)
    if self.kind == 'percentile' then
      local a = flat:abs():sort()
      local n = a:numel()
      local i = math.max(1, math.min(n, math.ceil(self.percentile / 100 * n)))
      hi = a[i]:item()
      lo = -hi
    else
      lo, hi = flat:min():item(), flat:max():item()
    end
  end)
  if self.n == 0 or self.kind == 'minmax' or self.kind == 'percentile' then
    if self.n == 0 then self.lo, self.hi = lo, hi
    else self.lo, self.hi = math.min(self.lo, lo), math.max(self.hi, hi) end
  else
    self.lo = self.lo + self.momentum * (lo - self.lo)
    self.hi = self.hi + self.momentum * (hi - self.hi)
  end
  self.n = self.n + 1
end

--- How many tensors were observed.
function Observer:count() return self.n end

--- The symmetric bound max(|min|, |max|) (nil before the first observation).
function Observer:bound()
  if self.n == 0 then return nil end
  return math.max(math.abs(self.lo), math.abs(self.hi))
end

--- The int8 scale bound/127 (1 for an all-zero range); an error before any observation.
function Observer:scale()
  local b = self:bound()
  if not b then error('compress.Observer:scale: nothing was observed (calibration ran no forward pass through this layer)', 2) end
  return b > 0 and b / 127 or 1
end

--- Runs fn(model) with each selected layer's input observed; returns {path = scale}. The layers' forward
--- functions are restored even when fn fails.
function M.calibrate(model, layers, fn, spec, level)
  level = level + 1
  local obs, saved = {}, {}
  for _, e in ipairs(layers) do obs[e[1]] = M.observer(spec, level) end
  for _, e in ipairs(layers) do
    local path, lin = e[1], e[2]
    saved[lin] = rawget(lin, 'forward')
    local cls = getmetatable(lin)
    rawset(lin, 'forward', function(self, x, ...)
      obs[path]:observe(x)
      return cls.forward(self, x, ...)
    end)
  end
  local ok, err = pcall(llm.noGrad, function() return fn(model) end)
  for _, e in ipairs(layers) do rawset(e[2], 'forward', saved[e[2]]) end
  if not ok then error('compress.quantize: calibrate failed: ' .. tostring(err), level) end
  local out = {}
  for _, e in ipairs(layers) do out[e[1]] = obs[e[1]]:scale() end
  return out
end

return M
