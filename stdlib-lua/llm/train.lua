-- llm.Trainer: the training loop, in plain Lua you can read and copy. One step = gradAccum micro-batches
-- (forward, backward of loss/gradAccum), optional clipping, optimizer step; then logging, evaluation,
-- early stopping and checkpoints on their schedules. Checkpoints hold everything a resumed run needs
-- (weights, optimizer state, RNG, data position, step, extension state) so its losses equal an
-- uninterrupted run's. Features that act inside a step plug in as extensions (llm/extensions.lua:
-- `extensions = {...}` or trainer:use(ext)); the onStep/onEval/onCheckpoint options are one. A run
-- holds its folder's lock while it runs (llm/runlog.lua): a second run on the same folder fails at start.
-- An extension with `primary = false` (dist.dataParallel on ranks other than 0) makes this process a
-- silent worker: no lock, no progress or log lines, no metrics records, no checkpoints.
-- An extension may replace the step's micro-batch forward/backward (forwardBackward) and the validation
-- forward (evaluateBatch): dist.pipelineParallel, whose loss exists on one rank only.
-- Extensions may add numbers to a step's log through trainer.stepFields (reset at each step's start):
-- they go into the progress line (when Progress knows them) and the train metrics record (llm.observe:
-- flops, mfu, joules, energyJ, co2g; `observe = true | {...}` adds that extension).
-- Batches: a source's :next() (and the validation source's :batch(i)) returns x, y and optionally a third
-- value, the per-batch forward options (llm.data.instructions with pack = true: {segments, positions}, so
-- packed examples do not attend to each other); it is kept as batch.opts and passed on as model(x, y, opts)
-- in training and evaluation (nil for two-value sources: the model is called as before). The validation
-- loss is the mean over the scored targets: each batch weighs by its targets that are not −100 (nn.GPT's
-- ignoreIndex: prompt tokens, padding), so it equals one forward over all of them.
local options = require 'llm.nn.options'
local Progress = require 'llm.progress'
local Extensions = require 'llm.extensions'
local RunLog = require 'llm.runlog'

local Trainer = {}
Trainer.__index = Trainer

local NONE = options.NONE
local defaults = {
  model = NONE,          -- nn.Module: model(x, y, [opts]) -> logits, loss
  optimizer = NONE,      -- optim.* object
  train = NONE,          -- batch source: :next() -> x, y, [opts]; :state()/:setState(s) for exact resume
  val = NONE,            -- evaluation windows: :numBatches(), :batch(i) -> x, y, [opts] (optional)
  schedule = NONE,       -- optim.schedule.* or function(step) -> lr (optional: constant lr)
  steps = NONE,          -- number of optimizer steps
  gradAccum = 1,         -- micro-batches per step
  clip = 0,              -- max gradient norm (0: no clipping)
  logEvery = 10,         -- steps between log lines / metrics records
  evalEvery = 0,         -- steps between evaluations (0: only at the end, when val is given)
  evalBatches = 0,       -- batches per evaluation (0: the whole validation set)
  earlyStopping = 0,     -- stop after this many evaluations without improvement (0: never)
  checkpointDir = NONE,  -- parent folder of step-NNNNNN checkpoints (optional)
  checkpointEvery = 0,   -- steps between checkpoints (0: only at the end, when checkpointDir is set)
  keepLast = 3,          -- checkpoints to keep (plus the best)
  metrics = NONE,        -- JSONL file that receives one record per log line and per evaluation
  nonFinite = 'stop',    -- on a NaN/Inf loss: 'stop' (error, after the last checkpoint) or 'skip' the step
  extra = NONE,          -- table saved in every checkpoint (config, tokenizer, ...)
  extensions = NONE,     -- list of extensions (hooks inside the step, state in checkpoints): llm/extensions.lua
  onStep = NONE, onEval = NONE, onCheckpoint = NONE,   -- callbacks(trainer, info); onStep may return false to stop
  progress = NONE,       -- true/false to force the terminal progress bar (default: when stdout is a terminal)
  observe = NONE,        -- true or llm.observe options: FLOPs/MFU, energy/CO2, TensorBoard (llm/observe)
}

