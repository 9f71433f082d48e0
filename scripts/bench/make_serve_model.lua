-- make_serve_model.lua: writes a checkpoint as the recipes write it (model config, class and a byte
-- tokenizer in trainer.json's extra) with freshly initialised weights, for serving tests and benchmarks
-- (`llmscript serve`, `llmscript generate`) where the text does not matter but the shapes do.
--   llmscript scripts/bench/make_serve_model.lua --out=/tmp/serve-model --dim=256 --layers=6 --heads=8 --blockSize=512
local config = llm.config({
  out = 'runs/serve-model',   -- the run folder (its checkpoint is step-000000)
  class = 'nn.GPT',           -- nn.GPT or nn.Llama
  dim = 128, layers = 2, heads = 4, blockSize = 128,
  seed = 1,
}, arg)
llm.manualSeed(config.seed)
local tok = llm.data.ByteTokenizer()
local classes = {['nn.GPT'] = nn.GPT, ['nn.Llama'] = nn.Llama}
local Model = classes[config.class] or error("--class must be nn.GPT or nn.Llama, got '" .. config.class .. "'", 0)
local shape = {vocab = tok:vocabSize(), dim = config.dim, layers = config.layers, heads = config.heads}
shape[config.class == 'nn.Llama' and 'maxSeq' or 'blockSize'] = config.blockSize
local model = Model(shape)
local sd = {}
for k, v in pairs(model:stateDict()) do if k ~= 'head.weight' or not model._config.tieWeights then sd[k] = v end end
llm.checkpoint.write(config.out .. '/step-000000', {['model.safetensors'] = sd,
  ['trainer.json'] = {step = 0, extra = {model = model:config(), modelClass = config.class, tokenizer = tok:toTable()}}})
print(string.format('wrote %s/step-000000 (%s, %d parameters, context %d)', config.out, config.class, model:numParameters(), config.blockSize))
