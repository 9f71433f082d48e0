-- llm.observe.tfevents: TensorBoard event files without TensorFlow. A file is a sequence of TFRecords
--   u64 length | u32 masked_crc32c(length bytes) | data | u32 masked_crc32c(data)      (little-endian)
-- each holding one serialized `Event` protobuf (wall_time = 1 double, step = 2 int64, file_version = 3,
-- summary = 5). The first record is {file_version = "brain.Event:2"}. Summary values (Summary.value = 1:
-- tag = 1) carry simple_value = 2 (float, scalars), histo = 5 (HistogramProto: min 1, max 2, num 3, sum 4,
-- sum_squares 5, bucket_limit 6, bucket 7; doubles, the last two packed) or, for text, tensor = 8
-- (TensorProto dtype 7 = DT_STRING, string_val 8) with metadata = 9 naming the plugin 'text'.
--   local w = tfevents.open(dir)                    -- events.out.tfevents.<secs>.<host>.llmscript.<n>
--   w:scalar(tag, value, step) ; w:histogram(tag, values | Tensor, step, [{bins = 30}]) ; w:text(tag, s, step)
--   w:close()                                       -- each event is flushed as written
--   tfevents.histogram(values, bins) -> {min, max, num, sum, sumSquares, limits = {...}, counts = {...}}
--   tfevents.read(path) -> list of events (decoded; errors name a bad length/data CRC or a truncated record)
-- Histograms: `bins` equal-width buckets between min and max; limits are the right edges (the last is
-- max); bucket k counts values v with limits[k-1] < v <= limits[k] (the first from min, inclusive).
local crc = require 'llm.observe.crc32c'
local pb = require 'llm.observe.protobuf'

local M = {}

