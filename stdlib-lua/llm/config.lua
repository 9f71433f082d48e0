-- llm.config: a recipe's configuration table with command-line overrides. Defaults are declared once;
-- `--key=value` (or `--key value`, or `--flag` for booleans) overrides a key, with its type checked
-- against the default; an unknown key is an error listing the known ones. `--help` prints them.
--   local config = llm.config({steps = 2000, lr = 1e-3, resume = llm.config.optional('string')}, arg)
local M = {}

local Optional = {}
Optional.__index = Optional

--- Declares a key with no default value (it stays nil unless given); kind: 'string', 'number', 'integer', 'boolean'.
function M.optional(kind, doc)
  if kind ~= 'string' and kind ~= 'number' and kind ~= 'integer' and kind ~= 'boolean' then
    error("llm.config.optional: Invalid kind '" .. tostring(kind) .. "', expected one of: 'string', 'number', 'integer', 'boolean'", 2)
  end
  return setmetatable({kind = kind, doc = doc}, Optional)
end

local function kindOf(default)
  if getmetatable(default) == Optional then return default.kind end
  if math.type(default) == 'integer' then return 'integer' end
  return type(default)
end

local function convert(key, raw, kind)
  if kind == 'string' then return raw end
  if kind == 'boolean' then
    local v = ({['true'] = true, ['1'] = true, yes = true, ['false'] = false, ['0'] = false, no = false})[raw]
    if v == nil then error(string.format("Invalid '--%s': expected true or false, got '%s'", key, raw), 0) end
    return v
  end
  local n = tonumber(raw)
  if n == nil then error(string.format("Invalid '--%s': expected a number, got '%s'", key, raw), 0) end
  if kind == 'integer' then
    n = math.tointeger(n)
    if n == nil then error(string.format("Invalid '--%s': expected an integer, got '%s'", key, raw), 0) end
  end
  return n
end

local function usage(defaults)
  local keys = {}
  for k in pairs(defaults) do keys[#keys + 1] = k end
  table.sort(keys)
  local lines = {'options:'}
  for _, k in ipairs(keys) do
    local d = defaults[k]
    local shown = getmetatable(d) == Optional and ('(' .. d.kind .. ', optional)') or tostring(d)
    lines[#lines + 1] = string.format('  --%-20s %s', k, shown)
  end
  return table.concat(lines, '\n')
end

--- Returns a new table: defaults overridden by the --key=value entries of args (the script's `arg`).
function M.parse(defaults, args)
  if type(defaults) ~= 'table' then error("bad argument #1 to 'config' (table expected, got " .. type(defaults) .. ")", 2) end
  local out = {}
  for k, v in pairs(defaults) do if getmetatable(v) ~= Optional then out[k] = v end end
  args = args or {}
  local i = 1
  while i <= #args do
    local a = args[i]
    if a == '--help' or a == '-h' then print(usage(defaults)); os.exit(0) end
    local key, value = a:match('^%-%-([%w_%.%-]+)=(.*)$')
    if not key then
      key = a:match('^%-%-([%w_%.%-]+)$')
      if not key then error(string.format("recipe arguments must look like --key=value, got '%s'", a), 0) end
      if defaults[key] ~= nil and kindOf(defaults[key]) == 'boolean' then value = 'true'
      else
        value = args[i + 1]
        if value == nil then error(string.format("missing value for '--%s'", key), 0) end
        i = i + 1
      end
    end
    if defaults[key] == nil then
      local known = {}
      for k in pairs(defaults) do known[#known + 1] = '--' .. k end
      table.sort(known)
      error(string.format("unknown option '--%s' for this recipe; known options: %s", key, table.concat(known, ', ')), 0)
    end
    out[key] = convert(key, value, kindOf(defaults[key]))
    i = i + 1
  end
  return out
end

return setmetatable(M, {__call = function(_, defaults, args) return M.parse(defaults, args) end})
