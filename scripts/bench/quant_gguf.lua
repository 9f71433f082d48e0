-- scripts/bench/quant_gguf.lua: writes the model of scripts/bench/quant_decode.lua (the gpt2-sized nn.GPT, seed 0,
-- random GPT-2 init) as GGUF files for llama.cpp at f32, q8_0 and q4_0 (llm.export, format 'gguf'; the fixture
-- GPT-2 BPE tokenizer padded to the 50257-token vocabulary), so that scripts/bench/quant_llamacpp.py decodes the
-- very same weights that quant_decode.lua times in llmscript.
-- Usage: llmscript scripts/bench/quant_gguf.lua OUTDIR [dtypes=f32,q8_0,q4_0]
local out = assert(arg[1], 'usage: quant_gguf.lua OUTDIR [dtypes]')
local dtypes = arg[2] or 'f32,q8_0,q4_0'
local here = debug.getinfo(1, 'S').source:match('^@(.*/)') or './'
local tok = llm.data.BPETokenizer.fromFile(here .. '../../Tests/Fixtures/export/hf_gpt2/tokenizer.json')
llm.manualSeed(0)
local m = nn.GPT{vocab = 50257, blockSize = 1024, layers = 12, heads = 12, dim = 768}
m:eval()
llm.makeDirs(out)
for d in dtypes:gmatch('[^,]+') do
  llm.export(m, {format = 'gguf', out = out .. '/gpt2_' .. d .. '.gguf', tokenizer = tok, dtype = d, force = true})
  print('wrote ' .. out .. '/gpt2_' .. d .. '.gguf')
end
