-- opts_setup.lua: the packed supervised set-up shared by trainer_opts_spec.lua (one process) and
-- opts_check.lua (under mpirun): short instruction records packed by llm.data.instructions (pack = true:
-- rows of two or three examples, batches x, y, opts = {segments, positions}, targets −100 on prompts and
-- padding) and a small nn.GPT (learned positions) or nn.Llama (RoPE) over the byte vocabulary (256,
-- divisible by the tensor-parallel size).
local M = {T = 64, B = 4}

M.records = {}
for i = 1, 16 do
  M.records[i] = {prompt = 'q' .. i, response = ('abcdefghij'):sub(1, 1 + i % 7)}
end

--- The packed source (options override the defaults: batchSize, shuffle, pack, seed).
function M.data(overrides)
  local o = {tokenizer = llm.data.ByteTokenizer(), blockSize = M.T, batchSize = M.B, pack = true, seed = 3}
  for k, v in pairs(overrides or {}) do o[k] = v end
  return llm.data.instructions(M.records, o)
end

--- A fresh model with the given seed: kind 'gpt' (default) or 'llama'.
function M.model(seed, kind)
  llm.manualSeed(seed)
  if kind == 'llama' then return nn.Llama{vocab = 256, maxSeq = M.T, layers = 2, heads = 2, dim = 16, multipleOf = 16} end
  return nn.GPT{vocab = 256, blockSize = M.T, layers = 2, heads = 2, dim = 16, dropout = 0}
end

return M
