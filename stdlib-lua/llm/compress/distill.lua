-- Knowledge distillation (Hinton et al. 2015).
-- compress.kdLoss(studentLogits, teacherLogits, targets, [{alpha=0.5, temperature=2}]): the KD loss
--   (1 − α)·CE(student, targets) + α·T²·KL(softmax(z_t/T) ‖ softmax(z_s/T)), logits (..., V), targets the
--   0-based class ids (...), −100 ignored (nn.GPT's ignoreIndex); the KL is nn.klDiv's, averaged over the
--   positions (all leading dims), the teacher's logits are constants.
-- compress.distill{teacher, alpha=0.5, temperature=2, hidden=false, hiddenWeight=1, name='distill'}: a
--   Trainer extension (llm/extensions.lua) for teacher -> student training. afterForward replaces the
--   student's loss (its CE) by the KD loss with the teacher's logits on the same batch (teacher in eval
--   mode, no gradients; it gets the batch's options too, teacher(x, nil, batch.opts): packed
--   llm.data.instructions' segments and positions). hidden = true adds hiddenWeight·MSE between the
--   student's last block output and the teacher's; a table {[studentBlock] = teacherBlock, ...} (1-based) matches chosen blocks. Hidden
--   states are captured by wrapping those blocks' forward (models with `blocks`: nn.GPT, nn.Llama); their
--   widths must agree. Validation loss stays the student's own CE.
local options = require 'llm.nn.options'
local losses = require 'llm.nn.losses'
local masks = require 'llm.compress.masks'
local check = require 'llm.compress.check'

local M = {}

local function kd(ce, student, teacher, alpha, t)
  local v = student:size(student:dim())
  local kl = losses.klDiv(student:reshape(-1, v), teacher:reshape(-1, v), {temperature = t})
  return ce * (1 - alpha) + kl * alpha
end

local function checkKD(who, alpha, t, level)
  check.fraction(who, 'alpha', alpha, level + 1)
  if type(t) ~= 'number' or not (t > 0) then
    error(string.format("%s: Invalid 'temperature': expected a positive number, got %s", who, tostring(t)), level + 1)
  end
end

--- (studentLogits, teacherLogits, targets, [{alpha=0.5, temperature=2}]) -> Tensor: (1 − α)·CE + α·T²·KL(softmax(z_t/T) ‖ softmax(z_s/T)).
function M.kdLoss(student, teacher, targets, opts)
  local who = 'compress.kdLoss'
  local o = options.check(who, opts, {alpha = 0.5, temperature = 2}, 2)
  checkKD(who, o.alpha, o.temperature, 2)
  if not (llm.isTensor(student) and llm.isTensor(teacher) and llm.isTensor(targets)) then
    error(who .. ': expected (studentLogits, teacherLogits, targets) tensors', 2)
  end
  if table.concat(student:shape(), ',') ~= table.concat(teacher:shape(), ',') then
    error(string.format('%s: student logits [%s] and teacher logits [%s] must have the same shape', who,
      table.concat(student:shape(), ', '), table.concat(teacher:shape(), ', ')), 2)
  end
  return kd(llm.crossEntropy(student, targets, {ignoreIndex = -100}), student, teacher, o.alpha, o.temperature)
end

-- Wraps block `i` of model's blocks so that its output lands in store[i].
local function capture(who, model, i, store, level)
  local blocks = rawget(model, 'blocks')
  local block = blocks and blocks[i]
  if not block then error(string.format('%s: the model has no block %d to match hidden states at', who, i), level + 1) end
  local cls = getmetatable(block)
  rawset(block, 'forward', function(self, ...)
    local y = cls.forward(self, ...)
    store[i] = y
    return y
  end)
end

local Distill = {}
Distill.__index = Distill

--- {teacher, alpha=0.5, temperature=2, hidden, hiddenWeight=1, name='distill'}: a Trainer extension training the model on the KD loss against the teacher (optionally matching hidden states).
function M.distill(opts)
  local who = 'compress.distill'
  local o = options.check(who, opts, {teacher = options.NONE, alpha = 0.5, temperature = 2, hidden = options.NONE, hiddenWeight = 1,
                                      name = 'distill'}, 2)
  masks.checkModel(who, o.teacher, 2)
  checkKD(who, o.alpha, o.temperature, 2)
  if o.hidden ~= nil and type(o.hidden) ~= 'boolean' and type(o.hidden) ~= 'table' then
    error(who .. ": Invalid 'hidden': expected a boolean or a table {[studentBlock] = teacherBlock}, got " .. type(o.hidden), 2)
  end
  o.teacher:eval()
  return setmetatable({name = o.name, who = who, o = o, studentStore = {}, teacherStore = {}}, Distill)
end

function Distill:onRunStart(trainer)
  local o = self.o
  if o.hidden and not self.pairs then
    local pairsList = {}
    if o.hidden == true then
      local sb, tb = rawget(trainer.model, 'blocks'), rawget(o.teacher, 'blocks')
      if not (sb and tb) then error(self.who .. ': hidden = true needs models with blocks (nn.GPT)', 0) end
      pairsList[1] = {#sb, #tb}
    else
      for s, t in pairs(o.hidden) do pairsList[#pairsList + 1] = {s, t} end
      table.sort(pairsList, function(a, b) return a[1] < b[1] end)
    end
    for _, p in ipairs(pairsList) do
      capture(self.who, trainer.model, p[1], self.studentStore, 1)
      capture(self.who, o.teacher, p[2], self.teacherStore, 1)
    end
    self.pairs = pairsList
  end
end

function Distill:afterForward(_, batch, out)
  if not out.logits then error(self.who .. ': the step has no student logits (an extension ran the forward)', 0) end
  local teacherLogits = llm.noGrad(function() return self.o.teacher(batch.x, nil, batch.opts) end)
  local loss = kd(out.loss, out.logits, teacherLogits, self.o.alpha, self.o.temperature)
  if self.pairs then
    for _, p in ipairs(self.pairs) do
      local s, t = self.studentStore[p[1]], self.teacherStore[p[2]]
      if s:size(s:dim()) ~= t:size(t:dim()) then
        error(string.format('%s: hidden widths differ (student block %d: %d, teacher block %d: %d)', self.who, p[1],
          s:size(s:dim()), p[2], t:size(t:dim())), 0)
      end
      loss = loss + losses.mse(s, t:detach()) * (self.o.hiddenWeight / #self.pairs)
    end
    for _, store in ipairs({self.studentStore, self.teacherStore}) do   -- the captures' tables: cleared in place
      for k in pairs(store) do store[k] = nil end
    end
  end
  out.loss = loss
end

return M
