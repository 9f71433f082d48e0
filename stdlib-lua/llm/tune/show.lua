-- llm.tune.show: `llmscript tune show STUDY_FILE [--study NAME] [--out DIR] [--top N]` (and tune.show(path, opts)).
-- Prints the study's trial counts, its best trials (single objective: the top N by value; several objectives:
-- the Pareto front) with their parameters, the parameter importance (llm/tune/importance.lua), and writes SVG
-- plots (llm/plot.lua) into DIR (default: STUDY_FILE without its extension + '-plots'):
--   history.svg (objective value of each complete trial by number, and the best so far; one series per
--   objective), importance.svg (bars), parallel.svg (parallel coordinates of the parameters and the first
--   objective, coloured by it), pareto.svg (two or more objectives: the first two, front highlighted).
-- Reading never changes the study (no stale-trial marking). Returns the exit status (0, or 2 for a usage error).
local plot = require 'llm.plot'
local storage = require 'llm.tune.storage'
local importance = require 'llm.tune.importance'
local studyMod = require 'llm.tune.study'

local M = {}

M.usage = 'usage: llmscript tune show STUDY_FILE [--study NAME] [--out DIR] [--top N]'

local function paramText(t)
  local names = {}
  for k in pairs(t.params) do names[#names + 1] = k end
  table.sort(names)
  local parts = {}
  for _, k in ipairs(names) do
    local v = t.params[k]
    parts[#parts + 1] = k .. '=' .. (math.type(v) == 'float' and plot.format(v) or tostring(v))
  end
  return table.concat(parts, ', ')
end

local function valuesText(t)
  local parts = {}
  for i, v in ipairs(t.values or {}) do parts[i] = string.format('%.6g', v) end
  return table.concat(parts, ', ')
end

local function sortedNames(records)
  local seen, names = {}, {}
  for _, t in ipairs(records) do for k in pairs(t.params) do if not seen[k] then seen[k] = true; names[#names + 1] = k end end end
  table.sort(names)
  return names
end

local function plots(dir, study, done, front, imp)
  llm.makeDirs(dir)
  local written = {}
  local function save(name, svg) written[#written + 1] = plot.save(dir .. '/' .. name, svg) end
  -- history: every objective's values by trial number, and the best so far of each
  local series = {}
  for i, d in ipairs(study.directions) do
    local xs, ys, bx, by, best = {}, {}, {}, {}, nil
    for _, t in ipairs(done) do
      local v = t.values[i]
      xs[#xs + 1], ys[#ys + 1] = t.number, v
      if best == nil or (d == 'maximize' and v > best) or (d == 'minimize' and v < best) then best = v end
      bx[#bx + 1], by[#by + 1] = t.number, best
    end
    local label = #study.directions > 1 and ('objective ' .. i) or 'objective'
    series[#series + 1] = {name = label, x = xs, y = ys, markers = true}
    series[#series + 1] = {name = 'best ' .. label, x = bx, y = by}
  end
  local lo, hi
  for _, t in ipairs(done) do for _, v in ipairs(t.values) do lo = lo and math.min(lo, v) or v; hi = hi and math.max(hi, v) or v end end
  save('history.svg', plot.line{title = "Optimisation history of '" .. study.name .. "'", xlabel = 'trial', ylabel = 'objective value',
                                series = series, logY = lo ~= nil and lo > 0 and hi / lo > 1000})
  local labels, values = {}, {}
  for i, r in ipairs(imp) do labels[i], values[i] = r.name, r.importance end
  save('importance.svg', plot.bar{title = 'Parameter importance (first-order variance share)', labels = labels, values = values, xlabel = 'share of variance'})
  local axes, color = {}, {}
  for _, name in ipairs(sortedNames(done)) do
    local dist, vals
    for _, t in ipairs(done) do dist = dist or t.distributions[name] end
    vals = {}
    local ax = {name = name, values = vals, log = dist.kind ~= 'categorical' and dist.log or nil}
    if dist.kind == 'categorical' then
      ax.labels = {}
      for k, c in ipairs(dist.choices) do ax.labels[k] = tostring(c) end
    end
    for j, t in ipairs(done) do
      local v = t.params[name]
      if v == nil then vals[j] = 0 / 0 elseif dist.kind == 'categorical' then vals[j] = require('llm.tune.space').toStored(dist, v) else vals[j] = v end
    end
    axes[#axes + 1] = ax
  end
  local obj = {name = 'objective', values = {}}
  for j, t in ipairs(done) do obj.values[j], color[j] = t.values[1], t.values[1] end
  axes[#axes + 1] = obj
  save('parallel.svg', plot.parallel{title = 'Parallel coordinates', axes = axes, color = color, colorLabel = 'objective'})
  if #study.directions > 1 then
    local fx, fy, ox, oy, onFront = {}, {}, {}, {}, {}
    for _, t in ipairs(front) do onFront[t.number] = true; fx[#fx + 1], fy[#fy + 1] = t.values[1], t.values[2] end
    for _, t in ipairs(done) do if not onFront[t.number] then ox[#ox + 1], oy[#oy + 1] = t.values[1], t.values[2] end end
    save('pareto.svg', plot.scatter{title = 'Pareto front', xlabel = 'objective 1 (' .. study.directions[1] .. ')',
                                    ylabel = 'objective 2 (' .. study.directions[2] .. ')',
                                    series = {{name = 'dominated', x = ox, y = oy, color = '#aaaaaa'}, {name = 'Pareto front', x = fx, y = fy, color = '#d62728'}}})
  end
  return written
end

--- Prints the study in the file at path and writes its plots; opts: study (name), out (folder), top (count), print.
function M.show(path, opts)
  opts = opts or {}
  local out = opts.print or print
  local f = io.open(path, 'rb')
  if not f then error("tune show: no study file '" .. tostring(path) .. "'", 0) end
  f:close()
  local store = storage.open(path)
  local rows = store:studies()
  local row
  if opts.study then
    for _, r in ipairs(rows) do if r.name == opts.study then row = r end end
    if not row then store:close(); error("tune show: no study '" .. opts.study .. "' in " .. path, 0) end
  elseif #rows == 1 then
    row = rows[1]
  else
    local names = {}
    for i, r in ipairs(rows) do names[i] = r.name end
    store:close()
    error('tune show: ' .. path .. (#rows == 0 and ' holds no study' or (' holds several studies, choose one with --study: ' .. table.concat(names, ', '))), 0)
  end
  local study = {name = row.name, directions = row.directions}
  local all = store:trials(row.id)
  local counts = {complete = 0, pruned = 0, failed = 0, running = 0}
  local done = {}
  for _, t in ipairs(all) do
    counts[t.state] = (counts[t.state] or 0) + 1
    if t.state == 'complete' then done[#done + 1] = t end
  end
  out(string.format("study '%s' in %s: %s; %d trials: %d complete, %d pruned, %d failed, %d running", row.name, path,
    table.concat(row.directions, ', '), #all, counts.complete, counts.pruned, counts.failed, counts.running))
  local front = {}
  if #row.directions == 1 then
    local sorted = {table.unpack(done)}
    local max = row.directions[1] == 'maximize'
    table.sort(sorted, function(a, b) if max then return a.values[1] > b.values[1] end return a.values[1] < b.values[1] end)
    out(string.format('best trials (top %d):', math.min(opts.top or 5, #sorted)))
    for i = 1, math.min(opts.top or 5, #sorted) do
      local t = sorted[i]
      out(string.format('  %2d. trial %-4d value %-12s %s', i, t.number, valuesText(t), paramText(t)))
    end
  else
    for _, a in ipairs(done) do
      local dominated = false
      for _, b in ipairs(done) do if b ~= a and studyMod.dominates(row.directions, b, a) then dominated = true; break end end
      if not dominated then front[#front + 1] = a end
    end
    out(string.format('Pareto front (%d trials):', #front))
    for _, t in ipairs(front) do out(string.format('  trial %-4d values %-24s %s', t.number, valuesText(t), paramText(t))) end
  end
  local imp = importance.importance(done)
  if #imp > 0 then
    out('parameter importance (first-order variance share):')
    for _, r in ipairs(imp) do out(string.format('  %-20s %.3f', r.name, r.importance)) end
  end
  store:close()
  local dir = opts.out or (path:gsub('%.[^./]*$', '') .. '-plots')
  local written = plots(dir, study, done, front, imp)
  out('wrote ' .. table.concat(written, ', '))
  return 0
end

--- The CLI: args after `tune`; returns the exit status.
function M.main(args)
  local sub = args[1]
  if sub == '-h' or sub == '--help' then io.stdout:write(M.usage, '\n'); return 0 end
  if sub == nil then io.stderr:write('llmscript tune: missing command\n', M.usage, '\n'); return 2 end
  if sub ~= 'show' then io.stderr:write("llmscript tune: unknown command '", sub, "'\n", M.usage, '\n'); return 2 end
  local opts, path = {}, nil
  local i = 2
  while i <= #args do
    local a = args[i]
    local key, value = a:match('^%-%-(%w+)=(.*)$')
    if not key and a:match('^%-%-%w+$') then key, value = a:sub(3), args[i + 1]; i = i + 1 end
    if key then
      if value == nil then io.stderr:write("llmscript tune: '--", key, "' needs a value\n", M.usage, '\n'); return 2 end
      if key == 'out' then opts.out = value
      elseif key == 'study' then opts.study = value
      elseif key == 'top' and math.tointeger(tonumber(value)) then opts.top = math.tointeger(tonumber(value))
      else io.stderr:write("llmscript tune: unrecognized option '", a, "'\n", M.usage, '\n'); return 2 end
    elseif path == nil then
      path = a
    else
      io.stderr:write("llmscript tune: unexpected argument '", a, "'\n", M.usage, '\n'); return 2
    end
    i = i + 1
  end
  if not path then io.stderr:write('llmscript tune show: missing STUDY_FILE\n', M.usage, '\n'); return 2 end
  local ok, err = pcall(M.show, path, opts)
  if not ok then io.stderr:write('llmscript ', tostring(err):gsub('^tune show: ', 'tune show: '), '\n'); return 1 end
  return 0
end

return M
