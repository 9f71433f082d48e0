-- recipes/inspect.lua: looking inside a character model (llm.inspect): attention maps per layer and head as
-- SVG heat maps, the logit lens (top next characters after each block), gradient×input and integrated-
-- gradients saliency of the predicted character over the prompt (with IG's completeness check), and
-- activation statistics per module. With --checkpoint it inspects a gpt-char checkpoint (model and
-- tokenizer from the checkpoint); without, it first trains a tiny char model on --corpus for --steps steps
-- (its checkpoint goes to --out, so a later run can inspect it with --checkpoint=<out>). Writes
-- <out>/attention-L<l>.svg (all heads of a layer) and <out>/saliency.svg.
-- Run: llmscript recipes/inspect.lua --steps=300 --prompt="the cat "
local inspect = require 'llm.inspect'
local plot = require 'llm.plot'

local config = llm.config({
  corpus = 'fortunes',      -- text the tiny model is trained on (no checkpoint)
  checkpoint = llm.config.optional('string'),   -- a gpt-char checkpoint to inspect (default: train one here)
  steps = 200,              -- training steps of the tiny model (no checkpoint)
  layers = 2,               -- blocks of the tiny model
  heads = 2,                -- attention heads of the tiny model
  dim = 32,                 -- width of the tiny model
  blockSize = 32,           -- context of the tiny model
  batchSize = 16,           -- sequences per step
  lr = 3e-3,                -- learning rate of the tiny model
  prompt = 'the ',          -- text to inspect (characters of the corpus)
  topK = 3,                 -- logit-lens candidates shown per layer
  igSteps = 32,             -- integrated-gradients Riemann steps
  seed = 1,                 -- seed of initialization and batches
  out = 'runs/inspect',     -- folder for the SVG heat maps (and the tiny model's checkpoint)
}, arg)

llm.manualSeed(config.seed)
local model, tok
if config.checkpoint then
  local info
  model, tok, info = require('llm.checkpointmodel')(config.checkpoint)
  print(string.format('loaded %s (step %d, %d parameters)', info.dir, info.step, info.parameters))
else
  local text = require('llm.corpus').text(config.corpus)
  tok = llm.data.CharTokenizer(text)
  local ids = tok:encode(text)
  print(string.format('corpus: %d characters, vocabulary %d', utf8.len(text) or #text, tok:vocabSize()))
  model = nn.GPT{vocab = tok:vocabSize(), blockSize = config.blockSize, layers = config.layers, heads = config.heads, dim = config.dim}
  local trainer = llm.Trainer{
    model = model, optimizer = optim.AdamW(model:parameters(), {lr = config.lr}), steps = config.steps, logEvery = 50,
    train = llm.data.Batcher(ids, {batchSize = config.batchSize, blockSize = config.blockSize, seed = config.seed}),
    checkpointDir = config.out, checkpointEvery = config.steps, keepLast = 1,   -- loadable with --checkpoint
    extra = {config = config, model = model:config(), modelClass = model.__name, tokenizer = tok:toTable()},
  }
  local result = trainer:run()
  print(string.format('done: step %d, train loss %.4f', result.step, result.loss or 0 / 0))
end
model:eval()

local idx = tok:encode(config.prompt):reshape(1, -1)
local chars = {}
for i = 1, idx:size(2) do chars[i] = tok:decode({idx[1][i]:item()}) end
local function show(id) return string.format('%q', tok:decode({id})) end
llm.makeDirs(config.out)

-- attention maps: one SVG per layer, its heads side by side
local maps = inspect.attentionMaps(model, idx)
for l, m in ipairs(maps) do
  local charts = {}
  for h = 1, m.probs:size(2) do charts[h] = inspect.attentionSVG(m.probs, {head = h, tokens = chars, title = m.path .. ' head ' .. h}) end
  print('attention map: ' .. plot.save(string.format('%s/attention-L%d.svg', config.out, l - 1), plot.grid{charts = charts, columns = #charts}))
end

-- logit lens: what the residual stream predicts after each block
print('\nlogit lens (next character after ' .. string.format('%q', config.prompt) .. '):')
for _, layer in ipairs(inspect.logitLens(model, idx, {topK = config.topK, decode = function(id) return tok:decode({id}) end})) do
  local parts = {}
  for _, c in ipairs(layer.top) do parts[#parts + 1] = string.format('%q %.2f', c.token, c.prob) end
  print(string.format('  %-8s %s', layer.layer, table.concat(parts, '  ')))
end

-- saliency of the predicted next character over the prompt
local ig = inspect.saliency(model, idx, {method = 'ig', steps = config.igSteps})
local gx = inspect.saliency(model, idx, {method = 'gradxinput'})
local predicted = model(idx):select(1, 1):select(1, idx:size(2)):argmax():item()
print('\nsaliency of the prediction ' .. show(predicted) .. ' (logit):')
for i, c in ipairs(chars) do print(string.format('  %-6s IG %+8.4f   grad×input %+8.4f', string.format('%q', c), ig.scores[i], gx.scores[i])) end
print(string.format('  IG completeness: sum %.5f vs f(x) - f(baseline) = %.5f', ig.sum, ig.f - ig.fBaseline))
plot.save(config.out .. '/saliency.svg', plot.bar{labels = chars, values = ig.scores, title = 'integrated gradients per character'})

-- activation statistics
print('\nactivation statistics:')
for _, s in ipairs(inspect.activationStats(model, function() model(idx) end)) do
  print(string.format('  %-22s %-24s mean %+.3f std %.3f max %.3f zero %.2f', s.path, s.class, s.mean, s.std, s.max, s.fracZero))
end
