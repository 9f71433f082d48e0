-- llm.observe: seeing a run from outside — a Trainer extension (llm/extensions.lua) that adds, per step,
-- training FLOPs and MFU (llm/observe/flops.lua), energy and CO2 (llm/observe/energy.lua) to the progress
-- line and the metrics records, and writes TensorBoard event files (llm/observe/tfevents.lua).
--   trainer:use(llm.observe{...})   or   llm.Trainer{..., observe = true | {...}}
-- options (all optional):
--   tensorboard = DIR | true        event files in DIR (true: <run folder>/tensorboard); primary rank only
--   histograms = 100                every N steps: histograms of each parameter's weights ('weights/<name>')
--                                   and gradients ('grads/<name>') (0: never); bins = 30
--   sample = function(trainer, step) -> string, sampleEvery = 100   text samples ('samples/text')
--   flops = true, peak = FLOP/s     FLOPs per step from the model's shapes, MFU against a measured matmul
--                                   peak (flops.peak(), measured at run start) or the given one
--   energy = true, rapl = ROOT, estimate = false, wattsPerCore = 10, gridIntensity = 475 (g CO2e/kWh)
-- Fields added to each train record and the progress line: flops (per step), mfu (a fraction: the FLOPs
-- over the compute time — forward, backward, optimizer step — of the steps since the last log record), joules (this
-- step: from the end of the previous step to the end of this one), energyJ (run so far), co2g (run so far),
-- energySource ('rapl' | 'estimate'; an estimate is marked "est." on the progress line). After the run,
-- the Trainer's result has joules, co2g and energySource; ext:joules() returns the run's joules so far,
-- a tuning objective (llm.observe.joules(trainer) does the same for the extension on a trainer).
local flops = require 'llm.observe.flops'
local energy = require 'llm.observe.energy'
local tfevents = require 'llm.observe.tfevents'

local M = {flops = flops, energy = energy, tfevents = tfevents, crc32c = require 'llm.observe.crc32c'}

local Observe = {}
Observe.__index = Observe

local allowed = {tensorboard = true, histograms = true, bins = true, sample = true, sampleEvery = true, flops = true, peak = true,
                 energy = true, rapl = true, estimate = true, wattsPerCore = true, gridIntensity = true, name = true}

local function nonNegInt(o, k, default)
  local v = o[k]
  if v == nil then return default end
  if math.type(v) ~= 'integer' or v < 0 then error(string.format("llm.observe: Invalid '%s': expected a non-negative integer, got %s", k, tostring(v)), 3) end
  return v
end

--- llm.observe{...}: the extension (see the header for the options).
function M.new(opts)
  opts = opts or {}
  if type(opts) ~= 'table' then error('llm.observe: expected an options table, got ' .. type(opts), 2) end
  for k in pairs(opts) do
    if not allowed[k] then error("llm.observe: unknown option '" .. tostring(k) .. "'", 2) end
  end
  local tb = opts.tensorboard
  if tb ~= nil and tb ~= false and tb ~= true and type(tb) ~= 'string' then
    error("llm.observe: Invalid 'tensorboard': expected a folder path or true, got " .. type(tb), 2)
  end
  if opts.sample ~= nil and type(opts.sample) ~= 'function' then error("llm.observe: Invalid 'sample': expected a function(trainer, step) -> string", 2) end
  if opts.peak ~= nil and (type(opts.peak) ~= 'number' or opts.peak <= 0) then error("llm.observe: Invalid 'peak': expected a positive number (FLOP/s)", 2) end
  local self = setmetatable({name = opts.name or 'observe', opts = opts, tensorboard = tb,
                             histograms = nonNegInt(opts, 'histograms', 100), bins = nonNegInt(opts, 'bins', 30),
                             sampleEvery = nonNegInt(opts, 'sampleEvery', 100),
                             countFlops = opts.flops ~= false, measureEnergy = opts.energy ~= false,
                             total = 0}, Observe)
  if self.bins < 1 then error("llm.observe: Invalid 'bins': expected a positive integer", 2) end
  energy.gridIntensity(opts.gridIntensity)   -- validates early
  return self
end

