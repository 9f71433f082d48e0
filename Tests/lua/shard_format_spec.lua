-- shard_format_spec.lua: the token shard layout of docs/formats/token-shards.md, checked byte by byte
-- with string.unpack on shards written by llm.data.ShardWriter (u16 and u32 ids, several shards per
-- split, empty documents): header fields and offsets, token ids, the document index, the exact file
-- size and the shards.json keys. (The page's NumPy reader is checked by scripts/reference/read_shard_numpy.py.)

local function tmpdir()
  local p = os.tmpname()
  os.remove(p)
  llm.makeDirs(p)
  return p
end

local function read(p) local h = assert(io.open(p, 'rb')); local s = h:read('a'); h:close(); return s end

-- The documents of one shard file, decoded as the format page describes; also the header fields.
local function decode(bytes)
  local magic, version, width, n, d, vocab, reserved = string.unpack('<c8I4I4I8I8I8c24', bytes)
  assert.are.equal('LLMSHARD', magic)
  assert.are.equal(string.rep('\0', 24), reserved)
  local fmt = width == 2 and '<I2' or '<I4'
  local indexAt = 64 + n * width
  assert.are.equal(indexAt + (d + 1) * 8, #bytes)      -- exact size: header + tokens + index
  local off = {}
  for i = 0, d do off[i] = string.unpack('<I8', bytes, indexAt + 1 + i * 8) end
  assert.are.equal(0, off[0]); assert.are.equal(n, off[d])
  local docs = {}
  for i = 1, d do
    local doc = {}
    for t = off[i - 1], off[i] - 1 do doc[#doc + 1] = string.unpack(fmt, bytes, 65 + t * width) end
    docs[i] = doc
  end
  return {version = version, width = width, tokens = n, documents = d, vocab = vocab}, docs
end

describe('token shard format (docs/formats/token-shards.md)', function()
  for _, case in ipairs({{vocab = 1000, width = 2}, {vocab = 70000, width = 4}}) do
    it('u' .. case.width * 8 .. ' ids: header, tokens, index and manifest as documented', function()
      local dir = tmpdir()
      local w = llm.data.ShardWriter(dir, {vocabSize = case.vocab, shardTokens = 50, seed = 7})
      local want = {train = {}, val = {}}
      for i = 1, 30 do
        local doc = {}
        for k = 1, (i % 7 == 0) and 0 or (i * 5) % 23 + 1 do doc[k] = (i * 7919 + k * 104729) % case.vocab end
        if #doc > 0 then doc[#doc] = case.vocab - 1 end
        local split = i % 3 == 0 and 'val' or 'train'
        w:add(doc, split)
        table.insert(want[split], doc)
      end
      w:finish()
      local m = llm.json.decode(read(dir .. '/shards.json'))
      assert.are.equal('llmscript-shards', m.format)
      assert.are.equal(1, m.version); assert.are.equal(case.vocab, m.vocabSize)
      assert.are.equal(case.width, m.tokenWidth); assert.are.equal(30, m.documents)
      for _, split in ipairs({'train', 'val'}) do
        assert.is_true(#m[split] > 1)
        local got = {}
        for k, entry in ipairs(m[split]) do
          assert.are.equal(string.format('%s-%05d.bin', split, k - 1), entry.file)
          local h, docs = decode(read(dir .. '/' .. entry.file))
          assert.are.same({version = 1, width = case.width, tokens = entry.tokens, documents = entry.documents,
                           vocab = case.vocab}, h)
          for _, doc in ipairs(docs) do got[#got + 1] = doc end
        end
        assert.are.same(want[split], got)
      end
    end)
  end
end)
