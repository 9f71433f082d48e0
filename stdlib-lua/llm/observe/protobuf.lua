-- llm.observe.protobuf: the few protocol-buffer wire-format pieces the TensorBoard event files need, by
-- hand (no schema compiler): encoding of varint (wire type 0), 64-bit (1), length-delimited (2) and 32-bit
-- (5) fields, packed repeated doubles; and a decoder that splits a message into {field, wire, value}
-- entries (value: integer for varint, raw bytes for the others) for the reader and the tests.
--   pb.varint(n) -> bytes      pb.key(field, wire) -> bytes
--   pb.uint(field, n), pb.double(field, x), pb.float(field, x), pb.bytes(field, s), pb.packedDoubles(field, {x...})
--   pb.decode(bytes) -> {{field=, wire=, value=}, ...} (errors on truncated input)
local M = {}

--- The base-128 varint of a non-negative integer (negative int64 values take ten bytes, two's complement).
function M.varint(n)
  local out = {}
  repeat
    local b = n & 0x7F
    n = n >> 7     -- logical shift: negative numbers end after 10 bytes
    out[#out + 1] = string.char(n ~= 0 and (b | 0x80) or b)
  until n == 0
  return table.concat(out)
end

function M.key(field, wire) return M.varint(field << 3 | wire) end
function M.uint(field, n) return M.key(field, 0) .. M.varint(math.tointeger(n) or error('protobuf: not an integer: ' .. tostring(n), 2)) end
function M.double(field, x) return M.key(field, 1) .. string.pack('<d', x) end
function M.float(field, x) return M.key(field, 5) .. string.pack('<f', x) end
function M.bytes(field, s) return M.key(field, 2) .. M.varint(#s) .. s end

--- A packed repeated double field.
function M.packedDoubles(field, list)
  local parts = {}
  for i, x in ipairs(list) do parts[i] = string.pack('<d', x) end
  return M.bytes(field, table.concat(parts))
end

-- Reads a varint at position i; returns value, next position.
local function readVarint(s, i)
  local v, shift = 0, 0
  while true do
    local b = s:byte(i)
    if not b then error('protobuf: truncated varint', 0) end
    v = v | ((b & 0x7F) << shift)
    i, shift = i + 1, shift + 7
    if b < 0x80 then return v, i end
    if shift > 63 then error('protobuf: varint longer than 10 bytes', 0) end
  end
end
M.readVarint = readVarint

--- Splits a message into its fields, in order.
function M.decode(s)
  local out, i = {}, 1
  while i <= #s do
    local key
    key, i = readVarint(s, i)
    local field, wire, value = key >> 3, key & 7, nil
    if wire == 0 then
      value, i = readVarint(s, i)
    elseif wire == 1 or wire == 5 then
      local n = wire == 1 and 8 or 4
      if i + n - 1 > #s then error('protobuf: truncated fixed-size field', 0) end
      value, i = s:sub(i, i + n - 1), i + n
    elseif wire == 2 then
      local n
      n, i = readVarint(s, i)
      if i + n - 1 > #s then error('protobuf: truncated length-delimited field', 0) end
      value, i = s:sub(i, i + n - 1), i + n
    else
      error('protobuf: unsupported wire type ' .. wire, 0)
    end
    out[#out + 1] = {field = field, wire = wire, value = value}
  end
  return out
end

return M
