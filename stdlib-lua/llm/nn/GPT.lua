-- nn.GPT: a GPT-2 style decoder — token + learned position embeddings, pre-norm blocks, final
-- LayerNorm, LM head tied to the token embedding. GPT-2 init: N(0, 0.02) weights, zero biases, and
-- residual projections scaled by 1/√(2·layers). idx (B,T) 0-based token ids -> logits (B,T,vocab).
-- Options choose the structure (defaults are GPT-2's): positions 'learned' | 'sinusoidal' (a fixed
-- table, no parameters) | 'rope' | 'alibi' (inside attention, no embedding), norm 'layer' | 'rms',
-- postNorm (then no final norm), activation ('geluTanh' = GPT-2's tanh GELU, 'geluExact', 'relu', 'silu',
-- 'swiglu', 'geglu'; the old name 'gelu' of the tanh form is read as 'geluTanh'), kvHeads (grouped-query),
-- window (sliding-window attention), qkNorm, tieWeights. nn.Llama (Llama.lua) is this model with
-- Llama's choices. layerConfig = {{heads=, kvHeads=, hidden=}, ...} (one table per block, fields optional)
-- overrides a block's query/key-value head counts and MLP width: the shape of a model whose heads/neurons
-- were removed (compress.shrink, llm/compress/shrink.lua); its heads keep the size dim/heads.
-- forward(idx, [targets], [{cache, positions, offset, keyMask, segments}]): the per-call options are the
-- attention's position/mask interface (Attention.lua); positions also index the position embedding.
-- reference: Radford et al. 2019; nanoGPT model.py.
local Module = require 'llm.nn.Module'
local Linear = require 'llm.nn.Linear'
local Embedding = require 'llm.nn.Embedding'
local Attention = require 'llm.nn.Attention'
local containers = require 'llm.nn.Containers'
local blockModule = require 'llm.nn.Block'
local Block, makeNorm = blockModule.Block, blockModule.makeNorm
local dropout = require('llm.nn.Activations').dropout
local options = require 'llm.nn.options'

local GPT = Module:extend('nn.GPT')

local defaults = {vocab = options.NONE, blockSize = options.NONE, layers = options.NONE, heads = options.NONE,
                  dim = options.NONE, dropout = 0, bias = true, tieWeights = true, activation = 'geluTanh',
                  positions = 'learned', norm = 'layer', normEps = options.NONE, postNorm = false,
                  kvHeads = options.NONE, hidden = options.NONE, ropeBase = 10000, ropeScaling = options.NONE,
                  window = options.NONE, qkNorm = false}
defaults.layerConfig = options.NONE   -- per-block {heads, kvHeads, hidden} overrides (a shrunk model)

local positionKinds = {learned = true, sinusoidal = true, rope = true, alibi = true}

