-- llm.privacy.accountant: the RDP accountant of the sampled Gaussian mechanism (DP-SGD with Poisson
-- sampling at rate q and noise multiplier σ), as Opacus's RDPAccountant (itself TF Privacy's): RDP of one
-- step at order α from log A_α (Mironov, Talwar, Zhang 2019, §3.3: the integer-α sum, and the two-series
-- form with erfc for fractional α), times the steps, summed over the history; ε at δ by the conversion of
-- Balle et al. 2020 (Thm 21): min_α rdp_α − (log δ + log α)/(α − 1) + log((α − 1)/α).
--   local acc = accountant.new([{alphas}])     alphas default: Opacus's 1.1 .. 10.9 step 0.1, then 12 .. 63
--   acc:step(sigma, q, [steps=1])             records steps of the mechanism (consecutive equal ones merge)
--   acc:epsilon(delta) -> eps, bestAlpha
--   accountant.rdp(q, sigma, alpha) -> the RDP of one step; accountant.epsilon(history, delta, [alphas])
--   acc:stateDict() / acc:loadStateDict(t)     the history, for checkpoints
local M = {}

M.alphas = {}
for x = 1, 99 do M.alphas[#M.alphas + 1] = 1 + x / 10 end
for a = 12, 63 do M.alphas[#M.alphas + 1] = a end

local log, exp, sqrt, huge = math.log, math.exp, math.sqrt, math.huge

local function logAdd(x, y)
  local a, b = math.min(x, y), math.max(x, y)
  if a == -huge then return b end
  return log(1 + exp(a - b)) + b
end

local function logSub(x, y)
  if x < y then error('llm.privacy.accountant: log-space subtraction went negative', 2) end
  if y == -huge then return x end
  if x == y then return -huge end
  local d = exp(x - y) - 1
  if d == huge then return x end
  return log(d) + y
end

-- log(erfc(x)): Numerical Recipes' Chebyshev fit (relative error < 1.2e-7 everywhere), kept in log space
-- for large x; erfc(x) = 2 − erfc(−x) for negative x.
local function logErfc(x)
  local z = math.abs(x)
  local t = 1 / (1 + 0.5 * z)
  local p = -z * z - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 +
            t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277))))))))
  local logPos = log(t) + p
  if x >= 0 then return logPos end
  return log(2 - exp(logPos))
end

-- Walks the binomial coefficients C(alpha, i), i = 0, 1, ... (alpha real) in log space: next(i) returns
-- log|C(alpha, i)| and its sign, for i increasing by one each call (C(alpha, i+1) = C(alpha, i)·(alpha − i)/(i + 1)).
local function binomials(alpha)
  local l, sign, zero = 0, 1, false
  return function(i)
    if i > 0 then
      local f = (alpha - (i - 1)) / i
      if f == 0 then zero = true end
      if f < 0 then sign = -sign end
      if not zero then l = l + log(math.abs(f)) end
    end
    if zero then return -huge, 0 end
    return l, sign
  end
end

local function logAInt(q, sigma, alpha)
  local la, binom = -huge, binomials(alpha)
  for i = 0, alpha do
    local lc = binom(i) + i * log(q) + (alpha - i) * log(1 - q)
    la = logAdd(la, lc + (i * i - i) / (2 * sigma * sigma))
  end
  return la
end

local function logAFrac(q, sigma, alpha)
  local a0, a1 = -huge, -huge
  local i, binom = 0, binomials(alpha)
  local z0 = sigma * sigma * log(1 / q - 1) + 0.5
  while true do
    local lc, sign = binom(i)
    local j = alpha - i
    local t0 = lc + i * log(q) + j * log(1 - q)
    local t1 = lc + j * log(q) + i * log(1 - q)
    local e0 = log(0.5) + logErfc((i - z0) / (sqrt(2) * sigma))
    local e1 = log(0.5) + logErfc((z0 - j) / (sqrt(2) * sigma))
    local s0 = t0 + (i * i - i) / (2 * sigma * sigma) + e0
    local s1 = t1 + (j * j - j) / (2 * sigma * sigma) + e1
    if sign > 0 then a0, a1 = logAdd(a0, s0), logAdd(a1, s1)
    else a0, a1 = logSub(a0, s0), logSub(a1, s1) end
    i = i + 1
    if math.max(s0, s1) < -30 then break end
  end
  return logAdd(a0, a1)
end

--- RDP of one step of the sampled Gaussian mechanism at order alpha.
function M.rdp(q, sigma, alpha)
  if q == 0 then return 0 end
  if sigma == 0 then return huge end
  if q == 1 then return alpha / (2 * sigma * sigma) end
  if alpha == huge then return huge end
  if alpha == math.floor(alpha) then return logAInt(q, sigma, math.tointeger(alpha)) / (alpha - 1) end
  return logAFrac(q, sigma, alpha) / (alpha - 1)
end

--- ε at delta of a history {{sigma, q, steps}, ...} (and the best order).
function M.epsilon(history, delta, alphas)
  if type(delta) ~= 'number' or not (delta > 0 and delta < 1) then
    error("llm.privacy.accountant: Invalid 'delta': expected a number in (0, 1), got " .. tostring(delta), 2)
  end
  alphas = alphas or M.alphas
  local best, bestAlpha = huge, nil
  for _, a in ipairs(alphas) do
    local r = 0
    for _, h in ipairs(history) do r = r + M.rdp(h[2], h[1], a) * h[3] end
    local eps = r - (log(delta) + log(a)) / (a - 1) + log((a - 1) / a)
    if eps == eps and eps < best then best, bestAlpha = eps, a end
  end
  return best, bestAlpha
end

local Acc = {}
Acc.__index = Acc
Acc.__name = 'llm.privacy.Accountant'

--- A new accountant (history empty).
function M.new(opts)
  opts = opts or {}
  return setmetatable({history = {}, alphas = opts.alphas or M.alphas}, Acc)
end

--- Records `steps` steps of noise multiplier sigma at sampling rate q.
function Acc:step(sigma, q, steps)
  steps = steps or 1
  if type(sigma) ~= 'number' or sigma < 0 then error("llm.privacy.accountant: Invalid 'sigma': expected a non-negative number", 2) end
  if type(q) ~= 'number' or q < 0 or q > 1 then error("llm.privacy.accountant: Invalid 'q': expected a number in [0, 1]", 2) end
  local last = self.history[#self.history]
  if last and last[1] == sigma and last[2] == q then last[3] = last[3] + steps
  else self.history[#self.history + 1] = {sigma, q, steps} end
  return self
end

--- ε at delta of the recorded steps, and the best order.
function Acc:epsilon(delta) return M.epsilon(self.history, delta, self.alphas) end

--- The steps recorded.
function Acc:steps()
  local n = 0
  for _, h in ipairs(self.history) do n = n + h[3] end
  return n
end

function Acc:stateDict() return {history = self.history} end
function Acc:loadStateDict(t) self.history = t.history or {} end

return M
