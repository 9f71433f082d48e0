-- recipes/distill.lua: knowledge distillation on the fortunes corpus (character level, as gpt-char.lua): a
-- 6-layer teacher (trained here, or loaded with --teacher=<checkpoint>) is distilled into a 2-layer student
-- with compress.distill — the loss (1 − α)·CE + α·T²·KL(teacher ‖ student) at temperature T — and, for
-- comparison, the same student is trained on the labels alone. Prints the three models' parameters and
-- validation losses. llmscript recipes/distill.lua --steps=2000 --alpha=0.7 --temperature=2
local config = llm.config({
  corpus = 'fortunes',      -- 'fortunes' (English quotes), 'fortunes-zh', 'fortunes-all' or a text file/folder
  valFraction = 0.1,        -- share of the text held out for validation (the end of the corpus)
  blockSize = 64,           -- context length in characters
  batchSize = 16,           -- sequences per micro-batch
  teacherLayers = 6,        -- transformer blocks of the teacher
  studentLayers = 2,        -- transformer blocks of the student
  heads = 4,                -- attention heads per block (both models)
  dim = 128,                -- embedding width (both models)
  steps = 1500,             -- optimizer steps of the student (and of the teacher unless teacherSteps is set)
  teacherSteps = llm.config.optional('integer'),   -- optimizer steps of the teacher (default: steps)
  teacher = llm.config.optional('string'),         -- a teacher checkpoint (run folder) instead of training one
  alpha = 0.5,              -- weight of the distillation term (0: labels only, 1: teacher only)
  temperature = 2.0,        -- softmax temperature of the distillation term
  hidden = false,           -- also match the last block's hidden states (MSE; same dim)
  baseline = true,          -- also train the student on the labels alone, for comparison
  lr = 3e-3,                -- peak learning rate (linear warmup, then cosine decay)
  minLR = 3e-4,             -- final learning rate
  warmup = 100,             -- warmup steps
  weightDecay = 0.1,        -- AdamW decoupled weight decay (on matrices)
  clip = 1.0,               -- max gradient norm (0 disables clipping)
  evalEvery = 250,          -- steps between validation passes
  evalBatches = 20,         -- validation batches per pass
  logEvery = 50,            -- steps between log lines when not on a terminal
  seed = 1337,              -- seed of initialization and batches
  out = 'runs/distill',     -- folder for the student's checkpoints and metrics.jsonl
  checkpointEvery = 500,    -- steps between checkpoints of the student
}, arg)

local text = require('llm.corpus').text(config.corpus)
local tokenizer = llm.data.CharTokenizer(text)
local ids = tokenizer:encode(text)
local trainIds, valIds = llm.data.split(ids, config.valFraction)
local val = llm.data.evalWindows(valIds, config.batchSize, config.blockSize)
print(string.format('corpus: %d characters, vocabulary %d, train %d / val %d tokens',
  utf8.len(text) or #text, tokenizer:vocabSize(), trainIds:numel(), valIds:numel()))

local function gpt(layers)
  return nn.GPT{vocab = tokenizer:vocabSize(), blockSize = config.blockSize, layers = layers, heads = config.heads, dim = config.dim}
end

-- Trains model for `steps` with the recipe's optimizer and schedule; returns the Trainer's result.
local function train(model, steps, opts)
  local groups = optim.paramGroups(model, {{match = function(_, p) return p:dim() < 2 end, weightDecay = 0}})
  local o = {
    model = model, optimizer = optim.AdamW(groups, {lr = config.lr, betas = {0.9, 0.99}, weightDecay = config.weightDecay}),
    schedule = optim.schedule.warmupCosine{maxLR = config.lr, minLR = config.minLR, warmupSteps = math.min(config.warmup, steps),
                                           totalSteps = steps},
    train = llm.data.Batcher(trainIds, {batchSize = config.batchSize, blockSize = config.blockSize, seed = config.seed}),
    val = val, steps = steps, clip = config.clip, evalEvery = config.evalEvery, evalBatches = config.evalBatches,
    logEvery = config.logEvery,
  }
  for k, v in pairs(opts or {}) do o[k] = v end
  return llm.Trainer(o):run()
end

-- the teacher
local teacher, teacherLoss
if config.teacher then
  local dir = llm.checkpoint.latest(config.teacher) or config.teacher
  local ck = llm.checkpoint.read(dir)
  local extra = type(ck['trainer.json']) == 'table' and ck['trainer.json'].extra or nil
  if not (extra and extra.model) then error("'" .. dir .. "' holds no model config (extra.model)", 0) end
  if extra.model.vocab ~= tokenizer:vocabSize() then
    error(string.format("'%s' has a vocabulary of %d, this corpus %d", dir, extra.model.vocab, tokenizer:vocabSize()), 0)
  end
  teacher = nn.adoptStateDict(nn.withoutInit(nn.GPT, extra.model), ck['model.safetensors'])   -- no init, no copy
  print(string.format('teacher: loaded %s (%d layers, %d parameters)', dir, teacher:config().layers, teacher:numParameters()))
else
  llm.manualSeed(config.seed)
  teacher = gpt(config.teacherLayers)
  print(string.format('teacher: %d layers, %d parameters', config.teacherLayers, teacher:numParameters()))
  train(teacher, config.teacherSteps or config.steps)
end
teacher:eval()
teacherLoss = llm.Trainer{model = teacher, optimizer = optim.SGD(teacher:parameters()), train = {}, steps = 1, val = val,
                          evalBatches = config.evalBatches}:evaluate()

-- the student on the labels alone (same initialization, batches and steps)
local baselineLoss
if config.baseline then
  llm.manualSeed(config.seed + 1)
  local plain = gpt(config.studentLayers)
  print(string.format('student without distillation: %d layers, %d parameters', config.studentLayers, plain:numParameters()))
  baselineLoss = train(plain, config.steps).valLoss
end

-- the distilled student
llm.manualSeed(config.seed + 1)
local student = gpt(config.studentLayers)
print(string.format('student: %d layers, %d parameters, distilled (alpha %g, temperature %g%s)', config.studentLayers,
  student:numParameters(), config.alpha, config.temperature, config.hidden and ', hidden states' or ''))
local t0 = llm.clock()
local result = train(student, config.steps, {
  extensions = {compress.distill{teacher = teacher, alpha = config.alpha, temperature = config.temperature, hidden = config.hidden}},
  checkpointDir = config.out, checkpointEvery = config.checkpointEvery, metrics = config.out .. '/metrics.jsonl',
  extra = {config = config, model = student:config(), modelClass = student.__name, tokenizer = tokenizer:toTable()},
})
print(string.format('done: step %d, train loss %.4f, val loss %.4f (best %.4f), %s', result.step, result.loss or 0 / 0,
  result.valLoss or 0 / 0, result.bestValLoss, require('llm.progress').duration(llm.clock() - t0)))

print(string.format('%-32s %7s %11s %9s', 'model', 'layers', 'parameters', 'val loss'))
print(string.format('%-32s %7d %11d %9.4f', 'teacher', teacher:config().layers, teacher:numParameters(), teacherLoss))
if baselineLoss then
  print(string.format('%-32s %7d %11d %9.4f', 'student, labels only', config.studentLayers, student:numParameters(), baselineLoss))
end
print(string.format('%-32s %7d %11d %9.4f', 'student, distilled', config.studentLayers, student:numParameters(), result.valLoss))
