-- sandbox_files_spec.lua: Lua's own file functions in a sandboxed child (`llmscript --sandbox`), which open
-- through the sandbox's file policy (beneath the allowed folders) and must keep Lua's semantics: io.open's
-- nil/message/errno (a denial included), io.lines closing its file at the end and taking formats,
-- io.input/io.output with names and handles, loadfile's env and '#' first line, dofile's results,
-- os.remove/os.rename results, number paths converted like Lua does, links out of the folders refused,
-- require through package.path without naming the engine's folders.
-- Run: llmscript test Tests/lua/sandbox_files_spec.lua
local h = dofile((debug.getinfo(1, 'S').source:match('^@(.*/)') or './') .. 'helpers.lua')

local root = os.tmpname()
os.remove(root)
local data, out, outside = root .. '/data', root .. '/out', root .. '/outside'
assert(os.execute('mkdir -p ' .. h.shq(data) .. ' ' .. h.shq(out) .. ' ' .. h.shq(outside)))
local function write(path, text) local f = assert(io.open(path, 'w')); f:write(text); f:close() end
write(data .. '/a.txt', 'hello\n')
write(data .. '/nums.txt', '1 2\n3 4\n')
write(data .. '/chunk.lua', '#!/usr/bin/env llmscript\nreturn rawget(_ENV, "x"), select("#", ...)\n')
write(data .. '/bad.lua', '\n\nreturn +\n')
write(data .. '/m.lua', 'return {name = "m"}\n')
write(outside .. '/secret.txt', 'SECRET\n')
assert(os.execute('ln -s ../outside ' .. h.shq(data .. '/up') .. ' && ln -s a.txt ' .. h.shq(data .. '/same')))

local FLAGS = {'--sandbox', '--allow-read', data, '--allow-write', out}

-- Runs `code` sandboxed; returns stdout (asserting a clean exit).
local function run(code)
  local status, stdout, stderr = h.runCode(code, FLAGS)
  assert(status == 0, 'child failed (' .. tostring(status) .. '): ' .. stdout .. stderr)
  return stdout
end
-- Runs `code` sandboxed expecting an error; returns stderr.
local function fails(code)
  local status, stdout, stderr = h.runCode(code, FLAGS)
  assert(status ~= 0, 'child succeeded: ' .. stdout)
  return stderr
end
local function has(s, part) assert(s:find(part, 1, true), ('%q not found in:\n%s'):format(part, s)) end

describe('sandboxed io.open', function()
  it('returns nil, the denial and EACCES for a path outside the folders, like a missing file', function()
    local o = run(([[
      local f, msg, code = io.open(%q)
      if not f then print(msg, code) end
      local g, gmsg, gcode = io.open(%q)
      print(g, gmsg, gcode)
    ]]):format(outside .. '/secret.txt', data .. '/missing.txt'))
    has(o, "sandbox: reading '" .. outside .. "/secret.txt' is not allowed (outside the allowed folders: " .. data .. ', ' .. out .. ')\t13')
    has(o, 'nil\t' .. data .. '/missing.txt: No such file or directory\t2')
  end)

  it('refuses a link out of an allowed folder, follows one that stays inside', function()
    local o = run(([[
      print(select(2, io.open(%q)))
      print(io.open(%q):read('l'))
    ]]):format(data .. '/up/secret.txt', data .. '/same'))
    has(o, "sandbox: reading '" .. data .. "/up/secret.txt' is not allowed (outside the allowed folders")
    has(o, 'hello')
    assert(not o:find('SECRET'))
  end)

  it('keeps modes, writes inside the writable folder and refuses writing elsewhere', function()
    local o = run(([[
      local f = assert(io.open(%q, 'w')); f:write('a'); f:close()
      f = assert(io.open(%q, 'a+')); f:write('b'); f:seek('set'); print(f:read('a')); f:close()
      print(select(2, io.open(%q, 'w')))
      print(pcall(io.open, %q, 'rw'))
    ]]):format(out .. '/w.txt', out .. '/w.txt', data .. '/w.txt', out .. '/w.txt'))
    has(o, 'ab')
    has(o, "sandbox: writing '" .. data .. "/w.txt' is not allowed (outside the writable folders: " .. out .. ')')
    has(o, "bad argument #2 to 'open' (invalid mode)")
  end)

  it('converts number paths like Lua and checks the converted name', function()
    -- the child's working directory (this repository) is not an allowed folder
    local o = run([[print(select(2, io.open(5))); print(pcall(io.lines, 5)); print(pcall(os.remove, 5.5))]])
    has(o, "sandbox: reading '5' is not allowed")
    has(o, "false\tsandbox: reading '5' is not allowed")
    has(o, "false\tsandbox: writing '5.5' is not allowed")
    assert(not o:find('stdlib%-lua'), o)   -- raised at the caller, not inside the engine's wrapper
    has(fails('io.open(true)'), "bad argument #1 to 'open' (string expected, got boolean)")
  end)
end)

