-- nn: layers, containers, losses and initializers. Layers are small Lua classes over fused Swift
-- kernels; subclass nn.Module to define your own. Loaded at start-up as the global `nn`.
local nn = rawget(_G, 'nn') or {}

nn.Module = require 'llm.nn.Module'
nn.Linear = require 'llm.nn.Linear'
nn.Embedding = require 'llm.nn.Embedding'
local norms = require 'llm.nn.Normalization'
nn.LayerNorm, nn.RMSNorm = norms.LayerNorm, norms.RMSNorm
local act = require 'llm.nn.Activations'
nn.GELU, nn.ReLU, nn.SiLU, nn.Tanh, nn.Dropout, nn.dropout = act.GELU, act.ReLU, act.SiLU, act.Tanh, act.Dropout, act.dropout
local containers = require 'llm.nn.Containers'
nn.Sequential, nn.ModuleList = containers.Sequential, containers.ModuleList
nn.CausalSelfAttention = require 'llm.nn.Attention'
local block = require 'llm.nn.Block'
nn.MLP, nn.Block = block.MLP, block.Block
nn.GPT = require 'llm.nn.GPT'
nn.Llama = require 'llm.nn.Llama'
nn.lora = require 'llm.nn.lora'
local heads = require 'llm.nn.heads'
nn.SequenceClassifier, nn.TokenClassifier = heads.SequenceClassifier, heads.TokenClassifier
nn.init = require 'llm.nn.initializers'
local noinit = require 'llm.nn.noinit'
nn.withoutInit, nn.adoptStateDict, nn.unloaded = noinit.withoutInit, noinit.adoptStateDict, noinit.unloaded
for name, fn in pairs(require 'llm.nn.losses') do nn[name] = fn end

return nn
