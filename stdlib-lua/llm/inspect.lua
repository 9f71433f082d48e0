-- llm.inspect: looking inside a model (interpretability), on forward hooks (Module:hook) and the fused
-- attention's probabilities (nn.CausalSelfAttention.probabilities). Everything runs on demand and leaves the
-- model as it found it (hooks removed, recording off); the default forward path is untouched.
--   inspect.modules(model) -> {{path, module}, ...}                  every module, parents first, in order
--   inspect.attentionMaps(model, idx, [{forward}]) -> {{path, probs (B,H,T,S)}, ...}   one per attention
--       layer, in order: softmax(q·kᵀ·scale + mask) of that forward (the same masking as llm.attention)
--   inspect.attentionSVG(probs, [{batch=1, head=1, tokens, title, cells}]) -> SVG heat map (query rows, key
--       columns; spaces, newlines and tabs in tokens shown as ␣ ↵ ⇥)
--   inspect.logitLens(model, idx, [{topK=5, position=T, decode}]) -> {{layer, logits (B,T,V), top = {{id, token,
--       prob}, ...}}, ...}: the final norm + head (model:headLogits) applied to the residual stream after the
--       embedding ('embed') and after every block; the last entry equals the model's logits
--   inspect.saliency(model, idx, [{method='ig'|'gradxinput', steps=32, baseline, target, position, embedding,
--       output}]) -> {scores = {per token}, f, fBaseline, sum}: attributions on the embedding output (default
--       model.tokEmb) of f = output(model(x)) — by default the logit of `target` (default: the argmax) at
--       `position` (default the last). 'gradxinput': Σ_d x·∂f/∂x; 'ig' (integrated gradients): Σ_d (x − x₀)·
--       mean_k ∂f/∂x at x₀ + (k − ½)/N·(x − x₀) (midpoint Riemann sum, N = steps, x₀ = baseline, default 0),
--       whose sum ≈ f(x) − f(x₀) (completeness). idx is one row (1,T); output(out) returns a (B) tensor.
--       The steps run as one batch; the model's parameter gradients are cleared afterwards.
--   inspect.activationStats(model, run, [{filter}]) -> {{path, class, mean, std, min, max, fracZero, count}, ...}:
--       statistics of every module's (tensor) output over the calls made by run() (forward hooks; filter(path,
--       module) picks modules)
local Attention = require 'llm.nn.Attention'
local plot = require 'llm.plot'

local M = {}

local function isModule(m) return type(m) == 'table' and rawget(m, '_isModule') == true end

