-- scripts/bench/benchlib.lua: what the Lua benchmark scripts share. Load it with
--   local bench = dofile(debug.getinfo(1, 'S').source:match('^@(.*/)') .. 'benchlib.lua')
-- bench.options(defaults, arg): applies --key=value arguments to the defaults table (numbers converted;
--   an unknown key or a malformed argument is an error) and returns it.
-- bench.median(xs): the median of a list (unchanged), NaN for an empty one.
local M = {}

function M.options(opts, args)
  for _, a in ipairs(args or {}) do
    local k, v = a:match('^%-%-([%w]+)=(.*)$')
    if not k or opts[k] == nil then error('unknown argument ' .. a, 0) end
    opts[k] = tonumber(v) or v
  end
  return opts
end

function M.median(xs)
  local s = {}
  for i, x in ipairs(xs) do s[i] = x end
  table.sort(s)
  local n = #s
  if n == 0 then return 0 / 0 end
  return n % 2 == 1 and s[(n + 1) // 2] or (s[n // 2] + s[n // 2 + 1]) / 2
end

return M
