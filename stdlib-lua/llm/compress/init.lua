-- compress: pruning, sparsity and distillation over nn modules and llm.Trainer (loaded at start-up as the
-- global `compress`). Masks belong to parameters (llm/compress/masks.lua: pruned weights are re-zeroed, not
-- multiplied in forward; gradients and the optimizers' state are masked too); the Trainer extensions plug
-- into llm/extensions.lua and save their state in checkpoints.
--   compress.prune(model, {amount, criterion, scope, params, structure}) -> sparsity   (llm/compress/prune.lua)
--   compress.pruner{model, schedule, criterion, scope, params, structure, rewindTo}    Trainer extension
--   compress.schedule.oneShot / iterative / gmp / lotteryTicket                        (llm/compress/schedule.lua)
--   compress.setMask(model, path, mask), compress.masks(model) -> {path = copy}, compress.applyMasks(model),
--   compress.maskGradients(model), compress.attach(model, optimizer), compress.removeMasks(model) -> count
--   compress.sparsity(model, [{params}]) -> {paths, total}                               (llm/compress/sparsity.lua)
--   compress.shrink(model) -> smaller nn.GPT / nn.Llama, info                           (llm/compress/shrink.lua)
--   compress.groupLasso{model, structure, lambda} -> extension (and :penalty())          (llm/compress/regularize.lua)
--   compress.sparseTraining{model, method='set'|'rigl', sparsity, ...}, compress.set{}, compress.rigl{}
--                                                                                       (llm/compress/dynamic.lua)
--   compress.erk(model, sparsity, [params]) -> {path = density}
--   compress.distill{teacher, alpha, temperature, hidden}, compress.kdLoss(s, t, y, {alpha, temperature})
--                                                                                       (llm/compress/distill.lua)
local masks = require 'llm.compress.masks'
local prune = require 'llm.compress.prune'
local dynamic = require 'llm.compress.dynamic'
local distill = require 'llm.compress.distill'

local compress = {}

compress.prune, compress.pruner = prune.prune, prune.pruner
compress.schedule = require 'llm.compress.schedule'
compress.sparsity = require('llm.compress.sparsity').sparsity
compress.shrink = require('llm.compress.shrink').shrink
compress.groupLasso = require('llm.compress.regularize').groupLasso
compress.sparseTraining, compress.set, compress.rigl, compress.erk = dynamic.sparseTraining, dynamic.set, dynamic.rigl, dynamic.erk
compress.distill, compress.kdLoss = distill.distill, distill.kdLoss
for k, v in pairs(require('llm.compress.quant_api')) do compress[k] = v end   -- quantization: llm/compress/quant_api.lua

--- Sets the mask of one parameter (zeroes its pruned weights).
function compress.setMask(model, path, mask)
  masks.setMany('compress.setMask', model, {[type(path) == 'string' and path or tostring(path)] = mask}, nil, 2)
end

--- Copies of the masks: {path = tensor} (pairs() in the order the masks were set).
function compress.masks(model)
  masks.checkModel('compress.masks', model, 2)
  return masks.copies(model)
end

--- Re-zeroes the pruned weights (after loading weights, for instance).
function compress.applyMasks(model)
  masks.checkModel('compress.applyMasks', model, 2)
  masks.apply(model)
end

--- Zeroes the gradients of pruned weights (a hand-written loop's backward).
function compress.maskGradients(model)
  masks.checkModel('compress.maskGradients', model, 2)
  masks.maskGradients(model)
end

--- The optimizer keeps pruned weights and their state at 0 (a
--- hand-written loop; the extensions attach the Trainer's optimizer themselves).
function compress.attach(model, opt)
  masks.checkModel('compress.attach', model, 2)
  if type(opt) ~= 'userdata' or not pcall(function() return opt.setMask end) then
    error("compress.attach: Invalid 'optimizer': expected an optim optimizer, got " .. type(opt), 2)
  end
  masks.attach(model, opt)
end

--- Makes the pruning permanent (the zeros stay, the masks go); returns how many masks were removed.
function compress.removeMasks(model)
  masks.checkModel('compress.removeMasks', model, 2)
  return masks.remove(model)
end

return compress
