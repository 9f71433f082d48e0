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

describe('llm.plugins trees', function()
  local tree = os.tmpname()
  local function write(path, text)
    local f = assert(io.open(tree .. '/' .. path, 'w')); f:write(text); f:close()
  end

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
