-- llm.observe.crc32c: CRC-32C (Castagnoli, reflected polynomial 0x82F63B78, init and final xor 0xFFFFFFFF)
-- and the "masked" form of TFRecord framing: ((crc >> 15) | (crc << 17)) + 0xa282ead8 (mod 2^32).
--   crc32c.sum(s) -> integer (0 .. 2^32-1);  crc32c.masked(s) -> integer
-- Check value (RFC 3720 B.4): crc32c.sum('123456789') == 0xE3069283.
local M = {}

local table_ = {}
for i = 0, 255 do
  local c = i
  for _ = 1, 8 do
    if c & 1 == 1 then c = (c >> 1) ~ 0x82F63B78 else c = c >> 1 end
  end
  table_[i] = c
end

--- The CRC-32C of a string.
function M.sum(s)
  local crc = 0xFFFFFFFF
  local byte = string.byte
  for i = 1, #s do
    crc = (crc >> 8) ~ table_[(crc ~ byte(s, i)) & 0xFF]
  end
  return crc ~ 0xFFFFFFFF
end

--- The masked CRC-32C TFRecord stores.
function M.mask(crc)
  return ((((crc >> 15) | (crc << 17)) & 0xFFFFFFFF) + 0xa282ead8) & 0xFFFFFFFF
end

function M.masked(s) return M.mask(M.sum(s)) end

return M
