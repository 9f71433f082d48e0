-- cli.lua: runs the llmscript binary as a user would, for the specs that test command lines (not a spec
-- itself: busted runs *_spec.lua files).
--   local cli = dofile(debug.getinfo(1, 'S').source:match('^@(.*/)') .. 'cli.lua')
--   local code, stdout, stderr = cli.run({'recipes/gpt-char.lua', '--steps=2'}, {cwd = dir, env = {X = '1'}})
-- The binary: helpers.binary() ($LLMSCRIPT_BIN, else the interpreter running the spec, ...).
local here = debug.getinfo(1, 'S').source:match('^@(.*/)') or './'
local helpers = dofile(here .. 'helpers.lua')
local M = {}

--- Quotes a string for /bin/sh.
M.shq = helpers.shq

local function absolute(path)
  if path:sub(1, 1) == '/' then return path end
  local p = io.popen('pwd')
  local cwd = p:read('l'); p:close()
  return cwd .. '/' .. path
end

--- The repository root, an absolute path ending with '/' (specs run recipes from other folders).
M.root = absolute(here .. '../../')

--- The whole content of a file, or nil.
function M.readAll(path)
  local f = io.open(path, 'rb')
  if not f then return nil end
  local s = f:read('a'); f:close()
  return s
end

--- Absolute path of the llmscript binary under test (helpers.binary).
M.bin = absolute(helpers.binary())

--- Runs `llmscript args...` (or `command` when opts.command is given instead of args); returns the exit
--- code, stdout and stderr. opts: cwd (folder to run in), env (extra environment variables).
function M.run(args, opts)
  opts = opts or {}
  local errFile = os.tmpname()
  local parts = {}
  if opts.cwd then parts[#parts + 1] = 'cd ' .. M.shq(opts.cwd) .. ' &&' end
  if opts.env then
    parts[#parts + 1] = 'env'
    for k, v in pairs(opts.env) do parts[#parts + 1] = k .. '=' .. M.shq(v) end
  end
  parts[#parts + 1] = M.shq(opts.command or M.bin)
  for _, a in ipairs(args or {}) do parts[#parts + 1] = M.shq(a) end
  local p = assert(io.popen(table.concat(parts, ' ') .. ' 2>' .. M.shq(errFile), 'r'))
  local out = p:read('a')
  local _, how, code = p:close()
  local err = M.readAll(errFile) or ''
  os.remove(errFile)
  if how ~= 'exit' then code = 128 + (code or 0) end
  return code, out, err
end

--- Asserts that `text` contains `fragment` (plain), showing the text otherwise.
function M.has(text, fragment)
  assert(text:find(fragment, 1, true), 'output does not contain ' .. string.format('%q', fragment) .. ':\n' .. text)
end

return M
