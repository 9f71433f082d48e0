-- augment.base: the Augmenter class every augmenter derives from. An augmenter turns one input (a string,
-- a document table {text=, id=, meta=}, or for token augmenters a list of ids / a tensor) into a variant
-- with `aug:apply(x)`; `aug(x)` == `aug:augment(x)` honours numAug and keepOriginal; `aug:asStep()` is a
-- pipeline step. Randomness comes from the augmenter's own llm.Generator (option `seed`, or `generator`).
local M = {}

local Augmenter = {}
Augmenter.__index = Augmenter
M.Augmenter = Augmenter

-- Options every augmenter accepts, with their defaults.
M.COMMON = {seed = false, generator = false, keepOriginal = false, numAug = 1}

local function fail(self, fmt, ...) error(('%s: ' .. fmt):format(self.__name or 'augment', ...), 3) end

local function sortedKeys(t)
  local ks = {}
  for k in pairs(t) do ks[#ks + 1] = k end
  table.sort(ks)
  return ks
end

--- Defines an augmenter class. `spec.options`: {key = default} (false = no default); `spec.transform(self,
--- text) -> text` (text augmenters) or `spec.apply(self, x) -> x` (others); `spec.init(self)` optional.
function M.class(name, spec)
  local C = {}
  for k, v in pairs(spec) do C[k] = v end
  C.__index = C
  C.__name = 'augment.' .. name
  C.__call = function(self, x) return self:augment(x) end
  C.__tostring = Augmenter.__tostring
  C.className = name
  local allowed = {}
  for k, v in pairs(M.COMMON) do allowed[k] = v end
  for k, v in pairs(spec.options or {}) do allowed[k] = v end
  C.allowed = allowed
  setmetatable(C, {__index = Augmenter, __call = function(cls, opts) return cls.new(opts) end,
                   __tostring = function() return 'augment.' .. name end})
  function C.new(opts)
    if opts ~= nil and type(opts) ~= 'table' then
      error(('augment.%s: expected an options table, got %s'):format(name, type(opts)), 3)
    end
    local self = setmetatable({opts = {}}, C)
    M.configure(self, opts or {})
    if C.init then C.init(self) end
    return self
  end
  return C
end

--- Validates `opts` against the class's allowed keys, fills defaults, sets up the generator.
function M.configure(self, opts)
  for k in pairs(opts) do
    if type(k) ~= 'string' or self.allowed[k] == nil then
      local choices = {}
      for _, c in ipairs(sortedKeys(self.allowed)) do choices[#choices + 1] = "'" .. c .. "'" end
      error(("%s: unknown option '%s'; expected one of: %s"):format(self.__name, tostring(k), table.concat(choices, ', ')), 4)
    end
  end
  for k, v in pairs(self.allowed) do
    if opts[k] ~= nil then self.opts[k] = opts[k] elseif v ~= false then self.opts[k] = v end
  end
  local o = self.opts
  if o.keepOriginal == nil then o.keepOriginal = false end
  if math.type(o.numAug) ~= 'integer' or o.numAug < 1 then
    error(("Invalid 'numAug': expected a positive integer, got %s"):format(tostring(o.numAug)), 4)
  end
  if type(o.keepOriginal) ~= 'boolean' then
    error(("Invalid 'keepOriginal': expected a boolean, got %s"):format(type(o.keepOriginal)), 4)
  end
  if o.generator then
    self.gen = o.generator
  else
    if o.seed and math.type(o.seed) ~= 'integer' then
      error(("Invalid 'seed': expected an integer, got %s"):format(tostring(o.seed)), 4)
    end
    self.seed = o.seed or llm.text.randint(0x7fffffff)   -- from the shared generator: llm.manualSeed decides
    self.gen = llm.Generator(self.seed)
  end
  self.step = 0
end

--- A rate option's value now: a number, or a function of the training step (a schedule) returning one.
function Augmenter:rate(key)
  local v = self.opts[key]
  if type(v) == 'function' then v = v(self.step) end
  if type(v) ~= 'number' or v ~= v or v < 0 or v > 1 then
    error(("%s: Invalid '%s': expected a number in [0, 1] (or a function of the step returning one), got %s")
      :format(self.__name, key, tostring(v)), 3)
  end
  return v
end

--- n = max(1, floor(rate * count)) when rate > 0 and count > 0 (EDA's rule), else 0.
function M.count(rate, count)
  if rate <= 0 or count <= 0 then return 0 end
  return math.max(1, math.floor(rate * count))
end

-- random helpers on the augmenter's generator
function Augmenter:random() return llm.text.random(self.gen) end
function Augmenter:randint(n) return llm.text.randint(n, self.gen) end
function Augmenter:sample(n, k) return llm.text.sample(n, k, self.gen) end
function Augmenter:choice(list) return list[llm.text.randint(#list, self.gen)] end

--- Sets the training step that rate schedules see.
function Augmenter:setStep(step) self.step = step; return self end

--- Re-seeds the augmenter's generator (and those of its children).
function Augmenter:reseed(seed)
  self.seed = seed
  self.gen:seed(seed)
  for i, child in ipairs(self.children or {}) do child:reseed(seed * 1000003 + i) end
  return self
end

local function copyDoc(doc, text)
  local out = {}
  for k, v in pairs(doc) do out[k] = v end
  local meta = {}
  for k, v in pairs(doc.meta or {}) do meta[k] = v end
  out.meta = meta
  out.text = text
  return out
end
M.copyDoc = copyDoc

--- One augmented variant of `x` (a string or a document; token augmenters override this).
function Augmenter:apply(x)
  if type(x) == 'string' then return self:transform(x) end
  if type(x) == 'table' and type(x.text) == 'string' then return copyDoc(x, self:transform(x.text)) end
  fail(self, 'expected a string or a document table {text=...}, got %s', type(x))
end

--- numAug variants of x (a list); augmenters with their own variant scheme (EDA) override this.
function Augmenter:variants(x, n)
  local out = {}
  for k = 1, n do out[k] = self:apply(x) end
  return out
end

--- aug(x): one variant when numAug == 1 and keepOriginal is false; else a list (the original first when
--- keepOriginal). Document variants get ids `<id>#aug<k>`.
function Augmenter:augment(x)
  local o = self.opts
  if o.numAug == 1 and not o.keepOriginal then return self:apply(x) end
  local out = {}
  if o.keepOriginal then out[1] = x end
  for k, v in ipairs(self:variants(x, o.numAug)) do
    if type(v) == 'table' and type(v.text) == 'string' and v.id ~= nil then v.id = tostring(v.id) .. '#aug' .. k end
    out[#out + 1] = v
  end
  return out
end

--- Augments every element of `list`; returns one flat list of all outputs.
function Augmenter:augmentAll(list)
  local out = {}
  for _, x in ipairs(list) do
    local r = self:augment(x)
    if (self.opts.numAug == 1 and not self.opts.keepOriginal) then out[#out + 1] = r
    else for _, v in ipairs(r) do out[#out + 1] = v end end
  end
  return out
end

--- A pipeline step: function(doc) -> doc. Each document is augmented with a generator seeded from the
--- augmenter's seed and the document's id (or text), so the result does not depend on thread scheduling.
function Augmenter:asStep()
  if self.opts.numAug ~= 1 or self.opts.keepOriginal then
    fail(self, 'asStep: a pipeline step maps one document to one; use numAug = 1 and keepOriginal = false '
      .. '(or aug:augmentAll(docs) for several variants)')
  end
  local seed = self.seed
  return function(doc)
    if seed then self:reseed(seed ~ (llm.text.hash(tostring(doc.id or doc.text)) * 0x9E3779B1)) end
    local out = self:apply(doc)
    if seed then self.seed = seed end
    return out
  end
end

function Augmenter:__tostring()
  local parts = {}
  for _, k in ipairs(sortedKeys(self.opts)) do
    local v = self.opts[k]
    if type(v) == 'number' or type(v) == 'boolean' or type(v) == 'string' then parts[#parts + 1] = k .. '=' .. tostring(v) end
  end
  return ('%s{%s}'):format(self.__name or 'augment.Augmenter', table.concat(parts, ', '))
end

return M
