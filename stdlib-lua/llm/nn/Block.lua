-- nn.MLP (Linear -> activation -> Linear -> dropout) and nn.Block, the pre-norm transformer block:
-- x = x + attn(ln1(x)); x = x + mlp(ln2(x)).
local Module = require 'llm.nn.Module'
local Linear = require 'llm.nn.Linear'
local Attention = require 'llm.nn.Attention'
local norms = require 'llm.nn.Normalization'
local act = require 'llm.nn.Activations'
local options = require 'llm.nn.options'

local MLP = Module:extend('nn.MLP')

local activations = {gelu = function(x) return x:gelu({approximate = 'tanh'}) end,
                     geluExact = function(x) return x:gelu() end,
                     relu = function(x) return x:relu() end, silu = function(x) return x:silu() end}

--- nn.MLP(dim, [{hidden=4·dim, bias=true, dropout=0, activation='gelu'}]): Linear -> activation -> Linear.
function MLP:init(dim, opts)
  options.positiveInt('nn.MLP', 'dim', dim, 3)
  local o = options.check('nn.MLP', opts, {hidden = 4 * dim, bias = true, dropout = 0, activation = 'gelu'}, 3)
  if not activations[o.activation] then
    error("nn.MLP: Invalid 'activation': expected one of: 'gelu', 'geluExact', 'relu', 'silu', got '" .. tostring(o.activation) .. "'", 3)
  end
  self._activation, self._dropout = o.activation, o.dropout
  self.fc = Linear(dim, o.hidden, {bias = o.bias})
  self.proj = Linear(o.hidden, dim, {bias = o.bias})
end

function MLP:forward(x)
  return act.dropout(self.proj(activations[self._activation](self.fc(x))), self._dropout, self.training)
end

function MLP:extraRepr() return 'activation=' .. self._activation end

local Block = Module:extend('nn.Block')

--- nn.Block(dim, heads, [{bias, dropout, activation, hidden}]): pre-norm transformer block.
function Block:init(dim, heads, opts)
  local o = options.check('nn.Block', opts, {bias = true, dropout = 0, activation = 'gelu', hidden = 4 * dim}, 3)
  self.ln1 = norms.LayerNorm(dim, {bias = o.bias})
  self.attn = Attention(dim, heads, {bias = o.bias, dropout = o.dropout})
  self.ln2 = norms.LayerNorm(dim, {bias = o.bias})
  self.mlp = MLP(dim, {hidden = o.hidden, bias = o.bias, dropout = o.dropout, activation = o.activation})
end

function Block:forward(x, opts)
  x = x + self.attn(self.ln1(x), opts)
  return x + self.mlp(self.ln2(x))
end

return {MLP = MLP, Block = Block}
