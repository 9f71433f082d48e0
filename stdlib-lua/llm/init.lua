-- llm: the root namespace. The native functions are installed by the host before this file runs;
-- this module adds the Lua-side helpers and packages (help, nn) as globals and returns the namespace.
local llm = llm

-- help(x): documentation from the binding tables; a global in scripts and the REPL (see llm/help.lua).
llm.help = require('llm.help').help
rawset(_G, 'help', llm.help)

-- nn: layers, losses and initializers (stdlib-lua/llm/nn).
rawset(_G, 'nn', require 'llm.nn')

-- augment: text and token augmenters on llm.text / llm.wordnet (stdlib-lua/llm/augment).
rawset(_G, 'augment', require 'llm.augment')

-- compress: pruning, sparsity and distillation (stdlib-lua/llm/compress).
rawset(_G, 'compress', require 'llm.compress')

-- annotate: labelling functions, label models, labelled-data IO (stdlib-lua/llm/annotate).
rawset(_G, 'annotate', require 'llm.annotate')

-- recipes: configuration with command-line overrides, the training loop, progress display.
llm.config = require 'llm.config'
llm.Trainer = require('llm.train').new
-- metrics: accuracy, F1, confusion matrix, seqeval-style entity scores (llm/metrics.lua).
llm.metrics = require 'llm.metrics'
-- instruction fine-tuning data: chat-templated, prompt-masked, packed (llm/instruct.lua).
llm.data.instructions = require('llm.instruct').instructions
-- observe: FLOPs/MFU, energy/CO2 and TensorBoard event files for a run (llm.observe{...}, stdlib-lua/llm/observe).
llm.observe = require 'llm.observe'

-- export/import: llm.export(src, {format, out, dtype}) and llm.export.importHF(folder) (llm/export.lua).
llm.export = require 'llm.export'

-- dist: data parallelism over the MPI collectives (dist.dataParallel, dist.shardBatches), when dist exists.
if rawget(_G, 'dist') then
  local d = require 'llm.dist'
  dist.dataParallel, dist.shardBatches = d.dataParallel, d.shardBatches
end

-- tune: hyper-parameter tuning (stdlib-lua/llm/tune): studies, samplers, pruners, on the native tune.* part.
if rawget(_G, 'tune') then require('llm.tune')(tune) end

-- plugins: what installed LuaRocks plugins provide (llm.plugins.list(), llm.plugins.provides(kind)).
llm.plugins = require 'llm.plugins'

-- optim.paramGroups(model, rules): groups by predicates over parameter paths.
if rawget(_G, 'optim') then optim.paramGroups = require 'llm.paramgroups' end

return llm