function Observe:onRunStart(trainer)
  local o = self.opts
  if self.countFlops then self.peak = o.peak or flops.peak() end
  if self.measureEnergy then
    self.meter = energy.meter{rapl = o.rapl, estimate = o.estimate, wattsPerCore = o.wattsPerCore}
    self.grid = energy.gridIntensity(o.gridIntensity)
    self.lastJ, self.total = self.meter:read(), self.total or 0
  end
  if self.tensorboard and trainer:isPrimary() then
    local dir = self.tensorboard
    if dir == true then
      local run = trainer:runFolder()
      if not run then error("llm.observe: tensorboard = true needs a run folder (checkpointDir or metrics); give a folder path", 0) end
      dir = run .. '/tensorboard'
    end
    self.writer = tfevents.open(dir)
  end
end

function Observe:beforeStep()
  self.t0, self.tokens, self.seqLen = llm.clock(), 0, nil
end

function Observe:afterForward(_, batch)
  local y = batch.y
  self.tokens = self.tokens + y:numel()
  local x = batch.x
  if llm.isTensor(x) and x:dim() >= 2 then self.seqLen = x:size(2) elseif llm.isTensor(x) then self.seqLen = x:size(1) end
end

-- {name, tensor} pairs of the model's parameters in module order (each tensor once: namedParameters)
local function namedParams(model)
  local out = {}
  for name, t in pairs(model:namedParameters()) do out[#out + 1] = {name, t} end
  return out
end

function Observe:afterOptimizerStep(trainer, info)
  local f = trainer.stepFields or {}
  trainer.stepFields = f
  if self.countFlops and self.seqLen then
    local dt = llm.clock() - self.t0
    local perToken = flops.perToken(trainer.model, self.seqLen)
    f.flops = perToken * self.tokens
    -- MFU over the steps since the last log record (one step alone is noisy)
    self.winFlops, self.winTime = (self.winFlops or 0) + f.flops, (self.winTime or 0) + dt
    f.mfu = flops.mfu(self.winFlops, self.winTime, self.peak)
    if info.step % (trainer.logEvery or 1) == 0 then self.winFlops, self.winTime = 0, 0 end
  end
  if self.meter then
    local now = self.meter:read()
    f.joules = now - self.lastJ
    self.total, self.lastJ = self.total + f.joules, now
    f.energyJ, f.co2g, f.energySource = self.total, energy.co2(self.total, self.grid), self.meter.kind
  end
  if self.writer and self.histograms > 0 and info.step % self.histograms == 0 then
    for _, p in ipairs(namedParams(trainer.model)) do
      local name, t = p[1], p[2]
      self.writer:histogram('weights/' .. name, t, info.step, {bins = self.bins})
      if t.grad then self.writer:histogram('grads/' .. name, t.grad, info.step, {bins = self.bins}) end
    end
  end
end

function Observe:afterStep(trainer, info)
  local w = self.writer
  if not w or not info.loss then return end
  local f = trainer.stepFields or {}
  w:scalar('train/loss', info.loss, info.step)
  w:scalar('train/lr', info.lr, info.step)
  if info.tokensPerSec then w:scalar('train/tokensPerSec', info.tokensPerSec, info.step) end
  if f.mfu then w:scalar('perf/mfu', f.mfu, info.step) end
  if f.joules then
    w:scalar('energy/joulesPerStep', f.joules, info.step)
    w:scalar('energy/runJoules', f.energyJ, info.step)
    w:scalar('energy/co2g', f.co2g, info.step)
  end
  if self.opts.sample and self.sampleEvery > 0 and (info.step % self.sampleEvery == 0 or info.step == trainer.steps) then
    w:text('samples/text', self.opts.sample(trainer, info.step), info.step)
  end
end

function Observe:onEval(_, info)
  if self.writer and info.valLoss then self.writer:scalar('val/loss', info.valLoss, info.step) end
end

function Observe:onRunEnd(_, result)
  if self.meter then
    local now = self.meter:read()
    self.total, self.lastJ = self.total + (now - self.lastJ), now
    result.joules, result.co2g, result.energySource = self.total, energy.co2(self.total, self.grid), self.meter.kind
  end
  if self.writer then self.writer:close(); self.writer = nil end
end

--- State in checkpoints: the run's joules so far (a resumed run keeps counting).
function Observe:stateDict() return {joules = self.total} end
function Observe:loadStateDict(sd) self.total = tonumber(sd.joules) or 0 end

--- The run's joules so far (a tuning objective).
function Observe:joules() return self.total end

--- The joules so far of the observe extension on a trainer (nil when it has none).
function M.joules(trainer)
  for _, ext in ipairs(trainer.extensions or {}) do
    if getmetatable(ext) == Observe then return ext:joules() end
  end
  return nil
end

M.Observe = Observe
return setmetatable(M, {__call = function(_, opts) return M.new(opts) end})
