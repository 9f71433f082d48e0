-- nn.Llama: a Llama-style decoder assembled from nn.GPT's options — RMSNorm pre-norm blocks, rotary
-- positions (RoPE, optional linear/NTK scaling), grouped-query attention (kvHeads), SwiGLU MLP with
-- hidden = 8/3·dim rounded up to multipleOf, no biases, final RMSNorm, untied head by default.
-- Init as HF LlamaPreTrainedModel: N(0, 0.02) for every Linear and Embedding weight, norm weights 1.
-- Same forward(idx, [targets], [{cache, positions, keyMask, segments}]) and generate() as nn.GPT.
-- Parameter layout: blocks.i.attn.qkv holds HF's q_proj, k_proj, v_proj stacked in that order
-- ((heads + 2·kvHeads)·headDim rows); blocks.i.mlp.fc holds gate_proj then up_proj; mlp.proj is down_proj.
-- hfStateDict()/loadHFStateDict(sd, [{adopt}])/hfConfig() give and take HF LlamaForCausalLM's names and config
-- (the RoPE convention is HF's rotate-half, so no q/k permutation is needed).
-- layerConfig = {{heads=, kvHeads=, hidden=}, ...} (nn.GPT's option) gives blocks their own head counts and
-- MLP width: a model whose heads/neurons were removed (compress.shrink); it has no HF Llama layout, so the
-- hf* methods refuse it (export format 'safetensors' and checkpoints keep it).
-- reference: Touvron et al. 2023; HF transformers LlamaModel.
local GPT = require 'llm.nn.GPT'
local Module = require 'llm.nn.Module'
local options = require 'llm.nn.options'

local Llama = GPT:extend('nn.Llama')

local defaults = {vocab = options.NONE, dim = options.NONE, layers = options.NONE, heads = options.NONE,
  kvHeads = options.NONE, hidden = options.NONE, multipleOf = 256, ropeBase = 10000, ropeScaling = options.NONE,
  window = options.NONE, rmsEps = 1e-6, tied = false, maxSeq = 2048, dropout = 0, qkNorm = false}
defaults.layerConfig = options.NONE   -- per-block {heads, kvHeads, hidden} (a shrunk model: nn.GPT's option)

--- nn.Llama{vocab, dim, layers, heads, [kvHeads=heads, hidden=8/3·dim rounded up to multipleOf, multipleOf=256, ropeBase=10000, ropeScaling={type, factor}, window, rmsEps=1e-6, tied=false, maxSeq=2048, dropout=0, qkNorm=false, layerConfig]}: a Llama-style model.
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
    ropeBase = c.ropeBase, ropeScaling = c.ropeScaling, window = c.window, qkNorm = c.qkNorm,
    layerConfig = c.layerConfig}, 4)
  if not require('llm.nn.noinit').active() then self:resetParameters() end   -- nn.withoutInit: a loader fills them
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

-- Errors (at `level`) when the model has per-block sizes (no LlamaForCausalLM layout); `who` names the method.
local function uniformBlocks(self, who, level)
  if self._llama.layerConfig then
    error(string.format("nn.Llama:%s: a model with per-block head/MLP sizes (layerConfig, e.g. from compress.shrink) has no " ..
      "Hugging Face LlamaForCausalLM layout; save it as a checkpoint or with export format 'safetensors'", who), level + 1)
  end
end

-- HF Llama names of our parameters: {ours, hf, rowFrom, rows} (rows of a stacked parameter).
local function hfNames(self)
  local c, g = self._llama, self._config
  local d = c.dim // c.heads
  local kv = (c.kvHeads or c.heads) * d
  local hidden = g.hidden or 4 * c.dim
  local out = {{'tokEmb.weight', 'model.embed_tokens.weight'}}
  for i = 0, c.layers - 1 do
    local b, h = 'blocks.' .. i .. '.', 'model.layers.' .. i .. '.'
    local list = {
      {'ln1.weight', 'input_layernorm.weight'},
      {'attn.qkv.weight', 'self_attn.q_proj.weight', 1, c.heads * d},
      {'attn.qkv.weight', 'self_attn.k_proj.weight', c.heads * d + 1, kv},
      {'attn.qkv.weight', 'self_attn.v_proj.weight', c.heads * d + kv + 1, kv},
      {'attn.proj.weight', 'self_attn.o_proj.weight'},
      {'ln2.weight', 'post_attention_layernorm.weight'},
      {'mlp.fc.weight', 'mlp.gate_proj.weight', 1, hidden},
      {'mlp.fc.weight', 'mlp.up_proj.weight', hidden + 1, hidden},
      {'mlp.proj.weight', 'mlp.down_proj.weight'},
    }
    if c.qkNorm then
      list[#list + 1] = {'attn.qNorm.weight', 'self_attn.q_norm.weight'}
      list[#list + 1] = {'attn.kNorm.weight', 'self_attn.k_norm.weight'}
    end
    for _, e in ipairs(list) do out[#out + 1] = {b .. e[1], h .. e[2], e[3], e[4]} end
  end
  out[#out + 1] = {'lnF.weight', 'model.norm.weight'}
  if not c.tied then out[#out + 1] = {'head.weight', 'lm_head.weight'} end
  return out
end

--- The parameters under HF LlamaForCausalLM's names (q/k/v and gate/up split out of the stacked
--- Linears; lm_head.weight omitted when tied): views of the model's tensors, for writing safetensors.
function Llama:hfStateDict()
  local own, out, put = self:stateDict(), Module.orderedTable()
  uniformBlocks(self, 'hfStateDict', 2)
  for _, e in ipairs(hfNames(self)) do
    local t = own[e[1]]
    put(e[2], e[3] and t:narrow(1, e[3], e[4]) or t)
  end
  return out
end

-- loadHFStateDict's adopt path (sd checked already, and the caller's to give away): an unstacked tensor becomes
-- the parameter itself (nn.adoptStateDict; converted to the parameter's dtype first when it differs, the source
-- freed), a q/k/v or gate/up slice is copied into its stacked parameter and freed right after, layer by layer.
-- The stacked parameters are fresh storages made as they are reached (not the model's llm.empty ones, made
-- before the load), so a later layer's can reuse heap blocks that an earlier layer's sources freed.
local function adoptHF(self, sd)
  local own, mine = self:stateDict(), {}
  llm.noGrad(function()
    for _, e in ipairs(hfNames(self)) do
      local t, p = sd[e[2]], own[e[1]]
      if t:dtype() ~= p:dtype() then
        local f = t:to(p:dtype())
        t:free()
        t = f
      end
      if e[3] then
        mine[e[1]] = mine[e[1]] or llm.empty(p:shape(), {dtype = p:dtype()})
        local rows = mine[e[1]]:narrow(1, e[3], e[4])
        rows:copy_(t)
        rows:free()
        t:free()
      else
        mine[e[1]] = t
      end
    end
  end)
  return require('llm.nn.noinit').adoptStateDict(self, mine)
end

--- Copies an HF-named state dict (as hfStateDict gives) into the model; every name and shape is checked
--- before the first copy (missing and unexpected names are errors). opts.adopt = true (for a loader whose sd
--- is its own to give away, as importHF's freshly read tensors): sd's tensors are consumed instead, an
--- unstacked one becoming the model's parameter (no copy) and a q/k/v or gate/up slice copied into its
--- stacked parameter and freed at once; sd's tensors must not be used afterwards.
function Llama:loadHFStateDict(sd, opts)
  if type(sd) ~= 'table' then error("bad argument #1 to 'loadHFStateDict' (table expected, got " .. type(sd) .. ')', 2) end
  if opts ~= nil and type(opts) ~= 'table' then error("bad argument #2 to 'loadHFStateDict' (table expected, got " .. type(opts) .. ')', 2) end
  for k in pairs(opts or {}) do
    if k ~= 'adopt' then error("loadHFStateDict: unknown option '" .. tostring(k) .. "'; expected one of: 'adopt'", 2) end
  end
  uniformBlocks(self, 'loadHFStateDict', 2)
  local target = self:hfStateDict()
  local ok, err = pcall(Module.checkStateDict, setmetatable({}, {__index = {stateDict = function() return target end}}), sd)
  if not ok then error((tostring(err):gsub('^.-loadStateDict: ', 'loadHFStateDict: ')), 2) end
  if opts and opts.adopt then return adoptHF(self, sd) end
  llm.noGrad(function()   -- views made under noGrad: plain views of the parameters, writable in place
    for name, t in pairs(self:hfStateDict()) do t:copy_(sd[name]) end
  end)
  for _, t in pairs(self:stateDict()) do require('llm.nn.noinit').loaded(t) end   -- every tensor was written
  return self
end

--- HF config.json fields of this model (LlamaConfig); ropeScaling 'linear' maps to HF's rope_scaling.
function Llama:hfConfig()
  uniformBlocks(self, 'hfConfig', 2)
  local c, g = self._llama, self._config
  local out = {architectures = {'LlamaForCausalLM'}, model_type = 'llama', vocab_size = c.vocab,
    hidden_size = c.dim, intermediate_size = g.hidden, num_hidden_layers = c.layers,
    num_attention_heads = c.heads, num_key_value_heads = c.kvHeads or c.heads, rms_norm_eps = c.rmsEps,
    rope_theta = c.ropeBase, max_position_embeddings = c.maxSeq, tie_word_embeddings = c.tied,
    hidden_act = 'silu', attention_bias = false, mlp_bias = false, sliding_window = c.window}
  if c.ropeScaling then out.rope_scaling = {rope_type = c.ropeScaling.type, factor = c.ropeScaling.factor} end
  return out
end

--- The configuration table the model was built with (nn.Llama's keys).
function Llama:config()
  local out = {}
  for k, v in pairs(self._llama) do out[k] = v end
  return out
end

return Llama
