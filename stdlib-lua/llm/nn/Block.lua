-- nn.MLP (Linear -> activation -> Linear -> dropout) and nn.Block, the transformer block.
-- Gated activations ('swiglu', 'geglu') use one fused Linear fc (dim -> 2·hidden) whose first half is
-- the gate: act(gate) * up (llm.swiglu / llm.geglu), then proj (hidden -> dim).
-- nn.Block is pre-norm by default: x = x + attn(norm1(x)); x = x + mlp(norm2(x)); with postNorm
-- (the original Transformer, GPT-1, BERT): x = norm1(x + attn(x)); x = norm2(x + mlp(x)).
-- Norms are LayerNorm ('layer') or RMSNorm ('rms'); the norm modules are named ln1 and ln2 either way.
local Module = require 'llm.nn.Module'
local Linear = require 'llm.nn.Linear'
local Attention = require 'llm.nn.Attention'
local norms = require 'llm.nn.Normalization'
local act = require 'llm.nn.Activations'
local options = require 'llm.nn.options'

local MLP = Module:extend('nn.MLP')

-- 'geluTanh' is GPT-2's tanh approximation and 'geluExact' the erf form (nn.GELU's and HF's 'gelu');
-- 'gelu', the old name of the tanh form, still loads old configs and checkpoints (configs now say geluTanh).
local function geluTanh(x) return x:gelu({approximate = 'tanh'}) end
local activations = {geluTanh = geluTanh, gelu = geluTanh,
                     geluExact = function(x) return x:gelu() end,
                     relu = function(x) return x:relu() end, silu = function(x) return x:silu() end,
                     swiglu = function(x) return llm.swiglu(x) end, geglu = function(x) return llm.geglu(x) end}
local gated = {swiglu = true, geglu = true}
local activationNames = "'geluTanh', 'geluExact', 'relu', 'silu', 'swiglu', 'geglu'"

--- nn.MLP(dim, [{hidden=4·dim, bias=true, dropout=0, activation='geluTanh'|'geluExact'|'relu'|'silu'|'swiglu'|'geglu'}]): Linear -> activation -> Linear ('gelu' = the old name of 'geluTanh').
function MLP:init(dim, opts)
  options.positiveInt('nn.MLP', 'dim', dim, 3)
  local o = options.check('nn.MLP', opts, {hidden = 4 * dim, bias = true, dropout = 0, activation = 'geluTanh'}, 3)
  if not activations[o.activation] then
    error("nn.MLP: Invalid 'activation': expected one of: " .. activationNames .. ", got '" .. tostring(o.activation) .. "'", 3)
  end
  options.positiveInt('nn.MLP', 'hidden', o.hidden, 3)
  self._activation, self._dropout = o.activation == 'gelu' and 'geluTanh' or o.activation, o.dropout
  self.fc = Linear(dim, gated[o.activation] and 2 * o.hidden or o.hidden, {bias = o.bias})
  self.proj = Linear(o.hidden, dim, {bias = o.bias})
end

function MLP:forward(x)
  return act.dropout(self.proj(activations[self._activation](self.fc(x))), self._dropout, self.training)
end

function MLP:extraRepr() return 'activation=' .. self._activation end

--- Builds the norm named by kind ('layer' or 'rms') over dim; `who` names the caller in errors.
local function makeNorm(kind, dim, bias, eps, who, level)
  if kind == 'layer' then return norms.LayerNorm(dim, {bias = bias, eps = eps or 1e-5}) end
  if kind == 'rms' then return norms.RMSNorm(dim, {eps = eps or 1e-6}) end
  error(who .. ": Invalid 'norm': expected one of: 'layer', 'rms', got '" .. tostring(kind) .. "'", level + 1)
end

local Block = Module:extend('nn.Block')

local blockDefaults = {bias = true, dropout = 0, activation = 'geluTanh', hidden = options.NONE, norm = 'layer',
  normEps = options.NONE, postNorm = false, kvHeads = options.NONE, positions = 'none', ropeBase = 10000,
  ropeScaling = options.NONE, window = options.NONE, qkNorm = false}
blockDefaults.headDim = options.NONE   -- the attention's head size (default dim/heads; pruned heads: llm/compress)

--- nn.Block(dim, heads, [{bias, dropout, activation, hidden=4·dim, norm='layer'|'rms', normEps, postNorm=false, kvHeads, positions,
--- ropeBase, ropeScaling, window, qkNorm, headDim=dim/heads}]): a transformer block.
function Block:init(dim, heads, opts)
  local o = options.check('nn.Block', opts, blockDefaults, 3)
  self._postNorm = o.postNorm
  self.ln1 = makeNorm(o.norm, dim, o.bias, o.normEps, 'nn.Block', 3)
  self.attn = Attention(dim, heads, {bias = o.bias, dropout = o.dropout, kvHeads = o.kvHeads or heads,
    positions = o.positions, ropeBase = o.ropeBase, ropeScaling = o.ropeScaling, window = o.window,
    qkNorm = o.qkNorm, normEps = o.normEps or 1e-6, headDim = o.headDim})
  self.ln2 = makeNorm(o.norm, dim, o.bias, o.normEps, 'nn.Block', 3)
  self.mlp = MLP(dim, {hidden = o.hidden or 4 * dim, bias = o.bias, dropout = o.dropout, activation = o.activation})
end

function Block:forward(x, opts)
  if self._postNorm then
    x = self.ln1(x + self.attn(x, opts))
    return self.ln2(x + self.mlp(x))
  end
  x = x + self.attn(self.ln1(x), opts)
  return x + self.mlp(self.ln2(x))
end

return {MLP = MLP, Block = Block, makeNorm = makeNorm}
