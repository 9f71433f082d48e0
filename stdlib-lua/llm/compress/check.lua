-- compress argument checks shared by the namespace's functions (errors name the function and the option).
local M = {}

--- A number in [0, 1] (a sparsity or a fraction) or an error at `level`.
function M.fraction(who, key, v, level)
  if type(v) ~= 'number' or v ~= v or v < 0 or v > 1 then
    error(string.format("%s: Invalid '%s': expected a number in [0, 1], got %s", who, key, tostring(v)), level + 1)
  end
  return v
end

--- A non-negative integer (a step) or an error at `level`.
function M.step(who, key, v, level)
  if math.type(v) ~= 'integer' or v < 0 then
    error(string.format("%s: Invalid '%s': expected a non-negative integer, got %s", who, key, tostring(v)), level + 1)
  end
  return v
end

--- One of `choices` (a list of strings) or an error at `level`.
function M.oneOf(who, key, v, choices, level)
  for _, c in ipairs(choices) do if v == c then return v end end
  local q = {}
  for i, c in ipairs(choices) do q[i] = "'" .. c .. "'" end
  error(string.format("%s: Invalid '%s': expected one of: %s, got %s", who, key, table.concat(q, ', '),
    type(v) == 'string' and ("'" .. v .. "'") or tostring(v)), level + 1)
end

return M
