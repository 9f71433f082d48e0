-- llm.tensor: the Lua side of llm.Tensor's metatable. __index looks up methods first, then integer
-- keys (t[i] selects along dim 1, negative from the end), then properties (grad, requiresGrad, isLeaf,
-- gradFn). __newindex sets properties and t[i] = value (fill or copy). Errors name the caller's line.
-- Called once by the host at start-up with the metatable and the methods table.
return function(mt, methods)
  local getProperty, setProperty = methods._getProperty, methods._setProperty
  local select_, set_ = methods.select, methods._setIndex
  methods._getProperty, methods._setProperty, methods._setIndex = nil, nil, nil

  -- checks an index against dim 1 and returns it; errors at the caller of the metamethod (level 3)
  local function checkIndex(t, k)
    if math.type(k) ~= 'integer' then error('tensor index must be an integer, got ' .. tostring(k), 3) end
    if t:dim() == 0 then error('cannot index a 0-d tensor', 3) end
    local n = t:size(1)
    if k == 0 or k > n or k < -n then error(string.format('index %d is out of range 1..%d (or -%d..-1) for dimension 1', k, n, n), 3) end
    return k
  end

  mt.__index = function(t, k)
    local m = methods[k]
    if m ~= nil then return m end
    if type(k) == 'number' then return select_(t, 1, checkIndex(t, k)) end
    local ok, v = pcall(getProperty, t, k)
    if not ok then error(v, 2) end
    return v
  end

  mt.__newindex = function(t, k, v)
    if type(k) == 'number' then
      checkIndex(t, k)
      if k < 0 then k = t:size(1) + k + 1 end
      local ok, e = pcall(set_, t, k, v)
      if not ok then error(e, 2) end
      return
    end
    local ok, e = pcall(setProperty, t, k, v)
    if not ok then error(e, 2) end
  end
end
