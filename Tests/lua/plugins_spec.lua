-- llm.plugins: version constraints, manifest validation (error messages are API), and reading the
-- plugins of a rocks tree written by hand (the layout LuaRocks 3 gives a --tree), no LuaRocks needed.
local plugins = require 'llm.plugins'

describe('llm.plugins versions', function()
  it('compares dotted versions numerically', function()
    assert.are.equal(0, plugins.compareVersions('0.1', '0.1.0'))
    assert.are.equal(-1, plugins.compareVersions('0.9', '0.10'))
    assert.are.equal(1, plugins.compareVersions('1.0', '0.99.9'))
  end)

  it('checks constraints', function()
    assert.is_true(plugins.satisfies('0.1.0', '>=0.1'))
    assert.is_true(plugins.satisfies('0.1.0', '>= 0.1, < 1'))
    assert.is_false(plugins.satisfies('0.1.0', '>=0.2'))
    assert.is_true(plugins.satisfies('0.1.0', '0.1'))
    assert.is_false(plugins.satisfies('1.0', '>=0.1, <1.0'))
    assert.has_error(function() plugins.satisfies('0.1', 'soon') end,
      "Invalid 'llmscript': expected a version constraint such as '>=0.1', got 'soon'")
  end)
end)

describe('llm.plugins.validate', function()
  it('normalizes provided names', function()
    local m = assert(plugins.validate{ llmscript = '>=0.1', provides = { augmenters = { 'x.typos', alias = 'x.other' } } })
    assert.are.same({ typos = 'x.typos', alias = 'x.other' }, m.provides.augmenters)
  end)

  it('names what is wrong', function()
    local cases = {
      { 42, 'manifest: expected a table, got number' },
      { { provides = {} }, "manifest: Invalid 'llmscript': expected a version constraint such as '>=0.1', got nil" },
      { { llmscript = '>=0.1' }, "manifest: Invalid 'provides': expected a table, got nil" },
      { { llmscript = '>=0.1', provides = { augmentors = {} } },
        "manifest: Invalid 'provides.augmentors': expected one of augmenters, recipes, schedules" },
      { { llmscript = '>=0.1', provides = { schedules = { 1 } } },
        "manifest: Invalid 'provides.schedules': expected module names, got number" },
      { { llmscript = '>=0.1', provides = {}, extra = 1 },
        "manifest: unknown key 'extra' (expected one of description, llmscript, name, provides)" },
    }
    for _, c in ipairs(cases) do
      local ok, err = plugins.validate(c[1])
      assert.is_nil(ok)
      assert.are.equal(c[2], err)
    end
  end)
end)

-- A scratch rocks tree: its path and write(relative path, text).
local function scratchTree()
  local tree = os.tmpname()
  return tree, function(path, text)
    local f = assert(io.open(tree .. '/' .. path, 'w')); f:write(text); f:close()
  end
end

