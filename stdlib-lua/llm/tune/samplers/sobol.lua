-- llm.tune.samplers.sobol: the Sobol low-discrepancy sequence (Gray-code order, as scipy.stats.qmc.Sobol with
-- scramble=False) with Joe and Kuo's direction numbers (new-joe-kuo-6.21201) for the first 21 dimensions.
--   sobol.point(i, d, [shift]) -> {u1..ud}  point i (0-based; point 0 is the origin) in [0, 1)^d; d <= sobol.maxDim;
--                                 shift: an optional array of d 32-bit integers XORed in (a digital shift, the
--                                 seeded scrambling that keeps the net property)
--   sobol.maxDim = 21
local M = {}
local BITS = 32

-- {s, a, m1..ms} per dimension 2..21 (dimension 1 is van der Corput's sequence)
local JOE_KUO = {
  {1, 0, 1}, {2, 1, 1, 3}, {3, 1, 1, 3, 1}, {3, 2, 1, 1, 1}, {4, 1, 1, 1, 3, 3}, {4, 4, 1, 3, 5, 13},
  {5, 2, 1, 1, 5, 5, 17}, {5, 4, 1, 1, 5, 5, 5}, {5, 7, 1, 1, 7, 11, 19}, {5, 11, 1, 1, 5, 1, 1},
  {5, 13, 1, 1, 1, 3, 11}, {5, 14, 1, 3, 5, 5, 31}, {6, 1, 1, 3, 3, 9, 7, 49}, {6, 13, 1, 1, 1, 15, 21, 21},
  {6, 16, 1, 3, 1, 13, 27, 49}, {6, 19, 1, 1, 1, 15, 7, 5}, {6, 22, 1, 3, 1, 15, 13, 25},
  {6, 25, 1, 1, 5, 5, 19, 61}, {7, 1, 1, 3, 7, 11, 23, 15, 103}, {7, 4, 1, 3, 7, 13, 13, 15, 69},
}
M.maxDim = #JOE_KUO + 1

local directions = {}

local function dirs(j)
  if directions[j] then return directions[j] end
  local v = {}
  if j == 1 then
    for k = 1, BITS do v[k] = 1 << (BITS - k) end
  else
    local row = JOE_KUO[j - 1]
    local s, a = row[1], row[2]
    for k = 1, s do v[k] = row[2 + k] << (BITS - k) end
    for k = s + 1, BITS do
      local x = v[k - s] ~ (v[k - s] >> s)
      for i = 1, s - 1 do
        if (a >> (s - 1 - i)) & 1 == 1 then x = x ~ v[k - i] end
      end
      v[k] = x
    end
  end
  directions[j] = v
  return v
end

function M.point(i, d, shift)
  if d > M.maxDim then error('sobol: at most ' .. M.maxDim .. ' dimensions, got ' .. d, 2) end
  local g = i ~ (i >> 1)
  local out = {}
  for j = 1, d do
    local v, x, k, b = dirs(j), 0, 1, g
    while b ~= 0 do
      if b & 1 == 1 then x = x ~ v[k] end
      b = b >> 1; k = k + 1
    end
    if shift then x = x ~ shift[j] end
    out[j] = x / 2.0 ^ BITS
  end
  return out
end

return M
