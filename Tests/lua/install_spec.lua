-- install_spec.lua: scripts/install.sh into a temporary prefix, then `llmscript` found on PATH runs a
-- recipe from another folder with the Lua library installed beside it (not the repository's); installing
-- again is harmless; --uninstall removes exactly what was installed and refuses a foreign folder.
local cli = dofile(debug.getinfo(1, 'S').source:match('^@(.*/)') .. 'cli.lua')
local helpers = dofile(debug.getinfo(1, 'S').source:match('^@(.*/)') .. 'helpers.lua')
teardown(helpers.removeTmpdirs)

local install = cli.root .. 'scripts/install.sh'

local function sh(args)
  return cli.run(args, {command = install})
end

local function exists(path) return os.execute('test -e ' .. cli.shq(path)) == true end

describe('scripts/install.sh', function()
  local prefix, elsewhere
  lazy_setup(function()
    prefix = helpers.tmpdir('prefix') .. '/usr'
    elsewhere = helpers.tmpdir('elsewhere')
  end)

  it('installs the binary and the Lua library; llmscript on PATH runs a recipe from another folder', function()
    local code, out, err = sh({'--prefix', prefix, '--binary', cli.bin})
    assert(code == 0, err)
    cli.has(out, 'installed llmscript ')
    assert.is_true(exists(prefix .. '/bin/llmscript'))
    assert.is_true(exists(prefix .. '/share/llmscript/stdlib-lua/llm/init.lua'))
    assert.is_true(exists(prefix .. '/share/llmscript/recipes/gpt-char.lua'))

    local env = {PATH = prefix .. '/bin:' .. os.getenv('PATH'), LLMSCRIPT_HOME = ''}
    local c2, where = cli.run({'-e', "io.write(package.searchpath('llm.config', package.path))"},
                              {command = 'llmscript', cwd = elsewhere, env = env})
    assert.are.equal(0, c2)
    assert.are.equal(prefix .. '/share/llmscript/stdlib-lua/llm/config.lua', where)

    local corpus = assert(io.open(elsewhere .. '/corpus.txt', 'w'))
    corpus:write(string.rep('the quick brown fox jumps over the lazy dog.\n', 200)); corpus:close()
    local recipe = prefix .. '/share/llmscript/recipes/gpt-char.lua'
    local c3, stdout, stderr = cli.run({recipe, '--corpus=corpus.txt', '--steps=2', '--layers=1', '--dim=16', '--heads=2',
                                        '--blockSize=8', '--batchSize=2', '--evalBatches=1', '--samples=1', '--sampleTokens=5'},
                                       {command = 'llmscript', cwd = elsewhere, env = env})
    assert(c3 == 0, stderr)
    cli.has(stdout, 'done: step 2')
    assert.is_true(exists(elsewhere .. '/runs/gpt-char/step-000002'))
  end)

  it('installing again replaces the files and drops library files that no longer exist', function()
    local stale = prefix .. '/share/llmscript/stdlib-lua/llm/stale.lua'
    local f = assert(io.open(stale, 'w')); f:write('return 1\n'); f:close()
    local code, _, err = sh({'--prefix=' .. prefix, '--binary=' .. cli.bin})
    assert(code == 0, err)
    assert.is_false(exists(stale))
    assert.is_true(exists(prefix .. '/bin/llmscript'))
    local manifest = cli.readAll(prefix .. '/share/llmscript/MANIFEST')
    cli.has(manifest, 'bin/llmscript\n')
    cli.has(manifest, 'share/llmscript/stdlib-lua/llm/config.lua\n')
  end)

  it('--uninstall removes what was installed, twice is harmless, a foreign folder is refused', function()
    local code, out, err = sh({'--prefix', prefix, '--uninstall'})
    assert(code == 0, err)
    cli.has(out, 'removed llmscript')
    assert.is_false(exists(prefix .. '/bin/llmscript'))
    assert.is_false(exists(prefix .. '/share/llmscript'))
    local again = sh({'--prefix', prefix, '--uninstall'})
    assert.are.equal(0, again)

    local foreign = helpers.tmpdir('foreign')
    os.execute('mkdir -p ' .. cli.shq(foreign .. '/share/llmscript') .. ' && touch ' .. cli.shq(foreign .. '/share/llmscript/keep'))
    local c2, _, err2 = sh({'--prefix', foreign, '--uninstall'})
    assert.are.equal(1, c2)
    cli.has(err2, 'not an llmscript installation')
    assert.is_true(exists(foreign .. '/share/llmscript/keep'))
    local c3, _, err3 = sh({'--prefix', foreign, '--binary', cli.bin})
    assert.are.equal(1, c3)
    cli.has(err3, 'not written by install.sh')
    assert.is_true(exists(foreign .. '/share/llmscript/keep'))
  end)

  it('a relative --prefix is relative to the folder install.sh runs from', function()
    local dir = helpers.tmpdir('relative')
    local code, _, err = cli.run({'--prefix', 'local', '--binary', cli.bin}, {command = install, cwd = dir})
    assert(code == 0, err)
    assert.is_true(exists(dir .. '/local/bin/llmscript'))
    assert.is_true(exists(dir .. '/local/share/llmscript/stdlib-lua/llm/init.lua'))
    assert.are.equal(0, (cli.run({'--prefix', 'local', '--uninstall'}, {command = install, cwd = dir})))
    assert.is_false(exists(dir .. '/local/bin/llmscript'))
  end)

  it('a bad option is a usage error', function()
    local code, _, err = sh({'--prefx=/tmp'})
    assert.are.equal(2, code)
    cli.has(err, "unknown option '--prefx=/tmp'")
  end)
end)
