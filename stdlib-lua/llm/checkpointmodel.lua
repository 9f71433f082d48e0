-- llm.checkpointmodel: loads the model and tokenizer of a checkpoint written by a recipe that stores its
-- model config, class and tokenizer in the trainer state's `extra` (gpt-char.lua, gpt-bpe.lua, ...):
--   local model, tokenizer, info = require('llm.checkpointmodel')(path [, {mmap = true}])
-- The model is built without initialising its weights (nn.withoutInit) and takes the checkpoint's tensors as
-- its own (nn.adoptStateDict: no copy, every tensor checked, a missing one an error naming it). With mmap those
-- are the checkpoint's memory-mapped float32 tensors (llm.checkpoint.read's mmap: read-only, not copied; the map
-- lives as long as the model uses it): for inference.
-- path: a step-NNNNNN checkpoint or a run folder (its newest checkpoint). extra.modelClass is 'nn.GPT'
-- (the default) or 'nn.Llama'. info = {dir, step, extra, parameters}. Errors name the folder and what is
-- missing. Used by recipes/sample.lua, `llmscript generate` and `llmscript serve`.
local classes = {['nn.GPT'] = function() return nn.GPT end, ['nn.Llama'] = function() return nn.Llama end}

return function(path, opts)
  if type(path) ~= 'string' or path == '' then error('checkpointmodel: expected a checkpoint folder, got ' .. tostring(path), 2) end
  local mmap = type(opts) == 'table' and opts.mmap or false
  local dir = llm.checkpoint.latest(path) or path
  local ok, ck = pcall(llm.checkpoint.read, dir, {mmap = mmap})
  if not ok then error("cannot read the checkpoint '" .. dir .. "': " .. tostring(ck), 0) end
  local state = ck['trainer.json']
  local extra = type(state) == 'table' and state.extra or nil
  if not extra or not extra.model or not extra.tokenizer then
    error("'" .. dir .. "' does not hold a model config and tokenizer (was it written by a recipe that sets `extra`?)", 0)
  end
  local class = classes[extra.modelClass or 'nn.GPT']
  if not class then error("'" .. dir .. "' holds a model of class '" .. tostring(extra.modelClass) .. "'; known: nn.GPT, nn.Llama", 0) end
  local tokenizer = llm.data.tokenizerFromTable(extra.tokenizer)
  local model = nn.withoutInit(class(), extra.model)
  local sd = ck['model.safetensors']
  if type(sd) ~= 'table' then error("'" .. dir .. "' has no model.safetensors", 0) end
  nn.adoptStateDict(model, sd)
  model:eval()
  return model, tokenizer, {dir = dir, step = state.step, extra = extra, parameters = model:numParameters()}
end
