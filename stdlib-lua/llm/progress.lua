-- llm.progress: training progress. On a terminal, one line redrawn in place (step, loss, lr, tokens/s,
-- ETA); otherwise plain log lines every `every` steps, so logs stay readable in files and CI. Fields from
-- llm.observe, when present, follow the tokens/s: MFU (percent) and energy (J/step, marked "est." when
-- it is an estimate, and the run's CO2 so far).
local Progress = {}
Progress.__index = Progress

local function duration(s)
  if s ~= s or s == math.huge then return '?' end
  s = math.floor(s + 0.5)
  if s >= 3600 then return string.format('%dh%02dm', s // 3600, (s % 3600) // 60) end
  if s >= 60 then return string.format('%dm%02ds', s // 60, s % 60) end
  return s .. 's'
end
Progress.duration = duration

--- Progress.new{total=steps, every=10, terminal=llm.isTerminal(), out=io.stdout}
function Progress.new(opts)
  local self = setmetatable({}, Progress)
  self.total = opts.total
  self.every = opts.every or 10
  self.terminal = opts.terminal
  if self.terminal == nil then self.terminal = llm.isTerminal(1) end
  self.out = opts.out or io.stdout
  self.start = llm.clock()
  self.startStep = opts.startStep or 0
  return self
end

-- The observe fields as ' | MFU 3.1% | 2.4 J/step (est.), 0.12 g CO2' (empty when absent).
local function observed(f)
  local s = ''
  if f.mfu then s = s .. string.format(' | MFU %.1f%%', 100 * f.mfu) end
  if f.joules then
    s = s .. string.format(' | %.3g J/step%s', f.joules, f.energySource == 'estimate' and ' (est.)' or '')
    if f.co2g then s = s .. string.format(', %.3g g CO2', f.co2g) end
  end
  return s
end

--- Reports step `step` (1-based) with fields {loss, lr, tokensPerSec, [mfu, joules, energySource, co2g]}.
function Progress:update(step, f)
  local elapsed = llm.clock() - self.start
  local done = step - self.startStep
  local eta = done > 0 and elapsed / done * (self.total - step) or math.huge
  local line = string.format('step %d/%d | loss %.4f | lr %.2e | %.0f tok/s%s | ETA %s',
    step, self.total, f.loss, f.lr, f.tokensPerSec or 0, observed(f), duration(eta))
  if self.terminal then
    local width = 20
    local filled = math.floor(width * step / self.total)
    self.out:write('\r[' .. string.rep('#', filled) .. string.rep('.', width - filled) .. '] ' .. line .. '   ')
    self.out:flush()
  elseif step % self.every == 0 or step == self.total then
    self.out:write(line, '\n')
    self.out:flush()
  end
end

--- Prints a message on its own line (ends the in-place line first).
function Progress:log(msg)
  if self.terminal then self.out:write('\r\27[K') end
  self.out:write(msg, '\n')
  self.out:flush()
end

function Progress:finish()
  if self.terminal then self.out:write('\n') end
  self.out:flush()
end

return Progress
