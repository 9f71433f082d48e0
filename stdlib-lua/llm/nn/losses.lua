-- Losses: nn.crossEntropy (the fused Swift kernel), nn.mse, nn.klDiv (for distillation, with
-- temperature), nn.bce and nn.bceWithLogits. Reductions: 'mean' (default), 'sum', 'none'.
local options = require 'llm.nn.options'
local losses = {}

local function reduce(x, reduction, who)
  if reduction == 'mean' then return x:mean() end
  if reduction == 'sum' then return x:sum() end
  if reduction == 'none' then return x end
  error(who .. ": Invalid 'reduction': expected one of: 'mean', 'sum', 'none', got '" .. tostring(reduction) .. "'", 3)
end

local function sameShape(a, b, who)
  if not llm.isTensor(a) or not llm.isTensor(b) then error(who .. ': expected two tensors', 3) end
  local sa, sb = table.concat(a:shape(), ', '), table.concat(b:shape(), ', ')
  if sa ~= sb then error(string.format('%s: input [%s] and target [%s] must have the same shape', who, sa, sb), 3) end
end

--- Cross-entropy of logits (..., C) against 0-based class ids (...): llm.crossEntropy, plus `weight`, a
--- (C) tensor or list of per-class weights (PyTorch's semantics: each target's loss times its class
--- weight; 'mean' divides by the sum of the weights of the targets not ignored).
function losses.crossEntropy(logits, targets, opts)
  if type(opts) ~= 'table' or opts.weight == nil then return llm.crossEntropy(logits, targets, opts) end
  local o = options.check('crossEntropy', opts, {weight = options.NONE, ignoreIndex = options.NONE, reduction = 'mean'})
  if not llm.isTensor(logits) or not llm.isTensor(targets) then error('crossEntropy: expected logits and targets tensors', 2) end
  local c = logits:size(-1)
  local w = llm.isTensor(o.weight) and o.weight or (type(o.weight) == 'table' and llm.tensor(o.weight) or nil)
  if not w or w:dim() ~= 1 or w:size(1) ~= c then
    error(string.format("crossEntropy: Invalid 'weight': expected %d per-class weights, got %s", c,
      w and ('[' .. table.concat(w:shape(), ', ') .. ']') or type(o.weight)), 2)
  end
  local ce = llm.crossEntropy(logits, targets, {ignoreIndex = o.ignoreIndex, reduction = 'none'})
  local keep = o.ignoreIndex ~= nil and targets:ne(o.ignoreIndex) or llm.ones(table.unpack(targets:shape()))
  local safe = (targets:float() * keep):long():reshape(-1)
  local tw = w:detach():float():gather(1, safe):reshape(table.unpack(targets:shape())) * keep
  local weighted = ce * tw
  if o.reduction == 'mean' then return weighted:sum() / tw:sum() end
  return reduce(weighted, o.reduction, 'crossEntropy')
end

--- Mean squared error.
function losses.mse(input, target, opts)
  local o = options.check('mse', opts, {reduction = 'mean'})
  sameShape(input, target, 'mse')
  local d = input - target
  return reduce(d * d, o.reduction, 'mse')
end

--- KL(teacher ‖ student) between softmax(teacher/T) and softmax(student/T), times T² (Hinton et al.
--- 2015). 'batchmean' (default) divides the sum by the batch size (dim 1), like PyTorch's kl_div.
function losses.klDiv(studentLogits, teacherLogits, opts)
  local o = options.check('klDiv', opts, {temperature = 1, reduction = 'batchmean'})
  sameShape(studentLogits, teacherLogits, 'klDiv')
  if o.temperature <= 0 then error("klDiv: Invalid 'temperature': expected a positive number, got " .. o.temperature, 2) end
  local t = o.temperature
  local logP = (studentLogits / t):logSoftmax(-1)
  local logQ = (teacherLogits / t):detach():logSoftmax(-1)
  local pointwise = logQ:exp() * (logQ - logP) * (t * t)
  if o.reduction == 'batchmean' then return pointwise:sum() / studentLogits:size(1) end
  return reduce(pointwise, o.reduction, 'klDiv')
end

--- Binary cross-entropy of probabilities in (0, 1) (log clamped at −100 like PyTorch).
function losses.bce(probs, target, opts)
  local o = options.check('bce', opts, {reduction = 'mean'})
  sameShape(probs, target, 'bce')
  local logP = probs:log():clamp(-100, nil)
  local log1mP = (1 - probs):log():clamp(-100, nil)
  return reduce(-(target * logP + (1 - target) * log1mP), o.reduction, 'bce')
end

--- Binary cross-entropy on logits (stable: max(x,0) − x·y + log(1 + e^−|x|)).
function losses.bceWithLogits(logits, target, opts)
  local o = options.check('bceWithLogits', opts, {reduction = 'mean'})
  sameShape(logits, target, 'bceWithLogits')
  local l = logits:relu() - logits * target + ((-logits:abs()):exp() + 1):log()
  return reduce(l, o.reduction, 'bceWithLogits')
end

return losses
