-- llm.help: interactive documentation and the README's API list, both from the binding tables.
-- help(x) prints the signature and doc of a native function, the functions of a namespace table,
-- the methods of a tensor, or an intro with no argument; it returns nothing. markdown() returns the
-- API reference as markdown. Docs come from llm._doc(f) (signature, doc) for bound Swift functions.
local M = {}

local doc = rawget(llm, '_doc')

-- Lines of a Lua source file (cached), for the doc comments of Lua-defined functions.
local sources = {}
local function sourceLines(path)
  if sources[path] == nil then
    local lines, f = {}, io.open(path, 'r')
    if f then
      for line in f:lines() do lines[#lines + 1] = line end
      f:close()
    end
    sources[path] = lines
  end
  return sources[path]
end

--- Signature and doc of a Lua function from its definition line and the `---` comment lines above it
--- (one source for the docs of stdlib-lua, like the binding tables are for native functions).
local function luaDocOf(f)
  if type(f) ~= 'function' or not (debug and debug.getinfo) then return nil end
  local info = debug.getinfo(f, 'S')
  if info.what ~= 'Lua' or info.source:sub(1, 1) ~= '@' or info.linedefined <= 0 then return nil end
  local lines = sourceLines(info.source:sub(2))
  local def = lines[info.linedefined]
  if not def then return nil end
  local name, params = def:match('function%s+([%w_.:]+)%s*(%b())')
  if not name then params = def:match('function%s*(%b())') end
  local docs, i = {}, info.linedefined - 1
  while i >= 1 and lines[i]:match('^%s*%-%-%-') do
    table.insert(docs, 1, (lines[i]:gsub('^%s*%-%-%-%s?', '')))
    i = i - 1
  end
  if #docs == 0 then return nil end
  return (name or '') .. (params or '()'), table.concat(docs, ' ')
end

--- Signature and one-line doc of a bound native function or a documented Lua function, or nil.
local function docOf(f)
  if type(f) ~= 'function' then return nil end
  if doc ~= nil then
    local sig, d = doc(f)
    if sig ~= nil and sig ~= '' then return sig, d or '' end
  end
  return luaDocOf(f)
end
M.docOf = docOf

--- For a Lua class (nn.Linear ...): its constructor signature and the first line of its file's header.
local function classDoc(t)
  if type(t) ~= 'table' or type(rawget(t, '__name')) ~= 'string' then return nil end
  local init = rawget(t, 'init')
  if type(init) ~= 'function' or not (debug and debug.getinfo) then return nil end
  local info = debug.getinfo(init, 'S')
  if info.source:sub(1, 1) ~= '@' then return nil end
  local lines = sourceLines(info.source:sub(2))
  local params = (lines[info.linedefined] or ''):match('function%s+[%w_.]+:init%s*(%b())') or '()'
  local parts, i = {}, 1
  while lines[i] and lines[i]:match('^%-%-') do parts[#parts + 1] = (lines[i]:gsub('^%-%-+%s*', '')); i = i + 1 end
  local header = table.concat(parts, ' ')
  header = header:match('^(.-%.)%s') or header   -- its first sentence
  local _, initDoc = luaDocOf(init)                 -- a `---` comment on init wins over the file header
  return rawget(t, '__name') .. params, initDoc or header
end
M.classDoc = classDoc

-- Resolves a dotted global name ('llm.Tensor') with raw access (never trips strict globals).
local function resolve(path)
  local v = _G
  for part in path:gmatch('[^.]+') do
    if type(v) ~= 'table' then return nil end
    v = rawget(v, part)
  end
  return v
end

-- The methods table and type name of an llmscript object (its metatable is protected; the host tells).
local function methodsOf(v)
  local name, methods = llm._methods(v)
  return methods, name
end

-- A name for a table that is a global or a field of a global table ('llm', 'llm.Tensor').
local function nameOf(t)
  for k, v in pairs(_G) do
    if v == t and type(k) == 'string' then return k end
  end
  for k, v in pairs(_G) do
    if type(k) == 'string' and type(v) == 'table' and v ~= _G then
      for k2, v2 in pairs(v) do
        if v2 == t and type(k2) == 'string' then return k .. '.' .. k2 end
      end
    end
  end
  return nil
end

local function sortedKeys(t)
  local keys = {}
  for k in pairs(t) do
    if type(k) == 'string' and k:sub(1, 1) ~= '_' then keys[#keys + 1] = k end
  end
  table.sort(keys)
  return keys
end

-- Functions that also live in a sub-table (tensor methods exported as llm.matmul) are listed once, there.
local function subTableFunctions(t)
  local inSub, subs = {}, {}
  for _, k in ipairs(sortedKeys(t)) do
    local v = rawget(t, k)
    if type(v) == 'table' and v ~= t and v ~= _G then
      subs[#subs + 1] = k
      for _, f in pairs(v) do if type(f) == 'function' then inSub[f] = true end end
    end
  end
  return inSub, subs
end

local function listTable(t, title)
  local lines = { title }
  local width = 0
  local inSub = subTableFunctions(t)
  local keys, skipped = {}, 0
  for _, k in ipairs(sortedKeys(t)) do
    if inSub[rawget(t, k)] then skipped = skipped + 1 else keys[#keys + 1] = k end
  end
  for _, k in ipairs(keys) do width = math.max(width, #k) end
  for _, k in ipairs(keys) do
    local v = rawget(t, k)
    local what
    local sig, d = docOf(v)
    if not sig then sig, d = classDoc(v) end
    if sig then what = d ~= '' and d or sig
    elseif type(v) == 'function' then what = '(Lua function)'
    elseif type(v) == 'table' then what = '(table: help(' .. (nameOf(v) or k) .. ') lists its contents)'
    else what = '= ' .. tostring(v) end
    lines[#lines + 1] = string.format('  %-' .. width .. 's  %s', k, what)
  end
  if #keys == 0 then lines[#lines + 1] = '  (no public fields)' end
  if skipped > 0 then
    lines[#lines + 1] = '  ... and ' .. skipped .. ' methods of its tables, also callable from here (llm.matmul(t, u) == t:matmul(u))'
  end
  return table.concat(lines, '\n')
end

local intro = [[
llmscript: tensors, autograd and training recipes in Lua 5.4.
  help(llm)            the functions of the llm namespace
  help(llm.Tensor)     tensor methods (t:matmul(u) is also llm.matmul(t, u))
  help(llm.zeros)      signature and description of one function
  help(t)              the methods of a tensor t
In the REPL: Tab completes names (llm.ze<Tab>, t:ma<Tab>); a trailing ';' hides the result.]]

--- The help text for a value (what help(x) prints).
function M.text(...)
  if select('#', ...) == 0 then return intro end
  local x = ...
  if type(x) == 'string' then
    local v = resolve(x)
    if v == nil then v = resolve('llm.' .. x) end
    if v == nil then v = resolve('llm.Tensor.' .. x) end
    if v == nil then return "no help for '" .. x .. "'" end
    x = v
  end
  local sig, d = docOf(x)
  if sig then return d ~= '' and (sig .. '\n  ' .. d) or sig end
  local ty = type(x)
  if ty == 'function' then
    local info = debug and debug.getinfo and debug.getinfo(x, 'S')
    if info and info.what == 'Lua' then
      return 'a Lua function (defined at ' .. info.short_src .. ':' .. info.linedefined .. ')'
    end
    return 'a built-in Lua function (see the Lua 5.4 manual)'
  elseif ty == 'table' then
    local name = nameOf(x)
    local csig, cdoc = classDoc(x)
    if csig then return csig .. '\n  ' .. cdoc .. '\n' .. listTable(x, 'methods:') end
    return listTable(x, (name or 'table') .. ':')
  elseif ty == 'userdata' then
    local methods, typeName = methodsOf(x)
    if methods then return listTable(methods, (typeName or 'userdata') .. ' methods:') end
    return 'a userdata value'
  end
  return 'a ' .. ty .. ' value: ' .. tostring(x)
end

--- Prints help about x (see the intro: help()).
function M.help(...)
  print(M.text(...))
end

-- A Lua function's signature renamed to where it is reachable: losses.mse(...) listed in nn -> nn.mse(...).
local function renamed(sig, path, key)
  local name, params = sig:match('^([%w_.:]*)(%b())$')
  if not name or name:find('^' .. path:gsub('%.', '%%.') .. '[.:]') then return sig end
  return path .. (name:find(':') and ':' or '.') .. key .. params
end

-- Markdown list of the bound functions of one table; `seen` skips functions listed elsewhere.
local function markdownTable(t, skip, path)
  local lines = {}
  for _, k in ipairs(sortedKeys(t)) do
    local v = rawget(t, k)
    local sig, d = docOf(v)
    if sig and doc and (doc(v) or '') == '' then sig = renamed(sig, path, k) end
    if not sig then sig, d = classDoc(v) end
    if k == 'super' or (k == 'init' and classDoc(t)) then sig = nil end   -- shown with the class itself
    if sig and not skip[v] then
      lines[#lines + 1] = '- `' .. sig .. '`' .. (d ~= '' and (' — ' .. d) or '')
    end
  end
  return lines
end

--- The API reference in markdown: every global namespace with bound functions, its tables (such as
--- llm.Tensor) and the operators of the matching userdata type, sorted by name.
function M.markdown()
  local out = {}
  local registry = debug and debug.getregistry and debug.getregistry() or {}
  local function section(path, t, skip)
    local lines = markdownTable(t, skip, path)
    local mt = rawget(registry, path)
    if type(mt) == 'table' then
      local ops = {}
      for k, v in pairs(mt) do
        local sig, d = docOf(v)
        if type(k) == 'string' and k:sub(1, 2) == '__' and sig then
          ops[#ops + 1] = '- `' .. sig .. '`' .. (d ~= '' and (' — ' .. d) or '')
        end
      end
      table.sort(ops)
      for _, l in ipairs(ops) do lines[#lines + 1] = l end
    end
    if #lines > 0 then
      out[#out + 1] = '### `' .. path .. '`\n\n' .. table.concat(lines, '\n') .. '\n'
    end
  end
  -- depth-first over global tables (package.loaded would repeat every module: skipped), each table once
  local seen = { [_G] = true, [package] = true }
  local function visit(path, t, depth)
    if seen[t] then return end
    seen[t] = true
    local inSub, subs = subTableFunctions(t)
    section(path, t, inSub)
    if depth < 3 then
      for _, k in ipairs(subs) do
        local sub = rawget(t, k)
        if k == 'super' then goto continue end   -- a class's base class: documented where it is defined
        if classDoc(sub) then
          if not seen[sub] then seen[sub] = true; section(path .. '.' .. k, sub, {}) end   -- its own documented methods
        else visit(path .. '.' .. k, sub, depth + 1) end
        ::continue::
      end
    end
  end
  local globals = {}
  for k, v in pairs(_G) do
    if type(k) == 'string' and type(v) == 'table' then globals[#globals + 1] = k end
  end
  table.sort(globals)
  for _, g in ipairs(globals) do visit(g, rawget(_G, g), 1) end
  return table.concat(out, '\n')
end

return M
