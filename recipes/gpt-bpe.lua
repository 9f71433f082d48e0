-- recipes/gpt-bpe.lua: a GPT trained on BPE token shards written by recipes/prepare-data.lua, with
-- the memory-mapped, prefetching shard loader (exact resume included), then samples decoded with
-- the same tokenizer.   llmscript recipes/prepare-data.lua && llmscript recipes/gpt-bpe.lua
-- Corpus: whatever prepare-data wrote; by default the English and the Chinese fortunes together, on
-- purpose: byte-level BPE merges each script into its own tokens, so one 4k vocabulary covers both (a
-- character model, recipes/gpt-char.lua, stays with one script).
-- On several processes: mpirun -np 2 llmscript recipes/gpt-bpe.lua, or --dp/--tp/--pp as in gpt-char.lua.
local config = llm.config({
  data = 'data/fortunes',   -- folder written by prepare-data.lua (tokenizer.json, shards/)
  blockSize = 64,           -- context length in tokens
  batchSize = 16,           -- sequences per step
  layers = 4,               -- transformer blocks
  heads = 4,                -- attention heads per block
  dim = 128,                -- embedding width
  dropout = 0.0,            -- dropout in attention/MLP outputs
  steps = 800,              -- optimizer steps
  lr = 2e-3,                -- peak learning rate (linear warmup, then cosine decay)
  minLR = 2e-4,             -- final learning rate
  warmup = 50,              -- warmup steps
  weightDecay = 0.1,        -- AdamW weight decay (on matrices; not on biases and norm weights)
  clip = 1.0,               -- max gradient norm (0 disables clipping)
  evalEvery = 200,          -- steps between validation passes
  evalBatches = 10,         -- validation batches per pass
  logEvery = 50,            -- steps between log lines when not on a terminal
  seed = 1337,              -- seed of initialization, batches and dropout
  out = 'runs/gpt-bpe',     -- folder for checkpoints and metrics.jsonl
  checkpointEvery = 400,    -- steps between checkpoints (plus the last and the best)
  keepLast = 2,             -- checkpoints kept besides the best
  resume = llm.config.optional('string'),   -- checkpoint (or run folder) to continue from
  samples = 2,              -- samples printed at the end
  sampleTokens = 80,        -- tokens per sample
  temperature = 0.8,        -- sampling temperature
  topK = 40,                -- sample among the k most likely tokens
  dp = llm.config.optional('integer'),            -- data-parallel ranks (default: the processes / (tp x pp))
  tp = 1,                   -- tensor-parallel ranks
  pp = 1,                   -- pipeline stages
  zero = 0,                 -- 1: ZeRO stage 1 over the data-parallel ranks
  microBatches = llm.config.optional('integer'),  -- pipeline micro-batches per batch (pp > 1)
  schedule = llm.config.optional('string'),       -- pipeline schedule: '1f1b' (default) or 'gpipe'
}, arg)

llm.manualSeed(config.seed)
local tok = llm.data.BPETokenizer.fromFile(config.data .. '/tokenizer.json')
local shards = config.data .. '/shards'
local train = llm.data.ShardLoader(shards, {split = 'train', batchSize = config.batchSize, blockSize = config.blockSize, seed = config.seed})
local val = llm.data.ShardLoader(shards, {split = 'val', batchSize = config.batchSize, blockSize = config.blockSize, seed = 0, prefetch = 0})

-- tensor parallel splits the vocabulary: pad it to a multiple of tp (as Megatron does; unused rows)
local vocab = (tok:vocabSize() + config.tp - 1) // config.tp * config.tp
local model = nn.GPT{vocab = vocab, blockSize = config.blockSize, layers = config.layers,
                     heads = config.heads, dim = config.dim, dropout = config.dropout}
local numParameters = model:numParameters()
local layout = dist.parallelize(model, {dp = config.dp, tp = config.tp, pp = config.pp, zero = config.zero,
                                        microBatches = config.microBatches, schedule = config.schedule})
local say = layout.primary and print or function() end
say(string.format('data: vocabulary %d, %d train batches per epoch, %d val batches', tok:vocabSize(), train:numBatches(), val:numBatches()))
say(string.format('model: %d parameters', numParameters))
if layout.size > 1 then say('layout: ' .. layout:describe()) end
local opt = optim.AdamW(optim.paramGroups(model, {{match = function(_, p) return p:dim() < 2 end, weightDecay = 0}}),
                        {lr = config.lr, betas = {0.9, 0.99}, weightDecay = config.weightDecay})
local trainer = llm.Trainer{
  model = model, optimizer = opt, train = layout:shard(train), val = val, steps = config.steps, clip = config.clip,
  extensions = layout.extensions,
  schedule = optim.schedule.warmupCosine{maxLR = config.lr, minLR = config.minLR, warmupSteps = config.warmup, totalSteps = config.steps},
  evalEvery = config.evalEvery, evalBatches = config.evalBatches, logEvery = config.logEvery,
  checkpointDir = config.out, checkpointEvery = config.checkpointEvery, keepLast = config.keepLast,
  metrics = config.out .. '/metrics.jsonl', extra = {config = config, model = model:config(), modelClass = model.__name, tokenizer = tok:toTable()},
}
if config.resume then say('resumed at step ' .. trainer:resume(config.resume).step) end
local result = trainer:run()
say(string.format('done: step %d, val loss %.4f (best %.4f)', result.step, result.valLoss or 0 / 0, result.bestValLoss))

local eot = tok:tokenToId('<|endoftext|>')
local sampler = layout:denseModel()  -- rank 0: the whole trained model
for i = 1, sampler and config.samples or 0 do
  local out = sampler:generate(llm.tensor({eot}, {dtype = 'int64'}), {maxTokens = config.sampleTokens,
    temperature = config.temperature, topK = config.topK, seed = config.seed + i})
  print(string.format('--- sample %d ---\n%s', i, tok:decode(out:narrow(1, 2, out:size(1) - 1))))
end
