-- Dynamic sparse training: compress.sparseTraining{model, method='set'|'rigl', sparsity=0.8, distribution=
-- 'erk'|'uniform', every=100, dropFraction=0.3, stop, params, name='sparse'} (compress.set{...} and
-- compress.rigl{...} fix the method), a Trainer extension that trains a sparse network from the start:
--   onRunStart (unless resumed): layer densities — ERK (Evci et al. 2020: density ∝ (n_in + n_out)/(n_in·n_out),
--     scaled to the overall density, layers that would exceed 1 made dense) or uniform — and random masks
--     with exactly round(density·n) kept weights per layer; pruned weights are zeroed.
--   every `every` steps until `stop` (default: 75% of the run), in transformGradients: per layer, drop the
--     k = f·(kept) kept weights of smallest |w| and grow k of the others (not just dropped): at random (SET,
--     Mocanu et al. 2018) or of largest dense |gradient| (RigL, Evci et al. 2020); grown weights start at 0.
--     f = dropFraction/2·(1 + cos(π·step/stop)), cosine-decayed. The density of every layer stays exact.
--   every step: gradients masked; after the optimizer step, pruned weights re-zeroed (its state is masked).
-- Random choices use the seeded generator (llm.manualSeed), whose state checkpoints keep.
-- compress.erk(model, sparsity, [params]) -> {path = density}: the ERK densities alone.
local options = require 'llm.nn.options'
local masks = require 'llm.compress.masks'
local targets = require 'llm.compress.targets'
local check = require 'llm.compress.check'

local M = {}

-- ERK densities of the targets {path, p} for an overall sparsity (the RigL reference implementation).
local function erkDensities(list, sparsity)
  local dense = {}
  while true do
    local divisor, rhs, raw, maxRaw = 0, 0, {}, 0
    for _, t in ipairs(list) do
      local n = t[2]:numel()
      if dense[t[1]] then rhs = rhs - n * sparsity
      else
        rhs = rhs + n * (1 - sparsity)
        local shape, sum = t[2]:shape(), 0
        for _, s in ipairs(shape) do sum = sum + s end
        raw[t[1]] = sum / n
        divisor = divisor + raw[t[1]] * n
        maxRaw = math.max(maxRaw, raw[t[1]])
      end
    end
    local eps = divisor > 0 and rhs / divisor or 0
    if maxRaw * eps <= 1 then
      local out = {}
      for _, t in ipairs(list) do out[t[1]] = dense[t[1]] and 1 or eps * raw[t[1]] end
      return out
    end
    for path, r in pairs(raw) do if r == maxRaw then dense[path] = true end end
  end
end

--- (model, sparsity, [params]) -> {path = density}: Erdős–Rényi-kernel layer densities for an overall sparsity.
function M.erk(model, sparsity, params)
  masks.checkModel('compress.erk', model, 2)
  check.fraction('compress.erk', 'sparsity', sparsity, 2)
  return erkDensities(targets.select('compress.erk', model, params, 2), sparsity)
end

-- A 0/1 mask of shape `shape` with exactly `keep` ones at random places.
local function randomMask(shape, n, keep)
  local m = llm.zeros(n)
  if keep > 0 then
    local _, idx = llm.rand({n}):sort()
    m = m:scatterAdd(1, idx:narrow(1, 1, keep), llm.ones(keep))
  end
  return m:reshape(shape)
end

local Sparse = {}
Sparse.__index = Sparse

local defaults = {model = options.NONE, method = 'rigl', sparsity = 0.8, distribution = 'erk', every = 100, dropFraction = 0.3,
                  stop = options.NONE, params = options.NONE, name = 'sparse'}

-- The extension (errors at `level` name `who`).
local function make(opts, who, level)
  local o = options.check(who, opts, defaults, level)
  masks.checkModel(who, o.model, level)
  check.oneOf(who, 'method', o.method, {'set', 'rigl'}, level)
  check.oneOf(who, 'distribution', o.distribution, {'erk', 'uniform'}, level)
  check.fraction(who, 'sparsity', o.sparsity, level)
  check.fraction(who, 'dropFraction', o.dropFraction, level)
  options.positiveInt(who, 'every', o.every, level)
  if o.stop ~= nil then check.step(who, 'stop', o.stop, level) end
  local list = targets.select(who, o.model, o.params, level)
  local density = {}
  if o.distribution == 'erk' then density = erkDensities(list, o.sparsity)
  else for _, t in ipairs(list) do density[t[1]] = 1 - o.sparsity end end
  return setmetatable({name = o.name, who = who, o = o, list = list, density = density, started = false}, Sparse)
