-- augment.eda: the four word-level operations of EDA (Wei & Zou 2019, "EDA: Easy Data Augmentation
-- Techniques for Boosting Performance on Text Classification Tasks"; jasonwei20/eda_nlp), each changing
-- n = max(1, floor(alpha * words)) words that are not stop words: SynonymReplacement, RandomInsertion (a
-- synonym of a random word at a random place), RandomSwap, RandomDeletion; and EDA, whose numAug variants
-- cycle through the enabled operations in a random order. CJK characters count as words.
local base = require 'llm.augment.base'
local words = require 'llm.augment.words'
local Synonyms = require 'llm.augment.synonyms'
local M = {}

local function setup(self)
  self.stop = words.stopSet(self.opts.stopwords, self.__name)
end

local function setupSyn(self)
  setup(self)
  self.syn = Synonyms.new(self.__name, self.opts)
end

local SYN = {alpha = 0.1, stopwords = true, synonyms = false, wordnet = false, pos = false}

-- the operations on pieces; each returns the pieces changed in place
local ops = {}

function ops.sr(self, p, k, n)
  local cand = words.candidates(p, k, self.stop)
  local done = 0
  for _, j in ipairs(self:sample(#cand, #cand)) do
    if done >= n then break end
    local i = cand[j]
    local syns = self.syn:get(p[i])
    if #syns > 0 then p[i] = words.matchCase(p[i], self:choice(syns)); done = done + 1 end
  end
end

function ops.ri(self, p, k, n)
  for _ = 1, n do
    local cand = words.candidates(p, k, self.stop)
    if #cand == 0 then return end
    local syns
    for _ = 1, 10 do                                   -- EDA tries ten random words for one with synonyms
      syns = self.syn:get(p[cand[self:randint(#cand)]])
      if #syns > 0 then break end
    end
    if #syns == 0 then return end
    local slots = {0}
    for i, kind in ipairs(k) do if kind == 'w' or kind == 'c' then slots[#slots + 1] = i end end
    words.insertAfter(p, k, slots[self:randint(#slots)], self:choice(syns))
  end
end

function ops.rs(self, p, k, n)
  local cand = words.candidates(p, k, self.stop)
  if #cand < 2 then return end
  for _ = 1, n do
    local two = self:sample(#cand, 2)
    local a, b = cand[two[1]], cand[two[2]]
    p[a], p[b] = p[b], p[a]
    k[a], k[b] = k[b], k[a]
  end
end

function ops.rd(self, p, k, n, alpha)
  local cand = words.candidates(p, k, self.stop)
  local keepOne = #cand == words.wordCount(k)          -- never delete every word
  local chosen = {}
  if self.opts.bernoulli then                          -- EDA's original: each word with probability alpha
    for j = 1, #cand do if self:random() < alpha then chosen[#chosen + 1] = j end end
  else
    chosen = self:sample(#cand, n)
  end
  if keepOne and #chosen >= #cand then table.remove(chosen) end
  table.sort(chosen, function(x, y) return x > y end) -- delete from the end so indices stay valid
  for _, j in ipairs(chosen) do words.remove(p, k, cand[j]) end
end

local function runOp(self, op, text, alpha)
  if alpha <= 0 then return text end
  local p, k = words.split(text)
  local n = base.count(alpha, words.wordCount(k))
  ops[op](self, p, k, n, alpha)
  return table.concat(p)
end

local function single(name, op, needsSyn, extra)
  local opts = {alpha = 0.1, stopwords = true}
  if needsSyn then for key, v in pairs(SYN) do opts[key] = v end end
  for key, v in pairs(extra or {}) do opts[key] = v end
  return base.class(name, {
    options = opts,
    init = needsSyn and setupSyn or setup,
    transform = function(self, text) return runOp(self, op, text, self:rate('alpha')) end,
  })
end

M.SynonymReplacement = single('SynonymReplacement', 'sr', true)
M.RandomInsertion = single('RandomInsertion', 'ri', true)
M.RandomSwap = single('RandomSwap', 'rs', false)
M.RandomDeletion = single('RandomDeletion', 'rd', false, {bernoulli = false})

local ORDER = {{'sr', 'alphaSR'}, {'ri', 'alphaRI'}, {'rs', 'alphaRS'}, {'rd', 'alphaRD'}}

M.EDA = base.class('EDA', {
  options = {alphaSR = 0.1, alphaRI = 0.1, alphaRS = 0.1, alphaRD = 0.1, stopwords = true, synonyms = false,
             wordnet = false, pos = false, bernoulli = false},
  init = function(self)
    setup(self)
    if self.opts.alphaSR ~= 0 or self.opts.alphaRI ~= 0 then self.syn = Synonyms.new(self.__name, self.opts) end
  end,
  enabled = function(self)
    local out = {}
    for _, o in ipairs(ORDER) do
      local a = self:rate(o[2])
      if a > 0 then out[#out + 1] = {o[1], a} end
    end
    return out
  end,
  transform = function(self, text)
    local en = self._op and {self._op} or self:enabled()
    if #en == 0 then return text end
    local pick = en[self:randint(#en)]
    return runOp(self, pick[1], text, pick[2])
  end,
  -- numAug variants: the enabled operations in a random order, cycled (each used about numAug/4 times)
  variants = function(self, x, n)
    local en = self:enabled()
    local order = self:sample(#en, #en)
    local out = {}
    for v = 1, n do
      self._op = #en > 0 and en[order[(v - 1) % #en + 1]] or nil
      out[v] = self:apply(x)
    end
    self._op = nil
    return out
  end,
})
M.EDA.allowed.numAug = 9          -- EDA's default number of variants per sentence

return M
