-- llm.plot: small SVG charts, no dependencies (tuning plots; reusable by observability). Each function returns
-- the SVG document as a string; plot.save(path, svg) writes it. Text is XML-escaped; NaN / infinite values
-- (and values <= 0 on a log axis) are skipped; an empty chart still renders (axes and a "no data" note).
--   plot.line{series = {{name =, x = {...}, y = {...}}, ...}, title =, xlabel =, ylabel =, logX =, logY =,
--             width = 640, height = 400, points = false}            several series, one colour each, legend
--   plot.scatter{series = {{name =, x =, y =}, ...}, ...}           the same options, markers only
--   plot.bar{labels = {...}, values = {...}, title =, xlabel =, horizontal = true}
--   plot.parallel{axes = {{name =, values = {...}, log =, labels = {...} (categorical ticks)}, ...},
--                 color = {...} (one number per line, e.g. the objective), colorLabel =, title =}
--   plot.grid{charts = {svg, ...}, columns = 2, title =}   several charts (the strings above) in one document
--   plot.heatmap{values = {{...}, ...} (rows), xlabels =, ylabels =, min =, max =, cells = false, title =}
-- A line series may also set color =, width =, dash = true (a dashed line), markers = true.
-- Axes get "nice" ticks (1-2-5 steps; powers of ten on log axes).
local M = {}

M.palette = {'#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f', '#bcbd22', '#17becf'}

--- XML-escapes text for SVG content and attributes.
function M.escape(s)
  return (tostring(s):gsub('[&<>"\']', {['&'] = '&amp;', ['<'] = '&lt;', ['>'] = '&gt;', ['"'] = '&quot;', ["'"] = '&#39;'})
                    :gsub('[%z\1-\8\11\12\14-\31]', ''))
end

local function finite(v) return type(v) == 'number' and v == v and v ~= math.huge and v ~= -math.huge end

local function num(v) return string.format('%.2f', v) end

--- A short label for a tick value.
function M.format(v)
  if v == 0 then return '0' end
  local a = math.abs(v)
  if a >= 1e5 or a < 1e-3 then return (string.format('%.3g', v):gsub('e%+?(%-?)0*(%d)', 'e%1%2')) end
  return (string.format('%.4g', v))
end

