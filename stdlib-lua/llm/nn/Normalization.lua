-- nn.LayerNorm and nn.RMSNorm over the last dim, on the fused Swift kernels (llm.layerNorm, llm.rmsNorm).
-- LayerNorm: weight 1, bias 0, eps 1e-5 (PyTorch defaults); RMSNorm: weight 1, eps 1e-6.
local Module = require 'llm.nn.Module'
local options = require 'llm.nn.options'
local parameter = require('llm.nn.noinit').parameter

local LayerNorm = Module:extend('nn.LayerNorm')

--- nn.LayerNorm(dim, [{eps=1e-5, bias=true, elementwiseAffine=true}]): layer normalization over the last dim.
function LayerNorm:init(dim, opts)
  options.positiveInt('nn.LayerNorm', 'dim', dim, 3)
  local o = options.check('nn.LayerNorm', opts, {eps = 1e-5, bias = true, elementwiseAffine = true}, 3)
  self._dim, self._eps = dim, o.eps
  if o.elementwiseAffine then
    self.weight = parameter({dim}, function() return llm.ones(dim, {requiresGrad = true}) end)
    if o.bias then self.bias = parameter({dim}, function() return llm.zeros(dim, {requiresGrad = true}) end) end
  end
end

function LayerNorm:forward(x)
  return llm.layerNorm(x, rawget(self, 'weight'), rawget(self, 'bias'), self._eps)
end

function LayerNorm:extraRepr() return string.format('%d, eps=%g', self._dim, self._eps) end

local RMSNorm = Module:extend('nn.RMSNorm')

--- nn.RMSNorm(dim, [{eps=1e-6, elementwiseAffine=true}]): RMS normalization over the last dim.
function RMSNorm:init(dim, opts)
  options.positiveInt('nn.RMSNorm', 'dim', dim, 3)
  local o = options.check('nn.RMSNorm', opts, {eps = 1e-6, elementwiseAffine = true}, 3)
  self._dim, self._eps = dim, o.eps
  if o.elementwiseAffine then self.weight = parameter({dim}, function() return llm.ones(dim, {requiresGrad = true}) end) end
end

function RMSNorm:forward(x)
  return llm.rmsNorm(x, rawget(self, 'weight'), self._eps)
end

function RMSNorm:extraRepr() return string.format('%d, eps=%g', self._dim, self._eps) end

return {LayerNorm = LayerNorm, RMSNorm = RMSNorm}
