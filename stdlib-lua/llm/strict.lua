-- llm.strict: strict globals for the user's code. Reading or assigning an undeclared global raises an
-- error naming it. Declare on purpose with `global 'name'` (optionally `global('name', value)`) or rawset(_G, ...).
-- Strictness follows the code that touches the global, not the global table: modules loaded by `require`
-- (every function of their chunk, whichever searcher found it: package.path, package.cpath, LuaRocks'
-- loader, ...) and C functions run as under plain lua5.4 — third-party libraries such as lfs, lyaml,
-- cliargs or penlight read and set globals (`unpack`, `lfs`, ...) as they please. Everything else (the
-- script, `-e` chunks, stdin, files it runs with dofile/load) is strict. `require` marks a module's chunk
-- before the module runs by wrapping each searcher in package.searchers (including searchers added later).
-- Without the debug library (a sandboxed state) every access is checked, as before.
local M = {}

local getinfo = rawget(_G, 'debug') and debug.getinfo

local declared = {}
-- chunk sources (debug.getinfo(f, 'S').source) of modules loaded by require: exempt from strictness
local exempt = {}

local function declare(name, value)
  if type(name) ~= 'string' then
    error("bad argument #1 to 'global' (string expected, got " .. type(name) .. ")", 2)
  end
  declared[name] = true
  rawset(_G, name, value)
end

-- True when the function `level` frames above the caller of checked() is user code (not a module, not C).
local function checked(level)
  if not getinfo then return true end
  local info = getinfo(level + 1, 'S')
  if not info then return true end
  return info.what ~= 'C' and not exempt[info.source]
end

local strictMeta = {
  __index = function(_, name)
    if declared[name] or not checked(2) then return nil end
    error("undeclared global '" .. tostring(name) .. "' (declare it with global '" .. tostring(name) .. "' or use a local)", 2)
  end,
  __newindex = function(t, name, value)
    if declared[name] or not checked(2) then rawset(t, name, value); return end
    error("assignment to undeclared global '" .. tostring(name) .. "' (declare it with global '" .. tostring(name) .. "' or use a local)", 2)
  end,
}

-- package.searchers entries wrapped so far (wrapper -> true), weak so replaced lists can be collected
local wrappers = setmetatable({}, {__mode = 'k'})

local function wrapSearchers()
  local searchers = type(package) == 'table' and rawget(package, 'searchers')
  if type(searchers) ~= 'table' then return end
  for i, searcher in ipairs(searchers) do
    if not wrappers[searcher] and type(searcher) == 'function' then
      local function wrapper(name, ...)
        local loader, data = searcher(name, ...)
        if type(loader) == 'function' then exempt[getinfo(loader, 'S').source] = true end
        return loader, data
      end
      wrappers[wrapper] = true
      searchers[i] = wrapper
    end
  end
end

local rawRequire = require
local function strictRequire(name)
  wrapSearchers()   -- searchers a module added since the last require (luarocks.loader) get wrapped too
  return rawRequire(name)
end

--- Turns strict globals on.
function M.enable()
  rawset(_G, 'global', declare)
  if getinfo then
    wrapSearchers()
    if rawget(_G, 'require') == rawRequire then rawset(_G, 'require', strictRequire) end
  end
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
