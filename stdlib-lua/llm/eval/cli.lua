-- llm.eval.cli: `llmscript eval CHECKPOINT TASK... [--json OUT] [--batch N] [--stride N] [--unk C] [--bins N]
-- [--maxBytes N] [--limit N]` (and evalcli.run(checkpoint, tasks, opts) -> results). CHECKPOINT loads as
-- recipes/sample.lua does (llm.checkpointmodel). A TASK ending in .jsonl is a multiple-choice task (lines
-- {"context": str, "choices": [str...], "gold": 0-based int}, optional "delimiter" (default ' ') on a line);
-- any other file is a text (perplexity, bits per byte; --maxBytes keeps its first N bytes, whole characters),
-- and a llm.corpus name ('fortunes', 'fortunes-zh', 'fortunes-all') is that corpus's text (quotes joined by blank
-- lines): the out-of-distribution sets.
-- A char tokenizer without an unk id gets one (llm.eval.withUnk; --unk picks it) so unseen characters (an
-- out-of-distribution set) score as that id; each text result counts them (`unknown`).
-- Prints a table; --json writes {checkpoint, step, parameters, unkId, tasks = {{task, kind, ...metrics}}}, a
-- multiple-choice task with perDoc = {{loglikelihoods, pred, predNorm, gold, confidence}} (0-based indices).
-- Exit status: 0, 1 for an error (missing file, bad task line), 2 for usage.
local eval = require 'llm.eval'
local corpus = require 'llm.corpus'

local corpusNames = {}
for _, name in ipairs(corpus.names()) do corpusNames[name] = true end

local M = {}

M.usage = 'usage: llmscript eval CHECKPOINT TASK... [--json OUT] [--batch N] [--stride N] [--unk CHAR|ID] [--bins N] '
  .. '[--maxBytes N] [--limit N]\n  TASK: a text file (ppl, bits/byte) or a .jsonl multiple-choice file '
  .. '({"context", "choices", "gold"} per line)'

local function readFile(path)
  local f, err = io.open(path, 'rb')
  if not f then error("cannot read the task '" .. path .. "': " .. tostring(err), 0) end
  local s = f:read('a')
  f:close()
  return s
end

-- The first maxBytes bytes of s, cut back to a character boundary.
local function prefix(s, maxBytes)
  if not maxBytes or #s <= maxBytes then return s end
  local k = maxBytes
  while k > 0 and (s:byte(k + 1) or 0) & 0xC0 == 0x80 do k = k - 1 end
  return s:sub(1, k)
end

