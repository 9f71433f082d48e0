-- Activation and dropout modules: nn.GELU, nn.ReLU, nn.SiLU, nn.Tanh, nn.Dropout.
-- Dropout zeroes each element with probability p in training mode and scales the rest by 1/(1−p).
local Module = require 'llm.nn.Module'
local options = require 'llm.nn.options'

local M = {}

M.GELU = Module:extend('nn.GELU')
--- nn.GELU([{approximate='none'|'tanh'}]): the GELU activation (exact by default).
function M.GELU:init(opts)
  self._approximate = options.check('nn.GELU', opts, {approximate = 'none'}, 3).approximate
  if self._approximate ~= 'none' and self._approximate ~= 'tanh' then
    error("nn.GELU: Invalid 'approximate': expected one of: 'none', 'tanh', got '" .. tostring(self._approximate) .. "'", 3)
  end
end
function M.GELU:forward(x) return x:gelu({approximate = self._approximate}) end
function M.GELU:extraRepr() return self._approximate == 'tanh' and "approximate='tanh'" or '' end

M.ReLU = Module:extend('nn.ReLU')
function M.ReLU:forward(x) return x:relu() end

M.SiLU = Module:extend('nn.SiLU')
function M.SiLU:forward(x) return x:silu() end

M.Tanh = Module:extend('nn.Tanh')
function M.Tanh:forward(x) return x:tanh() end

--- Functional dropout: x with elements zeroed with probability p, the rest scaled by 1/(1-p).
function M.dropout(x, p, training)
  if type(p) ~= 'number' or p < 0 or p > 1 then
    error("dropout: Invalid 'p': expected a number in [0, 1], got " .. tostring(p), 2)
  end
  if not training or p == 0 then return x end
  if p == 1 then return x * 0 end
  local keep = llm.rand(x:shape()):lt(1 - p)
  return x * keep * (1 / (1 - p))
end

M.Dropout = Module:extend('nn.Dropout')
--- nn.Dropout([p=0.5]): zeroes elements with probability p in training mode, scaling the rest by 1/(1-p).
function M.Dropout:init(p)
  p = p or 0.5
  if type(p) ~= 'number' or p < 0 or p > 1 then
    error("nn.Dropout: Invalid 'p': expected a number in [0, 1], got " .. tostring(p), 3)
  end
  self._p = p
end
function M.Dropout:forward(x) return M.dropout(x, self._p, self.training) end
function M.Dropout:extraRepr() return string.format('p=%g', self._p) end

return M
