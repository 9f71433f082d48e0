-- bpe_spec.lua: llm.data.BPETokenizer from Lua: training (string or list of strings, special tokens),
-- round trips incl. Chinese and emoji, special tokens never split, tokenToId/idToToken, save/fromFile
-- (HF tokenizer.json) and the HF fixture's encodings, toTable/tokenizerFromTable, and error messages.
-- Run: llmscript --no-strict /usr/bin/busted Tests/lua/bpe_spec.lua

local here = debug.getinfo(1, 'S').source:match('^@(.*/)') or './'
local fixtures = here .. '../Fixtures/tokenizers/'

local fails = dofile((debug.getinfo(1, 'S').source:match('^@(.*/)') or './') .. 'helpers.lua').fails

local function read(p) local h = assert(io.open(p, 'rb')); local s = h:read('a'); h:close(); return s end

local function ids(t)
  local out = {}
  for k, v in ipairs(t:totable()) do out[k] = math.tointeger(v) or v end
  return out
end

local corpus = {'the cat sat on the mat', 'the dog sat on the log', '猫坐在垫子上 😀😀', 'the end<|endoftext|>'}

describe('llm.data.BPETokenizer', function()
  local tok = llm.data.BPETokenizer.train(corpus, {vocabSize = 300, minFrequency = 2, specialTokens = {'<|endoftext|>'}})

  it('trains from a list or a string and round-trips any text', function()
    assert.is_true(tok:vocabSize() > 257 and tok:vocabSize() <= 300)
    for _, s in ipairs{'', 'the cat', '  spaces\n\ttabs  ', '人工智能 改变世界', 'emoji 😀👍🏽 👨‍👩‍👧', 'it\'s <|endoftext|>x'} do
      local t = tok:encode(s)
      assert.are.equal('int64', t:dtype())
      assert.are.equal(s, tok:decode(t))
      assert.are.equal(s, tok:decode(ids(t)))
    end
    local one = llm.data.BPETokenizer.train(table.concat(corpus, '\n'), {vocabSize = 260})
    assert.are.equal(260, one:vocabSize())
  end)

  it('keeps special tokens whole and maps tokens to ids', function()
    local eot = tok:tokenToId('<|endoftext|>')
    assert.are.equal(0, eot)
    assert.are.same({eot}, ids(tok:encode('<|endoftext|>')))
    assert.are.equal('<|endoftext|>', tok:idToToken(eot))
    assert.is_not_nil(tok:tokenToId('Ġthe'))
    assert.is_nil(tok:tokenToId('no such token'))
    assert.is_nil(tok:idToToken(100000))
    assert.matches('llm.data.BPETokenizer%(vocabSize=%d+%)', tostring(tok))
  end)

  it('saves and loads tokenizer.json, and matches the HF fixture', function()
    local path = os.tmpname()
    tok:save(path)
    local back = llm.data.BPETokenizer.fromFile(path)
    os.remove(path)
    assert.are.same(ids(tok:encode('the cat 猫 😀<|endoftext|>')), ids(back:encode('the cat 猫 😀<|endoftext|>')))
    local hf = llm.data.BPETokenizer.fromFile(fixtures .. 'hf_bpe500.json')
    for _, c in ipairs(llm.json.decode(read(fixtures .. 'hf_bpe500_cases.json'))) do
      assert.are.same(c.ids, ids(hf:encode(c.text)))
    end
  end)

  it('round-trips through toTable and tokenizerFromTable', function()
    local copy = llm.data.tokenizerFromTable(tok:toTable())
    assert.are.equal('bpe', tok:toTable().type)
    assert.are.same(ids(tok:encode('the log 猫')), ids(copy:encode('the log 猫')))
    assert.are.equal(tok:vocabSize(), copy:vocabSize())
  end)

  it('errors name the problem', function()
    fails(function() return llm.data.BPETokenizer.train('x', {vocabSize = 10}) end, "Invalid 'vocabSize'", 'got 10')
    fails(function() return llm.data.BPETokenizer.train('x', {}) end, "Invalid 'vocabSize'")
    fails(function() return llm.data.BPETokenizer.train('x', {vocabSize = 300, size = 1}) end, "unknown option 'size'")
    fails(function() return llm.data.BPETokenizer.train('x', {vocabSize = 300, specialTokens = {1}}) end, "Invalid 'specialTokens'")
    fails(function() return llm.data.BPETokenizer.train(42, {vocabSize = 300}) end, 'string or table of strings')
    fails(function() return llm.data.BPETokenizer.fromFile('/x/none.json') end, 'no such file')
    local bad = os.tmpname()
    local h = assert(io.open(bad, 'w')); h:write('{"model": {"type": "WordPiece", "vocab": {}}}'); h:close()
    fails(function() return llm.data.BPETokenizer.fromFile(bad) end, "model type 'WordPiece' is not supported")
    h = assert(io.open(bad, 'w')); h:write('{"model": '); h:close()
    fails(function() return llm.data.BPETokenizer.fromFile(bad) end, 'not valid JSON')
    os.remove(bad)
    fails(function() return tok:decode({100000}) end, 'out of range')
    fails(function() return tok:save('/x/none/t.json') end, 'cannot write')
    fails(function() return llm.data.tokenizerFromTable({type = 'bpe', vocab = {'a'}, merges = {'a b'}}) end, 'bad merge 1')
  end)
end)
