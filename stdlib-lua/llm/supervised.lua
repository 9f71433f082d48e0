-- llm.supervised: the small pieces the classification and tagging recipes share (recipes/classify-fortunes.lua,
-- recipes/tag-entities.lua).
--   supervised.quotes(name, [dir]) -> list of strings: the quotes of one Debian fortune file
--     (/usr/share/games/fortunes/<name>, quotes separated by '%' lines), whitespace-trimmed, empty ones dropped
--   supervised.pad(rows, blockSize, [{padId=0, fill=-100}]) -> x (B,T) int64, mask (B,T) float32:
--     0-based id lists cut to blockSize and right-padded (T = the longest row, at most blockSize)
--     (fill is the value of padding when the rows are targets: then use the x result as y)
--   supervised.shuffle(list, seed) -> a shuffled copy (seeded, portable)
--   supervised.split(list, fraction, seed) -> train, test: a seeded shuffle, the last `fraction` held out
local M = {}

local FORTUNES = '/usr/share/games/fortunes'

--- The quotes of one fortune file.
function M.quotes(name, dir)
  local path = (dir or FORTUNES) .. '/' .. name
  local f = io.open(path, 'rb')
  if not f then error('supervised.quotes: no such fortune file: ' .. path .. ' (Debian package fortunes)', 2) end
  local text = f:read('a') .. '\n%\n'
  f:close()
  local out = {}
  for quote in text:gmatch('(.-)\n%%\n') do
    quote = quote:match('^%s*(.-)%s*$')
    if quote ~= '' then out[#out + 1] = quote end
  end
  return out
end

--- Right-padded id rows: x (B,T) int64 and the mask (B,T) of real tokens.
function M.pad(rows, blockSize, opts)
  opts = opts or {}
  local fill = opts.fill or opts.padId or 0
  local t = 1
  for _, r in ipairs(rows) do t = math.max(t, math.min(#r, blockSize)) end
  local x, mask = {}, {}
  for i, r in ipairs(rows) do
    local xr, mr = {}, {}
    for j = 1, t do
      local real = j <= #r
      xr[j], mr[j] = real and r[j] or fill, real and 1 or 0
    end
    x[i], mask[i] = xr, mr
  end
  return llm.tensor(x, {dtype = 'int64'}), llm.tensor(mask)
end

--- A shuffled copy of list (Fisher-Yates on a 64-bit LCG with Knuth's MMIX constants: seeded, portable).
function M.shuffle(list, seed)
  local order = table.move(list, 1, #list, 1, {})
  local state = seed or 1
  for i = #order, 2, -1 do
    state = state * 6364136223846793005 + 1442695040888963407
    local j = (state >> 33) % i + 1
    order[i], order[j] = order[j], order[i]
  end
  return order
end

--- A seeded shuffle of list split into train and the held-out last `fraction`.
function M.split(list, fraction, seed)
  local order = M.shuffle(list, seed)
  local nTest = math.floor(#order * fraction + 0.5)
  return table.move(order, 1, #order - nTest, 1, {}), table.move(order, #order - nTest + 1, #order, 1, {})
end

return M
