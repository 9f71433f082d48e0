-- compress quantization-aware training: nn.Linear layers wrapped so that forward sees their weight fake-quantized
-- to int8 per output channel (symmetric: scale = max|w_row|/127, q = round-half-even(w·(1/scale)) clamped to
-- [−127, 127], value q·scale) with a straight-through estimator: the gradient passes unchanged where q was not
-- clamped and is 0 where it was (torch.fake_quantize_per_channel_affine with zero_point 0, quant_min −127,
-- quant_max 127). The wrapper keeps the Linear's own weight and bias tensors, so optimizers built before or after
-- wrapping train them; compress.convert then makes the real int8 model (the same scales and quants).
--   compress.fakeQuantize(w, scale, [qmin=-127], [qmax=127]) -> Tensor   scale: (rows, 1) or a number
--   compress.qat(model, {[targets], [activations=false]}) -> model, count  wraps the targeted nn.Linear layers
--   compress.FakeQuantLinear(linear, [{activations}])                      one wrapped layer
--   compress.convert(model, [{format='int8'}]) -> model, info               the wrappers -> compress.QuantLinear
-- activations = true also fake-quantizes each layer's input per token (dynamic max|x|/127), as the int8 product does.
local Module = require 'llm.nn.Module'
local Linear = require 'llm.nn.Linear'
local quant = require 'llm.compress.quant'

local M = {}

--- Fake quantization with a straight-through estimator (see the header).
function M.fakeQuantize(w, scale, qmin, qmax)
  qmin, qmax = qmin or -127, qmax or 127
  local inv = llm.noGrad(function() return type(scale) == 'number' and 1 / scale or scale:detach():pow(-1) end)
  local q = (w:detach() * inv):round()
  local inside = q:ge(qmin) * q:le(qmax)
  local value = (q:clamp(qmin, qmax) * scale):detach()
  return value + (w - w:detach()) * inside
end

-- Symmetric per-row int8 scales of a 2-D tensor: max|row|/127, 1 for an all-zero row; (rows, 1), no gradient.
local function rowScales(w)
  return llm.noGrad(function()
    local amax = w:detach():abs():max(2, true)
    return amax:div(127) + amax:eq(0)
  end)
end
M.rowScales = rowScales

local FakeQuantLinear = Module:extend('compress.FakeQuantLinear')
M.FakeQuantLinear = FakeQuantLinear

--- compress.FakeQuantLinear(linear, [{activations=false}]): linear's weight (and bias) under int8 fake quantization.
function FakeQuantLinear:init(linear, opts)
  self._in, self._out = linear.weight:size(2), linear.weight:size(1)
  self._activations = opts and opts.activations or false
  self.weight = linear.weight
  if rawget(linear, 'bias') then self.bias = linear.bias end
end

function FakeQuantLinear:forward(x)
  if self._activations then
    local shape = x:shape()
    local rows = x:reshape(-1, shape[#shape])
    x = M.fakeQuantize(rows, rowScales(rows)):reshape(table.unpack(shape))
  end
  return llm.linear(x, M.fakeQuantize(self.weight, rowScales(self.weight)), rawget(self, 'bias'))
end

function FakeQuantLinear:extraRepr()
  return string.format('%d -> %d, int8 fake-quant%s', self._in, self._out, self._activations and ' (+ activations)' or '')
end

--- compress.qat(model, {[targets], [activations=false]}) -> model, count: wraps the targeted nn.Linear layers in place.
function M.qat(model, opts)
  local who = 'compress.qat'
  if not Module.isModule(model) then error(who .. ": Invalid 'model': expected an nn.Module, got " .. type(model), 2) end
  opts = opts or {}
  for k in pairs(opts) do
    if k ~= 'targets' and k ~= 'activations' then error(who .. ": unknown option '" .. tostring(k) .. "'; expected one of: 'targets', 'activations'", 2) end
  end
  if rawget(model, '_quantization') then error(who .. ': the model is already quantized; train the float model', 2) end
  local layers = {}
  for _, e in ipairs(quant.eachModule(model)) do
    if e[2].__name == 'compress.FakeQuantLinear' or e[2].__name == 'compress.QuantLinear' then
      error(string.format("%s: '%s' is already a %s", who, e[1], e[2].__name), 2)
    end
    local t = opts.targets
    local hit = t == nil or (type(t) == 'string' and e[1]:match(t)) or (type(t) == 'function' and t(e[1], e[2]))
    if type(t) == 'table' then for _, p in ipairs(t) do hit = hit or p == e[1] end end
    if e[2].__name == 'nn.Linear' and hit then layers[#layers + 1] = e end
  end
  if #layers == 0 then error(who .. ': no nn.Linear selected (targets matched none)', 2) end
  for _, e in ipairs(layers) do quant.replace(e[3], e[4], FakeQuantLinear(e[2], {activations = opts.activations})) end
  return model, #layers
end

--- compress.convert(model) -> model, info: every compress.FakeQuantLinear becomes an int8 compress.QuantLinear
--- (compress.quantize with format 'int8' on those layers).
function M.convert(model, opts)
  local who = 'compress.convert'
  if not Module.isModule(model) then error(who .. ": Invalid 'model': expected an nn.Module, got " .. type(model), 2) end
  if opts ~= nil and (type(opts) ~= 'table' or (opts.format or 'int8') ~= 'int8') then
    error(who .. ": Invalid 'format': QAT simulates 'int8' (per channel), so it converts to 'int8'", 2)
  end
  local paths = {}
  for _, e in ipairs(quant.eachModule(model)) do
    if e[2].__name == 'compress.FakeQuantLinear' then
      local fq = e[2]
      local lin = Linear(fq._in, fq._out, {bias = rawget(fq, 'bias') ~= nil})
      rawset(lin, 'weight', fq.weight)
      if rawget(fq, 'bias') then rawset(lin, 'bias', fq.bias) end
      quant.replace(e[3], e[4], lin)
      paths[#paths + 1] = e[1]
    end
  end
  if #paths == 0 then error(who .. ': the model has no compress.FakeQuantLinear (run compress.qat first)', 2) end
  return quant.quantize(model, {format = 'int8', targets = paths})
end

return M
