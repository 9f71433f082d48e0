-- layout_tp.lua: run under `mpirun -np 2` by dist_layout_spec.lua (arg[1]: a scratch folder, arg[2]: the
-- run folder of a one-process run of layout_setup.lua). Tensor parallel over both ranks through
-- dist.parallelize{tp = 2}: a 6-step run writing Trainer checkpoints to arg[1]/tp, then two resumed runs
-- from step 3: from that tensor-parallel checkpoint and from the one-process checkpoint. Rank 0 prints
-- each run's losses ("tp", "tptp", "densetp" <step> <loss>).
local setup = dofile(debug.getinfo(1, 'S').source:match('^@(.*/)') .. 'layout_setup.lua')

local function run(o)
  local model = setup.model()
  local layout = dist.parallelize(model, {tp = 2})
  o.extensions = layout.extensions
  return setup.train(model, o), layout.primary
end

local tp, primary = run{runDir = arg[1] .. '/tp'}
local tptp = run{runDir = arg[1] .. '/tptp', resume = arg[1] .. '/tp/step-000003'}
local densetp = run{runDir = arg[1] .. '/densetp', resume = arg[2] .. '/step-000003'}
if primary then
  print(setup.lines('tp', tp))
  print(setup.lines('tptp', tptp, setup.at + 1))
  print(setup.lines('densetp', densetp, setup.at + 1))
end
