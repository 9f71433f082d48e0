-- llm.tensor: the Lua side of llm.Tensor's metatable. __index looks up methods first, then
-- properties (grad, requiresGrad, isLeaf, dtype), then integer keys (t[i] selects along dim 1).
-- __newindex sets properties and t[i] = value (copy or fill). Called once by the host at start-up.
return function(mt, methods)
  local getProperty, setProperty = methods._getProperty, methods._setProperty
  local select_, set_ = methods.select, methods._setIndex
  methods._getProperty, methods._setProperty, methods._setIndex = nil, nil, nil
  mt.__index = function(t, k)
    local m = methods[k]
    if m ~= nil then return m end
    if type(k) == 'number' then return select_(t, 1, k) end
    return getProperty(t, k)
  end
  mt.__newindex = function(t, k, v)
    if type(k) == 'number' then return set_(t, k, v) end
    return setProperty(t, k, v)
  end
end
