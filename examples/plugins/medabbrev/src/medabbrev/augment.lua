-- medabbrev.augment: a domain-specific text augmenter in plain Lua. augment.new{rate, direction, seed}
-- returns aug(text [, step]) -> text that replaces each clinical phrase by its abbreviation
-- ('abbreviate', default), each abbreviation by its phrase ('expand'), or both, every occurrence with
-- probability rate (a number in [0, 1] or a function of step). Phrases match case-insensitively on word
-- boundaries; abbreviations match exactly. One 64-bit LCG stream per augmenter: same seed, same outputs.
local M = {}

--- Phrase -> abbreviation pairs (longest phrases are tried first).
M.pairs = {
  { 'shortness of breath', 'SOB' }, { 'blood pressure', 'BP' }, { 'heart rate', 'HR' },
  { 'twice daily', 'BID' }, { 'three times daily', 'TID' }, { 'as needed', 'PRN' },
  { 'by mouth', 'PO' }, { 'history of', 'h/o' }, { 'emergency department', 'ED' },
}
table.sort(M.pairs, function(a, b) return #a[1] > #b[1] end)

-- A pattern matching `phrase` in any letter case, on word boundaries.
local function caseless(phrase)
  local p = phrase:gsub('%p', '%%%0'):gsub('%a', function(c) return '[' .. c:lower() .. c:upper() .. ']' end)
  return '%f[%w]' .. p .. '%f[%W]'
end

local function exact(word)
  return '%f[%w]' .. word:gsub('%p', '%%%0') .. '%f[%W]'
end

local directions = { abbreviate = true, expand = true, both = true }

function M.new(opts)
  opts = opts or {}
  local rate, direction, state = opts.rate or 0.5, opts.direction or 'abbreviate', opts.seed or 0
  if type(rate) ~= 'function' and (type(rate) ~= 'number' or rate < 0 or rate > 1) then
    error(("Invalid 'rate': expected a number in [0, 1] or a function of step, got %s"):format(tostring(rate)), 2)
  end
  if not directions[direction] then
    error(("Invalid 'direction': expected abbreviate, expand or both, got %s"):format(tostring(direction)), 2)
  end
  local function uniform()   -- 64-bit LCG (Knuth MMIX), top 53 bits
    state = state * 6364136223846793005 + 1442695040888963407
    return (state >> 11) / 9007199254740992.0
  end
  return function(text, step)
    local p = type(rate) == 'function' and rate(step or 0) or rate
    -- Placeholders (\1<i>\2) keep a replaced span from being rewritten again by a later pair.
    local done = {}
    local function mark(new, old)
      if uniform() >= p then return old end
      done[#done + 1] = new
      return '\1' .. #done .. '\2'
    end
    for _, pair in ipairs(M.pairs) do
      if direction ~= 'expand' then
        text = text:gsub(caseless(pair[1]), function(m) return mark(pair[2], m) end)
      end
      if direction ~= 'abbreviate' then
        text = text:gsub(exact(pair[2]), function(m) return mark(pair[1], m) end)
      end
    end
    return (text:gsub('\1(%d+)\2', function(i) return done[tonumber(i)] end))
  end
end

return M
