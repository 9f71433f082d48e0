-- augment_spec.lua: the augmenters (stdlib-lua/llm/augment) and their primitives (llm.text, llm.wordnet):
-- determinism under a seed, rates (changed words = n), stop words untouched, CJK per character with no
-- spaces introduced, keyboard typos are neighbours, token masking rates, composition, pipeline steps, errors.
-- Run: llmscript --no-strict /usr/bin/busted Tests/lua/augment_spec.lua

local fails = dofile((debug.getinfo(1, 'S').source:match('^@(.*/)') or './') .. 'helpers.lua').fails

local SENT = 'The quick brown fox jumps over the lazy dog near a quiet river bank.'
local SYN = {quick = {'fast', 'speedy'}, brown = {'tan'}, fox = {'vixen'}, jumps = {'leaps'}, lazy = {'idle'},
             dog = {'hound'}, quiet = {'calm'}, river = {'stream'}, bank = {'shore'}}

local function count(t, v) local n = 0; for _, x in ipairs(t) do if x == v then n = n + 1 end end; return n end
local function bag(words) local b = {}; for _, w in ipairs(words) do b[w] = (b[w] or 0) + 1 end; return b end
local function sameBag(a, b)
  for k, v in pairs(a) do if b[k] ~= v then return false end end
  for k, v in pairs(b) do if a[k] ~= v then return false end end
  return true
end