--- One TFRecord around data.
function M.record(data)
  local len = string.pack('<I8', #data)
  return len .. string.pack('<I4', crc.masked(len)) .. data .. string.pack('<I4', crc.masked(data))
end

--- An Event message (summary: the encoded Summary, or nil).
function M.event(wallTime, step, fields)
  local parts = {pb.double(1, wallTime), pb.uint(2, step)}
  if fields.fileVersion then parts[#parts + 1] = pb.bytes(3, fields.fileVersion) end
  if fields.summary then parts[#parts + 1] = pb.bytes(5, fields.summary) end
  return table.concat(parts)
end

local function finite(v) return v == v and v ~= math.huge and v ~= -math.huge end

-- The buckets of a tensor whose values are all finite, by tensor reductions (no Lua table of its values):
-- min, max, sums, and one count of values <= each limit.
local function tensorHistogram(t, bins)
  local n = t:numel()
  local lo, hi = t:min():item(), t:max():item()
  if hi == lo then bins = 1 end
  local width = (hi - lo) / bins
  local limits, counts, below = {}, {}, 0
  for k = 1, bins do
    limits[k] = k == bins and hi or lo + k * width
    local c = k == bins and n or math.tointeger(t:le(limits[k]):sum():item())
    counts[k], below = c - below, c
  end
  return {min = lo, max = hi, num = n, sum = t:sum():item(), sumSquares = (t * t):sum():item(), limits = limits, counts = counts}
end

--- Histogram statistics of a list of numbers or a Tensor (non-finite values are left out).
function M.histogram(values, bins)
  bins = bins or 30
  if math.type(bins) ~= 'integer' or bins < 1 then error('tfevents.histogram: bins must be a positive integer, got ' .. tostring(bins), 2) end
  if llm.isTensor(values) then
    local t = values:detach():float():reshape(values:numel())
    if t:numel() > 0 and t:abs():lt(math.huge):sum():item() == t:numel() then return tensorHistogram(t, bins) end
    values = t:totable()
  end
  local lo, hi, n, sum, sq = math.huge, -math.huge, 0, 0, 0
  for _, v in ipairs(values) do
    if finite(v) then
      n, sum, sq = n + 1, sum + v, sq + v * v
      if v < lo then lo = v end
      if v > hi then hi = v end
    end
  end
  if n == 0 then return {min = 0, max = 0, num = 0, sum = 0, sumSquares = 0, limits = {0}, counts = {0}} end
  if hi == lo then bins = 1 end
  local width = (hi - lo) / bins
  local limits, counts = {}, {}
  for k = 1, bins do limits[k], counts[k] = lo + k * width, 0 end
  limits[bins] = hi
  for _, v in ipairs(values) do
    if finite(v) then
      local k = width > 0 and math.floor((v - lo) / width) + 1 or 1
      if k > bins then k = bins end
      if k > 1 and v <= limits[k - 1] then k = k - 1 end   -- right-closed buckets
      counts[k] = counts[k] + 1
    end
  end
  return {min = lo, max = hi, num = n, sum = sum, sumSquares = sq, limits = limits, counts = counts}
end

local function histoProto(h)
  return table.concat{pb.double(1, h.min), pb.double(2, h.max), pb.double(3, h.num), pb.double(4, h.sum),
                      pb.double(5, h.sumSquares), pb.packedDoubles(6, h.limits), pb.packedDoubles(7, h.counts)}
end

local function value(tag, body) return pb.bytes(1, pb.bytes(1, tag) .. body) end

local Writer = {}
Writer.__index = Writer

local counter = 0

local function hostname()
  local f = io.open('/etc/hostname', 'r')
  local h = f and f:read('l')
  if f then f:close() end
  h = h or os.getenv('HOSTNAME') or 'localhost'
  return (h:gsub('[^%w%.%-_]', '_'))
end

--- Opens a new event file in dir (created when missing) and writes the file-version record.
function M.open(dir, opts)
  if type(dir) ~= 'string' or dir == '' then error('tfevents.open: expected a folder path, got ' .. tostring(dir), 2) end
  llm.makeDirs(dir)
  counter = counter + 1
  local path = (opts and opts.path) or string.format('%s/events.out.tfevents.%d.%s.llmscript.%d', dir, os.time(), hostname(), counter)
  local f, err = io.open(path, 'wb')
  if not f then error('tfevents.open: cannot write ' .. tostring(err), 2) end
  local self = setmetatable({path = path, file = f}, Writer)
  self:_write(M.event(llm.time(), 0, {fileVersion = 'brain.Event:2'}))
  return self
end

function Writer:_write(ev)
  if not self.file then error('tfevents: the writer is closed', 3) end
  self.file:write(M.record(ev))
  self.file:flush()
end

local function checkTag(tag)
  if type(tag) ~= 'string' or tag == '' then error('tfevents: tag must be a non-empty string, got ' .. tostring(tag), 3) end
end

--- A scalar summary (float).
function Writer:scalar(tag, v, step, wallTime)
  checkTag(tag)
  if type(v) ~= 'number' then error("tfevents: scalar '" .. tag .. "' must be a number, got " .. type(v), 2) end
  self:_write(M.event(wallTime or llm.time(), step or 0, {summary = value(tag, pb.float(2, v))}))
end

--- A histogram summary of a list of numbers or a tensor's values.
function Writer:histogram(tag, values, step, opts)
  checkTag(tag)
  if not llm.isTensor(values) and type(values) ~= 'table' then error("tfevents: histogram '" .. tag .. "' needs a list of numbers or a Tensor, got " .. type(values), 2) end
  local h = M.histogram(values, opts and opts.bins)
  self:_write(M.event(llm.time(), step or 0, {summary = value(tag, pb.bytes(5, histoProto(h)))}))
  return h
end

--- A text summary (TensorBoard's Text tab; Markdown).
function Writer:text(tag, s, step)
  checkTag(tag)
  s = tostring(s)
  local meta = pb.bytes(1, pb.bytes(1, 'text'))                   -- SummaryMetadata.plugin_data.plugin_name
  local tensor = pb.uint(1, 7) .. pb.bytes(2, '') .. pb.bytes(8, s) -- DT_STRING, scalar shape, string_val
  self:_write(M.event(llm.time(), step or 0, {summary = value(tag, pb.bytes(8, tensor) .. pb.bytes(9, meta))}))
end

function Writer:close()
  if self.file then self.file:close(); self.file = nil end
end
Writer.__close = Writer.close
Writer.__gc = Writer.close

-- decoding (reader and tests) ---------------------------------------------------------------------------

local function field(entries, n)
  for _, e in ipairs(entries) do if e.field == n then return e.value end end
end

local function doubles(s)
  local out = {}
  for i = 1, #s, 8 do out[#out + 1] = string.unpack('<d', s, i) end
  return out
end

local function decodeValue(s)
  local f = pb.decode(s)
  local v = {tag = field(f, 1)}
  local sv = field(f, 2)
  if sv then v.simpleValue = string.unpack('<f', sv) end
  local h = field(f, 5)
  if h then
    local hf = pb.decode(h)
    local function d(n) local x = field(hf, n); return x and string.unpack('<d', x) or 0 end
    v.histo = {min = d(1), max = d(2), num = d(3), sum = d(4), sumSquares = d(5),
               limits = doubles(field(hf, 6) or ''), counts = doubles(field(hf, 7) or '')}
  end
  local t = field(f, 8)
  if t then v.text = field(pb.decode(t), 8) end
  local meta = field(f, 9)
  if meta then v.plugin = field(pb.decode(field(pb.decode(meta), 1) or ''), 1) end
  return v
end

--- Decodes one Event message.
function M.decodeEvent(s)
  local f = pb.decode(s)
  local ev = {step = field(f, 2) or 0, fileVersion = field(f, 3)}
  local wt = field(f, 1)
  ev.wallTime = wt and string.unpack('<d', wt) or 0
  local summary = field(f, 5)
  if summary then
    ev.values = {}
    for _, e in ipairs(pb.decode(summary)) do
      if e.field == 1 then ev.values[#ev.values + 1] = decodeValue(e.value) end
    end
  end
  return ev
end

--- Reads every record of an event file, checking both CRCs of each; returns the decoded events.
function M.read(path)
  local f, err = io.open(path, 'rb')
  if not f then error('tfevents.read: ' .. tostring(err), 2) end
  local s = f:read('a')
  f:close()
  local events, i, n = {}, 1, 0
  while i <= #s do
    n = n + 1
    if i + 11 > #s then error(string.format('tfevents.read: %s: record %d is truncated (header)', path, n), 2) end
    local lenBytes = s:sub(i, i + 7)
    local len = string.unpack('<I8', lenBytes)
    if string.unpack('<I4', s, i + 8) ~= crc.masked(lenBytes) then error(string.format('tfevents.read: %s: record %d: length CRC mismatch', path, n), 2) end
    if i + 12 + len + 3 > #s then error(string.format('tfevents.read: %s: record %d is truncated (data)', path, n), 2) end
    local data = s:sub(i + 12, i + 11 + len)
    if string.unpack('<I4', s, i + 12 + len) ~= crc.masked(data) then error(string.format('tfevents.read: %s: record %d: data CRC mismatch', path, n), 2) end
    events[#events + 1] = M.decodeEvent(data)
    i = i + 16 + len
  end
  return events
end

return M
