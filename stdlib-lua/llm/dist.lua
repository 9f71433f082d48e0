-- llm.dist: data parallelism on top of the `dist` collectives (Sources/LLMLua/Bindings/dist). Adds to the
-- `dist` namespace:
--   dist.dataParallel(model, [{bucketSize = 1048576}]) -> Trainer extension
--     onRunStart: every parameter is broadcast from rank 0, so all ranks start from rank 0's weights;
--     afterForward: the micro-batch loss is averaged across ranks (the value only, by adding a constant:
--       gradients are untouched), so every rank logs the global loss and takes the same non-finite-loss
--       decision; one scalar all-reduce per micro-batch;
--     transformGradients (once per optimizer step, after all gradAccum micro-batches: the non-final
--       micro-steps do no communication): gradients are averaged across ranks in buckets of up to
--       bucketSize floats (many small gradients are copied into one flat buffer per bucket, so there is
--       one all-reduce per bucket instead of one per parameter); clipping then sees the averaged gradients;
--     primary = (rank == 0): ranks other than 0 take no run-folder lock, print nothing, write no
--       metrics and no checkpoints (llm/train.lua's Trainer:isPrimary()).
--   dist.shardBatches(source) -> batch source
--     wraps a source whose :next() returns the same global batch x, y ({B, T}) on every rank (the same
--     seed everywhere, e.g. llm.data.Batcher) and returns this rank's rows B/size*rank+1 .. B/size*(rank+1).
--     The global batch is therefore B sequences per micro-batch, exactly as in a single process with the
--     same source, and the averaged gradient equals the single-process gradient of that batch.
--     B must be divisible by dist.size(). :state()/:setState() pass through (resume keeps the position).
local M = {}

local function initialized()
  if not dist.initialized() then dist.init() end
end

-- Groups tensors (in order) into buckets of at most `cap` elements (a tensor larger than cap is alone).
local function buckets(tensors, cap)
  local out, cur, n = {}, {}, 0
  for _, t in ipairs(tensors) do
    local k = t:numel()
    if #cur > 0 and n + k > cap then out[#out + 1] = cur; cur, n = {}, 0 end
    cur[#cur + 1] = t; n = n + k
  end
  if #cur > 0 then out[#out + 1] = cur end
  return out
end

-- Runs collective(flat) over each bucket of tensors: a lone contiguous tensor in place, several through a
-- flat buffer (cached per bucket index in cache) that is filled, reduced and copied back.
local function bucketed(tensors, cap, cache, collective)
  for i, group in ipairs(buckets(tensors, cap)) do
    if #group == 1 and group[1]:isContiguous() then
      collective(group[1])
    else
      local total = 0
      for _, t in ipairs(group) do total = total + t:numel() end
      local flat = cache[i]
      if not flat or flat:numel() ~= total then flat = llm.zeros(total); cache[i] = flat end
      local off = 1
      for _, t in ipairs(group) do
        local n = t:numel()
        flat:narrow(1, off, n):copy_(t:reshape(n))
        off = off + n
      end
      collective(flat)
      off = 1
      for _, t in ipairs(group) do
        local n = t:numel()
        t:copy_(flat:narrow(1, off, n):view(t:shape()))
        off = off + n
      end
    end
  end
end
M.bucketed = bucketed

function M.dataParallel(model, opts)
  if type(model) ~= 'table' or type(model.parameters) ~= 'function' then
    error("dist.dataParallel: Invalid 'model': expected an nn.Module, got " .. type(model), 2)
  end
  opts = opts or {}
  if type(opts) ~= 'table' then error("dist.dataParallel: Invalid 'opts': expected a table, got " .. type(opts), 2) end
  for k in pairs(opts) do
    if k ~= 'bucketSize' then error("dist.dataParallel: unknown option '" .. tostring(k) .. "'; expected: 'bucketSize'", 2) end
  end
  local cap = opts.bucketSize or 1048576
  if math.type(cap) ~= 'integer' or cap < 1 then
    error("dist.dataParallel: Invalid 'bucketSize': expected a positive integer (floats per bucket), got " .. tostring(cap), 2)
  end
  initialized()
  local ext = {name = 'dataParallel', rank = dist.rank(), size = dist.size(), primary = dist.rank() == 0,
               bucketSize = cap, allReduceCalls = 0}
  local gradCache, paramCache = {}, {}
  local lossBuf = llm.zeros(1)

  function ext:onRunStart(trainer)
    local params = trainer.model:parameters()
    llm.noGrad(function()
      bucketed(params, cap, paramCache, function(t) dist.broadcast(t, 0) end)
    end)
    paramCache = {}  -- free the staging buffers: broadcast runs once
  end

  function ext:afterForward(_, _, out)
    if self.size == 1 then return end
    local v = out.loss:item()
    lossBuf:fill_(v)
    dist.allReduce(lossBuf, {op = 'avg'})
    local g = lossBuf:item()
    if g == g and v == v and g ~= v then out.loss = out.loss + (g - v) end
  end

  function ext:transformGradients(trainer)
    if self.size == 1 then return end
    local grads = {}
    for _, p in ipairs(trainer.params) do
      if p.grad then grads[#grads + 1] = p.grad end
    end
    llm.noGrad(function()
      bucketed(grads, cap, gradCache, function(t)
        dist.allReduce(t, {op = 'avg'})
        self.allReduceCalls = self.allReduceCalls + 1
      end)
    end)
  end
  return ext
end

function M.shardBatches(source)
  if source == nil or (type(source) ~= 'table' and type(source) ~= 'userdata') then
    error("dist.shardBatches: Invalid 'source': expected a batch source with :next(), got " .. type(source), 2)
  end
  initialized()
  local rank, size = dist.rank(), dist.size()
  local w = {}
  function w:next()
    local x, y = source:next()
    local B = x:shape()[1]
    if B % size ~= 0 then
      error(string.format('dist.shardBatches: the global batch of %d rows does not divide among %d ranks', B, size), 2)
    end
    local b = B // size
    return x:narrow(1, rank * b + 1, b), y:narrow(1, rank * b + 1, b)
  end
  function w:state() return source:state() end
  function w:setState(s) return source:setState(s) end
  return w
end

M.dataParallel = require('llm.dist.zero').wrap(M)  -- {zero = 1}: ZeRO stage 1 (llm/dist/zero.lua)

for k, v in pairs(require('llm.dist.tp')) do dist[k] = v end  -- tensor parallel and grids (llm/dist/tp.lua)

dist.pipelineParallel = require('llm.dist.pipeline').pipelineParallel  -- pipeline parallel (llm/dist/pipeline.lua)

return M
