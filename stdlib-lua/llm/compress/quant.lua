-- compress quantization (post-training): nn.Linear layers replaced by compress.QuantLinear, whose weight is
-- stored quantized and whose product runs on the quantized values (llm.quant.linear: integer dot products
-- in CKernels, inference only). Formats:
--   'q8_0', 'q4_0'  ggml blocks of 32 values with an f16 scale (bit-exact with gguf-py); rows (in) must be a
--                   multiple of 32; activations are quantized to int8 blocks on the fly
--   'q4_k'          ggml's k-quant Q4_K: super-blocks of 256 values (8 sub-blocks of 32 with 6-bit scales and
--                   mins), bit-exact with llama.cpp's quantize_row_q4_K_ref; rows must be a multiple of 256
--   'int8'          int8 per output channel, symmetric (scale = max|w|/127, round to nearest even);
--                   activations get one scale per token: dynamic (max|x|/127) or, after calibration
--                   (opts.calibrate), the observer's static scale
--   'f16', 'bf16'   the weights stored in half precision, converted exactly inside the product (CKernels half.c)
--   compress.quantize(model, {format, targets, calibrate, observer}) -> model, info {layers, paths, bytes, floatBytes}
--   compress.QuantLinear(linear, format, [{activationScale}])       one quantized layer
--   compress.quantization(model) -> {format, paths} | nil           what quantize did (saved with the weights)
--   compress.saveQuantized(model, path), compress.loadQuantized(model, path) -> model
-- targets: nil (every nn.Linear, the tied LM head included, never an nn.Embedding), a list of module paths,
-- a Lua pattern over module paths, or a function(path, module) -> boolean. Every check runs before the first
-- layer is replaced: an already quantized model, a row length not a multiple of the block or an unknown path is an
-- error that changes nothing.
local Module = require 'llm.nn.Module'
local check = require 'llm.compress.check'
local observers = require 'llm.compress.quant_observe'

local M = {}
local FORMATS = {'q8_0', 'q4_0', 'q4_k', 'int8', 'f16', 'bf16'}
local BLOCK = {q8_0 = 32, q4_0 = 32, q4_k = 256}
local HALF = {f16 = 'float16', bf16 = 'bfloat16'}

local QuantLinear = Module:extend('compress.QuantLinear')
M.QuantLinear = QuantLinear

--- compress.QuantLinear(linear, format, [{activationScale}]): the nn.Linear's weight quantized ('q8_0', 'q4_0', 'q4_k', 'int8', 'f16', 'bf16').
function QuantLinear:init(linear, format, opts)
  local w = linear.weight
  self._in, self._out, self._format = w:size(2), w:size(1), format
  self._activationScale = opts and opts.activationScale
  llm.noGrad(function()
    if HALF[format] then
      self.qweight = w:detach():to(HALF[format])
      if rawget(linear, 'bias') then self.bias = linear.bias:detach():clone() end
      return
    end
    local q, s = llm.quant.quantize(w, format)
    self.qweight = q
    if s then self.scales = s end
    if rawget(linear, 'bias') then self.bias = linear.bias:detach():clone() end
  end)
end

function QuantLinear:forward(x)
  return llm.quant.linear(x, self.qweight, {format = self._format, scales = rawget(self, 'scales'), bias = rawget(self, 'bias'),
    activationScale = self._activationScale})
end

--- The float32 weight the quantized one stands for.
function QuantLinear:dequantized()
  if HALF[self._format] then return self.qweight:float() end
  return llm.quant.dequantize(self.qweight, self._format, rawget(self, 'scales'))
end

function QuantLinear:extraRepr()
  return string.format('%d -> %d, %s%s', self._in, self._out, self._format,
    self._activationScale and string.format(', activationScale=%g', self._activationScale) or '')
end

-- Ordered {path, module, parent, key} of every module below model (parents first): nn.Module's walk.
local function eachModule(model) return model:_descendants() end
M.eachModule = eachModule