describe('llm.text', function()
  it('tokenizes losslessly, CJK per character', function()
    local text = 'Hi, 你好! don\'t well-known  x'
    local p, k = llm.text.tokenize(text)
    assert.are.equal(text, table.concat(p))
    assert.are.same({'Hi', ',', ' ', '你', '好', '!', ' ', "don't", ' ', 'well-known', '  ', 'x'}, p)
    assert.are.equal('wpsccpswswsw', table.concat(k))
    assert.are.same({'Hi', '你', '好', "don't", 'well-known', 'x'}, llm.text.words(text))
  end)
  it('has keyboard neighbours and OCR confusions', function()
    assert.are.same({'a', 'd', 'w', 'e', 'z', 'x'}, llm.text.keyboardNeighbours('s'))
    assert.are.same({'A', 'D', 'W', 'E', 'Z', 'X'}, llm.text.keyboardNeighbours('S'))
    assert.are.same({}, llm.text.keyboardNeighbours('你'))
    assert.is_true(count(llm.text.ocrConfusions('0'), 'O') == 1)
    fails(function() llm.text.keyboardNeighbours('ab') end, 'expected a single character')
  end)
  it('draws seeded random choices', function()
    local a = llm.text.sample(10, 10, llm.Generator(3))
    assert.are.same(a, llm.text.sample(10, 10, llm.Generator(3)))
    table.sort(a)
    assert.are.same({1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, a)
    assert.are.equal(llm.text.hash('abc'), llm.text.hash('abc'))
  end)
end)

describe('llm.wordnet', function()
  it('finds synonyms and base forms', function()
    local car = llm.wordnet.synonyms('car', 'noun')
    assert.are.same({'auto', 'automobile', 'machine', 'motorcar'}, {car[1], car[2], car[3], car[4]})
    assert.are.equal('goose', llm.wordnet.morphy('geese', 'noun'))
    assert.are.equal('run', llm.wordnet.morphy('ran', 'v'))
    local ss = llm.wordnet.synsets('car', 'n')
    assert.are.equal(2958343, ss[1].offset)
    fails(function() llm.wordnet.synonyms('car', 'noon') end, "Invalid 'pos'", "'noun'")
    fails(function() llm.wordnet.open('/nonexistent/wn') end, "wordnet-base")
  end)
end)

describe('word augmenters (EDA)', function()
  it('are deterministic under a seed', function()
    for i, C in ipairs{augment.SynonymReplacement, augment.RandomInsertion, augment.RandomSwap, augment.RandomDeletion} do
      local opts = i <= 2 and {synonyms = SYN, wordnet = false} or {}
      opts.seed, opts.alpha = 7, 0.3
      local a, b = C(opts), C(opts)
      for _ = 1, 3 do assert.are.equal(a(SENT), b(SENT)) end
    end
  end)
  it('change n = max(1, floor(alpha * words)) words', function()
    local words = llm.text.words(SENT)                       -- 14 words
    for _, alpha in ipairs{0.05, 0.2, 0.3} do
      local n = math.max(1, math.floor(alpha * #words))
      for seed = 1, 5 do
        local sr = llm.text.words(augment.SynonymReplacement{seed = seed, alpha = alpha, synonyms = SYN, wordnet = false}(SENT))
        local changed = 0
        for i = 1, #words do if sr[i] ~= words[i] then changed = changed + 1 end end
        assert.are.equal(n, changed)
        assert.are.equal(#words - n, #llm.text.words(augment.RandomDeletion{seed = seed, alpha = alpha}(SENT)))
        assert.are.equal(#words + n, #llm.text.words(augment.RandomInsertion{seed = seed, alpha = alpha, synonyms = SYN, wordnet = false}(SENT)))
        local rs = llm.text.words(augment.RandomSwap{seed = seed, alpha = alpha}(SENT))
        assert.is_true(sameBag(bag(words), bag(rs)))
      end
    end
  end)
  it('leave stop words and punctuation untouched', function()
    local stop = {'The', 'over', 'the', 'a'}
    for seed = 1, 8 do
      for _, aug in ipairs{augment.RandomDeletion{seed = seed, alpha = 0.5}, augment.RandomSwap{seed = seed, alpha = 0.5},
                           augment.SynonymReplacement{seed = seed, alpha = 0.5, synonyms = {the = {'ze'}, over = {'above'}, a = {'one'}}, wordnet = false},
                           augment.KeyboardTypos{seed = seed, wordRate = 1, minChars = 1}} do
        local out = llm.text.words(aug(SENT))
        for _, w in ipairs(stop) do assert.are.equal(count(llm.text.words(SENT), w), count(out, w)) end
        local p = aug(SENT)
        assert.are.equal('.', p:sub(-1))
      end
    end
  end)
  it('use WordNet synonyms', function()
    local out = augment.SynonymReplacement{seed = 1, alpha = 0.01, wordnet = true}('My car is red')
    assert.are_not.equal('My car is red', out)
    local w = llm.text.words(out)
    assert.are.equal('My', w[1])
    fails(function() augment.SynonymReplacement{wordnet = false} end, 'no synonym source', 'wordnet-base')
  end)
  it('EDA gives numAug variants and keeps the original when asked', function()
    local eda = augment.EDA{seed = 3, numAug = 8, keepOriginal = true, synonyms = SYN, wordnet = false}
    local out = eda(SENT)
    assert.are.equal(9, #out)
    assert.are.equal(SENT, out[1])
    assert.are.same(out, augment.EDA{seed = 3, numAug = 8, keepOriginal = true, synonyms = SYN, wordnet = false}(SENT))
    local docs = augment.RandomSwap{seed = 1, numAug = 2, keepOriginal = true}({text = SENT, id = 'd1', meta = {src = 'x'}})
    assert.are.equal('d1', docs[1].id)
    assert.are.equal('d1#aug2', docs[3].id)
    assert.are.equal('x', docs[2].meta.src)
  end)
end)

describe('character augmenters', function()
  it('keyboard typos are QWERTY neighbours of the original', function()
    local text = 'Keyboard typing produces mistakes sometimes'
    for seed = 1, 5 do
      local out = augment.KeyboardTypos{seed = seed, rate = 0.5, wordRate = 1}(text)
      local a, b = llm.text.chars(text), llm.text.chars(out)
      assert.are.equal(#a, #b)
      local changed = 0
      for i = 1, #a do
        if a[i] ~= b[i] then
          changed = changed + 1
          assert.is_true(count(llm.text.keyboardNeighbours(a[i]), b[i]) == 1, b[i] .. ' is not next to ' .. a[i])
        end
      end
      assert.is_true(changed > 0)
    end
  end)
  it('OCR confusions and random character actions', function()
    local text = 'SOLO 1000 bulb'
    local out = augment.OCR{seed = 1, wordRate = 1, rate = 1}(text)
    local a, b = llm.text.chars(text), llm.text.chars(out)
    for i = 1, #a do
      local conf = llm.text.ocrConfusions(a[i])
      if #conf > 0 then assert.are.equal(1, count(conf, b[i])) else assert.are.equal(a[i], b[i]) end
    end
    local base = 'abcdefgh'
    assert.are.equal(9, #augment.RandomChar{seed = 1, action = 'insert', rate = 0.1}(base))
    assert.are.equal(7, #augment.RandomChar{seed = 1, action = 'delete', rate = 0.1}(base))
    local sw = augment.RandomChar{seed = 1, action = 'swap', rate = 0.1}(base)
    assert.is_true(sameBag(bag(llm.text.chars(base)), bag(llm.text.chars(sw))) and sw ~= base)
    fails(function() augment.RandomChar{action = 'flip'} end, "Invalid 'action'", "'swap'")
  end)
end)

describe('Chinese augmenters', function()
  local ZH = '我今天很喜欢吃苹果，你呢？'
  it('swap and delete characters without introducing spaces', function()
    for seed = 1, 5 do
      local sw = augment.ChineseChars{seed = seed, rate = 0.3}(ZH)
      assert.is_nil(sw:find(' '))
      assert.are.equal(13, #llm.text.chars(sw))
      assert.is_true(sameBag(bag(llm.text.chars(ZH)), bag(llm.text.chars(sw))))
      assert.are.equal('，', llm.text.chars(sw)[10])           -- punctuation stays in place
      local del = augment.ChineseChars{seed = seed, rate = 0.3, action = 'delete'}(ZH)
      assert.are.equal(13 - 3, #llm.text.chars(del))
      assert.is_nil(del:find(' '))
    end
  end)
  it('replace words from a user table; EDA treats CJK per character', function()
    local out = augment.ChineseSynonyms{seed = 1, rate = 1, synonyms = {['喜欢'] = {'喜爱'}, ['苹果'] = {'香蕉'}}}(ZH)
    assert.are.equal('我今天很喜爱吃香蕉，你呢？', out)
    local rd = augment.RandomDeletion{seed = 2, alpha = 0.2}(ZH)
    assert.are.equal(11 - 2, #llm.text.words(rd))
    assert.is_nil(rd:find(' '))
    local ri = augment.RandomInsertion{seed = 2, alpha = 0.1, synonyms = {['吃'] = {'食'}, ['我'] = {'俺'}, ['很'] = {'挺'}, ['天'] = {'日'}, ['果'] = {'实'}}, wordnet = false}(ZH)
    assert.is_nil(ri:find(' '))
    assert.are.equal(12, #llm.text.words(ri))
  end)
end)

describe('token masking', function()
  local ids = {}
  for i = 1, 200 do ids[i] = 10 + i % 50 end
  it('masks round(rate * eligible) positions, deterministically', function()
    local aug = augment.TokenMask{seed = 1, rate = 0.15, maskId = 0, protect = {11}}
    local out, chosen = aug:mask(ids)
    local protected = count(ids, 11)
    assert.are.equal(math.floor(0.15 * (200 - protected) + 0.5), count(out, 0))
    assert.are.equal(count(out, 0), count(chosen, true))
    for i = 1, #ids do if ids[i] == 11 then assert.are.equal(11, out[i]) end end
    assert.are.same(out, augment.TokenMask{seed = 1, rate = 0.15, maskId = 0, protect = {11}}(ids))
  end)
  it('BERT 80/10/10 and tensors', function()
    local out, chosen = augment.TokenMask{seed = 2, rate = 0.5, maskId = 0, vocabSize = 5, mode = 'bert'}:mask(ids)
    local masked = count(out, 0)
    assert.is_true(masked > 0.65 * 100 and masked < 0.95 * 100)
    local t = llm.tensor(ids)
    local tout, tmask = augment.TokenMask{seed = 1, rate = 0.25, maskId = 0}:mask(t)
    assert.are.equal(50, tmask:sum():item())
    assert.are.same(t:shape(), tout:shape())
    fails(function() augment.TokenMask{rate = 0.1, mode = 'random'}(ids) end, "Invalid 'vocabSize'")
    fails(function() augment.TokenMask{maskId = 0}('text') end, 'expected a list of token ids or a tensor')
  end)
end)

describe('composition, schedules and pipeline steps', function()
  it('sequential, sometimes and oneOf are deterministic under one seed', function()
    local function make()
      return augment.sequential{augment.RandomSwap{alpha = 0.2}, augment.sometimes(0.5, augment.OCR{}),
                                augment.oneOf{augment.KeyboardTypos{}, augment.RandomDeletion{}, function(s) return s:upper() end}, seed = 11}
    end
    local a, b = make(), make()
    for _ = 1, 4 do assert.are.equal(a(SENT), b(SENT)) end
    assert.are.equal(SENT, augment.sometimes(0, augment.RandomDeletion{})(SENT))
    assert.are_not.equal(SENT, augment.sometimes(1, augment.RandomDeletion{})(SENT))
    fails(function() augment.sequential{42} end, 'element 1 is a number')
  end)
  it('take a rate that is a function of the step', function()
    local aug = augment.RandomDeletion{seed = 1, alpha = function(step) return step < 10 and 0 or 0.5 end}
    assert.are.equal(SENT, aug(SENT))
    aug:setStep(10)
    assert.are.equal(14 - 7, #llm.text.words(aug(SENT)))
    local seq = augment.sequential{aug}
    seq:setStep(0)
    assert.are.equal(SENT, seq(SENT))
    fails(function() augment.RandomDeletion{alpha = function() return 2 end}(SENT) end, "Invalid 'alpha'")
  end)
  it('work as pipeline steps, seeded per document', function()
    local step = augment.RandomSwap{seed = 5, alpha = 0.3}:asStep()
    local d1 = step({text = SENT, id = 'a', meta = {}})
    step({text = 'other text to shuffle around here', id = 'b'})
    assert.are.equal(d1.text, step({text = SENT, id = 'a', meta = {}}).text)
    assert.are.equal('a', d1.id)
    fails(function() augment.RandomSwap{numAug = 2}:asStep() end, 'asStep')
  end)
  it('run in llm.data.pipeline, in the calling state and in worker states alike', function()
    local data = llm.data
    local dir = os.tmpname(); os.remove(dir); assert(os.execute('mkdir -p ' .. dir))
    local f = assert(io.open(dir .. '/augstep.lua', 'wb'))
    f:write("local M = {}\nM.swap = augment.RandomSwap{seed = 5, alpha = 0.3}:asStep()\nreturn M\n"); f:close()
    local saved = package.path
    package.path = dir .. '/?.lua;' .. package.path
    local list = {}
    for i = 1, 40 do list[i] = 'alpha beta gamma delta epsilon zeta eta theta ' .. i end
    local _, here = data.pipeline{data.readers.list(list), augment.RandomSwap{seed = 5, alpha = 0.3}:asStep(), quiet = true}:run()
    local _, workers = data.pipeline{data.readers.list(list), data.luaStep{module = 'augstep', fn = 'swap'},
                                     threads = 3, chunkSize = 7, quiet = true}:run()
    package.path = saved
    os.remove(dir .. '/augstep.lua'); os.remove(dir)
    assert.are.equal(40, #here)
    for i = 1, 40 do assert.are.equal(here[i].text, workers[i].text) end
    assert.are_not.equal(list[1], here[1].text)
  end)
  it('are found by name and reject unknown options', function()
    assert.are.equal(augment.RandomSwap, augment.get('RandomSwap'))
    assert.are.equal(augment.RandomSwap, augment.get('random_swap'))
    fails(function() augment.get('nope') end, "unknown augmenter 'nope'", "'EDA'")
    fails(function() augment.RandomSwap{alpah = 0.1} end, "unknown option 'alpah'", "'alpha'")
    fails(function() augment.RandomSwap{numAug = 0} end, "Invalid 'numAug'")
  end)
end)
