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

local made = {}

--- A fresh empty folder under /tmp named after `suffix` (os.tmpname reserves the name; the folder sits next
--- to it). M.removeTmpdirs() deletes every folder made so far (call it from a teardown).
function M.tmpdir(suffix)
  local name = os.tmpname()
  os.remove(name)
  local dir = name .. '_' .. (suffix or 'spec')
  llm.makeDirs(dir)
  made[#made + 1] = dir
  return dir
end

function M.removeTmpdirs()
  for _, d in ipairs(made) do os.execute("rm -rf '" .. d:gsub("'", "'\\''") .. "'") end
  made = {}
end

return M
