-- Supervised heads on a decoder trunk (nn.GPT, nn.Llama, or one imported with nn.GPT.fromPretrained /
-- loaded from a checkpoint): the trunk's hiddenStates (B,T,dim) — its final-norm output, the LM head
-- unused — feed a Linear head (N(0, 0.02) weight, zero bias).
--   nn.SequenceClassifier{trunk, classes, [pooling='last'|'mean', weight, dropout=0]}
--     forward(idx (B,T), [targets (B) 0-based], [{mask, positions, keyMask, segments}]) -> logits (B,C), loss
--     pooling over the non-padding tokens (mask (B,T): 1 = token, 0 = padding; default all tokens): 'last'
--     takes the last token with mask 1 (the only one that has seen the whole text under causal attention),
--     'mean' averages them.
--   nn.TokenClassifier{trunk, labels, [weight, dropout=0]}
--     forward(idx (B,T), [targets (B,T) 0-based, ignoreIndex −100 for padding / unlabelled], [opts])
--       -> logits (B,T,L), loss
--   classes/labels: a count or a list of names (then model.names[id + 1] is the name of class id).
--   weight: per-class loss weights (a list or (C) tensor; nn.crossEntropy's weight) against imbalance.
--   model:predict(idx, [opts]) -> Lua list of 0-based class ids (sequence) or of per-row lists (token).
-- With nn.lora(model, {targets = ...}) only the adapters train: unfreeze the head with
-- model.head.weight:requiresGrad_(true) (and the bias) to train it too.
local Module = require 'llm.nn.Module'
local Linear = require 'llm.nn.Linear'
local dropout = require('llm.nn.Activations').dropout
local losses = require 'llm.nn.losses'
local options = require 'llm.nn.options'
local noinit = require 'llm.nn.noinit'

local IGNORE = -100

-- Checks the trunk and the class list; builds the head on `self`. Errors at level (the user's call).
local function build(self, name, trunk, classes, key, o)
  if type(trunk) ~= 'table' or type(trunk.hiddenStates) ~= 'function' or type(trunk._config) ~= 'table' then
    error(name .. ": Invalid 'trunk': expected an nn.GPT or nn.Llama model (with hiddenStates), got " .. type(trunk), 4)
  end
  local n = classes
  if type(classes) == 'table' then
    n = #classes
    self.names = {}
    for i, c in ipairs(classes) do self.names[i] = tostring(c) end
  end
  if math.type(n) ~= 'integer' or n < 2 then
    error(string.format("%s: Invalid '%s': expected a count >= 2 or a list of at least 2 names, got %s", name, key, tostring(classes)), 4)
  end
  self.trunk = trunk
  self.numClasses = n
  self.head = Linear(trunk._config.dim, n)
  if not noinit.active() then llm.noGrad(function() self.head.weight:normal_(0, 0.02); self.head.bias:zero_() end) end
  if o.weight ~= nil then
    local w = llm.isTensor(o.weight) and o.weight or llm.tensor(o.weight)
    if w:dim() ~= 1 or w:size(1) ~= n then error(string.format("%s: Invalid 'weight': expected %d per-class weights", name, n), 4) end
    self._weight = w:detach():float()
  end
  self._dropout = o.dropout
end

-- Trunk options out of the per-call options (mask is the head's own).
local function split(name, opts)
  local o = options.check(name, opts, {mask = options.NONE, positions = options.NONE, keyMask = options.NONE, segments = options.NONE}, 3)
  local trunkOpts = (o.positions or o.keyMask or o.segments) and {positions = o.positions, keyMask = o.keyMask, segments = o.segments} or nil
  return o.mask, trunkOpts
end

local function loss(self, logits, targets)
  return losses.crossEntropy(logits, targets, {ignoreIndex = IGNORE, weight = rawget(self, '_weight')})
end

local SequenceClassifier = Module:extend('nn.SequenceClassifier')

--- nn.SequenceClassifier{trunk, classes, [pooling='last'|'mean', weight, dropout=0]}: a pooled classification head on a decoder trunk.
function SequenceClassifier:init(cfg)
  local o = options.check('nn.SequenceClassifier', cfg, {trunk = options.NONE, classes = options.NONE, pooling = 'last',
                                                          weight = options.NONE, dropout = 0}, 3)
  if o.pooling ~= 'last' and o.pooling ~= 'mean' then
    error("nn.SequenceClassifier: Invalid 'pooling': expected one of: 'last', 'mean', got '" .. tostring(o.pooling) .. "'", 3)
  end
  build(self, 'nn.SequenceClassifier', o.trunk, o.classes, 'classes', o)
  self._pooling = o.pooling
end

--- The pooled features (B,dim) of token ids idx (B,T) over the tokens where mask (B,T) is 1.
function SequenceClassifier:pool(idx, mask, trunkOpts)
  local h = self.trunk:hiddenStates(idx, trunkOpts, 3)
  local b, t = idx:size(1), idx:size(2)
  local m = mask and mask:float() or llm.ones(b, t)
  if self._pooling == 'mean' then
    return (h * m:unsqueeze(3)):sum(2) / m:sum(2):unsqueeze(2):clamp(1, nil)
  end
  local last = (m * llm.arange(1, t + 1):float():unsqueeze(1)):argmax(2)   -- the last position with mask 1
  return (h * last:oneHot(t):reshape(b, t, 1)):sum(2)
end

function SequenceClassifier:forward(idx, targets, opts)
  local mask, trunkOpts = split(self.__name, opts)
  local logits = self.head(dropout(self:pool(idx, mask, trunkOpts), self._dropout, self.training))
  if targets == nil then return logits end
  return logits, loss(self, logits, targets)
end

--- 0-based predicted class ids (a Lua list, one per row), without gradients.
function SequenceClassifier:predict(idx, opts)
  return llm.noGrad(function() return self:forward(idx, nil, opts):argmax(-1):totable() end)
end

function SequenceClassifier:extraRepr()
  return string.format('classes=%d, pooling=%s', self.numClasses, self._pooling)
end

local TokenClassifier = Module:extend('nn.TokenClassifier')

--- nn.TokenClassifier{trunk, labels, [weight, dropout=0]}: a per-token (BIO) classification head on a decoder trunk.
function TokenClassifier:init(cfg)
  local o = options.check('nn.TokenClassifier', cfg, {trunk = options.NONE, labels = options.NONE, weight = options.NONE, dropout = 0}, 3)
  build(self, 'nn.TokenClassifier', o.trunk, o.labels, 'labels', o)
end

function TokenClassifier:forward(idx, targets, opts)
  local _, trunkOpts = split(self.__name, opts)
  local h = self.trunk:hiddenStates(idx, trunkOpts, 3)
  local logits = self.head(dropout(h, self._dropout, self.training))
  if targets == nil then return logits end
  return logits, loss(self, logits, targets)
end

--- 0-based predicted label ids per token (a list of per-row lists), without gradients.
function TokenClassifier:predict(idx, opts)
  return llm.noGrad(function() return self:forward(idx, nil, opts):argmax(-1):totable() end)
end

function TokenClassifier:extraRepr()
  return string.format('labels=%d', self.numClasses)
end

return {SequenceClassifier = SequenceClassifier, TokenClassifier = TokenClassifier, IGNORE = IGNORE}
