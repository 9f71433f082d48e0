-- scripts/bench/eval_fortunes_mc.lua: writes a multiple-choice task from the last quotes of the English fortunes
-- corpus (the validation end of recipes/gpt-char.lua's split) for `llmscript eval`: the context is a quote's
-- first 48 characters, the choices its next 24 characters and the same span of 3 other quotes (gold: the position
-- (7i + 3) mod 4 of question i; delimiter "": the choices continue the context mid-word). Deterministic.
--   llmscript scripts/bench/eval_fortunes_mc.lua OUT.jsonl [N=100]
--   llmscript eval runs/gpt-char OUT.jsonl
local out, n = assert(arg[1], 'usage: eval_fortunes_mc.lua OUT.jsonl [N]'), tonumber(arg[2] or 100)
local text = require('llm.corpus').text('fortunes')
local quotes = {}
for q in (text .. '\n\n'):gmatch('(.-)\n\n') do
  if utf8.len(q) and utf8.len(q) >= 72 then quotes[#quotes + 1] = q end
end
local function span(s, i, j) return s:sub(utf8.offset(s, i), utf8.offset(s, j + 1) - 1) end
local picked = {}
for i = #quotes - n + 1, #quotes do picked[#picked + 1] = quotes[i] end
local f = assert(io.open(out, 'w'))
for i, q in ipairs(picked) do
  local choices, gold = {}, (i * 7 + 3) % 4
  local other = 1
  for c = 0, 3 do
    if c == gold then choices[#choices + 1] = span(q, 49, 72)
    else
      local o = picked[(i + other * 17 - 1) % #picked + 1]
      other = other + 1
      choices[#choices + 1] = span(o, 49, 72)
    end
  end
  f:write(llm.json.encode({context = span(q, 1, 48), choices = choices, gold = gold, delimiter = ''}), '\n')
end
f:close()
print(string.format('wrote %d questions to %s', #picked, out))
