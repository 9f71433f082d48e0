-- augment: text and token augmentation (loaded at start-up as the global `augment`). Word level (EDA:
-- SynonymReplacement, RandomInsertion, RandomSwap, RandomDeletion, EDA), character level (KeyboardTypos,
-- OCR, RandomChar), Chinese (ChineseChars, ChineseSynonyms), token level (TokenMask), composition
-- (sequential, sometimes, oneOf). augment.get(name) finds a constructor by name. See README "Writing an augmenter".
local base = require 'llm.augment.base'
local augment = {}

augment.Augmenter = base.Augmenter
augment.class = base.class            -- define your own: augment.class('Name', {options=, transform=})
augment.count = base.count

local builtins = {}
local function add(mod)
  for name, ctor in pairs(mod) do augment[name] = ctor; builtins[name] = ctor end
end
add(require 'llm.augment.eda')
add(require 'llm.augment.char')
add(require 'llm.augment.chinese')
add(require 'llm.augment.token')
local compose = require 'llm.augment.compose'
augment.sequential, augment.sometimes, augment.oneOf = compose.sequential, compose.sometimes, compose.oneOf
builtins.sequential, builtins.sometimes, builtins.oneOf = compose.sequential, compose.sometimes, compose.oneOf
augment.builtins = builtins

local function norm(s) return (s:gsub('[_%-]', ''):lower()) end

-- Augmenters provided by installed plugins (llm.plugins): name -> constructor(opts), which requires the
-- plugin's module and calls its new(opts) (the plugin contract: new(opts) returns aug(text [, step])).
local function pluginAugmenters()
  local plugins = rawget(llm, 'plugins')
  if not plugins then return {} end
  local provided = plugins.provides('augmenters')   -- a broken tree manifest is an error, not "no plugins"
  local out = {}
  for name, entry in pairs(provided) do
    out[name] = function(opts)
      local mod = require(entry.module)
      if type(mod) ~= 'table' or type(mod.new) ~= 'function' then
        error(("augment.get: plugin %s's module '%s' has no new(opts)"):format(entry.plugin, entry.module), 2)
      end
      return mod.new(opts)
    end
  end
  return out
end

--- The augmenter constructor called `name`: a built-in one (exact, or ignoring case, '_' and '-':
--- 'random_swap'), else one provided by an installed plugin. Errors list the known names.
function augment.get(name)
  if type(name) ~= 'string' then error(('augment.get: expected a name (string), got %s'):format(type(name)), 2) end
  if builtins[name] then return builtins[name] end
  for k, v in pairs(builtins) do if norm(k) == norm(name) then return v end end
  local fromPlugins = pluginAugmenters()
  if fromPlugins[name] then return fromPlugins[name] end
  for k, v in pairs(fromPlugins) do if norm(k) == norm(name) then return v end end
  local names = {}
  for k in pairs(builtins) do names[#names + 1] = "'" .. k .. "'" end
  for k in pairs(fromPlugins) do names[#names + 1] = "'" .. k .. "' (plugin)" end
  table.sort(names)
  error(("augment.get: unknown augmenter '%s'; expected one of: %s"):format(name, table.concat(names, ', ')), 2)
end

return augment
