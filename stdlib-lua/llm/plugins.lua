-- llm.plugins: reads the manifests of installed plugins (LuaRocks rocks in llmscript's trees, listed in
-- package.llmscript_trees, project tree first). A plugin's manifest is the module `<name>.llmscript`, a
-- data module returning {llmscript = '>=0.1', provides = {augmenters = {...}, schedules = {...},
-- recipes = {...}}}. Manifests and the trees' LuaRocks manifests are data: each is evaluated by
-- llm.loadData in a fresh bare Lua state (no libraries, text only) with an instruction and memory
-- budget, never `require`d; a looping, allocating or malformed one is an error naming the file. Pure
-- reading: the `llmscript plugin` commands install and remove through LuaRocks.
local M = {}

--- The kinds of things a plugin can provide.
M.kinds = { 'augmenters', 'recipes', 'schedules' }
local isKind = {}
for _, k in ipairs(M.kinds) do isKind[k] = true end
local topKeys = { description = true, llmscript = true, name = true, provides = true }

local function parseVersion(v)
  if type(v) ~= 'string' or not v:match('^%d+[%.%d]*$') or v:match('%.%.') or v:match('%.$') then return nil end
  local parts = {}
  for n in v:gmatch('%d+') do parts[#parts + 1] = tonumber(n) end
  return parts
end

--- Compares two dotted numeric versions ('0.1' == '0.1.0'): -1, 0 or 1.
function M.compareVersions(a, b)
  local pa, pb = parseVersion(a), parseVersion(b)
  if not pa then error(("Invalid version: expected digits and dots, got '%s'"):format(tostring(a)), 2) end
  if not pb then error(("Invalid version: expected digits and dots, got '%s'"):format(tostring(b)), 2) end
  for i = 1, math.max(#pa, #pb) do
    local x, y = pa[i] or 0, pb[i] or 0
    if x ~= y then return x < y and -1 or 1 end
  end
  return 0
end

local ops = {
  ['>='] = function(c) return c >= 0 end, ['>'] = function(c) return c > 0 end,
  ['<='] = function(c) return c <= 0 end, ['<'] = function(c) return c < 0 end,
  ['=='] = function(c) return c == 0 end, ['='] = function(c) return c == 0 end,
  ['~='] = function(c) return c ~= 0 end,
}

--- Parses a constraint such as '>=0.1', '>= 0.1, < 2' or '0.1.0' (exact) into {{op, version}, ...};
--- returns nil and a message when it is malformed.
function M.parseConstraint(s)
  if type(s) ~= 'string' or s:match('^%s*$') then
    return nil, ("Invalid 'llmscript': expected a version constraint such as '>=0.1', got %s"):format(
      type(s) == 'string' and "''" or type(s))
  end
  local out = {}
  for part in (s .. ','):gmatch('([^,]*),') do
    local op, v = part:match('^%s*([<>=~]*)%s*([%d%.]+)%s*$')
    if not op or (op ~= '' and not ops[op]) or not parseVersion(v) then
      return nil, ("Invalid 'llmscript': expected a version constraint such as '>=0.1', got '%s'"):format(s)
    end
    out[#out + 1] = { op == '' and '==' or op, v }
  end
  return out
end

--- True when `version` satisfies every clause of `constraint` (raises on a malformed constraint).
function M.satisfies(version, constraint)
  local clauses, err = M.parseConstraint(constraint)
  if not clauses then error(err, 2) end
  for _, c in ipairs(clauses) do
    if not ops[c[1]](M.compareVersions(version, c[2])) then return false end
  end
  return true
end

local function sortedKeys(t)
  local ks = {}
  for k in pairs(t) do ks[#ks + 1] = tostring(k) end
  table.sort(ks)
  return table.concat(ks, ', ')
end

--- Checks a manifest table; returns a normalized copy {llmscript, provides = {kind = {name = module}}}
--- or nil and a message. Array entries of a kind are module names, provided under their last segment.
function M.validate(m)
  if type(m) ~= 'table' then return nil, ('manifest: expected a table, got %s'):format(type(m)) end
  for k in pairs(m) do
    if not topKeys[k] then
      return nil, ("manifest: unknown key '%s' (expected one of %s)"):format(tostring(k), sortedKeys(topKeys))
    end
  end
  local _, err = M.parseConstraint(m.llmscript)
  if err then return nil, 'manifest: ' .. err end
  if type(m.provides) ~= 'table' then
    return nil, ("manifest: Invalid 'provides': expected a table, got %s"):format(type(m.provides))
  end
  local provides = {}
  for kind, entries in pairs(m.provides) do
    if not isKind[kind] then
      return nil, ("manifest: Invalid 'provides.%s': expected one of %s"):format(tostring(kind), table.concat(M.kinds, ', '))
    end
    if type(entries) ~= 'table' then
      return nil, ("manifest: Invalid 'provides.%s': expected a table, got %s"):format(kind, type(entries))
    end
    local map = {}
    for k, v in pairs(entries) do
      if type(v) ~= 'string' or v == '' then
        return nil, ("manifest: Invalid 'provides.%s': expected module names, got %s"):format(kind, type(v))
      end
      local name = type(k) == 'string' and k or v:match('([^%.]+)$')
      map[name] = v
    end
    provides[kind] = map
  end
  return { llmscript = m.llmscript, provides = provides, description = m.description }
end

-- Budgets of the data files read here (llm.loadData: a bare Lua state, no libraries, text only).
local manifestLimits = { maxInstructions = 1000000, maxMemory = 8 * 1024 * 1024 }
local treeLimits = { maxInstructions = 20000000, maxMemory = 64 * 1024 * 1024 }
local maxFileBytes = 16 * 1024 * 1024
local ENOENT, ENOTDIR = 2, 20

-- Evaluates the data file at `path` in a bounded bare state: true, its result, its globals; false and
-- 'missing' when the file does not exist; false and a message naming the file otherwise.
local function readData(path, limits)
  local f, err, code = io.open(path, 'rb')
  if not f then return false, (code == ENOENT or code == ENOTDIR) and 'missing' or err end
  local size = f:seek('end')
  if not size or size > maxFileBytes then
    f:close()
    return false, ('%s: larger than %d bytes; not a data file'):format(path, maxFileBytes)
  end
  f:seek('set')
  local src = f:read('a'); f:close()
  local opts = { name = path }
  for k, v in pairs(limits) do opts[k] = v end
  local ok, value, globals = pcall(llm.loadData, src, opts)
  if not ok then return false, tostring(value) end
  return true, value, globals
end

local function luaDirs(tree)
  return tree .. '/share/lua/5.4', tree .. '/lib/lua/5.4'
end

local function treeManifestPath(tree) return tree .. '/lib/luarocks/rocks-5.4/manifest' end

-- Checks the `repository` table of a tree manifest: name -> version -> list of {modules = {name = path}}.
local function checkRepository(repo)
  if type(repo) ~= 'table' then return ("Invalid 'repository': expected a table, got %s"):format(type(repo)) end
  for name, versions in pairs(repo) do
    if type(name) ~= 'string' or type(versions) ~= 'table' then
      return ("Invalid 'repository.%s': expected a table of versions, got %s"):format(tostring(name), type(versions))
    end
    for v, infos in pairs(versions) do
      local where = ("'repository.%s.%s'"):format(name, tostring(v))
      if type(v) ~= 'string' or type(infos) ~= 'table' then
        return ('Invalid %s: expected a list of install records, got %s'):format(where, type(infos))
      end
      for _, info in pairs(infos) do
        if type(info) ~= 'table' then return ('Invalid %s: expected install records, got %s'):format(where, type(info)) end
        if info.modules ~= nil and type(info.modules) ~= 'table' then
          return ('Invalid %s.modules: expected a table, got %s'):format(where, type(info.modules))
        end
        for m, rel in pairs(info.modules or {}) do
          if type(m) ~= 'string' or type(rel) ~= 'string' then
            return ('Invalid %s.modules: expected module = path strings, got %s = %s'):format(where, type(m), type(rel))
          end
        end
      end
    end
  end
end

--- The `repository` table of a tree's LuaRocks manifest ({} when the tree has none). A manifest that
--- loops, allocates or is not LuaRocks' shape is an error naming the file (never "no plugins").
function M.repository(tree)
  local path = treeManifestPath(tree)
  local ok, value, globals = readData(path, treeLimits)
  if not ok then
    if value == 'missing' then return {} end
    error('invalid plugin tree manifest ' .. value, 0)
  end
  local repo = globals.repository
  if repo == nil and type(value) == 'table' then repo = value.repository end
  local err = checkRepository(repo)
  if err then error(('invalid plugin tree manifest %s: %s'):format(path, err), 0) end
  return repo
end

-- A module path of a tree manifest stays inside the tree: relative, no '..' segment.
local function insideTree(rel)
  if rel:sub(1, 1) == '/' then return false end
  for seg in rel:gmatch('[^/]+') do if seg == '..' then return false end end
  return true
end

--- Evaluates a plugin manifest file (`<name>.llmscript`) as data and validates it: the normalized
--- manifest or nil and a message. The file may only return a literal table (no globals, no calls,
--- bounded instructions and memory).
function M.readManifest(path, name)
  local ok, m, globals = readData(path, manifestLimits)
  if not ok then return nil, ('%s: cannot load manifest: %s'):format(name, m == 'missing' and ('no file ' .. path) or m) end
  local g = next(globals)
  if g ~= nil then
    return nil, ("%s.llmscript: sets the global '%s'; a manifest only returns a table"):format(name, tostring(g))
  end
  local man, verr = M.validate(m)
  if not man then return nil, ('%s.llmscript: %s'):format(name, verr) end
  return man
end

--- Reads one installed rock of a tree: its manifest and the modules it provides. Returns an entry
--- {name, version, tree, llmscript, provides, manifest} or nil and a message naming what is wrong.
function M.inspect(tree, name, version)
  return M.inspectIn(M.repository(tree), tree, name, version)
end

--- M.inspect with the tree's repository table already read (M.repository(tree)).
function M.inspectIn(repo, tree, name, version)
  local versions = repo[name]
  if versions == nil then return nil, ("'%s' is not installed in %s"):format(name, tree) end
  if not version then version = next(versions) end
  local info = versions[version] and versions[version][1] or {}
  local modules = info.modules or {}
  local rel = modules[name .. '.llmscript']
  if not rel then
    return nil, ("%s %s has no manifest module '%s.llmscript'"):format(name, version, name)
  end
  if not insideTree(rel) then
    return nil, ("%s: manifest module path '%s' leaves the tree"):format(name, rel)
  end
  local share = luaDirs(tree)
  local path = share .. '/' .. rel
  local man, err = M.readManifest(path, name)
  if not man then return nil, err end
  for kind, map in pairs(man.provides) do
    for pname, mod in pairs(map) do
      if not modules[mod] then
        return nil, ("%s: provides %s '%s' from module '%s', which the rock does not install"):format(
          name, kind:sub(1, -2), pname, mod)
      end
    end
  end
  return { name = name, version = version, tree = tree, llmscript = man.llmscript,
           provides = man.provides, description = man.description, manifest = path }
end

--- Names and versions of every rock of a tree (plugins or not), sorted by name.
function M.rocks(tree, repo)
  local out = {}
  for name, versions in pairs(repo or M.repository(tree)) do
    for v in pairs(versions) do out[#out + 1] = { name = name, version = v } end
  end
  table.sort(out, function(a, b) return a.name < b.name or (a.name == b.name and a.version < b.version) end)
  return out
end

--- The trees searched for plugins, in order (package.llmscript_trees, set by the host).
function M.trees()
  local t = rawget(package, 'llmscript_trees')
  return type(t) == 'table' and t or {}
end

--- Every installed plugin: a list of {name, version, tree, llmscript, provides, manifest}, project
--- tree first, by name. Rocks without a manifest module are not plugins and are skipped; a plugin with
--- a broken manifest is listed with `error` set.
function M.list(trees)
  local out = {}
  for _, tree in ipairs(trees or M.trees()) do
    local repo = M.repository(tree)
    for _, r in ipairs(M.rocks(tree, repo)) do
      local e, err = M.inspectIn(repo, tree, r.name, r.version)
      if e then
        out[#out + 1] = e
      elseif not err:match("has no manifest module") then
        out[#out + 1] = { name = r.name, version = r.version, tree = tree, provides = {}, error = err }
      end
    end
  end
  return out
end

--- What installed plugins provide of one kind ('augmenters', 'schedules' or 'recipes'): a map
--- name -> {module, plugin, version, tree}. The first tree wins when two plugins use one name.
function M.provides(kind, trees)
  if not isKind[kind] then
    error(("Invalid 'kind': expected one of %s, got %s"):format(table.concat(M.kinds, ', '), tostring(kind)), 2)
  end
  local out = {}
  for _, p in ipairs(M.list(trees)) do
    for name, mod in pairs(p.provides[kind] or {}) do
      if out[name] == nil then
        out[name] = { module = mod, plugin = p.name, version = p.version, tree = p.tree }
      end
    end
  end
  return out
end

--- One line per kind, e.g. 'augmenters: abbrev, expand; schedules: ramp' ('nothing' when empty).
function M.describe(provides)
  local parts = {}
  for _, kind in ipairs(M.kinds) do
    local names = {}
    for n in pairs(provides[kind] or {}) do names[#names + 1] = n end
    table.sort(names)
    if #names > 0 then parts[#parts + 1] = kind .. ': ' .. table.concat(names, ', ') end
  end
  return #parts > 0 and table.concat(parts, '; ') or 'nothing'
end

return M
