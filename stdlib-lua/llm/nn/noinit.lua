-- Building models without initialising their weights (PyTorch's init_empty_weights / low_cpu_mem_usage), for
-- models whose weights a loader replaces right after (checkpoints, Hugging Face imports, `llmscript generate`):
--   nn.withoutInit(fn, ...) -> fn(...)'s results (fn a function or a class: nn.withoutInit(nn.GPT, cfg)):
--     constructors called inside allocate their parameters with llm.empty (uninitialised, never written, so
--     they cost no resident memory until touched) and skip every initialiser (GPT:resetParameters, the
--     PyTorch-default fills of Linear/Embedding/norms, the heads' and LoRA's).
--     Such a parameter is "unloaded" until a load writes it (Module:loadStateDict, Llama:loadHFStateDict,
--     nn.adoptStateDict): calling a module that holds an unloaded tensor errors naming its path, so garbage
--     weights are never used silently.
--   nn.adoptStateDict(model, sd) -> model: loadStateDict (strict: the same checks and errors) that makes the
--     tensors of sd the model's own where dtype and shape match (no copy; a memory-mapped checkpoint's tensors
--     stay mapped), copying only the others; then verifies nothing is left unloaded. For loaders whose sd is
--     theirs to give away (a freshly read checkpoint): the model never holds a second copy of the weights.
--   nn.unloaded(model) -> list of the paths of the model's tensors no load has written yet (sorted).
-- Used by llm.checkpointmodel, llm.export.load and importHF. The registry of unloaded tensors is weak-keyed
-- (tensors made but not kept by the returned modules leave it at once); Module:__call consults it only while
-- it is non-empty (one next() per call otherwise), so a fully loaded model runs as if built normally.
local M = {}

local depth = 0
local unloaded = setmetatable({}, {__mode = 'k'})   -- tensor -> true while no load has written it
local created = {}   -- the tensors made by the outermost nn.withoutInit call in progress
M.registry = unloaded

--- True inside nn.withoutInit (constructors skip initialisation).
function M.active() return depth > 0 end

--- A new parameter of `shape`: make() (the initialised tensor) normally, llm.empty (requiresGrad, marked
--- unloaded) inside nn.withoutInit.
function M.parameter(shape, make)
  if depth == 0 then return make() end
  local t = llm.empty(shape, {requiresGrad = true})
  unloaded[t] = true
  created[#created + 1] = t
  return t
end

-- After the outermost withoutInit call: tensors made during it that no returned module holds (a tied head's
-- own weight, replaced by the embedding's) leave the registry, so a loaded model leaves it empty.
local function dropOrphans(r)
  local live = {}
  for i = 2, r.n do
    local m = r[i]
    if type(m) == 'table' and getmetatable(m) and rawget(m, '_isModule') then
      for _, t in pairs(m:stateDict()) do live[t] = true end
    else
      live = nil   -- something else came back: it may hold them
      break
    end
  end
  if live then for _, t in ipairs(created) do if not live[t] then unloaded[t] = nil end end end
  created = {}
end

--- Calls fn(...) (a function or a class: nn.withoutInit(nn.GPT, cfg)) with initialisation off and returns its
--- results: the models built have llm.empty parameters, unloaded until a load writes them (calling a module
--- before that is an error naming the tensor).
function M.withoutInit(fn, ...)
  local mt = type(fn) == 'table' and getmetatable(fn)
  if type(fn) ~= 'function' and not (mt and mt.__call) then
    error("bad argument #1 to 'withoutInit' (function or class expected, got " .. type(fn) .. ')', 2)
  end
  depth = depth + 1
  local r = table.pack(pcall(fn, ...))
  depth = depth - 1
  if depth == 0 then
    if r[1] then dropOrphans(r) else created = {} end
  end
  if not r[1] then error(r[2], 0) end
  return table.unpack(r, 2, r.n)
end

--- Marks tensor t as written by a load.
function M.loaded(t) unloaded[t] = nil end

--- Errors when the module m holds an unloaded tensor, naming the module and the tensor's path; called by
--- Module:__call before forward.
function M.check(m)
  for _, k in ipairs(rawget(m, '_order')) do
    if unloaded[rawget(m, k)] then
      local base = rawget(m, '_path')
      error(string.format("in %s: '%s' was never loaded: the model was built with nn.withoutInit (load its weights " ..
        'first: model:loadStateDict(sd) or nn.adoptStateDict(model, sd))', base and (base .. ' (' .. m.__name .. ')') or m.__name,
        base and (base .. '.' .. k) or k), 0)
    end
  end
end

--- The sorted paths of the model's tensors (built by nn.withoutInit) that no load has written yet.
function M.unloaded(model)
  local out = {}
  if next(unloaded) == nil then return out end
  for path, t in pairs(model:stateDict()) do if unloaded[t] then out[#out + 1] = path end end
  table.sort(out)
  return out
end

--- Errors (without a position) when model has unloaded tensors: "<who>: ... not loaded: a, b".
function M.assertLoaded(model, who)
  local missing = M.unloaded(model)
  if #missing > 0 then
    error(string.format('%s: %d tensor(s) of the model were not loaded: %s', who, #missing,
      table.concat(missing, ', ', 1, math.min(#missing, 10)) .. (#missing > 10 and ', ...' or '')), 0)
  end
end

--- A strict model:loadStateDict(sd) that makes sd's tensors the model's own (no copy; other dtypes copied), then checks that no tensor is left unloaded; returns model.
function M.adoptStateDict(model, sd)
  local ok, err = pcall(model.checkStateDict, model, sd)
  if not ok then error((tostring(err):gsub('^.-loadStateDict: ', 'adoptStateDict: ')), 2) end
  local swap = {}   -- model tensor -> the sd tensor taking its place (a detached leaf when it is not one)
  for path, t in pairs(model:stateDict()) do
    local new = sd[path]
    if new ~= nil and new:dtype() == t:dtype() and swap[t] == nil then
      if not new.isLeaf then new = new:detach() end
      new.requiresGrad = t.requiresGrad
      swap[t] = new
    end
  end
  model:apply(function(m)
    for _, e in ipairs(m:_ownTensors()) do
      local new = swap[e[2]]
      if new then unloaded[e[2]] = nil; rawset(m, e[1], new) end
    end
  end)
  llm.noGrad(function()
    for path, t in pairs(model:stateDict()) do
      if sd[path] ~= nil and t ~= sd[path] then t:copy_(sd[path]); unloaded[t] = nil end
    end
  end)
  M.assertLoaded(model, 'adoptStateDict')
  return model
end

return M