-- Nice ticks for [lo, hi]: linear 1-2-5 steps, or powers of ten on a log axis.
local function ticks(lo, hi, log)
  local out = {}
  if log then
    local a, b = math.floor(math.log(lo, 10)), math.ceil(math.log(hi, 10))
    local step = math.max(1, math.ceil((b - a) / 8))
    for e = a, b, step do out[#out + 1] = 10 ^ e end
    return out, 10 ^ a, 10 ^ b
  end
  if hi == lo then lo, hi = lo - 0.5, hi + 0.5 end
  local raw = (hi - lo) / 6
  local mag = 10 ^ math.floor(math.log(raw, 10))
  local step = mag
  for _, m in ipairs{1, 2, 5, 10} do if m * mag >= raw then step = m * mag; break end end
  local a, b = math.floor(lo / step) * step, math.ceil(hi / step) * step
  for i = 0, math.floor((b - a) / step + 0.5) do out[#out + 1] = a + i * step end
  return out, a, b
end

-- An axis mapping [lo, hi] (data) onto [p0, p1] (pixels).
local function scale(lo, hi, p0, p1, log)
  local f = log and function(v) return math.log(v, 10) end or function(v) return v end
  local a, b = f(lo), f(hi)
  if b == a then b = a + 1 end
  return function(v) return p0 + (f(v) - a) / (b - a) * (p1 - p0) end
end

local function header(w, h, title)
  local out = {string.format('<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="sans-serif" font-size="12">', w, h, w, h),
               string.format('<rect width="%d" height="%d" fill="white"/>', w, h)}
  if title then out[#out + 1] = string.format('<text x="%s" y="20" text-anchor="middle" font-size="15" font-weight="bold">%s</text>', num(w / 2), M.escape(title)) end
  return out
end

local function extent(series, key, log)
  local lo, hi
  for _, s in ipairs(series) do
    for _, v in ipairs(s[key] or {}) do
      if finite(v) and (not log or v > 0) then lo = lo and math.min(lo, v) or v; hi = hi and math.max(hi, v) or v end
    end
  end
  return lo, hi
end

-- Line or scatter chart (lines: draw polylines).
local function xy(o, lines)
  if type(o) ~= 'table' or type(o.series) ~= 'table' then error('plot: expected {series = {{x =, y =}, ...}}', 3) end
  local w, h = o.width or 640, o.height or 400
  local L, R, T, B = 70, o.legend == false and 20 or 150, 35, 50
  local out = header(w, h, o.title)
  local x0, x1 = extent(o.series, 'x', o.logX)
  local y0, y1 = extent(o.series, 'y', o.logY)
  if not x0 or not y0 then
    out[#out + 1] = string.format('<text x="%s" y="%s" text-anchor="middle" fill="#666">no data</text>', num(w / 2), num(h / 2))
    out[#out + 1] = '</svg>'
    return table.concat(out, '\n') .. '\n'
  end
  local xt, xa, xb = ticks(x0, x1, o.logX)
  local yt, ya, yb = ticks(y0, y1, o.logY)
  local sx, sy = scale(xa, xb, L, w - R, o.logX), scale(ya, yb, h - B, T, o.logY)
  out[#out + 1] = string.format('<g stroke="#ddd" stroke-width="1">')
  for _, t in ipairs(xt) do out[#out + 1] = string.format('<line x1="%s" y1="%d" x2="%s" y2="%d"/>', num(sx(t)), T, num(sx(t)), h - B) end
  for _, t in ipairs(yt) do out[#out + 1] = string.format('<line x1="%d" y1="%s" x2="%d" y2="%s"/>', L, num(sy(t)), w - R, num(sy(t))) end
  out[#out + 1] = '</g>'
  out[#out + 1] = string.format('<rect x="%d" y="%d" width="%d" height="%d" fill="none" stroke="#333"/>', L, T, w - R - L, h - B - T)
  for _, t in ipairs(xt) do out[#out + 1] = string.format('<text x="%s" y="%d" text-anchor="middle">%s</text>', num(sx(t)), h - B + 16, M.escape(M.format(t))) end
  for _, t in ipairs(yt) do out[#out + 1] = string.format('<text x="%d" y="%s" text-anchor="end" dominant-baseline="middle">%s</text>', L - 6, num(sy(t)), M.escape(M.format(t))) end
  if o.xlabel then out[#out + 1] = string.format('<text x="%s" y="%d" text-anchor="middle">%s</text>', num((L + w - R) / 2), h - 12, M.escape(o.xlabel)) end
  if o.ylabel then
    out[#out + 1] = string.format('<text x="16" y="%s" text-anchor="middle" transform="rotate(-90 16 %s)">%s</text>', num((T + h - B) / 2), num((T + h - B) / 2), M.escape(o.ylabel))
  end
  for i, s in ipairs(o.series) do
    local color = s.color or M.palette[(i - 1) % #M.palette + 1]
    local pts = {}
    for j = 1, math.min(#(s.x or {}), #(s.y or {})) do
      local x, y = s.x[j], s.y[j]
      if finite(x) and finite(y) and (not o.logX or x > 0) and (not o.logY or y > 0) then pts[#pts + 1] = {sx(x), sy(y)} end
    end
    if lines and not s.markers then
      local p = {}
      for _, q in ipairs(pts) do p[#p + 1] = num(q[1]) .. ',' .. num(q[2]) end
      if #p > 0 then
        out[#out + 1] = string.format('<polyline fill="none" stroke="%s" stroke-width="%s"%s points="%s"/>', color, s.width or 2,
          s.dash and ' stroke-dasharray="6 4"' or '', table.concat(p, ' '))
      end
    end
    if not lines or o.points or s.markers then
      for _, q in ipairs(pts) do out[#out + 1] = string.format('<circle cx="%s" cy="%s" r="%s" fill="%s" fill-opacity="0.8"/>', num(q[1]), num(q[2]), s.radius or 3.5, color) end
    end
    if o.legend ~= false and s.name then
      local ly = T + 10 + (i - 1) * 18
      if s.dash then
        out[#out + 1] = string.format('<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="%s" stroke-width="2" stroke-dasharray="4 2"/>', w - R + 8, ly, w - R + 22, ly, color)
      else
        out[#out + 1] = string.format('<rect x="%d" y="%d" width="12" height="12" fill="%s"/>', w - R + 10, ly - 6, color)
      end
      out[#out + 1] = string.format('<text x="%d" y="%d" dominant-baseline="middle">%s</text>', w - R + 28, ly, M.escape(s.name))
    end
  end
  out[#out + 1] = '</svg>'
  return table.concat(out, '\n') .. '\n'
end

function M.line(o) return xy(o, true) end
function M.scatter(o) return xy(o, false) end

function M.bar(o)
  if type(o) ~= 'table' or type(o.labels) ~= 'table' or type(o.values) ~= 'table' then error('plot.bar: expected {labels = {...}, values = {...}}', 2) end
  local n = #o.labels
  local w = o.width or 640
  local h = o.height or math.max(160, 60 + 26 * n)
  local L, R, T = 160, 60, 35
  local out = header(w, h, o.title)
  local hi = 0
  for i = 1, n do if finite(o.values[i]) then hi = math.max(hi, o.values[i]) end end
  if hi <= 0 then hi = 1 end
  local bw = (w - L - R)
  for i = 1, n do
    local v = finite(o.values[i]) and math.max(0, o.values[i]) or 0
    local y = T + (i - 1) * 26
    out[#out + 1] = string.format('<text x="%d" y="%d" text-anchor="end" dominant-baseline="middle">%s</text>', L - 8, y + 10, M.escape(o.labels[i]))
    out[#out + 1] = string.format('<rect x="%d" y="%d" width="%s" height="20" fill="%s"/>', L, y, num(bw * v / hi), M.palette[1])
    out[#out + 1] = string.format('<text x="%s" y="%d" dominant-baseline="middle">%s</text>', num(L + bw * v / hi + 4), y + 10, M.escape(M.format(v)))
  end
  if o.xlabel then out[#out + 1] = string.format('<text x="%s" y="%d" text-anchor="middle">%s</text>', num((L + w - R) / 2), h - 10, M.escape(o.xlabel)) end
  out[#out + 1] = '</svg>'
  return table.concat(out, '\n') .. '\n'
end

-- A colour from blue (0) to red (1).
local function ramp(t)
  t = math.max(0, math.min(1, t))
  return string.format('#%02x%02x%02x', math.floor(40 + 200 * t), math.floor(90 + 40 * (1 - math.abs(2 * t - 1))), math.floor(240 - 200 * t))
end

function M.parallel(o)
  if type(o) ~= 'table' or type(o.axes) ~= 'table' or #o.axes == 0 then error('plot.parallel: expected {axes = {{name =, values =}, ...}}', 2) end
  local w, h = o.width or math.max(480, 130 * #o.axes + 80), o.height or 420
  local L, R, T, B = 60, 60, 62, 40
  local out = header(w, h, o.title)
  local n = 0
  for _, a in ipairs(o.axes) do n = math.max(n, #(a.values or {})) end
  local xs, scales = {}, {}
  for i, a in ipairs(o.axes) do
    xs[i] = #o.axes == 1 and (L + w - R) / 2 or L + (i - 1) * (w - L - R) / (#o.axes - 1)
    local lo, hi = extent({{v = a.values}}, 'v', a.log)
    lo, hi = lo or 0, hi or 1
    if a.labels then lo, hi = 1, math.max(2, #a.labels) end
    if hi == lo then lo, hi = lo - 0.5, hi + 0.5 end
    scales[i] = scale(lo, hi, h - B, T, a.log)
    out[#out + 1] = string.format('<line x1="%s" y1="%d" x2="%s" y2="%d" stroke="#333"/>', num(xs[i]), T, num(xs[i]), h - B)
    out[#out + 1] = string.format('<text x="%s" y="%d" text-anchor="middle" font-weight="bold">%s</text>', num(xs[i]), T - 16, M.escape(a.name or ('axis ' .. i)))
    -- ticks: every label of a categorical axis; else both ends and the nice ticks not crowding them
    local tl = {}
    if a.labels then
      for k = 1, #a.labels do tl[k] = k end
    else
      tl = {lo, hi}
      local span = scales[i](lo) - scales[i](hi)
      for _, t in ipairs((ticks(lo, hi, a.log))) do
        if math.abs(scales[i](t) - scales[i](lo)) > 0.08 * span and math.abs(scales[i](t) - scales[i](hi)) > 0.08 * span then tl[#tl + 1] = t end
      end
    end
    for _, t in ipairs(tl) do
      if t >= lo - 1e-12 * math.abs(lo) and t <= hi + 1e-12 * math.abs(hi) then
        out[#out + 1] = string.format('<text x="%s" y="%s" text-anchor="end" font-size="10" dominant-baseline="middle">%s</text>', num(xs[i] - 4), num(scales[i](t)),
          M.escape(a.labels and a.labels[t] or M.format(t)))
      end
    end
  end
  local c0, c1 = extent({{v = o.color or {}}}, 'v')
  for j = 1, n do
    local pts, ok = {}, true
    for i, a in ipairs(o.axes) do
      local v = a.values[j]
      if not finite(v) or (a.log and v <= 0) then ok = false; break end
      pts[#pts + 1] = num(xs[i]) .. ',' .. num(scales[i](v))
    end
    if ok then
      local c = o.color and finite(o.color[j]) and c0 and ramp(c1 > c0 and (o.color[j] - c0) / (c1 - c0) or 0.5) or M.palette[1]
      out[#out + 1] = string.format('<polyline fill="none" stroke="%s" stroke-opacity="0.7" stroke-width="1.5" points="%s"/>', c, table.concat(pts, ' '))
    end
  end
  if o.colorLabel and c0 then
    out[#out + 1] = string.format('<text x="%d" y="%d">%s: blue %s .. red %s</text>', L, h - 12, M.escape(o.colorLabel), M.escape(M.format(c0)), M.escape(M.format(c1)))
  end
  out[#out + 1] = '</svg>'
  return table.concat(out, '\n') .. '\n'
end

--- A heat map: values[row][col] as coloured cells (white at lo .. dark blue at hi; lo/hi default to the data's
--- range), labelled by xlabels (columns, written vertically) and ylabels (rows); cells = true prints the values.
function M.heatmap(o)
  if type(o) ~= 'table' or type(o.values) ~= 'table' then error('plot.heatmap: expected {values = {{...}, ...}}', 2) end
  local rows, cols = #o.values, 0
  for i, r in ipairs(o.values) do
    if type(r) ~= 'table' then error('plot.heatmap: values[' .. i .. '] is not a list', 2) end
    cols = math.max(cols, #r)
  end
  local xl, yl = o.xlabels or {}, o.ylabels or {}
  local cell = o.cell or math.max(8, math.min(36, math.floor(560 / math.max(1, cols, rows))))
  local function longest(list)
    local n = 1
    for _, v in ipairs(list) do n = math.max(n, #tostring(v)) end
    return math.min(12, n)
  end
  local L, T, B = 20 + 7 * longest(yl) + (o.ylabel and 16 or 0), 40, 20 + 7 * longest(xl) + (o.xlabel and 16 or 0)
  local w, h = o.width or math.max(200, L + cols * cell + 80), o.height or math.max(120, T + rows * cell + B)
  local out = header(w, h, o.title)
  local lo, hi = o.min, o.max
  for _, r in ipairs(o.values) do
    for _, v in ipairs(r) do
      if finite(v) then lo = (o.min == nil) and math.min(lo or v, v) or lo; hi = (o.max == nil) and math.max(hi or v, v) or hi end
    end
  end
  lo, hi = lo or 0, hi or 1
  if hi == lo then hi = lo + 1 end
  local function color(v)
    local t = math.max(0, math.min(1, (v - lo) / (hi - lo)))
    return string.format('#%02x%02x%02x', math.floor(255 - 227 * t), math.floor(255 - 180 * t), math.floor(255 - 75 * t))
  end
  for i, r in ipairs(o.values) do
    local y = T + (i - 1) * cell
    if yl[i] ~= nil then
      out[#out + 1] = string.format('<text x="%d" y="%s" text-anchor="end" dominant-baseline="middle">%s</text>', L - 4, num(y + cell / 2), M.escape(yl[i]))
    end
    for j = 1, cols do
      local v = r[j]
      local x = L + (j - 1) * cell
      out[#out + 1] = string.format('<rect x="%d" y="%d" width="%d" height="%d" fill="%s"><title>%s</title></rect>', x, y, cell, cell,
        finite(v) and color(v) or '#eeeeee', M.escape(finite(v) and M.format(v) or 'n/a'))
      if o.cells and finite(v) then
        out[#out + 1] = string.format('<text x="%s" y="%s" text-anchor="middle" dominant-baseline="middle" font-size="9" fill="%s">%s</text>',
          num(x + cell / 2), num(y + cell / 2), (v - lo) / (hi - lo) > 0.6 and 'white' or 'black', M.escape(string.format('%.2f', v)))
      end
    end
  end
  for j = 1, cols do
    if xl[j] ~= nil then
      local x, y = L + (j - 0.5) * cell, T + rows * cell + 6
      out[#out + 1] = string.format('<text x="%s" y="%d" text-anchor="end" dominant-baseline="middle" transform="rotate(-90 %s %d)">%s</text>', num(x), y, num(x), y, M.escape(xl[j]))
    end
  end
  out[#out + 1] = string.format('<rect x="%d" y="%d" width="%d" height="%d" fill="none" stroke="#333"/>', L, T, cols * cell, rows * cell)
  local kx = L + cols * cell + 12   -- the colour key: hi above lo
  for k, v in ipairs({hi, lo}) do
    local y = T + (k - 1) * 18
    out[#out + 1] = string.format('<rect x="%d" y="%d" width="12" height="12" fill="%s" stroke="#ccc"/>', kx, y, color(v))
    out[#out + 1] = string.format('<text x="%d" y="%d" dominant-baseline="middle">%s</text>', kx + 16, y + 6, M.escape(M.format(v)))
  end
  if o.xlabel then out[#out + 1] = string.format('<text x="%s" y="%d" text-anchor="middle">%s</text>', num(L + cols * cell / 2), h - 6, M.escape(o.xlabel)) end
  if o.ylabel then
    local my = num(T + rows * cell / 2)
    out[#out + 1] = string.format('<text x="12" y="%s" text-anchor="middle" transform="rotate(-90 12 %s)">%s</text>', my, my, M.escape(o.ylabel))
  end
  out[#out + 1] = '</svg>'
  return table.concat(out, '\n') .. '\n'
end

--- Several charts in one document: rows of `columns` charts (each keeps its own size), under a title.
function M.grid(o)
  if type(o) ~= 'table' or type(o.charts) ~= 'table' then error('plot.grid: expected {charts = {svg, ...}}', 2) end
  local cols = o.columns or 2
  local top = o.title and 32 or 0
  local cells, rowH, x, y, w, rowW = {}, 0, 0, top, 0, 0
  for i, svg in ipairs(o.charts) do
    if type(svg) ~= 'string' then error('plot.grid: charts[' .. i .. '] is not an SVG string', 2) end
    local cw, ch = svg:match('<svg[^>]- width="(%d+)" height="(%d+)"')
    cw, ch = tonumber(cw) or 640, tonumber(ch) or 400
    if (i - 1) % cols == 0 and i > 1 then x, y, rowH = 0, y + rowH, 0 end
    cells[#cells + 1] = string.format('<g transform="translate(%d,%d)">\n%s</g>', x, y, svg)
    x, rowH = x + cw, math.max(rowH, ch)
    rowW = math.max(rowW, x)
    w = math.max(w, rowW)
  end
  local h = math.max(y + rowH, top + 40)
  w = math.max(w, 320)
  local out = header(w, h, o.title)
  if #cells == 0 then
    out[#out + 1] = string.format('<text x="%s" y="%s" text-anchor="middle" fill="#666">no data</text>', num(w / 2), num(h / 2 + top / 2))
  end
  for _, c in ipairs(cells) do out[#out + 1] = c end
  out[#out + 1] = '</svg>'
  return table.concat(out, '\n') .. '\n'
end

--- Writes an SVG document to path.
function M.save(path, svg)
  local f, err = io.open(path, 'w')
  if not f then error('plot.save: ' .. tostring(err), 2) end
  f:write(svg)
  f:close()
  return path
end

return M
