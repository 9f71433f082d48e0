-- formats_spec.lua: llm.save / llm.load (safetensors), llm.json and llm.checkpoint from Lua: round
-- trips, the documented encoding rules (arrays vs objects, null, integers vs floats), atomic checkpoints
-- with verified manifests, listing and pruning, and the error messages (they are API).
-- Run: llmscript --no-strict /usr/bin/busted Tests/lua/formats_spec.lua

local base = os.tmpname(); os.remove(base)
local function path(name) return base .. '-' .. name end
local function readAll(p) local f = assert(io.open(p, 'rb')); local s = f:read('a'); f:close(); return s end
local function writeAll(p, s) local f = assert(io.open(p, 'wb')); f:write(s); f:close() end
local function errorOf(fn, ...) local ok, e = pcall(fn, ...); assert(not ok, 'expected an error'); return tostring(e) end
local function contains(s, sub) assert(s:find(sub, 1, true), ('%q does not contain %q'):format(s, sub)) end

teardown(function() os.execute("rm -rf '" .. base .. "'-*") end)

describe('llm.save / llm.load', function()
  it('round-trips tensors of every dtype with metadata', function()
    local p = path('all.safetensors')
    local ts = {}
    for _, d in ipairs{'float32', 'float16', 'bfloat16', 'int64', 'int32', 'int8', 'uint8'} do
      ts['t.' .. d] = llm.tensor({{1, 2}, {3, 4}}, {dtype = d})
    end
    llm.save(p, ts, {metadata = {note = 'hi'}})
    local back, md = llm.load(p, {metadata = true})
    assert.are.same({note = 'hi', format = 'pt'}, md)
    for name, t in pairs(ts) do
      assert.are.same(t:totable(), back[name]:totable())
      assert.are.equal(t.dtype, back[name].dtype)
    end
  end)

  it('returns the tensors only unless {metadata = true} is asked, so it composes with loadStateDict', function()
    local p = path('sd.safetensors')
    local m = nn.Linear(3, 2)
    llm.save(p, m:stateDict(), {metadata = {note = 'x'}})
    assert.are.equal(1, select('#', llm.load(p)))
    assert.are.equal(1, select('#', llm.load(p, {metadata = false})))
    assert.are.equal(2, select('#', llm.load(p, {metadata = true})))
    local m2 = nn.Linear(3, 2)
    m2:loadStateDict(llm.load(p))
    assert.are.same(m.weight:totable(), m2.weight:totable())
    contains(errorOf(llm.load, p, {metadata = 'yes'}), "Invalid 'metadata': expected a boolean")
    contains(errorOf(llm.load, p, {meta = true}), 'meta')
  end)

  it('writes the header padded to 8 bytes, starting with {', function()
    local p = path('pad.safetensors')
    llm.save(p, {a = llm.zeros(3)})
    local s = readAll(p)
    local n = string.unpack('<I8', s)
    assert.are.equal(0, n % 8)
    assert.are.equal('{', s:sub(9, 9))
    contains(s:sub(9, 8 + n), '"__metadata__":{"format":"pt"}')
  end)

  it('rejects hostile files with errors naming the file and tensor', function()
    local p = path('bad.safetensors')
    writeAll(p, string.pack('<I8', 5000) .. '{}')
    contains(errorOf(llm.load, p), "header length 5000 is larger than the file")
    local h = '{"w":{"dtype":"F32","shape":[3,4],"data_offsets":[0,100]}}'
    writeAll(p, string.pack('<I8', #h) .. h .. string.rep('\0', 100))
    contains(errorOf(llm.load, p), "safetensors: tensor 'w': data_offsets [0, 100] do not match shape [3, 4] (F32, 48 bytes) in '" .. p .. "'")
    writeAll(p, string.pack('<I8', 2^62) .. '{}')
    contains(errorOf(llm.load, p), 'exceeds the limit')
    contains(errorOf(llm.load, path('missing.safetensors')), "cannot open '" .. path('missing.safetensors') .. "'")
  end)

  it('reports bad arguments and loses nothing on error', function()
    local p = path('keep.safetensors')
    llm.save(p, {a = llm.ones(2)})
    local before = readAll(p)
    contains(errorOf(llm.save, p, {a = 1}), "value of 'a' is a number, expected llm.Tensor")
    contains(errorOf(llm.save, p, {llm.ones(1)}), 'tensor names must be UTF-8 strings')
    contains(errorOf(llm.save, p, 5), 'expected a table of name = llm.Tensor')
    contains(errorOf(llm.save, p, {a = llm.ones(1)}, {meta = {}}), "unknown option 'meta'")
    contains(errorOf(llm.save, p, {a = llm.ones(1)}, {metadata = {x = 1}}), "Invalid 'metadata'")
    contains(errorOf(llm.save, path('no/such/dir.safetensors'), {a = llm.ones(1)}), 'cannot create')
    contains(errorOf(llm.save, 42, {}), 'string expected')
    assert.are.equal(before, readAll(p))
  end)
end)

describe('llm.json', function()
  local J = llm.json
  it('encodes with sorted keys, arrays for 1..n and integers kept apart from floats', function()
    assert.are.equal('{"a":[1,2.5,"x"],"b":{"c":true},"d":{}}', J.encode{b = {c = true}, a = {1, 2.5, 'x'}, d = {}})
    assert.are.equal('[1.0,2]', J.encode{1.0, 2})
    assert.are.equal('null', J.encode(nil))
    assert.are.equal('[null,1]', J.encode{J.null, 1})
    assert.are.equal('[]', J.encode(J.array()))
    assert.are.equal('{\n  "a": [\n    1\n  ]\n}', J.encode({a = {1}}, {indent = true}))
    assert.are.equal('"a\\"\\n\\u0000"', J.encode('a"\n\0'))
  end)

  it('decodes objects, arrays, null and numbers', function()
    local v = J.decode('{"a": [1, 2.0, null, "\\u00e9"], "b": {}, "c": []}')
    assert.are.equal(1, v.a[1]); assert.is_true(math.type(v.a[1]) == 'integer')
    assert.is_true(math.type(v.a[2]) == 'float')
    assert.are.equal(J.null, v.a[3])
    assert.are.equal('é', v.a[4])
    assert.are.equal('{"a":[1,2.0,null,"é"],"b":{},"c":[]}', J.encode(v))
    assert.are.equal('llm.json.null', tostring(J.null))
    assert.are.equal('a\0b', J.decode('"a\\u0000b"'))
  end)

  it('reports encode errors with the path', function()
    contains(errorOf(J.encode, {a = {0/0}}), 'cannot encode NaN at $.a[1]')
    contains(errorOf(J.encode, {x = math.huge}), 'JSON has no NaN or infinity')
    local t = {}; t.self = t
    contains(errorOf(J.encode, t), 'table contains a cycle at $.self')
    contains(errorOf(J.encode, {f = print}), 'cannot encode a value of type function at $.f')
    contains(errorOf(J.encode, {t = llm.zeros(1)}), 'cannot encode a value of type llm.Tensor at $.t')
    contains(errorOf(J.encode, {1, 2, x = 3}), 'mixes integer and string keys')
    contains(errorOf(J.encode, {[1] = 1, [3] = 3}), 'is not a sequence')
    contains(errorOf(J.encode, {[1.5] = 1}), 'number key 1.5')
    contains(errorOf(J.encode, '\xff'), 'not valid UTF-8')
    local deep = {}; local cur = deep
    for _ = 1, 250 do cur[1] = {}; cur = cur[1] end
    contains(errorOf(J.encode, deep), 'nesting deeper than 200')
    contains(errorOf(J.encode, {}, {pretty = true}), "unknown option 'pretty'")
    contains(errorOf(function() J.null.x = 1 end), 'read-only')
  end)

  it('reports decode errors with line and column', function()
    contains(errorOf(J.decode, '{"a": 1,\n "b" 2}'), "llm.json.decode: expected ':' at line 2, column 6")
    contains(errorOf(J.decode, '{"a":1,"a":2}'), "duplicate key 'a'")
    contains(errorOf(J.decode, '[1, 2'), 'unexpected end of input')
    contains(errorOf(J.decode, string.rep('[', 300)), 'nesting deeper than 200')
    contains(errorOf(J.decode, 5), 'string expected')
  end)
end)

describe('llm.checkpoint', function()
  local C = llm.checkpoint
  local function files(v)
    return {['model.safetensors'] = {w = llm.tensor{v, v + 1}}, ['state.json'] = {step = v, lr = 0.5, hist = {1, 2}},
            ['notes.txt'] = 'step ' .. v}
  end

  it('writes and reads back every kind of file', function()
    local dir = path('runs/a/' .. C.stepName(100))
    assert.are.equal('step-000100', C.stepName(100))
    assert.are.equal(dir, C.write(dir, files(1)))
    local r = C.read(dir)
    assert.are.same({1, 2}, r['model.safetensors'].w:totable())
    assert.are.same({step = 1, lr = 0.5, hist = {1, 2}}, r['state.json'])
    assert.are.equal('step 1', r['notes.txt'])
    contains(readAll(dir .. '/checkpoint.json'), '"format": "llmscript-checkpoint"')
  end)

  it('replaces a checkpoint atomically and keeps the old one when writing fails', function()
    local dir = path('ck')
    C.write(dir, files(1))
    contains(errorOf(C.write, dir, {['state.json'] = {x = 0/0}}), "files['state.json']: cannot encode NaN at $.x")
    contains(errorOf(C.write, dir, {['m.safetensors'] = {w = 3}}), "files['m.safetensors']: value of 'w' is a number")
    contains(errorOf(C.write, dir, {['a.txt'] = {}}), "files['a.txt'] must be a string")
    contains(errorOf(C.write, dir, {['../x'] = 'x'}), "invalid file name '../x'")
    contains(errorOf(C.write, dir, {['checkpoint.json'] = 'x'}), 'invalid file name')
    assert.are.same({1, 2}, C.read(dir)['model.safetensors'].w:totable())
    C.write(dir, files(2))
    assert.are.same({2, 3}, C.read(dir)['model.safetensors'].w:totable())
  end)

  it('detects truncated and modified files, and missing checkpoints', function()
    local dir = path('bad')
    C.write(dir, files(1))
    local m = dir .. '/model.safetensors'
    local good = readAll(m)
    writeAll(m, good:sub(1, -2))
    contains(errorOf(C.read, dir), "'" .. m .. "' has " .. (#good - 1) .. ' bytes but checkpoint.json records ' .. #good)
    writeAll(m, good:sub(1, -2) .. 'X')
    contains(errorOf(C.read, dir), 'does not match its sha256')
    os.remove(dir .. '/checkpoint.json')
    contains(errorOf(C.read, dir), 'incomplete or not a checkpoint')
    contains(errorOf(C.read, path('nothing')), 'does not exist')
  end)

  it('lists and prunes step checkpoints, keeping the newest and the best', function()
    local parent = path('steps')
    for _, s in ipairs{100, 200, 300, 400, 500} do C.write(parent .. '/' .. C.stepName(s), files(s)) end
    local steps = {}
    for i, e in ipairs(C.list(parent)) do steps[i] = e.step end
    assert.are.same({100, 200, 300, 400, 500}, steps)
    assert.are.equal(parent .. '/step-000500', C.latest(parent))
    local removed = C.prune(parent, {keepLast = 2, keep = {parent .. '/step-000200'}})
    assert.are.same({parent .. '/step-000100', parent .. '/step-000300'}, removed)
    C.prune(parent, {keepLast = 1, keep = 'step-000200'})
    steps = {}
    for i, e in ipairs(C.list(parent)) do steps[i] = e.step end
    assert.are.same({200, 500}, steps)
    assert.are.same({}, C.list(path('none')))
    assert.is_nil(C.latest(path('none')))
    contains(errorOf(C.prune, parent, {keepLast = 0}), "Invalid 'keepLast'")
    contains(errorOf(C.prune, parent, {keeplast = 2}), "unknown option 'keeplast'")
    contains(errorOf(C.prune, parent, {keepLast = 1, keep = 5}), "Invalid 'keep'")
    contains(errorOf(C.stepName, -1), 'non-negative')
  end)
end)

describe('llm.json.array and bad targets', function()
  it('refuses tables with a foreign metatable and treats them as objects', function()
    contains(errorOf(llm.json.array, setmetatable({}, {})), 'already has a metatable')
    assert.are.equal('{}', llm.json.encode(setmetatable({}, {})))
    local a = llm.json.array{}
    assert.are.equal(a, llm.json.array(a))
  end)
  it('rejects directories as file targets and the root as a checkpoint', function()
    contains(errorOf(llm.save, '/tmp', {}), "cannot write '/tmp': it is a directory")
    contains(errorOf(llm.checkpoint.write, '/', {}), "invalid directory '/'")
    contains(errorOf(llm.load, '/tmp'), 'is not a regular file')
  end)
end)
