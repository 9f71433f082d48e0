-- augment.compose: combining augmenters (after nlpaug's flow). sequential{a, b, ...} applies each in
-- turn; sometimes(p, aug) applies aug with probability p (a number or a function of the step);
-- oneOf{a, b, ...} applies one chosen at random. Children are augmenters or plain functions x -> x;
-- the composite's own options (seed, numAug, keepOriginal, ...) go in its table (or the third argument).
local base = require 'llm.augment.base'
local M = {}

local FnAug = base.class('Function', {
  options = {fn = false},
  apply = function(self, x) return self.opts.fn(x, self.step) end,   -- fn(x, step): plain functions see the step too
})

local function child(who, c, i)
  if type(c) == 'function' then return FnAug{fn = c, seed = 0} end
  if type(c) == 'table' and type(c.apply) == 'function' then return c end
  error(('%s: element %d is a %s, expected an augmenter or a function'):format(who, i, type(c)), 4)
end

-- Splits {a, b, ...; key=...} into children and options.
local function split(who, t)
  if type(t) ~= 'table' then error(('%s: expected a table of augmenters, got %s'):format(who, type(t)), 3) end
  local kids, opts = {}, {}
  for k, v in pairs(t) do if type(k) ~= 'number' then opts[k] = v end end
  for i, c in ipairs(t) do kids[i] = child(who, c, i) end
  if #kids == 0 then error(('%s: expected at least one augmenter'):format(who), 3) end
  return kids, opts
end

local function propagate(C)
  function C:setStep(step)
    self.step = step
    for _, c in ipairs(self.children) do c:setStep(step) end
    return self
  end
end

local Sequential = base.class('sequential', {
  apply = function(self, x)
    for _, c in ipairs(self.children) do x = c:apply(x) end
    return x
  end,
})
propagate(Sequential)

local Sometimes = base.class('sometimes', {
  options = {p = 0.5},
  apply = function(self, x)
    if self:random() < self:rate('p') then return self.children[1]:apply(x) end
    return x
  end,
})
propagate(Sometimes)

local OneOf = base.class('oneOf', {
  apply = function(self, x) return self:choice(self.children):apply(x) end,
})
propagate(OneOf)

--- augment.sequential{a, b, ...; seed=, numAug=, keepOriginal=}
function M.sequential(t)
  local kids, opts = split('augment.sequential', t)
  local self = Sequential(opts)
  self.children = kids
  if opts.seed then self:reseed(opts.seed) end   -- one seed decides the whole chain
  return self
end

--- augment.sometimes(p, aug, [opts])
function M.sometimes(p, aug, opts)
  if type(p) ~= 'number' and type(p) ~= 'function' then
    error(("augment.sometimes: Invalid 'p': expected a number in [0, 1] or a function of the step, got %s"):format(type(p)), 2)
  end
  local o = {}
  for k, v in pairs(opts or {}) do o[k] = v end
  o.p = p
  local self = Sometimes(o)
  self.children = {child('augment.sometimes', aug, 2)}
  if o.seed then self:reseed(o.seed) end
  self:rate('p')                              -- check the value now
  return self
end

--- augment.oneOf{a, b, ...; seed=, numAug=, keepOriginal=}
function M.oneOf(t)
  local kids, opts = split('augment.oneOf', t)
  local self = OneOf(opts)
  self.children = kids
  if opts.seed then self:reseed(opts.seed) end
  return self
end

return M
