-- recipes/lua-model.lua: extending llmscript in Lua. The model below is defined in this file — a
-- small transformer with RMSNorm, a SwiGLU feed-forward and no biases (LLaMA-style blocks) — built
-- from nn layers and tensor ops; autograd, the optimizer and the trainer work on it unchanged.
--   llmscript recipes/lua-model.lua --steps=300
local config = llm.config({
  corpus = 'fortunes',      -- 'fortunes' (English quotes), 'fortunes-zh', 'fortunes-all' or a text file/folder
  valFraction = 0.1,        -- share of the text held out for validation (the end of the corpus)
  blockSize = 64,           -- context length in characters
  batchSize = 16,           -- sequences per step
  layers = 2,               -- RMSNorm + SwiGLU blocks
  heads = 4,                -- attention heads per block
  dim = 96,                 -- embedding width
  steps = 400,              -- optimizer steps
  lr = 2e-3,                -- peak learning rate (linear warmup, then cosine decay)
  minLR = 2e-4,             -- final learning rate
  warmup = 40,              -- warmup steps
  weightDecay = 0.05,       -- AdamW weight decay on matrices
  clip = 1.0,               -- max gradient norm (0 disables clipping)
  evalEvery = 100,          -- steps between validation passes
  evalBatches = 10,         -- validation batches per pass
  logEvery = 50,            -- steps between log lines when not on a terminal
  seed = 7,                 -- seed of initialization, batches and sampling
  out = 'runs/lua-model',   -- folder for checkpoints and metrics.jsonl
  sampleTokens = 200,       -- characters per sample
}, arg)
llm.manualSeed(config.seed)

-- SwiGLU feed-forward: down(silu(gate(x)) * up(x))
local SwiGLU = nn.Module:extend('SwiGLU')
function SwiGLU:init(dim, hidden)
  self.gate = nn.Linear(dim, hidden, {bias = false})
  self.up = nn.Linear(dim, hidden, {bias = false})
  self.down = nn.Linear(hidden, dim, {bias = false})
end
function SwiGLU:forward(x) return self.down(self.gate(x):silu() * self.up(x)) end

-- pre-norm block with RMSNorm
local Block = nn.Module:extend('RMSBlock')
function Block:init(dim, heads)
  self.norm1 = nn.RMSNorm(dim)
  self.attn = nn.CausalSelfAttention(dim, heads, {bias = false})
  self.norm2 = nn.RMSNorm(dim)
  self.ffn = SwiGLU(dim, math.floor(8 * dim / 3))
end
function Block:forward(x) x = x + self.attn(self.norm1(x)); return x + self.ffn(self.norm2(x)) end

local TinyLM = nn.Module:extend('TinyLM')
function TinyLM:init(vocab, blockSize, dim, heads, layers)
  self.blockSize = blockSize
  self.tok = nn.Embedding(vocab, dim)
  self.pos = nn.Embedding(blockSize, dim)
  self.blocks = nn.ModuleList()
  for _ = 1, layers do self.blocks:add(Block(dim, heads)) end
  self.norm = nn.RMSNorm(dim)
  self.out = nn.Linear(dim, vocab, {bias = false})
  llm.noGrad(function()
    for _, p in pairs(self:namedParameters()) do if p:dim() == 2 then p:normal_(0, 0.02) end end
  end)
end
function TinyLM:forward(idx, targets)
  local t = idx:size(2)
  local x = self.tok(idx) + self.pos(llm.arange(t, {dtype = 'int64'}))
  for i = 1, #self.blocks do x = self.blocks[i](x) end
  local logits = self.out(self.norm(x))
  if targets then return logits, nn.crossEntropy(logits, targets) end
  return logits
end

-- English only by default: with the Chinese quotes too the character vocabulary is ~6k and samples are
-- random CJK characters (llm/corpus.lua)
local text = require('llm.corpus').text(config.corpus)
local tokenizer = llm.data.CharTokenizer(text)
local trainIds, valIds = llm.data.split(tokenizer:encode(text), config.valFraction)
print(string.format('corpus: %d characters, vocabulary %d', utf8.len(text) or #text, tokenizer:vocabSize()))
local model = TinyLM(tokenizer:vocabSize(), config.blockSize, config.dim, config.heads, config.layers)
print(model)

local opt = optim.AdamW(optim.paramGroups(model, {{match = function(_, p) return p:dim() < 2 end, weightDecay = 0}}),
                        {lr = config.lr, weightDecay = config.weightDecay})
local trainer = llm.Trainer{
  model = model, optimizer = opt, steps = config.steps, clip = config.clip,
  schedule = optim.schedule.warmupCosine{maxLR = config.lr, minLR = config.minLR, warmupSteps = config.warmup, totalSteps = config.steps},
  train = llm.data.Batcher(trainIds, {batchSize = config.batchSize, blockSize = config.blockSize, seed = config.seed}),
  val = llm.data.evalWindows(valIds, config.batchSize, config.blockSize),
  evalEvery = config.evalEvery, evalBatches = config.evalBatches, logEvery = config.logEvery,
  checkpointDir = config.out, metrics = config.out .. '/metrics.jsonl',
}
local result = trainer:run()
print(string.format('done: step %d, val loss %.4f', result.step, result.valLoss))

-- sampling without a KV cache: a plain loop over the model, to show the pieces
local generator = llm.Generator(config.seed)
local ids = tokenizer:encode('\n'):unsqueeze(1)
model:eval()
llm.noGrad(function()
  for _ = 1, config.sampleTokens do
    local n = ids:size(2)
    local context = n > config.blockSize and ids:narrow(2, n - config.blockSize + 1, config.blockSize) or ids
    local logits = model(context):select(2, context:size(2)) / 0.8
    ids = llm.cat({ids, logits:softmax(2):multinomial(1, {generator = generator})}, 2)
  end
end)
print('--- sample ---\n' .. tokenizer:decode(ids:squeeze(1)))
