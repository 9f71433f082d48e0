-- llm.privacy: differentially private training (DP-SGD, Abadi et al. 2016) as a Trainer extension, with
-- Poisson sampling and an RDP accountant that matches Opacus's (Tests/Fixtures/opacus_rdp.json).
--   privacy.PoissonLoader(ids, {blockSize, sampleRate, seed=0}) -> loader for Trainer{train = ...}: the dataset is
--       the N = ⌊(#ids − 1)/blockSize⌋ non-overlapping windows of blockSize+1 tokens; each :next() draws every
--       window independently with probability sampleRate (its own seeded stream: variable batch sizes, possibly
--       0, as the accountant assumes) -> x, y (B, blockSize) int64; :size() = N; :state()/:setState() for resume
--   privacy.DPSGD{noise = σ, clip = C, sampleRate = q, datasetSize = N, delta = 1e-5}: the extension ('dpsgd').
--       Per step (forwardBackward): per-example gradients of each example's mean token loss
--       (llm.privacy.persample: Linear, Embedding, LayerNorm, RMSNorm — attention through its Linears; the
--       batch's mean loss times B, which is Σ_b of them when every row has the same number of scored tokens; when
--       some targets are −100 (nn.GPT's ignoreIndex: prompt tokens, padding) Σ_b of each row's own mean over its
--       scored tokens, from the logits, so an example's gradient does not depend on the others), each
--       clipped to norm C and summed; the forward gets the batch's options (batch.opts: packed
--       llm.data.instructions' segments and positions keep the examples of a row apart); transformGradients adds N(0, σ²C²) noise to the sum and divides by the
--       expected batch size q·N (Opacus's default). An empty batch contributes noise only (its loss reads 0).
--       The Trainer's global clipping must be off (clip = 0) and gradAccum 1. trainer.stepFields get epsilon;
--       ext:epsilon([delta]) -> ε so far. The accountant's history is saved in checkpoints.
--   privacy.accountant (llm/privacy/accountant.lua), privacy.persample (llm/privacy/persample.lua)
local accountant = require 'llm.privacy.accountant'
local persample = require 'llm.privacy.persample'

local M = {accountant = accountant, persample = persample}
local IGNORE = -100   -- nn.GPT's ignoreIndex

local function positive(who, name, v, level)
  if type(v) ~= 'number' or not (v > 0) or v ~= v or v == math.huge then
    error(string.format("%s: Invalid '%s': expected a positive number, got %s", who, name, tostring(v)), level + 1)
  end
end

-- splitmix64: a small seeded stream in plain Lua (its state is one integer: exact resume).
local function splitmix(state)
  state = state + 0x9E3779B97F4A7C15
  local z = state
  z = (z ~ (z >> 30)) * 0xBF58476D1CE4E5B9
  z = (z ~ (z >> 27)) * 0x94D049BB133111EB
  z = z ~ (z >> 31)
  return state, ((z >> 11) * (1.0 / 9007199254740992.0))
end

local Loader = {}
Loader.__index = Loader
Loader.__name = 'llm.privacy.PoissonLoader'

--- Poisson-sampled windows of ids (see the header).
function M.PoissonLoader(ids, opts)
  local who = 'llm.privacy.PoissonLoader'
  if not llm.isTensor(ids) or ids:dim() ~= 1 then error(who .. ': expected a 1-D tensor of token ids', 2) end
  if type(opts) ~= 'table' then error(who .. ': expected options {blockSize, sampleRate}', 2) end
  if math.type(opts.blockSize) ~= 'integer' or opts.blockSize < 1 then error(who .. ": Invalid 'blockSize': expected a positive integer", 2) end
  local q = opts.sampleRate
  if type(q) ~= 'number' or not (q > 0 and q <= 1) then error(who .. ": Invalid 'sampleRate': expected a number in (0, 1], got " .. tostring(q), 2) end
  local n = (ids:numel() - 1) // opts.blockSize
  if n < 1 then error(string.format('%s: %d tokens make no window of %d+1', who, ids:numel(), opts.blockSize), 2) end
  return setmetatable({ids = ids:to('int64'), t = opts.blockSize, q = q, n = n, rng = opts.seed or 0}, Loader)
end

--- The number of windows N.
function Loader:size() return self.n end

--- The 1-based window indices of the next batch.
function Loader:draw()
  local picked = {}
  for i = 1, self.n do
    local u
    self.rng, u = splitmix(self.rng)
    if u < self.q then picked[#picked + 1] = i end
  end
  return picked
end

--- The next Poisson batch: x, y (B, blockSize) int64 (B may be 0).
function Loader:next()
  local picked, t = self:draw(), self.t
  if #picked == 0 then return llm.zeros(0, t, {dtype = 'int64'}), llm.zeros(0, t, {dtype = 'int64'}) end
  local xs, ys = {}, {}
  for k, i in ipairs(picked) do
    local w = self.ids:narrow(1, (i - 1) * t + 1, t + 1)
    xs[k], ys[k] = w:narrow(1, 1, t), w:narrow(1, 2, t)
  end
  return llm.stack(xs, 1), llm.stack(ys, 1)
end

function Loader:state() return {rng = self.rng} end
function Loader:setState(s) self.rng = s.rng end

local DPSGD = {}
DPSGD.__index = DPSGD

--- The DP-SGD extension (see the header).
function M.DPSGD(opts)
  local who = 'llm.privacy.DPSGD'
  if type(opts) ~= 'table' then error(who .. ': expected options {noise, clip, sampleRate, datasetSize}', 2) end
  for k in pairs(opts) do
    if not ({noise = 1, clip = 1, sampleRate = 1, datasetSize = 1, delta = 1})[k] then
      error(string.format("%s: unknown option '%s'; expected one of: 'noise', 'clip', 'sampleRate', 'datasetSize', 'delta'", who, tostring(k)), 2)
    end
  end
  if type(opts.noise) ~= 'number' or opts.noise < 0 then error(who .. ": Invalid 'noise': expected a non-negative number, got " .. tostring(opts.noise), 2) end
  positive(who, 'clip', opts.clip, 2)
  positive(who, 'sampleRate', opts.sampleRate, 2)
  if opts.sampleRate > 1 then error(who .. ": Invalid 'sampleRate': expected a number in (0, 1]", 2) end
  if math.type(opts.datasetSize) ~= 'integer' or opts.datasetSize < 1 then error(who .. ": Invalid 'datasetSize': expected a positive integer", 2) end
  local delta = opts.delta or 1e-5
  positive(who, 'delta', delta, 2)
  return setmetatable({name = 'dpsgd', noise = opts.noise, clip = opts.clip, q = opts.sampleRate, n = opts.datasetSize,
                       delta = delta, acc = accountant.new()}, DPSGD)
end

function DPSGD:onRunStart(trainer)
  if trainer.clip and trainer.clip > 0 then
    error('DP-SGD clips per example: set the Trainer\'s clip = 0 (global clipping would change the sensitivity)', 0)
  end
  if trainer.gradAccum ~= 1 then error('DP-SGD draws one Poisson batch per step: gradAccum must be 1', 0) end
end

-- Σ_b of each example's mean token loss: the batch mean times b when no target is ignored (every row scores
-- as many tokens), else each row's sum over its scored tokens divided by their count (a row scoring none: 0).
local function perExampleSum(logits, loss, y, b)
  if not llm.isTensor(y) or y:ne(IGNORE):sum():item() == y:numel() then return loss * b end
  if not llm.isTensor(logits) or logits:dim() ~= y:dim() + 1 then
    error('DP-SGD: targets −100 (ignored) need the model\'s logits (B, T, vocab) for per-example means', 0)
  end
  local tokens = llm.crossEntropy(logits, y, {ignoreIndex = IGNORE, reduction = 'none'})
  local counts = y:ne(IGNORE):float():sum(y:dim()):clamp(1, math.huge)
  local rows = tokens:reshape(b, -1):sum(2) / counts:reshape(b)
  return rows:sum()
end

function DPSGD:forwardBackward(trainer, batches)
  local model, params = trainer.model, {}
  for _, p in ipairs(trainer.params or model:parameters()) do if p.requiresGrad then params[#params + 1] = p end end
  for _, batch in ipairs(batches) do
    local b = batch.x:size(1)
    if b == 0 then
      for _, p in ipairs(params) do p.grad = llm.zeros(table.unpack(p:shape())) end
      batch.loss = 0
    else
      local cap = persample.capture(model, b)
      local ok, err = pcall(function()
        local logits, loss = model(batch.x, batch.y, batch.opts)
        perExampleSum(logits, loss, batch.y, b):backward()   -- Σ_b (mean token loss of example b)
        batch.loss = loss:item()
        local norms = persample.clipSum(params, cap:gradients(), self.clip)
        self.lastNorms = norms
      end)
      cap:remove()
      if not ok then error(err, 0) end
    end
  end
end

function DPSGD:transformGradients(trainer)
  local scale = 1 / (self.q * self.n)
  llm.noGrad(function()
    for _, p in ipairs(trainer.params or trainer.model:parameters()) do
      if p.requiresGrad and p.grad then
        local noise = llm.randn(table.unpack(p:shape())) * (self.noise * self.clip)
        p.grad = (p.grad + noise) * scale
      end
    end
  end)
  self.acc:step(self.noise, self.q, 1)
  if trainer.stepFields then trainer.stepFields.epsilon = self:epsilon() end
end

--- ε at delta (default the extension's) after the steps taken.
function DPSGD:epsilon(delta) return (self.acc:epsilon(delta or self.delta)) end

function DPSGD:stateDict() return {history = self.acc.history} end
function DPSGD:loadStateDict(t) self.acc:loadStateDict(t) end

M.Loader = Loader
return M
