-- scripts/bench/generate_gguf.lua: the same weights for `llmscript generate` and llama.cpp: an nn.GPT with the
-- serve bench shape (dim 256, 6 layers, 8 heads, context 256; seed 1, random init) over the fixture GPT-2 BPE
-- tokenizer (its 500 tokens; GGUF export refuses byte/char tokenizers), written as a checkpoint (OUTDIR/ck,
-- as make_serve_model.lua writes one) and as float32 GGUF (OUTDIR/model.gguf, llm.export). Compared by
-- scripts/bench/generate_llamacpp.py.  Usage: llmscript scripts/bench/generate_gguf.lua OUTDIR
local out = assert(arg[1], 'usage: generate_gguf.lua OUTDIR')
local here = debug.getinfo(1, 'S').source:match('^@(.*/)') or './'
local tok = llm.data.BPETokenizer.fromFile(here .. '../../Tests/Fixtures/export/hf_gpt2/tokenizer.json')
llm.manualSeed(1)
local m = nn.GPT{vocab = tok:vocabSize(), blockSize = 256, layers = 6, heads = 8, dim = 256}
m:eval()
local sd = {}
for k, v in pairs(m:stateDict()) do if k ~= 'head.weight' or not m._config.tieWeights then sd[k] = v end end
llm.checkpoint.write(out .. '/ck/step-000000', {['model.safetensors'] = sd,
  ['trainer.json'] = {step = 0, extra = {model = m:config(), modelClass = 'nn.GPT', tokenizer = tok:toTable()}}})
llm.export(m, {format = 'gguf', out = out .. '/model.gguf', tokenizer = tok, dtype = 'f32', force = true})
print(string.format('wrote %s/ck/step-000000 and %s/model.gguf (%d parameters)', out, out, m:numParameters()))