--- The documents of a multiple-choice JSONL file; errors name the file and line.
function M.readChoices(path, limit)
  local docs, n = {}, 0
  for line in readFile(path):gmatch('[^\n]+') do
    n = n + 1
    if line:match('%S') then
      local ok, d = pcall(llm.json.decode, line)
      local where = path .. ':' .. n .. ': '
      if not ok or type(d) ~= 'table' then error(where .. 'not a JSON object', 0) end
      if type(d.context) ~= 'string' then error(where .. "'context' must be a string", 0) end
      if type(d.choices) ~= 'table' or #d.choices < 2 then error(where .. "'choices' must be a list of at least two strings", 0) end
      for _, c in ipairs(d.choices) do if type(c) ~= 'string' or c == '' then error(where .. "'choices' must be non-empty strings", 0) end end
      if not math.tointeger(d.gold) or d.gold < 0 or d.gold >= #d.choices then
        error(where .. "'gold' must be the 0-based index of a choice (0.." .. (#d.choices - 1) .. ')', 0)
      end
      if d.delimiter ~= nil and type(d.delimiter) ~= 'string' then error(where .. "'delimiter' must be a string", 0) end
      docs[#docs + 1] = d
      if limit and #docs >= limit then break end
    end
  end
  if #docs == 0 then error("the task '" .. path .. "' holds no documents", 0) end
  return docs
end

--- Scores every task; returns the results table written by --json.
function M.run(checkpoint, tasks, opts)
  opts = opts or {}
  local model, tokenizer, info = require('llm.checkpointmodel')(checkpoint)
  local unkId
  tokenizer, unkId = eval.withUnk(tokenizer, opts.unk)
  local results = {checkpoint = info.dir, step = info.step, parameters = info.parameters, unkId = unkId, tasks = {}}
  for _, task in ipairs(tasks) do
    local r
    if task:match('%.jsonl$') then
      local docs = M.readChoices(task, opts.limit)
      local perDoc
      r, perDoc = eval.multipleChoice(model, tokenizer, docs, {bins = opts.bins})
      r.kind, r.perDoc = 'multiple_choice', perDoc
    else
      local text = prefix(corpusNames[task] and corpus.text(task) or readFile(task), opts.maxBytes)
      r = eval.text(model, tokenizer, text, {stride = opts.stride, batch = opts.batch})
      r.kind = 'text'
      r.unknown = eval.unknownCount(tokenizer:toTable(), text)
    end
    r.task = task
    results.tasks[#results.tasks + 1] = r
  end
  return results
end

--- The results as a printable table.
function M.format(results)
  local lines = {string.format('%s (step %s, %d parameters)', results.checkpoint, tostring(results.step), results.parameters)}
  local function row(cols) lines[#lines + 1] = string.format('%-32s %-16s %10s %10s %10s %10s %10s', table.unpack(cols)) end
  row({'task', 'kind', 'ppl', 'bits/byte', 'acc', 'acc_norm', 'ece'})
  local function f(v) return v and string.format('%.4f', v) or '-' end
  for _, r in ipairs(results.tasks) do
    local name = r.task:match('[^/]+$')
    if r.kind == 'text' then row({name, 'text', f(r.ppl), f(r.bitsPerByte), '-', '-', '-'})
    else row({name, 'choice(' .. r.docs .. ')', '-', '-', f(r.acc), f(r.acc_norm), f(r.ece)}) end
  end
  return table.concat(lines, '\n')
end

local numeric = {batch = true, stride = true, bins = true, maxBytes = true, limit = true}

function M.main(args)
  local opts, positional = {}, {}
  local i = 1
  while i <= #args do
    local a = args[i]
    if a == '-h' or a == '--help' then io.stdout:write(M.usage, '\n'); return 0 end
    local key, value = a:match('^%-%-(%w+)=(.*)$')
    if not key and a:match('^%-%-%w+$') then key, value = a:sub(3), args[i + 1]; i = i + 1 end
    if key then
      if value == nil then io.stderr:write("llmscript eval: '--", key, "' needs a value\n", M.usage, '\n'); return 2 end
      if numeric[key] then
        local v = math.tointeger(tonumber(value))
        if not v or v < 1 then io.stderr:write("llmscript eval: '--", key, "' needs a positive integer, got '", value, "'\n"); return 2 end
        opts[key] = v
      elseif key == 'json' or key == 'unk' then opts[key] = value
      else io.stderr:write("llmscript eval: unrecognized option '", a, "'\n", M.usage, '\n'); return 2 end
    else
      positional[#positional + 1] = a
    end
    i = i + 1
  end
  if #positional < 2 then io.stderr:write('llmscript eval: need a CHECKPOINT and at least one TASK\n', M.usage, '\n'); return 2 end
  local checkpoint = table.remove(positional, 1)
  local ok, results = pcall(M.run, checkpoint, positional, opts)
  if not ok then io.stderr:write('llmscript eval: ', tostring(results), '\n'); return 1 end
  print(M.format(results))
  if opts.json then
    local f, err = io.open(opts.json, 'w')
    if not f then io.stderr:write("llmscript eval: cannot write '", opts.json, "': ", tostring(err), '\n'); return 1 end
    f:write(llm.json.encode(results), '\n')
    f:close()
  end
  return 0
end

return M
