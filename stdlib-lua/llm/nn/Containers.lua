-- Containers: nn.Sequential (calls children in order) and nn.ModuleList (an indexable list).
-- Children are stored at integer keys 1..n (Lua indexing) and named 0..n-1 in paths (checkpoints).
local Module = require 'llm.nn.Module'

local function checkModule(m, i, who, level)
  if not Module.isModule(m) then
    error(string.format("%s: element %d is a %s, expected an nn.Module", who, i, type(m)), level or 3)
  end
end

local ModuleList = Module:extend('nn.ModuleList')

--- nn.ModuleList(m1, m2, ... | {modules}): an indexable list of modules (list[1], #list, list:add(m)).
function ModuleList:init(...)
  local items = select('#', ...) == 1 and type(...) == 'table' and not Module.isModule(...) and ... or {...}
  -- level 4: checkModule <- init <- new <- the caller of nn.Sequential(...) / nn.ModuleList(...)
  for i, m in ipairs(items) do checkModule(m, i, self.__name, 4); self:add(m) end
end

--- Appends a module; returns self.
function ModuleList:add(m)
  checkModule(m, #self + 1, self.__name)
  local n = #self + 1
  rawset(self, n, m)
  m:_setPath((rawget(self, '_path') and (rawget(self, '_path') .. '.') or '') .. tostring(n - 1))
  return self
end

function ModuleList:__len()
  local n = 0
  while rawget(self, n + 1) ~= nil do n = n + 1 end
  return n
end

function ModuleList:namedChildren()
  local out = {}
  for i = 1, #self do out[i] = {tostring(i - 1), rawget(self, i)} end
  return out
end

function ModuleList:forward()
  error('nn.ModuleList has no forward; iterate over it', 2)
end

local Sequential = ModuleList:extend('nn.Sequential')

--- nn.Sequential(m1, m2, ...): calls the modules in order, each on the previous one's output.
function Sequential:init(...) ModuleList.init(self, ...) end

function Sequential:forward(x, ...)
  for i = 1, #self do x = rawget(self, i)(x, ...) end
  return x
end

return {ModuleList = ModuleList, Sequential = Sequential}