-- Puts `child` at parent[key] in place of the module there (same path).
local function replace(parent, key, child) parent:_replaceChild(key, child) end
M.replace = replace

-- The selected nn.Linear entries of eachModule (see the header's `targets`); errors at `level`.
local function selectLinears(who, model, targets, level)
  level = level + 1
  local all = eachModule(model)
  local byPath = {}
  for _, e in ipairs(all) do byPath[e[1]] = e end
  local out = {}
  if type(targets) == 'table' then
    for i, path in ipairs(targets) do
      local e = byPath[path]
      if type(path) ~= 'string' or not e then
        error(string.format("%s: Invalid 'targets[%d]': no module '%s' in the model", who, i, tostring(path)), level)
      end
      if e[2].__name ~= 'nn.Linear' then
        error(string.format("%s: '%s' is a %s, not an nn.Linear", who, path, tostring(e[2].__name)), level)
      end
      out[#out + 1] = e
    end
    return out
  end
  if targets ~= nil and type(targets) ~= 'string' and type(targets) ~= 'function' then
    error(string.format("%s: Invalid 'targets': expected a list of module paths, a pattern or a function(path, module), got %s",
      who, type(targets)), level)
  end
  for _, e in ipairs(all) do
    if e[2].__name == 'nn.Linear' then
      local hit = targets == nil or (type(targets) == 'string' and e[1]:match(targets) ~= nil)
        or (type(targets) == 'function' and targets(e[1], e[2]))
      if hit then out[#out + 1] = e end
    end
  end
  return out
end

--- What compress.quantize did to the model: {format, paths} (nil when it is not quantized).
function M.quantization(model)
  return rawget(model, '_quantization')
end

local function refuseQuantized(who, model, level)
  if not Module.isModule(model) then error(who .. ": Invalid 'model': expected an nn.Module, got " .. type(model), level + 1) end
  local q = rawget(model, '_quantization')
  if q then
    error(string.format('%s: the model is already quantized (%s, %d layers); quantize the float model instead', who, q.format, #q.paths), level + 1)
  end
  for _, e in ipairs(eachModule(model)) do
    if e[2].__name == 'compress.QuantLinear' then
      error(string.format("%s: the model is already quantized ('%s' is a compress.QuantLinear)", who, e[1]), level + 1)
    end
  end
end

local function tensorBytes(t) return t:numel() * (({float32 = 4, int32 = 4, int64 = 8, float16 = 2, bfloat16 = 2})[t:dtype()] or 1) end

--- compress.quantize(model, {format='q8_0'|'q4_0'|'q4_k'|'int8'|'f16'|'bf16', [targets], [calibrate], [observer]}) -> model, info
--- Replaces the targeted nn.Linear layers in place. calibrate = function(model) that runs forward passes (int8 only):
--- an observer ('minmax' | 'movingAverage' | 'percentile' or {kind, momentum, percentile}) records each layer's
--- inputs and its scale becomes the layer's static activation scale.
function M.quantize(model, opts)
  local who = 'compress.quantize'
  refuseQuantized(who, model, 2)
  if type(opts) ~= 'table' then error(who .. ": Invalid 'opts': expected a table with 'format', got " .. type(opts), 2) end
  for k in pairs(opts) do
    check.oneOf(who, 'option', k, {'format', 'targets', 'calibrate', 'observer'}, 2)
  end
  local format = check.oneOf(who, 'format', opts.format, FORMATS, 2)
  local layers = selectLinears(who, model, opts.targets, 2)
  if #layers == 0 then error(who .. ': no nn.Linear selected (targets matched none)', 2) end
  if BLOCK[format] then
    for _, e in ipairs(layers) do
      local k = e[2].weight:size(2)
      if k % BLOCK[format] ~= 0 then
        error(string.format("%s: '%s' has rows of %d values, not a multiple of the block size %d (%s); quantize it as 'int8' or leave it out of 'targets'",
          who, e[1], k, BLOCK[format], format), 2)
      end
    end
  end
  if opts.calibrate ~= nil and (format ~= 'int8' or type(opts.calibrate) ~= 'function') then
    error(who .. ": 'calibrate' must be a function(model) and needs format 'int8' (static activation scales)", 2)
  end
  local scales = opts.calibrate and observers.calibrate(model, layers, opts.calibrate, opts.observer, 2) or {}
  local info = {layers = #layers, paths = {}, bytes = 0, floatBytes = 0}
  for _, e in ipairs(layers) do
    local path, lin, parent, key = e[1], e[2], e[3], e[4]
    info.floatBytes = info.floatBytes + lin.weight:numel() * 4
    local q = QuantLinear(lin, format, {activationScale = scales[path]})
    replace(parent, key, q)
    info.bytes = info.bytes + tensorBytes(q.qweight) + (rawget(q, 'scales') and q.scales:numel() * 4 or 0)
    info.paths[#info.paths + 1] = path
  end
  rawset(model, '_quantization', {format = format, paths = info.paths, activationScales = next(scales) and scales or nil})
  return model, info
end

local function configString(q)
  local parts = {q.format}
  for _, p in ipairs(q.paths) do
    local s = q.activationScales and q.activationScales[p]
    parts[#parts + 1] = s and string.format('%s=%.17g', p, s) or p
  end
  return table.concat(parts, ' ')
end

local function parseConfig(s)
  local words = {}
  for w in s:gmatch('%S+') do words[#words + 1] = w end
  local q = {format = words[1], paths = {}, activationScales = {}}
  for i = 2, #words do
    local p, sc = words[i]:match('^(.-)=(.+)$')
    q.paths[#q.paths + 1] = p or words[i]
    if p then q.activationScales[p] = tonumber(sc) end
  end
  return q
end

--- compress.saveQuantized(model, path): a safetensors file of the quantized model's state (quantized blocks, scales,
--- float tensors) with the quantization config in its metadata.
function M.saveQuantized(model, path)
  local q = rawget(model, '_quantization')
  if not q then error('compress.saveQuantized: the model is not quantized (run compress.quantize first)', 2) end
  llm.save(path, model:stateDict(), {metadata = {quantization = configString(q)}})
end

--- compress.loadQuantized(model, path) -> model: quantizes a float model of the same architecture as the saved one
--- recorded, then loads the saved state; when the state does not fit, the float layers are put back (nothing changes).
function M.loadQuantized(model, path)
  local who = 'compress.loadQuantized'
  refuseQuantized(who, model, 2)
  local sd, meta = llm.load(path, {metadata = true})
  local s = meta and meta.quantization
  if not s then error(who .. ": '" .. tostring(path) .. "' holds no quantization metadata (not written by compress.saveQuantized)", 2) end
  local q = parseConfig(s)
  -- every recorded path must be an nn.Linear here (checked before anything changes)
  local byPath = {}
  for _, e in ipairs(eachModule(model)) do byPath[e[1]] = e[2] end
  for _, p in ipairs(q.paths) do
    if not byPath[p] or byPath[p].__name ~= 'nn.Linear' then error(string.format("%s: the file quantized '%s', which is not an nn.Linear of this model", who, p), 2) end
  end
  local originals = {}
  for _, e in ipairs(eachModule(model)) do
    for _, p in ipairs(q.paths) do if e[1] == p then originals[#originals + 1] = e end end
  end
  M.quantize(model, {format = q.format, targets = q.paths})
  for _, e in ipairs(eachModule(model)) do
    local sc = q.activationScales[e[1]]
    if sc then e[2]._activationScale = sc end
  end
  rawget(model, '_quantization').activationScales = next(q.activationScales) and q.activationScales or nil
  local ok, err = pcall(model.loadStateDict, model, sd)
  if not ok then   -- put the float layers back: a failed load changes nothing
    for _, e in ipairs(originals) do replace(e[3], e[4], e[2]) end
    rawset(model, '_quantization', nil)
    error(who .. ': ' .. tostring(err), 2)
  end
  return model
end

return M
