-- llm.dist.tp: Megatron-style tensor parallelism and the 2-D/3-D process grid, on the autograd-aware
-- collectives dist.copyToParallel (f), dist.reduceFromParallel (g), dist.gatherFromParallel and
-- dist.scatterToParallel (Bindings/dist/ParallelOpsBindings.swift). Adds to the `dist` namespace:
--   dist.ColumnParallelLinear(in, out, [{bias = true, gatherOutput = false, comm}])
--     weight (out/P, in): this rank's rows of the dense nn.Linear(in, out) (drawn whole with the same seed on
--     every rank, then sliced); forward f(x)·Wᵀ + b -> (..., out/P), or all of out with gatherOutput.
--   dist.RowParallelLinear(in, out, [{bias = true, inputIsParallel = true, comm}])
--     weight (out, in/P): this rank's columns; forward g(x·Wᵀ) + b (bias replicated, added after the sum);
--     without inputIsParallel the full input is first cut to this rank's slice (scatterToParallel).
--   dist.VocabParallelEmbedding(num, dim, [{comm}]): rows [rank·num/P, (rank+1)·num/P) of the table; ids
--     outside them give zero rows, and g sums the ranks' lookups.
--   dist.vocabParallelCrossEntropy(logits, targets, [{comm, ignoreIndex}]): mean cross-entropy of vocab-split
--     logits (..., V/P) against global ids (...), without gathering the logits (max, sum of exponentials and
--     the target logit are all-reduced, as in Megatron); targets equal to ignoreIndex (default none, as
--     llm.crossEntropy) are left out of the loss and of its mean (NaN when every target is ignored); no label
--     smoothing. The converted model's forward passes ignoreIndex = −100: what nn.GPT's forward computes.
--   dist.tensorParallel(model, [{comm = world, gatherLogits = false}]) -> model, converted IN PLACE
--     (collective: every rank of comm calls it with the same dense weights, e.g. the same seed) from an
--     nn.GPT or nn.Llama: attention heads split across ranks (the fused qkv rows cut per head group: q, k
--     and v blocks each sliced; proj row-parallel), MLP fc column-parallel (both halves of a gated fc) and
--     proj row-parallel, a vocab-parallel token embedding and a vocab-split head (tied to it when the model
--     ties them) with the vocab-parallel cross-entropy. Norms, biases of row-parallel layers, position
--     embeddings and qk-norms stay replicated (their gradients are equal on every rank). Parameter paths
--     are the dense model's; split weights are slices of the dense ones, so a dense model converts exactly.
--     forward(idx, targets, [opts]) returns this rank's logits slice (B,T,V/P) and the loss (targets −100
--     ignored, as nn.GPT's); without targets (and with gatherLogits) the full logits; opts are nn.GPT's
--     per-call options (positions, segments, keyMask, cache: packed batches, generation). heads, kvHeads, the MLP hidden size and vocab must be divisible
--     by P; ALiBi is refused (its slopes depend on the global head index). Create the optimizer after the
--     conversion. Added methods (collective over comm):
--       model:denseStateDict([tensors]) -> path -> tensor in the dense layout (tensors: a path -> tensor
--         table such as the gradients; default the state dict); rank 0 writes it: llm.save(path, sd).
--       model:loadDenseStateDict(sd): loads a dense state dict (each rank takes its slices).
--       model:gradNorm() -> the L2 norm of the whole model's gradient (split parts summed over comm).
--       model:trainerExtension() -> Trainer extension 'tensorParallel', for every Trainer of the model:
--         optimizerStep clips with the global gradNorm when the Trainer's clip > 0 (a per-rank norm would
--         scale the replicated weights differently on each rank), then steps; only world rank 0 logs and
--         writes (primary). Trainer checkpoints keep the single-process format: before each one every rank
--         takes part in gathering the dense weights and optimizer state (the buffers of split parameters,
--         such as AdamW's moments, are sliced like them) and rank 0 writes them (beforeCheckpoint's
--         modelState / optimizerState); Trainer:resume cuts a dense checkpoint into this rank's slices
--         (beforeResume), so it resumes with tensor parallel of any size or in one process. The optimizer
--         must hold the converted model's parameters (checked at the start of run()).
--     Dropout draws from each rank's generator: seed every rank of a tensor-parallel group the same.
--   dist.grid{dp = 1, tp = 1, pp = 1} -> {world, dp, tp, pp (dist.Communicator of each group), rank, size,
--     dpRank, tpRank, ppRank, dpSize, tpSize, ppSize} (collective): ranks laid out tp fastest, then pp,
--     then dp, as in Megatron (rank = (dpRank·pp + ppRank)·tp + tpRank); dp·tp·pp must equal dist.size().
--     DP x TP: dist.tensorParallel(model, {comm = grid.tp}) and dist.dataParallel(model, {comm = grid.dp})
--     (gradients averaged over the replicas of the same slices). TP x PP together is not tested.
local Module = require 'llm.nn.Module'
local Linear = require 'llm.nn.Linear'
local Embedding = require 'llm.nn.Embedding'
local Attention = require 'llm.nn.Attention'
local options = require 'llm.nn.options'

