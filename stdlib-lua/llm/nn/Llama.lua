-- nn.Llama: a Llama-style decoder assembled from nn.GPT's options — RMSNorm pre-norm blocks, rotary
-- positions (RoPE, optional linear/NTK scaling), grouped-query attention (kvHeads), SwiGLU MLP with
-- hidden = 8/3·dim rounded up to multipleOf, no biases, final RMSNorm, untied head by default.
-- Init as HF LlamaPreTrainedModel: N(0, 0.02) for every Linear and Embedding weight, norm weights 1.
-- Same forward(idx, [targets], [{cache, positions, keyMask, segments}]) and generate() as nn.GPT.
-- Parameter layout: blocks.i.attn.qkv holds HF's q_proj, k_proj, v_proj stacked in that order
-- ((heads + 2·kvHeads)·headDim rows); blocks.i.mlp.fc holds gate_proj then up_proj; mlp.proj is down_proj.
-- reference: Touvron et al. 2023; HF transformers LlamaModel.
local GPT = require 'llm.nn.GPT'
local options = require 'llm.nn.options'

local Llama = GPT:extend('nn.Llama')

local defaults = {vocab = options.NONE, dim = options.NONE, layers = options.NONE, heads = options.NONE,
  kvHeads = options.NONE, hidden = options.NONE, multipleOf = 256, ropeBase = 10000, ropeScaling = options.NONE,
  window = options.NONE, rmsEps = 1e-6, tied = false, maxSeq = 2048, dropout = 0, qkNorm = false}

--- nn.Llama{vocab, dim, layers, heads, [kvHeads=heads, hidden=8/3·dim rounded up to multipleOf, multipleOf=256, ropeBase=10000, ropeScaling={type, factor}, window, rmsEps=1e-6, tied=false, maxSeq=2048, dropout=0, qkNorm=false]}: a Llama-style model.
function Llama:init(cfg)
  local c = options.check('nn.Llama', cfg, defaults, 3)
  options.positiveInt('nn.Llama', 'dim', c.dim, 3)
  options.positiveInt('nn.Llama', 'multipleOf', c.multipleOf, 3)
  local hidden = c.hidden
  if hidden == nil then
    hidden = math.floor(8 * c.dim / 3)
    hidden = c.multipleOf * ((hidden + c.multipleOf - 1) // c.multipleOf)
  end
  self._llama = c
  self:_build({vocab = c.vocab, blockSize = c.maxSeq, layers = c.layers, heads = c.heads, dim = c.dim,
    dropout = c.dropout, bias = false, tieWeights = c.tied, activation = 'swiglu', positions = 'rope',
    norm = 'rms', normEps = c.rmsEps, postNorm = false, kvHeads = c.kvHeads, hidden = hidden,
    ropeBase = c.ropeBase, ropeScaling = c.ropeScaling, window = c.window, qkNorm = c.qkNorm}, 4)
  self:resetParameters()
  if c.tied then rawset(self.head, 'weight', self.tokEmb.weight) end
end

--- HF Llama initialization: N(0, 0.02) weights, norm weights 1 (deterministic given llm.manualSeed).
function Llama:resetParameters()
  llm.noGrad(function()
    for path, p in pairs(self:namedParameters()) do
      if path:match('Norm%.weight$') or path:match('ln%w*%.weight$') then p:fill_(1)
      else p:normal_(0, 0.02) end
    end
  end)
end

--- The configuration table the model was built with (nn.Llama's keys).
function Llama:config()
  local out = {}
  for k, v in pairs(self._llama) do out[k] = v end
  return out
end

return Llama
