-- llm.tune.linalg: the small dense linear algebra of the GP sampler, in pure Lua (n up to a few hundred).
-- Matrices are flat row-major Lua arrays of n*n numbers (A[(i-1)*n + j]); vectors are plain arrays.
--   cholesky(A, n) -> L | nil       lower factor with A = L L^T (a new array; A is untouched); nil when A is not
--                                   (numerically) positive definite
--   solveLower(L, n, b) -> x        x = L^-1 b (forward substitution)
--   solveUpper(L, n, b) -> x        x = L^-T b (back substitution with the transpose of the lower factor)
--   cholSolve(L, n, b) -> x         x = A^-1 b for A = L L^T
--   cholInverse(L, n) -> Ainv       A^-1 (flat, symmetric) for A = L L^T
--   logDet(L, n) -> number          log det A for A = L L^T
--   dot(a, b, [n]) -> number
local M = {}

function M.cholesky(A, n)
  local L = {}
  for i = 1, n * n do L[i] = 0 end
  for j = 1, n do
    local rj = (j - 1) * n
    local s = A[rj + j]
    for k = 1, j - 1 do local v = L[rj + k]; s = s - v * v end
    if not (s > 0) then return nil end
    local d = math.sqrt(s)
    L[rj + j] = d
    for i = j + 1, n do
      local ri = (i - 1) * n
      local t = A[ri + j]
      for k = 1, j - 1 do t = t - L[ri + k] * L[rj + k] end
      L[ri + j] = t / d
    end
  end
  return L
end

function M.solveLower(L, n, b)
  local x = {}
  for i = 1, n do
    local ri = (i - 1) * n
    local s = b[i]
    for k = 1, i - 1 do s = s - L[ri + k] * x[k] end
    x[i] = s / L[ri + i]
  end
  return x
end

function M.solveUpper(L, n, b)
  local x = {}
  for i = n, 1, -1 do
    local s = b[i]
    for k = i + 1, n do s = s - L[(k - 1) * n + i] * x[k] end
    x[i] = s / L[(i - 1) * n + i]
  end
  return x
end

function M.cholSolve(L, n, b) return M.solveUpper(L, n, M.solveLower(L, n, b)) end

function M.cholInverse(L, n)
  -- Linv (lower) column by column, then A^-1 = Linv^T Linv
  local Li = {}
  for i = 1, n * n do Li[i] = 0 end
  for j = 1, n do
    Li[(j - 1) * n + j] = 1 / L[(j - 1) * n + j]
    for i = j + 1, n do
      local ri = (i - 1) * n
      local s = 0
      for k = j, i - 1 do s = s - L[ri + k] * Li[(k - 1) * n + j] end
      Li[ri + j] = s / L[ri + i]
    end
  end
  local Ai = {}
  for i = 1, n do
    for j = i, n do
      local s = 0
      for k = j, n do local rk = (k - 1) * n; s = s + Li[rk + i] * Li[rk + j] end
      Ai[(i - 1) * n + j] = s
      Ai[(j - 1) * n + i] = s
    end
  end
  return Ai
end

function M.logDet(L, n)
  local s = 0
  for i = 1, n do s = s + math.log(L[(i - 1) * n + i]) end
  return 2 * s
end

function M.dot(a, b, n)
  local s = 0
  for i = 1, n or #a do s = s + a[i] * b[i] end
  return s
end

return M
