-- llm.serve.generate: `llmscript generate CHECKPOINT --prompt TEXT [--max-tokens 100] [--temperature 0.8]
-- [--top-k N] [--top-p P] [--seed N] [--threads N] [--quantize q8_0|q4_0|q4_k|int8|f16|bf16] [--quantized FILE]
-- [--stats] [--mmap]`, the lean inference path: the checkpoint's model under llm.noGrad (no autograd tape) decoded by
-- llm.nn.decode.Batch (the same path as `llmscript serve`), the text streamed to stdout as it is made.
-- --quantize converts the nn.Linear weights after loading (compress.quantize); --quantized loads a file
-- written by compress.saveQuantized. --mmap keeps the float32 weights in the memory-mapped checkpoint file
-- (read-only, not copied; llm.checkpointmodel's mmap). --stats prints start-up time, tokens/s and peak RSS to stderr.
--   main(words) -> exit status (messages printed; 0 done, 1 an error, 2 a usage error)
local args = require 'llm.serve.args'
local decode = require 'llm.nn.decode'

local M = {}

local spec = {prompt = 'string', ['max-tokens'] = 'integer', temperature = 'number', ['top-k'] = 'integer', ['top-p'] = 'number',
  seed = 'integer', threads = 'integer', quantize = 'string', quantized = 'string', stats = 'flag', mmap = 'flag', help = 'flag'}

M.usage = 'usage: llmscript generate CHECKPOINT --prompt TEXT [--max-tokens 100] [--temperature 0.8] [--top-k N] [--top-p P] [--seed N]\n'
  .. '         [--threads N] [--quantize q8_0|q4_0|q4_k|int8|f16|bf16] [--quantized FILE] [--stats] [--mmap]'

--- Applies --quantize / --quantized to a loaded model (compress.quantize / compress.loadQuantized).
function M.quantize(model, o)
  if o.quantize then compress.quantize(model, {format = o.quantize}) end
  if o.quantized then compress.loadQuantized(model, o.quantized) end
end

-- Peak resident set size in bytes (VmHWM), or nil off Linux.
local function peakRSS()
  local f = io.open('/proc/self/status')
  if not f then return nil end
  local text = f:read('a')
  f:close()
  local kb = text:match('VmHWM:%s*(%d+) kB')
  return kb and tonumber(kb) * 1024 or nil
end

local function run(words)
  local t0 = llm.clock()
  local o, pos = args.parse(words, spec)
  if not o then return 2, pos .. '\n' .. M.usage end
  if o.help then return 0, M.usage end
  if #pos ~= 1 then return 2, 'expected one CHECKPOINT\n' .. M.usage end
  if not o.prompt then return 2, "'--prompt' is required\n" .. M.usage end
  local maxTokens = o['max-tokens'] or 100
  if maxTokens < 0 then return 2, "'--max-tokens' must be a non-negative integer" end
  if o.threads then
    if o.threads < 1 then return 2, "'--threads' must be a positive integer" end
    llm.setThreads(o.threads)
  end
  local okLoad, model, tokenizer = pcall(require('llm.checkpointmodel'), pos[1], {mmap = o.mmap})
  if not okLoad then return 1, tostring(model) end
  M.quantize(model, o)
  local prompt = tokenizer:encode(o.prompt)
  if prompt:numel() == 0 then return 2, "'--prompt' is empty" end
  local blockSize = model._config.blockSize
  if prompt:numel() + maxTokens > blockSize then
    return 1, string.format('the prompt (%d tokens) plus --max-tokens (%d) exceed the context of %d tokens', prompt:numel(), maxTokens, blockSize)
  end
  local ready = llm.clock()
  io.stdout:write(o.prompt)
  io.stdout:flush()
  local batch = decode.Batch(model)
  local row, shown, t1, firstToken = nil, '', llm.clock(), 0
  local function show()
    local text = tokenizer:decode(row.tokens)
    if text:sub(-3) == '\xEF\xBF\xBD' then return end   -- wait for the rest of a UTF-8 sequence
    io.stdout:write(text:sub(#shown + 1))
    io.stdout:flush()
    shown = text
  end
  if maxTokens > 0 then
    row = batch:add(prompt, {temperature = o.temperature or 0.8, topK = o['top-k'] ~= 0 and o['top-k'] or nil, topP = o['top-p'], seed = o.seed})
    show()
    firstToken = llm.clock() - t1
    while #row.tokens < maxTokens do
      batch:step()
      show()
    end
    io.stdout:write(tokenizer:decode(row.tokens):sub(#shown + 1))
  end
  io.stdout:write('\n')
  local seconds = llm.clock() - t1
  if o.stats then
    local rss = peakRSS()
    io.stderr:write(string.format('start-up %.3f s; %d tokens in %.3f s (%.1f tokens/s; the first after %.1f ms); peak RSS %s\n',
      ready - t0, maxTokens, seconds, maxTokens / math.max(seconds, 1e-9), firstToken * 1000, rss and string.format('%.1f MiB', rss / 2 ^ 20) or 'unknown'))
  end
  return 0, ''
end

--- Runs the command; prints its message and returns the exit status (0 done, 1 an error, 2 a usage error).
function M.main(words) return args.report('generate', run(words)) end

return M
