-- zero_setup.lua: the training set-up of dist_zero_spec.lua (single process, in the spec) and
-- zero_train.lua (under mpirun): tiny_gpt's model and global batches, AdamW with two parameter groups
-- (no weight decay on biases and norm gains: dim < 2), clipping at a norm every step exceeds, gradient
-- accumulation. build(seed) -> model, optimizer, batch source; train(...) -> losses, gradient norms.
local tiny = dofile(debug.getinfo(1, 'S').source:match('^@(.*/)') .. 'tiny_gpt.lua')
local M = {B = tiny.B, steps = 6, half = 3, gradAccum = tiny.gradAccum, clip = 0.5}

function M.build(seed)
  local model, _, batches = tiny.build(seed)
  local groups = optim.paramGroups(model, {{match = function(_, p) return p:dim() < 2 end, weightDecay = 0}})
  local opt = optim.AdamW(groups, {lr = 1e-2, weightDecay = 0.1})
  return model, opt, batches
end

--- Trains to step `o.steps` (default M.steps); o: {extensions, runDir (checkpoints every M.half steps and
--- metrics), resume (a checkpoint folder)}. Returns the losses and gradient norms by step (from the resumed step on).
function M.train(model, opt, batches, o)
  o = o or {}
  local losses, norms = {}, {}
  local trainer = llm.Trainer{
    model = model, optimizer = opt, train = batches, steps = o.steps or M.steps, gradAccum = M.gradAccum,
    clip = M.clip, progress = false, logEvery = 1, extensions = o.extensions, checkpointDir = o.runDir,
    checkpointEvery = M.half, metrics = o.runDir and (o.runDir .. '/metrics.jsonl'),
    onStep = function(t, info) losses[info.step], norms[info.step] = info.loss, t.gradNorm end}
  if o.resume then trainer:resume(o.resume) end
  trainer:run()
  return losses, norms
end

--- The model's state and the losses/norms in one table for llm.save (steps missing from a resumed run are 0).
function M.result(model, losses, norms, extra)
  local state = extra or {}
  for name, t in pairs(model:stateDict()) do state['param.' .. name] = t end
  local l, n = {}, {}
  for i = 1, M.steps do l[i], n[i] = losses[i] or 0, norms[i] or 0 end
  state.losses, state.norms = llm.tensor(l), llm.tensor(n)
  return state
end

return M
