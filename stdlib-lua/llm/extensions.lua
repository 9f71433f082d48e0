-- llm.extensions: the one way to act inside a Trainer step (data parallelism, pruning masks, DP-SGD,
-- distillation, observers). An extension is a table (or a class instance) with any of the hooks below,
-- called as methods — ext:hook(trainer, ...) — in registration order; the Trainer's onStep / onEval /
-- onCheckpoint options are one such extension ('callbacks'). Per optimizer step:
--   beforeStep(trainer, info)                  info = {step, lr}            (step: the one being taken, 1-based)
--   per micro-batch (gradAccum of them):                   (unless an extension defines forwardBackward, below)
--     beforeForward(trainer, batch)            batch = {x, y, opts, micro, last}: may replace batch.x / batch.y
--                                              (opts: the source's third value, the forward options the Trainer
--                                              passes as model(x, y, opts), nil for two-value sources; packed
--                                              llm.data.instructions: {segments, positions} (B,T). An extension
--                                              that slices or re-runs a batch slices / passes opts with it;
--                                              micro: 1..gradAccum; last: micro == gradAccum, the micro-batch
--                                              after whose backward the step's gradients are complete: data
--                                              parallelism communicates on that one only)
--     afterForward(trainer, batch, out)        out = {logits, loss}: may replace out.loss (a distillation term)
--     beforeBackward(trainer, batch, out)      out.loss is final; the trainer backpropagates out.loss / gradAccum
--     afterBackward(trainer, batch, out)       the micro-batch's gradients are accumulated in p.grad
--   or, when an extension defines it (at most one may; pipeline parallel, llm/dist/pipeline.lua):
--   forwardBackward(trainer, batches)          replaces the per-micro-batch forward and backward: batches = the
--                                              step's gradAccum {x, y, opts, micro, last} tables (beforeForward already called
--                                              on each); it runs forward and backward of them all (gradients of
--                                              loss/gradAccum accumulated in p.grad) and sets batch.loss (a number,
--                                              the same on every process) on each; then the Trainer calls
--                                              afterForward(trainer, batch, {loss = Tensor}) per batch (the value
--                                              only; beforeBackward/afterBackward are not called)
--   transformGradients(trainer, info)          the summed gradients, BEFORE clipping (so the clip sees the
--                                              transformed gradients: averaged across ranks, masked, noised)
--   (clipping, optimizer:step())                or, when an extension defines it (at most one may):
--   optimizerStep(trainer, info)               replaces clipping and optimizer:step() (ZeRO-1, llm/dist/zero.lua:
--                                              sharded update, global-norm clip; sets trainer.gradNorm when clipping)
--   afterOptimizerStep(trainer, info)          weights updated, gradients still present (re-apply masks)
--   (gradients zeroed; log line, metrics record, evaluation, checkpoints)
--   afterStep(trainer, info)                   info = {step, loss, lr, tokensPerSec}; returning false stops the run
--                                              (it runs after the step's checkpoint: change saved state earlier)
-- and around them: onRunStart(trainer), evaluateBatch(trainer, batch) (at most one extension: sets
-- batch.loss, a number, for a validation batch {x, y, opts} in place of the model's forward; pipeline parallel),
-- onEval(trainer, info) with info = {step, valLoss, improved} (fields it adds go into the eval metrics record),
-- beforeCheckpoint(trainer, info) on EVERY process, primary or not, before a checkpoint is written
-- (collective work such as gathering sharded optimizer state into the optimizer; info = {step, path, best}; it
-- may set info.modelState / info.optimizerState, state dicts written in place of the model's and optimizer's:
-- tensor parallel's gathered dense layout), beforeResume(trainer, loaded) in Trainer:resume before anything is
-- loaded (loaded = {model, optimizer, path}: the checkpoint's state dicts, which it may replace by ones that
-- fit this process: tensor parallel's slices; an extension added after resume() does not see it),
-- onCheckpoint(trainer, info) with info = {step, path, best},
-- onRunEnd(trainer, result). State: ext:stateDict() -> table and ext:loadStateDict(table) save and restore
-- the extension's own state in every checkpoint under ext.name (tensors in extensions.safetensors as
-- '<name>.<key>', other values in trainer.json), so a resumed run continues exactly.
local M = {}

M.hooks = {'onRunStart', 'beforeStep', 'beforeForward', 'afterForward', 'beforeBackward', 'afterBackward',
           'forwardBackward', 'transformGradients', 'optimizerStep', 'afterOptimizerStep', 'afterStep', 'evaluateBatch',
           'onEval', 'beforeCheckpoint', 'onCheckpoint', 'onRunEnd', 'beforeResume'}
local isHook = {}
for _, h in ipairs(M.hooks) do isHook[h] = true end

local function quoted(list)
  local out = {}
  for i, s in ipairs(list) do out[i] = "'" .. s .. "'" end
  return table.concat(out, ', ')
end

local function label(ext, index)
  return ext.name and ("extension '" .. tostring(ext.name) .. "'") or ('extension ' .. index)
end

--- Validates an extension (level: the error level of the caller's caller); returns it.
function M.check(ext, index, level)
  level = (level or 1) + 1
  if type(ext) ~= 'table' then
    error(string.format("llm.Trainer: Invalid 'extensions[%d]': expected a table of hooks, got %s", index, type(ext)), level)
  end
  local name = ext.name
  if name ~= nil and (type(name) ~= 'string' or not name:match('^[%w_%-]+$')) then
    error(string.format("llm.Trainer: Invalid 'name' of extension %d: expected a string of letters, digits, '_' and '-', got %s",
      index, type(name) == 'string' and ("'" .. name .. "'") or tostring(name)), level)
  end
  for _, h in ipairs(M.hooks) do
    if ext[h] ~= nil and type(ext[h]) ~= 'function' then
      error(string.format("llm.Trainer: %s: '%s' must be a function, got %s", label(ext, index), h, type(ext[h])), level)
    end
  end
  -- a misspelt hook would silently never run: own function fields named like hooks must be hooks
  for k, v in next, ext do
    if type(k) == 'string' and type(v) == 'function' and not isHook[k] and k ~= 'stateDict' and k ~= 'loadStateDict'
       and (k:match('^before%u') or k:match('^after%u') or k:match('^on%u') or k:match('^transform%u')) then
      error(string.format("llm.Trainer: %s: unknown hook '%s'; expected one of: %s", label(ext, index), k, quoted(M.hooks)), level)
    end
  end
  local save, load = ext.stateDict, ext.loadStateDict
  if (save ~= nil) ~= (load ~= nil) or (save ~= nil and (type(save) ~= 'function' or type(load) ~= 'function')) then
    error(string.format("llm.Trainer: %s: stateDict and loadStateDict go together (both functions)", label(ext, index)), level)
  end
  if save and not name then
    error(string.format("llm.Trainer: extension %d has state (stateDict) but no 'name' to save it under", index), level)
  end
  return ext
end

--- The hooks that replace part of the Trainer's step: at most one extension may define each.
M.replacing = {forwardBackward = "the step's forward and backward", optimizerStep = 'the optimizer step',
               evaluateBatch = 'the evaluation forward'}

--- Checks that the names of extensions are unique and that at most one defines each replacing hook.
function M.checkNames(list, level)
  local seen, owner = {}, {}
  for i, ext in ipairs(list) do
    if ext.name then
      if seen[ext.name] then error("llm.Trainer: two extensions are named '" .. ext.name .. "'", (level or 1) + 1) end
      seen[ext.name] = true
    end
    for hook, what in pairs(M.replacing) do
      if ext[hook] then
        if owner[hook] then
          error(string.format("llm.Trainer: %s and %s both define %s (one extension may replace %s)",
            owner[hook], label(ext, i), hook, what), (level or 1) + 1)
        end
        owner[hook] = label(ext, i)
      end
    end
  end
end

--- The Trainer's onStep / onEval / onCheckpoint options as an extension named 'callbacks' (nil when none).
function M.callbacks(o)
  if not (o.onStep or o.onEval or o.onCheckpoint) then return nil end
  local ext = {name = 'callbacks'}
  if o.onStep then ext.afterStep = function(_, trainer, info) return o.onStep(trainer, info) end end
  if o.onEval then ext.onEval = function(_, trainer, info) return o.onEval(trainer, info) end end
  if o.onCheckpoint then ext.onCheckpoint = function(_, trainer, info) return o.onCheckpoint(trainer, info) end end
  return ext
end

--- hook name -> list of extensions that define it, in registration order.
function M.index(list)
  local byHook = {}
  for _, h in ipairs(M.hooks) do
    local l = {}
    for _, ext in ipairs(list) do if ext[h] then l[#l + 1] = ext end end
    byHook[h] = l
  end
  return byHook
end

--- Calls hook on every extension that has it; errors name the extension and the hook. Returns false when
--- any call returned false (afterStep: stop the run), else true.
function M.call(byHook, hook, trainer, ...)
  local keepGoing = true
  for _, ext in ipairs(byHook[hook]) do
    local ok, r = pcall(ext[hook], ext, trainer, ...)
    if not ok then
      if type(r) == 'string' and not r:find('^in extension') then
        r = 'in ' .. (ext.name and ("extension '" .. ext.name .. "'") or 'an unnamed extension') .. ' (' .. hook .. '): ' .. r
      end
      error(r, 0)
    end
    if r == false then keepGoing = false end
  end
  return keepGoing
end

--- The state of every extension with stateDict: tensors ('<name>.<key>' -> Tensor) and values (name -> table).
function M.save(list)
  local tensors, values, any = {}, {}, false
  for _, ext in ipairs(list) do
    if ext.stateDict then
      local sd = ext:stateDict()
      if type(sd) ~= 'table' then
        error("llm.Trainer: extension '" .. ext.name .. "': stateDict() must return a table, got " .. type(sd), 0)
      end
      local v = {}
      for k, x in pairs(sd) do
        if type(k) ~= 'string' then
          error("llm.Trainer: extension '" .. ext.name .. "': stateDict() keys must be strings, got a " .. type(k), 0)
        end
        if llm.isTensor(x) then tensors[ext.name .. '.' .. k] = x else v[k] = x end
      end
      values[ext.name] = v
      any = true
    end
  end
  return tensors, any and values or nil
end

--- The saved state of one extension from a checkpoint's values and tensors (nil when it has none).
function M.stateOf(ext, values, tensors)
  local sd, found = {}, false
  local v = values and values[ext.name]
  if type(v) == 'table' then
    found = true
    for k, x in pairs(v) do sd[k] = x end
  end
  local prefix = ext.name .. '.'
  for k, t in pairs(tensors or {}) do
    if k:sub(1, #prefix) == prefix then sd[k:sub(#prefix + 1)] = t; found = true end
  end
  return found and sd or nil
end

--- Restores each extension's state found in a checkpoint (extensions without saved state are left as they are).
function M.load(list, values, tensors)
  for _, ext in ipairs(list) do
    if ext.loadStateDict then
      local sd = M.stateOf(ext, values, tensors)
      if sd then ext:loadStateDict(sd) end
    end
  end
end

return M
