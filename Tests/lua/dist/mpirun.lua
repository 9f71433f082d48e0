-- mpirun.lua: running fixture scripts under mpirun from the dist specs (not a spec, not a fixture).
--   local mpi = dofile(here .. 'dist/mpirun.lua')
--   mpi.available                     true when mpirun is installed (scripts/setup.sh installs openmpi-bin)
--   mpi.sh(cmd) -> status, output     a shell command's exit status and its stdout and stderr together
--   mpi.run(np, script, ...) -> status, output
--     runs Tests/lua/dist/<script> with the llmscript binary on np ranks: root opt-in (CI runs as root),
--     oversubscription and yield-when-idle (2 cores), shared memory transport, one BLAS thread per rank,
--     and a 120 s timeout so a hung job cannot stall the suite.
--   mpi.rankLines(output) -> {['<rank> <key>'] = rest}
--     the fixture lines `rank <r> <key> [rest]` of an output, by rank and key.
local h = dofile(debug.getinfo(1, 'S').source:match('^@(.*/)') .. '../helpers.lua')
local fixtures = debug.getinfo(1, 'S').source:match('^@(.*/)')
local M = {}

function M.sh(cmd)
  local p = assert(io.popen(cmd .. ' 2>&1', 'r'))
  local out = p:read('a')
  local _, how, status = p:close()
  if how ~= 'exit' then status = 128 + (status or 0) end
  return status, out
end

M.available = os.execute('command -v mpirun >/dev/null 2>&1') == true

function M.run(np, script, ...)
  local parts = {'OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1',
                 'OPENBLAS_NUM_THREADS=1 timeout 120 mpirun -np ' .. math.tointeger(np) .. ' --oversubscribe --allow-run-as-root',
                 '--mca btl self,vader --mca mpi_yield_when_idle 1', h.shq(h.binary()), h.shq(fixtures .. script)}
  for _, a in ipairs{...} do parts[#parts + 1] = h.shq(a) end
  return M.sh(table.concat(parts, ' '))
end

function M.rankLines(out)
  local got = {}
  for line in out:gmatch('[^\n]+') do
    local r, key, rest = line:match('^rank (%d+) (%S+) ?(.*)$')
    if r then got[r .. ' ' .. key] = rest end
  end
  return got
end

return M
