-- checkpoint_stream_spec.lua: llm.checkpoint.read without mmap streams each safetensors file into tensors
-- that own their memory (one copy of the weights): every dtype round-trips with the values of the mmap read,
-- the tensors are writable, a corrupted byte in a tensor's data is refused naming the file, and a sandboxed
-- script reads a checkpoint inside its allowed folders but not one outside them.
-- Run: llmscript test Tests/lua/checkpoint_stream_spec.lua
local h = dofile((debug.getinfo(1, 'S').source:match('^@(.*/)') or './') .. 'helpers.lua')
local C = llm.checkpoint

local function weights()
  local ts = {}
  for _, d in ipairs{'float32', 'float16', 'bfloat16', 'int64'} do ts['t.' .. d] = llm.tensor({{1, -2}, {3.5, 4}}, {dtype = d}) end
  ts.big = llm.arange(0, 300000):float():div(7)
  return ts
end

describe('llm.checkpoint.read (streamed)', function()
  teardown(h.removeTmpdirs)

  it('gives every dtype back, equal to the mmap read, in writable tensors', function()
    local dir = h.tmpdir('ckstream') .. '/step-000001'
    local saved = weights()
    C.write(dir, {['model.safetensors'] = saved, ['state.json'] = {step = 1}})
    local plain, mapped = C.read(dir), C.read(dir, {mmap = true})
    assert.are.same({step = 1}, plain['state.json'])
    for name, t in pairs(saved) do
      local got = plain['model.safetensors'][name]
      assert.are.equal(t.dtype, got.dtype, name)
      assert.are.same(t:totable(), got:totable(), name)
      assert.are.same(mapped['model.safetensors'][name]:totable(), got:totable(), name)
    end
    local w = plain['model.safetensors']['t.float32']
    llm.noGrad(function() w:fill_(0.5) end)
    assert.are.same({{0.5, 0.5}, {0.5, 0.5}}, w:totable())
  end)

  it('refuses a corrupted byte in a tensor, naming the file', function()
    local dir = h.tmpdir('ckstream') .. '/step-000002'
    C.write(dir, {['model.safetensors'] = weights()})
    local path = dir .. '/model.safetensors'
    local f = assert(io.open(path, 'rb'))
    local bytes = f:read('a')
    f:close()
    local at = #bytes - 1000
    f = assert(io.open(path, 'wb'))
    f:write(bytes:sub(1, at - 1), string.char((bytes:byte(at) + 1) % 256), bytes:sub(at + 1))
    f:close()
    h.fails(function() C.read(dir) end, "checkpoint: '" .. path .. "' does not match its sha256 in checkpoint.json (corrupted or modified)")
  end)

  it('reads a checkpoint inside a sandbox folder, refuses one outside it', function()
    local root = h.tmpdir('ckstream')
    C.write(root .. '/in/ck', {['model.safetensors'] = {w = llm.tensor({1, 2, 3}, {dtype = 'float16'})}})
    C.write(root .. '/out/ck', {['model.safetensors'] = {w = llm.tensor{4}}})
    local status, out, err = h.runCode(([[
      print(table.concat(llm.checkpoint.read(%q)['model.safetensors'].w:totable(), ','))
      print(select(2, pcall(llm.checkpoint.read, %q)))
    ]]):format(root .. '/in/ck', root .. '/out/ck'), {'--sandbox', '--allow-read', root .. '/in'})
    assert.are.equal(0, status, err)
    assert.truthy(out:find('1.0,2.0,3.0\n', 1, true), out)
    assert.truthy(out:find("reading '" .. root .. "/out/ck' is not allowed", 1, true), out)
  end)
end)
