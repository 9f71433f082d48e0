-- compress/tiny.lua: the tiny text, tokenizer, batch and Llama builder the compression specs share (not a spec).
--   local tiny = dofile(here .. 'compress/tiny.lua')
--   tiny.tokenizer, tiny.ids, tiny.x ({B, T} ids), tiny.T, tiny.B, tiny.llama([overrides]) -> nn.Llama
-- tiny.llama: dim 32, 2 blocks, heads 8, kvHeads 2 (4 query heads per group), hidden 24, no biases, seed 7.
local M = {}

local text = string.rep('pack my box with five dozen liquor jugs; the quick brown fox. ', 10)
M.tokenizer = llm.data.CharTokenizer(text)
M.ids = M.tokenizer:encode(text)
M.T, M.B = 8, 2
M.x = llm.data.Batcher(M.ids, {batchSize = M.B, blockSize = M.T, seed = 1}):next()

function M.llama(opts)
  llm.manualSeed(7)
  local cfg = {vocab = M.tokenizer:vocabSize(), dim = 32, layers = 2, heads = 8, kvHeads = 2, hidden = 24, maxSeq = 32}
  for k, v in pairs(opts or {}) do cfg[k] = v end
  return nn.Llama(cfg)
end

return M
