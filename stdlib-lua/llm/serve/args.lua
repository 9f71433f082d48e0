-- llm.serve.args: the command-line words of `llmscript serve` and `llmscript generate`.
--   parse(words, spec) -> options, positionals | nil, message (the caller names the command)
--   report(command, status, message) -> status: prints message (stdout for status 0, else stderr as
--     'llmscript <command>: message'), the end of both commands' main.
-- spec maps option names (as typed, without '--') to 'string', 'integer', 'number' or 'flag'; both
-- `--key value` and `--key=value` are read; unknown options, missing and ill-typed values are messages.
local M = {}

function M.parse(words, spec)
  local o, pos = {}, {}
  local i = 1
  while i <= #words do
    local w = words[i]
    if w:sub(1, 2) == '--' then
      local key, value = w:match('^%-%-([^=]+)=(.*)$')
      key = key or w:sub(3)
      local kind = spec[key]
      if not kind then return nil, string.format("unknown option '--%s'", key) end
      if kind == 'flag' then
        if value then return nil, string.format("'--%s' takes no value", key) end
        o[key] = true
      else
        if not value then
          i = i + 1
          value = words[i]
          if value == nil then return nil, string.format("'--%s' needs a value", key) end
        end
        if kind == 'integer' then
          value = math.tointeger(tonumber(value))
          if not value then return nil, string.format("'--%s' expects an integer, got '%s'", key, words[i]:match('=(.*)$') or words[i]) end
        elseif kind == 'number' then
          local v = tonumber(value)
          if not v then return nil, string.format("'--%s' expects a number, got '%s'", key, value) end
          value = v
        end
        o[key] = value
      end
    else
      pos[#pos + 1] = w
    end
    i = i + 1
  end
  return o, pos
end

function M.report(command, status, message)
  if status == 0 then
    if message and message ~= '' then print(message) end
  else
    io.stderr:write('llmscript ', command, ': ', message or '', '\n')
  end
  return status
end

return M
