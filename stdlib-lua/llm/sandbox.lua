-- llm.sandbox: locks down the current state for an untrusted recipe (llmscript --sandbox). The host calls
-- the returned installer once, with its privileged functions (checkPath, status); it removes what reaches
-- the OS (os.execute, io.popen, debug, package.loadlib, C modules, string.dump), makes every loader
-- text-only, routes io/os/loadfile/require paths through checkPath, keeps the budget errors uncatchable
-- (pcall, xpcall, coroutine.resume rethrow a time-limit error) and hides the string metatable.
local installed = false

return function(host)
  if installed then error('sandbox: already installed', 2) end
  installed = true
  package.loaded['llm.sandbox'] = nil

  local G = _G
  local checkPath, status = host.checkPath, host.status
  local type, select, tostring, error, format = type, select, tostring, error, string.format
  local rawpcall, rawxpcall, rawload, rawloadfile = pcall, xpcall, load, loadfile
  local rawio, rawos, rawrep, rawcollect = io, os, string.rep, collectgarbage
  local co = coroutine
  local rawresume, rawclose = co.resume, co.close

  local function disabled(name)
    return function() error('sandbox: ' .. name .. ' is disabled', 2) end
  end
  -- Raises the sandbox's denial at the caller of the wrapper (level 3 = the recipe's line).
  local function allow(path, mode, level)
    if type(path) ~= 'string' then return end   -- the wrapped function reports the type error
    local ok, why = checkPath(path, mode)
    if not ok then error(why, level or 3) end
  end

  -- Budget errors: the time limit cannot be swallowed by a protected call; allocation failures
  -- caused by the memory limit name it.
  local function over(ok, ...)
    if ok then return true, ... end
    local expired, memHit, bytes, seconds = status()
    if expired then error(format('sandbox: time limit of %.14g s exceeded', seconds), 0) end
    if memHit and (...) == 'not enough memory' then
      return false, format('sandbox: memory limit of %d bytes exceeded', bytes)
    end
    return false, ...
  end
  G.pcall = function(f, ...) return over(rawpcall(f, ...)) end
  -- A message handler runs without hooks when the error comes from the time-limit hook: once the
  -- time is up, the recipe's handler is not called at all.
  G.xpcall = function(f, h, ...)
    local function handler(m)
      if status() then return m end
      return h(m)
    end
    return over(rawxpcall(f, type(h) == 'function' and handler or h, ...))
  end
  co.resume = function(c, ...) return over(rawresume(c, ...)) end
  co.close = function(c) return over(rawclose(c)) end

  -- __gc metamethods run without hooks (an endless finalizer could not be stopped): not for recipes.
  local rawsetmetatable, rawget = setmetatable, rawget
  G.setmetatable = function(t, mt)
    if type(mt) == 'table' and rawget(mt, '__gc') ~= nil then
      error('sandbox: __gc metamethods are disabled', 2)
    end
    return rawsetmetatable(t, mt)
  end

  -- Loading: text chunks only.
  G.load = function(chunk, name, mode, ...)
    if mode ~= nil and mode ~= 't' and mode ~= 'bt' then
      error("sandbox: loading binary chunks is disabled (load mode '" .. tostring(mode) .. "')", 2)
    end
    if select('#', ...) > 0 then return rawload(chunk, name, 't', ...) end
    return rawload(chunk, name, 't')
  end
  G.loadstring = nil
  G.loadfile = function(filename, mode, ...)
    if mode ~= nil and mode ~= 't' and mode ~= 'bt' then
      error("sandbox: loading binary chunks is disabled (loadfile mode '" .. tostring(mode) .. "')", 2)
    end
    allow(filename, 'r')
    if select('#', ...) > 0 then return rawloadfile(filename, 't', ...) end
    return rawloadfile(filename, 't')
  end
  G.dofile = function(filename)
    allow(filename, 'r')
    local f, err = rawloadfile(filename, 't')
    if not f then error(err, 2) end
    return f()
  end

  -- collectgarbage: reading and collecting only (no 'stop', no tuning).
  local gcAllowed = {collect = true, count = true, step = true, isrunning = true}
  G.collectgarbage = function(opt, ...)
    if opt ~= nil and not gcAllowed[opt] then
      error("sandbox: collectgarbage('" .. tostring(opt) .. "') is disabled", 2)
    end
    return rawcollect(opt, ...)
  end

  -- string: no dump; rep checked against the memory limit before it allocates; a hidden metatable.
  string.dump = nil
  local _, _, limitBytes = status()
  string.rep = function(s, n, sep)
    if limitBytes > 0 and (type(s) == 'string' or type(s) == 'number') and type(n) == 'number' and n > 1 then
      local size = #tostring(s) * n + ((type(sep) == 'string' or type(sep) == 'number') and #tostring(sep) * (n - 1) or 0)
      if size > limitBytes then error(format('sandbox: memory limit of %d bytes exceeded (string.rep of %.0f bytes)', limitBytes, size), 2) end
    end
    return rawrep(s, n, sep)
  end
  getmetatable('').__metatable = false

  -- io: checked paths, no popen, no tmpfile.
  local io = {stdin = rawio.stdin, stdout = rawio.stdout, stderr = rawio.stderr,
              read = rawio.read, write = rawio.write, close = rawio.close, type = rawio.type}
  local function writes(mode) return type(mode) == 'string' and mode:find('[wa+]') ~= nil end
  io.open = function(path, mode)
    allow(path, writes(mode) and 'w' or 'r')
    return rawio.open(path, mode)
  end
  io.lines = function(path, ...)
    if path ~= nil then allow(path, 'r') end
    return rawio.lines(path, ...)
  end
  io.input = function(f)
    if type(f) == 'string' then allow(f, 'r') end
    return rawio.input(f)
  end
  io.output = function(f)
    if type(f) == 'string' then allow(f, 'w') end
    return rawio.output(f)
  end
  io.popen = disabled('io.popen')
  io.tmpfile = disabled('io.tmpfile')

  -- os: time and dates; remove/rename inside the writable folders; a few harmless environment variables.
  local os = {clock = rawos.clock, time = rawos.time, date = rawos.date, difftime = rawos.difftime}
  os.remove = function(path)
    allow(path, 'w')
    return rawos.remove(path)
  end
  os.rename = function(from, to)
    allow(from, 'w'); allow(to, 'w')
    return rawos.rename(from, to)
  end
  local env = {TERM = true, COLUMNS = true, LINES = true, NO_COLOR = true, LANG = true, LC_ALL = true}
  os.getenv = function(name)
    if env[name] then return rawos.getenv(name) end
    return nil
  end
  os.exit = host.allowExit and rawos.exit or disabled('os.exit')
  os.execute = disabled('os.execute')
  os.tmpname = disabled('os.tmpname')
  os.setlocale = disabled('os.setlocale')

  G.io, G.os, G.debug = io, os, nil
  package.loaded.io, package.loaded.os, package.loaded.debug = io, os, nil

  -- package/require: Lua modules only, from readable files, loaded as text.
  package.loadlib, package.searchpath = nil, nil
  package.cpath = ''
  if host.recipePath then
    local lib, rest = package.path:match('^(.-;[^;]*/%?/init%.lua);(.*)$')
    package.path = lib and (lib .. ';' .. host.recipePath .. ';' .. rest) or (package.path .. ';' .. host.recipePath)
  end
  local rawopen = rawio.open
  local function luaSearcher(name)
    local path = package.path
    if type(path) ~= 'string' then error("sandbox: 'package.path' must be a string", 2) end
    local fname, tried = name:gsub('%.', '/'), {}
    for template in path:gmatch('[^;]+') do
      local file = template:gsub('%?', function() return fname end)
      local ok = checkPath(file, 'r')
      if ok then
        local fh = rawopen(file, 'r')
        if fh then
          fh:close()
          local chunk, err = rawloadfile(file, 't')
          if not chunk then
            error(format("error loading module '%s' from file '%s':\n\t%s", name, file, err), 0)
          end
          return chunk, file
        end
        tried[#tried + 1] = "\n\tno file '" .. file .. "'"
      else
        tried[#tried + 1] = "\n\tno file '" .. file .. "' (outside the sandbox's readable folders)"
      end
    end
    return table.concat(tried)
  end
  local preload = package.searchers[1]
  package.searchers = {preload, luaSearcher,
    function(name) return "\n\tsandbox: native C modules are disabled (module '" .. tostring(name) .. "')" end}
  package.loaded.package = package
end
