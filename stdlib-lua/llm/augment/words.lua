-- augment.words: helpers for word-level edits on llm.text.tokenize pieces (words, single CJK characters,
-- punctuation, whitespace; concatenated they give the text back). Edits keep punctuation in place: a
-- deleted word takes one neighbouring space with it; an inserted word brings a space unless it sits
-- next to CJK text. Also: the stop-word option and case matching of replacements.
local M = {}

local ENGLISH = nil

--- The stop-word set for option value `v`: true = English (EDA's list), false = none, a list = those words.
function M.stopSet(v, who)
  if v == false then return {} end
  if v == true or v == nil then
    ENGLISH = ENGLISH or require 'llm.augment.stopwords'
    return ENGLISH
  end
  if type(v) ~= 'table' then
    error(("%s: Invalid 'stopwords': expected true, false or a list of words, got %s"):format(who, type(v)), 4)
  end
  local set = {}
  for k, w in pairs(v) do
    if type(k) == 'number' then set[tostring(w):lower()] = true elseif w then set[tostring(k):lower()] = true end
  end
  return set
end

--- Tokenizes text: pieces, kinds ('w' word, 'c' CJK character, 'p' punctuation, 's' space).
function M.split(text) return llm.text.tokenize(text) end

--- Indices of word pieces (kinds 'w' and 'c') that are not stop words.
function M.candidates(pieces, kinds, stop)
  local out = {}
  for i, k in ipairs(kinds) do
    if (k == 'w' or k == 'c') and not stop[pieces[i]:lower()] then out[#out + 1] = i end
  end
  return out
end

--- Number of word pieces.
function M.wordCount(kinds)
  local n = 0
  for _, k in ipairs(kinds) do if k == 'w' or k == 'c' then n = n + 1 end end
  return n
end

--- `repl` with the case pattern of `word` (Capitalized, UPPER or as given).
function M.matchCase(word, repl)
  if #word > 1 and word:upper() == word and word:lower() ~= word then return repl:upper() end
  if word:sub(1, 1):match('%u') then return repl:sub(1, 1):upper() .. repl:sub(2) end
  return repl
end

--- Removes the piece at i and one neighbouring whitespace piece (the one before, else the one after).
function M.remove(pieces, kinds, i)
  table.remove(pieces, i); table.remove(kinds, i)
  if kinds[i - 1] == 's' then table.remove(pieces, i - 1); table.remove(kinds, i - 1)
  elseif kinds[i] == 's' then table.remove(pieces, i); table.remove(kinds, i) end
end

local function isCJKText(s)
  local c = s:match('^[%z\1-\127\194-\244][\128-\191]*')
  return c ~= nil and #c > 1 and llm.text.isCJK(c)
end

--- Inserts `word` after the piece at index i (i = 0: before the first piece), with a space unless
--- the word or its neighbour is CJK.
function M.insertAfter(pieces, kinds, i, word)
  local kind = isCJKText(word) and 'c' or 'w'
  if i == 0 then
    local spaced = kind == 'w' and kinds[1] ~= nil and kinds[1] ~= 'c'
    if spaced then table.insert(pieces, 1, ' '); table.insert(kinds, 1, 's') end
    table.insert(pieces, 1, word); table.insert(kinds, 1, kind)
    return
  end
  local spaced = kind == 'w' and kinds[i] ~= 'c'
  table.insert(pieces, i + 1, word); table.insert(kinds, i + 1, kind)
  if spaced then table.insert(pieces, i + 1, ' '); table.insert(kinds, i + 1, 's') end
end

return M
