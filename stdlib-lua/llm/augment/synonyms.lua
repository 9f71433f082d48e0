-- augment.synonyms: where word-level augmenters get synonyms. A user table {word = {syn, ...}} is asked
-- first; WordNet (llm.wordnet, Debian 'wordnet-base') second. Option `wordnet`: 'auto' (default: use it
-- when installed), true (required: an error names the package when it is missing), false, or an
-- llm.WordNet from llm.wordnet.open(dir). Lookups are cached per source.
local M = {}
M.__index = M

--- A synonym source for augmenter `who` from its options {synonyms=, wordnet=, pos=}.
function M.new(who, opts)
  local self = setmetatable({table = {}, cache = {}, pos = opts.pos}, M)
  local t = opts.synonyms
  if t ~= nil and t ~= false then
    if type(t) ~= 'table' then
      error(("%s: Invalid 'synonyms': expected a table {word = {synonym, ...}}, got %s"):format(who, type(t)), 4)
    end
    for w, list in pairs(t) do
      if type(w) ~= 'string' or type(list) ~= 'table' then
        error(("%s: Invalid 'synonyms': expected a table {word = {synonym, ...}}, got an entry %s = %s")
          :format(who, tostring(w), type(list)), 4)
      end
      self.table[w:lower()] = list
    end
  end
  local wn = opts.wordnet
  if wn == nil then wn = 'auto' end
  if wn == true then
    self.wn = llm.wordnet.open()
  elseif wn == 'auto' then
    if llm.wordnet.available() then self.wn = llm.wordnet.open() end
  elseif wn ~= false then
    if type(wn) ~= 'userdata' then
      error(("%s: Invalid 'wordnet': expected 'auto', true, false or an llm.WordNet, got %s"):format(who, tostring(wn)), 4)
    end
    self.wn = wn
  end
  if not self.wn and next(self.table) == nil then
    error(("%s: no synonym source: WordNet is not installed (Debian package 'wordnet-base'; scripts/setup.sh "
      .. "installs it) and no 'synonyms' table was given"):format(who), 4)
  end
  return self
end

--- Synonyms of `word` (a list, possibly empty), the word itself excluded.
function M:get(word)
  local key = word:lower()
  local hit = self.cache[key]
  if hit then return hit end
  local out = {}
  local own = self.table[key]
  if own then
    for _, s in ipairs(own) do if s:lower() ~= key then out[#out + 1] = s end end
  elseif self.wn and key:match('^[%a][%a\'%-]*$') then
    for _, s in ipairs(self.wn:synonyms(key, self.pos)) do
      if s:match('^[%a][%a \'%-]*$') then out[#out + 1] = s end     -- plain-letter synonyms only, as EDA
    end
  end
  self.cache[key] = out
  return out
end

return M