-- The fixed sinusoidal table (n, dim) of Vaswani et al.: sin(p / 10000^(2i/dim)) at 2i, cos at 2i+1.
local function sinusoidTable(n, dim)
  local data = {}
  for p = 0, n - 1 do
    for j = 0, dim - 1 do
      local angle = p / 10000 ^ ((j - j % 2) / dim)
      data[#data + 1] = j % 2 == 0 and math.sin(angle) or math.cos(angle)
    end
  end
  return llm.tensor(data):reshape(n, dim)
end

--- nn.GPT{vocab, blockSize, layers, heads, dim, [dropout=0, bias=true, tieWeights=true, activation='geluTanh', positions='learned'|'sinusoidal'|'rope'|'alibi', norm='layer'|'rms', normEps, postNorm=false, kvHeads, hidden=4·dim, ropeBase=10000, ropeScaling, window, qkNorm=false, layerConfig]}: a GPT-2 style model.
function GPT:init(cfg)
  self:_build(options.check(self.__name, cfg, defaults, 3), 4)
  if not require('llm.nn.noinit').active() then self:resetParameters() end   -- nn.withoutInit: a loader fills them
  if self._config.tieWeights then rawset(self.head, 'weight', self.tokEmb.weight) end
end

-- Builds the modules from a checked config (errors at `level`).
function GPT:_build(c, level)
  local name = self.__name
  for _, k in ipairs({'vocab', 'blockSize', 'layers', 'heads', 'dim'}) do options.positiveInt(name, k, c[k], level) end
  if c.dim % c.heads ~= 0 then error(string.format('%s: dim (%d) must be divisible by heads (%d)', name, c.dim, c.heads), level) end
  if c.kvHeads ~= nil then
    options.positiveInt(name, 'kvHeads', c.kvHeads, level)
    if c.heads % c.kvHeads ~= 0 then
      error(string.format('%s: heads (%d) must be divisible by kvHeads (%d)', name, c.heads, c.kvHeads), level)
    end
  end
  if not positionKinds[c.positions] then
    error(string.format("%s: Invalid 'positions': expected one of: 'learned', 'sinusoidal', 'rope', 'alibi', got '%s'", name, tostring(c.positions)), level)
  end
  if c.activation == 'gelu' then c.activation = 'geluTanh' end  -- the old name (checkpoints before the rename)
  self._config = c
  self.tokEmb = Embedding(c.vocab, c.dim)
  if c.positions == 'learned' then self.posEmb = Embedding(c.blockSize, c.dim) end
  if c.positions == 'sinusoidal' then self._sinusoid = sinusoidTable(c.blockSize, c.dim) end
  self.blocks = containers.ModuleList()
  local attnPositions = (c.positions == 'rope' or c.positions == 'alibi') and c.positions or 'none'
  local perLayer = GPT.checkLayerConfig(c, level + 1)
  for i = 1, c.layers do
    local lc = perLayer[i]
    self.blocks:add(Block(c.dim, lc.heads or c.heads, {bias = c.bias, dropout = c.dropout, activation = c.activation,
      hidden = lc.hidden or c.hidden, headDim = lc.heads and c.dim // c.heads or nil, norm = c.norm, normEps = c.normEps, postNorm = c.postNorm, kvHeads = lc.kvHeads or c.kvHeads,
      positions = attnPositions, ropeBase = c.ropeBase, ropeScaling = c.ropeScaling, window = c.window,
      qkNorm = c.qkNorm}))
  end
  if not c.postNorm then self.lnF = makeNorm(c.norm, c.dim, c.bias, c.normEps, name, level) end
  self.head = Linear(c.dim, c.vocab, {bias = false})
end

--- The per-block overrides of a config (c.layerConfig checked: one table per block with optional positive
--- integers heads, kvHeads and hidden; a block's heads must be divisible by its kvHeads, which default to the
--- model's when it is grouped-query, else to the block's heads); a list of c.layers tables
--- {heads, kvHeads, hidden} (kvHeads filled in when layerConfig is given). Errors at `level`.
function GPT.checkLayerConfig(c, level)
  local name, lcs, out = 'nn.GPT', c.layerConfig, {}
  if lcs == nil then
    for i = 1, c.layers do out[i] = {} end
    return out
  end
  if type(lcs) ~= 'table' or #lcs ~= c.layers then
    error(string.format("%s: Invalid 'layerConfig': expected a list of %d tables (one per block), got %s", name, c.layers,
      type(lcs) == 'table' and (#lcs .. ' entries') or type(lcs)), level)
  end
  local grouped = c.kvHeads and c.kvHeads ~= c.heads
  for i, lc in ipairs(lcs) do
    if type(lc) ~= 'table' then error(string.format("%s: Invalid 'layerConfig[%d]': expected a table, got %s", name, i, type(lc)), level) end
    for k, v in pairs(lc) do
      if k ~= 'heads' and k ~= 'kvHeads' and k ~= 'hidden' then
        error(string.format("%s: 'layerConfig[%d]': unknown key '%s'; expected 'heads', 'kvHeads', 'hidden'", name, i, tostring(k)), level)
      end
      options.positiveInt(name, 'layerConfig[' .. i .. '].' .. k, v, level)
    end
    local heads = lc.heads or c.heads
    local kv = lc.kvHeads or (grouped and c.kvHeads or heads)
    if heads % kv ~= 0 then
      error(string.format("%s: 'layerConfig[%d]': heads (%d) must be divisible by kvHeads (%d)", name, i, heads, kv), level)
    end
    out[i] = {heads = lc.heads, kvHeads = kv, hidden = lc.hidden}
  end
  return out
end

--- GPT-2 initialization of every parameter (deterministic given llm.manualSeed).
function GPT:resetParameters()
  local residualStd = 0.02 / math.sqrt(2 * self._config.layers)
  llm.noGrad(function()
    for path, p in pairs(self:namedParameters()) do
      if path:match('%.bias$') then p:zero_()
      elseif path:match('^lnF%.weight$') or path:match('%.ln%d%.weight$') or path:match('Norm%.weight$') then p:fill_(1)
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

--- logits (B,T,vocab), and the mean cross-entropy loss when targets (B,T) are given (targets −100 are ignored).
--- opts.cache (generation): {length = positions already cached, layers = {}}; opts.positions (B,T) int64,
--- opts.keyMask (B,S), opts.segments (B,T), opts.offset (positions offset..offset+T−1): the attention's
--- position/mask interface (Attention.lua).
function GPT:forward(idx, targets, opts)
  local logits = self.head(self:hiddenStates(idx, opts, 3))
  if targets == nil then return logits end
  return logits, llm.crossEntropy(logits, targets, {ignoreIndex = -100})   -- −100: masked (prompt, padding)
end

--- The last block's output after the final norm (B,T,dim): forward without the LM head, same per-call
--- options (the trunk of the supervised heads, llm/nn/heads.lua). `level` is the error level (default 2).
function GPT:hiddenStates(idx, opts, level)
  level = level or 2
  local o = options.check(self.__name, opts, {cache = options.NONE, positions = options.NONE,
                                              keyMask = options.NONE, segments = options.NONE, offset = options.NONE}, level)
  if not llm.isTensor(idx) or idx:dim() ~= 2 then
    error('expected token ids of shape [batch, time], got ' .. (llm.isTensor(idx) and ('[' .. table.concat(idx:shape(), ', ') .. ']') or type(idx)), level)
  end
  local t = idx:size(2)
  local start = o.cache and o.cache.length or 0
  if o.offset ~= nil then
    if o.positions ~= nil then error("give 'positions' or 'offset', not both", level) end
    o.positions = Attention.rowPositions(o.offset, idx:size(1), t, level)
    start = o.offset
  end
  if start + t > self._config.blockSize then
    error(string.format('sequence length %d exceeds blockSize %d', start + t, self._config.blockSize), level)
  end
  if o.positions ~= nil and (not llm.isTensor(o.positions) or o.positions:dim() ~= 2
      or o.positions:size(1) ~= idx:size(1) or o.positions:size(2) ~= t) then
    error(string.format("Invalid 'positions': expected an int64 tensor of shape [%d, %d], got %s", idx:size(1), t,
      llm.isTensor(o.positions) and ('[' .. table.concat(o.positions:shape(), ', ') .. ']') or type(o.positions)), level)
  end
  local x = self:embed(idx, o.positions, start)
  local blockOpts = (o.positions or o.keyMask or o.segments) and {positions = o.positions, keyMask = o.keyMask, segments = o.segments} or nil
  for i = 1, #self.blocks do
    local layerOpts = blockOpts
    if o.cache then
      o.cache.layers = o.cache.layers or {}
      o.cache.layers[i] = o.cache.layers[i] or {}
      layerOpts = {cache = o.cache.layers[i], positions = o.positions, keyMask = o.keyMask, segments = o.segments}
    end
    x = self.blocks[i](x, layerOpts)
  end
  if o.cache then o.cache.length = start + t end
  local lnF = rawget(self, 'lnF')
  return lnF and lnF(x) or x
end

-- The pieces of forward before and after the blocks (also the first and last pipeline stage's own work,
-- llm/dist/pipeline.lua).
--- The blocks' input (B,T,dim) for token ids idx (B,T): token embedding plus the position embedding of
--- positions (B,T) or of start..start+T-1 (learned or sinusoidal positions), then dropout.
function GPT:embed(idx, positions, start)
  local x = self.tokEmb(idx)
  local kind = self._config.positions
  if kind == 'learned' or kind == 'sinusoidal' then
    start = start or 0
    local pos = positions or llm.arange(start, start + idx:size(2), {dtype = 'int64'})
    x = x + (kind == 'learned' and self.posEmb(pos) or llm.embedding(self._sinusoid, pos))
  end
  return dropout(x, self._config.dropout, self.training)
end

--- Logits (B,T,vocab) from the last block's output x (B,T,dim): the final norm (if any), then the head.
function GPT:headLogits(x)
  local lnF = rawget(self, 'lnF')
  return self.head(lnF and lnF(x) or x)
end

--- nn.GPT.fromPretrained(folder): the model (and its tokenizer, second) of a Hugging Face GPT-2 folder
--- (config.json, model.safetensors, tokenizer.json), as llm/export.lua's importHF reads it.
function GPT.fromPretrained(folder)
  return require('llm.export').importHF(folder)
end

function GPT:extraRepr()
  local c = self._config
  local s = string.format('vocab=%d, blockSize=%d, layers=%d, heads=%d, dim=%d', c.vocab, c.blockSize, c.layers, c.heads, c.dim)
  if c.kvHeads and c.kvHeads ~= c.heads then s = s .. ', kvHeads=' .. c.kvHeads end
  if c.layerConfig then s = s .. ', layerConfig (per block)' end
  if c.positions ~= 'learned' then s = s .. ', positions=' .. c.positions end
  return s
end

require('llm.nn.generate')(GPT)

return GPT
