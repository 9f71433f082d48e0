-- llm.privacy.persample: vectorised per-example gradients for DP-SGD. Forward hooks (Module:hook) on every
-- nn.Linear, nn.Embedding, nn.LayerNorm and nn.RMSNorm keep the module's input and add a zero tensor z
-- (requiring grad) to its output, so that after backward z.grad is the gradient of the loss w.r.t. the
-- output, per example; the per-example parameter gradients are then outer products per example (Opacus's
-- "grad sampler"): Linear dW_b = Σ_t g_bt a_btᵀ (one batched matmul), db_b = Σ_t g_bt; Embedding dW_b =
-- onehot(ids_b)ᵀ g_b; LayerNorm / RMSNorm dγ_b = Σ_t g_bt ⊙ x̂_bt, dβ_b = Σ_t g_bt. Attention's parameters
-- are its Linears (qkv, proj) and norms: attention mixes tokens only within an example, so the same rules
-- hold. A module called several times, and a tensor shared by several modules (tied embedding and head),
-- sum their contributions. The first dim of every input is the example.
--   local cap = persample.capture(model, [B])  hooks on; then run forward and backward
--   local grads = cap:gradients()              tensor (parameter) -> per-example gradients (B, shape...)
--   cap:remove()                               hooks off
--   persample.clipSum(params, grads, C) -> norms (B table), factors: Σ_b min(1, C/(‖g_b‖ + 1e-6)) g_b into each
--                                          parameter's .grad (‖g_b‖ over all parameters, as Opacus)
local M = {}

local rules = {}

rules['nn.Linear'] = function(m, x, g, put)
  local b = x:size(1)
  local a = x:reshape(b, -1, x:size(x:dim()))
  local go = g:reshape(b, -1, g:size(g:dim()))
  put(m.weight, llm.matmul(go:transpose(2, 3), a))
  local bias = rawget(m, 'bias')
  if bias then put(bias, go:sum(2)) end
end

rules['nn.Embedding'] = function(m, ids, g, put)
  local b = ids:size(1)
  local oh = ids:reshape(b, -1):oneHot(m.weight:size(1))
  put(m.weight, llm.matmul(oh:transpose(2, 3), g:reshape(b, -1, g:size(g:dim()))))
end

local function normRule(rms)
  return function(m, x, g, put)
    local w = rawget(m, 'weight')
    if not w then return end
    local b, d = x:size(1), x:size(x:dim())
    local xs = x:reshape(b, -1, d)
    local xhat
    if rms then
      xhat = xs * ((xs * xs):mean(3, true) + m._eps):rsqrt()
    else
      local c = xs - xs:mean(3, true)
      xhat = c * ((c * c):mean(3, true) + m._eps):rsqrt()
    end
    local go = g:reshape(b, -1, d)
    put(w, (go * xhat):sum(2))
    local bias = rawget(m, 'bias')
    if bias then put(bias, go:sum(2)) end
  end
end
rules['nn.LayerNorm'] = normRule(false)
rules['nn.RMSNorm'] = normRule(true)

--- The module classes with per-example gradient rules.
M.supported = {'nn.Linear', 'nn.Embedding', 'nn.LayerNorm', 'nn.RMSNorm'}

local Capture = {}
Capture.__index = Capture

--- Installs the capturing hooks on every supported module of model; batchSize makes an embedding of
--- unbatched ids (GPT's positions (T), shared by the batch) per example.
function M.capture(model, batchSize)
  local self = setmetatable({entries = {}, handles = {}, model = model, batch = batchSize}, Capture)
  model:apply(function(m)
    local rule = rules[m.__name]
    if rule then
      self.handles[#self.handles + 1] = m:hook('forward', function(mod, input, output)
        if not llm.isGradEnabled() then return nil end
        if mod.__name == 'nn.Embedding' and input:dim() == 1 and self.batch then
          -- positions (T) shared by the batch: make them per example, so the gradient is per example
          input = input:unsqueeze(1):expand(self.batch, input:size(1))
          output = output:unsqueeze(1):expand(self.batch, output:size(1), output:size(2))
        end
        local z = llm.zeros(table.unpack(output:shape()))
        z:requiresGrad_(true)
        self.entries[#self.entries + 1] = {module = mod, rule = rule, input = input:detach(), z = z}
        return output + z
      end)
    end
  end)
  return self
end

--- Per-example gradients (B, shape...) by parameter tensor, from the captured forwards and their backward.
function Capture:gradients()
  local out = {}
  local function put(p, g)
    if not p.requiresGrad then return end
    out[p] = out[p] and (out[p] + g) or g
  end
  llm.noGrad(function()
    for _, e in ipairs(self.entries) do
      local g = e.z.grad
      if g then e.rule(e.module, e.input, g, put) end
    end
  end)
  return out
end

--- Forgets captured activations (keeps the hooks).
function Capture:clear() self.entries = {} end

--- Removes the hooks.
function Capture:remove()
  for _, h in ipairs(self.handles) do h:remove() end
  self.handles, self.entries = {}, {}
end

--- Clips each example's gradient (over all params) to norm C and writes the sum into p.grad.
function M.clipSum(params, grads, clip)
  local b, sq
  for _, p in ipairs(params) do
    local g = grads[p]
    if not g then error('llm.privacy: a parameter of shape [' .. table.concat(p:shape(), ', ') .. '] has no per-example gradient (supported modules: '
      .. table.concat(M.supported, ', ') .. ')', 2) end
    b = g:size(1)
    local s = (g * g):reshape(b, -1):sum(2)
    sq = sq and (sq + s) or s
  end
  local norms = sq:sqrt()
  local factors = ((norms + 1e-6):pow(-1) * clip):clamp(0, 1)
  llm.noGrad(function()
    for _, p in ipairs(params) do
      local g = grads[p]
      p.grad = llm.matmul(factors:reshape(1, b), g:reshape(b, -1)):reshape(table.unpack(p:shape()))
    end
  end)
  return norms:totable(), factors:totable()
end

return M
