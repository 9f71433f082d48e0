-- llm.tune.samplers.optimize: a small box-constrained quasi-Newton minimiser (L-BFGS with projection onto the
-- box and backtracking Armijo line search) for the GP sampler's kernel fit and acquisition search.
--   minimize(fg, x0, {lower = {..}|nil, upper = {..}|nil, maxIter = 50, memory = 8, tol = 1e-6}) -> x, f
--   fg(x) -> f, g (value and gradient array); f may be math.huge (or NaN) where x is infeasible: the line
--   search then shortens the step. x0 is not modified. Deterministic.
local M = {}

local function project(x, lo, hi)
  if lo then for i = 1, #x do if x[i] < lo[i] then x[i] = lo[i] end end end
  if hi then for i = 1, #x do if x[i] > hi[i] then x[i] = hi[i] end end end
  return x
end

-- components of g that would push x out of the box are frozen (0) for the direction
local function freeMask(x, g, lo, hi)
  local free = {}
  for i = 1, #x do
    free[i] = not ((lo and x[i] <= lo[i] and g[i] > 0) or (hi and x[i] >= hi[i] and g[i] < 0))
  end
  return free
end

function M.minimize(fg, x0, opts)
  opts = opts or {}
  local lo, hi = opts.lower, opts.upper
  local maxIter, m, tol = opts.maxIter or 50, opts.memory or 8, opts.tol or 1e-6
  local n = #x0
  local x = project({table.unpack(x0)}, lo, hi)
  local f, g = fg(x)
  if not (f < math.huge) then return x, f end
  local S, Y, R = {}, {}, {}
  local stall = 0
  for _ = 1, maxIter do
    local free = freeMask(x, g, lo, hi)
    local q, pgn = {}, 0
    for i = 1, n do q[i] = free[i] and g[i] or 0; pgn = math.max(pgn, math.abs(q[i])) end
    if pgn < tol then break end
    -- two-loop recursion
    local alpha = {}
    for k = #S, 1, -1 do
      local a = 0
      for i = 1, n do a = a + S[k][i] * q[i] end
      a = a * R[k]; alpha[k] = a
      for i = 1, n do q[i] = q[i] - a * Y[k][i] end
    end
    if #S > 0 then
      local sy, yy = 0, 0
      local s, y = S[#S], Y[#S]
      for i = 1, n do sy = sy + s[i] * y[i]; yy = yy + y[i] * y[i] end
      for i = 1, n do q[i] = q[i] * sy / yy end
    else
      for i = 1, n do q[i] = q[i] / math.max(pgn, 1) end
    end
    for k = 1, #S do
      local b = 0
      for i = 1, n do b = b + Y[k][i] * q[i] end
      b = b * R[k]
      for i = 1, n do q[i] = q[i] + S[k][i] * (alpha[k] - b) end
    end
    local d, gd = {}, 0
    for i = 1, n do d[i] = free[i] and -q[i] or 0; gd = gd + g[i] * d[i] end
    if not (gd < 0) then -- not a descent direction: restart from steepest descent
      S, Y, R = {}, {}, {}
      gd = 0
      for i = 1, n do d[i] = free[i] and -g[i] / math.max(pgn, 1) or 0; gd = gd + g[i] * d[i] end
    end
    local t, xn, fn, gn = 1, nil, nil, nil
    for _ = 1, 30 do
      xn = {}
      for i = 1, n do xn[i] = x[i] + t * d[i] end
      project(xn, lo, hi)
      fn, gn = fg(xn)
      local dec = 0
      for i = 1, n do dec = dec + g[i] * (xn[i] - x[i]) end
      if fn <= f + 1e-4 * dec then break end
      t = t / 2
      fn = nil
    end
    if not fn then break end
    local s, y, sy = {}, {}, 0
    for i = 1, n do s[i] = xn[i] - x[i]; y[i] = gn[i] - g[i]; sy = sy + s[i] * y[i] end
    if sy > 1e-12 then
      S[#S + 1], Y[#Y + 1], R[#R + 1] = s, y, 1 / sy
      if #S > m then table.remove(S, 1); table.remove(Y, 1); table.remove(R, 1) end
    end
    if f - fn <= 1e-10 * math.max(1, math.abs(f)) then stall = stall + 1 else stall = 0 end
    x, f, g = xn, fn, gn
    if stall >= 2 then break end
  end
  return x, f
end

return M
