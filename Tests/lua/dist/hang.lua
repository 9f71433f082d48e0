-- hang.lua: run under `mpirun -np 2` by dist_spec.lua with a short dist timeout. mode 'late': rank 1
-- never reaches the barrier (it sleeps), so rank 0's watchdog must end the job with a message;
-- mode 'die': rank 1 kills itself (SIGKILL) before the barrier, so the job must end naming rank 1;
-- mode 'error': rank 1 raises a Lua error (with a long timeout: the failing rank must abort the job
-- itself rather than leave rank 0 waiting for the watchdog).
local mode = arg[1]
local r = dist.init{timeout = mode == 'error' and 100 or 2}
if r == 1 and mode == 'error' then error('boom on rank 1') end
if r == 1 then
  if mode == 'die' then
    local f = assert(io.open('/proc/self/stat'))
    local pid = f:read('a'):match('^(%d+)')
    f:close()
    os.execute('kill -KILL ' .. pid)
  end
  os.execute('sleep 30')
end
dist.barrier()
print('rank ' .. r .. ' passed the barrier')
