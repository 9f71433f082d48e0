-- gc_spec.lua: native tensor memory and the Lua garbage collector. Tensors report their native bytes
-- to the GC (a full cycle per 64–256 MB of new tensor memory, NativeGCPacing), so a loop that drops many
-- large tensors runs in bounded memory (< 100 MB here); t:free() and `<close>`
-- release early; userdata identity is stable (p.grad == p.grad; tensors work as table keys).
-- llm.memory() is the live native byte count of all tensor storages.
-- Run: llmscript --no-strict /usr/bin/busted Tests/lua/gc_spec.lua

local MB = 1024 * 1024

local function settle()
  collectgarbage(); collectgarbage()
end

describe('garbage collection of tensors', function()
  it('10,000 garbage 1 MB tensors stay in bounded memory', function()
    settle()
    local start = llm.memory()
    local peak = 0
    for i = 1, 10000 do
      local t = llm.zeros(262144)       -- 1 MB of float32
      if i % 100 == 0 then
        local m = llm.memory() - start
        if m > peak then peak = m end
        assert(m < 100 * MB, string.format('iteration %d: %.1f MB live', i, m / MB))
      end
      t = nil
    end
    settle()
    local after = llm.memory() - start
    assert(after < 2 * MB, string.format('%.1f MB still live after collectgarbage()', after / MB))
    assert.is_true(peak > 0)
  end)

  it('garbage produced by ops (not only constructors) is bounded too', function()
    settle()
    local start = llm.memory()
    local x = llm.ones(262144)
    for i = 1, 300 do
      local y = (x * 2 + 1):exp()
      if i % 100 == 0 then assert(llm.memory() - start < 100 * MB, 'iteration ' .. i) end
      y = nil
    end
    x = nil
    settle()
    assert(llm.memory() - start < 2 * MB)
  end)

  it('t:free() releases immediately', function()
    settle()
    local before = llm.memory()
    local t = llm.zeros(4 * 262144)   -- 4 MB
    assert.is_true(llm.memory() - before >= 4 * MB)
    t:free()
    assert.is_true(llm.memory() - before < MB)
  end)

  it('free() keeps the storage while a view still uses it', function()
    settle()
    local before = llm.memory()
    local t = llm.zeros(262144)
    local v = t:narrow(1, 1, 10)
    t:free()
    assert.is_true(llm.memory() - before >= MB)
    v:fill_(1)
    assert.are.equal(10, v:sum():item())
    v:free()
    assert.is_true(llm.memory() - before < MB)
  end)

  it('<close> releases at scope end', function()
    settle()
    local before = llm.memory()
    do
      local t <close> = llm.zeros(4 * 262144)
      assert.is_true(llm.memory() - before >= 4 * MB)
    end
    assert.is_true(llm.memory() - before < MB)
  end)

  it('<close> releases when the scope is left by an error', function()
    settle()
    local before = llm.memory()
    local ok = pcall(function()
      local t <close> = llm.zeros(4 * 262144)
      error('leave')
    end)
    assert.is_false(ok)
    assert.is_true(llm.memory() - before < MB)
  end)

  it('the graph is released with its output', function()
    settle()
    local before = llm.memory()
    do
      local x = llm.ones(262144, {requiresGrad = true})
      local y = (x * x):exp():sum()
      y:backward()
    end
    settle()
    assert.is_true(llm.memory() - before < MB)
  end)
end)

describe('userdata identity', function()
  it('p.grad == p.grad', function()
    local p = llm.ones(3, {requiresGrad = true})
    p:sum():backward()
    assert.is_true(p.grad == p.grad)
    assert.is_true(rawequal(p.grad, p.grad))
    local g = p.grad
    settle()
    assert.is_true(rawequal(g, p.grad))
  end)

  it('a method returning self returns the same userdata', function()
    local t = llm.zeros(2)
    assert.is_true(rawequal(t, t:add_(1)))
    assert.is_true(rawequal(t, t:contiguous()))
  end)

  it('tensors work as table keys', function()
    local a, b = llm.zeros(2), llm.zeros(2)
    local seen = {[a] = 'a', [b] = 'b'}
    assert.are.equal('a', seen[a])
    assert.are.equal('b', seen[b])
    local p = llm.ones(2, {requiresGrad = true})
    p:sum():backward()
    seen[p.grad] = 'grad'
    assert.are.equal('grad', seen[p.grad])
    local n = 0
    for _ in pairs(seen) do n = n + 1 end
    assert.are.equal(3, n)
  end)

  it('a freed handle is a new userdata when the object is pushed again', function()
    local p = llm.ones(2, {requiresGrad = true})
    p:sum():backward()
    local g = p.grad
    g:free()
    local g2 = p.grad
    assert.is_false(rawequal(g, g2))
    assert.are.same({1, 1}, g2:totable())
  end)
end)
