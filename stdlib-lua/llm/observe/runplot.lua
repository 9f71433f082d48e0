-- llm.observe.runplot: `llmscript plot RUN [RUN...] [--out FILE.svg|FILE.png] [--metrics loss,lr,tokensPerSec,energy]`
-- (and runplot.plot(runs, opts) -> svg). A RUN is a run folder holding metrics.jsonl, or a metrics JSONL file.
-- Draws one chart per metric, the runs as coloured series, into one SVG (llm/plot.lua: plot.line, plot.grid):
--   loss          train loss (solid) and validation loss (dashed, markers) by step
--   lr            learning rate by step (log axis)
--   tokensPerSec  throughput by step
--   energy        the run's joules so far by step (energyJ of llm.observe; "(estimate)" when estimated)
--   mfu           model FLOPs utilization (percent) by step
--   co2           grams CO2e so far by step
-- Records are read as the Trainer writes them (llm/runlog.lua): the latest record of each (type, step) wins
-- (a resumed run's replays replace the first pass). Default output: RUN/plot.svg for one run folder, else
-- ./plot.svg. An --out ending in .png is converted from the SVG by rsvg-convert (Debian: librsvg2-bin).
-- main(args) returns the exit status (0, 1 an error such as an unreadable file, 2 a usage error).
local plot = require 'llm.plot'

local M = {}

M.usage = 'usage: llmscript plot RUN [RUN...] [--out FILE.svg|FILE.png] [--metrics loss,lr,tokensPerSec,energy,mfu,co2]'
M.defaultMetrics = {'loss', 'lr', 'tokensPerSec', 'energy'}

local function isFile(path)
  local f = io.open(path, 'r')
  if not f then return false end
  local ok = f:read(0) ~= nil or f:seek('end') == 0
  f:close()
  return ok
end

--- The metrics file of a run argument (a folder with metrics.jsonl, or the file itself).
function M.metricsPath(run)
  if isFile(run .. '/metrics.jsonl') then return run .. '/metrics.jsonl' end
  if isFile(run) then return run end
  error("plot: '" .. run .. "' is neither a metrics JSONL file nor a run folder with metrics.jsonl", 0)
end

--- Reads a metrics file: {train = {step -> record}, eval = {...}, steps sorted per type}.
function M.read(path)
  local f, err = io.open(path, 'r')
  if not f then error('plot: ' .. tostring(err), 0) end
  local byType, n = {}, 0
  for line in f:lines() do
    n = n + 1
    if line:match('%S') then
      local ok, rec = pcall(llm.json.decode, line)
      if not ok or type(rec) ~= 'table' then f:close(); error(string.format('plot: %s:%d: not a JSON record', path, n), 0) end
      if type(rec.type) == 'string' and math.type(rec.step) == 'integer' then
        byType[rec.type] = byType[rec.type] or {}
        byType[rec.type][rec.step] = rec
      end
    end
  end
  f:close()
  local out = {}
  for ty, recs in pairs(byType) do
    local list = {}
    for _, r in pairs(recs) do list[#list + 1] = r end
    table.sort(list, function(a, b) return a.step < b.step end)
    out[ty] = list
  end
  return out
end

local function column(list, key, scale)
  local x, y = {}, {}
  for _, r in ipairs(list or {}) do
    if type(r[key]) == 'number' then x[#x + 1] = r.step; y[#y + 1] = r[key] * (scale or 1) end
  end
  return x, y
end

local charts = {
  loss = {title = 'Loss', ylabel = 'loss', series = function(run, color)
    local s = {}
    local x, y = column(run.data.train, 'loss')
    if #x > 0 then s[#s + 1] = {name = run.name .. ' train', x = x, y = y, color = color, markers = #x == 1 or nil} end
    x, y = column(run.data.eval, 'valLoss')
    if #x > 0 then s[#s + 1] = {name = run.name .. ' val', x = x, y = y, color = color, dash = true, markers = #x == 1 or nil} end
    return s
  end},
  lr = {title = 'Learning rate', ylabel = 'lr', logY = true, key = 'lr'},
  tokensPerSec = {title = 'Throughput', ylabel = 'tokens/s', key = 'tokensPerSec'},
  energy = {title = 'Energy', ylabel = 'joules (run so far)', key = 'energyJ'},
  mfu = {title = 'MFU', ylabel = 'MFU (%)', key = 'mfu', scale = 100},
  co2 = {title = 'CO2', ylabel = 'g CO2e (run so far)', key = 'co2g'},
}

local function estimated(runs)
  for _, run in ipairs(runs) do
    for _, r in ipairs(run.data.train or {}) do if r.energySource == 'estimate' then return true end end
  end
  return false
end

--- The SVG for runs = {{name =, data = M.read(path)}, ...} and opts = {metrics = {...}, title =}.
function M.plot(runs, opts)
  opts = opts or {}
  local metrics = opts.metrics or M.defaultMetrics
  local svgs = {}
  for _, m in ipairs(metrics) do
    local c = charts[m]
    if not c then
      local names = {}
      for k in pairs(charts) do names[#names + 1] = k end
      table.sort(names)
      error("plot: unknown metric '" .. tostring(m) .. "'; expected one of: " .. table.concat(names, ', '), 0)
    end
    local series = {}
    for i, run in ipairs(runs) do
      local color = plot.palette[(i - 1) % #plot.palette + 1]
      if c.series then
        for _, s in ipairs(c.series(run, color)) do series[#series + 1] = s end
      else
        local x, y = column(run.data.train, c.key, c.scale)
        if #x > 0 then series[#series + 1] = {name = run.name, x = x, y = y, color = color, markers = #x == 1 or nil} end
      end
    end
    local title = c.title
    if (m == 'energy' or m == 'co2') and estimated(runs) then title = title .. ' (estimate)' end
    svgs[#svgs + 1] = plot.line{series = series, title = title, xlabel = 'step', ylabel = c.ylabel, logY = c.logY,
                                width = 600, height = 340}
  end
  return plot.grid{charts = svgs, columns = #svgs == 1 and 1 or 2, title = opts.title}
end

local function basename(p) return (p:gsub('/+$', ''):match('([^/]+)$') or p) end

--- The command: parses args (the arg table: arg[1] is the first argument after `plot`), writes the file,
--- prints its path.
function M.main(args)
  local runs, out, metrics = {}, nil, nil
  local i = 1
  while args[i] do
    local a = args[i]
    if a == '--out' or a == '--metrics' then
      local v = args[i + 1]
      if not v then io.stderr:write('llmscript plot: ' .. a .. ' needs a value\n', M.usage, '\n'); return 2 end
      if a == '--out' then out = v else
        metrics = {}
        for m in v:gmatch('[^,%s]+') do metrics[#metrics + 1] = m end
      end
      i = i + 2
    elseif a:match('^%-%-out=') then out = a:sub(7); i = i + 1
    elseif a:match('^%-%-metrics=') then
      metrics = {}
      for m in a:sub(11):gmatch('[^,%s]+') do metrics[#metrics + 1] = m end
      i = i + 1
    elseif a == '-h' or a == '--help' then print(M.usage); return 0
    elseif a:match('^%-') then io.stderr:write("llmscript plot: unknown option '" .. a .. "'\n", M.usage, '\n'); return 2
    else runs[#runs + 1] = a; i = i + 1 end
  end
  if #runs == 0 then io.stderr:write('llmscript plot: no RUN given\n', M.usage, '\n'); return 2 end
  local ok, err = pcall(function()
    local loaded, names, runNames = {}, {}, {}
    for k, r in ipairs(runs) do
      local path = M.metricsPath(r)
      -- a run's name: its folder (also for a .../metrics.jsonl file), else the file name without .jsonl
      local name = path ~= r and basename(r) or path:match('([^/]+)/metrics%.jsonl$') or (basename(r):gsub('%.jsonl$', ''))
      if names[name] then name = r end
      names[name] = true
      loaded[k], runNames[k] = {name = name, data = M.read(path)}, name
    end
    local svg = M.plot(loaded, {metrics = metrics, title = 'run' .. (#runs > 1 and 's ' or ' ') .. table.concat(runNames, ', ')})
    local target = out or ((#runs == 1 and M.metricsPath(runs[1]) ~= runs[1]) and (runs[1] .. '/plot.svg') or 'plot.svg')
    if target:match('%.png$') then
      local tmp = target:gsub('%.png$', '.svg')
      plot.save(tmp, svg)
      local cmd = string.format("rsvg-convert -o '%s' '%s'", target:gsub("'", "'\\''"), tmp:gsub("'", "'\\''"))
      if not os.execute(cmd) then error('plot: could not convert to PNG with rsvg-convert (Debian: apt-get install librsvg2-bin); the SVG is ' .. tmp, 0) end
    else
      plot.save(target, svg)
    end
    print('wrote ' .. target)
  end)
  if not ok then io.stderr:write('llmscript ', tostring(err), '\n'); return 1 end
  return 0
end

return M