end

--- {model, method='rigl'|'set', sparsity=0.8, distribution='erk'|'uniform', every=100, dropFraction=0.3, stop, params, name='sparse'}: dynamic sparse training as a Trainer extension.
function M.sparseTraining(opts) return make(opts, 'compress.sparseTraining', 3) end

-- compress.set / compress.rigl: sparseTraining with the method fixed.
local function fixed(method, opts)
  local who = 'compress.' .. method
  if type(opts) == 'table' and opts.method ~= nil then error(who .. ": 'method' is '" .. method .. "' here", 3) end
  local o = {}
  for k, v in pairs(opts or {}) do o[k] = v end
  o.method = method
  return make(o, who, 4)
end

--- {...}: compress.sparseTraining with method 'set' (grow at random).
function M.set(opts) return fixed('set', opts) end

--- {...}: compress.sparseTraining with method 'rigl' (grow by gradient magnitude).
function M.rigl(opts) return fixed('rigl', opts) end

function Sparse:onRunStart(trainer)
  self.stop = self.o.stop or math.floor(0.75 * trainer.steps)
  if not self.started then
    local m = {}
    for _, t in ipairs(self.list) do
      local n = t[2]:numel()
      m[t[1]] = randomMask(t[2]:shape(), n, math.floor(self.density[t[1]] * n + 0.5))
    end
    masks.setMany(self.who, self.o.model, m, nil, 2)
    self.started = true
  end
  masks.attach(self.o.model, trainer.optimizer)
  masks.apply(self.o.model)
end

-- Drop k kept weights of smallest |w|, grow k of the others (not just dropped) by `grow` score.
local function update(path, p, mask, frac, method)
  local n = p:numel()
  local flatMask = mask:reshape(n)
  local kept = math.floor(flatMask:sum():item() + 0.5)
  local k = math.floor(frac * kept)
  if k == 0 or kept == n then return nil end
  local dropScore = llm.where(flatMask, p:abs():reshape(n), math.huge)
  local _, dropIdx = dropScore:sort()
  local afterDrop = flatMask:scatterAdd(1, dropIdx:narrow(1, 1, k), llm.full({k}, -1))
  local growScore = method == 'rigl' and p.grad:abs():reshape(n) or llm.rand({n})
  -- candidates: pruned before this update (so not just dropped); k <= kept <= n − kept is not guaranteed
  local candidates = math.floor(n - kept + 0.5)
  local kg = math.min(k, candidates)
  local _, growIdx = llm.where(flatMask, -math.huge, growScore):sort(1, true)
  local new = afterDrop:scatterAdd(1, growIdx:narrow(1, 1, kg), llm.ones(kg))
  if kg < k then   -- fewer candidates than drops: give back the best dropped ones
    new = new:scatterAdd(1, dropIdx:narrow(1, kg + 1, k - kg), llm.ones(k - kg))
  end
  return new:reshape(p:shape()), path
end

function Sparse:transformGradients(_, info)
  local step = info.step
  if step % self.o.every == 0 and step <= self.stop then
    local frac = self.o.dropFraction / 2 * (1 + math.cos(math.pi * step / self.stop))
    local new = {}
    llm.noGrad(function()
      for _, t in ipairs(self.list) do
        local mask = masks.get(self.o.model, t[1])
        if mask and (t[2].grad or self.o.method == 'set') then
          local m = update(t[1], t[2], mask, frac, self.o.method)
          if m then new[t[1]] = m end
        end
      end
    end)
    if next(new) then masks.setMany(self.who, self.o.model, new, nil, 2) end
    self.updates = (self.updates or 0) + 1
  end
  masks.maskGradients(self.o.model)
end

function Sparse:afterOptimizerStep()
  masks.apply(self.o.model)
end

--- State in checkpoints: 'mask.<path>' tensors and the number of updates.
function Sparse:stateDict()
  local sd = {started = self.started, updates = self.updates or 0}
  for _, e in ipairs(masks.list(self.o.model)) do sd['mask.' .. e[1]] = e[3] end
  return sd
end

function Sparse:loadStateDict(sd)
  local m = {}
  for k, v in pairs(sd) do
    local path = type(k) == 'string' and k:match('^mask%.(.+)$')
    if path then m[path] = v end
  end
  masks.setMany(self.who, self.o.model, m, nil, 2)
  self.started, self.updates = sd.started and true or false, sd.updates
end

return M
