-- nn.Embedding: a lookup table of num vectors of size dim; ids are 0-based (token ids).
-- weight (num, dim) initialized N(0, 1) as in PyTorch.
local Module = require 'llm.nn.Module'
local options = require 'llm.nn.options'
local parameter = require('llm.nn.noinit').parameter

local Embedding = Module:extend('nn.Embedding')

--- nn.Embedding(num, dim): rows of a (num, dim) table looked up by 0-based ids.
function Embedding:init(num, dim, opts)
  options.positiveInt('nn.Embedding', 'num', num, 3)
  options.positiveInt('nn.Embedding', 'dim', dim, 3)
  options.check('nn.Embedding', opts, {}, 3)
  self._num, self._dim = num, dim
  self.weight = parameter({num, dim}, function() return llm.randn(num, dim, {requiresGrad = true}) end)
end

function Embedding:forward(ids)
  return llm.embedding(self.weight, ids)
end

function Embedding:extraRepr() return string.format('%d, %d', self._num, self._dim) end

return Embedding
