-- augment.char: character-level noise (after nlpaug's KeyboardAug, OcrAug, RandomCharAug). A fraction
-- `wordRate` of the eligible words (not stop words, at least `minChars` characters, not CJK) is chosen,
-- n = max(1, floor(wordRate * eligible)); in each, n = max(1, floor(rate * characters)) characters change:
-- KeyboardTypos (a QWERTY neighbour, case kept), OCR (an OCR confusion: 0/o, 1/l, 5/S ...), RandomChar
-- (action 'substitute' | 'insert' | 'swap' | 'delete'). Punctuation and spacing are never touched.
local base = require 'llm.augment.base'
local words = require 'llm.augment.words'
local M = {}

local COMMON = {rate = 0.3, wordRate = 0.3, minChars = 4, stopwords = true}

local function setup(self)
  self.stop = words.stopSet(self.opts.stopwords, self.__name)
  local m = self.opts.minChars
  if math.type(m) ~= 'integer' or m < 1 then
    error(("%s: Invalid 'minChars': expected a positive integer, got %s"):format(self.__name, tostring(m)), 3)
  end
end

-- Applies `edit(self, chars, n)` (changes the character list in place) to the chosen words of `text`.
local function perWord(self, text, edit)
  local p, k = words.split(text)
  local eligible = {}
  for i, kind in ipairs(k) do
    if kind == 'w' and not self.stop[p[i]:lower()] and utf8.len(p[i]) and utf8.len(p[i]) >= self.opts.minChars then
      eligible[#eligible + 1] = i
    end
  end
  local rate = self:rate('rate')
  for _, j in ipairs(self:sample(#eligible, base.count(self:rate('wordRate'), #eligible))) do
    local i = eligible[j]
    local chars = llm.text.chars(p[i])
    edit(self, chars, base.count(rate, #chars))
    p[i] = table.concat(chars)
  end
  return table.concat(p)
end

-- Replaces n of the characters that have candidates by one of them.
local function replaceFrom(self, chars, n, candidates)
  local pos, opts = {}, {}
  for i, c in ipairs(chars) do
    local cs = candidates(self, c)
    if #cs > 0 then pos[#pos + 1] = i; opts[#opts + 1] = cs end
  end
  for _, j in ipairs(self:sample(#pos, n)) do chars[pos[j]] = self:choice(opts[j]) end
end

local function class(name, extra, edit)
  local opts = {}
  for key, v in pairs(COMMON) do opts[key] = v end
  for key, v in pairs(extra) do opts[key] = v end
  return base.class(name, {options = opts, init = setup,
    transform = function(self, text) return perWord(self, text, edit) end})
end

M.KeyboardTypos = class('KeyboardTypos', {digits = true, symbols = false}, function(self, chars, n)
  local o = {digits = self.opts.digits, symbols = self.opts.symbols}
  replaceFrom(self, chars, n, function(_, c) return llm.text.keyboardNeighbours(c, o) end)
end)

M.OCR = class('OCR', {}, function(self, chars, n)
  replaceFrom(self, chars, n, function(_, c) return llm.text.ocrConfusions(c) end)
end)

local ACTIONS = {substitute = true, insert = true, swap = true, delete = true}

M.RandomChar = class('RandomChar', {action = 'substitute', alphabet = 'abcdefghijklmnopqrstuvwxyz', swapMode = 'adjacent'},
  function(self, chars, n)
    local action = self.opts.action
    local function letter(like)
      local c = self.alphabet[self:randint(#self.alphabet)]
      return like and like:match('^%u$') and c:upper() or c
    end
    if action == 'substitute' then
      for _, i in ipairs(self:sample(#chars, n)) do chars[i] = letter(chars[i]) end
    elseif action == 'insert' then
      for _ = 1, n do table.insert(chars, self:randint(#chars + 1), letter()) end
    elseif action == 'delete' then
      local chosen = self:sample(#chars, math.min(n, #chars - 1))
      table.sort(chosen, function(x, y) return x > y end)
      for _, i in ipairs(chosen) do table.remove(chars, i) end
    else -- swap
      for _ = 1, n do
        if #chars < 2 then return end
        local a = self:randint(#chars - 1)
        local b = a + 1
        if self.opts.swapMode == 'random' then
          local two = self:sample(#chars, 2); a, b = two[1], two[2]
        end
        chars[a], chars[b] = chars[b], chars[a]
      end
    end
  end)

local init = M.RandomChar.init
M.RandomChar.init = function(self)
  init(self)
  if not ACTIONS[self.opts.action] then
    error(("%s: Invalid 'action': expected one of 'substitute', 'insert', 'swap', 'delete', got '%s'")
      :format(self.__name, tostring(self.opts.action)), 3)
  end
  if self.opts.swapMode ~= 'adjacent' and self.opts.swapMode ~= 'random' then
    error(("%s: Invalid 'swapMode': expected one of 'adjacent', 'random', got '%s'"):format(self.__name, tostring(self.opts.swapMode)), 3)
  end
  if type(self.opts.alphabet) ~= 'string' or self.opts.alphabet == '' then
    error(("%s: Invalid 'alphabet': expected a non-empty string, got %s"):format(self.__name, type(self.opts.alphabet)), 3)
  end
  self.alphabet = llm.text.chars(self.opts.alphabet)
end

return M
