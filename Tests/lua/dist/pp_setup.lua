-- pp_setup.lua: the set-up shared by dist_pp_spec.lua (one process, the dense reference) and the pp_*.lua
-- fixtures (under mpirun): a character corpus, a 4-block GPT with tied embedding/head weights (or a 4-block
-- nn.Llama: RMSNorm, RoPE, SwiGLU, untied head), AdamW with clipping (clip 0.5: active in every step) and
-- gradient accumulation. build(seed, [kind = 'gpt' | 'llama']) returns model, optimizer, batch source; the
-- source draws global batches of B sequences with its own fixed seed (the same on every rank).
local M = {B = 8, T = 16, steps = 4, gradAccum = 2, clip = 0.5, layers = 4}

local text = string.rep('the quick brown fox jumps over the lazy dog; pack my box with five dozen liquor jugs. ', 12)
local tokenizer = llm.data.CharTokenizer(text)
local ids = tokenizer:encode(text)

function M.build(seed, kind)
  llm.manualSeed(seed)
  local model = kind == 'llama'
    and nn.Llama{vocab = tokenizer:vocabSize(), maxSeq = M.T, layers = M.layers, heads = 2, dim = 16, multipleOf = 16}
    or nn.GPT{vocab = tokenizer:vocabSize(), blockSize = M.T, layers = M.layers, heads = 2, dim = 16, dropout = 0}
  local opt = optim.AdamW(model:parameters(), {lr = 1e-2, weightDecay = 0.1})
  local batches = llm.data.Batcher(ids, {batchSize = M.B, blockSize = M.T, seed = 11})
  return model, opt, batches
end

--- The first gradAccum batches as the Trainer hands them to an extension ({x, y, micro}).
function M.batches(source)
  local out = {}
  for i = 1, M.gradAccum do
    local x, y = source:next()
    out[i] = {x = x, y = y, micro = i}
  end
  return out
end

--- Trains (extensions optional; runDir: checkpoints every 2 steps there; steps default M.steps; resume: a
--- checkpoint folder to resume from first), evaluating on the corpus every 2 steps; returns the per-step
--- losses and the last validation loss.
function M.train(model, opt, batches, extensions, runDir, steps, resume)
  local losses = {}
  local trainer = llm.Trainer{model = model, optimizer = opt, train = batches, steps = steps or M.steps,
    gradAccum = M.gradAccum, clip = M.clip, progress = false, logEvery = 1, extensions = extensions,
    val = llm.data.evalWindows(ids, M.B, M.T), evalEvery = 2, evalBatches = 2,
    checkpointDir = runDir, checkpointEvery = runDir and 2 or 0,
    onStep = function(_, info) losses[info.step] = info.loss end}
  if resume then trainer:resume(resume) end
  local result = trainer:run()
  return losses, result.valLoss
end

return M
