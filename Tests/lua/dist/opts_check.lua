-- opts_check.lua: run under `mpirun -np 2` by dist_opts_spec.lua. On packed supervised batches
-- (opts_setup.lua: opts = {segments, positions}, targets −100 on prompts and padding) every rank prints
-- `rank <r> <key> <value>`, the largest differences from one dense process:
--   shard      dist.shardBatches' x, y and opts rows against this rank's rows of the global batch;
--   tploss / tpgrads      a tensor-parallel model (loss with ignoreIndex −100, every gradient gathered to
--                         the dense layout, relative to its largest entry) against the dense model;
--   pploss / ppgrads      one 2-stage pipeline step (1F1B, 2 micro-batches whose rows score different
--                         numbers of targets, gradAccum 2) against the dense model's loss / gradAccum;
--   ignored    the smallest number of ignored targets in a batch (> 0: the check is not vacuous).
-- arg[1]: 'gpt' (tied, learned positions) or 'llama' (RoPE, untied).
local setup = dofile(debug.getinfo(1, 'S').source:match('^@(.*/)') .. 'opts_setup.lua')
local kind = arg[1] or 'gpt'
local rank, size = dist.init(), dist.size()

local function maxDiff(a, b) return (a - b):abs():max():item() end
local function say(key, v) print(string.format('rank %d %s %.3g', rank, key, v)) end
local function relGrad(g, ref) return maxDiff(g, ref) / (ref:abs():max():item() + 1e-12) end

-- shardBatches: this rank's rows of x, y and every opts tensor
local gx, gy, gopts = setup.data():next()
local sx, sy, sopts = dist.shardBatches(setup.data()):next()
local b = setup.B // size
local rows = function(t) return t:narrow(1, rank * b + 1, b) end
say('shard', math.max(maxDiff(sx, rows(gx)), maxDiff(sy, rows(gy)), maxDiff(sopts.segments, rows(gopts.segments)),
                      maxDiff(sopts.positions, rows(gopts.positions))))

local function denseGrads(model)
  local out = {}
  for name, p in pairs(model:namedParameters()) do out[name] = p.grad end
  return out
end

-- tensor parallel: loss and every gradient on the packed batch with ignored targets
local dense = setup.model(7, kind)
local _, loss = dense(gx, gy, gopts)
loss:backward()
local tp = dist.tensorParallel(setup.model(7, kind))
local _, tpLoss = tp(gx, gy, gopts)
tpLoss:backward()
say('tploss', math.abs(loss:item() - tpLoss:item()))
local grads, ref, worst = {}, denseGrads(dense), 0
for path, p in pairs(tp:namedParameters()) do grads[path] = p.grad end
for path, g in pairs(tp:denseStateDict(grads)) do worst = math.max(worst, relGrad(g, ref[path])) end
say('tpgrads', worst)

-- pipeline: one step of two batches, 2 micro-batches each, against the dense model
local source, batches = setup.data(), {}
for i = 1, 2 do
  local x, y, opts = source:next()
  batches[i] = {x = x, y = y, opts = opts, micro = i, last = i == 2}
end
local denseModel, pipeModel = setup.model(7, kind), setup.model(7, kind)
local losses, fewest = {}, math.huge
for i, batch in ipairs(batches) do
  local _, l = denseModel(batch.x, batch.y, batch.opts)
  losses[i] = l:item()
  local scaled = l / #batches
  scaled:backward()
  fewest = math.min(fewest, batch.y:eq(-100):sum():item())
end
local pp = dist.pipelineParallel(pipeModel, {microBatches = 2, schedule = '1f1b'})
pp:forwardBackward(nil, batches)
say('pploss', math.max(math.abs(batches[1].loss - losses[1]), math.abs(batches[2].loss - losses[2])))
local pref, pworst, named = denseGrads(denseModel), 0, pipeModel:namedParameters()
local owned = {}
for _, p in ipairs(pp:parameters()) do owned[p] = true end
for name, p in pairs(named) do
  if owned[p] then pworst = math.max(pworst, relGrad(p.grad, pref[name])) end
end
say('ppgrads', pworst)
say('ignored', fewest)
