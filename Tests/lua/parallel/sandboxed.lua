-- sandboxed.lua: run by parallel_spec under `llmscript --sandbox --max-memory 64M` (recipe folder: this
-- one). Prints one "CHECK <name> <ok> <message>" line per check of the workers' confinement.
local function check(name, fn)
  local ok, err = pcall(fn)
  print('CHECK', name, ok, (tostring(err):gsub('%s', ' ')))
end

local pool <close> = parallel.pool{init = 'sandboxed_worker', workers = 1}
check('os.execute', function() return pool:submit('execute'):wait() end)
check('debug', function() return pool:submit('debugLibrary'):wait() end)
check('read outside', function() return pool:submit('read', '/etc/passwd'):wait() end)
check('read inside', function() return pool:submit('read', arg[0]):wait() end)
check('worker budget', function() return pool:submit('grow'):wait() end)
check('after a failure', function() return pool:submit('allocate', 8e6):wait() end)
-- the caller holds 40 MB: its workers cannot take the 64 MB limit again
local hold = llm.zeros(10e6)
check('caller budget shared', function() return pool:submit('allocate', 32e6):wait() end)
hold:free()
collectgarbage()
check('caller budget released', function() return pool:submit('allocate', 32e6):wait() end)
check('nested pool', function() return pool:submit('nested', '/etc/passwd'):wait() end)
