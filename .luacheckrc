-- luacheck configuration (Debian `lua-check`), run by scripts/lint.sh over the Lua we ship and test:
-- stdlib-lua, recipes, examples and the specs. Lua 5.4.
std = 'lua54'
max_line_length = 200
self = false                 -- methods need not use `self` (nn layers without state, callbacks)
-- llmscript's host namespaces: created by the engine, extended by stdlib-lua (llm.help, optim.paramGroups)
globals = {'llm', 'nn', 'optim', 'augment', 'dist', 'parallel', 'compress', 'tune', 'annotate'}
read_globals = {'global'}    -- strict-globals declaration helper
ignore = {
  '581',                     -- `not (x <= y)`: written on purpose so that NaN counts as failing
}
-- busted's globals in the specs; specs reassign `ok, err` from pcall and keep values alive on purpose
files['Tests/lua'] = {std = '+busted', ignore = {'211', '213', '231', '241', '311', '312'}}
files['examples/plugins/*/spec'] = {std = '+busted'}
-- the sandbox installer replaces standard functions by design; helpers capture io.stdout
files['stdlib-lua/llm/sandbox.lua'] = {ignore = {'122', '142'}}
files['Tests/lua/helpers.lua'] = {ignore = {'122'}}
-- constructor signatures in doc comments (help() shows them whole)
files['stdlib-lua/llm/nn/GPT.lua'] = {ignore = {'631'}}
files['stdlib-lua/llm/nn/Llama.lua'] = {ignore = {'631'}}
files['Tests/lua/plugins_spec.lua'] = {ignore = {'142', '143'}}
