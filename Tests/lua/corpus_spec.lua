-- corpus_spec.lua: llm.corpus, the named corpora of the character-level recipes: 'fortunes' is the
-- English quotes only (one script, ~130 symbols), 'fortunes-zh' the Chinese ones, 'fortunes-all' both;
-- any other name is a path read as text; bad arguments are clear errors.
local corpus = require 'llm.corpus'
local helpers = dofile(debug.getinfo(1, 'S').source:match('^@(.*/)') .. 'helpers.lua')
teardown(helpers.removeTmpdirs)

local function vocabulary(text) return llm.data.CharTokenizer(text):vocabSize() end

describe('llm.corpus', function()
  it('lists its names', function()
    assert.are.same({'fortunes', 'fortunes-all', 'fortunes-zh'}, corpus.names())
  end)

  it("'fortunes' is the English quotes: one script, a small character vocabulary", function()
    local text = corpus.text('fortunes')
    assert.is_true(#text > 1000000)
    assert.is_true(vocabulary(text) < 200)
    assert.is_nil(text:find('的', 1, true))
  end)

  it("'fortunes-zh' is the Chinese quotes; 'fortunes-all' holds both", function()
    local zh = corpus.text('fortunes-zh')
    assert.truthy(zh:find('的', 1, true))
    assert.is_true(vocabulary(zh) > 2000)
    local all = corpus.text('fortunes-all')
    assert.is_true(#all > #zh)
    assert.truthy(all:find('的', 1, true) and all:find('the', 1, true))
  end)

  it('reads any other name as a path; errors name the problem', function()
    local dir = helpers.tmpdir('corpus')
    local f = assert(io.open(dir .. '/mine.txt', 'w')); f:write('my own text\n'); f:close()
    assert.truthy(corpus.text(dir .. '/mine.txt'):find('my own text', 1, true))
    helpers.fails(function() corpus.text(dir .. '/missing.txt') end, 'no such file or directory', dir .. '/missing.txt')
    helpers.fails(function() corpus.text(42) end, "bad argument #1 to 'text' (string expected, got number)")
  end)
end)
