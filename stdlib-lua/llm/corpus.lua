-- llm.corpus: the text a character-level recipe trains on, chosen by name, so the choice is explicit in
-- the recipe's `corpus` knob. The Debian fortunes folder (/usr/share/games/fortunes) holds both the
-- English quotes (package `fortunes`) and the Chinese ones (`fortunes-zh`); a character model should
-- train on one script at a time: mixing them gives a 6k-symbol vocabulary whose samples are random CJK.
--   'fortunes'      English quotes: documents at least 99% Latin-script letters (2.5 M characters)
--   'fortunes-zh'   Chinese quotes: documents at least 50% CJK letters
--   'fortunes-all'  every quote, both scripts
--   anything else   a path to a text file or folder (llm.data.readText)
--   local text = require('llm.corpus').text(config.corpus)
local M = {}

local FORTUNES = '/usr/share/games/fortunes'

-- name -> Script filter options (nil: no filter)
local named = {
  fortunes = {allowed = {'latin'}, minFraction = 0.99},
  ['fortunes-zh'] = {allowed = {'cjk'}, minFraction = 0.5},
  ['fortunes-all'] = false,
}

--- The names understood besides paths, sorted.
function M.names()
  local out = {}
  for k in pairs(named) do out[#out + 1] = k end
  table.sort(out)
  return out
end

--- The text of corpus `name` (a name above or a path): documents joined by blank lines.
function M.text(name)
  if type(name) ~= 'string' then error("bad argument #1 to 'text' (string expected, got " .. type(name) .. ")", 2) end
  local script = named[name]
  if script == nil then return llm.data.readText(name) end
  local steps = {llm.data.readers.text(FORTUNES, {split = 'separator', separator = '%'})}
  if script then steps[#steps + 1] = llm.data.filters.Script(script) end
  steps.quiet = true
  local _, docs = llm.data.pipeline(steps):run()
  local texts = {}
  for i, doc in ipairs(docs) do texts[i] = doc.text end
  if #texts == 0 then
    error("corpus '" .. name .. "': no quotes in " .. FORTUNES .. " (Debian packages fortunes, fortunes-zh; scripts/setup.sh installs them)", 2)
  end
  return table.concat(texts, '\n\n')
end

return M
