-- llm.strict: strict globals for scripts. Reading or assigning an undeclared global raises an error
-- naming it. Declare on purpose with `global 'name'` (optionally `global('name', value)`) or rawset(_G, ...).
local M = {}

local declared = {}

local function declare(name, value)
  if type(name) ~= 'string' then
    error("bad argument #1 to 'global' (string expected, got " .. type(name) .. ")", 2)
  end
  declared[name] = true
  rawset(_G, name, value)
end

local strictMeta = {
  __index = function(_, name)
    if declared[name] then return nil end
    error("undeclared global '" .. tostring(name) .. "' (declare it with global '" .. tostring(name) .. "' or use a local)", 2)
  end,
  __newindex = function(t, name, value)
    if declared[name] then rawset(t, name, value); return end
    error("assignment to undeclared global '" .. tostring(name) .. "' (declare it with global '" .. tostring(name) .. "' or use a local)", 2)
  end,
}

--- Turns strict globals on.
function M.enable()
  rawset(_G, 'global', declare)
  setmetatable(_G, strictMeta)
end

--- Turns strict globals off (the REPL).
function M.disable()
  rawset(_G, 'global', declare)
  if getmetatable(_G) == strictMeta then setmetatable(_G, nil) end
end

--- True while strict globals are on.
function M.enabled() return getmetatable(_G) == strictMeta end

return M
