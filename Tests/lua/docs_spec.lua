-- docs_spec.lua: the README's "Lua API" section is generated from the binding tables and the Lua
-- classes' doc comments (scripts/gen-api-docs.sh, llm.help.markdown()); this spec fails when the two
-- drift apart, so help() in the REPL and the README always say the same thing.
-- Run: llmscript test Tests/lua/docs_spec.lua
local here = debug.getinfo(1, 'S').source:match('^@(.*/)') or './'

describe('README Lua API section', function()
  it('equals what scripts/gen-api-docs.sh generates now', function()
    local f = assert(io.open(here .. '../../README.md', 'r'))
    local readme = f:read('a')
    f:close()
    local section = readme:match('<!%-%- API:BEGIN %-%->\n\n(.-)\n\n<!%-%- API:END %-%->')
    assert.is_not_nil(section, 'README.md has no API:BEGIN/API:END section')
    local generated = require('llm.help').markdown():gsub('\n+$', '')
    if section ~= generated then
      -- name the first line that differs, so the failure says what to regenerate
      local a, b = {}, {}
      for l in (section .. '\n'):gmatch('(.-)\n') do a[#a + 1] = l end
      for l in (generated .. '\n'):gmatch('(.-)\n') do b[#b + 1] = l end
      for i = 1, math.max(#a, #b) do
        if a[i] ~= b[i] then
          error(string.format('README line %d of the API section is out of date (run scripts/gen-api-docs.sh):\n  README:    %s\n  generated: %s',
            i, tostring(a[i]), tostring(b[i])))
        end
      end
    end
  end)
end)
