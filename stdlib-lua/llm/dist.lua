-- llm.dist: data parallelism on top of the `dist` collectives (Sources/LLMLua/Bindings/dist). Adds to the
-- `dist` namespace:
--   dist.dataParallel(model, [{bucketSize = 1048576, overlap = true, comm = world, compress = nil, topk = 0.01,
--                              zero = 0}]) -> Trainer extension
--     onRunStart: every parameter is broadcast from rank 0 of comm, so all ranks start from its weights;
--       the gradient reducer (dist.GradReducer: buckets of up to bucketSize floats over the parameters in
--       reverse order) is built;
--     afterForward: the loss is averaged across ranks once per step, on the last micro-batch
--       (batch.last): the sum of this rank's micro-batch losses is all-reduced (one scalar) and the last
--       micro-batch's loss value shifted by a constant (gradients untouched) so that the Trainer's mean is
--       the global mean; every rank logs the global loss and takes the same non-finite-loss decision. A
--       non-finite loss on an earlier micro-batch is carried into that sum (its backward is skipped), so all
--       ranks stop or skip the step together; the non-final micro-steps do no communication at all;
--     beforeBackward of the last micro-batch arms the reducer: with overlap, each bucket's all-reduce
--       starts during that backward as soon as its gradients are final (LLMCore's gradient-ready hooks;
--       buckets start in the same order on every rank), overlapping communication with the rest of the
--       backward; the earlier micro-batches' backwards (gradient accumulation) do no communication;
--     transformGradients (once per optimizer step): reducer:finish() starts what is left, waits, and
--       writes the averages into p.grad; clipping then sees the averaged gradients. overlap = false does
--       all the all-reduces here (one per bucket, after backward);
--     compress = 'f16' | 'bf16': buckets all-reduced as 16-bit floats (half the bytes; values and partial
--       sums rounded), or 'topk': each rank sends only the topk share (default 0.01) of each bucket's
--       largest |gradient + residual| entries, as (index, value) pairs through an all-gather, and keeps the
--       rest in its residual for the next step (error feedback). The residuals are saved in checkpoints
--       (llm/dist/residuals.lua: rank 0 writes every rank's, 'dataParallel.residuals' {ranks, floats}); a
--       resume on as many ranks gives each its own back (exact continuation), on another number of ranks
--       every rank starts from their mean (the same total owed; logged), in one process they are dropped
--       (logged); not saved over a sub-communicator smaller than the world (comm of a DP x TP/PP grid).
--       ext:residuals() -> Tensor | nil: this rank's residuals now (a copy in parameter order; nil in one process);
--       Compressed buckets are reduced in transformGradients (no overlap: the 16-bit all-reduce and the
--       all-gather are blocking);
--     comm = a dist.Communicator (dist.split, dist.grid): average over its ranks only (the data-parallel
--       axis of a DP x TP or DP x PP grid); rank 0 of the world stays the only primary process;
--     a parameter no rank has a gradient for keeps grad = nil (the optimizer skips it, as in one process);
--       one that only some ranks lack counts as zeros there (like DDP's find_unused_parameters);
--     zero = 1: ZeRO stage 1 (llm/dist/zero.lua) replaces the gradient all-reduce by a reduce-scatter and a
--       sharded optimizer step (an extension that replaces transformGradients takes the reduction over:
--       the reducer is then neither built nor armed);
--     primary = (world rank == 0): ranks other than 0 take no run-folder lock, print nothing, write no
--       metrics and no checkpoints (llm/train.lua's Trainer:isPrimary()).
--     ext:stats() -> {steps, collectives, startedInBackward, hookSeconds, waitSeconds, finishSeconds,
--       overlapWindowSeconds, buckets, lossAllReduces}: the reducer's counters and times on this rank
--       (see dist.GradReducer);
--     ext.allReduceCalls: gradient collectives so far (one per bucket per step).
--   dist.shardBatches(source, [{comm = world}]) -> batch source
--     wraps a source whose :next() returns the same global batch x, y ({B, T}) on every rank (the same
--     seed everywhere, e.g. llm.data.Batcher) and returns this rank's rows B/size*rank+1 .. B/size*(rank+1).
--     The global batch is therefore B sequences per micro-batch, exactly as in a single process with the
--     same source, and the averaged gradient equals the single-process gradient of that batch.
--     B must be divisible by dist.size(). :state()/:setState() pass through (resume keeps the position).
--     A third value of the source's :next() (the batch's forward options, packed llm.data.instructions:
--     {segments, positions}) is returned too, each tensor in it whose first dimension is B cut to the same
--     rows (llm/batchopts.lua), the rest passed through. With ignored targets (−100: prompt tokens,
--     padding) each rank's loss is the mean over its own scored targets and dataParallel averages those
--     means: the single-process mean only when every rank's share has as many scored targets.
--     comm = a dist.Communicator (the data-parallel axis of dist.grid): rank and size are its own.
local batchopts = require 'llm.batchopts'

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

local OPTIONS = {bucketSize = true, overlap = true, comm = true, compress = true, topk = true}
local OPTION_LIST = "'bucketSize', 'overlap', 'comm', 'compress', 'topk', 'zero'"

-- Checks the options (before MPI is touched); returns them with defaults filled in.
local function checkOptions(opts)
  local function fail(msg) error('dist.dataParallel: ' .. msg, 4) end
  if type(opts) ~= 'table' then fail("Invalid 'opts': expected a table, got " .. type(opts)) end
  for k in pairs(opts) do
    if not OPTIONS[k] then fail("unknown option '" .. tostring(k) .. "'; expected: " .. OPTION_LIST) end
  end
  local o = {bucketSize = opts.bucketSize or 1048576, comm = opts.comm, compress = opts.compress, topk = opts.topk}
  if math.type(o.bucketSize) ~= 'integer' or o.bucketSize < 1 then
    fail("Invalid 'bucketSize': expected a positive integer (floats per bucket), got " .. tostring(o.bucketSize))
  end
  if opts.overlap ~= nil and type(opts.overlap) ~= 'boolean' then
    fail("Invalid 'overlap': expected a boolean, got " .. tostring(opts.overlap))
  end
  o.overlap = opts.overlap ~= false
  if o.compress ~= nil and o.compress ~= 'f16' and o.compress ~= 'bf16' and o.compress ~= 'topk' then
    fail("Invalid 'compress': expected 'f16', 'bf16' or 'topk', got " .. (type(o.compress) == 'string' and ("'" .. o.compress .. "'") or tostring(o.compress)))
  end
  if o.topk ~= nil then
    if o.compress ~= 'topk' then fail("Invalid 'topk': it is the ratio of compress = 'topk'; set compress = 'topk' too") end
    if type(o.topk) ~= 'number' or not (o.topk > 0 and o.topk <= 1) then
      fail("Invalid 'topk': expected a ratio in (0, 1] (the share of each bucket sent), got " .. tostring(o.topk))
    end
  end
  if o.comm ~= nil then
    local ok = (type(o.comm) == 'userdata') and pcall(function() return o.comm:size() end)
    if not ok then fail("Invalid 'comm': expected a dist.Communicator (dist.split, dist.grid), got " .. type(o.comm)) end
  end
  return o
end

local INF = math.huge

function M.dataParallel(model, opts)
  if type(model) ~= 'table' or type(model.parameters) ~= 'function' then
    error("dist.dataParallel: Invalid 'model': expected an nn.Module, got " .. type(model), 2)
  end
  local o = checkOptions(opts or {})
  initialized()
  local c = o.comm
  local rank, size = c and c:rank() or dist.rank(), c and c:size() or dist.size()
  local function allReduce(t, op) if c then return c:allReduce(t, op) end return dist.allReduce(t, op) end
  local function broadcast(t) if c then return c:broadcast(t, 0) end return dist.broadcast(t, 0) end
  local ext = {name = 'dataParallel', rank = rank, size = size, primary = dist.rank() == 0,
               bucketSize = o.bucketSize, overlap = o.overlap, compress = o.compress, allReduceCalls = 0, lossAllReduces = 0}
  local paramCache = {}
  local lossBuf = llm.zeros(1)
  local lossSum = 0  -- this rank's losses of the step's earlier micro-batches
  local reducer, reducerParams, restoreResiduals
  if o.compress == 'topk' then  -- per-rank error-feedback state in checkpoints (llm/dist/residuals.lua)
    restoreResiduals = require('llm.dist.residuals').attach(ext, c, function() return reducer end)
  end

  local function transform(self)
    if self.size == 1 or not reducer then return end
    reducer:finish()
    self.allReduceCalls = reducer:stats().collectives
  end
  ext.transformGradients = transform
  -- false when another extension built on this one replaced transformGradients (ZeRO-1)
  local function reducing(self) return rawget(self, 'transformGradients') == transform end

  function ext:onRunStart(trainer)
    local params = trainer.model:parameters()
    llm.noGrad(function() bucketed(params, o.bucketSize, paramCache, broadcast) end)
    paramCache = {}  -- free the staging buffers: broadcast runs once
    lossSum = 0
    if self.size > 1 and reducing(self) and reducerParams ~= trainer.params then
      if reducer then reducer:close() end
      reducer = dist.GradReducer(trainer.params, {bucketSize = o.bucketSize, overlap = o.overlap, comm = c,
                                                  compress = o.compress, topk = o.topk})
      reducerParams = trainer.params
    end
    if restoreResiduals then restoreResiduals(trainer) end
  end

  function ext:afterForward(_, batch, out)
    if self.size == 1 then return end
    local v = out.loss:item()
    if batch.last == false then
      lossSum = lossSum + v
      if v ~= v or v == INF or v == -INF then
        -- skip this micro-batch's backward (a throwaway leaf); the sum carries the NaN to the last one
        out.loss = llm.zeros(1, {requiresGrad = true}):sum()
      end
      return
    end
    local mine = lossSum + v
    lossSum = 0
    lossBuf:fill_(mine)
    allReduce(lossBuf, {op = 'avg'})
    self.lossAllReduces = self.lossAllReduces + 1
    local g = lossBuf:item()
    if g ~= mine then out.loss = out.loss + (g - mine) end
  end

  function ext:beforeBackward(_, batch)
    if reducer and batch.last ~= false and reducing(self) then reducer:arm() end
  end

  --- Counters and times of the gradient reduction on this rank (see the header).
  function ext:stats()
    local s = reducer and reducer:stats() or {steps = 0, collectives = 0, startedInBackward = 0, hookSeconds = 0,
                                              waitSeconds = 0, finishSeconds = 0, overlapWindowSeconds = 0, buckets = 0}
    s.lossAllReduces = self.lossAllReduces
    return s
  end
  return ext
end

function M.shardBatches(source, opts)
  if source == nil or (type(source) ~= 'table' and type(source) ~= 'userdata') then
    error("dist.shardBatches: Invalid 'source': expected a batch source with :next(), got " .. type(source), 2)
  end
  local options = require 'llm.nn.options'
  local c = options.check('dist.shardBatches', opts, {comm = options.NONE}, 2).comm
  if c ~= nil and not pcall(function() return c:size() end) then
    error("dist.shardBatches: Invalid 'comm': expected a dist.Communicator (dist.split, dist.grid), got " .. type(c), 2)
  end
  initialized()
  local rank, size = c and c:rank() or dist.rank(), c and c:size() or dist.size()
  local w = {}
  function w:next()
    local x, y, bopts = source:next()
    local B = x:shape()[1]
    if B % size ~= 0 then
      error(string.format('dist.shardBatches: the global batch of %d rows does not divide among %d ranks', B, size), 2)
    end
    local b = B // size
    return x:narrow(1, rank * b + 1, b), y:narrow(1, rank * b + 1, b), batchopts.narrow(bopts, B, rank * b + 1, b, 'dist.shardBatches')
  end
  function w:state() return source:state() end
  function w:setState(s) return source:setState(s) end
  return w
end

M.dataParallel = require('llm.dist.zero').wrap(M)  -- {zero = 1}: ZeRO stage 1 (llm/dist/zero.lua)

for k, v in pairs(require('llm.dist.tp')) do dist[k] = v end  -- tensor parallel and grids (llm/dist/tp.lua)

dist.pipelineParallel = require('llm.dist.pipeline').pipelineParallel  -- pipeline parallel (llm/dist/pipeline.lua)

dist.parallelize = require('llm.dist.layout').parallelize  -- one layout entry point (llm/dist/layout.lua)

return M
