-- annotate IO: labelled data in and out.
-- annotate.readJSONL(path, [{labelField='label', textField='text', requireLabel=false}]) -> records: one
--   table per non-blank line: {"text": ..., "label": ...} (classification) or {"tokens": [...], "tags":
--   [...]} (entities; equal lengths, BIO tags). Malformed input raises 'path:line: ...'.
-- annotate.writeJSONL(path, records) writes them (sorted keys, atomically: temporary file + rename).
-- annotate.readCoNLL(path) -> sentences {tokens=, tags=}: one "token ... TAG" per line (the token is the
--   first column, the tag the last), a blank line between sentences, -DOCSTART- lines skipped; tags are
--   O, B-TYPE or I-TYPE. Malformed lines raise 'path:line: ...'.
-- annotate.writeCoNLL(path, sentences) writes "token TAG" lines with a blank line after each sentence.
-- annotate.checkBIO(tags) -> true | false, message (valid tag syntax; I- after O is accepted, as conlleval does).
local M = {}

local function readLines(path, where)
  if type(path) ~= 'string' then error(where .. ': path must be a string', 3) end
  local f, err = io.open(path, 'r')
  if not f then error(('%s: cannot open %s (%s)'):format(where, path, tostring(err)), 3) end
  local text = f:read('a')
  f:close()
  local lines = {}
  for line in (text .. (text:sub(-1) == '\n' and '' or '\n')):gmatch('(.-)\r?\n') do lines[#lines + 1] = line end
  if text == '' then lines = {} end
  return lines
end

local function writeAtomic(path, text, where)
  if type(path) ~= 'string' then error(where .. ': path must be a string', 3) end
  local tmp = path .. '.tmp'
  local f, err = io.open(tmp, 'w')
  if not f then error(('%s: cannot write %s (%s)'):format(where, path, tostring(err)), 3) end
  f:write(text)
  f:close()
  local ok, rerr = os.rename(tmp, path)
  if not ok then error(('%s: cannot write %s (%s)'):format(where, path, tostring(rerr)), 3) end
end

local function tagOK(t)
  return type(t) == 'string' and (t == 'O' or t:match('^[BI]%-%S+$') ~= nil)
end

--- annotate.checkBIO(tags) -> ok, message: whether every tag is O, B-TYPE or I-TYPE
function M.checkBIO(tags)
  for i, t in ipairs(tags) do
    if not tagOK(t) then return false, ('tag %d (%s) is not O, B-TYPE or I-TYPE'):format(i, tostring(t)) end
  end
  return true
end

-- Checks an entity record (tokens and tags); returns nil or a message.
local function entityProblem(r)
  if type(r.tokens) ~= 'table' then return "'tokens' must be a list" end
  if type(r.tags) ~= 'table' then return "a record with 'tokens' needs a 'tags' list" end
  if #r.tokens ~= #r.tags then return ('%d tokens but %d tags'):format(#r.tokens, #r.tags) end
  for i, t in ipairs(r.tokens) do
    if type(t) ~= 'string' or t == '' then return ('token %d is not a non-empty string'):format(i) end
  end
  local ok, msg = M.checkBIO(r.tags)
  if not ok then return msg end
end

--- annotate.readJSONL(path, [{labelField='label', textField='text', requireLabel=false}]) -> records: labelled JSONL ({text, label} or {tokens, tags}); errors name path:line
function M.readJSONL(path, opts)
  opts = opts or {}
  local labelField, textField = opts.labelField or 'label', opts.textField or 'text'
  local out = {}
  for n, line in ipairs(readLines(path, 'annotate.readJSONL')) do
    if line:match('%S') then
      local ok, r = pcall(llm.json.decode, line)
      if not ok then error(('annotate.readJSONL: %s:%d: invalid JSON: %s'):format(path, n, tostring(r):gsub('^.-llm%.json%.decode: ', '')), 2) end
      if type(r) ~= 'table' or #r > 0 then error(('annotate.readJSONL: %s:%d: expected a JSON object'):format(path, n), 2) end
      if r.tokens ~= nil or r.tags ~= nil then
        local p = entityProblem(r)
        if p then error(('annotate.readJSONL: %s:%d: %s'):format(path, n, p), 2) end
      else
        if type(r[textField]) ~= 'string' then error(("annotate.readJSONL: %s:%d: no '%s' string (or tokens/tags)"):format(path, n, textField), 2) end
        local l = r[labelField]
        if l == nil and opts.requireLabel then error(("annotate.readJSONL: %s:%d: no '%s'"):format(path, n, labelField), 2) end
        if l ~= nil and type(l) ~= 'string' and math.type(l) ~= 'integer' then
          error(("annotate.readJSONL: %s:%d: '%s' must be a string or an integer"):format(path, n, labelField), 2)
        end
      end
      out[#out + 1] = r
    end
  end
  return out
end

--- annotate.writeJSONL(path, records): labelled records as JSON Lines (atomic)
function M.writeJSONL(path, records)
  if type(records) ~= 'table' then error('annotate.writeJSONL: records must be a list of tables', 2) end
  local parts = {}
  for i, r in ipairs(records) do
    if type(r) ~= 'table' then error(('annotate.writeJSONL: record %d is a %s, not a table'):format(i, type(r)), 2) end
    if r.tokens ~= nil or r.tags ~= nil then
      local p = entityProblem(r)
      if p then error(('annotate.writeJSONL: record %d: %s'):format(i, p), 2) end
      local c = {}
      for k, v in pairs(r) do c[k] = v end
      c.tokens, c.tags = llm.json.array(r.tokens), llm.json.array(r.tags)
      r = c
    end
    local ok, s = pcall(llm.json.encode, r)
    if not ok then error(('annotate.writeJSONL: record %d: %s'):format(i, tostring(s)), 2) end
    parts[#parts + 1] = s .. '\n'
  end
  writeAtomic(path, table.concat(parts), 'annotate.writeJSONL')
end

--- annotate.readCoNLL(path) -> sentences: {tokens, tags} from 'token ... TAG' lines (BIO), blank line between sentences; errors name path:line
function M.readCoNLL(path)
  local out, cur = {}, nil
  for n, line in ipairs(readLines(path, 'annotate.readCoNLL')) do
    if not line:match('%S') then
      if cur then out[#out + 1] = cur; cur = nil end
    elseif not line:match('^%-DOCSTART%-') then
      local cols = {}
      for c in line:gmatch('%S+') do cols[#cols + 1] = c end
      if #cols < 2 then error(("annotate.readCoNLL: %s:%d: expected 'token TAG', got %q"):format(path, n, line), 2) end
      local tag = cols[#cols]
      if not tagOK(tag) then error(('annotate.readCoNLL: %s:%d: tag %q is not O, B-TYPE or I-TYPE'):format(path, n, tag), 2) end
      cur = cur or {tokens = {}, tags = {}}
      cur.tokens[#cur.tokens + 1] = cols[1]
      cur.tags[#cur.tags + 1] = tag
    end
  end
  if cur then out[#out + 1] = cur end
  return out
end

--- annotate.writeCoNLL(path, sentences): 'token TAG' lines, a blank line after each sentence (atomic)
function M.writeCoNLL(path, sentences)
  if type(sentences) ~= 'table' then error('annotate.writeCoNLL: sentences must be a list of {tokens=, tags=}', 2) end
  local parts = {}
  for i, s in ipairs(sentences) do
    local p = type(s) ~= 'table' and 'not a table' or entityProblem(s)
    if not p then
      for k, t in ipairs(s.tokens) do if t:match('%s') then p = ('token %d (%q) contains whitespace'):format(k, t) end end
    end
    if p then error(('annotate.writeCoNLL: sentence %d: %s'):format(i, p), 2) end
    for k, t in ipairs(s.tokens) do parts[#parts + 1] = t .. ' ' .. s.tags[k] .. '\n' end
    parts[#parts + 1] = '\n'
  end
  writeAtomic(path, table.concat(parts), 'annotate.writeCoNLL')
end

M.readLines = readLines
return M