describe('llm.plugins trees', function()
  local tree, write = scratchTree()

  setup(function()
    os.remove(tree)
    assert(os.execute('mkdir -p ' .. tree .. '/lib/luarocks/rocks-5.4 ' .. tree .. '/share/lua/5.4/good ' .. tree .. '/share/lua/5.4/bad'))
    write('lib/luarocks/rocks-5.4/manifest', [[
      repository = {
        good = { ["1.0-1"] = { { arch = "installed", modules = { ["good.llmscript"] = "good/llmscript.lua", ["good.aug"] = "good/aug.lua" } } } },
        bad = { ["0.1-1"] = { { arch = "installed", modules = { ["bad.llmscript"] = "bad/llmscript.lua" } } } },
        plain = { ["2.0-1"] = { { arch = "installed", modules = { plain = "plain.lua" } } } },
      }
      modules = {}
      commands = {}
    ]])
    write('share/lua/5.4/good/llmscript.lua', "return { llmscript = '>=0.1', provides = { augmenters = { 'good.aug' } } }")
    write('share/lua/5.4/good/aug.lua', 'return {}')
    write('share/lua/5.4/bad/llmscript.lua', "return { llmscript = '>=0.1', provides = { augmenters = { x = 'bad.missing' } } }")
  end)

  teardown(function() os.execute('rm -rf ' .. tree) end)

  it('lists plugins, skipping rocks without a manifest and flagging broken ones', function()
    local list = plugins.list({ tree })
    assert.are.equal(2, #list)
    assert.are.equal('bad', list[1].name)
    assert.matches("provides augmenter 'x' from module 'bad.missing', which the rock does not install", list[1].error, 1, true)
    assert.are.equal('good', list[2].name)
    assert.are.equal('1.0-1', list[2].version)
    assert.are.equal('augmenters: aug', plugins.describe(list[2].provides))
  end)

  it('answers provides(kind)', function()
    assert.are.same({ aug = { module = 'good.aug', plugin = 'good', version = '1.0-1', tree = tree } },
      plugins.provides('augmenters', { tree }))
    assert.are.same({}, plugins.provides('schedules', { tree }))
    assert.has_error(function() plugins.provides('widgets') end,
      "Invalid 'kind': expected one of augmenters, recipes, schedules, got widgets")
  end)

  it('knows the trees of the host', function()
    assert.are.equal('./plugins', plugins.trees()[1])
    assert.matches('./plugins/share/lua/5.4/?.lua', package.path, 1, true)
    assert.matches('./plugins/lib/lua/5.4/?.so', package.cpath, 1, true)
  end)
end)

describe('llm.loadData (data files in a bare bounded state)', function()
  it('returns what the chunk returns and the globals it sets, as plain tables', function()
    local v, g = llm.loadData("x = 1; y = { z = 'q', 'a' .. 'b' }; return { 1, 2, k = true }", { name = 'd.lua' })
    assert.are.same({ 1, 2, k = true }, v)
    assert.are.same({ x = 1, y = { z = 'q', 'ab' } }, g)
    local none, empty = llm.loadData('')
    assert.is_nil(none)
    assert.are.same({}, empty)
  end)

  it('offers no libraries: no io, os, require, load, string methods', function()
    local _, g = llm.loadData('a, b, c, d, e = io, os, require, load, string')
    assert.are.same({}, g)
    assert.has_error(function() llm.loadData("return ('x'):rep(9)", { name = 'm' }) end,
      "m:1: attempt to index a string value (constant 'x')")
  end)

  it('stops loops and allocation with a message naming the file', function()
    assert.has_error(function() llm.loadData('while true do end', { name = 'loop.lua', maxInstructions = 100000 }) end,
      'loop.lua: instruction limit of 100000 exceeded (a data file may only build tables)')
    assert.has_error(function() llm.loadData("local s = 'x' for i = 1, 40 do s = s .. s end", { name = 'big.lua', maxMemory = 1 << 20 }) end,
      'big.lua: memory limit of 1048576 bytes exceeded (a data file may only build tables)')
    assert.has_error(function()   -- few instructions, each copying a longer vararg list
      llm.loadData('local function f(...) return f(1, 1, 1, 1, ...) end f()', { name = 'slow.lua', maxSeconds = 0.2 })
    end, 'slow.lua:1: time limit of 0.2 s exceeded (a data file may only build tables)')
  end)

  it('refuses what is not data', function()
    local cases = {
      { 'return function() end', "f: 'result' is a function; a data file holds only tables, strings, numbers and booleans" },
      { 'x = { y = print or function() end }', "f: 'x.y' is a function; a data file holds only tables, strings, numbers and booleans" },
      { 'local t = {} t.me = t return t', "f: the table at 'result.me' contains itself" },
      { 'return { [{}] = 1 }', 'f: a table key in \'result\'; data keys are strings, numbers or booleans' },
      { '\27Lua', "f: attempt to load a binary chunk (mode is 't')" },
      { 'return {', 'f:1: unexpected symbol near <eof>' },
    }
    for _, c in ipairs(cases) do
      assert.has_error(function() llm.loadData(c[1], { name = 'f' }) end, c[2])
    end
    assert.has_error(function() llm.loadData('', { maxInstructions = 0 }) end,
      "Invalid 'maxInstructions': expected a positive integer, got 0")
    assert.has_error(function() llm.loadData('', { bogus = 1 }) end)
  end)
end)

describe('llm.plugins hostile files', function()
  local tree, write = scratchTree()
  local manifestPath = tree .. '/lib/luarocks/rocks-5.4/manifest'
  local goodTree = [[
    repository = {
      evil = { ["1.0-1"] = { { arch = "installed", modules = { ["evil.llmscript"] = "evil/llmscript.lua" } } } },
    }
    modules = {}
    commands = {}
  ]]

  setup(function()
    os.remove(tree)
    assert(os.execute('mkdir -p ' .. tree .. '/lib/luarocks/rocks-5.4 ' .. tree .. '/share/lua/5.4/evil'))
  end)
  teardown(function() os.execute('rm -rf ' .. tree) end)

  it('refuses a manifest that loops, allocates, calls or sets globals', function()
    write('lib/luarocks/rocks-5.4/manifest', goodTree)
    local cases = {
      { 'while true do end return {}', 'instruction limit of 1000000 exceeded' },
      { "local s = 'x' for i = 1, 30 do s = s .. s end return {}", 'memory limit of 8388608 bytes exceeded' },
      { "os.execute('touch /tmp/pwned') return {}", "attempt to index a nil value (global 'os')" },
      { "helper = 1 return { llmscript = '>=0.1', provides = {} }", "evil.llmscript: sets the global 'helper'; a manifest only returns a table" },
    }
    for _, c in ipairs(cases) do
      write('share/lua/5.4/evil/llmscript.lua', c[1])
      local list = plugins.list({ tree })
      assert.are.equal(1, #list)
      assert.matches(c[2], list[1].error, 1, true)
    end
  end)

  it('makes a looping, allocating or garbage tree manifest an error naming the file', function()
    for _, text in ipairs({
      'while true do end',
      "local s = 'x' for i = 1, 40 do s = s .. s end",
      'repository = 5',
      'repository = { x = { ["1"] = { { modules = { m = 5 } } } } }',
      '\0\1garbage',
      '',
    }) do
      write('lib/luarocks/rocks-5.4/manifest', text)
      local ok, err = pcall(plugins.list, { tree })
      assert.is_false(ok, text)
      assert.matches('invalid plugin tree manifest ' .. manifestPath, err, 1, true)
      assert.has_error(function() plugins.rocks(tree) end)
    end
  end)

  it('treats a tree without a manifest as empty', function()
    os.remove(manifestPath)
    assert.are.same({}, plugins.list({ tree }))
    assert.are.same({}, plugins.list({ tree .. '/share/lua/5.4/evil/llmscript.lua' }))   -- a file, not a folder
  end)

  it('keeps manifest module paths inside the tree', function()
    write('lib/luarocks/rocks-5.4/manifest', (goodTree:gsub('evil/llmscript.lua', '../../../../etc/passwd')))
    assert.matches("manifest module path '../../../../etc/passwd' leaves the tree", plugins.list({ tree })[1].error, 1, true)
  end)

  it('makes augment.get report a broken tree instead of an unknown augmenter', function()
    write('lib/luarocks/rocks-5.4/manifest', 'while true do end')
    local saved = package.llmscript_trees
    package.llmscript_trees = { tree }
    local ok, err = pcall(augment.get, 'no_such_augmenter')
    package.llmscript_trees = saved
    assert.is_false(ok)
    assert.matches('invalid plugin tree manifest ' .. manifestPath, err, 1, true)
  end)
end)