local M = {}
local IGNORE = -100   -- nn.GPT's ignoreIndex (masked targets: prompt tokens, padding)

-- The tensor-parallel group: {comm (nil: the world), rank, size}; a bad comm is an error naming `who`.
local function group(comm, who, level)
  if not dist.initialized() then dist.init() end
  if comm == nil then return {rank = dist.rank(), size = dist.size()} end
  local ok, r, s = pcall(function() return comm:rank(), comm:size() end)
  if not ok or math.type(r) ~= 'integer' then
    error(who .. ": Invalid 'comm': expected a dist.Communicator (dist.split, dist.grid), got " .. type(comm), level + 1)
  end
  return {comm = comm, rank = r, size = s}
end

-- A collective of the group: comm:name(...) or, for the world, dist.name(...).
local function collective(g, name, ...)
  if g.comm then return g.comm[name](g.comm, ...) end
  return dist[name](...)
end

-- A fresh leaf (requiring grad when dense does) copying this rank's parts of `dense` along `dim`: each block
-- {start (0-based), length} of the dense dim is cut into size equal parts and the rank's parts are joined.
local function slice(dense, dim, blocks, g)
  local t = llm.noGrad(function()
    local parts = {}
    for _, b in ipairs(blocks) do
      local n = b[2] // g.size
      parts[#parts + 1] = dense:narrow(dim, b[1] + g.rank * n + 1, n)
    end
    return (#parts == 1 and parts[1] or llm.cat(parts, dim)):clone()
  end)
  return dense.requiresGrad and t:requiresGrad_() or t
end

-- The dense tensor from every rank's slice t (the inverse of slice; collective).
local function unslice(t, dim, blocks, g)
  return llm.noGrad(function()
    local all = collective(g, 'allGather', t:contiguous())
    local parts, off = {}, 0
    for _, b in ipairs(blocks) do
      local n = b[2] // g.size
      for r = 1, g.size do parts[#parts + 1] = all:narrow(1, r, 1):squeeze(1):narrow(dim, off + 1, n) end
      off = off + n
    end
    return llm.cat(parts, dim)
  end)
end

-- Errors unless n is divisible by the group size.
local function divisible(who, what, n, g, level)
  if n % g.size ~= 0 then
    error(string.format('%s: %s (%d) must be divisible by the tensor-parallel size (%d)', who, what, n, g.size), level + 1)
  end
end

-- The set-up shared by the parallel Linear layers (errors at the constructor's caller): checks the sizes
-- and options (`from`, a dense nn.Linear to slice, and `blocks` are internal: dist.tensorParallel's),
-- slices the weight along `dim` (1: rows, column-parallel; 2: columns, row-parallel) and the bias with it
-- (row-parallel: replicated) from `from` or a new nn.Linear; returns the options.
local function setupLinear(self, who, inFeatures, outFeatures, opts, extra, dim)
  options.positiveInt(who, 'inFeatures', inFeatures, 4)
  options.positiveInt(who, 'outFeatures', outFeatures, 4)
  local defaults = {bias = true, comm = options.NONE, from = options.NONE, blocks = options.NONE}
  for k, v in pairs(extra) do defaults[k] = v end
  local o = options.check(who, opts, defaults, 4)
  local g = group(o.comm, who, 4)
  local blocks = o.blocks or {{0, dim == 1 and outFeatures or inFeatures}}
  for _, b in ipairs(blocks) do divisible(who, dim == 1 and 'outFeatures' or 'inFeatures', b[2], g, 4) end
  local dense = o.from or Linear(inFeatures, outFeatures, {bias = o.bias})
  self._in, self._out, self._comm, self._group = inFeatures, outFeatures, o.comm, g
  self._split = {weight = {dim, blocks}, bias = dim == 1 and {1, blocks} or nil}
  self.weight = slice(dense.weight, dim, blocks, g)
  if rawget(dense, 'bias') then
    self.bias = slice(dense.bias, 1, dim == 1 and blocks or {{0, outFeatures}}, dim == 1 and g or {rank = 0, size = 1})
  end
  return o
end

local ColumnParallelLinear = Module:extend('dist.ColumnParallelLinear')

--- dist.ColumnParallelLinear(in, out, [{bias=true, gatherOutput=false, comm}]): rows of the weight split across ranks.
function ColumnParallelLinear:init(inFeatures, outFeatures, opts)
  self._gather = setupLinear(self, 'dist.ColumnParallelLinear', inFeatures, outFeatures, opts, {gatherOutput = false}, 1).gatherOutput
end

function ColumnParallelLinear:forward(x)
  local y = llm.linear(dist.copyToParallel(x, self._comm), self.weight, rawget(self, 'bias'))
  if self._gather then y = dist.gatherFromParallel(y, self._comm) end
  return y
end

function ColumnParallelLinear:extraRepr()
  return string.format('%d -> %d/%d%s', self._in, self._out, self._group.size, rawget(self, 'bias') and '' or ', bias=false')
end

local RowParallelLinear = Module:extend('dist.RowParallelLinear')

--- dist.RowParallelLinear(in, out, [{bias=true, inputIsParallel=true, comm}]): columns of the weight split across ranks.
function RowParallelLinear:init(inFeatures, outFeatures, opts)
  self._parallelInput = setupLinear(self, 'dist.RowParallelLinear', inFeatures, outFeatures, opts, {inputIsParallel = true}, 2).inputIsParallel
end

function RowParallelLinear:forward(x)
  if not self._parallelInput then x = dist.scatterToParallel(x, self._comm) end
  local y = dist.reduceFromParallel(llm.linear(x, self.weight), self._comm)
  local b = rawget(self, 'bias')
  return b and y + b or y
end

function RowParallelLinear:extraRepr()
  return string.format('%d/%d -> %d%s', self._in, self._group.size, self._out, rawget(self, 'bias') and '' or ', bias=false')
end

local VocabParallelEmbedding = Module:extend('dist.VocabParallelEmbedding')

--- dist.VocabParallelEmbedding(num, dim, [{comm}]): the rows of the table split across ranks.
function VocabParallelEmbedding:init(num, dim, opts)
  local who = 'dist.VocabParallelEmbedding'
  options.positiveInt(who, 'num', num, 3)
  options.positiveInt(who, 'dim', dim, 3)
  local o = options.check(who, opts, {comm = options.NONE, from = options.NONE}, 3)
  local g = group(o.comm, who, 3)
  divisible(who, 'num', num, g, 3)
  local dense = o.from or Embedding(num, dim)
  self._num, self._dim, self._comm, self._group = num, dim, o.comm, g
  self._split = {weight = {1, {{0, num}}}}
  self.weight = slice(dense.weight, 1, {{0, num}}, g)
end

-- ids - start clamped into [0, n-1] (int64) and the float mask of the ids that were in range.
local function localIds(ids, start, n)
  local shifted = ids - start
  return shifted:clamp(0, n - 1):long(), shifted:ge(0) * shifted:lt(n)
end

function VocabParallelEmbedding:forward(ids)
  if self._group.size == 1 then return llm.embedding(self.weight, ids) end
  local n = self.weight:size(1)
  local idx, mask = localIds(ids, self._group.rank * n, n)
  return dist.reduceFromParallel(llm.embedding(self.weight, idx) * mask:unsqueeze(-1), self._comm)
end

function VocabParallelEmbedding:extraRepr() return string.format('%d/%d, %d', self._num, self._group.size, self._dim) end

--- dist.vocabParallelCrossEntropy(logits: Tensor, targets: Tensor, [{comm, ignoreIndex}]) -> Tensor: mean cross-entropy of vocab-split logits (..., V/P), logits not gathered.
function M.vocabParallelCrossEntropy(logits, targets, opts)
  local who = 'dist.vocabParallelCrossEntropy'
  if not llm.isTensor(logits) or not llm.isTensor(targets) then error(who .. ': expected logits and targets tensors', 2) end
  local o = options.check(who, opts, {comm = options.NONE, ignoreIndex = options.NONE}, 2)
  if o.ignoreIndex ~= nil and math.type(o.ignoreIndex) ~= 'integer' then
    error(string.format("%s: Invalid 'ignoreIndex': expected an integer, got %s", who, tostring(o.ignoreIndex)), 2)
  end
  local g = group(o.comm, who, 2)
  local last = logits:dim()
  local n = logits:size(last)
  -- the global max per row (a constant: the loss does not depend on it) keeps exp() in range
  local m = llm.noGrad(function() return logits:detach():max(last):contiguous() end)
  collective(g, 'allReduce', m, {op = 'max'})
  local shifted = logits - m:unsqueeze(last)
  local sumExp = dist.reduceFromParallel(shifted:exp():sum(last), o.comm)
  local idx, mask = localIds(targets, g.rank * n, n)
  local picked = dist.reduceFromParallel(shifted:gather(last, idx:unsqueeze(last)):squeeze(last) * mask, o.comm)
  local losses = sumExp:log() - picked
  if o.ignoreIndex == nil then return losses:mean() end
  -- the ignored targets' terms are zeroed (a constant mask: their gradients too), the mean over the rest
  local keep = targets:ne(o.ignoreIndex):float()
  return (losses * keep):sum() / keep:sum()
end

-- The qkv projection of ParallelAttention: the column-parallel projection of the attention's full input
-- (handed over in _input), whatever nn.CausalSelfAttention's forward passes it.
local QKVParallel = ColumnParallelLinear:extend('dist.ColumnParallelLinear')
function QKVParallel:forward(x) return ColumnParallelLinear.forward(self, rawget(self, '_input') or x) end

-- dist.ParallelAttention: the heads of a dense nn.CausalSelfAttention split across ranks.
-- nn.CausalSelfAttention's own forward runs on this rank's heads (its width check sees the local width
-- heads/P·headSize, so it is given a view of that width; qkv reads the full input instead): caches, rotary
-- positions, masks, windows and qk-norms work as in the dense layer.
local ParallelAttention = Attention:extend('dist.ParallelAttention')

--- dist.ParallelAttention(dense: nn.CausalSelfAttention, [{comm}]): its heads split across the ranks of comm (used by dist.tensorParallel).
function ParallelAttention:init(dense, opts)
  local who = 'dist.tensorParallel'
  local o = options.check(who, opts, {comm = options.NONE}, 3)
  local g = group(o.comm, who, 3)
  local h, hkv, dim = dense._heads, dense._kvHeads, dense._dim
  local d = dense._headDim or dim // h
  local bias = rawget(dense.qkv, 'bias') ~= nil
  self._fullDim, self._group = dim, g
  self._dim, self._heads, self._kvHeads, self._dropout = h // g.size * d, h // g.size, hkv // g.size, dense._dropout
  self._headDim = d
  self._positions, self._window, self._rope = dense._positions, dense._window, dense._rope
  self.qkv = QKVParallel(dim, (h + 2 * hkv) * d, {bias = bias, comm = o.comm, from = dense.qkv,
                                                   blocks = {{0, h * d}, {h * d, hkv * d}, {(h + hkv) * d, hkv * d}}})
  self.proj = RowParallelLinear(h * d, dim, {bias = rawget(dense.proj, 'bias') ~= nil, comm = o.comm, from = dense.proj})
  if rawget(dense, 'qNorm') then self.qNorm, self.kNorm = dense.qNorm, dense.kNorm end
end

function ParallelAttention:forward(x, opts)
  if not llm.isTensor(x) or x:dim() ~= 3 or x:size(3) ~= self._fullDim then
    error(string.format('expected input of shape [batch, time, %d], got %s', self._fullDim,
      llm.isTensor(x) and ('[' .. table.concat(x:shape(), ', ') .. ']') or type(x)), 2)
  end
  rawset(self.qkv, '_input', x)
  local ok, y = pcall(Attention.forward, self, x:narrow(3, 1, self._dim), opts)
  rawset(self.qkv, '_input', nil)
  if not ok then error(y, 0) end
  return y
end

function ParallelAttention:extraRepr()
  return Attention.extraRepr(self) .. string.format(' (of %d heads, %d ranks)', self._heads * self._group.size, self._group.size)
end

-- Every split tensor of the model: tensor -> {dim, blocks} (from the parallel layers' _split tables).
local function splitTensors(model)
  local out = {}
  model:apply(function(m)
    local s = rawget(m, '_split')
    if s then for k, spec in pairs(s) do local t = rawget(m, k); if t then out[t] = spec end end end
  end)
  return out
end

-- Methods of a converted model (its class is a subclass of the dense model's class).
local TP = {}

function TP:forward(idx, targets, opts)
  local tp = rawget(self, '_tp')
  local logits = self.super.forward(self, idx, nil, opts)
  local full = (targets == nil or tp.gatherLogits) and dist.gatherFromParallel(logits, tp.comm) or nil
  if targets == nil then return full end
  return full or logits, M.vocabParallelCrossEntropy(logits, targets, {comm = tp.comm, ignoreIndex = IGNORE})
end

function TP:denseStateDict(tensors)
  local tp = rawget(self, '_tp')
  local own = self:stateDict()
  tensors = tensors or own
  local split, done = splitTensors(self), {}
  local out, put = Module.orderedTable()
  for path, t in pairs(own) do   -- module order, the same on every rank: the all-gathers match
    local v = tensors[path]
    if v ~= nil then
      local spec = split[t]
      if spec and not done[v] then done[v] = unslice(v, spec[1], spec[2], tp.group) end
      put(path, spec and done[v] or v)
    end
  end
  return out
end

-- The state dict sd (dense layout) cut to this rank's slices (no communication): split tensors must have
-- their dense shape (an error names the path and both shapes, at `level`); the rest passes through.
local function localStateDict(model, sd, level)
  local g = rawget(model, '_tp').group
  local split, out = splitTensors(model), {}
  for path, t in pairs(model:stateDict()) do
    local v, spec = sd[path], split[t]
    if v ~= nil and spec and llm.isTensor(v) then
      local want = t:shape()
      want[spec[1]] = want[spec[1]] * g.size
      if table.concat(v:shape(), ',') ~= table.concat(want, ',') then
        error(string.format("loadDenseStateDict: '%s' has shape [%s] in the state dict but [%s] in the dense model", path,
          table.concat(v:shape(), ', '), table.concat(want, ', ')), level + 1)
      end
      v = slice(v:detach(), spec[1], spec[2], g)
    end
    out[path] = v
  end
  return out
end

function TP:loadDenseStateDict(sd)
  if type(sd) ~= 'table' then error("bad argument #1 to 'loadDenseStateDict' (table expected, got " .. type(sd) .. ')', 2) end
  return self:loadStateDict(localStateDict(self, sd, 2))
end

-- The split spec of each parameter of opt by its 0-based state-dict index (nil: replicated).
local function optimizerSplits(model, opt)
  local split, out = splitTensors(model), {}
  for k, p in ipairs(opt:parameters()) do out[k - 1] = split[p] end
  return out
end

-- opt:stateDict() with the buffers of split parameters (AdamW's moments are sliced like the weights)
-- gathered into the dense layout (collective over the group: every rank has the same keys).
local function denseOptimizerState(model, opt)
  local g = rawget(model, '_tp').group
  local specs, sd, keys = optimizerSplits(model, opt), opt:stateDict(), {}
  for key, v in pairs(sd) do
    local k = key:match('^state%.(%d+)%.')
    if k and llm.isTensor(v) and specs[tonumber(k)] then keys[#keys + 1] = key end
  end
  table.sort(keys)  -- the same all-gathers in the same order on every rank
  local counts = llm.tensor({#keys, -#keys})
  collective(g, 'allReduce', counts, {op = 'max'})
  if counts[1]:item() ~= -counts[2]:item() then
    error('dist.tensorParallel: the ranks hold optimizer state for different parameters (' .. #keys ..
      ' split buffers here); build the same optimizer on every rank after dist.tensorParallel', 0)
  end
  for _, key in ipairs(keys) do
    local spec = specs[tonumber(key:match('^state%.(%d+)%.'))]
    sd[key] = unslice(sd[key], spec[1], spec[2], g)
  end
  return sd
end

-- An optimizer state dict in the dense layout cut to this rank's slices (no communication); buffers
-- that do not have their parameter's dense shape are left for the optimizer to refuse.
local function localOptimizerState(model, opt, sd)
  local g = rawget(model, '_tp').group
  local specs, params, out = optimizerSplits(model, opt), opt:parameters(), {}
  for key, v in pairs(sd) do
    local k = key:match('^state%.(%d+)%.')
    local spec = k and llm.isTensor(v) and specs[tonumber(k)]
    if spec then
      local want = params[tonumber(k) + 1]:shape()
      want[spec[1]] = want[spec[1]] * g.size
      if table.concat(v:shape(), ',') == table.concat(want, ',') then v = slice(v:detach(), spec[1], spec[2], g) end
    end
    out[key] = v
  end
  return out
end

function TP:gradNorm()
  local tp = rawget(self, '_tp')
  local split = splitTensors(self)
  local sq = llm.zeros(2)   -- split parameters (summed over the group), replicated ones (once)
  llm.noGrad(function()
    for _, p in ipairs(self:parameters()) do
      if p.grad then
        local k = split[p] and 1 or 2
        sq:narrow(1, k, 1):add_((p.grad * p.grad):sum():reshape(1))
      end
    end
  end)
  local splitSq = sq:narrow(1, 1, 1):contiguous()
  collective(tp.group, 'allReduce', splitSq, {op = 'sum'})
  return math.sqrt(splitSq:item() + sq:narrow(1, 2, 1):item())
end

function TP:trainerExtension()
  local model = self
  local ext = {name = 'tensorParallel', primary = dist.rank() == 0}
  function ext:onRunStart(trainer)
    local ok, params = pcall(function() return trainer.optimizer:parameters() end)
    if not ok then return end  -- not an optim.* optimizer: nothing to check
    local own = {}
    for _, p in ipairs(model:parameters()) do own[p] = true end
    for _, p in ipairs(params) do
      if not own[p] then
        error('dist.tensorParallel: the optimizer holds a parameter that is not in the converted model: create it after dist.tensorParallel', 0)
      end
    end
  end
  -- every rank: the dense weights and optimizer state gathered; rank 0 writes them (single-process format)
  function ext:beforeCheckpoint(trainer, info)
    info.modelState = model:denseStateDict()
    info.optimizerState = denseOptimizerState(model, trainer.optimizer)
  end
  -- a dense checkpoint (of any tensor-parallel size, or of one process) cut to this rank's slices
  function ext:beforeResume(trainer, loaded)
    loaded.model = localStateDict(model, loaded.model, 1)
    loaded.optimizer = localOptimizerState(model, trainer.optimizer, loaded.optimizer)
  end
  function ext:optimizerStep(trainer)
    if trainer.clip > 0 then
      local norm = model:gradNorm()
      local coef = math.min(trainer.clip / (norm + 1e-6), 1)
      if coef < 1 then
        llm.noGrad(function()
          for _, p in ipairs(trainer.params) do if p.grad then p.grad:mul_(coef) end end
        end)
      end
      trainer.gradNorm = norm
    end
    trainer.optimizer:step()
  end
  return ext
end

local tpClasses = setmetatable({}, {__mode = 'k'})
local function tpClass(cls)
  if not tpClasses[cls] then
    local c = cls:extend(rawget(cls, '__name'))
    for k, f in pairs(TP) do c[k] = f end
    tpClasses[cls] = c
  end
  return tpClasses[cls]
end

-- Checks that model is a dense nn.GPT or nn.Llama (before MPI is touched); errors at `level`.
local function checkModel(model, level)
  local who = 'dist.tensorParallel'
  if not Module.isModule(model) or not rawget(model, '_config') or not rawget(model, 'blocks') then
    error(who .. ": Invalid 'model': expected an nn.GPT or nn.Llama, got " .. (Module.isModule(model) and model.__name or type(model)), level + 1)
  end
  if rawget(model, '_tp') then error(who .. ': the model is already tensor parallel', level + 1) end
  if rawget(model, '_config').positions == 'alibi' then
    error(who .. ": ALiBi positions are not supported (each head's slope depends on its global index)", level + 1)
  end
end

-- Checks that every split size divides among the group g (before anything changes); errors at `level`.
local function checkDivisible(model, g, level)
  local who, c = 'dist.tensorParallel', rawget(model, '_config')
  divisible(who, 'heads', c.heads, g, level + 1)
  divisible(who, 'kvHeads', c.kvHeads or c.heads, g, level + 1)
  divisible(who, 'vocab', c.vocab, g, level + 1)
  for i = 1, #model.blocks do
    divisible(who, 'the MLP hidden size', model.blocks[i].mlp.proj.weight:size(2), g, level + 1)
  end
end

--- dist.tensorParallel(model: nn.GPT | nn.Llama, [{comm = world, gatherLogits = false}]) -> model: Megatron-style tensor parallelism, converting the model in place (collective).
function M.tensorParallel(model, opts)
  checkModel(model, 2)
  local o = options.check('dist.tensorParallel', opts, {comm = options.NONE, gatherLogits = false}, 2)
  local g = group(o.comm, 'dist.tensorParallel', 2)
  checkDivisible(model, g, 2)
  local tied = rawget(model.head, 'weight') == model.tokEmb.weight
  local lo = {comm = o.comm}
  for i = 1, #model.blocks do
    local block = model.blocks[i]
    block.attn = ParallelAttention(block.attn, lo)
    local mlp, hidden = block.mlp, block.mlp.proj.weight:size(2)
    local fcOut = mlp.fc.weight:size(1)
    mlp.fc = ColumnParallelLinear(mlp.fc._in, fcOut, {bias = rawget(mlp.fc, 'bias') ~= nil, comm = o.comm, from = mlp.fc,
                                                      blocks = fcOut == hidden and {{0, hidden}} or {{0, hidden}, {hidden, hidden}}})
    mlp.proj = RowParallelLinear(hidden, mlp.proj._out, {bias = rawget(mlp.proj, 'bias') ~= nil, comm = o.comm, from = mlp.proj})
  end
  local c = rawget(model, '_config')
  model.tokEmb = VocabParallelEmbedding(c.vocab, c.dim, {comm = o.comm, from = model.tokEmb})
  model.head = ColumnParallelLinear(c.dim, c.vocab, {bias = false, comm = o.comm, from = model.head})
  if tied then rawset(model.head, 'weight', model.tokEmb.weight) end
  rawset(model, '_tp', {comm = o.comm, group = g, gatherLogits = o.gatherLogits})
  return setmetatable(model, tpClass(getmetatable(model)))
end

--- dist.grid{dp = 1, tp = 1, pp = 1} -> {world, dp, tp, pp, rank, size, dpRank, tpRank, ppRank, dpSize, tpSize, ppSize}: a process grid (tp fastest, then pp, then dp; collective).
function M.grid(spec)
  local who = 'dist.grid'
  local o = options.check(who, spec, {dp = 1, tp = 1, pp = 1}, 2)
  for _, k in ipairs({'dp', 'tp', 'pp'}) do options.positiveInt(who, k, o[k], 2) end
  if not dist.initialized() then dist.init() end
  local rank, size = dist.rank(), dist.size()
  if o.dp * o.tp * o.pp ~= size then
    error(string.format('%s: dp (%d) x tp (%d) x pp (%d) = %d processes, but the job has %d (dist.size())',
      who, o.dp, o.tp, o.pp, o.dp * o.tp * o.pp, size), 2)
  end
  local tpRank, ppRank, dpRank = rank % o.tp, (rank // o.tp) % o.pp, rank // (o.tp * o.pp)
  -- every rank makes the same dist.split calls in the same order (each is collective over the world)
  local world = dist.split(0, rank)
  local tp = dist.split(dpRank * o.pp + ppRank, tpRank)
  local pp = dist.split(dpRank * o.tp + tpRank, ppRank)
  local dp = dist.split(ppRank * o.tp + tpRank, dpRank)
  return {world = world, dp = dp, tp = tp, pp = pp, rank = rank, size = size, dpRank = dpRank, tpRank = tpRank,
          ppRank = ppRank, dpSize = o.dp, tpSize = o.tp, ppSize = o.pp}
end

M.ColumnParallelLinear, M.RowParallelLinear = ColumnParallelLinear, RowParallelLinear
M.VocabParallelEmbedding, M.ParallelAttention = VocabParallelEmbedding, ParallelAttention

return M