--- Creates a trainer; see the option table at the top of this file.
function Trainer.new(opts)
  local o = options.check('llm.Trainer', opts, defaults, 2)
  for _, k in ipairs({'model', 'optimizer', 'train', 'steps'}) do
    if o[k] == nil then error("llm.Trainer: missing required option '" .. k .. "'", 2) end
  end
  options.positiveInt('llm.Trainer', 'steps', o.steps, 2)
  options.positiveInt('llm.Trainer', 'gradAccum', o.gradAccum, 2)
  options.positiveInt('llm.Trainer', 'logEvery', o.logEvery, 2)
  options.positiveInt('llm.Trainer', 'keepLast', o.keepLast, 2)
  for _, k in ipairs({'evalEvery', 'evalBatches', 'earlyStopping', 'checkpointEvery'}) do
    if math.type(o[k]) ~= 'integer' or o[k] < 0 then
      error(string.format("llm.Trainer: Invalid '%s': expected a non-negative integer, got %s", k, tostring(o[k])), 2)
    end
  end
  if o.clip < 0 then error("llm.Trainer: Invalid 'clip': expected a non-negative number (0: no clipping), got " .. tostring(o.clip), 2) end
  if o.nonFinite ~= 'stop' and o.nonFinite ~= 'skip' then
    error("llm.Trainer: Invalid 'nonFinite': expected one of: 'stop', 'skip', got '" .. tostring(o.nonFinite) .. "'", 2)
  end
  if o.extensions ~= nil and type(o.extensions) ~= 'table' then
    error("llm.Trainer: Invalid 'extensions': expected a list of extension tables, got " .. type(o.extensions), 2)
  end
  local exts = {Extensions.callbacks(o)}
  for i, ext in ipairs(o.extensions or {}) do exts[#exts + 1] = Extensions.check(ext, i, 2) end
  if o.observe then exts[#exts + 1] = Extensions.check(require('llm.observe').new(o.observe == true and {} or o.observe), #exts + 1, 2) end
  Extensions.checkNames(exts, 2)
  if o.checkpointDir then llm.makeDirs(o.checkpointDir) end
  if o.metrics and o.metrics:match('^(.*)/[^/]*$') then llm.makeDirs(o.metrics:match('^(.*)/[^/]*$')) end
  local self = setmetatable(o, Trainer)
  self.extensions, self.hooks = exts, Extensions.index(exts)
  self.step, self.bestValLoss, self.badEvals, self.skipped = 0, math.huge, 0, 0
  self.params = self.model:parameters()
  return self
end

--- Adds an extension (after those given to the constructor); returns the trainer. An extension added
--- after resume() gets its state from that checkpoint.
function Trainer:use(ext)
  local list = {table.unpack(self.extensions)}
  list[#list + 1] = Extensions.check(ext, #list + 1, 2)
  Extensions.checkNames(list, 2)
  self.extensions, self.hooks = list, Extensions.index(list)
  if self.resumedState and ext.loadStateDict then
    Extensions.load({ext}, self.resumedState.values, self.resumedState.tensors)
  end
  return self
end

-- Calls a hook on every extension that defines it (false when one asked to stop).
function Trainer:hook(name, ...)
  return Extensions.call(self.hooks, name, self, ...)
end

--- False when an extension marks this process as a non-primary worker (ext.primary == false).
function Trainer:isPrimary()
  for _, ext in ipairs(self.extensions) do if ext.primary == false then return false end end
  return true
end

local silent = {write = function() end, flush = function() end}

-- The run folder: the checkpoint folder, else the folder of the metrics file (nil when neither is set).
function Trainer:runFolder()
  if self.checkpointDir then return self.checkpointDir end
  if self.metrics then return self.metrics:match('^(.*)/[^/]*$') or '.' end
  return nil
end

function Trainer:lr(step)
  local s = self.schedule
  if s == nil then return self.optimizer:getLR() end
  return s(step)
end

--- Appends a record to the metrics file (with a wall-clock `time`; marked `replay` during a run when the
--- file already has that step).
function Trainer:record(entry)
  if not self.metrics or not self:isPrimary() then return end
  if self.runLog then self.runLog:record(entry) else RunLog.append(self.metrics, entry) end
end

-- The number of targets the loss scores: those not equal to nn.GPT's ignoreIndex (−100).
local IGNORE = -100
local function scoredTargets(y)
  return math.tointeger(y:ne(IGNORE):sum():item())
end

-- The next training micro-batch {x, y, opts, micro, last} (opts: the source's third value, or nil).
function Trainer:nextBatch(micro)
  local x, y, opts = self.train:next()
  return {x = x, y = y, opts = opts, micro = micro, last = micro == self.gradAccum}
end

--- Mean loss over the validation windows (no grad, eval mode): the mean over their scored targets.
function Trainer:evaluate()
  if not self.val then return nil end
  local model = self.model
  local wasTraining = model.training
  model:eval()
  local n = self.val:numBatches()
  if self.evalBatches > 0 then n = math.min(n, self.evalBatches) end
  local total, count = 0, 0
  llm.noGrad(function()
    for i = 1, n do
      local x, y, opts = self.val:batch(i)
      local batch = {x = x, y = y, opts = opts}
      if #self.hooks.evaluateBatch > 0 then
        self:hook('evaluateBatch', batch)  -- an extension computes batch.loss (pipeline parallel)
      else
        local _, loss = model(x, y, opts)
        batch.loss = loss:item()
      end
      local scored = scoredTargets(y)
      if scored > 0 then  -- a batch without scored targets has a NaN mean and no weight
        total = total + batch.loss * scored
        count = count + scored
      end
    end
  end)
  model:train(wasTraining)
  return count > 0 and total / count or nil
end

-- The step's batches when an extension runs their forward and backward (forwardBackward hook: pipeline
-- parallel): beforeForward on each as it is drawn, then the hook, which sets batch.loss on each.
function Trainer:forwardBackward()
  local batches = {}
  for micro = 1, self.gradAccum do
    batches[micro] = self:nextBatch(micro)
    self:hook('beforeForward', batches[micro])
  end
  self:hook('forwardBackward', batches)
  return batches
end

--- One optimizer step over gradAccum micro-batches; returns the mean loss (or nil when skipped).
function Trainer:trainStep()
  local lr = self:lr(self.step)
  self.optimizer:setLR(lr)
  local info = {step = self.step + 1, lr = lr}
  self.stepFields = {}
  self:hook('beforeStep', info)
  local total, tokens = 0, 0
  local owned = #self.hooks.forwardBackward > 0 and self:forwardBackward() or nil
  for micro = 1, self.gradAccum do
    local batch, out = owned and owned[micro]
    if owned then
      out = {loss = llm.tensor(batch.loss)}
    else
      batch = self:nextBatch(micro)
      self:hook('beforeForward', batch)
      local logits, loss = self.model(batch.x, batch.y, batch.opts)
      out = {logits = logits, loss = loss}
    end
    self:hook('afterForward', batch, out)
    local value = out.loss:item()
    if value ~= value or value == math.huge or value == -math.huge then
      self.optimizer:zeroGrad()
      if self.nonFinite == 'skip' then
        self.skipped = self.skipped + 1
        local msg = string.format('step %d: non-finite loss (%s), step skipped', self.step + 1, tostring(value))
        if self.progressBar then self.progressBar:log(msg) else print(msg) end
        return nil, lr, tokens
      end
      error(string.format('llm.Trainer: non-finite loss (%s) at step %d; stopping (the last checkpoint is intact; set nonFinite=\'skip\' to skip such steps)', tostring(value), self.step + 1), 0)
    end
    if not owned then
      self:hook('beforeBackward', batch, out)
      local scaled = out.loss / self.gradAccum
      scaled:backward()
      self:hook('afterBackward', batch, out)
    end
    total = total + value
    tokens = tokens + batch.y:numel()
  end
  self:hook('transformGradients', info)
  if #self.hooks.optimizerStep > 0 then
    self:hook('optimizerStep', info)  -- an extension clips and steps (ZeRO-1: sharded optimizer)
  else
    if self.clip > 0 then self.gradNorm = optim.clipGradNorm(self.params, self.clip) end
    self.optimizer:step()
  end
  self:hook('afterOptimizerStep', info)
  self.optimizer:zeroGrad()
  return total / self.gradAccum, lr, tokens
end

--- Runs until `steps` (or early stopping); returns {step, loss, valLoss, bestValLoss, stoppedEarly}.
function Trainer:run()
  -- the run folder's lock, held until run() returns or fails; then the stale temporaries it makes safe to delete
  local primary = self:isPrimary()
  local runLog <close> = RunLog.open{dir = primary and self:runFolder() or nil, metrics = primary and self.metrics or nil,
                                     step = self.step, resumedFrom = self.resumedFrom}
  self.runLog, self.resumedFrom = runLog, nil
  local bar = Progress.new{total = self.steps, every = self.logEvery, terminal = primary and self.progress or false,
                           startStep = self.step, out = not primary and silent or nil}
  self.progressBar = bar
  if #runLog.stale > 0 then bar:log('removed stale temporaries of interrupted checkpoint writes: ' .. table.concat(runLog.stale, ', ')) end
  self:hook('onRunStart')
  local lastLoss, valLoss, stoppedEarly = nil, nil, false
  local windowStart, windowTokens = llm.clock(), 0
  while self.step < self.steps do
    local loss, lr, tokens = self:trainStep()
    self.step = self.step + 1
    windowTokens = windowTokens + tokens
    local tps
    if loss then
      lastLoss = loss
      local now = llm.clock()
      tps = windowTokens / math.max(now - windowStart, 1e-9)
      local fields = {loss = loss, lr = lr, tokensPerSec = tps}
      for k, v in pairs(self.stepFields) do if fields[k] == nil then fields[k] = v end end
      bar:update(self.step, fields)
      if self.step % self.logEvery == 0 then
        fields.type, fields.step = 'train', self.step
        self:record(fields)
        windowStart, windowTokens = now, 0
      end
    end
    local last = self.step == self.steps
    if self.val and ((self.evalEvery > 0 and self.step % self.evalEvery == 0) or last) then
      valLoss = self:evaluate()
      local improved = valLoss < self.bestValLoss
      if improved then self.bestValLoss, self.badEvals = valLoss, 0 else self.badEvals = self.badEvals + 1 end
      bar:log(string.format('step %d: val loss %.4f%s', self.step, valLoss, improved and ' (best)' or ''))
      local evalInfo = {step = self.step, valLoss = valLoss, improved = improved}
      self:hook('onEval', evalInfo)
      local rec = {type = 'eval'}
      for k, v in pairs(evalInfo) do if rec[k] == nil then rec[k] = v end end
      self:record(rec)
      if improved and self.checkpointDir then self:checkpoint(true) end
      if self.earlyStopping > 0 and self.badEvals >= self.earlyStopping then
        bar:log(string.format('early stopping at step %d: no improvement in %d evaluations', self.step, self.badEvals))
        stoppedEarly = true
      end
    end
    if self.checkpointDir and ((self.checkpointEvery > 0 and self.step % self.checkpointEvery == 0) or last or stoppedEarly) then
      self:checkpoint(false)
    end
    if not self:hook('afterStep', {step = self.step, loss = loss, lr = lr, tokensPerSec = tps}) then break end
    if stoppedEarly then break end
  end
  bar:finish()
  local result = {step = self.step, loss = lastLoss, valLoss = valLoss, bestValLoss = self.bestValLoss, stoppedEarly = stoppedEarly}
  self:hook('onRunEnd', result)
  self.runLog = nil
  return result
end

-- The tensors of a model state dict, each once (tied weights are saved under their first name).
local function uniqueState(sd)
  local out, seen = {}, {}
  local names = {}
  for name in pairs(sd) do names[#names + 1] = name end
  table.sort(names)
  for _, name in ipairs(names) do
    local t = sd[name]
    if not seen[t] then seen[t] = true; out[name] = t end
  end
  return out
end

--- Writes a checkpoint of the current step (best = also remember it as the best one).
function Trainer:checkpoint(best)
  local dir = self.checkpointDir .. '/' .. llm.checkpoint.stepName(self.step)
  if self.lastCheckpoint == dir then
    if best then self.bestCheckpoint = dir end
    return dir
  end
  -- every process (collectives); an extension may set info.modelState / info.optimizerState, the state dicts
  -- written in place of the model's and the optimizer's own (tensor parallel: the gathered dense layout)
  local info = {step = self.step, path = dir, best = best}
  self:hook('beforeCheckpoint', info)
  if not self:isPrimary() then self.lastCheckpoint = dir; return dir end
  local optTensors, optValues = {}, {}
  for k, v in pairs(info.optimizerState or self.optimizer:stateDict()) do
    if llm.isTensor(v) then optTensors[k] = v else optValues[k] = v end
  end
  local extTensors, extValues = Extensions.save(self.extensions)
  llm.checkpoint.write(dir, {
    ['model.safetensors'] = uniqueState(info.modelState or self.model:stateDict()),
    ['optimizer.safetensors'] = optTensors,
    ['extensions.safetensors'] = next(extTensors) and extTensors or nil,
    ['trainer.json'] = {
      extensions = extValues,
      step = self.step, bestValLoss = self.bestValLoss ~= math.huge and self.bestValLoss or nil,
      badEvals = self.badEvals, skipped = self.skipped, rng = llm.getRngState(),
      data = self.train.state and self.train:state() or nil, optimizer = optValues, extra = self.extra,
      best = best or nil,
      -- the folder name of the best checkpoint, so that a resumed run's pruning keeps it too
      bestCheckpoint = best and llm.checkpoint.stepName(self.step) or (self.bestCheckpoint and self.bestCheckpoint:match('[^/]+$')),
    },
  })
  self.lastCheckpoint = dir
  if best then self.bestCheckpoint = dir end
  llm.checkpoint.prune(self.checkpointDir, {keepLast = self.keepLast, keep = self.bestCheckpoint and {self.bestCheckpoint} or {}})
  self:hook('onCheckpoint', {step = self.step, path = dir, best = best})
  return dir
end

--- Restores a checkpoint (a step directory, or a parent folder: its newest). Returns the trainer.json table.
function Trainer:resume(path)
  local dir = path
  if llm.checkpoint.latest(path) then dir = llm.checkpoint.latest(path) end
  local ck = llm.checkpoint.read(dir)
  local state = ck['trainer.json']
  if type(state) ~= 'table' or ck['model.safetensors'] == nil then
    error("llm.Trainer: '" .. dir .. "' is not a training checkpoint (model.safetensors or trainer.json missing)", 2)
  end
  local optState = {}
  for k, v in pairs(ck['optimizer.safetensors'] or {}) do optState[k] = v end
  for k, v in pairs(state.optimizer or {}) do optState[k] = v end
  -- extensions may re-cut the saved (single-process) state for this process (tensor parallel: its slices)
  local loaded = {model = ck['model.safetensors'], optimizer = optState, path = dir}
  self:hook('beforeResume', loaded)
  -- check the weights first, then load the optimizer (it validates before changing), then the weights:
  -- a checkpoint that does not fit leaves both untouched
  self.model:checkStateDict(loaded.model)
  self.optimizer:loadStateDict(loaded.optimizer)
  self.model:loadStateDict(loaded.model)
  self.resumedState = {values = state.extensions, tensors = ck['extensions.safetensors']}
  Extensions.load(self.extensions, self.resumedState.values, self.resumedState.tensors)
  llm.setRngState(state.rng)
  if state.data and self.train.setState then self.train:setState(state.data) end
  self.step, self.badEvals, self.skipped = state.step, state.badEvals or 0, state.skipped or 0
  self.bestValLoss = state.bestValLoss or math.huge
  if state.bestCheckpoint and self.checkpointDir then self.bestCheckpoint = self.checkpointDir .. '/' .. state.bestCheckpoint end
  self.lastCheckpoint, self.resumedFrom = dir, dir
  return state
end

return Trainer
