-- shards_spec: llm.data.ShardWriter / ShardLoader from Lua — writing documents, batches, exact resume
-- through :state()/:setState(), use as the trainer's val set, and errors.
local function tmpdir()
  local p = os.tmpname()
  os.remove(p)
  llm.makeDirs(p)
  return p
end

local function makeShards(docs, n)
  local dir = tmpdir()
  local w = llm.data.ShardWriter(dir, {vocabSize = 100, valFraction = 0.25, shardTokens = 64, seed = 1})
  for d = 1, docs do
    local ids = {}
    for i = 1, n do ids[i] = (d * 3 + i) % 100 end
    w:add(llm.tensor(ids, {dtype = 'int64'}))
  end
  local info = w:finish()
  return dir, info
end

describe('llm.data shards', function()
  it('writes train and val shards and loads batches', function()
    local dir, info = makeShards(40, 20)
    assert.are.equal(40, info.documents)
    assert.is_true(info.train > 1 and info.val >= 1)
    local loader = llm.data.ShardLoader(dir, {batchSize = 3, blockSize = 6, seed = 2})
    local x, y = loader:next()
    assert.are.same({3, 6}, x:shape())
    assert.are.equal('int64', y:dtype())
    assert.are.same(x:narrow(2, 2, 5):totable(), y:narrow(2, 1, 5):totable())
  end)

  it('resumes exactly from a saved state', function()
    local dir = makeShards(40, 20)
    local a = llm.data.ShardLoader(dir, {batchSize = 2, blockSize = 6, seed = 5})
    for _ = 1, 3 do a:next() end
    local state = a:state()
    local expected = {}
    for i = 1, 4 do expected[i] = a:next():totable() end
    local b = llm.data.ShardLoader(dir, {batchSize = 2, blockSize = 6, seed = 5, prefetch = 0})
    b:setState(state)
    for i = 1, 4 do assert.are.same(expected[i], b:next():totable()) end
  end)

  it('serves as an evaluation set', function()
    local dir = makeShards(40, 20)
    local val = llm.data.ShardLoader(dir, {split = 'val', batchSize = 2, blockSize = 6})
    assert.is_true(val:numBatches() >= 1)
    local x1 = val:batch(1)
    assert.are.same(x1:totable(), (val:batch(1)):totable())
  end)

  it('reports bad input clearly', function()
    local ok, err = pcall(llm.data.ShardLoader, '/nonexistent/shards', {batchSize = 2, blockSize = 4})
    assert.is_false(ok)
    assert.truthy(err:find('no shards.json', 1, true), err)
    local dir = makeShards(4, 5)
    ok, err = pcall(llm.data.ShardLoader, dir, {batchSize = 100, blockSize = 4})
    assert.truthy(err:find('too few', 1, true), err)
    ok, err = pcall(llm.data.ShardLoader, dir, {batchSize = 1})
    assert.truthy(err:find("'batchSize' and 'blockSize' are required", 1, true), err)
    local w = llm.data.ShardWriter(tmpdir(), {vocabSize = 10})
    ok, err = pcall(w.add, w, {1, 50})
    w:finish()
    assert.is_false(ok)
    assert.truthy(err:find('out of range for vocabSize 10', 1, true), err)
    ok, err = pcall(function() w:add({1}) end)
    assert.truthy(err:find('already finished', 1, true), err)
  end)

  it('round-trips the largest vocabulary the format allows (2^32: ids up to 2^32 - 1)', function()
    local dir = tmpdir()
    local w = llm.data.ShardWriter(dir, {vocabSize = 1 << 32})
    for _ = 1, 4 do w:add({0, (1 << 32) - 1, 7, 8, 9}) end
    w:finish()
    local x = llm.data.ShardLoader(dir, {batchSize = 1, blockSize = 4, seed = 1}):next()
    assert.are.same({1, 4}, x:shape())
    local ok, err = pcall(llm.data.ShardWriter, tmpdir(), {vocabSize = (1 << 32) + 1})
    assert.is_false(ok)
    assert.truthy(err:find('vocabSize must be in 1...2^32', 1, true), err)
  end)
end)
