-- helpers.lua: assertions shared by the Lua specs (not a spec itself: busted runs *_spec.lua files).
--   local h = dofile(debug.getinfo(1, 'S').source:match('^@(.*/)') .. 'helpers.lua')
local M = {}

--- Calls f, asserts that it raises an error whose message contains every given fragment; returns the message.
function M.fails(f, ...)
  local ok, err = pcall(f)
  assert(not ok, 'expected an error')
  for _, frag in ipairs{...} do
    assert(tostring(err):find(frag, 1, true), 'message ' .. string.format('%q', tostring(err)) .. ' does not contain ' .. string.format('%q', frag))
  end
  return err
end

local made = {}

--- A fresh empty folder under /tmp named after `suffix` (os.tmpname reserves the name; the folder sits next
--- to it). M.removeTmpdirs() deletes every folder made so far (call it from a teardown).
function M.tmpdir(suffix)
  local name = os.tmpname()
  os.remove(name)
  local dir = name .. '_' .. (suffix or 'spec')
  llm.makeDirs(dir)
  made[#made + 1] = dir
  return dir
end

function M.removeTmpdirs()
  for _, d in ipairs(made) do os.execute("rm -rf '" .. d:gsub("'", "'\\''") .. "'") end
  made = {}
end

--- Calls fn with io.stdout replaced by a buffer (progress lines, logs); returns the text written and fn's
--- results. An error of fn propagates after stdout is restored.
function M.captured(fn)
  local saved, parts = io.stdout, {}
  io.stdout = {write = function(self, ...) for _, v in ipairs{...} do parts[#parts + 1] = tostring(v) end return self end,
               flush = function(self) return self end}
  local r = table.pack(pcall(fn))
  io.stdout = saved
  if not r[1] then error(r[2], 0) end
  return table.concat(parts), table.unpack(r, 2, r.n)
end

--- Quotes a string for the shell.
function M.shq(s) return "'" .. tostring(s):gsub("'", "'\\''") .. "'" end

--- The llmscript binary: $LLMSCRIPT_BIN, else the interpreter running this spec (arg at its lowest
--- negative index, as `llmscript test` sets it), else /proc/<parent>/exe, else .build/debug/llmscript.
function M.binary()
  local env = os.getenv('LLMSCRIPT_BIN')
  if env and env ~= '' then return env end
  if type(arg) == 'table' then
    local lowest = 0
    while arg[lowest - 1] ~= nil do lowest = lowest - 1 end
    local interp = arg[lowest]
    if lowest < 0 and type(interp) == 'string' and interp:match('llmscript$')
      and os.execute('test -x ' .. M.shq(interp)) == true then return interp end
  end
  local p = io.popen('readlink /proc/$PPID/exe 2>/dev/null')
  if p then
    local exe = (p:read('a') or ''):gsub('%s+$', '')
    p:close()
    if exe:match('llmscript$') then return exe end
  end
  local here = debug.getinfo(1, 'S').source:match('^@(.*/)') or './'
  return here .. '../../.build/debug/llmscript'
end

--- Runs `llmscript [flags...] -e code` in a child process; returns the exit code (128 + signal when
--- killed by one), stdout and stderr.
function M.runCode(code, flags)
  local errFile = os.tmpname()
  local parts = {M.shq(M.binary())}
  for _, f in ipairs(flags or {}) do parts[#parts + 1] = M.shq(f) end
  parts[#parts + 1] = '-e'
  parts[#parts + 1] = M.shq(code)
  local p = assert(io.popen(table.concat(parts, ' ') .. ' 2>' .. M.shq(errFile), 'r'))
  local out = p:read('a')
  local _, how, status = p:close()
  local f = io.open(errFile, 'r')
  local err = f and f:read('a') or ''
  if f then f:close() end
  os.remove(errFile)
  if how ~= 'exit' then status = 128 + (status or 0) end
  return status, out, err
end

--- A tensor from a reference fixture's {shape, data, [dtype]} (an empty shape is a scalar).
function M.fixtureTensor(spec)
  if #spec.shape == 0 then return llm.tensor(spec.data[1], {dtype = spec.dtype}) end
  return llm.tensor(spec.data, {dtype = spec.dtype}):reshape(table.unpack(spec.shape))
end

--- A tensor's elements as a flat Lua list (row-major; a scalar gives a one-element list).
function M.flatten(t)
  local v = t:contiguous():reshape(-1):totable()
  return type(v) == 'table' and v or {v}
end

--- The loss before each of #a.losses optim.AdamW steps of model on one batch (a = a fixture's adamw:
--- {lr, betas, eps, weightDecay}; decay on dim >= 2 parameters only, as nanoGPT); also the two groups.
function M.adamwLosses(model, idx, targets, a)
  local decay, noDecay = {}, {}
  for _, p in ipairs(model:parameters()) do
    if p:dim() >= 2 then decay[#decay + 1] = p else noDecay[#noDecay + 1] = p end
  end
  local opt = optim.AdamW({{params = decay, weightDecay = a.weightDecay}, {params = noDecay, weightDecay = 0}},
                          {lr = a.lr, betas = a.betas, eps = a.eps})
  local losses = {}
  for k = 1, #a.losses do
    opt:zeroGrad()
    local _, loss = model(idx, targets)
    losses[k] = loss:item()
    loss:backward()
    opt:step()
  end
  return losses, decay, noDecay
end

--- The JSON records of a JSONL file (metrics.jsonl), in order.
function M.jsonLines(path)
  local out = {}
  for line in io.lines(path) do out[#out + 1] = llm.json.decode(line) end
  return out
end

--- Writes `dir/corpus.txt`: `lines` sentences of `perLine` words drawn from `words` by a fixed LCG from
--- `seed` (the same text on every machine); returns its path.
function M.syntheticCorpus(dir, words, lines, perLine, seed)
  local out, s = {}, seed
  for _ = 1, lines do
    local w = {}
    for k = 1, perLine do s = (s * 1103515245 + 12345) % 2147483648; w[k] = words[s % #words + 1] end
    out[#out + 1] = table.concat(w, ' ') .. '.'
  end
  local path = dir .. '/corpus.txt'
  local f = assert(io.open(path, 'wb')); f:write(table.concat(out, '\n'), '\n'); f:close()
  return path
end

return M
