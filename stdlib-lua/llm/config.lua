-- llm.config: a recipe's configuration table with command-line overrides. Defaults are declared once;
-- `--key=value` (or `--key value`, or `--flag` for booleans) overrides a key, with its type checked
-- against the default (integer, number, string, boolean).
--   local config = llm.config({steps = 2000, lr = 1e-3, resume = llm.config.optional('string')}, arg)
-- A bad command line (an unknown key, with the closest known key suggested; a value of the wrong type; a
-- malformed argument) raises a one-line usage error; llmscript prints it without a traceback and exits
-- with status 2 (M.usageErrorOf tells the launcher). `--help` prints every key with its type, its default
-- and the comment written beside it in the recipe (read from the script file, `arg[0]`), then exits 0.
local M = {}

local Optional = {}
Optional.__index = Optional

local KINDS = {string = true, number = true, integer = true, boolean = true}

--- Declares a key with no default value (it stays nil unless given); kind: 'string', 'number', 'integer', 'boolean'.
function M.optional(kind, doc)
  if not KINDS[kind] then
    error("llm.config.optional: Invalid kind '" .. tostring(kind) .. "', expected one of: 'string', 'number', 'integer', 'boolean'", 2)
  end
  if doc ~= nil and type(doc) ~= 'string' then
    error("bad argument #2 to 'optional' (string expected, got " .. type(doc) .. ")", 2)
  end
  return setmetatable({kind = kind, doc = doc}, Optional)
end

local function kindOf(default)
  if getmetatable(default) == Optional then return default.kind end
  if math.type(default) == 'integer' then return 'integer' end
  return type(default)
end

-- Usage errors are plain one-line strings (pcall callers can match them as usual); the last one raised is
-- kept so that the launcher can tell it from other errors and print it without the traceback.

local function script(args)
  local s = type(args) == 'table' and args[0]
  return type(s) == 'string' and s ~= '-' and s or nil
end

local function usageError(args, fmt, ...)
  local name = script(args)
  local message = (name and name .. ': ' or '') .. string.format(fmt, ...)
  if not message:find('known options:', 1, true) then message = message .. '; --help lists the options' end
  M.lastUsageError = message
  error(message, 0)
end

