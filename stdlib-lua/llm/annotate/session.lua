-- annotate.session{input=, output=, labels=, [quit='q'], [skip='s'], [textField='text'], [read=, write=]}:
-- interactive labelling (in the REPL or a script). Shows each document of input (a JSONL path or a list of
-- strings / records) that output does not already hold, reads a key + Enter (io.read: works on a terminal
-- and on piped stdin), and appends {..., label=} to output (JSONL) at once, so a session can stop at any
-- time and resume later (documents are matched by `id` when they have one, else by text). labels: a table
-- key -> label ({p='positive', n='negative'}) or a list of labels (keys '1', '2', ...). The quit key (or
-- end of input) stops; the skip key leaves a document for later. read()/write(s) replace io.read/io.write.
-- Returns {labelled=, skipped=, remaining=, total=}.
local aio = require 'llm.annotate.io'
local M = {}

local function keyOf(r, textField)
  if r.id ~= nil then return 'id:' .. tostring(r.id) end
  return 'text:' .. tostring(r[textField])
end

local function keymap(labels)
  if type(labels) ~= 'table' or next(labels) == nil then
    error("annotate.session: labels must be a table key -> label ({p='pos'}) or a list of labels", 3)
  end
  local map, keys = {}, {}
  if #labels > 0 then
    for i, l in ipairs(labels) do map[tostring(i)] = l; keys[#keys + 1] = tostring(i) end
  else
    for k, l in pairs(labels) do
      if type(k) ~= 'string' or k == '' then error('annotate.session: label keys must be non-empty strings', 3) end
      map[k] = l; keys[#keys + 1] = k
    end
    table.sort(keys)
  end
  return map, keys
end

--- annotate.session{input=, output=, labels=, [quit='q'], [skip='s'], [textField=], [read=, write=]} -> {labelled, skipped, remaining, total}: interactive labelling, key + Enter, resumable
function M.session(opts)
  if type(opts) ~= 'table' then error('annotate.session{input=, output=, labels=}: options table expected', 2) end
  local textField = opts.textField or 'text'
  local quit, skip = opts.quit or 'q', opts.skip or 's'
  local map, keys = keymap(opts.labels)
  if map[quit] or map[skip] then error(("annotate.session: the quit ('%s') and skip ('%s') keys cannot be label keys"):format(quit, skip), 2) end
  if type(opts.output) ~= 'string' then error('annotate.session: output must be a JSONL path', 2) end
  local docs
  if type(opts.input) == 'string' then docs = aio.readJSONL(opts.input, {textField = textField})
  elseif type(opts.input) == 'table' then
    docs = {}
    for i, d in ipairs(opts.input) do docs[i] = type(d) == 'string' and {[textField] = d} or d end
  else error('annotate.session: input must be a JSONL path or a list of documents', 2) end
  local read = opts.read or function() return io.read('l') end
  local write = opts.write or function(s) io.write(s); io.flush() end

  local done = {}
  local f = io.open(opts.output, 'r')
  if f then
    f:close()
    for _, r in ipairs(aio.readJSONL(opts.output, {textField = textField})) do done[keyOf(r, textField)] = true end
  end
  local todo = {}
  for _, d in ipairs(docs) do if not done[keyOf(d, textField)] then todo[#todo + 1] = d end end
  local menu = {}
  for _, k in ipairs(keys) do menu[#menu + 1] = ('[%s] %s'):format(k, tostring(map[k])) end
  menu[#menu + 1] = ('[%s] skip'):format(skip)
  menu[#menu + 1] = ('[%s] quit'):format(quit)
  local prompt = table.concat(menu, '  ') .. ' > '

  local out, err = io.open(opts.output, 'a')
  if not out then error(('annotate.session: cannot append to %s (%s)'):format(opts.output, tostring(err)), 2) end
  local stats = {labelled = 0, skipped = 0, total = #docs}
  write(('%d of %d documents to label (%d already in %s)\n'):format(#todo, #docs, #docs - #todo, opts.output))
  local i, stopped = 1, false
  while i <= #todo and not stopped do
    local d = todo[i]
    write(('\n--- %d/%d%s\n%s\n'):format(i, #todo, d.id ~= nil and (' (id ' .. tostring(d.id) .. ')') or '', tostring(d[textField])))
    while true do
      write(prompt)
      local line = read()
      local key = line and line:match('^%s*(.-)%s*$')
      if key == nil or key == quit then stopped = true; break end
      if key == skip then stats.skipped = stats.skipped + 1; i = i + 1; break end
      if map[key] ~= nil then
        local r = {}
        for k, v in pairs(d) do r[k] = v end
        r.label = map[key]
        out:write(llm.json.encode(r), '\n')
        out:flush()
        stats.labelled = stats.labelled + 1
        i = i + 1
        break
      end
      write(('unknown key %q\n'):format(key))
    end
  end
  out:close()
  stats.remaining = #todo - stats.labelled
  write(('\nlabelled %d, skipped %d, %d left\n'):format(stats.labelled, stats.skipped, stats.remaining))
  return stats
end

return M
