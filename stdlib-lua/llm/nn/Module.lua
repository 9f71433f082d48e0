-- nn.Module: the base class of layers. A module holds parameters (tensors that require grad), buffers
-- (other tensors) and child modules as ordinary fields, in assignment order; it holds no activations.
-- Subclass in Lua with nn.Module:extend('MyBlock') and define :init(...) and :forward(...).
-- Paths are dotted and 0-based for list children ('blocks.0.attn.qkv.weight'), as in checkpoints.
-- Forward hooks (module:hook('forward', fn) -> handle with :remove()) observe or replace a module's output
-- (llm/inspect.lua, llm/privacy/persample.lua); they are not part of the state.
-- A module built inside nn.withoutInit (llm/nn/noinit.lua) refuses to run while it holds a tensor no load wrote.
local noinit = require 'llm.nn.noinit'
local unloaded = noinit.registry

local Module = {}
Module.__index = Module
Module.__name = 'nn.Module'

local function isModule(v) return type(v) == 'table' and getmetatable(v) ~= nil and rawget(v, '_isModule') == true end
Module.isModule = isModule

local function join(prefix, name) return prefix and (prefix .. '.' .. name) or name end

--- Creates a subclass: local Block = nn.Module:extend('Block').
function Module:extend(name)
  if type(name) ~= 'string' then error("bad argument #1 to 'extend' (string expected, got " .. type(name) .. ")", 2) end
  local cls = {}
  for k, v in pairs(self) do
    if type(k) == 'string' and k:sub(1, 2) == '__' then cls[k] = v end
  end
  cls.__index = cls
  cls.__name = name
  cls.super = self
  return setmetatable(cls, {
    __index = self,
    __call = function(c, ...) return c:new(...) end,
    __tostring = function(c) return 'class ' .. rawget(c, '__name') end,
  })
end

--- Instantiates the class, calling :init(...).
function Module:new(...)
  local obj = setmetatable({_isModule = true, _order = {}, _seen = {}, training = true}, self)
  obj:init(...)
  return obj
end

--- Override to set up fields; the base does nothing.
function Module:init() end

--- Override: the computation. Called by module(x).
function Module:forward()
  error(self.__name .. ': forward is not implemented', 2)
end

