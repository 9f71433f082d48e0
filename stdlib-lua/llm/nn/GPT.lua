-- nn.GPT: a GPT-2 style decoder — token + learned position embeddings, pre-norm blocks, final
-- LayerNorm, LM head tied to the token embedding. GPT-2 init: N(0, 0.02) weights, zero biases, and
-- residual projections scaled by 1/√(2·layers). idx (B,T) 0-based token ids -> logits (B,T,vocab).
-- reference: Radford et al. 2019; nanoGPT model.py.
local Module = require 'llm.nn.Module'
local Linear = require 'llm.nn.Linear'
local Embedding = require 'llm.nn.Embedding'
local norms = require 'llm.nn.Normalization'
local containers = require 'llm.nn.Containers'
local Block = require('llm.nn.Block').Block
local dropout = require('llm.nn.Activations').dropout
local options = require 'llm.nn.options'

local GPT = Module:extend('nn.GPT')

local defaults = {vocab = options.NONE, blockSize = options.NONE, layers = options.NONE, heads = options.NONE,
                  dim = options.NONE, dropout = 0, bias = true, tieWeights = true, activation = 'gelu'}

--- nn.GPT{vocab, blockSize, layers, heads, dim, [dropout=0, bias=true, tieWeights=true, activation]}: a GPT-2 style model.
function GPT:init(cfg)
  local c = options.check('nn.GPT', cfg, defaults, 3)
  for _, k in ipairs({'vocab', 'blockSize', 'layers', 'heads', 'dim'}) do options.positiveInt('nn.GPT', k, c[k], 3) end
  self._config = c
  self.tokEmb = Embedding(c.vocab, c.dim)
  self.posEmb = Embedding(c.blockSize, c.dim)
  self.blocks = containers.ModuleList()
  for _ = 1, c.layers do
    self.blocks:add(Block(c.dim, c.heads, {bias = c.bias, dropout = c.dropout, activation = c.activation}))
  end
  self.lnF = norms.LayerNorm(c.dim, {bias = c.bias})
  self.head = Linear(c.dim, c.vocab, {bias = false})
  self:resetParameters()
  if c.tieWeights then rawset(self.head, 'weight', self.tokEmb.weight) end
end

--- GPT-2 initialization of every parameter (deterministic given llm.manualSeed).
function GPT:resetParameters()
  local residualStd = 0.02 / math.sqrt(2 * self._config.layers)
  llm.noGrad(function()
    for path, p in pairs(self:namedParameters()) do
      if path:match('%.bias$') then p:zero_()
      elseif path:match('^lnF%.weight$') or path:match('%.ln%d%.weight$') then p:fill_(1)
      elseif path:match('%.attn%.proj%.weight$') or path:match('%.mlp%.proj%.weight$') then p:normal_(0, residualStd)
      else p:normal_(0, 0.02) end
    end
  end)
end

--- The configuration table the model was built with.
function GPT:config()
  local out = {}
  for k, v in pairs(self._config) do out[k] = v end
  return out
end

--- logits (B,T,vocab), and the mean cross-entropy loss when targets (B,T) are given.
--- opts.cache (generation): {length = positions already cached, layers = {}}.
function GPT:forward(idx, targets, opts)
  local o = options.check('nn.GPT', opts, {cache = options.NONE})
  if not llm.isTensor(idx) or idx:dim() ~= 2 then
    error('expected token ids of shape [batch, time], got ' .. (llm.isTensor(idx) and ('[' .. table.concat(idx:shape(), ', ') .. ']') or type(idx)), 2)
  end
  local t = idx:size(2)
  local start = o.cache and o.cache.length or 0
  if start + t > self._config.blockSize then
    error(string.format('sequence length %d exceeds blockSize %d', start + t, self._config.blockSize), 2)
  end
  local pos = llm.arange(start, start + t, {dtype = 'int64'})
  local x = dropout(self.tokEmb(idx) + self.posEmb(pos), self._config.dropout, self.training)
  for i = 1, #self.blocks do
    local layerCache = nil
    if o.cache then
      o.cache.layers = o.cache.layers or {}
      o.cache.layers[i] = o.cache.layers[i] or {}
      layerCache = {cache = o.cache.layers[i]}
    end
    x = self.blocks[i](x, layerCache)
  end
  if o.cache then o.cache.length = start + t end
  local logits = self.head(self.lnF(x))
  if targets == nil then return logits end
  return logits, llm.crossEntropy(logits, targets)
end

function GPT:extraRepr()
  local c = self._config
  return string.format('vocab=%d, blockSize=%d, layers=%d, heads=%d, dim=%d', c.vocab, c.blockSize, c.layers, c.heads, c.dim)
end

require('llm.nn.generate')(GPT)

return GPT
