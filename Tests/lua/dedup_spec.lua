-- dedup_spec.lua: llm.data.dedup from Lua: exact and MinHash stages (keep the first, reasons, stats),
-- similarity/jaccard helpers, hash, optimalBands, and option errors. English, Chinese and emoji text.
-- Run: llmscript --no-strict /usr/bin/busted Tests/lua/dedup_spec.lua

local dedup = llm.data.dedup

local fails = dofile((debug.getinfo(1, 'S').source:match('^@(.*/)') or './') .. 'helpers.lua').fails

-- 200 pseudo-random words from a small LCG (deterministic)
local function words(n, seed, prefix)
  local out, x = {}, seed
  for i = 1, n do x = (x * 1103515245 + 12345) % 2147483648; out[i] = (prefix or 'w') .. (x % 5000) end
  return out
end

describe('llm.data.dedup', function()
  it('Exact keeps the first of each normalized text', function()
    local st = dedup.Exact()
    assert.truthy(st:process{text = 'Hello  World', id = 'a'})
    local d, why = st:process{text = 'hello\nworld', id = 'b'}
    assert.is_nil(d); assert.are.equal('exactDedup: duplicate of a', why)
    assert.truthy(st:process{text = '你好 😀', id = 'c'})
    d, why = st:process{text = '你好\t😀', id = 'd'}
    assert.are.equal('exactDedup: duplicate of c', why)
    assert.are.same({seen = 4, duplicates = 2}, dedup.stats(st))
    assert.are.equal(dedup.hash('Hello  World'), dedup.hash('hello world'))
    assert.are.equal(32, #dedup.hash('x', 128))
  end)
  it('MinHash drops a one-word change of a 200-word document, not an unrelated one', function()
    local st = dedup.MinHash{threshold = 0.8}
    local a = words(200, 1)
    local b = {table.unpack(a)}; b[100] = 'changed'
    assert.truthy(st:process{text = table.concat(a, ' '), id = 'a'})
    local d, why = st:process{text = table.concat(b, ' '), id = 'b'}
    assert.is_nil(d); assert.are.equal('minhashDedup: near duplicate of a', why)
    assert.truthy(st:process{text = table.concat(words(200, 2, 'u'), ' '), id = 'c'})
    local s = dedup.stats(st)
    assert.are.equal(3, s.seen); assert.are.equal(1, s.duplicates); assert.are.equal(1, s.clusters)
    assert.are.equal(9, s.bands); assert.are.equal(13, s.rows); assert.is_true(s.memory > 0)
  end)
  it('similarity estimates Jaccard (words and characters, CJK)', function()
    local a = words(300, 5)
    local b = {table.unpack(a)}
    for i = 1, #b, 3 do b[i] = 'z' .. i end
    local x, y = table.concat(a, ' '), table.concat(b, ' ')
    assert.is_true(math.abs(dedup.similarity(x, y) - dedup.jaccard(x, y)) < 0.1)
    assert.are.equal(1, dedup.similarity(x, x))
    local p, q = '我爱自然语言处理和机器学习，也喜欢深度学习。', '我爱自然语言处理和机器学习，也喜欢强化学习。'
    local opts = {unit = 'char', shingle = 3}
    assert.is_true(math.abs(dedup.similarity(p, q, opts) - dedup.jaccard(p, q, opts)) < 0.1)
    assert.is_true(dedup.similarity('🎉 party time 🎉', 'completely different words here', {shingle = 2}) < 0.2)
    local bands, rows = dedup.optimalBands(0.8, 128)
    assert.are.equal(9, bands); assert.are.equal(13, rows)
  end)
  it('errors', function()
    fails(function() return dedup.MinHash{bands = 20, rows = 10} end, 'bands × rows must be at most numPerm (128)')
    fails(function() return dedup.MinHash{bands = 0} end, 'bands must be positive, got 0')
    fails(function() return dedup.MinHash{rows = -1} end, 'rows must be positive, got -1')
    fails(function() return dedup.MinHash{unit = 'line'} end, "Invalid 'unit'", "'word', 'char'")
    fails(function() return dedup.MinHash{threshold = 1.5} end, 'threshold must be in (0, 1)')
    fails(function() return dedup.MinHash{perms = 3} end, "unknown option 'perms'", "'numPerm'")
    fails(function() return dedup.Exact{bits = 32} end, "Invalid 'bits'")
    fails(function() return dedup.stats(llm.data.clean.Cleaner()) end, 'expected a dedup stage')
    fails(function() return dedup.optimalBands(2, 128) end, "Invalid 'threshold'")
  end)
end)
