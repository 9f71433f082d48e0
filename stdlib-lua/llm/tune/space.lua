-- llm.tune.space: distributions and search spaces of the `tune` namespace.
-- A distribution is a plain table (the data format samplers read and the study stores as JSON):
--   {kind = 'float', low =, high =, log = bool, step = nil | number}
--   {kind = 'int', low =, high =, log = bool, step = integer}
--   {kind = 'categorical', choices = {...}}      (strings, numbers or booleans)
-- Constructors: tune.uniform(lo, hi), tune.logUniform(lo, hi), tune.quniform(lo, hi, step),
-- tune.int(lo, hi, [{log =, step =}]), tune.choice{...}. Each validates its input (low <= high, log needs
-- low > 0, step > 0, non-empty choices) with an error naming the problem.
-- A declarative space is a table name -> distribution, or name -> function(params) -> distribution | nil for a
-- conditional parameter: resolve() first suggests the plain distributions in sorted name order, then calls
-- the functions in sorted name order, each after the parameters it reads (a function that reads a parameter
-- not yet resolved is retried on the next pass; a cycle is an error); a function returning nil leaves its
-- parameter out of the trial (reading an absent parameter gives nil).
local M = {}

local function fail(msg, level) error('tune: ' .. msg, (level or 2) + 1) end

local function isNumber(x) return type(x) == 'number' and x == x and x ~= math.huge and x ~= -math.huge end

--- Validates a distribution table (name: the parameter, for messages); returns it.
function M.check(dist, name, level)
  level = (level or 1) + 1
  local where = name and (" for parameter '" .. tostring(name) .. "'") or ''
  if type(dist) ~= 'table' then fail('expected a distribution (tune.uniform, tune.int, tune.choice, ...)' .. where .. ', got ' .. type(dist), level) end
  if dist.kind == 'categorical' then
    if type(dist.choices) ~= 'table' or #dist.choices == 0 then fail('a choice needs a non-empty list of choices' .. where, level) end
    for i, c in ipairs(dist.choices) do
      local t = type(c)
      if t ~= 'string' and t ~= 'boolean' and not isNumber(c) then
        fail(string.format('choice %d%s must be a string, a finite number or a boolean, got %s', i, where, t), level)
      end
    end
  elseif dist.kind == 'float' or dist.kind == 'int' then
    if not isNumber(dist.low) or not isNumber(dist.high) then fail(dist.kind .. ' distribution' .. where .. ' needs finite numbers low and high', level) end
    if dist.low > dist.high then fail(string.format('empty range%s: low %s > high %s', where, tostring(dist.low), tostring(dist.high)), level) end
    if dist.log and dist.low <= 0 then fail('a log distribution' .. where .. ' needs low > 0, got ' .. tostring(dist.low), level) end
    if dist.step ~= nil and (not isNumber(dist.step) or dist.step <= 0) then fail('step' .. where .. ' must be a positive number, got ' .. tostring(dist.step), level) end
    if dist.log and dist.step ~= nil and not (dist.kind == 'int' and dist.step == 1) then fail('log and step cannot be combined' .. where, level) end
    if dist.kind == 'int' and (math.tointeger(dist.low) == nil or math.tointeger(dist.high) == nil or math.tointeger(dist.step or 1) == nil) then
      fail('an int distribution' .. where .. ' needs integer low, high and step', level)
    end
  else
    fail("unknown distribution kind '" .. tostring(dist.kind) .. "'" .. where .. " (expected 'float', 'int' or 'categorical')", level)
  end
  return dist
end

--- A float distribution uniform on [lo, hi]: {kind = 'float', low, high, log = false}.
function M.uniform(lo, hi) return M.check({kind = 'float', low = lo, high = hi, log = false}, nil, 2) end
--- A float distribution uniform in log space on [lo, hi] (lo > 0).
function M.logUniform(lo, hi) return M.check({kind = 'float', low = lo, high = hi, log = true}, nil, 2) end
--- A float distribution on lo, lo + step, ... <= hi.
function M.quniform(lo, hi, step) return M.check({kind = 'float', low = lo, high = hi, log = false, step = step}, nil, 2) end

