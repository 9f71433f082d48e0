-- llm.dist.pipeline: pipeline parallelism for nn.GPT (and nn.Llama, built on it):
--   dist.pipelineParallel(model, [{comm = world, microBatches = 1, schedule = '1f1b' | 'gpipe', balance = {...}}])
--     -> Trainer extension (collective: every rank of comm calls it, with the same model configuration)
-- The ranks of comm are the stages 0..p-1. The blocks are cut into p consecutive runs (balance = blocks per
-- stage, default as even as possible, the extra blocks on the first stages); stage 0 also owns the token
-- and position embeddings, the last stage the final norm, the head and the loss. Every rank keeps the whole
-- module tree and its weights (so checkpoints and state dicts keep the single-process names) but computes,
-- differentiates and updates only its own parameters (a stage saves activation, gradient and optimizer-state
-- memory and compute, not weight memory): build the Trainer's optimizer over model:parameters() as usual (a
-- parameter without a gradient is not updated). Tied embedding/head weights (tieWeights) live on the first
-- and the last stage: they start equal (broadcast from stage 0 at the start of a run) and, as in Megatron,
-- their two gradients are summed between those two stages every step, so both copies take the same update.
-- One step (the extension's forwardBackward hook replaces the Trainer's micro-batch loop):
--   * each of the step's gradAccum batches (B rows) is cut into microBatches chunks of B/microBatches rows
--     (batch.opts too: its (B, ...) tensors, llm/batchopts.lua); a chunk's loss is the sum of its token
--     losses over the batch's scored targets (targets −100, nn.GPT's ignoreIndex, are left out) times
--     1/gradAccum, so the batch's loss is the dense model's mean and the gradients equal the dense model's;
--   * batch.opts (the source's third value, e.g. packed llm.data.instructions' {segments, positions}):
--     stage 0 embeds with opts.positions, every stage's blocks get {positions, segments, keyMask} as in
--     nn.GPT's forward (other options, such as a KV cache or offset, are refused);
--   * stage s>0 receives a chunk's activations (rows, T, dim) from stage s-1 into a fresh leaf that requires
--     a gradient, runs its blocks, and sends the output on (dist isend: sends never block, so no schedule
--     can deadlock); backward runs out:backward(gradient from stage s+1) on the recorded graph and sends the
--     input's gradient back to stage s-1;
--   * schedule 'gpipe': all forwards, then all backwards (every chunk's activations alive at once);
--     '1f1b': stage s runs p-s-1 warm-up forwards, then alternates one forward and one backward, then
--     finishes the remaining backwards (at most p-s chunks' activations alive). The idle "bubble" is the
--     same for both, (p-1)/(m+p-1) of a step with m chunks; 1F1B only bounds the activation memory;
--     ext.peakLive: the most micro-batches whose activations this stage has held at once (so far);
--     ext.waitSeconds / ext.scheduleSeconds: time this stage waited for activations and gradients / spent
--     in the schedules (their ratio is the measured bubble plus communication, against (p-1)/(m+p-1));
--   * the loss of each batch (the mean of its chunks' losses) is known on the last stage and broadcast, so
--     every rank logs the same value (the Trainer then calls afterForward with it: dist.dataParallel
--     averages it across data-parallel replicas);
--   * optimizerStep: clipping uses the norm over all stages' gradients (each parameter counted once) and
--     leaves it in trainer.gradNorm; then the optimizer steps.
-- Evaluation (evaluateBatch hook): one forward-only pass of the whole batch through the stages; the last
-- stage's loss is broadcast. ext:gatherWeights() (collective) copies every stage's weights into stage 0's
-- model (to save or sample from after training). Checkpoints (beforeCheckpoint, on every rank): the stages
-- send their own weights and optimizer state to stage 0, whose model and optimizer then hold the whole
-- model, so rank 0 writes the single-process format (after the write, and at the start of a resumed run,
-- each rank drops the optimizer state of parameters it does not own). A checkpoint of p stages resumes on
-- any p' (or in one process without the extension) with the same global batch.
-- DP x PP: give comm = the pipeline sub-communicator and add dist.dataParallel(model, {comm = <replica
-- group>}) too (dist.grid{dp=, pp=} builds both): each replica group averages the gradients
-- of its stage after the pipeline's backward (beforeBackward is not called, so dataParallel's overlap does
-- not start during it; the tied weight's gradients are summed before the average).
-- Limits: training forward only (no KV cache); dropout > 0 draws different random
-- numbers than one process would; the per-micro-batch hooks beforeBackward/afterBackward are not called;
-- not combinable with ZeRO-1 or tensor parallel (each replaces the optimizer step: the Trainer refuses two).
local M = {}

local batchopts = require 'llm.batchopts'

local SCHEDULES = {gpipe = true, ['1f1b'] = true}
local IGNORE = -100   -- nn.GPT's ignoreIndex (masked targets: prompt tokens, padding)
local STAGE_OPTS = {positions = true, segments = true, keyMask = true}   -- the per-call options a stage passes on
local ACT, GRAD = 0, 1
local function tag(i, kind) return 2 * (i % 8192) + kind end

local function fail(msg, level) error('dist.pipelineParallel: ' .. msg, level + 1) end

-- The world as a communicator object (the dist.* functions as methods).
local function world()
  return setmetatable({}, {__index = function(_, k)
    local f = dist[k]
    return f and function(_, ...) return f(...) end
  end})
end

-- Blocks per stage: balance when given (checked), else as even as possible with the extras first.
local function partition(blocks, stages, balance, level)
  if stages > blocks then
    fail(string.format('%d stages but the model has %d blocks: every stage needs at least one block', stages, blocks), level + 1)
  end
  if balance == nil then
    local out = {}
    for s = 1, stages do out[s] = blocks // stages + (s <= blocks % stages and 1 or 0) end
    return out
  end
  if type(balance) ~= 'table' or #balance ~= stages then
    fail(string.format("Invalid 'balance': expected a list of %d block counts (one per stage), got %s", stages,
      type(balance) == 'table' and (#balance .. ' entries') or type(balance)), level + 1)
  end
  local sum = 0
  for s, n in ipairs(balance) do
    if math.type(n) ~= 'integer' or n < 1 then
      fail(string.format("Invalid 'balance[%d]': expected a positive integer, got %s", s, tostring(n)), level + 1)
    end
    sum = sum + n
  end
  if sum ~= blocks then fail(string.format("Invalid 'balance': the counts add up to %d but the model has %d blocks", sum, blocks), level + 1) end
  return balance
end

-- Sends a table of string keys -> tensors and numbers to rank dst (a JSON description as character codes,
-- then the tensors in one flat buffer); recvTable is its other half.
local function sendTable(comm, t, dst)
  local keys, meta, tensors, total = {}, {}, {}, 0
  for k in pairs(t) do keys[#keys + 1] = k end
  table.sort(keys)
  for _, k in ipairs(keys) do
    local v = t[k]
    if llm.isTensor(v) then
      meta[#meta + 1] = {key = k, shape = v:shape(), numel = v:numel()}
      tensors[#tensors + 1] = v:contiguous():reshape(v:numel())
      total = total + v:numel()
    else
      meta[#meta + 1] = {key = k, value = v}
    end
  end
  local json = llm.json.encode(meta)
  local codes = {}
  for i = 1, #json do codes[i] = json:byte(i) end
  comm:send(llm.tensor({#json, total // 4096, total % 4096}), dst)
  comm:send(llm.tensor(codes), dst)
  if total > 0 then comm:send(llm.cat(tensors, 1), dst) end
end

local function recvTable(comm, src)
  local head = comm:recv(llm.zeros(3), src):totable()
  local n, total = math.tointeger(head[1]), math.tointeger(head[2] * 4096 + head[3])
  local codes = comm:recv(llm.zeros(n), src):totable()
  local chars = {}
  for i, c in ipairs(codes) do chars[i] = string.char(math.tointeger(c)) end
  local meta = llm.json.decode(table.concat(chars))
  local flat = total > 0 and comm:recv(llm.zeros(total), src) or nil
  local out, off = {}, 1
  for _, m in ipairs(meta) do
    if m.shape then
      out[m.key] = flat:narrow(1, off, m.numel):reshape(m.shape):clone()
      off = off + m.numel
    else
      out[m.key] = m.value
    end
  end
  return out
end

-- Which parameters this stage owns: a set of model:parameters() tensors and the list in model order.
local function ownership(model, stage, stages, from, to)
  local owned, list = {}, {}
  for path, p in pairs(model:namedParameters()) do
    local top, rest = path:match('^([^.]+)%.(.*)$')
    local mine
    if top == 'blocks' then
      local i = tonumber(rest:match('^(%d+)%.')) + 1
      mine = i >= from and i <= to
    elseif top == 'tokEmb' or top == 'posEmb' then
      mine = stage == 0 or (top == 'tokEmb' and stage == stages - 1 and model._config.tieWeights)
    else  -- lnF, head
      mine = stage == stages - 1
    end
    if mine then owned[p] = true; list[#list + 1] = p end
  end
  return owned, list
end

function M.pipelineParallel(model, opts)
  if type(model) ~= 'table' or type(model.embed) ~= 'function' or type(model.headLogits) ~= 'function' or not model.blocks then
    fail("Invalid 'model': expected an nn.GPT (or nn.Llama), got " .. (type(model) == 'table' and tostring(model.__name) or type(model)), 2)
  end
  opts = opts or {}
  if type(opts) ~= 'table' then fail("Invalid 'opts': expected a table, got " .. type(opts), 2) end
  for k in pairs(opts) do
    if k ~= 'comm' and k ~= 'microBatches' and k ~= 'schedule' and k ~= 'balance' then
      fail("unknown option '" .. tostring(k) .. "'; expected: 'comm', 'microBatches', 'schedule', 'balance'", 2)
    end
  end
  local m = opts.microBatches or 1
  if math.type(m) ~= 'integer' or m < 1 then fail("Invalid 'microBatches': expected a positive integer, got " .. tostring(m), 2) end
  local schedule = opts.schedule or '1f1b'
  if not SCHEDULES[schedule] then
    fail("Invalid 'schedule': expected one of: 'gpipe', '1f1b', got '" .. tostring(schedule) .. "'", 2)
  end
  local c = model._config
  if c.postNorm == nil or not c.dim then fail("Invalid 'model': no nn.GPT configuration", 2) end
  if opts.comm ~= nil and not pcall(function() return opts.comm:rank(), opts.comm:size() end) then
    fail("Invalid 'comm': expected a dist.Communicator (dist.split, dist.grid), got " .. type(opts.comm), 2)
  end
  if opts.comm == nil and not dist.initialized() then dist.init() end
  local comm = opts.comm or world()
  local stages, stage = comm:size(), comm:rank()
  local counts = partition(#model.blocks, stages, opts.balance, 2)
  local from = 1
  for s = 1, stage do from = from + counts[s] end
  local to = from + counts[stage + 1] - 1
  local owned, ownList = ownership(model, stage, stages, from, to)
  local first, last = stage == 0, stage == stages - 1
  local tied = c.tieWeights and stages > 1 and model.tokEmb.weight or nil
  -- the tied weight's two stages (collective over comm: every rank takes part in the split)
  local tiedComm = (c.tieWeights and stages > 1) and comm:split((first or last) and 0 or 1) or nil

  -- primary = world rank 0 alone: the other ranks take no run-folder lock, print nothing, write nothing
  local ext = {name = 'pipeline', stage = stage, stages = stages, microBatches = m, schedule = schedule,
               blocks = {from, to}, comm = comm, primary = not dist.initialized() or dist.rank() == 0, peakLive = 0,
               waitSeconds = 0, scheduleSeconds = 0}

  --- This stage's parameters (in model order).
  function ext:parameters() return {table.unpack(ownList)} end

  -- Runs this stage's part of the model on input (token ids on stage 0, else activations) with the batch's
  -- options (positions, segments, keyMask, as nn.GPT's forward passes them); the last stage returns the
  -- cross-entropy against y with `reduction` ('sum' in training, 'mean' in evaluation).
  local function stageForward(input, y, bopts, reduction)
    local x = first and model:embed(input, bopts and bopts.positions) or input
    local blockOpts = bopts and {positions = bopts.positions, segments = bopts.segments, keyMask = bopts.keyMask}
    for i = from, to do x = model.blocks[i](x, blockOpts) end
    if last then return llm.crossEntropy(model:headLogits(x), y, {ignoreIndex = IGNORE, reduction = reduction}) end
    return x
  end

  -- A batch's options checked (a table of the per-call options a stage can pass on, or nil).
  local function checkOpts(bopts)
    if bopts == nil then return nil end
    if type(bopts) ~= 'table' then
      error('dist.pipelineParallel: the batch options (the source\'s third value) must be a table, got ' .. type(bopts), 0)
    end
    for k in pairs(bopts) do
      if not STAGE_OPTS[k] then
        error(string.format("dist.pipelineParallel: the batch option '%s' is not supported by the pipeline (only positions, segments, keyMask)", tostring(k)), 0)
      end
    end
    return bopts
  end

  local function recvInto(shape, src, t)
    local t0 = llm.clock()
    local got = comm:irecv(llm.zeros(shape), src, t):wait()
    ext.waitSeconds = ext.waitSeconds + (llm.clock() - t0)
    return got
  end

  -- One step's chunks through the stages under the schedule (gradAccum batches); returns each batch's
  -- mean loss (last stage) and leaves the gradients in p.grad.
  local function runSchedule(chunks, gradAccum)
    local n, scale, sends, live, alive = #chunks, 1 / gradAccum, {}, {}, 0
    local lossSums = {}
    local function forward(i)
      local ch = chunks[i]
      local input = ch.x
      if not first then
        input = recvInto({ch.x:size(1), ch.x:size(2), c.dim}, stage - 1, tag(i, ACT)):requiresGrad_()
      end
      local out = stageForward(input, ch.y, ch.opts, 'sum')
      if last then
        -- this chunk's share of its batch's mean (NaN when the batch scores no target, as in one process)
        lossSums[ch.batch] = (lossSums[ch.batch] or 0) + out:item() / ch.scored
        out = out * (scale / math.max(ch.scored, 1))
      else
        sends[#sends + 1] = comm:isend(out:detach():contiguous(), stage + 1, tag(i, ACT))
      end
      live[i] = {input = input, out = out}
      alive = alive + 1
      ext.peakLive = math.max(ext.peakLive, alive)
    end
    local function backward(i)
      local st = live[i]
      live[i], alive = nil, alive - 1
      if last then st.out:backward()
      else st.out:backward(recvInto(st.out:shape(), stage + 1, tag(i, GRAD))) end
      if not first then sends[#sends + 1] = comm:isend(st.input.grad:contiguous(), stage - 1, tag(i, GRAD)) end
    end
    local warm = schedule == 'gpipe' and n or math.min(stages - stage - 1, n)
    for i = 1, warm do forward(i) end
    for i = 1, n - warm do forward(warm + i); backward(i) end
    for i = n - warm + 1, n do backward(i) end
    for _, r in ipairs(sends) do r:wait() end
    return lossSums
  end

  -- The step's batches -> chunks of B/m rows each, in batch order.
  local function chunksOf(batches)
    local chunks = {}
    for b, batch in ipairs(batches) do
      local rows = batch.x:size(1)
      if rows % m ~= 0 then
        error(string.format('dist.pipelineParallel: the batch of %d rows does not divide into %d micro-batches', rows, m), 0)
      end
      local k, bopts = rows // m, checkOpts(batch.opts)
      local scored = math.tointeger(batch.y:ne(IGNORE):sum():item())
      for j = 0, m - 1 do
        chunks[#chunks + 1] = {x = batch.x:narrow(1, j * k + 1, k), y = batch.y:narrow(1, j * k + 1, k), batch = b, scored = scored,
                               opts = batchopts.narrow(bopts, rows, j * k + 1, k, 'dist.pipelineParallel')}
      end
    end
    return chunks
  end

  -- values (a list of numbers on the last stage) -> the same list on every stage.
  local function fromLast(values, count)
    local t = llm.zeros(count)
    if last then t:copy_(llm.tensor(values)) end
    if stages > 1 then comm:broadcast(t, stages - 1) end
    return t:totable()
  end

  function ext:forwardBackward(_, batches)
    local t0 = llm.clock()
    local sums = runSchedule(chunksOf(batches), #batches)
    self.scheduleSeconds = self.scheduleSeconds + (llm.clock() - t0)
    local means = {}
    for b = 1, #batches do means[b] = last and sums[b] or 0 end
    means = fromLast(means, #batches)
    for b, batch in ipairs(batches) do batch.loss = means[b] end
    if tiedComm and (first or last) then
      if not tied.grad then tied.grad = llm.zeros(tied:shape()) end
      tiedComm:allReduce(tied.grad, {op = 'sum'})
    end
  end

  function ext:evaluateBatch(_, batch)
    local v = 0
    llm.noGrad(function()
      local input = batch.x
      if not first then input = recvInto({batch.x:size(1), batch.x:size(2), c.dim}, stage - 1, tag(0, ACT)) end
      local out = stageForward(input, batch.y, checkOpts(batch.opts), 'mean')
      if last then v = out:item() else comm:isend(out:contiguous(), stage + 1, tag(0, ACT)):wait() end
    end)
    batch.loss = fromLast({v}, 1)[1]
  end

  -- The norm over all stages' gradients (the tied weight counted once, on stage 0), then the clip and step.
  function ext:optimizerStep(trainer)
    if trainer.clip > 0 then
      local mine = {}
      for _, p in ipairs(ownList) do
        if p.grad and not (last and not first and p == tied) then mine[#mine + 1] = p end
      end
      local sq = optim.clipGradNorm(mine, math.huge) ^ 2
      local hi = llm.tensor({sq}):item()
      local t = llm.tensor({hi, sq - hi})  -- two floats keep the double's precision across the sum
      if stages > 1 then comm:allReduce(t, {op = 'sum'}) end
      local parts = t:totable()
      local total = math.sqrt(parts[1] + parts[2])
      local coef = math.min(trainer.clip / (total + 1e-6), 1)
      if coef < 1 then
        llm.noGrad(function()
          for _, p in ipairs(ownList) do if p.grad then p.grad:mul_(coef) end end
        end)
      end
      trainer.gradNorm = total
    end
    trainer.optimizer:step()
  end

  -- The optimizer's state dict cut to the entries ('state.<k>.*', k 0-based over the optimizer's parameters)
  -- of owned parameters; toSend: without the group entries and the tied weight (stage 0 sends that).
  local function ownedState(opt, toSend)
    local mine = {}
    for k, p in ipairs(opt:parameters()) do mine[k - 1] = owned[p] and not (toSend and p == tied) end
    local out = {}
    for key, v in pairs(opt:stateDict()) do
      local k = key:match('^state%.(%d+)%.')
      if (k == nil and not toSend) or (k and mine[tonumber(k)]) then out[key] = v end
    end
    return out
  end

  local function dropForeign(opt)
    opt:loadStateDict(ownedState(opt, false))
  end

  function ext:onRunStart(trainer)
    local n, total = #trainer.optimizer:parameters(), #model:parameters()
    if n ~= total then
      error(string.format('dist.pipelineParallel: build the optimizer over model:parameters() (%d parameters), got %d', total, n), 0)
    end
    if tiedComm and (first or last) then llm.noGrad(function() tiedComm:broadcast(tied, 0) end) end
    dropForeign(trainer.optimizer)
  end

  --- Collective over comm: stage 0 receives every other stage's current weights, so its model is the whole
  --- trained model (to save or sample from on rank 0; checkpoints do this themselves).
  function ext:gatherWeights()
    if stages == 1 then return end
    llm.noGrad(function()
      if first then
        local params = model:namedParameters()
        for src = 1, stages - 1 do
          for name, t in pairs(recvTable(comm, src)) do params[name]:copy_(t) end
        end
      else
        local mine = {}
        for name, p in pairs(model:namedParameters()) do
          if owned[p] and p ~= tied then mine[name] = p end
        end
        sendTable(comm, mine, 0)
      end
    end)
  end

  -- Stage 0 receives the other stages' weights and optimizer state: its model and optimizer hold the whole.
  function ext:beforeCheckpoint(trainer)
    if stages == 1 then return end
    self:gatherWeights()
    local opt = trainer.optimizer
    if first then
      local merged = opt:stateDict()
      for src = 1, stages - 1 do
        for k, v in pairs(recvTable(comm, src)) do merged[k] = v end
      end
      opt:loadStateDict(merged)
      self.merged = true
    else
      sendTable(comm, ownedState(opt, true), 0)
    end
  end

  function ext:afterStep(trainer)
    if self.merged then dropForeign(trainer.optimizer); self.merged = false end
  end

  return ext
end

return M