--- Every module of the tree with its path ('' for the root), parents first, children in order.
function M.modules(model)
  if not isModule(model) then error("llm.inspect: expected an nn.Module, got " .. type(model), 3) end
  local out = {}
  local function walk(m, path)
    out[#out + 1] = {path, m}
    for _, c in ipairs(m:namedChildren()) do walk(c[2], path == '' and c[1] or (path .. '.' .. c[1])) end
  end
  walk(model, '')
  return out
end

local function checkIdx(idx, who)
  if not llm.isTensor(idx) or idx:dim() ~= 2 then
    error(string.format('llm.inspect.%s: expected token ids of shape [batch, time], got %s', who,
      llm.isTensor(idx) and ('[' .. table.concat(idx:shape(), ', ') .. ']') or type(idx)), 3)
  end
end

-- Runs body() and then fn cleanups, also when body fails.
local function withCleanup(body, cleanup)
  local r = table.pack(pcall(body))
  cleanup()
  if not r[1] then error(r[2], 0) end
  return table.unpack(r, 2, r.n)
end

--- Attention probabilities of every attention layer for one forward of model(idx) (opts.forward(model, idx)
--- runs it instead); returns the list and the forward's first result.
function M.attentionMaps(model, idx, opts)
  checkIdx(idx, 'attentionMaps')
  opts = opts or {}
  local layers = {}
  for _, e in ipairs(M.modules(model)) do
    if getmetatable(e[2]) == Attention then layers[#layers + 1] = e end
  end
  if #layers == 0 then error('llm.inspect.attentionMaps: the model has no nn.CausalSelfAttention layer', 2) end
  for _, e in ipairs(layers) do e[2]:recordAttention(true) end
  local maps = {}
  local out = withCleanup(function()
    return llm.noGrad(function() return opts.forward and opts.forward(model, idx) or model(idx) end)
  end, function()
    for i, e in ipairs(layers) do
      maps[i] = {path = e[1], probs = e[2]:lastAttention()}
      e[2]:recordAttention(false)
    end
  end)
  return maps, out
end

--- An SVG heat map of one head's probabilities probs (B,H,T,S): rows are queries, columns keys.
function M.attentionSVG(probs, opts)
  if not llm.isTensor(probs) or probs:dim() ~= 4 then error('llm.inspect.attentionSVG: expected probabilities (B,H,T,S)', 2) end
  opts = opts or {}
  local b, h = opts.batch or 1, opts.head or 1
  if b < 1 or b > probs:size(1) or h < 1 or h > probs:size(2) then
    error(string.format('llm.inspect.attentionSVG: batch %d / head %d out of range (%d rows, %d heads)', b, h, probs:size(1), probs:size(2)), 2)
  end
  local m = probs:select(1, b):select(1, h):totable()
  local t, s = probs:size(3), probs:size(4)
  local tokens = opts.tokens or {}
  local function label(i)
    local v = tokens[i]
    if v == nil then return tostring(i) end
    v = tostring(v):gsub(' ', '␣'):gsub('\n', '↵'):gsub('\t', '⇥')
    return v
  end
  local xl, yl = {}, {}
  for j = 1, s do xl[j] = label(j) end
  for i = 1, t do yl[i] = label(s - t + i) end
  return plot.heatmap{values = m, xlabels = xl, ylabels = yl, min = 0, max = opts.max, title = opts.title,
                      xlabel = 'key', ylabel = 'query', cells = opts.cells}
end

local function topOf(logits, position, k, decode)
  local row = logits:select(1, 1):select(1, position):softmax(1)
  local vals, ids = row:topk(k)
  vals, ids = vals:totable(), ids:totable()
  local out = {}
  for i = 1, k do
    local id = math.tointeger(ids[i])
    out[i] = {id = id, token = decode and decode(id) or tostring(id), prob = vals[i]}
  end
  return out
end

--- Logit lens: model:headLogits applied to the residual stream after the embedding and after every block.
function M.logitLens(model, idx, opts)
  checkIdx(idx, 'logitLens')
  opts = opts or {}
  local blocks = rawget(model, 'blocks')
  if type(model.headLogits) ~= 'function' or not blocks then
    error('llm.inspect.logitLens: the model needs blocks and headLogits (nn.GPT, nn.Llama)', 2)
  end
  local streams, handles = {}, {}
  for i = 1, #blocks do
    handles[i] = blocks[i]:hook('forward', function(_, input, output)
      if i == 1 then streams[1] = {layer = 'embed', x = input} end
      streams[i + 1] = {layer = 'block ' .. (i - 1), x = output}
    end)
  end
  withCleanup(function() llm.noGrad(function() model(idx) end) end,
              function() for _, hd in ipairs(handles) do hd:remove() end end)
  local k = math.min(opts.topK or 5, model:config().vocab)
  local pos = opts.position or idx:size(2)
  local out = {}
  llm.noGrad(function()
    for i, s in ipairs(streams) do
      local logits = model:headLogits(s.x)
      out[i] = {layer = s.layer, logits = logits, top = topOf(logits, pos, k, opts.decode)}
    end
  end)
  return out
end

-- f per row (B) of model(x) for the default output: the logit of target at position.
local function logitOf(target, position)
  return function(out)
    return out:select(2, position):select(2, target + 1)
  end
end

--- Gradient×input or integrated-gradients attributions per input token (see the header).
function M.saliency(model, idx, opts)
  checkIdx(idx, 'saliency')
  opts = opts or {}
  if idx:size(1) ~= 1 then error('llm.inspect.saliency: expected one sequence (batch 1), got ' .. idx:size(1), 2) end
  local method = opts.method or 'ig'
  if method ~= 'ig' and method ~= 'gradxinput' then
    error("llm.inspect.saliency: Invalid 'method': expected 'ig' or 'gradxinput', got " .. tostring(method), 2)
  end
  local emb = opts.embedding or rawget(model, 'tokEmb')
  if not isModule(emb) then error("llm.inspect.saliency: give 'embedding' (the module whose output is attributed)", 2) end
  local t = idx:size(2)
  local output = opts.output
  if not output then
    local pos = opts.position or t
    local target = opts.target
    if target == nil then
      target = llm.noGrad(function() return model(idx):select(1, 1):select(1, pos):argmax():item() end)
    end
    output = logitOf(target, pos)
  end
  local x = llm.noGrad(function() return emb(idx) end)
  local base = opts.baseline or llm.zeros(table.unpack(x:shape()))
  local steps = method == 'ig' and (opts.steps or 32) or 1
  if math.type(steps) ~= 'integer' or steps < 1 then error("llm.inspect.saliency: Invalid 'steps': expected a positive integer", 2) end
  -- the embedding output of the batch of `steps` rows: base + alpha_k (x - base) (gradxinput: x itself)
  local alphas = {}
  for k = 1, steps do alphas[k] = method == 'ig' and (k - 0.5) / steps or 1 end
  local a = llm.tensor(alphas):reshape(steps, 1, 1)
  local point = (base + a * (x - base)):detach()
  point:requiresGrad_(true)
  local handle = emb:hook('forward', function() return point end)
  withCleanup(function()
    output(model(idx:expand(steps, t):contiguous())):sum():backward()
  end, function() handle:remove() end)
  local g = point.grad:mean(1, true)
  local attr = (method == 'ig' and (x - base) or x) * g
  local scores = attr:sum(3):reshape(t):totable()
  local fx, fb = llm.noGrad(function()
    local hx = emb:hook('forward', function() return x end)
    local vx = withCleanup(function() return output(model(idx)):sum():item() end, function() hx:remove() end)
    local hb = emb:hook('forward', function() return base end)
    local vb = withCleanup(function() return output(model(idx)):sum():item() end, function() hb:remove() end)
    return vx, vb
  end)
  local sum = 0
  for _, v in ipairs(scores) do sum = sum + v end
  model:zeroGrad()
  return {scores = scores, f = fx, fBaseline = fb, sum = sum}
end

--- Activation statistics of every module's output over the forwards run() makes.
function M.activationStats(model, run, opts)
  if type(run) ~= 'function' then error("llm.inspect.activationStats: expected run (a function that calls the model)", 2) end
  opts = opts or {}
  local stats, handles, list = {}, {}, {}
  for _, e in ipairs(M.modules(model)) do
    local path, m = e[1], e[2]
    if not opts.filter or opts.filter(path, m) then
      local s = {path = path == '' and '(model)' or path, class = m.__name, n = 0, sum = 0, sumSq = 0, zeros = 0}
      list[#list + 1] = s
      handles[#handles + 1] = m:hook('forward', function(_, _, out)
        if not llm.isTensor(out) or out:numel() == 0 then return end
        local v = out:detach()
        s.n = s.n + v:numel()
        s.sum = s.sum + v:sum():item()
        s.sumSq = s.sumSq + (v * v):sum():item()
        s.zeros = s.zeros + v:eq(0):sum():item()
        local lo, hi = v:min():item(), v:max():item()
        s.min = s.min and math.min(s.min, lo) or lo
        s.max = s.max and math.max(s.max, hi) or hi
      end)
    end
  end
  withCleanup(function() llm.noGrad(run) end, function() for _, h in ipairs(handles) do h:remove() end end)
  for _, s in ipairs(list) do
    if s.n > 0 then
      local mean = s.sum / s.n
      stats[#stats + 1] = {path = s.path, class = s.class, count = s.n, mean = mean,
                           std = math.sqrt(math.max(0, s.sumSq / s.n - mean * mean)), min = s.min, max = s.max,
                           fracZero = s.zeros / s.n}
    end
  end
  return stats
end

return M
