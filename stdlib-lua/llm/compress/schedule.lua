-- compress.schedule: pruning schedules. A schedule is a function step -> target sparsity in [0, 1] (step =
-- optimizer steps completed); the pruner prunes whenever the target rises above the sparsity it reached.
-- Any Lua function works; the built-ins:
--   oneShot{at=0, amount}                     amount from step `at` on
--   iterative{start=0, every, rounds, amount} prune-and-fine-tune: `rounds` prunings `every` steps apart,
--                                             each removing the same fraction of what is left, reaching
--                                             `amount` at the last: s_r = 1 − (1 − amount)^(r/rounds)
--   gmp{initial=0, final, start=0, stop, every=1}
--                                             gradual magnitude pruning (Zhu & Gupta 2017): from `start`
--                                             to `stop`, every `every` steps, s_t = s_f + (s_i − s_f)(1 −
--                                             (t − t0)/(n·Δt))³ with t0 = start, n·Δt = stop − start
--   lotteryTicket{rewindTo=0, start=0, every, rounds, amount}
--                                             iterative pruning with rewinding (Frankle et al. 2019/2020):
--                                             the pruner saves the weights (and optimizer state) after
--                                             `rewindTo` steps and resets the kept weights to them after
--                                             each pruning; a callable table carrying rewindTo
local check = require 'llm.compress.check'
local options = require 'llm.nn.options'

local S = {}
local NONE = options.NONE

--- {at=0, amount}: sparsity `amount` from step `at` on.
function S.oneShot(opts)
  local o = options.check('compress.schedule.oneShot', opts, {at = 0, amount = NONE}, 2)
  check.step('compress.schedule.oneShot', 'at', o.at, 2)
  check.fraction('compress.schedule.oneShot', 'amount', o.amount, 2)
  return function(step) return step >= o.at and o.amount or 0 end
end

local function iterativeOpts(who, opts, extra)
  local defaults = {start = 0, every = NONE, rounds = NONE, amount = NONE}
  for k, v in pairs(extra or {}) do defaults[k] = v end
  local o = options.check(who, opts, defaults, 3)
  check.step(who, 'start', o.start, 3)
  options.positiveInt(who, 'every', o.every, 3)
  options.positiveInt(who, 'rounds', o.rounds, 3)
  check.fraction(who, 'amount', o.amount, 3)
  return o
end

local function iterative(o)
  return function(step)
    if step < o.start + o.every then return 0 end
    local r = math.min((step - o.start) // o.every, o.rounds)
    return 1 - (1 - o.amount) ^ (r / o.rounds)
  end
end

--- {start=0, every, rounds, amount}: prune-and-fine-tune, s_r = 1 − (1 − amount)^(r/rounds) after round r.
function S.iterative(opts) return iterative(iterativeOpts('compress.schedule.iterative', opts)) end

--- {initial=0, final, start=0, stop, every=1}: gradual magnitude pruning, Zhu & Gupta's cubic s_t = s_f + (s_i − s_f)(1 − (t − start)/(stop − start))³.
function S.gmp(opts)
  local who = 'compress.schedule.gmp'
  local o = options.check(who, opts, {initial = 0, final = NONE, start = 0, stop = NONE, every = 1}, 2)
  check.fraction(who, 'initial', o.initial, 2)
  check.fraction(who, 'final', o.final, 2)
  check.step(who, 'start', o.start, 2)
  check.step(who, 'stop', o.stop, 2)
  options.positiveInt(who, 'every', o.every, 2)
  if o.stop <= o.start then error(string.format("%s: 'stop' (%d) must be after 'start' (%d)", who, o.stop, o.start), 2) end
  return function(step)
    if step < o.start then return 0 end
    local t = math.min(step, o.stop)
    t = t == o.stop and t or o.start + (t - o.start) // o.every * o.every
    return o.final + (o.initial - o.final) * (1 - (t - o.start) / (o.stop - o.start)) ^ 3
  end
end

--- {rewindTo=0, start=0, every, rounds, amount}: iterative pruning whose pruner rewinds the kept weights to step rewindTo after each round.
function S.lotteryTicket(opts)
  local o = iterativeOpts('compress.schedule.lotteryTicket', opts, {rewindTo = 0})
  check.step('compress.schedule.lotteryTicket', 'rewindTo', o.rewindTo, 2)
  if o.rewindTo >= o.start + o.every then
    error(string.format("compress.schedule.lotteryTicket: 'rewindTo' (%d) must come before the first pruning (step %d)",
      o.rewindTo, o.start + o.every), 2)
  end
  return setmetatable({rewindTo = o.rewindTo}, {__call = function(_, step) return iterative(o)(step) end})
end

return S
