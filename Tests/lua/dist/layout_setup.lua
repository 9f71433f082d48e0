-- layout_setup.lua: the training set-up shared by dist_layout_spec.lua (one process) and layout_tp.lua
-- (under mpirun): a character corpus, a 2-layer GPT (vocab 32, 2 heads: both split among 2 ranks), AdamW
-- with two weight-decay groups (its moments are what a tensor-parallel checkpoint gathers) and clipping,
-- 6 steps with checkpoints after steps 3 and 6.
local M = {B = 4, T = 16, steps = 6, at = 3}

local text = string.rep('the quick brown fox jumps over the lazy dog; pack my box with five dozen liquor jugs. ', 10)
local ids = llm.data.CharTokenizer(text):encode(text)

--- The dense model, the same on every rank (seeded).
function M.model()
  llm.manualSeed(5)
  return nn.GPT{vocab = 32, blockSize = M.T, layers = 2, heads = 2, dim = 16, dropout = 0}
end

--- Trains model (already laid out) for M.steps from a fresh start or from the checkpoint `resume`, writing
--- checkpoints to runDir; returns the losses by step.
function M.train(model, o)
  local opt = optim.AdamW(optim.paramGroups(model, {{match = function(_, p) return p:dim() < 2 end, weightDecay = 0}}),
                          {lr = 1e-2, weightDecay = 0.1})
  local batches = llm.data.Batcher(ids, {batchSize = M.B, blockSize = M.T, seed = 11})
  local losses = {}
  local trainer = llm.Trainer{model = model, optimizer = opt, train = o.shard and o.shard(batches) or batches, steps = M.steps,
                              clip = 0.5, progress = false, logEvery = 1, checkpointDir = o.runDir, checkpointEvery = M.at,
                              keepLast = 5, extensions = o.extensions,
                              onStep = function(_, info) losses[info.step] = info.loss end}
  if o.resume then trainer:resume(o.resume) end
  trainer:run()
  return losses
end

--- "<tag> <step> <loss>" lines of losses (steps from..M.steps), %.9g.
function M.lines(tag, losses, from)
  local out = {}
  for s = from or 1, M.steps do out[#out + 1] = string.format('%s %d %.9g', tag, s, losses[s]) end
  return table.concat(out, '\n')
end

--- The losses of tag from a fixture's output.
function M.parse(tag, out)
  local losses = {}
  for s, v in out:gmatch(tag .. ' (%d+) (%S+)') do losses[tonumber(s)] = tonumber(v) end
  return losses
end

return M
