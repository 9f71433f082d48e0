-- recipes/sample.lua: loads a checkpoint written by gpt-char.lua (or any recipe that stores its model
-- config, class (`modelClass`: nn.GPT by default, or nn.Llama) and tokenizer in `extra`) and prints samples.
--   llmscript recipes/sample.lua --checkpoint=runs/gpt-char --prompt='The ' --tokens=200
local config = llm.config({
  checkpoint = 'runs/gpt-char',   -- a step-NNNNNN checkpoint, or a run folder (its newest checkpoint)
  prompt = '\n',                  -- text to continue
  samples = 3,                    -- number of samples
  tokens = 300,                   -- tokens per sample
  temperature = 0.8,              -- 0 = greedy
  topK = 40,                      -- sample among the k most likely tokens (0 = all)
  topP = 1.0,                     -- nucleus sampling threshold (1 = off)
  seed = 1,                       -- sampling seed
}, arg)

local model, tokenizer, info = require('llm.checkpointmodel')(config.checkpoint)
print(string.format('loaded %s (step %d, %d parameters)', info.dir, info.step, info.parameters))

local prompt = tokenizer:encode(config.prompt)
for i = 1, config.samples do
  local out = model:generate(prompt, {maxTokens = config.tokens, temperature = config.temperature,
                                      topK = config.topK > 0 and config.topK or nil,
                                      topP = config.topP < 1 and config.topP or nil, seed = config.seed + i - 1})
  print(string.format('--- sample %d ---\n%s', i, tokenizer:decode(out)))
end
