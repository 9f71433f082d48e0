-- augment.chinese: augmenters for text written without spaces (after Data-Juicer's nlpcda_zh_mapper).
-- No whitespace tokenization: CJK characters are the units, punctuation and other text stay in place.
-- ChineseChars{action='swap'|'delete'} changes n = max(1, floor(rate * CJK characters)) characters (swap:
-- with the next CJK character, or any with swapMode='random'); ChineseSynonyms replaces n = max(1,
-- floor(rate * matches)) of the words of a user table found in the text (longest match first).
local base = require 'llm.augment.base'
local words = require 'llm.augment.words'
local M = {}

M.ChineseChars = base.class('ChineseChars', {
  options = {action = 'swap', rate = 0.1, swapMode = 'adjacent'},
  init = function(self)
    local a = self.opts.action
    if a ~= 'swap' and a ~= 'delete' then
      error(("%s: Invalid 'action': expected one of 'swap', 'delete', got '%s'"):format(self.__name, tostring(a)), 3)
    end
    local m = self.opts.swapMode
    if m ~= 'adjacent' and m ~= 'random' then
      error(("%s: Invalid 'swapMode': expected one of 'adjacent', 'random', got '%s'"):format(self.__name, tostring(m)), 3)
    end
  end,
  transform = function(self, text)
    local p, k = words.split(text)
    local cjk = {}
    for i, kind in ipairs(k) do if kind == 'c' then cjk[#cjk + 1] = i end end
    local n = base.count(self:rate('rate'), #cjk)
    if self.opts.action == 'delete' then
      local chosen = self:sample(#cjk, math.min(n, #cjk - 1))      -- never delete every character
      for _, j in ipairs(chosen) do p[cjk[j]] = '' end
    elseif #cjk >= 2 then
      for _ = 1, n do
        local a, b
        if self.opts.swapMode == 'random' then
          local two = self:sample(#cjk, 2); a, b = cjk[two[1]], cjk[two[2]]
        else
          local pairs_ = {}
          for j = 1, #cjk - 1 do if cjk[j + 1] == cjk[j] + 1 then pairs_[#pairs_ + 1] = j end end
          if #pairs_ == 0 then break end
          local j = pairs_[self:randint(#pairs_)]
          a, b = cjk[j], cjk[j + 1]
        end
        p[a], p[b] = p[b], p[a]
      end
    end
    return table.concat(p)
  end,
})

M.ChineseSynonyms = base.class('ChineseSynonyms', {
  options = {synonyms = false, rate = 0.3},
  init = function(self)
    local t = self.opts.synonyms
    if type(t) ~= 'table' or next(t) == nil then
      error(("%s: Invalid 'synonyms': expected a non-empty table {word = {synonym, ...}}, got %s"):format(self.__name, type(t)), 3)
    end
    self.table, self.maxLen = {}, 1
    for w, list in pairs(t) do
      if type(w) ~= 'string' or type(list) ~= 'table' or #list == 0 then
        error(("%s: Invalid 'synonyms': entry %s must map a word to a non-empty list"):format(self.__name, tostring(w)), 3)
      end
      self.table[w] = list
      self.maxLen = math.max(self.maxLen, #llm.text.chars(w))
    end
  end,
  transform = function(self, text)
    local chars = llm.text.chars(text)
    local matches, i = {}, 1                 -- {start, length} of table words, longest first, no overlap
    while i <= #chars do
      local found = 0
      for len = math.min(self.maxLen, #chars - i + 1), 1, -1 do
        if self.table[table.concat(chars, '', i, i + len - 1)] then found = len; break end
      end
      if found > 0 then matches[#matches + 1] = {i, found}; i = i + found else i = i + 1 end
    end
    for _, j in ipairs(self:sample(#matches, base.count(self:rate('rate'), #matches))) do
      local m = matches[j]
      local word = table.concat(chars, '', m[1], m[1] + m[2] - 1)
      chars[m[1]] = self:choice(self.table[word])
      for q = m[1] + 1, m[1] + m[2] - 1 do chars[q] = '' end
    end
    return table.concat(chars)
  end,
})

return M
