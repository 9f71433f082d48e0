-- llm.repl: how the REPL shows the results of an expression. format(...) returns one string: results
-- separated by tabs; strings quoted; tensors and other values with __tostring through tostring; tables
-- shallow and bounded, like {1, 2, 3, x = 4}. Pure formatting: no output, no global state.
local M = {}

M.maxItems = 20      -- table entries shown before '...'
M.maxWidth = 400     -- characters of a table shown before '...'

local keywords = {}
for w in ([[and break do else elseif end false for function goto if in local nil not or repeat
  return then true until while]]):gmatch('%a+') do keywords[w] = true end

local function isIdentifier(k)
  return type(k) == 'string' and k:match('^[%a_][%w_]*$') ~= nil and not keywords[k]
end

local function quote(s)
  return (string.format('%q', s):gsub('\\\n', '\\n'))
end

local function hasToString(v)
  local mt = getmetatable(v)
  return type(mt) == 'table' and rawget(mt, '__tostring') ~= nil
end

-- A value nested inside a table: one line, short.
local function short(v)
  local ty = type(v)
  if ty == 'string' then
    if #v > 60 then v = v:sub(1, 57) .. '...' end
    return quote(v)
  elseif ty == 'table' and not hasToString(v) then
    return next(v) == nil and '{}' or '{...}'
  elseif ty == 'userdata' or ty == 'table' then
    local s = tostring(v)
    if s:find('\n') then
      local mt = getmetatable(v)   -- llmscript types protect theirs: getmetatable gives the type name
      local name = type(mt) == 'string' and mt or type(mt) == 'table' and rawget(mt, '__name') or ty
      return '<' .. tostring(name) .. '>'
    end
    return s
  end
  return tostring(v)
end

local function keyOrder(a, b)
  local ta, tb = type(a), type(b)
  if ta ~= tb then return ta < tb end
  if ta == 'number' or ta == 'string' then return a < b end
  return tostring(a) < tostring(b)
end

-- A table without __tostring: the array part 1..n first, then the other keys in a stable order.
local function showTable(t)
  local parts, count, width = {}, 0, 2
  local function add(s)
    count = count + 1
    if count > M.maxItems or width + #s > M.maxWidth then return false end
    parts[#parts + 1] = s
    width = width + #s + 2
    return true
  end
  local n = #t
  local truncated = false
  for i = 1, n do
    if not add(short(rawget(t, i))) then truncated = true; break end
  end
  if not truncated then
    local keys = {}
    for k in next, t do
      if not (math.type(k) == 'integer' and k >= 1 and k <= n) then keys[#keys + 1] = k end
      if #keys > 10 * M.maxItems then break end
    end
    table.sort(keys, keyOrder)
    for _, k in ipairs(keys) do
      local ks = isIdentifier(k) and k or '[' .. short(k) .. ']'
      if not add(ks .. ' = ' .. short(rawget(t, k))) then truncated = true; break end
    end
  end
  if truncated then parts[#parts + 1] = '...' end
  return '{' .. table.concat(parts, ', ') .. '}'
end

local doc = rawget(llm, '_doc')

--- The REPL form of one value.
function M.show(v)
  local ty = type(v)
  if ty == 'string' then return quote(v) end
  if ty == 'function' and doc then
    local sig = doc(v)
    if sig and sig ~= '' then return 'function: ' .. sig end
  end
  if ty == 'table' and not hasToString(v) then return showTable(v) end
  return tostring(v)
end

--- The REPL form of several values (tab-separated, like print).
function M.format(...)
  local out = {}
  for i = 1, select('#', ...) do out[i] = M.show((select(i, ...))) end
  return table.concat(out, '\t')
end

return M
