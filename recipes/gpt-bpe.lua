-- recipes/gpt-bpe.lua: a GPT trained on BPE token shards written by recipes/prepare-data.lua, with
-- the memory-mapped, prefetching shard loader (exact resume included), then samples decoded with
-- the same tokenizer.   llmscript recipes/prepare-data.lua && llmscript recipes/gpt-bpe.lua
local config = llm.config({
  data = 'data/fortunes',   -- folder written by prepare-data.lua (tokenizer.json, shards/)
  blockSize = 64,           -- context length in tokens
  batchSize = 16,           -- sequences per step
  layers = 4, heads = 4, dim = 128, dropout = 0.0,
  steps = 800, lr = 2e-3, minLR = 2e-4, warmup = 50, weightDecay = 0.1, clip = 1.0,
  evalEvery = 200, evalBatches = 10, logEvery = 50, seed = 1337,
  out = 'runs/gpt-bpe', checkpointEvery = 400, keepLast = 2,
  resume = llm.config.optional('string'),
  samples = 2, sampleTokens = 80, temperature = 0.8, topK = 40,
}, arg)

llm.manualSeed(config.seed)
local tok = llm.data.BPETokenizer.fromFile(config.data .. '/tokenizer.json')
local shards = config.data .. '/shards'
local train = llm.data.ShardLoader(shards, {split = 'train', batchSize = config.batchSize, blockSize = config.blockSize, seed = config.seed})
local val = llm.data.ShardLoader(shards, {split = 'val', batchSize = config.batchSize, blockSize = config.blockSize, seed = 0, prefetch = 0})
print(string.format('data: vocabulary %d, %d train batches per epoch, %d val batches', tok:vocabSize(), train:numBatches(), val:numBatches()))

local model = nn.GPT{vocab = tok:vocabSize(), blockSize = config.blockSize, layers = config.layers,
                     heads = config.heads, dim = config.dim, dropout = config.dropout}
print(string.format('model: %d parameters', model:numParameters()))
local opt = optim.AdamW(optim.paramGroups(model, {{match = function(_, p) return p:dim() < 2 end, weightDecay = 0}}),
                        {lr = config.lr, betas = {0.9, 0.99}, weightDecay = config.weightDecay})
local trainer = llm.Trainer{
  model = model, optimizer = opt, train = train, val = val, steps = config.steps, clip = config.clip,
  schedule = optim.schedule.warmupCosine{maxLR = config.lr, minLR = config.minLR, warmupSteps = config.warmup, totalSteps = config.steps},
  evalEvery = config.evalEvery, evalBatches = config.evalBatches, logEvery = config.logEvery,
  checkpointDir = config.out, checkpointEvery = config.checkpointEvery, keepLast = config.keepLast,
  metrics = config.out .. '/metrics.jsonl', extra = {config = config, model = model:config(), tokenizer = tok:toTable()},
}
if config.resume then print('resumed at step ' .. trainer:resume(config.resume).step) end
local result = trainer:run()
print(string.format('done: step %d, val loss %.4f (best %.4f)', result.step, result.valLoss or 0 / 0, result.bestValLoss))

local eot = tok:tokenToId('<|endoftext|>')
for i = 1, config.samples do
  local out = model:generate(llm.tensor({eot}, {dtype = 'int64'}), {maxTokens = config.sampleTokens,
    temperature = config.temperature, topK = config.topK, seed = config.seed + i})
  print(string.format('--- sample %d ---\n%s', i, tok:decode(out:narrow(1, 2, out:size(1) - 1))))
end
