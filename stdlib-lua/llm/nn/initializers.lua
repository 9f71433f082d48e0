-- nn.init: weight initializers (in place, under noGrad), with PyTorch's fan and gain conventions.
-- fanIn = size(2) * receptive field, fanOut = size(1) * receptive field (weight layout (out, in, ...)).
-- reference: torch.nn.init (calculate_gain, xavier_*, kaiming_*, trunc_normal_, orthogonal_).
local options = require 'llm.nn.options'
local init = {}

local gains = {linear = 1, identity = 1, conv1d = 1, conv2d = 1, conv3d = 1, sigmoid = 1,
               tanh = 5 / 3, relu = math.sqrt(2), selu = 3 / 4}

--- The recommended gain for a nonlinearity: calculateGain('leakyRelu', 0.2).
function init.calculateGain(nonlinearity, param)
  if nonlinearity == 'leakyRelu' then
    local slope = param or 0.01
    if type(slope) ~= 'number' then error("calculateGain: Invalid 'param': expected a number, got " .. type(slope), 2) end
    return math.sqrt(2 / (1 + slope * slope))
  end
  local g = gains[nonlinearity]
  if g == nil then
    error("calculateGain: Invalid nonlinearity '" .. tostring(nonlinearity) .. "', expected one of: 'linear', 'identity', 'sigmoid', 'tanh', 'relu', 'leakyRelu', 'selu'", 2)
  end
  return g
end

--- fanIn, fanOut of a weight tensor (at least 2-D).
function init.fans(t)
  if t:dim() < 2 then error('fans: tensor needs at least 2 dims to compute fan in and fan out, got ' .. t:dim(), 3) end
  local receptive = 1
  for d = 3, t:dim() do receptive = receptive * t:size(d) end
  return t:size(2) * receptive, t:size(1) * receptive
end

local function inPlace(fn) return llm.noGrad(fn) end

function init.normal_(t, mean, std) return inPlace(function() return t:normal_(mean or 0, std or 1) end) end
function init.uniform_(t, a, b) return inPlace(function() return t:uniform_(a or 0, b or 1) end) end
function init.zeros_(t) return inPlace(function() return t:zero_() end) end
function init.ones_(t) return inPlace(function() return t:fill_(1) end) end
function init.constant_(t, v) return inPlace(function() return t:fill_(v) end) end

--- Glorot uniform: U(−a, a), a = gain·√(6 / (fanIn + fanOut)).
function init.xavierUniform_(t, opts)
  local o = options.check('xavierUniform_', opts, {gain = 1})
  local fanIn, fanOut = init.fans(t)
  local a = o.gain * math.sqrt(6 / (fanIn + fanOut))
  return init.uniform_(t, -a, a)
end

--- Glorot normal: N(0, std²), std = gain·√(2 / (fanIn + fanOut)).
function init.xavierNormal_(t, opts)
  local o = options.check('xavierNormal_', opts, {gain = 1})
  local fanIn, fanOut = init.fans(t)
  return init.normal_(t, 0, o.gain * math.sqrt(2 / (fanIn + fanOut)))
end

local function kaimingStd(t, o, who)
  local fanIn, fanOut = init.fans(t)
  if o.mode ~= 'fanIn' and o.mode ~= 'fanOut' then
    error(who .. ": Invalid 'mode': expected one of: 'fanIn', 'fanOut', got '" .. tostring(o.mode) .. "'", 4)
  end
  local fan = o.mode == 'fanIn' and fanIn or fanOut
  return init.calculateGain(o.nonlinearity, o.a) / math.sqrt(fan)
end

--- He uniform: U(−b, b), b = gain·√(3 / fan); defaults a=0, mode='fanIn', nonlinearity='leakyRelu'.
function init.kaimingUniform_(t, opts)
  local o = options.check('kaimingUniform_', opts, {a = 0, mode = 'fanIn', nonlinearity = 'leakyRelu'})
  local bound = math.sqrt(3) * kaimingStd(t, o, 'kaimingUniform_')
  return init.uniform_(t, -bound, bound)
end

--- He normal: N(0, std²), std = gain / √fan.
function init.kaimingNormal_(t, opts)
  local o = options.check('kaimingNormal_', opts, {a = 0, mode = 'fanIn', nonlinearity = 'leakyRelu'})
  return init.normal_(t, 0, kaimingStd(t, o, 'kaimingNormal_'))
end

--- Normal(mean, std) truncated to [a, b] (defaults 0, 1, −2, 2).
function init.truncNormal_(t, opts)
  local o = options.check('truncNormal_', opts, {mean = 0, std = 1, a = -2, b = 2})
  return inPlace(function() return t:truncNormal_(o.mean, o.std, o.a, o.b) end)
end

--- A (semi-)orthogonal matrix scaled by gain.
function init.orthogonal_(t, opts)
  local o = options.check('orthogonal_', opts, {gain = 1})
  return inPlace(function() return t:orthogonal_(o.gain) end)
end

return init
