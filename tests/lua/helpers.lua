-- helpers.lua: assertions shared by the Lua specs (not a spec itself: busted runs *_spec.lua files).
--   local h = dofile(debug.getinfo(1, 'S').source:match('^@(.*/)') .. 'helpers.lua')
local M = {}

--- Calls f, asserts that it raises an error whose message contains every given fragment; returns the message.
function M.fails(f, ...)
  local ok, err = pcall(f)
  assert(not ok, 'expected an error')
  for _, frag in ipairs{...} do
    assert(tostring(err):find(frag, 1, true), 'message ' .. string.format('%q', tostring(err)) .. ' does not contain ' .. string.format('%q', frag))
  end
  return err
end

return M