-- Fields are recorded in assignment order; child modules learn their path.
function Module:__newindex(k, v)
  if type(k) == 'string' and k:sub(1, 1) ~= '_' and not rawget(self, '_seen')[k] then
    rawget(self, '_seen')[k] = true
    local order = rawget(self, '_order')
    order[#order + 1] = k
  end
  rawset(self, k, v)
  if isModule(v) then v:_setPath(join(rawget(self, '_path'), tostring(k))) end
end

function Module:_setPath(path)
  rawset(self, '_path', path)
  for _, c in ipairs(self:namedChildren()) do c[2]:_setPath(join(path, c[1])) end
end

local function where(self)
  local path = rawget(self, '_path')
  return path and (path .. ' (' .. self.__name .. ')') or self.__name
end

-- Runs the forward hooks on a call's results r (table.pack of pcall): each may replace the first result.
local function runHooks(self, hooks, r, ...)
  local input = ...
  for _, h in ipairs({table.unpack(hooks)}) do   -- a copy: a hook may remove itself
    local ok, out = pcall(h.fn, self, input, r[2], ...)
    if not ok then
      error((type(out) == 'string' and out:sub(1, 3) ~= 'in ') and ('in forward hook of ' .. where(self) .. ': ' .. out) or out, 0)
    end
    if out ~= nil then r[2] = out end
  end
  return table.unpack(r, 2, r.n)
end

--- Calls forward; errors are prefixed with the module's path and class. Forward hooks (Module:hook) run
--- after it, in registration order; a module without hooks pays one rawget.
function Module:__call(...)
  if next(unloaded) ~= nil then noinit.check(self) end
  local r = table.pack(pcall(self.forward, self, ...))
  if not r[1] then
    local msg = r[2]
    if type(msg) == 'string' and msg:sub(1, 3) ~= 'in ' then msg = 'in ' .. where(self) .. ': ' .. msg end
    error(msg, 0)
  end
  local hooks = rawget(self, '_forwardHooks')
  if hooks then return runHooks(self, hooks, r, ...) end
  return table.unpack(r, 2, r.n)
end

--- module:hook('forward', fn) -> handle: after every call of the module, fn(module, input, output, ...) runs
--- (input: the first argument, output: the first result, ...: all the arguments); a non-nil return replaces
--- the output (the next hook sees the replacement). Hooks run in registration order; handle:remove() removes
--- one (removing twice is harmless). Not saved in checkpoints.
function Module:hook(kind, fn)
  if kind ~= 'forward' then error("bad argument #1 to 'hook' (expected 'forward', got " .. tostring(kind) .. ")", 2) end
  if type(fn) ~= 'function' then error("bad argument #2 to 'hook' (function expected, got " .. type(fn) .. ")", 2) end
  local hooks = rawget(self, '_forwardHooks') or {}
  rawset(self, '_forwardHooks', hooks)
  local entry = {fn = fn}
  hooks[#hooks + 1] = entry
  local handle = {}
  function handle.remove()
    local list = rawget(self, '_forwardHooks')
    for i, e in ipairs(list or {}) do
      if e == entry then table.remove(list, i); break end
    end
    if list and #list == 0 then rawset(self, '_forwardHooks', nil) end
  end
  return handle
end

--- The number of forward hooks on this module.
function Module:numHooks() return #(rawget(self, '_forwardHooks') or {}) end

--- Ordered list of {name, child} pairs.
function Module:namedChildren()
  local out = {}
  for _, k in ipairs(rawget(self, '_order')) do
    local v = rawget(self, k)
    if isModule(v) then out[#out + 1] = {k, v} end
  end
  return out
end

-- Ordered {path, module, parent, key} of every module below self, parents first (paths relative to self;
-- parent[key] is the module: its field name, or its 1-based index when a container names children by position).
function Module:_descendants()
  local out = {}
  local function walk(m, prefix)
    for _, c in ipairs(m:namedChildren()) do
      local name, child = c[1], c[2]
      local key = rawget(m, name) == child and name or tonumber(name) + 1
      local path = join(prefix, name)
      out[#out + 1] = {path, child, m, key}
      walk(child, path)
    end
  end
  walk(self, nil)
  return out
end

-- Puts `child` at self[key] in place of the module there, under that module's path (model surgery:
-- quantization, LoRA).
function Module:_replaceChild(key, child)
  rawset(self, key, child)
  child:_setPath(join(rawget(self, '_path'), type(key) == 'number' and tostring(key - 1) or key))
end

--- Ordered list of child modules.
function Module:children()
  local out = {}
  for _, c in ipairs(self:namedChildren()) do out[#out + 1] = c[2] end
  return out
end

--- Ordered list of {path, tensor, isParameter} for this module's own tensors.
function Module:_ownTensors()
  local out = {}
  for _, k in ipairs(rawget(self, '_order')) do
    local v = rawget(self, k)
    if llm.isTensor(v) then out[#out + 1] = {k, v, v.requiresGrad} end
  end
  return out
end

-- Walks the tree: fn(path, tensor, isParameter) for every tensor, parents first, in order.
local function walk(m, prefix, fn)
  for _, e in ipairs(m:_ownTensors()) do fn(join(prefix, e[1]), e[2], e[3]) end
  for _, c in ipairs(m:namedChildren()) do walk(c[2], join(prefix, c[1]), fn) end
end

--- Ordered parameter paths (shared tensors appear once, under their first path).
function Module:parameterNames()
  local names, seen = {}, {}
  walk(self, nil, function(path, t, isParam)
    if isParam and not seen[t] then seen[t] = true; names[#names + 1] = path end
  end)
  return names
end

-- A path -> tensor table whose pairs() visits the paths in the module's order (parents first, then
-- children in assignment order), not in Lua's hash order, which differs from process to process: code
-- that initializes or updates tensors with `for path, p in pairs(model:namedParameters())` draws its
-- random numbers in the same order every run. Keys added later are visited after the ordered ones.
local OrderedPaths = {}
OrderedPaths.__name = 'llm.PathTable'
function OrderedPaths.__pairs(t)
  local keys = getmetatable(t).keys
  local i, extra = 0, nil
  return function()
    while i < #keys do
      i = i + 1
      local k = keys[i]
      local v = rawget(t, k)
      if v ~= nil then return k, v end
    end
    repeat   -- keys the caller added: after the ordered ones
      local v
      extra, v = next(t, extra)
      if extra == nil then return nil end
      if not getmetatable(t).known[extra] then return extra, v end
    until false
  end, t, nil
end

local function orderedTable()
  local keys, known = {}, {}
  local out = setmetatable({}, {__pairs = OrderedPaths.__pairs, __name = OrderedPaths.__name, keys = keys, known = known})
  return out, function(k, v)
    if not known[k] then known[k] = true; keys[#keys + 1] = k end
    out[k] = v
  end
end
Module.orderedTable = orderedTable

--- Table path -> parameter tensor; pairs() over it visits the paths in module order.
function Module:namedParameters()
  local out, put = orderedTable()
  local seen = {}
  walk(self, nil, function(path, t, isParam)
    if isParam and not seen[t] then seen[t] = true; put(path, t) end
  end)
  return out
end

--- Ordered array of parameter tensors (each once).
function Module:parameters()
  local out, seen = {}, {}
  walk(self, nil, function(_, t, isParam)
    if isParam and not seen[t] then seen[t] = true; out[#out + 1] = t end
  end)
  return out
end

--- Total number of parameter elements.
function Module:numParameters()
  local n = 0
  for _, p in ipairs(self:parameters()) do n = n + p:numel() end
  return n
end

--- Table path -> tensor of every parameter and buffer (tied tensors appear under each path); pairs() over it
--- visits the paths in module order.
function Module:stateDict()
  local out, put = orderedTable()
  walk(self, nil, function(path, t) put(path, t) end)
  return out
end

-- Validates sd against the module (errors at `level` name the path and both shapes, or the missing and
-- unexpected keys when strict); returns own state, missing and unexpected paths.
local function checkState(self, sd, opts, who, level)
  level = level + 1
  if type(sd) ~= 'table' then error("bad argument #1 to '" .. who .. "' (table expected, got " .. type(sd) .. ")", level) end
  opts = opts or {}
  for k in pairs(opts) do
    if k ~= 'strict' then error(who .. ": unknown option '" .. tostring(k) .. "'; expected one of: 'strict'", level) end
  end
  local strict = opts.strict ~= false
  local own = self:stateDict()
  local missing, unexpected = {}, {}
  -- a tied tensor (one tensor under several paths) is covered when any of its paths is present
  local provided = {}
  for path, t in pairs(own) do if sd[path] ~= nil then provided[t] = true end end
  local paths = {}
  for path in pairs(own) do paths[#paths + 1] = path end
  table.sort(paths)   -- the same error every run
  for _, path in ipairs(paths) do
    local t = own[path]
    local src = sd[path]
    if src == nil then
      if not provided[t] then missing[#missing + 1] = path end
    else
      if not llm.isTensor(src) then error(who .. ": '" .. path .. "' is a " .. type(src) .. ", expected llm.Tensor", level) end
      local a, b = src:shape(), t:shape()
      if table.concat(a, ',') ~= table.concat(b, ',') then
        error(string.format("%s: '%s' has shape [%s] in the state dict but [%s] in the model",
          who, path, table.concat(a, ', '), table.concat(b, ', ')), level)
      end
    end
  end
  for path in pairs(sd) do if own[path] == nil then unexpected[#unexpected + 1] = path end end
  table.sort(missing); table.sort(unexpected)
  if strict and (#missing > 0 or #unexpected > 0) then
    local parts = {}
    if #missing > 0 then parts[#parts + 1] = 'missing keys: ' .. table.concat(missing, ', ') end
    if #unexpected > 0 then parts[#parts + 1] = 'unexpected keys: ' .. table.concat(unexpected, ', ') end
    error(who .. ': ' .. table.concat(parts, '; '), level)
  end
  return own, missing, unexpected
end

--- Checks that sd would load (the same errors as loadStateDict) without changing anything.
function Module:checkStateDict(sd, opts)
  local _, missing, unexpected = checkState(self, sd, opts, 'loadStateDict', 2)
  return missing, unexpected
end

--- Copies tensors from sd into this module. With strict (default) missing and unexpected keys are errors.
--- Everything is checked before the first copy, so a failing call changes nothing.
function Module:loadStateDict(sd, opts)
  local own, missing, unexpected = checkState(self, sd, opts, 'loadStateDict', 2)
  llm.noGrad(function()
    for path, t in pairs(own) do if sd[path] ~= nil then t:copy_(sd[path]); unloaded[t] = nil end end
  end)
  return missing, unexpected
end

--- Sets training mode on this module and all children (dropout is active only in training).
function Module:train(flag)
  if flag == nil then flag = true end
  rawset(self, 'training', flag)
  for _, c in ipairs(self:children()) do c:train(flag) end
  return self
end

--- Evaluation mode: train(false).
function Module:eval() return self:train(false) end

--- Clears the gradients of all parameters.
function Module:zeroGrad()
  for _, p in ipairs(self:parameters()) do p.grad = nil end
end

--- Calls fn(module) on every module of the tree (children first... then self), returns self.
function Module:apply(fn)
  for _, c in ipairs(self:children()) do c:apply(fn) end
  fn(self)
  return self
end

--- Override to describe constructor arguments in the printed tree.
function Module:extraRepr() return '' end

local function shapeOf(t) return '[' .. table.concat(t:shape(), ', ') .. ']' end

function Module:__tostring()
  local lines = {}
  local function render(m, indent, label)
    local head = indent .. (label and ('(' .. label .. '): ') or '') .. m.__name .. '(' .. m:extraRepr()
    local kids, own = m:namedChildren(), m:_ownTensors()
    if #kids == 0 then
      local shapes = {}
      for _, e in ipairs(own) do shapes[#shapes + 1] = e[1] .. '=' .. shapeOf(e[2]) end
      local sep = (m:extraRepr() ~= '' and #shapes > 0) and '; ' or ''
      lines[#lines + 1] = head .. sep .. table.concat(shapes, ' ') .. ')'
      return
    end
    lines[#lines + 1] = head .. (m:extraRepr() ~= '' and ',' or '')
    for _, e in ipairs(own) do lines[#lines + 1] = indent .. '  ' .. e[1] .. ': ' .. shapeOf(e[2]) end
    for _, c in ipairs(kids) do render(c[2], indent .. '  ', c[1]) end
    lines[#lines + 1] = indent .. ')'
  end
  render(self, '', nil)
  if rawget(self, '_path') == nil then
    lines[#lines + 1] = string.format('-- %d parameters', self:numParameters())
  end
  return table.concat(lines, '\n')
end

return Module
