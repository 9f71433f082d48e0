-- scripts/bench/load_bench.lua: how long loading a model takes and the process's peak RSS after it, for one
-- load per process (peak RSS is per process): a checkpoint through llm.checkpointmodel (as `llmscript
-- generate` / `serve` load it) or a Hugging Face folder through nn.GPT.fromPretrained (`llmscript import`).
--   llmscript scripts/bench/load_bench.lua --src=CHECKPOINT [--mmap=1]
--   llmscript scripts/bench/load_bench.lua --src=HF_FOLDER --hf=1
-- Prints one line: what was loaded, seconds, parameters, peak RSS (VmHWM, Linux).
local bench = dofile(debug.getinfo(1, 'S').source:match('^@(.*/)') .. 'benchlib.lua')
local o = bench.options({src = '', hf = 0, mmap = 0}, arg)
if o.src == '' then error('usage: load_bench.lua --src=CHECKPOINT|HF_FOLDER [--hf=1] [--mmap=1]', 0) end

local t0 = llm.clock()
local model
if o.hf == 1 then model = nn.GPT.fromPretrained(o.src)
else model = require('llm.checkpointmodel')(o.src, {mmap = o.mmap == 1}) end
local seconds = llm.clock() - t0

local f = io.open('/proc/self/status')
local status = f and f:read('a') or ''
if f then f:close() end
local kb = tonumber(status:match('VmHWM:%s*(%d+) kB') or '')
print(string.format('%s%s: load %.2f s, %.1f M parameters, peak RSS %s', o.hf == 1 and 'importHF' or 'checkpointmodel',
  o.mmap == 1 and ' (mmap)' or '', seconds, model:numParameters() / 1e6, kb and string.format('%.0f MiB', kb / 1024) or 'unknown'))
