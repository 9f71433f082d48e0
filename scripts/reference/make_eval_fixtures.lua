-- scripts/reference/make_eval_fixtures.lua: the llmscript half of the lm-evaluation-harness check (the Python
-- half is make_eval_fixtures.py, which calls this). Writes into Tests/Fixtures/eval/:
--   ck/step-000001/  a small seeded BPE GPT checkpoint (the export fixtures' 500-token GPT-2 tokenizer; random
--                    weights: the check is of the scoring, not of the model),
--   mc.jsonl         a multiple-choice task {"context", "choices", "gold"} (a context with trailing spaces,
--                    choices of unequal length and a non-ASCII one, so acc, acc_norm and acc_bytes differ),
-- and the model exported to the HF layout in OUT (argument 1) for lm-eval's `hf` model.
--   llmscript scripts/reference/make_eval_fixtures.lua /tmp/eval-hf
local out = assert(arg[1], 'usage: make_eval_fixtures.lua HF_OUT')
local root = debug.getinfo(1, 'S').source:match('^@(.*/)scripts/reference/') or './'
local fixtures = root .. 'Tests/Fixtures/eval/'

llm.manualSeed(19)
local tok = llm.data.BPETokenizer.fromFile(root .. 'Tests/Fixtures/export/hf_gpt2/tokenizer.json')
local model = nn.GPT({vocab = tok:vocabSize(), blockSize = 32, layers = 1, heads = 2, dim = 16})
llm.noGrad(function()   -- larger weights than GPT-2's init, so the choices' logprobs differ visibly
  for _, p in pairs(model:namedParameters()) do p:add_(llm.randn(p:shape()) * 0.3) end
end)
model:eval()
local sd = {}
for k, v in pairs(model:stateDict()) do if k ~= 'head.weight' then sd[k] = v end end
os.execute("rm -rf '" .. fixtures .. "ck'")
llm.checkpoint.write(fixtures .. 'ck/step-000001', {['model.safetensors'] = sd,
  ['trainer.json'] = {step = 1, extra = {model = model:config(), modelClass = 'nn.GPT', tokenizer = tok:toTable()}}})

local docs = {
  {context = 'The quick brown', choices = {'fox', 'dog jumps', 'cat'}, gold = 0},
  {context = 'Hello, my name is', choices = {'Alice', 'Bob', 'the one who knocks'}, gold = 1},
  {context = 'It was the best of times, it was the  ', choices = {'worst of times', 'best'}, gold = 0},
  {context = 'Paris is the capital of', choices = {'France', 'Germany', 'Spain', 'Italy'}, gold = 0},
  {context = 'A café serves', choices = {'coffee', 'crème brûlée', 'tea'}, gold = 2},
  {context = 'One, two,', choices = {'three', 'four', 'five'}, gold = 0},
  {context = 'To be or not to be', choices = {', that is the question', 'question'}, gold = 0},
  {context = 'Water boils at 100', choices = {'degrees', 'meters'}, gold = 0},
}
local f = assert(io.open(fixtures .. 'mc.jsonl', 'w'))
for _, d in ipairs(docs) do f:write(llm.json.encode(d), '\n') end
f:close()
require('llm.export').export(fixtures .. 'ck', {format = 'hf', out = out, force = true})
print('wrote ' .. fixtures .. 'ck, ' .. fixtures .. 'mc.jsonl and the HF folder ' .. out)
