-- nn option checking shared by the layers: unknown keys are errors that list the choices, values are
-- type-checked with the wording "Invalid 'key': expected ..., got ...".
local M = {}

--- Returns opts (or {}) after checking its keys against the defaults table, filling in defaults.
function M.check(name, opts, defaults, level)
  level = (level or 2) + 1
  if opts == nil then opts = {} end
  if type(opts) ~= 'table' then error(name .. ': options must be a table, got ' .. type(opts), level) end
  local out = {}
  for k, v in pairs(opts) do
    if defaults[k] == nil then
      local keys = {}
      for key in pairs(defaults) do keys[#keys + 1] = "'" .. key .. "'" end
      table.sort(keys)
      error(string.format("%s: unknown option '%s'; expected one of: %s", name, tostring(k), table.concat(keys, ', ')), level)
    end
    local want = defaults[k]
    if want ~= M.NONE and type(want) ~= type(v) then
      error(string.format("%s: Invalid '%s': expected a %s, got %s", name, k, type(want), type(v) == 'string' and ("'" .. v .. "'") or tostring(v)), level)
    end
    out[k] = v
  end
  for k, v in pairs(defaults) do if out[k] == nil and v ~= M.NONE then out[k] = v end end
  return out
end

--- Marks an option with no default (any type, may stay nil).
M.NONE = setmetatable({}, {__tostring = function() return 'none' end})

--- Checks that n is a positive integer.
function M.positiveInt(name, key, n, level)
  if math.type(n) ~= 'integer' or n <= 0 then
    error(string.format("%s: Invalid '%s': expected a positive integer, got %s", name, key, tostring(n)), (level or 2) + 1)
  end
  return n
end

return M
