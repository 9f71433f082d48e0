-- nn.Linear: y = x·Wᵀ + b over the last dim. weight (out, in), bias (out), as in PyTorch, with
-- PyTorch's default init: U(−1/√in, 1/√in) for both (Kaiming-uniform with a = √5).
local Module = require 'llm.nn.Module'
local options = require 'llm.nn.options'
local parameter = require('llm.nn.noinit').parameter

local Linear = Module:extend('nn.Linear')

--- nn.Linear(inFeatures, outFeatures, [{bias=true}]): y = x·weightᵀ + bias over the last dim.
function Linear:init(inFeatures, outFeatures, opts)
  options.positiveInt('nn.Linear', 'inFeatures', inFeatures, 3)
  options.positiveInt('nn.Linear', 'outFeatures', outFeatures, 3)
  local o = options.check('nn.Linear', opts, {bias = true}, 3)
  self._in, self._out = inFeatures, outFeatures
  local bound = 1 / math.sqrt(inFeatures)
  self.weight = parameter({outFeatures, inFeatures}, function() return llm.rand(outFeatures, inFeatures, {low = -bound, high = bound, requiresGrad = true}) end)
  if o.bias then self.bias = parameter({outFeatures}, function() return llm.rand(outFeatures, {low = -bound, high = bound, requiresGrad = true}) end) end
end

function Linear:forward(x)
  return llm.linear(x, self.weight, rawget(self, 'bias'))
end

function Linear:extraRepr()
  return string.format('%d -> %d%s', self._in, self._out, rawget(self, 'bias') and '' or ', bias=false')
end

return Linear