--- The usage error that `message` (an error message, perhaps followed by a traceback) reports, when it is
--- the last one raised by llm.config; nil otherwise. The launcher prints it alone and exits 2.
function M.usageErrorOf(message)
  local last = M.lastUsageError
  if type(message) ~= 'string' or last == nil then return nil end
  if message == last or message:sub(1, #last + 1) == last .. '\n' then return last end
  return nil
end

local function convert(args, key, raw, kind)
  if kind == 'string' then return raw end
  if kind == 'boolean' then
    local v = ({['true'] = true, ['1'] = true, yes = true, ['false'] = false, ['0'] = false, no = false})[raw]
    if v == nil then usageError(args, "Invalid '--%s': expected true or false, got '%s'", key, raw) end
    return v
  end
  local n = tonumber(raw)
  if n == nil then usageError(args, "Invalid '--%s': expected a number, got '%s'", key, raw) end
  if kind == 'integer' then
    n = math.tointeger(n)
    if n == nil then usageError(args, "Invalid '--%s': expected an integer, got '%s'", key, raw) end
  end
  return n
end

-- Optimal string alignment distance, ignoring case ('stpes' -> 'steps' is 1, 'LR' -> 'lr' is 0).
local function distance(a, b)
  a, b = a:lower(), b:lower()
  local d = {}
  for i = 0, #a do d[i] = {[0] = i} end
  for j = 1, #b do d[0][j] = j end
  for i = 1, #a do
    for j = 1, #b do
      local cost = a:byte(i) == b:byte(j) and 0 or 1
      d[i][j] = math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost)
      if i > 1 and j > 1 and a:byte(i) == b:byte(j - 1) and a:byte(i - 1) == b:byte(j) then
        d[i][j] = math.min(d[i][j], d[i - 2][j - 2] + 1)
      end
    end
  end
  return d[#a][#b]
end

--- The known key closest to `key` (within 2 edits, or the only key it is a prefix of), or nil.
function M.suggest(key, known)
  local best, bestD = nil, math.huge
  for _, k in ipairs(known) do
    local d = distance(key, k)
    if d < bestD or (d == bestD and best and k < best) then best, bestD = k, d end
  end
  if best and bestD <= math.min(2, #key - 1) then return best end
  local prefixed
  for _, k in ipairs(known) do
    if k:lower():sub(1, #key) == key:lower() then
      if prefixed then return nil end
      prefixed = k
    end
  end
  return prefixed
end

local function sortedKeys(defaults)
  local keys = {}
  for k in pairs(defaults) do keys[#keys + 1] = k end
  table.sort(keys)
  return keys
end

-- Comments beside the keys in the recipe source: `key = value,  -- comment` (several keys on one line
-- share its comment). Scans the config table: from the first line calling config( to the line closing it.
local function sourceComments(path, defaults)
  local f = path and io.open(path, 'r')
  if not f then return {}, {} end
  local comments, order, inside = {}, {}, false
  for line in f:lines() do
    if not inside and line:find('config%s*%(') then inside = true end
    if inside then
      local code, comment = line:match('^(.-)%-%-%s*(.-)%s*$')
      code = code or line
      for key in code:gmatch('([%a_][%w_]*)%s*=[^=]') do
        if defaults[key] ~= nil and comments[key] == nil then
          comments[key] = comment or ''
          order[#order + 1] = key
        end
      end
      if line:match('^%s*}') then break end
    end
  end
  f:close()
  return comments, order
end

local function shown(v)
  if getmetatable(v) == Optional then return '(none)' end
  if type(v) == 'string' then
    local escapes = {['\n'] = '\\n', ['\t'] = '\\t', ['\r'] = '\\r', ['"'] = '\\"', ['\\'] = '\\\\'}
    return '"' .. v:gsub('[%c"\\]', function(c) return escapes[c] or string.format('\\%03d', c:byte()) end) .. '"'
  end
  return tostring(v)
end

-- The file of the first Lua function on the stack outside this module (the recipe calling llm.config),
-- for a recipe run without `arg[0]` (dofile with a hand-made arg table); nil without the debug library.
local getinfo = rawget(_G, 'debug') and debug.getinfo   -- a sandboxed state has no debug library
local thisSource = getinfo and getinfo(1, 'S').source
local function callerFile()
  if not getinfo then return nil end
  for level = 2, 20 do
    local info = getinfo(level, 'S')
    if not info then return nil end
    if info.source:sub(1, 1) == '@' and info.source ~= thisSource then return info.source:sub(2) end
  end
  return nil
end

--- The --help text: usage line, then one line per key (name, type, default, comment), in recipe order.
function M.usage(defaults, args)
  local name = script(args)
  local comments, order = sourceComments(name or callerFile(), defaults)
  local seen = {}
  for _, k in ipairs(order) do seen[k] = true end
  for _, k in ipairs(sortedKeys(defaults)) do if not seen[k] then order[#order + 1] = k end end
  local lines = {string.format('usage: llmscript %s [--key=value ...]   (or --key value; --flag for a boolean)', name or 'recipe.lua'),
                 'options:'}
  local width, valueWidth = 0, 0
  for _, k in ipairs(order) do width, valueWidth = math.max(width, #k), math.max(valueWidth, #shown(defaults[k])) end
  local format = '  --%-' .. width .. 's  %-8s %-' .. valueWidth .. 's  %s'
  for _, k in ipairs(order) do
    local d = defaults[k]
    local doc = getmetatable(d) == Optional and d.doc or comments[k] or ''
    lines[#lines + 1] = (string.format(format, k, kindOf(d), shown(d), doc):gsub('%s+$', ''))
  end
  return table.concat(lines, '\n')
end

--- Returns a new table: defaults overridden by the --key=value entries of args (the script's `arg`).
function M.parse(defaults, args)
  if type(defaults) ~= 'table' then error("bad argument #1 to 'config' (table expected, got " .. type(defaults) .. ")", 2) end
  if args ~= nil and type(args) ~= 'table' then error("bad argument #2 to 'config' (table expected, got " .. type(args) .. ")", 2) end
  for k, v in pairs(defaults) do
    if type(k) ~= 'string' or not k:match('^[%a_][%w_%.%-]*$') then
      error("llm.config: Invalid key " .. string.format('%q', tostring(k)) .. ": expected a name (letters, digits, _ . -)", 2)
    end
    if not KINDS[kindOf(v)] then
      error("llm.config: Invalid default of '" .. k .. "': expected a string, number, boolean or llm.config.optional(...), got " .. type(v), 2)
    end
  end
  local out = {}
  for k, v in pairs(defaults) do if getmetatable(v) ~= Optional then out[k] = v end end
  args = args or {}
  local i = 1
  while i <= #args do
    local a = args[i]
    if a == '--help' or a == '-h' then print(M.usage(defaults, args)); os.exit(0) end
    local key, value = a:match('^%-%-([%w_%.%-]+)=(.*)$')
    if not key then
      key = a:match('^%-%-([%w_%.%-]+)$')
      if not key then usageError(args, "recipe arguments must look like --key=value, got '%s'", a) end
      if defaults[key] ~= nil and kindOf(defaults[key]) == 'boolean' then value = 'true'
      elseif defaults[key] ~= nil then
        value = args[i + 1]
        if value == nil then usageError(args, "missing value for '--%s'", key) end
        i = i + 1
      end
    end
    if defaults[key] == nil then
      local known = sortedKeys(defaults)
      local near = M.suggest(key, known)
      usageError(args, "unknown option '--%s'%s; known options: --%s", key,
                 near and " (did you mean '--" .. near .. "'?)" or '', table.concat(known, ', --'))
    end
    out[key] = convert(args, key, value, kindOf(defaults[key]))
    i = i + 1
  end
  return out
end

return setmetatable(M, {__call = function(_, defaults, args) return M.parse(defaults, args) end})
