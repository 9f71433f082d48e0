-- llm.tune.samplers.stats: the normal-distribution numerics of TPE and GP in pure Lua (double precision).
--   erfcx(x) -> exp(x^2) erfc(x)   (x >= 0 stable; any x)
--   erfc(x), ndtr(z) = Phi(z), logNdtr(z) = log Phi(z) (stable far in the lower tail), ndtri(p) = Phi^-1(p)
--   logNormPdf(z) = log phi(z)
--   logMass(a, b) -> log(Phi(b) - Phi(a)) for a < b (stable in both tails)
--   truncnormSample(u, mu, sigma, low, high) -> x   inverse-cdf draw for uniform u in [0, 1)
--   truncnormLogPdf(x, mu, sigma, low, high)
--   logEI(z) -> log E[max(0, Z + z)], Z ~ N(0, 1) = log(z Phi(z) + phi(z)), stable for very negative z;
--   logEIGrad(z) -> d logEI / dz = Phi(z) / (z Phi(z) + phi(z))
local M = {}
local sqrt, exp, log, abs, pi = math.sqrt, math.exp, math.log, math.abs, math.pi
local SQRT2, SQRTPI, LOG_SQRT_2PI = sqrt(2), sqrt(pi), 0.5 * log(2 * pi)

-- erf for |x| < 3 by the all-positive series erf(x) = 2/sqrt(pi) e^-x^2 sum x^(2n+1) 2^n / (2n+1)!!
local function erfSeries(x)
  local x2 = x * x
  local term, sum, n = x, x, 0
  repeat
    n = n + 1
    term = term * 2 * x2 / (2 * n + 1)
    sum = sum + term
  until not (term >= 1e-17 * sum) or n > 200 -- (NaN stops too)
  return 2 / SQRTPI * exp(-x2) * sum
end

-- exp(x^2) erfc(x) for x >= 3 by the continued fraction (modified Lentz)
local function erfcxCF(x)
  -- erfc(x) = e^-x^2/sqrt(pi) * 1/(x + (1/2)/(x + 1/(x + (3/2)/(x + 2/(x + ...)))))
  local tiny = 1e-300
  local f, C, D = x, x, 0
  for k = 1, 200 do
    local a = k / 2
    D = x + a * D; if D == 0 then D = tiny end
    C = x + a / C; if C == 0 then C = tiny end
    D = 1 / D
    local delta = C * D
    f = f * delta
    if abs(delta - 1) < 1e-16 then break end
  end
  return 1 / (SQRTPI * f)
end

function M.erfcx(x)
  if x >= 3 then return erfcxCF(x) end
  if x > -3 then
    local e = erfSeries(abs(x))
    return exp(x * x) * (x >= 0 and 1 - e or 1 + e)
  end
  return 2 * exp(x * x) - erfcxCF(-x)
end

function M.erfc(x)
  if x >= 3 then return exp(-x * x) * erfcxCF(x) end
  if x <= -3 then return 2 - exp(-x * x) * erfcxCF(-x) end
  local e = erfSeries(abs(x))
  return x >= 0 and 1 - e or 1 + e
end

function M.ndtr(z) return 0.5 * M.erfc(-z / SQRT2) end

function M.logNormPdf(z) return -0.5 * z * z - LOG_SQRT_2PI end

function M.logNdtr(z)
  if z > -5 then return log(M.ndtr(z)) end
  -- Phi(z) = 0.5 erfcx(-z/sqrt2) exp(-z^2/2)
  return log(0.5 * M.erfcx(-z / SQRT2)) - 0.5 * z * z
end

-- log(exp(a) - exp(b)) for a > b
local function logSubExp(a, b)
  if b == -math.huge then return a end
  local d = b - a
  local em1 = d > -1e-5 and d * (1 + d / 2 + d * d / 6) or exp(d) - 1 -- expm1(d), d < 0
  return a + log(-em1)
end

function M.logMass(a, b)
  if a >= 0 then return M.logMass(-b, -a) end -- symmetric: stay in the lower tail where Phi is precise
  if b <= 0 then return logSubExp(M.logNdtr(b), M.logNdtr(a)) end
  return log(1 - M.ndtr(a) - M.ndtr(-b))
end

-- Acklam's rational approximation of Phi^-1 refined by one Halley step on the precise ndtr
local A = {-3.969683028665376e+01, 2.209460984245205e+02, -2.759285104469687e+02, 1.383577518672690e+02, -3.066479806614716e+01, 2.506628277459239e+00}
local B = {-5.447609879822406e+01, 1.615858368580409e+02, -1.556989798598866e+02, 6.680131188771972e+01, -1.328068155288572e+01}
local C = {-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e+00, -2.549732539343734e+00, 4.374664141464968e+00, 2.938163982698783e+00}
local D = {7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e+00, 3.754408661907416e+00}

function M.ndtri(p)
  if p <= 0 then return -math.huge end
  if p >= 1 then return math.huge end
  local x
  if p < 0.02425 then
    local q = sqrt(-2 * log(p))
    x = (((((C[1] * q + C[2]) * q + C[3]) * q + C[4]) * q + C[5]) * q + C[6]) / ((((D[1] * q + D[2]) * q + D[3]) * q + D[4]) * q + 1)
  elseif p <= 1 - 0.02425 then
    local q = p - 0.5
    local r = q * q
    x = (((((A[1] * r + A[2]) * r + A[3]) * r + A[4]) * r + A[5]) * r + A[6]) * q / (((((B[1] * r + B[2]) * r + B[3]) * r + B[4]) * r + B[5]) * r + 1)
  else
    local q = sqrt(-2 * log(1 - p))
    x = -(((((C[1] * q + C[2]) * q + C[3]) * q + C[4]) * q + C[5]) * q + C[6]) / ((((D[1] * q + D[2]) * q + D[3]) * q + D[4]) * q + 1)
  end
  local e = M.ndtr(x) - p
  local u = e * sqrt(2 * pi) * exp(x * x / 2)
  return x - u / (1 + x * u / 2)
end

function M.truncnormSample(u, mu, sigma, low, high)
  local a, b = (low - mu) / sigma, (high - mu) / sigma
  local flip = a >= 0
  if flip then a, b = -b, -a end
  local pa, pb = M.ndtr(a), M.ndtr(b)
  local z = M.ndtri(pa + u * (pb - pa))
  if z ~= z or z == math.huge or z == -math.huge then z = u < 0.5 and a or b end
  z = math.min(math.max(z, a), b)
  if flip then z = -z end
  return mu + sigma * z
end

function M.truncnormLogPdf(x, mu, sigma, low, high)
  return M.logNormPdf((x - mu) / sigma) - log(sigma) - M.logMass((low - mu) / sigma, (high - mu) / sigma)
end

function M.logEI(z)
  if z > -25 then return log(z * M.ndtr(z) + exp(M.logNormPdf(z))) end
  -- z Phi(z) + phi(z) = phi(z) (1 + z * Phi(z)/phi(z)) with Phi(z)/phi(z) = sqrt(pi/2) erfcx(-z/sqrt2)
  local r = sqrt(pi / 2) * M.erfcx(-z / SQRT2)
  return M.logNormPdf(z) + log(1 + z * r)
end

function M.logEIGrad(z)
  if z > -25 then return M.ndtr(z) / (z * M.ndtr(z) + exp(M.logNormPdf(z))) end
  local r = sqrt(pi / 2) * M.erfcx(-z / SQRT2)
  return r / (1 + z * r)
end

return M