--- An integer distribution on [lo, hi]; opts: {log = false, step = 1}.
function M.int(lo, hi, opts)
  opts = opts or {}
  if type(opts) ~= 'table' then fail('tune.int: options must be a table {log =, step =}') end
  local d = {kind = 'int', low = math.tointeger(lo) or lo, high = math.tointeger(hi) or hi, log = opts.log == true,
             step = math.tointeger(opts.step or 1) or opts.step}
  return M.check(d, nil, 2)
end

--- A categorical distribution over a list of strings, numbers or booleans.
function M.choice(choices)
  if type(choices) ~= 'table' then fail('tune.choice: expected a list of choices, got ' .. type(choices)) end
  return M.check({kind = 'categorical', choices = {table.unpack(choices)}}, nil, 2)
end

--- True when two distributions are the same (a parameter suggested twice must not change its range).
function M.same(a, b)
  if a.kind ~= b.kind then return false end
  if a.kind == 'categorical' then
    if #a.choices ~= #b.choices then return false end
    for i = 1, #a.choices do if a.choices[i] ~= b.choices[i] then return false end end
    return true
  end
  return a.low == b.low and a.high == b.high and (a.log or false) == (b.log or false) and a.step == b.step
end

--- True when value lies in the distribution (within its range, on its step, among its choices).
function M.contains(dist, v)
  if dist.kind == 'categorical' then
    for _, c in ipairs(dist.choices) do if c == v then return true end end
    return false
  end
  if type(v) ~= 'number' or v < dist.low - 1e-12 * math.abs(dist.low) or v > dist.high + 1e-12 * math.abs(dist.high) then return false end
  if dist.kind == 'int' and math.tointeger(v) == nil then return false end
  return true
end

--- The value as stored (a number): categorical -> choice index (1-based), numbers as they are.
function M.toStored(dist, v)
  if dist.kind ~= 'categorical' then return v end
  for i, c in ipairs(dist.choices) do if c == v then return i end end
  fail('value ' .. tostring(v) .. ' is not among the choices')
end

--- The value from its stored number.
function M.fromStored(dist, x)
  if dist.kind == 'categorical' then return dist.choices[math.tointeger(x)] end
  if dist.kind == 'int' then return math.tointeger(x) or math.floor(x + 0.5) end
  return x + 0.0
end

--- Validates a declarative space; returns its sorted names.
function M.checkSpace(space, level)
  level = (level or 1) + 1
  if type(space) ~= 'table' then fail('a search space must be a table name -> distribution, got ' .. type(space), level) end
  local names = {}
  for k, v in pairs(space) do
    if type(k) ~= 'string' then fail('search space keys must be parameter names (strings), got ' .. type(k), level) end
    if type(v) ~= 'function' then M.check(v, k, level) end
    names[#names + 1] = k
  end
  if #names == 0 then fail('empty search space: give at least one parameter', level) end
  table.sort(names)
  return names
end

local PENDING = setmetatable({}, {__tostring = function() return 'tune: pending parameter' end})

--- Suggests every parameter of a declarative space through suggest(name, dist) -> value; returns params.
function M.resolve(space, suggest)
  local names = M.checkSpace(space, 2)
  local params, waiting = {}, {}
  for _, name in ipairs(names) do
    if type(space[name]) == 'function' then waiting[#waiting + 1] = name else params[name] = suggest(name, space[name]) end
  end
  local pending = {}
  for _, n in ipairs(waiting) do pending[n] = true end
  while #waiting > 0 do
    local still = {}
    for _, name in ipairs(waiting) do
      local view = setmetatable({}, {__index = function(_, k)
        if pending[k] and k ~= name then error(PENDING, 0) end
        return params[k]
      end, __newindex = function() fail('a conditional parameter function must not change params') end})
      local ok, dist = pcall(space[name], view)
      if ok then
        pending[name] = nil
        if dist ~= nil then params[name] = suggest(name, M.check(dist, name, 2)) end
      elseif dist == PENDING then
        still[#still + 1] = name
      else
        error(dist, 0)
      end
    end
    if #still == #waiting then fail('conditional parameters depend on each other in a cycle: ' .. table.concat(still, ', '), 2) end
    waiting = still
  end
  return params
end

return M
