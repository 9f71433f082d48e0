-- data_spec.lua: the llm.data namespace (corpus reading, tokenizers, splits, batches) from Lua:
-- round trips incl. non-ASCII text, fortune splitting on Tests/Fixtures/fortunes-sample, batch shapes,
-- y = x shifted, seeded determinism, exact resume through :state()/:setState(), eval windows, errors.
-- Run: llmscript --no-strict /usr/bin/busted Tests/lua/data_spec.lua

local here = debug.getinfo(1, 'S').source:match('^@(.*/)') or './'
local fixture = here .. '../Fixtures/fortunes-sample'

local fails = dofile((debug.getinfo(1, 'S').source:match('^@(.*/)') or './') .. 'helpers.lua').fails

-- rows of a (B, T) tensor as Lua tables
local function rows(t) return t:totable() end

describe('llm.data.readText', function()
  it('reads a fortune file as quotes joined by a separator', function()
    local text = llm.data.readText(fixture, {format = 'fortunes', separator = '|'})
    assert.are.equal('A day for firm decisions!!!!!  Or is it?|Two lines:\n\tthe second one indented.|'
      .. 'Ünïcödé quote — 世界 👋|The last one has no trailing separator.', text)
  end)
  it('reads a plain file verbatim, and lists of files', function()
    local f = assert(io.open(fixture, 'rb')); local raw = f:read('a'); f:close()
    assert.are.equal(raw, llm.data.readText(fixture))
    local other = os.tmpname()
    local g = assert(io.open(other, 'wb')); g:write('second'); g:close()
    assert.are.equal(raw .. '#second', llm.data.readText({fixture, other}, {separator = '#'}))
    assert.are.equal(raw, llm.data.readText({fixture, fixture}))   -- each real file is read once
    os.remove(other)
  end)
  it('errors: missing path, bad format, unknown option, empty file', function()
    fails(function() return llm.data.readText('/x/none') end, 'corpus: no such file or directory: /x/none')
    fails(function() return llm.data.readText(fixture, {format = 'csv'}) end, "Invalid 'format'", "'plain', 'fortunes'")
    fails(function() return llm.data.readText(fixture, {sep = ','}) end, "unknown option 'sep'")
    fails(function() return llm.data.readText(42) end, 'string expected, got number')
    local empty = os.tmpname()
    fails(function() return llm.data.readText(empty) end, 'corpus: empty file: ' .. empty)
    os.remove(empty)
  end)
end)