describe('sandboxed io.lines, io.input, io.output', function()
  it('io.lines takes formats and closes its file at the end', function()
    local o = run(([[
      local it, _, _, f = io.lines(%q, 'n', 'n')
      for a, b in it do print(a + b) end
      print(io.type(f))
    ]]):format(data .. '/nums.txt'))
    has(o, '3\n7\nclosed file')
  end)

  it('io.input and io.output accept names and handles', function()
    local o = run(([[
      io.output(%q); io.write('via output'); io.output():close(); io.output(io.stdout)
      io.input(%q); print(io.read('l'))
      io.input(io.open(%q)); print(io.read('l'))
      print(pcall(io.output, %q))
    ]]):format(out .. '/o.txt', out .. '/o.txt', data .. '/a.txt', data .. '/o.txt'))
    has(o, 'via output\nhello')
    has(o, "false\tsandbox: writing '" .. data .. "/o.txt' is not allowed")
  end)
end)

describe('sandboxed loading', function()
  it('loadfile skips a # first line, keeps line numbers, sets env; dofile returns the results', function()
    local o = run(([[
      local f = assert(loadfile(%q, 't', {x = 42, select = select, rawget = rawget}))
      print(f(1, 2))
      print(select(2, loadfile(%q)))
      print(select(2, loadfile(%q)))
      print(dofile(%q))
    ]]):format(data .. '/chunk.lua', data .. '/bad.lua', data .. '/nope.lua', data .. '/chunk.lua'))
    has(o, '42\t2')
    has(o, data .. '/bad.lua:3:')
    has(o, 'cannot open ' .. data .. '/nope.lua')
    has(o, 'nil\t0')
    has(fails(('dofile(%q)'):format(outside .. '/secret.txt')), "sandbox: reading '" .. outside .. "/secret.txt' is not allowed")
    has(fails(('loadfile(%q, "b")'):format(data .. '/chunk.lua')), 'loading binary chunks is disabled')
  end)

  it('require finds modules on package.path, engine modules without naming their folder', function()
    local o = run(([[
      package.path = %q .. '/?.lua;' .. package.path
      print(require('m').name, require('llm.config') ~= nil)
      print(select(2, pcall(require, 'no.such')))
    ]]):format(data))
    has(o, 'm\ttrue')
    has(o, "no file '" .. data .. "/no/such.lua'")
    assert(not o:find('stdlib%-lua') and not o:find('%.llmscript'), o)
  end)
end)

describe('sandboxed os.remove and os.rename', function()
  it('act inside the writable folder with Lua results, raise elsewhere', function()
    local o = run(([[
      local f = assert(io.open(%q, 'w')); f:close()
      print(os.rename(%q, %q))
      print(os.remove(%q))
      print(os.remove(%q))
      print(pcall(os.rename, %q, %q))
    ]]):format(out .. '/r1', out .. '/r1', out .. '/r2', out .. '/r2', out .. '/r2', data .. '/a.txt', out .. '/a.txt'))
    has(o, 'true\ntrue\nnil\t' .. out .. '/r2: No such file or directory\t2')
    has(o, "false\tsandbox: writing '" .. data .. "/a.txt' is not allowed")
  end)
end)

teardown(function() os.execute('rm -rf ' .. h.shq(root)) end)
