-- llm.sandbox: locks down the current state for an untrusted recipe (llmscript --sandbox). The host calls
-- the returned installer once, with its privileged functions (fs: the file functions of CLuaShim/llms_fs.c
-- that open beneath the allowed folders; status); it removes what reaches the OS (os.execute, io.popen,
-- debug, package.loadlib, C modules, string.dump), makes every loader text-only, opens every file of
-- io/os/loadfile/dofile/require through fs (paths converted like Lua does: strings and numbers, anything
-- else a type error), keeps the budget errors uncatchable (pcall, xpcall, coroutine.resume rethrow a
-- time-limit error), hides the string metatable, and keeps the engine's and plugins' folders out of
-- package.path (engine modules are still found, through a path only the searcher sees).
local installed = false

return function(host)
  if installed then error('sandbox: already installed', 2) end
  installed = true
  package.loaded['llm.sandbox'] = nil

  local G = _G
  local fs, status = host.fs, host.status
  local type, select, tostring, error, format = type, select, tostring, error, string.format
  local rawpcall, rawxpcall, rawload = pcall, xpcall, load
  local rawio, rawos, rawrep, rawcollect = io, os, string.rep, collectgarbage
  local co = coroutine
  local rawresume, rawclose = co.resume, co.close

  local function disabled(name)
    return function() error('sandbox: ' .. name .. ' is disabled', 2) end
  end
  -- A path argument: a string or a number (Lua converts numbers to file names); anything else is the
  -- wrapped function's type error, raised at the recipe's line. fs converts and checks the same value.
  local function pathArg(v, n, fname)
    local t = type(v)
    if t ~= 'string' and t ~= 'number' then
      error(format("bad argument #%d to '%s' (string expected, got %s)", n, fname, v == nil and 'no value' or t), 3)
    end
    return v
  end
  -- fs.<name>(...)'s results, packed; its error (a denial) is raised at the caller of the wrapper, so the
  -- wrappers call it as an argument (never a tail call) and return results(call(...)).
  local pack, unpack = table.pack, table.unpack
  local function call(name, ...)
    local r = pack(rawpcall(fs[name], ...))
    if not r[1] then error(r[2], 3) end
    return r
  end
  local function results(r) return unpack(r, 2, r.n) end

  -- Budget errors: the time limit cannot be swallowed by a protected call; allocation failures
  -- caused by the memory limit name it.
  -- Caught error messages name the engine's Lua files by a neutral prefix: the engine's folder (often
  -- under the home folder) is not the recipe's to know. Uncaught errors reach the user unchanged.
  local engineDir = host.engineDir
  local function scrub(m)
    if not engineDir or type(m) ~= 'string' or not m:find(engineDir, 1, true) then return m end
    local out, i = {}, 1
    while true do
      local s, e = m:find(engineDir, i, true)
      if not s then break end
      out[#out + 1] = m:sub(i, s - 1) .. '[llmscript]'
      i = e + 1
    end
    out[#out + 1] = m:sub(i)
    return table.concat(out)
  end
  local function failed(m, ...) return false, scrub(m), ... end

  local function over(ok, ...)
    if ok then return true, ... end
    local expired, memHit, bytes, seconds = status()
    if expired then error(format('sandbox: time limit of %.14g s exceeded', seconds), 0) end
    if memHit and (...) == 'not enough memory' then
      return false, format('sandbox: memory limit of %d bytes exceeded', bytes)
    end
    return failed(...)
  end
  G.pcall = function(f, ...) return over(rawpcall(f, ...)) end
  -- A message handler runs without hooks when the error comes from the time-limit hook: once the
  -- time is up, the recipe's handler is not called at all.
  G.xpcall = function(f, h, ...)
    local function handler(m)
      if status() then return m end
      return h(scrub(m))
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
    if filename ~= nil then pathArg(filename, 1, 'loadfile') end
    if select('#', ...) > 0 then return results(call('loadfile', filename, 't', (...))) end
    return results(call('loadfile', filename, 't'))
  end
  G.dofile = function(filename)
    if filename ~= nil then pathArg(filename, 1, 'dofile') end
    local f, err = results(call('loadfile', filename, 't'))
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
  io.open = function(path, mode)   -- a denial returns nil, message, errno like a missing file
    return fs.open(pathArg(path, 1, 'open'), mode)
  end
  local function closeAtEnd(f, first, ...)
    if first == nil then f:close() end
    return first, ...
  end
  io.lines = function(path, ...)   -- like Lua's: the file closes when the iterator reaches its end
    if path == nil then return rawio.lines(nil, ...) end
    local f = results(call('openfile', pathArg(path, 1, 'lines'), 'r'))
    local it = f:lines(...)
    return function() return closeAtEnd(f, it()) end, nil, nil, f
  end
  local function iofile(raw, mode, fname)   -- io.input / io.output: a file name opens through fs
    return function(f)
      local t = type(f)
      if t == 'string' or t == 'number' then f = results(call('openfile', f, mode))
      elseif f ~= nil and not rawio.type(f) then
        error(format("bad argument #1 to '%s' (FILE* expected, got %s)", fname, t), 2)
      end
      if f == nil then return raw() end
      return raw(f)
    end
  end
  io.input = iofile(rawio.input, 'r', 'input')
  io.output = iofile(rawio.output, 'w', 'output')
  io.popen = disabled('io.popen')
  io.tmpfile = disabled('io.tmpfile')

  -- os: time and dates; remove/rename inside the writable folders; a few harmless environment variables.
  local os = {clock = rawos.clock, time = rawos.time, date = rawos.date, difftime = rawos.difftime}
  os.remove = function(path)
    return results(call('remove', pathArg(path, 1, 'remove')))
  end
  os.rename = function(from, to)
    return results(call('rename', pathArg(from, 1, 'rename'), pathArg(to, 2, 'rename')))
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
  package.llmscript_trees = {}   -- plugin trees are not readable in a sandbox (and name the home folder)
  local hidden, visible = {}, {}
  for template in (host.hiddenPath or ''):gmatch('[^;]+') do hidden[template] = true end
  for template in package.path:gmatch('[^;]+') do
    if not hidden[template] then visible[#visible + 1] = template end
  end
  package.path = table.concat(visible, ';')
  if host.recipePath then
    local lib, rest = package.path:match('^(.-;[^;]*/%?/init%.lua);(.*)$')
    package.path = lib and (lib .. ';' .. host.recipePath .. ';' .. rest) or (package.path .. ';' .. host.recipePath)
  end
  local enginePath = host.enginePath or ''
  local function search(name, path, fname, tried, listed)
    for template in path:gmatch('[^;]+') do
      local file = template:gsub('%?', function() return fname end)
      local ok, why = fs.readable(file)
      if ok then
        local chunk, err = fs.loadfile(file, 't')
        if not chunk then
          error(format("error loading module '%s' from file '%s':\n\t%s", name, listed and file or fname, err), 0)
        end
        return chunk, listed and file or (fname .. '.lua')   -- engine folders are not named
      elseif listed then
        tried[#tried + 1] = "\n\tno file '" .. file .. "'" .. (why == 'denied' and ' (outside the allowed folders)' or '')
      end
    end
  end
  local function luaSearcher(name)
    local path = package.path
    if type(path) ~= 'string' then error("sandbox: 'package.path' must be a string", 2) end
    local fname, tried = name:gsub('%.', '/'), {}
    local chunk, file = search(name, enginePath, fname, tried, false)   -- the engine's modules, unlisted
    if chunk then return chunk, file end
    chunk, file = search(name, path, fname, tried, true)
    if chunk then return chunk, file end
    return table.concat(tried)
  end
  local preload = package.searchers[1]
  package.searchers = {preload, luaSearcher,
    function(name) return "\n\tsandbox: native C modules are disabled (module '" .. tostring(name) .. "')" end}
  package.loaded.package = package
end
