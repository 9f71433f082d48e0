-- tiny_gpt.lua: the training set-up shared by dist_spec.lua (single process, in the spec) and
-- dp_train.lua (under mpirun): a character corpus, a 1-layer GPT, AdamW with clipping and gradient
-- accumulation. build(seed) returns model, optimizer, batch source; the batch source draws global
-- batches of B sequences with its own fixed seed (the same on every rank).
local M = {B = 8, T = 16, steps = 5, gradAccum = 2, clip = 1.0}

local text = string.rep('the quick brown fox jumps over the lazy dog; pack my box with five dozen liquor jugs. ', 12)
local tokenizer = llm.data.CharTokenizer(text)
local ids = tokenizer:encode(text)

function M.build(seed)
  llm.manualSeed(seed)
  local model = nn.GPT{vocab = tokenizer:vocabSize(), blockSize = M.T, layers = 1, heads = 2, dim = 16, dropout = 0}
  local opt = optim.AdamW(model:parameters(), {lr = 1e-2, weightDecay = 0.1})
  local batches = llm.data.Batcher(ids, {batchSize = M.B, blockSize = M.T, seed = 11})
  return model, opt, batches
end

--- Trains and returns the per-step losses; extensions are optional.
--- runDir (optional): checkpoints and metrics.jsonl go there.
function M.train(model, opt, batches, extensions, runDir)
  local losses = {}
  llm.Trainer{model = model, optimizer = opt, train = batches, steps = M.steps, gradAccum = M.gradAccum, clip = M.clip,
              progress = false, logEvery = 1, extensions = extensions, checkpointDir = runDir,
              metrics = runDir and (runDir .. '/metrics.jsonl'),
              onStep = function(_, info) losses[info.step] = info.loss end}:run()
  return losses
end

return M
