-- rehearsal.lua: the job of scripts/cluster/netns-rehearsal.sh (one rank per "host"): collectives across
-- the hosts, then a few data-parallel training steps of a small GPT; both ranks must end with the same
-- weights (checked by an all-reduce of the weight checksum: max == min). Prints 'rehearsal: ok' on rank 0.
local rank, size = dist.init()
local host = io.popen('hostname -I 2>/dev/null'):read('l') or '?'
print(string.format('rank %d of %d on %s', rank, size, host))
local s = dist.allReduce(llm.tensor({rank + 1}), {op = 'sum'}):item()
assert(s == size * (size + 1) / 2, 'all-reduce across hosts gave ' .. s)
local text = string.rep('the quick brown fox jumps over the lazy dog. ', 400)
local tok = llm.data.CharTokenizer(text)
llm.manualSeed(1 + rank)  -- different seeds: dataParallel must broadcast rank 0's weights
local model = nn.GPT{vocab = tok:vocabSize(), blockSize = 32, layers = 2, heads = 2, dim = 64, dropout = 0}
local batches = dist.shardBatches(llm.data.Batcher(tok:encode(text), {batchSize = 8, blockSize = 32, seed = 5}))
local result = llm.Trainer{model = model, optimizer = optim.AdamW(model:parameters(), {lr = 3e-3}), train = batches,
                           steps = 20, progress = false, logEvery = 1000,
                           extensions = {dist.dataParallel(model)}}:run()
local sum = 0
for _, p in ipairs(model:parameters()) do sum = sum + p:sum():item() end
local hi = dist.allReduce(llm.tensor({sum}), {op = 'max'}):item()
local lo = dist.allReduce(llm.tensor({sum}), {op = 'min'}):item()
assert(hi == lo, string.format('ranks disagree on the weights: %.9g vs %.9g', hi, lo))
if rank == 0 then print(string.format('rehearsal: ok (loss after 20 steps %.4f, weight checksum %.6g)', result.loss, sum)) end
