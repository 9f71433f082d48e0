-- nn.lora: low-rank adapters (LoRA, Hu et al. 2021; the layout of HF PEFT).
--   nn.lora(model, {rank, alpha=rank, targets = {'attn.qkv', ...} | function(path, module), dropout=0,
--           stateDict='full'|'adapters'})
-- replaces each matching nn.Linear (a target string matches the Linear's path or its last components:
-- 'attn.qkv' matches 'blocks.0.attn.qkv') by an nn.LoRALinear that keeps the Linear's weight and bias
-- (frozen) under the same paths and adds lora_A (rank x in, Kaiming-uniform as PEFT) and lora_B
-- (out x rank, zeros): y = x·Wᵀ + b + (alpha/rank)·(dropout(x)·Aᵀ)·Bᵀ. Every other parameter of the
-- model is frozen (requiresGrad false), so model:parameters() — and optimizers built from it — hold only
-- the adapters. With stateDict='adapters' the model's stateDict/loadStateDict (and so llm.Trainer's
-- checkpoints and resume) hold only the adapters.
--   nn.lora.merge(model)          folds B·A·alpha/rank into each base weight, restores plain nn.Linears
--                                 and unfreezes what nn.lora froze; returns the model
--   nn.lora.stateDict(model)      path -> adapter tensor ('blocks.0.attn.qkv.lora_A.weight', ...)
--   nn.lora.loadStateDict(model, sd)  copies adapters (exactly the model's adapter paths; checked first)
--   nn.lora.adapters(model)       list of {path, module} of the LoRA layers
local Module = require 'llm.nn.Module'
local Linear = require 'llm.nn.Linear'
local dropout = require('llm.nn.Activations').dropout
local options = require 'llm.nn.options'
local noinit = require 'llm.nn.noinit'

local LoRALinear = Module:extend('nn.LoRALinear')

--- nn.LoRALinear(linear, rank, alpha, [dropout=0]): linear's (frozen) weight and bias plus a trainable low-rank update.
function LoRALinear:init(linear, rank, alpha, p)
  local w = linear.weight
  self._in, self._out, self._rank, self._scale, self._dropout = w:size(2), w:size(1), rank, alpha / rank, p or 0
  self.weight = w
  if rawget(linear, 'bias') then self.bias = linear.bias end
  self.lora_A = Linear(self._in, rank, {bias = false})   -- U(±1/√in): kaiming_uniform_(a=√5), as PEFT
  self.lora_B = Linear(rank, self._out, {bias = false})
  if not noinit.active() then llm.noGrad(function() self.lora_B.weight:zero_() end) end
end

function LoRALinear:forward(x)
  local y = llm.linear(x, self.weight, rawget(self, 'bias'))
  local update = llm.linear(llm.linear(dropout(x, self._dropout, self.training), self.lora_A.weight), self.lora_B.weight)
  return y + update * self._scale
end

function LoRALinear:extraRepr()
  return string.format('%d -> %d, rank=%d, scale=%g', self._in, self._out, self._rank, self._scale)
end

local lora = {LoRALinear = LoRALinear}

local function matcher(targets, level)
  if type(targets) == 'function' then return targets end
  if type(targets) ~= 'table' or #targets == 0 then
    error("nn.lora: Invalid 'targets': expected a non-empty list of module paths or a function(path, module), got " .. type(targets), level + 1)
  end
  for i, t in ipairs(targets) do
    if type(t) ~= 'string' or t == '' then error(string.format("nn.lora: Invalid 'targets': entry %d is not a non-empty string", i), level + 1) end
  end
  return function(path)
    for _, t in ipairs(targets) do
      if path == t or path:sub(-#t - 1) == '.' .. t then return true end
    end
    return false
  end
end

--- List of {path, module} of the model's LoRA layers, in module order.
function lora.adapters(model)
  if not Module.isModule(model) then error("bad argument #1 to 'adapters' (nn.Module expected, got " .. type(model) .. ')', 2) end
  local out = {}
  for _, e in ipairs(model:_descendants()) do
    if getmetatable(e[2]) == LoRALinear then out[#out + 1] = {e[1], e[2]} end
  end
  return out
end

--- path -> adapter tensor of every LoRA layer ('<path>.lora_A.weight', '<path>.lora_B.weight').
function lora.stateDict(model)
  local out, put = Module.orderedTable()
  for _, a in ipairs(lora.adapters(model)) do
    put(a[1] .. '.lora_A.weight', a[2].lora_A.weight)
    put(a[1] .. '.lora_B.weight', a[2].lora_B.weight)
  end
  return out
end

--- Copies adapters from sd (exactly the model's adapter paths, same shapes); checks everything first.
function lora.loadStateDict(model, sd)
  if type(sd) ~= 'table' then error("bad argument #2 to 'loadStateDict' (table expected, got " .. type(sd) .. ')', 2) end
  local own = lora.stateDict(model)
  local missing, unexpected = {}, {}
  for path, t in pairs(own) do
    local src = sd[path]
    if src == nil then missing[#missing + 1] = path
    elseif not llm.isTensor(src) then error("nn.lora.loadStateDict: '" .. path .. "' is a " .. type(src) .. ', expected llm.Tensor', 2)
    elseif table.concat(src:shape(), ',') ~= table.concat(t:shape(), ',') then
      error(string.format("nn.lora.loadStateDict: '%s' has shape [%s] in the state dict but [%s] in the model",
        path, table.concat(src:shape(), ', '), table.concat(t:shape(), ', ')), 2)
    end
  end
  for path in pairs(sd) do if own[path] == nil then unexpected[#unexpected + 1] = path end end
  table.sort(missing); table.sort(unexpected)
  if #missing > 0 or #unexpected > 0 then
    local parts = {}
    if #missing > 0 then parts[#parts + 1] = 'missing keys: ' .. table.concat(missing, ', ') end
    if #unexpected > 0 then parts[#parts + 1] = 'unexpected keys: ' .. table.concat(unexpected, ', ') end
    error('nn.lora.loadStateDict: ' .. table.concat(parts, '; '), 2)
  end
  llm.noGrad(function() for path, t in pairs(own) do t:copy_(sd[path]) end end)
  return model
end

-- stateDict='adapters': the model's own state dict methods see only the adapters
local function adaptersOnlyStateDict(self) return lora.stateDict(self) end

--- Wraps the matching Linears of model with LoRA adapters and freezes everything else; returns model.
function lora.wrap(model, opts)
  if not Module.isModule(model) then error("bad argument #1 to 'nn.lora' (nn.Module expected, got " .. type(model) .. ')', 2) end
  local o = options.check('nn.lora', opts, {rank = options.NONE, alpha = options.NONE, targets = options.NONE,
                                            dropout = 0, stateDict = 'full'}, 2)
  options.positiveInt('nn.lora', 'rank', o.rank, 2)
  local alpha = o.alpha or o.rank
  if type(alpha) ~= 'number' or alpha ~= alpha then error("nn.lora: Invalid 'alpha': expected a number, got " .. tostring(alpha), 2) end
  if o.dropout < 0 or o.dropout >= 1 then error("nn.lora: Invalid 'dropout': expected a number in [0, 1), got " .. tostring(o.dropout), 2) end
  if o.stateDict ~= 'full' and o.stateDict ~= 'adapters' then
    error("nn.lora: Invalid 'stateDict': expected one of: 'full', 'adapters', got '" .. tostring(o.stateDict) .. "'", 2)
  end
  if #lora.adapters(model) > 0 then error('nn.lora: the model already has LoRA adapters (merge them first)', 2) end
  local match = matcher(o.targets, 2)
  -- how many paths hold each tensor: a tied weight (also used elsewhere) cannot take an adapter
  local uses = {}
  for _, t in pairs(model:stateDict()) do uses[t] = (uses[t] or 0) + 1 end
  local found = {}
  for _, e in ipairs(model:_descendants()) do
    if getmetatable(e[2]) == Linear and match(e[1], e[2]) then found[#found + 1] = e end
  end
  if #found == 0 then error('nn.lora: no nn.Linear matches the targets', 2) end
  for _, f in ipairs(found) do
    if uses[f[2].weight] > 1 then error("nn.lora: '" .. f[1] .. "' has a tied weight (shared with another module); it cannot take an adapter", 2) end
  end
  local frozen = {}
  for _, p in ipairs(model:parameters()) do p.requiresGrad = false; frozen[#frozen + 1] = p end
  for _, f in ipairs(found) do
    local wrapper = LoRALinear(f[2], o.rank, alpha, o.dropout)
    wrapper:train(f[2].training)
    f[3]:_replaceChild(f[4], wrapper)
  end
  rawset(model, '_loraFrozen', frozen)
  if o.stateDict == 'adapters' then rawset(model, 'stateDict', adaptersOnlyStateDict) end
  return model
end

--- Folds every adapter into its base weight (W += alpha/rank · B·A), restores plain nn.Linears, unfreezes
--- the parameters nn.lora froze and the full state dict; returns the model.
function lora.merge(model)
  local list = {}
  for _, e in ipairs(model:_descendants()) do
    if getmetatable(e[2]) == LoRALinear then list[#list + 1] = {e[2], e[3], e[4]} end
  end
  if #list == 0 then error('nn.lora.merge: the model has no LoRA adapters', 2) end
  llm.noGrad(function()
    for _, e in ipairs(list) do
      local m = e[1]
      m.weight:add_(m.lora_B.weight:matmul(m.lora_A.weight) * m._scale)
      local lin = setmetatable({_isModule = true, _order = {}, _seen = {}, training = m.training}, Linear)
      lin._in, lin._out = m._in, m._out
      lin.weight = m.weight
      if rawget(m, 'bias') then lin.bias = m.bias end
      e[2]:_replaceChild(e[3], lin)
    end
  end)
  for _, p in ipairs(rawget(model, '_loraFrozen') or {}) do p.requiresGrad = true end
  rawset(model, '_loraFrozen', nil)
  if rawget(model, 'stateDict') == adaptersOnlyStateDict then rawset(model, 'stateDict', nil) end
  return model
end

return setmetatable(lora, {__call = function(_, model, opts) return lora.wrap(model, opts) end})
