-- strict_spec.lua: strict globals apply to the user's code, not to the modules it requires. Debian's Lua
-- 5.4 libraries (lua-filesystem, lua-yaml, lua-cliargs, lua-penlight, luarocks; scripts/setup.sh installs
-- them) read and set globals freely (`unpack`, `lfs`, `tointeger`, ...): they load and work under
-- llmscript as under lua5.4, while the script itself still gets 'undeclared global' errors.
local cli = dofile(debug.getinfo(1, 'S').source:match('^@(.*/)') .. 'cli.lua')
local helpers = dofile(debug.getinfo(1, 'S').source:match('^@(.*/)') .. 'helpers.lua')
teardown(helpers.removeTmpdirs)

local function script(source)
  local dir = helpers.tmpdir('strict')
  local f = assert(io.open(dir .. '/script.lua', 'w')); f:write(source); f:close()
  return dir
end

describe('strict globals', function()
  it('Debian Lua modules load and run under a strict script', function()
    local dir = script([[
      local lfs = require 'lfs'
      local yaml = require 'lyaml'
      local cliargs = require 'cliargs'
      local path = require 'pl.path'
      local List = require 'pl.List'
      local cfg = require 'luarocks.core.cfg'
      require 'luarocks.loader'
      print('lfs', lfs.attributes('.', 'mode'))
      print('yaml', yaml.load('a: 1\nb: [x, y]\n').b[2])
      cliargs:set_name('demo'):option('--n=N', 'a number', '3')
      local args = cliargs:parse({'--n=5'})
      print('cliargs', args.n)
      print('penlight', path.basename('/a/b.txt'), List{1, 2, 3}:map(function(x) return x * 2 end):concat(','))
      print('luarocks', type(cfg))
      print(undeclaredAfterModules)
    ]])
    local code, out, err = cli.run({'script.lua'}, {cwd = dir})
    assert.are.equal(1, code)
    cli.has(out, 'lfs\tdirectory')
    cli.has(out, 'yaml\ty')
    cli.has(out, 'cliargs\t5')
    cli.has(out, 'penlight\tb.txt\t2,4,6')
    cli.has(out, 'luarocks\ttable')
    cli.has(err, "script.lua:15: undeclared global 'undeclaredAfterModules'")
  end)

  it('the same modules load under lua5.4 and llmscript alike (-l and -e)', function()
    for _, m in ipairs{'lfs', 'lyaml', 'cliargs', 'pl.pretty', 'pl.path', 'luarocks.loader'} do
      local code, out, err = cli.run({'-l', 'M=' .. m, '-e', 'print(type(M))'})
      assert(code == 0, m .. ': ' .. err)
      assert.are.equal('table\n', out, m)
      local luaCode, luaOut, luaErr = cli.run({'-e', 'M = require(' .. string.format('%q', m) .. '); print(type(M))'}, {command = 'lua5.4'})
      assert(luaCode == 0, 'lua5.4 ' .. m .. ': ' .. luaErr)
      assert.are.equal(luaOut, out, m)
    end
  end)

  it('a module of the user still runs unchecked; the script and its callbacks stay strict', function()
    local dir = script([[
      local mod = require 'loose'
      print(looseGlobal, mod.run(function() return undeclaredInCallback end))
    ]])
    local f = assert(io.open(dir .. '/loose.lua', 'w'))
    f:write("looseGlobal = 'set by module'\nreturn {run = function(cb) local ok, e = pcall(cb); return tostring(e), missing end}\n")
    f:close()
    local code, out, err = cli.run({'script.lua'}, {cwd = dir})
    assert(code == 0, err)
    cli.has(out, "undeclared global 'undeclaredInCallback'")   -- the callback is script code: checked
    cli.has(out, 'set by module\t')                 -- the module set a global ...
    cli.has(out, '\tnil\n')                          -- ... and read `missing` (nil), as under lua5.4
  end)

  it('modules found by searchers added later (a LuaRocks tree) are exempt too', function()
    local dir = script([[
      table.insert(package.searchers, 2, function(name)
        if name ~= 'virtual' then return nil end
        return load("virtualGlobal = 1; return {value = virtualGlobal}", '=virtual')
      end)
      print(require('virtual').value)
      print(virtualGlobal2)
    ]])
    local code, out, err = cli.run({'script.lua'}, {cwd = dir})
    assert.are.equal(1, code)
    assert.are.equal('1\n', out)
    cli.has(err, "undeclared global 'virtualGlobal2'")
  end)
end)