describe('llm.data.fortunes', function()
  it('reads the fortunes package, or says how to install it', function()
    local ok, text = pcall(llm.data.fortunes)
    if ok then assert.is_true(#text > 1000000) else assert.truthy(text:find('apt-get install fortunes', 1, true)) end
  end)
  it('a missing folder is a clear error', function()
    fails(function() return llm.data.fortunes('/x/none') end, 'fortunes: no such directory: /x/none')
  end)
end)

describe('tokenizers', function()
  local text = 'héllo, 世界 👋\nbye'
  it('CharTokenizer round-trips non-ASCII text with 0-based sorted ids', function()
    local tok = llm.data.CharTokenizer(text)
    local ids = tok:encode(text)
    assert.are.equal('int64', ids:dtype())
    assert.are.same({utf8.len(text)}, ids:shape())
    assert.are.equal(text, tok:decode(ids))
    assert.are.equal(0, tok:encode('\n'):totable()[1])          -- '\n' is the smallest character
    assert.are.equal('bye', tok:decode(tok:encode('bye'):totable()))
    assert.truthy(tostring(tok):find('llm.data.CharTokenizer(vocabSize=', 1, true))
  end)
  it('unknown characters are errors naming them, unless unk is given', function()
    local tok = llm.data.CharTokenizer('abc')
    fails(function() return tok:encode('aé') end, "character 'é' (U+00E9) at position 2 is not in the vocabulary")
    local u = llm.data.CharTokenizer('abc?', {unk = '?'})
    assert.are.same({1, 0, 3}, u:encode('a世c'):totable())
    fails(function() return llm.data.CharTokenizer('abc', {unk = 7}) end, "Invalid 'unk'")
    fails(function() return tok:decode({0, 3}) end, 'id 3 at position 2 is out of range')
    fails(function() return tok:encode('\xff') end, 'not valid UTF-8')
    fails(function() return llm.data.CharTokenizer('') end, 'training text is empty')
  end)
  it('ByteTokenizer: UTF-8 bytes, lossy-safe decode', function()
    local tok = llm.data.ByteTokenizer()
    assert.are.equal(256, tok:vocabSize())
    assert.are.same({104, 195, 169}, tok:encode('hé'):totable())
    assert.are.equal(text, tok:decode(tok:encode(text)))
    assert.are.equal('h\u{FFFD}', tok:decode({104, 195}))
    fails(function() return tok:decode({256}) end, 'out of range')
  end)
  it('toTable / tokenizerFromTable restore the same tokenizer', function()
    local tok = llm.data.CharTokenizer(text)
    local t = tok:toTable()
    assert.are.equal('char', t.type)
    assert.are.equal(tok:vocabSize(), #t.vocab)
    local copy = llm.data.tokenizerFromTable(t)
    assert.are.same(tok:encode(text):totable(), copy:encode(text):totable())
    assert.are.equal('byte', llm.data.tokenizerFromTable(llm.data.ByteTokenizer():toTable()):toTable().type)
    fails(function() return llm.data.tokenizerFromTable({type = 'wordpiece'}) end, "unknown tokenizer type 'wordpiece'")
  end)
  it('methods check self, and freed tokenizers error', function()
    local tok = llm.data.CharTokenizer('ab')
    fails(function() return tok.encode(3, 'a') end, 'llm.data.CharTokenizer, llm.data.ByteTokenizer or llm.data.BPETokenizer expected, got number')
    tok:free()
    fails(function() return tok:encode('a') end, 'already freed')
  end)
end)

describe('splits and batches', function()
  local ids = llm.arange(0, 1000, {dtype = 'int64'})
  it('split is contiguous, validation at the end', function()
    local train, val = llm.data.split(ids, 0.1)
    assert.are.equal(900, train:numel()); assert.are.equal(100, val:numel())
    assert.are.equal(900, val:totable()[1])
    fails(function() return llm.data.split(ids, 1.5) end, "Invalid 'valFraction'")
  end)
  it('Batcher: (B, T) int64, y = x shifted by one, in bounds', function()
    local b = llm.data.Batcher(ids, {batchSize = 4, blockSize = 8, seed = 3})
    for _ = 1, 20 do
      local x, y = b:next()
      assert.are.same({4, 8}, x:shape()); assert.are.same({4, 8}, y:shape())
      assert.are.equal('int64', x:dtype())
      local xr, yr = rows(x), rows(y)
      for r = 1, 4 do
        for c = 1, 8 do
          assert.are.equal(xr[r][c] + 1, yr[r][c])
          assert.is_true(xr[r][c] >= 0 and yr[r][c] < 1000)
        end
      end
    end
  end)
  it('same seed, same batches; state/setState resumes exactly', function()
    local a = llm.data.Batcher(ids, {batchSize = 2, blockSize = 5, seed = 9})
    local b = llm.data.Batcher(ids, {batchSize = 2, blockSize = 5, seed = 9})
    for _ = 1, 3 do assert.are.same(rows((a:next())), rows((b:next()))) end
    local saved = a:state()
    assert.are.equal(3, saved.step)
    local want = {}
    for i = 1, 4 do want[i] = rows((a:next())) end
    local c = llm.data.Batcher(ids, {batchSize = 2, blockSize = 5, seed = 1})
    c:setState(saved)
    for i = 1, 4 do assert.are.same(want[i], rows((c:next()))) end
    fails(function() c:setState({seed = 1}) end, 'expected the table returned by state()')
    fails(function() llm.data.Batcher(llm.arange(0, 10, {dtype = 'int64'}), {batchSize = 1, blockSize = 5}):setState(saved) end,
      'saved for 1000 tokens')
  end)
  it('batcher errors: too little data, bad sizes, unknown options', function()
    fails(function() return llm.data.Batcher(llm.arange(0, 8, {dtype = 'int64'}), {batchSize = 1, blockSize = 8}) end,
      'the data has 8 tokens, fewer than blockSize + 1 = 9')
    fails(function() return llm.data.Batcher(ids, {batchSize = 0, blockSize = 8}) end, "Invalid 'batchSize'")
    fails(function() return llm.data.Batcher(ids, {batchSize = 1}) end, "missing option 'blockSize'")
    fails(function() return llm.data.Batcher(ids, {batchSize = 1, blockSize = 2, shuffle = true}) end, "unknown option 'shuffle'")
    fails(function() return llm.data.Batcher(llm.zeros(10), {batchSize = 1, blockSize = 2}) end, 'expected integer token ids')
  end)
  it('evalWindows: sequential, non-overlapping, reusable', function()
    local w = llm.data.evalWindows(llm.arange(0, 23, {dtype = 'int64'}), 2, 5)
    assert.are.equal(2, #w)
    local firsts, n = {}, 0
    for x, y in w do
      n = n + 1
      for _, r in ipairs(rows(x)) do firsts[#firsts + 1] = r[1] end
    end
    assert.are.equal(2, n)
    assert.are.same({0, 5, 10, 15}, firsts)
    local again = 0
    for _ in w do again = again + 1 end
    assert.are.equal(2, again)
    local x, y = w:batch(2)
    assert.are.same({{10, 11, 12, 13, 14}, {15, 16, 17, 18, 19}}, rows(x))
    assert.are.same({16, 17, 18, 19, 20}, rows(y)[2])
    fails(function() return w:batch(3) end, 'batch index 3 out of range')
  end)
  it('randomWindows uses the llm.manualSeed generator', function()
    llm.manualSeed(5); local x1 = llm.data.randomWindows(ids, 2, 4)
    llm.manualSeed(5); local x2 = llm.data.randomWindows(ids, 2, 4)
    assert.are.same(rows(x1), rows(x2))
  end)
end)
