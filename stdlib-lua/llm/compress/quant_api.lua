-- compress quantization API: the functions stdlib-lua/llm/compress/init.lua copies into the `compress`
-- namespace (post-training quantization and saving in quant.lua, observers in quant_observe.lua,
-- quantization-aware training in quant_qat.lua).
local quant = require 'llm.compress.quant'
local observe = require 'llm.compress.quant_observe'
local qat = require 'llm.compress.quant_qat'

return {
  quantize = quant.quantize, QuantLinear = quant.QuantLinear, quantization = quant.quantization,
  saveQuantized = quant.saveQuantized, loadQuantized = quant.loadQuantized,
  observer = function(spec) return observe.observer(spec, 2) end,
  qat = qat.qat, FakeQuantLinear = qat.FakeQuantLinear, fakeQuantize = qat.fakeQuantize, convert = qat.convert,
}
