-- llm.dist.zero: ZeRO stage 1 (optimizer state sharded across the ranks) for dist.dataParallel:
--   dist.dataParallel(model, {zero = 1, [bucketSize = n], [comm = dist.Communicator]}) -> Trainer extension
--   (comm, passed on to dist.dataParallel too: shard over the ranks of a sub-communicator; default the world)
-- It is dist.dataParallel's extension (rank 0's weights broadcast at the start, the loss averaged across
-- ranks, rank 0 alone does the I/O) without its gradient all-reduce; instead it replaces the Trainer's
-- clipping and optimizer:step() (the optimizerStep hook of llm/extensions.lua):
--   * each parameter group of the Trainer's optimizer (optim.SGD, Adam, AdamW, RMSprop, Adagrad: all
--     element-wise, so the update of a flat vector equals the updates of its pieces) is laid out as one flat
--     vector padded with zeros to a multiple of the rank count; rank r owns the r-th of `size` equal blocks;
--   * per optimizer step the flat gradient of each group is reduce-scattered (averaged): each rank receives
--     the averaged gradient of its block only;
--   * clipping uses the global norm: the squared norms of the blocks are summed across ranks (one scalar
--     all-reduce), every block is scaled by min(1, clip / (norm + 1e-6)) as optim.clipGradNorm does, and the
--     norm is left in trainer.gradNorm;
--   * a shard optimizer of the same type, with the same groups and hyper-parameters (copied from the
--     Trainer's optimizer every step, so schedules and setLR/set keep working), updates the rank's block
--     as a leaf tensor whose .grad is the averaged block; its state (exp_avg ...) exists for the block only;
--     the block is copied from the weights at each step, so weights changed between steps (a resume, an
--     extension's masks) are the ones updated;
--   * the updated blocks are all-gathered and copied back into the parameters, so every rank holds the
--     whole model again;
--   * pruning masks (opt:setMask on the Trainer's optimizer: compress.pruner and the other llm/compress
--     extensions attach them) are honoured: before each shard step the masks of the parameter pieces in
--     the rank's block are copied into one block mask set on the shard optimizer (1 where a piece has none),
--     whose masked path zeroes the block's masked weights and state buffers after the update, exactly as the
--     unsharded optimizer does per parameter (masked weights and their exp_avg ... stay 0; a checkpoint's
--     gathered state is 0 there);
--   * the optimizer state protocol: ext:optimizerState(trainer) -> the whole state in the single-process
--     stateDict format (the blocks all-gathered: every rank calls it), ext:loadOptimizerState(trainer, sd)
--     -> the blocks of sd (an empty state empties them), as opt:stateDict()/loadStateDict on the unsharded
--     optimizer. compress.pruner's lottery-ticket rewind (rewindTo) saves and restores the optimizer state
--     through it, so the shard state is rewound exactly as one process's (the snapshot is whole on every rank).
-- A parameter without a gradient counts as a zero gradient (it still gets weight decay and a step);
-- extensions' transformGradients see each rank's own, not yet averaged, gradients.
-- Checkpoints keep the single-process format: on every rank, beforeCheckpoint all-gathers the state
-- blocks, and rank 0 loads the whole state into the Trainer's optimizer, which Trainer:checkpoint saves
-- as usual (and which is emptied again after the write). A resumed run (Trainer:resume loads the whole
-- state into the optimizer on every rank) cuts its block out at the start of run(), so a checkpoint of N
-- ranks (or of one process without ZeRO) resumes on M ranks; the data position is the batch source's
-- (dist.shardBatches passes the global source's state through).
-- Memory: ext:memory() -> {rank, size, stateFloats, unshardedStateFloats, fraction}: floats of optimizer
-- state on this rank and in an unsharded optimizer (0 before the first step); reported once per run after
-- the first step in the progress output and as a {type = 'zero', ...} metrics record.
local M = {}

local SUPPORTED = {'SGD', 'Adam', 'AdamW', 'RMSprop', 'Adagrad'}
local isSupported = {}
for _, n in ipairs(SUPPORTED) do isSupported[n] = true end

local function fail(msg, level) error('dist.dataParallel: ' .. msg, level + 1) end

-- The optimizer's type name when it is a native optim.Optimizer, else nil.
local function nativeName(opt)
  if type(opt) ~= 'userdata' or not pcall(function() return opt:numGroups() end) then return nil end
  return tostring(opt):match('^(%a+)%(')
end

-- Hyper-parameter names of an optimizer (from its state dict keys), sorted.
local function hyperKeys(opt)
  local keys = {}
  for k in pairs(opt:stateDict()) do
    local name = k:match('^group%.0%.(.+)$')
    if name and name ~= 'numParams' then keys[#keys + 1] = name end
  end
  table.sort(keys)
  return keys
end

-- True when a state dict holds per-parameter state (not only the groups' hyper-parameters).
local function hasState(sd)
  for k in pairs(sd) do if k:match('^state%.') then return true end end
  return false
end

-- The group entries of a state dict for opt (its current hyper-parameters, numbers as stateDict gives them).
local function groupEntries(opt, keys, sd, numParams)
  sd = sd or {}
  for g = 1, opt:numGroups() do
    for _, k in ipairs(keys) do
      local v = opt:get(k, g)
      if type(v) == 'boolean' then v = v and 1 or 0 end
      sd[string.format('group.%d.%s', g - 1, k)] = v
    end
    sd[string.format('group.%d.numParams', g - 1)] = numParams or #opt:parameters(g)
  end
  return sd
end

-- A zero-padded flat vector of the group holding get(p, i) (a tensor shaped like p, or nil: zeros).
local function flatten(group, get, flat)
  flat = flat or llm.zeros(group.padded)
  for i, p in ipairs(group.params) do
    local n, t = p:numel(), get(p, i)
    local dst = flat:narrow(1, group.offsets[i] + 1, n)
    if t then dst:copy_(t:reshape(n)) else dst:zero_() end
  end
  return flat
end

local function block(group, flat, rank) return flat:narrow(1, rank * group.block + 1, group.block) end

-- The pieces of the parameters that fall in rank's block: {param index, offset in it, offset in the block, length}.
local function segments(group, rank)
  local out, lo, hi = {}, rank * group.block, (rank + 1) * group.block
  for i, p in ipairs(group.params) do
    local a, b = math.max(lo, group.offsets[i]), math.min(hi, group.offsets[i] + p:numel())
    if a < b then out[#out + 1] = {i, a - group.offsets[i], a - lo, b - a} end
  end
  return out
end

-- Copies the current values of the parameters into rank's block s (the rest of s, padding, stays zero).
local function refresh(group, s)
  for _, seg in ipairs(group.segments) do
    local p = group.params[seg[1]]
    s:narrow(1, seg[3] + 1, seg[4]):copy_(p:view(p:numel()):narrow(1, seg[2] + 1, seg[4]))
  end
end

-- Gives the shard optimizer the pruning masks (opt:setMask, llm/compress) of the parameter pieces in rank's
-- block as one block mask (1 where a piece has none, and on the padding), or removes it when no piece has
-- one: the shard's masked path then zeroes the block's masked weights and state after each update, as the
-- unsharded optimizer does per parameter. buf: the group's reused block-sized mask; had: whether the shard
-- has a mask now. Returns whether it has one after.
local function syncMask(opt, group, shardOpt, shard, buf, had)
  local any = false
  for _, seg in ipairs(group.segments) do
    local p = group.params[seg[1]]
    local m = opt:mask(p)
    if m then
      if not any then buf:fill_(1); any = true end
      buf:narrow(1, seg[3] + 1, seg[4]):copy_(m:reshape(p:numel()):narrow(1, seg[2] + 1, seg[4]))
    end
  end
  if any or had then shardOpt:setMask(shard, any and buf or nil) end
  return any
end

-- The flat layout of the optimizer's groups over `size` ranks: per group the parameters, their 0-based
-- flat offsets and state-dict indices, the element count, the padded count, the block length and the
-- pieces of parameters in rank's block.
local function layout(opt, size, rank)
  local groups, index = {}, 0
  for g = 1, opt:numGroups() do
    local params, offsets, first, n = opt:parameters(g), {}, index, 0
    for i, p in ipairs(params) do offsets[i] = n; n = n + p:numel() end
    local padded = (n + size - 1) // size * size
    groups[g] = {params = params, offsets = offsets, first = first, numel = n, padded = padded, block = padded // size}
    groups[g].segments = segments(groups[g], rank)
    index = index + #params
  end
  return groups
end

-- The collectives of comm (a dist.Communicator), or of the world when comm is nil, called as methods.
local function collectives(comm)
  if comm ~= nil then return comm end
  return {rank = function() return dist.rank() end, size = function() return dist.size() end,
          reduceScatter = function(_, t, o) return dist.reduceScatter(t, o) end,
          allGather = function(_, t) return dist.allGather(t) end,
          allReduce = function(_, t, o) return dist.allReduce(t, o) end}
end

--- Makes `base` (a dist.dataParallel extension) a ZeRO-1 extension sharding over the communicator c.
local function extend(base, c)
  local rank, size = c:rank(), c:size()
  local ext = base
  ext.zero, ext.reduceScatterCalls = 1, 0
  local baseStart = base.onRunStart
  local z = {}  -- the sharded state, built at the first run start: opt, name, keys, groups, shards, shardOpt

  -- the Trainer's optimizer, checked; builds the layout and the shard optimizer on first use
  local function setUp(trainer)
    local opt = trainer.optimizer
    if z.opt == opt then return end
    local name = nativeName(opt)
    if not name or not isSupported[name] or not optim[name] then
      local got = name and ('optim.' .. name) or type(opt)
      error(string.format('dist.dataParallel{zero = 1}: the optimizer must be one of optim.%s (ZeRO-1 shards its state), got %s',
        table.concat(SUPPORTED, ', optim.'), got), 0)
    end
    z.opt, z.keys, z.groups, z.shards = opt, hyperKeys(opt), layout(opt, size, rank), {}
    z.maskBuf, z.masked = {}, {}
    local specs = {}
    for g, group in ipairs(z.groups) do
      z.shards[g] = llm.zeros(group.block, {requiresGrad = true})
      z.maskBuf[g], z.masked[g] = llm.zeros(group.block), false
      specs[g] = {params = {z.shards[g]}}
    end
    z.shardOpt = optim[name](specs)
    z.shardOpt:loadStateDict(groupEntries(opt, z.keys, nil, 1))
    z.reported = false
  end

  -- Moves a whole-model state held by the Trainer's optimizer (a resumed checkpoint, a rewind) into the
  -- blocks; without one the blocks keep theirs (a second run() of the same Trainer continues), unless
  -- `reset`: then they are emptied, as loadStateDict of a state without buffers empties an optimizer.
  local function takeState(reset)
    local full = z.opt:stateDict()
    if not hasState(full) then
      if reset then z.shardOpt:loadStateDict(groupEntries(z.opt, z.keys, nil, 1)) end
      return
    end
    local sd = groupEntries(z.opt, z.keys, nil, 1)
    for g, group in ipairs(z.groups) do
      local names, step = {}, full['state.' .. group.first .. '.step']
      for i = 2, #group.params do
        local s = full['state.' .. (group.first + i - 1) .. '.step']
        if s ~= step then
          local function taken(n) return n and (n .. ' steps') or 'no state' end
          error(string.format('dist.dataParallel{zero = 1}: cannot shard the optimizer state of group %d: its parameter 1 has %s '
            .. 'but parameter %d has %s (ZeRO-1 keeps one step count per group)', g, taken(step), i, taken(s)), 0)
        end
      end
      if step then
        local prefix = 'state.' .. group.first .. '.'
        for key in pairs(full) do
          local buf = key:sub(1, #prefix) == prefix and key:sub(#prefix + 1)
          if buf and buf ~= 'step' then names[#names + 1] = buf end
        end
        sd['state.' .. (g - 1) .. '.step'] = step
        for _, buf in ipairs(names) do
          local flat = flatten(group, function(_, i) return full['state.' .. (group.first + i - 1) .. '.' .. buf] end)
          sd['state.' .. (g - 1) .. '.' .. buf] = block(group, flat, rank)
        end
      end
    end
    z.shardOpt:loadStateDict(sd)
    z.opt:loadStateDict(groupEntries(z.opt, z.keys))  -- the whole state is not kept
  end

  function ext:onRunStart(trainer)
    baseStart(self, trainer)
    setUp(trainer)
    takeState()
  end

  --- Floats of optimizer state on this rank and in an unsharded optimizer.
  function ext:memory()
    local sd = z.shardOpt and z.shardOpt:stateDict() or {}
    local mine, whole = 0, 0
    for g, group in ipairs(z.groups or {}) do
      local prefix = 'state.' .. (g - 1) .. '.'
      for key, v in pairs(sd) do
        if key:sub(1, #prefix) == prefix and llm.isTensor(v) then
          mine, whole = mine + v:numel(), whole + group.numel
        end
      end
    end
    return {rank = rank, size = size, stateFloats = mine, unshardedStateFloats = whole, fraction = whole > 0 and mine / whole or 0}
  end

  local function report(trainer)
    z.reported = true
    local m = ext:memory()
    if trainer.progressBar then
      trainer.progressBar:log(string.format('ZeRO-1: optimizer state %d floats on rank %d, %d unsharded (%.3f with %d ranks)',
        m.stateFloats, rank, m.unshardedStateFloats, m.fraction, size))
    end
    trainer:record({type = 'zero', step = trainer.step + 1, ranks = size, stateFloats = m.stateFloats,
                    unshardedStateFloats = m.unshardedStateFloats, fraction = m.fraction})
  end

  function ext:optimizerStep(trainer)
    setUp(trainer)
    local opt, shardOpt = z.opt, z.shardOpt
    for g = 1, opt:numGroups() do
      for _, k in ipairs(z.keys) do shardOpt:set(k, opt:get(k, g), g) end
    end
    z.gradFlat = z.gradFlat or {}
    llm.noGrad(function()
      for g, group in ipairs(z.groups) do
        refresh(group, z.shards[g])  -- the weights as they are now (a resume or an extension may have changed them)
        z.masked[g] = syncMask(opt, group, shardOpt, z.shards[g], z.maskBuf[g], z.masked[g])  -- pruning masks
        z.gradFlat[g] = flatten(group, function(p) return p.grad end, z.gradFlat[g])
        z.shards[g].grad = c:reduceScatter(z.gradFlat[g], {op = 'avg'})
        self.reduceScatterCalls = self.reduceScatterCalls + 1
      end
      if trainer.clip > 0 then
        -- the norm of this rank's blocks (maxNorm = huge: nothing scaled), squared and summed over the ranks
        -- (sent as a float32 and its remainder, so that the sum keeps about double precision)
        local mine = optim.clipGradNorm(z.shards, math.huge) ^ 2
        local parts = llm.tensor({mine, 0})
        parts[2] = mine - parts[1]:item()
        local sums = c:allReduce(parts, {op = 'sum'}):totable()
        local total = math.sqrt(sums[1] + sums[2])
        local coef = math.min(trainer.clip / (total + 1e-6), 1)
        if coef < 1 then for _, s in ipairs(z.shards) do s.grad:mul_(coef) end end
        trainer.gradNorm = total
      end
      shardOpt:step()
      for g, group in ipairs(z.groups) do
        local s = z.shards[g]
        s.grad = nil
        local flat = c:allGather(s):reshape(group.padded)
        for i, p in ipairs(group.params) do
          p:copy_(flat:narrow(1, group.offsets[i] + 1, p:numel()):view(p:shape()))
        end
      end
    end)
    if not z.reported then report(trainer) end
  end

  -- The whole optimizer state in the single-process format of the Trainer's optimizer: every rank
  -- all-gathers the blocks of each state buffer (a collective: every rank calls it).
  local function gather()
    local sd = z.shardOpt:stateDict()
    local full = groupEntries(z.opt, z.keys)
    for g, group in ipairs(z.groups) do
      local prefix = 'state.' .. (g - 1) .. '.'
      local step, names = sd[prefix .. 'step'], {}
      for key in pairs(sd) do
        local buf = key:sub(1, #prefix) == prefix and key:sub(#prefix + 1)
        if buf and buf ~= 'step' then names[#names + 1] = buf end
      end
      table.sort(names)  -- the same collective order on every rank
      for _, buf in ipairs(names) do
        local flat = c:allGather(sd[prefix .. buf]):reshape(group.padded)
        for i, p in ipairs(group.params) do
          local k = group.first + i - 1
          full['state.' .. k .. '.step'] = step
          full['state.' .. k .. '.' .. buf] = flat:narrow(1, group.offsets[i] + 1, p:numel()):view(p:shape())
        end
      end
      if step and #names == 0 then
        for i = 1, #group.params do full['state.' .. (group.first + i - 1) .. '.step'] = step end
      end
    end
    return full
  end

  -- every rank: gather the blocks of each state buffer; rank 0 loads the whole state into the optimizer
  function ext:beforeCheckpoint(trainer)
    setUp(trainer)
    local full = gather()
    if trainer:isPrimary() then z.opt:loadStateDict(full); z.holdsState = true end
  end

  --- The optimizer state protocol (compress.pruner's lottery-ticket rewind uses it): the whole state of
  --- the Trainer's optimizer in its single-process stateDict format, gathered from the blocks (every rank
  --- must call it: a collective). A whole state still held by the Trainer's optimizer is sharded first.
  function ext:optimizerState(trainer)
    setUp(trainer)
    takeState()
    return gather()
  end

  --- Loads sd (a single-process stateDict of the Trainer's optimizer) as its loadStateDict would: the
  --- hyper-parameters into the Trainer's optimizer, this rank's block of each buffer into the shard
  --- optimizer; a state without buffers empties the blocks.
  function ext:loadOptimizerState(trainer, sd)
    setUp(trainer)
    z.opt:loadStateDict(sd)
    takeState(true)
  end

  function ext:onCheckpoint()
    if z.holdsState then z.opt:loadStateDict(groupEntries(z.opt, z.keys)); z.holdsState = false end
  end

  -- no gradient all-reduce: optimizerStep reduce-scatters
  function ext.transformGradients() end
  return ext
end

--- Wraps the llm.dist module's dataParallel so that {zero = 1} builds a ZeRO-1 extension.
function M.wrap(d)
  local plain = d.dataParallel
  return function(model, opts)
    if type(opts) ~= 'table' or opts.zero == nil then return plain(model, opts) end
    local zero = opts.zero
    local rest = {}
    for k, v in pairs(opts) do if k ~= 'zero' then rest[k] = v end end
    if zero == 0 or zero == false then return plain(model, rest) end
    if zero ~= 1 and zero ~= true then
      if math.type(zero) == 'integer' and zero > 1 then
        fail(string.format("zero = %d is not supported: only stage 1 (optimizer state sharded; 'zero = 1')", zero), 2)
      end
      fail("Invalid 'zero': expected 0 or 1 (ZeRO stage), got " .. tostring(zero), 2)
    end
    for k in pairs(rest) do
      if k ~= 'bucketSize' and k ~= 'comm' then
        fail(string.format("option '%s' is not supported with zero = 1 (supported: 'zero', 'bucketSize', 'comm')", tostring(k)), 2)
      end
    end
    local ok, base = pcall(plain, model, rest)
    if not ok then error((tostring(base):gsub('^[^\n]-:%d+: ', '')), 2) end
    return extend(base, collectives(rest.comm))
  end
end

return M
